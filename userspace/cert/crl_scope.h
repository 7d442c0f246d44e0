/* SPDX-License-Identifier: MIT */
/*
 * Which certificates a CRL speaks for (RFC 5280 5.2.4, 5.2.5, 6.3.3): a
 * CRL without an issuingDistributionPoint is a full CRL of its issuer; one
 * with it covers only the certificates whose CRL distribution point names
 * it, and only users' or only CAs' certificates when it says so. A delta
 * CRL, or one limited to some revocation reasons (or indirect), lists
 * revocations but cannot say a certificate is not revoked: "partial".
 * Decoded once per CRL with OpenSSL's accessors; owner thread only.
 */
#ifndef TW_CRL_SCOPE_H
#define TW_CRL_SCOPE_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/x509.h>
#include <openssl/x509v3.h>

enum crl_kind {
	CRL_KIND_COMPLETE,   /* not listed means not revoked, in its scope */
	CRL_KIND_PARTIAL,    /* onlySomeReasons or indirectCRL: revoked only */
	CRL_KIND_DELTA,      /* deltaCRLIndicator: revoked only */
};

struct crl_scope {
	ISSUING_DIST_POINT *idp;            /* NULL: a full CRL */
	const ASN1_OCTET_STRING *idp_raw;   /* its encoding, in the CRL: two CRLs
	                                     * of one issuer with equal ones (or
	                                     * none) have the same scope */
	ASN1_INTEGER *number;               /* cRLNumber; NULL when absent */
	ASN1_INTEGER *delta_base;           /* a delta's deltaCRLIndicator: the
	                                     * number of the complete CRL it
	                                     * builds on; NULL otherwise */
	enum crl_kind kind;
};

/* Reads @crl's scope into @out (which then refers into @crl). -1 with
 * @err when its issuingDistributionPoint is present but malformed or
 * repeated: a CRL whose scope is not known answers for nothing. */
int crl_scope_read(X509_CRL *crl, struct crl_scope *out, char *err, size_t errlen);
void crl_scope_release(struct crl_scope *s);

/* True when @a and @b (of the same issuer) have the same scope: equal
 * issuingDistributionPoints, or none. A complete CRL and the delta CRLs
 * of one scope are compared with one another (crl.c). */
bool crl_scope_same(const struct crl_scope *a, const struct crl_scope *b);

/* -1, 0, 1: cRLNumber @a below, equal to, above @b; both must be non-NULL.
 * Also compares a delta's base number with a complete CRL's number. */
int crl_number_cmp(const ASN1_INTEGER *a, const ASN1_INTEGER *b);

/* The certificate being checked; its distribution points are decoded
 * only when a CRL with a distributionPoint of its own is met. */
struct crl_subject {
	X509 *cert;
	STACK_OF(DIST_POINT) *dps;
	bool dps_read;
};

void crl_subject_init(struct crl_subject *s, X509 *cert);
void crl_subject_release(struct crl_subject *s);

/* Does a CRL of @subject's issuer with scope @sc speak for @subject? */
bool crl_scope_covers(const struct crl_scope *sc, struct crl_subject *subject);

#endif
