// SPDX-License-Identifier: MIT
/*
 * The pipeline's flow-facing half: decides which flows are TLS, feeds their
 * bytes to a TLS parser per connection, and hands every decided handshake
 * to judge.c. Memory per connection is released as soon as the handshake
 * is decided; the flow entry stays (FLOW_DONE) so later packets are cheap.
 */
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "common/grow.h"
#include "common/log.h"
#include "pipeline_priv.h"
#include "tls/starttls.h"

/* Memory handed back to the kernel (malloc_trim) once the undecided
 * handshakes hold this much less than at the last mark (or a quarter of
 * the budget, when that is less): after a flood, the agent's RSS comes
 * down instead of staying at its peak. */
#define PIPELINE_TRIM_BYTES (8u << 20)

struct conn {
	struct tls_conn *tls;
	TAILQ_ENTRY(conn) lru;         /* in pl->conns.lru while linked */
	struct flow *flow;
	size_t mem;                    /* charged to pl->conns.bytes */
	bool linked;
	struct conn_server *server;    /* what the server's library said */
	uint64_t defer_until_us;       /* decided, waiting for the server's
					* view of an alert (0: not waiting) */
	TAILQ_ENTRY(conn) waiting;     /* in pl->conns.waiting meanwhile */
	/* each side's first bytes while they are too few to say what the
	 * flow is: a hello written a few bytes at a time, a Certificate
	 * whose next message has not come (tls_sniff) */
	struct sniff_hold {
		uint8_t *p;
		size_t len, cap;
	} held[2];
	/* before the TLS connection: a plaintext preamble (STARTTLS) */
	struct tls_preamble *pre;
};

/* The index in @f->ep of its client; 0 while no hello named one. */
static int flow_client(const struct flow *f)
{
	return f->client < 0 ? 0 : f->client;
}

/* --- the connection budget (pipeline_opts.max_conn_bytes) */

static void conn_unlink(struct pipeline *pl, struct conn *c)
{
	struct conn_lru *l = &pl->conns;

	if (!c->linked)
		return;
	TAILQ_REMOVE(&l->lru, c, lru);
	c->linked = false;
	l->bytes -= c->mem;
}

/* (Re)charges @c at what it holds now, as the most recently active. */
static void conn_charge(struct pipeline *pl, struct conn *c)
{
	struct conn_lru *l = &pl->conns;

	conn_unlink(pl, c);
	c->mem = sizeof(*c) + (c->tls ? tls_conn_mem(c->tls) : 0) +
		 (c->pre ? sizeof(*c->pre) : 0) + conn_server_mem(c->server) +
		 c->held[0].cap + c->held[1].cap;
	TAILQ_INSERT_HEAD(&l->lru, c, lru);
	c->linked = true;
	l->bytes += c->mem;
	if (l->bytes > l->trim_mark)
		l->trim_mark = l->bytes;
}

/* @c no longer waits (reported, or freed). */
static void conn_undefer(struct pipeline *pl, struct conn *c)
{
	struct conn_lru *l = &pl->conns;

	if (!c->defer_until_us)
		return;
	TAILQ_REMOVE(&l->waiting, c, waiting);
	c->defer_until_us = 0;
	l->deferred--;
}

static void conn_free(struct pipeline *pl, struct conn *c)
{
	if (!c)
		return;
	conn_unlink(pl, c);
	conn_undefer(pl, c);
	conn_server_free(c->server);
	tls_conn_free(c->tls);
	free(c->pre);
	free(c->held[0].p);
	free(c->held[1].p);
	free(c);
}

/* The flow's tunnel as the connection's: src on the client's side, dirs
 * saying which of its directions came through it. */
static void conn_tunnel(const struct flow *f, int client, struct tw_tunnel *t)
{
	uint8_t dirs = f->tunnel.dirs;

	*t = f->tunnel;
	if (!t->type)
		return;
	if (f->tunnel_from != client) {
		t->src = f->tunnel.dst;
		t->dst = f->tunnel.src;
	}
	t->dirs = (uint8_t)(((dirs >> client) & 1 ? TW_TUNNEL_TO_SERVER : 0) |
			    ((dirs >> !client) & 1 ? TW_TUNNEL_TO_CLIENT : 0));
}

