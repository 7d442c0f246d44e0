// SPDX-License-Identifier: MIT
/*
 * The explanation of a spike: which alerts, names, certificates and client
 * fingerprints the failures of the window had. Failures are kept in a
 * fixed ring (newest overwrite oldest) that refers to scope entries by
 * index and generation, so a record never dangles: an entry replaced
 * since is simply not named.
 */
#include <string.h>

#include "spike_internal.h"

void spike_log_failure(struct spike_detector *d, const struct spike_fail_rec *r)
{
	d->log[d->log_head] = *r;
	d->log_head = (d->log_head + 1) % d->o.failure_log;
	if (d->log_len < d->o.failure_log)
		d->log_len++;
}

/* Log dimension of each keyed kind (-1: not one). */
static int spike_dim(enum spike_kind k)
{
	switch (k) {
	case SPIKE_SCOPE_SNI:  return 0;
	case SPIKE_SCOPE_CERT: return 1;
	case SPIKE_SCOPE_JA4:  return 2;
	default:               return -1;
	}
}

static const enum spike_kind spike_dim_kind[3] = {
	SPIKE_SCOPE_SNI, SPIKE_SCOPE_CERT, SPIKE_SCOPE_JA4,
};

static bool spike_rec_matches(const struct spike_fail_rec *r,
			      const struct spike_entry *e)
{
	int dim = spike_dim(e->kind), i;

	if (e->kind == SPIKE_SCOPE_ALL)
		return true;
	if (dim >= 0)
		return r->ref[dim] == e->idx + 1 && r->gen[dim] == e->gen;
	for (i = 0; i < SPIKE_LOG_ALERTS && r->alerts[i] != SPIKE_NO_ALERT; i++)
		if ((r->alerts[i] & ~SPIKE_FROM_CLIENT) == e->idx)
			return true;
	return false;
}

static void spike_count_key(struct spike_table *t, uint32_t ref, uint32_t gen,
			    uint32_t *n_touched)
{
	uint32_t idx;

	if (!ref)
		return;
	idx = ref - 1;
	if (t->e[idx].gen != gen || !t->e[idx].used)
		return;   /* replaced since: not named */
	if (t->ex_count[idx]++ == 0)
		t->ex_touched[(*n_touched)++] = idx;
}

static void spike_count_alerts(struct spike_detector *d, const struct spike_fail_rec *r,
			       uint32_t *n_touched)
{
	uint16_t slot;
	int i;

	for (i = 0; i < SPIKE_LOG_ALERTS && r->alerts[i] != SPIKE_NO_ALERT; i++) {
		/* slot: code * 2 + from_client */
		slot = (uint16_t)((r->alerts[i] & ~SPIKE_FROM_CLIENT) * 2 +
				  !!(r->alerts[i] & SPIKE_FROM_CLIENT));
		if (d->ex_alerts[slot]++ == 0)
			d->ex_alert_touched[(*n_touched)++] = slot;
	}
}

/* Before: count desc, then key asc, then side ("client" < "server"). */
static bool spike_top_before(const struct spike_top *a, const struct spike_top *b)
{
	int c;

	if (a->count != b->count)
		return a->count > b->count;
	c = strcmp(a->key, b->key);
	if (c != 0)
		return c < 0;
	return a->from && b->from && strcmp(a->from, b->from) < 0;
}

/* Inserts @cand into the sorted top list @top of length *n. */
static void spike_top_insert(struct spike_top *top, int *n, const struct spike_top *cand)
{
	int pos = *n;

	while (pos > 0 && spike_top_before(cand, &top[pos - 1]))
		pos--;
	if (pos >= SPIKE_TOP_N)
		return;
	if (*n < SPIKE_TOP_N)
		(*n)++;
	memmove(&top[pos + 1], &top[pos], (size_t)(*n - 1 - pos) * sizeof(*top));
	top[pos] = *cand;
}

static void spike_top_keys(struct spike_table *t, uint32_t n_touched,
			   struct spike_top *top, int *n)
{
	struct spike_top cand = { 0 };
	uint32_t i, idx;

	*n = 0;
	for (i = 0; i < n_touched; i++) {
		idx = t->ex_touched[i];
		cand.key = spike_table_key(t, &t->e[idx]);
		cand.count = t->ex_count[idx];
		spike_top_insert(top, n, &cand);
		t->ex_count[idx] = 0;
	}
}

static void spike_top_alerts(struct spike_detector *d, uint32_t n_touched,
			     struct spike_top *top, int *n)
{
	const struct spike_table *t = &d->t[SPIKE_SCOPE_ALERT];
	struct spike_top cand = { 0 };
	uint32_t i, slot;

	*n = 0;
	for (i = 0; i < n_touched; i++) {
		slot = d->ex_alert_touched[i];
		cand.key = spike_table_key(t, &t->e[slot / 2]);
		cand.from = slot % 2 ? "client" : "server";
		cand.count = d->ex_alerts[slot];
		spike_top_insert(top, n, &cand);
		d->ex_alerts[slot] = 0;
	}
}

static void spike_cert_findings(const struct spike_detector *d, struct spike_event *ev)
{
	const struct spike_table *t = &d->t[SPIKE_SCOPE_CERT];
	const struct spike_entry *e;
	const char *f;
	int i;

	ev->n_cert_findings = 0;
	for (i = 0; i < ev->n_certs; i++) {
		e = spike_table_find(t, ev->top_certs[i].key, strlen(ev->top_certs[i].key));
		if (!e || !e->has_findings)
			continue;
		f = t->findings + (size_t)e->idx * (SPIKE_FINDINGS_MAX + 1);
		if (!f[0])
			continue;
		ev->cert_findings[ev->n_cert_findings].sha256 = ev->top_certs[i].key;
		ev->cert_findings[ev->n_cert_findings].findings = f;
		ev->n_cert_findings++;
	}
}

void spike_explain(struct spike_detector *d, const struct spike_entry *e,
		   uint64_t sec, struct spike_event *ev)
{
	uint32_t w = d->o.window_s, touched[3] = { 0 }, alerts_touched = 0, i, pos;
	uint64_t from = sec + 1 >= w ? sec + 1 - w : 0;
	const struct spike_fail_rec *r;
	int dim;

	ev->aborted = 0;
	for (i = 0; i < d->log_len; i++) {
		pos = (d->log_head + d->o.failure_log - 1 - i) % d->o.failure_log;
		r = &d->log[pos];
		if (r->sec < from)
			break;
		if (!spike_rec_matches(r, e))
			continue;
		ev->aborted += r->aborted;
		for (dim = 0; dim < 3; dim++)
			spike_count_key(&d->t[spike_dim_kind[dim]], r->ref[dim],
					r->gen[dim], &touched[dim]);
		spike_count_alerts(d, r, &alerts_touched);
	}
	spike_top_alerts(d, alerts_touched, ev->top_alerts, &ev->n_alerts);
	spike_top_keys(&d->t[SPIKE_SCOPE_SNI], touched[0], ev->top_snis, &ev->n_snis);
	spike_top_keys(&d->t[SPIKE_SCOPE_CERT], touched[1], ev->top_certs, &ev->n_certs);
	spike_top_keys(&d->t[SPIKE_SCOPE_JA4], touched[2], ev->top_clients, &ev->n_clients);
	spike_cert_findings(d, ev);
}
