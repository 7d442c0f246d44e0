/* SPDX-License-Identifier: MIT */
/*
 * segments -> flow table -> TLS parser -> judged handshake -> events.
 * Both sources (pcap and the live ring buffer) feed pipeline_segment().
 */
#ifndef TW_PIPELINE_H
#define TW_PIPELINE_H

#include <stdbool.h>
#include <stdint.h>

#include "capture/segment.h"
#include "capture/server_view.h"
#include "cert/findings.h"
#include "event/event.h"
#include "flow/flow.h"
#include "tls/tls_conn.h"

struct pipeline;
struct cert_health;
struct spike_opts;

struct pipeline_opts {
	struct flow_limits flow;
	struct tls_limits tls;
	struct leaf_check_opts leaf;
	const char *observed;          /* "passive" (default) */
	/* Where every event goes (handshake, cert, spike, summary). */
	event_fn emit;
	void *emit_ctx;
	/* Called for a flow whose handshake is decided, so a live source can
	 * stop copying its bytes: at the next pipeline_tick(), and only if the
	 * flow is still open then (done_queue.c). May be NULL. */
	void (*flow_done)(void *ctx, const struct tw_endpoint *client,
			  const struct tw_endpoint *server);
	void *flow_done_ctx;
	/* Whether the source still follows the flow between @client and
	 * @server (takes flow_done_ctx). Asked when an undecided handshake
	 * ends without a FIN or RST (idle, evicted, end of input): false
	 * means the source lost it first (live: the kernel's LRU flow map
	 * evicted its entry), counted in pipeline_flows_lost(), as is a flow
	 * the source began again while undecided (FLOW_END_RESTARTED). NULL:
	 * the source never loses a flow (a capture file). */
	bool (*flow_followed)(void *ctx, const struct tw_endpoint *client,
			      const struct tw_endpoint *server);
	/* A FIN from @from that half-closes a flow flow_done marked (takes
	 * flow_done_ctx; again for a retransmitted one): the source reported
	 * it, so it made it before the marking, perhaps while the marking
	 * was being written (live: flow_map_fin()). May be NULL. */
	void (*flow_fin)(void *ctx, const struct tw_endpoint *from,
			 const struct tw_endpoint *to);
	struct cert_health *health;    /* optional: chain, revocation, inventory */
	const struct spike_opts *spikes; /* optional: spike detection */
	/* analyze --online: a handshake whose certificate needs answers from
	 * the network is held (with every handshake after it, in order) until
	 * they are in, waiting at most this long once it is the oldest held,
	 * and then judged; its events, counts and spikes follow. 0 (run):
	 * judged at once, and the cert event is sent again when the answers
	 * change it. */
	int hold_online_ms;
	/* Memory of the handshakes still undecided (their parser state,
	 * buffers, chain copies); past it the least recently active is
	 * reported incomplete at once and its memory freed (counted in
	 * flows_evicted). 0: PIPELINE_DEFAULT_CONN_BYTES. */
	size_t max_conn_bytes;
	/* Problems for the operator (an unreachable OCSP responder, a failed
	 * inventory write). NULL: logged as warnings. */
	void (*problem)(void *ctx, const char *message);
	void *problem_ctx;
};

#define PIPELINE_DEFAULT_CONN_BYTES (64u << 20)

struct pipeline *pipeline_new(const struct pipeline_opts *o);
void pipeline_free(struct pipeline *pl);

/* Name put in "source" of the events that follow (interface or file). */
void pipeline_set_source(struct pipeline *pl, const char *source);

/* tw_segment_fn-compatible: @ctx is the pipeline. */
void pipeline_segment(void *ctx, const struct tw_segment *seg);
/* tw_server_view_fn-compatible (@ctx is the pipeline): what the server's
 * TLS library said about a connection (live uprobes), merged into its
 * handshake record when reported. A view for a connection not followed
 * (not TLS, decided already) is counted (pipeline_views_unmatched). */
void pipeline_server_view(void *ctx, const struct tw_server_view *v);
uint64_t pipeline_views_unmatched(const struct pipeline *pl);
/* Whether the servers' library views name the ALPN protocol they selected
 * (live uprobes with its offset known): a TLS 1.3 handshake that finished
 * with ALPN offered, on a followed server, then waits for that view, at
 * most a second, as a failure waits for its alert. Default off. */
void pipeline_expect_server_alpn(struct pipeline *pl, bool on);
/* Ends every open connection (incomplete/aborted) at @ts_us; with
 * hold_online_ms, waits for what is held and reports it. */
void pipeline_flush(struct pipeline *pl, uint64_t ts_us);
/* Wall/packet time passes without segments (spike windows, timeouts). */
void pipeline_tick(struct pipeline *pl, uint64_t now_us);

/* Judges the chain of an active check: a cert event with "observed":
 * "active" when new; no handshake event, nothing counted as client traffic. */
void pipeline_report_active(struct pipeline *pl, struct hs_record *rec);

/* Delivers finished online checks (re-emitted cert events). Never blocks. */
void pipeline_drain_checks(struct pipeline *pl);
/* End of input: waits up to @timeout_ms for online checks, then closes
 * the spike windows at @ts_us. */
void pipeline_finish(struct pipeline *pl, uint64_t ts_us, int timeout_ms);
/* An fd readable when pipeline_drain_checks() has work, or -1. */
int pipeline_checks_fd(struct pipeline *pl);

/* Counters so far; the caller adds capture counters before emitting. */
struct summary *pipeline_summary(struct pipeline *pl);
/* Heap bytes held now by undecided handshakes (see max_conn_bytes). */
size_t pipeline_conn_bytes(const struct pipeline *pl);
/* Undecided handshakes the source lost (see pipeline_opts.flow_followed):
 * each was reported incomplete. */
uint64_t pipeline_flows_lost(const struct pipeline *pl);
/* The flow table's counters (flows reopened, evicted, timed out ...). */
const struct flow_stats *pipeline_flow_stats(const struct pipeline *pl);
/* Emits @sum as the summary event. */
void pipeline_emit_summary(struct pipeline *pl, const struct summary *sum);
struct cert_cache *pipeline_cert_cache(struct pipeline *pl);

#endif
