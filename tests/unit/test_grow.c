// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "common/grow.h"

/* A realloc that cannot be met returns NULL here, as it does without
 * ASan, instead of ending the test (the failure path is under test). */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "allocator_may_return_null=1";
}

struct triple {
	uint64_t a, b, c;
};

static void test_an_empty_array_starts_at_first_and_doubles(void)
{
	uint8_t *p = NULL;
	size_t cap = 0;

	CHECK_INT(tw_grow(&p, &cap, 1, 0, 1, 64, TW_GROW_NO_CAP), 0);
	CHECK(p != NULL);
	CHECK_INT(cap, 64);
	memset(p, 'a', 64);
	CHECK_INT(tw_grow(&p, &cap, 1, 64, 1, 64, TW_GROW_NO_CAP), 0);
	CHECK_INT(cap, 128);
	CHECK_INT(p[63], 'a');            /* what was there stays */
	CHECK_INT(tw_grow(&p, &cap, 1, 100, 400, 64, TW_GROW_NO_CAP), 0);
	CHECK_INT(cap, 512);              /* 500 wanted: 256, then 512 */
	memset(p, 'b', 500);
	free(p);
}

static void test_an_array_with_room_is_left_as_it_is(void)
{
	uint8_t *p = NULL, *before;
	size_t cap = 0;

	CHECK_INT(tw_grow(&p, &cap, 1, 0, 10, 64, TW_GROW_NO_CAP), 0);
	before = p;
	CHECK_INT(tw_grow(&p, &cap, 1, 10, 54, 64, TW_GROW_NO_CAP), 0);
	CHECK(p == before);
	CHECK_INT(cap, 64);
	/* nothing more asked for: nothing made */
	free(p);
	p = NULL;
	cap = 0;
	CHECK_INT(tw_grow(&p, &cap, 1, 0, 0, 64, TW_GROW_NO_CAP), 0);
	CHECK(p == NULL);
	CHECK_INT(cap, 0);
}

static void test_elements_are_counted_in_their_size(void)
{
	struct triple *v = NULL;
	size_t cap = 0, i;

	for (i = 0; i < 40; i++) {
		CHECK_INT(tw_grow(&v, &cap, sizeof(*v), i, 1, 16, TW_GROW_NO_CAP), 0);
		v[i] = (struct triple){ i, i, i };   /* ASan: inside */
	}
	CHECK_INT(cap, 64);
	for (i = 0; i < 40; i++)
		CHECK_INT(v[i].b, i);
	free(v);
}

/* The capacity doubles up to the cap, then stops at it exactly; a
 * length past the cap is refused and changes nothing. */
static void test_growth_stops_at_the_cap(void)
{
	uint8_t *p = NULL, *before;
	size_t cap = 0;

	CHECK_INT(tw_grow(&p, &cap, 1, 0, 4000, 4096, 5000), 0);
	CHECK_INT(cap, 4096);
	CHECK_INT(tw_grow(&p, &cap, 1, 4000, 97, 4096, 5000), 0);
	CHECK_INT(cap, 5000);
	memset(p, 'c', 5000);
	before = p;
	CHECK_INT(tw_grow(&p, &cap, 1, 4000, 1001, 4096, 5000), -E2BIG);
	CHECK(p == before);
	CHECK_INT(cap, 5000);
	free(p);
	/* a first capacity above the cap is cut to it */
	p = NULL;
	cap = 0;
	CHECK_INT(tw_grow(&p, &cap, 1, 0, 10, 4096, 100), 0);
	CHECK_INT(cap, 100);
	free(p);
}

/* Counts whose sum or byte size a size_t cannot hold are refused before
 * anything is allocated. */
static void test_counts_that_overflow_are_refused(void)
{
	struct triple *v = NULL;
	uint8_t *p = NULL;
	size_t cap = 0;

	CHECK_INT(tw_grow(&p, &cap, 1, SIZE_MAX - 1, 2, 64, TW_GROW_NO_CAP), -E2BIG);
	CHECK_INT(tw_grow(&p, &cap, 1, 1, SIZE_MAX, 64, TW_GROW_NO_CAP), -E2BIG);
	CHECK_INT(tw_grow(&v, &cap, sizeof(*v), 0, SIZE_MAX / sizeof(*v) + 1, 16,
			  TW_GROW_NO_CAP), -E2BIG);
	CHECK(p == NULL && v == NULL);
	CHECK_INT(cap, 0);
}

/* realloc's failure: -ENOMEM, the array and what it holds as they were. */
static void test_a_failed_allocation_keeps_the_array(void)
{
	uint8_t *p = NULL, *before;
	size_t cap = 0;

	CHECK_INT(tw_grow(&p, &cap, 1, 0, 64, 64, TW_GROW_NO_CAP), 0);
	memset(p, 'd', 64);
	before = p;
	CHECK_INT(tw_grow(&p, &cap, 1, 64, (size_t)1 << 60, 64, TW_GROW_NO_CAP),
		  -ENOMEM);
	CHECK(p == before);
	CHECK_INT(cap, 64);
	CHECK_INT(p[0], 'd');
	CHECK_INT(p[63], 'd');
	free(p);
}

/* Near the limit the capacity goes to the limit, not past it. */
static void test_doubling_past_the_limit_stops_at_it(void)
{
	uint8_t *p = NULL;
	size_t cap = 0;

	CHECK_INT(tw_grow(&p, &cap, 1, 0, 64, 64, 100), 0);
	CHECK_INT(tw_grow(&p, &cap, 1, 64, 26, 64, 100), 0);
	CHECK_INT(cap, 100);
	free(p);
	p = NULL;
	cap = 0;
	/* a first capacity of 0 still grows */
	CHECK_INT(tw_grow(&p, &cap, 1, 0, 3, 0, TW_GROW_NO_CAP), 0);
	CHECK_INT(cap, 4);
	free(p);
}

int main(void)
{
	RUN_TEST(test_an_empty_array_starts_at_first_and_doubles);
	RUN_TEST(test_an_array_with_room_is_left_as_it_is);
	RUN_TEST(test_elements_are_counted_in_their_size);
	RUN_TEST(test_growth_stops_at_the_cap);
	RUN_TEST(test_counts_that_overflow_are_refused);
	RUN_TEST(test_a_failed_allocation_keeps_the_array);
	RUN_TEST(test_doubling_past_the_limit_stops_at_it);
	return CHECK_EXIT_CODE();
}
