// SPDX-License-Identifier: MIT
/*
 * The flow table: a chained hash keyed by the unordered pair of endpoints,
 * an LRU list of every flow (idle timeouts and the max_flows cap take from
 * its tail), and a second LRU list of the flows that hold out-of-order data
 * (the global memory cap takes from its tail, so a flow that holds nothing
 * is never evicted for memory it does not use).
 *
 * A packet of a flow the consumer is done with, or ignores, costs one hash
 * lookup and two list moves: no allocation, no copy.
 *
 * Callbacks must not call flow_table_push(), flow_table_flush() or
 * flow_table_free(); flow_mark_done(), flow_mark_ignored() and
 * flow_set_client() are fine from any callback.
 */
#include <stdlib.h>
#include <string.h>

#include "flow_internal.h"
#include "common/log.h"
#include "tlswatch/event.h"

#define FLOW_DEFAULT_MAX_FLOWS   262144
#define FLOW_DEFAULT_OOO_PER_DIR (256u * 1024)
#define FLOW_DEFAULT_OOO_TOTAL   (64ull * 1024 * 1024)
#define FLOW_DEFAULT_IDLE_S      120
#define FLOW_MIN_BUCKETS         256u
#define FLOW_MAX_BUCKETS         (1u << 24)
#define FLOW_US_PER_S            1000000ull
/* How long, in packet time, a flow whose two sides have both sent their
 * FIN waits for a hole before one of them: a retransmission that fills
 * it follows within a round trip or two; live, the kernel forgets the
 * connection at the second FIN already. Then what is missing is a gap
 * and the flow ends (FLOW_END_FIN). README: tlswatch analyze, outcomes. */
#define FLOW_FIN_HOLE_WAIT_US    (2 * FLOW_US_PER_S)

/* --- the two activity lists (<sys/queue.h> TAILQs, as the pipeline's) */

/* Puts @fe on the held-data list when it holds data, off it when not. A
 * flow joins at the head: it just had a packet. */
void flow_ooo_update(struct flow_table *t, struct flow_entry *fe)
{
	bool holds = fe->dir[0].head || fe->dir[1].head;

	if (holds && !fe->on_ooo_list) {
		TAILQ_INSERT_HEAD(&t->ooo, fe, ooo);
		fe->on_ooo_list = true;
	} else if (!holds && fe->on_ooo_list) {
		TAILQ_REMOVE(&t->ooo, fe, ooo);
		fe->on_ooo_list = false;
	}
}

/* --- hash table */

static struct flow_entry *flow_lookup(struct flow_table *t, uint64_t hash,
				      const struct tw_segment *seg, int *from)
{
	struct flow_entry *fe = t->buckets[hash & (t->nbuckets - 1)];

	for (; fe; fe = fe->hnext) {
		if (fe->hash != hash)
			continue;
		if (tw_endpoint_equal(&fe->pub.ep[0], &seg->src) &&
		    tw_endpoint_equal(&fe->pub.ep[1], &seg->dst)) {
			*from = 0;
			return fe;
		}
		if (tw_endpoint_equal(&fe->pub.ep[0], &seg->dst) &&
		    tw_endpoint_equal(&fe->pub.ep[1], &seg->src)) {
			*from = 1;
			return fe;
		}
	}
	return NULL;
}

static void flow_hash_insert(struct flow_table *t, struct flow_entry *fe)
{
	struct flow_entry **b = &t->buckets[fe->hash & (t->nbuckets - 1)];

	fe->hnext = *b;
	*b = fe;
}

static void flow_hash_remove(struct flow_table *t, struct flow_entry *fe)
{
	struct flow_entry **pp = &t->buckets[fe->hash & (t->nbuckets - 1)];

	for (; *pp; pp = &(*pp)->hnext) {
		if (*pp == fe) {
			*pp = fe->hnext;
			return;
		}
	}
}

/* Doubles the bucket array once there are more flows than buckets. On
 * allocation failure the table keeps working with longer chains. */
static void flow_hash_grow(struct flow_table *t)
{
	if (t->stats.flows_active <= t->nbuckets || t->nbuckets >= FLOW_MAX_BUCKETS)
		return;

	uint32_t n = t->nbuckets * 2;
	struct flow_entry **nb = calloc(n, sizeof(*nb));
	if (!nb) {
		pr_warn("flow: cannot grow the hash table to %u buckets\n", n);
		return;
	}
	struct flow_entry **old = t->buckets;
	uint32_t old_n = t->nbuckets;
	t->buckets = nb;
	t->nbuckets = n;
	for (uint32_t i = 0; i < old_n; i++) {
		struct flow_entry *fe = old[i];
		while (fe) {
			struct flow_entry *next = fe->hnext;
			flow_hash_insert(t, fe);
			fe = next;
		}
	}
	free(old);
}

