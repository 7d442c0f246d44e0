// SPDX-License-Identifier: MIT
/*
 * In-memory TLS 1.3 handshakes between SSL objects of the libssl this
 * process links, over memory BIOs: what the calibrations (uprobe_calib.c,
 * uprobe_calib_alpn.c, uprobe_site.c) make the library do to learn where
 * it keeps or writes what the uprobes read. No socket, no peer.
 */
#include <stdbool.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "uprobes.h"

#define HANDSHAKE_ROUNDS 8        /* flights of a TLS 1.3 handshake: 3 */
#define FLIGHT_MAX       16384

SSL *uprobe_mem_ssl(SSL_CTX *ctx)
{
	BIO *in = BIO_new(BIO_s_mem()), *out = BIO_new(BIO_s_mem());
	SSL *s = SSL_new(ctx);

	if (!s || !in || !out) {
		BIO_free(in);
		BIO_free(out);
		SSL_free(s);
		return NULL;
	}
	SSL_set_bio(s, in, out); /* owned by s from here */
	return s;
}

/* A throwaway self-signed certificate for @key, valid an hour, or NULL. */
static X509 *mem_cert(EVP_PKEY *key)
{
	X509 *x = X509_new();
	X509_NAME *name;

	if (!x || !X509_set_version(x, 2) ||
	    !ASN1_INTEGER_set(X509_get_serialNumber(x), 1) ||
	    !X509_gmtime_adj(X509_getm_notBefore(x), 0) ||
	    !X509_gmtime_adj(X509_getm_notAfter(x), 3600) ||
	    !X509_set_pubkey(x, key) || !(name = X509_get_subject_name(x)) ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
					(const uint8_t *)"tlswatch-calibration", -1, -1, 0) ||
	    !X509_set_issuer_name(x, name) || !X509_sign(x, key, EVP_sha256())) {
		X509_free(x);
		return NULL;
	}
	return x;
}

/* A TLS 1.3-only context: a server's with @key and @cert, or a client's
 * offering @alpn. NULL on error. */
static SSL_CTX *mem_ctx(bool server, EVP_PKEY *key, X509 *cert,
			const uint8_t *alpn, unsigned alpn_len)
{
	SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());

	if (!ctx || !SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) ||
	    (server && (SSL_CTX_use_certificate(ctx, cert) != 1 ||
			SSL_CTX_use_PrivateKey(ctx, key) != 1)) ||
	    (!server && alpn && SSL_CTX_set_alpn_protos(ctx, alpn, alpn_len))) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

int uprobe_mem_peers_open(struct uprobe_mem_peers *p, const uint8_t *alpn,
			  unsigned alpn_len)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *cert = key ? mem_cert(key) : NULL;

	p->server = cert ? mem_ctx(true, key, cert, NULL, 0) : NULL;
	p->client = p->server ? mem_ctx(false, NULL, NULL, alpn, alpn_len) : NULL;
	X509_free(cert);      /* the server's context holds its own references */
	EVP_PKEY_free(key);
	if (p->client)
		return 0;
	uprobe_mem_peers_close(p);
	return -1;
}

void uprobe_mem_peers_close(struct uprobe_mem_peers *p)
{
	SSL_CTX_free(p->client);
	SSL_CTX_free(p->server);
	p->client = p->server = NULL;
	ERR_clear_error();
}

/* What @from wrote, to @to's input. */
static bool flight(SSL *from, SSL *to)
{
	uint8_t buf[FLIGHT_MAX];
	int n;

	while ((n = BIO_read(SSL_get_wbio(from), buf, sizeof(buf))) > 0)
		if (BIO_write(SSL_get_rbio(to), buf, n) != n)
			return false;
	return true;
}

bool uprobe_mem_handshake(SSL *cli, SSL *srv)
{
	int i, c = 0, s = 0;

	SSL_set_connect_state(cli);
	SSL_set_accept_state(srv);
	for (i = 0; i < HANDSHAKE_ROUNDS && (c != 1 || s != 1); i++) {
		c = SSL_do_handshake(cli);
		if (!flight(cli, srv))
			return false;
		s = SSL_do_handshake(srv);
		if (!flight(srv, cli))
			return false;
	}
	ERR_clear_error();
	return c == 1 && s == 1;
}
