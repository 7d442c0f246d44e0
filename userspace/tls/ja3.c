// SPDX-License-Identifier: MIT
/*
 * JA3 TLS client fingerprint (Salesforce): MD5 of
 *   "version,ciphers,extensions,groups,point_formats"
 * in decimal, list items joined by '-', GREASE values removed.
 */
#include "../common/hex.h"
#include "../common/log.h"
#include "../common/digest.h"
#include "fp_digest.h"
#include "tls_internal.h"

/* ",a-b-c" for a 16-bit list, GREASE skipped. */
static void ja3_list(struct fp_digest *d, const struct tls_u16_list *l)
{
	bool first = true;
	size_t i;

	fp_digest_char(d, ',');
	for (i = 0; i < l->n; i++) {
		if (tls_is_grease(l->v[i]))
			continue;
		if (!first)
			fp_digest_char(d, '-');
		fp_digest_dec(d, l->v[i]);
		first = false;
	}
}

static void ja3_point_formats(struct fp_digest *d, const struct tls_client_hello *ch)
{
	size_t i;

	fp_digest_char(d, ',');
	for (i = 0; i < ch->n_point_formats; i++) {
		if (i)
			fp_digest_char(d, '-');
		fp_digest_dec(d, ch->point_formats[i]);
	}
}

bool tls_ja3(const struct tls_client_hello *ch, char out[HS_JA3_LEN + 1])
{
	uint8_t sum[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	struct fp_digest d;
	bool ok;

	fp_digest_begin(&d, tw_md_md5());
	fp_digest_dec(&d, ch->legacy_version);
	ja3_list(&d, &ch->ciphers);
	ja3_list(&d, &ch->exts);
	ja3_list(&d, &ch->groups);
	ja3_point_formats(&d, ch);
	ok = fp_digest_end(&d, sum, &len) && len == HS_JA3_LEN / 2;
	if (ok) {
		tw_hex(sum, len, out);
	} else {
		out[0] = '\0';
		pr_warn("tls: JA3: MD5 failed\n");
	}
	return ok;
}
