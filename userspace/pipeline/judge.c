// SPDX-License-Identifier: MIT
/*
 * The handshake-facing half of the pipeline: a decided handshake record is
 * judged (certificates parsed once through the cache, findings at the
 * packet time, the staple read, chain/revocation/inventory when a health
 * checker is configured), counted, fed to the spike detector and sent to
 * every sink. The first time a leaf is seen for a (name, address, port),
 * and whenever its findings change, a cert event follows.
 */
#include <string.h>

#include "common/hex.h"
#include "common/host_name.h"
#include "common/log.h"
#include "inventory/staple_kinds.h"
#include "pipeline_priv.h"

static uint64_t record_time_us(const struct hs_record *rec)
{
	return rec->end_us ? rec->end_us : rec->start_us;
}

/* The handshake's second, as chain verification and the findings take it. */
static int64_t record_time_s(const struct hs_record *rec)
{
	return (int64_t)(record_time_us(rec) / 1000000);
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
		/* until chain_pins_view_release(): the next get may evict */
		cert_cache_pin(pl->certs, v->chain[i]);
		if (!v->chain[i])
			pr_debug("%s: certificate %d of the chain does not parse: %s\n",
				 pl->source, i, err ? err : "?");
	}
}

/*
 * The leaf's issuer, which its staple must name: the served certificate
 * that issued it, wherever the server put it (chain[1] may be the root of
 * a misordered chain), else the one chain verification took from the
 * trust store (a leaf sent alone). NULL: not known, and the staple can be
 * matched by its serial only.
 */
static const struct cert_info *judge_leaf_issuer(struct pipeline *pl,
						 const struct hs_record *rec,
						 const struct hs_view *v)
{
	const struct cert_info *issuer = staple_served_issuer(v->chain, v->n_chain);

	if (issuer)
		return issuer;
	return cert_health_built_issuer(pl->opts.health, v->chain, v->n_chain,
					record_time_s(rec));
}

static void judge_staple(struct pipeline *pl, const struct hs_record *rec,
			 struct hs_view *v)
{
	if (!rec->has_staple || !v->chain[0])
		return;
	staple_cache_check(pl->staples, rec->staple.data, rec->staple.len, v->chain[0],
			   judge_leaf_issuer(pl, rec, v), &v->staple);
	staple_check_time(&v->staple, record_time_s(rec));
	v->has_staple = true;
}

/*
 * Did the server answer this name? A ServerHello to a ClientHello that was
 * seen (or to the agent's own, in an active check). A chain whose
 * ClientHello was lost would be filed under no name, and one without a
 * ServerHello (its first records lost) is no answer: neither is recorded.
 */
static bool record_answered(const struct hs_record *rec, bool own_hello)
{
	return rec->has_server_hello && (rec->has_client_hello || own_hello);
}

/*
 * Whether @rec cannot show what the server staples for its leaf: the client
 * did not ask for a staple, or the Certificate message (where the staple
 * travels) was not read on the wire (TLS 1.3, a resumption, the active
 * check's own connection). Without a staple, a handshake that asked shows
 * that the server staples nothing.
 */
static bool staple_unknown(const struct hs_record *rec)
{
	return !rec->has_staple && !(rec->staple_requested && rec->cert_visible);
}

static struct cert_health_input health_input(const struct hs_record *rec,
					     const struct hs_view *v,
					     bool own_hello)
{
	struct cert_health_input in = {
		.sni = record_sni(rec),
		.sni_len = rec->sni_len,
		.server = &rec->server,
		.chain = v->chain,
		.n_chain = v->n_chain,
		.staple = v->has_staple ? &v->staple : NULL,
		.ts_us = record_time_us(rec),
		.base = &v->findings,
		.key_offer = rec->has_client_hello || own_hello ?
			     hs_record_key_offer(rec) : NULL,
		.unanswered = !record_answered(rec, own_hello),
		.staple_unknown = staple_unknown(rec),
	};

	return in;
}

/* Chain, revocation, expectations, superseded: the health checker adds
 * its findings to the leaf's. */