/* The record is complete: fill in what only the flow knows, judge it. */
static void conn_report(struct pipeline *pl, struct flow *f, struct conn *c)
{
	struct hs_record *rec = tls_conn_record(c->tls);
	int client = flow_client(f);

	rec->client = f->ep[client];
	rec->server = f->ep[!client];
	conn_tunnel(f, client, &rec->tunnel);
	rec->start_us = f->first_ts_us;
	followed_note_report(&pl->followed, &rec->server, rec,
			     conn_server_has_chain(c->server));
	conn_server_apply(c->server, rec);
	judge_record(pl, rec);
}

/* @f's handshake is decided: the source stops copying it (at the end of
 * the turn), its later bytes here are dropped. */
static void flow_decided(struct pipeline *pl, struct flow *f)
{
	done_queue_add(pl, f, flow_client(f));
	flow_mark_done(pl->flows, f);
}

static void conn_finish(struct pipeline *pl, struct flow *f, struct conn *c)
{
	bool decided = f->state == FLOW_DONE; /* at its deferral (conn_defer) */

	conn_report(pl, f, c);
	conn_free(pl, c);
	f->user = NULL;
	if (!decided)
		flow_decided(pl, f);
}

/* A handshake of @f ends for @why: did the source lose it before? (A FIN
 * or RST says it did not; a restart says it did.) One decided and waiting
 * (conn_defer, FLOW_DONE) was not: its flow was marked done at the
 * decision, so the source stopped following it on purpose. */
static bool conn_lost_by_source(const struct pipeline *pl, const struct flow *f,
				enum flow_end_reason why)
{
	const struct pipeline_opts *o = &pl->opts;
	int client = flow_client(f);

	if (f->state == FLOW_DONE)
		return false;
	if (why == FLOW_END_RESTARTED)
		return true;
	if (why == FLOW_END_FIN || why == FLOW_END_RST || !o->flow_followed)
		return false;
	return !o->flow_followed(o->flow_done_ctx, &f->ep[client], &f->ep[!client]);
}

/*
 * Over the budget: the least recently active undecided handshakes (not
 * @keep, which is being fed) are reported incomplete now, and the kernel
 * stops copying them. A flood of clients that send a hello and wait is
 * what this takes first; a handshake in progress is active.
 */
static void conn_enforce_budget(struct pipeline *pl, const struct conn *keep,
				uint64_t ts_us)
{
	struct conn_lru *l = &pl->conns;

	struct conn *old;

	while (l->bytes > pl->opts.max_conn_bytes &&
	       (old = TAILQ_LAST(&l->lru, conn_list)) && old != keep) {
		l->evicted++;
		old->flow->user_flags |= PL_FLOW_EVICTED;
		if (!old->tls) {    /* in its preamble or sniff: not followed */
			old->flow->user = NULL;
			flow_mark_ignored(pl->flows, old->flow);
			conn_free(pl, old);
			continue;
		}
		pl->flows_lost += conn_lost_by_source(pl, old->flow, FLOW_END_EVICTED);
		tls_conn_close(old->tls, false, ts_us);
		conn_finish(pl, old->flow, old);
	}
}

/* Acts on what the first bytes of a flow are (@sniff): TLS or not, and who
 * is the client. Returns the new connection, or NULL when the flow is not
 * followed. */
static struct conn *conn_start(struct pipeline *pl, struct flow *f, int from,
			       enum tls_sniff sniff)
{
	struct summary *sum = &pl->sum;
	struct conn *c;

