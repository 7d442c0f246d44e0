// SPDX-License-Identifier: MIT
/*
 * JA3 TLS client fingerprint (Salesforce): MD5 of
 *   "version,ciphers,extensions,groups,point_formats"
 * in decimal, list items joined by '-', GREASE values removed.
 */
#include <stdio.h>

#include <openssl/evp.h>

#include "../common/hex.h"
#include "../common/log.h"
#include "tls_internal.h"

static bool ja3_put(EVP_MD_CTX *md, const char *s, int len)
{
	return len > 0 && EVP_DigestUpdate(md, s, (size_t)len) == 1;
}

/* ",a-b-c" for a 16-bit list, GREASE skipped. */
static bool ja3_list(EVP_MD_CTX *md, const struct tls_u16_list *l)
{
	char item[8];
	bool first = true;
	size_t i;

	if (!ja3_put(md, ",", 1))
		return false;
	for (i = 0; i < l->n; i++) {
		if (tls_is_grease(l->v[i]))
			continue;
		if (!ja3_put(md, item, snprintf(item, sizeof(item), "%s%u",
						first ? "" : "-", l->v[i])))
			return false;
		first = false;
	}
	return true;
}

static bool ja3_point_formats(EVP_MD_CTX *md, const struct tls_client_hello *ch)
{
	char item[8];
	size_t i;

	if (!ja3_put(md, ",", 1))
		return false;
	for (i = 0; i < ch->n_point_formats; i++) {
		if (!ja3_put(md, item, snprintf(item, sizeof(item), "%s%u",
						i ? "-" : "", ch->point_formats[i])))
			return false;
	}
	return true;
}

static bool ja3_digest(EVP_MD_CTX *md, const struct tls_client_hello *ch,
		       char out[HS_JA3_LEN + 1])
{
	uint8_t sum[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	char item[8];

	if (EVP_DigestInit_ex(md, EVP_md5(), NULL) != 1 ||
	    !ja3_put(md, item, snprintf(item, sizeof(item), "%u", ch->legacy_version)) ||
	    !ja3_list(md, &ch->ciphers) || !ja3_list(md, &ch->exts) ||
	    !ja3_list(md, &ch->groups) || !ja3_point_formats(md, ch) ||
	    EVP_DigestFinal_ex(md, sum, &len) != 1 || len != HS_JA3_LEN / 2)
		return false;
	tw_hex(sum, len, out);
	return true;
}

bool tls_ja3(const struct tls_client_hello *ch, char out[HS_JA3_LEN + 1])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	bool ok = md && ja3_digest(md, ch, out);

	EVP_MD_CTX_free(md);
	if (!ok) {
		out[0] = '\0';
		pr_warn("tls: JA3: MD5 failed\n");
	}
	return ok;
}
