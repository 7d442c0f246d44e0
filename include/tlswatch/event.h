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
/* The smallest ring: the largest record (TW_CHUNK_MAX of payload, its
 * header and tail) must fit with room to spare, or every packet with more
 * than TW_CHUNK_MTU bytes of payload would be lost. */
#define TW_RINGBUF_MIN          (16u << 10)
#define TW_DEFAULT_MAX_FLOWS    65536
/*
 * The preamble: what a connection may send before its ClientHello (a
 * STARTTLS exchange, a hello written a few bytes at a time). Its payload
 * segments, both directions together, are copied to userspace (which
 * finds the hello and names the protocol, userspace/tls/starttls.h) while
 * each direction stays within TW_PREAMBLE_BYTES; a flow whose preamble
 * goes past either bound is not TLS and costs one map lookup from then on.
 * The same bounds hold in analyze.
 */
#define TW_PROBE_SEGMENTS       16
#define TW_PREAMBLE_BYTES       4096
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
 * third of the per-packet cost on 300 handshakes/s (BENCHMARKS.md, live),
 * at 4 per second (250 ms) still several percent (8% in one interleaved
 * run): hence one a second. A record that follows a forced wakeup within
 * the second waits for the consumer's next read, at most
 * LIVE_MAX_BATCH_MS, as before.
 */
#define TW_WAKE_FILL_DIVISOR    16
#define TW_WAKE_FILL_GAP_NS     1000000ull    /* 1 ms */
#define TW_WAKE_GAP_NS          1000000000ull /* 1 s */

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
	X(FLOWS_TRACKED, flows_tracked, "Flows whose bytes went to userspace (a handshake phase, or a preamble before one)") \
	X(BYTES_COPIED, bytes_copied, "Payload bytes written to the ring buffer") \
	X(CHUNKS_EMITTED, chunks_emitted, "Ring buffer records submitted")     \
	X(RINGBUF_FULL, ringbuf_lost, "Ring buffer records lost because it was full") \
	X(BUDGET_EXHAUSTED, budget_exhausted, "Flow directions that hit the byte budget") \
	X(TRUNCATED, truncated, "Packets not copied completely")               \
	X(NOT_IP, not_ip, "Frames that are not IPv4 or IPv6 (ARP, LLDP, ...), outside a tunnel or inside one") \
	X(NOT_TCP, not_tcp, "IP packets that are not TCP (UDP, ICMP, ...) nor a tunnel followed") \
	X(BAD_HEADERS, bad_headers, "Packets with truncated or impossible headers, or more VLAN tags or IPv6 extension headers than followed") \
	X(FRAGMENTS, fragments, "IP fragments skipped")                        \
	X(DECAPSULATED, decapsulated, "TCP packets found inside a tunnel") \
	X(DECAP_TOO_DEEP, decap_too_deep, "Packets with more nested encapsulations than followed") \
	X(FLOWS_CLOSED, flows_closed, "Handshake phases ended by FIN or RST") \
	X(PREAMBLE_BYTES, preamble_bytes, "Payload bytes copied before a handshake began (STARTTLS preambles)") \
	X(FLOW_MAP_REFUSED, flow_map_refused, "Payload packets of a new flow not looked at because the flow map took no entry for it") \
	X(COPY_FAILED, copy_failed, "Ring buffer records discarded because the packet's bytes could not be read") \
	X(RSTS_IGNORED, rsts_ignored, "RSTs of a flow the kernel follows or has decided whose sequence number was not plausible for their sender (spoofed): ignored") \
	X(SYNS_FINS_IGNORED, syns_fins_ignored, "SYNs and FINs of a flow the kernel follows or has decided whose sequence number was not plausible for their sender (spoofed): ignored") \
	X(FLOWS_OUTGOING, flows_outgoing, "Handshakes not followed under --direction served: their client is this host and their server is not (a connection it opened itself)")

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
	/* From the uprobes on the server's TLS library (bpf/uprobes.bpf.c);
	 * a struct tw_up_info follows the header, then chunk_len bytes. */
	TW_EV_UP_CERT = 4, /* a chunk of one served certificate's DER:
			    * chunk_off into it, wire_len its length; no
			    * addresses (the connection is not known yet) */
	TW_EV_UP_BIND = 5, /* the server's first packet after the library
			    * served a chain or read a fatal alert: the
			    * header's 4-tuple is that connection's; no bytes */
	TW_EV_UP_ALPN = 6, /* the ALPN protocol the library selected on a
			    * connection, chunk_len (1..TW_UP_ALPN_MAX) bytes,
			    * once: read with its first certificate (under
			    * the chain's hs_id), else at SSL_free; no
			    * addresses (its BIND follows) */
};

