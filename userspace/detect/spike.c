// SPDX-License-Identifier: MIT
/*
 * The spike detector: per handshake, account it in every scope it belongs
 * to, log it if it failed, and judge the scopes it touched; per second,
 * close the second for the time-driven scopes (all traffic, alerts, those
 * firing) and judge whether the firing ones resolved. The rules are in
 * spike.h.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/host_name.h"
#include "spike_internal.h"

enum spike_class { SPIKE_OK, SPIKE_FAIL, SPIKE_INC };

const char *spike_kind_key(enum spike_kind k)
{
	switch (k) {
	case SPIKE_SCOPE_SNI:   return "sni";
	case SPIKE_SCOPE_ALERT: return "alert";
	case SPIKE_SCOPE_CERT:  return "sha256";
	case SPIKE_SCOPE_JA4:   return "ja4";
	default:                return NULL;
	}
}

const char *spike_state_name(enum spike_state s)
{
	return s == SPIKE_FIRING ? "firing" : "resolved";
}

/* Defaults for zero fields, then range checks. */
static int spike_opts_resolve(const struct spike_opts *in, struct spike_opts *o)
{
	*o = in ? *in : (struct spike_opts){ 0 };
	if (!o->window_s)
		o->window_s = 10;
	if (o->factor == 0)
		o->factor = 3.0;
	if (!o->min_failures)
		o->min_failures = 20;
	if (!o->max_scopes_per_kind)
		o->max_scopes_per_kind = 4096;
	if (!o->resolve_s)
		o->resolve_s = o->window_s;
	if (!o->baseline_s)
		o->baseline_s = 600;
	if (o->cold_rate == 0)
		o->cold_rate = 0.5;
	if (o->sigma == 0)
		o->sigma = 4.0;
	if (!o->failure_log)
		o->failure_log = 65536;

	if (o->window_s > 300 || !(o->factor >= 1 && o->factor <= 1000) ||
	    o->max_scopes_per_kind < 16 || o->max_scopes_per_kind > (1u << 20) ||
	    o->resolve_s > 3600 || o->baseline_s < 10 || o->baseline_s > 86400 ||
	    !(o->cold_rate > 0 && o->cold_rate <= 1) ||
	    !(o->sigma > 0 && o->sigma <= 100) ||
	    o->failure_log < 16 || o->failure_log > (1u << 24))
		return -1;
	return 0;
}

static size_t spike_detector_bytes(const struct spike_opts *o)
{
	uint32_t c = o->max_scopes_per_kind, w = o->window_s;

	return sizeof(struct spike_detector) +
	       spike_table_bytes(1, 0, false, false, w) +
	       spike_table_bytes(c, SPIKE_SNI_MAX, true, false, w) +
	       spike_table_bytes(SPIKE_ALERT_CODES, SPIKE_ALERT_NAME_MAX, false, false, w) +
	       spike_table_bytes(c, SPIKE_CERT_MAX, true, true, w) +
	       spike_table_bytes(c, SPIKE_JA4_MAX, true, false, w) +
	       (size_t)o->failure_log * sizeof(struct spike_fail_rec) +
	       (3 * (size_t)c + 1 + SPIKE_ALERT_CODES) * sizeof(struct spike_entry *) +
	       SPIKE_ALERT_CODES * 2 * (sizeof(uint32_t) + sizeof(uint16_t));
}

size_t spike_memory_bound(const struct spike_opts *in)
{
	struct spike_opts o;

	if (spike_opts_resolve(in, &o) < 0)
		return 0;
	return spike_detector_bytes(&o);
}

static void spike_alert_names(struct spike_table *t)
{
	const char *name;
	char *key;
	uint32_t code;

	for (code = 0; code < SPIKE_ALERT_CODES; code++) {
		key = t->keys + (size_t)code * (t->key_max + 1);
		name = code == SPIKE_ALERT_ENCRYPTED ? "encrypted" :
		       hs_alert_description_name((uint8_t)code);
		if (name)
			snprintf(key, t->key_max + 1, "%s", name);
		else   /* as handshake events and the summary name it */
			snprintf(key, t->key_max + 1, "%u", code);
		t->e[code].key_len = (uint16_t)strlen(key);
	}
}