	/* A hello names its sender the client whoever opened the TCP
	 * connection (an FTPS data connection in active mode is opened by
	 * the FTP server, and the FTP client sends the hello: RFC 4217).
	 * The messages of a capture that starts later are weaker evidence
	 * than a SYN. */
	switch (sniff) {
	case TLS_SNIFF_SSLV2_HELLO:
		sum->problems[SUM_SSLV2_HELLOS]++;
		/* fall through */
	case TLS_SNIFF_CLIENT_HELLO:
		flow_set_client(f, from);
		break;
	case TLS_SNIFF_CLIENT_HANDSHAKE:
		if (f->client < 0)
			flow_set_client(f, from);
		break;
	case TLS_SNIFF_SERVER_HANDSHAKE:
		if (f->client < 0)
			flow_set_client(f, !from);
		break;
	case TLS_SNIFF_MIDSTREAM:
		/* its handshake was before: nothing to read, and not a flow
		 * that is not TLS */
		sum->problems[SUM_MIDSTREAM_TLS_FLOWS]++;
		flow_mark_ignored(pl->flows, f);
		return NULL;
	case TLS_SNIFF_NOT_TLS:
	case TLS_SNIFF_NEED_MORE:   /* the stream ended shorter than a record header */
	default:
		sum->problems[SUM_NON_TLS_FLOWS]++;
		flow_mark_ignored(pl->flows, f);
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (c)
		c->tls = tls_conn_new(&pl->opts.tls);
	if (!c || !c->tls) {
		pr_warn("out of memory: a TLS connection is not followed\n");
		conn_free(pl, c);
		flow_mark_ignored(pl->flows, f);
		return NULL;
	}
	tls_conn_set_fp_cache(c->tls, pl->fp_cache);
	sum->flows++;
	c->flow = f;
	f->user = c;
	return c;
}

/* The flow is not TLS: @c (may be NULL) goes, later packets cost a lookup. */
static void conn_not_tls(struct pipeline *pl, struct flow *f, struct conn *c)
{
	conn_free(pl, c);
	f->user = NULL;
	pl->sum.problems[SUM_NON_TLS_FLOWS]++;
	flow_mark_ignored(pl->flows, f);
}

/* The flow's first bytes are not TLS: look for a ClientHello after a
 * plaintext preamble (STARTTLS). Bytes the other side had sent, too few
 * to sniff, go: a plaintext protocol does not start with a TLS record's
 * first byte. Returns the holder, or NULL when the flow is not followed. */
static struct conn *conn_preamble_begin(struct pipeline *pl, struct flow *f,
					struct conn *hold)
{
	if (!hold)
		hold = calloc(1, sizeof(*hold));
	if (hold && !hold->pre)
		hold->pre = calloc(1, sizeof(*hold->pre));
	if (!hold || !hold->pre) {
		pr_warn("out of memory: a flow's preamble is not followed\n");
		conn_not_tls(pl, f, hold);
		return NULL;
	}
	for (int i = 0; i < 2; i++) {
		free(hold->held[i].p);
		hold->held[i] = (struct sniff_hold){ 0 };
	}
	hold->flow = f;
	f->user = hold;
	return hold;
}

/*
 * Bytes of a flow in its preamble. Returns the TLS connection once a
 * ClientHello starts in them (*@p and *@n then hold the bytes from the
 * hello on), else NULL.
 */
static struct conn *conn_preamble(struct pipeline *pl, struct flow *f, int from,
				  const uint8_t **p, size_t *n, uint64_t ts_us)
{
	struct conn *hold = f->user, *c;
	size_t at = 0;
	uint8_t protocol;

	switch (tls_preamble_feed(hold->pre, from, *p, *n, &at)) {
	case TLS_PREAMBLE_MORE:
		conn_charge(pl, hold);
		conn_enforce_budget(pl, hold, ts_us);
		return NULL;
	case TLS_PREAMBLE_NOT_TLS:
		conn_not_tls(pl, f, hold);
		return NULL;
	case TLS_PREAMBLE_HELLO:
	default:
		break;
	}
	protocol = tls_preamble_protocol(hold->pre, from);
	conn_free(pl, hold);
	f->user = NULL;
	c = conn_start(pl, f, from, TLS_SNIFF_CLIENT_HELLO);
	if (c)
		tls_conn_record(c->tls)->starttls = protocol;
	*p += at;
	*n -= at;
	return c;
}

/* Appends @n bytes to @h, its room doubled as needed (bytes that come one
 * at a time are not copied again each time). False when out of memory. */
static bool sniff_hold_add(struct sniff_hold *h, const uint8_t *p, size_t n)
{
	if (tw_grow(&h->p, &h->cap, 1, h->len, n, 64, TW_GROW_NO_CAP) < 0)
		return false;
	memcpy(h->p + h->len, p, n);
	h->len += n;
	return true;
}

/* This side's first bytes say nothing yet: they wait in @hold (made when
 * NULL), charged to the connection budget. @joined (empty, or the side's
 * held bytes with the new ones, taken out of the hold) goes back in;
 * otherwise @p, @n are copied. */
static void conn_hold(struct pipeline *pl, struct flow *f, struct conn *hold,
		      int from, struct sniff_hold joined, const uint8_t *p,
		      size_t n, uint64_t ts_us)
{
	struct sniff_hold *h;

	if (!hold && !(hold = calloc(1, sizeof(*hold)))) {
		free(joined.p);
		flow_mark_ignored(pl->flows, f);
		return;
	}
	hold->flow = f;
	f->user = hold;
	h = &hold->held[from];
	if (joined.p) {
		*h = joined;
	} else if (!sniff_hold_add(h, p, n)) {
		pr_warn("out of memory: a flow's first bytes are not followed\n");
		conn_not_tls(pl, f, hold);
		return;
	}
	conn_charge(pl, hold);
	conn_enforce_budget(pl, hold, ts_us);
}

/* The sniff of side @from decided the flow is TLS: its connection starts,
 * and gets the bytes the other side had held first (they came before).
 * @hold goes. */
static struct conn *conn_begin_tls(struct pipeline *pl, struct flow *f,
				   struct conn *hold, int from,
				   enum tls_sniff sniff, uint64_t ts_us)
{
	struct sniff_hold other = { 0 };
	struct conn *c;

