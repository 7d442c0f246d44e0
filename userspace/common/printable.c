// SPDX-License-Identifier: MIT
#include <stdio.h>
#include <string.h>

#include "printable.h"

char *tw_printable(const char *s, size_t n, char *out, size_t outlen)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t o = 0, i;

	if (outlen == 0)
		return out;
	for (i = 0; i < n; i++) {
		char piece[5];
		size_t plen;

		if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\') {
			piece[0] = (char)p[i];
			plen = 1;
		} else {
			snprintf(piece, sizeof(piece), "\\x%02x", p[i]);
			plen = 4;
		}
		if (o + plen + 4 > outlen) {  /* room for "..." and NUL */
			memcpy(out + o, "...", outlen - o > 3 ? 3 : outlen - o - 1);
			o += outlen - o > 3 ? 3 : outlen - o - 1;
			break;
		}
		memcpy(out + o, piece, plen);
		o += plen;
	}
	out[o] = '\0';
	return out;
}
