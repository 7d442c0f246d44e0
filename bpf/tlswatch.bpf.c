// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * tlswatch's TC classifier: finds the TCP flows on watched ports that are in
 * their TLS handshake and copies their payload to a ring buffer, in bounded
 * chunks. Everything that interprets TLS lives in userspace.
 *
 * It never drops, rewrites or delays a packet. It returns TC_ACT_UNSPEC
 * ("no verdict, go on"), not TC_ACT_OK: in a filter chain TC_ACT_OK ends the
 * classification, so other tools' filters behind ours would stop seeing
 * packets. TC_ACT_UNSPEC lets the chain continue and, at its end, the
 * packet pass.
 *
 * Cost on the common path: packets without payload, FIN, SYN or RST cost
 * the parse, a bitmap test and one test of the flags; a SYN-ACK a load
 * more (a flow-map lookup only just after a SYN was ignored:
 * tw_synack_awaited); a SYN, FIN or RST on a watched port one flow-map
 * lookup (and, for one whose sequence number is not plausible for its
 * sender, the checks of tw_seq_plausible: two socket lookups at most);
 * payload on a watched port costs one flow-map lookup once the flow is
 * known (not TLS, or userspace marked it done).
 * A connection that does not open with TLS has its first packets copied as
 * a preamble (STARTTLS: at most TW_PREAMBLE_BYTES a side, TW_PROBE_SEGMENTS
 * packets) before it costs one lookup too.
 * Under --direction served, the packet that starts a flow's handshake also
 * has its socket looked at, and, when it leaves from here with a client's
 * message or comes in with a server's, one socket lookup more
 * (tw_flow_outgoing); no other packet does.
 *
 * Wakeups: a wakeup of the consumer is an irq_work, a self-IPI that costs
 * microseconds in a VM, more than copying a handshake packet. Records are
 * submitted without one (BPF_RB_NO_WAKEUP), and the consumer polls with a
 * bounded timeout (userspace/live/live.h, LIVE_MAX_BATCH_MS). A record
 * forces a wakeup when the ring holds tw_wake_bytes or more (so a burst
 * never waits for the timeout to drain), or when it is latency-relevant
 * (tw_ends_handshake, a close, a cut packet or a gap) and no wakeup was
 * forced in the last tw_wake_gap_ns.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "parse.h"
#include "decap.h"
#include "tlswatch/event.h"

#define TC_ACT_UNSPEC (-1)

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_ACK 0x10

char LICENSE[] SEC("license") = "Dual MIT/GPL";

/* Set through the skeleton before load. */
const volatile __u32 tw_dir_budget = TW_DEFAULT_DIR_BUDGET;
const volatile __u32 tw_chunk_bytes = TW_CHUNK_MAX; /* <= TW_CHUNK_MAX */
/* Ring buffer fill that forces a wakeup; userspace sets it from the ring's
 * size (TW_WAKE_FILL_DIVISOR). */
const volatile __u64 tw_wake_bytes = TW_DEFAULT_RINGBUF / TW_WAKE_FILL_DIVISOR;
const volatile __u64 tw_wake_gap_ns = TW_WAKE_GAP_NS;
/* --uprobes: server packets look their thread up in tw_up_pending. Off,
 * the verifier drops the calls: no map lookup per packet for nothing. */
const volatile __u8 tw_up_binds;

/* When a wakeup was last forced (bpf_ktime_get_ns). Shared by all CPUs
 * without atomics: a lost update costs at most one extra wakeup. */
__u64 tw_last_wake_ns;

/* When tw_flow_syn last ignored a SYN (bpf_ktime_get_ns), 0 once
 * TW_SYN_ANSWER_NS have passed since (tw_synack_awaited). Shared by all
 * CPUs like tw_last_wake_ns; written only on that rare path. */
__u64 tw_syn_ignored_ns;

/* Watched server ports, one bit each; userspace writes it through the
 * skeleton's mmap of .bss, so changing ports needs no reload. Its own
 * cache lines: every forced wakeup writes tw_last_wake_ns, which would
 * otherwise take the line of ports 0-447 (443 with them) from the other
 * CPUs' caches. */
__u64 tw_watched_ports[65536 / 64] __attribute__((aligned(64)));

/* --direction served: 1 leaves the connections this host opens itself
 * unfollowed (tw_flow_outgoing). In .bss, like tw_watched_ports, so a
 * reload changes it without reloading the program; read only when a
 * flow's handshake starts. */
__u8 tw_served_only;

/* tw_events, the ring buffer, and the uprobe side's maps */
#include "uprobe_maps.h"

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, TW_DEFAULT_MAX_FLOWS);
	__type(key, struct tw_flow_key);
	__type(value, struct tw_flow_val);
} tw_flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tw_counters);
} tw_counters SEC(".maps");

/* What one packet's records are made from. */
struct tw_ctx {
	struct tw_pkt pkt;
	__u64 now;
	__u32 urgent;        /* the packet's records are latency-relevant */
	__u32 pad;
};

static __always_inline struct tw_counters *tw_counters_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&tw_counters, &zero);
}

static __always_inline bool tw_port_watched(__u16 port)
{
	return tw_watched_ports[port >> 6] & (1ULL << (port & 63));
}

/* A TLS handshake record: type 22, version 3.0 .. 3.4. */
static __always_inline bool tw_is_handshake(const __u8 *b)
{
	return b[0] == 0x16 && b[1] == 0x03 && b[2] <= 0x04;
}

/*
 * A packet that starts with a ChangeCipherSpec (20), alert (21) or
 * application_data (23) record: what decides a handshake's outcome in
 * userspace (a side's CCS + Finished, an alert, TLS 1.3's encrypted
 * Finished or alert). Only the first two bytes are looked at, so a
 * continuation segment can match by chance: one more wakeup, no harm.
 */
static __always_inline bool tw_ends_handshake(const __u8 *b)
{
	return (b[0] == 0x14 || b[0] == 0x15 || b[0] == 0x17) && b[1] == 0x03;
}

/*
 * Submit flags for a record: a forced wakeup if the ring holds enough to be
 * worth one and none was forced in the last TW_WAKE_FILL_GAP_NS (once
 * woken, the consumer drains everything: an IPI per record while it does
 * would only slow both sides down), or if the record is @urgent and none
 * was forced in the last tw_wake_gap_ns; else none (the consumer's poll
 * timeout bounds the wait).
 */
static __always_inline __u64 tw_submit_flags(const struct tw_ctx *c, bool urgent)
{
	__u64 gap;

	if (bpf_ringbuf_query(&tw_events, BPF_RB_AVAIL_DATA) >= tw_wake_bytes)
		gap = TW_WAKE_FILL_GAP_NS;
	else if (urgent)
		gap = tw_wake_gap_ns;
	else
		return BPF_RB_NO_WAKEUP;
	if (c->now - tw_last_wake_ns < gap)
		return BPF_RB_NO_WAKEUP;
	tw_last_wake_ns = c->now;
	return BPF_RB_FORCE_WAKEUP;
}

/*
 * The record header @e, and what the record's tail @t must say: the
 * addresses of an IPv6 packet, a tunnel's outer facts. An IPv4 packet
 * outside a tunnel (nearly all of them) writes nothing past the header's
 * cache line (struct tw_event).
 */
