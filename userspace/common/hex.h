/* SPDX-License-Identifier: MIT */
#ifndef TW_HEX_H
#define TW_HEX_H

#include <stddef.h>
#include <stdint.h>

/* Lowercase hex of @len bytes into @out, which holds 2 * len + 1 bytes. */
static inline char *tw_hex(const uint8_t *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0xf];
	}
	out[2 * len] = '\0';
	return out;
}

#endif
