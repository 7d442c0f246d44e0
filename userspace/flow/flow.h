/* SPDX-License-Identifier: MIT */
/*
 * Flow table and TCP reassembly. Segments go in; in-order payload bytes per
 * direction come out through callbacks. Memory is bounded per flow and
 * globally; every eviction and every byte dropped is counted.
 *
 * A flow has two endpoints, ep[0] and ep[1]. ep[0] is the sender of the
 * first segment seen. "from" in callbacks is the index of the sender.
 * flow->client is the index of the client once known: set from the SYN
 * when one is seen before any payload, otherwise by the consumer (see
 * flow_set_client(); the consumer may also name another than the SYN did).
 *
 * Details the implementation (flow_table.c, reasm.c) settles:
 * - A SYN's payload (TCP Fast Open) starts at the SYN's seq + 1.
 * - A segment captured short of its wire length (truncated) delivers its
 *   captured bytes; when delivery reaches the missing part, gap.
 * - The global out-of-order cap evicts, oldest activity first, among the
 *   flows that hold out-of-order data (evicting others frees nothing).
 * - A SYN without ACK whose seq differs from the SYN already seen in that
 *   direction means the port pair was reused after an unseen FIN/RST: the
 *   old flow ends with FLOW_END_REOPENED (counted) and a new one starts.
 *   So does one on a direction that had bytes but no SYN (the capture
 *   began after it) when seq + 1 is not within TW_RST_WINDOW of the next
 *   byte expected (the flow's own SYN, captured late, is). A SYN-ACK says
 *   the same of its direction (the new connection's SYN was not captured:
 *   lost before the capture point, or only the server's direction is):
 *   another seq than the SYN-ACK seen, or, without one, seq + 1 not within
 *   TW_RST_WINDOW of where its sender was known to have got.
 * - Unless starts_marked, a flow ended by FIN or RST is remembered for
 *   FLOW_CLOSED_KEEP_S of packet time, at most FLOW_CLOSED_MAX of them and
 *   never more than max_flows, the oldest forgotten first (flow_closed.c):
 *   a segment of no flow whose first byte lies in its sender's sequence
 *   space there (after its SYN, or without one at most TW_RST_WINDOW
 *   behind, and before where it had got), or a SYN-ACK with the ISN its
 *   sender had, is a late retransmission of it and starts nothing
 *   (counted: segments_after_close, the summary problem). Any other, and any SYN without ACK,
 *   is a new connection.
 * - A FIN past a hole waits for it: the direction half-closes once every
 *   byte before the FIN was delivered, the flow ends with FLOW_END_FIN
 *   once both have, or, both FINs seen, 2 s of packet time after the
 *   second (FLOW_FIN_HOLE_WAIT_US: a gap, then FLOW_END_FIN, dated then);
 *   the flow's other ends (RST, idle, eviction, flush) give a gap to a
 *   direction still short of its FIN.
 *   So does a SYN, or a segment marked flow_start, on a flow that is done
 *   or ignored (the live source stops copying decided flows, so their
 *   FIN never comes).
 * - A segment marked flow_start on a flow still undecided, from a later
 *   packet than the one that began it (another ts_us), means the source
 *   lost the flow and found it again (live: the kernel's LRU flow map
 *   evicted its entry, or a new connection took the port pair). When its
 *   bytes continue the flow's exactly (nothing was lost in between) the
 *   flow goes on (counted: flows_refound); otherwise the old flow ends
 *   with FLOW_END_RESTARTED (counted) and a new one starts.
 * - An RST ends a flow only when its sequence number is near where its
 *   sender is known to have got (TW_RST_WINDOW in tlswatch/event.h); any
 *   other is dropped whole, as if never seen (counted: rsts_ignored).
 * - last_ts_us is the latest packet time the table had seen when the flow
 *   last had a packet (captures can step back in time a little).
 * - Callbacks must not call flow_table_push/flush/free; flow_mark_done,
 *   flow_mark_ignored and flow_set_client are fine from any callback.
 */
#ifndef TW_FLOW_H
#define TW_FLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../capture/segment.h"

enum flow_end_reason {
	FLOW_END_FIN,          /* FIN seen from either side */
	FLOW_END_RST,          /* RST seen */
	FLOW_END_IDLE,         /* no packet for the idle timeout (packet time) */
	FLOW_END_EVICTED,      /* pushed out by the flow or memory cap */
	FLOW_END_CAPTURE_END,  /* flow_table_flush() at the end of input */
	FLOW_END_REOPENED,     /* a new connection started on its port pair */
	FLOW_END_RESTARTED,    /* undecided, and the source began it again */
};

enum flow_state {
	FLOW_NEW,              /* no payload delivered yet */
	FLOW_TRACKED,          /* payload is reassembled and delivered */
	FLOW_DONE,             /* consumer has what it needs: no buffering */
	FLOW_IGNORED,          /* not TLS: each later packet costs one lookup */
};

