/* SPDX-License-Identifier: MIT */
/*
 * Private to userspace/flow/: the table, the per-flow entry that wraps the
 * public struct flow, and the reassembly calls flow_table.c makes.
 */
#ifndef TW_FLOW_INTERNAL_H
#define TW_FLOW_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>

#include "flow.h"

/* One out-of-order piece of a direction, payload copied behind it. */
struct reasm_seg {
	struct reasm_seg *next;
	uint32_t seq;
	uint32_t len;
	uint8_t data[];
};

/* Reassembly state of one direction of a flow. */
struct reasm_dir {
	struct reasm_seg *head;   /* held pieces, sorted by seq, disjoint */
	struct reasm_seg *tail;   /* last held piece: appends are O(1) */
	uint32_t next_seq;        /* next byte expected; every held piece starts after it */
	uint32_t trunc_seq;       /* a captured segment ended here short of its wire length */
	uint32_t syn_seq;         /* sequence number of this direction's SYN */
	uint32_t seq_ref;         /* the furthest sequence number this side is
	                           * known to have reached (flow_seq.c) */
	uint32_t fin_seq;         /* sequence number of this side's FIN */
	uint32_t held_bytes;      /* payload bytes held */
	uint32_t held_cost;       /* held_bytes + FLOW_OOO_SEG_OVERHEAD per piece */
	bool started;             /* next_seq is known (SYN or first payload) */
	bool gapped;              /* gave up: nothing more is delivered */
	bool has_trunc;           /* trunc_seq is set */
	bool has_syn;             /* syn_seq is set */
	bool fin;                 /* this side sent FIN: fin_seq is set */
	bool closed;              /* and every byte before it was had (or
	                           * will not be wanted): half-closed */
	bool has_ref;             /* seq_ref is set */
};

/* A flow as the table keeps it: the public part first, so a struct flow *
 * handed to the consumer converts back with flow_entry_of(). */
struct flow_entry {
	struct flow pub;
	struct flow_entry *hnext;               /* hash chain */
	TAILQ_ENTRY(flow_entry) lru;            /* all flows, most recent first */
	TAILQ_ENTRY(flow_entry) ooo;            /* flows holding data, most recent first */
	uint64_t hash;
	uint64_t source_start_us;               /* ts_us of the source's flow_start */
	bool has_source_start;
	bool on_ooo_list;
	bool ending;                            /* inside flow_entry_end() */
	bool closing;                           /* on the closing list */
	uint64_t closing_since_us;              /* packet time of its second FIN */
	TAILQ_ENTRY(flow_entry) closing_link;   /* flows with both FINs, a hole before one */
	struct reasm_dir dir[2];
};

/* Most recently active first, the oldest at the tail. */
TAILQ_HEAD(flow_list, flow_entry);

/* A flow ended by FIN or RST, as flow_closed.c remembers it: where each
 * side's sequence space began (its SYN) and how far it got. */
struct flow_closed {
	struct flow_closed *hnext;              /* hash chain; the free list */
	TAILQ_ENTRY(flow_closed) link;          /* oldest first */
	uint64_t hash;
	uint64_t closed_us;                     /* the table's clock then */
	struct tw_endpoint ep[2];
	struct flow_closed_dir {
		uint32_t syn_seq;
		uint32_t seq_ref;
		bool has_syn;
		bool has_ref;
	} dir[2];
};

TAILQ_HEAD(flow_closed_list, flow_closed);

/* Flow entries come from slabs of FLOW_SLAB_ENTRIES, kept for reuse: the
 * many small, long-lived entries of decided flows then do not sit between
 * the parser state of handshakes in the heap, so that what a flood's
 * handshakes held can go back to the system when they end. */
#define FLOW_SLAB_ENTRIES 256

struct flow_slab {
	struct flow_slab *next;
	struct flow_entry e[FLOW_SLAB_ENTRIES];
};