/* Record flags. */
enum tw_event_flags {
	TW_EVF_TRUNCATED   = 0x01, /* payload past this record was not copied */
	TW_EVF_FROM_SERVER = 0x02, /* sent by the server side of the flow */
	TW_EVF_FLOW_START  = 0x04, /* from the packet that began the handshake
				    * phase (all of its chunks) */
	TW_EVF_BUDGET      = 0x08, /* cut by the per-direction byte budget */
	TW_EVF_TUNNEL      = 0x10, /* the tail's tun holds the packet's
				    * outermost encapsulation */
};

/*
 * A ring buffer record: struct tw_event, then room for the payload
 * (chunk_len bytes used; the record's cap: TW_CHUNK_*), then struct
 * tw_event_tail, the record's last bytes. The header holds what every
 * record needs and, with the kernel's own 8-byte header in front of it,
 * fills one 64-byte cache line; the facts few records need (IPv6
 * addresses, a tunnel's outer ones) are in the tail, written only when
 * the header says so (family 6, TW_EVF_TUNNEL): else its bytes are
 * whatever an older record left there. Every record takes whole cache
 * lines of ring (TW_EVENT_BYTES), so every header starts one: the TC
 * program writes an IPv4 record of n payload bytes into (56 + n) / 64
 * lines, rounded up. Before, a 112-byte header (the tunnel facts in every
 * record) at any 8-byte offset cost one or two lines more per record, on
 * a path that runs with cold caches (BENCHMARKS.md, live (a)).
 */
struct tw_event {
	__u64 ts_ns;         /* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
	__u8 saddr[4];       /* family 4: network byte order; 6: in the tail */
	__u8 daddr[4];
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
	__u8 data[];
};

/* The last bytes of every record; valid as the header says. */
struct tw_event_tail {
	__u8 saddr6[16];     /* family 6: the addresses, network byte order */
	__u8 daddr6[16];
	struct tw_tun tun;   /* TW_EVF_TUNNEL: the outermost encapsulation */
};

#define TW_RINGBUF_HDR   8   /* the kernel's header in front of a record */
#define TW_CACHE_LINE    64
/* The size to reserve for a record whose header and what follows it before
 * the tail take @n bytes: with the tail and the kernel's header, a
 * multiple of a cache line. */
#define TW_EVENT_BYTES(n)                                                      \
	((((n) + sizeof(struct tw_event_tail) + TW_RINGBUF_HDR +               \
	   TW_CACHE_LINE - 1) / TW_CACHE_LINE) * TW_CACHE_LINE - TW_RINGBUF_HDR)
/* A TC record with room for @cap payload bytes. */
#define TW_EVENT_DATA_BYTES(cap) TW_EVENT_BYTES(sizeof(struct tw_event) + (cap))

_Static_assert(sizeof(struct tw_event) + TW_RINGBUF_HDR <= TW_CACHE_LINE,
	       "the record header and the ring's fit one cache line");
/* The payload caps fill their records exactly: no ring space padded. */
#define TW_EVENT_EXACT(cap)                                                    \
	(TW_EVENT_DATA_BYTES(cap) ==                                           \
	 sizeof(struct tw_event) + (cap) + sizeof(struct tw_event_tail))
_Static_assert(TW_EVENT_EXACT(TW_CHUNK_SMALL) && TW_EVENT_EXACT(TW_CHUNK_MTU) &&
	       TW_EVENT_EXACT(TW_CHUNK_MAX), "payload caps in whole lines");
_Static_assert(2 * (TW_EVENT_DATA_BYTES(TW_CHUNK_MAX) + TW_RINGBUF_HDR) <= TW_RINGBUF_MIN,
	       "the smallest ring holds two of the largest records");

/*
 * The uprobe side (bpf/uprobes.bpf.c and the bind in bpf/tlswatch.bpf.c).
 * A server thread that serves a chain leaves a struct tw_up_pending
 * under its pid_tgid; the next packet that thread sends from a local
 * socket on a watched flow says which connection it was (TW_EV_UP_BIND),
 * and the entry goes. What SSL_free reads goes by connection instead
 * (struct tw_up_freed below).
 */
#define TW_UP_CHUNK        4096   /* DER bytes per TW_EV_UP_CERT record */
#define TW_UP_MAX_CHUNKS   16     /* 64 KiB: a bigger certificate is
				   * announced (TW_UPF_TOO_BIG), not copied */
#define TW_UP_MAX_THREADS  65536  /* server threads with a pending entry */