static int spike_detector_alloc(struct spike_detector *d)
{
	uint32_t c = d->o.max_scopes_per_kind;

	if (spike_table_init(d, &d->t[SPIKE_SCOPE_ALL], SPIKE_SCOPE_ALL, 1, 0, false) ||
	    spike_table_init(d, &d->t[SPIKE_SCOPE_SNI], SPIKE_SCOPE_SNI, c, SPIKE_SNI_MAX, true) ||
	    spike_table_init(d, &d->t[SPIKE_SCOPE_ALERT], SPIKE_SCOPE_ALERT,
			     SPIKE_ALERT_CODES, SPIKE_ALERT_NAME_MAX, false) ||
	    spike_table_init(d, &d->t[SPIKE_SCOPE_CERT], SPIKE_SCOPE_CERT, c, SPIKE_CERT_MAX, true) ||
	    spike_table_init(d, &d->t[SPIKE_SCOPE_JA4], SPIKE_SCOPE_JA4, c, SPIKE_JA4_MAX, true))
		return -1;
	d->firing_cap = 3 * c + 1 + SPIKE_ALERT_CODES;
	d->firing = calloc(d->firing_cap, sizeof(*d->firing));
	d->log = calloc(d->o.failure_log, sizeof(*d->log));
	d->ex_alerts = calloc(SPIKE_ALERT_CODES * 2, sizeof(*d->ex_alerts));
	d->ex_alert_touched = calloc(SPIKE_ALERT_CODES * 2, sizeof(*d->ex_alert_touched));
	if (!d->firing || !d->log || !d->ex_alerts || !d->ex_alert_touched)
		return -1;
	d->mem += d->firing_cap * sizeof(*d->firing) +
		  d->o.failure_log * sizeof(*d->log) +
		  SPIKE_ALERT_CODES * 2 * (sizeof(*d->ex_alerts) + sizeof(*d->ex_alert_touched));
	spike_alert_names(&d->t[SPIKE_SCOPE_ALERT]);
	spike_table_direct(d, &d->t[SPIKE_SCOPE_ALL], 0);
	return 0;
}

struct spike_detector *spike_detector_new(const struct spike_opts *o,
					  spike_emit_fn emit, void *ctx)
{
	struct spike_detector *d;

	d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	if (spike_opts_resolve(o, &d->o) < 0) {
		free(d);
		errno = EINVAL;
		return NULL;
	}
	d->emit = emit;
	d->ctx = ctx;
	d->beta = exp(-1.0 / d->o.baseline_s);
	d->rng = 0x9e3779b97f4a7c15ULL;
	d->mem = sizeof(*d);
	if (spike_detector_alloc(d) < 0) {
		spike_detector_free(d);
		errno = ENOMEM;
		return NULL;
	}
	return d;
}

void spike_detector_free(struct spike_detector *d)
{
	int k;

	if (!d)
		return;
	for (k = 0; k < SPIKE_KIND_COUNT; k++)
		spike_table_free(&d->t[k]);
	free(d->firing);
	free(d->log);
	free(d->ex_alerts);
	free(d->ex_alert_touched);
	free(d);
}

static struct spike_entry *spike_all(struct spike_detector *d)
{
	return &d->t[SPIKE_SCOPE_ALL].e[0];
}

static const char *spike_entry_key(const struct spike_detector *d,
				   const struct spike_entry *e)
{
	if (e->kind == SPIKE_SCOPE_ALL)
		return NULL;
	return spike_table_key(&d->t[e->kind], e);
}

/* ---- events */

static void spike_emit(struct spike_detector *d, const struct spike_entry *e,
		       enum spike_state state, uint64_t ts_us)
{
	struct spike_event ev;
	uint32_t n = spike_entry_window_hs(d, e);

	if (!d->emit)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.state = state;
	ev.kind = e->kind;
	ev.key = spike_entry_key(d, e);
	ev.ts_us = ts_us;
	ev.window_s = d->o.window_s;
	ev.handshakes = n;
	ev.failures = e->win_fail;
	ev.incomplete = spike_entry_window_inc(d, e);
	ev.rate = n ? (double)e->win_fail / n : 0;
	ev.has_baseline = spike_entry_warm(e);
	ev.baseline_rate = spike_entry_baseline(e);
	ev.started_us = e->started_us;
	spike_explain(d, e, d->sec, &ev);
	d->emit(d->ctx, &ev);
}

