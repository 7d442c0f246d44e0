// SPDX-License-Identifier: MIT
/*
 * The TLS <= 1.2 Certificate message (RFC 5246 7.4.2) and the
 * CertificateStatus message carrying a stapled OCSP response (RFC 6066 8):
 * their DER payloads are copied into the handshake record, which owns them.
 */
#include <stdlib.h>
#include <string.h>

#include "../common/cursor.h"
#include "tls_internal.h"

#define TLS_OCSP_STATUS_TYPE 1

static bool tls_blob_copy(struct hs_blob *b, const uint8_t *p, size_t n)
{
	b->data = malloc(n);
	if (!b->data)
		return false;
	memcpy(b->data, p, n);
	b->len = (uint32_t)n;
	return true;
}

static void tls_chain_release(struct hs_record *r)
{
	while (r->n_chain > 0) {
		r->n_chain--;
		free(r->chain[r->n_chain].data);
		r->chain[r->n_chain].data = NULL;
		r->chain[r->n_chain].len = 0;
	}
	r->chain_truncated = false;
}

static const char *tls_certificate_list(struct cursor *list, struct hs_record *r)
{
	while (cur_left(list) > 0) {
		size_t len = cur_u24(list);
		const uint8_t *der = cur_bytes(list, len);

		if (!der || len == 0)
			return "Certificate: certificate length";
		if (r->n_chain == HS_MAX_CHAIN) {
			r->chain_truncated = true;
			continue;
		}
		if (!tls_blob_copy(&r->chain[r->n_chain], der, len))
			return "Certificate: out of memory";
		r->n_chain++;
	}
	return NULL;
}

/* On error the record keeps no partial chain and cert_visible stays false. */
const char *tls_parse_certificate(const uint8_t *p, size_t n, struct hs_record *r)
{
	struct cursor c = cur_make(p, n);
	size_t list_len = cur_u24(&c);
	struct cursor list = cur_sub(&c, list_len);
	const char *err;

	if (!cur_ok(&list))
		return "Certificate: certificate_list length";
	err = tls_certificate_list(&list, r);
	if (err) {
		tls_chain_release(r);
		return err;
	}
	r->cert_visible = true;
	return NULL;
}

const char *tls_parse_certificate_status(const uint8_t *p, size_t n,
					 struct hs_record *r)
{
	struct cursor c = cur_make(p, n);
	uint8_t type = cur_u8(&c);
	size_t len = cur_u24(&c);
	const uint8_t *der;

	if (!cur_ok(&c))
		return "CertificateStatus: status_type or length";
	if (type != TLS_OCSP_STATUS_TYPE)
		return NULL;    /* ocsp_multi or unknown: nothing we read */
	der = cur_bytes(&c, len);
	if (!der || len == 0)
		return "CertificateStatus: OCSPResponse length";
	if (!tls_blob_copy(&r->staple, der, len))
		return "CertificateStatus: out of memory";
	r->has_staple = true;
	return NULL;
}
