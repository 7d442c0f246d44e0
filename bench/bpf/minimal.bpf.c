// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Benchmark floor 2 (scripts/bench-live.sh): the least a flow-aware TC
 * observer has to do on every packet: parse Ethernet, IPv4 or IPv6 and
 * TCP, build a flow key and look it up once in an LRU hash of the agent's
 * size (floor.h). The map stays empty, so the lookup always misses, as it
 * does for most packets of bulk traffic in the agent. Returns
 * TC_ACT_UNSPEC like the agent.
 */
#include "floor.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

SEC("tc")
int bench_minimal(struct __sk_buff *skb)
{
	struct bench_key key = {};
	struct floor_pkt pkt;

	floor_minimal(skb, &key, &pkt);
	return TC_ACT_UNSPEC;
}
