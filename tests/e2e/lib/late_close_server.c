// SPDX-License-Identifier: MIT
/*
 * A TLS 1.3 server whose one thread frees a failed connection's SSL and
 * serves another connection before it closes the failed one's socket, as
 * an event-driven server with several connections on a thread may.
 *
 * It accepts a first connection, whose handshake fails, frees that SSL,
 * then accepts a second one and runs its handshake; only then does it
 * close the first socket. By MODE:
 *   read: the first client rejects the certificate (a fatal alert the
 *         SSL reads); the second completes, is read until its client
 *         closes it, shut down, freed and closed;
 *   sent: the same, but the server asks the first client for a
 *         certificate and gets none (a fatal alert the SSL sends);
 *   both: the first as in read; the second is asked for a certificate
 *         and has none (a fatal alert sent); its SSL is freed and its
 *         socket closed before the first socket is;
 *   reset: as read, but the second is asked for a certificate and has
 *         none (the first client resets its connection before the
 *         server closes it).
 *
 * Usage: late_close_server ADDR PORT CERT KEY read|sent|both|reset
 * Exit 0 when the handshakes ended as MODE says.
 */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "tcp_listen.h"

/* A connection accepted on @lfd with a new SSL of @ctx, the SSL in @ssl,
 * the socket in @fd, its client asked for a certificate it must send when
 * @need_cert: whether its handshake completed in @done; -1 on a setup
 * failure, else 0. */
static int serve(SSL_CTX *ctx, int lfd, bool need_cert, SSL **ssl, int *fd,
		 int *done)
{
	*fd = accept(lfd, NULL, NULL);
	*ssl = SSL_new(ctx);
	if (*fd < 0 || !*ssl || !SSL_set_fd(*ssl, *fd)) {
		perror("accept");
		return -1;
	}
	if (need_cert)
		SSL_set_verify(*ssl, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
			       NULL);
	*done = SSL_accept(*ssl) == 1;
	ERR_clear_error();
	return 0;
}

int main(int argc, char **argv)
{
	SSL_CTX *ctx;
	SSL *first, *second;
	char buf[256];
	int lfd, fd1, fd2, done, ok;
	bool sent = argc == 6 && strcmp(argv[5], "sent") == 0;
	bool both = argc == 6 && strcmp(argv[5], "both") == 0;
	bool reset = argc == 6 && strcmp(argv[5], "reset") == 0;

	if (argc != 6 || (!sent && !both && !reset && strcmp(argv[5], "read") != 0)) {
		fprintf(stderr, "usage: late_close_server ADDR PORT CERT KEY read|sent|both|reset\n");
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
	if (serve(ctx, lfd, sent, &first, &fd1, &done))
		return 1;
	SSL_free(first); /* its socket stays open meanwhile */
	if (serve(ctx, lfd, both || reset, &second, &fd2, &ok))
		return 1;
	if (both) { /* each closed after the other's free, the last freed first */
		SSL_free(second);
		close(fd2);
	}
	close(fd1);
	if (!both) {
		if (ok) {
			while (SSL_read(second, buf, sizeof(buf)) > 0)
				;
			SSL_shutdown(second);
		}
		ERR_print_errors_fp(stderr);
		SSL_free(second);
		close(fd2);
	}
	close(lfd);
	SSL_CTX_free(ctx);
	fprintf(stderr, "first handshake %s, second %s\n", done ? "done" : "failed",
		ok ? "done" : "failed");
	return !done && ok == !(both || reset) ? 0 : 1;
}
