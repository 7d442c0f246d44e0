// SPDX-License-Identifier: MIT
#include <stdio.h>

#include "common/siphash.h"
#include "check.h"
#include "common/strmap.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void test_put_get_and_insertion_order(void)
{
	struct strmap *m = strmap_new(sizeof(int));
	bool created;
	int *v;
	const char *key;
	size_t len;
	void *val;

	v = strmap_put(m, "b", 1, &created);
	CHECK(v && created);
	*v = 2;
	v = strmap_put(m, "a\0x", 3, &created);   /* keys may hold NUL */
	CHECK(v && created);
	*v = 1;
	v = strmap_put(m, "b", 1, &created);
	CHECK(v && !created);
	CHECK_INT(*v, 2);
	CHECK(strmap_get(m, "a", 1) == NULL);
	CHECK_INT(*(int *)strmap_get(m, "a\0x", 3), 1);
	CHECK_INT(strmap_count(m), 2);
	CHECK(strmap_at(m, 0, &key, &len, &val));
	CHECK_STR(key, "b");
	CHECK(strmap_at(m, 1, &key, &len, &val));
	CHECK_INT(len, 3);
	CHECK(!strmap_at(m, 2, &key, &len, &val));
	strmap_free(m);
}

static void test_grows_past_many_keys_and_clears(void)
{
	struct strmap *m = strmap_new(sizeof(int));
	char key[16];
	int i, misses = 0;

	for (i = 0; i < 20000; i++) {
		int n = snprintf(key, sizeof(key), "k%d", i);
		int *v = strmap_put(m, key, (size_t)n, NULL);

		if (v)
			*v = i;
	}
	for (i = 0; i < 20000; i++) {
		int n = snprintf(key, sizeof(key), "k%d", i);
		int *v = strmap_get(m, key, (size_t)n);

		misses += !v || *v != i;
	}
	CHECK_INT(misses, 0);
	CHECK_INT(strmap_count(m), 20000);
	strmap_clear(m);
	CHECK_INT(strmap_count(m), 0);
	CHECK(strmap_get(m, "k1", 2) == NULL);
	CHECK(strmap_put(m, "k1", 2, NULL) != NULL);
	strmap_free(m);
}

/* The paper's SipHash-2-4 vectors (key 00..0f, message 00..len-1) check
 * the word loop and every tail length; 1-3 is the same code with fewer
 * rounds. */
static void test_siphash_matches_the_reference_vectors(void)
{
	static const uint64_t want[16] = {
		0x726fdb47dd0e0e31ULL, 0x74f839c593dc67fdULL, 0x0d6c8009d9a94f5aULL,
		0x85676696d7fb7e2dULL, 0xcf2794e0277187b7ULL, 0x18765564cd99a68dULL,
		0xcbc9466e58fee3ceULL, 0xab0200f58b01d137ULL, 0x93f5f5799a932462ULL,
		0x9e0082df0ba9e4b0ULL, 0x7a5dbbc594ddb9f3ULL, 0xf4b32f46226bada7ULL,
		0x751e8fbc860ee5fbULL, 0x14ea5627c0843d90ULL, 0xf723ca908e7af2eeULL,
		0xa129ca6149be45e5ULL,
	};
	const uint64_t key[2] = { 0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL };
	uint8_t msg[16];
	size_t i;

	for (i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)i;
	for (i = 0; i < 16; i++)
		CHECK(tw_siphash(key, msg, i, 2, 4) == want[i]);
	CHECK(tw_siphash13(key, msg, 15) != tw_siphash(key, msg, 15, 2, 4));
}

/* A deletion keeps the others reachable (a probe chain through the freed
 * slot too: 500 keys in 1,024 slots collide), each once in the
 * iteration. */
