// SPDX-License-Identifier: MIT
/*
 * Webhooks: each selected event is written to the durable outbox (one row
 * per receiver) before anything is sent, and a row goes only when its
 * receiver answered 2xx or refused it for good (4xx other than 408/429).
 * Everything else is retried with exponential backoff and jitter, or after
 * the receiver's Retry-After. Requests run on http_pool's worker threads;
 * this file runs on the agent's loop (event and tick) and never blocks on
 * the network.
 *
 * Deduplication: an alert's dedup key (the same finding set for the same
 * certificate and name; a spike's episode and state; an agent error's
 * text) is claimed in the outbox, so it is not sent again within the
 * cooldown, across restarts too. Its Idempotency-Key is stable across
 * retries and restarts.
 *
 * Order: each row carries the alert it is about as its order key (a
 * spike's scope, a certificate under a name, the agent), and the outbox
 * holds a row while an earlier one of its receiver and key is waiting:
 * a receiver gets a spike's "resolved" only after its "firing" went,
 * even when the firing had to be retried.
 *
 * Receivers: a row is only ever sent to a --webhook URL this sender was
 * given. At open, the rows of URLs no longer given (a reload or a restart
 * with other --webhook URLs) are given to the URLs given now.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "common/fs_writable.h"
#include "common/host_name.h"
#include "common/log.h"
#include "common/version.h"
#include "deliver/backoff.h"
#include "deliver/outbox.h"
#include "deliver/sign.h"
#include "inventory/inventory_lease.h"
#include "detect/spike.h"
#include "net/http_pool.h"
#include "receiver_ca.h"
#include "sink.h"
#include "webhook_text.h"

/* The options bound a URL (OUTPUT_URL_LEN): the outbox keeps it whole,
 * the pool sends it. */
_Static_assert(OUTPUT_URL_LEN <= OUTBOX_TARGET_LEN &&
	       OUTPUT_URL_LEN <= HTTP_REQUEST_URL_LEN,
	       "a --webhook URL fits the outbox and a request");

/* A retry scheduled at its longest from a clock read after the pass's own
 * is not taken for one from a clock stepped back (outbox.h). */
_Static_assert(2 * BACKOFF_DELAY_MAX_US <= OUTBOX_MAX_DELAY_US,
	       "the longest retry stays well below the clock-step threshold");

/*
 * Requests under way per receiver: each has as many pool threads of its
 * own (requests block a thread), so one that hangs until the timeout
 * holds up its own alerts only.
 */
#define WEBHOOK_PER_RECEIVER 2
#define WEBHOOK_IN_FLIGHT_MAX (WEBHOOK_PER_RECEIVER * OUTPUT_MAX_URLS)
#define WEBHOOK_BACKOFF_BASE_US 1000000
#define WEBHOOK_SECRET_MAX 4096
#define WEBHOOK_DRAIN_DEFAULT_MS 3000
#define WEBHOOK_DEDUP_MAX 1024
#define WEBHOOK_REOPEN_US 5000000ull   /* a read-only or full disk: probed */

/* What a request carries back to us through http_pool (its "key"). */
struct webhook_job {
	int64_t id;
	int attempts;
	int which;                     /* index into webhook.ob */
	int receiver;                  /* index into webhook.receiver_down */
};

/* Outboxes: the configured one (the --db file, or memory), then one in
 * memory opened when a write to the first fails (a full disk, an I/O
 * error): an alert costs durability then, never delivery. A file system
 * that turned read-only, or a full one, is probed every WEBHOOK_REOPEN_US;
 * once it takes data again (the repaired one mounted there, space freed),
 * what memory holds is moved into the file (webhook_recover). */
enum { WEBHOOK_OB_MAIN, WEBHOOK_OB_OVERFLOW, WEBHOOK_OB__COUNT };

/*
 * Why the file stopped taking alerts, which says how it comes back. A full
 * disk needs no new connection: SQLite rolls back the transaction that
 * could not grow the file or its WAL, so file and connection stay sound
 * and the same connection writes once space is freed (the inventory and
 * the event history just write again). A read-only file system needs one:
 * the connection holds the old mount, read-only for good, and the repaired
 * file system is mounted at the path.
 */
enum webhook_fault {
	WEBHOOK_FAULT_NONE,        /* new alerts go to [MAIN] */
	WEBHOOK_FAULT_FOR_RUN,     /* an I/O error: to [OVERFLOW] for the run */
	WEBHOOK_FAULT_READ_ONLY,   /* probed; the file opened again by its path */
	WEBHOOK_FAULT_FULL,        /* probed; [MAIN] written again as it is */
};

