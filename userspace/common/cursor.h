/* SPDX-License-Identifier: MIT */
/*
 * A bounds-checked reader over untrusted bytes. Every read either succeeds
 * completely or marks the cursor bad and returns zero; callers check
 * cur_ok() once after a group of reads instead of after each one.
 */
#ifndef TW_CURSOR_H
#define TW_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cursor {
	const uint8_t *data;
	size_t len;
	size_t off;
	bool bad;
};

static inline struct cursor cur_make(const uint8_t *data, size_t len)
{
	struct cursor c = { .data = data, .len = len, .off = 0, .bad = false };
	return c;
}

static inline bool cur_ok(const struct cursor *c) { return !c->bad; }

static inline size_t cur_left(const struct cursor *c)
{
	return c->bad ? 0 : c->len - c->off;
}

static inline bool cur_need(struct cursor *c, size_t n)
{
	if (c->bad || c->len - c->off < n) {
		c->bad = true;
		return false;
	}
	return true;
}

static inline uint8_t cur_u8(struct cursor *c)
{
	if (!cur_need(c, 1))
		return 0;
	return c->data[c->off++];
}

static inline uint16_t cur_u16(struct cursor *c)
{
	uint16_t v;

	if (!cur_need(c, 2))
		return 0;
	v = (uint16_t)(c->data[c->off] << 8 | c->data[c->off + 1]);
	c->off += 2;
	return v;
}

static inline uint32_t cur_u24(struct cursor *c)
{
	uint32_t v;

	if (!cur_need(c, 3))
		return 0;
	v = (uint32_t)c->data[c->off] << 16 | (uint32_t)c->data[c->off + 1] << 8 |
	    c->data[c->off + 2];
	c->off += 3;
	return v;
}

static inline uint32_t cur_u32(struct cursor *c)
{
	uint32_t hi = cur_u16(c);

	return hi << 16 | cur_u16(c);
}

/* Returns a pointer to the next @n bytes and advances, or NULL. */
static inline const uint8_t *cur_bytes(struct cursor *c, size_t n)
{
	const uint8_t *p;

	if (!cur_need(c, n))
		return NULL;
	p = c->data + c->off;
	c->off += n;
	return p;
}

static inline bool cur_skip(struct cursor *c, size_t n)
{
	return cur_bytes(c, n) != NULL || n == 0;
}

/* A sub-cursor over the next @n bytes (a length-prefixed vector's body). */
static inline struct cursor cur_sub(struct cursor *c, size_t n)
{
	const uint8_t *p = cur_bytes(c, n);
	struct cursor sub = cur_make(p, p ? n : 0);

	sub.bad = c->bad;
	return sub;
}

#endif