static void spike_fire(struct spike_detector *d, struct spike_entry *e, uint64_t ts_us)
{
	uint32_t w = d->o.window_s;

	e->firing = true;
	e->started_us = ts_us;
	e->clear_run = 0;
	/* what is in the window now is the spike's start: never learn it */
	e->taint_from = d->sec + 1 >= w ? d->sec + 1 - w : 0;
	e->taint_to = SPIKE_NEVER;
	d->firing[d->n_firing++] = e;
	d->st.spikes_fired++;
	spike_emit(d, e, SPIKE_FIRING, ts_us);
}

static void spike_resolve(struct spike_detector *d, uint32_t i, uint64_t sec)
{
	struct spike_entry *e = d->firing[i];

	e->firing = false;
	e->taint_to = sec - 1;
	memmove(&d->firing[i], &d->firing[i + 1],
		(d->n_firing - i - 1) * sizeof(*d->firing));
	d->n_firing--;
	d->st.spikes_resolved++;
	spike_emit(d, e, SPIKE_RESOLVED, sec * SPIKE_USEC);
}

/* While all traffic fires, its event already explains the names, leaves,
 * clients and alerts involved: a narrower scope fires only if it stands
 * out from all traffic (a rate `factor` times the all-traffic window
 * rate, capped at halfway to 100 %), and alert scopes, whose rate is a
 * share of all traffic, not at all. Without this, a site-wide outage
 * would fire every tracked scope at once. */
static bool spike_stands_out(const struct spike_detector *d,
			     const struct spike_entry *e, uint32_t f, uint32_t n)
{
	const struct spike_entry *g = &d->t[SPIKE_SCOPE_ALL].e[0];
	double r_all, need;

	if (e->kind == SPIKE_SCOPE_ALL || !g->firing)
		return true;
	if (e->kind == SPIKE_SCOPE_ALERT)
		return false;
	r_all = g->win_hs ? (double)g->win_fail / g->win_hs : 0;
	need = d->o.factor * r_all;
	if (need > (1 + r_all) / 2)
		need = (1 + r_all) / 2;
	return (double)f >= need * n;
}

static void spike_judge_fire(struct spike_detector *d, struct spike_entry *e,
			     uint64_t ts_us)
{
	uint32_t n, f = e->win_fail;
	double p, thr;

	if (e->firing || f < d->o.min_failures)
		return;
	n = spike_entry_window_hs(d, e);
	thr = spike_threshold(d, e, n, &p);
	if ((double)f < thr * n || !spike_ratio_confident(d, e, n, f) ||
	    !spike_stands_out(d, e, f, n))
		return;
	spike_fire(d, e, ts_us);
}

/* True when @e has been clear for resolve_s seconds. */
static bool spike_judge_clear(struct spike_detector *d, struct spike_entry *e)
{
	uint32_t n = spike_entry_window_hs(d, e), f = e->win_fail;
	double p, thr;
	bool clear;

	thr = spike_threshold(d, e, n, &p);
	clear = n == 0 || 2 * (uint64_t)f < d->o.min_failures ||
		(double)f < (p + thr) / 2 * n;
	e->clear_run = clear ? e->clear_run + 1 : 0;
	return e->clear_run >= d->o.resolve_s;
}

/* ---- the clock */

/* Brings the time-driven scopes to second @s and judges the firing ones.
 * Alerts roll before all traffic: they read its ring for the second that
 * leaves. */
static void spike_close_to(struct spike_detector *d, uint64_t s)
{
	struct spike_table *at = &d->t[SPIKE_SCOPE_ALERT];
	struct spike_entry *e;
	uint32_t i;

	for (i = 0; i < at->used; i++)
		spike_entry_roll(d, &at->e[at->order[i]], s);
	spike_entry_roll(d, spike_all(d), s);
	d->sec = s;
	for (i = 0; i < d->n_firing;) {
		e = d->firing[i];
		spike_entry_roll(d, e, s);
		if (spike_judge_clear(d, e))
			spike_resolve(d, i, s);
		else
			i++;
	}
}

