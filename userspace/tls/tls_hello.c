// SPDX-License-Identifier: MIT
/*
 * ClientHello and ServerHello parsing (RFC 8446 4.1.2, 4.1.3; RFC 5246
 * 7.4.1). Everything is read through a cursor; a field that does not fit
 * its enclosing length makes the whole message malformed.
 */
#include <stdlib.h>
#include <string.h>

#include "../common/cursor.h"
#include "tls_internal.h"

/* SHA-256("HelloRetryRequest"), the random of a HelloRetryRequest. */
static const uint8_t tls_hrr_random[32] = {
	0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02,
	0x1e, 0x65, 0xb8, 0x91, 0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e,
	0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
};

/* One extension of a hello's extension block (RFC 8446 4.2). */
struct tls_ext {
	uint16_t type;
	struct cursor body;
};

/*
 * The next extension of the block @exts into @ext: 1; 0 at the block's
 * end; -1 when its header or body runs past the block. The one walk of
 * both hellos' blocks, inlined into each loop (it runs for every
 * extension of every hello: no call, no callback through a pointer).
 */
static inline __attribute__((always_inline)) int tls_ext_next(struct cursor *exts,
							      struct tls_ext *ext)
{
	size_t body_len;

	if (cur_left(exts) == 0)
		return 0;
	ext->type = cur_u16(exts);
	body_len = cur_u16(exts);
	ext->body = cur_sub(exts, body_len);
	return cur_ok(exts) ? 1 : -1;
}

/* Storage for the 16-bit lists of one ClientHello. */
struct tls_pool {
	uint16_t *v;
	size_t used;
	size_t cap;
};

/* Reads @count 16-bit values from @c into the pool as one list. */
static bool tls_pool_read(struct tls_pool *pool, struct cursor *c, size_t count,
			  struct tls_u16_list *out)
{
	size_t i;

	if (count > pool->cap - pool->used || cur_left(c) < 2 * count)
		return false;
	out->v = pool->v + pool->used;
	out->n = count;
	for (i = 0; i < count; i++)
		pool->v[pool->used++] = cur_u16(c);
	return cur_ok(c);
}

/* A vector of uint16 with a @len_bytes (1 or 2) length prefix. */
static bool tls_read_u16_vector(struct tls_pool *pool, struct cursor *c,
				int len_bytes, struct tls_u16_list *out)
{
	size_t len = len_bytes == 1 ? cur_u8(c) : cur_u16(c);

	if (!cur_ok(c) || len % 2 != 0 || cur_left(c) < len)
		return false;
	return tls_pool_read(pool, c, len / 2, out);
}

/* server_name: a list of (type, name); the first host_name (0) is kept. */
static bool tls_ext_server_name(struct cursor *body, struct tls_client_hello *ch)
{
	size_t list_len = cur_u16(body);
	struct cursor list = cur_sub(body, list_len);

	while (cur_ok(&list) && cur_left(&list) > 0) {
		uint8_t type = cur_u8(&list);
		size_t len = cur_u16(&list);
		const uint8_t *name = cur_bytes(&list, len);

		if (name && type == 0 && !ch->host_name) {
			ch->host_name = name;
			ch->host_name_len = len;
		}
	}
	return cur_ok(&list);
}

/* ALPN: a list of non-empty 8-bit-length strings; checked here, copied later. */
static bool tls_ext_alpn(struct cursor *body, struct tls_client_hello *ch)
{
	size_t list_len = cur_u16(body);
	struct cursor list = cur_sub(body, list_len);

	ch->alpn = list.data;
	ch->alpn_len = list.len;
	while (cur_ok(&list) && cur_left(&list) > 0)
		cur_skip(&list, cur_u8(&list));
	return cur_ok(&list);
}

static bool tls_ext_supported_versions(struct cursor *body,
				       struct tls_client_hello *ch)
{
	size_t len = cur_u8(body);
	struct cursor list = cur_sub(body, len);

	if (len % 2 != 0)
		return false;
	while (cur_ok(&list) && cur_left(&list) > 0) {
		uint16_t v = cur_u16(&list);

		if (!tls_is_grease(v) && v > ch->best_version)
			ch->best_version = v;
	}
	return cur_ok(&list);
}

static bool tls_ext_point_formats(struct cursor *body, struct tls_client_hello *ch)
{
	size_t len = cur_u8(body);

	ch->point_formats = cur_bytes(body, len);
	ch->n_point_formats = ch->point_formats ? len : 0;
	return cur_ok(body);
}

