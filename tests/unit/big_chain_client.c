// SPDX-License-Identifier: MIT
/*
 * A TLS 1.2 client that accepts a Certificate message of up to 1 MiB
 * (OpenSSL's default is 100 KiB, and `openssl s_client` cannot change it),
 * for tests/e2e/big_chain.sh: a handshake with a 10,000-name certificate
 * that completes, so tlswatch must follow the handshake past the chain it
 * skips. It does not verify the certificate (a test server's self-signed
 * one). Sends "GET / HTTP/1.0" and reads the answer to its end.
 *
 *   big_chain_client ADDRESS PORT SNI
 *
 * Exit status 0 when the handshake completed and an answer came, 1
 * otherwise (OpenSSL's errors on stderr).
 */
#include <stdio.h>
#include <stdlib.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#define MAX_CERT_LIST (1L << 20)

static int fetch(SSL_CTX *ctx, const char *addr, const char *port, const char *sni)
{
	static const char request[] = "GET / HTTP/1.0\r\n\r\n";
	char target[300], buf[4096];
	BIO *bio = NULL;
	SSL *ssl = NULL;
	long got = 0;
	int n, rc = 1;

	snprintf(target, sizeof(target), "%s:%s", addr, port);
	bio = BIO_new_ssl_connect(ctx);
	if (!bio || BIO_get_ssl(bio, &ssl) != 1 || !ssl ||
	    BIO_set_conn_hostname(bio, target) != 1 ||
	    SSL_set_tlsext_host_name(ssl, sni) != 1)
		goto out;
	if (BIO_do_handshake(bio) != 1) {
		fprintf(stderr, "big_chain_client: handshake with %s failed\n", target);
		goto out;
	}
	if (BIO_write(bio, request, sizeof(request) - 1) != (int)sizeof(request) - 1)
		goto out;
	while ((n = BIO_read(bio, buf, sizeof(buf))) > 0)
		got += n;
	printf("handshake ok, %ld bytes of answer\n", got);
	rc = got > 0 ? 0 : 1;
out:
	ERR_print_errors_fp(stderr);
	BIO_free_all(bio);
	return rc;
}

int main(int argc, char **argv)
{
	SSL_CTX *ctx;
	int rc;

	if (argc != 4) {
		fprintf(stderr, "usage: big_chain_client ADDRESS PORT SNI\n");
		return 2;
	}
	ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx || SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION) != 1) {
		ERR_print_errors_fp(stderr);
		SSL_CTX_free(ctx);
		return 1;
	}
	SSL_CTX_set_max_cert_list(ctx, MAX_CERT_LIST);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	rc = fetch(ctx, argv[1], argv[2], argv[3]);
	SSL_CTX_free(ctx);
	return rc;
}
