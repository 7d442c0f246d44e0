// SPDX-License-Identifier: MIT
/*
 * The capture clock's guard against a record dated far ahead: which
 * records wait for the next one, and at which time each is read.
 */
#include <stdbool.h>
#include <stdint.h>

#include "check.h"
#include "capture/clock_guard.h"

#define S(x) ((uint64_t)(x) * 1000000ull)
#define T0 S(1795430760)           /* 2026-11-23T10:46:00Z */
#define TEN_YEARS S(10ull * 365 * 86400)

static void test_small_steps_and_steps_back_are_read_at_their_time(void)
{
	struct clock_guard g = { 0 };

	CHECK(!clock_guard_hold(&g, T0));           /* the first sets the clock */
	CHECK(!clock_guard_hold(&g, T0 + CLOCK_GUARD_JUMP_US));
	CHECK(!clock_guard_hold(&g, T0 - S(3600)));  /* back: no harm to a clock
						     * that only moves forward */
	CHECK_INT(g.now_us, T0 + CLOCK_GUARD_JUMP_US);
	CHECK_INT(g.outliers, 0);
}

/* A lone record ten years ahead, the next one back at the clock: read at
 * the clock's time, counted; the clock stays. */
static void test_lone_record_far_ahead_is_read_at_the_clock(void)
{
	struct clock_guard g = { 0 };

	CHECK(!clock_guard_hold(&g, T0));
	CHECK(clock_guard_hold(&g, T0 + S(1) + TEN_YEARS));
	CHECK_INT(clock_guard_release(&g, T0 + S(2), false), T0);
	CHECK_INT(g.outliers, 1);
	CHECK(!g.holding);
	CHECK(!clock_guard_hold(&g, T0 + S(2)));
	CHECK_INT(g.now_us, T0 + S(2));
}

/* A jump the next record agrees with (a rotated file, a quiet hour) is
 * taken: the held record at its own time, the clock with it. */
static void test_jump_confirmed_by_the_next_record_is_taken(void)
{
	struct clock_guard g = { 0 };

	CHECK(!clock_guard_hold(&g, T0));
	CHECK(clock_guard_hold(&g, T0 + S(3600)));
	/* the next one may be a little earlier than the held one */
	CHECK_INT(clock_guard_release(&g, T0 + S(3600) - CLOCK_GUARD_JUMP_US, false),
		  T0 + S(3600));
	CHECK_INT(g.now_us, T0 + S(3600));
	CHECK_INT(g.outliers, 0);
}

/* The next record one microsecond further back than the bound leaves the
 * held one alone: an outlier. */
static void test_next_record_past_the_bound_makes_an_outlier(void)
{
	struct clock_guard g = { 0 };

	CHECK(!clock_guard_hold(&g, T0));
	CHECK(clock_guard_hold(&g, T0 + S(3600)));
	CHECK_INT(clock_guard_release(&g, T0 + S(3600) - CLOCK_GUARD_JUMP_US - 1, false),
		  T0);
	CHECK_INT(g.outliers, 1);
}

/* The file's last record far ahead has nothing to confirm it. */
static void test_last_record_far_ahead_is_an_outlier(void)
{
	struct clock_guard g = { 0 };

	CHECK(!clock_guard_hold(&g, T0));
	CHECK(!clock_guard_hold(&g, T0 + CLOCK_GUARD_JUMP_US));  /* at the bound */
	CHECK(clock_guard_hold(&g, T0 + CLOCK_GUARD_JUMP_US * 2 + 1));
	CHECK_INT(clock_guard_release(&g, 0, true), T0 + CLOCK_GUARD_JUMP_US);
	CHECK_INT(g.outliers, 1);
}

int main(void)
{
	RUN_TEST(test_small_steps_and_steps_back_are_read_at_their_time);
	RUN_TEST(test_lone_record_far_ahead_is_read_at_the_clock);
	RUN_TEST(test_jump_confirmed_by_the_next_record_is_taken);
	RUN_TEST(test_next_record_past_the_bound_makes_an_outlier);
	RUN_TEST(test_last_record_far_ahead_is_an_outlier);
	return CHECK_EXIT_CODE();
}
