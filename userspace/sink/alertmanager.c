// SPDX-License-Identifier: MIT
/*
 * Alertmanager (its v2 API): critical certificate findings and failure
 * spikes become alerts POSTed to every --alertmanager URL as
 * `POST {base}/api/v2/alerts`.
 *
 * Alerts
 *   TLSWatchCertificateFinding: one per (name, sha256, kind) of a cert
 *   event's critical finding; labels alertname, name (the SNI, "" without),
 *   sha256, kind, severity="critical", instance, server ("IP:PORT", where
 *   it was first seen). It fires while some address serves the problem:
 *   the alert keeps the addresses whose cert events carried the kind for
 *   that (name, sha256); a cert event for the same name at one of them
 *   with another sha256 (the certificate changed), or with the same one
 *   without the kind, takes that address out. It resolves when none is
 *   left.
 *   TLSWatchHandshakeFailureSpike: one per spike scope; labels alertname,
 *   scope ("all", "sni", "alert", "sha256", "ja4"), key ("" for all),
 *   instance, severity="warning". A `resolved` spike event resolves it.
 *
 * Timing
 *   startsAt is the event's time (packet time offline), never after now.
 *   A new alert is POSTed at the next tick; every resend_s all active
 *   alerts are POSTed again with endsAt = now + 3 * resend_s, so that
 *   Alertmanager resolves them by itself when the agent is gone. endsAt is
 *   wall-clock time even for a replay of an old capture: Alertmanager
 *   takes an alert that ends in the past for resolved. A resolved alert is
 *   POSTed AM_RESOLVE_SENDS times, AM_RESOLVE_SPACING_US apart, with endsAt
 *   = the time it resolved, then forgotten once every URL answered 200 to
 *   a request that carried it. One that some URL has not (it hung, failed
 *   or was missed) goes again at each resend and when a URL answers
 *   again, until each has, or until AM_RESOLVE_OWED_RESENDS resends after
 *   it resolved: by then the endsAt the URL last had for the alert active
 *   has passed, and Alertmanager resolved it by itself.
 *
 * Bounds
 *   At most AM_MAX_ALERTS alerts (active or resolving); new ones beyond are
 *   dropped and counted. At most AM_PER_URL requests per URL on their way,
 *   each on a pool thread of its own, of at most AM_BATCH_MAX alerts and
 *   with a total timeout (--webhook-timeout, 10 s): a dead or hanging
 *   Alertmanager never blocks the agent nor the other URLs (a URL with
 *   AM_PER_URL requests unanswered misses the requests made meanwhile),
 *   failed requests are counted and logged once per change of state, and
 *   their alerts go again at the next resend. close() sends what is due
 *   and waits for the answers, at most drain_ms (5 s by default).
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "common/endpoint.h"
#include "common/grow.h"
#include "common/host_name.h"
#include "common/json.h"
#include "common/log.h"
#include "common/printable.h"
#include "common/timefmt.h"
#include "detect/spike.h"
#include "net/http_pool.h"
#include "receiver_ca.h"
#include "sink.h"

#define AM_MAX_ALERTS 10000
#define AM_MAX_SERVERS 1024            /* addresses kept per cert alert */
#define AM_PER_URL 2                   /* requests per URL on their way */
#define AM_BATCH_MAX 500               /* alerts per request */
#define AM_RESOLVE_SENDS 3
#define AM_RESOLVE_SPACING_US 1000000ull
#define AM_DRAIN_DEFAULT_MS 5000
#define AM_TIMEOUT_DEFAULT_MS 10000
#define AM_API_PATH "/api/v2/alerts"
#define AM_DUE_AT_RESEND UINT64_MAX    /* sent; waits for the next resend */
/* An active alert's endsAt is 3 resends ahead (am_body_add): a resolution
 * a URL missed is owed to it that long. */
#define AM_RESOLVE_OWED_RESENDS 3

enum am_type { AM_CERT, AM_SPIKE };

struct am_alert {
	enum am_type type;
	/* identity: AM_CERT (name, sha256, kind) and server; AM_SPIKE
	 * (scope, key) */
	char *name;                    /* wire bytes, or the spike's key */
	size_t name_len;
	char sha256[65];
	enum finding_kind kind;
	struct tw_endpoint server;     /* the label: where first seen */
	struct tw_endpoint *serving;   /* AM_CERT: where served now */
	int n_serving;
	size_t cap_serving;
	enum spike_kind scope;
	/* the alert's JSON object without endsAt and the closing brace */
	char *json;
	size_t json_len;
	bool resolved;
	uint64_t ends_us;              /* resolved: when */
	int sends_left;                /* resolved: POSTs still to make */
	uint64_t resolution;           /* resolved: its number (am_sink's) */
	uint32_t answered;             /* resolved: URLs that took it (bits) */
	uint64_t due_us;               /* next POST, or AM_DUE_AT_RESEND */
};

