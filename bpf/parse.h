/* SPDX-License-Identifier: MIT */
/*
 * Header parsing for the TC program: Ethernet with VLAN tags, IPv4
 * (options, AH, no fragments), IPv6 (extension headers, atomic fragments,
 * no others), TCP; as many tags and extension headers as userspace follows
 * (include/tlswatch/headers.h); and the first step into a tunnel (an IP protocol that may
 * encapsulate: bpf/decap.h goes on from there). Every header is copied to
 * the stack before it is looked at: directly when it sits in the linear
 * part of the skb, with bpf_skb_load_bytes() otherwise, so one code path
 * serves both and no pointer into the packet outlives the check that made
 * it valid.
 */
#ifndef TW_BPF_PARSE_H
#define TW_BPF_PARSE_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "tlswatch/headers.h"
#include "tlswatch/tunnel.h"

#define VLAN_HLEN      4

#define TW_MAX_DIRECT_OFF 1024 /* bounds the packet pointer arithmetic */

/* What parsing learnt about one TCP segment. */
struct tw_pkt {
	__u32 saddr[4];      /* network byte order; IPv4 in word 0 */
	__u32 daddr[4];
	__u16 sport;         /* host byte order */
	__u16 dport;
	__u32 seq;           /* host byte order */
	__u32 ack;
	__u32 payload_off;   /* from skb->data */
	__u32 payload_len;   /* TCP payload bytes, from the IP length */
	__u8 family;         /* 4 or 6 */
	__u8 tcp_flags;      /* low 5 bits: FIN SYN RST PSH ACK */
	struct tw_tun tun;   /* the outermost encapsulation; type 0: none */
};

enum tw_parse_result {
	TW_PARSE_OK,         /* a TCP segment */
	TW_PARSE_SKIP,       /* not IP, not TCP: nothing to do; family 0:
			      * no IP header at the layer given up (not_ip),
			      * else the IP packet's (not_tcp) */
	TW_PARSE_BAD,        /* truncated or impossible header, or more VLAN
			      * tags or IPv6 extension headers than
			      * followed */
	TW_PARSE_FRAG,       /* an IP fragment: skipped */
	TW_PARSE_ENCAP,      /* an IP protocol that may encapsulate: the
			      * addresses are the outer ones, the offset is
			      * past the IP header (bpf/decap.h goes on) */
	TW_PARSE_DEEP,       /* more than TW_MAX_DECAP encapsulations */
};

/* An IP protocol that may carry a tunnel (UDP: if the port says so). Only
 * asked about packets that are not TCP: plain traffic pays nothing. */
static __always_inline bool tw_encap_proto(__u8 proto)
{
	return proto == TW_IPPROTO_IPIP || proto == TW_IPPROTO_IPV6 ||
	       proto == TW_IPPROTO_GRE || proto == TW_IPPROTO_UDP;
}

/* Copies @len bytes at @off from the packet into @buf: a few bytes, or a
 * header whose type says nothing of its alignment (see tw_load_hdr). */
static __always_inline int tw_load(struct __sk_buff *skb, __u32 off, void *buf,
				   __u32 len)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;

	if (off <= TW_MAX_DIRECT_OFF) {
		void *p = data + off;

		if (p + len <= end) {
			__builtin_memcpy(buf, p, len);
			return 0;
		}
	}
	return bpf_skb_load_bytes(skb, off, buf, len);
}

/*
 * Copies the header *@hdr (a struct of its protocol: ethhdr, iphdr,
 * ipv6hdr, tcphdr, udphdr) at @off from the packet. In the linear part
 * it is a struct assignment, so clang copies in the type's own words:
 * tw_load's memcpy from a void pointer can assume no alignment and copies
 * byte by byte, three instructions a byte, which was a fifth of the
 * program's instructions on every packet. The loads may be unaligned (an
 * IP header after a 14-byte Ethernet one): the verifier allows that on
 * CPUs with efficient unaligned access (x86, arm64: the Makefile's
 * targets), and elsewhere takes the packet start as NET_IP_ALIGN-ed,
 * which makes such an IP header aligned.
 */
