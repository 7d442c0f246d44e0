// SPDX-License-Identifier: MIT
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "common/prom_text.h"
#include "http_server.h"

#define HTTP_TEXT_TYPE "text/plain; charset=utf-8"
/* Request line and headers of a scrape fit easily; nothing else is read. */
#define HTTP_MEMORY_LIMIT (16 * 1024)

struct http_server {
	struct MHD_Daemon *daemon;
	pthread_mutex_t lock;     /* guards snapshot, snapshot_len */
	char *snapshot;           /* NULL until the first publish */
	size_t snapshot_len;
};

/* "0".."65535", digits only: no sign, no space, no hex. */
static bool http_parse_port(const char *s, uint16_t *port)
{
	unsigned long v = 0;
	size_t i;

	for (i = 0; s[i]; i++) {
		if (s[i] < '0' || s[i] > '9' || i >= 5)
			return false;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (i == 0 || v > 65535)
		return false;
	*port = (uint16_t)v;
	return true;
}

/* Splits "[v6]:port" or "v4:port" into @host (size @hostlen) and the port
 * text. Returns the address family, or 0 when the shape is wrong. */
static int http_split_addr(const char *s, char *host, size_t hostlen,
			   const char **port)
{
	const char *end;
	int family = AF_INET;

	if (s[0] == '[') {
		end = strchr(s, ']');
		if (!end || end[1] != ':')
			return 0;
		s++;
		*port = end + 2;
		family = AF_INET6;
	} else {
		end = strrchr(s, ':');
		/* a second colon: an IPv6 address without its brackets */
		if (!end || memchr(s, ':', (size_t)(end - s)))
			return 0;
		*port = end + 1;
	}
	if ((size_t)(end - s) >= hostlen)
		return 0;
	memcpy(host, s, (size_t)(end - s));
	host[end - s] = '\0';
	return family;
}

static int http_parse_addr(const char *s, struct sockaddr_storage *ss,
			   socklen_t *sslen, char *err, size_t errlen)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	char host[INET6_ADDRSTRLEN];
	const char *port_text;
	uint16_t port;
	int family = http_split_addr(s, host, sizeof(host), &port_text);

	memset(ss, 0, sizeof(*ss));
	if (!family) {
		snprintf(err, errlen, "%s: expected IPv4:PORT or [IPv6]:PORT", s);
		return -EINVAL;
	}
	if (!http_parse_port(port_text, &port)) {
		snprintf(err, errlen, "%s: the port is not a number from 0 to 65535", s);
		return -EINVAL;
	}
	if (family == AF_INET6) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		*sslen = sizeof(*sin6);
		if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1)
			return 0;
	} else {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		*sslen = sizeof(*sin);
		if (inet_pton(AF_INET, host, &sin->sin_addr) == 1)
			return 0;
	}
	snprintf(err, errlen, "%s: \"%s\" is not a numeric %s address", s, host,
		 family == AF_INET6 ? "IPv6" : "IPv4");
	return -EINVAL;
}

int http_server_check_addr(const char *addr_port, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sslen;

	return http_parse_addr(addr_port, &ss, &sslen, err, errlen);
}

/* Our own listening socket, so that a failure to bind reports its errno
 * (libmicrohttpd would only log it). Returns the fd or -errno. */
static int http_listen(const struct sockaddr_storage *ss, socklen_t sslen,
		       const char *addr_port, char *err, size_t errlen)
{
	int fd, one = 1, e;

	fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		e = errno;
		snprintf(err, errlen, "cannot listen on %s: socket: %s", addr_port, strerror(e));
		return -e;
	}
	/* A restarted agent must not wait out the old one's TIME_WAIT. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (const struct sockaddr *)ss, sslen) < 0 ||
	    listen(fd, HTTP_SERVER_MAX_CONNECTIONS) < 0) {
		e = errno;
		close(fd);
		snprintf(err, errlen, "cannot listen on %s: %s", addr_port, strerror(e));
		return -e;
	}
	return fd;
}

static void http_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[256];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	pr_info("http server: %s", msg);
}

/* Queues @r (NULL: out of memory) with @status and @content_type. */
static enum MHD_Result http_send(struct MHD_Connection *c, unsigned int status,
				 struct MHD_Response *r, const char *content_type)
{
	enum MHD_Result ret = MHD_NO;

