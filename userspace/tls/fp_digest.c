// SPDX-License-Identifier: MIT
#include <string.h>

#include "../common/decimal.h"
#include "fp_digest.h"

void fp_digest_begin(struct fp_digest *d, const EVP_MD *alg)
{
	d->len = 0;
	d->md = alg ? EVP_MD_CTX_new() : NULL;
	d->failed = !d->md || EVP_DigestInit_ex(d->md, alg, NULL) != 1;
}

static void fp_digest_flush(struct fp_digest *d)
{
	if (d->len && !d->failed && EVP_DigestUpdate(d->md, d->buf, d->len) != 1)
		d->failed = true;
	d->len = 0;
}

void fp_digest_put(struct fp_digest *d, const char *s, size_t n)
{
	while (n > 0) {
		size_t take = sizeof(d->buf) - d->len;

		if (take > n)
			take = n;
		memcpy(d->buf + d->len, s, take);
		d->len += take;
		s += take;
		n -= take;
		if (d->len == sizeof(d->buf))
			fp_digest_flush(d);
	}
}

void fp_digest_char(struct fp_digest *d, char c)
{
	fp_digest_put(d, &c, 1);
}

void fp_digest_hex16(struct fp_digest *d, uint16_t v)
{
	static const char digits[] = "0123456789abcdef";
	char s[4] = { digits[v >> 12], digits[(v >> 8) & 15],
		      digits[(v >> 4) & 15], digits[v & 15] };

	fp_digest_put(d, s, sizeof(s));
}

void fp_digest_dec(struct fp_digest *d, unsigned v)
{
	char s[TW_DEC_MAX], *end = s + sizeof(s), *p = tw_dec_before(v, end);

	fp_digest_put(d, p, (size_t)(end - p));
}

bool fp_digest_end(struct fp_digest *d, uint8_t *out, unsigned *len)
{
	bool ok;

	fp_digest_flush(d);
	ok = !d->failed && EVP_DigestFinal_ex(d->md, out, len) == 1;
	EVP_MD_CTX_free(d->md);
	d->md = NULL;
	return ok;
}
