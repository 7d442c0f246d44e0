// SPDX-License-Identifier: MIT
#include <stdio.h>

#include "common/siphash.h"
#include "check.h"
#include "common/strmap.h"

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
 * slot too: 500 keys in 1,024 slots collide) and in insertion order. */
static void test_del_keeps_the_rest(void)
{
	struct strmap *m = strmap_new(sizeof(int));
	char key[16];
	const char *k;
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
	CHECK(strmap_at(m, 0, &k, NULL, NULL));
	CHECK_STR(k, "k1");
	CHECK(strmap_at(m, 249, &k, NULL, NULL));
	CHECK_STR(k, "k499");
	CHECK(strmap_put(m, "k0", 2, NULL) != NULL);  /* again, at the end */
	CHECK(strmap_at(m, 250, &k, NULL, NULL));
	CHECK_STR(k, "k0");
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
	RUN_TEST(test_put_bounded_forgets_all_when_full);
	return CHECK_EXIT_CODE();
}
