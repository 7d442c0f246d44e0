// SPDX-License-Identifier: MIT
/*
 * The handshake-facing half of the pipeline: a decided handshake record is
 * judged (certificates parsed once through the cache, findings at the
 * packet time, the staple read), counted, and sent to every sink; the
 * first time a leaf is seen for a (name, address, port) a cert event
 * follows.
 */
#include <string.h>

#include "common/log.h"
#include "pipeline_priv.h"

static int64_t record_time_s(const struct hs_record *rec)
{
	uint64_t us = rec->end_us ? rec->end_us : rec->start_us;

	return (int64_t)(us / 1000000);
}

static const char *record_sni(const struct hs_record *rec)
{
	return rec->has_sni ? rec->sni : NULL;
}

static void judge_chain(struct pipeline *pl, const struct hs_record *rec,
			struct hs_view *v)
{
	int i;

	v->n_chain = rec->n_chain;
	for (i = 0; i < rec->n_chain; i++) {
		const char *err = NULL;

		v->chain[i] = cert_cache_get(pl->certs, rec->chain[i].data,
					     rec->chain[i].len, &err);
		if (!v->chain[i])
			pr_debug("%s: certificate %d of the chain does not parse: %s\n",
				 pl->source, i, err ? err : "?");
	}
}

static void judge_staple(const struct hs_record *rec, struct hs_view *v)
{
	if (!rec->has_staple || !v->chain[0])
		return;
	staple_check(rec->staple.data, rec->staple.len, v->chain[0],
		     v->n_chain > 1 ? v->chain[1] : NULL, &v->staple);
	v->has_staple = true;
}

static void count_record(struct pipeline *pl, const struct hs_view *v)
{
	const struct hs_record *rec = v->rec;
	struct summary *sum = &pl->sum;
	int i;

	sum->handshakes++;
	if ((unsigned)rec->outcome < 4)
		sum->outcomes[rec->outcome]++;
	if (rec->version >= 0x0300 && rec->version <= 0x0304)
		sum->versions[rec->version - 0x0300]++;
	for (i = 0; i < v->findings.n; i++)
		sum->findings[v->findings.items[i].kind]++;
	for (i = 0; i < rec->n_alerts; i++) {
		if (rec->alerts[i].encrypted)
			sum->encrypted_alerts++;
		else
			sum->alerts[rec->alerts[i].description]++;
	}
	if (rec->parse_error)
		sum->parse_errors++;
	if (v->chain[0] && !strmap_put(pl->leaves, v->chain[0]->sha256, 32, NULL))
		pr_warn("out of memory counting certificates\n");
	for (i = 0; i < v->n_chain; i++)
		if (v->chain[i] && !strmap_put(pl->all_certs, v->chain[i]->sha256, 32, NULL))
			pr_warn("out of memory counting certificates\n");
}

static uint32_t finding_mask(const struct finding_list *l)
{
	uint32_t mask = 0;
	int i;

	for (i = 0; i < l->n; i++)
		mask |= 1u << l->items[i].kind;
	return mask;
}

/* Key of a (name, address, port, leaf) tuple. Returns its length. */
static size_t cert_key(const struct hs_record *rec, const struct cert_info *leaf,
		       uint8_t *key)
{
	size_t k = 0;

	key[k++] = rec->has_sni;
	memcpy(key + k, rec->sni, rec->sni_len);
	k += rec->sni_len;
	key[k++] = rec->server.addr.family;
	memcpy(key + k, rec->server.addr.bytes, 16);
	k += 16;
	key[k++] = (uint8_t)(rec->server.port >> 8);
	key[k++] = (uint8_t)rec->server.port;
	memcpy(key + k, leaf->sha256, 32);
	return k + 32;
}

static void emit_cert(struct pipeline *pl, const struct cert_seen *seen,
		      const struct finding_list *findings, const char *observed)
{
	struct cert_view cv = {
		.ts_us = seen->ts_us,
		.source = pl->source,
		.server = &seen->server,
		.sni = seen->has_sni ? seen->sni : NULL,
		.sni_len = seen->sni_len,
		.observed = observed,
		.n_chain = seen->n_chain,
		.chain = seen->chain,
		.findings = findings,
	};
	int i;

	for (i = 0; i < pl->n_sinks; i++)
		if (pl->sinks[i]->cert)
			pl->sinks[i]->cert(pl->sinks[i], &cv);
}

static void judge_cert_event(struct pipeline *pl, const struct hs_view *v,
			     const char *observed)
{
	const struct hs_record *rec = v->rec;
	uint8_t key[1 + HS_MAX_SNI + 1 + 16 + 2 + 32];
	struct cert_seen *seen;
	bool created;
	uint32_t mask = finding_mask(&v->findings);

	if (strmap_count(pl->cert_events) >= PIPELINE_MAX_CERT_EVENTS)
		strmap_clear(pl->cert_events);
	seen = strmap_put(pl->cert_events, key, cert_key(rec, v->chain[0], key),
			  &created);
	if (!seen) {
		pr_warn("out of memory: cert event not emitted\n");
		return;
	}
	if (!created && seen->finding_mask == mask)
		return;
	seen->server = rec->server;
	seen->has_sni = rec->has_sni;
	seen->sni_len = rec->sni_len;
	memcpy(seen->sni, rec->sni, sizeof(seen->sni));
	seen->n_chain = v->n_chain;
	memcpy(seen->chain, v->chain, sizeof(seen->chain));
	seen->finding_mask = mask;
	seen->ts_us = rec->end_us ? rec->end_us : rec->start_us;
	emit_cert(pl, seen, &v->findings, observed);
}

/* Certificates, findings and staple of @rec into @v. */
static void judge_view(struct pipeline *pl, const struct hs_record *rec,
		       struct hs_view *v)
{
	memset(v, 0, sizeof(*v));
	v->rec = rec;
	v->source = pl->source;
	judge_chain(pl, rec, v);
	if (v->chain[0])
		findings_check_leaf(v->chain[0], record_sni(rec), record_time_s(rec),
				    &pl->opts.leaf, &v->findings);
	judge_staple(rec, v);
}

void judge_record(struct pipeline *pl, struct hs_record *rec)
{
	struct hs_view v;
	int i;

	judge_view(pl, rec, &v);
	count_record(pl, &v);
	for (i = 0; i < pl->n_sinks; i++)
		if (pl->sinks[i]->handshake)
			pl->sinks[i]->handshake(pl->sinks[i], &v);
	if (v.chain[0])
		judge_cert_event(pl, &v, pl->opts.observed);
}

void pipeline_report_active(struct pipeline *pl, struct hs_record *rec)
{
	struct hs_view v;

	judge_view(pl, rec, &v);
	if (v.chain[0])
		judge_cert_event(pl, &v, "active");
}

void judge_tick(struct pipeline *pl, uint64_t now_us)
{
	(void)pl;
	(void)now_us;
}
