// SPDX-License-Identifier: MIT
/*
 * Memoized chain verification: see verify_cache.h for why a cached answer
 * is exact within its span.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "common/strmap.h"
#include "verify_cache.h"

/* Chains longer than this are verified every time (no real one is). */
#define VERIFY_CACHE_CHAIN_MAX 16
#define VERIFY_KEY_MAX (VERIFY_CACHE_CHAIN_MAX * 32)

struct verify_memo {
	int rc;
	struct verify_result res;   /* res.built is the cache's reference */
	int64_t from;               /* the answer holds for from <= at < until */
	int64_t until;
};

struct verify_cache {
	struct verify_store *vs;
	struct strmap *memos;       /* chain fingerprints -> verify_memo */
	uint64_t hits;
	uint64_t misses;
};

struct verify_cache *verify_cache_new(struct verify_store *vs)
{
	struct verify_cache *vc = calloc(1, sizeof(*vc));

	if (!vc)
		return NULL;
	vc->vs = vs;
	vc->memos = strmap_new(sizeof(struct verify_memo));
	if (!vc->memos) {
		free(vc);
		return NULL;
	}
	return vc;
}

static void verify_cache_release_all(struct verify_cache *vc)
{
	struct verify_memo *m;
	void *value;
	size_t i;

	for (i = 0; strmap_at(vc->memos, i, NULL, NULL, &value); i++) {
		m = value;
		verify_result_release(&m->res);
	}
	strmap_clear(vc->memos);
}

void verify_cache_free(struct verify_cache *vc)
{
	if (!vc)
		return;
	verify_cache_release_all(vc);
	strmap_free(vc->memos);
	free(vc);
}

/* The served fingerprints in order; a certificate that did not parse is
 * 32 zero bytes (verify_chain skips it, so it changes nothing). */
static size_t verify_chain_key(const struct cert_info *const *chain, int n,
			       uint8_t *key)
{
	int i;

	for (i = 0; i < n; i++) {
		if (chain[i])
			memcpy(key + 32 * i, chain[i]->sha256, 32);
		else
			memset(key + 32 * i, 0, 32);
	}
	return (size_t)n * 32;
}

/* --- the span in which an answer holds */

struct verify_span {
	int64_t at;
	int64_t from;
	int64_t until;
};

/* Validity changes at a boundary or one second after it, depending on
 * how OpenSSL compares (notAfter == at is already expired; a fractional
 * GeneralizedTime truncates): both end the span, which costs nothing but
 * an extra verification. */
static void span_add_boundary(struct verify_span *s, int64_t b)
{
	int64_t edges[2] = { b, b + 1 };
	int i;

	for (i = 0; i < 2; i++) {
		if (edges[i] <= s->at) {
			if (edges[i] > s->from)
				s->from = edges[i];
		} else if (edges[i] < s->until) {
			s->until = edges[i];
		}
	}
}

static void span_add_cert(struct verify_span *s, X509 *x)
{
	int64_t t;

	if (cert_time_to_epoch(X509_get0_notBefore(x), &t))
		span_add_boundary(s, t);
	if (cert_time_to_epoch(X509_get0_notAfter(x), &t))
		span_add_boundary(s, t);
}

static bool names_issuer_of(X509 *candidate, X509 *const *certs, int n)
{
	const X509_NAME *subject = X509_get_subject_name(candidate);
	int i;

	for (i = 0; i < n; i++)
		if (X509_NAME_cmp(subject, X509_get_issuer_name(certs[i])) == 0)
			return true;
	return false;
}

/* Every trust-store certificate that could be picked as an issuer. After a
 * verification the store holds every candidate it looked up (a hashed
 * directory loads all files of a subject hash at once). */
static void span_add_store(struct verify_span *s, X509_STORE *store,
			   X509 *const *certs, int n)
{
	STACK_OF(X509_OBJECT) *objs = X509_STORE_get0_objects(store);
	int i;

	for (i = 0; i < sk_X509_OBJECT_num(objs); i++) {
		X509 *x = X509_OBJECT_get0_X509(sk_X509_OBJECT_value(objs, i));

		if (x && names_issuer_of(x, certs, n))
			span_add_cert(s, x);
	}
}

static void verify_span_compute(struct verify_cache *vc,
				const struct cert_info *const *chain, int n,
				const struct verify_result *res, struct verify_span *s)
{
	X509 *certs[2 * VERIFY_CACHE_CHAIN_MAX];
	int i, k = 0;

	for (i = 0; i < n; i++)
		if (chain[i] && chain[i]->x509)
			certs[k++] = chain[i]->x509;
	for (i = 0; res->built && i < sk_X509_num(res->built) &&
		    k < (int)(sizeof(certs) / sizeof(certs[0])); i++)
		certs[k++] = sk_X509_value(res->built, i);
	for (i = 0; i < k; i++)
		span_add_cert(s, certs[i]);
	span_add_store(s, verify_store_x509(vc->vs), certs, k);
}

/* --- lookup and store */

/* @res as the memo says, with its own reference to the built chain. */
static bool memo_copy_out(const struct verify_memo *m, struct verify_result *res)
{
	*res = m->res;
	res->built = NULL;
	if (m->res.built && !(res->built = X509_chain_up_ref(m->res.built)))
		return false;
	return true;
}

static void memo_store(struct verify_cache *vc, const uint8_t *key, size_t len,
		       int rc, const struct verify_result *res,
		       const struct verify_span *span)
{
	struct verify_memo *m;
	STACK_OF(X509) *built = NULL;

	if (res->built && !(built = X509_chain_up_ref(res->built)))
		return;   /* out of memory: simply not cached */
	m = strmap_get(vc->memos, key, len);
	if (!m && strmap_count(vc->memos) >= VERIFY_CACHE_MAX)
		verify_cache_release_all(vc);
	if (!m)
		m = strmap_put(vc->memos, key, len, NULL);
	if (!m) {
		sk_X509_pop_free(built, X509_free);
		return;
	}
	verify_result_release(&m->res);
	m->rc = rc;
	m->res = *res;
	m->res.built = built;
	m->from = span->from;
	m->until = span->until;
}

int verify_cache_chain(struct verify_cache *vc, const struct cert_info *const *chain,
		       int n, int64_t at, struct verify_result *res)
{
	struct verify_span span = { .at = at, .from = INT64_MIN, .until = INT64_MAX };
	uint8_t key[VERIFY_KEY_MAX];
	const struct verify_memo *m;
	size_t len;
	int rc;

	/* at <= 0 means "now", which moves: not memoized. */
	if (at <= 0 || n < 1 || n > VERIFY_CACHE_CHAIN_MAX)
		return verify_chain(vc->vs, chain, n, at, res);
	len = verify_chain_key(chain, n, key);
	m = strmap_get(vc->memos, key, len);
	if (m && at >= m->from && at < m->until && memo_copy_out(m, res)) {
		vc->hits++;
		return m->rc;
	}
	vc->misses++;
	rc = verify_chain(vc->vs, chain, n, at, res);
	if (rc < 0)
		return rc;
	verify_span_compute(vc, chain, n, res, &span);
	memo_store(vc, key, len, rc, res, &span);
	return rc;
}

void verify_cache_stats(const struct verify_cache *vc, struct verify_cache_stats *out)
{
	out->hits = vc->hits;
	out->misses = vc->misses;
	out->entries = strmap_count(vc->memos);
}
