// SPDX-License-Identifier: MIT
/* The superseded finding, from the inventory's per-name history. */
#include <stdio.h>
#include <string.h>

#include "common/printable.h"
#include "common/timefmt.h"
#include "supersede.h"

static const char *const evidence_names[] = {
	[SUPERSEDE_SAME_FAMILY] = NULL,
#define SUPERSEDE_EVIDENCE_NAME(e, s) [SUPERSEDE_##e] = s,
	SUPERSEDE_EVIDENCE(SUPERSEDE_EVIDENCE_NAME)
#undef SUPERSEDE_EVIDENCE_NAME
};

const char *supersede_evidence_name(enum supersede_evidence e)
{
	return (size_t)e < sizeof(evidence_names) / sizeof(evidence_names[0]) ?
	       evidence_names[e] : NULL;
}

static void verdict_newer(struct supersede_verdict *out,
			  const struct inventory_leaf *newer)
{
	snprintf(out->newer_sha256, sizeof(out->newer_sha256), "%s", newer->sha256);
	snprintf(out->newer_key, sizeof(out->newer_key), "%s", newer->key);
	out->newer_not_before = newer->not_before;
	out->newer_first_seen_us = newer->first_seen_us;
}

static int verdict_evidence(struct supersede_verdict *out, enum supersede_evidence e)
{
	out->superseded = true;
	out->evidence = e;
	out->record_rollback = e != SUPERSEDE_ROLLBACK_RECORDED;
	if (out->record_rollback)
		snprintf(out->rollback_text, sizeof(out->rollback_text), "%s (%s)",
			 supersede_evidence_name(e), out->evidence_text);
	return 0;
}

/* The client listed the newer leaf's family before the older one's, or
 * did not offer the older one's. */
static bool client_preferred(const struct key_offer *offer, enum key_family newer,
			     enum key_family older)
{
	int rank_newer = offer ? key_offer_rank(offer, newer) : -1;
	int rank_older = offer ? key_offer_rank(offer, older) : -1;

	return rank_newer >= 0 && (rank_older < 0 || rank_newer < rank_older);
}

/* A rollback was recorded here, and the newer leaf not served here since. */
static bool rollback_recorded(const struct inventory_rival_facts *f)
{
	return f->rollback_us && f->rollback_us >= f->newer_last_here_us;
}

/* Served before the newer leaf first was, then not for SUPERSEDE_ALONE_S. */
static bool newer_alone(const struct inventory_rival_facts *f,
			const struct inventory_leaf *newer, uint64_t ts_us)
{
	return f->older_last_us > 0 && f->older_last_us < newer->first_seen_us &&
	       ts_us >= newer->first_seen_us + (uint64_t)SUPERSEDE_ALONE_S * 1000000;
}

struct rival_question {
	const char *name, *addr;
	uint16_t port;
	const struct cert_info *leaf;
	const struct inventory_leaf *newer;
	const struct key_offer *offer;
	uint64_t ts_us;
};

static int judge_rival(struct inventory *inv, const struct rival_question *q,
		       struct supersede_verdict *out, char *err, size_t errlen)
{
	enum key_family older = key_family_of(q->leaf->key);
	enum key_family newer = key_family_of(q->newer->key);
	struct inventory_rival_facts f;
	char when[TW_TIME_STRLEN], offered[64];

	if (older == KEY_FAMILY_NONE || newer == KEY_FAMILY_NONE)
		return 0;
	if (inventory_rival_facts(inv, q->name, q->addr, q->port, q->leaf->sha256_hex,
				  q->newer->sha256, false, &f, err, errlen))
		return -1;
	if (rollback_recorded(&f)) {
		snprintf(out->evidence_text, sizeof(out->evidence_text), "%s at %s",
			 f.rollback_evidence,
			 tw_time_format_s((int64_t)(f.rollback_us / 1000000), when));
		return verdict_evidence(out, SUPERSEDE_ROLLBACK_RECORDED);
	}
	if (client_preferred(q->offer, newer, older)) {
		snprintf(out->evidence_text, sizeof(out->evidence_text),
			 "offered %s",
			 key_offer_format(q->offer, offered, sizeof(offered)));
		return verdict_evidence(out, SUPERSEDE_CLIENT_PREFERRED);
	}
	if (!newer_alone(&f, q->newer, q->ts_us))
		return 0;
	/* Rare: confirm with every sighting written (other addresses too). */
	if (inventory_rival_facts(inv, q->name, q->addr, q->port, q->leaf->sha256_hex,
				  q->newer->sha256, true, &f, err, errlen))
		return -1;
	if (!newer_alone(&f, q->newer, q->ts_us))
		return 0;
	snprintf(out->evidence_text, sizeof(out->evidence_text),
		 "older one last served %s",
		 tw_time_format_s((int64_t)(f.older_last_us / 1000000), when));
	return verdict_evidence(out, SUPERSEDE_NEWER_ALONE);
}

int supersede_judge(struct inventory *inv, const char *name,
		    const struct tw_endpoint *server, const struct cert_info *leaf,
		    bool untrusted, const struct key_offer *offer, uint64_t ts_us,
		    struct supersede_verdict *out, char *err, size_t errlen)
{
	struct inventory_leaf newer;
	char addr[TW_ADDR_STRLEN];
	struct rival_question q = {
		.name = name ? name : "", .addr = addr, .leaf = leaf,
		.newer = &newer, .offer = offer, .ts_us = ts_us,
	};
	int rc;

	memset(out, 0, sizeof(*out));
	if (!inv || !leaf || !server)
		return 0;
	addr[0] = 0;
	if (server->addr.family == 4 || server->addr.family == 6)
		tw_addr_format(&server->addr, addr);
	q.port = server->port;
	rc = inventory_find_newer(inv, q.name, addr, q.port, leaf->sha256_hex,
				  leaf->not_before, leaf->key, INVENTORY_SAME_FAMILY,
				  untrusted, ts_us, &newer, err, errlen);
	if (rc == 1) {
		verdict_newer(out, &newer);
		out->superseded = true;
		return 0;
	}
	if (rc == 0)
		rc = inventory_find_newer(inv, q.name, addr, q.port, leaf->sha256_hex,
					  leaf->not_before, leaf->key,
					  INVENTORY_OTHER_FAMILY, untrusted, ts_us,
					  &newer, err, errlen);
	if (rc <= 0)
		return rc;
	verdict_newer(out, &newer);
	if (judge_rival(inv, &q, out, err, errlen)) {
		out->superseded = false;
		return -1;
	}
	return 0;
}

void supersede_detail(const struct supersede_verdict *v, const char *name,
		      char *buf, size_t len)
{
	char nb[TW_TIME_STRLEN], seen[TW_TIME_STRLEN], shown[96];
	int n;

	tw_printable(name ? name : "", name ? strlen(name) : 0, shown,
		     sizeof(shown));
	n = snprintf(buf, len, "newer certificate %s (not_before %s) was served for "
		     "%s since %s", v->newer_sha256,
		     tw_time_format_s(v->newer_not_before, nb),
		     shown[0] ? shown : "this address",
		     tw_time_format_us(v->newer_first_seen_us, seen));
	if (v->evidence != SUPERSEDE_SAME_FAMILY && n > 0 && (size_t)n < len)
		snprintf(buf + n, len - (size_t)n, "; key %s, evidence %s (%s)",
			 v->newer_key, supersede_evidence_name(v->evidence),
			 v->evidence_text);
}
