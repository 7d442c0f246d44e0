// SPDX-License-Identifier: MIT
/*
 * Prometheus /metrics: what the events say, kept as metric state, plus the
 * counter table (counters.h), rendered once a second into a snapshot that
 * the HTTP server thread serves. Nothing here runs on the server's thread.
 *
 * Cardinality is bounded: at most METRICS_MAX_SERVED (name, server) pairs
 * of certificates served, and prom_series caps for the other families;
 * what is past a bound is folded into an "other" series and counted in
 * tlswatch_metrics_series_folded_total.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cert/findings.h"
#include "common/host_name.h"
#include "common/log.h"
#include "common/prom_series.h"
#include "common/prom_text.h"
#include "common/strmap.h"
#include "common/version.h"
#include "detect/spike.h"
#include "net/http_server.h"
#include "sink.h"

#define METRICS_MAX_SERVED 5000        /* (name, server) pairs */
#define METRICS_MAX_SPIKES 1000        /* spike scopes */
#define METRICS_MAX_ALERT_SERIES 600   /* (from, description) */
#define METRICS_RENDER_US 1000000      /* snapshot once a second */
#define METRICS_MAX_GROUP_SERIES 64    /* key-exchange groups */

/* The leaf served now for one (name, server). */
struct served {
	char sha256[65];
	char serial[80];
	char issuer[256];
	char key[32];
	int64_t not_after;
	uint32_t findings;             /* bit per enum finding_kind */
};

/* One (name, sha256) of the served pairs, for the per-name families: a
 * leaf served for a name on several addresses is one series there. */
struct name_leaf {
	int64_t not_after;
	uint32_t findings;             /* union over the addresses */
};

struct metrics {
	struct sink base;              /* first: the sink is cast to it */
	struct http_server *srv;
	struct prom_writer *w;
	struct strmap *served;         /* "name\0server" -> struct served */
	uint64_t served_folded;        /* pairs past METRICS_MAX_SERVED */
	struct strmap *name_leaves;    /* "name\0sha256" -> struct name_leaf,
					* rebuilt on each render */
	struct prom_series *handshakes, *alerts, *spikes, *revocations;
	struct prom_series *groups, *alpns, *resumed;
	int64_t warn_seconds;
	uint64_t next_render_us;
};

static const char *const handshake_labels[] = { "outcome", "version" };
static const char *const alert_labels[] = { "from", "description" };
static const char *const spike_labels[] = { "scope", "key" };
static const char *const revocation_labels[] = { "method", "result" };
static const char *const group_labels[] = { "group" };
static const char *const alpn_labels[] = { "alpn" };
static const char *const resumed_labels[] = { "version" };

/* --- state from events */

static void count_handshake(struct metrics *m, const struct hs_record *rec)
{
	const char *hs[2] = {
		hs_outcome_name(rec->outcome),
		rec->has_server_hello ? hs_version_name(rec->version) : "none",
	};
	char code[8];
	int i;

	if (!hs[1])
		hs[1] = "unknown";
	prom_series_add(m->handshakes, hs, 1);
	for (i = 0; i < rec->n_alerts; i++) {
		const struct hs_alert *a = &rec->alerts[i];
		const char *al[2] = { a->from_client ? "client" : "server", "encrypted" };

		if (!a->encrypted) {
			al[1] = hs_alert_description_name(a->description);
			if (!al[1]) {
				snprintf(code, sizeof(code), "%u", a->description);
				al[1] = code;
			}
		}
		prom_series_add(m->alerts, al, 1);
	}
}

/* Group, ALPN and resumption of a handshake the server answered. */
static void count_choices(struct metrics *m, const struct hs_record *rec)
{
	char code[HS_GROUP_LABEL_LEN];
	const char *group[1], *alpn[1] = { hs_alpn_slot_name(hs_record_alpn_slot(rec)) };
	const char *version[1] = { hs_version_name(rec->version) };

	if (!rec->has_server_hello)
		return;
	if (!version[0])
		version[0] = "unknown";
	if (rec->has_group) {
		group[0] = hs_group_label(rec->group, code);
		prom_series_add(m->groups, group, 1);
	}
	prom_series_add(m->alpns, alpn, 1);
	if (rec->resumed)
		prom_series_add(m->resumed, version, 1);
}

