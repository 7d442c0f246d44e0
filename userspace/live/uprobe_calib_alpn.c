// SPDX-License-Identifier: MIT
/*
 * Where OpenSSL keeps, in an SSL object, the ALPN protocol a server
 * selected (s3.alpn_selected, a pointer, and s3.alpn_selected_len, the
 * word after it). TLS 1.3 sends the choice encrypted, but the SSL object
 * keeps it until it is freed. The offset is private to the library build,
 * so it is measured, as the alerts' are (uprobe_calib.c): two TLS 1.3
 * handshakes with ALPN between SSL objects of the libssl this process
 * links, on memory BIOs, the server selecting a different protocol each
 * time; SSL_get0_alpn_selected() returns the very pointer and length the
 * server's object holds, and the one offset where both objects hold theirs
 * is the answer.
 */
#include <malloc.h>
#include <stdbool.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "uprobes.h"

#define HANDSHAKE_ROUNDS 8        /* flights of a TLS 1.3 handshake: 3 */
#define FLIGHT_MAX       16384

/* What the client offers; the server picks one of them per handshake. */
static const uint8_t offered[] = "\x02h2\x08http/1.1";
static const uint8_t *const choice[2] = {
	(const uint8_t *)"\x02h2", (const uint8_t *)"\x08http/1.1",
};

static int select_cb(SSL *s, const uint8_t **out, uint8_t *outlen,
		     const uint8_t *in, unsigned inlen, void *arg)
{
	const uint8_t *want = arg;

	(void)s;
	(void)in;
	(void)inlen;
	*out = want + 1;
	*outlen = want[0];
	return SSL_TLSEXT_ERR_OK;
}

/* A throwaway self-signed P-256 certificate for the server side. */
static X509 *self_signed(EVP_PKEY *key)
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

static SSL_CTX *tls13_ctx(bool server, EVP_PKEY *key, X509 *cert)
{
	SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());

	if (!ctx || !SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) ||
	    (server && (SSL_CTX_use_certificate(ctx, cert) != 1 ||
			SSL_CTX_use_PrivateKey(ctx, key) != 1)) ||
	    (!server && SSL_CTX_set_alpn_protos(ctx, offered, sizeof(offered) - 1))) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
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

/* Client and server to the end of the handshake, a bounded exchange. */
static bool handshake(SSL *cli, SSL *srv)
{
	int i, c = 0, s = 0;

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

/* The offset in @srv of the pointer and length SSL_get0_alpn_selected()
 * returns, when exactly one holds them; 0 otherwise. */
static long find_alpn(SSL *srv)
{
	size_t size = malloc_usable_size(srv), off;
	const uint8_t *obj = (const uint8_t *)srv;
	const uint8_t *sel = NULL;
	unsigned len = 0;
	uint64_t want[2];
	long found = 0;

	SSL_get0_alpn_selected(srv, &sel, &len);
	if (!sel || !len)
		return 0;
	want[0] = (uint64_t)(uintptr_t)sel;
	want[1] = len;
	for (off = sizeof(void *); off + sizeof(want) <= size; off += sizeof(void *)) {
		if (memcmp(obj + off, want, sizeof(want)))
			continue;
		if (found)
			return 0; /* two candidates: not sure, so none */
		found = (long)off;
	}
	return found;
}

/* One handshake in which the server selects @want: its offset, or 0. */
static long alpn_probe(SSL_CTX *cctx, SSL_CTX *sctx, const uint8_t *want)
{
	SSL *cli = uprobe_mem_ssl(cctx), *srv = uprobe_mem_ssl(sctx);
	long off = 0;

	SSL_CTX_set_alpn_select_cb(sctx, select_cb, (void *)want);
	if (cli && srv) {
		SSL_set_connect_state(cli);
		SSL_set_accept_state(srv);
		if (handshake(cli, srv))
			off = find_alpn(srv);
	}
	SSL_free(cli);
	SSL_free(srv);
	return off;
}

long uprobe_calibrate_alpn(void)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *cert = key ? self_signed(key) : NULL;
	SSL_CTX *sctx = cert ? tls13_ctx(true, key, cert) : NULL;
	SSL_CTX *cctx = sctx ? tls13_ctx(false, NULL, NULL) : NULL;
	long off[2] = { 0, 0 };
	int i;

	for (i = 0; cctx && i < 2; i++)
		off[i] = alpn_probe(cctx, sctx, choice[i]);
	SSL_CTX_free(cctx);
	SSL_CTX_free(sctx);
	X509_free(cert);
	EVP_PKEY_free(key);
	ERR_clear_error();
	return off[0] == off[1] ? off[0] : 0;
}