struct webhook {
	struct sink base;              /* first: the sink is cast to it */
	struct output_opts o;          /* a copy, its strings in o_strings: */
	char *o_strings;               /* a reload keeps the sink and frees */
				       /* the options it was opened from */
	struct outbox *ob[WEBHOOK_OB__COUNT];  /* [OVERFLOW] NULL until used */
	struct http_pool *pool;
	int efd;                       /* http_pool's completion eventfd */
	uint8_t secret[WEBHOOK_SECRET_MAX];
	size_t secret_len;
	struct receiver_ca ca;         /* --webhook-ca-file, as read at open */
	int in_flight;                 /* requests under way, in all */
	int receiver_in_flight[OUTPUT_MAX_URLS];   /* and per receiver */
	uint64_t retried, suppressed;
	uint32_t rng;
	/* Said once per outage of each --webhook URL (in the order given). */
	bool receiver_down[OUTPUT_MAX_URLS];
	bool main_in_memory;           /* the file could not be opened at start */
	enum webhook_fault main_fault;
	uint64_t reopened_us;          /* the tick of the last probe */
	bool reopen_due;               /* writable: waiting for in_flight 0 */
	struct outbox_stats closed;    /* of the outboxes closed by a reopen */
	struct webhook_text text;      /* the slack format's buffer */
};

static uint64_t wall_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* xorshift32: jitter needs spread, not secrecy. */
static uint32_t webhook_random(struct webhook *w)
{
	w->rng ^= w->rng << 13;
	w->rng ^= w->rng >> 17;
	w->rng ^= w->rng << 5;
	return w->rng;
}

/* --- what is sent, and under which dedup key */

static bool has_critical(const struct finding_list *l)
{
	int i;

	for (i = 0; i < l->n; i++)
		if (finding_kind_severity(l->items[i].kind) == SEV_CRITICAL)
			return true;
	return false;
}

static bool is_critical(const struct event *ev)
{
	switch (ev->type) {
	case EVENT_CERT:
		return has_critical(ev->cert->findings);
	case EVENT_SPIKE:
		return true;
	case EVENT_AGENT:
		return strcmp(ev->agent->state, "error") == 0;
	default:
		return false;
	}
}

/* How the outbox keeps @ev's rows: a critical one is dropped by its
 * bound after the rest; a spike's "resolved" is its "firing"'s sequel,
 * dropped with it when it was never sent (alone, it would end an alert
 * the receiver never saw). */
static unsigned int put_flags(const struct event *ev)
{
	unsigned int flags = is_critical(ev) ? OUTBOX_CRITICAL : 0;

	if (ev->type == EVENT_SPIKE)
		flags |= ev->spike->state == SPIKE_RESOLVED ? OUTBOX_SEQUEL :
							      OUTBOX_OPENS;
	return flags;
}

/* The alert @ev is about, in whose order a receiver gets its rows: a
 * certificate under a name (its findings as they change; the name as
 * compared, tw_host_name_fold_key: "A.test" is a.test), a spike's scope
 * (firing before resolved, an episode before the next), the agent
 * (started before stopped); "" for the rest, sent in any order. */
static void order_key(const struct event *ev, char *buf, size_t len)
{
	char name[TW_HOST_NAME_KEY_MAX] = "";
	const struct cert_view *v;
	const char *scope;
	size_t n;

	switch (ev->type) {
	case EVENT_CERT:
		v = ev->cert;
		n = v->sni ? tw_host_name_fold_key(v->sni, v->sni_len, name,
						   sizeof(name)) : 0;
		snprintf(buf, len, "cert|%.*s|%s", (int)n, name,
			 v->chain[0]->sha256_hex);
		break;
	case EVENT_SPIKE:
		scope = spike_kind_key(ev->spike->kind);
		snprintf(buf, len, "spike|%s|%s", scope ? scope : "all",
			 ev->spike->key ? ev->spike->key : "");
		break;
	case EVENT_AGENT:
		snprintf(buf, len, "agent");
		break;
	default:
		buf[0] = '\0';
	}
}

/* The certificate's order key (@order), then its findings. */
static void dedup_cert(const struct event *ev, const char *order, char *buf,
		       size_t len)
{
	const struct cert_view *v = ev->cert;
	size_t off;
	int i;

	off = (size_t)snprintf(buf, len, "%s|", order);
	for (i = 0; i < v->findings->n && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s,",
					finding_kind_name(v->findings->items[i].kind));
}

/* The key under which the cooldown suppresses a repeat of @ev, whose
 * order key (order_key) is @order. */