/* Returns NULL or the error text for one extension's body. */
static const char *tls_client_ext(struct tls_pool *pool, uint16_t type,
				  struct cursor *body, struct tls_client_hello *ch)
{
	switch (type) {
	case TLS_EXT_SERVER_NAME:
		if (ch->has_sni_ext)
			return NULL;
		ch->has_sni_ext = true;
		return tls_ext_server_name(body, ch) ? NULL :
			"ClientHello: server_name extension";
	case TLS_EXT_ALPN:
		if (ch->has_alpn_ext)
			return NULL;
		ch->has_alpn_ext = true;
		return tls_ext_alpn(body, ch) ? NULL : "ClientHello: ALPN extension";
	case TLS_EXT_SUPPORTED_VERSIONS:
		return tls_ext_supported_versions(body, ch) ? NULL :
			"ClientHello: supported_versions extension";
	case TLS_EXT_SIG_ALGS:
		if (ch->sig_algs.v)
			return NULL;
		return tls_read_u16_vector(pool, body, 2, &ch->sig_algs) ? NULL :
			"ClientHello: signature_algorithms extension";
	case TLS_EXT_SUPPORTED_GROUPS:
		if (ch->groups.v)
			return NULL;
		return tls_read_u16_vector(pool, body, 2, &ch->groups) ? NULL :
			"ClientHello: supported_groups extension";
	case TLS_EXT_EC_POINT_FORMATS:
		if (ch->point_formats)
			return NULL;
		return tls_ext_point_formats(body, ch) ? NULL :
			"ClientHello: ec_point_formats extension";
	default:
		return NULL;
	}
}

/* The extension block: types are collected in order for the fingerprints. */
static const char *tls_client_exts(struct tls_pool *pool, struct cursor *c,
				   struct tls_client_hello *ch)
{
	size_t len = cur_u16(c);
	struct cursor exts = cur_sub(c, len);
	size_t max = len / 4;    /* each extension has a 4-byte header */
	uint16_t *types = pool->v + pool->used;
	struct tls_ext ext;
	const char *err;
	int more;

	if (!cur_ok(&exts) || max > pool->cap - pool->used)
		return "ClientHello: extensions length";
	ch->exts.v = types;
	pool->used += max;
	while ((more = tls_ext_next(&exts, &ext)) > 0) {
		types[ch->exts.n++] = ext.type;
		err = tls_client_ext(pool, ext.type, &ext.body, ch);
		if (err)
			return err;
	}
	return more < 0 ? "ClientHello: extension length" : NULL;
}

static const char *tls_client_hello_body(struct tls_pool *pool, struct cursor *c,
					 struct tls_client_hello *ch)
{
	size_t len;

	ch->legacy_version = cur_u16(c);
	cur_skip(c, 32);
	if (!cur_ok(c))
		return "ClientHello: legacy_version or random";
	len = cur_u8(c);
	ch->session_id = len <= 32 ? cur_bytes(c, len) : NULL;
	ch->session_id_len = (uint8_t)len;
	if (!ch->session_id)
		return "ClientHello: legacy_session_id";
	if (!tls_read_u16_vector(pool, c, 2, &ch->ciphers))
		return "ClientHello: cipher_suites";
	len = cur_u8(c);
	if (!cur_ok(c) || len == 0 || !cur_skip(c, len))
		return "ClientHello: legacy_compression_methods";
	if (cur_left(c) == 0)
		return NULL;    /* no extensions (SSL 3.0 style) */
	return tls_client_exts(pool, c, ch);
}

const char *tls_parse_client_hello(const uint8_t *p, size_t n,
				   struct tls_client_hello *ch)
{
	struct cursor c = cur_make(p, n);
	struct tls_pool pool = { 0 };
	const char *err;

	memset(ch, 0, sizeof(*ch));
	/*
	 * Every list value occupies two distinct message bytes, and the
	 * extension types reserve a quarter of their block: n entries is a
	 * generous bound that never runs out.
	 */
	pool.cap = n + 1;
	pool.v = calloc(pool.cap, sizeof(*pool.v));
	if (!pool.v)
		return "ClientHello: out of memory";
	ch->pool = pool.v;
	err = tls_client_hello_body(&pool, &c, ch);
	if (err)
		tls_client_hello_release(ch);
	return err;
}

void tls_client_hello_release(struct tls_client_hello *ch)
{
	free(ch->pool);
	memset(ch, 0, sizeof(*ch));
}

/* ALPN in a ServerHello: a list of exactly one non-empty protocol name. */
static bool tls_server_ext_alpn(struct cursor *body, struct tls_server_hello *sh)
{
	size_t list_len = cur_u16(body);
	struct cursor list = cur_sub(body, list_len);
	uint8_t len = cur_u8(&list);

	sh->alpn = cur_bytes(&list, len);
	sh->alpn_len = len;
	if (!cur_ok(&list) || len == 0 || cur_left(&list) != 0) {
		sh->alpn = NULL;
		return false;
	}
	return true;
}