/* --- entries, from slabs */

static struct flow_entry *flow_entry_alloc(struct flow_table *t)
{
	struct flow_entry *fe;

	if (!t->free_entries) {
		struct flow_slab *s = malloc(sizeof(*s));

		if (!s)
			return NULL;
		s->next = t->slabs;
		t->slabs = s;
		for (int i = FLOW_SLAB_ENTRIES - 1; i >= 0; i--) {
			s->e[i].hnext = t->free_entries;
			t->free_entries = &s->e[i];
		}
	}
	fe = t->free_entries;
	t->free_entries = fe->hnext;
	memset(fe, 0, sizeof(*fe));
	return fe;
}

static void flow_entry_release(struct flow_table *t, struct flow_entry *fe)
{
	fe->hnext = t->free_entries;
	t->free_entries = fe;
}

/* --- a flow's life */

/* Ends @fe: a gap for each direction still holding data or short of its
 * FIN (its hole will not be filled now), then the end callback, then the
 * entry is freed. */
static void flow_entry_end(struct flow_table *t, struct flow_entry *fe,
			   enum flow_end_reason why, uint64_t ts_us)
{
	if (fe->ending)
		return;
	for (int from = 0; from < 2; from++) {
		const struct reasm_dir *d = &fe->dir[from];

		if ((d->head || (d->fin && !d->closed)) &&
		    reasm_wants_data(fe, from))
			reasm_give_up(t, fe, from, ts_us);
	}
	fe->ending = true;
	reasm_release(t, fe, 0);
	reasm_release(t, fe, 1);
	/* Out of every list before the callback: whatever the consumer does
	 * in it cannot find this flow again. */
	flow_hash_remove(t, fe);
	TAILQ_REMOVE(&t->lru, fe, lru);
	if (fe->on_ooo_list) {
		TAILQ_REMOVE(&t->ooo, fe, ooo);
		fe->on_ooo_list = false;
	}
	if (fe->closing) {
		TAILQ_REMOVE(&t->closing, fe, closing_link);
		fe->closing = false;
	}
	t->stats.flows_active--;
	if (t->cb.end)
		t->cb.end(t->ctx, &fe->pub, why, ts_us);
	if (why == FLOW_END_FIN || why == FLOW_END_RST)
		flow_closed_add(t, fe);
	flow_entry_release(t, fe);
}

static void flow_evict(struct flow_table *t, struct flow_entry *fe,
		       uint64_t ts_us)
{
	t->stats.flows_evicted++;
	flow_entry_end(t, fe, FLOW_END_EVICTED, ts_us);
}

static struct flow_entry *flow_create(struct flow_table *t, uint64_t hash,
				      const struct tw_segment *seg)
{
	struct flow_entry *oldest;

	while ((oldest = TAILQ_LAST(&t->lru, flow_list)) &&
	       t->stats.flows_active >= t->lim.max_flows)
		flow_evict(t, oldest, seg->ts_us);

	struct flow_entry *fe = flow_entry_alloc(t);
	if (!fe) {
		pr_warn("flow: out of memory for a new flow\n");
		return NULL;
	}
	fe->pub.ep[0] = seg->src;
	fe->pub.ep[1] = seg->dst;
	fe->pub.client = -1;
	fe->pub.state = FLOW_NEW;
	fe->pub.first_ts_us = seg->ts_us;
	fe->pub.last_ts_us = t->now_us;
	fe->hash = hash;
	flow_hash_insert(t, fe);
	TAILQ_INSERT_HEAD(&t->lru, fe, lru);
	t->stats.flows_created++;
	t->stats.flows_active++;
	flow_hash_grow(t);
	return fe;
}

/* A packet of @fe: most recently active now. last_ts_us takes the table's
 * clock (the latest packet time seen) so the LRU list stays sorted by it
 * even when a capture's timestamps step back a little. */
