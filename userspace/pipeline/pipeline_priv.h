/* SPDX-License-Identifier: MIT */
/* Internals shared by pipeline.c (flows) and judge.c (handshakes -> events). */
#ifndef TW_PIPELINE_PRIV_H
#define TW_PIPELINE_PRIV_H

#include <sys/queue.h>

#include "cert/health.h"
#include "cert/staple_cache.h"
#include "common/distinct.h"
#include "common/strmap.h"
#include "detect/spike.h"
#include "followed.h"
#include "pipeline.h"

/* What was last said about a leaf served for a (name, address, port), so
 * a cert event is emitted once, and again only when its findings change. */
struct cert_seen {
	struct tw_endpoint server;
	bool has_sni;
	uint16_t sni_len;
	char sni[HS_MAX_SNI + 1];
	uint64_t pin_id;              /* its chain while an online answer may
				       * repeat it (chain_pins_get), or 0 */
	uint32_t finding_mask;        /* bit per enum finding_kind */
	uint64_t ts_us;
	const char *observed;         /* "passive", "active", "server" (static) */
	uint32_t pid;                 /* the serving process ("server"), or 0 */
	char exe[sizeof(((struct hs_record *)0)->server_exe)];
	char comm[sizeof(((struct hs_record *)0)->server_comm)];
};

/* Bound on remembered (name, address, port, leaf) tuples: past it the
 * memory is reset and tuples are announced again (documented). */
#define PIPELINE_MAX_CERT_EVENTS 65536

/* chain_pins.c: chains kept alive for cert events an online answer may
 * repeat: one per wait the health checker keeps, and let go of in the
 * same order (the least recently kept first) or when it says the wait is
 * over (settled), so a wait never outlives its chain. */
#define PIPELINE_MAX_PINNED_CHAINS CERT_HEALTH_MAX_WAITS

struct pinned_chain {
	uint64_t id;                  /* 0: a free slot */
	int n_chain;
	const struct cert_info *chain[HS_MAX_CHAIN];
	TAILQ_ENTRY(pinned_chain) link;   /* in kept, or in free */
};

TAILQ_HEAD(pinned_list, pinned_chain);

struct chain_pins {
	struct pinned_chain *slots;   /* PIPELINE_MAX_PINNED_CHAINS, on first
				       * use; id - 1 modulo: the slot */
	struct pinned_list kept;      /* most recently kept first */
	struct pinned_list free;
	uint64_t ids;                 /* ids handed out */
};

/* Bound on handshakes held for online answers (analyze --online): a full
 * queue waits for its oldest. */
#define PIPELINE_MAX_HELD 1024

struct held_record;
struct conn;

/* The undecided handshakes, most recently active first: the connection
 * budget (max_conn_bytes) takes from the tail. */
struct conn_lru {
	TAILQ_HEAD(conn_list, conn) lru;
	size_t bytes;                 /* sum of their tls_conn_mem() */
	size_t trim_mark;             /* bytes when memory was last returned */
	uint64_t evicted;
	uint64_t evicted_again;       /* of them, flows the flow table's own
				       * bound evicted later (counted once) */
	uint64_t deferred;            /* waiting for the server's view: */
	struct conn_list waiting;     /* them, oldest first */
};

/* How long a decided handshake waits for the server library's view of
 * the client's alert, or of the ALPN protocol it selected (it comes with
 * the server's close, microseconds later for a failure; this bounds a
 * server that never closes, and a connection that outlives it). */
#define PIPELINE_SERVER_ALERT_WAIT_US 1000000ull

/* server_view.c: what the server's library said about one connection. */
struct conn_server;
/* Adds @v to *@cs (allocated on first use). 0, or -1 out of memory. */
int conn_server_add(struct conn_server **cs, const struct tw_server_view *v);
/* Moves the chain into @rec when the wire showed none, and the alert. */
void conn_server_apply(struct conn_server *cs, struct hs_record *rec);
/* True when @rec's failure is a client alert (inferred encrypted, or
 * plaintext) that the followed server's library will name. */
bool conn_server_awaits_alert(const struct conn_server *cs,
			      const struct hs_record *rec);
/* True when @rec finished in TLS 1.3 with ALPN offered, and the followed
 * server's library will name the protocol it selected; @server_followed:
 * the server's library served a chain on an earlier connection. */
bool conn_server_awaits_alpn(const struct conn_server *cs, bool server_followed,
			     const struct hs_record *rec);
/* True when a chain view came for the connection. */
bool conn_server_has_chain(const struct conn_server *cs);
size_t conn_server_mem(const struct conn_server *cs);
void conn_server_free(struct conn_server *cs);

/* Handshakes waiting for online answers, oldest first (a ring). */
struct hold_queue {
	struct held_record **ring;    /* PIPELINE_MAX_HELD slots, on first use */
	size_t first, n;
	int64_t first_since_ms;       /* when the oldest became the oldest */
};

