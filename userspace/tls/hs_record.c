// SPDX-License-Identifier: MIT
/* The handshake record's life cycle and the names sinks print for it. */
#include <stdlib.h>
#include <string.h>

#include "hs_record.h"

void hs_record_init(struct hs_record *r)
{
	memset(r, 0, sizeof(*r));
	r->outcome = HS_INCOMPLETE;
}

const struct key_offer *hs_record_key_offer(const struct hs_record *r)
{
	return r->version == 0x0304 ? &r->keys_tls13 : &r->keys_tls12;
}

static void hs_blob_release(struct hs_blob *b)
{
	free(b->data);
	b->data = NULL;
	b->len = 0;
}

struct hs_string *hs_record_alloc_alpn(struct hs_record *r, uint8_t n)
{
	free(r->alpn);
	r->alpn = calloc(n, sizeof(*r->alpn));
	r->n_alpn = r->alpn ? n : 0;
	return r->alpn;
}

void hs_record_release(struct hs_record *r)
{
	uint8_t i;

	for (i = 0; i < r->n_chain && i < HS_MAX_CHAIN; i++)
		hs_blob_release(&r->chain[i]);
	r->n_chain = 0;
	hs_blob_release(&r->staple);
	r->has_staple = false;
	free(r->alpn);
	r->alpn = NULL;
	r->n_alpn = 0;
}

const char *hs_version_name(uint16_t version)
{
	switch (version) {
	case 0x0300: return "SSL3.0";
	case 0x0301: return "TLS1.0";
	case 0x0302: return "TLS1.1";
	case 0x0303: return "TLS1.2";
	case 0x0304: return "TLS1.3";
	default:     return NULL;
	}
}

const char *hs_starttls_name(uint8_t protocol)
{
	static const char *const names[HS_STARTTLS__COUNT] = {
#define HS_STARTTLS_NAME(id, name) [HS_STARTTLS_##id] = name,
		HS_STARTTLS_PROTOCOLS(HS_STARTTLS_NAME)
#undef HS_STARTTLS_NAME
	};

	return protocol < HS_STARTTLS__COUNT ? names[protocol] : NULL;
}

const char *hs_outcome_name(enum hs_outcome o)
{
	switch (o) {
	case HS_INCOMPLETE: return "incomplete";
	case HS_OK:         return "ok";
	case HS_FAILED:     return "failed";
	case HS_ABORTED:    return "aborted";
	default:            return NULL;
	}
}

const char *hs_alert_level_name(uint8_t level)
{
	switch (level) {
	case HS_ALERT_WARNING: return "warning";
	case HS_ALERT_FATAL:   return "fatal";
	case HS_ALERT_UNKNOWN: return "unknown";
	default:               return NULL;
	}
}

/* RFC 8446 6, plus the TLS 1.2 and extension RFCs' values still seen. */
const char *hs_alert_description_name(uint8_t d)
{
	switch (d) {
	case 0:   return "close_notify";
	case 10:  return "unexpected_message";
	case 20:  return "bad_record_mac";
	case 21:  return "decryption_failed";
	case 22:  return "record_overflow";
	case 30:  return "decompression_failure";
	case 40:  return "handshake_failure";
	case 41:  return "no_certificate";
	case 42:  return "bad_certificate";
	case 43:  return "unsupported_certificate";
	case 44:  return "certificate_revoked";
	case 45:  return "certificate_expired";
	case 46:  return "certificate_unknown";
	case 47:  return "illegal_parameter";
	case 48:  return "unknown_ca";
	case 49:  return "access_denied";
	case 50:  return "decode_error";
	case 51:  return "decrypt_error";
	case 60:  return "export_restriction";
	case 70:  return "protocol_version";
	case 71:  return "insufficient_security";
	case 80:  return "internal_error";
	case 86:  return "inappropriate_fallback";
	case 90:  return "user_canceled";
	case 100: return "no_renegotiation";
	case 109: return "missing_extension";
	case 110: return "unsupported_extension";
	case 111: return "certificate_unobtainable";
	case 112: return "unrecognized_name";
	case 113: return "bad_certificate_status_response";
	case 114: return "bad_certificate_hash_value";
	case 115: return "unknown_psk_identity";
	case 116: return "certificate_required";
	case 120: return "no_application_protocol";
	case 121: return "ech_required";
	default:  return NULL;
	}
}

const char *hs_chain_error_name(enum hs_chain_error e)
{
	switch (e) {
	case HS_CHAIN_TOO_LARGE: return "too_large";
	case HS_CHAIN_TRUNCATED: return "truncated";
	default:                 return NULL;
	}
}
