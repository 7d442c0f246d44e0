/* SPDX-License-Identifier: MIT */
/*
 * Chain verification, memoized. An edge serves the same few chains
 * millions of times; X509_verify_cert() (RSA signature checks) was more
 * than half of analyze's time with a trust store that verifies. A result
 * is kept per served chain (the fingerprints, in order) together with the
 * span of time in which it holds: the interval between two validity
 * boundaries (notBefore, notAfter + 1 s) of every certificate that could
 * take part - the served ones, the chain OpenSSL built, and every
 * certificate in the trust store named as an issuer by one of them. Inside
 * that span no certificate's validity changes, so OpenSSL would pick the
 * same issuers and give the same answer; a handshake outside it is
 * verified again. The trust store belongs to the cache: a new store (a
 * reload) comes with a new, empty cache.
 *
 * Bounded: at most VERIFY_CACHE_MAX chains (each ~0.5 KB plus references
 * to certificates it keeps alive); when full it starts empty again.
 */
#ifndef TW_VERIFY_CACHE_H
#define TW_VERIFY_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "verify.h"

#define VERIFY_CACHE_MAX 4096

struct verify_cache;

/* NULL when out of memory. The cache borrows @vs: free the cache first. */
struct verify_cache *verify_cache_new(struct verify_store *vs);
void verify_cache_free(struct verify_cache *vc);

/* verify_chain(), with the same contract and results. */
int verify_cache_chain(struct verify_cache *vc, const struct cert_info *const *chain,
		       int n, int64_t at, struct verify_result *res);

struct verify_cache_stats {
	uint64_t hits;
	uint64_t misses;       /* verified: not cached, or outside its span */
	size_t entries;
};
void verify_cache_stats(const struct verify_cache *vc, struct verify_cache_stats *out);

#endif
