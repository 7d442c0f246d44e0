// SPDX-License-Identifier: MIT
/*
 * The flows whose handshake was reported, marked done at the source
 * (opts.flow_done; live: a lookup and an update of the kernel's flow map,
 * two syscalls) at the end of the loop turn (pipeline_tick) rather than
 * at once. A connection that also closed within the turn - most of them
 * at a high handshake rate, where one turn's records cover whole
 * connections - is gone from the kernel's map already, which forgets a
 * flow at its two FINs or its RST as the flow table here does, and costs
 * no syscall: before, both were spent to find nothing. A flow still open
 * is marked as before, a turn later: LIVE_MAX_BATCH_MS at most, during
 * which the kernel copies what it would have. Bounded: past
 * DONE_QUEUE_MAX in one turn, a flow is marked at once. So is one the
 * flow table evicts within the turn (done_queue_flow_ends): the flush
 * finds it no more, and the kernel's entry, still open, stays undecided.
 */
#include <stdlib.h>

#include "pipeline_priv.h"

struct done_entry {
	struct tw_endpoint client, server;
	uint64_t first_ts_us;      /* tells the flow from a later one on its ports */
};

static void mark_now(struct pipeline *pl, struct flow *f, int client)
{
	pl->opts.flow_done(pl->opts.flow_done_ctx, &f->ep[client], &f->ep[!client]);
	f->user_flags |= PL_FLOW_MARKED;
}

void done_queue_add(struct pipeline *pl, struct flow *f, int client)
{
	struct done_queue *q = &pl->done;
	struct done_entry *e;

	if (!pl->opts.flow_done)
		return;
	if (!q->items)
		q->items = malloc(DONE_QUEUE_MAX * sizeof(*q->items));
	if (!q->items || q->n == DONE_QUEUE_MAX) {
		mark_now(pl, f, client);
		return;
	}
	e = &q->items[q->n++];
	e->client = f->ep[client];
	e->server = f->ep[!client];
	e->first_ts_us = f->first_ts_us;
}

void done_queue_flow_ends(struct pipeline *pl, struct flow *f, int client,
			  enum flow_end_reason why)
{
	/* FLOW_DONE without the mark: queued (done_queue_add). A FIN or RST
	 * end is the kernel's too, a restart or reopening a new connection
	 * on the port pair (marking it would stop the new one), the end of
	 * input the agent's: only an eviction leaves the kernel's entry
	 * open. */
	if (why == FLOW_END_EVICTED && pl->opts.flow_done &&
	    f->state == FLOW_DONE && !(f->user_flags & PL_FLOW_MARKED))
		mark_now(pl, f, client);
}

void done_queue_flush(struct pipeline *pl)
{
	struct done_queue *q = &pl->done;
	const struct done_entry *e;
	struct flow *f;
	size_t i;

	for (i = 0; i < q->n; i++) {
		e = &q->items[i];
		f = flow_table_find(pl->flows, &e->client, &e->server);
		if (f && f->state == FLOW_DONE && f->first_ts_us == e->first_ts_us)
			mark_now(pl, f, !tw_endpoint_equal(&f->ep[0], &e->client));
	}
	q->n = 0;
}

void done_queue_free(struct pipeline *pl)
{
	free(pl->done.items);
	pl->done.items = NULL;
	pl->done.n = 0;
}
