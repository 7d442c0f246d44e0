// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Benchmark floor 2 (scripts/bench-live.sh): the least a flow-aware TC
 * observer has to do on every packet: parse Ethernet, IPv4 or IPv6 and
 * TCP from the linear part of the skb, build a flow key and look it up
 * once in an LRU hash of the agent's size. The map stays empty, so the
 * lookup always misses, as it does for most packets of bulk traffic in
 * the agent. No VLAN, no extension headers, no port filter: a floor, not
 * an observer. Returns TC_ACT_UNSPEC like the agent.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define TC_ACT_UNSPEC (-1)
#define ETH_P_IP      0x0800
#define ETH_P_IPV6    0x86DD

char LICENSE[] SEC("license") = "Dual MIT/GPL";

struct bench_key {          /* the size of the agent's struct tw_flow_key */
	__u32 addr[2][4];
	__u16 port[2];
	__u8 family;
	__u8 pad[3];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct bench_key);
	__type(value, __u64);
} bench_flows SEC(".maps");

SEC("tc")
int bench_minimal(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct bench_key key = {};
	struct tcphdr *tcp;

	if ((void *)(eth + 1) > end)
		return TC_ACT_UNSPEC;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);

		if ((void *)(ip + 1) > end || ip->protocol != IPPROTO_TCP ||
		    ip->ihl < 5)
			return TC_ACT_UNSPEC;
		tcp = (void *)ip + ip->ihl * 4;
		key.addr[0][0] = ip->saddr;
		key.addr[1][0] = ip->daddr;
		key.family = 4;
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > end || ip6->nexthdr != IPPROTO_TCP)
			return TC_ACT_UNSPEC;
		tcp = (void *)(ip6 + 1);
		__builtin_memcpy(key.addr[0], &ip6->saddr, 16);
		__builtin_memcpy(key.addr[1], &ip6->daddr, 16);
		key.family = 6;
	} else {
		return TC_ACT_UNSPEC;
	}
	if ((void *)(tcp + 1) > end)
		return TC_ACT_UNSPEC;
	key.port[0] = bpf_ntohs(tcp->source);
	key.port[1] = bpf_ntohs(tcp->dest);
	bpf_map_lookup_elem(&bench_flows, &key);
	return TC_ACT_UNSPEC;
}
