// SPDX-License-Identifier: MIT
/*
 * The OCSP client: requests, answer checks and the answer cache. The
 * cache holds one entry per certificate (by fingerprint); while a query is
 * in flight the entry keeps references to the certificate and its issuer,
 * which the answer is checked against when it comes back.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cert_info.h"
#include "common/strmap.h"
#include "ocsp_client.h"

#define OCSP_CACHE_MAX 20000

struct ocsp_entry {
	enum ocsp_state state;
	struct ocsp_answer answer;
	char url[HTTP_URL_MAX];
	bool in_flight;
	int64_t expires;          /* wall clock: ask again after this */
	X509 *cert, *issuer;      /* held while a query is in flight */
};

struct ocsp_client {
	struct http_pool *pool;
	struct strmap *cache;     /* sha256 of the certificate -> ocsp_entry */
	uint64_t cleared;         /* ocsp_client_cleared */
};

bool ocsp_responder_url(X509 *cert, char *url, size_t len)
{
	STACK_OF(OPENSSL_STRING) *urls = cert ? X509_get1_ocsp(cert) : NULL;
	bool found = false;
	int i;

	for (i = 0; urls && i < sk_OPENSSL_STRING_num(urls) && !found; i++) {
		const char *u = sk_OPENSSL_STRING_value(urls, i);
		size_t n = strlen(u), k;

		if (n >= len || n >= HTTP_URL_MAX ||
		    (strncasecmp(u, "http://", 7) && strncasecmp(u, "https://", 8)))
			continue;
		for (k = 0; k < n && u[k] > 0x20 && u[k] < 0x7f; k++)
			;
		if (k != n)
			continue;
		memcpy(url, u, n + 1);
		found = true;
	}
	X509_email_free(urls);
	ERR_clear_error();
	return found;
}

int ocsp_request_der(X509 *cert, X509 *issuer, uint8_t **der, size_t *len)
{
	OCSP_REQUEST *req = OCSP_REQUEST_new();
	OCSP_CERTID *id = OCSP_cert_to_id(EVP_sha1(), cert, issuer);
	unsigned char *buf = NULL;
	int n, rc = -1;

	*der = NULL;
	if (!req || !id || !OCSP_request_add0_id(req, id))
		goto out;
	id = NULL;   /* the request owns it now */
	n = i2d_OCSP_REQUEST(req, &buf);
	if (n <= 0 || !(*der = malloc((size_t)n)))
		goto out;
	memcpy(*der, buf, (size_t)n);
	*len = (size_t)n;
	rc = 0;
out:
	OPENSSL_free(buf);
	OCSP_CERTID_free(id);
	OCSP_REQUEST_free(req);
	ERR_clear_error();
	return rc;
}

static OCSP_BASICRESP *ocsp_decode(const uint8_t *der, size_t len,
				   struct ocsp_answer *out)
{
	const unsigned char *p = der;
	OCSP_RESPONSE *resp = NULL;
	OCSP_BASICRESP *bs = NULL;
	int status;

	if (der && len > 0 && len <= LONG_MAX)
		resp = d2i_OCSP_RESPONSE(NULL, &p, (long)len);
	if (!resp) {
		snprintf(out->error, sizeof(out->error), "not a DER OCSP response");
		return NULL;
	}
	status = OCSP_response_status(resp);
	if ((size_t)(p - der) != len)
		snprintf(out->error, sizeof(out->error),
			 "trailing bytes after the OCSP response");
	else if (status != OCSP_RESPONSE_STATUS_SUCCESSFUL)
		snprintf(out->error, sizeof(out->error), "responder status %s",
			 OCSP_response_status_str(status));
	else if (!(bs = OCSP_response_get1_basic(resp)))
		snprintf(out->error, sizeof(out->error), "not a basic OCSP response");
	OCSP_RESPONSE_free(resp);
	return bs;
}

/*
 * Only @issuer is trusted: a response it signed needs no chain
 * (OCSP_TRUSTOTHER); a delegated responder certificate in the response
 * must chain to it (PARTIAL_CHAIN: the issuer is usually an intermediate)
 * and carry id-kp-OCSPSigning, which OpenSSL checks.
 */