static __always_inline void tw_fill_event(struct tw_event *e,
					  struct tw_event_tail *t,
					  struct __sk_buff *skb,
					  const struct tw_ctx *c, __u8 kind,
					  __u8 flags, __u32 off, __u32 len)
{
	const struct tw_pkt *p = &c->pkt;

	e->ts_ns = c->now;
	if (p->family == 4) {
		__builtin_memcpy(e->saddr, p->saddr, 4);
		__builtin_memcpy(e->daddr, p->daddr, 4);
	} else {
		__builtin_memset(e->saddr, 0, 4);
		__builtin_memset(e->daddr, 0, 4);
		__builtin_memcpy(t->saddr6, p->saddr, 16);
		__builtin_memcpy(t->daddr6, p->daddr, 16);
	}
	if (p->tun.type) {
		t->tun = p->tun;
		flags |= TW_EVF_TUNNEL;
	}
	e->sport = p->sport;
	e->dport = p->dport;
	e->seq = p->seq;
	e->ack = p->ack;
	e->wire_len = p->payload_len;
	e->chunk_off = off;
	e->chunk_len = len;
	e->ifindex = skb->ifindex;
	e->family = p->family;
	e->tcp_flags = kind == TW_EV_CLOSE ? p->tcp_flags
					   : p->tcp_flags & ~(TCP_FIN | TCP_RST);
	e->kind = kind;
	e->flags = flags;
}

/*
 * One record of @cap payload bytes (a constant after inlining) carrying
 * @n bytes from payload offset @off. Returns 0, or -1 if nothing was sent.
 */
static __always_inline int tw_emit_sized(struct __sk_buff *skb,
					 struct tw_ctx *c,
					 struct tw_counters *cnt, __u32 off,
					 __u32 n, __u8 flags, const __u32 cap)
{
	struct tw_event *e;
	__u64 len = n;
	bool last;

	e = bpf_ringbuf_reserve(&tw_events, TW_EVENT_DATA_BYTES(cap), 0);
	if (!e) {
		cnt->c[TW_CNT_RINGBUF_FULL]++;
		return -1;
	}
	/* The verifier must see 0 < len <= cap on the very register passed
	 * to the helper; the barriers keep clang from reshaping the clamp. */
	barrier_var(len);
	if (len > cap)
		len = cap;
	barrier_var(len);
	if (len == 0 ||
	    bpf_skb_load_bytes(skb, c->pkt.payload_off + off, e->data, len)) {
		/* Parsing caps the payload at what the packet holds, so this
		 * should never happen; if it does, the loss is counted. */
		bpf_ringbuf_discard(e, 0);
		cnt->c[TW_CNT_COPY_FAILED]++;
		return -1;
	}
	tw_fill_event(e, (void *)(e->data + cap), skb, c, TW_EV_DATA, flags,
		      off, len);
	/* The packet's first bytes say whether it ends a handshake; a cut
	 * packet means lost bytes. A wakeup goes with the packet's last
	 * record, so one wakeup brings them all (and the ring is only looked
	 * at then). */
	if (off == 0)
		c->urgent = tw_ends_handshake(e->data);
	last = (flags & TW_EVF_TRUNCATED) || off + len >= c->pkt.payload_len;
	bpf_ringbuf_submit(e, last ? tw_submit_flags(c, c->urgent ||
						     (flags & TW_EVF_TRUNCATED))
				   : BPF_RB_NO_WAKEUP);
	cnt->c[TW_CNT_CHUNKS_EMITTED]++;
	cnt->c[TW_CNT_BYTES_COPIED] += len;
	if (flags & TW_EVF_TRUNCATED)
		cnt->c[TW_CNT_TRUNCATED]++;
	return 0;
}

/*
 * Emits one record: @n payload bytes from @off (TW_EV_DATA), or, with
 * @n == 0, a record without payload of kind @kind_flags >> 8 (a close or a
 * gap: both urgent). A global function, so the verifier checks it once,
 * not once per chunk of every path that leads here.
 */
__noinline int tw_emit(struct __sk_buff *skb, struct tw_ctx *c,
		       __u32 off, __u32 n, __u32 kind_flags)
{
	struct tw_counters *cnt = tw_counters_get();
	__u8 flags = kind_flags & 0xff;
	struct tw_event *e;

	if (!c || !cnt)
		return -1;
	if (n > TW_CHUNK_MTU)
		return tw_emit_sized(skb, c, cnt, off, n, flags, TW_CHUNK_MAX);
	if (n > TW_CHUNK_SMALL)
		return tw_emit_sized(skb, c, cnt, off, n, flags, TW_CHUNK_MTU);
	if (n > 0)
		return tw_emit_sized(skb, c, cnt, off, n, flags, TW_CHUNK_SMALL);

	e = bpf_ringbuf_reserve(&tw_events, TW_EVENT_DATA_BYTES(0), 0);
	if (!e) {
		cnt->c[TW_CNT_RINGBUF_FULL]++;
		return -1;
	}
	tw_fill_event(e, (void *)e->data, skb, c, (kind_flags >> 8) & 0xff,
		      flags, off, 0);
	bpf_ringbuf_submit(e, tw_submit_flags(c, true));
	cnt->c[TW_CNT_CHUNKS_EMITTED]++;
	return 0;
}

/*
 * A gap record: this packet's payload, and what follows in its direction,
 * was not copied (@flags: the direction's, with TW_EVF_BUDGET when the
 * budget is why). The one place a gap is made: a lost record owed, a
 * budget spent at a packet's boundary, a preamble given up. 0, or -1 if
 * it was lost too.
 */
static __always_inline int tw_emit_gap(struct __sk_buff *skb, struct tw_ctx *c,
				       __u8 flags)
{
	return tw_emit(skb, c, 0, 0,
		       TW_EV_GAP << 8 | flags | TW_EVF_TRUNCATED);
}

/*
 * Copies the packet's payload, sent by endpoint @from of flow @v, within
 * that direction's budget and the per-packet chunk cap.
 */
static __always_inline void tw_copy_payload(struct __sk_buff *skb,
					    struct tw_ctx *c,
					    struct tw_counters *cnt,
					    struct tw_flow_val *v, int from,
					    __u8 flags)
{
	__u32 len = c->pkt.payload_len, chunk = tw_chunk_bytes;
	__u32 bit = from ? 2 : 1, copied, left, want, off = 0, n;
	bool budget_cut;
	__u8 cut;
	int i;

	if (v->budget_hit & bit) {
		/* the gap a lost record left, said once the ring has room */
		if ((v->lost & bit) && !tw_emit_gap(skb, c, flags))
			v->lost &= ~bit;
		return;
	}
	if (len == 0)
		return;
	if (chunk == 0 || chunk > TW_CHUNK_MAX)
		chunk = TW_CHUNK_MAX;
	copied = from ? v->copied[1] : v->copied[0];
	left = tw_dir_budget > copied ? tw_dir_budget - copied : 0;
	want = len < left ? len : left;
	budget_cut = want < len;
	if (want > TW_MAX_CHUNKS * chunk)
		want = TW_MAX_CHUNKS * chunk;
	/* the last record of a packet that is not copied whole says so */
	cut = TW_EVF_TRUNCATED | (budget_cut ? TW_EVF_BUDGET : 0);

	for (i = 0; i < TW_MAX_CHUNKS && off < want; i++) {
		n = want - off < chunk ? want - off : chunk;
		if (tw_emit(skb, c, off, n,
			    TW_EV_DATA << 8 |
			    flags | (off + n == want && want < len ? cut : 0))) {
			/* Lost (the ring full): the direction has a hole from
			 * here. Copying it on would hand userspace bytes after
			 * the hole as if they followed on (a direction whose
			 * first record was lost was parsed from the middle of
			 * a record: a handshake judged failed on garbage); a
			 * gap record says it with the next packet. */
			v->budget_hit |= bit;
			v->lost |= bit;
			break;
		}
		off += n;
	}
	if (off) {
		if (from)
			__sync_fetch_and_add(&v->copied[1], off);
		else
			__sync_fetch_and_add(&v->copied[0], off);
	}
	if (budget_cut) {
		/* Said once per direction: the rest is a gap for userspace. */
		v->budget_hit |= bit;
		cnt->c[TW_CNT_BUDGET_EXHAUSTED]++;
		/* a gap lost to a full ring is owed, as a lost record is */
		if (want == 0 && tw_emit_gap(skb, c, flags | TW_EVF_BUDGET))
			v->lost |= bit;
	}
}

