// SPDX-License-Identifier: MIT
/*
 * A stapled OCSP response: decode, find the answer about our leaf, and
 * check its signature against the issuer the server sent - and nothing
 * else. The system trust store is never consulted: the question is "did
 * this leaf's CA (or its delegated responder) sign this", not "is the CA
 * trusted", which is chain verification's job.
 */
#include <limits.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "common/stringify.h"
#include "ocsp_client.h"
#include "served_chain.h"
#include "staple.h"


const char *ocsp_status_name(enum ocsp_cert_status s)
{
	switch (s) {
	case OCSP_ST_GOOD:
		return "good";
	case OCSP_ST_REVOKED:
		return "revoked";
	case OCSP_ST_UNKNOWN:
		return "unknown";
	}
	return "unknown";
}

static const char *staple_responder_error(int status)
{
	switch (status) {
	case OCSP_RESPONSE_STATUS_MALFORMEDREQUEST:
		return "OCSP responder status malformedRequest";
	case OCSP_RESPONSE_STATUS_INTERNALERROR:
		return "OCSP responder status internalError";
	case OCSP_RESPONSE_STATUS_TRYLATER:
		return "OCSP responder status tryLater";
	case OCSP_RESPONSE_STATUS_SIGREQUIRED:
		return "OCSP responder status sigRequired";
	case OCSP_RESPONSE_STATUS_UNAUTHORIZED:
		return "OCSP responder status unauthorized";
	}
	return "OCSP responder status not successful";
}

static OCSP_BASICRESP *staple_decode(const uint8_t *der, size_t len,
				     const char **err)
{
	const unsigned char *p = der;
	OCSP_RESPONSE *resp;
	OCSP_BASICRESP *bs = NULL;
	int status;

	if (!der || len == 0 || len > LONG_MAX) {
		*err = "empty or oversized OCSP response";
		return NULL;
	}
	resp = d2i_OCSP_RESPONSE(NULL, &p, (long)len);
	if (!resp) {
		*err = "not a DER OCSP response";
		return NULL;
	}
	status = OCSP_response_status(resp);
	if ((size_t)(p - der) != len)
		*err = "trailing bytes after the OCSP response";
	else if (status != OCSP_RESPONSE_STATUS_SUCCESSFUL)
		*err = staple_responder_error(status);
	else if (!(bs = OCSP_response_get1_basic(resp)))
		*err = "not a basic OCSP response";
	OCSP_RESPONSE_free(resp);
	return bs;
}

/*
 * Does the SingleResponse's CertID name @leaf? With the issuer, the whole
 * CertID is compared, hashed with the digest the responder chose (SHA-1 or
 * SHA-256 in practice). Without it, only the serial can be compared.
 */
static bool staple_id_matches(const OCSP_CERTID *cid, X509 *leaf, X509 *issuer)
{
	ASN1_OBJECT *md_oid = NULL;
	ASN1_INTEGER *serial = NULL;
	const EVP_MD *md;
	OCSP_CERTID *ours;
	bool match;

	if (!OCSP_id_get0_info(NULL, &md_oid, NULL, &serial, (OCSP_CERTID *)cid) ||
	    !serial)
		return false;
	if (ASN1_INTEGER_cmp(serial, X509_get0_serialNumber(leaf)) != 0)
		return false;
	if (!issuer)
		return true;
	md = md_oid ? EVP_get_digestbyobj(md_oid) : NULL;
	if (!md)
		return false;
	ours = OCSP_cert_to_id(md, leaf, issuer);
	if (!ours)
		return false;
	match = OCSP_id_cmp(ours, cid) == 0;
	OCSP_CERTID_free(ours);
	return match;
}

static OCSP_SINGLERESP *staple_find_single(OCSP_BASICRESP *bs, X509 *leaf,
					   X509 *issuer)
{
	int i, n = OCSP_resp_count(bs);

	for (i = 0; i < n; i++) {
		OCSP_SINGLERESP *single = OCSP_resp_get0(bs, i);

		if (single && staple_id_matches(OCSP_SINGLERESP_get0_id(single),
						leaf, issuer))
			return single;
	}
	return NULL;
}

/* Optional times stay 0 when absent; a present but malformed one fails. */
static bool staple_time(const ASN1_GENERALIZEDTIME *t, int64_t *out)
{
	if (!t)
		return true;
	return cert_time_to_epoch(t, out);
}

