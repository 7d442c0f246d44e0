/* SPDX-License-Identifier: MIT */
/*
 * Certificate revocation lists: loaded from files (--crl, PEM or DER) or
 * added from bytes fetched from a distribution point, and the question
 * "does the CA that issued this certificate list it as revoked?".
 * A CRL answers only after its signature verified with the issuer's key.
 * Not thread-safe: one owner (the pipeline thread).
 */
#ifndef TW_CRL_H
#define TW_CRL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "staple.h"   /* enum ocsp_cert_status */

typedef struct x509_st X509;
typedef struct X509_name_st X509_NAME;

#define CRL_URL_MAX 256
#define CRL_ORIGIN_MAX 256
#define CRL_MAX_BYTES (32u << 20)   /* a larger CRL file or download is refused */

struct crl_store;

struct crl_store *crl_store_new(void);
void crl_store_free(struct crl_store *s);

/*
 * Loads every CRL of @path: one DER CRL, or PEM holding one or more.
 * -1 and @err naming the file when it is unreadable or holds no
 * well-formed CRL (anything but CRLs after the PEM blocks is ignored;
 * DER must be exactly one CRL).
 */
int crl_store_load_file(struct crl_store *s, const char *path, char *err,
			size_t errlen);

/*
 * Adds the CRL(s) in @buf (DER or PEM), remembering @origin (a file name
 * or URL, shown in details). With @replace, CRLs added earlier from the
 * same origin are dropped once all of @buf's are in (a refreshed
 * download). Returns the number of CRLs added (>= 1), or -1 with @err
 * having added none and dropped none.
 */
int crl_store_add(struct crl_store *s, const uint8_t *buf, size_t len,
		  const char *origin, bool replace, char *err, size_t errlen);

size_t crl_store_count(const struct crl_store *s);

/* Drops the CRLs added from @origin (a URL no longer followed). */
void crl_store_forget(struct crl_store *s, const char *origin);

/* The earliest nextUpdate of the CRLs added from @origin; 0 if none has
 * one (or none is there). */
int64_t crl_store_next_update(const struct crl_store *s, const char *origin);

/* Calls @fn with the issuer name of each CRL added from @origin: the
 * certificates whose revocation those CRLs can answer (crl_check matches
 * the issuer's subject to it). */
void crl_store_origin_issuers(const struct crl_store *s, const char *origin,
			      void (*fn)(void *ctx, const X509_NAME *issuer),
			      void *ctx);

struct crl_answer {
	/* GOOD: a CRL of the issuer, signature verified, does not list the
	 * certificate; REVOKED: it does; UNKNOWN: no usable CRL. */
	enum ocsp_cert_status status;
	int64_t revoked_at;           /* 0 unless revoked */
	int reason;                   /* CRLReason code; -1 when not given */
	int64_t this_update;          /* of the CRL that answered */
	int64_t next_update;          /* 0 when absent */
	bool stale;                   /* that CRL was past nextUpdate at @at */
	int bad_signatures;           /* CRLs with the issuer's name whose
	                               * signature did not verify (ignored) */
	char origin[CRL_ORIGIN_MAX];  /* file or URL of the answering CRL */
};

/*
 * Looks @cert up in the CRLs issued by @issuer (name match, signature by
 * the issuer's key) whose scope covers it (crl_scope.h), using of each
 * scope only its newest complete CRL, its newest delta, if newer, and the
 * newest delta built on that complete CRL (the order: crl.c, crl_order).
 * A listed certificate is revoked whatever its revocation date: the CA
 * says so now, unless the removeFromCRL of the delta built on the complete
 * CRL releases that CRL's entry. Only a complete CRL (or the delta
 * that released its entry) says GOOD; delta and reason-limited ones
 * otherwise only revoke. @at (seconds) only decides "stale":
 * what a stale GOOD means is the caller's (revocation.c: unknown).
 */
void crl_check(struct crl_store *s, X509 *cert, X509 *issuer, int64_t at,
	       struct crl_answer *out);

/* The http(s) URLs of @cert's CRL distribution points (at most @max);
 * returns how many. */
int crl_distribution_urls(X509 *cert, char urls[][CRL_URL_MAX], int max);

/* "keyCompromise" for a CRLReason code; NULL for -1 or unknown codes. */
const char *crl_reason_name(int reason);

#endif