#define tw_load_hdr(skb, off, hdr) ({                                      \
	void *data_ = (void *)(long)(skb)->data;                           \
	void *end_ = (void *)(long)(skb)->data_end;                        \
	__u32 off_ = (off);                                                \
	int r_ = 0;                                                        \
									   \
	if (off_ <= TW_MAX_DIRECT_OFF &&                                   \
	    data_ + off_ + sizeof(*(hdr)) <= end_)                         \
		*(hdr) = *(typeof(hdr))(data_ + off_);                      \
	else                                                               \
		r_ = bpf_skb_load_bytes(skb, off_, hdr, sizeof(*(hdr)));    \
	r_;                                                                \
})

/*
 * Ethernet and VLAN tags at *@off: returns the L3 ethertype, *off past
 * the tags; TW_PARSE_BAD past TW_MAX_VLAN_TAGS of them. Of the @outer
 * frame (not one a tunnel carries: bpf/decap.h), the skb may hold the
 * outer tag in its metadata instead (skb->vlan_present): the receive path
 * takes it out before TC ingress runs (as a NIC's VLAN offload does), and
 * a packet sent through a VLAN device reaches TC egress of the device
 * under it so too. That tag counts: a frame of five tags shows four in
 * its bytes, and `analyze` sees the five of the wire (a capture holds the
 * tag in the frame).
 */
static __always_inline int tw_parse_eth(struct __sk_buff *skb, __u32 *off,
					__u16 *proto, bool outer)
{
	struct vlan_hdr tag;  /* also the Ethernet header's last 4 bytes */
	int i;

	/* the addresses are of no use here: the ethertype alone (with the
	 * 2 bytes before it, so that one struct serves both) */
	if (tw_load_hdr(skb, *off + TW_ETH_HLEN - sizeof(tag), &tag))
		return TW_PARSE_BAD;
	*proto = bpf_ntohs(tag.h_vlan_encapsulated_proto);
	*off += TW_ETH_HLEN;
#pragma unroll
	for (i = 0; i < TW_MAX_VLAN_TAGS; i++) {
		if (!TW_ETH_P_IS_VLAN(*proto))
			break;
		/* the last tag to follow, with one in the metadata: one too
		 * many (asked only here, so that the verifier follows no
		 * other frame twice) */
		if (outer && i == TW_MAX_VLAN_TAGS - 1 && skb->vlan_present)
			return TW_PARSE_BAD;
		/* tag = TCI (2 bytes), then the next ethertype (2 bytes) */
		if (tw_load_hdr(skb, *off, &tag))
			return TW_PARSE_BAD;
		*proto = bpf_ntohs(tag.h_vlan_encapsulated_proto);
		*off += VLAN_HLEN;
	}
	/* one tag more: given up, and counted as userspace counts it */
	return TW_ETH_P_IS_VLAN(*proto) ? TW_PARSE_BAD : TW_PARSE_OK;
}

/*
 * The extension header @nh at *@off (one of IPv6's, or AH, which IPv4 has
 * too), inside an IP payload of *@plen bytes: *@off and *@plen move past
 * it, *@next is the header after it. TW_PARSE_FRAG for a fragment, but for
 * an atomic one (Fragment header with offset 0 and M clear: the whole
 * packet, processed as if the header were not there, RFC 6946). Userspace
 * (capture/decode.c, ip_skip_ext_header) decides the same.
 */