static const char *staple_read_single(OCSP_SINGLERESP *single,
				      struct staple_info *out)
{
	ASN1_GENERALIZEDTIME *revtime = NULL, *thisupd = NULL, *nextupd = NULL;
	int reason = OCSP_REVOKED_STATUS_NOSTATUS;
	int st = OCSP_single_get0_status(single, &reason, &revtime, &thisupd,
					 &nextupd);

	if (!staple_time(thisupd, &out->this_update) ||
	    !staple_time(nextupd, &out->next_update))
		return "malformed update time in the OCSP response";
	switch (st) {
	case V_OCSP_CERTSTATUS_GOOD:
		out->status = OCSP_ST_GOOD;
		break;
	case V_OCSP_CERTSTATUS_REVOKED:
		out->status = OCSP_ST_REVOKED;
		if (!staple_time(revtime, &out->revoked_at))
			return "malformed revocation time in the OCSP response";
		if (reason >= 0)
			out->revocation_reason = reason;
		break;
	default:
		out->status = OCSP_ST_UNKNOWN;
	}
	return NULL;
}

/*
 * The store trusts the issuer alone. OCSP_TRUSTOTHER: a response signed by
 * the issuer itself (found in @certs) needs no chain. A delegated responder
 * included in the response must chain to the issuer (PARTIAL_CHAIN: the
 * issuer is usually an intermediate, not a root) and carry the OCSPSigning
 * extended key usage, which OpenSSL checks. Validity of the responder
 * certificate is judged when the response was produced, so old captures
 * can still be verified.
 */
static bool staple_verify(OCSP_BASICRESP *bs, X509 *issuer, int64_t produced_at)
{
	X509_STORE *store = X509_STORE_new();
	STACK_OF(X509) *certs = sk_X509_new_null();
	bool ok = false;

	if (!store || !certs || !X509_STORE_add_cert(store, issuer) ||
	    !sk_X509_push(certs, issuer))
		goto out;
	if (produced_at)
		X509_VERIFY_PARAM_set_time(X509_STORE_get0_param(store),
					   (time_t)produced_at);
	ok = OCSP_basic_verify(bs, certs, store,
			       OCSP_TRUSTOTHER | OCSP_PARTIAL_CHAIN) == 1;
out:
	sk_X509_free(certs);    /* the stack only borrows issuer */
	X509_STORE_free(store);
	return ok;
}

static void staple_init(struct staple_info *out)
{
	memset(out, 0, sizeof(*out));
	out->status = OCSP_ST_UNKNOWN;
	out->revocation_reason = -1;
}

void staple_check(const uint8_t *der, size_t len, const struct cert_info *leaf,
		  const struct cert_info *issuer, struct staple_info *out)
{
	X509 *leaf_x = leaf ? leaf->x509 : NULL;
	X509 *issuer_x = issuer ? issuer->x509 : NULL;
	OCSP_SINGLERESP *single = NULL;
	OCSP_BASICRESP *bs;
	const char *err = NULL;

	staple_init(out);
	bs = staple_decode(der, len, &err);
	if (!bs)
		goto done;
	if (!cert_time_to_epoch(OCSP_resp_get0_produced_at(bs), &out->produced_at)) {
		err = "malformed producedAt in the OCSP response";
		goto done;
	}
	if (leaf_x)
		single = staple_find_single(bs, leaf_x, issuer_x);
	if (single) {
		err = staple_read_single(single, out);
		if (err)
			goto done;
		out->matches_leaf = true;
		out->verified = issuer_x && staple_verify(bs, issuer_x,
							   out->produced_at);
	}
	out->parsed = true;
done:
	if (!out->parsed) {
		/* A half-read response reports nothing but the reason. */
		staple_init(out);
		out->error = err;
	}
	OCSP_BASICRESP_free(bs);
	ERR_clear_error();
}

const struct cert_info *staple_served_issuer(const struct cert_info *const *chain,
					     int n)
{
	int i = n > 0 && chain[0] ?
		served_issuer_index(chain, n, chain[0]->x509, 1u) : -1;

	return i < 0 ? NULL : chain[i];
}

void staple_check_time(struct staple_info *out, int64_t at)
{
	if (!out->parsed || !out->matches_leaf ||
	    out->this_update <= at + OCSP_SKEW_S)
		return;
	staple_init(out);
	out->error = "OCSP thisUpdate more than " TW_STRINGIFY(OCSP_SKEW_S)
		     " s after the handshake";
}
