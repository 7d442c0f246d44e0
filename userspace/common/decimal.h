/* SPDX-License-Identifier: MIT */
#ifndef TW_DECIMAL_H
#define TW_DECIMAL_H

#include <stdbool.h>
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

/*
 * The decimal digits at the start of @s as a number in *@v, *@end just
 * after them. Digits only: no blank, sign or base prefix, unlike strtoul,
 * so "+5", " 5" and "0x10" are no numbers. False when @s does not start
 * with a digit or the value overflows a uint64_t.
 */
static inline bool tw_dec_parse(const char *s, const char **end, uint64_t *v)
{
	const char *p = s;
	uint64_t n = 0;

	for (; *p >= '0' && *p <= '9'; p++) {
		if (n > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			return false;
		n = n * 10 + (uint64_t)(*p - '0');
	}
	*end = p;
	*v = n;
	return p != s;
}

#endif