/* Reads the first bytes of the payload: is it a TLS handshake record? */
static __always_inline bool tw_starts_handshake(struct __sk_buff *skb,
						const struct tw_ctx *c,
						__u8 *hs_type)
{
	__u8 b[6];

	if (c->pkt.payload_len < sizeof(b) ||
	    bpf_skb_load_bytes(skb, c->pkt.payload_off, b, sizeof(b)))
		return false;
	*hs_type = b[5];
	return tw_is_handshake(b);
}

/*
 * Whether a handshake message of type @hs_type, the first of a flow's
 * handshake phase, is its client's: a ClientHello (1), or, of a handshake
 * whose hello was missed, one only a client sends (tw_hs_client_only, as
 * userspace's "Who is the client" takes them). Any other, a Certificate
 * included (the kernel cannot wait for what follows it), is taken for the
 * server's.
 */
static __always_inline bool tw_hs_from_client(__u8 hs_type)
{
	return hs_type == 1 || tw_hs_client_only(hs_type);
}

/*
 * Whether @hs_type is a message only a server sends in the clear during a
 * handshake: a ServerHello (2), ServerKeyExchange (12), CertificateRequest
 * (13), ServerHelloDone (14) or CertificateStatus (22); not a
 * NewSessionTicket (4), which comes after the handshake: a connection
 * joined there has no handshake to leave out, and is followed for
 * userspace to count in flows_midstream_tls (tw_hs_after_handshake).
 * What tw_flow_outgoing judges a server's message by: not by
 * "anything not a client's", which takes in a Certificate (either side's)
 * and a record that is no message at all, TLS 1.2's encrypted Finished
 * (a handshake record after the ChangeCipherSpec, its first byte
 * ciphertext), the client's of a served connection joined there too.
 */
static __always_inline bool tw_hs_server_only(__u8 hs_type)
{
	return hs_type == 2 || hs_type == 12 || hs_type == 13 ||
	       hs_type == 14 || hs_type == 22;
}

/*
 * Which endpoint is the server: the one on a watched port; if both are,
 * the receiver of a client's message (tw_hs_from_client), else its sender.
 */
static __always_inline __u8 tw_pick_server(const struct tw_ctx *c, int from,
					   __u8 hs_type)
{
	bool src = tw_port_watched(c->pkt.sport);
	bool dst = tw_port_watched(c->pkt.dport);

	if (src != dst)
		return src ? from : !from;
	return tw_hs_from_client(hs_type) ? !from : from;
}

/*
 * Adds the packet's first bytes to the flow's head: the first bytes sent by
 * the endpoint that spoke first, in order, across segments. True when this
 * packet completes a head that is a handshake record (the bytes before it
 * went to userspace as preamble).
 */
static __always_inline bool tw_head_add(struct __sk_buff *skb,
					const struct tw_ctx *c,
					struct tw_flow_val *v, int from)
{
	__u32 have = v->head_len, n, i;
	__u8 b;

	if (have == 0) {
		v->head_from = from;
		v->head_seq = c->pkt.seq;
	} else if (from != v->head_from || c->pkt.seq != v->head_seq + have) {
		return false;  /* the other side, a retransmission, a hole */
	}
	if (have >= TW_HEAD_BYTES)
		return false;
	n = TW_HEAD_BYTES - have;
	if (n > c->pkt.payload_len)
		n = c->pkt.payload_len;
	for (i = 0; i < TW_HEAD_BYTES && i < n; i++) {
		if (bpf_skb_load_bytes(skb, c->pkt.payload_off + i, &b, 1))
			return false;
		v->head[(have + i) & 7] = b;
	}
	v->head_len = have + n;
	return v->head_len == TW_HEAD_BYTES && tw_is_handshake(v->head);
}

/*
 * The socket this host's stack sent the packet from, or NULL: one made
 * here (egress), not received. skb->sk alone does not say that: a veth
 * keeps the sender's socket reference when the packet crosses into the
 * other namespace (skb_scrub_packet no longer orphans it, kernel 6.18),
 * so a packet a container's socket sends comes in on TC ingress of the
 * host's end with that socket attached. What tells them apart is skb_iif
 * (ingress_ifindex): set when a device received the packet (every
 * ingress packet, and a forwarded one on its way out), 0 for one this
 * host's stack made. Hence, not this host's: a packet of a container or
 * another namespace forwarded through this host; the host received it
 * from the container's interface before sending it on.
 */
static __always_inline struct bpf_sock *tw_local_sk(struct __sk_buff *skb)
{
	if (skb->ingress_ifindex)
		return NULL;
	return skb->sk;
}

/*
 * Sent by this host's TCP: made here (tw_local_sk) from a TCP stream
 * socket, the connection's own. A protocol of TCP alone is not that: a
 * raw socket opened as socket(AF_INET, SOCK_RAW, IPPROTO_TCP) has it too,
 * its type SOCK_RAW, and any process with CAP_NET_RAW (a container's, by
 * default) can send what it likes through one. The stack's reply socket,
 * which answers a packet of a connection it no longer holds with an RST,
 * is such a raw socket of protocol TCP as well, and nothing a BPF program
 * can read tells it from a user's: its RST is judged by its sequence
 * number like any other (it lies where the packet it answers acked).
 */
static __always_inline bool tw_sent_by_local_tcp(struct __sk_buff *skb)
{
	struct bpf_sock *sk = tw_local_sk(skb);

	if (!sk)
		return false;
	sk = bpf_sk_fullsock(sk);
	return sk && sk->protocol == TW_IPPROTO_TCP && sk->type == SOCK_STREAM;
}

__noinline int tw_receiver_here(struct __sk_buff *skb, const struct tw_ctx *c);
__noinline int tw_sender_here(struct __sk_buff *skb, const struct tw_ctx *c);

/*
 * --direction served: whether the handshake this packet starts, with a
 * message of type @hs_type, is one this host does not serve: its client
 * is here and its server is not. The packet that starts a handshake is
 * always its first message's sender's (tw_head_add takes only that side's
 * bytes), so the message's type says which end sent it
 * (tw_hs_from_client), whatever the ports say (tw_pick_server goes by the
 * watched port):
 *   - a client's message (a ClientHello; a ClientKeyExchange or
 *     CertificateVerify when the hello was missed): leaving this host from
 *     one of its TCP sockets (tw_sent_by_local_tcp), to a server that is
 *     not one of its sockets too (tw_receiver_here: a local client to a
 *     local server, over a watched loopback, is served here);
 *   - a message only a server sends (tw_hs_server_only: a ServerHello,
 *     of a handshake whose hello was missed: the agent started after it,
 *     or it was lost): not sent here, to a client that is one of this
 *     host's sockets, from a server that is not one of them too
 *     (tw_sender_here: over a watched loopback the server's message
 *     passes twice, leaving and coming in; its copy coming in starts the
 *     flow when the one leaving could not make its entry, the flow map
 *     full, and took a local server's connection for outgoing). Not a
 *     Certificate, which tw_pick_server takes for
 *     the server's but may be the client's, nor an encrypted Finished,
 *     whose first byte is ciphertext: a served connection joined at its
 *     client's Certificate or Finished would be left unfollowed. Nor a
 *     NewSessionTicket: a connection joined there is past its handshake,
 *     no handshake to leave out; it counts in flows_midstream_tls (not a
 *     handshake) under any direction, as README's definitions of both
 *     counters say.
 * Sent here means leaving, not only from a TCP socket (tw_local_sk): a
 * hello a client namespace sends to this host's server comes in on TC
 * ingress with the client's socket attached. Hence, not recognized: a
 * connection of a container or another namespace forwarded through this
 * host; and, the other way round, a connection of this host's client to
 * a server in another namespace here (a container's) is taken for
 * outgoing: that server's socket is not in this namespace.
 *
 * Asked only when a flow's handshake starts (tw_flow_probe), once per
 * flow: no other packet pays for it. With the setting off a handshake's
 * start pays one load of tw_served_only; on, a hello coming in (what a
 * server gets) no socket lookup, one leaving from here or a server's
 * message coming in one, and a server's message coming in to a client
 * here (the connection outgoing, or a local one over lo) one more.
 */