	if (hold) {
		other = hold->held[!from];
		hold->held[!from] = (struct sniff_hold){ 0 };
		conn_free(pl, hold);
		f->user = NULL;
	}
	c = conn_start(pl, f, from, sniff);
	if (c && other.len)
		tls_conn_feed(c->tls, from != f->client, other.p, other.len, ts_us);
	free(other.p);
	return c;
}

/*
 * Returns the connection to feed the current bytes (*@p, *@n) to, or NULL
 * when they were held (too few to sniff; or a plaintext preamble) or the
 * flow is not followed. Bytes held before, of either side, are fed to the
 * new connection here; when this side's were, so are the current ones
 * (*@p is then NULL, *@n 0: the joined bytes are freed).
 */
static struct conn *conn_sniff(struct pipeline *pl, struct flow *f, int from,
			       const uint8_t **p, size_t *n, uint64_t ts_us)
{
	struct conn *hold = f->user, *c;
	struct sniff_hold joined = { 0 };
	enum tls_sniff sniff;

	if (hold && hold->pre)
		return conn_preamble(pl, f, from, p, n, ts_us);
	if (hold && hold->held[from].len) {
		struct sniff_hold *h = &hold->held[from];

		if (!sniff_hold_add(h, *p, *n)) {
			pr_warn("out of memory: a flow's first bytes are not followed\n");
			conn_not_tls(pl, f, hold);
			return NULL;
		}
		joined = *h;
		*p = joined.p;
		*n = joined.len;
		*h = (struct sniff_hold){ 0 };
	}
	sniff = tls_sniff(*p, *n);
	if (sniff == TLS_SNIFF_NEED_MORE) {
		conn_hold(pl, f, hold, from, joined, *p, *n, ts_us);
		return NULL;
	}
	if (sniff == TLS_SNIFF_NOT_TLS) {
		hold = conn_preamble_begin(pl, f, hold);
		c = hold ? conn_preamble(pl, f, from, p, n, ts_us) : NULL;
	} else {
		c = conn_begin_tls(pl, f, hold, from, sniff, ts_us);
	}
	if (joined.p) {
		if (c)
			tls_conn_feed(c->tls, from == f->client, *p, *n, ts_us);
		*p = NULL;
		*n = 0;
		free(joined.p);
	}
	return c;
}

/* The flow ends with first bytes still held: a Certificate whose next
 * message never came is the server's (tls_sniff_final), and its
 * connection is reported; fewer bytes than a sniff say nothing. Returns
 * the connection, or @hold, or NULL (out of memory: @hold went). */
static struct conn *conn_sniff_at_end(struct pipeline *pl, struct flow *f,
				      struct conn *hold, uint64_t ts_us)
{
	for (int side = 0; side < 2; side++) {
		struct sniff_hold h = hold->held[side];
		struct conn *c;

		if (!h.len || tls_sniff_final(h.p, h.len) != TLS_SNIFF_SERVER_HANDSHAKE)
			continue;
		hold->held[side] = (struct sniff_hold){ 0 };
		c = conn_begin_tls(pl, f, hold, side, TLS_SNIFF_SERVER_HANDSHAKE, ts_us);
		if (c)
			tls_conn_feed(c->tls, side == f->client, h.p, h.len, ts_us);
		free(h.p);
		return c;
	}
	return hold;
}

/* Whether @rec resumed a session on a server whose library names its
 * ALPN protocol (learned from an earlier connection: a resumed one serves
 * no chain). */
static bool conn_resumed_on_followed(const struct pipeline *pl,
				     const struct conn *c,
				     const struct hs_record *rec)
{
	const struct flow *f = c->flow;
	int client = flow_client(f);

	return rec->resumed && followed_has(&pl->followed, &f->ep[!client]);
}

/*
 * A handshake decided failed by an alert from the client, or finished in
 * TLS 1.3 with ALPN offered, on a server whose library is followed: its
 * library will say which alert it read, or which protocol it selected
 * (the view comes with the server's close). Waits for it, at most
 * PIPELINE_SERVER_ALERT_WAIT_US. True while waiting.
 */
static bool conn_defer(struct pipeline *pl, struct conn *c, uint64_t ts_us)
{
	const struct hs_record *rec = tls_conn_record(c->tls);

	if (c->defer_until_us)
		return true;
	if (!conn_server_awaits_alert(c->server, rec) &&
	    !(pl->server_alpn &&
	      conn_server_awaits_alpn(c->server, conn_resumed_on_followed(pl, c, rec), rec)))
		return false;
	c->defer_until_us = ts_us + PIPELINE_SERVER_ALERT_WAIT_US;
	TAILQ_INSERT_TAIL(&pl->conns.waiting, c, waiting);
	pl->conns.deferred++;
	/* What it waits for is read at SSL_free and named by the server's
	 * close, which the kernel binds on a done flow too (tw_handle); its
	 * application data is of no use: the kernel stops copying it now,
	 * not at the report (up to a second and --dir-budget later). */
	flow_decided(pl, c->flow);
	return true;
}

/*
 * The deferred handshakes whose wait is over are reported: from the head
 * of their list, in the order they were deferred, which is the order
 * their waits end (one wait added to times that only go forward), so the
 * first still waiting ends the walk: a tick costs what it reports.
 */
static void conn_defer_expire(struct pipeline *pl, uint64_t now_us)
{
	struct conn *c;

	while ((c = TAILQ_FIRST(&pl->conns.waiting)) && c->defer_until_us <= now_us)
		conn_finish(pl, c->flow, c);
}

static void on_data(void *ctx, struct flow *f, int from, const uint8_t *p,
		    size_t n, uint64_t ts_us)
{
	struct pipeline *pl = ctx;
	struct conn *c = f->user;

	if (f->state != FLOW_NEW && f->state != FLOW_TRACKED)
		return;
	if (!c || !c->tls)
		c = conn_sniff(pl, f, from, &p, &n, ts_us);
	if (!c)
		return;
	tls_conn_feed(c->tls, from == f->client, p, n, ts_us);
	if (tls_conn_decided(c->tls) && !conn_defer(pl, c, ts_us)) {
		conn_finish(pl, f, c);
		return;
	}
	conn_charge(pl, c);
	conn_enforce_budget(pl, c, ts_us);
}

void pipeline_server_view(void *ctx, const struct tw_server_view *v)
{
	struct pipeline *pl = ctx;
	struct flow *f = flow_table_find(pl->flows, &v->client, &v->server);
	struct conn *c = f ? f->user : NULL;

	/* only a resumed handshake's ALPN wait asks */
	if (pl->server_alpn && followed_note_view(&pl->followed, v))
		pr_warn("out of memory: a server's resumed handshakes are reported without waiting for their ALPN protocol\n");
	if (!c || !c->tls) {
		/* the ALPN of a connection that outlived its report's wait
		 * is expected to come late: not counted */
		if (v->n_certs || v->chain_lost || v->has_alert || v->has_alert_sent)
			pl->views_unmatched++;
		return;
	}
	if (conn_server_add(&c->server, v)) {
		pr_warn("out of memory: the server's view of a connection is lost\n");
		return;
	}
	if (c->defer_until_us && (v->has_alert || v->has_alert_sent || v->alpn_len)) {
		conn_finish(pl, f, c);
		return;
	}
	conn_charge(pl, c);
}

static void on_gap(void *ctx, struct flow *f, int from, uint64_t ts_us)
{
	struct pipeline *pl = ctx;
	struct conn *c = f->user;

	if (c && c->pre) {
		/* a preamble with a hole (live: the kernel gave up on it) */
		conn_not_tls(pl, f, c);
		return;
	}
	pl->sum.problems[SUM_GAPS]++;
	if (c && c->tls)
		tls_conn_gap(c->tls, from == f->client, ts_us);
}

static void on_half_close(void *ctx, struct flow *f, int from, uint64_t ts_us)
{
	const struct pipeline_opts *o = &((struct pipeline *)ctx)->opts;
	struct conn *c = f->user;

	if ((f->user_flags & PL_FLOW_MARKED) && o->flow_fin)
		o->flow_fin(o->flow_done_ctx, &f->ep[from], &f->ep[!from]);
	if (c && c->tls)
		tls_conn_half_close(c->tls, from == f->client, ts_us);
}

static void on_end(void *ctx, struct flow *f, enum flow_end_reason why,
		   uint64_t ts_us)
{
	struct pipeline *pl = ctx;
	struct conn *c = f->user;

	/* a flow whose handshake the memory budget evicted is counted once */
	if (why == FLOW_END_EVICTED && (f->user_flags & PL_FLOW_EVICTED))
		pl->conns.evicted_again++;
	done_queue_flow_ends(pl, f, flow_client(f), why);
	if (c && !c->tls && !c->pre)
		c = conn_sniff_at_end(pl, f, c, ts_us);
	f->user = NULL;
	if (!c)
		return;
	if (!c->tls) /* ended before its first bytes said what it is */
		pl->sum.problems[SUM_NON_TLS_FLOWS]++;
	if (c->tls) {
		pl->flows_lost += conn_lost_by_source(pl, f, why);
		tls_conn_close(c->tls, why == FLOW_END_FIN || why == FLOW_END_RST,
			       ts_us);
		conn_report(pl, f, c);
	}
	conn_free(pl, c);
}

static const struct flow_callbacks pipeline_flow_callbacks = {
	.data = on_data,
	.gap = on_gap,
	.half_close = on_half_close,
	.end = on_end,
};

struct pipeline *pipeline_new(const struct pipeline_opts *o)
{
	struct pipeline *pl = calloc(1, sizeof(*pl));