/* "name\0server": the key of the served map, the name as compared
 * (tw_host_name_fold_key: "A.test" is a.test, as for the cert events and
 * alerts). Returns its length. */
static size_t served_key(const struct cert_view *v, char *key, size_t cap)
{
	char server[TW_ENDPOINT_STRLEN], name[TW_HOST_NAME_KEY_MAX] = "";
	size_t n = v->sni ? tw_host_name_fold_key(v->sni, v->sni_len, name,
						  sizeof(name)) : 0;

	/* Up to a NUL byte (the wire may hold one): the key is split at the
	 * first NUL, and a label value is a C string anyway. */
	n = strnlen(name, n);
	tw_endpoint_format(v->server, server);
	if (n > cap / 2)
		n = cap / 2;
	memcpy(key, name, n);
	key[n] = '\0';
	return n + 1 + (size_t)snprintf(key + n + 1, cap - n - 1, "%s", server);
}

static void note_cert(struct metrics *m, const struct cert_view *v)
{
	const struct cert_info *leaf = v->chain[0];
	char key[HS_MAX_SNI + TW_ADDR_STRLEN + 16];
	size_t len = served_key(v, key, sizeof(key));
	struct served *s;

	if (!leaf)
		return;
	if (strmap_count(m->served) >= METRICS_MAX_SERVED &&
	    !strmap_get(m->served, key, len)) {
		m->served_folded++;
		return;
	}
	s = strmap_put(m->served, key, len, NULL);
	if (!s)
		return;
	snprintf(s->sha256, sizeof(s->sha256), "%s", leaf->sha256_hex);
	snprintf(s->serial, sizeof(s->serial), "%s", leaf->serial_hex ? leaf->serial_hex : "");
	snprintf(s->issuer, sizeof(s->issuer), "%s", leaf->issuer ? leaf->issuer : "");
	snprintf(s->key, sizeof(s->key), "%s", leaf->key);
	s->not_after = leaf->not_after;
	s->findings = finding_list_mask(v->findings);
	if (v->revocation) {
		const char *rv[2] = { v->revocation->method, v->revocation->status };

		prom_series_add(m->revocations, rv, 1);
	}
}

static void note_spike(struct metrics *m, const struct spike_event *ev)
{
	const char *kind = spike_kind_key(ev->kind);
	const char *sv[2] = { ev->key && kind ? kind : "all", ev->key ? ev->key : "" };

	prom_series_set(m->spikes, sv, ev->state == SPIKE_FIRING ? 1 : 0);
}

static int metrics_event(struct sink *s, const struct event *ev,
			 const char *json, size_t len)
{
	struct metrics *m = (struct metrics *)s;

	switch (ev->type) {
	case EVENT_HANDSHAKE:
		count_handshake(m, ev->handshake->rec);
		count_choices(m, ev->handshake->rec);
		break;
	case EVENT_CERT:
		note_cert(m, ev->cert);
		break;
	case EVENT_SPIKE:
		note_spike(m, ev->spike);
		break;
	default:
		break;
	}
	return 0;
}

/* --- rendering */

static void render_counters(struct metrics *m)
{
	struct counter_values cv;
	int i;

	memset(&cv, 0, sizeof(cv));
	sink_set_counters(m->base.set, &cv);
	for (i = 0; i < COUNTER__COUNT; i++) {
		const struct counter_def *d = &counter_defs[i];

		if (!cv.set[i] || d->kind == COUNTER_STAT)
			continue;
		prom_family(m->w, d->family, d->help,
			    d->kind == COUNTER_CTR ? PROM_COUNTER : PROM_GAUGE);
		prom_sample_u64(m->w, d->family, &d->label_name, &d->label_value,
				d->label_name ? 1 : 0, cv.v[i]);
	}
}

