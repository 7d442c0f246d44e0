// SPDX-License-Identifier: MIT
/*
 * A TLS 1.3 server whose one thread frees a failed connection's SSL and
 * serves another connection before it closes the failed one's socket, as
 * an event-driven server with several connections on a thread may.
 *
 * It accepts a first connection, whose handshake fails (its client
 * rejects the certificate: a fatal alert the SSL reads), frees that SSL,
 * then accepts a second one and completes its handshake; only then does
 * it close the first socket. The second is read until its client closes
 * it, shut down, freed, and closed.
 *
 * Usage: late_close_server ADDR PORT CERT KEY
 * Exit 0 when the first handshake failed and the second succeeded.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "tcp_listen.h"

/* A connection accepted on @lfd with a new SSL of @ctx, the SSL in @ssl,
 * the socket in @fd: whether its handshake completed in @done; -1 on a
 * setup failure, else 0. */
static int serve(SSL_CTX *ctx, int lfd, SSL **ssl, int *fd, int *done)
{
	*fd = accept(lfd, NULL, NULL);
	*ssl = SSL_new(ctx);
	if (*fd < 0 || !*ssl || !SSL_set_fd(*ssl, *fd)) {
		perror("accept");
		return -1;
	}
	*done = SSL_accept(*ssl) == 1;
	return 0;
}

int main(int argc, char **argv)
{
	SSL_CTX *ctx;
	SSL *first, *second;
	char buf[256];
	int lfd, fd1, fd2, done, ok;

	if (argc != 5) {
		fprintf(stderr, "usage: late_close_server ADDR PORT CERT KEY\n");
		return 2;
	}
	/* the first client is gone when the server writes to it */
	signal(SIGPIPE, SIG_IGN);
	ctx = SSL_CTX_new(TLS_server_method());
	if (!ctx || !SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) ||
	    SSL_CTX_use_certificate_file(ctx, argv[3], SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, argv[4], SSL_FILETYPE_PEM) != 1) {
		ERR_print_errors_fp(stderr);
		return 1;
	}
	lfd = listen_on(argv[1], atoi(argv[2]));
	if (lfd < 0)
		return 1;
	if (serve(ctx, lfd, &first, &fd1, &done))
		return 1;
	ERR_clear_error();
	SSL_free(first); /* its socket stays open meanwhile */
	if (serve(ctx, lfd, &second, &fd2, &ok))
		return 1;
	close(fd1);
	if (ok) {
		while (SSL_read(second, buf, sizeof(buf)) > 0)
			;
		SSL_shutdown(second);
	}
	ERR_print_errors_fp(stderr);
	SSL_free(second);
	close(fd2);
	close(lfd);
	SSL_CTX_free(ctx);
	fprintf(stderr, "first handshake %s, second %s\n", done ? "done" : "failed",
		ok ? "done" : "failed");
	return !done && ok ? 0 : 1;
}
