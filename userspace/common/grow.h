/* SPDX-License-Identifier: MIT */
/* Arrays that grow by doubling: one place for the arithmetic and its
 * overflow checks. */
#ifndef TW_GROW_H
#define TW_GROW_H

#include <stddef.h>
#include <stdint.h>

/* @max of tw_grow for an array with no cap of its own. */
#define TW_GROW_NO_CAP SIZE_MAX

/*
 * Makes room in the array at *@bufp (a pointer to any object pointer:
 * uint8_t **, struct x **), of *@cap elements of @size bytes (@size > 0)
 * with @len in use, for @more elements after them. When it has too few,
 * its capacity becomes @first (when it has none) doubled until it holds
 * @len + @more, but never more than @max elements, nor more than a size_t
 * counts in bytes (@max TW_GROW_NO_CAP: only that). 0, or -errno with
 * *@bufp and *@cap as they were: -E2BIG when @len + @more is above @max
 * (or overflows), -ENOMEM when realloc fails.
 */
int tw_grow(void *bufp, size_t *cap, size_t size, size_t len, size_t more,
	    size_t first, size_t max);

#endif
