// SPDX-License-Identifier: MIT
/*
 * The certificate cache: a chained hash table keyed by the DER bytes, with
 * an LRU list (a <sys/queue.h> TAILQ, as the pipeline's) to pick the entry to evict when the table is full. A lookup
 * hashes the bytes with keyed SipHash and compares them whole: the SHA-256
 * fingerprint is computed once, when a certificate is first parsed (taking
 * it for every certificate of every handshake was a tenth of analyze's
 * time). Equal bytes are the same certificate: cert_info_parse() refuses
 * trailing bytes. Evicted entries are retired, not freed, because the
 * pointers handed out by cert_cache_get() are promised to stay valid until
 * cert_cache_free().
 */
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/random.h>

#include "common/siphash.h"
#include "cert_info.h"

#define CERT_CACHE_DEFAULT_MAX 4096
#define CERT_CACHE_MAX_BUCKETS (1u << 20)

struct cache_entry {
	struct cert_info *ci;
	uint64_t der_hash;
	uint8_t *der;                    /* the key; freed when retired */
	size_t der_len;
	struct cache_entry *hnext;       /* bucket chain, or the retired list */
	TAILQ_ENTRY(cache_entry) lru;    /* in cache->lru while in the table */
};

struct cert_cache {
	uint64_t seed[2];                /* SipHash key: the bytes are the wire's */
	struct cache_entry **buckets;
	size_t nbuckets;                 /* a power of two */
	size_t count;
	size_t max_entries;
	TAILQ_HEAD(cache_lru, cache_entry) lru; /* most recently used first */
	struct cache_entry *retired;
	size_t n_retired;
};

struct cert_cache *cert_cache_new(size_t max_entries)
{
	struct cert_cache *cache = calloc(1, sizeof(*cache));

	if (!cache)
		return NULL;
	TAILQ_INIT(&cache->lru);
	cache->max_entries = max_entries ? max_entries : CERT_CACHE_DEFAULT_MAX;
	if (getrandom(cache->seed, sizeof(cache->seed), GRND_NONBLOCK) !=
	    sizeof(cache->seed)) {
		cache->seed[0] = (uint64_t)(uintptr_t)cache ^ 0x9e3779b97f4a7c15ULL;
		cache->seed[1] = (uint64_t)(uintptr_t)&cache->seed ^ 0xbf58476d1ce4e5b9ULL;
	}
	cache->nbuckets = 16;
	while (cache->nbuckets < cache->max_entries &&
	       cache->nbuckets < CERT_CACHE_MAX_BUCKETS)
		cache->nbuckets <<= 1;
	cache->buckets = calloc(cache->nbuckets, sizeof(*cache->buckets));
	if (!cache->buckets) {
		free(cache);
		return NULL;
	}
	return cache;
}

static void cache_entry_free(struct cache_entry *e)
{
	free(e->der);
	cert_info_free(e->ci);
	free(e);
}

void cert_cache_free(struct cert_cache *cache)
{
	struct cache_entry *e, *next;

	if (!cache)
		return;
	for (e = TAILQ_FIRST(&cache->lru); e; e = next) {
		next = TAILQ_NEXT(e, lru);
		cache_entry_free(e);
	}
	for (e = cache->retired; e; e = next) {
		next = e->hnext;
		cache_entry_free(e);
	}
	free(cache->buckets);
	free(cache);
}

size_t cert_cache_count(const struct cert_cache *cache)
{
	return cache ? cache->count : 0;
}

size_t cert_cache_retired(const struct cert_cache *cache)
{
	return cache ? cache->n_retired : 0;
}

static struct cache_entry **cache_bucket(struct cert_cache *cache, uint64_t hash)
{
	return &cache->buckets[hash & (cache->nbuckets - 1)];
}

static struct cache_entry *cache_lookup(struct cert_cache *cache, uint64_t hash,
					const uint8_t *der, size_t len)
{
	struct cache_entry *e;

	for (e = *cache_bucket(cache, hash); e; e = e->hnext)
		if (e->der_hash == hash && e->der_len == len &&
		    memcmp(e->der, der, len) == 0)
			return e;
	return NULL;
}

/* Moves the least recently used entry from the table to the retired list. */
static void cache_retire_lru(struct cert_cache *cache)
{
	struct cache_entry *victim = TAILQ_LAST(&cache->lru, cache_lru), **pp;

	if (!victim)
		return;
	for (pp = cache_bucket(cache, victim->der_hash); *pp; pp = &(*pp)->hnext) {
		if (*pp == victim) {
			*pp = victim->hnext;
			break;
		}
	}
	TAILQ_REMOVE(&cache->lru, victim, lru);
	free(victim->der);
	victim->der = NULL;
	victim->hnext = cache->retired;
	cache->retired = victim;
	cache->count--;
	cache->n_retired++;
}

static struct cache_entry *cache_insert(struct cert_cache *cache, uint64_t hash,
					const uint8_t *der, size_t len,
					const char **err)
{
	struct cache_entry *e, **bucket;

	e = calloc(1, sizeof(*e));
	if (e)
		e->der = malloc(len);
	if (!e || !e->der) {
		free(e);
		if (err)
			*err = "out of memory";
		return NULL;
	}
	memcpy(e->der, der, len);
	e->der_len = len;
	e->der_hash = hash;
	e->ci = cert_info_parse(der, len, err);
	if (!e->ci) {
		cache_entry_free(e);
		return NULL;
	}
	if (cache->count >= cache->max_entries)
		cache_retire_lru(cache);
	bucket = cache_bucket(cache, hash);
	e->hnext = *bucket;
	*bucket = e;
	TAILQ_INSERT_HEAD(&cache->lru, e, lru);
	cache->count++;
	return e;
}

const struct cert_info *cert_cache_get(struct cert_cache *cache,
				       const uint8_t *der, size_t len,
				       const char **err)
{
	struct cache_entry *e;
	uint64_t hash;

	if (!cache || !der || len == 0) {
		if (err)
			*err = "empty certificate";
		return NULL;
	}
	hash = tw_siphash13(cache->seed, der, len);
	e = cache_lookup(cache, hash, der, len);
	if (e) {
		TAILQ_REMOVE(&cache->lru, e, lru);
		TAILQ_INSERT_HEAD(&cache->lru, e, lru);
	} else {
		e = cache_insert(cache, hash, der, len, err);
		if (!e)
			return NULL;
	}
	e->ci->refs++;
	return e->ci;
}