/* Second by second while something fires (each second is judged), then
 * in one step: after window_s + resolve_s empty seconds all has resolved,
 * so a long gap costs no more than that. */
static void spike_tick_to(struct spike_detector *d, uint64_t sec)
{
	uint64_t steps = 0, limit = (uint64_t)d->o.window_s + d->o.resolve_s + 2;

	while (d->sec < sec) {
		spike_close_to(d, d->n_firing && steps < limit ? d->sec + 1 : sec);
		steps++;
	}
}

static void spike_start(struct spike_detector *d, uint64_t sec)
{
	struct spike_entry *g = spike_all(d);

	d->started = true;
	d->sec = sec;
	g->sec = sec;
}

static void spike_clock(struct spike_detector *d, uint64_t ts_us)
{
	uint64_t sec;

	if (ts_us > SPIKE_MAX_US)
		ts_us = SPIKE_MAX_US;   /* seconds are kept in 32 bits */
	if (ts_us < d->now_us)
		ts_us = d->now_us;   /* time never goes back */
	sec = ts_us / SPIKE_USEC;
	if (!d->started)
		spike_start(d, sec);
	else if (sec > d->sec)
		spike_tick_to(d, sec);
	d->now_us = ts_us;
}

void spike_detector_advance(struct spike_detector *d, uint64_t now_us)
{
	spike_clock(d, now_us);
}

void spike_detector_finish(struct spike_detector *d, uint64_t now_us)
{
	spike_clock(d, now_us);
}

/* ---- accounting */

static void spike_account(struct spike_detector *d, struct spike_entry *e,
			  enum spike_class c, bool aborted)
{
	struct spike_bucket *b;

	spike_entry_roll(d, e, d->sec);
	b = &spike_entry_buckets(d, e)[d->sec % d->o.window_s];
	if (c == SPIKE_INC) {
		b->incomplete++;
		e->win_inc++;
		e->tot_inc++;
	} else {
		b->handshakes++;
		e->win_hs++;
		e->tot_hs++;
		if (c == SPIKE_FAIL) {
			b->failures++;
			e->win_fail++;
			e->tot_fail++;
			e->tot_aborted += aborted;
		}
	}
	spike_table_touch(&d->t[e->kind], e, d->sec);
}

static void spike_account_other(struct spike_table *t, enum spike_class c, bool aborted)
{
	if (c == SPIKE_INC) {
		t->other_inc++;
		return;
	}
	t->other_hs++;
	if (c == SPIKE_FAIL) {
		t->other_fail++;
		t->other_aborted += aborted;
	}
}

/* The entry of a keyed scope (NULL if the key is unknown or there is no
 * room), accounted. */
static struct spike_entry *spike_keyed(struct spike_detector *d, enum spike_kind k,
				       const char *key, enum spike_class c, bool aborted)
{
	struct spike_table *t = &d->t[k];
	struct spike_entry *e;

	if (!key || !key[0])
		return NULL;
	e = spike_table_get(d, t, key, strnlen(key, t->key_max));
	if (!e) {
		spike_account_other(t, c, aborted);
		return NULL;
	}
	spike_account(d, e, c, aborted);
	return e;
}

static void spike_set_findings(struct spike_detector *d, struct spike_entry *e,
			       const char *findings)
{
	char *dst = d->t[SPIKE_SCOPE_CERT].findings +
		    (size_t)e->idx * (SPIKE_FINDINGS_MAX + 1);
	size_t len = strnlen(findings, SPIKE_FINDINGS_MAX + 1);

	if (len > SPIKE_FINDINGS_MAX) {
		/* keep whole kinds: cut at the last comma that fits */
		len = SPIKE_FINDINGS_MAX;
		while (len > 0 && findings[len] != ',')
			len--;
	}
	memcpy(dst, findings, len);
	dst[len] = '\0';
	e->has_findings = true;
}

/* Distinct alert codes (for the alert scopes) and distinct (code, side)
 * pairs (for the log, @pairs preset to SPIKE_NO_ALERT) of a failed
 * handshake. */