enum tw_up_flags {
	TW_UPF_CHAIN   = 0x01, /* pending: certificates were served */
	TW_UPF_ALERT   = 0x02, /* freed: a fatal alert was read (alert) */
	TW_UPF_TOO_BIG = 0x04, /* cert: longer than TW_UP_MAX_CHUNKS chunks,
				* not copied (chunk_len 0, wire_len its size) */
	TW_UPF_LOST    = 0x08, /* cert: a chunk could not be copied */
	TW_UPF_ALERT_SENT = 0x10, /* freed: a fatal alert was sent (alert_sent) */
	TW_UPF_ALPN    = 0x20, /* pending: the selected ALPN protocol went out
				* as TW_EV_UP_ALPN under hs_id */
};

#define TW_UP_ALPN_MAX     255    /* an ALPN protocol name's longest */

/*
 * SSL_free's attach cookie: the offsets in the SSL object of what its
 * probe reads (uprobe_calibrate()), TW_UP_OFF_BITS each, 0 when unknown:
 * the last alert sent, the fatal alert read, s3.alpn_selected (a pointer,
 * its length the word after it), the int that says the SSL is a server's
 * (SSL_is_server()).
 */
#define TW_UP_OFF_BITS     16
#define TW_UP_OFF_MASK     ((1u << TW_UP_OFF_BITS) - 1)
enum tw_up_cookie_field {
	TW_UP_OFF_SENT,
	TW_UP_OFF_READ,
	TW_UP_OFF_ALPN,
	TW_UP_OFF_SERVER,
};

/*
 * The Certificate writer's probe's attach cookie (uprobe_site.c), fields
 * of TW_UP_OFF_BITS, 0 when unknown: where the writer's output pointer is
 * in its frame (bytes above %rsp), s3.alpn_selected's offset in the SSL
 * (as TW_UP_OFF_ALPN), which callee-saved register holds the SSL
 * there (1..TW_UP_SITE_REGS: %rbx, %rbp, %r12, %r13, %r14, %r15), and the
 * offset of the int that says the SSL is a server's (as TW_UP_OFF_SERVER).
 */
enum tw_up_site_field {
	TW_UP_SITE_FRAME,
	TW_UP_SITE_ALPN,
	TW_UP_SITE_REG,
	TW_UP_SITE_SERVER,
};
#define TW_UP_SITE_REGS    6

/* Per-CPU counters of the uprobe side, as TW_KERNEL_COUNTERS. */
#define TW_UPROBE_COUNTERS(X)                                                  \
	X(CHAINS, uprobe_chains, "Certificate chains the server's TLS library served") \
	X(CERTS, uprobe_certs, "Certificates copied from the server's TLS library") \
	X(TOO_BIG, uprobe_certs_too_big, "Served certificates too big to copy") \
	X(LOST, uprobe_records_lost, "Uprobe records lost because the ring buffer was full") \
	X(ALERTS, uprobe_alerts, "Fatal alerts the server's TLS library sent or read") \
	X(ALPNS, uprobe_alpns, "ALPN protocols the server's TLS library selected, read with the chain or at SSL_free (once per connection)") \
	X(ALPNS_UNNOTED, uprobe_alpns_unnoted, "ALPN protocols sent with their chain that the kernel could not note as sent (its map refused): sent again at SSL_free, the second dropped by the agent") \
	X(CLIENT_CERTS, uprobe_client_certs, "Certificates a TLS client's SSL wrote (a client certificate, e.g. a proxy's to its upstream): not recorded") \
	X(BINDS, uprobe_binds, "Server packets that named the connection of a chain or alert")

enum tw_up_counter {
#define TW_UP_COUNTER_ENUM(id, name, help) TW_UP_CNT_##id,
	TW_UPROBE_COUNTERS(TW_UP_COUNTER_ENUM)
#undef TW_UP_COUNTER_ENUM
	TW_UP_CNT__MAX,
};

struct tw_up_counters {
	__u64 c[TW_UP_CNT__MAX];
};

struct tw_up_pending {
	__u64 hs_id;         /* the chain's handshake id (unique per boot) */
	__u64 ts_ns;         /* when its last certificate was served */
	__u32 tgid;
	__u16 n_certs;       /* certificates served so far */
	__u8 alert;          /* RFC 8446 AlertDescription read (TW_UPF_ALERT) */
	__u8 flags;          /* enum tw_up_flags */
	__u8 alert_sent;     /* ... sent (TW_UPF_ALERT_SENT) */
	__u8 pad[7];
};

