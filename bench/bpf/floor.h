/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * What the benchmark floors that look at TCP share (scripts/bench-live.sh):
 * parse Ethernet, IPv4 or IPv6 and TCP from the linear part of the skb and
 * build a flow key of the size of the agent's struct tw_flow_key. No VLAN,
 * no extension headers, no port filter: a floor, not an observer.
 */
#ifndef BENCH_FLOOR_H
#define BENCH_FLOOR_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "tlswatch/headers.h"

#define TC_ACT_UNSPEC (-1)

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

/* What a floor may need of a packet besides its key. */
struct floor_pkt {
	__u32 payload_off;   /* from skb->data */
	__u32 payload_len;   /* TCP payload, from the IP length */
	__u32 seq;
	__u32 ack;
	__u8 tcp_flags;
};

#define TCP_FIN 0x01
#define TCP_RST 0x04

/*
 * Fills @key and @pkt from the packet (inlined: what a floor does not read
 * costs nothing). Returns 0, or -1 for anything but TCP over IPv4/IPv6 in
 * the linear part.
 */
static __always_inline int floor_parse(struct __sk_buff *skb,
				       struct bench_key *key,
				       struct floor_pkt *pkt)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct tcphdr *tcp;
	__u32 ip_end;

	if ((void *)(eth + 1) > end)
		return -1;
	if (eth->h_proto == bpf_htons(TW_ETH_P_IPV4)) {
		struct iphdr *ip = (void *)(eth + 1);

		if ((void *)(ip + 1) > end || ip->protocol != IPPROTO_TCP ||
		    ip->ihl < 5)
			return -1;
		tcp = (void *)ip + ip->ihl * 4;
		key->addr[0][0] = ip->saddr;
		key->addr[1][0] = ip->daddr;
		key->family = 4;
		ip_end = sizeof(*eth) + bpf_ntohs(ip->tot_len);
	} else if (eth->h_proto == bpf_htons(TW_ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > end || ip6->nexthdr != IPPROTO_TCP)
			return -1;
		tcp = (void *)(ip6 + 1);
		__builtin_memcpy(key->addr[0], &ip6->saddr, 16);
		__builtin_memcpy(key->addr[1], &ip6->daddr, 16);
		key->family = 6;
		ip_end = sizeof(*eth) + sizeof(*ip6) + bpf_ntohs(ip6->payload_len);
	} else {
		return -1;
	}
	if ((void *)(tcp + 1) > end)
		return -1;
	key->port[0] = bpf_ntohs(tcp->source);
	key->port[1] = bpf_ntohs(tcp->dest);
	pkt->payload_off = (__u32)((void *)tcp - data) + tcp->doff * 4;
	pkt->payload_len = ip_end > pkt->payload_off ? ip_end - pkt->payload_off : 0;
	pkt->seq = bpf_ntohl(tcp->seq);
	pkt->ack = bpf_ntohl(tcp->ack_seq);
	pkt->tcp_flags = ((__u8 *)tcp)[13];
	return 0;
}

/* The minimal floor's work, which the copy and ring floors build on: the
 * parse and one hash lookup. False for a packet that is not TCP over IP. */
static __always_inline bool floor_minimal(struct __sk_buff *skb,
					  struct bench_key *key,
					  struct floor_pkt *pkt)
{
	if (floor_parse(skb, key, pkt))
		return false;
	bpf_map_lookup_elem(&bench_flows, key);
	return true;
}

/* To or from port 443, the agent's watched port in the bench. */
static __always_inline bool floor_port_443(const struct bench_key *key)
{
	return key->port[0] == 443 || key->port[1] == 443;
}

#endif
