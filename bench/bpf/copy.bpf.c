// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Benchmark floor 3 (scripts/bench-live.sh): the minimal floor plus the
 * copy itself: the TCP payload of every packet to or from port 443 (up to
 * 4 KiB) read with bpf_skb_load_bytes() into a per-CPU buffer, as a TC
 * observer that hands handshake bytes to userspace must at least do. It
 * copies every payload packet (the agent only those of flows in their
 * handshake), and its buffer stays hot in the cache (the agent writes
 * into a ring buffer that moves on): a floor for the copying, not a model
 * of a ring buffer. Returns TC_ACT_UNSPEC like the agent.
 */
#include "floor.h"

#define COPY_MAX 4096

char LICENSE[] SEC("license") = "Dual MIT/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u8[COPY_MAX]);
} bench_copy SEC(".maps");

SEC("tc")
int bench_copy_floor(struct __sk_buff *skb)
{
	struct bench_key key = {};
	struct floor_pkt pkt;
	__u32 zero = 0;
	__u64 n;
	__u8 *buf;

	if (!floor_minimal(skb, &key, &pkt) || pkt.payload_len == 0 ||
	    !floor_port_443(&key))
		return TC_ACT_UNSPEC;
	buf = bpf_map_lookup_elem(&bench_copy, &zero);
	if (!buf)
		return TC_ACT_UNSPEC;
	/* the agent's clamp: 0 < n <= COPY_MAX on the register passed */
	n = pkt.payload_len;
	barrier_var(n);
	if (n > COPY_MAX)
		n = COPY_MAX;
	barrier_var(n);
	if (n > 0)
		bpf_skb_load_bytes(skb, pkt.payload_off, buf, n);
	return TC_ACT_UNSPEC;
}
