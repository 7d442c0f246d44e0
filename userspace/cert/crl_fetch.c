// SPDX-License-Identifier: MIT
/* CRL downloads from distribution points, cached until nextUpdate. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/strmap.h"
#include "crl_fetch.h"

struct crl_fetch_entry {
	enum crl_fetch_state state;
	bool in_flight;
	int64_t expires;      /* wall clock: download again after this */
	uint64_t last_used;   /* crl_fetch.uses when last asked for */
	char error[200];
};

struct crl_fetch {
	struct http_pool *pool;
	struct crl_store *store;
	struct strmap *urls;  /* URL -> crl_fetch_entry */
	uint64_t uses;        /* crl_fetch_want calls: the LRU clock */
	uint64_t forgotten;   /* URLs aged out, since the start */
	size_t aged_to;       /* URLs left by the last ageing */
	crl_fetch_needed_fn needed;
	void *needed_ctx;
};

struct crl_fetch *crl_fetch_new(struct http_pool *pool, struct crl_store *store)
{
	struct crl_fetch *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	f->pool = pool;
	f->store = store;
	f->urls = strmap_new(sizeof(struct crl_fetch_entry));
	if (!f->urls) {
		free(f);
		return NULL;
	}
	return f;
}

void crl_fetch_set_needed(struct crl_fetch *f, crl_fetch_needed_fn fn, void *ctx)
{
	if (!f)
		return;
	f->needed = fn;
	f->needed_ctx = ctx;
}

void crl_fetch_free(struct crl_fetch *f)
{
	if (!f)
		return;
	strmap_free(f->urls);
	free(f);
}

static void crl_fetch_failed(struct crl_fetch_entry *e, int64_t now,
			     const char *why)
{
	/* A failed refresh leaves the last CRL in the store, still used. */
	if (e->state != CRL_FETCH_LOADED)
		e->state = CRL_FETCH_FAILED;
	snprintf(e->error, sizeof(e->error), "%s", why);
	e->expires = now + CRL_FETCH_RETRY_S;
}

struct crl_fetch_age_slot {
	uint64_t last_used;
	size_t index;
};

static int by_last_used_desc(const void *a, const void *b)
{
	const struct crl_fetch_age_slot *x = a, *y = b;

	return x->last_used < y->last_used ? 1 : x->last_used > y->last_used ? -1 : 0;
}

/* Copies the entries of f->urls that @keep marks into a new map, and only
 * once that has worked forgets the others and the CRLs downloaded from
 * them: a failure leaves the table and the CRL store as they were. */
static int crl_fetch_rebuild(struct crl_fetch *f, const bool *keep)
{
	struct strmap *to = strmap_new(sizeof(struct crl_fetch_entry));
	const char *key;
	size_t len, i;
	void *val, *slot;
	char url[CRL_URL_MAX];

	if (!to)
		return -1;
	for (i = 0; strmap_at(f->urls, i, &key, &len, &val); i++) {
		if (!keep[i])
			continue;
		if (!(slot = strmap_put(to, key, len, NULL))) {
			strmap_free(to);
			return -1;
		}
		memcpy(slot, val, sizeof(struct crl_fetch_entry));
	}
	for (i = 0; strmap_at(f->urls, i, &key, &len, &val); i++) {
		if (keep[i])
			continue;
		snprintf(url, sizeof(url), "%.*s", (int)len, key);
		crl_store_forget(f->store, url);
		f->forgotten++;
	}
	strmap_free(f->urls);
	f->urls = to;
	return 0;
}

/* The table is full: keeps the half asked for most recently, every URL
 * with a download out and every URL the owner still needs (a waiting cert
 * event reads its CRL when judged again, without asking first: its
 * last_used is as old as its wait); forgets the rest. A URL asked for
 * again later is downloaded again. -1 (nothing forgotten) when memory is
 * short. */