/* key_share: a KeyShareEntry (group, key), or in a HelloRetryRequest the
 * selected group alone; either way the group comes first. */
static bool tls_server_ext_key_share(struct cursor *body, struct tls_server_hello *sh)
{
	sh->group = cur_u16(body);
	sh->has_group = cur_ok(body);
	return sh->has_group;
}

/* Returns NULL or the error text for one extension's body. */
static const char *tls_server_ext(uint16_t type, struct cursor *body,
				  struct tls_server_hello *sh)
{
	switch (type) {
	case TLS_EXT_SUPPORTED_VERSIONS:
		sh->selected_version = cur_u16(body);
		return cur_ok(body) ? NULL : "ServerHello: supported_versions extension";
	case TLS_EXT_PRE_SHARED_KEY:
		sh->psk = true;
		return NULL;
	case TLS_EXT_KEY_SHARE:
		return tls_server_ext_key_share(body, sh) ? NULL :
			"ServerHello: key_share extension";
	case TLS_EXT_ALPN:
		return tls_server_ext_alpn(body, sh) ? NULL :
			"ServerHello: ALPN extension";
	default:
		return NULL;
	}
}

static const char *tls_server_exts(struct cursor *c, struct tls_server_hello *sh)
{
	size_t len = cur_u16(c);
	struct cursor exts = cur_sub(c, len);
	struct tls_ext ext;
	const char *err;
	int more;

	if (!cur_ok(&exts))
		return "ServerHello: extensions length";
	while ((more = tls_ext_next(&exts, &ext)) > 0) {
		err = tls_server_ext(ext.type, &ext.body, sh);
		if (err)
			return err;
	}
	return more < 0 ? "ServerHello: extension length" : NULL;
}

const char *tls_parse_server_hello(const uint8_t *p, size_t n,
				   struct tls_server_hello *sh)
{
	struct cursor c = cur_make(p, n);
	const uint8_t *random;
	size_t len;

	memset(sh, 0, sizeof(*sh));
	sh->legacy_version = cur_u16(&c);
	random = cur_bytes(&c, 32);
	if (!random)
		return "ServerHello: legacy_version or random";
	sh->hello_retry = memcmp(random, tls_hrr_random, 32) == 0;
	len = cur_u8(&c);
	sh->session_id = len <= 32 ? cur_bytes(&c, len) : NULL;
	sh->session_id_len = (uint8_t)len;
	if (!sh->session_id)
		return "ServerHello: legacy_session_id";
	sh->cipher = cur_u16(&c);
	cur_u8(&c);    /* legacy_compression_method */
	if (!cur_ok(&c))
		return "ServerHello: cipher_suite or compression_method";
	if (cur_left(&c) == 0)
		return NULL;
	return tls_server_exts(&c, sh);
}

/* SSLv2 cipher specs are 3 bytes; those of TLS are 0x00 and a suite. */
#define TLS_SSLV2_SPEC 3

const char *tls_parse_sslv2_client_hello(const uint8_t *p, size_t n,
					 struct tls_client_hello *ch)
{
	struct cursor c = cur_make(p, n);
	size_t spec_len, sid_len, challenge_len, i;
	struct cursor specs;
	uint16_t *suites;

	memset(ch, 0, sizeof(*ch));
	if (cur_u8(&c) != TLS_HS_CLIENT_HELLO)
		return "SSLv2 ClientHello: message type";
	ch->legacy_version = cur_u16(&c);
	spec_len = cur_u16(&c);
	sid_len = cur_u16(&c);
	challenge_len = cur_u16(&c);
	if (!cur_ok(&c) || (ch->legacy_version >> 8) != 3)
		return "SSLv2 ClientHello: version (SSL 2.0 itself is not followed)";
	if (spec_len == 0 || spec_len % TLS_SSLV2_SPEC != 0)
		return "SSLv2 ClientHello: cipher_spec_length";
	if (sid_len > 32 || challenge_len < 16 || challenge_len > 32)
		return "SSLv2 ClientHello: session_id or challenge length";
	specs = cur_sub(&c, spec_len);
	if (!cur_skip(&c, sid_len + challenge_len) || cur_left(&c) != 0)
		return "SSLv2 ClientHello: lengths";
	suites = calloc(spec_len / TLS_SSLV2_SPEC, sizeof(*suites));
	if (!suites)
		return "SSLv2 ClientHello: out of memory";
	ch->pool = suites;
	ch->ciphers.v = suites;
	for (i = 0; i < spec_len / TLS_SSLV2_SPEC; i++) {
		uint8_t kind = cur_u8(&specs);
		uint16_t suite = cur_u16(&specs);

		if (kind == 0)    /* the SSLv2-only kinds have no TLS number */
			suites[ch->ciphers.n++] = suite;
	}
	return NULL;
}
