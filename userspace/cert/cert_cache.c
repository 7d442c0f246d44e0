// SPDX-License-Identifier: MIT
/*
 * The certificate cache: a chained hash table keyed by the DER bytes, with
 * an LRU list (a <sys/queue.h> TAILQ, as the pipeline's) to pick the entry to evict when the table is full. A lookup
 * hashes the bytes with keyed SipHash and compares them whole: the SHA-256
 * fingerprint is computed once, when a certificate is first parsed (taking
 * it for every certificate of every handshake was a tenth of analyze's
 * time). Equal bytes are the same certificate: cert_info_parse() refuses
 * trailing bytes. An evicted entry is freed at once unless something
 * pinned it (cert_cache_pin): then it is retired, out of the table, and
 * freed by its last cert_cache_unpin(). Live entries are thus at most the
 * table's bound plus the pinned ones, whatever the traffic: keeping every
 * evicted entry until the end grew ~5 KB per distinct certificate served.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/random.h>

#include "common/siphash.h"
#include "cert_info.h"

#define CERT_CACHE_MAX_BUCKETS (1u << 20)

struct cache_entry {
	struct cert_info *ci;            /* ci->cache_entry points back here */
	uint64_t der_hash;
	uint8_t *der;                    /* the key; freed when retired */
	size_t der_len;
	uint32_t pins;                   /* cert_cache_pin() - cert_cache_unpin() */
	bool retired;                    /* out of the table, alive for its pins */
	struct cache_entry *hnext;       /* bucket chain */
	TAILQ_ENTRY(cache_entry) link;   /* in cache->lru while in the table,
					  * in cache->retired after */
};

struct cert_cache {
	uint64_t seed[2];                /* SipHash key: the bytes are the wire's */
	struct cache_entry **buckets;
	size_t nbuckets;                 /* a power of two */
	size_t count;
	size_t max_entries;
	TAILQ_HEAD(cache_lru, cache_entry) lru; /* most recently used first */
	struct cache_lru retired;        /* evicted while pinned */
	size_t n_retired;
};

struct cert_cache *cert_cache_new(size_t max_entries)
{
	struct cert_cache *cache = calloc(1, sizeof(*cache));

	if (!cache)
		return NULL;
	TAILQ_INIT(&cache->lru);
	TAILQ_INIT(&cache->retired);
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

static void cache_list_free(struct cache_lru *list)
{
	struct cache_entry *e, *next;

	for (e = TAILQ_FIRST(list); e; e = next) {
		next = TAILQ_NEXT(e, link);
		cache_entry_free(e);
	}
}

void cert_cache_free(struct cert_cache *cache)
{
	if (!cache)
		return;
	cache_list_free(&cache->lru);
	cache_list_free(&cache->retired);
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

size_t cert_cache_live(const struct cert_cache *cache)
{
	return cert_cache_count(cache) + cert_cache_retired(cache);
}

void cert_cache_pin(struct cert_cache *cache, const struct cert_info *ci)
{
	if (ci && ci->cache_entry)
		ci->cache_entry->pins++;
}

void cert_cache_unpin(struct cert_cache *cache, const struct cert_info *ci)
{
	struct cache_entry *e = ci ? ci->cache_entry : NULL;

	if (!e || !e->pins || --e->pins || !e->retired)
		return;
	TAILQ_REMOVE(&cache->retired, e, link);
	cache->n_retired--;
	cache_entry_free(e);
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

/* Takes the least recently used entry out of the table: freed, or
 * retired while pinned. */
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
	TAILQ_REMOVE(&cache->lru, victim, link);
	cache->count--;
	if (!victim->pins) {
		cache_entry_free(victim);
		return;
	}
	free(victim->der);
	victim->der = NULL;
	victim->hnext = NULL;
	victim->retired = true;
	TAILQ_INSERT_TAIL(&cache->retired, victim, link);
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
	e->ci->cache_entry = e;
	if (cache->count >= cache->max_entries)
		cache_retire_lru(cache);
	bucket = cache_bucket(cache, hash);
	e->hnext = *bucket;
	*bucket = e;
	TAILQ_INSERT_HEAD(&cache->lru, e, link);
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
		TAILQ_REMOVE(&cache->lru, e, link);
		TAILQ_INSERT_HEAD(&cache->lru, e, link);
	} else {
		e = cache_insert(cache, hash, der, len, err);
		if (!e)
			return NULL;
	}
	e->ci->refs++;
	return e->ci;
}
