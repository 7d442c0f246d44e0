/* SPDX-License-Identifier: MIT */
/*
 * Tunnels, for the TC program: after the outer IP header (tw_parse_packet()
 * said TW_PARSE_ENCAP), removes at most TW_MAX_DECAP encapsulations and
 * parses the inner TCP segment into the same struct tw_pkt, with the
 * outermost encapsulation in p->tun. The inner 4-tuple is the flow's.
 *
 * IPIP, 6in4, 4in6, IP6IP6 (IP protocols 4 and 41), GRE (protocol 47:
 * checksum, key and sequence number; IPv4, IPv6 or Ethernet inside), and
 * UDP on the ports userspace lists in tw_udp_encap: VXLAN, Geneve (options
 * skipped), FOU (IPv4, IPv6 or GRE right after the UDP header, told apart
 * by the first nibble: a GRE header with the bits of version 4 or 6 set is
 * invalid, RFC 2784) and GUE (variant 0 with its optional fields, variant
 * 1; control messages skipped). Not decapsulated: GRE with routing or
 * version 1 (PPTP), ERSPAN, MPLS, outer IP fragments (counted as such).
 *
 * tw_decap() is a global function: only packets whose IP protocol may be a
 * tunnel get here, and the verifier checks it once.
 */
#ifndef TW_BPF_DECAP_H
#define TW_BPF_DECAP_H

#include "parse.h"

#define GRE_F_CSUM   0x8000
#define GRE_F_ROUTE  0x4000
#define GRE_F_KEY    0x2000
#define GRE_F_SEQ    0x1000
#define GRE_VER_MASK 0x0007

#define VXLAN_F_VNI  0x08   /* the I flag: the VNI is valid */
#define UDP_HLEN     8
#define VXLAN_HLEN   8
#define GENEVE_HLEN  8
#define GUE_HLEN     4
#define GUE_F_CTRL   0x20

/*
 * Which encapsulation a UDP destination port carries (enum
 * tw_tunnel_type; 0: none): one byte read per UDP packet. Userspace fills
 * it from --udp-encap through the skeleton's mmap of .bss, after load.
 */
__u8 tw_udp_encap[65536];

/* What the encapsulation header in front of the inner packet said. */
struct tw_encap {
	__u32 id;
	__u16 inner;         /* TW_ETH_P_IPV4, TW_ETH_P_IPV6 or TW_ETH_P_TEB */
	__u8 type;           /* enum tw_tunnel_type */
	__u8 has_id;
};

/* The ethertype of a GRE or Geneve protocol type we follow, or 0 (not
 * IP: given up, tw_decap). */
static __always_inline __u16 tw_inner_ethertype(__u16 ptype)
{
	return ptype == TW_ETH_P_IPV4 || ptype == TW_ETH_P_IPV6 ||
	       ptype == TW_ETH_P_TEB ? ptype : 0;
}

/* IP version nibble of the byte at *@off: TW_ETH_P_IPV4, TW_ETH_P_IPV6 or 0. */
static __always_inline __u16 tw_ip_by_nibble(__u8 b)
{
	return (b >> 4) == 4 ? TW_ETH_P_IPV4 : (b >> 4) == 6 ? TW_ETH_P_IPV6 : 0;
}

/* GRE header at *@off (RFC 2784, RFC 2890 key and sequence number). */
static __always_inline int tw_parse_gre(struct __sk_buff *skb, __u32 *off,
					struct tw_encap *e)
{
	__u8 h[4];
	__u32 hl = 4, key;
	__u16 flags;

