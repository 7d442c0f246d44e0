// SPDX-License-Identifier: MIT
/*
 * Bounded scope tables. A keyed table (SNI, leaf, JA4) is a fixed array of
 * entries with an open-addressing hash index (linear probing, at most half
 * full, backward-shift deletion so no tombstones accumulate). An index slot
 * holds the upper half of the key's hash next to the entry number, so a
 * probe touches entries and keys only on a likely match, and a removal
 * none at all. When it is
 * full, a new key replaces the least active of a few entries sampled at
 * random: the idea of sampled LFU eviction, which keeps heavy keys against
 * any flood of one-off keys at O(1) cost. Firing entries are never
 * replaced: their resolution must still be reported.
 * A direct table (alerts) is indexed by the alert code and never evicts.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "spike_internal.h"

static size_t spike_index_slots(uint32_t cap)
{
	size_t p = 16;

	while (p < 2 * (size_t)cap)
		p <<= 1;
	return p;
}

/* Bytes of one table; also the formula of spike_memory_bound(). */
size_t spike_table_bytes(uint32_t cap, uint32_t key_max, bool hashed,
			 bool findings, uint32_t window_s)
{
	size_t n = (size_t)cap * (sizeof(struct spike_entry) +
				  sizeof(struct spike_rank) +
				  window_s * sizeof(struct spike_bucket) +
				  key_max + 1 + 2 * sizeof(uint32_t));

	if (hashed)
		n += spike_index_slots(cap) * sizeof(uint64_t);
	else
		n += (size_t)cap * sizeof(uint32_t);   /* order */
	if (findings)
		n += (size_t)cap * (SPIKE_FINDINGS_MAX + 1);
	return n;
}

static void *spike_calloc(struct spike_detector *d, size_t n, size_t size)
{
	void *p = calloc(n, size);

	if (p)
		d->mem += n * size;
	return p;
}

int spike_table_init(struct spike_detector *d, struct spike_table *t,
		     enum spike_kind kind, uint32_t cap, uint32_t key_max,
		     bool hashed)
{
	size_t slots = spike_index_slots(cap), i;

	memset(t, 0, sizeof(*t));
	t->kind = kind;
	t->cap = cap;
	t->key_max = key_max;
	t->e = spike_calloc(d, cap, sizeof(*t->e));
	t->b = spike_calloc(d, (size_t)cap * d->o.window_s, sizeof(*t->b));
	t->rank = spike_calloc(d, cap, sizeof(*t->rank));
	t->keys = spike_calloc(d, cap, key_max + 1);
	t->ex_count = spike_calloc(d, cap, sizeof(uint32_t));
	t->ex_touched = spike_calloc(d, cap, sizeof(uint32_t));
	if (!t->e || !t->b || !t->rank || !t->keys || !t->ex_count || !t->ex_touched)
		return -1;
	if (kind == SPIKE_SCOPE_CERT) {
		t->findings = spike_calloc(d, cap, SPIKE_FINDINGS_MAX + 1);
		if (!t->findings)
			return -1;
	}
	if (hashed) {
		t->index = spike_calloc(d, slots, sizeof(uint64_t));
		if (!t->index)
			return -1;
		t->index_mask = (uint32_t)(slots - 1);
	} else {
		t->order = spike_calloc(d, cap, sizeof(uint32_t));
		if (!t->order)
			return -1;
	}
	for (i = 0; i < cap; i++) {
		t->e[i].idx = (uint32_t)i;
		t->e[i].kind = (uint8_t)kind;
	}
	return 0;
}

void spike_table_free(struct spike_table *t)
{
	free(t->e);
	free(t->b);
	free(t->rank);
	free(t->keys);
	free(t->findings);
	free(t->index);
	free(t->order);
	free(t->ex_count);
	free(t->ex_touched);
	memset(t, 0, sizeof(*t));
}

