/* SPDX-License-Identifier: MIT */
/*
 * A small JSON writer for one event (one line) at a time. Strings are
 * escaped per RFC 8259; bytes that are not valid UTF-8 become U+FFFD, so
 * anything taken off the wire yields a valid line. Commas are placed by the
 * writer. Memory failure is sticky: jw_write_line() then reports -1.
 */
#ifndef TW_JSON_H
#define TW_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define JW_MAX_DEPTH 16

struct json_writer {
	char *buf;
	size_t len;
	size_t cap;
	int depth;
	bool need_comma[JW_MAX_DEPTH + 1];
	bool after_key;
	bool failed;
};

void jw_init(struct json_writer *j);
void jw_free(struct json_writer *j);
void jw_reset(struct json_writer *j);

void jw_object_begin(struct json_writer *j);
void jw_object_end(struct json_writer *j);
void jw_array_begin(struct json_writer *j);
void jw_array_end(struct json_writer *j);
void jw_key(struct json_writer *j, const char *key);

void jw_string(struct json_writer *j, const char *s);
void jw_string_n(struct json_writer *j, const char *s, size_t n);
void jw_int(struct json_writer *j, int64_t v);
void jw_uint(struct json_writer *j, uint64_t v);
void jw_double(struct json_writer *j, double v);   /* up to 6 significant decimals */
void jw_bool(struct json_writer *j, bool v);

/* key + value; the _str forms write nothing when @s is NULL (unknown
 * fields are omitted, never faked). */
void jw_kv_str(struct json_writer *j, const char *key, const char *s);
/* "key": an array of the @n strings of @list (empty when @n is 0). */
void jw_kv_str_array(struct json_writer *j, const char *key,
		     const char *const *list, int n);
void jw_kv_int(struct json_writer *j, const char *key, int64_t v);
void jw_kv_uint(struct json_writer *j, const char *key, uint64_t v);
void jw_kv_double(struct json_writer *j, const char *key, double v);
void jw_kv_bool(struct json_writer *j, const char *key, bool v);
/* "ts": RFC 3339 with microseconds. */
void jw_kv_time_us(struct json_writer *j, const char *key, uint64_t ts_us);
/* RFC 3339 seconds ("not_after"); omitted when @ts is 0 and @omit_zero. */
void jw_kv_time_s(struct json_writer *j, const char *key, int64_t ts);

/* Writes the buffer and a newline to @f, flushes, resets. 0 or -1. */
int jw_write_line(struct json_writer *j, FILE *f);
/* The NUL-terminated text so far (for sinks that send it elsewhere). */
const char *jw_text(struct json_writer *j);
/* Its length, and whether memory ran out while writing it. */
static inline size_t jw_len(const struct json_writer *j) { return j->len; }
static inline bool jw_failed(const struct json_writer *j) { return j->failed; }

#endif
