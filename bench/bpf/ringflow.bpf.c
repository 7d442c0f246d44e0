// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Benchmark floor 6 (scripts/bench-live.sh): the ring + flow floor, the
 * least a TC program must do to hand each flow's first bytes to userspace.
 * Parse; for a packet to or from port 443 with payload, FIN or RST (as the
 * agent: its pure ACKs cost no lookup) the flow lookup, the flow's insert
 * on its first payload packet, its delete on FIN or RST (floor_flow.h);
 * each payload of a tracked flow written into the ring (floor_ring.h)
 * while its sender is within the agent's byte budget
 * (TW_DEFAULT_DIR_BUDGET). The agent also stops copying once userspace has
 * the handshake, so this floor copies a little more (a handshake's
 * close_notify alerts). No preamble, wakeups or counters. Returns
 * TC_ACT_UNSPEC like the agent.
 */
#include "floor_ring.h"
#include "floor_flow.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

/* Copies the payload of flow @v's endpoint @from within its budget. */
static __always_inline void floor_copy_tracked(struct __sk_buff *skb,
					       const struct bench_key *key,
					       const struct floor_pkt *pkt,
					       struct tw_flow_val *v, int from)
{
	__u32 *copied = from ? &v->copied[1] : &v->copied[0];

	if (pkt->payload_len && *copied < TW_DEFAULT_DIR_BUDGET)
		*copied += floor_ring_copy(skb, key, pkt);
}

SEC("tc")
int bench_ringflow_floor(struct __sk_buff *skb)
{
	struct bench_key key = {};
	struct tw_flow_key fk;
	struct floor_pkt pkt;
	struct tw_flow_val *v;
	int from;

	if (floor_parse(skb, &key, &pkt) || !floor_flow_matters(&key, &pkt))
		return TC_ACT_UNSPEC;
	v = floor_flow_find(&key, &fk, &from);
	if (v) {
		floor_copy_tracked(skb, &key, &pkt, v, from);
		floor_flow_close(&fk, &pkt);
	} else if (floor_flow_starts(&key, &pkt)) {
		floor_flow_insert(&fk, from, floor_ring_copy(skb, &key, &pkt));
	}
	return TC_ACT_UNSPEC;
}
