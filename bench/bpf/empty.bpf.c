// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Benchmark floor 1 (scripts/bench-live.sh): a TC classifier that does
 * nothing. Its cost per packet is what calling a TC program at all costs,
 * plus the cost of kernel.bpf_stats_enabled itself (two clock reads).
 * Returns TC_ACT_UNSPEC like the agent, so the packet goes on unchanged.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual MIT/GPL";

SEC("tc")
int bench_empty(struct __sk_buff *skb)
{
	return -1; /* TC_ACT_UNSPEC */
}