static bool ocsp_signed_by_issuer(OCSP_BASICRESP *bs, X509 *issuer)
{
	X509_STORE *store = X509_STORE_new();
	STACK_OF(X509) *certs = sk_X509_new_null();
	bool ok = false;

	if (store && certs && X509_STORE_add_cert(store, issuer) &&
	    sk_X509_push(certs, issuer))
		ok = OCSP_basic_verify(bs, certs, store,
				       OCSP_TRUSTOTHER | OCSP_PARTIAL_CHAIN) == 1;
	sk_X509_free(certs);
	X509_STORE_free(store);
	return ok;
}

static bool ocsp_time(const ASN1_GENERALIZEDTIME *t, int64_t *out)
{
	*out = 0;
	return !t || cert_time_to_epoch(t, out);
}

static void ocsp_read_status(OCSP_BASICRESP *bs, OCSP_CERTID *id, int64_t now,
			     struct ocsp_answer *out)
{
	ASN1_GENERALIZEDTIME *rev = NULL, *thisupd = NULL, *nextupd = NULL;
	int st = -1, reason = -1;

	if (!OCSP_resp_find_status(bs, id, &st, &reason, &rev, &thisupd, &nextupd)) {
		snprintf(out->error, sizeof(out->error),
			 "the answer is not about this certificate");
		return;
	}
	if (!ocsp_time(thisupd, &out->this_update) ||
	    !ocsp_time(nextupd, &out->next_update) || !ocsp_time(rev, &out->revoked_at) ||
	    !thisupd) {
		snprintf(out->error, sizeof(out->error), "malformed times in the answer");
		return;
	}
	if (out->this_update > now + OCSP_SKEW_S) {
		snprintf(out->error, sizeof(out->error), "answer thisUpdate is in the future");
		return;
	}
	if (out->next_update && out->next_update < now - OCSP_SKEW_S) {
		snprintf(out->error, sizeof(out->error), "answer is past its nextUpdate");
		return;
	}
	out->status = st == V_OCSP_CERTSTATUS_GOOD ? OCSP_ST_GOOD :
		      st == V_OCSP_CERTSTATUS_REVOKED ? OCSP_ST_REVOKED : OCSP_ST_UNKNOWN;
	out->reason = st == V_OCSP_CERTSTATUS_REVOKED && reason >= 0 ? reason : -1;
	if (st != V_OCSP_CERTSTATUS_REVOKED)
		out->revoked_at = 0;
	out->ok = true;
}

void ocsp_answer_check(const uint8_t *der, size_t len, X509 *cert, X509 *issuer,
		       int64_t now, struct ocsp_answer *out)
{
	OCSP_BASICRESP *bs;
	OCSP_CERTID *id = NULL;

	memset(out, 0, sizeof(*out));
	out->status = OCSP_ST_UNKNOWN;
	out->reason = -1;
	if (!cert || !issuer) {
		snprintf(out->error, sizeof(out->error), "no issuer to check against");
		return;
	}
	bs = ocsp_decode(der, len, out);
	if (!bs)
		goto out;
	cert_time_to_epoch(OCSP_resp_get0_produced_at(bs), &out->produced_at);
	if (!ocsp_signed_by_issuer(bs, issuer)) {
		snprintf(out->error, sizeof(out->error),
			 "signature does not verify with the issuer's key "
			 "or a responder it authorised");
		goto out;
	}
	id = OCSP_cert_to_id(EVP_sha1(), cert, issuer);
	if (!id) {
		snprintf(out->error, sizeof(out->error), "cannot build the CertID");
		goto out;
	}
	ocsp_read_status(bs, id, now, out);
out:
	OCSP_CERTID_free(id);
	OCSP_BASICRESP_free(bs);
	ERR_clear_error();
}

struct ocsp_client *ocsp_client_new(struct http_pool *pool)
{
	struct ocsp_client *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->pool = pool;
	c->cache = strmap_new(sizeof(struct ocsp_entry));
	if (!c->cache) {
		free(c);
		return NULL;
	}
	return c;
}

static void ocsp_entry_drop_refs(struct ocsp_entry *e)
{
	X509_free(e->cert);
	X509_free(e->issuer);
	e->cert = e->issuer = NULL;
}

static void ocsp_cache_clear(struct ocsp_client *c)
{
	const char *key;
	size_t i, len;
	void *v;

	for (i = 0; strmap_at(c->cache, i, &key, &len, &v); i++)
		ocsp_entry_drop_refs(v);
	strmap_clear(c->cache);
}

void ocsp_client_free(struct ocsp_client *c)
{
	if (!c)
		return;
	ocsp_cache_clear(c);
	strmap_free(c->cache);
	free(c);
}

