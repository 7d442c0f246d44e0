// SPDX-License-Identifier: MIT
/*
 * The certificate-health facade: runs the checks of one served chain in
 * order (verify, expected, superseded, revocation), records the sighting,
 * and keeps the results that wait for online answers so they can be
 * re-judged when the answers arrive. Online work happens on the HTTP
 * pool's threads; every cache and every callback stays on the owner's.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/queue.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "common/hex.h"
#include "common/strmap.h"
#include "common/host_name.h"
#include "common/log.h"
#include "health_checks.h"
#include "net/http_pool.h"
#include "inventory/inventory.h"
#include "ocsp_client.h"
#include "revo_facts.h"
#include "served_chain.h"
#include "supersede.h"

#define HEALTH_MAX_CHAIN 12          /* certificates judged per chain */
#define HEALTH_MAX_ISSUERS 64        /* trust-store issuers parsed for staples */
#define HEALTH_WAIT_MAX_S 600        /* given up after this long (the
                                      * monotonic clock: a step of the
                                      * wall clock neither holds a wait
                                      * longer nor lets it go early) */
#define HEALTH_MAX_PROBLEMS 64
#define HEALTH_DB_PROBLEM_EVERY_S 60
#define HEALTH_INVENTORY_FLUSH_MS 1000
#define HEALTH_DB_REOPEN_MS 5000      /* a read-only database: opened again */

/*
 * What a wait's re-judgement reads, as keys of the index of waits
 * (cert_health.awaited): a certificate's OCSP answer (HEALTH_KEY_OCSP and
 * its SHA-256, the OCSP client's key), a CRL URL's download
 * (HEALTH_KEY_CRL_URL and the URL) and the CRLs of an issuer
 * (HEALTH_KEY_CRL_ISSUER and the hash of its subject name: a CRL from any
 * URL answers for the certificates of its issuer). A wait is judged
 * again only when one of its keys was touched: its answers, or another
 * wait's that it shares. One more key, HEALTH_KEY_EVENT and the cert
 * event's (cert_health_event_key), finds the one wait of a cert event
 * when it is checked again; nothing touches it.
 */
enum {
	HEALTH_KEY_OCSP = 'o', HEALTH_KEY_CRL_URL = 'u', HEALTH_KEY_CRL_ISSUER = 'i',
	HEALTH_KEY_EVENT = 'e',
};
#define HEALTH_KEY_MAX (1 + (CRL_URL_MAX > CERT_HEALTH_EVENT_KEY_MAX ? \
			     CRL_URL_MAX : CERT_HEALTH_EVENT_KEY_MAX))

struct health_link {                 /* one key of one wait */
	LIST_ENTRY(health_link) by_key;  /* the key's waits (its entry in
	                                  * cert_health.awaited) */
	SLIST_ENTRY(health_link) of_wait; /* the wait's keys */
	bool indexed;                    /* in by_key */
	struct health_wait *w;
	size_t len;
	uint8_t key[];
};

/* The value of each key in cert_health.awaited: the links of its waits. */
LIST_HEAD(health_links, health_link);

struct health_wait {
	TAILQ_ENTRY(health_wait) order;  /* cert_health.waits */
	uint64_t seq;                    /* order of adding: the next one's
	                                  * in the list is lower */
	int dirty_at;                    /* in cert_health.dirty; -1: not */
	SLIST_HEAD(, health_link) links; /* what it waits on */
	struct cert_health_result res;   /* as last returned or delivered */
	int base_n;                      /* res.findings before revocation's:
	                                  * its first base_n (revocation_judge
	                                  * only appends kinds no earlier
	                                  * check gives), not a copy of 4.6 KB */
	STACK_OF(X509) *chain;           /* leaf first, with issuers (owned) */
	struct staple_info staple;
	bool has_staple;
	int64_t at;                      /* handshake time, seconds */
	int64_t started_ms;              /* health_now_ms() when added */
	bool lost;                       /* counted in waits_let_go */
};

struct cert_health {
	bool online;
	struct cert_checks *checks;      /* replaced whole by a reload */
	struct cert_cache *issuers;      /* cert_health_built_issuer's: apart
	                                  * from the served certificates' cache
	                                  * (its LRU, its refs: times served) */
	struct inventory *inv;
	struct http_pool *pool;
	struct ocsp_client *ocsp;        /* answers do not depend on the
	                                  * trust store: kept across reloads */
	int efd;
	TAILQ_HEAD(health_waits, health_wait) waits; /* most recently
	                                  * checked first */
	int n_waits;                     /* at most CERT_HEALTH_MAX_WAITS */
	uint64_t wait_seq;
	struct strmap *awaited;          /* key (health_link) -> its waits'
	                                  * links (health_links); rebuilt past
	                                  * twice the keys of the waits */
	size_t n_links;                  /* of every wait */
	/* The waits to judge again at the next drain (what they wait on
	 * was touched), and the drain's copy of them: both at most
	 * CERT_HEALTH_MAX_WAITS. */
	struct health_wait **dirty, **judging;
	int n_dirty;
	bool all_dirty;                  /* a reload: every wait */
	uint64_t ocsp_cleared_seen;      /* ocsp_client_cleared, last drain */
	uint64_t crl_forgotten_seen;     /* crl_fetch_forgotten, last drain */
	uint64_t waits_let_go;           /* cert_health_stats */
	uint64_t waits_rejudged;         /* cert_health_stats */
	char problems[HEALTH_MAX_PROBLEMS][256];
	int n_problems;
	int dropped_problems;
	int64_t last_db_problem_ms;    /* CLOCK_MONOTONIC; 0: none yet */
	int64_t last_flush_ms;
	uint64_t unanswered;             /* sightings not recorded */
	uint64_t crl_forgotten;          /* by the check states reloaded away */
	char *db_path;                   /* the --db file, NULL: in memory
	                                  * or borrowed (never reopened) */
	bool inv_borrowed;               /* opts.db_inv: not ours to close */
	bool db_read_only;               /* the last write failed: read-only */
	int64_t last_reopen_ms;
};

static int64_t health_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* --- problems, delivered by drain */

