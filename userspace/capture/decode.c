// SPDX-License-Identifier: MIT
/*
 * Frame -> TCP segment: a straight walk over the link, IP and TCP headers.
 *
 * Each layer hands the next one a span of captured bytes and the length the
 * same span had on the wire. The captured end is always clamped to what the
 * IP header says (Ethernet pads short frames), and every header field is
 * read through a cursor, so nothing past the captured bytes is touched.
 * This runs once per packet of multi-gigabyte captures: no allocation, no
 * copies, no library calls.
 */
#include <pcap/dlt.h>
#include <string.h>

#include "common/cursor.h"
#include "decode_internal.h"
#include "tlswatch/headers.h"

#define SLL_HLEN        16
#define SLL2_HLEN       20
#define NULL_HLEN       4

#define TCP_HLEN        20
#define TCP_FLAG_MASK   (TW_TCP_FIN | TW_TCP_SYN | TW_TCP_RST | TW_TCP_PSH | TW_TCP_ACK)

/* Link types libpcap can report for raw IP, whatever the platform. */
#define LINKTYPE_RAW_   101
#define DLT_RAW_BSD     12
#define DLT_RAW_OPENBSD 14

/* BSD AF_INET6 values differ per OS; AF_INET is 2 everywhere. */
#define BSD_AF_INET     2

static void addr_set(struct tw_addr *a, uint8_t family, const uint8_t *bytes)
{
	a->family = family;
	if (family == 4) {
		memcpy(a->bytes, bytes, 4);
		memset(a->bytes + 4, 0, 12);
	} else {
		memcpy(a->bytes, bytes, 16);
	}
}

/* @l4: the TCP header and payload; cap <= wire is guaranteed by the caller. */
static int decode_tcp(struct span l4, struct dec *d)
{
	struct cursor c = cur_make(l4.p, l4.cap);
	struct tw_segment *seg = d->seg;
	uint32_t doff, paylen_cap;
	uint8_t flags;

	if (l4.wire < TCP_HLEN)
		return drop(&d->st->bad_headers);
	seg->src.port = cur_u16(&c);
	seg->dst.port = cur_u16(&c);
	seg->seq = cur_u32(&c);
	seg->ack = cur_u32(&c);
	doff = (uint32_t)(cur_u8(&c) >> 4) * 4;
	flags = cur_u8(&c);
	if (!cur_ok(&c))
		return drop(&d->st->truncated_headers);
	if (doff < TCP_HLEN || doff > l4.wire)
		return drop(&d->st->bad_headers);
	if (doff > l4.cap)
		return drop(&d->st->truncated_headers);

	paylen_cap = l4.cap - doff;
	/* enum tw_tcp_flags uses the TCP header's own bit positions */
	seg->tcp_flags = flags & TCP_FLAG_MASK;
	seg->payload = l4.p + doff;
	seg->wire_len = l4.wire - doff;
	seg->len = paylen_cap < seg->wire_len ? paylen_cap : seg->wire_len;
	seg->truncated = seg->len < seg->wire_len;
	if (seg->truncated)
		d->st->truncated_payload++;
	d->st->tcp_segments++;
	return 1;
}

/*
 * The captured and wire extent of an IP packet whose header says @iplen.
 * A zero length comes from TSO/GSO super-packets captured on the sending
 * host (and IPv6 jumbograms): then the capture is all there is to go by.
 */
static struct span ip_extent(struct span s, uint32_t iplen)
{
	if (iplen == 0) {
		if (s.wire < s.cap)
			s.wire = s.cap;
		return s;
	}
	s.wire = iplen;
	if (s.cap > iplen)
		s.cap = iplen; /* link layer padding */
	return s;
}

/*
 * The extension header @nh (one of IPv6's, or AH, which IPv4 has too) at
 * the start of @s: *@next is the header after it, @s moves past it. False
 * with the reason counted: an impossible or cut header, or a fragment. A
 * Fragment header with offset 0 and M clear is an atomic fragment: the
 * whole packet, processed as if the header were not there (RFC 6946).
 */
