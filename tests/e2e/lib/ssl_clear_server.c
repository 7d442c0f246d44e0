// SPDX-License-Identifier: MIT
/*
 * A TLS 1.3 server that serves its connections one after the other with
 * one SSL object, made ready for the next with SSL_clear() (as servers
 * that pool their SSL objects do); it selects ALPN "h2" when offered.
 * After the last connection it frees the SSL before it closes the socket.
 *
 * With UPSTREAM_PORT, before it accepts each connection, the serving
 * thread is a TLS client too, as a reverse proxy's is: it connects to
 * ADDR:UPSTREAM_PORT, reads until the upstream ends the connection (its
 * fatal alert, from a server that requires a client certificate) and
 * frees that SSL; once more after it frees the SSL of the last connection
 * and before it closes that socket, as a proxy that frees its upstream's
 * SSL after its client's does.
 *
 * With CLIENT_CERT and CLIENT_KEY too, the upstream connections present
 * that client certificate (as a proxy that authenticates to its upstream
 * does, nginx's proxy_ssl_certificate): each completes its handshake, the
 * client's SSL writing its certificate, and is shut down.
 *
 * Usage: ssl_clear_server ADDR PORT CERT KEY N [UPSTREAM_PORT [CLIENT_CERT CLIENT_KEY]]
 * Each connection is read until the client closes it; exit 0 when all N
 * completed their handshake (and, with UPSTREAM_PORT, all N + 1 upstream
 * connections ended on an alert, or, with a client certificate, completed
 * their handshake).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "tcp_listen.h"

static int select_h2(SSL *s, const unsigned char **out, unsigned char *outlen,
		     const unsigned char *in, unsigned int inlen, void *arg)
{
	static const unsigned char h2[] = { 2, 'h', '2' };
	unsigned char *sel;

	(void)s;
	(void)arg;
	if (SSL_select_next_proto(&sel, outlen, h2, sizeof(h2), in, inlen) !=
	    OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_NOACK;
	*out = sel;
	return SSL_TLSEXT_ERR_OK;
}

/* One upstream connection as a TLS client; 0 when it ended on a fatal
 * alert the upstream sent, or, with @client_cert, when its handshake
 * (the client certificate written) completed. */
static int upstream_alert(SSL_CTX *cctx, const char *addr, int port,
			  int client_cert)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0), rc = 1;
	char buf[256];
	SSL *c;

	if (fd < 0 || inet_pton(AF_INET, addr, &a.sin_addr) != 1 ||
	    connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		perror("upstream");
		if (fd >= 0)
			close(fd);
		return 1;
	}
	c = SSL_new(cctx);
	if (c && SSL_set_fd(c, fd) && SSL_connect(c) == 1) {
		if (client_cert) { /* its certificate written and accepted */
			rc = 0;
			SSL_shutdown(c);
		} else {
			/* TLS 1.3: the client finishes first; the refusal comes after */
			while (SSL_read(c, buf, sizeof(buf)) > 0)
				;
			rc = !(ERR_GET_REASON(ERR_peek_last_error()) >= SSL_AD_REASON_OFFSET);
		}
	}
	ERR_clear_error();
	SSL_free(c); /* before the close, as servers do */
	close(fd);
	return rc;
}

int main(int argc, char **argv)
{
	SSL_CTX *ctx, *cctx = NULL;
	SSL *ssl;
	char buf[256];
	int lfd, fd, i, n, ok = 0, upstream = 0, ups = 0, alerts = 0, client_cert;

	if (argc != 6 && argc != 7 && argc != 9) {
		fprintf(stderr, "usage: ssl_clear_server ADDR PORT CERT KEY N "
			"[UPSTREAM_PORT [CLIENT_CERT CLIENT_KEY]]\n");
		return 2;
	}
	n = atoi(argv[5]);
	client_cert = argc == 9;
	if (argc >= 7) {
		upstream = atoi(argv[6]);
		cctx = SSL_CTX_new(TLS_client_method());
		if (!cctx || !SSL_CTX_set_min_proto_version(cctx, TLS1_3_VERSION) ||
		    (client_cert &&
		     (SSL_CTX_use_certificate_file(cctx, argv[7], SSL_FILETYPE_PEM) != 1 ||
		      SSL_CTX_use_PrivateKey_file(cctx, argv[8], SSL_FILETYPE_PEM) != 1))) {
			ERR_print_errors_fp(stderr);
			return 1;
		}
	}
	ctx = SSL_CTX_new(TLS_server_method());
	if (!ctx || !SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) ||
	    SSL_CTX_use_certificate_file(ctx, argv[3], SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, argv[4], SSL_FILETYPE_PEM) != 1) {
		ERR_print_errors_fp(stderr);
		return 1;
	}
	SSL_CTX_set_alpn_select_cb(ctx, select_h2, NULL);
	lfd = listen_on(argv[1], atoi(argv[2]));
	ssl = SSL_new(ctx);
	if (lfd < 0 || !ssl)
		return 1;
	for (i = 0; i < n; i++) {
		if (upstream) {
			alerts += upstream_alert(cctx, argv[1], upstream, client_cert) == 0;
			ups++;
		}
		fd = accept(lfd, NULL, NULL);
		if (fd < 0 || !SSL_set_fd(ssl, fd)) {
			perror("accept");
			return 1;
		}
		if (SSL_accept(ssl) == 1) {
			ok++;
			while (SSL_read(ssl, buf, sizeof(buf)) > 0)
				;
			SSL_shutdown(ssl);
		}
		ERR_print_errors_fp(stderr);
		if (i + 1 < n) {
			if (!SSL_clear(ssl)) {
				ERR_print_errors_fp(stderr);
				return 1;
			}
		} else {
			SSL_free(ssl);       /* before the close, as servers do */
			if (upstream) {
				alerts += upstream_alert(cctx, argv[1], upstream, client_cert) == 0;
				ups++;
			}
		}
		close(fd);
	}
	SSL_CTX_free(ctx);
	SSL_CTX_free(cctx);
	close(lfd);
	fprintf(stderr, "%d of %d handshakes\n", ok, n);
	if (upstream)
		fprintf(stderr, "%d of %d upstream connections %s\n", alerts, ups,
			client_cert ? "completed their handshake" : "ended on an alert");
	return ok == n && alerts == ups ? 0 : 1;
}