static __always_inline bool tw_flow_outgoing(struct __sk_buff *skb,
					     const struct tw_ctx *c,
					     __u8 hs_type)
{
	if (!tw_served_only)
		return false;
	if (tw_hs_from_client(hs_type))
		return tw_sent_by_local_tcp(skb) && !tw_receiver_here(skb, c);
	/* a Certificate may be the client's (client authentication), an
	 * encrypted record is either side's, a NewSessionTicket is no
	 * handshake (tw_hs_server_only): not judged, followed as under all */
	return tw_hs_server_only(hs_type) && !tw_sent_by_local_tcp(skb) &&
	       tw_receiver_here(skb, c) && !tw_sender_here(skb, c);
}

/* What tw_flow_probe found in a payload of a flow in PROBE. */
enum {
	TW_PROBE_PREAMBLE,  /* no handshake yet: the bytes are a preamble */
	TW_PROBE_STARTED,   /* the handshake phase starts with this packet */
	TW_PROBE_OUTGOING,  /* a handshake this host's own client starts,
			     * under --direction served: to be given up */
};

/*
 * A flow in PROBE: whether this payload starts its handshake phase, either
 * itself or by completing the head, and whether that handshake is one to
 * follow (tw_flow_outgoing: decided before anything of the hello is
 * copied; one not to follow gets its server, the end the message's type
 * names, for tw_flow_next to give it up with).
 */
static __always_inline int tw_flow_probe(struct __sk_buff *skb,
					 struct tw_ctx *c,
					 struct tw_flow_val *v, int from)
{
	__u8 hs_type = 0;

	if (tw_starts_handshake(skb, c, &hs_type))
		goto start;
	if (tw_head_add(skb, c, v, from)) {
		hs_type = v->head[5];
		goto start;
	}
	return TW_PROBE_PREAMBLE;
start:
	if (tw_flow_outgoing(skb, c, hs_type)) {
		v->server = tw_hs_from_client(hs_type) ? !from : from;
		return TW_PROBE_OUTGOING;  /* tw_flow_next gives it up */
	}
	v->state = TW_FLOW_HANDSHAKE;
	v->start_ns = c->now;
	v->server = tw_pick_server(c, from, hs_type);
	return TW_PROBE_STARTED;
}

/* Userspace has had bytes of this flow (its preamble). */
static __always_inline bool tw_flow_seen(const struct tw_flow_val *v)
{
	return v->copied[0] || v->copied[1];
}

/* The side a preamble record of endpoint @from is said to come from:
 * the one on the watched port (no hello yet to tell otherwise). */
static __always_inline __u8 tw_preamble_side(const struct tw_ctx *c, int from)
{
	return tw_pick_server(c, from, 0) == from ? TW_EVF_FROM_SERVER : 0;
}

/*
 * Flow @v, probing, is decided without a handshake phase: DONE, with
 * @server its server endpoint. A DONE flow still needs it: a close of the
 * server's binds the closing thread's pending uprobe entry (tw_handle), a
 * close of the client's must not, and the new entry's 0 is the client
 * about half the time (the endpoints' order in the key).
 */
static __always_inline void tw_flow_done(struct tw_flow_val *v, __u8 server)
{
	v->state = TW_FLOW_DONE;
	v->server = server;
}

/*
 * Flow @v, probing, is given up: DONE (tw_flow_done, @server); if
 * userspace has had bytes of it (a preamble), a gap record with this
 * packet (@flags: its side) tells it to forget them.
 */
static __always_inline void tw_flow_give_up(struct __sk_buff *skb,
					    struct tw_ctx *c,
					    struct tw_flow_val *v,
					    __u8 server, __u8 flags)
{
	tw_flow_done(v, server);
	if (tw_flow_seen(v))
		tw_emit_gap(skb, c, flags);
}

/*
 * A payload packet of a flow in PROBE that does not start a handshake: the
 * preamble (STARTTLS), copied whole while its sender stays within
 * TW_PREAMBLE_BYTES and the flow within TW_PROBE_SEGMENTS, so that
 * userspace finds a hello that starts inside a packet and names the
 * protocol. Past either bound the flow is not TLS: given up.
 */
static __always_inline void tw_flow_preamble(struct __sk_buff *skb,
					     struct tw_ctx *c,
					     struct tw_counters *cnt,
					     struct tw_flow_val *v, int from)
{
	__u32 copied = from ? v->copied[1] : v->copied[0];
	__u32 len = c->pkt.payload_len;
	__u8 server = tw_pick_server(c, from, 0); /* no hello: by the port */
	__u8 flags = tw_preamble_side(c, from);

	if (!tw_flow_seen(v)) { /* userspace starts a flow with it */
		flags |= TW_EVF_FLOW_START;
		cnt->c[TW_CNT_FLOWS_TRACKED]++;
	}
	if (copied + len > TW_PREAMBLE_BYTES) {
		tw_flow_give_up(skb, c, v, server, flags);
		return;
	}
	tw_copy_payload(skb, c, cnt, v, from, flags);
	cnt->c[TW_CNT_PREAMBLE_BYTES] += len;
	if (++v->probes >= TW_PROBE_SEGMENTS)
		tw_flow_done(v, server);
}

/*
 * One TW_EV_UP_BIND record: the packet in @c names the connection of what
 * @f says (a chain of @n_certs certificates, alerts, an ALPN protocol).
 * A global function: verified once, for its two callers.
 */
__noinline int tw_up_bind_emit(struct __sk_buff *skb, struct tw_ctx *c,
			       const struct tw_up_freed *f, __u16 n_certs)
{
	struct tw_up_counters *uc;
	struct tw_up_info *info;
	struct tw_event *ev;
	__u32 zero = 0;

	if (!skb || !c || !f)
		return 0;
	uc = bpf_map_lookup_elem(&tw_up_counters, &zero);
	ev = bpf_ringbuf_reserve(&tw_events, TW_UP_BIND_BYTES, 0);
	if (!ev) {
		if (uc)
			uc->c[TW_UP_CNT_LOST]++;
		return 0;
	}
	info = (void *)(ev + 1);
	tw_fill_event(ev, (void *)ev + TW_UP_BIND_BYTES -
			  sizeof(struct tw_event_tail),
		      skb, c, TW_EV_UP_BIND, 0, 0, 0);
	ev->ts_ns = bpf_ktime_get_ns();
	info->hs_id = f->hs_id;
	info->tgid = f->tgid;
	info->tid = f->tid;
	info->cert_index = n_certs;
	info->alert = f->flags & TW_UPF_ALERT ? f->alert : 0;
	info->flags = f->flags;
	info->alert_sent = f->flags & TW_UPF_ALERT_SENT ? f->alert_sent : 0;
	info->exe_parts = 0;
	info->pad[0] = info->pad[1] = 0;
	__builtin_memset(info->comm, 0, sizeof(info->comm));
	bpf_ringbuf_submit(ev, BPF_RB_NO_WAKEUP);
	if (uc)
		uc->c[TW_UP_CNT_BINDS]++;
	return 0;
}

