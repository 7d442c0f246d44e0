// SPDX-License-Identifier: MIT
#include <stdio.h>

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

int main(void)
{
	RUN_TEST(test_put_get_and_insertion_order);
	RUN_TEST(test_grows_past_many_keys_and_clears);
	return CHECK_EXIT_CODE();
}