static void judge_health(struct pipeline *pl, const struct hs_record *rec,
			 struct hs_view *v, bool own_hello)
{
	struct cert_health_input in = health_input(rec, v, own_hello);

	if (!pl->opts.health || !v->chain[0])
		return;
	cert_health_check(pl->opts.health, &in, &v->health);
	v->findings = v->health.findings;
	v->has_health = true;
}

/*
 * expiring_soon of the chain members clients use: with a trust store that
 * anchors the chain, the served certificates in the chain OpenSSL builds
 * (not an extra cross-sign it leaves out, whose expiry breaks nothing),
 * else every served one. Each still named by its position as served.
 */
static void judge_chain_expiring(struct pipeline *pl, const struct hs_record *rec,
				 struct hs_view *v)
{
	const struct cert_info *used[HS_MAX_CHAIN];
	uint32_t unused;
	int i;

	if (v->n_chain < 2 || v->n_chain > HS_MAX_CHAIN)
		return;
	unused = cert_health_unused_served(pl->opts.health, v->chain, v->n_chain,
					   record_time_s(rec));
	for (i = 0; i < v->n_chain; i++)
		used[i] = unused & 1u << i ? NULL : v->chain[i];
	findings_check_chain(used, v->n_chain, record_time_s(rec),
			     &pl->opts.leaf, &v->findings);
}

/* Certificates, findings and staple of @rec into @v. */
static void judge_view(struct pipeline *pl, const struct hs_record *rec,
		       struct hs_view *v, bool own_hello)
{
	memset(v, 0, sizeof(*v));
	v->rec = rec;
	judge_chain(pl, rec, v);
	if (v->chain[0]) {
		findings_check_leaf(v->chain[0], record_sni(rec), rec->sni_len,
				    record_time_s(rec),
				    &pl->opts.leaf, pl->hosts, &v->findings);
		judge_chain_expiring(pl, rec, v);
	}
	judge_staple(pl, rec, v);
	judge_health(pl, rec, v, own_hello);
}

static void count_certs(struct pipeline *pl, const struct hs_view *v)
{
	int i, rc = 0;

	if (v->chain[0])
		rc |= distinct_add(pl->leaves, v->chain[0]->sha256);
	for (i = 0; i < v->n_chain; i++)
		if (v->chain[i])
			rc |= distinct_add(pl->all_certs, v->chain[i]->sha256);
	if (rc)
		pr_warn("out of memory counting certificates: estimated from now on\n");
}

static void count_server_choices(struct summary *sum, const struct hs_record *rec)
{
	if (rec->has_group)
		sum->groups[hs_group_slot(rec->group)]++;
	sum->alpn_selected[hs_record_alpn_slot(rec)]++;
	sum->resumed += rec->resumed;
}

static void count_record(struct pipeline *pl, const struct hs_view *v)
{
	const struct hs_record *rec = v->rec;
	struct summary *sum = &pl->sum;
	int i;

	sum->handshakes++;
	if ((unsigned)rec->outcome < HS_OUTCOME__COUNT)
		sum->outcomes[rec->outcome]++;
	/* a HelloRetryRequest sets the version too, but negotiates nothing */
	if (rec->has_server_hello && rec->version >= 0x0300 && rec->version <= 0x0304)
		sum->versions[rec->version - 0x0300]++;
	for (i = 0; i < v->findings.n; i++)
		sum->findings[v->findings.items[i].kind]++;
	for (i = 0; i < rec->n_alerts; i++) {
		if (rec->alerts[i].encrypted)
			sum->encrypted_alerts++;
		else
			sum->alerts[rec->alerts[i].description]++;
	}
	if (rec->has_server_hello)
		count_server_choices(sum, rec);
	if (rec->parse_error)
		sum->problems[SUM_PARSE_ERRORS]++;
	if (rec->chain_error == HS_CHAIN_TOO_LARGE)
		sum->problems[SUM_CHAINS_TOO_LARGE]++;
	else if (rec->chain_error == HS_CHAIN_TRUNCATED)
		sum->problems[SUM_CHAINS_TRUNCATED]++;
	count_certs(pl, v);
}