/*
 * A packet the server sends: if its thread has a chain pending (the
 * uprobes put it there just before), this packet names that connection.
 * Only packets this host's TCP sent (tw_sent_by_local_tcp: made here, on
 * egress, in the sending thread's context) qualify: a packet received, or
 * forwarded, runs here in whatever task the CPU happened to interrupt,
 * and so does one a server in another namespace sent, on the ingress of
 * this namespace's end of its veth, though it carries its socket
 * (tw_local_sk): a pending entry of an unrelated thread would name the
 * wrong connection.
 *
 * What SSL_free read (the fatal alerts, and the ALPN protocol of a
 * connection without a chain) waits elsewhere, by socket: the freeing
 * thread's TCP close that follows put it in tw_up_closing under that
 * socket's cookie (tw_up_tcp_close, uprobes.bpf.c), and only that
 * socket's close (FIN or RST) takes it, looked up by the cookie of the
 * packet's socket: one helper call and one lookup per server close of a
 * followed flow, none for other packets. By the 4-tuple instead, a
 * connection of another network namespace with the same addresses and
 * ports (containers' often are), or an earlier connection of the same
 * 4-tuple whose close the agent did not see, lent its record to this
 * one. Before, it waited on the thread with its chain: the
 * thread's next close took it, of whichever connection, and the next
 * chain or SSL_free of another connection dropped or changed it.
 */
__noinline int tw_up_bind(struct __sk_buff *skb, struct tw_ctx *c)
{
	__u64 id = bpf_get_current_pid_tgid(), k;
	struct tw_up_freed f = {}, *w;
	struct tw_up_pending *p;

	if (!c || !skb || !tw_sent_by_local_tcp(skb))
		return 0;
	p = bpf_map_lookup_elem(&tw_up_pending, &id);
	if (p && p->flags) {
		f.hs_id = p->hs_id;
		f.tgid = id >> 32;
		f.tid = (__u32)id;
		f.flags = p->flags;
		tw_up_bind_emit(skb, c, &f, p->n_certs);
		bpf_map_delete_elem(&tw_up_pending, &id);
	}
	if (!(c->pkt.tcp_flags & (TCP_FIN | TCP_RST)))
		return 0;
	/* the sending socket's (tw_sent_by_local_tcp: skb->sk, a full TCP
	 * socket), as tw_up_tcp_close keyed the record */
	k = bpf_get_socket_cookie(skb);
	w = bpf_map_lookup_elem(&tw_up_closing, &k);
	if (!w)
		return 0;
	f = *w;
	/* once: of a FIN and an RST on two CPUs, the one that deletes */
	if (!bpf_map_delete_elem(&tw_up_closing, &k))
		tw_up_bind_emit(skb, c, &f, 0);
	return 0;
}

/*
 * FIN half-closes a flow: the other side may still answer (a client that
 * sends its hello and closes still gets the server's flight, and the
 * server's alert is the explanation). The entry goes on RST (of a flow
 * being followed, only a plausible one reaches here: tw_flow_next), or
 * when both sides have sent FIN.
 */
static __always_inline void tw_flow_closing(struct tw_flow_key *key,
					    struct tw_flow_val *v, int from,
					    __u8 tcp_flags)
{
	/*
	 * The two sides' FINs can be handled at the same time on two CPUs
	 * (both ends close together; each direction's packets run where
	 * they arrive). Read the other side's bit, then set ours: each
	 * could find the other's not there yet, and neither deleted the
	 * entry, kept until the LRU evicted it. One atomic fetch-or orders
	 * the two: whichever comes second sees the first's bit. A locked
	 * instruction only for FINs; userspace's writes (flow_map.c) are
	 * whole-value and stay best effort.
	 */
	if ((tcp_flags & TCP_RST) ||
	    (__sync_fetch_and_or(&v->fin, 1u << from) & (1u << !from)))
		bpf_map_delete_elem(&tw_flows, key);
}

/*
 * The handshake phase of flow @v: copies the packet's payload, and reports
 * a FIN or RST; forgets the flow once it is closed.
 */
static __always_inline void tw_flow_copy(struct __sk_buff *skb,
					 struct tw_ctx *c,
					 struct tw_counters *cnt,
					 struct tw_flow_key *key,
					 struct tw_flow_val *v, int from,
					 __u8 flags)
{
	bool closing = c->pkt.tcp_flags & (TCP_FIN | TCP_RST);
	bool handshake = v->state == TW_FLOW_HANDSHAKE;

	if (handshake) {
		if (from == v->server) {
			flags |= TW_EVF_FROM_SERVER;
			if (tw_up_binds)
				tw_up_bind(skb, c);
		}
		tw_copy_payload(skb, c, cnt, v, from, flags);
	}
	/* a close in the handshake phase, or of a preamble userspace has */
	if (closing && (handshake ||
			(v->state == TW_FLOW_PROBE && tw_flow_seen(v)))) {
		tw_emit(skb, c, c->pkt.payload_len, 0,
			TW_EV_CLOSE << 8 | (flags & TW_EVF_FROM_SERVER));
		cnt->c[TW_CNT_FLOWS_CLOSED]++;
	}
	if (closing)
		tw_flow_closing(key, v, from, c->pkt.tcp_flags);
}

/*
 * The socket of this host that is the packet's receiver (@sender false:
 * the tuple as the packet has it) or its sender (true: swapped), in the
 * network namespace of the packet's device; NULL if none. The caller
 * releases it.
 */
static __always_inline struct bpf_sock *tw_sk_lookup(struct __sk_buff *skb,
						     const struct tw_ctx *c,
						     bool sender)
{
	const __u32 *src = sender ? c->pkt.daddr : c->pkt.saddr;
	const __u32 *dst = sender ? c->pkt.saddr : c->pkt.daddr;
	__u16 sport = sender ? c->pkt.dport : c->pkt.sport;
	__u16 dport = sender ? c->pkt.sport : c->pkt.dport;
	struct bpf_sock_tuple t = {};
	__u32 size;

	if (c->pkt.family == 4) {
		t.ipv4.saddr = src[0];
		t.ipv4.daddr = dst[0];
		t.ipv4.sport = bpf_htons(sport);
		t.ipv4.dport = bpf_htons(dport);
		size = sizeof(t.ipv4);
	} else {
		__builtin_memcpy(t.ipv6.saddr, src, 16);
		__builtin_memcpy(t.ipv6.daddr, dst, 16);
		t.ipv6.sport = bpf_htons(sport);
		t.ipv6.dport = bpf_htons(dport);
		size = sizeof(t.ipv6);
	}
	return bpf_skc_lookup_tcp(skb, &t, size, BPF_F_CURRENT_NETNS, 0);
}

/* Whether the listener @sk is bound to an address (that a lookup with a
 * packet's address matched: it is this host's), not the wildcard. */
static __always_inline bool tw_sk_bound(const struct tw_ctx *c,
					const struct bpf_sock *sk)
{
	if (c->pkt.family == 4)
		return sk->src_ip4;
	return sk->src_ip6[0] | sk->src_ip6[1] | sk->src_ip6[2] | sk->src_ip6[3];
}

/*
 * Whether the packet of @c goes to an address of this host, given the
 * listener @sk its receiver lookup found. A listener bound to an address
 * matched it: that address is this host's. One bound to the wildcard
 * (0.0.0.0, or [::], which also takes IPv4) matches any destination with
 * its port, that of a connection only forwarded through this host too:
 * the host's routing decides, as for the packet on the device it came in
 * on (ingress_ifindex; 0 for one this host sent). Not forwarded (a local
 * route, or none) or forwarding disabled on that device: nothing here
 * forwards the packet, so it can only be for this host.
 */
static __always_inline bool tw_dst_local(struct __sk_buff *skb,
					 const struct tw_ctx *c,
					 const struct bpf_sock *sk)
{
	struct bpf_fib_lookup f = {};
	__u32 in, out;
	long r;

	if (tw_sk_bound(c, sk))
		return true;
	if (c->pkt.family == 4) {
		f.family = 2;   /* AF_INET */
		f.ipv4_src = c->pkt.saddr[0];
		f.ipv4_dst = c->pkt.daddr[0];
	} else {
		f.family = 10;  /* AF_INET6 */
		__builtin_memcpy(f.ipv6_src, c->pkt.saddr, 16);
		__builtin_memcpy(f.ipv6_dst, c->pkt.daddr, 16);
	}
	f.l4_protocol = TW_IPPROTO_TCP;
	f.sport = bpf_htons(c->pkt.sport);
	f.dport = bpf_htons(c->pkt.dport);
	/* both read: the verifier refuses a chosen field of the context */
	in = skb->ingress_ifindex;
	out = skb->ifindex;
	f.ifindex = in ? in : out;
	/* no flags: BPF_FIB_LOOKUP_SKIP_NEIGH (6.3) fails on older kernels,
	 * and a neighbour's state (NO_NEIGH or SUCCESS) says forwarded too */
	r = bpf_fib_lookup(skb, &f, sizeof(f), 0);
	return r == BPF_FIB_LKUP_RET_NOT_FWDED ||
	       r == BPF_FIB_LKUP_RET_FWD_DISABLED;
}

