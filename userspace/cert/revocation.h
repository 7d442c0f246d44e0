/* SPDX-License-Identifier: MIT */
/*
 * Combines what the CRLs, the OCSP responder and the staple say into the
 * events.md "revocation" object and the findings revoked, revoked_staple
 * and stale_staple. Pure: no I/O, no clock, same answers every time.
 *
 * Semantics (events.md):
 * - revoked: the issuing CA says so now, through a CRL or an answer fetched
 *   from its responder, for any certificate of the chain (a revoked
 *   intermediate is reported, and named).
 * - revoked_staple: the staple says revoked; its detail says what the CRL
 *   and the responder say about the leaf (in 2016 staples said revoked
 *   while the CRL did not).
 * - stale_staple: past its next_update, or older than the configured
 *   limit, at the handshake time.
 * - A staple and a responder answer that disagree are both named in the
 *   detail of the finding that applies.
 * - No staple is "no staple", never good. No CRL and no answer is status
 *   unknown, which is not a finding and never makes a chain untrusted.
 * - Any answer of the responder, "unknown" included, comes before a CRL's
 *   "good"; a CRL past its nextUpdate says "unknown" where it would say
 *   "good" (it still revokes), and stale_since says so.
 */
#ifndef TW_REVOCATION_H
#define TW_REVOCATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crl.h"
#include "findings.h"
#include "ocsp_client.h"
#include "staple.h"

enum revo_method { REVO_NONE, REVO_CRL, REVO_OCSP, REVO_STAPLE };

/* The events.md object; fields that are 0 / REVO_NONE / -1 are omitted. */
struct revocation {
	enum revo_method method;
	enum ocsp_cert_status status;
	int64_t revoked_at;
	int reason;              /* CRLReason; -1 when not known */
	int64_t checked_at;      /* thisUpdate of the CRL / answer / staple used */
	int64_t stale_since;     /* the nextUpdate of the CRL used, when the
	                          * handshake came after it (its "good" is then
	                          * "unknown"; its "revoked" stands) */
};

/* What the CA's sources say about one certificate of the chain. */
struct revo_cert {
	char label[160];         /* "leaf", "intermediate CN=...": for details */
	struct crl_answer crl;   /* status UNKNOWN when no CRL answered */
	struct ocsp_lookup ocsp; /* state OCSP_NOT_ASKED when not queried */
};

struct revo_input {
	const struct revo_cert *certs;   /* [0] is the leaf */
	int n;
	const struct staple_info *staple; /* NULL: the server stapled nothing */
	int64_t at;                       /* handshake time, seconds */
	int64_t staple_max_age_s;         /* 0: judge next_update only */
};

void revocation_judge(const struct revo_input *in, struct revocation *out,
		      struct finding_list *findings);

/* What the CRL and the responder say about @c, e.g. "CRL says good,
 * responder says revoked", "responder failed (...)", "responder answer
 * pending"; "no CRL or responder answer" when neither does. */
void revocation_sources_text(const struct revo_cert *c, char *buf, size_t len);

/* "crl", "ocsp", "staple"; NULL for REVO_NONE. */
const char *revocation_method_name(enum revo_method m);

#endif
