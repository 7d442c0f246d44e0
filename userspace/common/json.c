// SPDX-License-Identifier: MIT
#include <stdlib.h>
#include <string.h>

#include "common/decimal.h"
#include "common/grow.h"
#include "common/timefmt.h"
#include "common/utf8.h"
#include "json.h"

void jw_init(struct json_writer *j)
{
	memset(j, 0, sizeof(*j));
}

void jw_free(struct json_writer *j)
{
	free(j->buf);
	jw_init(j);
}

void jw_reset(struct json_writer *j)
{
	j->len = 0;
	j->depth = 0;
	j->need_comma[0] = false;
	j->after_key = false;
	j->failed = false;
	if (j->buf)
		j->buf[0] = '\0';
}

static bool jw_reserve(struct json_writer *j, size_t more)
{
	if (j->failed)
		return false;
	/* +1: the NUL kept after the text */
	if (tw_grow(&j->buf, &j->cap, 1, j->len + 1, more, 512, TW_GROW_NO_CAP) < 0) {
		j->failed = true;
		return false;
	}
	return true;
}

static void jw_raw(struct json_writer *j, const char *s, size_t n)
{
	if (!jw_reserve(j, n))
		return;
	memcpy(j->buf + j->len, s, n);
	j->len += n;
	j->buf[j->len] = '\0';
}

static void jw_char(struct json_writer *j, char c)
{
	jw_raw(j, &c, 1);
}

/* Separates values: a comma unless this is the first in its container or
 * the value of a key just written. */
static void jw_value_prefix(struct json_writer *j)
{
	if (j->after_key) {
		j->after_key = false;
		return;
	}
	if (j->need_comma[j->depth])
		jw_char(j, ',');
	j->need_comma[j->depth] = true;
}

static void jw_open(struct json_writer *j, char c)
{
	jw_value_prefix(j);
	jw_char(j, c);
	if (j->depth < JW_MAX_DEPTH)
		j->depth++;
	else
		j->failed = true;
	j->need_comma[j->depth] = false;
}

static void jw_close(struct json_writer *j, char c)
{
	jw_char(j, c);
	if (j->depth > 0)
		j->depth--;
}

void jw_object_begin(struct json_writer *j) { jw_open(j, '{'); }
void jw_object_end(struct json_writer *j) { jw_close(j, '}'); }
void jw_array_begin(struct json_writer *j) { jw_open(j, '['); }
void jw_array_end(struct json_writer *j) { jw_close(j, ']'); }

static void jw_escape_byte(struct json_writer *j, unsigned char c)
{
	static const char hex[] = "0123456789abcdef";
	char esc[7] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xf], 0 };

	switch (c) {
	case '"':  jw_raw(j, "\\\"", 2); return;
	case '\\': jw_raw(j, "\\\\", 2); return;
	case '\n': jw_raw(j, "\\n", 2); return;
	case '\r': jw_raw(j, "\\r", 2); return;
	case '\t': jw_raw(j, "\\t", 2); return;
	case '\b': jw_raw(j, "\\b", 2); return;
	case '\f': jw_raw(j, "\\f", 2); return;
	}
	jw_raw(j, esc, 6);
}

/* Printable ASCII that JSON takes as it is: 0x20-0x7e but '"' and '\\'.
 * A table, as every byte of every string is looked up. */
static const bool jw_plain[256] = {
	[0x20 ... 0x21] = true,     /* '"' is 0x22 */
	[0x23 ... 0x5b] = true,     /* '\\' is 0x5c */
	[0x5d ... 0x7e] = true,
};

static bool jw_plain_byte(unsigned char c)
{
	return jw_plain[c];
}

/* The length of the longest prefix of @p that goes out unchanged: plain
 * ASCII and valid UTF-8 sequences. Copied in one piece, not per byte. */
static size_t jw_plain_run(const unsigned char *p, size_t n)
{
	size_t i = 0, seq;

	while (i < n) {
		if (jw_plain_byte(p[i])) {
			i++;
			continue;
		}
		if (p[i] < 0x80)
			break;
		seq = tw_utf8_seq_len(p + i, n - i);
		if (seq == 0)
			break;
		i += seq;
	}
	return i;
}

/* '"' @s '"' and @tail, in one piece: @s needs no escaping. */
static void jw_quoted_plain(struct json_writer *j, const char *s, size_t n,
			    const char *tail, size_t tail_len)
{
	char *o;

	if (!jw_reserve(j, n + 2 + tail_len))
		return;
	o = j->buf + j->len;
	*o++ = '"';
	memcpy(o, s, n);
	o += n;
	*o++ = '"';
	memcpy(o, tail, tail_len);
	j->len += n + 2 + tail_len;
	j->buf[j->len] = '\0';
}

