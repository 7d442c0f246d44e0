/* SPDX-License-Identifier: MIT */
/*
 * A hash map from byte-string keys (copied) to a caller-sized value block.
 * Open addressing, seeded hash (keys come off the wire), grows by doubling.
 * Used for the small keyed sets of the sinks and the pipeline.
 */
#ifndef TW_STRMAP_H
#define TW_STRMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct strmap;

/* Each entry carries @value_size zeroed bytes for the caller. */
struct strmap *strmap_new(size_t value_size);
/* The same with the hash's key @seed (NULL: zeros) instead of a random
 * one: for tests that build collisions; never for keys off the wire. */
struct strmap *strmap_new_seeded(size_t value_size, const uint64_t seed[2]);
void strmap_free(struct strmap *m);

/* The value of @key, or NULL. */
void *strmap_get(const struct strmap *m, const void *key, size_t len);
/* The value of @key, inserted (zeroed) if absent; *@created says which.
 * NULL on allocation failure. */
void *strmap_put(struct strmap *m, const void *key, size_t len, bool *created);
/* Removes @key; false if it was not there. The last entry takes its
 * place in the iteration order. O(1) expected (the probe run after its
 * slot shifts back: no tombstones, no rebuild). */
bool strmap_del(struct strmap *m, const void *key, size_t len);
size_t strmap_count(const struct strmap *m);
void strmap_clear(struct strmap *m);
/* strmap_put into a map of at most @max keys: a new key finding it full
 * first forgets all (each is learned again when next put), so memory
 * stays bounded and no lookup ever needs a slow eviction. */
void *strmap_put_bounded(struct strmap *m, const void *key, size_t len,
			 size_t max, bool *created);

/* Iteration in insertion order, but for deletions (see strmap_del):
 * for (i = 0; strmap_at(m, i, ...); i++). */
bool strmap_at(const struct strmap *m, size_t i, const char **key,
	       size_t *len, void **value);

#endif