	if (tw_load(skb, *off, h, sizeof(h)))
		return TW_PARSE_BAD;
	flags = (__u16)h[0] << 8 | h[1];
	if (flags & (GRE_F_ROUTE | GRE_VER_MASK))
		return TW_PARSE_SKIP;
	/* 0 for another protocol type: tw_decap gives it up, not IP */
	e->inner = tw_inner_ethertype((__u16)h[2] << 8 | h[3]);
	if (flags & GRE_F_CSUM)
		hl += 4;
	if (flags & GRE_F_KEY) {
		if (tw_load(skb, *off + hl, &key, sizeof(key)))
			return TW_PARSE_BAD;
		if (!e->type) {
			e->id = bpf_ntohl(key);
			e->has_id = 1;
		}
		hl += 4;
	}
	if (flags & GRE_F_SEQ)
		hl += 4;
	if (!e->type)
		e->type = e->inner == TW_ETH_P_TEB ? TW_TUN_GRETAP : TW_TUN_GRE;
	*off += hl;
	return TW_PARSE_OK;
}

/* VXLAN (RFC 7348) or Geneve (RFC 8926) header at *@off. */
static __always_inline int tw_parse_vni(struct __sk_buff *skb, __u32 *off,
					struct tw_encap *e)
{
	__u8 h[8];

	if (tw_load(skb, *off, h, sizeof(h)))
		return TW_PARSE_BAD;
	e->id = (__u32)h[4] << 16 | (__u32)h[5] << 8 | h[6];
	e->has_id = 1;
	if (e->type == TW_TUN_VXLAN) {
		if (!(h[0] & VXLAN_F_VNI))
			return TW_PARSE_SKIP;
		e->inner = TW_ETH_P_TEB;
		*off += VXLAN_HLEN;
		return TW_PARSE_OK;
	}
	if (h[0] >> 6)         /* a Geneve version we do not know */
		return TW_PARSE_SKIP;
	e->inner = tw_inner_ethertype((__u16)h[2] << 8 | h[3]); /* as GRE's */
	*off += GENEVE_HLEN + (__u32)(h[0] & 0x3f) * 4;
	return TW_PARSE_OK;
}

/*
 * FOU or GUE payload at *@off: the inner ethertype in e->inner, or *@gre
 * when a GRE header follows. (Four bytes are read for FOU too: what it
 * carries is longer.)
 */
static __always_inline int tw_parse_fou_gue(struct __sk_buff *skb, __u32 *off,
					    struct tw_encap *e, bool *gre)
{
	__u8 h[GUE_HLEN];

	if (tw_load(skb, *off, h, sizeof(h)))
		return TW_PARSE_BAD;
	*gre = false;
	if (e->type == TW_TUN_FOU || (h[0] >> 6) == 1) {
		/* FOU, GUE variant 1: the inner header right here */
		e->inner = tw_ip_by_nibble(h[0]);
		*gre = !e->inner && e->type == TW_TUN_FOU;
		return e->inner || *gre ? TW_PARSE_OK : TW_PARSE_SKIP;
	}
	if ((h[0] >> 6) != 0 || (h[0] & GUE_F_CTRL))
		return TW_PARSE_SKIP;
	*off += GUE_HLEN + (__u32)(h[0] & 0x1f) * 4;
	e->inner = h[1] == TW_IPPROTO_IPIP ? TW_ETH_P_IPV4 :
		   h[1] == TW_IPPROTO_IPV6 ? TW_ETH_P_IPV6 : 0;
	*gre = h[1] == TW_IPPROTO_GRE;
	return e->inner || *gre ? TW_PARSE_OK : TW_PARSE_SKIP;
}

/* UDP header at *@off, and the encapsulation its destination port names. */
static __always_inline int tw_parse_udp_encap(struct __sk_buff *skb, __u32 *off,
					      struct tw_encap *e)
{
	struct udphdr uh;
	bool gre = false;
	int r;