/* "revoked,superseded": the critical findings, for spike explanations. */
static const char *critical_findings(const struct finding_list *l, char *buf,
				     size_t len)
{
	size_t off = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; i < l->n; i++) {
		enum finding_kind k = l->items[i].kind;

		if (finding_kind_severity(k) != SEV_CRITICAL)
			continue;
		off += (size_t)snprintf(buf + off, off < len ? len - off : 0, "%s%s",
					off ? "," : "", finding_kind_name(k));
	}
	return buf;
}

static void judge_spikes(struct pipeline *pl, const struct hs_view *v)
{
	const struct hs_record *rec = v->rec;
	char findings[256];
	struct spike_input in = {
		.ts_us = record_time_us(rec),
		.sni = record_sni(rec),
		.sni_len = rec->sni_len,
		.ja4 = rec->has_client_hello ? rec->ja4 : NULL,
		.leaf_sha256 = v->chain[0] ? v->chain[0]->sha256_hex : NULL,
		.outcome = rec->outcome,
		.n_alerts = rec->n_alerts,
		.alerts = rec->alerts,
		.leaf_findings = v->chain[0] ?
			critical_findings(&v->findings, findings, sizeof(findings)) : NULL,
	};

	if (pl->spikes)
		spike_detector_add(pl->spikes, &in);
}

void judge_spike_event(void *ctx, const struct spike_event *ev)
{
	struct pipeline *pl = ctx;
	struct event e = { .type = EVENT_SPIKE, .ts_us = ev->ts_us, .spike = ev };

	if (ev->state == SPIKE_FIRING)
		pl->sum.spikes++;
	pipeline_emit(pl, &e);
}

void judge_tick(struct pipeline *pl, uint64_t now_us)
{
	/* Held handshakes are older than @now_us: releasing them advances
	 * the detector, in order. */
	if (!pl->held.n)
		judge_advance_spikes(pl, now_us);
}

void judge_advance_spikes(struct pipeline *pl, uint64_t now_us)
{
	/* The detector works in whole seconds: advance it once per second. */
	if (!pl->spikes || now_us / 1000000 == pl->spike_clock_s)
		return;
	pl->spike_clock_s = now_us / 1000000;
	spike_detector_advance(pl->spikes, now_us);
}

static const struct revocation_view *
revocation_view(const struct cert_health_result *h, struct revocation_view *out)
{
	const struct revocation *r = &h->revocation;

	if (r->method == REVO_NONE)
		return NULL;
	out->method = revocation_method_name(r->method);
	out->status = ocsp_status_name(r->status);
	out->revoked_at = r->revoked_at;
	out->reason = cert_health_reason_name(r->reason);
	out->checked_at = r->checked_at;
	out->stale_since = r->stale_since;
	return out;
}

static void emit_cert(struct pipeline *pl, const struct cert_seen *seen,
		      const struct cert_info *const *chain, int n_chain,
		      const struct finding_list *findings, const char *observed,
		      const struct cert_health_result *health)
{
	struct revocation_view rv;
	struct cert_view cv = {
		.server = &seen->server,
		.sni = seen->has_sni ? seen->sni : NULL,
		.sni_len = seen->sni_len,
		.observed = observed,
		.pid = seen->pid,
		.exe = seen->exe,
		.comm = seen->comm,
		.n_chain = n_chain,
		.chain = chain,
		.verify = health ? health->verify : NULL,
		.revocation = health ? revocation_view(health, &rv) : NULL,
		.findings = findings,
	};
	struct event ev = { .type = EVENT_CERT, .ts_us = seen->ts_us, .cert = &cv };

	pipeline_emit(pl, &ev);
}

#define STAPLE_FINDING_BIT(id, name) | 1u << FINDING_##id
#define STAPLE_FINDINGS (0u STAPLE_FINDING_KINDS(STAPLE_FINDING_BIT))