struct flow_table {
	struct flow_limits lim;
	struct flow_callbacks cb;
	void *ctx;
	uint64_t seed[2];               /* per-table random hash key */
	struct flow_entry **buckets;
	uint32_t nbuckets;              /* a power of two */
	struct flow_list lru;           /* every flow */
	struct flow_list ooo;           /* flows with held out-of-order data */
	struct flow_list closing;       /* both FINs seen, a hole before one:
					 * oldest first (flow_table.c) */
	uint64_t held_cost;             /* sum of every direction's held_cost */
	uint64_t now_us;                /* latest packet time seen */
	uint64_t next_expire_us;        /* packet time of the next idle scan */
	struct flow_stats stats;
	struct flow_slab *slabs;        /* every slab, freed with the table */
	struct flow_entry *free_entries; /* chained through hnext */
	/* flows ended by FIN or RST (flow_closed.c), allocated on first use */
	struct flow_closed **closed_buckets;
	uint32_t closed_nbuckets;       /* a power of two, 0 until allocated */
	uint32_t closed_count;          /* on the closed list */
	uint32_t closed_max;            /* FLOW_CLOSED_MAX, at most max_flows */
	struct flow_closed_list closed; /* oldest first */
	struct flow_closed *free_closed; /* chained through hnext */
};

static inline struct flow_entry *flow_entry_of(struct flow *f)
{
	return (struct flow_entry *)f;
}

/* Serial-number arithmetic (RFC 1982) on 32-bit sequence numbers. */
static inline bool seq_lt(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

static inline bool seq_le(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) <= 0;
}

/* flow_hash.c */
void flow_hash_seed(uint64_t seed[2]);
uint64_t flow_hash_endpoints(const uint64_t seed[2], const struct tw_endpoint *a,
			     const struct tw_endpoint *b);

/* reasm.c */
/* Payload @p/@len at @seq from direction @from (already started). */
void reasm_push(struct flow_table *t, struct flow_entry *fe, int from,
		uint32_t seq, const uint8_t *p, uint32_t len, uint64_t ts_us);
/* Remembers that the segment at @seq had @len of @wire_len bytes captured:
 * the direction gives up when delivery reaches the missing part. */
void reasm_note_truncated(struct flow_table *t, struct flow_entry *fe, int from,
			  uint32_t seq, uint32_t len, uint32_t wire_len,
			  uint64_t ts_us);
/* The direction will not be completed: gap callback once, free its buffer. */
void reasm_give_up(struct flow_table *t, struct flow_entry *fe, int from,
		   uint64_t ts_us);
/* Frees the held pieces of a direction without counting them as dropped. */
void reasm_release(struct flow_table *t, struct flow_entry *fe, int from);
/* True while the consumer still wants bytes of direction @from. */
bool reasm_wants_data(const struct flow_entry *fe, int from);

/* flow_seq.c */
/* Learns from @seg of direction @from how far each side has got. */
void flow_seq_learn(struct flow_entry *fe, int from, const struct tw_segment *seg);
/* Whether the RST @seg of direction @from may end the flow (see
 * TW_RST_WINDOW in tlswatch/event.h). */
bool flow_rst_plausible(const struct flow_entry *fe, int from,
			const struct tw_segment *seg);

/* flow_table.c, for reasm.c: keeps the list of flows holding data. */
void flow_ooo_update(struct flow_table *t, struct flow_entry *fe);

/* flow_closed.c: flows ended by FIN or RST, kept a while so that their
 * late retransmissions start nothing (flow.h). */
#define FLOW_CLOSED_KEEP_S 60
#define FLOW_CLOSED_MAX    65536u
/* Remembers @fe, which ends now by FIN or RST (nothing when out of memory:
 * its late segments then begin a flow, as they did before). */
void flow_closed_add(struct flow_table *t, const struct flow_entry *fe);
/* Whether @seg (of no flow; @hash its endpoints') is a late one of a
 * closed flow. A new connection on the port pair forgets the closed one. */
bool flow_closed_absorbs(struct flow_table *t, uint64_t hash,
			 const struct tw_segment *seg);
/* Forgets the closed flows older than FLOW_CLOSED_KEEP_S (the clock). */
void flow_closed_expire(struct flow_table *t);
/* Frees every record (flow_table_free). */
void flow_closed_free(struct flow_table *t);

#endif
