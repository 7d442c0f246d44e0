/* SPDX-License-Identifier: MIT */
/*
 * OCSP queries to the responder named in a certificate's AIA: the request,
 * the check of the answer (signed by the issuer or its delegated
 * responder, about this very certificate, within its validity), and a
 * cache of answers until their nextUpdate. Queries go out through the
 * HTTP pool (bounded concurrency, timeouts); answers come back when the
 * owner hands the finished job to ocsp_client_complete(). Everything but
 * the pool runs on the owner's thread.
 */
#ifndef TW_OCSP_CLIENT_H
#define TW_OCSP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/http_pool.h"
#include "staple.h"   /* enum ocsp_cert_status */

typedef struct x509_st X509;

#define OCSP_KIND 1           /* http_pool job kind */
#define OCSP_FAIL_RETRY_S 60  /* a failed query is retried after this */
#define OCSP_DEFAULT_TTL_S 3600 /* cache an answer without nextUpdate this long */
#define OCSP_MAX_TTL_S (7 * 86400)
#define OCSP_SKEW_S 300       /* clock difference tolerated on answer times */

struct ocsp_answer {
	bool ok;                      /* a verified answer about the certificate */
	enum ocsp_cert_status status; /* when ok */
	int64_t this_update, next_update, produced_at;
	int64_t revoked_at;           /* 0 unless revoked */
	int reason;                   /* CRLReason; -1 when not given */
	char error[200];              /* when !ok: why */
};

/* The first http(s) OCSP responder URL of @cert's AIA. */
bool ocsp_responder_url(X509 *cert, char *url, size_t len);

/* DER OCSPRequest for @cert (SHA-1 CertID, no nonce, as RFC 5019 wants);
 * *@der is malloc'd. 0 or -1. */
int ocsp_request_der(X509 *cert, X509 *issuer, uint8_t **der, size_t *len);

/*
 * Checks a responder's DER answer about @cert: successful, basic, signed
 * by @issuer or by a responder certificate @issuer issued for OCSP
 * signing, a SingleResponse for exactly this CertID, thisUpdate not in the
 * future and nextUpdate not past at @now (seconds, OCSP_SKEW_S leeway).
 */
void ocsp_answer_check(const uint8_t *der, size_t len, X509 *cert, X509 *issuer,
		       int64_t now, struct ocsp_answer *out);

enum ocsp_state {
	OCSP_NOT_ASKED,      /* no responder URL, or querying not allowed */
	OCSP_PENDING,        /* first query in flight, nothing known yet */
	OCSP_ANSWERED,       /* answer holds a verified answer */
	OCSP_FAILED,         /* the last query failed: answer.error says why */
};

struct ocsp_lookup {
	enum ocsp_state state;
	struct ocsp_answer answer;
	char url[HTTP_URL_MAX];
	bool in_flight;      /* a query is out (a first one, or a refresh) */
	bool changed;        /* this lookup started a query or recorded that
	                      * it could not: what others asking about the
	                      * certificate are told may differ now */
};

struct ocsp_client;

struct ocsp_client *ocsp_client_new(struct http_pool *pool);
void ocsp_client_free(struct ocsp_client *c);

/*
 * What is known about @cert (issued by @issuer; @key is the SHA-256 of its
 * DER, @url its responder as ocsp_responder_url() gives it, NULL when it
 * names none) at wall-clock @now. With @may_query, a query is started when
 * there is no fresh answer and none is in flight; without it nothing is
 * sent.
 */
void ocsp_client_lookup(struct ocsp_client *c, X509 *cert, X509 *issuer,
			const uint8_t key[32], const char *url, int64_t now,
			bool may_query, struct ocsp_lookup *out);

/* How many times the cache was emptied (full, OCSP_CACHE_MAX answers):
 * every lookup may tell something else since. */
uint64_t ocsp_client_cleared(const struct ocsp_client *c);

/*
 * Takes a finished pool job of kind OCSP_KIND: checks the answer and
 * caches it. Returns 0, or -1 when the query failed, with @problem saying
 * so (for an "agent" event).
 */
int ocsp_client_complete(struct ocsp_client *c, const struct http_result *r,
			 int64_t now, char *problem, size_t plen);

#endif