/*
 * --direction served (tw_flow_outgoing): whether the packet's receiver
 * (@sender false) or its sender (true) is one of this host's TCP
 * sockets, in the network namespace of the packet's device: its lookup (tw_sk_lookup) finds the connection's
 * socket, open or, a server's not yet accepted, a request socket. Not a
 * listener: one bound to the wildcard matches any destination with its
 * port (an edge that listens on 443 and connects to an origin's 443),
 * and a connection's socket is there once its first bytes are sent
 * (a TCP Fast Open hello in the SYN, which only a listener takes, is
 * the exception). Not a time-wait socket either: no connection. Nor the
 * inner packet of a tunnel, whose addresses are not this namespace's.
 */
static __always_inline int tw_conn_here(struct __sk_buff *skb,
					const struct tw_ctx *c, bool sender)
{
	struct bpf_sock *sk;
	__u32 state;

	if (!skb || !c || c->pkt.tun.type)
		return 0;
	sk = tw_sk_lookup(skb, c, sender);
	if (!sk)
		return 0;
	state = sk->state;
	bpf_sk_release(sk);
	return state != BPF_TCP_LISTEN && state != BPF_TCP_TIME_WAIT;
}

__noinline int tw_receiver_here(struct __sk_buff *skb, const struct tw_ctx *c)
{
	return tw_conn_here(skb, c, false);
}

/* The same of the packet's sender (tw_flow_outgoing, a server's message
 * coming in): a function of its own, so that the hello's call of
 * tw_receiver_here passes no more arguments than before. */
__noinline int tw_sender_here(struct __sk_buff *skb, const struct tw_ctx *c)
{
	return tw_conn_here(skb, c, true);
}

/* What the host's TCP stack says of a packet (tw_stack_vouches). */
enum {
	TW_STACK_NO_END = -1,  /* it holds no end of the connection */
	TW_STACK_REFUSES,      /* an end refuses its sequence number */
	TW_STACK_VOUCHES,      /* sent by it, or an end accepts the number */
	TW_STACK_NO_CONN,      /* an end's port is here, no connection */
};

/*
 * The host's TCP stack on a FIN, SYN or RST that lies out of the window
 * of tw_seq_plausible. A packet this host's TCP sends is real
 * (tw_sent_by_local_tcp): TW_STACK_VOUCHES. Otherwise the sequence number
 * is judged as the stack judges it: against the receiving socket's
 * rcv_nxt (the packet comes to a local socket), or the sending socket's
 * snd_nxt (a local socket's addresses, sent by something else: a raw
 * socket), within TW_RST_WINDOW: TW_STACK_VOUCHES or TW_STACK_REFUSES.
 * Exact where the decided flow's references are not: they stay where the
 * sides had got when it was decided, and a side may have sent gigabytes
 * since. When the receiver's lookup finds a time-wait or a request
 * socket, or a listener and the packet goes to this host (tw_dst_local: a
 * wildcard listener matches forwarded traffic too), the host holds no
 * open connection on these addresses and ports (an established one is
 * found first): TW_STACK_NO_CONN. So too when the sender's lookup finds
 * a time-wait or a request socket (they match the whole tuple: the
 * sender's address is this host's), or a listener that is this host's
 * end: bound to the packet's source address, or the packet made here
 * (tw_local_sk: the reset the stack sends for a connection it no longer
 * holds leaves from its control socket; a wildcard listener's port alone
 * is no end of a forwarded connection). When
 * neither end is here (forwarded traffic, a tunnel's inner packet, a
 * server in another network namespace): TW_STACK_NO_END, no evidence
 * either way. Only the packets the window refuses get here (spoofed ones,
 * and those of such a side): a socket lookup on the rare path, nothing
 * on any other.
 */
__noinline int tw_stack_vouches(struct __sk_buff *skb, const struct tw_ctx *c)
{
	struct bpf_tcp_sock *tp;
	struct bpf_sock *sk;
	int verdict = TW_STACK_NO_END;
	__u32 i, state;

	if (!skb || !c || c->pkt.tun.type)
		return TW_STACK_NO_END;
	if (tw_sent_by_local_tcp(skb))
		return TW_STACK_VOUCHES;
	/* i 0: the receiver's socket; i 1: the sender's */
	for (i = 0; i < 2 && verdict == TW_STACK_NO_END; i++) {
		sk = tw_sk_lookup(skb, c, i);
		if (!sk)
			continue;
		state = sk->state;
		if (state == BPF_TCP_LISTEN || state == BPF_TCP_TIME_WAIT ||
		    state == BPF_TCP_NEW_SYN_RECV) {
			/* no open connection here, where an end of it
			 * is: the entry's is gone */
			if (state != BPF_TCP_LISTEN ||
			    (i ? tw_local_sk(skb) || tw_sk_bound(c, sk)
			       : tw_dst_local(skb, c, sk)))
				verdict = TW_STACK_NO_CONN;
		} else {
			tp = bpf_tcp_sock(sk);
			if (tp) {
				/* both read: the verifier refuses the
				 * pointer arithmetic of a chosen field */
				__u32 rcv = tp->rcv_nxt, snd = tp->snd_nxt;

				verdict = tw_seq_near(i ? snd : rcv, c->pkt.seq) ?
					  TW_STACK_VOUCHES : TW_STACK_REFUSES;
			}
		}
		bpf_sk_release(sk);
	}
	return verdict;
}

/*
 * A SYN-ACK that may end an entry (tw_flow_syn): sent by this host's TCP
 * (made here, tw_local_sk: from its request socket, which only the stack
 * makes, or a TCP stream socket, tw_sent_by_local_tcp), or by a host this
 * one is not (no local socket holds its sender's address and port:
 * forwarded traffic, a server in another namespace, where nothing tells a
 * spoofed one). Not one that claims the addresses of a local socket
 * without coming from it: spoofed. (A SYN-ACK of SYN cookies leaves
 * without a socket and would be taken for spoofed; but a local server's
 * new connection has its entry end at the SYN already: tw_seq_plausible,
 * TW_STACK_NO_CONN.)
 */
__noinline int tw_synack_real(struct __sk_buff *skb, const struct tw_ctx *c)
{
	struct bpf_sock *sk;

	if (!skb || !c)
		return 0;
	sk = tw_local_sk(skb);
	if (sk && (!bpf_sk_fullsock(sk) || tw_sent_by_local_tcp(skb)))
		return 1;
	if (c->pkt.tun.type)
		return 1;
	sk = tw_sk_lookup(skb, c, true);
	if (!sk)
		return 1;
	bpf_sk_release(sk);
	return 0;
}