	if (!pl)
		return NULL;
	TAILQ_INIT(&pl->conns.lru);
	TAILQ_INIT(&pl->conns.waiting);
	pl->opts = *o;
	if (!pl->opts.max_conn_bytes)
		pl->opts.max_conn_bytes = PIPELINE_DEFAULT_CONN_BYTES;
	if (!pl->opts.observed)
		pl->opts.observed = "passive";
	pl->source = "";
	pl->flows = flow_table_new(&pl->opts.flow, &pipeline_flow_callbacks, pl);
	pl->certs = cert_cache_new(0);
	pl->staples = staple_cache_new();
	pl->hosts = host_memo_new();
	pl->cert_events = strmap_new(sizeof(struct cert_seen));
	pl->leaves = distinct_new();
	pl->all_certs = distinct_new();
	pl->fp_cache = tls_fp_cache_new();
	if (o->spikes)
		pl->spikes = spike_detector_new(o->spikes, judge_spike_event, pl);
	if (o->spikes && !pl->spikes) {
		pipeline_free(pl);
		return NULL;
	}
	if (!pl->flows || !pl->certs || !pl->staples || !pl->hosts ||
	    !pl->cert_events || !pl->leaves || !pl->all_certs || !pl->fp_cache) {
		pipeline_free(pl);
		return NULL;
	}
	return pl;
}

void pipeline_free(struct pipeline *pl)
{
	if (!pl)
		return;
	/* Flows end first: their end callbacks still report to the sinks. */
	if (pl->flows)
		flow_table_free(pl->flows);
	hold_release(pl, HOLD_NOW);
	hold_free(pl);
	done_queue_free(pl);
	strmap_free(pl->cert_events);
	followed_free(&pl->followed);
	chain_pins_free(pl);
	distinct_free(pl->leaves);
	distinct_free(pl->all_certs);
	spike_detector_free(pl->spikes);
	host_memo_free(pl->hosts);
	staple_cache_free(pl->staples);
	cert_cache_free(pl->certs);
	tls_fp_cache_free(pl->fp_cache);
	free(pl);
}

void pipeline_emit(struct pipeline *pl, struct event *ev)
{
	ev->source = pl->source;
	if (pl->opts.emit)
		pl->opts.emit(pl->opts.emit_ctx, ev);
}

void pipeline_set_source(struct pipeline *pl, const char *source)
{
	pl->source = source ? source : "";
}

void pipeline_segment(void *ctx, const struct tw_segment *seg)
{
	struct pipeline *pl = ctx;

	if (seg->ts_us > pl->sum.last_ts_us || !pl->sum.has_ts)
		pl->sum.last_ts_us = seg->ts_us;
	pl->sum.has_ts = true;
	flow_table_push(pl->flows, seg);
	judge_tick(pl, seg->ts_us);
}

void pipeline_flush(struct pipeline *pl, uint64_t ts_us)
{
	flow_table_flush(pl->flows, ts_us);
	hold_release(pl, HOLD_WAIT);
}

/* After the undecided handshakes shrank by PIPELINE_TRIM_BYTES (a flood
 * ended or was evicted), free heap goes back to the system. */
static void pipeline_return_memory(struct pipeline *pl)
{
	struct conn_lru *l = &pl->conns;
	size_t drop = pl->opts.max_conn_bytes / 4;

	if (drop > PIPELINE_TRIM_BYTES)
		drop = PIPELINE_TRIM_BYTES;
	if (l->trim_mark < l->bytes + drop)
		return;
	malloc_trim(0);
	l->trim_mark = l->bytes;
}

void pipeline_tick(struct pipeline *pl, uint64_t now_us)
{
	done_queue_flush(pl);
	flow_table_advance(pl->flows, now_us);
	if (pl->conns.deferred)
		conn_defer_expire(pl, now_us);
	pipeline_return_memory(pl);
	judge_tick(pl, now_us);
	cert_health_tick(pl->opts.health);
}

struct summary *pipeline_summary(struct pipeline *pl)
{
	const struct flow_stats *fs = flow_table_stats(pl->flows);