static int crl_fetch_age(struct crl_fetch *f)
{
	size_t n = strmap_count(f->urls), i, len;
	struct crl_fetch_age_slot *slots = calloc(n, sizeof(*slots));
	bool *keep = calloc(n, sizeof(*keep));
	const struct crl_fetch_entry *e;
	const char *key;
	void *val;
	int rc = -1;

	if (slots && keep) {
		for (i = 0; strmap_at(f->urls, i, &key, &len, &val); i++) {
			e = val;
			slots[i] = (struct crl_fetch_age_slot){ e->last_used, i };
			keep[i] = e->in_flight ||
				  (f->needed && f->needed(f->needed_ctx, key, len));
		}
		qsort(slots, n, sizeof(*slots), by_last_used_desc);
		for (i = 0; i < n / 2; i++)
			keep[slots[i].index] = true;
		rc = crl_fetch_rebuild(f, keep);
	}
	if (rc == 0)
		f->aged_to = strmap_count(f->urls);
	free(slots);
	free(keep);
	return rc;
}

uint64_t crl_fetch_forgotten(const struct crl_fetch *f)
{
	return f ? f->forgotten : 0;
}

/* Time to age: the table is full, and half of it came since the last
 * ageing (what was kept then, needed still, is not aged again for each
 * new URL). */
static bool crl_fetch_full(const struct crl_fetch *f)
{
	size_t n = strmap_count(f->urls);

	return n >= CRL_FETCH_MAX_URLS && n >= f->aged_to + CRL_FETCH_MAX_URLS / 2;
}

void crl_fetch_want(struct crl_fetch *f, const char *url, int64_t now,
		    bool may_fetch, struct crl_fetch_status *out)
{
	struct crl_fetch_entry *e;
	size_t len = strlen(url);

	memset(out, 0, sizeof(*out));
	if (!f)
		return;
	e = strmap_get(f->urls, url, len);
	if (!e && !may_fetch)
		return;
	if (!e) {
		/* Many distinct URLs (a CDN's shards, or something generating
		 * them): the ones not asked for lately make room. */
		if (crl_fetch_full(f) && crl_fetch_age(f))
			return;
		e = strmap_put(f->urls, url, len, NULL);
		if (!e)
			return;
	}
	e->last_used = ++f->uses;
	if (may_fetch && !e->in_flight && now >= e->expires) {
		char why[sizeof(e->error)];
		int rc = http_pool_submit(f->pool, CRL_FETCH_KIND, url, NULL, 0,
					  NULL, NULL, 0);

		out->changed = true;
		if (rc == 0) {
			e->in_flight = true;
		} else {
			snprintf(why, sizeof(why), "download not started: %s",
				 http_pool_submit_strerror(rc));
			crl_fetch_failed(e, now, why);
		}
	}
	out->state = e->state;
	out->in_flight = e->in_flight;
	snprintf(out->error, sizeof(out->error), "%s", e->error);
}

/* Until the CRL's nextUpdate, within [a minute, a day]. */
static int64_t crl_fetch_ttl_end(struct crl_store *s, const char *url, int64_t now)
{
	int64_t next = crl_store_next_update(s, url);
	int64_t end = next ? next : now + CRL_FETCH_DEFAULT_TTL_S;

	if (end > now + CRL_FETCH_MAX_TTL_S)
		end = now + CRL_FETCH_MAX_TTL_S;
	if (end < now + CRL_FETCH_RETRY_S)
		end = now + CRL_FETCH_RETRY_S;
	return end;
}

int crl_fetch_complete(struct crl_fetch *f, const struct http_result *r,
		       int64_t now, char *problem, size_t plen)
{
	struct crl_fetch_entry *e;
	char why[300];

	if (!f || !(e = strmap_get(f->urls, r->url, strlen(r->url))) || !e->in_flight)
		return 0;
	e->in_flight = false;
	if (r->error[0]) {
		snprintf(why, sizeof(why), "%s", r->error);
	} else if (crl_store_add(f->store, r->body, r->body_len, r->url, true, why,
				 sizeof(why)) > 0) {
		e->state = CRL_FETCH_LOADED;
		e->error[0] = 0;
		e->expires = crl_fetch_ttl_end(f->store, r->url, now);
		return 0;
	}
	crl_fetch_failed(e, now, why);
	if (r->error[0])
		snprintf(problem, plen, "CRL %s: %s", r->url, why);
	else   /* the store's reason starts with the URL already */
		snprintf(problem, plen, "CRL %s", why);
	return -1;
}
