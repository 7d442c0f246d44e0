// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Benchmark floor 4 (scripts/bench-live.sh): the minimal floor plus the
 * payload of every packet to or from port 443 (up to 4 KiB) written into a
 * ring buffer of the agent's size, as one record of the agent's layout and
 * size (floor_ring.h), submitted without a wakeup while bench/drain.c reads
 * the ring. The copy floor with the agent's destination: memory that moves
 * on, so it is cold. Like the copy floor it copies every payload packet,
 * the agent only those of flows in their handshake. Returns TC_ACT_UNSPEC
 * like the agent.
 */
#include "floor_ring.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

SEC("tc")
int bench_ring_floor(struct __sk_buff *skb)
{
	struct bench_key key = {};
	struct floor_pkt pkt;

	if (!floor_minimal(skb, &key, &pkt) || pkt.payload_len == 0 ||
	    !floor_port_443(&key))
		return TC_ACT_UNSPEC;
	floor_ring_copy(skb, &key, &pkt);
	return TC_ACT_UNSPEC;
}
