/* SPDX-License-Identifier: MIT */
/* A stapled OCSP response (CertificateStatus): parsed and checked. */
#ifndef TW_STAPLE_H
#define TW_STAPLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cert_info.h"

enum ocsp_cert_status { OCSP_ST_GOOD, OCSP_ST_REVOKED, OCSP_ST_UNKNOWN };

struct staple_info {
	bool parsed;              /* a well-formed, successful OCSP response */
	const char *error;        /* static reason when !parsed */
	enum ocsp_cert_status status;
	bool matches_leaf;        /* a SingleResponse for the leaf's serial/issuer */
	bool verified;            /* signature verified against the issuer from the chain */
	int64_t this_update;      /* 0 if absent */
	int64_t next_update;      /* 0 if absent */
	int64_t produced_at;
	int64_t revoked_at;       /* 0 unless revoked */
	int revocation_reason;    /* -1 unless given */
};

/*
 * Parses @der for @leaf, issued by @issuer (may be NULL when the chain has
 * only the leaf: then verified is false). Never fails hard: a malformed
 * response gives parsed=false and a reason.
 *
 * With the issuer, the SingleResponse must match the whole CertID (issuer
 * name and key hashes, serial, in the responder's digest); without it,
 * the serial alone. status, this_update, next_update, revoked_at and
 * revocation_reason describe that SingleResponse and are meaningful only
 * when matches_leaf (otherwise unknown/0/-1). verified: matches_leaf, an
 * issuer was given, and the response is signed by the issuer or by a
 * responder certificate in the response that the issuer signed for OCSP
 * signing; only the issuer is trusted, never the system store.
 * Trailing bytes after the response count as malformed.
 */
void staple_check(const uint8_t *der, size_t len, const struct cert_info *leaf,
		  const struct cert_info *issuer, struct staple_info *out);

const char *ocsp_status_name(enum ocsp_cert_status s); /* "good" */

/*
 * The certificate among @chain[1..n-1] that issued @chain[0]
 * (X509_check_issued: issuer name, key identifiers, key usage), wherever
 * the server put it: a chain sent out of order (root before intermediate)
 * still names the right issuer. NULL when none of them did (a leaf sent
 * alone, or an issuer the server left out). NULL entries are skipped.
 */
const struct cert_info *staple_served_issuer(const struct cert_info *const *chain,
					     int n);

/*
 * Judges @out's times against the handshake at @at (seconds): an answer
 * whose thisUpdate is more than OCSP_SKEW_S after it was not yet issued
 * when the handshake was seen (online answers are refused the same way).
 * It becomes unusable: parsed=false, with a reason. Kept apart from
 * staple_check() because that one's result is memoized per answer, not
 * per handshake.
 */
void staple_check_time(struct staple_info *out, int64_t at);

#endif
