// SPDX-License-Identifier: MIT
/*
 * TCP reassembly of one direction of a flow.
 *
 * In-order payload is handed to the consumer straight from the segment (no
 * copy). Payload later than expected is copied into a sorted list of
 * disjoint pieces and handed over once the hole before it is filled. Where
 * a new segment overlaps held pieces the held bytes win (first copy wins),
 * also when the new segment itself is in order: it is delivered only up to
 * the next held piece, then the held piece, then the rest of it.
 *
 * The consumer may call flow_mark_done()/flow_mark_ignored() from inside
 * the data callback; that frees the held pieces. So every loop re-checks
 * reasm_wants_data() after each callback, and a piece being delivered is
 * unlinked from the list (and owned by the loop) before the callback runs.
 */
#include <stdlib.h>
#include <string.h>

#include "flow_internal.h"

bool reasm_wants_data(const struct flow_entry *fe, int from)
{
	return (fe->pub.state == FLOW_NEW || fe->pub.state == FLOW_TRACKED) &&
	       !fe->ending && !fe->dir[from].gapped;
}

static void reasm_deliver(struct flow_table *t, struct flow_entry *fe, int from,
			  const uint8_t *p, uint32_t n, uint64_t ts_us)
{
	if (fe->pub.state == FLOW_NEW)
		fe->pub.state = FLOW_TRACKED;
	if (t->cb.data)
		t->cb.data(t->ctx, &fe->pub, from, p, n, ts_us);
}

static void reasm_held_add(struct flow_table *t, struct reasm_dir *d, uint32_t n)
{
	d->held_bytes += n;
	d->held_cost += n + FLOW_OOO_SEG_OVERHEAD;
	t->held_cost += n + FLOW_OOO_SEG_OVERHEAD;
	t->stats.ooo_bytes_held += n;
	if (t->stats.ooo_bytes_held > t->stats.ooo_bytes_peak)
		t->stats.ooo_bytes_peak = t->stats.ooo_bytes_held;
}

static void reasm_held_sub(struct flow_table *t, struct reasm_dir *d, uint32_t n)
{
	d->held_bytes -= n;
	d->held_cost -= n + FLOW_OOO_SEG_OVERHEAD;
	t->held_cost -= n + FLOW_OOO_SEG_OVERHEAD;
	t->stats.ooo_bytes_held -= n;
}

void reasm_release(struct flow_table *t, struct flow_entry *fe, int from)
{
	struct reasm_dir *d = &fe->dir[from];
	struct reasm_seg *s = d->head;

	while (s) {
		struct reasm_seg *next = s->next;
		reasm_held_sub(t, d, s->len);
		free(s);
		s = next;
	}
	d->head = d->tail = NULL;
	flow_ooo_update(t, fe);
}

void reasm_give_up(struct flow_table *t, struct flow_entry *fe, int from,
		   uint64_t ts_us)
{
	struct reasm_dir *d = &fe->dir[from];

	if (d->gapped)
		return;
	t->stats.ooo_bytes_dropped += d->held_bytes;
	reasm_release(t, fe, from);
	d->gapped = true;
	d->has_trunc = false;
	t->stats.gaps++;
	if (t->cb.gap)
		t->cb.gap(t->ctx, &fe->pub, from, ts_us);
}

/* Delivers held pieces that start at next_seq, in order. */
static void reasm_drain(struct flow_table *t, struct flow_entry *fe, int from,
			uint64_t ts_us)
{
	struct reasm_dir *d = &fe->dir[from];

	while (d->head && reasm_wants_data(fe, from)) {
		struct reasm_seg *s = d->head;

		if (seq_lt(d->next_seq, s->seq))
			break; /* still a hole before it */
		d->head = s->next;
		if (!d->head)
			d->tail = NULL;
		reasm_held_sub(t, d, s->len);
		/* Held pieces start after next_seq, so skip is 0; kept
		 * defensive so a broken invariant cannot read past data[]. */
		uint32_t skip = d->next_seq - s->seq;
		if (skip < s->len) {
			d->next_seq = s->seq + s->len;
			reasm_deliver(t, fe, from, s->data + skip, s->len - skip, ts_us);
		}
		free(s);
	}
	flow_ooo_update(t, fe);
}

/* Payload starting exactly at next_seq. */
static void reasm_push_in_order(struct flow_table *t, struct flow_entry *fe,
				int from, const uint8_t *p, uint32_t len,
				uint64_t ts_us)
{
	struct reasm_dir *d = &fe->dir[from];

	while (len > 0 && reasm_wants_data(fe, from)) {
		uint32_t chunk = len;

		/* Stop before a held piece: its bytes came first. */
		if (d->head && seq_lt(d->head->seq, d->next_seq + len))
			chunk = seq_lt(d->next_seq, d->head->seq) ?
				d->head->seq - d->next_seq : 0;
		if (chunk > 0) {
			d->next_seq += chunk;
			reasm_deliver(t, fe, from, p, chunk, ts_us);
			p += chunk;
			len -= chunk;
		}
		uint32_t before = d->next_seq;
		reasm_drain(t, fe, from, ts_us);
		uint32_t covered = d->next_seq - before;
		uint32_t skip = covered < len ? covered : len;
		t->stats.overlap_bytes += skip;
		p += skip;
		len -= skip;
		if (chunk == 0 && covered == 0)
			break; /* cannot happen with the invariant; never spin */
	}
}

struct reasm_walk {
	bool dry;            /* only count */
	bool failed;         /* an allocation failed */
	uint32_t bytes;      /* bytes not covered by held pieces */
	uint32_t pieces;     /* pieces they form */
};