struct am_buf {
	char *p;
	size_t len, cap;
	bool failed;
};

struct am_sink {
	struct sink base;              /* first: the sink is cast to it */
	struct output_opts o;          /* as opened, for a reload to compare; */
	char *o_strings;               /* its strings (the sink outlives the */
				       /* options a reload frees) */
	char *urls[OUTPUT_MAX_URLS];   /* {base}/api/v2/alerts */
	bool url_failing[OUTPUT_MAX_URLS];
	int url_in_flight[OUTPUT_MAX_URLS];   /* requests on their way */
	/* what each request on its way carries: the resolutions, for the
	 * URL that takes it (am_alert.answered) */
	struct am_request {
		uint64_t number;               /* 0: a free slot */
		uint64_t *resolutions;
		int n;
	} requests[OUTPUT_MAX_URLS][AM_PER_URL];
	uint64_t n_requests, n_resolutions;   /* numbers given so far */
	int n_urls;
	char instance[256];
	uint64_t resend_us;
	unsigned drain_ms;
	struct am_alert *alerts[AM_MAX_ALERTS];
	int n_alerts;
	uint64_t next_resend_us;
	uint64_t sent, failed, dropped;
	uint64_t serving_full;         /* addresses not kept (am_serving_add) */
	struct http_pool *pool;
	struct receiver_ca ca;         /* --webhook-ca-file, as read at open */
	int efd;
	struct json_writer jw;         /* scratch for one alert */
	struct am_buf body;            /* scratch for one request */
};