static void render_served(struct metrics *m)
{
	static const char *const info_labels[] = { "name", "server", "sha256",
						    "serial", "issuer", "key" };
	static const char *const after_labels[] = { "name", "sha256" };
	static const char *const finding_labels[] = { "name", "sha256", "kind" };
	const char *key;
	size_t len, i;
	void *val;
	int k;

	prom_family(m->w, "tlswatch_certificate_info",
		    "The leaf certificate served now for a name and server address", PROM_GAUGE);
	prom_family(m->w, "tlswatch_certificate_not_after_seconds",
		    "When the leaf served for a name expires (Unix time)", PROM_GAUGE);
	prom_family(m->w, "tlswatch_certificate_findings",
		    "Findings that hold for the leaf served for a name", PROM_GAUGE);
	strmap_clear(m->name_leaves);
	for (i = 0; strmap_at(m->served, i, &key, &len, &val); i++) {
		const struct served *s = val;
		const char *name = key, *server = key + strlen(key) + 1;
		const char *info[6] = { name, server, s->sha256, s->serial, s->issuer, s->key };
		char nk[HS_MAX_SNI + 80];
		size_t nlen = strlen(name);
		struct name_leaf *nl;

		prom_sample(m->w, "tlswatch_certificate_info", info_labels, info, 6, 1);
		/* the same (name, sha256) on several addresses: one series in
		 * the per-name families, not one per address (duplicates) */
		if (nlen > sizeof(nk) - sizeof(s->sha256) - 1)
			continue;      /* cannot happen: served_key caps the name */
		memcpy(nk, name, nlen + 1);
		memcpy(nk + nlen + 1, s->sha256, strlen(s->sha256));
		nl = strmap_put(m->name_leaves, nk, nlen + 1 + strlen(s->sha256), NULL);
		if (!nl)
			continue;
		nl->not_after = s->not_after;
		nl->findings |= s->findings;
	}
	for (i = 0; strmap_at(m->name_leaves, i, &key, &len, &val); i++) {
		const struct name_leaf *nl = val;
		const char *name = key, *sha256 = key + strlen(key) + 1;
		char sha[65];
		const char *after[2] = { name, sha };

		snprintf(sha, sizeof(sha), "%.*s", (int)(len - (size_t)(sha256 - key)), sha256);
		prom_sample(m->w, "tlswatch_certificate_not_after_seconds",
			    after_labels, after, 2, (double)nl->not_after);
		for (k = 0; k < FINDING__COUNT; k++) {
			const char *f[3] = { name, sha, finding_kind_name(k) };

			if (nl->findings & (1u << k))
				prom_sample(m->w, "tlswatch_certificate_findings",
					    finding_labels, f, 3, 1);
		}
	}
	if (m->served_folded) {
		const char *other[6] = { "other", "other", "other", "other", "other", "other" };

		/* one series stands for the pairs past the bound, 1 like the
		 * others; how often it was updated is the folded count */
		prom_sample_u64(m->w, "tlswatch_certificate_info", info_labels, other, 6, 1);
		prom_series_folded_sample(m->w, "tlswatch_certificate_info", m->served_folded);
	}
}

static int metrics_render(struct metrics *m)
{
	static const char *const version_label[] = { "version" };
	static const char *const version[] = { TLSWATCH_VERSION };
	const char *text;
	size_t len;

	prom_writer_reset(m->w);
	prom_family(m->w, "tlswatch_build_info", "The running tlswatch", PROM_GAUGE);
	prom_sample(m->w, "tlswatch_build_info", version_label, version, 1, 1);
	prom_family(m->w, "tlswatch_expiry_warning_seconds",
		    "The expiring_soon window (0: off)", PROM_GAUGE);
	prom_sample(m->w, "tlswatch_expiry_warning_seconds", NULL, NULL, 0,
		    (double)m->warn_seconds);
	render_counters(m);
	prom_series_render(m->handshakes, m->w);
	prom_series_render(m->alerts, m->w);
	prom_series_render(m->groups, m->w);
	prom_series_render(m->alpns, m->w);
	prom_series_render(m->resumed, m->w);
	render_served(m);
	prom_series_render(m->spikes, m->w);
	prom_series_render(m->revocations, m->w);
	text = prom_text(m->w, &len);
	if (!text)
		return -ENOMEM;
	return http_server_publish(m->srv, text, len);
}