static void flow_touch(struct flow_table *t, struct flow_entry *fe)
{
	fe->pub.last_ts_us = t->now_us;
	if (TAILQ_FIRST(&t->lru) != fe) {
		TAILQ_REMOVE(&t->lru, fe, lru);
		TAILQ_INSERT_HEAD(&t->lru, fe, lru);
	}
	if (fe->on_ooo_list && TAILQ_FIRST(&t->ooo) != fe) {
		TAILQ_REMOVE(&t->ooo, fe, ooo);
		TAILQ_INSERT_HEAD(&t->ooo, fe, ooo);
	}
}

static void flow_expire_idle(struct flow_table *t)
{
	uint64_t idle_us = (uint64_t)t->lim.idle_timeout_s * FLOW_US_PER_S;

	if (t->now_us < idle_us)
		return;
	uint64_t oldest_kept = t->now_us - idle_us;
	struct flow_entry *oldest;

	while ((oldest = TAILQ_LAST(&t->lru, flow_list)) &&
	       oldest->pub.last_ts_us < oldest_kept) {
		t->stats.flows_timed_out++;
		flow_entry_end(t, oldest, FLOW_END_IDLE, t->now_us);
	}
}

/* Ends the flows whose hole before a FIN was not filled within
 * FLOW_FIN_HOLE_WAIT_US of their second FIN, at that time: a gap, then
 * FLOW_END_FIN. */
static void flow_expire_closing(struct flow_table *t)
{
	struct flow_entry *fe;

	while ((fe = TAILQ_FIRST(&t->closing)) &&
	       t->now_us - fe->closing_since_us > FLOW_FIN_HOLE_WAIT_US) {
		t->stats.flows_closed_gapped++;
		flow_entry_end(t, fe, FLOW_END_FIN,
			       fe->closing_since_us + FLOW_FIN_HOLE_WAIT_US);
	}
}

/* Packet time moves only forward; closing flows and closed ones are
 * looked for at every step of it (the oldest is first), idle ones at most
 * once per second. */
static void flow_advance_clock(struct flow_table *t, uint64_t ts_us)
{
	if (ts_us > t->now_us)
		t->now_us = ts_us;
	flow_expire_closing(t);
	flow_closed_expire(t);
	if (t->now_us < t->next_expire_us)
		return;
	flow_expire_idle(t);
	t->next_expire_us = t->now_us + FLOW_US_PER_S;
}

void flow_table_advance(struct flow_table *t, uint64_t now_us)
{
	flow_advance_clock(t, now_us);
}

static void flow_enforce_ooo_total(struct flow_table *t, uint64_t ts_us)
{
	struct flow_entry *oldest;

	while (t->held_cost > t->lim.max_ooo_bytes_total &&
	       (oldest = TAILQ_LAST(&t->ooo, flow_list)))
		flow_evict(t, oldest, ts_us);
}

/* A SYN names the client, until payload was delivered (the consumer may
 * have named it from a hello since: a retransmitted SYN-ACK does not undo
 * that), and the direction's initial sequence number. */
static void flow_handle_syn(struct flow_entry *fe, int from,
			    const struct tw_segment *seg)
{
	struct reasm_dir *d = &fe->dir[from];

	if (fe->pub.state == FLOW_NEW || fe->pub.client < 0)
		fe->pub.client = (seg->tcp_flags & TW_TCP_ACK) ? !from : from;
	if (!d->has_syn) {
		d->has_syn = true;
		d->syn_seq = seg->seq;
	}
	if (!d->started) {
		d->started = true;
		d->next_seq = seg->seq + 1;
	}
}

/* A new connection on the same port pair: the old one ended unseen (its
 * FIN/RST was missed, or, live, never copied once the flow was decided).
 * Said by a SYN (without ACK) whose sequence number differs from the SYN
 * this direction already had (a retransmitted SYN has the same one and
 * changes nothing), by a SYN on a decided flow that had none, by a SYN on
 * a direction that had bytes but no SYN (the capture began after it) whose
 * first byte would not be near where those bytes had got (the window of
 * flow_rst_plausible: a SYN the capture had late, reordered, lies at or
 * just behind them; another connection's ISN, almost never), or by the
 * source's flow_start on a decided flow (live: the kernel began a new
 * handshake phase; it sends no SYNs). A SYN-ACK says so of its direction
 * the same way, when the new connection's SYN was not captured (lost
 * before the capture point; a capture of the server's direction alone):
 * another ISN than the SYN-ACK seen, or, without one, its first byte not
 * near where its sender was known to have got (its bytes, the other
 * side's ACKs: a decided flow's too, unlike next_seq). */