	if (tw_load_hdr(skb, *off, &uh))
		return TW_PARSE_BAD;
	e->type = tw_udp_encap[bpf_ntohs(uh.dest)];
	*off += UDP_HLEN;
	switch (e->type) {
	case TW_TUN_VXLAN:
	case TW_TUN_GENEVE:
		return tw_parse_vni(skb, off, e);
	case TW_TUN_FOU:
	case TW_TUN_GUE:
		r = tw_parse_fou_gue(skb, off, e, &gre);
		if (r != TW_PARSE_OK || !gre)
			return r;
		return tw_parse_gre(skb, off, e);
	default:
		return TW_PARSE_SKIP;
	}
}

/* The encapsulation header of IP protocol @proto at *@off; @family is the
 * carrying IP header's. */
static __always_inline int tw_parse_encap(struct __sk_buff *skb, __u32 *off,
					  __u32 proto, __u8 family,
					  struct tw_encap *e)
{
	switch (proto) {
	case TW_IPPROTO_IPIP:
		e->type = family == 4 ? TW_TUN_IPIP : TW_TUN_IP4IP6;
		e->inner = TW_ETH_P_IPV4;
		return TW_PARSE_OK;
	case TW_IPPROTO_IPV6:
		e->type = family == 4 ? TW_TUN_SIT : TW_TUN_IP6IP6;
		e->inner = TW_ETH_P_IPV6;
		return TW_PARSE_OK;
	case TW_IPPROTO_GRE:
		return tw_parse_gre(skb, off, e);
	case TW_IPPROTO_UDP:
		return tw_parse_udp_encap(skb, off, e);
	default:
		return TW_PARSE_SKIP;
	}
}

/* The first layer names the tunnel: the outer addresses still in @p. */
static __always_inline void tw_tun_record(struct tw_pkt *p,
					  const struct tw_encap *e)
{
	__builtin_memcpy(p->tun.saddr, p->saddr, 16);
	__builtin_memcpy(p->tun.daddr, p->daddr, 16);
	p->tun.family = p->family;
	p->tun.type = e->type;
	p->tun.id = e->id;
	p->tun.flags = e->has_id ? TW_TUNF_ID : 0;
}

/*
 * Removes the encapsulations of the packet in @p (outer addresses parsed,
 * *@off past the outer IP header whose protocol is @proto) and parses the
 * inner TCP segment. TW_PARSE_OK, or why not (TW_PARSE_DEEP: nested deeper
 * than TW_MAX_DECAP).
 */
__noinline int tw_decap(struct __sk_buff *skb, struct tw_pkt *p, __u32 off,
			__u32 proto)
{
	__u32 l4_len = 0;
	__u16 inner;
	int i, r;

	if (!p)
		return TW_PARSE_BAD;
	for (i = 0; i < TW_MAX_DECAP; i++) {
		struct tw_encap e = {};

		r = tw_parse_encap(skb, &off, proto, p->family, &e);
		if (r != TW_PARSE_OK)
			return r;
		if (i == 0)
			tw_tun_record(p, &e);
		p->tun.depth = i + 1;
		/* an IPv4 header sets word 0 only: no outer IPv6 bytes behind */
		__builtin_memset(p->saddr, 0, sizeof(p->saddr));
		__builtin_memset(p->daddr, 0, sizeof(p->daddr));
		inner = e.inner;
		if (inner == TW_ETH_P_TEB) {
			r = tw_parse_eth(skb, &off, &inner, false);
			if (r != TW_PARSE_OK)
				return r;
		}
		if (inner == TW_ETH_P_IPV4)
			r = tw_parse_ipv4(skb, &off, p, &l4_len, &proto);
		else if (inner == TW_ETH_P_IPV6)
			r = tw_parse_ipv6(skb, &off, p, &l4_len, &proto);
		else {  /* not IP (GRE's or Geneve's protocol type, the
			 * carried frame's ethertype): counted as such */
			p->family = 0;
			return TW_PARSE_SKIP;
		}
		if (r == TW_PARSE_OK)
			return tw_parse_tcp(skb, off, l4_len, p);
		if (r != TW_PARSE_ENCAP)
			return r;
	}
	return TW_PARSE_DEEP;
}

#endif
