/* SPDX-License-Identifier: MIT */
/*
 * The unit test harness: a test is a function; each prints one TAP-style
 * line ("ok - name" / "not ok - name"), and the first failed check of a
 * test says where and why. tests/run.sh adds the lines up.
 */
#ifndef TW_CHECK_H
#define TW_CHECK_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int check_failed_in_test;
static int check_tests_failed;

#define CHECK(cond) do {                                                    \
	if (!(cond)) {                                                      \
		printf("#   %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
		check_failed_in_test = 1;                                   \
	}                                                                   \
} while (0)

#define CHECK_INT(a, b) do {                                                \
	long long _a = (long long)(a), _b = (long long)(b);                 \
	if (_a != _b) {                                                     \
		printf("#   %s:%d: %s == %lld, expected %lld\n", __FILE__,     \
		       __LINE__, #a, _a, _b);                               \
		check_failed_in_test = 1;                                   \
	}                                                                   \
} while (0)

#define CHECK_STR(a, b) do {                                                \
	const char *_a = (a), *_b = (b);                                    \
	if (!_a || !_b || strcmp(_a, _b) != 0) {                            \
		printf("#   %s:%d: %s == \"%s\", expected \"%s\"\n", __FILE__, \
		       __LINE__, #a, _a ? _a : "(null)", _b ? _b : "(null)"); \
		check_failed_in_test = 1;                                   \
	}                                                                   \
} while (0)

#define RUN_TEST(fn) do {                                                   \
	check_failed_in_test = 0;                                           \
	fn();                                                               \
	printf("%s - %s\n", check_failed_in_test ? "not ok" : "ok", #fn);  \
	check_tests_failed += check_failed_in_test;                         \
} while (0)

#define CHECK_EXIT_CODE() (check_tests_failed ? 1 : 0)

#endif
