// SPDX-License-Identifier: MIT
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "grow.h"
#include "siphash.h"
#include "strmap.h"

/* Entries live in an array in insertion order (a deletion moves the last
 * into the hole); the index table maps hash slots to entry numbers (+1,
 * 0 = empty), linear probing. */
struct strmap_entry {
	char *key;            /* NUL-terminated copy; may contain NULs */
	size_t len;
	uint64_t hash;
	void *value;
};

struct strmap {
	size_t value_size;
	struct strmap_entry *entries;
	size_t count;
	size_t entries_cap;
	uint32_t *slots;
	size_t nslots;        /* power of two */
	uint64_t seed[2];
};

/* Keyed SipHash: the keys come off the wire. (A seeded byte-at-a-time
 * FNV was both weaker and, for the longer keys - fingerprint shapes of up
 * to 1 KiB - slow.) */
static uint64_t strmap_hash(const uint64_t seed[2], const void *key, size_t len)
{
	return tw_siphash13(seed, key, len);
}

struct strmap *strmap_new(size_t value_size)
{
	struct strmap *m = strmap_new_seeded(value_size, NULL);

	if (m && getrandom(m->seed, sizeof(m->seed), GRND_NONBLOCK) != sizeof(m->seed)) {
		m->seed[0] = (uint64_t)(uintptr_t)m ^ 0x9e3779b97f4a7c15ULL;
		m->seed[1] = (uint64_t)(uintptr_t)&m->seed ^ 0xbf58476d1ce4e5b9ULL;
	}
	return m;
}

struct strmap *strmap_new_seeded(size_t value_size, const uint64_t seed[2])
{
	struct strmap *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->value_size = value_size;
	if (seed)
		memcpy(m->seed, seed, sizeof(m->seed));
	return m;
}

void strmap_clear(struct strmap *m)
{
	size_t i;

	for (i = 0; i < m->count; i++) {
		free(m->entries[i].key);
		free(m->entries[i].value);
	}
	m->count = 0;
	if (m->slots)
		memset(m->slots, 0, m->nslots * sizeof(*m->slots));
}

void *strmap_put_bounded(struct strmap *m, const void *key, size_t len,
			 size_t max, bool *created)
{
	if (m->count >= max && !strmap_get(m, key, len))
		strmap_clear(m);
	return strmap_put(m, key, len, created);
}

void strmap_free(struct strmap *m)
{
	if (!m)
		return;
	strmap_clear(m);
	free(m->entries);
	free(m->slots);
	free(m);
}

static size_t strmap_find_slot(const struct strmap *m, const void *key,
			       size_t len, uint64_t hash)
{
	size_t mask = m->nslots - 1, i = hash & mask;

	for (;;) {
		uint32_t e = m->slots[i];
		const struct strmap_entry *en;

		if (e == 0)
			return i;
		en = &m->entries[e - 1];
		if (en->hash == hash && en->len == len && memcmp(en->key, key, len) == 0)
			return i;
		i = (i + 1) & mask;
	}
}

void *strmap_get(const struct strmap *m, const void *key, size_t len)
{
	uint64_t hash;
	uint32_t e;

	if (!m->nslots)
		return NULL;
	hash = strmap_hash(m->seed, key, len);
	e = m->slots[strmap_find_slot(m, key, len, hash)];
	return e ? m->entries[e - 1].value : NULL;
}

/* Points the (cleared) index table at every entry again. */
static void strmap_reindex(struct strmap *m)
{
	size_t i;

	for (i = 0; i < m->count; i++) {
		size_t s = strmap_find_slot(m, m->entries[i].key, m->entries[i].len,
					    m->entries[i].hash);
		m->slots[s] = (uint32_t)(i + 1);
	}
}

static bool strmap_grow(struct strmap *m)
{
	size_t nslots = m->nslots ? m->nslots * 2 : 64;
	uint32_t *slots = calloc(nslots, sizeof(*slots));

	if (!slots)
		return false;
	free(m->slots);
	m->slots = slots;
	m->nslots = nslots;
	strmap_reindex(m);
	return true;
}

/* The slot holding entry number @e (0-based): its probe from its home. */
static size_t strmap_slot_of(const struct strmap *m, size_t e)
{
	size_t mask = m->nslots - 1, i = m->entries[e].hash & mask;

	while (m->slots[i] != e + 1)
		i = (i + 1) & mask;
	return i;
}

/*
 * Empties slot @i without cutting a probe chain through it (linear
 * probing's backward shift): walking the run after it, an entry whose home
 * slot lies cyclically in (hole, its slot] stays (its probe never passes
 * the hole); any other moves into the hole, which moves on to its slot.
 * Costs the run's length; no tombstones, so lookups never slow down.
 */
static void strmap_unslot(struct strmap *m, size_t i)
{
	size_t mask = m->nslots - 1, j = i, home;

	for (;;) {
		j = (j + 1) & mask;
		if (!m->slots[j])
			break;
		home = m->entries[m->slots[j] - 1].hash & mask;
		if (((j - home) & mask) < ((j - i) & mask))
			continue;
		m->slots[i] = m->slots[j];
		i = j;
	}
	m->slots[i] = 0;
}

bool strmap_del(struct strmap *m, const void *key, size_t len)
{
	size_t slot, i, last;
	uint32_t e;

	if (!m->nslots)
		return false;
	slot = strmap_find_slot(m, key, len, strmap_hash(m->seed, key, len));
	e = m->slots[slot];
	if (!e)
		return false;
	i = e - 1;
	last = m->count - 1;
	free(m->entries[i].key);
	free(m->entries[i].value);
	strmap_unslot(m, slot);
	/* the last entry fills the hole (its slot says where it went now):
	 * the array stays dense for strmap_at, nothing else moves */
	if (i != last) {
		m->slots[strmap_slot_of(m, last)] = (uint32_t)(i + 1);
		m->entries[i] = m->entries[last];
	}
	m->count--;
	return true;
}

void *strmap_put(struct strmap *m, const void *key, size_t len, bool *created)
{
	struct strmap_entry *en;
	uint64_t hash;
	size_t slot;

	if (created)
		*created = false;
	if ((m->count + 1) * 2 > m->nslots && !strmap_grow(m))
		return NULL;
	hash = strmap_hash(m->seed, key, len);
	slot = strmap_find_slot(m, key, len, hash);
	if (m->slots[slot])
		return m->entries[m->slots[slot] - 1].value;
	if (tw_grow(&m->entries, &m->entries_cap, sizeof(*m->entries), m->count,
		    1, 32, TW_GROW_NO_CAP) < 0)
		return NULL;
	en = &m->entries[m->count];
	en->key = malloc(len + 1);
	en->value = calloc(1, m->value_size ? m->value_size : 1);
	if (!en->key || !en->value) {
		free(en->key);
		free(en->value);
		return NULL;
	}
	memcpy(en->key, key, len);
	en->key[len] = '\0';
	en->len = len;
	en->hash = hash;
	m->slots[slot] = (uint32_t)(++m->count);
	if (created)
		*created = true;
	return en->value;
}

size_t strmap_count(const struct strmap *m)
{
	return m->count;
}

bool strmap_at(const struct strmap *m, size_t i, const char **key, size_t *len,
	       void **value)
{
	if (i >= m->count)
		return false;
	if (key)
		*key = m->entries[i].key;
	if (len)
		*len = m->entries[i].len;
	if (value)
		*value = m->entries[i].value;
	return true;
}
