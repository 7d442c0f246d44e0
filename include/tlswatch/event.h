/* SPDX-License-Identifier: MIT */
/*
 * What the kernel side (bpf/tlswatch.bpf.c) and the live source
 * (userspace/live/) share: the ring buffer record, the counter indexes, the
 * per-flow map key and value, and the fixed TC handles.
 *
 * Included by the BPF program (after vmlinux.h) and by userspace (after
 * <linux/types.h>, pulled in below). Layouts are fixed-size, naturally
 * aligned, with explicit padding, so both compilers agree on them.
 */
#ifndef TLSWATCH_EVENT_H
#define TLSWATCH_EVENT_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#include "tunnel.h"

/*
 * Payload bytes per ring buffer record. bpf_ringbuf_reserve() needs a
 * constant size, so there are three record sizes: small records for the
 * many short segments of a handshake (a ClientHello, a Finished), records
 * for one full segment of a 1500-byte MTU (a certificate flight as it
 * crosses the wire), big ones for GSO super-packets and jumbo frames. The
 * ring space a record takes is its reserved size, not its payload: a
 * 1448-byte segment in a 4096-byte record took 2.5x the space, so the ring
 * filled (and woke the consumer) 1.6x as often on handshake traffic. A
 * packet longer than one record is copied as several records of the same
 * packet (chunk_off tells where each starts), at most TW_MAX_CHUNKS of them.
 */
#define TW_CHUNK_SMALL   512
#define TW_CHUNK_MTU     1536
#define TW_CHUNK_MAX     4096
#define TW_MAX_CHUNKS    16              /* 64 KiB: one GSO super-packet */

#define TW_DEFAULT_DIR_BUDGET   65536    /* bytes copied per flow direction */
#define TW_DEFAULT_RINGBUF      (8u << 20)
#define TW_DEFAULT_MAX_FLOWS    65536
#define TW_PROBE_SEGMENTS       16       /* payload segments a flow gets to
					  * start a handshake (a STARTTLS
					  * exchange, a hello written a few
					  * bytes at a time) */
#define TW_HEAD_BYTES           6        /* a record header and the
					  * handshake type: collected across
					  * segments while probing */

/*
 * Ring buffer wakeups (see bpf/tlswatch.bpf.c). A record forces a wakeup of
 * the consumer when the ring holds 1/TW_WAKE_FILL_DIVISOR of its size or
 * more (512 KiB of the default 8 MiB: hundreds of records per wakeup, so
 * its cost is spread thin, while 15/16 of the ring stays free for the time
 * the consumer takes to be scheduled: 7 ms at 1 GB/s of records), at most
 * once per TW_WAKE_FILL_GAP_NS; or when it is latency-relevant (it ends a
 * handshake, closes a flow, says bytes were lost), at most once per
 * TW_WAKE_GAP_NS: a lone event is read at once, a stream of them by the
 * consumer's own reads, every LIVE_MAX_BATCH_MS (userspace/live/live.h),
 * which bounds every record's wait. A forced wakeup costs the TC program
 * tens of microseconds in a VM (a self-IPI, the irq_work waking the
 * consumer, an IPI to its CPU): at 40 per second (a 25 ms gap) that was a
 * third of the per-packet cost on 300 handshakes/s (BENCHMARKS.md, live).
 */
#define TW_WAKE_FILL_DIVISOR    16
#define TW_WAKE_FILL_GAP_NS     1000000ull   /* 1 ms */
#define TW_WAKE_GAP_NS          250000000ull /* 250 ms */

/*
 * TC filter identity. The handle also records who created the clsact qdisc:
 * TW_TC_HANDLE_OWN when a tlswatch process created it, TW_TC_HANDLE_SHARED
 * when it already existed. The marker lives in the kernel next to the
 * filter, so a restart after SIGKILL knows whether the qdisc it finds is one
 * it may delete.
 */
#define TW_TC_PRIORITY       0x7477
#define TW_TC_HANDLE_OWN     0x7477
#define TW_TC_HANDLE_SHARED  0x7478

/*
 * Per-CPU counters: one array element per CPU holding TW_CNT__MAX values.
 * The one list of them: the enum below, the agent's JSON "counters" and the
 * Prometheus metrics (tlswatch_NAME_total) are all generated from it.
 *   X(ENUM_SUFFIX, name, help)
 */
#define TW_KERNEL_COUNTERS(X)                                                  \
	X(PACKETS_SEEN, packets_seen, "Packets the TC program ran on")         \
	X(PACKETS_WATCHED, packets_watched, "TCP packets to or from a watched port") \
	X(FLOWS_TRACKED, flows_tracked, "Flows that entered the handshake phase") \
	X(BYTES_COPIED, bytes_copied, "Payload bytes written to the ring buffer") \
	X(CHUNKS_EMITTED, chunks_emitted, "Ring buffer records submitted")     \
	X(RINGBUF_FULL, ringbuf_lost, "Ring buffer records lost because it was full") \
	X(BUDGET_EXHAUSTED, budget_exhausted, "Flow directions that hit the byte budget") \
	X(TRUNCATED, truncated, "Packets not copied completely")               \
	X(BAD_HEADERS, bad_headers, "Packets with truncated or impossible headers") \
	X(FRAGMENTS, fragments, "IP fragments skipped")                        \
	X(DECAPSULATED, decapsulated, "TCP packets found inside a tunnel") \
	X(DECAP_TOO_DEEP, decap_too_deep, "Packets with more nested encapsulations than followed") \
	X(FLOWS_CLOSED, flows_closed, "Handshake phases ended by FIN or RST")