static __always_inline int tw_skip_ext(struct __sk_buff *skb, __u32 *off,
				       __u8 nh, __u8 *next, __u32 *plen)
{
	__u8 ext[4];  /* next header, length, a Fragment header's offset+M */
	__u32 hlen;

	if (tw_load(skb, *off, ext, sizeof(ext)))
		return TW_PARSE_BAD;
	/* AH counts its length in 4-byte units minus 2, the Fragment header
	 * is 8 bytes, the others count 8-byte units not counting the first
	 * 8 bytes */
	if (nh == TW_IPPROTO_AH)
		hlen = ((__u32)ext[1] + 2) * 4;
	else if (nh == TW_IPPROTO_FRAGMENT)
		hlen = 8;
	else
		hlen = ((__u32)ext[1] + 1) * 8;
	if (hlen > *plen)
		return TW_PARSE_BAD;
	if (nh == TW_IPPROTO_FRAGMENT &&
	    ((((__u32)ext[2] << 8) | ext[3]) &
	     (TW_IP6_FRAG_OFFSET | TW_IP6_FRAG_MORE)))
		return TW_PARSE_FRAG;
	*plen -= hlen;
	*off += hlen;
	*next = ext[0];
	return TW_PARSE_OK;
}

/* IPv4 header at @off: addresses, *off past options (and AH), the L4
 * length; TW_PARSE_ENCAP with the protocol in *@next for a possible
 * tunnel. */
static __always_inline int tw_parse_ipv4(struct __sk_buff *skb, __u32 *off,
					 struct tw_pkt *p, __u32 *l4_len,
					 __u32 *next)
{
	int r = TW_PARSE_OK;
	struct iphdr ip;
	__u32 ihl, tot;
	__u8 proto;

	if (tw_load_hdr(skb, *off, &ip))
		return TW_PARSE_BAD;
	if ((((__u8 *)&ip)[0] >> 4) != 4)
		return TW_PARSE_BAD;
	ihl = (((__u8 *)&ip)[0] & 0x0f) * 4;
	tot = bpf_ntohs(ip.tot_len);
	/* tot_len 0 on a GSO packet over 64 KiB (BIG TCP): the skb rules */
	if (tot == 0 && skb->len > *off)
		tot = skb->len - *off;
	if (ihl < sizeof(ip) || tot < ihl)
		return TW_PARSE_BAD;
	if (bpf_ntohs(ip.frag_off) & (TW_IP4_MF | TW_IP4_OFFMASK))
		return TW_PARSE_FRAG;
	*off += ihl;
	*l4_len = tot - ihl;
	proto = ip.protocol;
	/* IPsec AH (transport mode) in front of TCP, as IPv6 has it */
	if (proto == TW_IPPROTO_AH) {
		r = tw_skip_ext(skb, off, proto, &proto, l4_len);
		if (r != TW_PARSE_OK)
			return r;
	}
	if (proto != TW_IPPROTO_TCP) {
		if (!tw_encap_proto(proto)) {
			p->family = 4;  /* IP, not TCP (TW_PARSE_SKIP) */
			return TW_PARSE_SKIP;
		}
		*next = proto;
		r = TW_PARSE_ENCAP;
	}
	p->family = 4;
	p->saddr[0] = ip.saddr;
	p->daddr[0] = ip.daddr;
	return r;
}

/* IPv6 header and the extension headers in front of TCP (or of a
 * possible tunnel: TW_PARSE_ENCAP, the protocol in *@next); TW_PARSE_BAD
 * past TW_MAX_IPV6_EXT of them. */
