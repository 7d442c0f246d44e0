// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Benchmark floor 5 (scripts/bench-live.sh): the minimal floor with the
 * agent's flow tracking (floor_flow.h) in place of its lookup in an empty
 * map: the lookup per packet, in a map of the agent's kind, key and value,
 * an insert on a flow's first payload packet to or from port 443, a delete
 * on its FIN or RST; so it costs the minimal floor plus what the agent's
 * flow entries cost. Copies nothing. Returns TC_ACT_UNSPEC like the agent.
 */
#include "floor_flow.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

SEC("tc")
int bench_flow_floor(struct __sk_buff *skb)
{
	struct bench_key key = {};
	struct tw_flow_key fk;
	struct floor_pkt pkt;
	int from;

	if (floor_parse(skb, &key, &pkt))
		return TC_ACT_UNSPEC;
	if (floor_flow_find(&key, &fk, &from))
		floor_flow_close(&fk, &pkt);
	else if (floor_flow_starts(&key, &pkt))
		floor_flow_insert(&fk, from, 0);
	return TC_ACT_UNSPEC;
}