static void test_del_keeps_the_rest(void)
{
	struct strmap *m = strmap_new(sizeof(int));
	char key[16];
	const char *k;
	void *val;
	int i, n;

	CHECK(m != NULL);
	CHECK(!strmap_del(m, "x", 1));            /* empty, no index yet */
	for (i = 0; i < 500; i++) {
		n = snprintf(key, sizeof(key), "k%d", i);
		*(int *)strmap_put(m, key, (size_t)n, NULL) = i;
	}
	for (i = 0; i < 500; i += 2) {
		n = snprintf(key, sizeof(key), "k%d", i);
		CHECK(strmap_del(m, key, (size_t)n));
		CHECK(!strmap_del(m, key, (size_t)n));
	}
	CHECK_INT(strmap_count(m), 250);
	for (i = 0; i < 500; i++) {
		int *v;

		n = snprintf(key, sizeof(key), "k%d", i);
		v = strmap_get(m, key, (size_t)n);
		if (i % 2) {
			CHECK(v && *v == i);
		} else {
			CHECK(v == NULL);
		}
	}
	for (i = 0, n = 0; strmap_at(m, (size_t)i, &k, NULL, &val); i++)
		n += *(int *)val % 2 && strmap_get(m, k, strlen(k)) == val;
	CHECK_INT(i, 250);
	CHECK_INT(n, 250);                        /* each odd key, once */
	CHECK(strmap_put(m, "k0", 2, NULL) != NULL);  /* again, at the end */
	CHECK(strmap_at(m, 250, &k, NULL, NULL));
	CHECK_STR(k, "k0");
	strmap_free(m);
}

/* The keys of strmap_at(@m, 0...), joined by commas, into @out. */
static const char *keys_in_order(const struct strmap *m, char *out, size_t cap)
{
	const char *k;
	size_t i, off = 0;

	out[0] = '\0';
	for (i = 0; strmap_at(m, i, &k, NULL, NULL) && off < cap; i++)
		off += (size_t)snprintf(out + off, cap - off, "%s%s", i ? "," : "", k);
	return out;
}

/* A deletion moves the last entry into the hole (nothing else moves: the
 * array stays dense for strmap_at); the last one's own deletion moves
 * nothing. */
static void test_del_moves_the_last_into_its_place(void)
{
	struct strmap *m = strmap_new(sizeof(int));
	const char *keys[] = { "a", "b", "c", "d" };
	char order[64];
	size_t i;

	CHECK(m != NULL);
	if (!m)
		return;
	for (i = 0; i < N(keys); i++)
		CHECK(strmap_put(m, keys[i], 1, NULL) != NULL);
	CHECK(strmap_del(m, "b", 1));
	CHECK_STR(keys_in_order(m, order, sizeof(order)), "a,d,c");
	CHECK(strmap_del(m, "d", 1));
	CHECK_STR(keys_in_order(m, order, sizeof(order)), "a,c");
	CHECK(strmap_del(m, "c", 1));
	CHECK_STR(keys_in_order(m, order, sizeof(order)), "a");
	CHECK(strmap_get(m, "a", 1) != NULL);
	CHECK_INT(strmap_count(m), 1);
	strmap_free(m);
}

/* Keys with known home slots: a map with a known seed, and the hash
 * strmap.c uses (SipHash-1-3 of the key), in its first table (64 slots,
 * for up to 31 keys). */
#define SLOTS 64
static const uint64_t test_seed[2] = { 0x0123456789abcdefULL, 0xfedcba9876543210ULL };

/* A key "hN" (into @buf) whose home slot is @home, N past *@next. */
static const char *key_at_home(size_t home, int *next, char *buf, size_t cap)
{
	int n;

	for (;; (*next)++) {
		n = snprintf(buf, cap, "h%d", *next);
		if ((tw_siphash13(test_seed, buf, (size_t)n) & (SLOTS - 1)) == home) {
			(*next)++;
			return buf;
		}
	}
}

/* How many of @keys are not as @present says: found with their value
 * (their index) when present, not found otherwise. */
static int misplaced(const struct strmap *m, char keys[][16], const bool *present,
		     size_t n)
{
	int bad = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		const int *v = strmap_get(m, keys[i], strlen(keys[i]));

		bad += present[i] ? !v || *v != (int)i : v != NULL;
	}
	return bad;
}

/*
 * Probe chains across deletions, in the first table: three keys at home
 * 62 (slots 62, 63, then 0: the run wraps), one at 63 (slot 1), one at 0
 * (slot 2); two at 10 around one at 11 (slots 10, 11, 12). Each deletion
 * shifts back only what its probe would otherwise lose: every other key
 * is still found, each deleted one is not, then all go one by one, and
 * the keys go in again.
 */