/* Counts, or inserts at *@pp, one uncovered piece of a new segment. */
static void reasm_piece(struct flow_table *t, struct reasm_dir *d,
			struct reasm_seg ***pp, uint32_t seq,
			const uint8_t *p, uint32_t n, struct reasm_walk *w)
{
	if (w->dry) {
		w->bytes += n;
		w->pieces++;
		return;
	}
	struct reasm_seg *s = malloc(sizeof(*s) + n);
	if (!s) {
		w->failed = true;
		return;
	}
	s->seq = seq;
	s->len = n;
	memcpy(s->data, p, n);
	s->next = **pp;
	**pp = s;
	*pp = &s->next;
	if (!s->next)
		d->tail = s;
	reasm_held_add(t, d, n);
	w->bytes += n;
	w->pieces++;
}

/* Walks the held pieces and handles the parts of [seq, seq+len) they do
 * not cover. Starts at the tail when the segment lies past it (the common
 * case after one lost segment). */
static void reasm_walk_new(struct flow_table *t, struct reasm_dir *d,
			   uint32_t seq, const uint8_t *p, uint32_t len,
			   struct reasm_walk *w)
{
	uint32_t s = seq, e = seq + len;
	struct reasm_seg **pp = &d->head;

	if (d->tail && seq_le(d->tail->seq + d->tail->len, s))
		pp = &d->tail->next;
	while (*pp && s != e && !w->failed) {
		struct reasm_seg *n = *pp;
		uint32_t ns = n->seq, ne = n->seq + n->len;

		if (seq_le(ne, s)) {
			pp = &n->next;
			continue;
		}
		if (seq_le(e, ns))
			break;
		if (seq_lt(s, ns)) {
			reasm_piece(t, d, &pp, s, p + (s - seq), ns - s, w);
			s = ns;
		}
		s = seq_lt(ne, e) ? ne : e;
		pp = &n->next;
	}
	if (s != e && !w->failed)
		reasm_piece(t, d, &pp, s, p + (s - seq), e - s, w);
}

/* Payload later than next_seq: hold what is new, or give up when the
 * direction's cap would be exceeded. */
static void reasm_store(struct flow_table *t, struct flow_entry *fe, int from,
			uint32_t seq, const uint8_t *p, uint32_t len,
			uint64_t ts_us)
{
	struct reasm_dir *d = &fe->dir[from];
	struct reasm_walk dry = { .dry = true };

	reasm_walk_new(t, d, seq, p, len, &dry);
	uint64_t cost = (uint64_t)dry.bytes +
			(uint64_t)dry.pieces * FLOW_OOO_SEG_OVERHEAD;
	if (d->held_cost + cost > t->lim.max_ooo_bytes_per_dir) {
		t->stats.ooo_bytes_dropped += dry.bytes;
		reasm_give_up(t, fe, from, ts_us);
		return;
	}
	t->stats.overlap_bytes += len - dry.bytes;
	if (dry.bytes == 0)
		return;

	struct reasm_walk real = { .dry = false };
	reasm_walk_new(t, d, seq, p, len, &real);
	if (real.failed) {
		/* Out of memory counts as over the cap. */
		t->stats.ooo_bytes_dropped += dry.bytes - real.bytes;
		reasm_give_up(t, fe, from, ts_us);
		return;
	}
	flow_ooo_update(t, fe);
}

static void reasm_check_trunc(struct flow_table *t, struct flow_entry *fe,
			      int from, uint64_t ts_us)
{
	struct reasm_dir *d = &fe->dir[from];

	if (!d->has_trunc || !reasm_wants_data(fe, from))
		return;
	if (d->next_seq == d->trunc_seq)
		reasm_give_up(t, fe, from, ts_us);
	else if (seq_lt(d->trunc_seq, d->next_seq))
		d->has_trunc = false; /* other segments had the missing bytes */
}

void reasm_push(struct flow_table *t, struct flow_entry *fe, int from,
		uint32_t seq, const uint8_t *p, uint32_t len, uint64_t ts_us)
{
	struct reasm_dir *d = &fe->dir[from];

	if (len == 0 || !reasm_wants_data(fe, from))
		return;
	if (seq_lt(seq, d->next_seq)) {
		uint32_t behind = d->next_seq - seq;

		if (behind >= len) {
			t->stats.retransmitted_bytes += len;
			return;
		}
		t->stats.retransmitted_bytes += behind;
		seq += behind;
		p += behind;
		len -= behind;
	}
	if (seq == d->next_seq)
		reasm_push_in_order(t, fe, from, p, len, ts_us);
	else
		reasm_store(t, fe, from, seq, p, len, ts_us);
	reasm_check_trunc(t, fe, from, ts_us);
}

void reasm_note_truncated(struct flow_table *t, struct flow_entry *fe, int from,
			  uint32_t seq, uint32_t len, uint32_t wire_len,
			  uint64_t ts_us)
{
	struct reasm_dir *d = &fe->dir[from];
	uint32_t cut = seq + len;

	if (!reasm_wants_data(fe, from) || !d->started)
		return;
	if (seq_le(seq + wire_len, d->next_seq))
		return; /* every byte it missed was delivered already */
	if (seq_lt(cut, d->next_seq))
		return; /* it proves no hole past what we have */
	if (!d->has_trunc || seq_lt(cut, d->trunc_seq)) {
		d->trunc_seq = cut;
		d->has_trunc = true;
	}
	reasm_check_trunc(t, fe, from, ts_us);
}