static bool ip_skip_ext_header(struct span *s, uint8_t nh, uint8_t *next,
			       struct dec *d)
{
	struct cursor c = cur_make(s->p, s->cap);
	uint32_t hlen;
	uint16_t frag;
	uint8_t len;

	*next = cur_u8(&c);
	len = cur_u8(&c);
	frag = cur_u16(&c);             /* a Fragment header's offset and M */
	/* AH counts 4-byte words minus 2, the Fragment header is 8 bytes,
	 * the others count 8-byte words minus 1: each is 8 bytes or more */
	if (nh == TW_IPPROTO_AH)
		hlen = ((uint32_t)len + 2) * 4;
	else if (nh == TW_IPPROTO_FRAGMENT)
		hlen = 8;
	else
		hlen = ((uint32_t)len + 1) * 8;
	if (hlen > s->wire)
		return drop(&d->st->bad_headers);
	if (!cur_ok(&c) || hlen > s->cap)
		return drop(&d->st->truncated_headers);
	if (nh == TW_IPPROTO_FRAGMENT &&
	    (frag & (TW_IP6_FRAG_OFFSET | TW_IP6_FRAG_MORE)))
		return drop(&d->st->ip_fragments);
	*s = span_after(*s, hlen);
	return true;
}

int decode_ipv4(struct span s, struct dec *d)
{
	struct cursor c = cur_make(s.p, s.cap);
	uint32_t ihl, total;
	uint16_t frag;
	uint8_t vihl, proto;
	const uint8_t *addrs;

	vihl = cur_u8(&c);
	cur_skip(&c, 1);                /* DSCP/ECN */
	total = cur_u16(&c);
	cur_skip(&c, 2);                /* identification */
	frag = cur_u16(&c);
	cur_skip(&c, 1);                /* TTL */
	proto = cur_u8(&c);
	cur_skip(&c, 2);                /* checksum */
	addrs = cur_bytes(&c, 8);
	if (!cur_ok(&c))
		return drop(&d->st->truncated_headers);
	ihl = (uint32_t)(vihl & 0x0f) * 4;
	if ((vihl >> 4) != 4 || ihl < 20 || (total != 0 && total < ihl))
		return drop(&d->st->bad_headers);
	if (ihl > s.cap)
		return drop(&d->st->truncated_headers);
	if (frag & (TW_IP4_MF | TW_IP4_OFFMASK))
		return drop(&d->st->ip_fragments);
	/* ihl <= cap <= wire still holds after the clamp: total >= ihl */
	s = span_after(ip_extent(s, total), ihl);
	/* IPsec AH (transport mode) in front of TCP, as IPv6 has it */
	if (proto == TW_IPPROTO_AH && !ip_skip_ext_header(&s, proto, &proto, d))
		return 0;
	if (proto != TW_IPPROTO_TCP && decap_proto(proto))
		return decap(s, proto, 4, addrs, d);
	if (proto != TW_IPPROTO_TCP)
		return drop(&d->st->not_tcp);

	addr_set(&d->seg->src.addr, 4, addrs);
	addr_set(&d->seg->dst.addr, 4, addrs + 4);
	return decode_tcp(s, d);
}

/*
 * Walks the IPv6 extension headers starting at @s (just after the fixed
 * header), TW_MAX_IPV6_EXT of them at most, as the kernel does. Returns
 * the upper-layer protocol with @s moved onto it, or -1 with the reason
 * counted (one extension header more: a bad header).
 */
static int ipv6_skip_ext(struct span *s, uint8_t nh, struct dec *d)
{
	/* i: the extension headers skipped so far */
	for (int i = 0; i <= TW_MAX_IPV6_EXT; i++) {
		switch (nh) {
		case TW_IPPROTO_HOPOPTS:
		case TW_IPPROTO_ROUTING:
		case TW_IPPROTO_DSTOPTS:
		case TW_IPPROTO_AH:
		case TW_IPPROTO_FRAGMENT:
			break;
		default:
			return nh;
		}
		if (i == TW_MAX_IPV6_EXT)
			break;
		if (!ip_skip_ext_header(s, nh, &nh, d))
			return -1;
	}
	d->st->bad_headers++;
	return -1;
}

