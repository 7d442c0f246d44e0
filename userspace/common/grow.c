// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"

int tw_grow(void *bufp, size_t *cap, size_t size, size_t len, size_t more,
	    size_t first, size_t max)
{
	size_t limit = SIZE_MAX / size, want;
	void *old, *p;

	if (max < limit)
		limit = max;
	if (len > limit || more > limit - len)
		return -E2BIG;
	if (len + more <= *cap)
		return 0;
	want = *cap ? *cap : first;
	if (!want)
		want = 1;   /* doubling 0 would never get there */
	/* bounded: want at least doubles until it is limit, which holds
	 * len + more */
	while (want < len + more)
		want = want > limit / 2 ? limit : want * 2;
	if (want > limit)
		want = limit;
	/* the caller's pointer is copied, not written through a void **:
	 * its type is uint8_t * or struct x *, not void * */
	memcpy(&old, bufp, sizeof(old));
	p = realloc(old, want * size);
	if (!p)
		return -ENOMEM;
	memcpy(bufp, &p, sizeof(p));
	*cap = want;
	return 0;
}
