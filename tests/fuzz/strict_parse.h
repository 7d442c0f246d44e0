/* SPDX-License-Identifier: MIT */
/*
 * Strict readers of what tlswatch writes, for the round-trip fuzzers
 * (header-only: each fuzzer is one translation unit). Written apart from
 * the writers (common/json.c, common/prom_text.c, common/utf8.h) so that a
 * writer's mistake is not mirrored here:
 *
 *   sp_utf8_len()      the length of a valid UTF-8 sequence, from the
 *                      byte-range table of RFC 3629 section 4;
 *   sp_sanitize()      the bytes a writer must give back for wire bytes:
 *                      each byte that starts no valid sequence -> U+FFFD;
 *   sp_json_parse()    one RFC 8259 document, nothing after it; every
 *                      string value is collected with its path
 *                      ("chain[].subject");
 *   sp_prom_parse()    a Prometheus 0.0.4 exposition: HELP/TYPE comments
 *                      and samples, every label value collected.
 *
 * Any departure from the grammar makes the parse fail; the fuzzer traps.
 */
#ifndef TW_FUZZ_STRICT_PARSE_H
#define TW_FUZZ_STRICT_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SP_MAX_VALUES 512
#define SP_MAX_PATH 96
#define SP_MAX_DEPTH 20

/* A failed property names itself, then aborts: a crash for libFuzzer. */
#define SP_CHECK(c)                                                            \
	do {                                                                   \
		if (!(c)) {                                                    \
			fprintf(stderr, "%s:%d: property failed: %s\n",     \
				__FILE__, __LINE__, #c);                       \
			abort();                                               \
		}                                                              \
	} while (0)

struct sp_value {
	char path[SP_MAX_PATH];      /* "sni", "alpn[]", "chain[].subject",
				      * Prometheus: "family{label}" */
	char *bytes;                 /* decoded, NUL-terminated (may hold NULs) */
	size_t len;
};

struct sp_values {
	int n;
	struct sp_value v[SP_MAX_VALUES];
};

static inline void sp_values_free(struct sp_values *vs)
{
	for (int i = 0; i < vs->n; i++)
		free(vs->v[i].bytes);
	vs->n = 0;
}

/* RFC 3629 section 4: first byte, then the range of the second byte. */
static inline size_t sp_utf8_len(const uint8_t *p, size_t n)
{
	uint8_t lo = 0x80, hi = 0xbf;
	size_t len, i;

	if (p[0] <= 0x7f)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4;
	else
		return 0;
	if (p[0] == 0xe0)
		lo = 0xa0;
	else if (p[0] == 0xed)
		hi = 0x9f;
	else if (p[0] == 0xf0)
		lo = 0x90;
	else if (p[0] == 0xf4)
		hi = 0x8f;
	if (n < len || p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return len;
}

/* @in[0..n) with each byte that starts no valid sequence as U+FFFD. Into
 * @out (room for 3 * n + 1), NUL-terminated; returns the length. */
static inline size_t sp_sanitize(const uint8_t *in, size_t n, char *out)
{
	size_t i = 0, o = 0, k;

	while (i < n) {
		k = sp_utf8_len(in + i, n - i);
		if (k == 0) {
			memcpy(out + o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
			continue;
		}
		memcpy(out + o, in + i, k);
		o += k;
		i += k;
	}
	out[o] = '\0';
	return o;
}

/* The first collected value at @path, from index *@from on (advanced past
 * it); NULL when none is left. */
static inline const struct sp_value *sp_next(const struct sp_values *vs,
					     const char *path, int *from)
{
	for (; *from < vs->n; (*from)++)
		if (strcmp(vs->v[*from].path, path) == 0)
			return &vs->v[(*from)++];
	return NULL;
}

static inline int sp_count(const struct sp_values *vs, const char *path)
{
	int i, n = 0;

	for (i = 0; i < vs->n; i++)
		n += strcmp(vs->v[i].path, path) == 0;
	return n;
}

/* The value equals @want[0..@len). */
static inline bool sp_equal(const struct sp_value *v, const char *want, size_t len)
{
	return v && v->len == len && memcmp(v->bytes, want, len) == 0;
}

/* --- output buffer of decoded bytes */

struct sp_buf {
	char *p;
	size_t len, cap;
};

static inline bool sp_buf_add(struct sp_buf *b, const void *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = 2 * (b->len + n + 1);
		char *p = realloc(b->p, cap);

		if (!p)
			return false;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
	return true;
}

static inline bool sp_buf_cp(struct sp_buf *b, uint32_t cp)
{
	uint8_t u[4];
	size_t n;

	if (cp < 0x80) {
		u[0] = (uint8_t)cp, n = 1;
	} else if (cp < 0x800) {
		u[0] = (uint8_t)(0xc0 | cp >> 6), u[1] = (uint8_t)(0x80 | (cp & 0x3f)), n = 2;
	} else if (cp < 0x10000) {
		u[0] = (uint8_t)(0xe0 | cp >> 12), u[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (uint8_t)(0x80 | (cp & 0x3f)), n = 3;
	} else {
		u[0] = (uint8_t)(0xf0 | cp >> 18), u[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f)), u[3] = (uint8_t)(0x80 | (cp & 0x3f));
		n = 4;
	}
	return sp_buf_add(b, u, n);
}

static inline bool sp_collect(struct sp_values *vs, const char *path, struct sp_buf *b)
{
	struct sp_value *v;

	if (vs->n >= SP_MAX_VALUES || strlen(path) >= SP_MAX_PATH)
		return false;
	v = &vs->v[vs->n++];
	strcpy(v->path, path);
	if (!b->p && !sp_buf_add(b, "", 0))
		return false;
	v->bytes = b->p;
	v->len = b->len;
	b->p = NULL;
	b->len = b->cap = 0;
	return true;
}

/* --- JSON (RFC 8259), whole document */

struct sp_json {
	const uint8_t *p, *end;
	struct sp_values *vs;
	int depth;
};

static inline void sp_ws(struct sp_json *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

static inline bool sp_hex4(struct sp_json *j, uint32_t *v)
{
	*v = 0;
	if (j->end - j->p < 4)
		return false;
	for (int i = 0; i < 4; i++) {
		uint8_t c = *j->p++;

		*v <<= 4;
		if (c >= '0' && c <= '9')
			*v |= (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			*v |= (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			*v |= (uint32_t)(c - 'A' + 10);
		else
			return false;
	}
	return true;
}

static inline bool sp_json_escape(struct sp_json *j, struct sp_buf *b)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *e;
	uint32_t cp, lo;

	if (j->p >= j->end)
		return false;
	if (*j->p != 'u') {
		e = memchr(from, *j->p, sizeof(from) - 1);
		j->p++;
		return e && sp_buf_add(b, &to[e - from], 1);
	}
	j->p++;
	if (!sp_hex4(j, &cp))
		return false;
	if (cp >= 0xdc00 && cp <= 0xdfff)
		return false;                  /* a lone low surrogate */
	if (cp >= 0xd800 && cp <= 0xdbff) {
		if (j->end - j->p < 2 || j->p[0] != '\\' || j->p[1] != 'u')
			return false;
		j->p += 2;
		if (!sp_hex4(j, &lo) || lo < 0xdc00 || lo > 0xdfff)
			return false;
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
	}
	return sp_buf_cp(b, cp);
}

/* A string (the opening quote not yet read) into @b, decoded. */
static inline bool sp_json_string(struct sp_json *j, struct sp_buf *b)
{
	size_t k;

	if (j->p >= j->end || *j->p++ != '"')
		return false;
	if (!sp_buf_add(b, "", 0))
		return false;
	while (j->p < j->end && *j->p != '"') {
		if (*j->p < 0x20)
			return false;          /* raw control characters */
		if (*j->p == '\\') {
			j->p++;
			if (!sp_json_escape(j, b))
				return false;
			continue;
		}
		k = sp_utf8_len(j->p, (size_t)(j->end - j->p));
		if (k == 0 || !sp_buf_add(b, j->p, k))
			return false;
		j->p += k;
	}
	if (j->p >= j->end)
		return false;
	j->p++;
	return true;
}

static inline bool sp_digits(struct sp_json *j)
{
	const uint8_t *start = j->p;

	while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
		j->p++;
	return j->p > start;
}

static inline bool sp_json_number(struct sp_json *j)
{
	if (j->p < j->end && *j->p == '-')
		j->p++;
	if (j->p < j->end && *j->p == '0')
		j->p++;                        /* no leading zeros */
	else if (!sp_digits(j))
		return false;
	if (j->p < j->end && *j->p == '.') {
		j->p++;
		if (!sp_digits(j))
			return false;
	}
	if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
		j->p++;
		if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
			j->p++;
		if (!sp_digits(j))
			return false;
	}
	return true;
}

static inline bool sp_json_word(struct sp_json *j, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(j->end - j->p) < n || memcmp(j->p, w, n) != 0)
		return false;
	j->p += n;
	return true;
}

static inline bool sp_json_value(struct sp_json *j, const char *path);

static inline bool sp_json_container(struct sp_json *j, const char *path, bool object)
{
	char sub[SP_MAX_PATH + 64];
	struct sp_buf key = { 0 };
	bool first = true, ok = true;

	if (++j->depth > SP_MAX_DEPTH)
		return false;
	j->p++;
	sp_ws(j);
	if (j->p < j->end && *j->p == (object ? '}' : ']')) {
		j->p++;
		j->depth--;
		return true;
	}
	while (ok) {
		if (!first) {
			sp_ws(j);
			if (j->p < j->end && *j->p == (object ? '}' : ']'))
				break;
			if (j->p >= j->end || *j->p++ != ',')
				return false;
		}
		first = false;
		sp_ws(j);
		if (object) {
			ok = sp_json_string(j, &key);
			if (ok) {
				snprintf(sub, sizeof(sub), "%s%s%s", path, path[0] ? "." : "",
					 key.p);
				sp_ws(j);
				ok = j->p < j->end && *j->p++ == ':';
			}
			key.len = 0;
		} else {
			snprintf(sub, sizeof(sub), "%s[]", path);
		}
		ok = ok && strlen(sub) < SP_MAX_PATH && sp_json_value(j, sub);
	}
	free(key.p);
	if (!ok)
		return false;
	j->p++;
	j->depth--;
	return true;
}

static inline bool sp_json_value(struct sp_json *j, const char *path)
{
	struct sp_buf b = { 0 };

	sp_ws(j);
	if (j->p >= j->end)
		return false;
	switch (*j->p) {
	case '{': return sp_json_container(j, path, true);
	case '[': return sp_json_container(j, path, false);
	case '"':
		if (sp_json_string(j, &b) && sp_collect(j->vs, path, &b))
			return true;
		free(b.p);
		return false;
	case 't': return sp_json_word(j, "true");
	case 'f': return sp_json_word(j, "false");
	case 'n': return sp_json_word(j, "null");
	default: return sp_json_number(j);
	}
}

/* One document filling @s[0..n) exactly (whitespace aside). */
static inline bool sp_json_parse(const char *s, size_t n, struct sp_values *vs)
{
	struct sp_json j = { (const uint8_t *)s, (const uint8_t *)s + n, vs, 0 };

	if (!sp_json_value(&j, ""))
		return false;
	sp_ws(&j);
	return j.p == j.end;
}

/* --- Prometheus text exposition 0.0.4 */

static inline bool sp_prom_name(const uint8_t **p, const uint8_t *end, bool label,
				char *out, size_t outlen)
{
	const uint8_t *s = *p;

	while (*p < end) {
		uint8_t c = **p;
		bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
			     (!label && c == ':');

		if (!alpha && !(*p > s && c >= '0' && c <= '9'))
			break;
		(*p)++;
	}
	if (*p == s || (size_t)(*p - s) >= outlen)
		return false;
	memcpy(out, s, (size_t)(*p - s));
	out[*p - s] = '\0';
	return true;
}

/* A label value (the opening quote read) up to its closing quote. */
static inline bool sp_prom_label_value(const uint8_t **p, const uint8_t *end,
				       struct sp_buf *b)
{
	size_t k;

	if (!sp_buf_add(b, "", 0))
		return false;
	while (*p < end && **p != '"') {
		if (**p == '\\') {
			const char *r;

			if (++(*p) >= end)
				return false;
			r = **p == '\\' ? "\\" : **p == '"' ? "\"" : **p == 'n' ? "\n" : NULL;
			if (!r || !sp_buf_add(b, r, 1))
				return false;
			(*p)++;
			continue;
		}
		k = sp_utf8_len(*p, (size_t)(end - *p));
		if (k == 0 || **p == '\n' || !sp_buf_add(b, *p, k))
			return false;
		*p += k;
	}
	if (*p >= end)
		return false;
	(*p)++;
	return true;
}

/* Go's ParseFloat forms the format takes: a decimal or NaN, +Inf, -Inf. */
static inline bool sp_prom_number(const uint8_t *p, const uint8_t *end)
{
	char tmp[64], *stop;
	size_t n = (size_t)(end - p);

	if (n == 0 || n >= sizeof(tmp))
		return false;
	memcpy(tmp, p, n);
	tmp[n] = '\0';
	if (!strcmp(tmp, "NaN") || !strcmp(tmp, "+Inf") || !strcmp(tmp, "-Inf"))
		return true;
	if (!strchr("-0123456789", tmp[0]) || strpbrk(tmp, "xXpP") ||
	    strstr(tmp, "nan") || strstr(tmp, "inf"))
		return false;
	strtod(tmp, &stop);
	return *stop == '\0';
}

static inline bool sp_prom_sample(const uint8_t *p, const uint8_t *end,
				  struct sp_values *vs)
{
	char family[128], label[128], path[SP_MAX_PATH + 260];
	bool first = true;

	if (!sp_prom_name(&p, end, false, family, sizeof(family)))
		return false;
	if (p < end && *p == '{') {
		p++;
		while (p < end && *p != '}') {
			struct sp_buf b = { 0 };

			if (!first && *p++ != ',')
				return false;
			first = false;
			if (!sp_prom_name(&p, end, true, label, sizeof(label)) ||
			    end - p < 2 || *p++ != '=' || *p++ != '"')
				return false;
			snprintf(path, sizeof(path), "%s{%s}", family, label);
			if (strlen(path) >= SP_MAX_PATH || !sp_prom_label_value(&p, end, &b) ||
			    !sp_collect(vs, path, &b)) {
				free(b.p);
				return false;
			}
		}
		if (p >= end)
			return false;
		p++;
	}
	if (p >= end || *p++ != ' ')
		return false;
	return sp_prom_number(p, end);
}

static inline bool sp_prom_comment(const uint8_t *p, const uint8_t *end)
{
	char name[128];
	size_t n = (size_t)(end - p);

	if (n >= 7 && memcmp(p, "# HELP ", 7) == 0) {
		p += 7;
		if (!sp_prom_name(&p, end, false, name, sizeof(name)) || p >= end || *p++ != ' ')
			return false;
		for (size_t k; p < end; p += k)   /* escaped text, valid UTF-8 */
			if ((k = sp_utf8_len(p, (size_t)(end - p))) == 0 ||
			    (*p == '\\' && (p + 1 >= end || (p[1] != '\\' && p[1] != 'n'))))
				return false;
			else if (*p == '\\')
				k = 2;
		return true;
	}
	if (n >= 7 && memcmp(p, "# TYPE ", 7) == 0) {
		p += 7;
		if (!sp_prom_name(&p, end, false, name, sizeof(name)) || p >= end || *p++ != ' ')
			return false;
		n = (size_t)(end - p);
		return (n == 7 && !memcmp(p, "counter", 7)) || (n == 5 && !memcmp(p, "gauge", 5));
	}
	return false;
}

/* A whole exposition: lines ending in '\n', each a HELP, a TYPE or a
 * sample. Every label value is collected as "family{label}". */
static inline bool sp_prom_parse(const char *s, size_t n, struct sp_values *vs)
{
	const uint8_t *p = (const uint8_t *)s, *end = p + n, *nl;

	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			return false;
		if (!(*p == '#' ? sp_prom_comment(p, nl) : sp_prom_sample(p, nl, vs)))
			return false;
		p = nl + 1;
	}
	return true;
}

#endif