static bool flow_is_reopened(const struct flow_entry *fe, int from,
			     const struct tw_segment *seg)
{
	const struct reasm_dir *d = &fe->dir[from];
	bool decided = fe->pub.state == FLOW_DONE ||
		       fe->pub.state == FLOW_IGNORED;

	if (!(seg->tcp_flags & TW_TCP_SYN))
		return seg->flow_start && decided;
	if (d->has_syn)
		return d->syn_seq != seg->seq;
	if (seg->tcp_flags & TW_TCP_ACK)
		return d->has_ref && !tw_seq_near(d->seq_ref, seg->seq + 1);
	if (decided)
		return true;
	return d->started && !tw_seq_near(d->next_seq, seg->seq + 1);
}

/* The source began an undecided flow again (see flow.h): another packet
 * than the one that began it is marked flow_start (the records of one
 * packet all carry its time). */
static bool flow_is_restarted(const struct flow_entry *fe,
			      const struct tw_segment *seg)
{
	return seg->flow_start && fe->has_source_start &&
	       seg->ts_us != fe->source_start_us &&
	       (fe->pub.state == FLOW_NEW || fe->pub.state == FLOW_TRACKED);
}

/* A restart whose bytes continue the flow's exactly (the next byte of the
 * sender's direction, or, when it had sent nothing yet, acknowledging the
 * other's): the source forgot the flow and found it again, and no byte was
 * lost in between. */
static bool flow_is_refound(const struct flow_entry *fe, int from,
			    const struct tw_segment *seg)
{
	const struct reasm_dir *d = &fe->dir[from], *other = &fe->dir[!from];

	if (d->started)
		return seg->seq == d->next_seq;
	return other->started && (seg->tcp_flags & TW_TCP_ACK) &&
	       seg->ack == other->next_seq;
}

/* Whether @seg begins a new flow on @fe's port pair: @fe has then ended,
 * counted by its reason (a flow found again goes on, counted). A restart
 * continues the same connection: its client, when known, is put in
 * *@client for the new flow (a zeroed family otherwise). */
static bool flow_replaced(struct flow_table *t, struct flow_entry *fe, int from,
			  const struct tw_segment *seg, struct tw_endpoint *client)
{
	memset(client, 0, sizeof(*client));
	if (flow_is_restarted(fe, seg)) {
		if (flow_is_refound(fe, from, seg)) {
			t->stats.flows_refound++;
			return false;
		}
		if (fe->pub.client >= 0)
			*client = fe->pub.ep[fe->pub.client];
		t->stats.flows_restarted++;
		flow_entry_end(t, fe, FLOW_END_RESTARTED, seg->ts_us);
		return true;
	}
	if (flow_is_reopened(fe, from, seg)) {
		t->stats.flows_reopened++;
		flow_entry_end(t, fe, FLOW_END_REOPENED, seg->ts_us);
		return true;
	}
	return false;
}

/* Whether direction @from is half-closed: its FIN was seen and every byte
 * before it was delivered, or will not be wanted (a decided flow, a gap,
 * a direction never seen but for the FIN). Said once (half_close); the
 * flow ends when both are. Returns true when that ended the flow. */
static bool flow_fin_progress(struct flow_table *t, struct flow_entry *fe,
			      int from, uint64_t ts_us)
{
	struct reasm_dir *d = &fe->dir[from];

	if (!d->fin || d->closed)
		return false;
	if (d->started && reasm_wants_data(fe, from) &&
	    seq_lt(d->next_seq, d->fin_seq))
		return false;   /* a hole before the FIN: it may still be filled */
	d->closed = true;
	if (fe->dir[!from].closed) {
		flow_entry_end(t, fe, FLOW_END_FIN, ts_us);
		return true;
	}
	if (t->cb.half_close)
		t->cb.half_close(t->ctx, &fe->pub, from, ts_us);
	return false;
}

/* After bytes or a FIN: a direction whose FIN waited for a hole may now be
 * half-closed (or no longer want the bytes: the consumer decided).
 * Returns true when that ended the flow. */
static bool flow_fins_progress(struct flow_table *t, struct flow_entry *fe,
			       uint64_t ts_us)
{
	for (int from = 0; from < 2; from++) {
		if (flow_fin_progress(t, fe, from, ts_us))
			return true;
	}
	return false;
}

/* Both sides sent their FIN and the flow goes on: a hole before one of
 * them. It waits FLOW_FIN_HOLE_WAIT_US from now (flow_expire_closing). */