/*
 * What SSL_free read of a server's connection (its fatal alerts, the ALPN
 * protocol of a connection without a chain), kept apart from the thread's
 * chain: queued on the freeing thread (at most TW_UP_FREED_QUEUE, in
 * order) until that thread closes a TCP socket (close(2), or shutdown(2)
 * with SHUT_WR): the close takes the entry of the SSL freed last and
 * moves it to tw_up_closing under that socket's cookie (a __u64 unique on
 * the host: SO_COOKIE's), where the TC program finds it by the cookie of
 * the socket that sends the connection's FIN or RST. Not its 4-tuple: the
 * same addresses and ports in another network namespace, or a later
 * connection of the same 4-tuple whose close moved nothing, took it.
 */
#define TW_UP_FREED_QUEUE  4
#define TW_UP_MAX_CLOSING  16384  /* connections closing with a record */

struct tw_up_freed {
	__u64 hs_id;         /* the ALPN protocol's record (TW_UPF_ALPN), or 0 */
	__u32 tgid;
	__u32 tid;
	__u8 flags;          /* TW_UPF_ALERT, TW_UPF_ALERT_SENT, TW_UPF_ALPN */
	__u8 alert;          /* as struct tw_up_pending */
	__u8 alert_sent;
	__u8 client;         /* queued only: a TLS client's SSL (nothing read) */
	__u8 pad[4];
};

/* The serving process's executable, read in the kernel (the agent keeps no
 * right to read other processes' /proc/PID/exe): its path components from
 * the file up, at most TW_UP_EXE_PARTS of at most TW_UP_EXE_PART - 1
 * bytes; exe_parts 0 when it did not fit or crossed a mount. */
#define TW_UP_EXE_PARTS    6
#define TW_UP_EXE_PART     40

/* Follows struct tw_event in TW_EV_UP_* records. */
struct tw_up_info {
	__u64 hs_id;
	__u32 tgid;          /* process (init pid namespace) */
	__u32 tid;
	__u16 cert_index;    /* CERT: place in the chain, leaf 0; BIND: count */
	__u8 alert;          /* BIND with TW_UPF_ALERT */
	__u8 flags;          /* enum tw_up_flags */
	__u8 alert_sent;     /* BIND with TW_UPF_ALERT_SENT */
	__u8 exe_parts;      /* CERT index 0: components in exe */
	__u8 pad[2];
	char comm[16];       /* CERT: the serving thread's name */
	char exe[TW_UP_EXE_PARTS][TW_UP_EXE_PART]; /* CERT index 0 */
};

/* The sizes of the uprobe side's records: CERT and ALPN (room for a
 * chunk), BIND (no bytes; its addresses may be in the tail). */
#define TW_UP_REC_BYTES  TW_EVENT_BYTES(sizeof(struct tw_event) +             \
					sizeof(struct tw_up_info) + TW_UP_CHUNK)
#define TW_UP_BIND_BYTES TW_EVENT_BYTES(sizeof(struct tw_event) +             \
					sizeof(struct tw_up_info))

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
	__u32 next_seq[2];   /* the furthest sequence number endpoint 0 / 1
			      * is known to have reached (tw_seq_learn): what
			      * its RST must be near (tw_rst_plausible); two
			      * CPUs may write it at once, and the loser's
			      * packet leaves it a packet behind: well inside
			      * TW_RST_WINDOW */
	__u8 state;          /* enum tw_flow_state */
	__u8 server;         /* index of the server endpoint in the key */
	__u8 probes;         /* preamble segments copied while in PROBE */
	__u8 budget_hit;     /* bit i: endpoint i's direction is over budget */
	__u8 seq_known;      /* bit i: next_seq[i] holds; TW_SEQ_SYN(i):
			      * endpoint i sent a SYN not plausible for it,
			      * at syn_seq (tw_flow_syn) */
	__u8 head_len;       /* bytes in head */
	__u8 head_from;      /* the endpoint whose first bytes head holds */
	__u8 lost;           /* bit i: a record of endpoint i's direction was
			      * lost (the ring full): its copying stopped, and
			      * a gap record is owed with its next packet */
	__u32 head_seq;      /* TCP sequence number of head[0] */
	__u8 head[8];        /* while probing: the first TW_HEAD_BYTES bytes
			      * head_from sent, in order, across segments (a
			      * client may write its hello a byte at a time) */
	__u32 syn_seq;       /* the sequence number of that SYN: the other
			      * side's SYN-ACK to it (ack syn_seq + 1) says
			      * the connection is a new one */
	__u64 fin;           /* bit i: endpoint i sent FIN (half-closed).
			      * 64 bits: the kernel sets its bit with an
			      * atomic fetch-or (tw_flow_closing), which the
			      * BPF target without ALU32 has only for 64 */
};