static void health_signal(struct cert_health *h)
{
	uint64_t one = 1;

	if (write(h->efd, &one, sizeof(one)) < 0) {
		/* EAGAIN: already signalled */
	}
}

static void health_problem(struct cert_health *h, const char *msg)
{
	if (h->n_problems == HEALTH_MAX_PROBLEMS) {
		h->dropped_problems++;
		return;
	}
	snprintf(h->problems[h->n_problems++], sizeof(h->problems[0]), "%s", msg);
	health_signal(h);
}

static void health_db_problem(struct cert_health *h, const char *msg)
{
	/* monotonic: after a step back of the wall clock, the next problem
	 * would otherwise wait until the clock caught up (years, maybe) */
	int64_t now = health_now_ms();
	char ro[600];

	if (!h->db_read_only && inventory_fs_read_only(h->db_path)) {
		h->db_read_only = true;
		snprintf(ro, sizeof(ro), "%s: its file system is read-only (opened "
			 "again every %d s until it can be written)", msg,
			 HEALTH_DB_REOPEN_MS / 1000);
		msg = ro;
	}
	if (h->last_db_problem_ms &&
	    now - h->last_db_problem_ms < HEALTH_DB_PROBLEM_EVERY_S * 1000)
		return;
	h->last_db_problem_ms = now;
	health_problem(h, msg);
}

/* --- open / close */