static void flow_closing_start(struct flow_table *t, struct flow_entry *fe)
{
	if (fe->closing || !fe->dir[0].fin || !fe->dir[1].fin)
		return;
	fe->closing = true;
	fe->closing_since_us = t->now_us;
	TAILQ_INSERT_TAIL(&t->closing, fe, closing_link);
}

/* FIN or RST: the segment's payload went out already. An RST ends the
 * flow; a direction whose RST lies past a hole gets its gap. A FIN only
 * half-closes its direction, because the other side may still answer (a
 * client that sends its hello and closes still gets the server's flight),
 * and the flow ends when both sides have. A FIN past a hole waits for it
 * to be filled: a capture downstream of a loss sees the retransmission
 * after the FIN (the server's fatal alert, resent); the flow's end (an
 * RST, FLOW_FIN_HOLE_WAIT_US after both FINs, the idle timeout, the end
 * of the capture) gives up what is still missing. */
static void flow_finish(struct flow_table *t, struct flow_entry *fe, int from,
			uint32_t seg_end, uint8_t flags, uint64_t ts_us)
{
	struct reasm_dir *d = &fe->dir[from];

	if (flags & TW_TCP_RST) {
		/* a FIN already seen took one sequence number: an RST
		 * after it is not past a hole */
		uint32_t expected = d->next_seq + (d->closed ? 1 : 0);

		if (d->started && reasm_wants_data(fe, from) &&
		    seq_lt(expected, seg_end))
			reasm_give_up(t, fe, from, ts_us);
		flow_entry_end(t, fe, FLOW_END_RST, ts_us);
		return;
	}
	if (!d->fin) {
		d->fin = true;
		d->fin_seq = seg_end;
	}
	if (!flow_fins_progress(t, fe, ts_us))
		flow_closing_start(t, fe);
}

static void flow_push_payload(struct flow_table *t, struct flow_entry *fe,
			      int from, const struct tw_segment *seg,
			      uint32_t seq, uint32_t len)
{
	struct reasm_dir *d = &fe->dir[from];

	if (!d->started) {
		/* Capture started mid-flow: the first payload is the start. */
		d->started = true;
		d->next_seq = seq;
	}
	if (len > 0)
		reasm_push(t, fe, from, seq, seg->payload, len, seg->ts_us);
	if (seg->truncated && seg->wire_len > len)
		reasm_note_truncated(t, fe, from, seq, len, seg->wire_len,
				     seg->ts_us);
}

static void flow_note_tunnel(struct flow *f, int from,
			     const struct tw_tunnel *tun)
{
	if (!f->tunnel.type) {
		f->tunnel = *tun;
		f->tunnel.dirs = 0;
		f->tunnel_from = (int8_t)from;
	}
	f->tunnel.dirs |= (uint8_t)(1u << from);
}

void flow_table_push(struct flow_table *t, const struct tw_segment *seg)
{
	uint8_t flags = seg->tcp_flags;
	uint32_t len = seg->payload ? seg->len : 0;
	struct tw_endpoint client = { 0 };
	int from = 0;

	t->stats.segments++;
	flow_advance_clock(t, seg->ts_us);

	uint64_t hash = flow_hash_endpoints(t->seed, &seg->src, &seg->dst);
	struct flow_entry *fe = flow_lookup(t, hash, seg, &from);
	if (fe && flow_replaced(t, fe, from, seg, &client)) {
		fe = NULL;
		from = 0;   /* the new flow's ep[0] is this segment's sender */
	}
	if (fe && (flags & TW_TCP_RST) && !flow_rst_plausible(fe, from, seg)) {
		t->stats.rsts_ignored++;
		return;
	}
	if (!fe) {
		if (!(flags & TW_TCP_SYN) && len == 0)
			return;
		/* Late: the records of a connection's two directions can
		 * reach the ring in another order than their packets took
		 * (two CPUs), so one can follow the FINs that ended it. */
		if (t->lim.starts_marked && !seg->flow_start && !(flags & TW_TCP_SYN)) {
			t->stats.segments_late++;
			return;
		}
		/* A capture's: of a flow that ended by FIN or RST */
		if (flow_closed_absorbs(t, hash, seg)) {
			t->stats.segments_after_close++;
			return;
		}
		fe = flow_create(t, hash, seg);
		if (!fe)
			return;
		if (client.addr.family)
			fe->pub.client = tw_endpoint_equal(&fe->pub.ep[0], &client) ? 0 : 1;
	}
	flow_touch(t, fe);
	flow_seq_learn(fe, from, seg);
	if (seg->flow_start) {
		fe->source_start_us = seg->ts_us;
		fe->has_source_start = true;
	}
	if (seg->tunnel.type)
		flow_note_tunnel(&fe->pub, from, &seg->tunnel);

	if (fe->pub.state == FLOW_DONE || fe->pub.state == FLOW_IGNORED) {
		if (flags & (TW_TCP_FIN | TW_TCP_RST))
			flow_finish(t, fe, from, 0, flags, seg->ts_us);
		return;
	}

	/* The sequence number of a SYN is the SYN's own; its payload (TCP
	 * Fast Open) starts one later. */
	uint32_t seq = seg->seq;
	if (flags & TW_TCP_SYN) {
		flow_handle_syn(fe, from, seg);
		seq++;
	}
	/* a truncated segment without bytes: the source lost them (live: a
	 * gap record), a hole once delivery reaches it */
	if (len > 0 || (seg->truncated && seg->wire_len > 0))
		flow_push_payload(t, fe, from, seg, seq, len);
	if (flags & (TW_TCP_FIN | TW_TCP_RST))
		flow_finish(t, fe, from, seq + len, flags, seg->ts_us);
	else if (fe->dir[0].fin || fe->dir[1].fin)
		flow_fins_progress(t, fe, seg->ts_us);
	flow_enforce_ooo_total(t, seg->ts_us);
}