struct flow {
	struct tw_endpoint ep[2];
	int8_t client;          /* 0 or 1, -1 while unknown */
	enum flow_state state;
	uint64_t first_ts_us;
	uint64_t last_ts_us;
	void *user;             /* the consumer's per-flow state */
	uint8_t user_flags;     /* the consumer's; zero when the flow begins */
	/* The first tunnel a segment of the flow came through, as that
	 * segment had it (src/dst its sender's way: sent by ep[tunnel_from]);
	 * tunnel.dirs: bit i set when a segment from ep[i] came through one.
	 * The flow is keyed by the inner endpoints alone: the two directions
	 * of a connection may come different ways (a load balancer's
	 * direct server return sends replies unencapsulated, and which
	 * balancer encapsulates can change mid-connection). */
	struct tw_tunnel tunnel;
	int8_t tunnel_from;
	/* reassembly internals follow in flow_internal.h (struct flow_entry) */
};

/* Each held out-of-order piece is charged this many bytes on top of its
 * payload against max_ooo_bytes_per_dir and max_ooo_bytes_total, so that
 * many tiny segments cannot hold far more memory than the caps say. The
 * held/peak/dropped counters of struct flow_stats count payload only. */
#define FLOW_OOO_SEG_OVERHEAD 32

struct flow_limits {
	uint32_t max_flows;            /* default 262144 */
	uint32_t max_ooo_bytes_per_dir;/* out-of-order bytes held per direction, default 256 KiB */
	uint64_t max_ooo_bytes_total;  /* all flows, default 64 MiB */
	uint32_t idle_timeout_s;       /* default 120 */
	/* The source marks the first segment of every flow it follows
	 * (flow_start; live: the kernel's first record of a flow): payload
	 * of no known flow without the mark is late, of a flow that ended
	 * here already, and starts none (counted: segments_late). A capture
	 * file marks nothing: a flow starts with any segment. */
	bool starts_marked;
};

struct flow_stats {
	uint64_t flows_created;
	uint64_t flows_active;         /* in the table now */
	uint64_t flows_evicted;        /* by max_flows or memory cap */
	uint64_t flows_timed_out;
	uint64_t flows_reopened;       /* ended by a new connection on the pair */
	uint64_t flows_restarted;      /* undecided, begun again by the source */
	uint64_t flows_refound;        /* undecided, found again by the source
	                                * with no byte lost: they go on */
	uint64_t segments;
	uint64_t segments_late;        /* starts_marked: of no known flow, unmarked */
	uint64_t segments_after_close; /* late ones of a flow ended by FIN or
	                                * RST (see above): dropped */
	uint64_t flows_closed_gapped;  /* both FINs seen, a hole before one
	                                * still there FLOW_FIN_HOLE_WAIT_US
	                                * later: ended then (and gaps counted) */
	uint64_t rsts_ignored;         /* RSTs far from where their sender had
	                                * got (spoofed): the flow goes on */
	uint64_t retransmitted_bytes;  /* already delivered, dropped */
	uint64_t overlap_bytes;        /* overlapping parts trimmed */
	uint64_t ooo_bytes_dropped;    /* out-of-order data over a cap, or still
	                                * held when its direction gave up */
	uint64_t gaps;                 /* directions that hit a hole */
	uint64_t ooo_bytes_held;       /* now */
	uint64_t ooo_bytes_peak;
};

struct flow_callbacks {
	/* In-order payload of direction @from. Called with contiguous bytes
	 * only; after a gap no more data is delivered for that direction. */
	void (*data)(void *ctx, struct flow *f, int from, const uint8_t *p,
		     size_t n, uint64_t ts_us);
	/* Direction @from has a hole that will not be filled (a segment past
	 * the hole was seen and the out-of-order buffer gave up, or the flow
	 * ended with data still missing). */
	void (*gap)(void *ctx, struct flow *f, int from, uint64_t ts_us);
	/* Side @from sent FIN and every byte before it was delivered (or is
	 * not wanted: a decided flow, a gap); the flow stays until the other
	 * side is half-closed too, or an RST (the other side may still
	 * answer). May be NULL. */
	void (*half_close)(void *ctx, struct flow *f, int from, uint64_t ts_us);
	/* The flow is gone; @f->user must be released here. */
	void (*end)(void *ctx, struct flow *f, enum flow_end_reason why,
		    uint64_t ts_us);
};

struct flow_table;

/* Zeroed fields of @lim take the defaults. NULL on allocation failure. */
struct flow_table *flow_table_new(const struct flow_limits *lim,
				  const struct flow_callbacks *cb, void *ctx);
/* Ends every flow with FLOW_END_CAPTURE_END, then frees the table. */
void flow_table_free(struct flow_table *t);

/* Looks up or creates the flow of @seg, reassembles, delivers. Also
 * expires idle flows as packet time advances. */
void flow_table_push(struct flow_table *t, const struct tw_segment *seg);
/* Time passes without segments (a quiet live host): idle flows end. */
void flow_table_advance(struct flow_table *t, uint64_t now_us);
/* Ends every flow with FLOW_END_CAPTURE_END (table stays usable). */
void flow_table_flush(struct flow_table *t, uint64_t ts_us);

/* The consumer's decisions about a flow. */
/* The flow between @a and @b (either order), or NULL. */
struct flow *flow_table_find(struct flow_table *t, const struct tw_endpoint *a,
			     const struct tw_endpoint *b);
void flow_set_client(struct flow *f, int index);
void flow_mark_done(struct flow_table *t, struct flow *f);    /* drop buffers, keep entry */
void flow_mark_ignored(struct flow_table *t, struct flow *f); /* not TLS */

const struct flow_stats *flow_table_stats(const struct flow_table *t);

#endif
