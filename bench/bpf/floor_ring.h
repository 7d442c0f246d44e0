/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * What the ring floors share (scripts/bench-live.sh): a BPF ring buffer of
 * the agent's size, and the copy of one packet's payload into one record
 * of the agent's layout and size (include/tlswatch/event.h): the header
 * filled from the packet, the payload read with bpf_skb_load_bytes(),
 * submitted without a wakeup. Unlike the copy floor's per-CPU buffer, the
 * ring moves on, so the floor writes into memory as cold as the agent's.
 * Both maps are pinned by name (tc pins them under /sys/fs/bpf/tc), so the
 * ingress and the egress program share one ring, as the agent's do, and
 * bench/drain.c finds it there and drains it (it reads every 25 ms, as the
 * agent does, and reports bench_ring_lost at its end).
 */
#ifndef BENCH_FLOOR_RING_H
#define BENCH_FLOOR_RING_H

#include "floor.h"
#include "tlswatch/event.h"

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, TW_DEFAULT_RINGBUF);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bench_ring SEC(".maps");

/* Records not written because the ring was full: a floor that loses
 * records copies less, so bench-live.sh shows the count. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bench_ring_lost SEC(".maps");

static __always_inline void floor_ring_fill(struct tw_event *e,
					    struct tw_event_tail *t,
					    struct __sk_buff *skb,
					    const struct bench_key *key,
					    const struct floor_pkt *pkt,
					    __u32 len)
{
	e->ts_ns = bpf_ktime_get_ns();
	if (key->family == 4) {
		__builtin_memcpy(e->saddr, &key->addr[0][0], 4);
		__builtin_memcpy(e->daddr, &key->addr[1][0], 4);
	} else {
		__builtin_memcpy(t->saddr6, key->addr[0], 16);
		__builtin_memcpy(t->daddr6, key->addr[1], 16);
	}
	e->sport = key->port[0];
	e->dport = key->port[1];
	e->seq = pkt->seq;
	e->ack = pkt->ack;
	e->wire_len = pkt->payload_len;
	e->chunk_off = 0;
	e->chunk_len = len;
	e->ifindex = skb->ifindex;
	e->family = key->family;
	e->tcp_flags = pkt->tcp_flags;
	e->kind = TW_EV_DATA;
	e->flags = 0;
}

/* One record of @cap payload bytes (a constant after inlining). Returns
 * the bytes copied, or 0. */
static __always_inline __u32 floor_ring_sized(struct __sk_buff *skb,
					      const struct bench_key *key,
					      const struct floor_pkt *pkt,
					      const __u32 cap)
{
	struct tw_event *e;
	__u64 len = pkt->payload_len, *lost;
	__u32 zero = 0;

	e = bpf_ringbuf_reserve(&bench_ring, TW_EVENT_DATA_BYTES(cap), 0);
	if (!e) {
		lost = bpf_map_lookup_elem(&bench_ring_lost, &zero);
		if (lost)
			__sync_fetch_and_add(lost, 1);
		return 0;
	}
	/* the agent's clamp: 0 < len <= cap on the register passed */
	barrier_var(len);
	if (len > cap)
		len = cap;
	barrier_var(len);
	if (len == 0 ||
	    bpf_skb_load_bytes(skb, pkt->payload_off, e->data, len)) {
		bpf_ringbuf_discard(e, 0);
		return 0;
	}
	floor_ring_fill(e, (void *)(e->data + cap), skb, key, pkt, len);
	bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
	return len;
}

/* The packet's payload (its first TW_CHUNK_MAX bytes, like the copy floor)
 * in one record of the size the agent would take for it. */
static __always_inline __u32 floor_ring_copy(struct __sk_buff *skb,
					     const struct bench_key *key,
					     const struct floor_pkt *pkt)
{
	if (pkt->payload_len > TW_CHUNK_MTU)
		return floor_ring_sized(skb, key, pkt, TW_CHUNK_MAX);
	if (pkt->payload_len > TW_CHUNK_SMALL)
		return floor_ring_sized(skb, key, pkt, TW_CHUNK_MTU);
	return floor_ring_sized(skb, key, pkt, TW_CHUNK_SMALL);
}

#endif