/* --- the API */

struct flow_table *flow_table_new(const struct flow_limits *lim,
				  const struct flow_callbacks *cb, void *ctx)
{
	struct flow_table *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	TAILQ_INIT(&t->lru);
	TAILQ_INIT(&t->ooo);
	TAILQ_INIT(&t->closing);
	if (lim)
		t->lim = *lim;
	if (!t->lim.max_flows)
		t->lim.max_flows = FLOW_DEFAULT_MAX_FLOWS;
	if (!t->lim.max_ooo_bytes_per_dir)
		t->lim.max_ooo_bytes_per_dir = FLOW_DEFAULT_OOO_PER_DIR;
	if (!t->lim.max_ooo_bytes_total)
		t->lim.max_ooo_bytes_total = FLOW_DEFAULT_OOO_TOTAL;
	if (!t->lim.idle_timeout_s)
		t->lim.idle_timeout_s = FLOW_DEFAULT_IDLE_S;
	if (cb)
		t->cb = *cb;
	t->ctx = ctx;
	t->nbuckets = FLOW_MIN_BUCKETS;
	t->buckets = calloc(t->nbuckets, sizeof(*t->buckets));
	if (!t->buckets) {
		free(t);
		return NULL;
	}
	flow_hash_seed(t->seed);
	return t;
}

void flow_table_flush(struct flow_table *t, uint64_t ts_us)
{
	struct flow_entry *oldest;

	while ((oldest = TAILQ_LAST(&t->lru, flow_list)))
		flow_entry_end(t, oldest, FLOW_END_CAPTURE_END, ts_us);
}

void flow_table_free(struct flow_table *t)
{
	if (!t)
		return;
	flow_table_flush(t, t->now_us);
	flow_closed_free(t);
	while (t->slabs) {
		struct flow_slab *s = t->slabs;

		t->slabs = s->next;
		free(s);
	}
	free(t->buckets);
	free(t);
}

struct flow *flow_table_find(struct flow_table *t, const struct tw_endpoint *a,
			     const struct tw_endpoint *b)
{
	struct tw_segment seg = { .src = *a, .dst = *b };
	struct flow_entry *fe;
	int from;

	fe = flow_lookup(t, flow_hash_endpoints(t->seed, a, b), &seg, &from);
	return fe ? &fe->pub : NULL;
}

void flow_set_client(struct flow *f, int index)
{
	if (f && index >= -1 && index <= 1)
		f->client = (int8_t)index;
}

static void flow_mark(struct flow_table *t, struct flow *f, enum flow_state state)
{
	if (!f)
		return;

	struct flow_entry *fe = flow_entry_of(f);
	reasm_release(t, fe, 0);
	reasm_release(t, fe, 1);
	fe->pub.state = state;
}

void flow_mark_done(struct flow_table *t, struct flow *f)
{
	flow_mark(t, f, FLOW_DONE);
}

void flow_mark_ignored(struct flow_table *t, struct flow *f)
{
	flow_mark(t, f, FLOW_IGNORED);
}

const struct flow_stats *flow_table_stats(const struct flow_table *t)
{
	return &t->stats;
}
