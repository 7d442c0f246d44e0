/* SPDX-License-Identifier: MIT */
/*
 * Stapled OCSP answers, memoized. A server staples the same response to
 * every handshake until it refreshes it (hours to days), and decoding it
 * plus OCSP_basic_verify() was a quarter of analyze's time. What
 * staple_check() says depends only on the response bytes, the leaf and
 * its issuer (judging the answer's times against the handshake is done
 * later, by revocation_judge()), so the result is kept per (SHA-256 of the
 * bytes, leaf, issuer) and never goes stale.
 *
 * Bounded: at most STAPLE_CACHE_MAX answers (~0.2 KB each); when full it
 * starts empty again.
 */
#ifndef TW_STAPLE_CACHE_H
#define TW_STAPLE_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "staple.h"

#define STAPLE_CACHE_MAX 4096

struct staple_cache;

struct staple_cache *staple_cache_new(void);    /* NULL: out of memory */
void staple_cache_free(struct staple_cache *sc);

/* staple_check(), with the same contract and results. */
void staple_cache_check(struct staple_cache *sc, const uint8_t *der, size_t len,
			const struct cert_info *leaf, const struct cert_info *issuer,
			struct staple_info *out);

#endif
