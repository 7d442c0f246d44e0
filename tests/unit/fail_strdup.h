/* SPDX-License-Identifier: MIT */
/*
 * Allocation failure on demand, for the unit tests that link with
 * -Wl,--wrap=strdup (UNIT_WRAP_STRDUP in the Makefile): every strdup of
 * the library then comes here, and fails while fail_strdup_left is above
 * 0 (counting down), as it does when memory runs out. Include it in one
 * file of the test only: it defines the wrapper.
 */
#ifndef TW_FAIL_STRDUP_H
#define TW_FAIL_STRDUP_H

#include <errno.h>
#include <stddef.h>

static int fail_strdup_left;

char *__real_strdup(const char *s);
char *__wrap_strdup(const char *s);

char *__wrap_strdup(const char *s)
{
	if (fail_strdup_left > 0) {
		fail_strdup_left--;
		errno = ENOMEM;
		return NULL;
	}
	return __real_strdup(s);
}

#endif