void jw_string_n(struct json_writer *j, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, run;

	jw_value_prefix(j);
	if (jw_plain_run(p, n) == n) {   /* most strings: nothing to escape */
		jw_quoted_plain(j, s, n, "", 0);
		return;
	}
	jw_char(j, '"');
	while (i < n) {
		run = jw_plain_run(p + i, n - i);
		if (run) {
			jw_raw(j, s + i, run);
			i += run;
			continue;
		}
		if (p[i] < 0x80)
			jw_escape_byte(j, p[i]);   /* control, quote, backslash, DEL */
		else
			jw_raw(j, "\\ufffd", 6);
		i++;
	}
	jw_char(j, '"');
}

void jw_string(struct json_writer *j, const char *s)
{
	jw_string_n(j, s, strlen(s));
}

void jw_key(struct json_writer *j, const char *key)
{
	size_t n = strlen(key);

	if (jw_plain_run((const unsigned char *)key, n) == n) {
		jw_value_prefix(j);
		jw_quoted_plain(j, key, n, ":", 1);
	} else {
		jw_string_n(j, key, n);
		jw_char(j, ':');
	}
	j->after_key = true;
}

static void jw_number(struct json_writer *j, const char *text)
{
	jw_value_prefix(j);
	jw_raw(j, text, strlen(text));
}

/* Numbers are written often (ports, counters): no printf. */
static void jw_decimal(struct json_writer *j, bool negative, uint64_t magnitude)
{
	char buf[TW_DEC_MAX + 1];
	char *end = buf + sizeof(buf), *p = tw_dec_before(magnitude, end);

	if (negative)
		*--p = '-';
	jw_value_prefix(j);
	jw_raw(j, p, (size_t)(end - p));
}

void jw_int(struct json_writer *j, int64_t v)
{
	/* the magnitude of INT64_MIN does not fit int64_t, it fits uint64_t */
	jw_decimal(j, v < 0, v < 0 ? -(uint64_t)v : (uint64_t)v);
}

void jw_uint(struct json_writer *j, uint64_t v)
{
	jw_decimal(j, false, v);
}

void jw_double(struct json_writer *j, double v)
{
	char buf[32];

	if (v != v || v > 1e300 || v < -1e300)  /* NaN/inf are not JSON */
		v = 0;
	snprintf(buf, sizeof(buf), "%.6g", v);
	/* always a fraction or an exponent, 1 as 1.0: a log pipeline that
	 * maps a key from its first value (Elasticsearch) would otherwise
	 * take a rate of 1 for an integer and cut the 0.625 after it */
	if (!strpbrk(buf, ".e"))
		strcat(buf, ".0");
	jw_number(j, buf);
}

void jw_bool(struct json_writer *j, bool v)
{
	jw_number(j, v ? "true" : "false");
}

void jw_kv_str(struct json_writer *j, const char *key, const char *s)
{
	if (!s)
		return;
	jw_key(j, key);
	jw_string(j, s);
}

void jw_kv_str_array(struct json_writer *j, const char *key,
		     const char *const *list, int n)
{
	int i;

	jw_key(j, key);
	jw_array_begin(j);
	for (i = 0; i < n; i++)
		jw_string(j, list[i]);
	jw_array_end(j);
}

void jw_kv_int(struct json_writer *j, const char *key, int64_t v)
{
	jw_key(j, key);
	jw_int(j, v);
}

void jw_kv_uint(struct json_writer *j, const char *key, uint64_t v)
{
	jw_key(j, key);
	jw_uint(j, v);
}

void jw_kv_double(struct json_writer *j, const char *key, double v)
{
	jw_key(j, key);
	jw_double(j, v);
}

void jw_kv_bool(struct json_writer *j, const char *key, bool v)
{
	jw_key(j, key);
	jw_bool(j, v);
}

void jw_kv_time_us(struct json_writer *j, const char *key, uint64_t ts_us)
{
	char buf[TW_TIME_STRLEN];

	jw_kv_str(j, key, tw_time_format_us(ts_us, buf));
}

void jw_kv_time_s(struct json_writer *j, const char *key, int64_t ts)
{
	char buf[TW_TIME_STRLEN];

	jw_kv_str(j, key, tw_time_format_s(ts, buf));
}

const char *jw_text(struct json_writer *j)
{
	return j->buf ? j->buf : "";
}

int jw_write_line(struct json_writer *j, FILE *f)
{
	int rc = 0;

	if (j->failed || !j->buf)
		rc = -1;
	else if (fwrite(j->buf, 1, j->len, f) != j->len || fputc('\n', f) == EOF)
		rc = -1;
	jw_reset(j);
	return rc;
}