	if (!r)
		return MHD_NO;          /* closes the connection */
	if (MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, content_type) &&
	    (status != MHD_HTTP_METHOD_NOT_ALLOWED ||
	     MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD")))
		ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result http_send_text(struct MHD_Connection *c,
				      unsigned int status, const char *text)
{
	return http_send(c, status,
			 MHD_create_response_from_buffer(strlen(text), (void *)text,
							 MHD_RESPMEM_PERSISTENT),
			 HTTP_TEXT_TYPE);
}

static enum MHD_Result http_send_metrics(struct http_server *srv,
					 struct MHD_Connection *c)
{
	struct MHD_Response *r = NULL;
	bool published;

	pthread_mutex_lock(&srv->lock);
	published = srv->snapshot != NULL;
	if (published)
		r = MHD_create_response_from_buffer(srv->snapshot_len, srv->snapshot,
						    MHD_RESPMEM_MUST_COPY);
	pthread_mutex_unlock(&srv->lock);
	if (!published)
		return http_send_text(c, MHD_HTTP_SERVICE_UNAVAILABLE,
				      "no metrics published yet\n");
	return http_send(c, MHD_HTTP_OK, r, PROM_CONTENT_TYPE);
}

/* Runs on libmicrohttpd's thread: touches nothing but the snapshot. It
 * answers as soon as the headers are in, so no request body is read. */
static enum MHD_Result http_handle(void *cls, struct MHD_Connection *c,
				   const char *url, const char *method,
				   const char *version, const char *upload_data,
				   size_t *upload_data_size, void **req_cls)
{
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return http_send_text(c, MHD_HTTP_METHOD_NOT_ALLOWED,
				      "method not allowed\n");
	if (strcmp(url, "/metrics") == 0)
		return http_send_metrics(cls, c);
	if (strcmp(url, "/healthz") == 0)
		return http_send_text(c, MHD_HTTP_OK, "ok\n");
	return http_send_text(c, MHD_HTTP_NOT_FOUND, "not found\n");
}

/*
 * Hands the listening socket to libmicrohttpd, which owns it from then on.
 * Whether it closes it when it fails to start is not documented, so it gets
 * a duplicate: ours is closed either way, and on failure shut down first,
 * which stops the listening even if the duplicate were left open.
 */
static struct MHD_Daemon *http_daemon_start(struct http_server *srv, int fd,
					    int family)
{
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
			     MHD_USE_ERROR_LOG | (family == AF_INET6 ? MHD_USE_IPv6 : 0);
	struct MHD_Daemon *d = NULL;
	int dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);

	if (dup_fd >= 0)
		d = MHD_start_daemon(flags, 0, NULL, NULL, http_handle, srv,
				     MHD_OPTION_EXTERNAL_LOGGER, http_mhd_log, NULL,
				     MHD_OPTION_LISTEN_SOCKET, dup_fd,
				     MHD_OPTION_CONNECTION_LIMIT,
				     (unsigned int)HTTP_SERVER_MAX_CONNECTIONS,
				     MHD_OPTION_CONNECTION_TIMEOUT,
				     (unsigned int)HTTP_SERVER_TIMEOUT_S,
				     MHD_OPTION_CONNECTION_MEMORY_LIMIT,
				     (size_t)HTTP_MEMORY_LIMIT,
				     MHD_OPTION_END);
	if (!d)
		shutdown(fd, SHUT_RDWR);
	close(fd);
	return d;
}

int http_server_start(const char *addr_port, struct http_server **out,
		      char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	struct http_server *srv;
	socklen_t sslen = 0;
	int fd, rc;

	*out = NULL;
	/* Linux sends with MSG_NOSIGNAL; elsewhere a client hanging up could
	 * kill the agent, and a library must not install signal handlers. */
	if (MHD_is_feature_supported(MHD_FEATURE_AUTOSUPPRESS_SIGPIPE) != MHD_YES) {
		snprintf(err, errlen, "libmicrohttpd cannot suppress SIGPIPE here");
		return -ENOTSUP;
	}
	rc = http_parse_addr(addr_port, &ss, &sslen, err, errlen);
	if (rc)
		return rc;
	srv = calloc(1, sizeof(*srv));
	if (!srv) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	pthread_mutex_init(&srv->lock, NULL);
	fd = http_listen(&ss, sslen, addr_port, err, errlen);
	if (fd < 0) {
		http_server_stop(srv);
		return fd;
	}
	srv->daemon = http_daemon_start(srv, fd, ss.ss_family);
	if (!srv->daemon) {
		snprintf(err, errlen, "cannot serve HTTP on %s: libmicrohttpd failed to start",
			 addr_port);
		http_server_stop(srv);
		return -EIO;
	}
	*out = srv;
	return 0;
}

int http_server_publish(struct http_server *srv, const char *text, size_t len)
{
	char *copy = malloc(len + 1), *old;

	if (!copy)
		return -ENOMEM;
	memcpy(copy, text, len);
	copy[len] = '\0';
	pthread_mutex_lock(&srv->lock);
	old = srv->snapshot;
	srv->snapshot = copy;
	srv->snapshot_len = len;
	pthread_mutex_unlock(&srv->lock);
	free(old);
	return 0;
}

int http_server_port(const struct http_server *srv)
{
	const union MHD_DaemonInfo *info =
		MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);

	return info ? info->port : -ENOTCONN;
}

void http_server_stop(struct http_server *srv)
{
	if (!srv)
		return;
	if (srv->daemon)
		MHD_stop_daemon(srv->daemon);
	pthread_mutex_destroy(&srv->lock);
	free(srv->snapshot);
	free(srv);
}