static int health_open_online(struct cert_health *h, const struct cert_health_opts *o,
			      char *err, size_t errlen)
{
	struct http_pool_opts po = {
		.threads = o->max_concurrency,
		.timeout_ms = o->ocsp_timeout_ms,
		.max_body = CRL_MAX_BYTES,
		.notify_fd = h->efd,
	};

	if (http_pool_new(&po, &h->pool, err, errlen))
		return -1;
	h->ocsp = ocsp_client_new(h->pool);
	if (!h->ocsp) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

/* 0, 1 (in memory instead of the file: @err says why) or -1. */
static int health_open_db(struct cert_health *h, const struct cert_health_opts *o,
			  char *err, size_t errlen)
{
	const char *path = o->db_path;
	char why[512];

	if (o->db_inv) {
		h->inv = o->db_inv;
		h->inv_borrowed = true;
		return 0;
	}

	/* Not a file at all is the command line's mistake, not a database
	 * to do without. */
	if (path && inventory_check_path(path, false, err, errlen))
		return -1;
	if (path && inventory_open(path, &h->inv, why, sizeof(why)) == 0) {
		h->db_path = strdup(path);
		if (!h->db_path) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		return 0;
	}
	if (inventory_open(NULL, &h->inv, err, errlen))
		return -1;
	if (!path)
		return 0;
	snprintf(err, errlen, "%s; keeping the inventory in memory for this run", why);
	return 1;
}

static bool health_url_awaited(void *ctx, const char *url, size_t len);

static int health_open_parts(struct cert_health *h, const struct cert_health_opts *o,
			     char *err, size_t errlen)
{
	h->awaited = strmap_new(sizeof(struct health_links));
	h->dirty = calloc(CERT_HEALTH_MAX_WAITS, sizeof(*h->dirty));
	h->judging = calloc(CERT_HEALTH_MAX_WAITS, sizeof(*h->judging));
	if (!h->awaited || !h->dirty || !h->judging) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (o->online && health_open_online(h, o, err, errlen))
		return -1;
	if (cert_checks_open(o, h->pool, &h->checks, err, errlen))
		return -1;
	crl_fetch_set_needed(h->checks->fetch, health_url_awaited, h);
	return health_open_db(h, o, err, errlen);
}

int cert_health_open(const struct cert_health_opts *o, struct cert_health **out,
		     char *err, size_t errlen)
{
	struct cert_health *h = calloc(1, sizeof(*h));
	int rc;

	*out = NULL;
	if (!h) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	h->online = o->online;
	TAILQ_INIT(&h->waits);
	h->issuers = cert_cache_new(HEALTH_MAX_ISSUERS);
	if (!h->issuers) {
		snprintf(err, errlen, "out of memory");
		free(h);
		return -1;
	}
	h->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (h->efd < 0) {
		snprintf(err, errlen, "eventfd: %s", strerror(errno));
		cert_cache_free(h->issuers);
		free(h);
		return -1;
	}
	rc = health_open_parts(h, o, err, errlen);
	if (rc < 0) {
		cert_health_close(h);
		return -1;
	}
	*out = h;
	return rc;
}

static void health_wait_free(struct health_wait *w)
{
	struct health_link *l;

	if (!w)
		return;
	while ((l = SLIST_FIRST(&w->links))) {
		SLIST_REMOVE_HEAD(&w->links, of_wait);
		free(l);
	}
	sk_X509_pop_free(w->chain, X509_free);
	free(w);
}

void cert_health_close(struct cert_health *h)
{
	struct health_wait *w;

	if (!h)
		return;
	http_pool_free(h->pool);   /* first: no worker runs after this */
	ocsp_client_free(h->ocsp);
	cert_checks_free(h->checks);
	while ((w = TAILQ_FIRST(&h->waits))) {
		TAILQ_REMOVE(&h->waits, w, order);
		health_wait_free(w);
	}
	strmap_free(h->awaited);
	free(h->dirty);
	free(h->judging);
	if (!h->inv_borrowed)
		inventory_close(h->inv);
	free(h->db_path);
	if (h->efd >= 0)
		close(h->efd);
	cert_cache_free(h->issuers);
	free(h);
}

/* --- the index of waits: what each waits on (struct health_link) */

/* Keys past which the index is made again from the waits' own. */
#define HEALTH_INDEX_SLACK 1024

static size_t health_key(uint8_t out[HEALTH_KEY_MAX], int kind, const void *bytes,
			 size_t len)
{
	if (len > HEALTH_KEY_MAX - 1)
		len = HEALTH_KEY_MAX - 1;   /* never: URLs and events are shorter */
	out[0] = (uint8_t)kind;
	memcpy(out + 1, bytes, len);
	return len + 1;
}

/* The key of the CRLs that @name's holder issues: crl_check matches
 * their issuer to it as X509_NAME_cmp does (the canonical encoding,
 * which this hashes). Two names on one hash, or a name that cannot be
 * hashed (0), only make more waits judged again, never fewer. */
static size_t health_issuer_key(uint8_t out[HEALTH_KEY_MAX], const X509_NAME *name)
{
	int ok = 0;
	unsigned long hash = X509_NAME_hash_ex(name, NULL, NULL, &ok);

	if (!ok) {
		hash = 0;
		ERR_clear_error();
	}
	return health_key(out, HEALTH_KEY_CRL_ISSUER, &hash, sizeof(hash));
}

size_t cert_health_event_key(bool has_sni, const char *sni, size_t sni_len,
			     const struct tw_endpoint *server, const char *sha_hex,
			     uint8_t key[CERT_HEALTH_EVENT_KEY_MAX])
{
	size_t k = 0;

	memcpy(key, sha_hex, 64);
	k += 64;
	tw_endpoint_key(server, key + k);
	k += TW_ENDPOINT_KEY_LEN;
	key[k++] = has_sni;
	if (sni_len > TW_HOST_NAME_KEY_MAX - 1)
		sni_len = TW_HOST_NAME_KEY_MAX - 1;
	/* its NUL is in the room, not in the key */
	return k + tw_host_name_fold_key(sni, sni_len, (char *)key + k,
					 TW_HOST_NAME_KEY_MAX);
}

/* @r's cert event's key in the index: HEALTH_KEY_EVENT, then its own. */
static size_t health_event_key(uint8_t out[HEALTH_KEY_MAX],
			       const struct cert_health_result *r)
{
	uint8_t event[CERT_HEALTH_EVENT_KEY_MAX];

	return health_key(out, HEALTH_KEY_EVENT, event,
			  cert_health_event_key(r->has_sni, r->sni, r->sni_len,
						&r->server, r->leaf_sha256_hex, event));
}

/* crl_fetch_needed_fn: a wait reads @url's CRL when judged again (it is
 * a key of the index with waits), so the URL is not aged out under it. */
static bool health_url_awaited(void *ctx, const char *url, size_t len)
{
	struct cert_health *h = ctx;
	uint8_t key[HEALTH_KEY_MAX];
	struct health_links *links;

	links = strmap_get(h->awaited, key, health_key(key, HEALTH_KEY_CRL_URL, url, len));
	return links && !LIST_EMPTY(links);
}

static void health_mark(struct cert_health *h, struct health_wait *w)
{
	if (w->dirty_at >= 0)
		return;
	w->dirty_at = h->n_dirty;   /* < CERT_HEALTH_MAX_WAITS: once a wait */
	h->dirty[h->n_dirty++] = w;
}

static void health_unmark(struct cert_health *h, struct health_wait *w)
{
	struct health_wait *last;

	if (w->dirty_at < 0)
		return;
	last = h->dirty[--h->n_dirty];
	h->dirty[w->dirty_at] = last;
	last->dirty_at = w->dirty_at;
	w->dirty_at = -1;
}

/* What @key names changed: its waits are judged again at the next drain. */
static void health_mark_key(struct cert_health *h, const uint8_t *key, size_t len)
{
	struct health_links *links = strmap_get(h->awaited, key, len);
	struct health_link *l;

	if (links)
		LIST_FOREACH(l, links, by_key)
			health_mark(h, l->w);
}

static void health_touch(struct cert_health *h, int kind, const void *bytes, size_t len)
{
	uint8_t key[HEALTH_KEY_MAX];

	health_mark_key(h, key, health_key(key, kind, bytes, len));
}

static void health_touch_issuer(void *ctx, const X509_NAME *name)
{
	uint8_t key[HEALTH_KEY_MAX];

	health_mark_key(ctx, key, health_issuer_key(key, name));
}

static void health_link_push(struct health_links *links, struct health_link *l)
{
	LIST_INSERT_HEAD(links, l, by_key);
	l->indexed = true;
}

/* Adds a key to @w's (not yet in the index). False when out of memory. */
static bool health_wait_key(struct health_wait *w, const uint8_t *key, size_t len)
{
	struct health_link *l = calloc(1, sizeof(*l) + len);

	if (!l)
		return false;
	l->w = w;
	l->len = len;
	memcpy(l->key, key, len);
	SLIST_INSERT_HEAD(&w->links, l, of_wait);
	return true;
}

/* How many certificates of @chain revocation judges, from the leaf on:
 * the last is the anchor (or an issuer not served), not judged itself,
 * except a lone leaf, for its staple. */
static int health_judged(STACK_OF(X509) *chain)
{
	int n = chain ? sk_X509_num(chain) : 0;

	if (n > HEALTH_MAX_CHAIN)
		n = HEALTH_MAX_CHAIN;
	return n > 1 ? n - 1 : n;
}

/* The keys of everything judging @w's chain reads (health_judge_cert)
 * that an answer can change. False when out of memory. */
static bool health_wait_keys(struct health_wait *w)
{
	int i, j, n = health_judged(w->chain);
	uint8_t key[HEALTH_KEY_MAX];

	for (i = 0; i < n && i + 1 < sk_X509_num(w->chain); i++) {
		X509 *x = sk_X509_value(w->chain, i);
		X509 *issuer = sk_X509_value(w->chain, i + 1);
		const struct revo_facts *f = revo_facts_of(x);

		if (!health_wait_key(w, key, health_issuer_key(key,
							       X509_get_subject_name(issuer))))
			return false;
		if (!f)   /* nothing was asked online for it either */
			continue;
		if (f->has_sha256 &&
		    !health_wait_key(w, key, health_key(key, HEALTH_KEY_OCSP, f->sha256,
							 sizeof(f->sha256))))
			return false;
		for (j = 0; j < f->n_crl_urls; j++)
			if (!health_wait_key(w, key, health_key(key, HEALTH_KEY_CRL_URL,
								 f->crl_urls[j],
								 strlen(f->crl_urls[j]))))
				return false;
	}
	return true;
}

static void health_wait_unindex(struct cert_health *h, struct health_wait *w)
{
	struct health_link *l;

	SLIST_FOREACH(l, &w->links, of_wait) {
		if (l->indexed) {
			LIST_REMOVE(l, by_key);
			l->indexed = false;
			h->n_links--;
		}
	}
}

/* Puts @w's keys in the index. False (none put) when out of memory. */
static bool health_wait_index(struct cert_health *h, struct health_wait *w)
{
	struct health_links *links;
	struct health_link *l;

	SLIST_FOREACH(l, &w->links, of_wait) {
		links = strmap_put(h->awaited, l->key, l->len, NULL);
		if (!links) {
			health_wait_unindex(h, w);
			return false;
		}
		health_link_push(links, l);
		h->n_links++;
	}
	return true;
}

/*
 * The index keeps the keys of the waits gone (a strmap forgets nothing):
 * past twice the keys of the waits there are, it is made again from
 * them, so it stays bounded as they are. Out of memory, the old one
 * (which has every key the new would) stays.
 */
static void health_index_trim(struct cert_health *h)
{
	struct health_wait *w;
	struct health_link *l;
	struct strmap *m;

	if (strmap_count(h->awaited) <= 2 * h->n_links + HEALTH_INDEX_SLACK)
		return;
	m = strmap_new(sizeof(struct health_links));
	TAILQ_FOREACH(w, &h->waits, order) {
		SLIST_FOREACH(l, &w->links, of_wait) {
			if (m && l->indexed && !strmap_put(m, l->key, l->len, NULL)) {
				strmap_free(m);
				m = NULL;
			}
		}
	}
	if (!m)
		return;
	/* every key is in: nothing below can fail. A link moves to its key's
	 * list in @m (the old list's head goes with the old map). */
	TAILQ_FOREACH(w, &h->waits, order)
		SLIST_FOREACH(l, &w->links, of_wait)
			if (l->indexed)
				health_link_push(strmap_get(m, l->key, l->len), l);
	strmap_free(h->awaited);
	h->awaited = m;
}

/* @w's answers will not all be said with its cert event (an update its
 * owner could not say, or let go with answers out): counted once in
 * waits_let_go (cert_updates_lost), however often and however it ends. */
static void health_wait_lost(struct cert_health *h, struct health_wait *w)
{
	if (!w->lost)
		h->waits_let_go++;
	w->lost = true;
}

/* Takes @w out of the waits, the index and the marks, and frees it. */
static void health_wait_drop(struct cert_health *h, struct health_wait *w)
{
	TAILQ_REMOVE(&h->waits, w, order);
	h->n_waits--;
	health_wait_unindex(h, w);
	health_unmark(h, w);
	health_wait_free(w);
}

/* --- the checks */

/* The input SNI's length: sni_len, or up to its NUL when that is 0. */
static size_t health_sni_len(const struct cert_health_input *in)
{
	return tw_host_name_sni_len(in->sni, in->sni_len);
}

static void health_identity(const struct cert_health_input *in,
			    const struct cert_info *leaf,
			    struct cert_health_result *out)
{
	if (leaf)
		memcpy(out->leaf_sha256_hex, leaf->sha256_hex, sizeof(out->leaf_sha256_hex));
	size_t n = health_sni_len(in);

	/* every byte: the update of a cert event is found by them
	 * (pipeline/judge.c), a NUL among them included */
	if (n >= sizeof(out->sni))
		n = sizeof(out->sni) - 1;
	out->has_sni = in->sni != NULL;
	if (in->sni)
		memcpy(out->sni, in->sni, n);
	out->sni[n] = '\0';
	out->sni_len = (uint16_t)n;
	if (in->server)
		out->server = *in->server;
	out->ts_us = in->ts_us;
	out->staple_unknown = in->staple_unknown;
	out->revocation.status = OCSP_ST_UNKNOWN;
	out->revocation.reason = -1;
	if (in->base)
		out->findings = *in->base;
}

/* @name: as for health_supersede; none (NULL) is checked against no
 * expectation. */
static void health_expect(struct cert_health *h, const struct cert_health_input *in,
			  const char *name, const struct cert_info *leaf,
			  struct finding_list *f)
{
	char detail[256];

	if (h->checks->expect && in->sni && name &&
	    expect_check(h->checks->expect, in->sni, health_sni_len(in),
			 leaf->sha256_hex, detail, sizeof(detail)) == 1)
		finding_add(f, FINDING_UNEXPECTED, "%s", detail);
}

/*
 * The name the inventory files a sighting under, as every check compares
 * names (common/host_name.h): host names are case-insensitive (a client
 * may send "A.Test") and "a.test." is a.test, so the old leaf served to
 * one spelling after a newer one to another is still superseded. "" for
 * a handshake without SNI; "." (which folds to "") stays "." apart from
 * it. NULL for an SNI holding a NUL
 * (tw_host_name_has_nul): no host has that name, and the bytes before the
 * NUL are not what the client asked for, so nothing is filed, compared
 * or expected under it.
 */
static const char *inventory_name(const struct cert_health_result *r,
				  char buf[CERT_HEALTH_SNI_MAX])
{
	if (!r->has_sni) {
		buf[0] = '\0';
		return buf;
	}
	if (tw_host_name_has_nul(r->sni, r->sni_len))
		return NULL;
	tw_host_name_fold_key(r->sni, r->sni_len, buf, CERT_HEALTH_SNI_MAX);
	return buf;
}

/* @name: the SNI as the inventory spells it (inventory_name), "" for
 * none, NULL: not judged; @untrusted: the leaf's chain did not verify. */
static void health_supersede(struct cert_health *h, const struct cert_health_input *in,
			     const char *name, const struct cert_info *leaf,
			     bool untrusted, struct finding_list *f,
			     struct supersede_verdict *v)
{
	struct tw_endpoint none = { 0 };
	char err[512], detail[FINDING_DETAIL_MAX];

	memset(v, 0, sizeof(*v));
	if (!name)
		return;
	if (supersede_judge(h->inv, name,
			    in->server ? in->server : &none, leaf, untrusted,
			    in->key_offer, in->ts_us, v, err, sizeof(err))) {
		health_db_problem(h, err);
		return;
	}
	if (v->superseded) {
		/* the name the history is of, as compared, not as sent */
		supersede_detail(v, name, detail, sizeof(detail));
		finding_add(f, FINDING_SUPERSEDED, "%s", detail);
	}
}

/* Online fetches are made only for chains that reach the trust store, so
 * a stranger's certificate cannot send the agent to arbitrary URLs. */
static bool health_anchored(int verify_code)
{
	return verify_code == X509_V_OK || verify_code == X509_V_ERR_CERT_HAS_EXPIRED ||
	       verify_code == X509_V_ERR_CERT_NOT_YET_VALID ||
	       verify_code == X509_V_ERR_INVALID_PURPOSE;
}

/*
 * The chain to judge revocation on: OpenSSL's built chain when it has an
 * issuer for the leaf (it builds from the served certificates in any
 * order, also when the chain does not verify), else the served
 * certificates from the leaf on, each followed by the one among them that
 * issued it, wherever the server put it (served_chain.h), each taken once.
 * Owned by the caller.
 */
static STACK_OF(X509) *health_revocation_chain(struct verify_result *vr,
					       const struct cert_health_input *in)
{
	int i = 0, n = in->n_chain < HEALTH_MAX_CHAIN ? in->n_chain : HEALTH_MAX_CHAIN;
	uint32_t taken = 1u;   /* the leaf */
	STACK_OF(X509) *sk;
	X509 *x;

	if (vr->built && sk_X509_num(vr->built) >= 2) {
		sk = vr->built;
		vr->built = NULL;
		return sk;
	}
	sk = sk_X509_new_null();
	if (!sk)
		return NULL;
	/* each turn takes a position not taken before: at most n turns */
	while (i >= 0 && i < n && in->chain[i] && (x = in->chain[i]->x509) &&
	       sk_X509_push(sk, x)) {
		X509_up_ref(x);
		i = served_issuer_index(in->chain, n, x, taken);
		if (i >= 0)
			taken |= 1u << i;
	}
	return sk;
}

static bool health_says_revoked(const struct revo_cert *c)
{
	return c->crl.status == OCSP_ST_REVOKED ||
	       (c->ocsp.state == OCSP_ANSWERED && c->ocsp.answer.status == OCSP_ST_REVOKED);
}

static void health_label_intermediate(X509 *x, char *buf, size_t len)
{
	char name[140] = "";

	cert_name_print(X509_get_subject_name(x), name, sizeof(name));
	snprintf(buf, len, "intermediate %s", name);
}

/* Fills @c for certificate @depth of @chain; true when online answers are
 * still to come for it. */
static bool health_judge_cert(struct cert_health *h, STACK_OF(X509) *chain,
			      int depth, int64_t at, bool may_fetch,
			      struct revo_cert *c)
{
	X509 *x = sk_X509_value(chain, depth), *issuer;
	const struct revo_facts *f;
	struct crl_fetch_status fs;
	int64_t now = (int64_t)time(NULL);
	bool pending = false;
	int i;

	memset(c, 0, sizeof(*c));
	c->crl.status = OCSP_ST_UNKNOWN;
	c->crl.reason = -1;
	snprintf(c->label, sizeof(c->label), "leaf");
	if (depth + 1 >= sk_X509_num(chain))
		return false;
	issuer = sk_X509_value(chain, depth + 1);
	if (h->online && (f = revo_facts_of(x))) {
		for (i = 0; i < f->n_crl_urls; i++) {
			crl_fetch_want(h->checks->fetch, f->crl_urls[i], now, may_fetch, &fs);
			pending |= fs.in_flight;
			/* a download started (or could not be): the waits on
			 * it read something else now */
			if (fs.changed)
				health_touch(h, HEALTH_KEY_CRL_URL, f->crl_urls[i],
					     strlen(f->crl_urls[i]));
		}
		if (f->has_sha256) {
			ocsp_client_lookup(h->ocsp, x, issuer, f->sha256,
					   f->has_ocsp_url ? f->ocsp_url : NULL, now,
					   may_fetch, &c->ocsp);
			pending |= c->ocsp.in_flight;
			if (c->ocsp.changed)
				health_touch(h, HEALTH_KEY_OCSP, f->sha256, sizeof(f->sha256));
		}
	}
	crl_check(h->checks->crls, x, issuer, at, &c->crl);
	/* Only a revoked certificate is named in a detail: printing the
	 * subject of every intermediate of every handshake was measurable. */
	if (depth > 0 && health_says_revoked(c))
		health_label_intermediate(x, c->label, sizeof(c->label));
	return pending;
}

static bool health_revocation(struct cert_health *h, STACK_OF(X509) *chain,
			      const struct staple_info *staple, int64_t at,
			      bool may_fetch, struct cert_health_result *out)
{
	struct revo_cert certs[HEALTH_MAX_CHAIN];
	struct revo_input in = {
		.certs = certs, .staple = staple, .at = at,
		.staple_max_age_s = h->checks->staple_max_age_s,
	};
	int i, n = health_judged(chain);
	bool pending = false;

	for (i = 0; i < n; i++)
		pending |= health_judge_cert(h, chain, i, at, may_fetch, &certs[i]);
	in.n = i;
	if (in.n == 0) {
		memset(certs, 0, sizeof(certs[0]));
		certs[0].crl.status = OCSP_ST_UNKNOWN;
		snprintf(certs[0].label, sizeof(certs[0].label), "leaf");
		in.n = 1;
	}
	revocation_judge(&in, &out->revocation, &out->findings);
	revocation_sources_text(&certs[0], out->sources, sizeof(out->sources));
	return pending;
}

static void health_findings_text(const struct finding_list *f, char *buf, size_t len)
{
	size_t off = 0;
	int i;

	buf[0] = 0;
	for (i = 0; i < f->n && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? "," : "",
					finding_kind_name(f->items[i].kind));
}

/* @name: as for health_supersede; NULL is counted as unanswered. */
static void health_record(struct cert_health *h, const char *name,
			  const struct cert_info *leaf, bool unanswered,
			  const struct supersede_verdict *v,
			  struct cert_health_result *r)
{
	char addr[TW_ADDR_STRLEN], findings[256], err[512];
	struct inventory_sighting s = {
		.name = name,
		.addr = tw_addr_format(&r->server.addr, addr),
		.port = r->server.port, .sha256 = leaf->sha256_hex,
		.subject = leaf->subject, .issuer = leaf->issuer, .key = leaf->key,
		.not_before = leaf->not_before, .not_after = leaf->not_after,
		.ts_us = r->ts_us, .findings = findings,
		.staple_unknown = r->staple_unknown,
		.rollback_us = v->record_rollback ? r->ts_us : 0,
		.rollback_evidence = v->rollback_text,
	};

	if (unanswered || !name) {
		h->unanswered++;
		return;
	}
	if (r->server.addr.family != 4 && r->server.addr.family != 6)
		s.addr = "";
	health_findings_text(&r->findings, findings, sizeof(findings));
	if (inventory_record(h->inv, &s, &r->new_in_inventory, err, sizeof(err)))
		health_db_problem(h, err);
}

/* Keeps @r for re-judging; takes @chain. One wait per cert event: found
 * by its key in the index (a look-up, not a pass over up to
 * CERT_HEALTH_MAX_WAITS waits for each pending handshake). */
static void health_wait_add(struct cert_health *h, const struct cert_health_result *r,
			    const struct finding_list *base, STACK_OF(X509) *chain,
			    const struct staple_info *staple, int64_t at)
{
	uint8_t event[HEALTH_KEY_MAX];
	size_t event_len = health_event_key(event, r);
	struct health_links *same = strmap_get(h->awaited, event, event_len);
	struct health_wait *w;

	if (same && !LIST_EMPTY(same))
		health_wait_drop(h, LIST_FIRST(same)->w);
	if (h->n_waits >= CERT_HEALTH_MAX_WAITS) {
		/* The oldest is at the end: it gets no update, only its next
		 * handshake's check will show the answer. The pipeline lets go
		 * of its pinned chain in the same order. */
		w = TAILQ_LAST(&h->waits, health_waits);
		health_wait_lost(h, w);
		health_wait_drop(h, w);
	}
	w = calloc(1, sizeof(*w));
	if (!w) {
		sk_X509_pop_free(chain, X509_free);
		h->waits_let_go++;
		return;
	}
	w->dirty_at = -1;
	SLIST_INIT(&w->links);
	w->chain = chain;
	if (!health_wait_key(w, event, event_len) || !health_wait_keys(w) ||
	    !health_wait_index(h, w)) {
		health_wait_free(w);   /* and @chain */
		h->waits_let_go++;
		return;
	}
	w->res = *r;
	w->base_n = base->n;
	w->has_staple = staple != NULL;
	if (staple)
		w->staple = *staple;
	w->at = at;
	w->started_ms = health_now_ms();
	w->seq = ++h->wait_seq;
	TAILQ_INSERT_HEAD(&h->waits, w, order);
	h->n_waits++;
	health_index_trim(h);
}

void cert_health_check(struct cert_health *h, const struct cert_health_input *in,
		       struct cert_health_result *out)
{
	const struct cert_info *leaf = in->n_chain > 0 ? in->chain[0] : NULL;
	char name_buf[CERT_HEALTH_SNI_MAX];
	const char *name;
	struct supersede_verdict sv;
	struct verify_result vr;
	struct finding_list base;
	STACK_OF(X509) *chain;
	int64_t at = (int64_t)(in->ts_us / 1000000);
	int vrc;

	memset(out, 0, sizeof(*out));
	health_identity(in, leaf, out);
	if (!h || !leaf || !leaf->x509) {
		snprintf(out->verify, sizeof(out->verify), "no certificate");
		return;
	}
	vrc = verify_cache_chain(h->checks->verified, in->chain, in->n_chain, at, &vr);
	snprintf(out->verify, sizeof(out->verify), "%s", vr.text);
	if (vrc == 1)
		finding_add(&out->findings, FINDING_UNTRUSTED, "%s", vr.detail);
	name = inventory_name(out, name_buf);   /* once for all three */
	health_expect(h, in, name, leaf, &out->findings);
	health_supersede(h, in, name, leaf, vrc == 1, &out->findings, &sv);
	base = out->findings;
	chain = health_revocation_chain(&vr, in);
	out->pending = health_revocation(h, chain, in->staple, at,
					 h->online && vrc >= 0 && health_anchored(vr.code),
					 out);
	health_record(h, name, leaf, in->unanswered, &sv, out);
	if (out->pending)
		health_wait_add(h, out, &base, chain, in->staple, at);
	else
		sk_X509_pop_free(chain, X509_free);
	verify_result_release(&vr);
}

void cert_health_stats(const struct cert_health *h, struct cert_health_stats *out)
{
	out->inventory_unanswered = h ? h->unanswered : 0;
	out->inventory_refused = h ? inventory_refused(h->inv) : 0;
	out->crl_urls_forgotten = h ? h->crl_forgotten +
				      crl_fetch_forgotten(h->checks->fetch) : 0;
	out->waits_let_go = h ? h->waits_let_go : 0;
	out->waits_rejudged = h ? h->waits_rejudged : 0;
}

bool cert_health_prefetch(struct cert_health *h, const struct cert_health_input *in)
{
	const struct cert_info *leaf = in->n_chain > 0 ? in->chain[0] : NULL;
	struct cert_health_result scratch;
	struct verify_result vr;
	STACK_OF(X509) *chain;
	int64_t at = (int64_t)(in->ts_us / 1000000);
	bool pending = false;

	if (!h || !h->online || !leaf || !leaf->x509)
		return false;
	memset(&vr, 0, sizeof(vr));
	if (verify_cache_chain(h->checks->verified, in->chain, in->n_chain, at, &vr) >= 0 &&
	    health_anchored(vr.code)) {
		memset(&scratch, 0, sizeof(scratch));
		chain = health_revocation_chain(&vr, in);
		pending = health_revocation(h, chain, in->staple, at, true, &scratch);
		sk_X509_pop_free(chain, X509_free);
	}
	verify_result_release(&vr);
	return pending;
}

/* DER of @x through @certs: the cache's entry for it (parsed once). */
static const struct cert_info *health_cached_cert(struct cert_cache *certs, X509 *x)
{
	const struct cert_info *ci = NULL;
	unsigned char *der = NULL;
	int len = i2d_X509(x, &der);

	if (len > 0)
		ci = cert_cache_get(certs, der, (size_t)len, NULL);
	OPENSSL_free(der);
	return ci;
}

const struct cert_info *cert_health_built_issuer(struct cert_health *h,
						 const struct cert_info *const *chain,
						 int n, int64_t at)
{
	const struct cert_info *issuer = NULL;
	struct verify_result vr;

	if (!h || n < 1 || !chain[0])
		return NULL;
	memset(&vr, 0, sizeof(vr));
	if (verify_cache_chain(h->checks->verified, chain, n, at, &vr) >= 0 &&
	    vr.built && sk_X509_num(vr.built) >= 2)
		issuer = health_cached_cert(h->issuers, sk_X509_value(vr.built, 1));
	verify_result_release(&vr);
	return issuer;
}

uint32_t cert_health_unused_served(struct cert_health *h,
				   const struct cert_info *const *chain, int n,
				   int64_t at)
{
	struct verify_result vr;
	uint32_t unused = 0;
	int i, j;

	if (!h || n < 2 || n > 32 || !chain[0])
		return 0;
	memset(&vr, 0, sizeof(vr));
	/* only a chain that reached a trust anchor is the one clients use:
	 * one OpenSSL gave up on says nothing of the certificates it left */
	if (verify_cache_chain(h->checks->verified, chain, n, at, &vr) >= 0 &&
	    health_anchored(vr.code) && vr.built) {
		for (i = 1; i < n; i++) {
			if (!chain[i] || !chain[i]->x509)
				continue;
			for (j = 0; j < sk_X509_num(vr.built); j++)
				if (!X509_cmp(chain[i]->x509, sk_X509_value(vr.built, j)))
					break;
			if (j == sk_X509_num(vr.built))
				unused |= 1u << i;
		}
	}
	verify_result_release(&vr);
	return unused;
}

/* --- asynchronous answers */

static bool health_findings_equal(const struct finding_list *a,
				  const struct finding_list *b)
{
	int i;

	if (a->n != b->n)
		return false;
	for (i = 0; i < a->n; i++)
		if (a->items[i].kind != b->items[i].kind ||
		    strcmp(a->items[i].detail, b->items[i].detail))
			return false;
	return true;
}

/* Re-judges @w with what is cached now; true when it changed. */
static bool health_rejudge(struct cert_health *h, struct health_wait *w)
{
	struct cert_health_result r = w->res;
	char addr[TW_ADDR_STRLEN], findings[256], err[512], buf[CERT_HEALTH_SNI_MAX];
	const char *name = inventory_name(&w->res, buf);
	bool changed;

	r.findings.n = w->base_n;
	r.pending = health_revocation(h, w->chain, w->has_staple ? &w->staple : NULL,
				      w->at, false, &r);
	changed = memcmp(&r.revocation, &w->res.revocation, sizeof(r.revocation)) ||
		  !health_findings_equal(&r.findings, &w->res.findings);
	r.new_in_inventory = false;
	if (changed && name) {
		health_findings_text(&r.findings, findings, sizeof(findings));
		if (inventory_set_findings(h->inv, name,
					   r.server.addr.family ?
					   tw_addr_format(&r.server.addr, addr) : "",
					   r.server.port, r.leaf_sha256_hex, findings,
					   r.staple_unknown, err, sizeof(err)))
			health_db_problem(h, err);
	}
	w->res = r;
	return changed;
}

/* @w has waited HEALTH_WAIT_MAX_S at @now_ms (health_now_ms). */
static bool health_wait_over(const struct health_wait *w, int64_t now_ms)
{
	return now_ms - w->started_ms > (int64_t)HEALTH_WAIT_MAX_S * 1000;
}

/*
 * Marks the waits whose re-judgement may read something changed that no
 * answer's key names: every wait after a reload, after the OCSP cache
 * was emptied (full) or CRL URLs were forgotten with their CRLs (to make
 * room); and the waits older than HEALTH_WAIT_MAX_S (they are let go),
 * from the oldest, last in the list, up to the first that is not: the
 * list is in the order of started_ms (each wait goes in first, with the
 * monotonic clock's time), so none after it is either.
 */
static void health_mark_unkeyed(struct cert_health *h, int64_t now_ms)
{
	uint64_t cleared = ocsp_client_cleared(h->ocsp);
	uint64_t forgotten = crl_fetch_forgotten(h->checks->fetch);
	bool all = h->all_dirty || cleared != h->ocsp_cleared_seen ||
		   forgotten != h->crl_forgotten_seen;
	struct health_wait *w;

	h->all_dirty = false;
	h->ocsp_cleared_seen = cleared;
	h->crl_forgotten_seen = forgotten;
	TAILQ_FOREACH_REVERSE(w, &h->waits, health_waits, order) {
		if (!all && !health_wait_over(w, now_ms))
			break;
		health_mark(h, w);
	}
}

static int health_newest_first(const void *a, const void *b)
{
	const struct health_wait *x = *(struct health_wait *const *)a;
	const struct health_wait *y = *(struct health_wait *const *)b;

	return x->seq < y->seq ? 1 : x->seq > y->seq ? -1 : 0;
}

/*
 * Judges the marked waits again, each once, newest first (the order of
 * the list, which all of them were judged in before the index: updates
 * come out in the same order). An answer so costs the waits it concerns,
 * not all of them (CERT_HEALTH_MAX_WAITS, each a few CRL and OCSP
 * look-ups, for each of thousands of answers).
 */
static void health_rejudge_marked(struct cert_health *h,
				  const struct cert_health_events *ev)
{
	int64_t now_ms = health_now_ms();
	struct health_wait *w;
	int i, n;

	health_mark_unkeyed(h, now_ms);
	n = h->n_dirty;
	for (i = 0; i < n; i++) {
		h->judging[i] = h->dirty[i];
		h->judging[i]->dirty_at = -1;
	}
	h->n_dirty = 0;
	qsort(h->judging, (size_t)n, sizeof(*h->judging), health_newest_first);
	for (i = 0; i < n; i++) {
		w = h->judging[i];
		h->waits_rejudged++;
		if (health_rejudge(h, w) && ev && ev->updated &&
		    !ev->updated(ev->ctx, &w->res))
			health_wait_lost(h, w);
		if (!w->res.pending || health_wait_over(w, now_ms)) {
			/* answers still out: they will come to no wait, and
			 * not be said with this cert event (cert_updates_lost) */
			if (w->res.pending)
				health_wait_lost(h, w);
			if (ev && ev->settled)
				ev->settled(ev->ctx, &w->res);
			health_wait_drop(h, w);
		}
	}
}

static void health_deliver_problems(struct cert_health *h,
				    const struct cert_health_events *ev)
{
	char msg[96];
	int i;

	for (i = 0; i < h->n_problems; i++)
		if (ev && ev->problem)
			ev->problem(ev->ctx, h->problems[i]);
	h->n_problems = 0;
	if (h->dropped_problems && ev && ev->problem) {
		snprintf(msg, sizeof(msg), "%d more certificate-health problems not shown",
			 h->dropped_problems);
		ev->problem(ev->ctx, msg);
	}
	h->dropped_problems = 0;
}

/*
 * The database could not be written because its file system is read-only
 * (inventory_fs_read_only()): the file is opened again by its path
 * every HEALTH_DB_REOPEN_MS, and once that gives a database that can be
 * written the new connection takes over: recording resumes.
 */
static void health_db_reopen(struct cert_health *h, int64_t now)
{
	struct inventory *inv;
	char err[512];

	if (!h->db_read_only || now - h->last_reopen_ms < HEALTH_DB_REOPEN_MS)
		return;
	h->last_reopen_ms = now;
	switch (inventory_reopen(h->db_path, &inv, err, sizeof(err))) {
	case 0:
		return;
	case -1:
		pr_debug("%s\n", err);
		return;
	}
	inventory_close(h->inv);
	h->inv = inv;
	h->db_read_only = false;
	h->last_db_problem_ms = 0;   /* a new fault is said at once */
	pr_info("inventory %s: writable again, recording resumed\n", h->db_path);
}

void cert_health_tick(struct cert_health *h)
{
	char err[512];
	int64_t now = health_now_ms();

	if (!h || now - h->last_flush_ms < HEALTH_INVENTORY_FLUSH_MS)
		return;
	health_db_reopen(h, now);
	h->last_flush_ms = now;
	if (inventory_flush(h->inv, err, sizeof(err)))
		health_db_problem(h, err);
}

int cert_health_fd(struct cert_health *h)
{
	return h ? h->efd : -1;
}

void cert_health_drain(struct cert_health *h, const struct cert_health_events *ev)
{
	struct http_result *r;
	char problem[600];
	uint64_t count;
	int rc;

	if (!h)
		return;
	/* Reset first: a completion after this point signals again. */
	if (read(h->efd, &count, sizeof(count)) < 0) {
		/* EAGAIN: nothing was signalled */
	}
	while ((r = http_pool_take(h->pool))) {
		int64_t now = (int64_t)time(NULL);

		if (r->kind == OCSP_KIND) {
			rc = ocsp_client_complete(h->ocsp, r, now, problem, sizeof(problem));
			health_touch(h, HEALTH_KEY_OCSP, r->key, r->key_len);
		} else {
			/* the CRLs it replaces, the URL, the CRLs it brings */
			crl_store_origin_issuers(h->checks->crls, r->url,
						 health_touch_issuer, h);
			rc = crl_fetch_complete(h->checks->fetch, r, now, problem, sizeof(problem));
			health_touch(h, HEALTH_KEY_CRL_URL, r->url, strlen(r->url));
			crl_store_origin_issuers(h->checks->crls, r->url,
						 health_touch_issuer, h);
		}
		if (rc)
			health_problem(h, problem);
		http_result_free(r);
	}
	health_rejudge_marked(h, ev);
	health_deliver_problems(h, ev);
}

int cert_health_flush(struct cert_health *h, int timeout_ms,
		      const struct cert_health_events *ev)
{
	int64_t deadline = health_now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	struct pollfd pfd;

	if (!h)
		return 0;
	for (;;) {
		int64_t left;

		cert_health_drain(h, ev);
		if (TAILQ_EMPTY(&h->waits) && http_pool_outstanding(h->pool) == 0)
			return 0;
		left = deadline - health_now_ms();
		if (left <= 0)
			break;
		pfd.fd = h->efd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		if (poll(&pfd, 1, (int)(left > 1000 ? 1000 : left)) < 0 && errno != EINTR)
			break;
	}
	return h->n_waits > 0 ? h->n_waits : (int)http_pool_outstanding(h->pool);
}

int cert_health_inventory_dump(const char *db_path, bool json, FILE *out,
			       bool *empty, char *err, size_t errlen)
{
	return inventory_dump(db_path, json, out, empty, err, errlen);
}

const char *cert_health_reason_name(int reason)
{
	return crl_reason_name(reason);
}

/* --- reload */

int cert_health_prepare(struct cert_health *h, const struct cert_health_opts *o,
			struct cert_checks **out, char *err, size_t errlen)
{
	return cert_checks_open(o, h->pool, out, err, errlen);
}

void cert_health_commit(struct cert_health *h, struct cert_checks *c)
{
	/* Every cache that depends on the trust store or the CRLs (the chain
	 * verification memo, downloaded CRLs) lives in the check state and
	 * goes with it. Online answers still in flight
	 * for the old state are ignored when they arrive: the new state's
	 * downloads do not know them, and the next handshake asks again. */
	h->crl_forgotten += crl_fetch_forgotten(h->checks->fetch);
	cert_checks_free(h->checks);
	h->checks = c;
	crl_fetch_set_needed(c->fetch, health_url_awaited, h);
	/* every wait is judged under the new state at the next drain */
	h->all_dirty = true;
}

void cert_checks_describe(const struct cert_checks *c, char *buf, size_t len)
{
	size_t n = crl_store_count(c->crls);
	size_t e = c->expect ? expect_set_count(c->expect) : 0;

	snprintf(buf, len, "%zu CRL%s, %zu expectation%s", n, n == 1 ? "" : "s",
		 e, e == 1 ? "" : "s");
}
