/* SPDX-License-Identifier: MIT */
/*
 * Distinct certificates by the thousand, made in-process: one certificate
 * is signed (P-256, "CN=mint.test" issued by "CN=mint-ca.test"), then each
 * copy gets its own serial written into the DER. The copies' signatures
 * do not verify, which nothing that only parses them checks (the issuer
 * differs from the subject: no self-signature is tried). For the tests of
 * what stays bounded when every handshake serves a new certificate: the
 * openssl command line of cert_fixture.h, or a signature per certificate,
 * would take seconds.
 */
#ifndef TW_TEST_CERT_MINT_H
#define TW_TEST_CERT_MINT_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "tls/hs_record.h"

/* The template's serial: 8 bytes found again in its DER. */
#define MINT_SERIAL "\x4d\x49\x4e\x54\x00\x00\x00\x00"

static uint8_t *mint_der;
static size_t mint_len, mint_serial_off;

static inline int mint_name(X509_NAME *name, const char *cn)
{
	return X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
					  (const unsigned char *)cn, -1, -1, 0);
}

/* Signs the template once. 0, or -1. */
static inline int mint_template(void)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	BIGNUM *bn = BN_bin2bn((const unsigned char *)MINT_SERIAL, 8, NULL);
	unsigned char *der = NULL;
	uint8_t *at;
	int n = -1;

	if (key && x && bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) &&
	    mint_name(X509_get_subject_name(x), "mint.test") &&
	    mint_name(X509_get_issuer_name(x), "mint-ca.test") &&
	    ASN1_TIME_set(X509_getm_notBefore(x), 1767225600) &&
	    ASN1_TIME_set(X509_getm_notAfter(x), 1767225600 + 86400) &&
	    X509_set_pubkey(x, key) && X509_sign(x, key, EVP_sha256()))
		n = i2d_X509(x, &der);
	BN_free(bn);
	X509_free(x);
	EVP_PKEY_free(key);
	at = n > 0 ? memmem(der, (size_t)n, MINT_SERIAL, 8) : NULL;
	if (!at) {
		OPENSSL_free(der);
		return -1;
	}
	mint_der = der;
	mint_len = (size_t)n;
	mint_serial_off = (size_t)(at - der);
	return 0;
}

/* The DER of certificate @i (serial 4d494e54 followed by @i as 4 bytes):
 * malloc'ed, free() it; NULL on failure. */
static inline uint8_t *cert_mint(uint32_t i, size_t *len)
{
	uint8_t *der;

	if (!mint_der && mint_template())
		return NULL;
	der = malloc(mint_len);
	if (!der)
		return NULL;
	memcpy(der, mint_der, mint_len);
	der[mint_serial_off + 4] = (uint8_t)(i >> 24);
	der[mint_serial_off + 5] = (uint8_t)(i >> 16);
	der[mint_serial_off + 6] = (uint8_t)(i >> 8);
	der[mint_serial_off + 7] = (uint8_t)i;
	*len = mint_len;
	return der;
}

/* @rec: a handshake on 2026-01-01 (within the validity) with 192.0.0.1:443
 * for "mint.test" serving certificate @i alone; free() rec->chain[0].data
 * after. 0, or -1. */
static inline int cert_mint_record(struct hs_record *rec, uint32_t i)
{
	size_t len;

	memset(rec, 0, sizeof(*rec));
	rec->start_us = rec->end_us = 1767229200000000ull + i;
	rec->server.addr.family = 4;
	rec->server.addr.bytes[0] = 192;
	rec->server.addr.bytes[3] = 1;
	rec->server.port = 443;
	rec->has_sni = true;
	rec->sni_len = (uint16_t)strlen("mint.test");
	memcpy(rec->sni, "mint.test", rec->sni_len);
	rec->chain[0].data = cert_mint(i, &len);
	if (!rec->chain[0].data)
		return -1;
	rec->chain[0].len = (uint32_t)len;
	rec->n_chain = 1;
	return 0;
}

static inline void cert_mint_done(void)
{
	OPENSSL_free(mint_der);
	mint_der = NULL;
}

#endif