/* seq_known: endpoint @e sent a SYN taken for no new connection yet. */
#define TW_SEQ_SYN(e) (4u << (e))

/*
 * Which RSTs end a flow, here and in userspace (userspace/flow/) (and, in
 * the kernel, which FINs half-close it and which SYNs end its entry: the
 * same test, tw_seq_plausible): only one
 * whose sequence number lies within TW_RST_WINDOW of the furthest sequence
 * number its sender is known to have reached (its SYN, its segments' ends,
 * the other side's ACKs). An off-path RST (injected, spoofed) guesses the
 * sequence number; before, any RST ended the flow: the handshake was
 * reported aborted and, live, the kernel stopped copying it.
 *
 * RFC 5961 has the receiver accept an RST only at exactly RCV.NXT. An
 * observer cannot be that strict: its view of the sender may lag (bytes it
 * missed) or lead (bytes in flight), and real stacks send RSTs at several
 * places. The window covers each:
 *   - at SND.NXT (a socket closed with unread data, an abort; after a FIN,
 *     FIN + 1): the furthest point seen, or past it by bytes the observer
 *     missed;
 *   - at the ACK of the segment it answers (RFC 793, a connection the
 *     stack forgot): a point the other side's ACKs reached, behind the
 *     furthest by at most the bytes then in flight; Linux's RST at the
 *     window's edge (tcp_acceptable_seq) lies between the two;
 *   - seq 0, answering a segment without ACK (a SYN to a closed port): the
 *     sender has said nothing yet, so nothing is known of it, and an RST
 *     of a sender of which nothing is known is accepted whatever its seq.
 * 256 KiB is four times the largest window without scaling, four times a
 * GSO super-packet, four times the default per-direction copy budget (what
 * a handshake phase sends is far less): a real RST falls inside, while a
 * blind guess hits it once in 8192 tries. Segments and ACKs further away
 * than the window do not move the reference either (or a spoofed segment
 * could move it to where a spoofed RST follows).
 */
#define TW_RST_WINDOW (1u << 18)

/* @seq lies within TW_RST_WINDOW of @ref, either side, in sequence space. */
static inline int tw_seq_near(__u32 ref, __u32 seq)
{
	return (__u32)(seq - ref + TW_RST_WINDOW) <= 2 * TW_RST_WINDOW;
}

/*
 * A decided flow's references stay where its sides had got when it was
 * decided (the kernel stops looking at its packets but for a lookup), while
 * the connection goes on: its RST may lie as far ahead as the sender has
 * sent since. Accepted from TW_RST_WINDOW behind to TW_RST_DONE_AHEAD
 * ahead: a real RST of a connection whose sender sent up to 4 MiB after
 * the handshake (a client's RST, nearly always) ends the entry; a blind
 * guess hits once in about 1000 tries. Of a real RST further ahead, the
 * kernel asks the host's TCP stack when it holds an end of the connection
 * (tw_stack_vouches in bpf/tlswatch.bpf.c); of a forwarded connection its
 * entry is left to the LRU, where an entry without packets is the first
 * to go.
 */
#define TW_RST_DONE_AHEAD (1u << 22)

static inline int tw_seq_near_done(__u32 ref, __u32 seq)
{
	return (__u32)(seq - ref + TW_RST_WINDOW) <=
	       TW_RST_WINDOW + TW_RST_DONE_AHEAD;
}

/* @seq moves a sender's reference @ref: further along, and near it (one
 * further away, spoofed perhaps, must not prepare the ground for an RST). */
static inline int tw_seq_moves_ref(__u32 ref, __u32 seq)
{
	return tw_seq_near(ref, seq) && (__s32)(seq - ref) > 0;
}

/*
 * Handshake messages only a client sends in the clear (TLS 1.2 and
 * older): a CertificateVerify (15) or a ClientKeyExchange (16). The first
 * of a connection whose ClientHello was missed names its sender the
 * client: userspace's tls_sniff and the kernel side's tw_hs_from_client
 * both ask this.
 */
static inline int tw_hs_client_only(__u8 type)
{
	return type == 15 || type == 16;
}

/*
 * A NewSessionTicket (4), the last message before the server's Finished
 * (TLS 1.2 and older): a connection whose first handshake message it is
 * was joined after its handshake, counted in midstream_tls_flows (live:
 * flows_midstream_tls), not as a handshake. Userspace's tls_sniff and the
 * kernel side's --direction served test (tw_flow_outgoing) both ask this.
 */
static inline int tw_hs_after_handshake(__u8 type)
{
	return type == 4;
}

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
