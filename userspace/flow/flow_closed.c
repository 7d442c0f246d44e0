// SPDX-License-Identifier: MIT
/*
 * Flows ended by FIN or RST, kept a while: a capture can hold segments of
 * a connection after both its FINs (a retransmission the network held up,
 * the copy of another interface, a capture point downstream of a loss
 * whose sender had already closed). Once the flow had ended, such a
 * segment began a flow of its own: a retransmitted ClientHello was
 * reported as a second handshake, incomplete.
 *
 * The bounds: FLOW_CLOSED_KEEP_S (60 s, Linux's TIME_WAIT: a peer still
 * retransmitting after it would have been answered with an RST) of packet
 * time, and FLOW_CLOSED_MAX records (~100 bytes each: 6.5 MiB at most),
 * never more than the table's max_flows; past either, the oldest go. Only
 * without starts_marked: live, the kernel marks where a flow starts and a
 * late record is told by its missing mark (segments_late).
 *
 * A record keeps each side's SYN and how far it got (flow_seq.c). A
 * segment of no flow is late when its first byte lies in its sender's
 * sequence space there: after its SYN (or, without one, at most
 * TW_RST_WINDOW behind) and before where it had got; a SYN-ACK when it
 * has the ISN its sender had. Anything else, any SYN without ACK among
 * them, is a new connection on the port pair (a new ISN: RFC 6528 ISNs of
 * a reused pair lie ahead of the old connection's, RFC 1122's condition
 * for reusing it from TIME_WAIT), and the record goes.
 */
#include <stdlib.h>

#include "flow_internal.h"
#include "tlswatch/event.h"

#define FLOW_CLOSED_KEEP_US ((uint64_t)FLOW_CLOSED_KEEP_S * 1000000ull)

static struct flow_closed *closed_lookup(struct flow_table *t, uint64_t hash,
					 const struct tw_segment *seg, int *from)
{
	struct flow_closed *c;

	if (!t->closed_nbuckets)
		return NULL;
	for (c = t->closed_buckets[hash & (t->closed_nbuckets - 1)]; c; c = c->hnext) {
		if (c->hash != hash)
			continue;
		if (tw_endpoint_equal(&c->ep[0], &seg->src) &&
		    tw_endpoint_equal(&c->ep[1], &seg->dst)) {
			*from = 0;
			return c;
		}
		if (tw_endpoint_equal(&c->ep[0], &seg->dst) &&
		    tw_endpoint_equal(&c->ep[1], &seg->src)) {
			*from = 1;
			return c;
		}
	}
	return NULL;
}

/* Off its chain and the list, onto the free list. */
static void closed_forget(struct flow_table *t, struct flow_closed *c)
{
	struct flow_closed **pp = &t->closed_buckets[c->hash & (t->closed_nbuckets - 1)];

	for (; *pp; pp = &(*pp)->hnext) {
		if (*pp == c) {
			*pp = c->hnext;
			break;
		}
	}
	TAILQ_REMOVE(&t->closed, c, link);
	t->closed_count--;
	c->hnext = t->free_closed;
	t->free_closed = c;
}

/* The buckets, once: as many as records may be (a power of two). */
static bool closed_ready(struct flow_table *t)
{
	uint32_t n = 1;

	if (t->closed_nbuckets)
		return true;
	t->closed_max = t->lim.max_flows < FLOW_CLOSED_MAX ?
			t->lim.max_flows : FLOW_CLOSED_MAX;
	while (n < t->closed_max)
		n *= 2;
	t->closed_buckets = calloc(n, sizeof(*t->closed_buckets));
	if (!t->closed_buckets)
		return false;
	t->closed_nbuckets = n;
	TAILQ_INIT(&t->closed);
	return true;
}

void flow_closed_add(struct flow_table *t, const struct flow_entry *fe)
{
	struct flow_closed *c;
	struct tw_segment key = { .src = fe->pub.ep[0], .dst = fe->pub.ep[1] };
	int from;

	if (t->lim.starts_marked || !closed_ready(t))
		return;
	c = closed_lookup(t, fe->hash, &key, &from);
	if (c)          /* an older connection of the pair */
		closed_forget(t, c);
	if (t->closed_count >= t->closed_max)
		closed_forget(t, TAILQ_FIRST(&t->closed));
	c = t->free_closed;
	if (c)
		t->free_closed = c->hnext;
	else if (!(c = malloc(sizeof(*c))))
		return;
	c->hash = fe->hash;
	c->closed_us = t->now_us;
	c->ep[0] = fe->pub.ep[0];
	c->ep[1] = fe->pub.ep[1];
	for (int i = 0; i < 2; i++) {
		const struct reasm_dir *d = &fe->dir[i];

		c->dir[i] = (struct flow_closed_dir){
			.syn_seq = d->syn_seq, .seq_ref = d->seq_ref,
			.has_syn = d->has_syn, .has_ref = d->has_ref,
		};
	}
	c->hnext = t->closed_buckets[c->hash & (t->closed_nbuckets - 1)];
	t->closed_buckets[c->hash & (t->closed_nbuckets - 1)] = c;
	TAILQ_INSERT_TAIL(&t->closed, c, link);
	t->closed_count++;
}

/* Whether @seg, of side @d of a closed flow, was sent in that flow. A
 * SYN (without ACK) never was: the client opens a connection again (a
 * SYN held up since the handshake would have been answered before the
 * close). So the same capture given twice (rotated files repeated) reads
 * a connection twice only when its SYN is in it: its second copy's SYN
 * forgets the record. Without one (captured after the handshake), the
 * second copy's bytes lie in the closed range and are dropped as late
 * ones, counted in segments_after_close. The records are kept across
 * input files on purpose: a rotated set's next file can hold a late
 * retransmission of the one before. */
static bool closed_sent(const struct flow_closed_dir *d,
			const struct tw_segment *seg)
{
	if ((seg->tcp_flags & (TW_TCP_SYN | TW_TCP_ACK)) == TW_TCP_SYN)
		return false;
	if (seg->tcp_flags & TW_TCP_SYN)
		return d->has_syn && d->syn_seq == seg->seq;
	if (!d->has_ref || !seq_lt(seg->seq, d->seq_ref))
		return false;
	if (d->has_syn)
		return seq_lt(d->syn_seq, seg->seq);
	return d->seq_ref - seg->seq <= TW_RST_WINDOW;
}

bool flow_closed_absorbs(struct flow_table *t, uint64_t hash,
			 const struct tw_segment *seg)
{
	int from;
	struct flow_closed *c = closed_lookup(t, hash, seg, &from);

	if (!c)
		return false;
	if (closed_sent(&c->dir[from], seg))
		return true;
	closed_forget(t, c);    /* a new connection took the port pair */
	return false;
}

void flow_closed_expire(struct flow_table *t)
{
	struct flow_closed *c;

	if (!t->closed_nbuckets)
		return;
	while ((c = TAILQ_FIRST(&t->closed)) &&
	       t->now_us - c->closed_us > FLOW_CLOSED_KEEP_US)
		closed_forget(t, c);
}

void flow_closed_free(struct flow_table *t)
{
	struct flow_closed *c;

	if (t->closed_nbuckets) {
		while ((c = TAILQ_FIRST(&t->closed)))
			closed_forget(t, c);
	}
	while ((c = t->free_closed)) {
		t->free_closed = c->hnext;
		free(c);
	}
	free(t->closed_buckets);
	t->closed_buckets = NULL;
	t->closed_nbuckets = 0;
}
