/* SPDX-License-Identifier: MIT */
/*
 * Helpers for the spike detector tests: synthetic handshake streams (built
 * in any order, fed in time order), a deterministic pseudo-random source,
 * and a recorder that copies each event (with its JSON line) as it comes.
 */
#ifndef TW_SPIKE_STREAM_H
#define TW_SPIKE_STREAM_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/spike.h"
#include "common/json.h"
#include "event/spike_json.h"

#define T0 (1700000000ULL * 1000000ULL)   /* 2023-11-14T22:13:20Z */
#define SEC 1000000ULL

/* ---- deterministic noise (xorshift64*, fixed seeds) */
static uint64_t st_rng = 0x2545f4914f6cdd1dULL;

static inline void st_seed(uint64_t s) { st_rng = s ? s : 1; }

static inline double st_uniform(void)
{
	st_rng ^= st_rng >> 12;
	st_rng ^= st_rng << 25;
	st_rng ^= st_rng >> 27;
	return (double)((st_rng * 0x2545f4914f6cdd1dULL) >> 11) / 9007199254740992.0;
}

/* ---- streams */
struct st_rec {
	uint64_t ts;
	uint32_t seq;             /* insertion order: ties keep it */
	enum hs_outcome outcome;
	const char *sni, *ja4, *cert, *findings;
	int alert;                /* description, -1 none */
	int n_alerts;             /* 1 or 2 (client + server echo) */
	bool encrypted, from_client;
};

struct st_stream {
	struct st_rec *r;
	uint32_t n, cap;
};

static inline struct st_rec *st_push(struct st_stream *s, uint64_t ts,
				     enum hs_outcome outcome)
{
	struct st_rec *r;

	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 1024;
		s->r = realloc(s->r, s->cap * sizeof(*s->r));
		if (!s->r)
			abort();
	}
	r = &s->r[s->n];
	memset(r, 0, sizeof(*r));
	r->ts = ts;
	r->seq = s->n++;
	r->outcome = outcome;
	r->alert = -1;
	return r;
}

static inline int st_cmp(const void *a, const void *b)
{
	const struct st_rec *x = a, *y = b;

	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static inline void st_add_one(struct spike_detector *d, const struct st_rec *r)
{
	struct hs_alert al[2];
	struct spike_input in = {
		.ts_us = r->ts, .sni = r->sni, .ja4 = r->ja4,
		.leaf_sha256 = r->cert, .outcome = r->outcome,
		.leaf_findings = r->findings,
	};

	memset(al, 0, sizeof(al));
	if (r->alert >= 0 || r->encrypted) {
		al[0].from_client = r->from_client;
		al[0].encrypted = r->encrypted;
		al[0].level = r->encrypted ? HS_ALERT_UNKNOWN : HS_ALERT_FATAL;
		al[0].description = r->encrypted ? 255 : (uint8_t)r->alert;
		al[1] = al[0];
		al[1].from_client = !r->from_client;
		in.alerts = al;
		in.n_alerts = r->n_alerts ? r->n_alerts : 1;
	}
	spike_detector_add(d, &in);
}

/* Feeds the stream in time order and empties it. */
static inline void st_feed(struct spike_detector *d, struct st_stream *s)
{
	uint32_t i;

	if (s->n)
		qsort(s->r, s->n, sizeof(*s->r), st_cmp);
	for (i = 0; i < s->n; i++)
		st_add_one(d, &s->r[i]);
	free(s->r);
	memset(s, 0, sizeof(*s));
}

/* ---- recorded events */
#define ST_MAX_EVENTS 64

struct st_top {
	char key[256];
	char from[8];
	uint64_t count;
};

struct st_event {
	enum spike_state state;
	enum spike_kind kind;
	char key[256];
	uint64_t ts, started, handshakes, failures, aborted, incomplete;
	double rate, baseline;
	bool has_baseline;
	int n_top[4];
	struct st_top top[4][SPIKE_TOP_N];   /* alerts, snis, certs, clients */
	char json[4096];
};

struct st_events {
	int n;
	int dropped;
	struct st_event ev[ST_MAX_EVENTS];
};

static inline void st_copy_top(struct st_top *dst, const struct spike_top *src, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		snprintf(dst[i].key, sizeof(dst[i].key), "%s", src[i].key);
		snprintf(dst[i].from, sizeof(dst[i].from), "%s", src[i].from ? src[i].from : "");
		dst[i].count = src[i].count;
	}
}

static inline void st_record(void *ctx, const struct spike_event *ev)
{
	struct st_events *evs = ctx;
	struct st_event *e;
	struct json_writer j;

	if (evs->n == ST_MAX_EVENTS) {
		evs->dropped++;
		return;
	}
	e = &evs->ev[evs->n++];
	memset(e, 0, sizeof(*e));
	e->state = ev->state;
	e->kind = ev->kind;
	snprintf(e->key, sizeof(e->key), "%s", ev->key ? ev->key : "");
	e->ts = ev->ts_us;
	e->started = ev->started_us;
	e->handshakes = ev->handshakes;
	e->failures = ev->failures;
	e->aborted = ev->aborted;
	e->incomplete = ev->incomplete;
	e->rate = ev->rate;
	e->baseline = ev->baseline_rate;
	e->has_baseline = ev->has_baseline;
	e->n_top[0] = ev->n_alerts;
	e->n_top[1] = ev->n_snis;
	e->n_top[2] = ev->n_certs;
	e->n_top[3] = ev->n_clients;
	st_copy_top(e->top[0], ev->top_alerts, ev->n_alerts);
	st_copy_top(e->top[1], ev->top_snis, ev->n_snis);
	st_copy_top(e->top[2], ev->top_certs, ev->n_certs);
	st_copy_top(e->top[3], ev->top_clients, ev->n_clients);
	jw_init(&j);
	spike_event_write_json(&j, ev, "test.pcap");
	snprintf(e->json, sizeof(e->json), "%s", jw_text(&j));
	jw_free(&j);
}

/* Events of one kind (and key, unless NULL), in order. */
static inline int st_count(const struct st_events *evs, enum spike_kind kind,
			   const char *key, enum spike_state state)
{
	int i, n = 0;

	for (i = 0; i < evs->n; i++)
		if (evs->ev[i].kind == kind && evs->ev[i].state == state &&
		    (!key || strcmp(evs->ev[i].key, key) == 0))
			n++;
	return n;
}

#endif
