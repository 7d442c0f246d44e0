/* SPDX-License-Identifier: MIT */
/*
 * How many distinct certificates a run saw, in bounded memory: the count
 * of distinct SHA-256 digests added is exact up to DISTINCT_EXACT_MAX
 * (a set of their first 64 bits: at most 1 MiB), then an estimate
 * (HyperLogLog, 2^14 one-byte registers: 16 KiB, standard error 0.8%)
 * never below the exact count it had reached: DISTINCT_EXACT_MAX + 1, or
 * where the set could not grow. The digests must be cryptographic
 * (uniform bits): they are their own hash.
 */
#ifndef TW_DISTINCT_H
#define TW_DISTINCT_H

#include <stdbool.h>
#include <stdint.h>

#define DISTINCT_EXACT_MAX 65536

struct distinct;

struct distinct *distinct_new(void);
void distinct_free(struct distinct *d);
/* Counts @digest (32 bytes). 0, or -1 when the exact set could not grow
 * (out of memory): the count goes on as an estimate. */
int distinct_add(struct distinct *d, const uint8_t *digest);
uint64_t distinct_count(const struct distinct *d);
/* True once the count is an estimate. */
bool distinct_estimated(const struct distinct *d);

#endif