static void dedup_key(const struct event *ev, const char *order, char *buf,
		      size_t len)
{
	const struct spike_event *sp;

	switch (ev->type) {
	case EVENT_CERT:
		dedup_cert(ev, order, buf, len);
		break;
	case EVENT_SPIKE:
		sp = ev->spike;
		snprintf(buf, len, "spike|%s|%s|%s|%llu", spike_state_name(sp->state),
			 spike_kind_key(sp->kind) ? spike_kind_key(sp->kind) : "all",
			 sp->key ? sp->key : "", (unsigned long long)sp->started_us);
		break;
	case EVENT_AGENT:
		/* The same error or refusal again is not news; each start,
		 * stats report, reload and stop is (keyed by its time: a
		 * message-less key once held them to one per cooldown, across
		 * restarts too). */
		if (webhook_agent_problem(ev))
			snprintf(buf, len, "agent|%s|%s", ev->agent->state,
				 ev->agent->message ? ev->agent->message : "");
		else
			snprintf(buf, len, "agent|%s|%llu", ev->agent->state,
				 (unsigned long long)ev->ts_us);
		break;
	default:   /* every handshake and summary is its own alert */
		snprintf(buf, len, "%s|%s|%llu|%llu", event_type_name(ev->type),
			 ev->source ? ev->source : "", (unsigned long long)ev->ts_us,
			 (unsigned long long)(ev->type == EVENT_HANDSHAKE ?
			 ev->handshake->rec->client.port : 0));
		break;
	}
}

/* --- delivery */

static void webhook_finish(struct webhook *w, const struct http_result *r)
{
	struct webhook_job job;
	struct outbox *ob;
	int64_t now = (int64_t)wall_us(), delay, after;
	char url[HTTP_URL_LOG_LEN];   /* parsed only for a line logged */

	memcpy(&job, r->key, sizeof(job));
	ob = w->ob[job.which];
	w->in_flight--;
	w->receiver_in_flight[job.receiver]--;
	switch (backoff_classify_status(r->status, !r->transport_ok)) {
	case BACKOFF_DELIVERED:
		if (w->receiver_down[job.receiver])
			pr_info("webhook %s: delivering again\n", http_url_for_log(r->url, url));
		w->receiver_down[job.receiver] = false;
		outbox_ack(ob, job.id);
		return;
	case BACKOFF_GIVE_UP:
		pr_warn("webhook %s refused an alert for good (HTTP %ld); it is dropped\n",
			http_url_for_log(r->url, url), r->status);
		outbox_fail(ob, job.id);
		return;
	case BACKOFF_RETRY:
		break;
	}
	if (!w->receiver_down[job.receiver])
		pr_warn("webhook %s: %s; retrying\n", http_url_for_log(r->url, url),
			r->error[0] ? r->error : "no answer");
	w->receiver_down[job.receiver] = true;
	delay = backoff_delay_us(job.attempts, WEBHOOK_BACKOFF_BASE_US,
				 (int64_t)w->o.webhook_retry_max_s * 1000000,
				 webhook_random(w));
	after = backoff_retry_after_us(r->retry_after, now);
	if (after > delay)      /* both capped at BACKOFF_DELAY_MAX_US */
		delay = after;
	w->retried++;
	outbox_retry(ob, job.id, now + delay);
}

