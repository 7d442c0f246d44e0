/* SPDX-License-Identifier: MIT */
/*
 * Digest algorithms fetched from the OpenSSL provider once per process.
 * EVP_sha256() and friends make EVP_DigestInit_ex() fetch the algorithm
 * again on every call (provider locks and a name lookup): that was a
 * tenth of analyze's time on a handshake-dense capture, where every
 * certificate of every handshake, every JA3/JA4 and every staple is
 * digested. A fetched handle is immutable and thread-safe.
 */
#ifndef TW_DIGEST_H
#define TW_DIGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

/* NULL when the provider has none. */
const EVP_MD *tw_md_sha256(void);
const EVP_MD *tw_md_md5(void);

/* SHA-256 of @len bytes at @p into @out; false on failure. */
bool tw_sha256(const void *p, size_t len, uint8_t out[32]);

#endif
