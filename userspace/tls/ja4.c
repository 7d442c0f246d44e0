// SPDX-License-Identifier: MIT
/*
 * JA4 TLS client fingerprint (FoxIO, technical_details/JA4.md):
 *   a: t, version, d|i, cipher count, extension count, ALPN first+last char
 *   b: SHA-256 of the sorted cipher list, 12 hex
 *   c: SHA-256 of the sorted extension list without SNI and ALPN, then
 *      '_' and the signature algorithms in wire order, 12 hex
 * GREASE values are ignored everywhere.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/hex.h"
#include "../common/log.h"
#include "../common/digest.h"
#include "fp_digest.h"
#include "tls_internal.h"

#define JA4_HASH_HEX 12
static const char ja4_empty_hash[] = "000000000000";

static const char *ja4_version(uint16_t v)
{
	switch (v) {
	case 0x0304: return "13";
	case 0x0303: return "12";
	case 0x0302: return "11";
	case 0x0301: return "10";
	case 0x0300: return "s3";
	case 0x0002: return "s2";
	default:     return "00";
	}
}

static unsigned int ja4_count(const struct tls_u16_list *l)
{
	unsigned int n = 0;
	size_t i;

	for (i = 0; i < l->n; i++)
		n += !tls_is_grease(l->v[i]);
	return n > 99 ? 99 : n;
}

static bool ja4_alnum(uint8_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
	       (c >= 'a' && c <= 'z');
}

/*
 * First and last character of the first ALPN value; when either is not
 * alphanumeric, the first and last hex digit of the value instead.
 */
static void ja4_alpn(const struct tls_client_hello *ch, char out[3])
{
	static const char digits[] = "0123456789abcdef";
	const uint8_t *v;
	uint8_t first, last;

	out[0] = out[1] = '0';
	out[2] = '\0';
	if (!ch->has_alpn_ext || ch->alpn_len < 2 || ch->alpn[0] == 0)
		return;
	v = ch->alpn + 1;       /* validated by the parser: fits the list */
	first = v[0];
	last = v[ch->alpn[0] - 1];
	if (ja4_alnum(first) && ja4_alnum(last)) {
		out[0] = (char)first;
		out[1] = (char)last;
	} else {
		out[0] = digits[first >> 4];
		out[1] = digits[last & 0xf];
	}
}

static int ja4_cmp_u16(const void *a, const void *b)
{
	uint16_t x = *(const uint16_t *)a, y = *(const uint16_t *)b;

	return (x > y) - (x < y);
}

/* Lists are short (tens of values): insertion sort, in place and without
 * the allocation glibc's qsort makes; qsort past that, so a hostile hello
 * with thousands of values stays O(n log n). */
#define JA4_INSERTION_SORT_MAX 64

static void ja4_sort(uint16_t *v, size_t n)
{
	size_t i, k;

	if (n > JA4_INSERTION_SORT_MAX) {
		qsort(v, n, sizeof(*v), ja4_cmp_u16);
		return;
	}
	for (i = 1; i < n; i++) {
		uint16_t x = v[i];

		for (k = i; k > 0 && v[k - 1] > x; k--)
			v[k] = v[k - 1];
		v[k] = x;
	}
}

/* Non-GREASE values of @l, without @skip_sni_alpn's two types, sorted. */
static uint16_t *ja4_sorted(const struct tls_u16_list *l, bool skip_sni_alpn,
			    size_t *n_out)
{
	uint16_t *v = malloc((l->n ? l->n : 1) * sizeof(*v));
	size_t i, n = 0;

	if (!v)
		return NULL;
	for (i = 0; i < l->n; i++) {
		uint16_t x = l->v[i];

		if (tls_is_grease(x))
			continue;
		if (skip_sni_alpn && (x == TLS_EXT_SERVER_NAME || x == TLS_EXT_ALPN))
			continue;
		v[n++] = x;
	}
	ja4_sort(v, n);
	*n_out = n;
	return v;
}

/* Feeds "xxxx,yyyy,..." (GREASE skipped) into the digest. */
static void ja4_digest_list(struct fp_digest *d, const uint16_t *v, size_t n)
{
	bool first = true;
	size_t i;

	for (i = 0; i < n; i++) {
		if (tls_is_grease(v[i]))
			continue;
		if (!first)
			fp_digest_char(d, ',');
		fp_digest_hex16(d, v[i]);
		first = false;
	}
}

/* Part b (@sig_algs NULL) or part c: 12 hex digits of SHA-256. */
static bool ja4_hash(const uint16_t *v, size_t n, const struct tls_u16_list *sig_algs,
		     char out[JA4_HASH_HEX + 1])
{
	uint8_t sum[EVP_MAX_MD_SIZE];
	char hex[2 * EVP_MAX_MD_SIZE + 1];
	unsigned int len = 0;
	struct fp_digest d;

	if (n == 0) {
		memcpy(out, ja4_empty_hash, sizeof(ja4_empty_hash));
		return true;
	}
	fp_digest_begin(&d, tw_md_sha256());
	ja4_digest_list(&d, v, n);
	if (sig_algs && ja4_count(sig_algs) > 0) {
		fp_digest_char(&d, '_');
		ja4_digest_list(&d, sig_algs->v, sig_algs->n);
	}
	if (!fp_digest_end(&d, sum, &len) || len < JA4_HASH_HEX / 2)
		return false;
	tw_hex(sum, len, hex);
	memcpy(out, hex, JA4_HASH_HEX);
	out[JA4_HASH_HEX] = '\0';
	return true;
}

static bool ja4_hashes(const struct tls_client_hello *ch, char b[JA4_HASH_HEX + 1],
		       char c[JA4_HASH_HEX + 1])
{
	uint16_t *ciphers, *exts = NULL;
	size_t n_ciphers, n_exts;
	bool ok = false;

	ciphers = ja4_sorted(&ch->ciphers, false, &n_ciphers);
	if (ciphers)
		exts = ja4_sorted(&ch->exts, true, &n_exts);
	if (exts)
		ok = ja4_hash(ciphers, n_ciphers, NULL, b) &&
		     ja4_hash(exts, n_exts, &ch->sig_algs, c);
	free(ciphers);
	free(exts);
	return ok;
}

bool tls_ja4(const struct tls_client_hello *ch, char out[HS_JA4_LEN + 1])
{
	uint16_t version = ch->best_version ? ch->best_version : ch->legacy_version;
	char alpn[3], b[JA4_HASH_HEX + 1], c[JA4_HASH_HEX + 1];

	out[0] = '\0';
	if (!ja4_hashes(ch, b, c)) {
		pr_warn("tls: JA4: SHA-256 failed\n");
		return false;
	}
	ja4_alpn(ch, alpn);
	snprintf(out, HS_JA4_LEN + 1, "t%s%c%02u%02u%s_%s_%s", ja4_version(version),
		 ch->has_sni_ext ? 'd' : 'i', ja4_count(&ch->ciphers),
		 ja4_count(&ch->exts), alpn, b, c);
	return true;
}