static void test_del_keeps_probe_chains_across_the_wrap(void)
{
	static const size_t homes[] = { 62, 62, 62, 63, 0, 10, 11, 10 };
	/* the run's head, its middle across the wrap, the one that stays
	 * (home 11, in slot 11), then the rest */
	static const size_t order[] = { 0, 2, 5, 1, 3, 4, 6, 7 };
	struct strmap *m = strmap_new_seeded(sizeof(int), test_seed);
	char keys[N(homes)][16];
	bool present[N(homes)];
	int next = 0;
	size_t i;

	CHECK(m != NULL);
	if (!m)
		return;
	for (i = 0; i < N(homes); i++) {
		key_at_home(homes[i], &next, keys[i], sizeof(keys[i]));
		*(int *)strmap_put(m, keys[i], strlen(keys[i]), NULL) = (int)i;
		present[i] = true;
	}
	CHECK_INT(misplaced(m, keys, present, N(homes)), 0);
	for (i = 0; i < N(order); i++) {
		CHECK(strmap_del(m, keys[order[i]], strlen(keys[order[i]])));
		present[order[i]] = false;
		CHECK_INT(misplaced(m, keys, present, N(homes)), 0);
		CHECK_INT(strmap_count(m), N(homes) - i - 1);
	}
	for (i = 0; i < N(homes); i++) {
		*(int *)strmap_put(m, keys[i], strlen(keys[i]), NULL) = (int)i;
		present[i] = true;
	}
	CHECK_INT(misplaced(m, keys, present, N(homes)), 0);
	strmap_free(m);
}

/* A key that flaps in and out (a followed server that is forgotten and
 * learned again on every handshake), among 20 that stay, all sharing two
 * home slots: 1,000 rounds later every key is where it should be. */
static void test_del_and_put_again_keep_a_crowded_run(void)
{
	struct strmap *m = strmap_new_seeded(sizeof(int), test_seed);
	char keys[21][16];
	bool present[21];
	int next = 0, bad = 0, r;
	size_t i;

	CHECK(m != NULL);
	if (!m)
		return;
	for (i = 0; i < 21; i++) {
		key_at_home(i % 2 ? 40 : 41, &next, keys[i], sizeof(keys[i]));
		*(int *)strmap_put(m, keys[i], strlen(keys[i]), NULL) = (int)i;
		present[i] = true;
	}
	for (r = 0; r < 1000; r++) {
		i = (size_t)r % 21;              /* each in turn flaps */
		CHECK(strmap_del(m, keys[i], strlen(keys[i])));
		present[i] = false;
		bad += misplaced(m, keys, present, 21);
		*(int *)strmap_put(m, keys[i], strlen(keys[i]), NULL) = (int)i;
		present[i] = true;
		bad += misplaced(m, keys, present, 21);
	}
	CHECK_INT(bad, 0);
	CHECK_INT(strmap_count(m), 21);
	strmap_free(m);
}

/* A bounded map: a key already there never clears it; a new one finding
 * it full forgets all first. */
static void test_put_bounded_forgets_all_when_full(void)
{
	struct strmap *m = strmap_new(sizeof(int));
	bool created;
	int *v;

	CHECK(m != NULL);
	if (!m)
		return;
	CHECK(strmap_put_bounded(m, "a", 1, 2, &created) != NULL);
	CHECK(created);
	v = strmap_put_bounded(m, "b", 1, 2, &created);
	CHECK(v != NULL && created);
	if (v)
		*v = 7;
	v = strmap_put_bounded(m, "b", 1, 2, &created);   /* full, but known */
	CHECK(v != NULL && !created && *v == 7);
	CHECK_INT(strmap_count(m), 2);
	CHECK(strmap_put_bounded(m, "c", 1, 2, &created) != NULL);
	CHECK(created);
	CHECK_INT(strmap_count(m), 1);                     /* a and b forgotten */
	CHECK(strmap_get(m, "a", 1) == NULL);
	CHECK(strmap_get(m, "c", 1) != NULL);
	strmap_free(m);
}

int main(void)
{
	RUN_TEST(test_put_get_and_insertion_order);
	RUN_TEST(test_siphash_matches_the_reference_vectors);
	RUN_TEST(test_grows_past_many_keys_and_clears);
	RUN_TEST(test_del_keeps_the_rest);
	RUN_TEST(test_del_moves_the_last_into_its_place);
	RUN_TEST(test_del_keeps_probe_chains_across_the_wrap);
	RUN_TEST(test_del_and_put_again_keep_a_crowded_run);
	RUN_TEST(test_put_bounded_forgets_all_when_full);
	return CHECK_EXIT_CODE();
}