/*
 * The findings of a cert event for @seen from a handshake that could not
 * show the staple (staple_unknown()): @in, plus the staple findings @seen
 * had. Clients that do not ask for a staple would otherwise take back a
 * revoked_staple every other handshake: a cert event each time, and an
 * alert resolved while the server still staples the revoked answer.
 * Returns @in when there is nothing to carry, else @buf filled.
 */
static const struct finding_list *staple_carry(const struct cert_seen *seen,
					       bool unknown,
					       const struct finding_list *in,
					       struct finding_list *buf)
{
	uint32_t carry = unknown ? seen->finding_mask & STAPLE_FINDINGS : 0;
	int k;

	if (!carry)
		return in;
	*buf = *in;
	for (k = 0; k < FINDING__COUNT; k++)
		if (carry & 1u << k)
			finding_add(buf, k, "as an earlier handshake showed: this "
				    "one cannot show the staple (the client did "
				    "not ask for one, or TLS 1.3 encrypted it)");
	return buf;
}

static void judge_cert_event(struct pipeline *pl, const struct hs_view *v,
			     const char *observed)
{
	const struct hs_record *rec = v->rec;
	const struct finding_list *findings = &v->findings;
	struct finding_list carried;
	uint8_t key[CERT_HEALTH_EVENT_KEY_MAX];
	struct cert_seen *seen;
	bool created;
	uint32_t mask;

	if (strmap_count(pl->cert_events) >= PIPELINE_MAX_CERT_EVENTS) {
		/* their pin ids go with them: a chain kept for one could
		 * never be let go of but by newer ones pushing it out, in
		 * place of a chain a wait still needs */
		strmap_clear(pl->cert_events);
		chain_pins_drop_all(pl);
	}
	seen = strmap_put(pl->cert_events, key,
			  cert_health_event_key(rec->has_sni, rec->sni, rec->sni_len,
						&rec->server, v->chain[0]->sha256_hex, key),
			  &created);
	if (!seen) {
		pr_warn("out of memory: cert event not emitted\n");
		return;
	}
	if (v->has_health && v->health.pending)   /* an update may repeat it */
		seen->pin_id = chain_pins_keep(pl, seen->pin_id, v->chain, v->n_chain);
	if (!created)
		findings = staple_carry(seen, staple_unknown(rec), findings, &carried);
	mask = finding_list_mask(findings);
	if (!created && seen->finding_mask == mask)
		return;
	seen->server = rec->server;
	seen->has_sni = rec->has_sni;
	seen->sni_len = rec->sni_len;
	memcpy(seen->sni, rec->sni, sizeof(seen->sni));
	seen->finding_mask = mask;
	seen->ts_us = record_time_us(rec);
	seen->observed = observed;
	seen->pid = rec->server_pid;
	memcpy(seen->exe, rec->server_exe, sizeof(seen->exe));
	memcpy(seen->comm, rec->server_comm, sizeof(seen->comm));
	emit_cert(pl, seen, v->chain, v->n_chain, findings, observed,
		  v->has_health ? &v->health : NULL);
}

void judge_record(struct pipeline *pl, struct hs_record *rec)
{
	if (!hold_record(pl, rec))
		judge_now(pl, rec);
}

bool judge_awaits_answers(struct pipeline *pl, const struct hs_record *rec)
{
	struct cert_health_input in;
	struct hs_view v;
	bool awaits;

	memset(&v, 0, sizeof(v));
	v.rec = rec;
	judge_chain(pl, rec, &v);
	if (!v.chain[0]) {
		chain_pins_view_release(pl, &v);
		return false;
	}
	judge_staple(pl, rec, &v);
	in = health_input(rec, &v, false);
	awaits = cert_health_prefetch(pl->opts.health, &in);
	chain_pins_view_release(pl, &v);
	return awaits;
}

void judge_now(struct pipeline *pl, struct hs_record *rec)
{
	struct hs_view v;
	struct event ev = {
		.type = EVENT_HANDSHAKE,
		.ts_us = rec->end_us ? rec->end_us : rec->start_us,
		.handshake = &v,
	};

	judge_view(pl, rec, &v, false);
	count_record(pl, &v);
	judge_spikes(pl, &v);
	pipeline_emit(pl, &ev);
	if (v.chain[0])
		judge_cert_event(pl, &v, rec->chain_from_server ? "server"
								: pl->opts.observed);
	chain_pins_view_release(pl, &v);
}

