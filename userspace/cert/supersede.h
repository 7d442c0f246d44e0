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
 * reaching that place get the replaced certificate. Leaves with keys of
 * different algorithms (RSA and ECDSA served side by side) are not
 * compared. Without an SNI, only the same address and port count.
 */
#ifndef TW_SUPERSEDE_H
#define TW_SUPERSEDE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cert_info.h"
#include "common/endpoint.h"
#include "inventory/inventory.h"

struct supersede_verdict {
	bool superseded;
	char newer_sha256[65];        /* the newest such leaf */
	int64_t newer_not_before;
	uint64_t newer_first_seen_us; /* when it was first served for the name */
};

/*
 * Judges @leaf served for @name ("" or NULL without SNI) by @server at
 * @ts_us. Call it before the sighting is recorded. 0, or -1 with @err
 * (then out->superseded is false).
 */
int supersede_judge(struct inventory *inv, const char *name,
		    const struct tw_endpoint *server, const struct cert_info *leaf,
		    uint64_t ts_us, struct supersede_verdict *out, char *err,
		    size_t errlen);

/* The finding detail: names the newer certificate's fingerprint first. */
void supersede_detail(const struct supersede_verdict *v, const char *name,
		      char *buf, size_t len);

#endif
