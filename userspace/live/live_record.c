// SPDX-License-Identifier: MIT
/* Ring buffer record -> struct tw_segment, and endpoints -> flow key. */
#include <errno.h>
#include <string.h>

#include "live.h"

static void endpoint_from(struct tw_endpoint *ep, uint8_t family,
			  const uint8_t *addr, uint16_t port)
{
	memset(ep, 0, sizeof(*ep));
	ep->addr.family = family;
	memcpy(ep->addr.bytes, addr, family == 4 ? 4 : 16);
	ep->port = port;
}

int live_record_tail(const void *rec, size_t size, struct tw_event_tail *t)
{
	if (size < sizeof(struct tw_event) + sizeof(*t))
		return -EINVAL;
	memcpy(t, (const uint8_t *)rec + size - sizeof(*t), sizeof(*t));
	return 0;
}

void live_record_endpoints(const struct tw_event *e,
			   const struct tw_event_tail *t,
			   struct tw_endpoint *src, struct tw_endpoint *dst)
{
	/* IPv4 addresses are in the header's cache line, IPv6 ones in the
	 * tail (include/tlswatch/event.h) */
	bool v4 = e->family == 4;

	endpoint_from(src, e->family, v4 ? e->saddr : t->saddr6, e->sport);
	endpoint_from(dst, e->family, v4 ? e->daddr : t->daddr6, e->dport);
}

/* Header fields the kernel promises; anything else is a bad record. */
static int record_check(const struct tw_event *e, size_t size)
{
	if (e->family != 4 && e->family != 6)
		return -EINVAL;
	if (e->chunk_len > size - sizeof(*e) - sizeof(struct tw_event_tail) ||
	    e->chunk_len > TW_CHUNK_MAX)
		return -EINVAL;
	if (e->chunk_off > e->wire_len || e->chunk_len > e->wire_len - e->chunk_off)
		return -EINVAL;
	switch (e->kind) {
	case TW_EV_DATA:
		return e->chunk_len ? 0 : -EINVAL;
	case TW_EV_CLOSE:
	case TW_EV_GAP:
		return e->chunk_len ? -EINVAL : 0;
	default:
		return -EINVAL;
	}
}

static bool udp_encap_names(const struct tw_udp_encap *u, int port)
{
	int i;

	for (i = 0; i < u->n; i++)
		if (u->e[i].port == port)
			return true;
	return false;
}

void live_set_udp_encap(uint8_t table[65536], const struct tw_udp_encap *u)
{
	int port, i;

	/* each byte written once, in place: a program running meanwhile
	 * reads a port's old kind or its new one */
	for (port = 0; port < 65536; port++)
		if (table[port] != TW_TUN_NONE && !udp_encap_names(u, port))
			table[port] = TW_TUN_NONE;
	for (i = 0; i < u->n; i++)
		table[u->e[i].port] = u->e[i].type;
}

void live_set_watched_ports(__u64 bitmap[65536 / 64], const uint16_t *ports,
			    int n)
{
	__u64 word;
	int w, i;

	/* each word written once, in place, with its final value: a
	 * program running meanwhile reads a port as watched or not, never
	 * a half-written word */
	for (w = 0; w < 65536 / 64; w++) {
		word = 0;
		for (i = 0; i < n; i++)
			if (ports[i] >> 6 == w)
				word |= 1ULL << (ports[i] & 63);
		if (bitmap[w] != word)
			*(volatile __u64 *)&bitmap[w] = word;
	}
}

/* The record's outermost encapsulation, if the kernel removed one. */
static void tunnel_from(struct tw_tunnel *t, const struct tw_tun *k)
{
	size_t alen = k->family == 4 ? 4 : 16;

	if (k->type == TW_TUN_NONE || k->type >= TW_TUN__COUNT ||
	    (k->family != 4 && k->family != 6))
		return;
	t->type = k->type;
	t->depth = k->depth;
	t->has_id = k->flags & TW_TUNF_ID;
	t->id = k->id;
	t->src.family = t->dst.family = k->family;
	memcpy(t->src.bytes, k->saddr, alen);
	memcpy(t->dst.bytes, k->daddr, alen);
}