/*
 * A FIN, SYN or RST ends the flow (or, a SYN, restarts it) only near where
 * its sender has got (the reasoning and the windows: TW_RST_WINDOW in
 * tlswatch/event.h); of a sender not heard from yet, any (an RST
 * answering a SYN has seq 0). A decided flow (DONE) costs one lookup per
 * packet and learns nothing (a map write per packet, for the rare close,
 * would cost every packet): its references stay where its sides had got
 * when it was decided, and its close may lie further ahead of them
 * (tw_seq_near_done). Beyond the window the host's TCP stack is asked
 * (tw_stack_vouches):
 *   - it vouches for the packet: plausible; an end of the connection
 *     refuses it: not;
 *   - a SYN, FIN or RST of which an end is this host's and holds no
 *     connection on these addresses and ports (TW_STACK_NO_CONN: its
 *     lookup finds a listener, or a time-wait or request socket, no
 *     established one): the entry is stale whoever sent the packet, and
 *     the packet is taken. For a SYN, waiting for the SYN-ACK failed for
 *     SYN cookies (their SYN-ACK leaves without a socket, like a spoofed
 *     one) and lost a TCP Fast Open SYN's payload, the ClientHello. A
 *     reset the stack sends for a connection it closed, or one to it,
 *     was counted spoofed and the entry left to the LRU. A spoofed
 *     packet of a live connection finds its socket, which refuses it;
 *   - a SYN that no end here can judge whose payload starts with a
 *     ClientHello (TCP Fast Open: a new connection reusing the ports of a
 *     forwarded one whose close was missed): plausible, the hello starts
 *     the new flow. Ignored, its hello was lost, and the SYN-ACK
 *     accepting it acknowledges the data too (not the SYN's seq + 1 that
 *     tw_flow_syn waits for): the stale entry stayed and hid the new
 *     connection. A spoofed one makes the port pair's later packets
 *     copied as a handshake, within the budget: what a spoofed hello on
 *     a port pair without an entry does too;
 *   - a FIN of a decided flow that no end here refuses (forwarded traffic,
 *     a server in another network namespace): plausible, as before FINs
 *     were judged. Its references say nothing of a side that sent more
 *     than TW_RST_DONE_AHEAD since (a download through a gateway), and the
 *     entry of such a closed connection stayed, its FIN counted spoofed.
 *     A spoofed one half-closes the entry at worst. A flow being copied
 *     learns its references from every packet: the window alone judges.
 * Forgetting an entry on a spoofed packet was not harmless: the
 * connection's next packets began a new entry, copied as a preamble (up
 * to TW_PROBE_SEGMENTS).
 */
static __always_inline bool tw_seq_plausible(struct __sk_buff *skb,
					     const struct tw_ctx *c,
					     const struct tw_flow_val *v,
					     int from)
{
	__u32 bit = from ? 2 : 1, seq = c->pkt.seq;
	__u32 ref = from ? v->next_seq[1] : v->next_seq[0];
	__u8 hs_type = 0;
	int stack, kind;

	if (!(v->seq_known & bit))
		return true;
	if (v->state == TW_FLOW_DONE ? tw_seq_near_done(ref, seq)
				     : tw_seq_near(ref, seq))
		return true;
	stack = tw_stack_vouches(skb, c);
	if (stack != TW_STACK_NO_END)
		return stack != TW_STACK_REFUSES;
	kind = c->pkt.tcp_flags & (TCP_FIN | TCP_SYN | TCP_RST);
	if (kind == TCP_SYN)
		return tw_starts_handshake(skb, c, &hs_type) && hs_type == 1;
	return kind == TCP_FIN && v->state == TW_FLOW_DONE;
}

/* A FIN or RST of flow @v not plausible for its sender: counted; the
 * caller leaves the flow as it is and copies nothing of the packet. */
static __always_inline bool tw_close_spoofed(struct __sk_buff *skb,
					     const struct tw_ctx *c,
					     struct tw_counters *cnt,
					     const struct tw_flow_val *v, int from)
{
	if (!(c->pkt.tcp_flags & (TCP_FIN | TCP_RST)) ||
	    tw_seq_plausible(skb, c, v, from))
		return false;
	if (c->pkt.tcp_flags & TCP_RST)
		cnt->c[TW_CNT_RSTS_IGNORED]++;
	else
		cnt->c[TW_CNT_SYNS_FINS_IGNORED]++;
	return true;
}

/*
 * A SYN or SYN-ACK of a flow that has an entry. A SYN: a new connection
 * on a port pair whose entry is still here (its close was missed), or a
 * spoofed one. Plausible for its sender, the old entry goes (it would
 * hide the new handshake: TW_FLOW_END). Not plausible, it is noted and
 * counted, and the entry stays (TW_FLOW_IGNORED): a receiver that still
 * holds the connection answers such a SYN with an ACK (RFC 5961), and the
 * real client then resets at a plausible sequence number; one that no
 * longer holds it answers with a SYN-ACK, whose ack is that SYN's seq + 1:
 * then the entry goes (the state tracking of netfilter's conntrack does
 * the same). Any other SYN-ACK: TW_FLOW_KEPT. A SYN-ACK is looked up at
 * all only while one may answer an ignored SYN (tw_synack_awaited).
 */
enum { TW_FLOW_KEPT, TW_FLOW_END, TW_FLOW_IGNORED };

__noinline int tw_flow_syn(struct __sk_buff *skb, const struct tw_ctx *c,
			   struct tw_flow_key *key, struct tw_flow_val *v,
			   int from)
{
	struct tw_counters *cnt = tw_counters_get();

	if (!c || !key || !v || !cnt)
		return TW_FLOW_KEPT;
	if (!(c->pkt.tcp_flags & TCP_ACK)) {
		if (tw_seq_plausible(skb, c, v, from)) {
			bpf_map_delete_elem(&tw_flows, key);
			return TW_FLOW_END;
		}
		v->syn_seq = c->pkt.seq;
		v->seq_known = (v->seq_known & ~(TW_SEQ_SYN(0) | TW_SEQ_SYN(1))) |
			       TW_SEQ_SYN(from);
		cnt->c[TW_CNT_SYNS_FINS_IGNORED]++;
		/* | 1: 0 says none (a clock at 0 is not one that ran) */
		tw_syn_ignored_ns = bpf_ktime_get_ns() | 1;
		return TW_FLOW_IGNORED;
	}
	if ((v->seq_known & TW_SEQ_SYN(!from)) && c->pkt.ack == v->syn_seq + 1 &&
	    tw_synack_real(skb, c)) {
		bpf_map_delete_elem(&tw_flows, key);
		return TW_FLOW_END;
	}
	return TW_FLOW_KEPT;
}

/* Moves endpoint @e's reference to @seq when that is further along and
 * near it, or when none was known. */
static __always_inline void tw_seq_advance(struct tw_flow_val *v, int e,
					   __u32 seq)
{
	__u32 bit = e ? 2 : 1, *ref = e ? &v->next_seq[1] : &v->next_seq[0];

	if (!(v->seq_known & bit)) {
		*ref = seq;
		v->seq_known |= bit;
	} else if (tw_seq_moves_ref(*ref, seq)) {
		*ref = seq;
	}
}

/* What the packet says of how far each side has got: its sender to the
 * end of its payload (a FIN takes one more), the other side to its ACK. */
static __always_inline void tw_seq_learn(struct tw_flow_val *v, int from,
					 const struct tw_pkt *p)
{
	__u32 end = p->seq + p->payload_len + (p->tcp_flags & TCP_FIN ? 1 : 0);

	tw_seq_advance(v, from, end);
	if (p->tcp_flags & TCP_ACK)
		tw_seq_advance(v, !from, p->ack);
}

/*
 * The slow path, in two global functions so that the verifier checks each
 * once, not once for every state the inlined header parsing in front of
 * them can leave. A packet of flow @v (probing, or in its handshake phase).
 */
