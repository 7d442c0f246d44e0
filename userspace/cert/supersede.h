/* SPDX-License-Identifier: MIT */
/*
 * "superseded": an older certificate that had been replaced comes back.
 * Judged per server name across every address and port, from the
 * inventory (a file survives restarts; without one, an in-memory
 * inventory remembers this run): the leaf served now is older (earlier
 * not_before) than a different leaf that was already served for the name.
 * A normal rotation (old, then new) never serves the old one after the
 * new one, so it is not a finding; a rollout that still serves the old
 * certificate somewhere after the new one appeared is, because clients
 * reaching that place get the replaced certificate. Without an SNI, only
 * the same address and port count.
 *
 * Across key families (an RSA leaf older than an ECDSA one served for the
 * name) both a dual deployment - each served to the clients that ask for
 * it - and a rollback are real; the older leaf is superseded only with
 * one of these pieces of evidence, named in the detail:
 *
 *   client_preferred   the client that was served the older leaf accepted
 *                      the newer one's key family and preferred it (listed
 *                      it first for the version negotiated: its
 *                      signature_algorithms in TLS 1.3, its cipher suites
 *                      in TLS 1.2), or did not offer the older one's at
 *                      all. A server holding both certificates serves such
 *                      a client the newer one (OpenSSL follows the
 *                      client's order by default).
 *   newer_alone        the older leaf had been served for the name, then
 *                      only the newer one, for SUPERSEDE_ALONE_S and more,
 *                      and now the older one again: it had been replaced.
 *   rollback_recorded  one of the two was recorded on the older leaf's
 *                      row for this address and port, and the newer leaf
 *                      has not been served there since: every client
 *                      served the older leaf there gets the finding, not
 *                      only those that prove it.
 *
 * Same-family or unknown key types need no evidence, as before.
 */
#ifndef TW_SUPERSEDE_H
#define TW_SUPERSEDE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cert_info.h"
#include "common/endpoint.h"
#include "common/key_family.h"
#include "inventory/inventory.h"

/* How long the newer leaf must have been served alone: a day, so that a
 * dual deployment whose older-family clients are rare is not taken for a
 * replacement within it. */
#define SUPERSEDE_ALONE_S 86400

/* X(enum suffix, name in the detail) */
#define SUPERSEDE_EVIDENCE(X) \
	X(CLIENT_PREFERRED, "client_preferred") \
	X(NEWER_ALONE, "newer_alone") \
	X(ROLLBACK_RECORDED, "rollback_recorded")

enum supersede_evidence {
	SUPERSEDE_SAME_FAMILY = 0,     /* no evidence needed */
#define SUPERSEDE_EVIDENCE_ENUM(e, s) SUPERSEDE_##e,
	SUPERSEDE_EVIDENCE(SUPERSEDE_EVIDENCE_ENUM)
#undef SUPERSEDE_EVIDENCE_ENUM
};

struct supersede_verdict {
	bool superseded;
	char newer_sha256[65];        /* the newest such leaf */
	char newer_key[32];
	int64_t newer_not_before;
	uint64_t newer_first_seen_us; /* when it was first served for the name */
	enum supersede_evidence evidence;
	char evidence_text[256];      /* across families: what showed it */
	bool record_rollback;         /* new evidence: store it with the
	                               * sighting (inventory rollback_us) */
	char rollback_text[192];      /* what to store: "client_preferred (offered EC>RSA)" */
};

/*
 * Judges @leaf served for @name ("" or NULL without SNI) by @server at
 * @ts_us to a client that accepted the key families @offer (NULL: not
 * known); @untrusted: the leaf's chain does not verify (the untrusted
 * finding). A newer leaf counts only if it covered the name, and, for a
 * trusted leaf, if it was trusted itself (inventory_find_newer()). Call
 * it before the sighting is recorded. 0, or -1 with @err (then
 * out->superseded is false).
 */
int supersede_judge(struct inventory *inv, const char *name,
		    const struct tw_endpoint *server, const struct cert_info *leaf,
		    bool untrusted, const struct key_offer *offer, uint64_t ts_us,
		    struct supersede_verdict *out, char *err, size_t errlen);

/* The finding detail: names the newer certificate's fingerprint first,
 * and across key families the evidence. */
void supersede_detail(const struct supersede_verdict *v, const char *name,
		      char *buf, size_t len);

/* "client_preferred"; NULL for SUPERSEDE_SAME_FAMILY. */
const char *supersede_evidence_name(enum supersede_evidence e);

#endif