/* done_queue.c: flows to mark done at the source at the turn's end. */
#define DONE_QUEUE_MAX 4096
struct done_entry;
struct done_queue {
	struct done_entry *items;     /* DONE_QUEUE_MAX, allocated on first use */
	size_t n;
};

struct pipeline {
	struct pipeline_opts opts;
	struct flow_table *flows;
	struct cert_cache *certs;
	struct staple_cache *staples;  /* memoized staple checks */
	struct host_memo *hosts;       /* memoized hostname verdicts */
	struct strmap *cert_events;   /* key: sni|addr|port|sha -> cert_seen */
	struct chain_pins pins;       /* chains of cert_events kept alive */
	struct distinct *leaves;      /* distinct leaf fingerprints */
	struct distinct *all_certs;   /* distinct fingerprints, any position */
	struct tls_fp_cache *fp_cache; /* JA3/JA4 per distinct ClientHello shape */
	struct spike_detector *spikes;
	uint64_t spike_clock_s;       /* last second the detector was advanced */
	const char *source;
	struct summary sum;
	struct hold_queue held;
	struct conn_lru conns;
	uint64_t flows_lost;          /* see pipeline_flows_lost() */
	uint64_t views_unmatched;     /* server views of no followed connection */
	bool server_alpn;             /* the servers' libraries name their ALPN */
	struct followed_servers followed; /* followed.h */
	struct done_queue done;
};

/* struct flow.user_flags: the flow was marked done at the source. */
#define PL_FLOW_MARKED 0x01
/* ... its handshake was evicted by the memory budget (flows_evicted). */
#define PL_FLOW_EVICTED 0x02

/* done_queue.c: @f (client endpoint @client) is to be marked done at the
 * source; flush: those still open are, now (PL_FLOW_MARKED); flow_ends:
 * @f (client endpoint @client) leaves the flow table for @why, and if the
 * flush would have marked it, it is marked now; free: at the end. */
void done_queue_add(struct pipeline *pl, struct flow *f, int client);
void done_queue_flow_ends(struct pipeline *pl, struct flow *f, int client,
			  enum flow_end_reason why);
void done_queue_flush(struct pipeline *pl);
void done_queue_free(struct pipeline *pl);

/* Hands @ev, stamped with the current source, to opts.emit. */
void pipeline_emit(struct pipeline *pl, struct event *ev);
/* Judges @rec now, or holds it (hold.c) and judges it later. */
void judge_record(struct pipeline *pl, struct hs_record *rec);
/* Judges @rec now: events, counts, spikes. */
void judge_now(struct pipeline *pl, struct hs_record *rec);
/* True while @rec's certificate needs answers still on their way; starts
 * the requests it needs. */
bool judge_awaits_answers(struct pipeline *pl, const struct hs_record *rec);
/* Delivers finished online checks, waiting at most @timeout_ms for them. */
void judge_wait_checks(struct pipeline *pl, int timeout_ms);
/* Advances the spike detector to @now_us (whole seconds). */
void judge_advance_spikes(struct pipeline *pl, uint64_t now_us);

/* hold.c: true when @rec was taken (its blobs too) to be judged later. */
bool hold_record(struct pipeline *pl, struct hs_record *rec);
enum hold_release { HOLD_READY, HOLD_WAIT, HOLD_NOW };
/* Judges the held records from the oldest: HOLD_READY those whose answers
 * are in (or whose wait ran out), HOLD_WAIT all after waiting for their
 * answers (bounded), HOLD_NOW all at once. */
void hold_release(struct pipeline *pl, enum hold_release how);
void hold_free(struct pipeline *pl);
void judge_tick(struct pipeline *pl, uint64_t now_us);
void judge_spike_event(void *ctx, const struct spike_event *ev);

/* chain_pins.c: unpins the chain judge_chain() pinned in @v. */
void chain_pins_view_release(struct pipeline *pl, struct hs_view *v);
/* Pins @chain in place of @old_id's (same id) while that one is still
 * kept, else under a new id, letting the least recently kept go when all
 * PIPELINE_MAX_PINNED_CHAINS are taken. Its id, or 0 out of memory. */
uint64_t chain_pins_keep(struct pipeline *pl, uint64_t old_id,
			 const struct cert_info *const *chain, int n);
/* The chain kept as @id, NULL once let go. */
const struct pinned_chain *chain_pins_get(const struct pipeline *pl, uint64_t id);
void chain_pins_drop(struct pipeline *pl, uint64_t id);
/* Lets go of every chain kept (the cert events they were kept for were
 * forgotten). */
void chain_pins_drop_all(struct pipeline *pl);
void chain_pins_free(struct pipeline *pl);

#endif