static void webhook_collect(struct webhook *w)
{
	struct http_result *r;
	uint64_t n;

	if (read(w->efd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		pr_debug("webhook: eventfd: %s\n", strerror(errno));
	while ((r = http_pool_take(w->pool))) {
		webhook_finish(w, r);
		http_result_free(r);
	}
}

/* Which --webhook URL @target is; -1 for one this sender was not given. */
static int webhook_receiver_of(const struct webhook *w, const char *target)
{
	int i;

	for (i = 0; i < w->o.n_webhooks; i++)
		if (strcmp(w->o.webhooks[i], target) == 0)
			return i;
	return -1;
}

/* Sends row @it to receiver @receiver (its index in --webhook). */
static void webhook_send(struct webhook *w, int which, int receiver,
			 struct outbox_item *it, int64_t now)
{
	char idem[OUTBOX_KEY_LEN + 32], sig[WEBHOOK_SIGNATURE_MAX + 32];
	const char *headers[4] = { idem, "User-Agent: tlswatch/" TLSWATCH_VERSION };
	struct webhook_job job = { .id = it->id, .attempts = it->attempts,
				   .which = which, .receiver = receiver };

	snprintf(idem, sizeof(idem), "Idempotency-Key: %s", it->idem_key);
	if (w->secret_len) {
		int off = snprintf(sig, sizeof(sig), "Tlswatch-Signature: ");

		if (webhook_signature(w->secret, w->secret_len, now / 1000000, it->body,
				      it->body_len, sig + off, sizeof(sig) - (size_t)off) > 0)
			headers[2] = sig;
	}
	if (http_pool_submit_headers(w->pool, 0, it->target, &job, sizeof(job),
				     "application/json", (const uint8_t *)it->body,
				     it->body_len, headers) < 0) {
		outbox_release(w->ob[which], it->id);
		return;
	}
	w->in_flight++;
	w->receiver_in_flight[job.receiver]++;
}

/* The requests under way at most: WEBHOOK_PER_RECEIVER per receiver (a
 * pool thread each). */
static int webhook_in_flight_max(const struct output_opts *o)
{
	return WEBHOOK_PER_RECEIVER * o->n_webhooks;
}

/* Rows of one pass, counted per receiver (outbox_due_select's @take),
 * and each taken row's receiver, in the order the rows are handed out
 * (take is called only for a row then handed out). */
struct webhook_pick {
	struct webhook *w;
	int which;                     /* the outbox of the pass */
	int taken[OUTPUT_MAX_URLS];
	int receiver[WEBHOOK_IN_FLIGHT_MAX];
	int n;
};

/* Whether a row of the memory outbox for @target waits for a row of its
 * alert in the file: one the file took before it failed, waiting for a
 * retry, goes first (a failed read lets it go: at least once first). */
static bool webhook_waits_for_file(struct webhook *w, int which,
				   const char *target, const char *order_key)
{
	return which == WEBHOOK_OB_OVERFLOW && w->ob[WEBHOOK_OB_MAIN] &&
	       order_key && *order_key &&
	       outbox_group_waits(w->ob[WEBHOOK_OB_MAIN], target, order_key) == 1;
}

static bool webhook_take(void *ctx, const char *target, const char *order_key)
{
	struct webhook_pick *pick = ctx;
	int r = target ? webhook_receiver_of(pick->w, target) : -1;

	if (r >= 0 && webhook_waits_for_file(pick->w, pick->which, target, order_key))
		return false;
	/* a URL not given: the sender opened after a reload has the row */
	if (r < 0 || pick->w->receiver_in_flight[r] + pick->taken[r] >= WEBHOOK_PER_RECEIVER ||
	    pick->n >= WEBHOOK_IN_FLIGHT_MAX)
		return false;
	pick->taken[r]++;
	pick->receiver[pick->n++] = r;
	return true;
}

static void webhook_pump_one(struct webhook *w, int which, int64_t now)
{
	struct outbox_item items[WEBHOOK_IN_FLIGHT_MAX];
	struct webhook_pick pick = { .w = w, .which = which };
	int i, n, room = webhook_in_flight_max(&w->o) - w->in_flight;

	if (!w->ob[which] || room <= 0 || w->reopen_due)
		return;
	n = outbox_due_select(w->ob[which], now, items, room, webhook_take, &pick);
	if (n < 0) {
		pr_warn("webhook outbox: %s\n", outbox_error(w->ob[which]));
		return;
	}
	for (i = 0; i < n; i++) {
		webhook_send(w, which, pick.receiver[i], &items[i], now);
		outbox_item_release(&items[i]);
	}
}

static void webhook_pump(struct webhook *w)
{
	int64_t now = (int64_t)wall_us();
	int i;

	webhook_collect(w);
	for (i = 0; i < WEBHOOK_OB__COUNT; i++)
		webhook_pump_one(w, i, now);
}

/* Alerts waiting in every outbox, or -errno. */
static int64_t webhook_depth(struct webhook *w)
{
	int64_t total = 0, d;
	int i;

	for (i = 0; i < WEBHOOK_OB__COUNT; i++) {
		if (!w->ob[i])
			continue;
		d = outbox_depth(w->ob[i]);
		if (d < 0)
			return d;
		total += d;
	}
	return total;
}

/* A row for one of this sender's URLs (a replaced sender leaves the
 * others to the one that replaced it). */
static bool webhook_is_mine(void *ctx, const char *target)
{
	return target && webhook_receiver_of(ctx, target) >= 0;
}

/* The earliest time a waiting alert for this sender is due, -1 if none. */
static int64_t webhook_next_due(struct webhook *w)
{
	int64_t first = -1, due;
	int i;

	for (i = 0; i < WEBHOOK_OB__COUNT; i++) {
		due = w->ob[i] ? outbox_next_due_select(w->ob[i], webhook_is_mine, w) : -1;
		if (due >= 0 && (first < 0 || due < first))
			first = due;
	}
	return first;
}

/* Claims the alert and queues it for every receiver in @ob: 1 queued, 0
 * suppressed (a repeat within the cooldown), -errno. */
static int webhook_queue(struct webhook *w, struct outbox *ob, const char *key,
			 const char *order, unsigned int flags, const char *body,
			 size_t body_len, int64_t now)
{
	char idem[OUTBOX_KEY_LEN + 1];
	int i, rc = outbox_claim(ob, key, now, idem);

	for (i = 0; rc == 1 && i < w->o.n_webhooks; i++) {
		int put = outbox_put_ordered(ob, w->o.webhooks[i], idem, order,
					     flags, body, body_len, now);

		if (put < 0)
			rc = put;
	}
	return rc;
}

/* Why [MAIN]'s write failed with @rc: its file system's probe first, since
 * SQLite's "disk I/O error" may hide either cause. */
static enum webhook_fault webhook_fault_of(const struct webhook *w, int rc)
{
	int probe;

	if (!w->o.db_path || w->main_in_memory)
		return WEBHOOK_FAULT_FOR_RUN;   /* no file to come back to */
	probe = tw_fs_writable(w->o.db_path);
	if (probe == -EROFS)
		return WEBHOOK_FAULT_READ_ONLY;
	if (rc == -ENOSPC || probe == -ENOSPC || probe == -EDQUOT)
		return WEBHOOK_FAULT_FULL;
	return WEBHOOK_FAULT_FOR_RUN;
}

/* The outbox's bounds from the options: the file's, the one in memory
 * (no usable file) and the overflow's alike. */
static struct outbox_opts webhook_outbox_opts(const struct output_opts *o)
{
	return (struct outbox_opts){ .cooldown_s = o->webhook_cooldown_s,
				     .max_rows = o->webhook_outbox_max };
}

/* The first write that fails (with @rc) moves new alerts to memory, said
 * once per failure: until the file takes data again when its file system
 * is read-only or full, else for the run. */
static struct outbox *webhook_overflow(struct webhook *w, int rc)
{
	struct outbox_opts oo = webhook_outbox_opts(&w->o);
	char err[256];

	if (w->main_fault == WEBHOOK_FAULT_NONE) {
		w->main_fault = webhook_fault_of(w, rc);
		pr_warn("webhook outbox: %s; new alerts are kept in memory %s\n",
			outbox_error(w->ob[WEBHOOK_OB_MAIN]),
			w->main_fault == WEBHOOK_FAULT_FOR_RUN ? "for this run" :
			"until the file can be written again");
	}
	if (w->ob[WEBHOOK_OB_OVERFLOW])
		return w->ob[WEBHOOK_OB_OVERFLOW];
	if (outbox_open(NULL, &oo, &w->ob[WEBHOOK_OB_OVERFLOW], err, sizeof(err)) < 0) {
		pr_warn("webhook outbox: %s\n", err);
		return NULL;
	}
	return w->ob[WEBHOOK_OB_OVERFLOW];
}

static void webhook_stats_add(struct outbox_stats *sum, const struct outbox *ob)
{
	const struct outbox_stats *st = ob ? outbox_stats(ob) : NULL;

	if (!st)
		return;
	sum->delivered += st->delivered;
	sum->failed += st->failed;
	sum->dropped += st->dropped;
}

/* @ob, the file (opened again, or [MAIN] itself after a full disk), takes
 * over from the memory outbox, whose rows it now holds, and from the old
 * connection. */
static void webhook_take_over(struct webhook *w, struct outbox *ob, int moved)
{
	int i;

	/* the file opened again: the old connection's outcomes it could not
	 * write are the new one's (a row delivered meanwhile stays done) */
	if (ob != w->ob[WEBHOOK_OB_MAIN] &&
	    outbox_adopt_outcomes(ob, w->ob[WEBHOOK_OB_MAIN]) < 0)
		pr_warn("webhook outbox: out of memory: alerts delivered during the fault may be sent again\n");
	for (i = 0; i < WEBHOOK_OB__COUNT; i++) {
		if (w->ob[i] == ob)
			continue;
		webhook_stats_add(&w->closed, w->ob[i]);
		outbox_close(w->ob[i]);
		w->ob[i] = NULL;
	}
	w->ob[WEBHOOK_OB_MAIN] = ob;
	w->main_fault = WEBHOOK_FAULT_NONE;
	pr_info("webhook outbox %s: writable again; %d alert%s kept in memory moved into it\n",
		w->o.db_path, moved, moved == 1 ? "" : "s");
}

/* The file to move what memory holds into (see enum webhook_fault). */
static struct outbox *webhook_file(struct webhook *w)
{
	struct outbox_opts oo = webhook_outbox_opts(&w->o);
	struct outbox *ob;
	char err[256];

	if (w->main_fault == WEBHOOK_FAULT_FULL)
		return w->ob[WEBHOOK_OB_MAIN];
	/* the file there may be a new one (a repaired file system mounted
	 * at the path): the agent's lease on it first */
	if (inventory_lease_follow(w->o.db_path, err, sizeof(err)) < 0 ||
	    outbox_open(w->o.db_path, &oo, &ob, err, sizeof(err)) < 0) {
		pr_debug("webhook outbox: %s\n", err);
		return NULL;
	}
	return ob;
}

/* A file system turned read-only or full (see the top). Once it takes
 * data, requests under way finish first (no new ones: webhook_pump_one): a
 * reply must find its row in the outbox that handed it out. A move the
 * disk is still too full for changes nothing; it is tried again with the
 * next probe. */
static void webhook_recover(struct webhook *w, uint64_t now_us)
{
	struct outbox *ob;
	int moved = 0;

	if (w->main_fault != WEBHOOK_FAULT_READ_ONLY &&
	    w->main_fault != WEBHOOK_FAULT_FULL)
		return;
	if (!w->reopen_due) {
		if (now_us - w->reopened_us < WEBHOOK_REOPEN_US)
			return;
		w->reopened_us = now_us;
		if (tw_fs_writable(w->o.db_path))
			return;
		w->reopen_due = true;
	}
	webhook_collect(w);
	if (w->in_flight)
		return;
	w->reopen_due = false;
	if (!(ob = webhook_file(w)))
		return;
	if (w->ob[WEBHOOK_OB_OVERFLOW])
		moved = outbox_move(w->ob[WEBHOOK_OB_OVERFLOW], ob);
	if (moved < 0) {
		/* still full: said once already, when it filled */
		tw_log(moved == -ENOSPC ? TW_LOG_DEBUG : TW_LOG_WARN,
		       "webhook outbox: %s; alerts stay in memory\n", outbox_error(ob));
		if (ob != w->ob[WEBHOOK_OB_MAIN])
			outbox_close(ob);
		return;
	}
	webhook_take_over(w, ob, moved);
}

/* --- the sink */

static int webhook_event(struct sink *s, const struct event *ev,
			 const char *json, size_t len)
{
	struct webhook *w = (struct webhook *)s;
	char key[WEBHOOK_DEDUP_MAX], order[WEBHOOK_DEDUP_MAX];
	int64_t now = (int64_t)wall_us();
	const char *body = json;
	size_t body_len = len;
	struct outbox *ob;
	int rc = -EIO;

	if (!webhook_selects(w->o.webhook_events, ev))
		return 0;
	order_key(ev, order, sizeof(order));
	dedup_key(ev, order, key, sizeof(key));
	if (w->o.webhook_format == WEBHOOK_FORMAT_SLACK) {
		body = webhook_text_slack(&w->text, ev, json, len, &body_len);
		if (!body)
			return -ENOMEM;
	}
	/* once writes failed, the overflow takes every new alert */
	ob = w->main_fault ? webhook_overflow(w, 0) : w->ob[WEBHOOK_OB_MAIN];
	rc = webhook_queue(w, ob, key, order, put_flags(ev), body, body_len, now);
	if (rc < 0 && !w->main_fault && (ob = webhook_overflow(w, rc)))
		rc = webhook_queue(w, ob, key, order, put_flags(ev), body, body_len, now);
	if (rc < 0) {
		pr_warn("webhook outbox: %s: the alert is not queued\n", outbox_error(ob));
		return rc;
	}
	if (rc == 0)
		w->suppressed++;
	webhook_pump(w);
	return 0;
}

static void webhook_tick(struct sink *s, uint64_t now_us)
{
	webhook_recover((struct webhook *)s, now_us);
	webhook_pump((struct webhook *)s);
}

static void webhook_counters(struct sink *s, struct counter_values *cv)
{
	struct webhook *w = (struct webhook *)s;
	struct outbox_stats sum = w->closed;
	int64_t depth = webhook_depth(w);
	int i;

	for (i = 0; i < WEBHOOK_OB__COUNT; i++)
		webhook_stats_add(&sum, w->ob[i]);
	counter_set(cv, COUNTER_WEBHOOK_DELIVERED, sum.delivered);
	counter_set(cv, COUNTER_WEBHOOK_RETRIED, w->retried);
	counter_set(cv, COUNTER_WEBHOOK_FAILED, sum.failed);
	counter_set(cv, COUNTER_WEBHOOK_DROPPED, sum.dropped);
	counter_set(cv, COUNTER_WEBHOOK_SUPPRESSED, w->suppressed);
	counter_set(cv, COUNTER_OUTBOX_DEPTH, depth > 0 ? (uint64_t)depth : 0);
}

/* Says what is left at exit: the file's rows for this sender's URLs are
 * sent by the next run
 * (those delivered too, when their removal could not be written); what
 * only memory holds is lost, and why it was there. */
static void webhook_say_left(struct webhook *w)
{
	bool main_is_file = w->o.db_path && !w->main_in_memory;
	struct outbox *main_ob = w->ob[WEBHOOK_OB_MAIN];
	/* its own: after a reload the file also holds the rows of the
	 * sender that replaced this one */
	int64_t in_main = outbox_depth_select(main_ob, webhook_is_mine, w), unremoved;
	int64_t in_memory = w->ob[WEBHOOK_OB_OVERFLOW] ?
			    outbox_depth(w->ob[WEBHOOK_OB_OVERFLOW]) : 0;

	if (!main_is_file)
		in_memory += in_main > 0 ? in_main : 0;
	if (main_is_file && in_main > 0)
		pr_warn("webhook: %lld alert%s not delivered yet; they stay in the outbox for the next run\n",
			(long long)in_main, in_main == 1 ? "" : "s");
	outbox_flush(main_ob);   /* a last try, before counting what it left */
	unremoved = main_is_file ? outbox_unremoved(main_ob) : 0;
	if (unremoved > 0)
		pr_warn("webhook: %lld alert%s delivered (or refused) but not removed from the outbox file (%s); the next run sends %s again, under the same Idempotency-Key\n",
			(long long)unremoved, unremoved == 1 ? "" : "s",
			outbox_error(main_ob), unremoved == 1 ? "it" : "them");
	if (in_memory > 0)
		pr_warn("webhook: %lld alert%s not delivered yet kept in memory only (%s); they are lost\n",
			(long long)in_memory, in_memory == 1 ? "" : "s",
			!w->o.db_path ? "without --db" : w->main_in_memory ?
			"the outbox file could not be opened" :
			"the outbox file could not take them");
}

/* Delivers what it can within drain_ms; webhook_say_left says the rest. */
static void webhook_drain(struct webhook *w)
{
	unsigned ms = w->o.drain_ms ? w->o.drain_ms : WEBHOOK_DRAIN_DEFAULT_MS;
	uint64_t deadline = wall_us() + (uint64_t)ms * 1000;
	int64_t left, due;

	/* looked at once at least, however late this thread runs: whether
	 * it waited is then the outbox's to say, not the clock's */
	do {
		webhook_pump(w);
		left = webhook_depth(w);
		/* the next due time (a scan of the outbox) only when asked */
		if (left <= 0 ||
		    (!w->in_flight && ((due = webhook_next_due(w)) < 0 ||
				       due > (int64_t)deadline))) {
			webhook_say_left(w);
			return;
		}
		usleep(20000);
	} while (wall_us() < deadline);
	/* (debug: whether a close, a reload's too, waited for its drain) */
	pr_debug("webhook: the %u ms drain is over with alerts still to send\n", ms);
	webhook_say_left(w);
}

static void webhook_close(struct sink *s)
{
	struct webhook *w = (struct webhook *)s;

	if (w->pool && w->ob[WEBHOOK_OB_MAIN])
		webhook_drain(w);
	http_pool_free(w->pool);
	outbox_close(w->ob[WEBHOOK_OB_MAIN]);
	outbox_close(w->ob[WEBHOOK_OB_OVERFLOW]);
	if (w->efd >= 0)
		close(w->efd);
	webhook_text_free(&w->text);
	receiver_ca_free(&w->ca);
	free(w->o_strings);
	free(w);
}

/* The same receivers, selection, format, timings, secret and CAs (the
 * files are read again: a rotated secret or CA is a change). */
static bool webhook_unchanged(struct sink *s, const struct output_opts *o)
{
	struct webhook *w = (struct webhook *)s;
	uint8_t secret[WEBHOOK_SECRET_MAX];
	size_t len = 0;
	char err[512];

	if (!sink_strv_same(w->o.webhooks, w->o.n_webhooks, o->webhooks, o->n_webhooks) ||
	    w->o.webhook_events != o->webhook_events ||
	    w->o.webhook_format != o->webhook_format ||
	    w->o.webhook_cooldown_s != o->webhook_cooldown_s ||
	    w->o.webhook_timeout_ms != o->webhook_timeout_ms ||
	    w->o.webhook_retry_max_s != o->webhook_retry_max_s ||
	    w->o.webhook_outbox_max != o->webhook_outbox_max ||
	    !sink_str_same(w->o.webhook_secret_file, o->webhook_secret_file) ||
	    !sink_str_same(w->o.webhook_ca_file, o->webhook_ca_file) ||
	    !receiver_ca_unchanged(o->webhook_ca_file, &w->ca))
		return false;
	if (o->webhook_secret_file &&
	    webhook_secret_load(o->webhook_secret_file, secret, sizeof(secret), &len,
				err, sizeof(err)) < 0)
		return false;   /* opening it again says why */
	return len == w->secret_len && memcmp(secret, w->secret, len) == 0;
}

static const struct sink_ops webhook_ops = {
	.name = "webhook",
	.wants_json = true,
	.event = webhook_event,
	.tick = webhook_tick,
	.unchanged = webhook_unchanged,
	.counters = webhook_counters,
	.close = webhook_close,
};

/* The rows of URLs no longer given go to the URLs given now (see the
 * top). A failure leaves them where they were, unsent, for a later run. */
static void webhook_retarget(struct webhook *w)
{
	int n = outbox_retarget(w->ob[WEBHOOK_OB_MAIN],
				(const char *const *)w->o.webhooks, w->o.n_webhooks,
				(int64_t)wall_us());

	if (n < 0)
		pr_warn("webhook outbox: %s; alerts queued for URLs no longer given stay queued for them, unsent\n",
			outbox_error(w->ob[WEBHOOK_OB_MAIN]));
	else if (n > 0)
		pr_info("webhook: %d alert%s queued for URLs no longer given go to the %d URL%s given now\n",
			n, n == 1 ? "" : "s", w->o.n_webhooks, w->o.n_webhooks == 1 ? "" : "s");
}

static int webhook_setup(struct webhook *w, const struct output_opts *o,
			 char *err, size_t errlen)
{
	struct outbox_opts oo = webhook_outbox_opts(o);
	struct http_pool_opts po = {
		.threads = webhook_in_flight_max(o),
		.timeout_ms = (int)o->webhook_timeout_ms,
		.max_body = 64 * 1024,
		.max_queued = webhook_in_flight_max(o),
	};
	int rc;

	if (o->webhook_secret_file &&
	    webhook_secret_load(o->webhook_secret_file, w->secret, sizeof(w->secret),
				&w->secret_len, err, errlen) < 0)
		return -EINVAL;
	if (receiver_ca_load(o->webhook_ca_file, "webhook", &w->ca, err, errlen) < 0)
		return -EINVAL;
	po.ca_pem = w->ca.pem;
	po.ca_pem_len = w->ca.len;
	w->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->efd < 0) {
		rc = -errno;
		snprintf(err, errlen, "eventfd: %s", strerror(errno));
		return rc;
	}
	po.notify_fd = w->efd;
	rc = outbox_open(o->db_path, &oo, &w->ob[WEBHOOK_OB_MAIN], err, errlen);
	if (rc < 0 && o->db_path) {
		/* Like the inventory: a database that cannot be used costs
		 * durability, not the alerts of this run. */
		pr_warn("webhook outbox: %s; keeping it in memory (alerts not delivered before a restart are lost)\n", err);
		w->main_in_memory = true;
		rc = outbox_open(NULL, &oo, &w->ob[WEBHOOK_OB_MAIN], err, errlen);
	}
	if (rc < 0)
		return rc;
	webhook_retarget(w);
	return http_pool_new(&po, &w->pool, err, errlen);
}

int webhook_open(const struct output_opts *o, struct sink_set *set,
		 char *err, size_t errlen)
{
	struct webhook *w;
	int rc;

	if (!o->n_webhooks)
		return 0;
	w = calloc(1, sizeof(*w));
	if (!w) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	w->base.ops = &webhook_ops;
	w->efd = -1;
	w->rng = (uint32_t)wall_us() | 1;
	webhook_text_init(&w->text);
	rc = output_opts_copy(&w->o, &w->o_strings, o, err, errlen);
	if (rc == 0)
		rc = webhook_setup(w, &w->o, err, errlen);
	if (rc < 0) {
		webhook_close(&w->base);
		return rc;
	}
	return sink_set_add(set, &w->base, err, errlen);
}
