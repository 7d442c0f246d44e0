/* SPDX-License-Identifier: MIT */
/*
 * UTF-8 validation shared by the text writers (JSON, Prometheus): bytes off
 * the wire reach an output format that must be valid UTF-8, and each writer
 * replaces what this rejects by U+FFFD in its own spelling.
 */
#ifndef TW_UTF8_H
#define TW_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* U+FFFD as UTF-8 bytes, for writers that emit it raw. */
#define TW_UTF8_REPLACEMENT "\xef\xbf\xbd"

/*
 * Length of the valid UTF-8 sequence at @s (at most @n bytes, @n > 0), or
 * 0 when it is not one: a stray or cut sequence, an overlong form, a
 * surrogate or a code point beyond U+10FFFF. A caller replaces one byte
 * and tries again at the next, so each bad byte becomes one U+FFFD.
 */
static inline size_t tw_utf8_seq_len(const unsigned char *s, size_t n)
{
	size_t len, i;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* overlong forms, surrogates, beyond U+10FFFF */
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

#endif
