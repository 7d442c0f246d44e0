// SPDX-License-Identifier: MIT
/*
 * Any bytes through tw_html_escape() (as the HTML report does with SNI,
 * subjects and JA4s off the wire). Properties:
 *   - the output is printable ASCII with no raw '<', '>', '"' or '\'', and
 *     every '&' starts one of &amp; &lt; &gt; &quot; &#39;;
 *   - decoding it (those entities and \xHH) gives the input back;
 *   - tw_html_write() writes the same bytes;
 *   - with a small output buffer, what was consumed round-trips too.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/html_escape.h"

static const char *const entities[][2] = {
	{ "&amp;", "&" }, { "&lt;", "<" }, { "&gt;", ">" },
	{ "&quot;", "\"" }, { "&#39;", "'" },
};

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Decodes @s into @out; the decoded length, or aborts on a malformed escape. */
static size_t decode(const char *s, char *out)
{
	size_t i = 0, o = 0, e;

	while (s[i]) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c >= 0x7f || c == '<' || c == '>' || c == '"' || c == '\'')
			abort();
		if (c == '&') {
			for (e = 0; e < sizeof(entities) / sizeof(entities[0]); e++)
				if (!strncmp(s + i, entities[e][0], strlen(entities[e][0])))
					break;
			if (e == sizeof(entities) / sizeof(entities[0]))
				abort();
			out[o++] = entities[e][1][0];
			i += strlen(entities[e][0]);
		} else if (c == '\\') {
			int hi, lo;

			if (s[i + 1] != 'x')
				abort();
			hi = hexval(s[i + 2]);
			lo = hi < 0 ? -1 : hexval(s[i + 3]);
			if (lo < 0)
				abort();
			out[o++] = (char)(hi << 4 | lo);
			i += 4;
		} else {
			out[o++] = (char)c;
			i++;
		}
	}
	return o;
}

static void check_written(const char *in, size_t n, const char *want)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		abort();
	if (tw_html_write(f, in, n) != 0 || fclose(f) != 0)
		abort();
	if (len != strlen(want) || memcmp(buf, want, len) != 0)
		abort();
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t cap = TW_HTML_ESCAPE_MAX * size + 1, small, used;
	char *out = malloc(cap), *back = malloc(size + 1);

	if (!out || !back)
		abort();
	if (tw_html_escape((const char *)data, size, out, cap) != size)
		abort();
	if (decode(out, back) != size || memcmp(back, data, size) != 0)
		abort();
	check_written((const char *)data, size, out);
	/* A cut output holds whole escapes of a prefix only. */
	small = size ? data[0] % 16 + 1 : 1;
	used = tw_html_escape((const char *)data, size, out, small);
	if (strlen(out) >= small || decode(out, back) != used ||
	    memcmp(back, data, used) != 0)
		abort();
	free(out);
	free(back);
	return 0;
}