int decode_ipv6(struct span s, struct dec *d)
{
	struct cursor c = cur_make(s.p, s.cap);
	uint32_t paylen;
	const uint8_t *addrs;
	int proto;
	uint8_t vtc, nh;

	vtc = cur_u8(&c);
	cur_skip(&c, 3);                /* class, flow label */
	paylen = cur_u16(&c);
	nh = cur_u8(&c);
	cur_skip(&c, 1);                /* hop limit */
	addrs = cur_bytes(&c, 32);
	if (!cur_ok(&c))
		return drop(&d->st->truncated_headers);
	if ((vtc >> 4) != 6)
		return drop(&d->st->bad_headers);

	/* cap >= 40 here, and the clamp keeps it so */
	s = span_after(ip_extent(s, paylen ? paylen + 40 : 0), 40);
	proto = ipv6_skip_ext(&s, nh, d);
	if (proto < 0)
		return 0;
	if (proto != TW_IPPROTO_TCP && decap_proto((uint8_t)proto))
		return decap(s, (uint8_t)proto, 6, addrs, d);
	if (proto != TW_IPPROTO_TCP)    /* UDP, ICMPv6, ESP, no next header */
		return drop(&d->st->not_tcp);

	addr_set(&d->seg->src.addr, 6, addrs);
	addr_set(&d->seg->dst.addr, 6, addrs + 16);
	return decode_tcp(s, d);
}

static int decode_ip_any(struct span s, struct dec *d)
{
	struct cursor c = cur_make(s.p, s.cap);
	uint8_t version = cur_u8(&c) >> 4;

	if (!cur_ok(&c))
		return drop(&d->st->truncated_headers);
	switch (version) {
	case 4:
		return decode_ipv4(s, d);
	case 6:
		return decode_ipv6(s, d);
	default:
		return drop(&d->st->bad_headers);
	}
}

/*
 * @type: the ethertype of a link header (Ethernet, Linux cooked), @s what
 * follows it. VLAN tags are followed to the ethertype they carry: on
 * Ethernet as sent, and in cooked captures (`tcpdump -i any`) because
 * libpcap puts back the tag the NIC stripped, with the cooked protocol
 * 0x8100 in front of it.
 */
static int decode_ethertype(uint16_t type, struct span s, struct dec *d)
{
	struct cursor c = cur_make(s.p, s.cap);
	int tags;

	for (tags = 0; tags < TW_MAX_VLAN_TAGS && TW_ETH_P_IS_VLAN(type); tags++) {
		cur_skip(&c, 2);        /* PCP, DEI, VLAN id */
		type = cur_u16(&c);
	}
	if (!cur_ok(&c))
		return drop(&d->st->truncated_headers);
	if (TW_ETH_P_IS_VLAN(type))     /* more than TW_MAX_VLAN_TAGS */
		return drop(&d->st->bad_headers);
	s = span_after(s, (uint32_t)c.off);
	switch (type) {
	case TW_ETH_P_IPV4:
		return decode_ipv4(s, d);
	case TW_ETH_P_IPV6:
		return decode_ipv6(s, d);
	default:
		return drop(&d->st->not_ip);
	}
}

int decode_ether(struct span s, struct dec *d)
{
	struct cursor c = cur_make(s.p, s.cap);
	uint16_t type;

	cur_skip(&c, 12);               /* destination, source MAC */
	type = cur_u16(&c);
	if (!cur_ok(&c))
		return drop(&d->st->truncated_headers);
	return decode_ethertype(type, span_after(s, TW_ETH_HLEN), d);
}

/* Linux cooked v1: packet type, ARPHRD, address length, address[8], protocol. */
static int decode_sll(struct span s, struct dec *d)
{
	struct cursor c = cur_make(s.p, s.cap);
	uint16_t type;

	cur_skip(&c, 14);
	type = cur_u16(&c);
	if (!cur_ok(&c))
		return drop(&d->st->truncated_headers);
	return decode_ethertype(type, span_after(s, SLL_HLEN), d);
}

