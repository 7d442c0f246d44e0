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
 *         server closes it);
 *   unread: one connection, whose client rejects the certificate, then
 *         sends a byte: its SSL freed, its socket closed with that byte
 *         unread (the kernel resets the connection instead of a FIN);
 *   alpn: three connections, the server selecting h2 (ALPN): a first
 *         served whole (its client saves the session), a second (which
 *         resumes it) read until its client closes it and freed, a third
 *         served whole (its chain written, its SSL freed, its socket
 *         closed) before the second's socket is closed; all three
 *         complete.
 *
 * Usage: late_close_server ADDR PORT CERT KEY read|sent|both|reset|unread|alpn
 * Exit 0 when the handshakes ended as MODE says.
 */
#include <poll.h>
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

/* h2, where the client offers it */
static int select_h2(SSL *ssl, const unsigned char **out, unsigned char *outlen,
		     const unsigned char *in, unsigned int inlen, void *arg)
{
	static const unsigned char h2[] = "\x02h2";

	(void)ssl;
	(void)arg;
	return SSL_select_next_proto((unsigned char **)out, outlen, h2, sizeof(h2) - 1,
				     in, inlen) == OPENSSL_NPN_NEGOTIATED ?
		       SSL_TLSEXT_ERR_OK : SSL_TLSEXT_ERR_NOACK;
}

/* Reads @ssl until its client closes, then shuts it down. */
static void drain(SSL *ssl)
{
	char buf[256];

	while (SSL_read(ssl, buf, sizeof(buf)) > 0)
		;
	SSL_shutdown(ssl);
}

/* The alpn mode: 0 when all three handshakes completed, the second
 * resumed. */
static int alpn_mode(SSL_CTX *ctx, int lfd)
{
	SSL *ssl[3];
	int fd[3], done[3], i;

	SSL_CTX_set_alpn_select_cb(ctx, select_h2, NULL);
	for (i = 0; i < 3; i++) {
		if (serve(ctx, lfd, false, &ssl[i], &fd[i], &done[i]))
			return 1;
		if (done[i])
			drain(ssl[i]);
		if (i == 1)
			done[i] = done[i] && SSL_session_reused(ssl[i]);
		SSL_free(ssl[i]);
		if (i != 1)
			close(fd[i]);
	}
	close(fd[1]); /* after the third's chain, free and close */
	fprintf(stderr, "handshakes %s, %s (resumed), %s\n", done[0] ? "done" : "failed",
		done[1] ? "done" : "failed", done[2] ? "done" : "failed");
	return !(done[0] && done[1] && done[2]);
}

/* The unread mode: 0 when the handshake failed and the client's byte
 * came (left unread by the close). */
static int unread_mode(SSL_CTX *ctx, int lfd)
{
	SSL *ssl;
	int fd, done, r;
	struct pollfd p;

	if (serve(ctx, lfd, false, &ssl, &fd, &done))
		return 1;
	p = (struct pollfd){ .fd = fd, .events = POLLIN };
	r = poll(&p, 1, 10000);
	SSL_free(ssl);
	close(fd);
	fprintf(stderr, "handshake %s, the client's byte %s\n", done ? "done" : "failed",
		r == 1 ? "came" : "did not come");
	return done || r != 1;
}

int main(int argc, char **argv)
{
	SSL_CTX *ctx;
	SSL *first, *second;
	int lfd, fd1, fd2, done, ok;
	bool sent = argc == 6 && strcmp(argv[5], "sent") == 0;
	bool both = argc == 6 && strcmp(argv[5], "both") == 0;
	bool reset = argc == 6 && strcmp(argv[5], "reset") == 0;
	bool alpn = argc == 6 && strcmp(argv[5], "alpn") == 0;
	bool unread = argc == 6 && strcmp(argv[5], "unread") == 0;

	if (argc != 6 ||
	    (!sent && !both && !reset && !alpn && !unread && strcmp(argv[5], "read") != 0)) {
		fprintf(stderr, "usage: late_close_server ADDR PORT CERT KEY read|sent|both|reset|unread|alpn\n");
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
	if (alpn)
		return alpn_mode(ctx, lfd);
	if (unread)
		return unread_mode(ctx, lfd);
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
		if (ok)
			drain(second);
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
