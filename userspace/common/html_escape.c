// SPDX-License-Identifier: MIT
#include <string.h>

#include "html_escape.h"

/* The escape of @c into @buf (TW_HTML_ESCAPE_MAX + 1 bytes); its length. */
static size_t escape_byte(unsigned char c, char *buf)
{
	static const char hex[] = "0123456789abcdef";
	const char *ent = NULL;

	switch (c) {
	case '&': ent = "&amp;"; break;
	case '<': ent = "&lt;"; break;
	case '>': ent = "&gt;"; break;
	case '"': ent = "&quot;"; break;
	case '\'': ent = "&#39;"; break;
	default: break;
	}
	if (ent) {
		strcpy(buf, ent);
		return strlen(ent);
	}
	if (c >= 0x20 && c < 0x7f && c != '\\') {
		buf[0] = (char)c;
		buf[1] = '\0';
		return 1;
	}
	buf[0] = '\\';
	buf[1] = 'x';
	buf[2] = hex[c >> 4];
	buf[3] = hex[c & 15];
	buf[4] = '\0';
	return 4;
}

size_t tw_html_escape(const char *s, size_t n, char *out, size_t outlen)
{
	char buf[TW_HTML_ESCAPE_MAX + 1];
	size_t i, off = 0;

	if (!outlen)
		return 0;
	for (i = 0; i < n; i++) {
		size_t k = escape_byte((unsigned char)s[i], buf);

		if (off + k + 1 > outlen)
			break;
		memcpy(out + off, buf, k);
		off += k;
	}
	out[off] = '\0';
	return i;
}

int tw_html_write(FILE *f, const char *s, size_t n)
{
	char buf[TW_HTML_ESCAPE_MAX + 1];
	size_t i;

	for (i = 0; i < n; i++) {
		size_t k = escape_byte((unsigned char)s[i], buf);

		if (fwrite(buf, 1, k, f) != k)
			return -1;
	}
	return 0;
}
