// SPDX-License-Identifier: MIT
/*
 * live_record_decode() on arbitrary bytes: a record the consumer refuses is
 * fine; one it accepts must describe only bytes inside the record.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "live/live.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tw_segment seg;
	struct live_meta meta;
	static volatile uint8_t sink __attribute__((unused));
	uint8_t *copy, sum = 0;
	uint32_t i;

	/* an exact-size heap copy, so ASan sees any read past the record */
	copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	if (live_record_decode(copy, size, 1700000000000000000LL, &seg, &meta) == 0) {
		if (seg.len > seg.wire_len)
			abort();
		if (seg.len && (seg.payload < copy || seg.payload + seg.len > copy + size))
			abort();
		for (i = 0; i < seg.len; i++)
			sum ^= seg.payload[i];
	}
	free(copy);
	sink = sum; /* keeps the reads */
	return 0;
}