static __always_inline int tw_parse_ipv6(struct __sk_buff *skb, __u32 *off,
					 struct tw_pkt *p, __u32 *l4_len,
					 __u32 *next_proto)
{
	struct ipv6hdr ip6;
	__u32 plen;
	__u8 next;
	int i, r;

	if (tw_load_hdr(skb, *off, &ip6))
		return TW_PARSE_BAD;
	if ((((__u8 *)&ip6)[0] >> 4) != 6)
		return TW_PARSE_BAD;
	p->family = 6;
	__builtin_memcpy(p->saddr, &ip6.saddr, 16);
	__builtin_memcpy(p->daddr, &ip6.daddr, 16);
	plen = bpf_ntohs(ip6.payload_len);
	/* payload_len 0 is a jumbogram (BIG TCP): the skb length rules */
	if (plen == 0)
		plen = skb->len > *off + sizeof(ip6) ? skb->len - *off - sizeof(ip6) : 0;
	*off += sizeof(ip6);
	next = ip6.nexthdr;
	/* i: the extension headers skipped so far */
	for (i = 0; i <= TW_MAX_IPV6_EXT; i++) {
		if (next == TW_IPPROTO_TCP) {
			*l4_len = plen;
			return TW_PARSE_OK;
		}
		if (tw_encap_proto(next)) {
			*l4_len = plen;
			*next_proto = next;
			return TW_PARSE_ENCAP;
		}
		if (next != TW_IPPROTO_HOPOPTS && next != TW_IPPROTO_ROUTING &&
		    next != TW_IPPROTO_DSTOPTS && next != TW_IPPROTO_AH &&
		    next != TW_IPPROTO_FRAGMENT)
			return TW_PARSE_SKIP;
		if (i == TW_MAX_IPV6_EXT)
			break;  /* one more: given up, as userspace does */
		r = tw_skip_ext(skb, off, next, &next, &plen);
		if (r != TW_PARSE_OK)
			return r;
	}
	return TW_PARSE_BAD;
}

/* TCP header at @off; @l4_len is the TCP length the IP header claims. */
static __always_inline int tw_parse_tcp(struct __sk_buff *skb, __u32 off,
					__u32 l4_len, struct tw_pkt *p)
{
	struct tcphdr th;
	__u32 doff, avail;

	if (tw_load_hdr(skb, off, &th))
		return TW_PARSE_BAD;
	doff = (((__u8 *)&th)[12] >> 4) * 4;
	if (doff < sizeof(th) || doff > l4_len)
		return TW_PARSE_BAD;
	p->sport = bpf_ntohs(th.source);
	p->dport = bpf_ntohs(th.dest);
	p->seq = bpf_ntohl(th.seq);
	p->ack = bpf_ntohl(th.ack_seq);
	p->tcp_flags = ((__u8 *)&th)[13] & 0x1f;
	p->payload_off = off + doff;
	p->payload_len = l4_len - doff;
	/* Ethernet padding or a lying length: never promise more bytes than
	 * the skb holds */
	avail = skb->len > p->payload_off ? skb->len - p->payload_off : 0;
	if (p->payload_len > avail)
		p->payload_len = avail;
	return TW_PARSE_OK;
}

/*
 * Parses one packet whose data starts at the link layer (@l2) or at the IP
 * header (devices without one: tun, wireguard). TW_PARSE_ENCAP: *@off is
 * past the outer IP header, *@next its protocol (tw_decap() goes on).
 */
static __always_inline int tw_parse_packet(struct __sk_buff *skb, bool l2,
					   struct tw_pkt *p, __u32 *enc_off,
					   __u32 *next)
{
	__u32 off = 0, l4_len = 0;
	__u16 proto;
	__u8 ver;
	int r;

	if (l2) {
		r = tw_parse_eth(skb, &off, &proto, true);
		if (r != TW_PARSE_OK)
			return r;
	} else {
		if (tw_load(skb, 0, &ver, 1))
			return TW_PARSE_BAD;
		proto = (ver >> 4) == 4 ? TW_ETH_P_IPV4 :
			(ver >> 4) == 6 ? TW_ETH_P_IPV6 : 0;
	}
	if (proto == TW_ETH_P_IPV4)
		r = tw_parse_ipv4(skb, &off, p, &l4_len, next);
	else if (proto == TW_ETH_P_IPV6)
		r = tw_parse_ipv6(skb, &off, p, &l4_len, next);
	else    /* where only IP comes (no link layer), another version is
		 * an impossible header, as analyze counts a raw-IP capture's */
		return l2 ? TW_PARSE_SKIP : TW_PARSE_BAD;
	if (r == TW_PARSE_ENCAP)
		*enc_off = off;
	if (r != TW_PARSE_OK)
		return r;
	return tw_parse_tcp(skb, off, l4_len, p);
}

#endif