__noinline int tw_flow_next(struct __sk_buff *skb, struct tw_ctx *c,
			    struct tw_flow_key *key, struct tw_flow_val *v,
			    int from)
{
	struct tw_counters *cnt = tw_counters_get();
	__u8 flags = 0;
	int r;

	if (!c || !key || !v || !cnt)
		return 0;
	if (tw_close_spoofed(skb, c, cnt, v, from))
		return 0; /* the flow goes on, nothing of the packet copied */
	tw_seq_learn(v, from, &c->pkt);
	c->now = bpf_ktime_get_ns();
	if (v->state == TW_FLOW_PROBE && c->pkt.payload_len) {
		r = tw_flow_probe(skb, c, v, from);
		if (r == TW_PROBE_STARTED) {
			flags = TW_EVF_FLOW_START;
			if (!tw_flow_seen(v)) /* not already as a preamble */
				cnt->c[TW_CNT_FLOWS_TRACKED]++;
		} else if (r == TW_PROBE_OUTGOING) {
			/* nothing of the hello copied; a preamble userspace
			 * has ends as one past its bounds does */
			cnt->c[TW_CNT_FLOWS_OUTGOING]++;
			/* the server: as tw_flow_probe named it */
			tw_flow_give_up(skb, c, v, v->server,
					tw_preamble_side(c, from));
		} else {
			tw_flow_preamble(skb, c, cnt, v, from);
		}
	}
	tw_flow_copy(skb, c, cnt, key, v, from, flags);
	return 0;
}

/*
 * A packet with payload of a flow not seen yet: probing starts with it
 * (and may start the handshake phase at once: the caller hands it to
 * tw_flow_next when this says the entry was made). Not calling
 * tw_flow_next itself keeps this frame, which holds the new entry, off
 * the stack of tw_flow_next's calls (the verifier's 512 bytes for a
 * chain of calls: tw_flow_next's socket lookup, tw_receiver_here, did
 * not fit under it).
 */
__noinline int tw_flow_first(struct tw_flow_key *key)
{
	struct tw_flow_val nv = { .state = TW_FLOW_PROBE };
	struct tw_counters *cnt = tw_counters_get();

	if (!key || !cnt)
		return 0;
	if (bpf_map_update_elem(&tw_flows, key, &nv, BPF_NOEXIST)) {
		/* no memory, or another CPU's packet of the flow won the race:
		 * this packet is not copied */
		cnt->c[TW_CNT_FLOW_MAP_REFUSED]++;
		return 0;
	}
	return 1;
}

/*
 * How long after an ignored SYN a SYN-ACK may answer it: a round trip, a
 * slow one included, many times over. The client sends its SYN again
 * after 1 s, 3 s, 7 s... if no SYN-ACK comes, and each is ignored again
 * and starts the time anew.
 */
#define TW_SYN_ANSWER_NS (10 * 1000000000ull)

/*
 * Whether a SYN-ACK (without payload) may answer a SYN tw_flow_syn
 * ignored: one was in the last TW_SYN_ANSWER_NS. Nearly always none was,
 * and a SYN-ACK then costs the load of tw_syn_ignored_ns, no flow lookup
 * (as before SYNs were judged: issue 9, the per-packet cost). Past that
 * time the first SYN-ACK clears it, unless a SYN was ignored meanwhile,
 * so that the next ones read no clock either.
 */
static __always_inline bool tw_synack_awaited(void)
{
	__u64 t = tw_syn_ignored_ns;

	if (!t)
		return false;
	if (bpf_ktime_get_ns() - t < TW_SYN_ANSWER_NS)
		return true;
	__sync_val_compare_and_swap(&tw_syn_ignored_ns, t, 0);
	return false;
}

/*
 * The fast path, inlined: parse, port test, and for payload or FIN/RST on a
 * watched port one flow lookup; a decided flow ends there. (Parsing as a
 * global function cost ~10% of the per-packet cost on bulk traffic: the
 * call, and the packet's fields going through memory.)
 */
static __always_inline int tw_handle(struct __sk_buff *skb, bool l2)
{
	struct tw_ctx c = {};
	struct tw_counters *cnt;
	struct tw_flow_key key;
	struct tw_flow_val *v;
	bool closing;
	__u32 enc_off = 0, enc_proto = 0;
	int from, r;

	cnt = tw_counters_get();
	if (!cnt)
		return TC_ACT_UNSPEC;
	cnt->c[TW_CNT_PACKETS_SEEN]++;

	r = tw_parse_packet(skb, l2, &c.pkt, &enc_off, &enc_proto);
	if (r == TW_PARSE_ENCAP) {
		/* not TCP: a tunnel, perhaps; plain TCP never gets here */
		r = tw_decap(skb, &c.pkt, enc_off, enc_proto);
		if (r == TW_PARSE_OK)
			cnt->c[TW_CNT_DECAPSULATED]++;
		else if (r == TW_PARSE_DEEP)
			cnt->c[TW_CNT_DECAP_TOO_DEEP]++;
	}
	if (r != TW_PARSE_OK) {
		/* as analyze counts them (capture/decode.c); not IP or not
		 * TCP by the family of the layer given up (TW_PARSE_SKIP):
		 * only packets that are not TCP take these tests */
		if (r == TW_PARSE_SKIP)
			cnt->c[c.pkt.family ? TW_CNT_NOT_TCP : TW_CNT_NOT_IP]++;
		else if (r == TW_PARSE_BAD)
			cnt->c[TW_CNT_BAD_HEADERS]++;
		else if (r == TW_PARSE_FRAG)
			cnt->c[TW_CNT_FRAGMENTS]++;
		return TC_ACT_UNSPEC;
	}
	if (!tw_port_watched(c.pkt.sport) && !tw_port_watched(c.pkt.dport))
		return TC_ACT_UNSPEC;
	cnt->c[TW_CNT_PACKETS_WATCHED]++;

	if (c.pkt.payload_len == 0) {
		r = c.pkt.tcp_flags & (TCP_FIN | TCP_RST | TCP_SYN | TCP_ACK);
		/* ACKs: nothing to copy; a SYN-ACK: nothing unless it may
		 * answer an ignored SYN (tw_flow_syn) */
		if (!(r & (TCP_FIN | TCP_RST | TCP_SYN)) ||
		    (r == (TCP_SYN | TCP_ACK) && !tw_synack_awaited()))
			return TC_ACT_UNSPEC;
	}
	closing = c.pkt.tcp_flags & (TCP_FIN | TCP_RST);

	from = tw_flow_key_make(&key, c.pkt.family, c.pkt.saddr, c.pkt.sport,
				c.pkt.daddr, c.pkt.dport) & 1;
	v = bpf_map_lookup_elem(&tw_flows, &key);
	if (c.pkt.tcp_flags & TCP_SYN) {
		/* Looked up first: the lookup takes no lock, a delete takes
		 * the bucket's, and almost every SYN finds nothing. */
		if (v) {
			r = tw_flow_syn(skb, &c, &key, v, from);
			if (r == TW_FLOW_IGNORED)
				return TC_ACT_UNSPEC;
			if (r == TW_FLOW_END)
				v = NULL;
		}
		if (c.pkt.payload_len == 0)
			return TC_ACT_UNSPEC;
	}
	if (v && v->state == TW_FLOW_DONE) {
		/* the common case on a busy server: one lookup and out */
		if (closing && !tw_close_spoofed(skb, &c, cnt, v, from)) {
			/* a server's close after a fatal alert it read */
			if (from == v->server && tw_up_binds)
				tw_up_bind(skb, &c);
			tw_flow_closing(&key, v, from, c.pkt.tcp_flags);
		}
		return TC_ACT_UNSPEC;
	}
	if (!v && c.pkt.payload_len && !closing && /* a FIN/RST starts nothing */
	    tw_flow_first(&key))
		v = bpf_map_lookup_elem(&tw_flows, &key);
	if (v)
		tw_flow_next(skb, &c, &key, v, from);
	return TC_ACT_UNSPEC;
}

/* Devices with an Ethernet header (ARPHRD_ETHER, loopback). */
SEC("tc")
int tlswatch(struct __sk_buff *skb)
{
	return tw_handle(skb, true);
}

/* Devices without a link-layer header (tun, wireguard): data starts at IP. */
SEC("tc")
int tlswatch_l3(struct __sk_buff *skb)
{
	return tw_handle(skb, false);
}