int live_record_decode(const void *rec, size_t size, int64_t mono_to_real_ns,
		       struct tw_segment *seg, struct live_meta *meta)
{
	struct tw_event_tail tail;
	struct tw_event e;
	uint64_t ts_ns;

	if (!rec || live_record_tail(rec, size, &tail))
		return -EINVAL;
	memcpy(&e, rec, sizeof(e)); /* the ring buffer gives 8-byte alignment,
				     * but a copy costs nothing and owes none */
	if (record_check(&e, size))
		return -EINVAL;

	memset(seg, 0, sizeof(*seg));
	/* unsigned, so wrap-around is defined; then saturate it away */
	ts_ns = e.ts_ns + (uint64_t)mono_to_real_ns;
	if (mono_to_real_ns >= 0 && ts_ns < e.ts_ns)
		ts_ns = UINT64_MAX;
	else if (mono_to_real_ns < 0 && ts_ns > e.ts_ns)
		ts_ns = 0;
	seg->ts_us = ts_ns / 1000;
	live_record_endpoints(&e, &tail, &seg->src, &seg->dst);
	/* each record starts chunk_off bytes into the packet's payload */
	seg->seq = e.seq + e.chunk_off;
	seg->ack = e.ack;
	seg->tcp_flags = e.tcp_flags & (TW_TCP_FIN | TW_TCP_SYN | TW_TCP_RST |
					TW_TCP_PSH | TW_TCP_ACK);
	/* one packet's first record is enough: the flow stage starts a new
	 * flow on it, the packet's later records continue that flow */
	seg->flow_start = (e.flags & TW_EVF_FLOW_START) && e.chunk_off == 0;
	if (e.flags & TW_EVF_TUNNEL)
		tunnel_from(&seg->tunnel, &tail.tun);
	switch (e.kind) {
	case TW_EV_DATA:
		seg->payload = (const uint8_t *)rec + sizeof(e);
		seg->len = e.chunk_len;
		seg->truncated = e.flags & TW_EVF_TRUNCATED;
		/* a middle chunk stands for exactly its bytes; the last chunk
		 * of a cut packet stands for the rest of the packet */
		seg->wire_len = seg->truncated ? e.wire_len - e.chunk_off
					       : e.chunk_len;
		break;
	case TW_EV_GAP:
		seg->wire_len = e.wire_len - e.chunk_off;
		seg->truncated = seg->wire_len > 0;
		break;
	default: /* TW_EV_CLOSE: the FIN/RST itself */
		break;
	}
	if (meta) {
		meta->iface = NULL;
		meta->ifindex = e.ifindex;
		meta->kind = e.kind;
		meta->from_server = e.flags & TW_EVF_FROM_SERVER;
		meta->flow_start = e.flags & TW_EVF_FLOW_START;
		meta->budget = e.flags & TW_EVF_BUDGET;
	}
	return 0;
}

int live_flow_key(const struct tw_endpoint *a, const struct tw_endpoint *b,
		  struct tw_flow_key *key)
{
	__u32 aw[4] = { 0 }, bw[4] = { 0 };

	if (a->addr.family != b->addr.family ||
	    (a->addr.family != 4 && a->addr.family != 6))
		return -EINVAL;
	/* the kernel compares the address words as stored from the packet */
	memcpy(aw, a->addr.bytes, a->addr.family == 4 ? 4 : 16);
	memcpy(bw, b->addr.bytes, b->addr.family == 4 ? 4 : 16);
	memset(key, 0, sizeof(*key));
	return tw_flow_key_make(key, a->addr.family, aw, a->port, bw, b->port) & 1;
}
