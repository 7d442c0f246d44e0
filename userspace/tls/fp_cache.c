// SPDX-License-Identifier: MIT
/*
 * The memo of client fingerprints. The key is every ClientHello field JA3
 * and JA4 read, each list with its length in front, so two hellos with the
 * same key have the same fingerprints; the random, session id and key
 * shares, which differ per connection, are not part of it.
 */
#include <stdlib.h>
#include <string.h>

#include "../common/strmap.h"
#include "tls_conn.h"
#include "tls_internal.h"

struct tls_fp_value {
	char ja4[HS_JA4_LEN + 1];
	char ja3[HS_JA3_LEN + 1];
};

struct tls_fp_cache {
	struct strmap *map;       /* key (below) -> struct tls_fp_value */
};

struct fp_key {
	uint8_t b[TLS_FP_CACHE_KEY_MAX];
	size_t len;
	bool too_long;            /* not memoized: computed every time */
};

struct tls_fp_cache *tls_fp_cache_new(void)
{
	struct tls_fp_cache *fc = calloc(1, sizeof(*fc));

	if (!fc)
		return NULL;
	fc->map = strmap_new(sizeof(struct tls_fp_value));
	if (!fc->map) {
		free(fc);
		return NULL;
	}
	return fc;
}

void tls_fp_cache_free(struct tls_fp_cache *fc)
{
	if (!fc)
		return;
	strmap_free(fc->map);
	free(fc);
}

size_t tls_fp_cache_count(const struct tls_fp_cache *fc)
{
	return strmap_count(fc->map);
}

static void fp_key_put(struct fp_key *k, const void *p, size_t n)
{
	if (n == 0)
		return;   /* @p may be NULL then (an absent list) */
	if (k->too_long || n > sizeof(k->b) - k->len) {
		k->too_long = true;
		return;
	}
	memcpy(k->b + k->len, p, n);
	k->len += n;
}

/* The length in front keeps "ab" + "c" apart from "a" + "bc". */
static void fp_key_bytes(struct fp_key *k, const void *p, size_t n)
{
	uint32_t len = (uint32_t)n;

	if (n > UINT32_MAX) {
		k->too_long = true;
		return;
	}
	fp_key_put(k, &len, sizeof(len));
	fp_key_put(k, p, n);
}

static void fp_key_list(struct fp_key *k, const struct tls_u16_list *l)
{
	fp_key_bytes(k, l->v, l->n * sizeof(*l->v));
}

static void fp_key_make(struct fp_key *k, const struct tls_client_hello *ch)
{
	uint8_t flags[2] = { ch->has_sni_ext, ch->has_alpn_ext };

	k->len = 0;
	k->too_long = false;
	fp_key_put(k, &ch->legacy_version, sizeof(ch->legacy_version));
	fp_key_put(k, &ch->best_version, sizeof(ch->best_version));
	fp_key_put(k, flags, sizeof(flags));
	fp_key_bytes(k, ch->alpn, ch->has_alpn_ext ? ch->alpn_len : 0);
	fp_key_list(k, &ch->ciphers);
	fp_key_list(k, &ch->exts);
	fp_key_list(k, &ch->sig_algs);
	fp_key_list(k, &ch->groups);
	fp_key_bytes(k, ch->point_formats, ch->n_point_formats);
}

static bool fp_compute(const struct tls_client_hello *ch, char ja4[HS_JA4_LEN + 1],
		       char ja3[HS_JA3_LEN + 1])
{
	bool ok4 = tls_ja4(ch, ja4), ok3 = tls_ja3(ch, ja3);

	return ok4 && ok3;
}

void tls_fingerprint(struct tls_fp_cache *fc, const struct tls_client_hello *ch,
		     char ja4[HS_JA4_LEN + 1], char ja3[HS_JA3_LEN + 1])
{
	struct tls_fp_value *v;
	struct fp_key k;
	bool created;

	if (!fc) {
		fp_compute(ch, ja4, ja3);
		return;
	}
	fp_key_make(&k, ch);
	v = k.too_long ? NULL : strmap_get(fc->map, k.b, k.len);
	if (v) {
		memcpy(ja4, v->ja4, sizeof(v->ja4));
		memcpy(ja3, v->ja3, sizeof(v->ja3));
		return;
	}
	/* a failed digest is not remembered: the next hello tries again */
	if (!fp_compute(ch, ja4, ja3) || k.too_long)
		return;
	if (strmap_count(fc->map) >= TLS_FP_CACHE_MAX)
		strmap_clear(fc->map);
	v = strmap_put(fc->map, k.b, k.len, &created);
	if (!v)
		return;   /* out of memory: not remembered, nothing else lost */
	memcpy(v->ja4, ja4, sizeof(v->ja4));
	memcpy(v->ja3, ja3, sizeof(v->ja3));
}
