/* SPDX-License-Identifier: MIT */
/* One X.509 certificate, parsed once with OpenSSL and cached by fingerprint. */
#ifndef TW_CERT_INFO_H
#define TW_CERT_INFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CERT_MAX_SAN 64

typedef struct x509_st X509;

struct cert_info {
	uint8_t sha256[32];          /* of the DER: the fingerprint */
	char sha256_hex[65];
	uint8_t spki_sha256[32];     /* of the DER SubjectPublicKeyInfo */
	char spki_sha256_hex[65];
	char *subject;               /* RFC 2253 text, e.g. "CN=a.example,O=Org" */
	char *issuer;
	char *serial_hex;            /* lowercase, no leading zeros ("0" for zero) */
	int64_t not_before;          /* seconds since the epoch */
	int64_t not_after;
	int n_san;
	char *san[CERT_MAX_SAN];     /* DNS names and IP addresses as text */
	bool san_truncated;
	char key[32];                /* "RSA-2048", "EC-P256", "ED25519" */
	int key_bits;
	bool self_signed;            /* subject == issuer and signature verifies with own key */
	X509 *x509;                  /* owned */
	uint64_t refs;               /* times this certificate was served */
};

struct cert_cache;

struct cert_cache *cert_cache_new(size_t max_entries);
void cert_cache_free(struct cert_cache *cache);

/*
 * Parses @der (or returns the cached entry with the same SHA-256).
 * Returns NULL if the bytes are not a certificate; @err, if non-NULL, then
 * receives a static reason. The entry stays valid until cert_cache_free().
 */
const struct cert_info *cert_cache_get(struct cert_cache *cache,
				       const uint8_t *der, size_t len,
				       const char **err);

size_t cert_cache_count(const struct cert_cache *cache);

/* True if @name (SNI) is covered by the leaf's SANs (or CN without SANs),
 * with RFC 6125 wildcard rules, case-insensitive. */
bool cert_matches_host(const struct cert_info *ci, const char *name);

#endif