static uint64_t am_wall_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static void am_buf_add(struct am_buf *b, const char *s, size_t n)
{
	if (b->failed)
		return;
	/* +1: the NUL kept after the text */
	if (tw_grow(&b->p, &b->cap, 1, b->len, n + 1, 4096, TW_GROW_NO_CAP) < 0) {
		b->failed = true;
		return;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void am_alert_free(struct am_alert *a)
{
	if (!a)
		return;
	free(a->name);
	free(a->json);
	free(a->serving);
	free(a);
}

/* Removes alert @i (the last one takes its place). */
static void am_forget(struct am_sink *am, int i)
{
	am_alert_free(am->alerts[i]);
	am->alerts[i] = am->alerts[--am->n_alerts];
	am->alerts[am->n_alerts] = NULL;
}

static void am_resolve(struct am_sink *am, struct am_alert *a, uint64_t now_us)
{
	if (a->resolved)
		return;
	a->resolved = true;
	a->ends_us = now_us;
	a->sends_left = AM_RESOLVE_SENDS;
	a->resolution = ++am->n_resolutions;
	a->answered = 0;
	a->due_us = 0;
}

/* A new alert with its identity set, or NULL (full or out of memory:
 * counted as dropped). */
static struct am_alert *am_alert_new(struct am_sink *am, enum am_type type,
				     const char *name, size_t name_len)
{
	struct am_alert *a;

	if (am->n_alerts == AM_MAX_ALERTS) {
		if (am->dropped++ == 0)
			pr_warn("alertmanager: %d alerts are active; new ones are dropped\n",
				AM_MAX_ALERTS);
		return NULL;
	}
	a = calloc(1, sizeof(*a));
	if (a)
		a->name = malloc(name_len + 1);
	if (!a || !a->name) {
		free(a);
		if (am->dropped++ == 0)
			pr_warn("alertmanager: out of memory; an alert was dropped\n");
		return NULL;
	}
	memcpy(a->name, name, name_len);
	a->name[name_len] = '\0';
	a->name_len = name_len;
	a->type = type;
	am->alerts[am->n_alerts++] = a;
	return a;
}

/*
 * (Re)writes @a's JSON: labels, annotations, startsAt. The label values
 * are written by the JSON writer (escaped, U+FFFD for invalid UTF-8).
 * 0 or -ENOMEM (the alert keeps its previous text, if any).
 */
static int am_alert_render(struct am_sink *am, struct am_alert *a,
			   const char *summary, const char *description,
			   uint64_t starts_us)
{
	struct json_writer *j = &am->jw;
	char server[TW_ENDPOINT_STRLEN];
	char *text;

	jw_reset(j);
	jw_object_begin(j);
	jw_key(j, "labels");
	jw_object_begin(j);
	if (a->type == AM_CERT) {
		jw_kv_str(j, "alertname", "TLSWatchCertificateFinding");
		jw_key(j, "name");
		jw_string_n(j, a->name, a->name_len);
		jw_kv_str(j, "sha256", a->sha256);
		jw_kv_str(j, "kind", finding_kind_name(a->kind));
		jw_kv_str(j, "severity", "critical");
		jw_kv_str(j, "server", tw_endpoint_format(&a->server, server));
	} else {
		const char *scope = spike_kind_key(a->scope);

		jw_kv_str(j, "alertname", "TLSWatchHandshakeFailureSpike");
		jw_kv_str(j, "scope", scope ? scope : "all");
		jw_kv_str(j, "key", a->name);
		jw_kv_str(j, "severity", "warning");
	}
	jw_kv_str(j, "instance", am->instance);
	jw_object_end(j);
	jw_key(j, "annotations");
	jw_object_begin(j);
	jw_kv_str(j, "summary", summary);
	jw_kv_str(j, "description", description);
	jw_object_end(j);
	jw_kv_time_us(j, "startsAt", starts_us);
	if (jw_failed(j))
		return -ENOMEM;
	text = strdup(jw_text(j));
	if (!text)
		return -ENOMEM;
	free(a->json);
	a->json = text;
	a->json_len = jw_len(j);
	return 0;
}

/* Renders @a and makes it active, due at once. On failure a @created
 * alert is forgotten (counted as dropped); an old one keeps its state. */
static int am_alert_fire(struct am_sink *am, struct am_alert *a, bool created,
			 const char *summary, const char *description,
			 uint64_t starts_us)
{
	int rc = am_alert_render(am, a, summary, description, starts_us);

	if (rc < 0) {
		if (created)
			am_forget(am, am->n_alerts - 1);
		am->dropped++;
		return rc;
	}
	a->resolved = false;
	a->due_us = 0;
	return 0;
}

/* --- cert events */

static const char *am_finding_phrase(enum finding_kind k)
{
	switch (k) {
	case FINDING_REVOKED: return "a revoked certificate";
	case FINDING_EXPIRED: return "an expired certificate";
	case FINDING_NOT_YET_VALID: return "a certificate that is not yet valid";
	case FINDING_SUPERSEDED: return "a superseded certificate (a newer one was served before)";
	case FINDING_UNEXPECTED: return "an unexpected certificate";
	case FINDING_UNTRUSTED: return "an untrusted certificate";
	case FINDING_HOSTNAME_MISMATCH: return "a certificate that does not cover the name";
	case FINDING_REVOKED_STAPLE: return "a certificate stapled with a revoked OCSP answer";
	default: return "a certificate with a critical finding";
	}
}

static struct am_alert *am_find_cert(struct am_sink *am, const char *name,
				     size_t name_len, const char *sha256,
				     enum finding_kind kind)
{
	int i;

	for (i = 0; i < am->n_alerts; i++) {
		struct am_alert *a = am->alerts[i];

		if (a->type == AM_CERT && a->kind == kind &&
		    a->name_len == name_len && memcmp(a->name, name, name_len) == 0 &&
		    strcmp(a->sha256, sha256) == 0)
			return a;
	}
	return NULL;
}

/* Where @server is among the addresses serving @a's problem, or -1. */
static int am_serving_index(const struct am_alert *a, const struct tw_endpoint *server)
{
	int i;

	for (i = 0; i < a->n_serving; i++)
		if (tw_endpoint_equal(&a->serving[i], server))
			return i;
	return -1;
}

/* @server serves @a's problem. Past AM_MAX_SERVERS addresses, or without
 * memory, it is not kept (said once): the alert then resolves when the
 * addresses kept stop serving it. */
static void am_serving_add(struct am_sink *am, struct am_alert *a,
			   const struct tw_endpoint *server)
{
	if (am_serving_index(a, server) >= 0)
		return;
	if (tw_grow(&a->serving, &a->cap_serving, sizeof(*a->serving),
		    (size_t)a->n_serving, 1, 2, AM_MAX_SERVERS) < 0) {
		if (!am->serving_full++)
			pr_warn("alertmanager: an alert served at more than %d addresses (or out of memory): it resolves when those kept stop serving it\n",
				a->n_serving);
		return;
	}
	a->serving[a->n_serving++] = *server;
}

/* @server no longer serves @a's problem: resolved when none does. (An
 * alert that could keep no address at all goes by its label's.) */
static void am_serving_remove(struct am_sink *am, struct am_alert *a,
			      const struct tw_endpoint *server,
			      uint64_t now_us)
{
	int i = am_serving_index(a, server);

	if (i < 0 && (a->n_serving || !tw_endpoint_equal(&a->server, server)))
		return;
	if (i >= 0)
		a->serving[i] = a->serving[--a->n_serving];
	if (!a->n_serving)
		am_resolve(am, a, now_us);
}

/* Takes this cert event's address out of the alerts it shows are over
 * there: same name and certificate without the kind now, or same name and
 * another certificate. */
static void am_cert_resolve_stale(struct am_sink *am, const struct cert_view *cv,
				  const char *name, size_t name_len,
				  const char *sha256, uint64_t now_us)
{
	int i;

	for (i = 0; i < am->n_alerts; i++) {
		struct am_alert *a = am->alerts[i];

		if (a->type != AM_CERT || a->resolved || a->name_len != name_len ||
		    memcmp(a->name, name, name_len) != 0)
			continue;
		if (strcmp(a->sha256, sha256) != 0 || !finding_has(cv->findings, a->kind))
			am_serving_remove(am, a, cv->server, now_us);
	}
}

static int am_cert_fire(struct am_sink *am, const struct event *ev,
			const struct cert_info *leaf, const struct finding *f,
			const char *name, size_t name_len, uint64_t now_us)
{
	const struct cert_view *cv = ev->cert;
	struct am_alert *a = am_find_cert(am, name, name_len, leaf->sha256_hex, f->kind);
	char summary[512], description[2048], who[300], after[TW_TIME_STRLEN];
	bool created = false;
	int rc;

	if (a && !a->resolved) {
		am_serving_add(am, a, cv->server);
		return 0;          /* already active: the resend keeps it so */
	}
	if (!a) {
		a = am_alert_new(am, AM_CERT, name, name_len);
		if (!a)
			return -ENOMEM;
		created = true;
		memcpy(a->sha256, leaf->sha256_hex, sizeof(a->sha256));
		a->kind = f->kind;
		a->server = *cv->server;
	}
	if (name_len)
		tw_printable(name, name_len, who, sizeof(who));
	else
		snprintf(who, sizeof(who), "a server without SNI");
	snprintf(summary, sizeof(summary), "%s serves %s", who,
		 am_finding_phrase(f->kind));
	snprintf(description, sizeof(description),
		 "%s%sSubject: %s; issuer: %s; not after: %s; sha256: %s.",
		 f->detail, f->detail[0] ? ". " : "",
		 leaf->subject ? leaf->subject : "?",
		 leaf->issuer ? leaf->issuer : "?",
		 tw_time_format_s(leaf->not_after, after), leaf->sha256_hex);
	rc = am_alert_fire(am, a, created, summary, description,
			   ev->ts_us < now_us ? ev->ts_us : now_us);
	if (rc == 0)
		am_serving_add(am, a, cv->server);
	return rc;
}

static int am_cert_event(struct am_sink *am, const struct event *ev)
{
	const struct cert_view *cv = ev->cert;
	const struct cert_info *leaf;
	/* an alert's name is the name as compared (tw_host_name_fold_key):
	 * "A.test" and "a.test" are one alert, as they are one host */
	char name[TW_HOST_NAME_KEY_MAX] = "";
	size_t name_len = cv->sni ? tw_host_name_fold_key(cv->sni, cv->sni_len,
							   name, sizeof(name)) : 0;
	uint64_t now_us = am_wall_us();
	int i, rc = 0;

	if (cv->n_chain < 1 || !cv->chain[0] || !cv->server)
		return 0;
	leaf = cv->chain[0];
	am_cert_resolve_stale(am, cv, name, name_len, leaf->sha256_hex, now_us);
	if (!cv->findings)
		return 0;
	for (i = 0; i < cv->findings->n; i++) {
		const struct finding *f = &cv->findings->items[i];

		if (finding_kind_severity(f->kind) != SEV_CRITICAL)
			continue;
		if (am_cert_fire(am, ev, leaf, f, name, name_len, now_us) < 0)
			rc = -ENOMEM;
	}
	return rc;
}

/* --- spike events */

static struct am_alert *am_find_spike(struct am_sink *am, enum spike_kind scope,
				      const char *key)
{
	int i;

	for (i = 0; i < am->n_alerts; i++) {
		struct am_alert *a = am->alerts[i];

		if (a->type == AM_SPIKE && a->scope == scope && strcmp(a->name, key) == 0)
			return a;
	}
	return NULL;
}

/* ", unknown_ca (client) 30, ..." after @label; nothing for an empty list. */
static void am_top_list(char *out, size_t outlen, const char *label,
			const struct spike_top *top, int n)
{
	size_t len = strlen(out);
	int i;

	if (n <= 0 || len >= outlen)
		return;
	len += (size_t)snprintf(out + len, outlen - len, " Top %s:", label);
	for (i = 0; i < n && len < outlen; i++)
		len += (size_t)snprintf(out + len, outlen - len, "%s %s%s%s%s %llu",
					i ? "," : "", top[i].key ? top[i].key : "?",
					top[i].from ? " (" : "",
					top[i].from ? top[i].from : "",
					top[i].from ? ")" : "",
					(unsigned long long)top[i].count);
	if (len < outlen)
		snprintf(out + len, outlen - len, ".");
}

static int am_spike_event(struct am_sink *am, const struct event *ev)
{
	const struct spike_event *sp = ev->spike;
	const char *key = sp->key ? sp->key : "";
	const char *scope = spike_kind_key(sp->kind);
	uint64_t now_us = am_wall_us();
	char summary[512], description[2048], started[TW_TIME_STRLEN];
	struct am_alert *a = am_find_spike(am, sp->kind, key);
	bool created = false;

	if (sp->state == SPIKE_RESOLVED) {
		if (a)
			am_resolve(am, a, now_us);
		return 0;
	}
	if (!a) {
		a = am_alert_new(am, AM_SPIKE, key, strlen(key));
		if (!a)
			return -ENOMEM;
		created = true;
		a->scope = sp->kind;
	}
	snprintf(summary, sizeof(summary),
		 "Handshake failure spike (%s%s%s): %.1f%% of %llu handshakes failed",
		 scope ? scope : "all traffic", scope ? " " : "", key,
		 sp->rate * 100.0, (unsigned long long)sp->handshakes);
	snprintf(description, sizeof(description),
		 "%llu failures of %llu handshakes in %u s (rate %.4f",
		 (unsigned long long)sp->failures, (unsigned long long)sp->handshakes,
		 sp->window_s, sp->rate);
	if (sp->has_baseline)
		snprintf(description + strlen(description),
			 sizeof(description) - strlen(description),
			 ", baseline %.4f", sp->baseline_rate);
	snprintf(description + strlen(description),
		 sizeof(description) - strlen(description), "), since %s.",
		 tw_time_format_us(sp->started_us, started));
	am_top_list(description, sizeof(description), "alerts", sp->top_alerts, sp->n_alerts);
	am_top_list(description, sizeof(description), "names", sp->top_snis, sp->n_snis);
	am_top_list(description, sizeof(description), "certificates", sp->top_certs, sp->n_certs);
	am_top_list(description, sizeof(description), "clients (JA4)", sp->top_clients,
		    sp->n_clients);
	return am_alert_fire(am, a, created, summary, description,
			     sp->started_us && sp->started_us < now_us ? sp->started_us :
			     ev->ts_us < now_us ? ev->ts_us : now_us);
}

static int am_event(struct sink *s, const struct event *ev, const char *json,
		    size_t len)
{
	struct am_sink *am = (struct am_sink *)s;

	switch (ev->type) {
	case EVENT_CERT:
		return am_cert_event(am, ev);
	case EVENT_SPIKE:
		return am_spike_event(am, ev);
	default:
		return 0;
	}
}

/* --- delivery */

/* URL @u misses a request, for the reason @why: counted as failed, said
 * once until it answers again. */
static void am_url_missed(struct am_sink *am, int u, const char *why)
{
	char url[HTTP_URL_LOG_LEN];

	am->failed++;
	if (am->url_failing[u])
		return;
	am->url_failing[u] = true;
	pr_warn("alertmanager %s: %s; alerts go again at the next resend\n",
		http_url_for_log(am->urls[u], url), why);
}

/* --- resolutions owed to a URL (see the top) */

_Static_assert(OUTPUT_MAX_URLS <= 32, "a URL is a bit of am_alert.answered");

static uint32_t am_all_urls(const struct am_sink *am)
{
	return (uint32_t)((1ull << am->n_urls) - 1);
}

/* Resolved @a was sent its times and every URL took it: done with. */
static bool am_resolution_done(const struct am_sink *am, const struct am_alert *a)
{
	return a->sends_left <= 0 && (a->answered & am_all_urls(am)) == am_all_urls(am);
}

/* URL @u's request on its way numbered @number (0: a free slot), or NULL. */
static struct am_request *am_request_of(struct am_sink *am, int u, uint64_t number)
{
	int k;

	for (k = 0; k < AM_PER_URL; k++)
		if (am->requests[u][k].number == number)
			return &am->requests[u][k];
	return NULL;
}

static void am_request_free(struct am_request *req)
{
	free(req->resolutions);
	memset(req, 0, sizeof(*req));
}

/* URL @u took @req: it has each resolution @req carried. */
static void am_request_taken(struct am_sink *am, int u, const struct am_request *req)
{
	struct am_alert *a;
	int i, j;

	for (j = 0; j < req->n; j++)
		for (i = 0; i < am->n_alerts; i++) {
			a = am->alerts[i];
			if (!a->resolved || a->resolution != req->resolutions[j])
				continue;
			a->answered |= 1u << u;
			if (am_resolution_done(am, a))
				am_forget(am, i);
			break;
		}
}

/* The resolutions owed to URL @u (-1: to any) go once more, now. */
static void am_owed_again(struct am_sink *am, int u)
{
	uint32_t bits = u < 0 ? am_all_urls(am) : 1u << u;
	int i;

	for (i = 0; i < am->n_alerts; i++) {
		struct am_alert *a = am->alerts[i];

		if (a->resolved && a->sends_left <= 0 && (~a->answered & bits)) {
			a->sends_left = 1;
			a->due_us = 0;
		}
	}
}

/* Owed resolutions past AM_RESOLVE_OWED_RESENDS resends are forgotten:
 * Alertmanager has ended them at the endsAt it last had. */
static void am_owed_expire(struct am_sink *am, uint64_t now_us)
{
	uint64_t keep_us = AM_RESOLVE_OWED_RESENDS * am->resend_us;
	int i;

	/* Backwards: forgetting alert i moves the last one to i. */
	for (i = am->n_alerts - 1; i >= 0; i--) {
		struct am_alert *a = am->alerts[i];

		if (a->resolved && a->sends_left <= 0 && now_us > a->ends_us + keep_us)
			am_forget(am, i);
	}
}

/* The answer to request @r of URL @u. */
static void am_answered(struct am_sink *am, int u, const struct http_result *r)
{
	struct am_request *req = NULL;
	char url[HTTP_URL_LOG_LEN];
	uint64_t number;

	am->url_in_flight[u]--;
	if (r->key_len == sizeof(number)) {
		memcpy(&number, r->key, sizeof(number));
		req = number ? am_request_of(am, u, number) : NULL;
	}
	if (r->error[0]) {
		am_url_missed(am, u, r->error);
	} else {
		am->sent++;
		if (req)
			am_request_taken(am, u, req);
		if (am->url_failing[u]) {
			am->url_failing[u] = false;
			pr_warn("alertmanager %s: answers again\n",
				http_url_for_log(am->urls[u], url));
			am_owed_again(am, u);
		}
	}
	if (req)
		am_request_free(req);
}

static void am_take_results(struct am_sink *am)
{
	struct http_result *r;
	uint64_t v;

	/* The eventfd only wakes a poll(); the pool's list is the truth. */
	if (read(am->efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		pr_debug("alertmanager: eventfd: %s\n", strerror(errno));
	while ((r = http_pool_take(am->pool))) {
		int u = r->kind;

		if (u >= 0 && u < am->n_urls)
			am_answered(am, u, r);
		else if (r->error[0])
			am->failed++;
		else
			am->sent++;
		http_result_free(r);
	}
}

static bool am_url_room(const struct am_sink *am, int u)
{
	return am->url_in_flight[u] < AM_PER_URL;
}

/* Some URL can take a request. */
static bool am_room(const struct am_sink *am)
{
	int u;

	for (u = 0; u < am->n_urls; u++)
		if (am_url_room(am, u))
			return true;
	return false;
}

/* Appends alert @a as sent at @now_us to the request body. */
static void am_body_add(struct am_sink *am, const struct am_alert *a, uint64_t now_us)
{
	char ends[TW_TIME_STRLEN], tail[64];
	uint64_t ends_us = a->resolved ? a->ends_us : now_us + 3 * am->resend_us;
	int n;

	n = snprintf(tail, sizeof(tail), ",\"endsAt\":\"%s\"}",
		     tw_time_format_us(ends_us, ends));
	am_buf_add(&am->body, am->body.len > 1 ? "," : "", am->body.len > 1);
	am_buf_add(&am->body, a->json, a->json_len);
	am_buf_add(&am->body, tail, (size_t)n);
}

/* After a request: an active alert waits for the resend, a resolved one
 * goes again a few times, then is forgotten once every URL took it (else
 * it is owed: see the top). */
static void am_after_send(struct am_sink *am, int i, uint64_t now_us)
{
	struct am_alert *a = am->alerts[i];

	if (!a->resolved)
		a->due_us = AM_DUE_AT_RESEND;
	else if (--a->sends_left > 0)
		a->due_us = now_us + AM_RESOLVE_SPACING_US;
	else if (am_resolution_done(am, a))
		am_forget(am, i);
	else
		a->due_us = AM_DUE_AT_RESEND;
}

/* Submits the request body to URL @u, numbered with the resolutions of
 * @batch (@n alerts) it carries; a copy that cannot be kept only means
 * they are sent again. 0 or -1. */
static int am_submit(struct am_sink *am, int u, const int *batch, int n)
{
	struct am_request *req = am_request_of(am, u, 0);
	int i;

	if (!req || am->body.failed)
		return -1;
	req->number = ++am->n_requests;
	req->resolutions = malloc((size_t)n * sizeof(*req->resolutions));
	for (i = 0; req->resolutions && i < n; i++)
		if (am->alerts[batch[i]]->resolved)
			req->resolutions[req->n++] = am->alerts[batch[i]]->resolution;
	if (http_pool_submit(am->pool, u, am->urls[u], &req->number, sizeof(req->number),
			     "application/json", (const uint8_t *)am->body.p,
			     am->body.len) < 0) {
		am_request_free(req);
		return -1;
	}
	am->url_in_flight[u]++;
	return 0;
}

/* POSTs the alerts due at @now_us, AM_BATCH_MAX a request, to every URL
 * with room in flight (those without miss it), while one has room.
 * Returns whether some are still due. */
static bool am_send_due(struct am_sink *am, uint64_t now_us)
{
	int batch[AM_BATCH_MAX];
	int n, i, u;

	for (;;) {
		n = 0;
		for (i = 0; i < am->n_alerts && n < AM_BATCH_MAX; i++)
			if (am->alerts[i]->due_us <= now_us && am->alerts[i]->json)
				batch[n++] = i;
		if (n == 0)
			return false;
		if (!am_room(am))
			return true;
		am->body.len = 0;
		am->body.failed = false;
		am_buf_add(&am->body, "[", 1);
		for (i = 0; i < n; i++)
			am_body_add(am, am->alerts[batch[i]], now_us);
		am_buf_add(&am->body, "]", 1);
		for (u = 0; u < am->n_urls; u++) {
			if (!am_url_room(am, u))
				am_url_missed(am, u, "its requests are unanswered (hanging?)");
			else if (am_submit(am, u, batch, n) < 0)
				am_url_missed(am, u, "cannot queue a request (memory or queue full)");
		}
		/* Backwards: forgetting alert i moves the last one to i. */
		for (i = n - 1; i >= 0; i--)
			am_after_send(am, batch[i], now_us);
	}
}

static void am_tick(struct sink *s, uint64_t now_us)
{
	struct am_sink *am = (struct am_sink *)s;
	int i;

	am_take_results(am);
	if (now_us >= am->next_resend_us) {
		am_owed_expire(am, now_us);
		for (i = 0; i < am->n_alerts; i++)
			if (!am->alerts[i]->resolved)
				am->alerts[i]->due_us = 0;
		am_owed_again(am, -1);
		am->next_resend_us = now_us + am->resend_us;
	}
	am_send_due(am, now_us);
}

static void am_counters(struct sink *s, struct counter_values *cv)
{
	struct am_sink *am = (struct am_sink *)s;

	counter_set(cv, COUNTER_ALERTMANAGER_SENT, am->sent);
	counter_set(cv, COUNTER_ALERTMANAGER_FAILED, am->failed);
}

static uint64_t am_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Sends what is due now (resolutions once more, not the repeats) and
 * waits for the answers, at most drain_ms. */
static void am_drain(struct am_sink *am)
{
	uint64_t deadline = am_mono_ms() + am->drain_ms;
	int i;

	for (i = 0; i < am->n_alerts; i++)
		if (am->alerts[i]->resolved) {
			am->alerts[i]->sends_left = 1;
			am->alerts[i]->due_us = 0;
		}
	for (;;) {
		uint64_t now_ms = am_mono_ms();
		struct pollfd pfd = { .fd = am->efd, .events = POLLIN };
		bool pending;

		am_take_results(am);
		pending = am_send_due(am, am_wall_us());
		if (!pending && http_pool_outstanding(am->pool) == 0)
			return;
		if (now_ms >= deadline)
			break;
		if (poll(&pfd, 1, (int)(deadline - now_ms)) < 0 && errno != EINTR)
			break;
	}
	pr_warn("alertmanager: %zu requests unanswered after %u ms; given up\n",
		http_pool_outstanding(am->pool), am->drain_ms);
}

static void am_close(struct sink *s)
{
	struct am_sink *am = (struct am_sink *)s;
	int i, k;

	if (am->pool)
		am_drain(am);
	if (am->dropped)
		pr_warn("alertmanager: %llu alerts dropped (more than %d, or out of memory)\n",
			(unsigned long long)am->dropped, AM_MAX_ALERTS);
	http_pool_free(am->pool);
	if (am->efd >= 0)
		close(am->efd);
	for (i = 0; i < am->n_alerts; i++)
		am_alert_free(am->alerts[i]);
	for (i = 0; i < am->n_urls; i++)
		for (k = 0; k < AM_PER_URL; k++)
			am_request_free(&am->requests[i][k]);
	for (i = 0; i < am->n_urls; i++)
		free(am->urls[i]);
	jw_free(&am->jw);
	free(am->body.p);
	receiver_ca_free(&am->ca);
	free(am->o_strings);
	free(am);
}

/* The same URLs, instance, timeout, resend interval and CAs (the file is
 * read again: a rotated CA is a change). */
static bool am_unchanged(struct sink *s, const struct output_opts *o)
{
	struct am_sink *am = (struct am_sink *)s;

	return sink_strv_same(am->o.alertmanagers, am->o.n_alertmanagers,
			      o->alertmanagers, o->n_alertmanagers) &&
	       sink_str_same(am->o.instance, o->instance) &&
	       am->o.webhook_timeout_ms == o->webhook_timeout_ms &&
	       am->o.alertmanager_resend_s == o->alertmanager_resend_s &&
	       sink_str_same(am->o.webhook_ca_file, o->webhook_ca_file) &&
	       receiver_ca_unchanged(o->webhook_ca_file, &am->ca);
}

static const struct sink_ops am_ops = {
	.name = "alertmanager",
	.unchanged = am_unchanged,
	.event = am_event,
	.tick = am_tick,
	.counters = am_counters,
	.close = am_close,
};

/* The options bound the base (OUTPUT_URL_LEN): with the path, the pool
 * takes it. */
_Static_assert(OUTPUT_URL_LEN + sizeof(AM_API_PATH) - 1 <= HTTP_REQUEST_URL_LEN,
	       "an --alertmanager URL with its API path fits a request");

/* @path, without its trailing slashes, then the API path: malloc'd, or
 * NULL. */
static char *am_api_path(const char *path)
{
	size_t n = strlen(path);
	char *api;

	while (n > 0 && path[n - 1] == '/')
		n--;
	if ((api = malloc(n + sizeof(AM_API_PATH)))) {
		memcpy(api, path, n);
		memcpy(api + n, AM_API_PATH, sizeof(AM_API_PATH));
	}
	return api;
}

/*
 * {base}/api/v2/alerts: the API path after the base's path, without its
 * trailing slashes, before its query ("http://h/am/?token=t" gives
 * "http://h/am/api/v2/alerts?token=t"; appended to the whole URL it
 * ended up in the query), a fragment dropped. The base is parsed once:
 * its path is replaced in the same handle.
 */
static int am_add_url(struct am_sink *am, const char *base, char *err, size_t errlen)
{
	CURLU *u = curl_url();
	char *path = NULL, *api = NULL, *curl_out = NULL, *url = NULL;

	if (u && curl_url_set(u, CURLUPART_URL, base, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_PATH, &path, 0) == CURLUE_OK &&
	    (api = am_api_path(path)) &&
	    curl_url_set(u, CURLUPART_PATH, api, 0) == CURLUE_OK &&
	    curl_url_set(u, CURLUPART_FRAGMENT, NULL, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_URL, &curl_out, 0) == CURLUE_OK)
		url = strdup(curl_out);
	curl_free(curl_out);
	free(api);
	curl_free(path);
	curl_url_cleanup(u);
	if (!url) {
		/* the options checked it parses: memory is short */
		snprintf(err, errlen, "--alertmanager: cannot build the API URL (out of memory?)");
		return -ENOMEM;
	}
	am->urls[am->n_urls++] = url;
	return 0;
}

static void am_set_instance(struct am_sink *am, const char *instance)
{
	if (instance) {
		snprintf(am->instance, sizeof(am->instance), "%s", instance);
		return;
	}
	if (gethostname(am->instance, sizeof(am->instance) - 1) < 0) {
		pr_warn("alertmanager: gethostname: %s; instance=\"unknown\"\n",
			strerror(errno));
		snprintf(am->instance, sizeof(am->instance), "unknown");
	}
	am->instance[sizeof(am->instance) - 1] = '\0';
}

int alertmanager_open(const struct output_opts *o, struct sink_set *set,
		      char *err, size_t errlen)
{
	struct http_pool_opts po = { 0 };
	struct am_sink *am;
	int i, rc;

	if (o->n_alertmanagers <= 0)
		return 0;
	am = calloc(1, sizeof(*am));
	if (!am) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	am->base.ops = &am_ops;
	am->efd = -1;
	jw_init(&am->jw);
	rc = output_opts_copy(&am->o, &am->o_strings, o, err, errlen);
	if (rc < 0)
		goto fail;
	am->resend_us = (uint64_t)(o->alertmanager_resend_s ? o->alertmanager_resend_s :
				   OUTPUT_AM_RESEND_DEFAULT_S) * 1000000;
	am->drain_ms = o->drain_ms ? o->drain_ms : AM_DRAIN_DEFAULT_MS;
	am_set_instance(am, o->instance);
	for (i = 0; i < o->n_alertmanagers && i < OUTPUT_MAX_URLS; i++) {
		rc = am_add_url(am, o->alertmanagers[i], err, errlen);
		if (rc < 0)
			goto fail;
	}
	am->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (am->efd < 0) {
		rc = -errno;
		snprintf(err, errlen, "--alertmanager: eventfd: %s", strerror(errno));
		goto fail;
	}
	/* a thread per request on its way: one URL's cannot hold another's */
	po.threads = AM_PER_URL * am->n_urls;
	po.timeout_ms = (int)(o->webhook_timeout_ms ? o->webhook_timeout_ms :
			      AM_TIMEOUT_DEFAULT_MS);
	po.max_queued = AM_PER_URL * am->n_urls;
	po.notify_fd = am->efd;
	if (receiver_ca_load(o->webhook_ca_file, "alertmanager", &am->ca, err, errlen) < 0) {
		rc = -EINVAL;
		goto fail;
	}
	po.ca_pem = am->ca.pem;
	po.ca_pem_len = am->ca.len;
	rc = http_pool_new(&po, &am->pool, err, errlen);
	if (rc < 0) {
		rc = -ENOMEM;
		goto fail;
	}
	return sink_set_add(set, &am->base, err, errlen);
fail:
	am_close(&am->base);
	return rc;
}
