// SPDX-License-Identifier: MIT
/*
 * Tunnels: the payload of an outer IP packet -> the inner packet, for
 * decode.c to go on with. The same encapsulations as the kernel's
 * bpf/decap.h, with the same bound on nesting (TW_MAX_DECAP), so that
 * `analyze` and `run` follow the same packets:
 *
 *   IP protocol 4, 41    IPIP, 6in4 (sit), 4in6, IP6IP6
 *   IP protocol 47       GRE (RFC 2784, key and sequence number RFC 2890):
 *                        IPv4, IPv6, or Ethernet (gretap) inside; routing
 *                        and version 1 (PPTP) are not followed
 *   UDP, by port         VXLAN (RFC 7348), Geneve (RFC 8926, options
 *                        skipped), FOU (IPv4, IPv6 or GRE right after the
 *                        UDP header, told apart by the first nibble: a GRE
 *                        header with the bits of version 4 or 6 set is
 *                        invalid, RFC 2784), GUE (variant 0 with its
 *                        optional fields, variant 1; control messages
 *                        are not followed)
 *
 * The outer packet's length bounds the inner one: the span handed on is
 * the outer IP payload, and the inner IP header clamps it further.
 */
#include <string.h>

#include "common/cursor.h"
#include "decode_internal.h"

#define GRE_F_CSUM      0x8000
#define GRE_F_ROUTE     0x4000
#define GRE_F_KEY       0x2000
#define GRE_F_SEQ       0x1000
#define GRE_VER_MASK    0x0007

#define UDP_HLEN        8
#define VXLAN_HLEN      8
#define VXLAN_F_VNI     0x08    /* the I flag: the VNI is valid */
#define GENEVE_HLEN     8
#define GUE_HLEN        4
#define GUE_F_CTRL      0x20

/* What an encapsulation header said about what follows it. */
struct encap {
	uint8_t type;        /* enum tw_tunnel_type */
	bool has_id;
	uint32_t id;
	uint16_t inner;      /* TW_ETH_P_IPV4, _IPV6 or _TEB; 0: not followed */
};

/* Parsers of one header at *@s: 1 with *@s past it, or 0 with the reason
 * counted (not followed: not_tcp). */

static int encap_gre(struct span *s, struct encap *e, struct dec *d)
{
	struct cursor c = cur_make(s->p, s->cap);
	uint16_t flags = cur_u16(&c), ptype = cur_u16(&c);
	uint32_t key = 0;

	if (flags & GRE_F_CSUM)
		cur_skip(&c, 4);        /* checksum, reserved */
	if (flags & GRE_F_KEY)
		key = cur_u32(&c);
	if (flags & GRE_F_SEQ)
		cur_skip(&c, 4);
	if (!cur_ok(&c))
		return drop(&d->st->truncated_headers);
	if (flags & (GRE_F_ROUTE | GRE_VER_MASK))
		return drop(&d->st->not_tcp);
	if (ptype != TW_ETH_P_IPV4 && ptype != TW_ETH_P_IPV6 &&
	    ptype != TW_ETH_P_TEB)
		return drop(&d->st->not_ip);
	e->inner = ptype;
	if (!e->type) {         /* not GRE inside FOU or GUE */
		e->type = ptype == TW_ETH_P_TEB ? TW_TUN_GRETAP : TW_TUN_GRE;
		e->has_id = flags & GRE_F_KEY;
		e->id = key;
	}
	*s = span_after(*s, (uint32_t)c.off);
	return 1;
}

/* VXLAN or Geneve: a 24-bit VNI, Ethernet (or, Geneve, IP) inside. */
static int encap_vni(struct span *s, struct encap *e, struct dec *d)
{
	struct cursor c = cur_make(s->p, s->cap);
	uint8_t first = cur_u8(&c);
	uint16_t ptype;
	uint32_t hlen;

	cur_skip(&c, 1);
	ptype = cur_u16(&c);
	e->id = cur_u24(&c);
	e->has_id = true;
	cur_skip(&c, 1);
	if (!cur_ok(&c))
		return drop(&d->st->truncated_headers);
	if (e->type == TW_TUN_VXLAN) {
		if (!(first & VXLAN_F_VNI))
			return drop(&d->st->not_tcp);
		e->inner = TW_ETH_P_TEB;
		hlen = VXLAN_HLEN;
	} else {
		if (first >> 6)         /* a Geneve version we do not know */
			return drop(&d->st->not_tcp);
		if (ptype != TW_ETH_P_IPV4 && ptype != TW_ETH_P_IPV6 &&
		    ptype != TW_ETH_P_TEB)
			return drop(&d->st->not_ip);
		e->inner = ptype;
		hlen = GENEVE_HLEN + (uint32_t)(first & 0x3f) * 4;
		if (hlen > s->cap)
			return drop(&d->st->truncated_headers);
	}
	*s = span_after(*s, hlen);
	return 1;
}