	pl->sum.certificates = distinct_count(pl->all_certs);
	pl->sum.leaf_certificates = distinct_count(pl->leaves);
	pl->sum.problems[SUM_FLOWS_EVICTED] = fs->flows_evicted + pl->conns.evicted -
					      pl->conns.evicted_again;
	pl->sum.problems[SUM_RSTS_IGNORED] = fs->rsts_ignored;
	pl->sum.problems[SUM_FLOWS_REOPENED] = fs->flows_reopened;
	pl->sum.problems[SUM_FLOWS_CLOSED_GAPPED] = fs->flows_closed_gapped;
	pl->sum.problems[SUM_SEGMENTS_AFTER_CLOSE] = fs->segments_after_close;
	return &pl->sum;
}

size_t pipeline_conn_bytes(const struct pipeline *pl)
{
	return pl->conns.bytes;
}

uint64_t pipeline_flows_lost(const struct pipeline *pl)
{
	return pl->flows_lost;
}

const struct flow_stats *pipeline_flow_stats(const struct pipeline *pl)
{
	return flow_table_stats(pl->flows);
}

void pipeline_emit_summary(struct pipeline *pl, const struct summary *sum)
{
	/* Not pipeline_emit(): the summary names its own source ("multiple
	 * files"). */
	struct event ev = {
		.type = EVENT_SUMMARY,
		.ts_us = sum->has_ts ? sum->last_ts_us : EVENT_TS_NONE,
		.source = sum->source,
		.summary = sum,
	};

	if (pl->opts.emit)
		pl->opts.emit(pl->opts.emit_ctx, &ev);
}

struct cert_cache *pipeline_cert_cache(struct pipeline *pl)
{
	return pl->certs;
}

void pipeline_expect_server_alpn(struct pipeline *pl, bool on)
{
	pl->server_alpn = on;
}

uint64_t pipeline_views_unmatched(const struct pipeline *pl)
{
	return pl->views_unmatched;
}