static uint64_t spike_load64(const char *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint64_t spike_mix(uint64_t x)
{
	x ^= x >> 32;
	x *= 0xd6e8feb86659fd93ULL;
	x ^= x >> 32;
	x *= 0xd6e8feb86659fd93ULL;
	x ^= x >> 32;
	return x;
}

/* Eight bytes a step, then a full avalanche: keys are up to 255 bytes and
 * hashed three times per handshake, so byte-at-a-time hashing would
 * dominate. Not keyed: a crafted collision costs probes, never
 * correctness, and the index is at most half full. */
uint64_t spike_hash(const char *s, size_t len)
{
	uint64_t h = 0x9e3779b97f4a7c15ULL ^ (len * 0xff51afd7ed558ccdULL), tail = 0;
	size_t i;

	for (i = 0; i + 8 <= len; i += 8)
		h = (h ^ spike_load64(s + i)) * 0x9fb21c651e98df25ULL;
	if (i < len) {
		memcpy(&tail, s + i, len - i);
		h = (h ^ tail) * 0x9fb21c651e98df25ULL;
	}
	return spike_mix(h);
}

/* 2^(-k/30) for k = 0..29: the rank halves every 30 s */
static const float spike_half_frac[30] = {
	1, 0.977159968f, 0.954841604f, 0.933032992f, 0.911722489f,
	0.890898718f, 0.870550563f, 0.850667161f, 0.831237896f,
	0.812252396f, 0.793700526f, 0.775572381f, 0.757858283f,
	0.740548776f, 0.723634619f, 0.707106781f, 0.690956440f,
	0.675174973f, 0.659753955f, 0.644685154f, 0.629960525f,
	0.615572207f, 0.601512518f, 0.587773953f, 0.574349177f,
	0.561231024f, 0.548412490f, 0.535886731f, 0.523647061f,
	0.511686946f,
};

static float spike_rank_at(const struct spike_rank *r, uint64_t sec)
{
	uint64_t dt;

	if (sec <= r->sec)
		return r->score;
	dt = sec - r->sec;
	if (dt >= 30 * 64)
		return 0;
	return ldexpf(r->score * spike_half_frac[dt % 30], -(int)(dt / 30));
}

void spike_table_touch(struct spike_table *t, const struct spike_entry *e, uint64_t sec)
{
	struct spike_rank *r = &t->rank[e->idx];

	if (sec != r->sec) {
		r->score = spike_rank_at(r, sec);
		r->sec = (uint32_t)sec;
	}
	r->score += 1;
}

const char *spike_table_key(const struct spike_table *t, const struct spike_entry *e)
{
	return t->keys + (size_t)e->idx * (t->key_max + 1);
}

/* Index slot: hash tag (upper 32 bits) << 32 | entry + 1; 0 = empty. The
 * home slot comes from the tag too, so removal needs no entry. */
static uint32_t spike_tag(uint64_t h)
{
	return (uint32_t)(h >> 32);
}

static uint64_t spike_slot(uint64_t h, uint32_t idx)
{
	return (uint64_t)spike_tag(h) << 32 | (idx + 1);
}

static struct spike_entry *spike_slot_entry(const struct spike_table *t, uint64_t slot)
{
	return &t->e[(uint32_t)slot - 1];
}

static bool spike_key_eq(const struct spike_table *t, uint64_t slot,
			 uint64_t h, const char *key, size_t len)
{
	const struct spike_entry *e;

	if (slot >> 32 != spike_tag(h))
		return false;
	e = spike_slot_entry(t, slot);
	return e->hash == h && e->key_len == len &&
	       memcmp(spike_table_key(t, e), key, len) == 0;
}

/* Slot of @key in the index: its entry, or the empty slot it would take. */
static uint32_t spike_index_probe(const struct spike_table *t, uint64_t h,
				  const char *key, size_t len)
{
	uint32_t i = spike_tag(h) & t->index_mask;

	while (t->index[i] && !spike_key_eq(t, t->index[i], h, key, len))
		i = (i + 1) & t->index_mask;
	return i;
}

struct spike_entry *spike_table_find(const struct spike_table *t,
				     const char *key, size_t len)
{
	uint64_t h;
	uint32_t i;

	if (!t->index || len > t->key_max)
		return NULL;
	h = spike_hash(key, len);
	i = spike_index_probe(t, h, key, len);
	return t->index[i] ? spike_slot_entry(t, t->index[i]) : NULL;
}

static void spike_index_remove(struct spike_table *t, const struct spike_entry *e)
{
	uint64_t want = spike_slot(e->hash, e->idx);
	uint32_t i = spike_tag(e->hash) & t->index_mask, j, home;

	while (t->index[i] != want)
		i = (i + 1) & t->index_mask;
	t->index[i] = 0;
	for (j = i;;) {
		j = (j + 1) & t->index_mask;
		if (!t->index[j])
			return;
		home = (uint32_t)(t->index[j] >> 32) & t->index_mask;
		/* stays if its home lies cyclically in (i, j] */
		if (i <= j ? (i < home && home <= j) : (i < home || home <= j))
			continue;
		t->index[i] = t->index[j];
		t->index[j] = 0;
		i = j;
	}
}

static uint64_t spike_rand(struct spike_detector *d)
{
	/* xorshift64*: deterministic, so runs replay exactly */
	d->rng ^= d->rng >> 12;
	d->rng ^= d->rng << 25;
	d->rng ^= d->rng >> 27;
	return d->rng * 0x2545f4914f6cdd1dULL;
}

/* The least active of SPIKE_EVICT_SAMPLES neighbours from a random
 * place (the order of entries has nothing to do with their activity, so
 * neighbours are as good a sample as any), never a firing one; NULL if
 * they all fire. */
static struct spike_entry *spike_pick_victim(struct spike_detector *d,
					     struct spike_table *t)
{
	uint32_t start = (uint32_t)(spike_rand(d) % t->cap), i, idx, best = 0;
	float best_rank = 0, r;
	bool found = false, skip_firing = false;

again:
	for (i = 0; i < SPIKE_EVICT_SAMPLES; i++) {
		idx = (start + i) % t->cap;
		if (skip_firing && t->e[idx].firing)
			continue;
		r = spike_rank_at(&t->rank[idx], d->sec);
		if (!found || r < best_rank) {
			best = idx;
			best_rank = r;
			found = true;
		}
	}
	/* firing entries are rare: look at them only when one would go */
	if (found && t->e[best].firing && !skip_firing) {
		skip_firing = true;
		found = false;
		goto again;
	}
	return found ? &t->e[best] : NULL;
}

/* Forgets @e; its totals stay counted in the kind's "other". */
static void spike_evict(struct spike_table *t, struct spike_entry *e)
{
	spike_index_remove(t, e);
	t->other_hs += e->tot_hs;
	t->other_fail += e->tot_fail;
	t->other_aborted += e->tot_aborted;
	t->other_inc += e->tot_inc;
	t->evictions++;
}

void spike_entry_reset(struct spike_detector *d, struct spike_entry *e)
{
	struct spike_bucket *b = spike_entry_buckets(d, e);
	uint32_t idx = e->idx, gen = e->gen + 1;
	uint8_t kind = e->kind;

	memset(b, 0, d->o.window_s * sizeof(*b));
	memset(e, 0, sizeof(*e));
	e->idx = idx;
	e->gen = gen;
	e->kind = kind;
	e->used = true;
	e->sec = d->sec;
	d->t[kind].rank[idx] = (struct spike_rank){ 0, (uint32_t)d->sec };
	e->taint_from = SPIKE_NEVER;
	e->taint_to = 0;
}

struct spike_entry *spike_table_get(struct spike_detector *d,
				    struct spike_table *t, const char *key,
				    size_t len)
{
	struct spike_entry *e;
	uint64_t h;
	uint32_t slot;

	if (len > t->key_max)
		len = t->key_max;
	h = spike_hash(key, len);
	slot = spike_index_probe(t, h, key, len);
	if (t->index[slot])
		return spike_slot_entry(t, t->index[slot]);

	if (t->used < t->cap) {
		e = &t->e[t->used++];
	} else {
		e = spike_pick_victim(d, t);
		if (!e)
			return NULL;
		spike_evict(t, e);
		/* removal may have shifted the probe sequence */
		slot = spike_index_probe(t, h, key, len);
	}
	spike_entry_reset(d, e);
	e->hash = h;
	e->key_len = (uint16_t)len;
	memcpy(t->keys + (size_t)e->idx * (t->key_max + 1), key, len);
	t->keys[(size_t)e->idx * (t->key_max + 1) + len] = '\0';
	if (t->findings)
		t->findings[(size_t)e->idx * (SPIKE_FINDINGS_MAX + 1)] = '\0';
	t->index[slot] = spike_slot(h, e->idx);
	return e;
}

struct spike_entry *spike_table_direct(struct spike_detector *d,
				       struct spike_table *t, uint32_t code)
{
	struct spike_entry *e = &t->e[code];

	if (!e->used) {
		spike_entry_reset(d, e);
		t->order[t->used++] = code;
	}
	return e;
}