static uint16_t ip_by_nibble(uint8_t b)
{
	return b >> 4 == 4 ? TW_ETH_P_IPV4 : b >> 4 == 6 ? TW_ETH_P_IPV6 : 0;
}

/* FOU or GUE; GRE right behind them is part of the same layer. */
static int encap_fou_gue(struct span *s, struct encap *e, struct dec *d)
{
	struct cursor c = cur_make(s->p, s->cap);
	uint8_t first = cur_u8(&c), proto = cur_u8(&c);
	uint32_t hlen;

	if (!cur_ok(&c))
		return drop(&d->st->truncated_headers);
	if (e->type == TW_TUN_FOU || first >> 6 == 1) {
		/* FOU, GUE variant 1: the inner header right here */
		e->inner = ip_by_nibble(first);
		if (e->inner)
			return 1;
		return e->type == TW_TUN_FOU ? encap_gre(s, e, d)
					     : drop(&d->st->not_tcp);
	}
	if (first >> 6 != 0 || (first & GUE_F_CTRL))
		return drop(&d->st->not_tcp);
	hlen = GUE_HLEN + (uint32_t)(first & 0x1f) * 4;
	if (hlen > s->cap)
		return drop(&d->st->truncated_headers);
	*s = span_after(*s, hlen);
	if (proto == TW_IPPROTO_GRE)
		return encap_gre(s, e, d);
	e->inner = proto == TW_IPPROTO_IPIP ? TW_ETH_P_IPV4 :
		   proto == TW_IPPROTO_IPV6 ? TW_ETH_P_IPV6 : 0;
	return e->inner ? 1 : drop(&d->st->not_tcp);
}

static int encap_udp(struct span *s, struct encap *e, struct dec *d)
{
	struct cursor c = cur_make(s->p, s->cap);
	uint16_t dport;

	cur_skip(&c, 2);
	dport = cur_u16(&c);
	cur_skip(&c, 4);                /* length, checksum */
	if (!cur_ok(&c))
		return drop(&d->st->truncated_headers);
	e->type = tw_udp_encap_type(d->udp, dport);
	*s = span_after(*s, UDP_HLEN);
	switch (e->type) {
	case TW_TUN_VXLAN:
	case TW_TUN_GENEVE:
		return encap_vni(s, e, d);
	case TW_TUN_FOU:
	case TW_TUN_GUE:
		return encap_fou_gue(s, e, d);
	default:
		return drop(&d->st->not_tcp);
	}
}

static int encap_parse(struct span *s, uint8_t proto, uint8_t family,
		       struct encap *e, struct dec *d)
{
	switch (proto) {
	case TW_IPPROTO_IPIP:
		e->type = family == 4 ? TW_TUN_IPIP : TW_TUN_IP4IP6;
		e->inner = TW_ETH_P_IPV4;
		return 1;
	case TW_IPPROTO_IPV6:
		e->type = family == 4 ? TW_TUN_SIT : TW_TUN_IP6IP6;
		e->inner = TW_ETH_P_IPV6;
		return 1;
	case TW_IPPROTO_GRE:
		return encap_gre(s, e, d);
	default:
		return encap_udp(s, e, d);
	}
}

bool decap_proto(uint8_t proto)
{
	return proto == TW_IPPROTO_IPIP || proto == TW_IPPROTO_IPV6 ||
	       proto == TW_IPPROTO_GRE || proto == TW_IPPROTO_UDP;
}

static void tunnel_record(struct tw_tunnel *t, const struct encap *e,
			  uint8_t family, const uint8_t *addrs)
{
	size_t alen = family == 4 ? 4 : 16;

	t->type = e->type;
	t->has_id = e->has_id;
	t->id = e->id;
	t->src.family = t->dst.family = family;
	memcpy(t->src.bytes, addrs, alen);
	memcpy(t->dst.bytes, addrs + alen, alen);
}

int decap(struct span s, uint8_t proto, uint8_t family, const uint8_t *addrs,
	  struct dec *d)
{
	struct tw_tunnel *t = &d->seg->tunnel;
	bool outermost = t->depth == 0;
	struct encap e = { 0 };
	int r;

	if (t->depth >= TW_MAX_DECAP)
		return drop(&d->st->tunnels_too_deep);
	if (!encap_parse(&s, proto, family, &e, d))
		return 0;
	if (outermost)
		tunnel_record(t, &e, family, addrs);
	t->depth++;
	switch (e.inner) {
	case TW_ETH_P_IPV4:
		r = decode_ipv4(s, d);
		break;
	case TW_ETH_P_IPV6:
		r = decode_ipv6(s, d);
		break;
	default:
		r = decode_ether(s, d);
		break;
	}
	if (r && outermost)
		d->st->tunnelled++;
	return r;
}
