/* SPDX-License-Identifier: MIT */
/* Finding kinds of events.md and the checks that produce them. */
#ifndef TW_FINDINGS_H
#define TW_FINDINGS_H

#include <stdbool.h>
#include <stdint.h>

#include "cert_info.h"
#include "host_memo.h"

enum finding_kind {
	FINDING_REVOKED,
	FINDING_EXPIRED,
	FINDING_NOT_YET_VALID,
	FINDING_SUPERSEDED,
	FINDING_UNEXPECTED,
	FINDING_UNTRUSTED,
	FINDING_HOSTNAME_MISMATCH,
	FINDING_REVOKED_STAPLE,
	FINDING_STALE_STAPLE,
	FINDING_EXPIRING_SOON,
	FINDING_SELF_SIGNED,
	FINDING_WEAK_KEY,
	FINDING__COUNT,
};

enum finding_severity { SEV_CRITICAL, SEV_WARNING, SEV_INFO };

/* Bytes of a finding's detail, NUL included: superseded across key
 * families names two fingerprints' worth of facts and its evidence. */
#define FINDING_DETAIL_MAX 384

struct finding {
	enum finding_kind kind;
	char detail[FINDING_DETAIL_MAX];
};

#define FINDINGS_MAX FINDING__COUNT

struct finding_list {
	int n;
	struct finding items[FINDINGS_MAX];   /* at most one per kind */
};

const char *finding_kind_name(enum finding_kind k);         /* "expired" */
enum finding_severity finding_kind_severity(enum finding_kind k);
const char *finding_severity_name(enum finding_severity s); /* "critical" */
/* Parses "expired" etc.; returns -1 for an unknown name. */
int finding_kind_parse(const char *name);
/*
 * Walks a list of kind names separated by commas ("revoked,superseded":
 * how the inventory, the event history and spike events keep them): the
 * kind at *@p in *@kind (-1 for a name not known, an empty one included),
 * *@p moved past it and its comma. false at the end of the list (@p NULL
 * or at its NUL).
 */
bool finding_kind_next(const char **p, int *kind);

/* Adds a finding (replacing the detail if the kind is present). */
void finding_add(struct finding_list *l, enum finding_kind k,
		 const char *fmt, ...) __attribute__((format(printf, 3, 4)));
bool finding_has(const struct finding_list *l, enum finding_kind k);
/* Bit k set for each kind in @l (NULL: none). */
uint32_t finding_list_mask(const struct finding_list *l);

/* A field 0 (or opts NULL) means the default; a negative warn_days turns
 * expiring_soon off, a negative min_rsa_bits means the default. EC keys
 * are weak below 224 bits; DSA keys use min_rsa_bits like RSA. */
struct leaf_check_opts {
	int warn_days;            /* expiring_soon window; 0 = default 14, < 0 = off */
	int min_rsa_bits;         /* weak_key below this, default 2048 */
};

/*
 * The checks that need only the leaf, the SNI and the handshake time:
 * expired, not_yet_valid, expiring_soon, self_signed, hostname_mismatch
 * (only when @sni is non-NULL and @sni_len, its bytes as sent, not 0: an
 * SNI holding a NUL is a mismatch, cert_matches_host), weak_key. Appends
 * to @out. @hosts remembers hostname verdicts (may be NULL).
 */
void findings_check_leaf(const struct cert_info *leaf, const char *sni,
			 size_t sni_len, int64_t at, const struct leaf_check_opts *opts,
			 struct host_memo *hosts, struct finding_list *out);

/*
 * expiring_soon for the rest of a served chain (@chain[1..n-1], NULL
 * entries skipped: one that did not parse, or one clients do not use,
 * cert_health_unused_served), with the window of @opts: when one of them, still
 * valid at @at, expires inside it, every handshake will soon stop
 * verifying even though the leaf is fine. The one that expires first is
 * named by its position as served (1: right after the leaf) and subject,
 * after the leaf's own expiring_soon detail when there is one. Expired
 * ones are left to chain verification (untrusted). Appends to @out.
 */
void findings_check_chain(const struct cert_info *const *chain, int n,
			  int64_t at, const struct leaf_check_opts *opts,
			  struct finding_list *out);

#endif