static int spike_alert_codes(const struct spike_input *in, uint16_t *codes,
			     uint16_t *pairs)
{
	int i, j, n = 0, np = 0;
	uint16_t code, pair;

	if (!in->alerts || in->n_alerts <= 0)
		return 0;
	for (i = 0; i < in->n_alerts && i < HS_MAX_ALERTS; i++) {
		const struct hs_alert *a = &in->alerts[i];

		if (a->level == HS_ALERT_WARNING && !a->encrypted)
			continue;
		code = a->encrypted ? SPIKE_ALERT_ENCRYPTED : a->description;
		pair = code | (a->from_client ? SPIKE_FROM_CLIENT : 0);
		for (j = 0; j < np && pairs[j] != pair; j++)
			;
		if (j == np && np < SPIKE_LOG_ALERTS)
			pairs[np++] = pair;
		for (j = 0; j < n && codes[j] != code; j++)
			;
		if (j == n)
			codes[n++] = code;
	}
	return n;
}

static enum spike_class spike_classify(enum hs_outcome o)
{
	switch (o) {
	case HS_OK:      return SPIKE_OK;
	case HS_FAILED:
	case HS_ABORTED: return SPIKE_FAIL;
	default:         return SPIKE_INC;
	}
}

static void spike_count_totals(struct spike_detector *d, enum spike_class c, bool aborted)
{
	d->st.records++;
	if (c == SPIKE_INC) {
		d->st.incomplete++;
		return;
	}
	d->st.handshakes++;
	if (c == SPIKE_FAIL) {
		d->st.failures++;
		d->st.aborted += aborted;
	}
}

static void spike_log(struct spike_detector *d, struct spike_entry *const keyed[3],
		      const uint16_t *pairs, bool aborted)
{
	struct spike_fail_rec r;
	int i;

	memset(&r, 0, sizeof(r));
	r.sec = (uint32_t)d->sec;
	for (i = 0; i < 3; i++) {
		if (keyed[i]) {
			r.ref[i] = keyed[i]->idx + 1;
			r.gen[i] = keyed[i]->gen;
		}
	}
	memcpy(r.alerts, pairs, sizeof(r.alerts));
	r.aborted = aborted;
	spike_log_failure(d, &r);
}

/* The SNI's scope key: the name as compared (tw_host_name_fold_key:
 * "A.test" fails as a.test), escaped (tw_host_name_key) into @buf when a
 * C string would cut or mistake it. */
static const char *spike_sni_key(const struct spike_input *in,
				 char buf[SPIKE_SNI_MAX + 1])
{
	char folded[TW_HOST_NAME_KEY_MAX];
	const char *key;
	size_t n;

	if (!in->sni)
		return NULL;
	n = tw_host_name_fold_key(in->sni, tw_host_name_sni_len(in->sni, in->sni_len),
				  folded, sizeof(folded));
	key = tw_host_name_key(folded, n, buf, SPIKE_SNI_MAX + 1);
	if (key == folded)   /* nothing to escape: @buf keeps it */
		memcpy(buf, folded, n + 1);
	return buf;
}

