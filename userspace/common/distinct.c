// SPDX-License-Identifier: MIT
/*
 * Distinct digests: an exact set while it is small, a HyperLogLog sketch
 * always (so the switch loses nothing). The set keeps 64 bits of each
 * digest, open addressing with linear probing, at most half full: two
 * certificates whose SHA-256 share their first 64 bits would count once,
 * which is 2^-33 likely at the bound.
 */
#include <math.h>
#include <stdlib.h>

#include "distinct.h"

#define HLL_BITS 14
#define HLL_REGS (1u << HLL_BITS)
#define SET_MIN_SLOTS 1024

struct distinct {
	uint64_t *set;        /* NULL once estimating; 0 is an empty slot */
	size_t nslots;        /* a power of two */
	uint64_t count;       /* in the set; once estimating, what it had
			       * reached: the estimate's floor */
	uint8_t regs[HLL_REGS];
};

struct distinct *distinct_new(void)
{
	struct distinct *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->nslots = SET_MIN_SLOTS;
	d->set = calloc(d->nslots, sizeof(*d->set));
	if (!d->set) {
		free(d);
		return NULL;
	}
	return d;
}

void distinct_free(struct distinct *d)
{
	if (!d)
		return;
	free(d->set);
	free(d);
}

static uint64_t digest_word(const uint8_t *digest)
{
	uint64_t w = 0;
	int i;

	for (i = 0; i < 8; i++)
		w = w << 8 | digest[i];
	return w;
}

static void hll_add(struct distinct *d, uint64_t w)
{
	uint32_t reg = (uint32_t)(w >> (64 - HLL_BITS));
	uint64_t rest = w << HLL_BITS;
	uint8_t rank = rest ? (uint8_t)(__builtin_clzll(rest) + 1) : 64 - HLL_BITS + 1;

	if (rank > d->regs[reg])
		d->regs[reg] = rank;
}

/* True when @key was not in the set (and now is). */
static bool set_insert(uint64_t *set, size_t nslots, uint64_t key)
{
	size_t i = (size_t)key & (nslots - 1);

	while (set[i]) {
		if (set[i] == key)
			return false;
		i = (i + 1) & (nslots - 1);
	}
	set[i] = key;
	return true;
}

static int set_grow(struct distinct *d)
{
	size_t n = d->nslots * 2, i;
	uint64_t *set = calloc(n, sizeof(*set));

	if (!set)
		return -1;
	for (i = 0; i < d->nslots; i++)
		if (d->set[i])
			set_insert(set, n, d->set[i]);
	free(d->set);
	d->set = set;
	d->nslots = n;
	return 0;
}

static void set_drop(struct distinct *d)
{
	free(d->set);
	d->set = NULL;
	d->nslots = 0;
}

int distinct_add(struct distinct *d, const uint8_t *digest)
{
	uint64_t w = digest_word(digest);

	hll_add(d, w);
	if (!d->set)
		return 0;
	if (!set_insert(d->set, d->nslots, w ? w : 1))
		return 0;
	if (++d->count > DISTINCT_EXACT_MAX) {
		set_drop(d);
		return 0;
	}
	if (d->count * 2 > d->nslots && set_grow(d)) {
		set_drop(d);
		return -1;
	}
	return 0;
}

static double hll_estimate(const struct distinct *d)
{
	double m = HLL_REGS, sum = 0, alpha = 0.7213 / (1 + 1.079 / m), e;
	unsigned zeros = 0, i;

	for (i = 0; i < HLL_REGS; i++) {
		sum += ldexp(1.0, -d->regs[i]);
		zeros += !d->regs[i];
	}
	e = alpha * m * m / sum;
	if (e <= 2.5 * m && zeros)
		e = m * log(m / zeros);     /* small range: linear counting */
	return e;
}

uint64_t distinct_count(const struct distinct *d)
{
	uint64_t e;

	if (d->set)
		return d->count;
	/* DISTINCT_EXACT_MAX + 1 past the bound; fewer when the set could
	 * not grow (out of memory) */
	e = (uint64_t)llround(hll_estimate(d));
	return e > d->count ? e : d->count;
}

bool distinct_estimated(const struct distinct *d)
{
	return !d->set;
}
