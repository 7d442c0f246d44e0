/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * What the flow floors share (scripts/bench-live.sh): the agent's per-flow
 * state, as little of it as the job needs. A map of the agent's type,
 * size, key and value (tw_flows: LRU hash, struct tw_flow_key, struct
 * tw_flow_val), the key in the agent's canonical order so both directions
 * find one entry; a flow's entry inserted on
 * its first payload packet to or from port 443 and deleted on FIN or RST,
 * as the agent's tw_flow_first and tw_flow_closing do (without the
 * agent's second lookup after the insert, or its wait for both FINs).
 * Which packets look their flow up is the floor's own choice: every one
 * (flow.bpf.c: the minimal floor's lookup per packet, made in this map),
 * or only those floor_flow_matters() (ringflow.bpf.c, as the agent).
 * Pinned by name, so the ingress and egress programs share it.
 */
#ifndef BENCH_FLOOR_FLOW_H
#define BENCH_FLOOR_FLOW_H

#include "floor.h"
#include "tlswatch/event.h"

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, TW_DEFAULT_MAX_FLOWS);
	__type(key, struct tw_flow_key);
	__type(value, struct tw_flow_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bench_flow_map SEC(".maps");

/* The packet's flow, or NULL; *@from: the sender's index in @fk. */
static __always_inline struct tw_flow_val *
floor_flow_find(struct bench_key *key, struct tw_flow_key *fk, int *from)
{
	*from = tw_flow_key_make(fk, key->family, key->addr[0], key->port[0],
				 key->addr[1], key->port[1]) & 1;
	return bpf_map_lookup_elem(&bench_flow_map, fk);
}

/* A packet the agent looks its flow up for: to or from port 443, with
 * payload or FIN or RST (its pure ACKs cost the parse and a port test). */
static __always_inline bool floor_flow_matters(const struct bench_key *key,
					       const struct floor_pkt *pkt)
{
	return floor_port_443(key) &&
	       (pkt->payload_len || (pkt->tcp_flags & (TCP_FIN | TCP_RST)));
}

/* A packet that starts a flow: payload to or from port 443, no FIN/RST. */
static __always_inline bool floor_flow_starts(const struct bench_key *key,
					      const struct floor_pkt *pkt)
{
	return pkt->payload_len &&
	       !(pkt->tcp_flags & (TCP_FIN | TCP_RST)) &&
	       floor_port_443(key);
}

/* The flow's entry, with @copied bytes sent by endpoint @from. */
static __always_inline void floor_flow_insert(struct tw_flow_key *fk,
					      int from, __u32 copied)
{
	struct tw_flow_val nv = { .state = TW_FLOW_HANDSHAKE };

	if (from)
		nv.copied[1] = copied;
	else
		nv.copied[0] = copied;
	bpf_map_update_elem(&bench_flow_map, fk, &nv, BPF_NOEXIST);
}

/* A known flow's FIN or RST: its entry goes. */
static __always_inline void floor_flow_close(struct tw_flow_key *fk,
					     const struct floor_pkt *pkt)
{
	if (pkt->tcp_flags & (TCP_FIN | TCP_RST))
		bpf_map_delete_elem(&bench_flow_map, fk);
}

#endif