void spike_detector_add(struct spike_detector *d, const struct spike_input *in)
{
	enum spike_class c = spike_classify(in->outcome);
	bool aborted = in->outcome == HS_ABORTED;
	uint16_t codes[HS_MAX_ALERTS], pairs[SPIKE_LOG_ALERTS];
	struct spike_entry *keyed[3], *alerts[HS_MAX_ALERTS];
	char sni[SPIKE_SNI_MAX + 1];
	int n_codes = 0, i;

	spike_clock(d, in->ts_us);
	spike_count_totals(d, c, aborted);
	spike_account(d, spike_all(d), c, aborted);
	keyed[0] = spike_keyed(d, SPIKE_SCOPE_SNI, spike_sni_key(in, sni), c, aborted);
	keyed[1] = spike_keyed(d, SPIKE_SCOPE_CERT, in->leaf_sha256, c, aborted);
	keyed[2] = spike_keyed(d, SPIKE_SCOPE_JA4, in->ja4, c, aborted);
	if (keyed[1] && in->leaf_findings)
		spike_set_findings(d, keyed[1], in->leaf_findings);
	if (c != SPIKE_FAIL)
		return;

	for (i = 0; i < SPIKE_LOG_ALERTS; i++)
		pairs[i] = SPIKE_NO_ALERT;
	if (in->outcome == HS_FAILED)
		n_codes = spike_alert_codes(in, codes, pairs);
	for (i = 0; i < n_codes; i++) {
		alerts[i] = spike_table_direct(d, &d->t[SPIKE_SCOPE_ALERT], codes[i]);
		if (!alerts[i]->tot_fail) {
			/* first of its kind: it was 0 in all the traffic learned */
			alerts[i]->H = spike_all(d)->H;
		}
		spike_account(d, alerts[i], SPIKE_FAIL, false);
		alerts[i]->tot_hs = alerts[i]->tot_fail;
	}
	spike_log(d, keyed, pairs, aborted);

	/* judged in the order of the scope kinds, so events replay in order */
	spike_judge_fire(d, spike_all(d), d->now_us);
	if (keyed[0])
		spike_judge_fire(d, keyed[0], d->now_us);
	for (i = 0; i < n_codes; i++)
		spike_judge_fire(d, alerts[i], d->now_us);
	if (keyed[1])
		spike_judge_fire(d, keyed[1], d->now_us);
	if (keyed[2])
		spike_judge_fire(d, keyed[2], d->now_us);
}

/* ---- introspection */

void spike_detector_stats(const struct spike_detector *d, struct spike_stats *out)
{
	int k;

	*out = d->st;
	out->firing = d->n_firing;
	out->memory_bytes = d->mem;
	for (k = 0; k < SPIKE_KIND_COUNT; k++) {
		out->scopes[k] = d->t[k].used;
		out->evictions[k] = d->t[k].evictions;
		out->other_handshakes[k] = d->t[k].other_hs;
		out->other_failures[k] = d->t[k].other_fail;
	}
}

static void spike_scope_fill(const struct spike_detector *d, const struct spike_entry *e,
			     struct spike_scope_info *s)
{
	const struct spike_table *t = &d->t[e->kind];

	memset(s, 0, sizeof(*s));
	s->kind = e->kind;
	s->key = spike_entry_key(d, e);
	s->handshakes = e->tot_hs;
	s->failures = e->tot_fail;
	s->aborted = e->tot_aborted;
	s->incomplete = e->tot_inc;
	s->firing = e->firing;
	s->has_baseline = spike_entry_warm(e);
	s->baseline_rate = spike_entry_baseline(e);
	if (t->findings && e->has_findings)
		s->leaf_findings = t->findings + (size_t)e->idx * (SPIKE_FINDINGS_MAX + 1);
}

void spike_detector_foreach(const struct spike_detector *d, enum spike_kind kind,
			    void (*cb)(void *ctx, const struct spike_scope_info *s),
			    void *ctx)
{
	const struct spike_table *t;
	struct spike_scope_info s;
	uint32_t i;

	if ((unsigned)kind >= SPIKE_KIND_COUNT)
		return;
	t = &d->t[kind];
	for (i = 0; i < t->used; i++) {
		const struct spike_entry *e = &t->e[t->order ? t->order[i] : i];

		spike_scope_fill(d, e, &s);
		cb(ctx, &s);
	}
}

bool spike_detector_scope(const struct spike_detector *d, enum spike_kind kind,
			  const char *key, struct spike_scope_info *out)
{
	const struct spike_table *t;
	const struct spike_entry *e = NULL;
	uint32_t i;

	if ((unsigned)kind >= SPIKE_KIND_COUNT)
		return false;
	t = &d->t[kind];
	if (kind == SPIKE_SCOPE_ALL) {
		e = &t->e[0];
	} else if (!key) {
		return false;
	} else if (kind == SPIKE_SCOPE_ALERT) {
		for (i = 0; i < t->used && !e; i++)
			if (strcmp(spike_table_key(t, &t->e[t->order[i]]), key) == 0)
				e = &t->e[t->order[i]];
	} else {
		e = spike_table_find(t, key, strnlen(key, t->key_max));
	}
	if (!e)
		return false;
	spike_scope_fill(d, e, out);
	return true;
}
