/* SPDX-License-Identifier: MIT */
/*
 * The text of a client fingerprint (JA3, JA4) fed to a digest: the items
 * are formatted by hand into a buffer that goes to OpenSSL in large
 * pieces, with algorithms fetched once per process (common/digest.h).
 * Inside the TLS parser only.
 */
#ifndef TW_TLS_FP_DIGEST_H
#define TW_TLS_FP_DIGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#define FP_DIGEST_BUF 512

struct fp_digest {
	EVP_MD_CTX *md;
	bool failed;             /* sticky: the result is refused */
	size_t len;
	char buf[FP_DIGEST_BUF];
};

/* Starts a digest with @alg (NULL fails). Always pair with _end. */
void fp_digest_begin(struct fp_digest *d, const EVP_MD *alg);
void fp_digest_put(struct fp_digest *d, const char *s, size_t n);
void fp_digest_char(struct fp_digest *d, char c);
/* @v as 4 lowercase hex digits ("%04x") or in decimal ("%u"). */
void fp_digest_hex16(struct fp_digest *d, uint16_t v);
void fp_digest_dec(struct fp_digest *d, unsigned v);
/* Writes the digest to @out (EVP_MAX_MD_SIZE bytes), its length to @len;
 * false when anything failed. Frees the context either way. */
bool fp_digest_end(struct fp_digest *d, uint8_t *out, unsigned *len);

#endif