void pipeline_report_active(struct pipeline *pl, struct hs_record *rec)
{
	struct hs_view v;

	judge_view(pl, rec, &v, true);
	count_certs(pl, &v);
	if (v.chain[0])
		judge_cert_event(pl, &v, "active");
	chain_pins_view_release(pl, &v);
}

/* An online check changed what is known of a leaf: say it again. False
 * when forgotten (the facade counts the wait's updates lost, once). */
static bool on_health_updated(void *ctx, const struct cert_health_result *r)
{
	const struct finding_list *findings;
	struct pipeline *pl = ctx;
	const struct pinned_chain *kept;
	struct finding_list carried;
	uint8_t key[CERT_HEALTH_EVENT_KEY_MAX];
	struct cert_seen *seen;

	seen = strmap_get(pl->cert_events, key,
			  cert_health_event_key(r->has_sni, r->sni, r->sni_len,
						&r->server, r->leaf_sha256_hex, key));
	/* Forgotten past a bound (the tuple, reset at
	 * PIPELINE_MAX_CERT_EVENTS, or its chain, out of memory): the next
	 * handshake says it. Counted by the facade (cert_updates_lost): an
	 * answer that changed the event and was not said. */
	kept = seen ? chain_pins_get(pl, seen->pin_id) : NULL;
	if (!kept)
		return false;
	findings = staple_carry(seen, r->staple_unknown, &r->findings, &carried);
	seen->finding_mask = finding_list_mask(findings);
	seen->ts_us = r->ts_us;
	emit_cert(pl, seen, kept->chain, kept->n_chain, findings, seen->observed, r);
	return true;
}

/* No update follows for @r's cert event (answered, changed or not): its
 * chain need not stay pinned, its slot goes to a wait still open. */
static void on_health_settled(void *ctx, const struct cert_health_result *r)
{
	struct pipeline *pl = ctx;
	uint8_t key[CERT_HEALTH_EVENT_KEY_MAX];
	struct cert_seen *seen;

	seen = strmap_get(pl->cert_events, key,
			  cert_health_event_key(r->has_sni, r->sni, r->sni_len,
						&r->server, r->leaf_sha256_hex, key));
	if (seen && seen->pin_id) {
		chain_pins_drop(pl, seen->pin_id);
		seen->pin_id = 0;
	}
}

static void on_health_problem(void *ctx, const char *message)
{
	struct pipeline *pl = ctx;

	if (pl->opts.problem)
		pl->opts.problem(pl->opts.problem_ctx, message);
	else
		pr_warn("%s\n", message);
}

static const struct cert_health_events *health_events(struct pipeline *pl,
						      struct cert_health_events *ev)
{
	ev->updated = on_health_updated;
	ev->problem = on_health_problem;
	ev->settled = on_health_settled;
	ev->ctx = pl;
	return ev;
}

void pipeline_drain_checks(struct pipeline *pl)
{
	struct cert_health_events ev;

	if (pl->opts.health)
		cert_health_drain(pl->opts.health, health_events(pl, &ev));
}

int pipeline_checks_fd(struct pipeline *pl)
{
	return pl->opts.health ? cert_health_fd(pl->opts.health) : -1;
}

void judge_wait_checks(struct pipeline *pl, int timeout_ms)
{
	struct cert_health_events ev;

	if (pl->opts.health)
		cert_health_flush(pl->opts.health, timeout_ms, health_events(pl, &ev));
}

void pipeline_finish(struct pipeline *pl, uint64_t ts_us, int timeout_ms)
{
	struct cert_health_events ev;

	hold_release(pl, HOLD_WAIT);
	if (pl->opts.health &&
	    cert_health_flush(pl->opts.health, timeout_ms, health_events(pl, &ev)) > 0)
		on_health_problem(pl, "online checks still pending at the end: their status stays unknown");
	if (pl->spikes)
		spike_detector_finish(pl->spikes, ts_us);
}
