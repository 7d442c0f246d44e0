/* SPDX-License-Identifier: MIT */
#ifndef TW_DECIMAL_H
#define TW_DECIMAL_H

#include <stdint.h>

/* Max digits of a uint64_t ("18446744073709551615"). */
#define TW_DEC_MAX 20

/*
 * Decimal digits of @v, as "%" PRIu64 writes them, placed just before @end
 * (which has TW_DEC_MAX bytes before it); returns where they start. For
 * writers that format numbers on every event without printf.
 */
static inline char *tw_dec_before(uint64_t v, char *end)
{
	do {
		*--end = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return end;
}

#endif