/* Linux cooked v2: protocol first, then ifindex, ARPHRD, type, address. */
static int decode_sll2(struct span s, struct dec *d)
{
	struct cursor c = cur_make(s.p, s.cap);
	uint16_t type;

	type = cur_u16(&c);
	cur_skip(&c, SLL2_HLEN - 2);
	if (!cur_ok(&c))
		return drop(&d->st->truncated_headers);
	return decode_ethertype(type, span_after(s, SLL2_HLEN), d);
}

/*
 * BSD loopback: a 4-byte address family, in the capturing host's byte
 * order for DLT_NULL and big-endian for DLT_LOOP. Families are small
 * numbers, so a value with high bits set was written the other way round
 * (a capture taken on a host of the other endianness).
 */
static int decode_null(struct span s, bool big_endian, struct dec *d)
{
	struct cursor c = cur_make(s.p, s.cap);
	uint32_t fam = cur_u32(&c);

	if (!cur_ok(&c))
		return drop(&d->st->truncated_headers);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	if (!big_endian)
		fam = __builtin_bswap32(fam);
#endif
	if (fam & 0xffff0000u)
		fam = __builtin_bswap32(fam);
	s = span_after(s, NULL_HLEN);
	switch (fam) {
	case BSD_AF_INET:
		return decode_ipv4(s, d);
	case 10: /* Linux */
	case 24: /* NetBSD, OpenBSD */
	case 28: /* FreeBSD */
	case 30: /* macOS */
		return decode_ipv6(s, d);
	default:
		return drop(&d->st->not_ip);
	}
}

static bool linktype_is_raw(int linktype)
{
	return linktype == DLT_RAW_BSD || linktype == DLT_RAW_OPENBSD ||
	       linktype == LINKTYPE_RAW_ || linktype == DLT_IPV4 ||
	       linktype == DLT_IPV6;
}

int decode_linktype_supported(int linktype)
{
	return linktype == DLT_EN10MB || linktype == DLT_LINUX_SLL ||
	       linktype == DLT_LINUX_SLL2 || linktype == DLT_NULL ||
	       linktype == DLT_LOOP || linktype_is_raw(linktype);
}

/* Every field, also those a frame's layers do not set (flow_start is the
 * live source's, tunnel only for encapsulated packets): the caller's
 * segment is reused packet after packet. */
static void dec_start(struct dec *d, uint64_t ts_us)
{
	d->st->frames++;
	memset(d->seg, 0, sizeof(*d->seg));
	d->seg->ts_us = ts_us;
	if (!d->udp)
		d->udp = &tw_udp_encap_default;
}

int decode_frame(int linktype, const uint8_t *frame, uint32_t caplen,
		 uint32_t wirelen, uint64_t ts_us, struct tw_segment *seg,
		 struct decode_stats *st, const struct tw_udp_encap *udp)
{
	struct span s = { .p = frame, .cap = caplen, .wire = wirelen };
	struct dec dd = { .seg = seg, .st = st, .udp = udp }, *d = &dd;

	dec_start(d, ts_us);
	if (linktype_is_raw(linktype))
		return decode_ip_any(s, d);
	switch (linktype) {
	case DLT_EN10MB:
		return decode_ether(s, d);
	case DLT_LINUX_SLL:
		return decode_sll(s, d);
	case DLT_LINUX_SLL2:
		return decode_sll2(s, d);
	case DLT_NULL:
		return decode_null(s, false, d);
	case DLT_LOOP:
		return decode_null(s, true, d);
	default:
		return drop(&st->not_ip);
	}
}

int decode_ip(const uint8_t *pkt, uint32_t caplen, uint32_t wirelen,
	      uint64_t ts_us, struct tw_segment *seg, struct decode_stats *st,
	      const struct tw_udp_encap *udp)
{
	struct span s = { .p = pkt, .cap = caplen, .wire = wirelen };
	struct dec d = { .seg = seg, .st = st, .udp = udp };

	dec_start(&d, ts_us);
	return decode_ip_any(s, &d);
}