static void metrics_tick(struct sink *s, uint64_t now_us)
{
	struct metrics *m = (struct metrics *)s;

	if (now_us < m->next_render_us)
		return;
	m->next_render_us = now_us + METRICS_RENDER_US;
	if (metrics_render(m) < 0)
		pr_warn("metrics: out of memory rendering /metrics\n");
}

static void metrics_close(struct sink *s)
{
	struct metrics *m = (struct metrics *)s;

	http_server_stop(m->srv);
	prom_writer_free(m->w);
	strmap_free(m->served);
	strmap_free(m->name_leaves);
	prom_series_free(m->handshakes);
	prom_series_free(m->alerts);
	prom_series_free(m->spikes);
	prom_series_free(m->revocations);
	prom_series_free(m->groups);
	prom_series_free(m->alpns);
	prom_series_free(m->resumed);
	free(m);
}

static const struct sink_ops metrics_ops = {
	.name = "metrics",
	.event = metrics_event,
	.tick = metrics_tick,
	.close = metrics_close,
};

static int64_t warn_seconds(int warn_days)
{
	if (warn_days < 0)
		return 0;
	return (int64_t)(warn_days ? warn_days : 14) * 86400;
}

static bool metrics_alloc(struct metrics *m)
{
	m->w = prom_writer_new();
	m->served = strmap_new(sizeof(struct served));
	m->name_leaves = strmap_new(sizeof(struct name_leaf));
	m->handshakes = prom_series_new("tlswatch_handshakes_total",
					"TLS handshakes by outcome and negotiated version",
					PROM_COUNTER, handshake_labels, 2, 64);
	m->alerts = prom_series_new("tlswatch_alerts_total",
				    "TLS alerts by sender and description",
				    PROM_COUNTER, alert_labels, 2, METRICS_MAX_ALERT_SERIES);
	m->spikes = prom_series_new("tlswatch_spike_firing",
				    "1 while a failure spike fires for the scope",
				    PROM_GAUGE, spike_labels, 2, METRICS_MAX_SPIKES);
	m->revocations = prom_series_new("tlswatch_revocation_checks_total",
					 "Revocation verdicts reported, by method and status",
					 PROM_COUNTER, revocation_labels, 2, 32);
	m->groups = prom_series_new("tlswatch_key_exchange_groups_total",
				    "TLS handshakes by key-exchange group (IANA name, or 0x hex)",
				    PROM_COUNTER, group_labels, 1, METRICS_MAX_GROUP_SERIES);
	m->alpns = prom_series_new("tlswatch_alpn_selected_total",
				   "TLS handshakes by the ALPN protocol the server selected",
				   PROM_COUNTER, alpn_labels, 1, HS_ALPN_SLOTS);
	m->resumed = prom_series_new("tlswatch_handshakes_resumed_total",
				     "Resumed TLS handshakes (no certificate sent), by version",
				     PROM_COUNTER, resumed_labels, 1, 8);
	return m->w && m->served && m->name_leaves && m->handshakes && m->alerts && m->spikes &&
	       m->revocations && m->groups && m->alpns && m->resumed;
}

int metrics_open(const struct output_opts *o, struct sink_set *set,
		 char *err, size_t errlen)
{
	struct metrics *m;
	int rc;

	if (!o->metrics_addr)
		return 0;
	m = calloc(1, sizeof(*m));
	if (!m || !metrics_alloc(m)) {
		if (m)
			metrics_close(&m->base);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	m->base.ops = &metrics_ops;
	m->warn_seconds = warn_seconds(o->expiring_warn_days);
	rc = http_server_start(o->metrics_addr, &m->srv, err, errlen);
	if (rc < 0) {
		metrics_close(&m->base);
		if (!o->metrics_optional)
			return rc;
		pr_warn("metrics: %s; going on without /metrics (--metrics picks another address)\n", err);
		return 0;
	}
	return sink_set_add(set, &m->base, err, errlen);
}
