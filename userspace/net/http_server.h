/* SPDX-License-Identifier: MIT */
/*
 * A read-only HTTP server for Prometheus scrapes, on libmicrohttpd:
 *   GET|HEAD /metrics  200, the last published exposition
 *                      (503 until the first http_server_publish())
 *   GET|HEAD /healthz  200 "ok\n"
 *   other paths        404; other methods 405 with "Allow: GET, HEAD"
 * No request body is read.
 *
 * Threading: libmicrohttpd serves from its own thread, and the metric state
 * belongs to the owner's thread, so the server never calls back into it.
 * The owner renders the text and publishes a copy when it likes (once a
 * second, on a change); each response copies the latest one under a mutex.
 *
 * At most HTTP_SERVER_MAX_CONNECTIONS connections, each closed after
 * HTTP_SERVER_TIMEOUT_S idle seconds, so a slow or hostile client costs a
 * bounded share of nothing the agent needs.
 *
 * Errors are negative errno values; start also writes a message naming the
 * address into @err.
 */
#ifndef TW_HTTP_SERVER_H
#define TW_HTTP_SERVER_H

#include <stddef.h>

#define HTTP_SERVER_MAX_CONNECTIONS 32
#define HTTP_SERVER_TIMEOUT_S 10

struct http_server;

/*
 * Listens on @addr_port, "IPv4:PORT" or "[IPv6]:PORT" with numeric
 * addresses only (port 0: the kernel picks, see http_server_port()).
 * -EINVAL for text that is not such an address, or the socket's error
 * (-EADDRINUSE, -EADDRNOTAVAIL, ...).
 */
int http_server_start(const char *addr_port, struct http_server **out,
		      char *err, size_t errlen);

/* Whether @addr_port is such an address, before anything listens (the
 * options are checked before any file is created): 0, or -EINVAL with the
 * message start would give. */
int http_server_check_addr(const char *addr_port, char *err, size_t errlen);

/* Makes a copy of @text the body of /metrics from now on. 0 or -ENOMEM. */
int http_server_publish(struct http_server *srv, const char *text, size_t len);

/* The port listened on. */
int http_server_port(const struct http_server *srv);

/* Closes every connection, waits for the server thread, frees everything. */
void http_server_stop(struct http_server *srv);

#endif