enum tw_counter {
#define TW_COUNTER_ENUM(id, name, help) TW_CNT_##id,
	TW_KERNEL_COUNTERS(TW_COUNTER_ENUM)
#undef TW_COUNTER_ENUM
	TW_CNT__MAX,
};

struct tw_counters {
	__u64 c[TW_CNT__MAX];
};

/* Record kinds. */
enum tw_event_kind {
	TW_EV_DATA = 1,   /* a chunk of payload; FIN/RST masked out of tcp_flags */
	TW_EV_CLOSE = 2,  /* FIN or RST ended the handshake phase; no payload,
			   * chunk_off = wire_len (where the FIN sits) */
	TW_EV_GAP = 3,    /* payload from chunk_off on was not copied (budget);
			   * no payload */
};

/* Record flags. */
enum tw_event_flags {
	TW_EVF_TRUNCATED   = 0x01, /* payload past this record was not copied */
	TW_EVF_FROM_SERVER = 0x02, /* sent by the server side of the flow */
	TW_EVF_FLOW_START  = 0x04, /* from the packet that began the handshake
				    * phase (all of its chunks) */
	TW_EVF_BUDGET      = 0x08, /* cut by the per-direction byte budget */
};

/* Ring buffer record header; chunk_len payload bytes follow it. */
struct tw_event {
	__u64 ts_ns;         /* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
	__u8 saddr[16];      /* network byte order; IPv4 in the first 4 */
	__u8 daddr[16];
	__u16 sport;         /* host byte order */
	__u16 dport;
	__u32 seq;           /* TCP sequence number of the packet */
	__u32 ack;
	__u32 wire_len;      /* TCP payload bytes of the whole packet */
	__u32 chunk_off;     /* offset of data[0] in the packet's payload */
	__u32 chunk_len;     /* payload bytes in this record */
	__u32 ifindex;
	__u8 family;         /* 4 or 6 */
	__u8 tcp_flags;      /* FIN 0x01 SYN 0x02 RST 0x04 PSH 0x08 ACK 0x10 */
	__u8 kind;           /* enum tw_event_kind */
	__u8 flags;          /* enum tw_event_flags */
	struct tw_tun tun;   /* the packet's outermost encapsulation, if any */
	__u8 data[];
};

/* Flow key: the two endpoints in a canonical order (see tw_flow_key_make),
 * so both directions of a connection find the same entry. */
struct tw_flow_key {
	__u32 addr[2][4];    /* network byte order; IPv4 in addr[i][0] */
	__u16 port[2];       /* host byte order */
	__u8 family;         /* 4 or 6 */
	__u8 pad[3];
};

enum tw_flow_state {
	TW_FLOW_PROBE = 1,     /* payload seen, no handshake record yet */
	TW_FLOW_HANDSHAKE = 2, /* copying payload in both directions */
	TW_FLOW_DONE = 3,      /* userspace has what it needs, or not TLS */
};

struct tw_flow_val {
	__u64 start_ns;      /* when the handshake phase began */
	__u32 copied[2];     /* payload bytes copied, sent by endpoint 0 / 1 */
	__u8 state;          /* enum tw_flow_state */
	__u8 server;         /* index of the server endpoint in the key */
	__u8 probes;         /* payload segments seen while in PROBE */
	__u8 budget_hit;     /* bit i: endpoint i's direction is over budget */
	__u8 fin;            /* bit i: endpoint i sent FIN (half-closed) */
	__u8 head_len;       /* bytes in head */
	__u8 head_from;      /* the endpoint whose first bytes head holds */
	__u8 pad;
	__u32 head_seq;      /* TCP sequence number of head[0] */
	__u8 head[8];        /* while probing: the first TW_HEAD_BYTES bytes
			      * head_from sent, in order, across segments (a
			      * client may write its hello a byte at a time) */
	__u32 pad2;
};

/*
 * Fills @k from one packet's endpoints and returns the index in the key of
 * the sender (0 or 1). Addresses are 4 words (IPv4: word 0, rest zero).
 * Kernel and userspace both use this, so they build identical keys.
 */
static inline int tw_flow_key_make(struct tw_flow_key *k, __u8 family,
				   const __u32 *saddr, __u16 sport,
				   const __u32 *daddr, __u16 dport)
{
	const __u32 *lo = saddr, *hi = daddr;
	__u16 lo_port = sport, hi_port = dport;
	int swap = 0, i;

	for (i = 0; i < 4; i++) {
		if (saddr[i] != daddr[i]) {
			swap = saddr[i] > daddr[i];
			break;
		}
	}
	if (i == 4)
		swap = sport > dport;
	/* Branches, not k->addr[swap]: the BPF verifier refuses the pointer
	 * arithmetic clang makes of a variable index into a stack struct. */
	if (swap) {
		lo = daddr;
		hi = saddr;
		lo_port = dport;
		hi_port = sport;
	}
	for (i = 0; i < 4; i++) {
		k->addr[0][i] = lo[i];
		k->addr[1][i] = hi[i];
	}
	k->port[0] = lo_port;
	k->port[1] = hi_port;
	k->family = family;
	k->pad[0] = k->pad[1] = k->pad[2] = 0;
	return swap;
}

#endif
