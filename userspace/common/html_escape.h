/* SPDX-License-Identifier: MIT */
#ifndef TW_HTML_ESCAPE_H
#define TW_HTML_ESCAPE_H

#include <stddef.h>
#include <stdio.h>

/*
 * Wire strings (SNI, subjects, JA4, alert names) into HTML text or a
 * quoted attribute value. Attacker-controlled bytes never reach the page
 * raw: the output holds only printable ASCII; '&' '<' '>' '"' '\'' become
 * &amp; &lt; &gt; &quot; &#39;, and backslash, control bytes, DEL and every
 * byte >= 0x80 become the four characters \xHH (as tw_printable shows them
 * on a terminal). So the output has no raw '<', every '&' starts one of
 * those five entities, and the escaping is reversible (the fuzz target
 * fuzz_html_escape checks both).
 */

/* The longest output of one input byte ("&quot;"). */
#define TW_HTML_ESCAPE_MAX 6

/* Escapes @n bytes of @s into @out (size @outlen, NUL-terminated). Stops
 * before a byte whose escape does not fit. Returns the bytes of @s
 * consumed (== @n when all fit; @outlen >= TW_HTML_ESCAPE_MAX * n + 1
 * always fits). */
size_t tw_html_escape(const char *s, size_t n, char *out, size_t outlen);

/* Writes @n bytes of @s, escaped, to @f. 0, or -1 on a write error. */
int tw_html_write(FILE *f, const char *s, size_t n);

#endif