static void ocsp_fail(struct ocsp_entry *e, int64_t now, const char *why)
{
	/* A refresh that fails keeps an answer that is still valid. */
	if (e->state == OCSP_ANSWERED && e->answer.next_update > now) {
		e->expires = now + OCSP_FAIL_RETRY_S;
		return;
	}
	memset(&e->answer, 0, sizeof(e->answer));
	e->answer.status = OCSP_ST_UNKNOWN;
	e->answer.reason = -1;
	snprintf(e->answer.error, sizeof(e->answer.error), "%s", why);
	e->state = OCSP_FAILED;
	e->expires = now + OCSP_FAIL_RETRY_S;
}

static void ocsp_start(struct ocsp_client *c, struct ocsp_entry *e, X509 *cert,
		       X509 *issuer, const uint8_t key[32], int64_t now)
{
	uint8_t *req = NULL;
	size_t len = 0;
	char why[128];
	int rc;

	if (ocsp_request_der(cert, issuer, &req, &len)) {
		ocsp_fail(e, now, "cannot build the OCSP request");
		return;
	}
	rc = http_pool_submit(c->pool, OCSP_KIND, e->url, key, 32,
			      "application/ocsp-request", req, len);
	if (rc) {
		snprintf(why, sizeof(why), "query not sent: %s",
			 http_pool_submit_strerror(rc));
		ocsp_fail(e, now, why);
		free(req);
		return;
	}
	free(req);
	X509_up_ref(cert);
	X509_up_ref(issuer);
	e->cert = cert;
	e->issuer = issuer;
	e->in_flight = true;
	if (e->state == OCSP_NOT_ASKED)
		e->state = OCSP_PENDING;
}

void ocsp_client_lookup(struct ocsp_client *c, X509 *cert, X509 *issuer,
			const uint8_t key[32], const char *url, int64_t now,
			bool may_query, struct ocsp_lookup *out)
{
	struct ocsp_entry *e;

	memset(out, 0, sizeof(*out));
	out->state = OCSP_NOT_ASKED;
	if (!c || !cert || !issuer || !url)
		return;
	snprintf(out->url, sizeof(out->url), "%s", url);
	e = strmap_get(c->cache, key, 32);
	if (!e && !may_query)
		return;
	if (!e) {
		if (strmap_count(c->cache) >= OCSP_CACHE_MAX) {
			ocsp_cache_clear(c);
			c->cleared++;
		}
		e = strmap_put(c->cache, key, 32, NULL);
		if (!e)
			return;
		snprintf(e->url, sizeof(e->url), "%s", url);
	}
	if (may_query && !e->in_flight && now >= e->expires) {
		ocsp_start(c, e, cert, issuer, key, now);
		out->changed = true;
	}
	out->state = e->state;
	out->answer = e->answer;
	out->in_flight = e->in_flight;
}

uint64_t ocsp_client_cleared(const struct ocsp_client *c)
{
	return c ? c->cleared : 0;
}

static int64_t ocsp_ttl_end(const struct ocsp_answer *a, int64_t now)
{
	int64_t end = a->next_update ? a->next_update : now + OCSP_DEFAULT_TTL_S;

	if (end > now + OCSP_MAX_TTL_S)
		end = now + OCSP_MAX_TTL_S;
	return end > now ? end : now + OCSP_FAIL_RETRY_S;
}

int ocsp_client_complete(struct ocsp_client *c, const struct http_result *r,
			 int64_t now, char *problem, size_t plen)
{
	struct ocsp_entry *e;
	struct ocsp_answer a;
	char why[300];

	if (!c || r->key_len != 32 || !(e = strmap_get(c->cache, r->key, 32)) ||
	    !e->in_flight)
		return 0;   /* the cache was cleared meanwhile: nothing to update */
	e->in_flight = false;
	if (r->error[0]) {
		snprintf(why, sizeof(why), "%s", r->error);
	} else {
		ocsp_answer_check(r->body, r->body_len, e->cert, e->issuer, now, &a);
		if (a.ok) {
			e->answer = a;
			e->state = OCSP_ANSWERED;
			e->expires = ocsp_ttl_end(&a, now);
			ocsp_entry_drop_refs(e);
			return 0;
		}
		snprintf(why, sizeof(why), "%s", a.error);
	}
	ocsp_fail(e, now, why);
	ocsp_entry_drop_refs(e);
	snprintf(problem, plen, "OCSP responder %s: %s", r->url, why);
	return -1;
}
