// SPDX-License-Identifier: MIT
/*
 * The TC program, run by the kernel on crafted packets through
 * BPF_PROG_TEST_RUN. Each test loads a fresh skeleton (so counters start
 * at zero), runs packets, and checks the ring buffer records, the flow map
 * and the counters. Every run also checks that the program let the packet
 * continue (TC_ACT_UNSPEC) and left it unchanged. Needs root.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pcap/dlt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "capture/decode.h"
#include "check.h"
#include "live/flow_map.h"
#include "live/live.h"
#include "tlswatch.skel.h"

#define TC_ACT_UNSPEC (-1)
#define MAX_RECS 64
#define PORT 443
#define GUE_PORT 5556

/* ---- packet builder ---- */

struct spec {
	int family;           /* 4 or 6 */
	int vlan_tags;        /* VLAN tags: the outer ones 802.1ad, the
			       * innermost 802.1Q */
	int ip6_ext;          /* IPv6 extension headers before TCP: a
			       * hop-by-hop, then destination options */
	const char *src, *dst;
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;        /* TCP flags byte */
	const uint8_t *payload;
	size_t plen;
};

static uint8_t *put16(uint8_t *p, uint16_t v) { p[0] = v >> 8; p[1] = v; return p + 2; }
static uint8_t *put32(uint8_t *p, uint32_t v) { put16(p, v >> 16); put16(p + 2, v); return p + 4; }

static size_t build(const struct spec *s, uint8_t *out)
{
	static const uint8_t macs[12] = { 2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2 };
	size_t ext = s->family == 6 ? 8 * (size_t)s->ip6_ext : 0;
	uint16_t l4 = (uint16_t)(20 + s->plen);
	uint8_t *p = out;
	int i;

	memcpy(p, macs, 12);
	p += 12;
	for (i = 0; i < s->vlan_tags; i++) {
		p = put16(p, i + 1 < s->vlan_tags ? 0x88A8 : 0x8100);
		p = put16(p, (uint16_t)(100 * (i + 1)));   /* VLAN id */
	}
	if (s->family == 4) {
		p = put16(p, 0x0800);
		*p++ = 0x45;
		*p++ = 0;
		p = put16(p, (uint16_t)(20 + l4));
		p = put16(p, 1);          /* id */
		p = put16(p, 0x4000);     /* DF */
		*p++ = 64;
		*p++ = 6;
		p = put16(p, 0);          /* checksum: not looked at */
		inet_pton(AF_INET, s->src, p);
		inet_pton(AF_INET, s->dst, p + 4);
		p += 8;
	} else {
		p = put16(p, 0x86DD);
		p = put32(p, 0x60000000);
		p = put16(p, (uint16_t)(l4 + ext));
		*p++ = ext ? 0 : 6;       /* next header: hop-by-hop or TCP */
		*p++ = 64;
		inet_pton(AF_INET6, s->src, p);
		inet_pton(AF_INET6, s->dst, p + 16);
		p += 32;
		/* hop-by-hop -> destination options ... -> TCP, each 8
		 * bytes: next header, length 0, PadN of 4 */
		for (i = 0; i < s->ip6_ext; i++) {
			static const uint8_t padn[6] = { 1, 4, 0, 0, 0, 0 };

			*p++ = i + 1 < s->ip6_ext ? 60 : 6;
			*p++ = 0;
			memcpy(p, padn, sizeof(padn));
			p += sizeof(padn);
		}
	}
	p = put16(p, s->sport);
	p = put16(p, s->dport);
	p = put32(p, s->seq);
	p = put32(p, s->ack);
	*p++ = 5 << 4;
	*p++ = s->flags;
	p = put16(p, 65535);
	p = put32(p, 0);                  /* checksum, urgent pointer */
	if (s->plen)
		memcpy(p, s->payload, s->plen);
	return (size_t)(p - out) + s->plen;
}

/* A TLS record header + handshake type, then a byte pattern. */
static void tls_payload(uint8_t *b, size_t n, uint8_t type, uint8_t hs_type)
{
	size_t i;

	for (i = 0; i < n; i++)
		b[i] = (uint8_t)(i * 7 + 3);
	b[0] = type;
	b[1] = 0x03;
	b[2] = 0x01;
	b[3] = (uint8_t)((n - 5) >> 8);
	b[4] = (uint8_t)(n - 5);
	b[5] = hs_type;
}

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10

/* ---- fixture: one loaded program, its records and counters ---- */

struct rec {
	size_t size;              /* record size the ring buffer reported */
	uint8_t data[TW_CHUNK_MAX];
	struct tw_event_tail tail; /* the record's last bytes */
	struct tw_event ev;       /* last: it ends in a flexible array */
};

static struct fx {
	struct tlswatch_bpf *skel;
	struct ring_buffer *rb;
	int nrec;
	struct rec recs[MAX_RECS];
} fx;

static int collect(void *ctx, void *data, size_t size)
{
	struct rec *r;

	(void)ctx;
	if (fx.nrec >= MAX_RECS || size < sizeof(struct tw_event))
		return 0;
	r = &fx.recs[fx.nrec++];
	memset(r, 0, sizeof(*r));
	r->size = size;
	memcpy(&r->ev, data, sizeof(r->ev));
	if (r->ev.chunk_len <= TW_CHUNK_MAX &&
	    r->ev.chunk_len <= size - sizeof(r->ev))
		memcpy(r->data, (const uint8_t *)data + sizeof(r->ev), r->ev.chunk_len);
	if (size >= sizeof(r->ev) + sizeof(r->tail))
		memcpy(&r->tail, (const uint8_t *)data + size - sizeof(r->tail),
		       sizeof(r->tail));
	return 0;
}

/* The ring's size for the next fx_open (0: the program's). */
static uint32_t fx_ring_bytes;
/* 1: the next fx_open's program binds pending uprobe entries (--uprobes) */
static uint8_t fx_up_binds;
/* n: the next fx_open's flow map a plain hash of n entries, which refuses
 * a new entry once full (the program's LRU map evicts instead, and
 * refuses only when it finds no free node: TW_CNT_FLOW_MAP_REFUSED) */
static uint32_t fx_flows_max;

/* @wake_bytes, @wake_gap_ns: 0 keeps the program's defaults. */
static bool fx_open_wake(uint32_t budget, uint32_t chunk_bytes,
			 uint64_t wake_bytes, uint64_t wake_gap_ns)
{
	memset(&fx, 0, sizeof(fx));
	fx.skel = tlswatch_bpf__open();
	if (!fx.skel) {
		printf("# opening the skeleton: %s\n", strerror(errno));
		return false;
	}
	if (budget)
		fx.skel->rodata->tw_dir_budget = budget;
	if (chunk_bytes)
		fx.skel->rodata->tw_chunk_bytes = chunk_bytes;
	if (wake_bytes)
		fx.skel->rodata->tw_wake_bytes = wake_bytes;
	if (wake_gap_ns)
		fx.skel->rodata->tw_wake_gap_ns = wake_gap_ns;
	fx.skel->rodata->tw_up_binds = fx_up_binds;
	if (fx_ring_bytes &&
	    bpf_map__set_max_entries(fx.skel->maps.tw_events, fx_ring_bytes))
		printf("# the ring's size: %s\n", strerror(errno));
	if (fx_flows_max &&
	    (bpf_map__set_type(fx.skel->maps.tw_flows, BPF_MAP_TYPE_HASH) ||
	     bpf_map__set_max_entries(fx.skel->maps.tw_flows, fx_flows_max)))
		printf("# the flow map's type and size: %s\n", strerror(errno));
	if (tlswatch_bpf__load(fx.skel)) {
		printf("# loading the skeleton: %s\n", strerror(errno));
		tlswatch_bpf__destroy(fx.skel);
		fx.skel = NULL;
		return false;
	}
	fx.skel->bss->tw_watched_ports[PORT >> 6] |= 1ULL << (PORT & 63);
	live_set_udp_encap(fx.skel->bss->tw_udp_encap, &tw_udp_encap_default);
	fx.skel->bss->tw_udp_encap[GUE_PORT] = TW_TUN_GUE;
	fx.rb = ring_buffer__new(bpf_map__fd(fx.skel->maps.tw_events), collect,
				 NULL, NULL);
	if (!fx.rb) {
		printf("# ring buffer: %s\n", strerror(errno));
		tlswatch_bpf__destroy(fx.skel);
		fx.skel = NULL;
		return false;
	}
	return true;
}

static bool fx_open(uint32_t budget, uint32_t chunk_bytes)
{
	return fx_open_wake(budget, chunk_bytes, 0, 0);
}

static void fx_close(void)
{
	ring_buffer__free(fx.rb);
	tlswatch_bpf__destroy(fx.skel);
	memset(&fx, 0, sizeof(fx));
}

/* Runs @prog on one packet, its skb's fields from @ctx (NULL: none set);
 * checks the verdict and that the packet is unchanged. */
static void run_on_ctx(struct bpf_program *prog, const uint8_t *pkt, size_t len,
		       struct __sk_buff *ctx)
{
	static uint8_t out[4096];
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt,
		    .data_size_in = (__u32)len, .data_out = out,
		    .data_size_out = sizeof(out), .repeat = 1,
		    .ctx_in = ctx, .ctx_size_in = ctx ? sizeof(*ctx) : 0);
	int r;

	memset(out, 0xAA, sizeof(out));
	r = bpf_prog_test_run_opts(bpf_program__fd(prog), &opts);
	CHECK_INT(r, 0);
	CHECK_INT((int32_t)opts.retval, TC_ACT_UNSPEC);
	CHECK_INT(opts.data_size_out, len);
	CHECK(memcmp(out, pkt, len) == 0);
}

static void run_on(struct bpf_program *prog, const uint8_t *pkt, size_t len)
{
	run_on_ctx(prog, pkt, len, NULL);
}

static void run(const struct spec *s)
{
	static uint8_t pkt[4096];

	run_on(fx.skel->progs.tlswatch, pkt, build(s, pkt));
}

/* @s as received by the device of index @ifindex (TC ingress: the skb's
 * ingress_ifindex set), not sent by this host. */
static void run_received(const struct spec *s, uint32_t ifindex)
{
	static uint8_t pkt[4096];
	struct __sk_buff ctx = { .ingress_ifindex = ifindex };

	run_on_ctx(fx.skel->progs.tlswatch, pkt, build(s, pkt), &ctx);
}

/* Consumes the ring buffer; returns the number of records now held. */
static int drain(void)
{
	int r = ring_buffer__consume(fx.rb);

	CHECK(r >= 0);
	return fx.nrec;
}

/* Counter @i of the per-CPU array @map whose value is @n counters (struct
 * tw_counters, tw_up_counters), summed over the CPUs. */
static uint64_t percpu_counter(const struct bpf_map *map, size_t n, int i)
{
	int ncpu = libbpf_num_possible_cpus(), cpu;
	uint64_t per[ncpu > 0 ? ncpu * n : 1], sum = 0;
	__u32 zero = 0;

	if (ncpu < 1 || bpf_map_lookup_elem(bpf_map__fd(map), &zero, per))
		return UINT64_MAX;
	for (cpu = 0; cpu < ncpu; cpu++)
		sum += per[cpu * n + i];
	return sum;
}

static uint64_t counter(enum tw_counter c)
{
	return percpu_counter(fx.skel->maps.tw_counters, TW_CNT__MAX, c);
}

static uint64_t up_counter(enum tw_up_counter c)
{
	return percpu_counter(fx.skel->maps.tw_up_counters, TW_UP_CNT__MAX, c);
}

static void endpoint(struct tw_endpoint *ep, int family, const char *ip,
		     uint16_t port)
{
	memset(ep, 0, sizeof(*ep));
	ep->addr.family = (uint8_t)family;
	inet_pton(family == 4 ? AF_INET : AF_INET6, ip, ep->addr.bytes);
	ep->port = port;
}

/* Looks up the flow entry of (@a, @b); returns false if there is none. */
static bool flow_entry(const struct spec *s, struct tw_flow_val *val,
		       int *server_is_src)
{
	struct tw_endpoint src, dst;
	struct tw_flow_key key;
	int from;

	endpoint(&src, s->family, s->src, s->sport);
	endpoint(&dst, s->family, s->dst, s->dport);
	from = live_flow_key(&src, &dst, &key);
	if (from < 0)
		return false;
	if (bpf_map_lookup_elem(bpf_map__fd(fx.skel->maps.tw_flows), &key, val))
		return false;
	if (server_is_src)
		*server_is_src = val->server == from;
	return true;
}

/* @s's client and server endpoints and its flow key; returns the
 * client's index in the key. */
static int client_server_key(const struct spec *s, struct tw_endpoint *client,
			     struct tw_endpoint *server, struct tw_flow_key *key)
{
	int ci;

	endpoint(client, s->family, s->src, s->sport);
	endpoint(server, s->family, s->dst, s->dport);
	ci = live_flow_key(client, server, key);
	CHECK(ci == 0 || ci == 1);
	return ci;
}

/* What the agent does once the handshake of @s's flow is decided. */
static int mark_done(const struct spec *s)
{
	struct tw_endpoint a, b;

	endpoint(&a, s->family, s->src, s->sport);
	endpoint(&b, s->family, s->dst, s->dport);
	return flow_map_mark_done(bpf_map__fd(fx.skel->maps.tw_flows), &a, &b);
}

/* The usual client -> server ClientHello of these tests. */
static uint8_t hello[517];

static struct spec client_hello4(void)
{
	struct spec s = {
		.family = 4, .src = "192.0.2.10", .dst = "192.0.2.1",
		.sport = 40000, .dport = PORT, .seq = 1000, .ack = 5000,
		.flags = TCP_PSH | TCP_ACK, .payload = hello, .plen = sizeof(hello),
	};

	tls_payload(hello, sizeof(hello), 0x16, 1);
	return s;
}

/* The same over IPv6. */
static struct spec client_hello6(void)
{
	struct spec s = client_hello4();

	s.family = 6;
	s.src = "2001:db8::10";
	s.dst = "2001:db8::1";
	return s;
}

static struct spec reverse(const struct spec *c, uint32_t seq, uint32_t ack,
			   uint8_t flags, const uint8_t *payload, size_t plen)
{
	struct spec s = *c;

	s.src = c->dst;
	s.dst = c->src;
	s.sport = c->dport;
	s.dport = c->sport;
	s.seq = seq;
	s.ack = ack;
	s.flags = flags;
	s.payload = payload;
	s.plen = plen;
	return s;
}

/* @c's sender again at @seq, without payload: a FIN, an RST. */
static struct spec bare(const struct spec *c, uint32_t seq, uint8_t flags)
{
	struct spec s = *c;

	s.seq = seq;
	s.flags = flags;
	s.payload = NULL;
	s.plen = 0;
	return s;
}

/* An IPv4 address of a record header (4 bytes: event.h). */
static void check_addr4(const uint8_t *got, const char *want)
{
	uint8_t b[4];

	inet_pton(AF_INET, want, b);
	CHECK(memcmp(got, b, 4) == 0);
}

/* ---- tests ---- */

static void test_ipv4_client_hello_emits_one_record(void)
{
	struct spec s = client_hello4();
	struct tw_flow_val v;
	int server_is_src = -1;
	struct rec *r;

	if (!fx_open(0, 0)) { CHECK(0); return; }
	run(&s);
	CHECK_INT(drain(), 1);
	r = &fx.recs[0];
	CHECK_INT(r->ev.kind, TW_EV_DATA);
	CHECK_INT(r->ev.family, 4);
	check_addr4(r->ev.saddr, "192.0.2.10");
	check_addr4(r->ev.daddr, "192.0.2.1");
	CHECK_INT(r->ev.sport, 40000);
	CHECK_INT(r->ev.dport, 443);
	CHECK_INT(r->ev.seq, 1000);
	CHECK_INT(r->ev.ack, 5000);
	CHECK_INT(r->ev.tcp_flags, TCP_PSH | TCP_ACK);
	CHECK_INT(r->ev.wire_len, 517);
	CHECK_INT(r->ev.chunk_off, 0);
	CHECK_INT(r->ev.chunk_len, 517);
	CHECK_INT(r->ev.flags, TW_EVF_FLOW_START);
	CHECK_INT(r->ev.ifindex, 1); /* test runs happen on loopback */
	CHECK(r->ev.ts_ns > 0);
	CHECK_INT(r->size, TW_EVENT_DATA_BYTES(TW_CHUNK_MTU));
	CHECK(memcmp(r->data, hello, 517) == 0);

	CHECK(flow_entry(&s, &v, &server_is_src));
	CHECK_INT(v.state, TW_FLOW_HANDSHAKE);
	CHECK_INT(server_is_src, 0);
	CHECK_INT(v.copied[0] + v.copied[1], 517);

	CHECK_INT(counter(TW_CNT_PACKETS_SEEN), 1);
	CHECK_INT(counter(TW_CNT_PACKETS_WATCHED), 1);
	CHECK_INT(counter(TW_CNT_FLOWS_TRACKED), 1);
	CHECK_INT(counter(TW_CNT_BYTES_COPIED), 517);
	CHECK_INT(counter(TW_CNT_CHUNKS_EMITTED), 1);
	CHECK_INT(counter(TW_CNT_RINGBUF_FULL), 0);
	CHECK_INT(counter(TW_CNT_BUDGET_EXHAUSTED), 0);
	CHECK_INT(counter(TW_CNT_TRUNCATED), 0);
	CHECK_INT(counter(TW_CNT_BAD_HEADERS), 0);
	fx_close();
}

static void test_short_segment_uses_small_record(void)
{
	struct spec s = client_hello4();

	if (!fx_open(0, 0)) { CHECK(0); return; }
	s.plen = 200;
	run(&s);
	CHECK_INT(drain(), 1);
	CHECK_INT(fx.recs[0].ev.chunk_len, 200);
	CHECK_INT(fx.recs[0].size, TW_EVENT_DATA_BYTES(TW_CHUNK_SMALL));
	fx_close();
}

/* The smallest of the three record sizes that holds the chunk: the ring
 * space a record takes is its reserved size. */
static void test_record_size_classes(void)
{
	static const struct { size_t plen, cap; } cases[] = {
		{ 512, TW_CHUNK_SMALL }, { 513, TW_CHUNK_MTU },
		{ 1448, TW_CHUNK_MTU }, { 1536, TW_CHUNK_MTU },
		{ 1537, TW_CHUNK_MAX }, { 3000, TW_CHUNK_MAX },
	};
	static uint8_t payload[3000];
	struct spec s = client_hello4();
	uint32_t seq = s.seq;
	size_t i;

	if (!fx_open(0, 0)) { CHECK(0); return; }
	tls_payload(payload, sizeof(payload), 0x16, 1);
	s.payload = payload;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		s.seq = seq;
		s.plen = cases[i].plen;
		run(&s);
		seq += (uint32_t)cases[i].plen;
	}
	CHECK_INT(drain(), (int)(sizeof(cases) / sizeof(cases[0])));
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CHECK_INT(fx.recs[i].ev.chunk_len, cases[i].plen);
		CHECK_INT(fx.recs[i].size, sizeof(struct tw_event) + cases[i].cap +
			  sizeof(struct tw_event_tail));
		/* with the ring's header, whole cache lines: the next
		 * record's header starts one */
		CHECK_INT((fx.recs[i].size + 8) % 64, 0);
	}
	fx_close();
}

static void test_continuation_from_server_is_emitted(void)
{
	struct spec c = client_hello4(), s;
	uint8_t flight[1400];
	struct rec *r;

	if (!fx_open(0, 0)) { CHECK(0); return; }
	run(&c);
	memset(flight, 0x5A, sizeof(flight)); /* mid-record bytes, no header */
	s = reverse(&c, 5000, 1517, TCP_ACK, flight, sizeof(flight));
	run(&s);
	CHECK_INT(drain(), 2);
	r = &fx.recs[1];
	CHECK_INT(r->ev.kind, TW_EV_DATA);
	check_addr4(r->ev.saddr, "192.0.2.1");
	CHECK_INT(r->ev.sport, 443);
	CHECK_INT(r->ev.dport, 40000);
	CHECK_INT(r->ev.seq, 5000);
	CHECK_INT(r->ev.ack, 1517);
	CHECK_INT(r->ev.wire_len, 1400);
	CHECK_INT(r->ev.chunk_len, 1400);
	CHECK_INT(r->ev.flags, TW_EVF_FROM_SERVER);
	CHECK(memcmp(r->data, flight, sizeof(flight)) == 0);
	CHECK_INT(counter(TW_CNT_FLOWS_TRACKED), 1);
	CHECK_INT(counter(TW_CNT_BYTES_COPIED), 517 + 1400);
	CHECK_INT(counter(TW_CNT_CHUNKS_EMITTED), 2);
	fx_close();
}

static void test_pure_ack_is_not_emitted(void)
{
	struct spec c = client_hello4(), a;

	if (!fx_open(0, 0)) { CHECK(0); return; }
	run(&c);
	a = reverse(&c, 5000, 1517, TCP_ACK, NULL, 0);
	run(&a);
	CHECK_INT(drain(), 1);
	CHECK_INT(counter(TW_CNT_PACKETS_WATCHED), 2);
	CHECK_INT(counter(TW_CNT_CHUNKS_EMITTED), 1);
	fx_close();
}

/* A first payload that is not TLS: copied as the start of a preamble
 * (userspace looks for a ClientHello after it), the flow still probing. */
static void test_non_tls_payload_is_copied_as_preamble(void)
{
	static const char get[] = "GET / HTTP/1.1\r\nHost: example\r\n\r\n";
	struct spec s = client_hello4();
	struct tw_flow_val v;

	if (!fx_open(0, 0)) { CHECK(0); return; }
	s.payload = (const uint8_t *)get;
	s.plen = sizeof(get) - 1;
	run(&s);
	CHECK_INT(drain(), 1);
	CHECK_INT(fx.recs[0].ev.kind, TW_EV_DATA);
	CHECK_INT(fx.recs[0].ev.chunk_len, sizeof(get) - 1);
	CHECK_INT(fx.recs[0].ev.flags, TW_EVF_FLOW_START);
	CHECK(memcmp(fx.recs[0].data, get, sizeof(get) - 1) == 0);
	CHECK_INT(counter(TW_CNT_PACKETS_WATCHED), 1);
	CHECK_INT(counter(TW_CNT_FLOWS_TRACKED), 1); /* as a preamble */
	CHECK_INT(counter(TW_CNT_PREAMBLE_BYTES), sizeof(get) - 1);
	CHECK(flow_entry(&s, &v, NULL));
	CHECK_INT(v.state, TW_FLOW_PROBE);
	CHECK_INT(v.probes, 1);
	fx_close();
}

/* SMTP's banner, then the hello: both go to userspace, each the first of
 * its kind (the flow's first bytes, the handshake phase's first). */
static void test_starttls_handshake_after_plaintext_is_tracked(void)
{
	static const char banner[] = "220 mail ESMTP\r\n";
	struct spec c = client_hello4(), s;
	struct tw_flow_val v;

	if (!fx_open(0, 0)) { CHECK(0); return; }
	s = reverse(&c, 5000, 1000, TCP_PSH | TCP_ACK, (const uint8_t *)banner,
		    sizeof(banner) - 1);
	run(&s);
	run(&c);
	CHECK_INT(drain(), 2);
	CHECK_INT(fx.recs[0].ev.seq, 5000);
	CHECK_INT(fx.recs[0].ev.flags, TW_EVF_FLOW_START | TW_EVF_FROM_SERVER);
	CHECK_INT(fx.recs[1].ev.seq, 1000);
	CHECK_INT(fx.recs[1].ev.flags, TW_EVF_FLOW_START);
	CHECK(flow_entry(&c, &v, NULL));
	CHECK_INT(v.state, TW_FLOW_HANDSHAKE);
	CHECK_INT(counter(TW_CNT_PREAMBLE_BYTES), sizeof(banner) - 1);
	CHECK_INT(counter(TW_CNT_FLOWS_TRACKED), 1);
	fx_close();
}

/*
 * The server's address after the client's (unlike client_hello4's): the
 * server is second in the flow key, where a new entry's server (0) is the
 * client. A flow decided without a handshake phase must say its server:
 * a close of the server's binds a pending uprobe entry of its thread
 * (tw_handle), one of the client's must not.
 */
static struct spec client_hello4_server_second(void)
{
	struct spec s = client_hello4();

	s.dst = "192.0.2.20";
	return s;
}

/* The flow of @s (its sender the client) is DONE with the far end, the
 * one on the watched port, its server (second in the key). */
static void check_done_server_second(const struct spec *s)
{
	struct tw_flow_val v;
	int server_is_src = -1;

	CHECK(flow_entry(s, &v, &server_is_src));
	CHECK_INT(v.state, TW_FLOW_DONE);
	CHECK_INT(v.server, 1);
	CHECK_INT(server_is_src, 0);
}

static void test_non_tls_flow_is_given_up_after_probes(void)
{
	uint8_t junk[100];
	struct spec s = client_hello4_server_second(), c = s;
	int i;

	if (!fx_open(0, 0)) { CHECK(0); return; }
	memset(junk, 'x', sizeof(junk));
	s.payload = junk;
	s.plen = sizeof(junk);
	for (i = 0; i < TW_PROBE_SEGMENTS; i++) {
		s.seq = 1000 + 100 * (uint32_t)i;
		run(&s);
	}
	CHECK_INT(drain(), TW_PROBE_SEGMENTS);   /* the preamble, copied */
	check_done_server_second(&s);
	run(&c); /* a handshake record now is not looked at */
	CHECK_INT(drain(), TW_PROBE_SEGMENTS);
	CHECK_INT(counter(TW_CNT_FLOWS_TRACKED), 1); /* as a preamble */
	CHECK_INT(counter(TW_CNT_PREAMBLE_BYTES), TW_PROBE_SEGMENTS * 100);
	fx_close();
}

/* A side that sends more than TW_PREAMBLE_BYTES before a hello: the flow
 * is given up, and a gap record tells userspace, which had its first
 * bytes, to forget it. */
static void test_preamble_past_its_bytes_is_given_up_with_a_gap(void)
{
	static uint8_t text[3000];
	struct spec s = client_hello4_server_second();

	if (!fx_open(0, 0)) { CHECK(0); return; }
	memset(text, 'a', sizeof(text));
	s.payload = text;
	s.plen = sizeof(text);
	run(&s);
	s.seq += sizeof(text);
	s.plen = TW_PREAMBLE_BYTES - sizeof(text) + 1;
	run(&s);
	CHECK_INT(drain(), 2);
	CHECK_INT(fx.recs[0].ev.chunk_len, sizeof(text));
	CHECK_INT(fx.recs[1].ev.kind, TW_EV_GAP);
	CHECK_INT(fx.recs[1].ev.seq, 1000 + sizeof(text));
	CHECK_INT(fx.recs[1].ev.wire_len, TW_PREAMBLE_BYTES - sizeof(text) + 1);
	CHECK_INT(fx.recs[1].ev.flags, TW_EVF_TRUNCATED);
	check_done_server_second(&s);
	CHECK_INT(counter(TW_CNT_PREAMBLE_BYTES), sizeof(text));
	fx_close();
}

/* A FIN while probing, once userspace has the preamble, is a close. */
static void test_fin_of_a_copied_preamble_is_reported(void)
{
	static const char banner[] = "+OK POP3 ready\r\n";
	struct spec c = client_hello4(), s, f;

	if (!fx_open(0, 0)) { CHECK(0); return; }
	s = reverse(&c, 5000, 1000, TCP_PSH | TCP_ACK, (const uint8_t *)banner,
		    sizeof(banner) - 1);
	run(&s);
	f = reverse(&c, 5000 + sizeof(banner) - 1, 1000, TCP_FIN | TCP_ACK, NULL, 0);
	run(&f);
	CHECK_INT(drain(), 2);
	CHECK_INT(fx.recs[1].ev.kind, TW_EV_CLOSE);
	CHECK_INT(fx.recs[1].ev.tcp_flags & TCP_FIN, TCP_FIN);
	CHECK_INT(counter(TW_CNT_FLOWS_CLOSED), 1);
	fx_close();
}

/* MySQL's client sends its SSL request and the hello without waiting:
 * one packet where the hello starts inside. It goes as preamble (userspace
 * finds the hello in it); the server's ServerHello starts the handshake
 * phase, its sender the server. */
static void test_hello_inside_a_preamble_packet_is_copied(void)
{
	static const uint8_t greeting[] = { 0x4a, 0, 0, 0, 0x0a, '8', '.', '0', 0 };
	static const uint8_t ssl_request[36] = { 0x20, 0, 0, 1, 0x05, 0xae, 0xff, 0x01 };
	static uint8_t both[sizeof(ssl_request) + 300], server_hello[90];
	struct spec c = client_hello4(), g, sh;
	struct tw_flow_val v;

	if (!fx_open(0, 0)) { CHECK(0); return; }
	memcpy(both, ssl_request, sizeof(ssl_request));
	tls_payload(both + sizeof(ssl_request), 300, 0x16, 1);
	tls_payload(server_hello, sizeof(server_hello), 0x16, 2);
	g = reverse(&c, 5000, 1000, TCP_PSH | TCP_ACK, greeting, sizeof(greeting));
	run(&g);
	c.payload = both;
	c.plen = sizeof(both);
	run(&c);
	CHECK(flow_entry(&c, &v, NULL));
	CHECK_INT(v.state, TW_FLOW_PROBE);
	sh = reverse(&c, 5000 + sizeof(greeting), 1000 + sizeof(both), TCP_PSH | TCP_ACK,
		     server_hello, sizeof(server_hello));
	run(&sh);
	CHECK_INT(drain(), 3);
	CHECK_INT(fx.recs[1].ev.chunk_len, sizeof(both));
	CHECK_INT(fx.recs[1].ev.flags, 0);
	CHECK(memcmp(fx.recs[1].data, both, sizeof(both)) == 0);
	CHECK_INT(fx.recs[2].ev.flags, TW_EVF_FLOW_START | TW_EVF_FROM_SERVER);
	CHECK(flow_entry(&c, &v, NULL));
	CHECK_INT(v.state, TW_FLOW_HANDSHAKE);
	CHECK_INT(counter(TW_CNT_PREAMBLE_BYTES), sizeof(greeting) + sizeof(both));
	CHECK_INT(counter(TW_CNT_FLOWS_TRACKED), 1);
	fx_close();
}

/* A client that writes its hello one byte per segment (a retransmitted
 * first byte among them): each byte goes to userspace as preamble until
 * the record header, collected across segments, starts the handshake
 * phase with the sixth byte. */
static void test_hello_one_byte_per_segment_is_tracked(void)
{
	struct spec s = client_hello4();
	struct tw_flow_val v;
	int i;

	if (!fx_open(0, 0)) { CHECK(0); return; }
	for (i = 0; i < 10; i++) {
		s.seq = 1000 + (uint32_t)i;
		s.payload = hello + i;
		s.plen = 1;
		run(&s);
		if (i == 1) {
			s.seq = 1000; /* a retransmission of the first byte */
			s.payload = hello;
			run(&s);
		}
		if (i == 4) {
			CHECK_INT(drain(), 6);
			CHECK(flow_entry(&s, &v, NULL));
			CHECK_INT(v.state, TW_FLOW_PROBE);
			CHECK_INT(v.head_len, 5);
		}
	}
	CHECK_INT(fx.recs[0].ev.seq, 1000);
	CHECK_INT(fx.recs[0].ev.flags, TW_EVF_FLOW_START);
	CHECK_INT(fx.recs[0].data[0], hello[0]);
	CHECK_INT(fx.recs[1].ev.seq, 1001);
	CHECK_INT(fx.recs[1].ev.flags, 0);
	CHECK_INT(fx.recs[2].ev.seq, 1000);
	CHECK_INT(drain(), 11);
	CHECK_INT(fx.recs[6].ev.seq, 1005);
	CHECK_INT(fx.recs[6].ev.flags, TW_EVF_FLOW_START);
	CHECK_INT(fx.recs[6].data[0], hello[5]);
	for (i = 7; i < 11; i++) {
		CHECK_INT(fx.recs[i].ev.seq, 999 + (uint32_t)i);
		CHECK_INT(fx.recs[i].ev.flags, 0);
	}
	CHECK(flow_entry(&s, &v, NULL));
	CHECK_INT(v.state, TW_FLOW_HANDSHAKE);
	CHECK_INT(v.copied[0] + v.copied[1], 11);
	CHECK_INT(counter(TW_CNT_FLOWS_TRACKED), 1);
	CHECK_INT(counter(TW_CNT_BYTES_COPIED), 11);
	CHECK_INT(counter(TW_CNT_PREAMBLE_BYTES), 6);
	fx_close();
}

/* Bytes that are not a handshake record, a byte at a time: probing goes
 * on (STARTTLS), each byte copied as preamble. */
static void test_non_tls_bytes_one_per_segment_are_copied_as_preamble(void)
{
	static const uint8_t get[] = "GET / HTTP/1.1";
	struct spec s = client_hello4();
	struct tw_flow_val v;
	int i;

	if (!fx_open(0, 0)) { CHECK(0); return; }
	for (i = 0; i < 8; i++) {
		s.seq = 1000 + (uint32_t)i;
		s.payload = get + i;
		s.plen = 1;
		run(&s);
	}
	CHECK_INT(drain(), 8);
	CHECK(flow_entry(&s, &v, NULL));
	CHECK_INT(v.state, TW_FLOW_PROBE);
	CHECK_INT(v.probes, 8);
	CHECK_INT(counter(TW_CNT_FLOWS_TRACKED), 1); /* as a preamble */
	fx_close();
}

static void test_ipv6_with_extension_headers_is_emitted(void)
{
	struct spec s = client_hello6();
	uint8_t want[16];
	struct rec *r;

	if (!fx_open(0, 0)) { CHECK(0); return; }
	s.ip6_ext = 2;
	run(&s);
	CHECK_INT(drain(), 1);
	r = &fx.recs[0];
	CHECK_INT(r->ev.family, 6);
	/* IPv6 addresses in the tail, the header's IPv4 fields zero */
	inet_pton(AF_INET6, "2001:db8::10", want);
	CHECK(memcmp(r->tail.saddr6, want, 16) == 0);
	inet_pton(AF_INET6, "2001:db8::1", want);
	CHECK(memcmp(r->tail.daddr6, want, 16) == 0);
	memset(want, 0, sizeof(want));
	CHECK(memcmp(r->ev.saddr, want, 4) == 0);
	CHECK(memcmp(r->ev.daddr, want, 4) == 0);
	CHECK_INT(r->ev.seq, 1000);
	CHECK_INT(r->ev.wire_len, 517);
	CHECK_INT(r->ev.chunk_len, 517);
	CHECK(memcmp(r->data, hello, 517) == 0);
	CHECK_INT(counter(TW_CNT_FLOWS_TRACKED), 1);
	fx_close();
}

static void test_ipv6_fragment_is_skipped(void)
{
	static uint8_t pkt[4096];
	struct spec s = client_hello6();
	size_t len;

	if (!fx_open(0, 0)) { CHECK(0); return; }
	s.ip6_ext = 2;
	len = build(&s, pkt);
	pkt[14 + 40 + 8] = 44; /* destination options now says: fragment */
	run_on(fx.skel->progs.tlswatch, pkt, len);
	CHECK_INT(drain(), 0);
	CHECK_INT(counter(TW_CNT_FRAGMENTS), 1);
	CHECK_INT(counter(TW_CNT_PACKETS_WATCHED), 0);
	fx_close();
}

/* The packet of test_ipv6_with_extension_headers_is_emitted with its
 * destination options header made a Fragment header of @offset_m (offset
 * in its top 13 bits, M the lowest). */
static size_t build_ipv6_fragment(uint8_t *pkt, uint16_t offset_m)
{
	static const uint8_t frag[8] = { 6, 0, 0, 0, 0, 0, 0x12, 0x34 };
	struct spec s = client_hello6();
	size_t len;

	s.ip6_ext = 2;
	len = build(&s, pkt);
	pkt[14 + 40] = 44;          /* hop-by-hop now says: fragment */
	memcpy(pkt + 14 + 40 + 8, frag, 8);
	put16(pkt + 14 + 40 + 8 + 2, offset_m);
	return len;
}

/* Offset 0 and M clear: an atomic fragment (RFC 6946), the whole packet,
 * parsed as if the header were not there (as userspace decodes it). */
static void test_ipv6_atomic_fragment_is_emitted(void)
{
	static uint8_t pkt[4096];
	size_t len;

	if (!fx_open(0, 0)) { CHECK(0); return; }
	len = build_ipv6_fragment(pkt, 0);
	run_on(fx.skel->progs.tlswatch, pkt, len);
	CHECK_INT(drain(), 1);
	CHECK_INT(fx.recs[0].ev.family, 6);
	CHECK_INT(fx.recs[0].ev.seq, 1000);
	CHECK_INT(fx.recs[0].ev.chunk_len, 517);
	CHECK(memcmp(fx.recs[0].data, hello, 517) == 0);
	CHECK_INT(counter(TW_CNT_FRAGMENTS), 0);
	fx_close();
}

/* The last fragment (M clear, offset 1480) is a fragment still. */
static void test_ipv6_last_fragment_is_skipped(void)
{
	static uint8_t pkt[4096];
	size_t len;

	if (!fx_open(0, 0)) { CHECK(0); return; }
	len = build_ipv6_fragment(pkt, 185 << 3);
	run_on(fx.skel->progs.tlswatch, pkt, len);
	CHECK_INT(drain(), 0);
	CHECK_INT(counter(TW_CNT_FRAGMENTS), 1);
	fx_close();
}

/* IPsec AH (transport mode) between IPv4 and TCP, as IPv6 has it. */
static void test_ipv4_ah_is_skipped_to_tcp(void)
{
	static const uint8_t ah[24] = { 6, 4, 0, 0, 0, 0, 0x10, 0, 0, 0, 0, 1 };
	static uint8_t pkt[4096];
	struct spec s = client_hello4();
	size_t len;

	if (!fx_open(0, 0)) { CHECK(0); return; }
	len = build(&s, pkt);
	memmove(pkt + 34 + sizeof(ah), pkt + 34, len - 34);
	memcpy(pkt + 34, ah, sizeof(ah));
	pkt[14 + 9] = 51;
	put16(pkt + 14 + 2, (uint16_t)(len - 14 + sizeof(ah)));
	run_on(fx.skel->progs.tlswatch, pkt, len + sizeof(ah));
	CHECK_INT(drain(), 1);
	CHECK_INT(fx.recs[0].ev.family, 4);
	check_addr4(fx.recs[0].ev.saddr, "192.0.2.10");
	CHECK_INT(fx.recs[0].ev.seq, 1000);
	CHECK_INT(fx.recs[0].ev.wire_len, 517);
	CHECK_INT(fx.recs[0].ev.chunk_len, 517);
	CHECK(memcmp(fx.recs[0].data, hello, 517) == 0);
	fx_close();
}

static void test_ipv4_fragment_is_skipped(void)
{
	static uint8_t pkt[4096];
	struct spec s = client_hello4();
	size_t len;

	if (!fx_open(0, 0)) { CHECK(0); return; }
	len = build(&s, pkt);
	pkt[14 + 6] = 0x20; /* more fragments */
	run_on(fx.skel->progs.tlswatch, pkt, len);
	CHECK_INT(drain(), 0);
	CHECK_INT(counter(TW_CNT_FRAGMENTS), 1);
	fx_close();
}

static void test_vlan_8021q_is_parsed(void)
{
	struct spec s = client_hello4();

	if (!fx_open(0, 0)) { CHECK(0); return; }
	s.vlan_tags = 1;
	run(&s);
	CHECK_INT(drain(), 1);
	CHECK_INT(fx.recs[0].ev.seq, 1000);
	CHECK_INT(fx.recs[0].ev.chunk_len, 517);
	CHECK(memcmp(fx.recs[0].data, hello, 517) == 0);
	fx_close();
}

static void test_qinq_8021ad_is_parsed(void)
{
	struct spec s = client_hello6();

	if (!fx_open(0, 0)) { CHECK(0); return; }
	s.vlan_tags = 2;
	run(&s);
	CHECK_INT(drain(), 1);
	CHECK_INT(fx.recs[0].ev.family, 6);
	CHECK_INT(fx.recs[0].ev.chunk_len, 517);
	fx_close();
}

/*
 * The hello of client_hello4 or client_hello6 (@family) in the frame @pkt,
 * run by a fresh program (@l3: tlswatch_l3, from the IP header past the
 * 14-byte Ethernet one): followed to the record when @followed, else given
 * up and counted in bad_headers (what analyze counts for such a frame:
 * tests/unit/test_decode.c); nothing else.
 */
static void check_hello_followed(const uint8_t *pkt, size_t len, int family,
				 bool l3, bool followed)
{
	if (!fx_open(0, 0)) { CHECK(0); return; }
	if (l3)
		run_on(fx.skel->progs.tlswatch_l3, pkt + 14, len - 14);
	else
		run_on(fx.skel->progs.tlswatch, pkt, len);
	CHECK_INT(drain(), followed);
	if (followed) {
		CHECK_INT(fx.recs[0].ev.family, family);
		CHECK_INT(fx.recs[0].ev.seq, 1000);
		CHECK_INT(fx.recs[0].ev.chunk_len, 517);
		CHECK(memcmp(fx.recs[0].data, hello, 517) == 0);
	}
	CHECK_INT(counter(TW_CNT_PACKETS_WATCHED), followed);
	CHECK_INT(counter(TW_CNT_BAD_HEADERS), !followed);
	fx_close();
}

/* The hello of client_hello4 behind @tags VLAN tags, the outermost of
 * ethertype @outer (0: as build() makes it): check_hello_followed. */
static void check_vlan_tags(int tags, uint16_t outer, bool followed)
{
	static uint8_t pkt[4096];
	struct spec s = client_hello4();
	size_t len;

	s.vlan_tags = tags;
	len = build(&s, pkt);
	if (outer)
		put16(pkt + 12, outer);
	check_hello_followed(pkt, len, 4, false, followed);
}

/*
 * As many VLAN tags as analyze follows (TW_MAX_VLAN_TAGS, include/
 * tlswatch/headers.h: 4), and the same tag types (0x9100, the stacked tag
 * of switches from before 802.1ad, too); one more is a bad header. Before,
 * the kernel followed 2 tags and neither 0x9100 nor the tags past 2
 * counted anywhere: such a ClientHello was analysed offline and silently
 * not followed live.
 */
static void test_vlan_tags_are_followed_as_far_as_analyze_does(void)
{
	check_vlan_tags(3, 0, true);
	check_vlan_tags(4, 0, true);
	check_vlan_tags(5, 0, false);
	check_vlan_tags(2, 0x9100, true);
}

/* The hello of client_hello6 behind @n IPv6 extension headers, run by
 * each program: check_hello_followed. */
static void check_ipv6_ext(int n, bool followed)
{
	static uint8_t pkt[4096];
	struct spec s = client_hello6();
	size_t len;

	s.ip6_ext = n;
	len = build(&s, pkt);
	check_hello_followed(pkt, len, 6, false, followed);
	check_hello_followed(pkt, len, 6, true, followed);
}

/*
 * As many IPv6 extension headers as analyze follows (TW_MAX_IPV6_EXT: 8);
 * one more is a bad header. Before, the kernel followed 6 and gave up on
 * 7 without counting it.
 */
static void test_ipv6_ext_headers_are_followed_as_far_as_analyze_does(void)
{
	check_ipv6_ext(7, true);
	check_ipv6_ext(8, true);
	check_ipv6_ext(9, false);
}

static void test_l3_program_parses_from_the_ip_header(void)
{
	static uint8_t pkt[4096];
	struct spec s = client_hello4();
	size_t len;

	if (!fx_open(0, 0)) { CHECK(0); return; }
	len = build(&s, pkt);
	run_on(fx.skel->progs.tlswatch_l3, pkt + 14, len - 14);
	CHECK_INT(drain(), 1);
	CHECK_INT(fx.recs[0].ev.seq, 1000);
	CHECK_INT(fx.recs[0].ev.chunk_len, 517);
	fx_close();
}

static void test_truncated_headers_do_no_harm(void)
{
	static uint8_t pkt[4096];
	struct spec s = client_hello4();
	size_t len, cut, runs = 0;

	if (!fx_open(0, 0)) { CHECK(0); return; }
	/* IPv4: every cut inside the TCP header. A test run refuses an IPv4
	 * frame shorter than Ethernet + IPv4 header, so cuts inside the
	 * IP headers are made behind a VLAN tag, which it does not look at. */
	len = build(&s, pkt);
	for (cut = 14 + 20; cut < 14 + 20 + 20; cut++, runs++)
		run_on(fx.skel->progs.tlswatch, pkt, cut);
	/* VLAN + IPv6 + two extension headers + TCP: every cut from the tag
	 * to the end of the TCP header */
	s = client_hello6();
	s.vlan_tags = 1;
	s.ip6_ext = 2;
	len = build(&s, pkt);
	for (cut = 14; cut < 14 + 4 + 40 + 16 + 20; cut++, runs++)
		run_on(fx.skel->progs.tlswatch, pkt, cut);
	CHECK_INT(runs, 100);
	CHECK_INT(drain(), 0);
	CHECK_INT(counter(TW_CNT_PACKETS_SEEN), 100);
	CHECK_INT(counter(TW_CNT_BAD_HEADERS), 100);
	CHECK_INT(counter(TW_CNT_PACKETS_WATCHED), 0);
	(void)len;
	fx_close();
}

static void test_impossible_header_lengths_are_counted(void)
{
	static uint8_t pkt[4096];
	struct spec s = client_hello4();
	size_t len;

	if (!fx_open(0, 0)) { CHECK(0); return; }
	len = build(&s, pkt);
	pkt[14] = 0x44;             /* IHL 4: shorter than an IPv4 header */
	run_on(fx.skel->progs.tlswatch, pkt, len);
	pkt[14] = 0x45;
	pkt[14 + 20 + 12] = 4 << 4; /* TCP data offset 4 */
	run_on(fx.skel->progs.tlswatch, pkt, len);
	pkt[14 + 20 + 12] = 15 << 4; /* data offset 60 ... */
	pkt[16] = 0;
	pkt[17] = 20 + 40;           /* ... but IP leaves 40 bytes for TCP */
	run_on(fx.skel->progs.tlswatch, pkt, len);
	CHECK_INT(drain(), 0);
	CHECK_INT(counter(TW_CNT_BAD_HEADERS), 3);
	fx_close();
}

static void test_payload_shorter_than_ip_length_is_clamped(void)
{
	static uint8_t pkt[4096];
	struct spec s = client_hello4();
	size_t len;

	if (!fx_open(0, 0)) { CHECK(0); return; }
	len = build(&s, pkt);
	run_on(fx.skel->progs.tlswatch, pkt, len - 100); /* IP says 100 more */
	CHECK_INT(drain(), 1);
	CHECK_INT(fx.recs[0].ev.wire_len, 417);
	CHECK_INT(fx.recs[0].ev.chunk_len, 417);
	fx_close();
}

static void test_unwatched_port_is_ignored(void)
{
	struct spec s = client_hello4();
	struct tw_flow_val v;

	if (!fx_open(0, 0)) { CHECK(0); return; }
	s.dport = 8443;
	run(&s);
	CHECK_INT(drain(), 0);
	CHECK_INT(counter(TW_CNT_PACKETS_SEEN), 1);
	CHECK_INT(counter(TW_CNT_PACKETS_WATCHED), 0);
	CHECK(!flow_entry(&s, &v, NULL));
	fx_close();
}

static void test_fin_in_handshake_reports_and_half_closes(void)
{
	struct spec c = client_hello4(), f;
	struct tw_flow_val v;
	struct rec *r;

	if (!fx_open(0, 0)) { CHECK(0); return; }
	run(&c);
	f = bare(&c, 1517, TCP_FIN | TCP_ACK);
	run(&f);
	CHECK_INT(drain(), 2);
	r = &fx.recs[1];
	CHECK_INT(r->ev.kind, TW_EV_CLOSE);
	CHECK_INT(r->ev.tcp_flags, TCP_FIN | TCP_ACK);
	CHECK_INT(r->ev.seq, 1517);
	CHECK_INT(r->ev.chunk_off, 0);
	CHECK_INT(r->ev.chunk_len, 0);
	CHECK_INT(r->ev.flags, 0);
	CHECK_INT(r->size, TW_EVENT_DATA_BYTES(0));
	/* half-closed: the server's answer is still copied */
	CHECK(flow_entry(&c, &v, NULL));
	CHECK(v.fin == 1 || v.fin == 2);   /* the client's bit only */
	f = reverse(&c, 5000, 0, TCP_FIN | TCP_ACK, NULL, 0);
	run(&f);
	CHECK_INT(drain(), 3);              /* cumulative: one more close record */
	CHECK_INT(fx.recs[2].ev.flags, TW_EVF_FROM_SERVER);
	CHECK(!flow_entry(&c, &v, NULL));
	CHECK_INT(counter(TW_CNT_FLOWS_CLOSED), 2);
	fx_close();
}

static void test_rst_from_server_reports_and_forgets_flow(void)
{
	struct spec c = client_hello4(), rst;
	struct tw_flow_val v;
	struct rec *r;

	if (!fx_open(0, 0)) { CHECK(0); return; }
	run(&c);
	rst = reverse(&c, 5000, 0, TCP_RST, NULL, 0);
	run(&rst);
	CHECK_INT(drain(), 2);
	r = &fx.recs[1];
	CHECK_INT(r->ev.kind, TW_EV_CLOSE);
	CHECK_INT(r->ev.tcp_flags, TCP_RST);
	CHECK_INT(r->ev.flags, TW_EVF_FROM_SERVER);
	CHECK_INT(r->ev.sport, 443);
	CHECK(!flow_entry(&c, &v, NULL));
	fx_close();
}

/*
 * An RST far from where its sender had got (injected, spoofed) is
 * ignored: no close record, the entry stays and copying goes on; one
 * within TW_RST_WINDOW ends the flow as before. The hello (seq 1000,
 * ack 5000) puts the client at 1517 and the server at 5000.
 */
static void test_rst_far_from_its_sender_keeps_the_flow(void)
{
	struct spec c = client_hello4(), rst, more;
	uint8_t flight[100];
	struct tw_flow_val v;
	int server_is_src = -1;

	if (!fx_open(0, 0)) { CHECK(0); return; }
	run(&c);
	CHECK(flow_entry(&c, &v, &server_is_src));
	CHECK_INT(v.seq_known, 3);
	CHECK_INT(v.next_seq[server_is_src ? 0 : 1], 1517);  /* the client */
	CHECK_INT(v.next_seq[server_is_src ? 1 : 0], 5000);  /* the server */
	rst = reverse(&c, 5000 + 0x80000000u, 1517, TCP_RST | TCP_ACK, NULL, 0);
	run(&rst);
	rst = bare(&c, 1517 - (1u << 20), TCP_RST); /* the client's, 1 MiB behind */
	run(&rst);
	CHECK_INT(drain(), 1);         /* the hello only */
	CHECK_INT(counter(TW_CNT_RSTS_IGNORED), 2);
	CHECK_INT(counter(TW_CNT_FLOWS_CLOSED), 0);
	CHECK(flow_entry(&c, &v, NULL));
	CHECK_INT(v.state, TW_FLOW_HANDSHAKE);
	memset(flight, 0, sizeof(flight));
	tls_payload(flight, sizeof(flight), 0x16, 2);
	more = reverse(&c, 5000, 1517, TCP_PSH | TCP_ACK, flight, sizeof(flight));
	run(&more);
	CHECK_INT(drain(), 2);         /* still copied */
	/* the server's RST, 1000 past where it had got (5100): in the window */
	rst = reverse(&c, 6100, 1517, TCP_RST | TCP_ACK, NULL, 0);
	run(&rst);
	CHECK_INT(drain(), 3);
	CHECK_INT(fx.recs[2].ev.kind, TW_EV_CLOSE);
	CHECK_INT(fx.recs[2].ev.seq, 6100);
	CHECK(!flow_entry(&c, &v, NULL));
	CHECK_INT(counter(TW_CNT_RSTS_IGNORED), 2);
	CHECK_INT(counter(TW_CNT_FLOWS_CLOSED), 1);
	fx_close();
}

/* A client that closes after its hello and resets at FIN + 1 (its
 * kernel, once the server answers a closed socket): the FIN took one
 * sequence number, the RST is where the client had got, the entry goes. */
static void test_rst_after_fin_ends_the_flow_in_the_kernel(void)
{
	struct spec c = client_hello4(), f;
	struct tw_flow_val v;
	int server_is_src = -1;

	if (!fx_open(0, 0)) { CHECK(0); return; }
	run(&c);
	f = bare(&c, 1517, TCP_FIN | TCP_ACK);
	run(&f);
	CHECK(flow_entry(&c, &v, &server_is_src));
	CHECK_INT(v.next_seq[server_is_src ? 0 : 1], 1518);
	f = bare(&c, 1518, TCP_RST);
	run(&f);
	CHECK(!flow_entry(&c, &v, NULL));
	CHECK_INT(counter(TW_CNT_RSTS_IGNORED), 0);
	CHECK_INT(counter(TW_CNT_FLOWS_CLOSED), 2);
	fx_close();
}

/*
 * The window's edges, from the client's 1517 (of a flow being copied, or
 * marked @done first): at them the RST ends the flow, one past them it
 * does not. Behind, TW_RST_WINDOW; ahead, @ahead.
 */
static void check_rst_window_edges(bool done, uint32_t ahead)
{
	const struct { uint32_t seq; bool ends; } cases[] = {
		{ 1517 + ahead, true },
		{ 1517 + ahead + 1, false },
		{ 1517 - TW_RST_WINDOW, true },
		{ 1517 - TW_RST_WINDOW - 1, false },
	};
	struct spec c = client_hello4(), rst;
	struct tw_flow_val v;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (!fx_open(0, 0)) { CHECK(0); return; }
		run(&c);
		if (done)
			CHECK_INT(mark_done(&c), 0);
		rst = bare(&c, cases[i].seq, TCP_RST);
		run(&rst);
		CHECK(flow_entry(&c, &v, NULL) == !cases[i].ends);
		CHECK_INT(counter(TW_CNT_RSTS_IGNORED), cases[i].ends ? 0 : 1);
		/* a close record for the copied flow's RST; a done flow
		 * sends nothing */
		CHECK_INT(drain(), cases[i].ends && !done ? 2 : 1);
		fx_close();
	}
}

static void test_rst_window_edges_in_the_kernel(void)
{
	check_rst_window_edges(false, TW_RST_WINDOW);
}

/*
 * A decided flow (marked done) keeps the references of when it was
 * decided: an RST far from them (spoofed) leaves its entry, so the
 * connection's later packets cost a lookup and are not copied. Before,
 * any RST of a done flow deleted the entry, and the next payload began a
 * new one, copied as a preamble.
 */
static void test_spoofed_rst_of_a_done_flow_keeps_its_entry(void)
{
	struct spec c = client_hello4(), rst, more;
	uint8_t data[100];
	struct tw_flow_val v;

	if (!fx_open(0, 0)) { CHECK(0); return; }
	run(&c);
	CHECK_INT(mark_done(&c), 0);
	rst = reverse(&c, 5000 + 0x80000000u, 1517, TCP_RST | TCP_ACK, NULL, 0);
	run(&rst);
	CHECK(flow_entry(&c, &v, NULL));
	CHECK_INT(v.state, TW_FLOW_DONE);
	CHECK_INT(counter(TW_CNT_RSTS_IGNORED), 1);
	memset(data, 0x17, sizeof(data));
	more = reverse(&c, 5000, 1517, TCP_PSH | TCP_ACK, data, sizeof(data));
	run(&more);
	CHECK_INT(drain(), 1);                /* the hello only */
	CHECK_INT(counter(TW_CNT_FLOWS_TRACKED), 1);
	CHECK_INT(counter(TW_CNT_PREAMBLE_BYTES), 0);
	fx_close();
}

/* A done flow's references are those of when it was decided, and the
 * connection went on since: its RST may lie up to TW_RST_DONE_AHEAD
 * ahead. */
static void test_rst_window_edges_of_a_done_flow(void)
{
	check_rst_window_edges(true, TW_RST_DONE_AHEAD);
}

/*
 * The two sides' FINs, in either order, of a flow being copied and of a
 * decided one: the first leaves the entry with its sender's bit, the
 * second deletes it. (The kernel sets the bit with an atomic fetch-or so
 * that two CPUs handling the two FINs at once cannot both miss the
 * other's; that race itself is not reproduced here.)
 */
static void test_fins_in_either_order_forget_the_flow(void)
{
	struct spec c = client_hello4(), fin[2];
	struct tw_endpoint client, server;
	struct tw_flow_key key;
	struct tw_flow_val v;
	int order, done, ci;

	ci = client_server_key(&c, &client, &server, &key);
	fin[0] = bare(&c, 1517, TCP_FIN | TCP_ACK);                /* client */
	fin[1] = reverse(&c, 5000, 1518, TCP_FIN | TCP_ACK, NULL, 0); /* server */
	for (done = 0; done < 2; done++) {
		for (order = 0; order < 2; order++) {
			if (!fx_open(0, 0)) { CHECK(0); return; }
			run(&c);
			if (done)
				CHECK_INT(mark_done(&c), 0);
			run(&fin[order]);
			CHECK(flow_entry(&c, &v, NULL));
			/* the first FIN's sender's bit only */
			CHECK_INT(v.fin, 1u << (order ? !ci : ci));
			run(&fin[!order]);
			CHECK(!flow_entry(&c, &v, NULL));
			CHECK_INT(counter(TW_CNT_FLOWS_CLOSED), done ? 0 : 2);
			fx_close();
		}
	}
}

static void test_fin_with_payload_sends_data_then_close(void)
{
	struct spec c = client_hello4(), f;
	uint8_t alert[7] = { 0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28 };

	if (!fx_open(0, 0)) { CHECK(0); return; }
	run(&c);
	f = reverse(&c, 5000, 1517, TCP_FIN | TCP_PSH | TCP_ACK, alert, sizeof(alert));
	run(&f);
	CHECK_INT(drain(), 3);
	CHECK_INT(fx.recs[1].ev.kind, TW_EV_DATA);
	CHECK_INT(fx.recs[1].ev.tcp_flags, TCP_PSH | TCP_ACK); /* FIN masked */
	CHECK_INT(fx.recs[1].ev.chunk_len, 7);
	CHECK(memcmp(fx.recs[1].data, alert, 7) == 0);
	CHECK_INT(fx.recs[2].ev.kind, TW_EV_CLOSE);
	CHECK_INT(fx.recs[2].ev.tcp_flags, TCP_FIN | TCP_PSH | TCP_ACK);
	CHECK_INT(fx.recs[2].ev.chunk_off, 7); /* the FIN sits after the data */
	fx_close();
}

static void test_fin_on_untracked_flow_is_silent(void)
{
	struct spec f = client_hello4();

	if (!fx_open(0, 0)) { CHECK(0); return; }
	f.flags = TCP_FIN | TCP_ACK;
	f.plen = 0;
	run(&f);
	CHECK_INT(drain(), 0);
	CHECK_INT(counter(TW_CNT_FLOWS_CLOSED), 0);
	fx_close();
}

static void test_budget_cuts_a_packet_and_is_counted_once(void)
{
	struct spec c = client_hello4(), more;
	uint8_t data[600];
	struct rec *r;

	if (!fx_open(1000, 0)) { CHECK(0); return; }
	run(&c);                       /* 517 of 1000 */
	memset(data, 1, sizeof(data));
	more = c;
	more.seq = 1517;
	more.payload = data;
	more.plen = sizeof(data);
	run(&more);                    /* 483 fit, 117 cut */
	more.seq = 2117;
	run(&more);                    /* nothing: already said */
	CHECK_INT(drain(), 2);
	r = &fx.recs[1];
	CHECK_INT(r->ev.kind, TW_EV_DATA);
	CHECK_INT(r->ev.seq, 1517);
	CHECK_INT(r->ev.wire_len, 600);
	CHECK_INT(r->ev.chunk_len, 483);
	CHECK_INT(r->ev.flags, TW_EVF_TRUNCATED | TW_EVF_BUDGET);
	CHECK_INT(counter(TW_CNT_BUDGET_EXHAUSTED), 1);
	CHECK_INT(counter(TW_CNT_TRUNCATED), 1);
	CHECK_INT(counter(TW_CNT_BYTES_COPIED), 1000);
	fx_close();
}

/* The client's next packet after its hello @h: @n bytes of @data. */
static struct spec after_hello(const struct spec *h, const uint8_t *data,
			       size_t n)
{
	struct spec s = *h;

	s.seq = h->seq + sizeof(hello);
	s.payload = data;
	s.plen = n;
	return s;
}

static void test_budget_spent_at_packet_boundary_sends_gap(void)
{
	struct spec c = client_hello4(), more, s;
	uint8_t data[100], reply[300];

	if (!fx_open(517, 0)) { CHECK(0); return; }
	run(&c);                       /* exactly the budget */
	memset(data, 1, sizeof(data));
	more = after_hello(&c, data, sizeof(data));
	run(&more);
	memset(reply, 2, sizeof(reply)); /* the other direction has its own */
	s = reverse(&c, 5000, 1617, TCP_ACK, reply, sizeof(reply));
	run(&s);
	CHECK_INT(drain(), 3);
	CHECK_INT(fx.recs[1].ev.kind, TW_EV_GAP);
	CHECK_INT(fx.recs[1].ev.seq, 1517);
	CHECK_INT(fx.recs[1].ev.chunk_off, 0);
	CHECK_INT(fx.recs[1].ev.wire_len, 100);
	CHECK_INT(fx.recs[1].ev.flags, TW_EVF_TRUNCATED | TW_EVF_BUDGET);
	CHECK_INT(fx.recs[2].ev.kind, TW_EV_DATA);
	CHECK_INT(fx.recs[2].ev.chunk_len, 300);
	CHECK_INT(fx.recs[2].ev.flags, TW_EVF_FROM_SERVER);
	CHECK_INT(counter(TW_CNT_BUDGET_EXHAUSTED), 1);
	fx_close();
}

/*
 * The budget spent at a packet's boundary while the ring is full: the gap
 * record that says so is lost too. It is owed like any lost record and
 * sent with the direction's next packet once there is room. Before, it
 * was dropped for good: userspace waited for the bytes of a direction the
 * kernel had stopped copying until the flow idled out.
 */
static void test_budget_gap_lost_to_a_full_ring_is_sent_later(void)
{
	struct spec c = client_hello4(), other, more;
	uint8_t data[100];
	uint64_t full = 0;
	int i;

	fx_ring_bytes = 16384;
	if (!fx_open(517, 0)) { fx_ring_bytes = 0; CHECK(0); return; }
	fx_ring_bytes = 0;
	run(&c);                       /* exactly the budget */
	memset(data, 1, sizeof(data));
	more = after_hello(&c, data, sizeof(data));
	/* other flows fill the ring up to where not even a gap record fits:
	 * each sends its hello, then a packet over the budget (a gap) */
	for (i = 0; i < 200; i++) {
		other = c;
		other.sport = (uint16_t)(41000 + i);
		run(&other);
		full = counter(TW_CNT_RINGBUF_FULL);
		other = after_hello(&other, data, sizeof(data));
		run(&other);
		if (counter(TW_CNT_RINGBUF_FULL) > full)
			break;
	}
	CHECK(i < 200);
	full = counter(TW_CNT_RINGBUF_FULL);
	run(&more);                    /* over budget: its gap record is lost */
	CHECK_INT(counter(TW_CNT_RINGBUF_FULL), full + 1);
	drain();
	fx.nrec = 0;
	more.seq = 1617;
	more.plen = 50;
	run(&more);
	CHECK_INT(drain(), 1);
	CHECK_INT(fx.recs[0].ev.kind, TW_EV_GAP);
	CHECK_INT(fx.recs[0].ev.seq, 1617);
	CHECK_INT(fx.recs[0].ev.flags, TW_EVF_TRUNCATED);
	fx_close();
}

/*
 * The ring full: a server packet's record is lost. Its direction is not
 * copied on (the bytes after the hole would be taken for what followed),
 * and its next packet brings a gap record once there is room; the other
 * direction goes on. Before, the next packets were copied as if nothing
 * was missing: a direction whose first record was lost was parsed from
 * the middle of a record.
 */
static void test_lost_record_stops_its_direction_and_owes_a_gap(void)
{
	static uint8_t data[3000];
	struct spec c = client_hello4(), s, more;
	int i;

	fx_ring_bytes = 16384;   /* the hello's record and three of 3000 bytes */
	if (!fx_open(0, 0)) { fx_ring_bytes = 0; CHECK(0); return; }
	fx_ring_bytes = 0;
	run(&c);
	memset(data, 0x41, sizeof(data));
	for (i = 0; i < 4; i++) {
		s = reverse(&c, 5000 + (uint32_t)i * 3000, 1517, TCP_ACK, data, sizeof(data));
		run(&s);
	}
	CHECK_INT(counter(TW_CNT_RINGBUF_FULL), 1);
	CHECK_INT(drain(), 4);           /* the hello and the first three */
	s = reverse(&c, 17000, 1517, TCP_ACK, data, 100);
	run(&s);
	s.seq += 100;
	run(&s);                         /* nothing more of this direction */
	more = c;
	more.seq = 1517;
	more.plen = 50;
	run(&more);
	CHECK_INT(drain(), 6);
	CHECK_INT(fx.recs[4].ev.kind, TW_EV_GAP);
	CHECK_INT(fx.recs[4].ev.seq, 17000);
	CHECK_INT(fx.recs[4].ev.wire_len, 100);
	CHECK_INT(fx.recs[4].ev.flags, TW_EVF_TRUNCATED | TW_EVF_FROM_SERVER);
	CHECK_INT(fx.recs[5].ev.kind, TW_EV_DATA);
	CHECK_INT(fx.recs[5].ev.chunk_len, 50);
	fx_close();
}

static void test_long_packet_is_copied_in_chunks(void)
{
	static uint8_t big[3000];
	struct spec c = client_hello4();
	int i;

	if (!fx_open(0, 1000)) { CHECK(0); return; }
	tls_payload(big, sizeof(big), 0x16, 2);
	c = reverse(&c, 7000, 1517, TCP_ACK, big, sizeof(big));
	run(&c);
	CHECK_INT(drain(), 3);
	for (i = 0; i < 3; i++) {
		CHECK_INT(fx.recs[i].ev.seq, 7000);
		CHECK_INT(fx.recs[i].ev.wire_len, 3000);
		CHECK_INT(fx.recs[i].ev.chunk_off, 1000 * i);
		CHECK_INT(fx.recs[i].ev.chunk_len, 1000);
		CHECK_INT(fx.recs[i].size, TW_EVENT_DATA_BYTES(TW_CHUNK_MTU));
		CHECK(memcmp(fx.recs[i].data, big + 1000 * i, 1000) == 0);
	}
	/* a server flight seen first: sender is the server (port 443); every
	 * chunk of the packet that began the phase says so */
	for (i = 0; i < 3; i++)
		CHECK_INT(fx.recs[i].ev.flags, TW_EVF_FLOW_START | TW_EVF_FROM_SERVER);
	CHECK_INT(counter(TW_CNT_TRUNCATED), 0);
	fx_close();
}

static void test_chunk_cap_truncates_a_packet(void)
{
	static uint8_t big[3000];
	struct spec c = client_hello4();

	if (!fx_open(0, 100)) { CHECK(0); return; }
	tls_payload(big, sizeof(big), 0x16, 1);
	c.payload = big;
	c.plen = sizeof(big);
	run(&c);
	CHECK_INT(drain(), TW_MAX_CHUNKS);
	CHECK_INT(fx.recs[TW_MAX_CHUNKS - 1].ev.chunk_off, 100 * (TW_MAX_CHUNKS - 1));
	CHECK_INT(fx.recs[TW_MAX_CHUNKS - 1].ev.flags,
		  TW_EVF_FLOW_START | TW_EVF_TRUNCATED);
	CHECK_INT(fx.recs[TW_MAX_CHUNKS - 2].ev.flags, TW_EVF_FLOW_START);
	CHECK_INT(counter(TW_CNT_BYTES_COPIED), 100 * TW_MAX_CHUNKS);
	CHECK_INT(counter(TW_CNT_TRUNCATED), 1);
	CHECK_INT(counter(TW_CNT_BUDGET_EXHAUSTED), 0);
	fx_close();
}

static void test_flow_marked_done_is_not_copied(void)
{
	struct spec c = client_hello4(), more;
	uint8_t data[50];

	if (!fx_open(0, 0)) { CHECK(0); return; }
	run(&c);
	CHECK_INT(mark_done(&c), 0);
	memset(data, 0x17, sizeof(data));
	more = c;
	more.seq = 1517;
	more.payload = data;
	more.plen = sizeof(data);
	run(&more);
	CHECK_INT(drain(), 1);
	CHECK_INT(counter(TW_CNT_CHUNKS_EMITTED), 1);
	fx_close();
}

/* A SYN on a port pair whose entry is still there (a decided flow whose
 * close was missed) removes it, so that the new connection's hello is
 * followed; a SYN on a pair without one creates nothing. */
static void test_syn_forgets_a_stale_entry(void)
{
	struct spec c = client_hello4(), syn;
	struct tw_flow_val v;

	if (!fx_open(0, 0)) { CHECK(0); return; }
	syn = c;
	syn.flags = TCP_SYN;
	syn.payload = NULL;
	syn.plen = 0;
	run(&syn);
	CHECK(!flow_entry(&c, &v, NULL));
	run(&c);
	CHECK_INT(drain(), 1);
	CHECK_INT(mark_done(&c), 0);
	run(&syn);
	CHECK(!flow_entry(&c, &v, NULL));
	run(&c);
	CHECK_INT(drain(), 2);   /* drain() counts from fx_open() */
	CHECK(fx.recs[1].ev.flags & TW_EVF_FLOW_START);
	CHECK(flow_entry(&c, &v, NULL));
	CHECK_INT(v.state, TW_FLOW_HANDSHAKE);
	CHECK_INT(counter(TW_CNT_FLOWS_TRACKED), 2);
	fx_close();
}

/* @c's SYN (no ACK, no payload) at @seq. */
static struct spec syn_of(const struct spec *c, uint32_t seq)
{
	return bare(c, seq, TCP_SYN);
}

/*
 * A SYN far from where its sender had got (spoofed) leaves the entry, of
 * a flow being copied and of a decided one: counted, nothing copied, and
 * the flow goes on as before. Before, any SYN deleted the entry: the
 * connection's next payload began a new one, copied as a preamble.
 */
static void test_spoofed_syn_keeps_the_flow(void)
{
	struct spec c = client_hello4(), syn, more;
	uint8_t data[100];
	struct tw_flow_val v;
	int done;

	for (done = 0; done < 2; done++) {
		if (!fx_open(0, 0)) { CHECK(0); return; }
		run(&c);
		if (done)
			CHECK_INT(mark_done(&c), 0);
		syn = syn_of(&c, 1517 + 0x80000000u);
		run(&syn);
		CHECK(flow_entry(&c, &v, NULL));
		CHECK_INT(v.state, done ? TW_FLOW_DONE : TW_FLOW_HANDSHAKE);
		CHECK_INT(counter(TW_CNT_SYNS_FINS_IGNORED), 1);
		CHECK_INT(counter(TW_CNT_RSTS_IGNORED), 0);
		memset(data, 0x17, sizeof(data));
		data[1] = 0x03;
		more = reverse(&c, 5000, 1517, TCP_PSH | TCP_ACK, data, sizeof(data));
		run(&more);
		/* copied on in the handshake phase; nothing once decided */
		CHECK_INT(drain(), done ? 1 : 2);
		CHECK_INT(counter(TW_CNT_FLOWS_TRACKED), 1);
		CHECK_INT(counter(TW_CNT_PREAMBLE_BYTES), 0);
		fx_close();
	}
}

/*
 * A new connection on the port pair of a decided flow whose close was
 * missed: its SYN (its own initial sequence number, far from the old
 * one's) is ignored, and the server's SYN-ACK to it says the server took
 * it for a new connection: the old entry goes, and the new hello is
 * followed from its first byte. A SYN-ACK that acknowledges something
 * else leaves the entry.
 */
static void test_syn_ack_to_an_ignored_syn_forgets_the_entry(void)
{
	struct spec c = client_hello4(), syn, synack, h2;
	const uint32_t isn = 1517 + (3u << 28);
	struct tw_flow_val v;

	if (!fx_open(0, 0)) { CHECK(0); return; }
	run(&c);
	CHECK_INT(mark_done(&c), 0);
	syn = syn_of(&c, isn);
	run(&syn);
	CHECK(flow_entry(&c, &v, NULL));
	CHECK_INT(counter(TW_CNT_SYNS_FINS_IGNORED), 1);
	synack = reverse(&c, 777, isn + 2, TCP_SYN | TCP_ACK, NULL, 0);
	run(&synack);
	CHECK(flow_entry(&c, &v, NULL));        /* not an answer to it */
	synack.ack = isn + 1;
	run(&synack);
	CHECK(!flow_entry(&c, &v, NULL));
	h2 = c;
	h2.seq = isn + 1;
	h2.ack = 778;
	run(&h2);
	CHECK_INT(drain(), 2);
	CHECK(fx.recs[1].ev.flags & TW_EVF_FLOW_START);
	CHECK_INT(fx.recs[1].ev.seq, isn + 1);
	CHECK_INT(counter(TW_CNT_FLOWS_TRACKED), 2);
	fx_close();
}

/*
 * One FIN far from where its sender had got from each side (spoofed), of
 * a flow being copied (its references follow every packet): no close
 * record, no half-close. Before, each was taken: a close record for
 * userspace, and the second deleted the entry. (A decided flow's FIN
 * beyond its window is for the host's TCP stack to refuse:
 * check_real_close_far_ahead, test_real_fin_of_a_forwarded_flow_is_taken.)
 */
static void test_spoofed_fins_keep_the_flow(void)
{
	struct spec c = client_hello4(), fin;
	struct tw_flow_val v;

	if (!fx_open(0, 0)) { CHECK(0); return; }
	run(&c);
	fin = reverse(&c, 5000 + 0x80000000u, 1517, TCP_FIN | TCP_ACK, NULL, 0);
	run(&fin);
	fin = bare(&c, 1517 - (1u << 20), TCP_FIN | TCP_ACK);
	run(&fin);
	CHECK(flow_entry(&c, &v, NULL));
	CHECK_INT(v.fin, 0);
	CHECK_INT(drain(), 1);           /* the hello only */
	CHECK_INT(counter(TW_CNT_SYNS_FINS_IGNORED), 2);
	CHECK_INT(counter(TW_CNT_FLOWS_CLOSED), 0);
	/* real ones, where each side had got, still close it */
	fin = bare(&c, 1517, TCP_FIN | TCP_ACK);
	run(&fin);
	fin = reverse(&c, 5000, 1518, TCP_FIN | TCP_ACK, NULL, 0);
	run(&fin);
	CHECK(!flow_entry(&c, &v, NULL));
	CHECK_INT(counter(TW_CNT_SYNS_FINS_IGNORED), 2);
	CHECK_INT(counter(TW_CNT_FLOWS_CLOSED), 2);
	fx_close();
}

/*
 * A decided flow this host holds no end of (forwarded, or a server in
 * another network namespace: 192.0.2.x has no socket here) whose sides
 * each sent 8 MiB since it was decided: their real FINs lie past the
 * window, and no socket can vouch for them or refuse them. They are taken,
 * as before FINs were judged: the first half-closes the entry, the second
 * ends it, and neither is counted as spoofed. Before, both were counted
 * in syns_fins_ignored and the entry of the closed connection stayed
 * (review 11b, A1).
 */
static void test_real_fin_of_a_forwarded_flow_is_taken(void)
{
	struct spec c = client_hello4(), fin;
	const uint32_t far = 8u << 20;
	struct tw_flow_val v;

	if (!fx_open(0, 0)) { CHECK(0); return; }
	run(&c);
	CHECK_INT(mark_done(&c), 0);
	fin = bare(&c, 1517 + far, TCP_FIN | TCP_ACK);
	run(&fin);
	CHECK(flow_entry(&c, &v, NULL));
	CHECK(v.fin != 0);
	fin = reverse(&c, 5000 + far, 1518 + far, TCP_FIN | TCP_ACK, NULL, 0);
	run(&fin);
	CHECK(!flow_entry(&c, &v, NULL));
	CHECK_INT(counter(TW_CNT_SYNS_FINS_IGNORED), 0);
	CHECK_INT(drain(), 1);           /* the hello only */
	fx_close();
}

/* ---- a connection of this host's TCP stack (loopback) ---- */

struct local_conn {
	int lfd, cfd, sfd;             /* listener, client, server */
	uint16_t cport, sport;
	uint32_t client_next;          /* the client's next sequence number */
};

/* @fd's next sequence number to send (TCP_REPAIR: root). */
static bool repair_send_seq(int fd, uint32_t *seq)
{
	int on = 1, off = 0, q = TCP_SEND_QUEUE;
	socklen_t len = sizeof(*seq);
	bool ok;

	if (setsockopt(fd, IPPROTO_TCP, TCP_REPAIR, &on, sizeof(on)))
		return false;
	ok = !setsockopt(fd, IPPROTO_TCP, TCP_REPAIR_QUEUE, &q, sizeof(q)) &&
	     !getsockopt(fd, IPPROTO_TCP, TCP_QUEUE_SEQ, seq, &len);
	if (setsockopt(fd, IPPROTO_TCP, TCP_REPAIR, &off, sizeof(off)))
		ok = false;
	return ok;
}

static void local_conn_close(struct local_conn *lc)
{
	if (lc->cfd >= 0)
		close(lc->cfd);
	if (lc->sfd >= 0)
		close(lc->sfd);
	if (lc->lfd >= 0)
		close(lc->lfd);
}

/* A TCP connection over 127.0.0.1, its server port watched in fx. */
static bool local_conn_open(struct local_conn *lc)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);

	lc->cfd = lc->sfd = -1;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lc->lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (lc->lfd < 0 || bind(lc->lfd, (struct sockaddr *)&a, sizeof(a)) ||
	    listen(lc->lfd, 1) ||
	    getsockname(lc->lfd, (struct sockaddr *)&a, &len))
		goto fail;
	lc->sport = ntohs(a.sin_port);
	lc->cfd = socket(AF_INET, SOCK_STREAM, 0);
	if (lc->cfd < 0 || connect(lc->cfd, (struct sockaddr *)&a, sizeof(a)))
		goto fail;
	lc->sfd = accept(lc->lfd, NULL, NULL);
	len = sizeof(a);
	if (lc->sfd < 0 || getsockname(lc->cfd, (struct sockaddr *)&a, &len) ||
	    !repair_send_seq(lc->cfd, &lc->client_next))
		goto fail;
	lc->cport = ntohs(a.sin_port);
	fx.skel->bss->tw_watched_ports[lc->sport >> 6] |= 1ULL << (lc->sport & 63);
	return true;
fail:
	printf("# a loopback connection: %s\n", strerror(errno));
	local_conn_close(lc);
	return false;
}

/*
 * fx open with a local_conn @lc, and in @c its client's hello, copied and
 * marked done: a decided flow between two sockets of this host, the hello
 * ending @behind bytes before where the client's socket has got. False
 * (fx closed) when either could not be opened.
 */
static bool local_flow_done(struct local_conn *lc, struct spec *c,
			    uint32_t behind)
{
	if (!fx_open(0, 0)) { CHECK(0); return false; }
	if (!local_conn_open(lc)) { CHECK(0); fx_close(); return false; }
	c->src = c->dst = "127.0.0.1";
	c->sport = lc->cport;
	c->dport = lc->sport;
	c->seq = lc->client_next - behind - sizeof(hello);
	run(c);
	CHECK_INT(mark_done(c), 0);
	return true;
}

/*
 * A decided flow between two sockets of this host whose client sent 8 MiB
 * since it was decided (its reference, where the hello ended, is that far
 * behind): the client's real RST or FIN, where its socket has got, lies
 * past the decided flow's window, and the host's TCP stack vouches for it
 * (the receiving socket's rcv_nxt): the RST ends the entry, the FIN
 * half-closes it. A spoofed one as far ahead, not where the socket is,
 * is still ignored. Before, the entry of a side that sent more than
 * TW_RST_DONE_AHEAD after the decision outlived its real RST.
 */
static void check_real_close_far_ahead(uint8_t flags)
{
	struct local_conn lc;
	struct spec c = client_hello4(), x;
	struct tw_flow_val v;
	uint32_t far = 8u << 20;

	if (!local_flow_done(&lc, &c, far))
		return;
	x = bare(&c, lc.client_next + 0x40000000u, flags | TCP_ACK);
	run(&x);
	CHECK(flow_entry(&c, &v, NULL));
	CHECK_INT(v.fin, 0);
	CHECK_INT(counter(flags & TCP_RST ? TW_CNT_RSTS_IGNORED
					  : TW_CNT_SYNS_FINS_IGNORED), 1);
	x.seq = lc.client_next;
	run(&x);
	if (flags & TCP_RST)
		CHECK(!flow_entry(&c, &v, NULL));
	else
		CHECK(flow_entry(&c, &v, NULL) && v.fin != 0);
	CHECK_INT(counter(TW_CNT_RSTS_IGNORED) +
		  counter(TW_CNT_SYNS_FINS_IGNORED), 1);
	local_conn_close(&lc);
	fx_close();
}

/*
 * A spoofed SYN of a live connection of this host (the server's socket
 * refuses its sequence number) is ignored, and a spoofed SYN-ACK that
 * answers it, with the addresses of that socket but not from this host's
 * TCP (here the test run's own socket, which is no TCP one), leaves the
 * entry too. (The server's real answer to such a SYN is an ACK.)
 */
static void test_spoofed_syn_ack_of_a_local_server_keeps_the_entry(void)
{
	struct spec c = client_hello4(), syn, synack;
	struct local_conn lc;
	struct tw_flow_val v;
	uint32_t isn;

	if (!local_flow_done(&lc, &c, 0))
		return;
	isn = lc.client_next + 0x40000000u;
	syn = syn_of(&c, isn);
	run(&syn);
	CHECK_INT(counter(TW_CNT_SYNS_FINS_IGNORED), 1);
	synack = reverse(&c, 777, isn + 1, TCP_SYN | TCP_ACK, NULL, 0);
	run(&synack);
	CHECK(flow_entry(&c, &v, NULL));
	CHECK_INT(v.state, TW_FLOW_DONE);
	local_conn_close(&lc);
	fx_close();
}

/*
 * A client port reused after a missed close, to a server of this host: the
 * new SYN's sequence number (its own ISN) is nowhere near the old
 * connection's, but its lookup finds the listener alone: the host holds
 * no connection on these addresses and ports, so the entry is stale and
 * ends at the SYN. A TCP Fast Open SYN's payload, the ClientHello, starts
 * the new flow. Before, the SYN was ignored and the entry left to the
 * SYN-ACK: under SYN cookies that leaves without a socket, like a spoofed
 * one, and the entry stayed (the new handshake never followed), and the
 * Fast Open SYN's ClientHello was lost (review 11b, A2).
 */
static void test_syn_to_a_local_listener_ends_a_stale_entry(void)
{
	struct spec c = client_hello4(), syn;
	const uint32_t isn = 1517 + (3u << 28);
	struct local_conn lc;
	struct tw_flow_val v;
	int tfo;

	for (tfo = 0; tfo < 2; tfo++) {
		if (!fx_open(0, 0)) { CHECK(0); return; }
		if (!local_conn_open(&lc)) { CHECK(0); fx_close(); return; }
		c.src = c.dst = "127.0.0.1";
		c.sport = 40000;             /* no socket: the client is elsewhere */
		c.dport = lc.sport;          /* the listener's */
		run(&c);
		CHECK_INT(mark_done(&c), 0);
		syn = syn_of(&c, isn);
		if (tfo) {
			syn.payload = hello;
			syn.plen = sizeof(hello);
		}
		run(&syn);
		CHECK_INT(counter(TW_CNT_SYNS_FINS_IGNORED), 0);
		if (tfo) {
			CHECK(flow_entry(&c, &v, NULL));
			CHECK_INT(v.state, TW_FLOW_HANDSHAKE);
			CHECK_INT(drain(), 2);
			CHECK(fx.recs[1].ev.flags & TW_EVF_FLOW_START);
			CHECK_INT(fx.recs[1].ev.seq, isn);
			CHECK_INT(counter(TW_CNT_FLOWS_TRACKED), 2);
		} else {
			CHECK(!flow_entry(&c, &v, NULL));
			CHECK_INT(drain(), 1);
		}
		local_conn_close(&lc);
		fx_close();
	}
}


/*
 * A new connection, opened with TCP Fast Open, on the port pair of a
 * forwarded flow (no end of it here: 192.0.2.x has no socket) whose close
 * was missed, decided or being copied: its SYN carries the ClientHello, at
 * its own initial sequence number, far from the entry's references. The
 * hello ends the stale entry and starts the new flow. Before, the SYN was
 * ignored and its hello lost; worse, the SYN-ACK accepting the data
 * acknowledges it too (isn + 1 + its length), so it answered no ignored
 * SYN (tw_flow_syn wants isn + 1): the entry stayed, and the new
 * connection was not followed at all. A SYN with other data, not a hello,
 * is still ignored.
 */
static void test_fast_open_hello_of_a_forwarded_port_pair_starts_a_flow(void)
{
	struct spec c = client_hello4(), syn;
	const uint32_t isn = 1517 + (3u << 28);
	uint8_t junk[100];
	struct tw_flow_val v;
	int done;

	memset(junk, 'x', sizeof(junk));
	for (done = 0; done < 2; done++) {
		if (!fx_open(0, 0)) { CHECK(0); return; }
		run(&c);
		if (done)
			CHECK_INT(mark_done(&c), 0);
		syn = syn_of(&c, isn);
		syn.payload = junk;
		syn.plen = sizeof(junk);
		run(&syn);
		CHECK_INT(counter(TW_CNT_SYNS_FINS_IGNORED), 1);
		CHECK(flow_entry(&c, &v, NULL));
		CHECK_INT(v.state, done ? TW_FLOW_DONE : TW_FLOW_HANDSHAKE);
		CHECK_INT(drain(), 1);           /* the old hello only */
		syn.payload = hello;
		syn.plen = sizeof(hello);
		run(&syn);
		CHECK_INT(counter(TW_CNT_SYNS_FINS_IGNORED), 1);
		CHECK(flow_entry(&c, &v, NULL));
		CHECK_INT(v.state, TW_FLOW_HANDSHAKE);
		CHECK_INT(drain(), 2);
		CHECK(fx.recs[1].ev.flags & TW_EVF_FLOW_START);
		CHECK_INT(fx.recs[1].ev.seq, isn);
		CHECK_INT(fx.recs[1].ev.chunk_len, sizeof(hello));
		CHECK_INT(counter(TW_CNT_FLOWS_TRACKED), 2);
		fx_close();
	}
}


/* A listener bound to @addr ("0.0.0.0", "::", "::1": its family by its
 * form) on a port of its own: the fd in *@lfd, the port in *@port. */
static bool listener_on(const char *addr, int *lfd, uint16_t *port)
{
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6 };
	struct sockaddr_in a4 = { .sin_family = AF_INET };
	bool v6 = strchr(addr, ':') != NULL;
	struct sockaddr *a = v6 ? (struct sockaddr *)&a6 : (struct sockaddr *)&a4;
	socklen_t len = v6 ? sizeof(a6) : sizeof(a4);

	if (inet_pton(v6 ? AF_INET6 : AF_INET, addr,
		      v6 ? (void *)&a6.sin6_addr : (void *)&a4.sin_addr) != 1)
		return false;
	*lfd = socket(a->sa_family, SOCK_STREAM, 0);
	if (*lfd < 0)
		return false;
	if (bind(*lfd, a, len) || listen(*lfd, 1) || getsockname(*lfd, a, &len)) {
		close(*lfd);
		return false;
	}
	*port = ntohs(v6 ? a6.sin6_port : a4.sin_port);
	return true;
}

/*
 * A SYN far from where the client had got, of a decided flow @c to @dst
 * on the port of a listener bound to @bound. One bound to the wildcard
 * (0.0.0.0, ::) matches any destination: @dst forwarded (not an address
 * of this host: 192.0.2.1 or 2001:db8::1 routed out), the SYN is no
 * evidence and is ignored, the entry stays; local (127.0.0.1, ::1), or
 * forwarding disabled, the host holds no such connection and the entry
 * ends (review 11c, K1). One bound to an address: that address is this
 * host's, the entry ends. (tw_dst_local, each family's branch.)
 */
static void listener_case(struct spec c, const char *bound, const char *dst,
			  bool forwarded)
{
	struct spec syn;
	struct tw_flow_val v;
	uint16_t port;
	int lfd;

	if (!fx_open(0, 0)) { CHECK(0); return; }
	if (!listener_on(bound, &lfd, &port)) { CHECK(0); fx_close(); return; }
	fx.skel->bss->tw_watched_ports[port >> 6] |= 1ULL << (port & 63);
	c.dst = dst;
	c.dport = port;
	run(&c);
	CHECK_INT(mark_done(&c), 0);
	syn = syn_of(&c, 1517 + 0x80000000u);   /* test_spoofed_syn_keeps_the_flow's */
	run(&syn);
	CHECK_INT(flow_entry(&c, &v, NULL), forwarded);
	CHECK_INT(counter(TW_CNT_SYNS_FINS_IGNORED), forwarded);
	close(lfd);
	fx_close();
}

/* Writes @value into the sysctl file @path. */
static bool sysctl_set(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	bool ok;

	if (fd < 0)
		return false;
	ok = write(fd, value, strlen(value)) == (ssize_t)strlen(value);
	return !close(fd) && ok;
}

/* Enters a network namespace of its own (the host's settings stay
 * alone): the fd of the one left, for leave_netns; -1 (a failed check)
 * when that failed. */
static int enter_netns(void)
{
	int home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);

	if (home < 0 || unshare(CLONE_NEWNET)) {
		CHECK(0);
		if (home >= 0)
			close(home);
		return -1;
	}
	return home;
}

/* Back to the namespace enter_netns left. */
static void leave_netns(int home)
{
	CHECK(setns(home, CLONE_NEWNET) == 0);
	close(home);
}

/* enter_netns, lo up and the fixture open (fx_open reads fx_up_binds and
 * fx_flows_max: set them first): the home namespace, or -1 (failed, back
 * there). Undone by fx_close and leave_netns. */
static int enter_netns_fx(void)
{
	int home = enter_netns();

	if (home < 0)
		return -1;
	if (system("ip link set lo up") != 0 || !fx_open(0, 0)) {
		CHECK(0);
		leave_netns(home);
		return -1;
	}
	return home;
}

/*
 * listener_case's cases in a network namespace of its own, where lo
 * forwards and 192.0.2.0/24 and 2001:db8::/32 are routed: the host's own
 * forwarding settings are left alone. IPv6's branch of tw_dst_local had
 * no test.
 */
static void test_syn_of_a_forwarded_flow_to_a_wildcard_listener_port(void)
{
	int home = enter_netns();

	if (home < 0)
		return;
	if (sysctl_set("/proc/sys/net/ipv4/conf/lo/forwarding", "1") &&
	    system("ip link set lo up && ip route add 192.0.2.0/24 dev lo && "
		   "ip -6 route add 2001:db8::/32 dev lo") == 0 &&
	    sysctl_set("/proc/sys/net/ipv6/conf/lo/forwarding", "1")) {
		listener_case(client_hello4(), "0.0.0.0", "192.0.2.1", true);
		listener_case(client_hello4(), "0.0.0.0", "127.0.0.1", false);
		listener_case(client_hello6(), "::", "2001:db8::1", true);
		listener_case(client_hello6(), "::", "::1", false);
		listener_case(client_hello6(), "::1", "::1", false);
		/* routed out, but lo does not forward: nothing here would */
		CHECK(sysctl_set("/proc/sys/net/ipv6/conf/lo/forwarding", "0"));
		listener_case(client_hello6(), "::", "2001:db8::1", false);
	} else {
		CHECK(0);
	}
	leave_netns(home);
	/* where lo does not forward (or does), 127.0.0.1 is still local */
	listener_case(client_hello4(), "0.0.0.0", "127.0.0.1", false);
}

/* Whether /proc/net/tcp holds a TIME_WAIT socket (state 06) of local
 * port @lport and remote port @rport. */
/* The state (/proc/net/tcp's number) of this namespace's IPv4 socket on
 * local port @lport to @rport, 0 when there is none. */
static unsigned int tcp_state(uint16_t lport, uint16_t rport)
{
	char line[256];
	unsigned int lp, rp, st, found = 0;
	FILE *f = fopen("/proc/net/tcp", "r");

	if (!f)
		return 0;
	while (!found && fgets(line, sizeof(line), f))
		if (sscanf(line, " %*u: %*x:%x %*x:%x %x", &lp, &rp, &st) == 3 &&
		    lp == lport && rp == rport)
			found = st;
	fclose(f);
	return found;
}

static bool time_wait_held(uint16_t lport, uint16_t rport)
{
	return tcp_state(lport, rport) == 6;
}

/*
 * The same when the server's end of the old connection is in TIME_WAIT
 * (the server closed first, the client then): the connection is over, and
 * the new SYN, whatever its sequence number, ends the entry. Before, a
 * time-wait socket gave no verdict and the SYN was ignored.
 */
static void test_syn_to_a_time_wait_socket_ends_the_entry(void)
{
	struct spec c = client_hello4(), syn;
	struct local_conn lc;
	struct tw_flow_val v;
	int tries;

	if (!local_flow_done(&lc, &c, 0))
		return;
	close(lc.sfd);
	lc.sfd = -1;
	close(lc.cfd);
	lc.cfd = -1;
	/* the FINs are handled in softirq: waited for, not timed */
	for (tries = 0; tries < 1000 && !time_wait_held(lc.sport, lc.cport); tries++)
		usleep(1000);
	CHECK(time_wait_held(lc.sport, lc.cport));
	syn = syn_of(&c, lc.client_next + 0x40000000u);
	run(&syn);
	CHECK(!flow_entry(&c, &v, NULL));
	CHECK_INT(counter(TW_CNT_SYNS_FINS_IGNORED), 0);
	local_conn_close(&lc);
	fx_close();
}

/*
 * A decided flow between two sockets of this host whose client sent 8 MiB
 * since it was decided, and whose close the kernel side missed; the host
 * holds no connection on its addresses and ports any more. A reset far
 * ahead of the entry's references (the host's own stack answering a late
 * packet, or anyone's) is past the decided flow's window, and no socket
 * holds the connection to judge it: the entry is stale whoever sent it,
 * and ends. Three cases: to the server's end in TIME_WAIT (the server
 * closed first); from it; from the server's listener, its connection
 * aborted (SO_LINGER 0: no TIME_WAIT). Before, each was counted in
 * rsts_ignored (as spoofed) and the entry left to the LRU.
 */
static void test_reset_of_a_connection_the_host_closed_ends_its_entry(void)
{
	const uint32_t far = 8u << 20;
	struct linger abort_now = { .l_onoff = 1, .l_linger = 0 };
	struct spec c = client_hello4(), rst;
	struct local_conn lc;
	struct tw_flow_val v;
	int tries, i;

	for (i = 0; i < 3; i++) {
		if (!local_flow_done(&lc, &c, far))
			return;
		if (i == 2)
			CHECK_INT(setsockopt(lc.sfd, SOL_SOCKET, SO_LINGER,
					     &abort_now, sizeof(abort_now)), 0);
		close(lc.sfd);
		lc.sfd = -1;
		close(lc.cfd);
		lc.cfd = -1;
		/* the FINs are handled in softirq: waited for, not timed */
		for (tries = 0; tries < 1000 &&
		     ((i < 2 && !time_wait_held(lc.sport, lc.cport)) ||
		      tcp_state(lc.cport, lc.sport)); tries++)
			usleep(1000);
		CHECK(i == 2 || time_wait_held(lc.sport, lc.cport));
		CHECK_INT(tcp_state(lc.cport, lc.sport), 0); /* the client's: gone */
		rst = i ? reverse(&c, 5000 + far + 0x40000000u, 0, TCP_RST, NULL, 0)
			: bare(&c, lc.client_next + 0x40000000u, TCP_RST);
		run(&rst);
		CHECK(!flow_entry(&c, &v, NULL));
		CHECK_INT(counter(TW_CNT_RSTS_IGNORED), 0);
		CHECK_INT(drain(), 1);           /* the hello only */
		local_conn_close(&lc);
		fx_close();
	}
}

/*
 * A SYN-ACK costs no flow lookup unless a SYN was ignored in the last
 * TW_SYN_ANSWER_NS (issue 9: before SYNs were judged, a SYN-ACK cost
 * none). Here the time of the ignored SYN is set 10 s and more in the
 * past (1 ns after boot): the SYN-ACK answering it is not looked up, the
 * entry stays, and the time is cleared so that the next SYN-ACKs read no
 * clock either. The SYN sent again is ignored again, and the SYN-ACK to
 * it ends the entry.
 */
static void test_syn_ack_is_looked_up_only_after_an_ignored_syn(void)
{
	struct spec c = client_hello4(), syn, synack;
	const uint32_t isn = 1517 + (3u << 28);
	struct tw_flow_val v;

	if (!fx_open(0, 0)) { CHECK(0); return; }
	CHECK_INT(fx.skel->bss->tw_syn_ignored_ns, 0);
	run(&c);
	CHECK_INT(mark_done(&c), 0);
	syn = syn_of(&c, isn);
	run(&syn);
	CHECK_INT(counter(TW_CNT_SYNS_FINS_IGNORED), 1);
	CHECK(fx.skel->bss->tw_syn_ignored_ns != 0);
	fx.skel->bss->tw_syn_ignored_ns = 1;
	synack = reverse(&c, 777, isn + 1, TCP_SYN | TCP_ACK, NULL, 0);
	run(&synack);
	CHECK(flow_entry(&c, &v, NULL));
	CHECK_INT(fx.skel->bss->tw_syn_ignored_ns, 0);
	run(&syn);
	CHECK_INT(counter(TW_CNT_SYNS_FINS_IGNORED), 2);
	run(&synack);
	CHECK(!flow_entry(&c, &v, NULL));
	fx_close();
}

static void test_real_rst_far_ahead_of_a_done_flow_ends_it(void)
{
	check_real_close_far_ahead(TCP_RST);
}

static void test_real_fin_far_ahead_of_a_done_flow_is_taken(void)
{
	check_real_close_far_ahead(TCP_FIN);
}

static void test_fins_on_done_flow_forget_it_silently(void)
{
	uint8_t junk[100];
	struct spec s = client_hello4(), f;
	struct tw_flow_val v;
	int i;

	if (!fx_open(0, 0)) { CHECK(0); return; }
	memset(junk, 'x', sizeof(junk));
	s.payload = junk;
	s.plen = sizeof(junk);
	for (i = 0; i < TW_PROBE_SEGMENTS; i++)
		run(&s);
	CHECK_INT(drain(), TW_PROBE_SEGMENTS);  /* the preamble */
	CHECK(flow_entry(&s, &v, NULL));
	CHECK_INT(v.state, TW_FLOW_DONE);
	f = reverse(&s, 9000, 2000, TCP_FIN | TCP_ACK, NULL, 0);
	run(&f);
	CHECK(flow_entry(&s, &v, NULL));      /* half-closed */
	f = s;
	f.flags = TCP_FIN | TCP_ACK;
	f.plen = 0;
	run(&f);
	CHECK(!flow_entry(&s, &v, NULL));
	CHECK_INT(drain(), TW_PROBE_SEGMENTS);  /* nothing more */
	CHECK_INT(counter(TW_CNT_FLOWS_CLOSED), 0);
	fx_close();
}

/*
 * The done-marking reads the entry and writes it back: a FIN the kernel
 * records in between is lost with it (reproduced here step by step), and
 * the entry of a connection then closed on both sides stayed until the
 * LRU evicted it. That FIN's close record reaches userspace, which applies
 * it again (flow_map_fin), before or after the other side's FIN.
 */
static void test_fin_lost_to_the_marking_is_applied_again(void)
{
	struct spec c = client_hello4(), fin_c, fin_s;
	struct tw_endpoint client, server;
	struct tw_flow_val stale, v;
	struct tw_flow_key key;
	int order, fd, ci;

	ci = client_server_key(&c, &client, &server, &key);
	fin_c = bare(&c, 1517, TCP_FIN | TCP_ACK);
	fin_s = reverse(&c, 5000, 1518, TCP_FIN | TCP_ACK, NULL, 0);
	for (order = 0; order < 2; order++) {
		if (!fx_open(0, 0)) { CHECK(0); return; }
		fd = bpf_map__fd(fx.skel->maps.tw_flows);
		run(&c);
		CHECK_INT(bpf_map_lookup_elem(fd, &key, &stale), 0); /* read */
		run(&fin_c);
		CHECK_INT(drain(), 2);                 /* the hello, the close */
		stale.state = TW_FLOW_DONE;            /* written back */
		CHECK_INT(bpf_map_update_elem(fd, &key, &stale, BPF_EXIST), 0);
		if (order == 0) {
			run(&fin_s);
			CHECK(flow_entry(&c, &v, NULL)); /* closed, still there */
			CHECK_INT(v.fin, 1 << !ci);
			CHECK_INT(flow_map_fin(fd, &client, &server), 0);
		} else {
			CHECK_INT(flow_map_fin(fd, &client, &server), 0);
			CHECK(flow_entry(&c, &v, NULL));
			CHECK_INT(v.fin, 1 << ci);
			CHECK_INT(v.state, TW_FLOW_DONE);
			CHECK_INT(flow_map_fin(fd, &client, &server), 0); /* again */
			CHECK(flow_entry(&c, &v, NULL));
			CHECK_INT(v.fin, 1 << ci);
			run(&fin_s);
		}
		CHECK(!flow_entry(&c, &v, NULL));
		CHECK_INT(drain(), 2);                 /* nothing more */
		fx_close();
	}
}

/* flow_map_fin leaves alone a flow the kernel forgot, an entry still
 * copied and one the kernel gave up on in its preamble (new connections
 * on the same ports, which a late close record of the old one must not
 * touch). */
static void test_fin_applied_again_spares_a_flow_being_copied(void)
{
	struct spec c = client_hello4(), junk = client_hello4();
	struct tw_endpoint client, server;
	struct tw_flow_val v;
	uint8_t bytes[100];
	int fd, i;

	if (!fx_open(0, 0)) { CHECK(0); return; }
	fd = bpf_map__fd(fx.skel->maps.tw_flows);
	endpoint(&client, 4, c.src, c.sport);
	endpoint(&server, 4, c.dst, c.dport);
	CHECK_INT(flow_map_fin(fd, &client, &server), 0);   /* no entry */
	run(&c);
	CHECK_INT(flow_map_fin(fd, &client, &server), 0);
	CHECK(flow_entry(&c, &v, NULL));
	CHECK_INT(v.state, TW_FLOW_HANDSHAKE);
	CHECK_INT(v.fin, 0);
	fx_close();

	if (!fx_open(0, 0)) { CHECK(0); return; }
	fd = bpf_map__fd(fx.skel->maps.tw_flows);
	memset(bytes, 'x', sizeof(bytes));
	junk.payload = bytes;
	junk.plen = sizeof(bytes);
	for (i = 0; i < TW_PROBE_SEGMENTS; i++)
		run(&junk);
	CHECK(flow_entry(&junk, &v, NULL));
	CHECK_INT(v.state, TW_FLOW_DONE);
	CHECK_INT(flow_map_fin(fd, &client, &server), 0);
	CHECK(flow_entry(&junk, &v, NULL));
	CHECK_INT(v.fin, 0);
	fx_close();
}

/*
 * --direction served leaves alone only a hello this host's TCP sends (on
 * egress, from its socket); a test run's packet has neither (its dummy
 * socket is no TCP one), as a client's hello coming in: followed as
 * under all, and nothing counted outgoing. The positive case, an outgoing
 * hello left alone, needs an skb with a TCP socket, which
 * BPF_PROG_TEST_RUN never gives: a real connection's hello on TC egress
 * (outgoing_close_case), and tests/e2e/live_direction.sh.
 */
static void test_served_only_follows_a_hello_not_sent_here(void)
{
	struct spec s = client_hello4();
	struct tw_flow_val v;

	if (!fx_open(0, 0)) { CHECK(0); return; }
	fx.skel->bss->tw_served_only = 1;
	run(&s);
	CHECK_INT(drain(), 1);
	CHECK_INT(fx.recs[0].ev.flags, TW_EVF_FLOW_START);
	CHECK(flow_entry(&s, &v, NULL));
	CHECK_INT(v.state, TW_FLOW_HANDSHAKE);
	CHECK_INT(counter(TW_CNT_FLOWS_TRACKED), 1);
	CHECK_INT(counter(TW_CNT_FLOWS_OUTGOING), 0);
	fx_close();
}

/* A TCP socket bound to @addr:@port, in the current network namespace;
 * -1 on failure. */
static int bound_socket(const char *addr, uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), on = 1;

	if (fd >= 0 &&
	    (inet_pton(AF_INET, addr, &a.sin_addr) != 1 ||
	     setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) ||
	     bind(fd, (struct sockaddr *)&a, sizeof(a)))) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* fx's program on the TC hook @point (BPF_TC_EGRESS or BPF_TC_INGRESS)
 * of @ifname, in the current network namespace (the hook is destroyed
 * with its device). */
static bool attach_tc(const char *ifname, enum bpf_tc_attach_point point)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .attach_point = point);
	LIBBPF_OPTS(bpf_tc_opts, tc);
	int r;

	hook.ifindex = (int)if_nametoindex(ifname);
	tc.prog_fd = bpf_program__fd(fx.skel->progs.tlswatch);
	if (hook.ifindex <= 0)
		return false;
	r = bpf_tc_hook_create(&hook);  /* the device's clsact, once */
	return (!r || r == -EEXIST) && !bpf_tc_attach(&hook, &tc);
}

static bool attach_egress(const char *ifname)
{
	return attach_tc(ifname, BPF_TC_EGRESS);
}

/* The Internet checksum of @n bytes at @p, added to @sum. */
static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		sum += (uint32_t)(p[n - 1] << 8);
	return sum;
}

/*
 * @s (IPv4, no VLAN) sent by this namespace's stack from a raw IP socket,
 * not a TCP one: what another host, or a spoofer, would send. Its TCP
 * checksum is filled in (the receiving stack checks it), its IP header's
 * by the kernel (IP_HDRINCL).
 */
static bool send_raw4(const struct spec *s)
{
	static uint8_t pkt[4096];
	size_t n = build(s, pkt), tcp_len = n - 14 - 20;
	uint8_t *ip = pkt + 14, *tcp = ip + 20, pseudo[4] = { 0, 6 };
	struct sockaddr_in dst = { .sin_family = AF_INET };
	uint32_t sum;
	ssize_t sent;
	int fd;

	pseudo[2] = (uint8_t)(tcp_len >> 8);
	pseudo[3] = (uint8_t)tcp_len;
	sum = csum_add(csum_add(csum_add(0, ip + 12, 8), pseudo, 4), tcp, tcp_len);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	put16(tcp + 16, (uint16_t)~sum);
	memcpy(&dst.sin_addr, ip + 16, 4);
	fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	if (fd < 0)
		return false;
	sent = sendto(fd, ip, n - 14, 0, (struct sockaddr *)&dst, sizeof(dst));
	close(fd);
	return sent == (ssize_t)(n - 14);
}

/* Waits, 1 ms at a time and 1000 times at most, until fx's program has
 * seen @n packets on watched ports: the stack handles what a raw socket
 * sends, and answers, in softirq. */
static void wait_watched(uint64_t n)
{
	int tries;

	for (tries = 0; tries < 1000 && counter(TW_CNT_PACKETS_WATCHED) < n; tries++)
		usleep(1000);
}

/*
 * A network namespace besides the current one (@here, an fd of it), joined
 * to it by a veth pair: twc (@caddr/24) here, tws (@saddr/24, with lo) in
 * the new one, both up, the current namespace the current one again. The
 * new namespace's fd, or -1. Unnamed: it goes with the fd and its sockets.
 */
static int netns_beside(int here, const char *caddr, const char *saddr)
{
	char cmd[256];
	int there;

	if (unshare(CLONE_NEWNET))
		return -1;
	there = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (setns(here, CLONE_NEWNET)) {
		printf("# cannot go back to the test's namespace: %s\n", strerror(errno));
		exit(1);
	}
	if (there < 0)
		return -1;
	snprintf(cmd, sizeof(cmd),
		 "ip link add twc type veth peer name tws netns /proc/%d/fd/%d && "
		 "ip addr add %s/24 dev twc && ip link set twc up",
		 (int)getpid(), there, caddr);
	/* the child must see the fd: a copy without O_CLOEXEC */
	if (fcntl(there, F_SETFD, 0) || system(cmd) != 0 ||
	    fcntl(there, F_SETFD, FD_CLOEXEC) || setns(there, CLONE_NEWNET))
		goto fail;
	snprintf(cmd, sizeof(cmd),
		 "ip link set lo up && ip addr add %s/24 dev tws && ip link set tws up",
		 saddr);
	if (system(cmd) != 0) {
		CHECK(setns(here, CLONE_NEWNET) == 0);
		goto fail;
	}
	if (setns(here, CLONE_NEWNET)) {
		printf("# cannot go back to the test's namespace: %s\n", strerror(errno));
		exit(1);
	}
	return there;
fail:
	close(there);
	return -1;
}

/*
 * The hello of a real connection of this host, client @caddr:@cport to a
 * server @saddr:PORT in another network namespace (netns_beside), fx's
 * program on the TC egress of both ends of their veth pair, under
 * --direction served with --uprobes, this thread holding a pending uprobe
 * entry. The flow is outgoing (the client here, the server not): DONE,
 * its server the far end (the server's index in the key). Then the
 * client's close binds nothing (its FIN leaves from this thread), the
 * server's does (one bind, the entry gone).
 */
static void outgoing_close_case(const char *caddr, const char *saddr,
				uint16_t cport)
{
	struct spec c = client_hello4();
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(PORT) };
	struct tw_up_pending pend = { .hs_id = 7, .n_certs = 1,
				      .flags = TW_UPF_CHAIN };
	struct tw_endpoint ce, se;
	struct tw_flow_key key;
	struct tw_flow_val v;
	__u64 tid = (__u64)getpid() << 32 | (__u32)gettid();
	int here = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	int there = -1, lfd = -1, cfd = -1, sfd = -1, server_is_src = -1;

	fx_up_binds = 1;
	if (here < 0 || !fx_open(0, 0)) {
		CHECK(0);
		fx_up_binds = 0;
		if (here >= 0)
			close(here);
		return;
	}
	fx_up_binds = 0;
	fx.skel->bss->tw_served_only = 1;
	pend.tgid = (__u32)getpid();
	inet_pton(AF_INET, saddr, &a.sin_addr);
	there = netns_beside(here, caddr, saddr);
	/* the server's socket and hook in its namespace, the client's here */
	if (there < 0 || setns(there, CLONE_NEWNET) ||
	    (lfd = bound_socket(saddr, PORT)) < 0 || listen(lfd, 1) ||
	    !attach_egress("tws") || setns(here, CLONE_NEWNET) ||
	    !attach_egress("twc") ||
	    bpf_map_update_elem(bpf_map__fd(fx.skel->maps.tw_up_pending),
				&tid, &pend, BPF_ANY) ||
	    (cfd = bound_socket(caddr, cport)) < 0 ||
	    connect(cfd, (struct sockaddr *)&a, sizeof(a)) ||
	    (sfd = accept(lfd, NULL, NULL)) < 0 ||
	    write(cfd, hello, sizeof(hello)) != (ssize_t)sizeof(hello)) {
		printf("# an outgoing hello over a veth: %s\n", strerror(errno));
		CHECK(0);
		CHECK(setns(here, CLONE_NEWNET) == 0);
		goto out;
	}
	c.src = caddr;
	c.dst = saddr;
	c.sport = cport;
	endpoint(&ce, 4, caddr, cport);
	endpoint(&se, 4, saddr, PORT);
	CHECK(flow_entry(&c, &v, &server_is_src));
	CHECK_INT(v.state, TW_FLOW_DONE);
	CHECK_INT(v.server, live_flow_key(&ce, &se, &key) ? 0 : 1);
	CHECK_INT(server_is_src, 0);
	CHECK_INT(counter(TW_CNT_FLOWS_OUTGOING), 1);
	CHECK_INT(drain(), 0);
	close(cfd);
	cfd = -1;
	CHECK_INT(up_counter(TW_UP_CNT_BINDS), 0);
	CHECK(bpf_map_lookup_elem(bpf_map__fd(fx.skel->maps.tw_up_pending),
				  &tid, &pend) == 0);
	close(sfd);
	sfd = -1;
	CHECK_INT(up_counter(TW_UP_CNT_BINDS), 1);
	CHECK(bpf_map_lookup_elem(bpf_map__fd(fx.skel->maps.tw_up_pending),
				  &tid, &pend) != 0);
out:
	if (sfd >= 0)
		close(sfd);
	if (cfd >= 0)
		close(cfd);
	if (lfd >= 0)
		close(lfd);
	/* deleting twc takes tws, and the hooks, with it */
	if (system("ip link del twc 2>/dev/null") != 0)
		printf("# twc was not there to delete\n");
	if (there >= 0)
		close(there);
	close(here);
	fx_close();
}

/*
 * --direction served: outgoing_close_case with the client first in the
 * flow key (its address below the server's) and second. Before, an
 * outgoing flow kept the new entry's server 0: with the client first, the
 * client's close bound the entry of its thread (a proxy's upstream
 * connection taking the chain of the connection it serves). The server is
 * in a namespace of its own: one in this namespace (over lo) is this
 * host's, and its handshakes served (test_served_only_follows_a_local_server).
 */
static void test_client_close_of_an_outgoing_flow_binds_nothing(void)
{
	int home = enter_netns();

	if (home < 0)
		return;
	outgoing_close_case("10.99.0.1", "10.99.0.2", 40000);
	outgoing_close_case("10.99.0.2", "10.99.0.1", 40000);
	leave_netns(home);
}

/*
 * --direction served: a real connection over lo, client and server both
 * of this namespace, fx's program on lo's TC egress. The host serves it:
 * its hello starts the handshake phase (copied, FLOW_START), nothing
 * counted outgoing. Before, every hello leaving from a TCP socket of this
 * host was taken for outgoing, a local client's to a local server too.
 */
static void test_served_only_follows_a_local_server(void)
{
	struct spec c = client_hello4();
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(PORT) };
	struct tw_flow_val v;
	int home = enter_netns_fx(), lfd = -1, cfd = -1, sfd = -1;
	int server_is_src = -1;

	if (home < 0)
		return;
	fx.skel->bss->tw_served_only = 1;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (!attach_egress("lo") ||
	    (lfd = bound_socket("127.0.0.1", PORT)) < 0 || listen(lfd, 1) ||
	    (cfd = bound_socket("127.0.0.1", 40000)) < 0 ||
	    connect(cfd, (struct sockaddr *)&a, sizeof(a)) ||
	    (sfd = accept(lfd, NULL, NULL)) < 0 ||
	    write(cfd, hello, sizeof(hello)) != (ssize_t)sizeof(hello)) {
		printf("# a hello over lo: %s\n", strerror(errno));
		CHECK(0);
		goto out;
	}
	c.src = c.dst = "127.0.0.1";
	CHECK(flow_entry(&c, &v, &server_is_src));
	CHECK_INT(v.state, TW_FLOW_HANDSHAKE);
	CHECK_INT(server_is_src, 0);
	CHECK_INT(counter(TW_CNT_FLOWS_OUTGOING), 0);
	CHECK_INT(counter(TW_CNT_FLOWS_TRACKED), 1);
	CHECK_INT(drain(), 1);
	CHECK_INT(fx.recs[0].ev.flags, TW_EVF_FLOW_START);
out:
	if (sfd >= 0)
		close(sfd);
	if (cfd >= 0)
		close(cfd);
	if (lfd >= 0)
		close(lfd);
	fx_close();
	leave_netns(home); /* the namespace, lo's hook with it, goes */
}

/* Records of @kind the ring has given so far. */
static int records_of(uint16_t kind)
{
	int i, n = 0;

	for (i = 0; i < fx.nrec; i++)
		n += fx.recs[i].ev.kind == kind;
	return n;
}

/*
 * --uprobes: a real connection over lo, client 127.0.0.1:40000, server
 * 127.0.0.1:PORT, fx's program on lo's TC egress, in the handshake
 * phase. This thread has a chain pending, and what an SSL_free read (a
 * fatal alert sent) waits for the connection's close in tw_up_closing,
 * under the server socket's cookie (SO_COOKIE). The server's next data
 * packet takes only the chain (one bind, the pending entry gone, the
 * record still waiting); its FIN takes the record (a second bind, the
 * record gone). What SSL_free read binds to a close only, the chain to
 * any packet: no test said so.
 */
static void test_freed_record_binds_only_to_its_close(void)
{
	struct spec c = client_hello4();
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(PORT) };
	struct tw_up_pending pend = { .hs_id = 7, .n_certs = 2,
				      .flags = TW_UPF_CHAIN };
	struct tw_up_freed freed = { .flags = TW_UPF_ALERT_SENT,
				     .alert_sent = 116 };
	__u64 cookie = 0;
	socklen_t cookie_len = sizeof(cookie);
	__u64 tid = (__u64)getpid() << 32 | (__u32)gettid();
	int home, lfd = -1, cfd = -1, sfd = -1, pfd, cl;
	struct tw_flow_val v;

	fx_up_binds = 1;
	home = enter_netns_fx();
	if (home < 0) {
		fx_up_binds = 0;
		return;
	}
	fx_up_binds = 0;
	pend.tgid = (__u32)getpid();
	freed.tgid = freed.tid = (__u32)getpid();
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	pfd = bpf_map__fd(fx.skel->maps.tw_up_pending);
	cl = bpf_map__fd(fx.skel->maps.tw_up_closing);
	if (!attach_egress("lo") ||
	    (lfd = bound_socket("127.0.0.1", PORT)) < 0 || listen(lfd, 1) ||
	    (cfd = bound_socket("127.0.0.1", 40000)) < 0 ||
	    connect(cfd, (struct sockaddr *)&a, sizeof(a)) ||
	    (sfd = accept(lfd, NULL, NULL)) < 0 ||
	    write(cfd, hello, sizeof(hello)) != (ssize_t)sizeof(hello) ||
	    getsockopt(sfd, SOL_SOCKET, SO_COOKIE, &cookie, &cookie_len) ||
	    bpf_map_update_elem(pfd, &tid, &pend, BPF_ANY) ||
	    bpf_map_update_elem(cl, &cookie, &freed, BPF_ANY) ||
	    write(sfd, "x", 1) != 1) {
		printf("# a hello and an answer over lo: %s\n", strerror(errno));
		CHECK(0);
		goto out;
	}
	c.src = c.dst = "127.0.0.1";
	c.sport = 40000;
	CHECK(flow_entry(&c, &v, NULL));
	CHECK_INT(v.state, TW_FLOW_HANDSHAKE);
	CHECK_INT(up_counter(TW_UP_CNT_BINDS), 1);
	CHECK(bpf_map_lookup_elem(pfd, &tid, &pend) != 0);
	CHECK(bpf_map_lookup_elem(cl, &cookie, &freed) == 0);
	close(sfd);
	sfd = -1;
	CHECK_INT(up_counter(TW_UP_CNT_BINDS), 2);
	CHECK(bpf_map_lookup_elem(cl, &cookie, &freed) != 0);
	drain();
	CHECK_INT(records_of(TW_EV_UP_BIND), 2);
out:
	if (sfd >= 0)
		close(sfd);
	if (cfd >= 0)
		close(cfd);
	if (lfd >= 0)
		close(lfd);
	fx_close();
	leave_netns(home); /* the namespace, lo's hook with it, goes */
}

/*
 * --direction served, a handshake joined after its hello (the agent
 * started after it): its first record, a handshake record whose first
 * byte is @hs_type, from the server @saddr:PORT to @caddr:@cport (or, not
 * @from_server, from @cport to the server), comes in through
 * BPF_PROG_TEST_RUN (not sent by this host's TCP), in a namespace where
 * a real connection from @caddr:40000 to that server is open.
 * Outgoing (@outgoing: DONE, counted, nothing copied, the server the
 * sender) when it is a server's message to that connection's client
 * socket from a server not here; followed otherwise.
 */
static void served_record_case(const char *caddr, const char *saddr,
			       uint8_t hs_type, uint16_t cport,
			       bool from_server, bool outgoing)
{
	struct spec c = client_hello4(), s;
	struct tw_flow_val v;
	int server_is_src = -1;

	if (!fx_open(0, 0)) { CHECK(0); return; }
	fx.skel->bss->tw_served_only = 1;
	c.src = caddr;
	c.dst = saddr;
	c.sport = cport;
	tls_payload(hello, sizeof(hello), 0x16, hs_type);
	s = from_server ? reverse(&c, 5000, 1000, TCP_PSH | TCP_ACK, hello,
				  sizeof(hello)) : c;
	run(&s);
	CHECK(flow_entry(&c, &v, &server_is_src));
	CHECK_INT(v.state, outgoing ? TW_FLOW_DONE : TW_FLOW_HANDSHAKE);
	CHECK_INT(server_is_src, 0);
	CHECK_INT(counter(TW_CNT_FLOWS_OUTGOING), outgoing);
	CHECK_INT(counter(TW_CNT_FLOWS_TRACKED), !outgoing);
	CHECK_INT(drain(), !outgoing);
	if (!outgoing)   /* userspace starts the flow with it */
		CHECK_INT(fx.recs[0].ev.flags,
			  TW_EVF_FLOW_START | (from_server ? TW_EVF_FROM_SERVER : 0));
	fx_close();
}

/* In the current namespace, a connection from @caddr:40000 to
 * @saddr:PORT, its server's listener and accepted socket in the
 * namespace @there (-1: this one): the fds in @fds (listener, client,
 * server), or false with those opened closed. */
static bool served_conn_open(const char *caddr, const char *saddr, int there,
			     int here, int fds[3])
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(PORT) };
	int i;

	fds[0] = fds[1] = fds[2] = -1;
	if (inet_pton(AF_INET, saddr, &a.sin_addr) != 1 ||
	    (there >= 0 && setns(there, CLONE_NEWNET)) ||
	    (fds[0] = bound_socket(saddr, PORT)) < 0 || listen(fds[0], 1) ||
	    (there >= 0 && setns(here, CLONE_NEWNET)) ||
	    (fds[1] = bound_socket(caddr, 40000)) < 0 ||
	    connect(fds[1], (struct sockaddr *)&a, sizeof(a)) ||
	    (fds[2] = accept(fds[0], NULL, NULL)) < 0) {
		printf("# a connection %s -> %s: %s\n", caddr, saddr, strerror(errno));
		CHECK(there < 0 || setns(here, CLONE_NEWNET) == 0);
		for (i = 0; i < 3; i++)
			if (fds[i] >= 0)
				close(fds[i]);
		return false;
	}
	return true;
}

static void served_conn_close(int fds[3])
{
	int i;

	for (i = 0; i < 3; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

/*
 * In a fresh namespace with lo up, a real connection over it from
 * 127.0.0.1:40000 to a server on 127.0.0.1:PORT (accepted), for
 * served_record_case; served_record_cases runs @hs_types[i] to (or, not
 * @from_server[i], from) client port @cports[i], outgoing @outgoing[i],
 * with it open.
 */
static void served_record_cases(int n, const uint8_t *hs_types,
				const uint16_t *cports, const bool *from_server,
				const bool *outgoing)
{
	int home = enter_netns(), fds[3], i;

	if (home < 0)
		return;
	if (system("ip link set lo up") != 0 ||
	    !served_conn_open("127.0.0.1", "127.0.0.1", -1, home, fds)) {
		CHECK(0);
		leave_netns(home);
		return;
	}
	for (i = 0; i < n; i++)
		served_record_case("127.0.0.1", "127.0.0.1", hs_types[i], cports[i],
				   from_server[i], outgoing[i]);
	served_conn_close(fds);
	leave_netns(home);
}

/*
 * served_record_case over lo: a ServerHello to the open connection's
 * client from its server, both sockets here, is served: followed, not
 * outgoing (what the copy of a local server's ServerHello coming in over
 * lo is: test_served_only_loopback_server_hello_after_a_full_map). One to
 * a port no socket holds (a connection forwarded through the host) is
 * not outgoing either, nor is a Certificate, which may be the client's.
 * Nor is a record that is no message a server sends in the clear: TLS
 * 1.2's encrypted Finished (after its ChangeCipherSpec, in a handshake
 * record) starts with a byte of ciphertext, here the client's to the
 * open connection's server socket; before, any such byte but 1, 15 and
 * 16 was taken for a server's message and the host's served connection
 * for outgoing. A ServerHello to a client here from a server that is
 * not: test_served_only_takes_a_server_hello_from_elsewhere_for_outgoing.
 */
static void test_served_only_judges_a_server_message_by_its_receiver(void)
{
	static const uint8_t types[] = { 2, 2, 11, 0x5a };
	static const uint16_t cports[] = { 40000, 40001, 40000, 40000 };
	static const bool from_server[] = { true, true, true, false };
	static const bool outgoing[] = { false, false, false, false };

	served_record_cases(4, types, cports, from_server, outgoing);
}

/*
 * --direction served: a connection of this host's client 10.99.0.1 to a
 * server 10.99.0.2 in a namespace beside (netns_beside), joined at its
 * ServerHello coming in: outgoing (before, only a ClientHello was judged,
 * and the host's own connection joined at its ServerHello was followed).
 */
static void test_served_only_takes_a_server_hello_from_elsewhere_for_outgoing(void)
{
	int home = enter_netns(), here, there, fds[3];

	if (home < 0)
		return;
	here = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	there = here < 0 ? -1 : netns_beside(here, "10.99.0.1", "10.99.0.2");
	if (there < 0 ||
	    !served_conn_open("10.99.0.1", "10.99.0.2", there, here, fds)) {
		CHECK(0);
	} else {
		served_record_case("10.99.0.1", "10.99.0.2", 2, 40000, true, true);
		served_conn_close(fds);
	}
	if (there >= 0)
		close(there);
	if (here >= 0)
		close(here);
	leave_netns(home); /* twc, tws and the namespace beside go with it */
}

/*
 * --direction served, the flow map full, over lo: a local server's
 * ServerHello (of a handshake whose hello was missed) leaves, and its
 * copy leaving cannot make the flow's entry (TW_CNT_FLOW_MAP_REFUSED);
 * the copy coming in, once there is room, starts the flow. Both ends are
 * this host's sockets: served, followed (HANDSHAKE, its record copied as
 * the server's, nothing outgoing). Before, the copy coming in was judged
 * by its receiver alone (a client here, the server's copy not sent here)
 * and the served connection taken for outgoing. The copy leaving is run
 * without its socket (BPF_PROG_TEST_RUN): refused before anything of it
 * is looked at.
 */
static void test_served_only_loopback_server_hello_after_a_full_map(void)
{
	struct tw_flow_key filler = { 0 };
	struct tw_flow_val v = { .state = TW_FLOW_DONE };
	struct spec c = client_hello4(), s;
	int home, fds[3], server_is_src = -1, fd;

	fx_flows_max = 1;
	home = enter_netns_fx();
	if (home < 0) {
		fx_flows_max = 0;
		return;
	}
	fx_flows_max = 0;
	fx.skel->bss->tw_served_only = 1;
	fd = bpf_map__fd(fx.skel->maps.tw_flows);
	if (!served_conn_open("127.0.0.1", "127.0.0.1", -1, home, fds)) {
		CHECK(0);
		goto out;
	}
	c.src = c.dst = "127.0.0.1";
	tls_payload(hello, sizeof(hello), 0x16, 2);
	s = reverse(&c, 5000, 1000, TCP_PSH | TCP_ACK, hello, sizeof(hello));
	CHECK_INT(bpf_map_update_elem(fd, &filler, &v, BPF_NOEXIST), 0);
	run(&s);                                   /* the copy leaving */
	CHECK_INT(counter(TW_CNT_FLOW_MAP_REFUSED), 1);
	CHECK(!flow_entry(&c, &v, NULL));
	CHECK_INT(bpf_map_delete_elem(fd, &filler), 0);
	run_received(&s, 1);                       /* coming in on lo */
	CHECK(flow_entry(&c, &v, &server_is_src));
	CHECK_INT(v.state, TW_FLOW_HANDSHAKE);
	CHECK_INT(server_is_src, 0);
	CHECK_INT(counter(TW_CNT_FLOWS_OUTGOING), 0);
	CHECK_INT(counter(TW_CNT_FLOWS_TRACKED), 1);
	CHECK_INT(drain(), 1);
	CHECK_INT(fx.recs[0].ev.flags, TW_EVF_FLOW_START | TW_EVF_FROM_SERVER);
	served_conn_close(fds);
out:
	fx_close();
	leave_netns(home);
}

/*
 * served_record_case: a NewSessionTicket to the open connection's client
 * is not outgoing: the connection was joined after its handshake, no
 * handshake (README: flows_outgoing counts handshakes; flows_midstream_tls
 * connections joined after theirs, a NewSessionTicket first included).
 * Followed as under --direction all (tracked 1, outgoing 0, its record
 * copied), for userspace to count it in flows_midstream_tls. Before, it
 * was counted in flows_outgoing (1) and never reached userspace.
 */
static void test_served_only_follows_a_connection_joined_at_a_session_ticket(void)
{
	static const uint8_t types[] = { 4 };
	static const uint16_t cports[] = { 40000 };
	static const bool from_server[] = { true };
	static const bool outgoing[] = { false };

	served_record_cases(1, types, cports, from_server, outgoing);
}

/*
 * Both ports watched (8443 and PORT), a handshake whose first message,
 * of type @hs_type, goes from 8443 to PORT: its copy starts the flow,
 * and the receiver is the server.
 */
static void both_ports_watched_case(uint8_t hs_type)
{
	struct spec c = client_hello4();
	struct tw_flow_val v;
	int server_is_src = -1;

	if (!fx_open(0, 0)) { CHECK(0); return; }
	c.sport = 8443; /* also watched below */
	fx.skel->bss->tw_watched_ports[8443 >> 6] |= 1ULL << (8443 & 63);
	tls_payload(hello, sizeof(hello), 0x16, hs_type);
	run(&c);
	CHECK_INT(drain(), 1);
	CHECK_INT(fx.recs[0].ev.flags, TW_EVF_FLOW_START);
	CHECK(flow_entry(&c, &v, &server_is_src));
	CHECK_INT(server_is_src, 0);
	fx_close();
}

/*
 * Both ports watched, a handshake whose first message is a
 * ClientKeyExchange (the hello and the server's flight missed: the agent
 * started between them): its sender is the client, the server the
 * receiver, as userspace names them ("Who is the client"). Before, any
 * message but a ClientHello named its sender the server.
 */
static void test_both_ports_watched_client_key_exchange_names_the_receiver(void)
{
	both_ports_watched_case(16);
}

static void test_both_ports_watched_server_is_hello_receiver(void)
{
	both_ports_watched_case(1);
}

/*
 * A decided flow to a server listening on the wildcard (0.0.0.0) whose
 * connection the host no longer holds (nor does its client: 40000 has no
 * socket), and a reset from the listener's port, far from the entry's
 * references, made on this host (fx's program on lo's egress: no
 * interface received it): the host holds no connection there, and the
 * entry ends, without a reset counted ignored. @stack: the host's stack
 * makes it, answering a late ACK (sent here from a raw socket, over lo)
 * at the ACK's ack; on kernels that attach the listener to it (6.18),
 * it leaves from a TCP stream socket, vouched for (tw_sent_by_local_tcp).
 * Not: a raw socket here sends it, as the stack's control socket sends
 * its resets where no socket is attached (a raw socket of protocol TCP,
 * which nothing tells from a user's): the listener its sender's lookup
 * finds is this host's end of the connection though bound to no address
 * (tw_stack_vouches, TW_STACK_NO_CONN, the tw_local_sk branch). The same
 * reset received from elsewhere is no evidence (a wildcard listener's
 * port alone is no end of a forwarded connection):
 * test_syn_of_a_forwarded_flow_to_a_wildcard_listener_port.
 */
static void wildcard_reset_case(bool stack)
{
	struct spec c = client_hello4(), x;
	struct tw_flow_val v;
	int home = enter_netns_fx(), lfd = -1;
	uint16_t port;

	if (home < 0)
		return;
	if (!listener_on("0.0.0.0", &lfd, &port) || !attach_egress("lo")) {
		CHECK(0);
		goto out;
	}
	fx.skel->bss->tw_watched_ports[port >> 6] |= 1ULL << (port & 63);
	c.src = c.dst = "127.0.0.1";
	c.dport = port;
	run(&c);
	CHECK_INT(mark_done(&c), 0);
	if (stack) {
		x = bare(&c, 1000 + sizeof(hello), TCP_ACK);
		x.ack = 5000 + 0x40000000u;     /* the reset's seq */
	} else {
		x = reverse(&c, 5000 + 0x40000000u, 0, TCP_RST, NULL, 0);
	}
	CHECK(send_raw4(&x));
	/* the hello, and the reset (after the ACK it answers) */
	wait_watched(stack ? 3 : 2);
	CHECK_INT(counter(TW_CNT_PACKETS_WATCHED), stack ? 3 : 2);
	CHECK(!flow_entry(&c, &v, NULL));
	CHECK_INT(counter(TW_CNT_RSTS_IGNORED), 0);
	CHECK_INT(drain(), 1);                  /* the hello only */
out:
	if (lfd >= 0)
		close(lfd);
	fx_close();
	leave_netns(home);
}

static void test_reset_made_here_for_a_wildcard_listener_ends_the_entry(void)
{
	wildcard_reset_case(true);
	wildcard_reset_case(false);
}

/*
 * A SYN-ACK from a server in another network namespace (a container's),
 * on TC ingress of this namespace's end of their veth (twc), answering a
 * SYN that tw_flow_syn ignored (its sequence number far from the
 * entry's, no end of the connection in this namespace to judge it): no
 * socket here holds its sender's address and port, so nothing tells it
 * from a spoofed one, and it is taken (tw_synack_real): the entry ends.
 * The SYN is sent for real from a raw socket here, so that the server's
 * stack answers it; the SYN-ACK comes with the server's request socket
 * attached (a veth keeps it), on ingress: not made here.
 */
static void test_syn_ack_of_a_server_in_another_namespace_ends_the_entry(void)
{
	struct spec c = client_hello4(), syn;
	const uint32_t isn = 1517 + (3u << 28);
	struct tw_flow_val v;
	int home = enter_netns(), here = -1, there = -1, lfd = -1;

	if (home < 0)
		return;
	if (!fx_open(0, 0)) {
		CHECK(0);
		leave_netns(home);
		return;
	}
	here = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	there = here < 0 ? -1 : netns_beside(here, "10.99.0.1", "10.99.0.2");
	if (there < 0 || setns(there, CLONE_NEWNET) ||
	    (lfd = bound_socket("10.99.0.2", PORT)) < 0 || listen(lfd, 1) ||
	    setns(here, CLONE_NEWNET) || !attach_tc("twc", BPF_TC_INGRESS)) {
		printf("# a server beside: %s\n", strerror(errno));
		CHECK(0);
		CHECK(here < 0 || setns(here, CLONE_NEWNET) == 0);
		goto out;
	}
	c.src = "10.99.0.1";
	c.dst = "10.99.0.2";
	run(&c);
	CHECK_INT(mark_done(&c), 0);
	syn = syn_of(&c, isn);
	run(&syn);
	CHECK_INT(counter(TW_CNT_SYNS_FINS_IGNORED), 1);
	CHECK(flow_entry(&c, &v, NULL));
	CHECK(send_raw4(&syn));
	wait_watched(3);                        /* the hello, the SYN, the SYN-ACK */
	CHECK_INT(counter(TW_CNT_PACKETS_WATCHED), 3);
	CHECK(!flow_entry(&c, &v, NULL));
	CHECK_INT(counter(TW_CNT_SYNS_FINS_IGNORED), 1);
out:
	if (lfd >= 0)
		close(lfd);
	if (there >= 0)
		close(there);
	if (here >= 0)
		close(here);
	fx_close();
	leave_netns(home); /* twc, tws and the namespace beside go with it */
}

/*
 * --direction served, README's limit: a local client's TCP Fast Open
 * hello (in its SYN, over lo) to a local server is taken for outgoing:
 * only the listener holds the connection when the SYN leaves, and a
 * listener is not a connection's socket (tw_receiver_here). DONE,
 * counted in flows_outgoing, nothing copied. The namespace's Fast Open
 * setting (0x207: client and server, no cookie needed) is its own.
 */
static void test_served_only_takes_a_local_fast_open_hello_for_outgoing(void)
{
	struct spec c = client_hello4();
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(PORT) };
	struct tw_flow_val v;
	int home = enter_netns_fx(), lfd = -1, cfd = -1, qlen = 5;

	if (home < 0)
		return;
	fx.skel->bss->tw_served_only = 1;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (!sysctl_set("/proc/sys/net/ipv4/tcp_fastopen", "519") ||
	    !attach_egress("lo") ||
	    (lfd = bound_socket("127.0.0.1", PORT)) < 0 ||
	    setsockopt(lfd, IPPROTO_TCP, TCP_FASTOPEN, &qlen, sizeof(qlen)) ||
	    listen(lfd, 1) ||
	    (cfd = bound_socket("127.0.0.1", 40000)) < 0 ||
	    sendto(cfd, hello, sizeof(hello), MSG_FASTOPEN,
		   (struct sockaddr *)&a, sizeof(a)) != (ssize_t)sizeof(hello)) {
		printf("# a Fast Open hello over lo: %s\n", strerror(errno));
		CHECK(0);
		goto out;
	}
	c.src = c.dst = "127.0.0.1";
	CHECK(flow_entry(&c, &v, NULL));
	CHECK_INT(v.state, TW_FLOW_DONE);
	CHECK_INT(counter(TW_CNT_FLOWS_OUTGOING), 1);
	CHECK_INT(counter(TW_CNT_FLOWS_TRACKED), 0);
	CHECK_INT(drain(), 0);
out:
	if (cfd >= 0)
		close(cfd);
	if (lfd >= 0)
		close(lfd);
	fx_close();
	leave_netns(home);
}

static void test_record_becomes_segment(void)
{
	struct spec c = client_hello4();
	struct tw_segment seg;
	struct live_meta meta;
	uint8_t rec[TW_EVENT_DATA_BYTES(TW_CHUNK_MAX)];

	if (!fx_open(0, 0)) { CHECK(0); return; }
	run(&c);
	CHECK_INT(drain(), 1);
	memcpy(rec, &fx.recs[0].ev, sizeof(struct tw_event));
	memcpy(rec + sizeof(struct tw_event), fx.recs[0].data, 517);
	memcpy(rec + fx.recs[0].size - sizeof(struct tw_event_tail),
	       &fx.recs[0].tail, sizeof(struct tw_event_tail));
	CHECK_INT(live_record_decode(rec, fx.recs[0].size, 0, &seg, &meta), 0);
	CHECK_INT(seg.seq, 1000);
	CHECK_INT(seg.len, 517);
	CHECK_INT(seg.wire_len, 517);
	CHECK_INT(seg.src.port, 40000);
	CHECK_INT(seg.dst.port, 443);
	CHECK_INT(seg.ts_us, fx.recs[0].ev.ts_ns / 1000);
	CHECK(memcmp(seg.payload, hello, 517) == 0);
	CHECK(meta.flow_start);
	CHECK(!meta.from_server);
	fx_close();
}


/* ---- wakeups: ring_buffer__poll() returns records only when woken ---- */

/*
 * Records a wakeup brought within @ms (0: none came), consuming them. The
 * epoll fd is level-triggered: once woken it stays ready until a poll finds
 * the ring empty, so that poll is made here, for the next call to start
 * from "not woken".
 */
static int woken_within(int ms)
{
	int r = ring_buffer__poll(fx.rb, ms);

	CHECK(r >= 0);
	if (r > 0)
		CHECK_INT(ring_buffer__poll(fx.rb, 0), 0);
	return r;
}

static const uint8_t tls_alert[7] = { 0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28 };

static void test_handshake_records_do_not_wake_the_consumer(void)
{
	struct spec c = client_hello4(), s;
	uint8_t flight[1400];

	if (!fx_open(0, 0)) { CHECK(0); return; }
	run(&c);
	tls_payload(flight, sizeof(flight), 0x16, 2);
	s = reverse(&c, 5000, 1517, TCP_ACK, flight, sizeof(flight));
	run(&s);
	CHECK_INT(woken_within(100), 0);
	CHECK_INT(drain(), 2);         /* there all along, unannounced */
	fx_close();
}

static void test_alert_record_wakes_the_consumer(void)
{
	struct spec c = client_hello4(), a;

	if (!fx_open(0, 0)) { CHECK(0); return; }
	run(&c);
	a = reverse(&c, 5000, 1517, TCP_PSH | TCP_ACK, tls_alert, sizeof(tls_alert));
	run(&a);
	CHECK_INT(woken_within(2000), 2); /* the hello comes along */
	CHECK_INT(fx.nrec, 2);
	CHECK_INT(fx.recs[1].ev.chunk_len, 7);
	fx_close();
}

static void test_close_record_wakes_the_consumer(void)
{
	struct spec c = client_hello4(), f;

	if (!fx_open(0, 0)) { CHECK(0); return; }
	run(&c);
	f = reverse(&c, 5000, 1517, TCP_FIN | TCP_ACK, NULL, 0);
	run(&f);
	CHECK_INT(woken_within(2000), 2);
	CHECK_INT(fx.recs[1].ev.kind, TW_EV_CLOSE);
	fx_close();
}

static void test_urgent_wakeups_are_spaced_by_the_gap(void)
{
	struct spec c = client_hello4(), a;

	if (!fx_open_wake(0, 0, 0, 60ull * 1000 * 1000 * 1000)) { CHECK(0); return; }
	run(&c);
	a = reverse(&c, 5000, 1517, TCP_PSH | TCP_ACK, tls_alert, sizeof(tls_alert));
	run(&a);
	CHECK_INT(woken_within(2000), 2);
	c.sport = 40001;               /* another flow, within the 60 s gap */
	run(&c);
	a = reverse(&c, 5000, 1517, TCP_PSH | TCP_ACK, tls_alert, sizeof(tls_alert));
	run(&a);
	CHECK_INT(woken_within(100), 0);
	CHECK_INT(drain(), 4);
	fx_close();
}

static void test_ring_fill_wakes_the_consumer(void)
{
	struct spec c = client_hello4(), s;
	uint8_t part[200];
	size_t rec = TW_EVENT_DATA_BYTES(TW_CHUNK_SMALL) + 8; /* + ring header */

	/* woken when a third small record is in: fill >= 2.5 records */
	if (!fx_open_wake(0, 0, rec * 5 / 2, 0)) { CHECK(0); return; }
	c.plen = 200;
	run(&c);
	memset(part, 0x41, sizeof(part)); /* continuation bytes: not urgent */
	s = reverse(&c, 5000, 1200, TCP_ACK, part, sizeof(part));
	run(&s);
	CHECK_INT(woken_within(100), 0);
	s.seq += 200;
	run(&s);
	CHECK_INT(woken_within(2000), 3);
	fx_close();
}

/* ---- tunnels (bpf/decap.h) ---- */

#define OUTER4_SRC "198.51.100.1"
#define OUTER4_DST "198.51.100.2"
#define OUTER6_SRC "2001:db8:ff::1"
#define OUTER6_DST "2001:db8:ff::2"

/* An IPv4 or IPv6 header of protocol @proto for @len bytes of payload. */
static uint8_t *put_ip(uint8_t *p, int family, uint8_t proto, size_t len)
{
	if (family == 4) {
		*p++ = 0x45;
		*p++ = 0;
		p = put16(p, (uint16_t)(20 + len));
		p = put32(p, 0x00014000);         /* id 1, DF */
		*p++ = 64;
		*p++ = proto;
		p = put16(p, 0);
		inet_pton(AF_INET, OUTER4_SRC, p);
		inet_pton(AF_INET, OUTER4_DST, p + 4);
		return p + 8;
	}
	p = put32(p, 0x60000000);
	p = put16(p, (uint16_t)len);
	*p++ = proto;
	*p++ = 64;
	inet_pton(AF_INET6, OUTER6_SRC, p);
	inet_pton(AF_INET6, OUTER6_DST, p + 16);
	return p + 32;
}

/* Wraps the @n bytes at @pkt (an IP packet, or an Ethernet frame when
 * @hdr ends in one) in @hdr_len bytes of @hdr behind an outer IP header
 * of @family and @proto; returns the new length (in place). */
static size_t wrap(uint8_t *pkt, size_t n, int family, uint8_t proto,
		   const uint8_t *hdr, size_t hdr_len)
{
	uint8_t outer[64], *p = outer;

	p = put_ip(p, family, proto, hdr_len + n);
	if (hdr_len)
		memcpy(p, hdr, hdr_len);
	p += hdr_len;
	memmove(pkt + (p - outer), pkt, n);
	memcpy(pkt, outer, (size_t)(p - outer));
	return n + (size_t)(p - outer);
}

/* The client hello's IP packet (no Ethernet header) into @pkt. */
static size_t inner_hello(struct spec *s, uint8_t *pkt)
{
	size_t len;

	*s = client_hello4();
	len = build(s, pkt);
	memmove(pkt, pkt + 14, len - 14);
	return len - 14;
}

/* An Ethernet header of @type in front of the @n bytes at @pkt. */
static size_t eth_front(uint8_t *pkt, size_t n, uint16_t type)
{
	static const uint8_t macs[12] = { 2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2 };

	memmove(pkt + 14, pkt, n);
	memcpy(pkt, macs, 12);
	put16(pkt + 12, type);
	return n + 14;
}

/* The one record the hello became: inner 4-tuple, the tunnel's facts. */
static void check_tunnel_record(uint8_t type, int family, bool has_id,
				uint32_t id, uint8_t depth)
{
	const struct tw_event *e = &fx.recs[0].ev;
	const struct tw_tun *tun = &fx.recs[0].tail.tun;
	uint8_t want[16] = { 0 };

	CHECK_INT(drain(), 1);
	CHECK_INT(e->family, 4);
	check_addr4(e->saddr, "192.0.2.10");
	check_addr4(e->daddr, "192.0.2.1");
	CHECK_INT(e->sport, 40000);
	CHECK_INT(e->dport, PORT);
	CHECK_INT(e->chunk_len, 517);
	CHECK(memcmp(fx.recs[0].data, hello, 517) == 0);
	CHECK(e->flags & TW_EVF_TUNNEL);
	CHECK_INT(tun->type, type);
	CHECK_INT(tun->family, family);
	CHECK_INT(tun->depth, depth);
	CHECK_INT(tun->flags, has_id ? TW_TUNF_ID : 0);
	if (has_id)
		CHECK_INT(tun->id, id);
	inet_pton(family == 4 ? AF_INET : AF_INET6,
		  family == 4 ? OUTER4_SRC : OUTER6_SRC, want);
	CHECK(memcmp(tun->saddr, want, 16) == 0);
	memset(want, 0, sizeof(want));
	inet_pton(family == 4 ? AF_INET : AF_INET6,
		  family == 4 ? OUTER4_DST : OUTER6_DST, want);
	CHECK(memcmp(tun->daddr, want, 16) == 0);
	CHECK_INT(counter(TW_CNT_DECAPSULATED), 1);
	CHECK_INT(counter(TW_CNT_PACKETS_WATCHED), 1);
	CHECK_INT(counter(TW_CNT_BAD_HEADERS), 0);
}

static void test_vxlan_hello_is_emitted_with_the_outer_addresses(void)
{
	static uint8_t pkt[4096];
	static const uint8_t vxlan[16] = {
		0xc0, 0x00, 0x12, 0xb5, 0, 0, 0, 0,     /* UDP to 4789 */
		0x08, 0, 0, 0, 0x01, 0x02, 0x03, 0,     /* I, VNI 0x010203 */
	};
	struct tw_flow_val v;
	struct spec s;
	size_t n;

	if (!fx_open(0, 0)) { CHECK(0); return; }
	n = eth_front(pkt, inner_hello(&s, pkt), 0x0800);
	n = eth_front(pkt, wrap(pkt, n, 4, 17, vxlan, sizeof(vxlan)), 0x0800);
	run_on(fx.skel->progs.tlswatch, pkt, n);
	check_tunnel_record(TW_TUN_VXLAN, 4, true, 0x010203, 1);
	/* the flow is the inner connection's */
	CHECK(flow_entry(&s, &v, NULL));
	fx_close();
}

static void test_keyed_gre_over_ipv6_carries_ipv4(void)
{
	static uint8_t pkt[4096];
	static const uint8_t gre[16] = {
		0xb0, 0x00, 0x08, 0x00,                 /* C, K, S; IPv4 */
		0, 0, 0, 0, 0, 0, 0, 42, 0, 0, 0, 1,    /* csum, key 42, seq */
	};
	struct spec s;
	size_t n;

	if (!fx_open(0, 0)) { CHECK(0); return; }
	n = inner_hello(&s, pkt);
	n = eth_front(pkt, wrap(pkt, n, 6, 47, gre, sizeof(gre)), 0x86DD);
	run_on(fx.skel->progs.tlswatch, pkt, n);
	check_tunnel_record(TW_TUN_GRE, 6, true, 42, 1);
	fx_close();
}

static void test_ipip_inside_gue_is_two_layers(void)
{
	static uint8_t pkt[4096];
	static const uint8_t gue[16] = {
		0xc0, 0x00, GUE_PORT >> 8, GUE_PORT & 0xff, 0, 0, 0, 0,
		0x01, 4, 0, 0, 0xaa, 0xbb, 0xcc, 0xdd,  /* one optional word */
	};
	struct spec s;
	size_t n;

	if (!fx_open(0, 0)) { CHECK(0); return; }
	n = inner_hello(&s, pkt);
	n = wrap(pkt, n, 4, 4, NULL, 0);            /* IPIP */
	n = eth_front(pkt, wrap(pkt, n, 4, 17, gue, sizeof(gue)), 0x0800);
	run_on(fx.skel->progs.tlswatch, pkt, n);
	check_tunnel_record(TW_TUN_GUE, 4, false, 0, 2);
	fx_close();
}

static void test_three_layers_are_counted_not_followed(void)
{
	static uint8_t pkt[4096];
	struct spec s;
	size_t n;
	int i;

	if (!fx_open(0, 0)) { CHECK(0); return; }
	n = inner_hello(&s, pkt);
	for (i = 0; i < TW_MAX_DECAP + 1; i++)   /* 4in6, then 6in6 twice */
		n = wrap(pkt, n, 6, i == 0 ? 4 : 41, NULL, 0);
	n = eth_front(pkt, n, 0x86DD);
	run_on(fx.skel->progs.tlswatch, pkt, n);
	CHECK_INT(drain(), 0);
	CHECK_INT(counter(TW_CNT_DECAP_TOO_DEEP), 1);
	CHECK_INT(counter(TW_CNT_DECAPSULATED), 0);
	CHECK_INT(counter(TW_CNT_PACKETS_WATCHED), 0);
	fx_close();
}

static void test_udp_on_other_ports_is_not_decapsulated(void)
{
	static uint8_t pkt[4096];
	static const uint8_t dns[16] = {
		0xc0, 0x00, 0x00, 53, 0, 0, 0, 0,       /* UDP to 53 */
		0x08, 0, 0, 0, 0x01, 0x02, 0x03, 0,     /* VXLAN-looking bytes */
	};
	struct spec s;
	size_t n;

	if (!fx_open(0, 0)) { CHECK(0); return; }
	n = eth_front(pkt, inner_hello(&s, pkt), 0x0800);
	n = eth_front(pkt, wrap(pkt, n, 4, 17, dns, sizeof(dns)), 0x0800);
	run_on(fx.skel->progs.tlswatch, pkt, n);
	CHECK_INT(drain(), 0);
	CHECK_INT(counter(TW_CNT_DECAPSULATED), 0);
	CHECK_INT(counter(TW_CNT_BAD_HEADERS), 0);
	fx_close();
}

static void test_l3_program_decapsulates_too(void)
{
	static uint8_t pkt[4096];
	struct spec s;
	size_t n;

	if (!fx_open(0, 0)) { CHECK(0); return; }
	n = wrap(pkt, inner_hello(&s, pkt), 4, 4, NULL, 0);
	run_on(fx.skel->progs.tlswatch_l3, pkt, n);
	check_tunnel_record(TW_TUN_IPIP, 4, false, 0, 1);
	fx_close();
}

/* ---- packets that are not TCP: counted as analyze counts them ---- */

/*
 * Runs the program (tlswatch_l3 when @l3: the packet starts at its IP
 * header) on the @n bytes at @pkt, and decode_frame() of a capture of the
 * same link type (Ethernet, raw IP) on them: both must count the packet
 * under @want ("not_ip", "not_tcp" or "bad_headers"), and under no other of
 * the three.
 */
static void check_not_followed(const char *what, const uint8_t *pkt, size_t n,
			       bool l3, const char *want)
{
	static const enum tw_counter kc[3] = {
		TW_CNT_NOT_IP, TW_CNT_NOT_TCP, TW_CNT_BAD_HEADERS,
	};
	static const char *const names[3] = { "not_ip", "not_tcp", "bad_headers" };
	struct decode_stats st = { 0 };
	struct tw_segment seg;
	uint64_t before[3], got_k, got_u;
	int i;

	for (i = 0; i < 3; i++)
		before[i] = counter(kc[i]);
	run_on(l3 ? fx.skel->progs.tlswatch_l3 : fx.skel->progs.tlswatch, pkt, n);
	CHECK_INT(decode_frame(l3 ? DLT_RAW : DLT_EN10MB, pkt, (uint32_t)n,
			       (uint32_t)n, 0, &seg, &st, NULL), 0);
	for (i = 0; i < 3; i++) {
		got_k = counter(kc[i]) - before[i];
		got_u = i == 0 ? st.not_ip : i == 1 ? st.not_tcp : st.bad_headers;
		if (got_k != (strcmp(names[i], want) == 0) || got_u != got_k)
			printf("# %s: %s: kernel %llu, analyze %llu\n", what,
			       names[i], (unsigned long long)got_k,
			       (unsigned long long)got_u);
		CHECK_INT(got_k, strcmp(names[i], want) == 0);
		CHECK_INT(got_u, strcmp(names[i], want) == 0);
	}
}

/* An ARP request's 28 bytes (the addresses are of no matter). */
static uint8_t *put_arp(uint8_t *p)
{
	static const uint8_t arp[28] = { 0, 1, 8, 0, 6, 4, 0, 1 };

	memcpy(p, arp, sizeof(arp));
	return p + sizeof(arp);
}

static void test_not_ip_and_not_tcp_are_counted_as_analyze_does(void)
{
	static uint8_t pkt[4096];
	static const uint8_t udp53[16] = {
		0xc0, 0x00, 0x00, 53, 0, 16, 0, 0,      /* UDP to 53 */
		1, 2, 3, 4, 5, 6, 7, 8,
	};
	static const uint8_t icmp[8] = { 8, 0, 0, 0, 0, 1, 0, 1 };
	static const uint8_t gre_arp[4] = { 0, 0, 0x08, 0x06 };
	static const uint8_t gre_v1[8] = { 0x20, 0x01, 0x88, 0x0b, 0, 0, 0, 0 };
	static const uint8_t vxlan[16] = {
		0xc0, 0x00, 0x12, 0xb5, 0, 0, 0, 0,     /* UDP to 4789 */
		0x08, 0, 0, 0, 0x01, 0x02, 0x03, 0,     /* I, VNI 0x010203 */
	};
	static const uint8_t hbh_icmp6[16] = {
		58, 0, 1, 4, 0, 0, 0, 0,                /* hop-by-hop: ICMPv6 */
		128, 0, 0, 0, 0, 1, 0, 1,               /* echo request */
	};
	struct spec s;
	uint8_t *p;
	size_t n;

	if (!fx_open(0, 0)) { CHECK(0); return; }
	/* ARP, and ARP behind a VLAN tag */
	n = eth_front(pkt, (size_t)(put_arp(pkt) - pkt), 0x0806);
	check_not_followed("ARP", pkt, n, false, "not_ip");
	p = put16(pkt, 100);                        /* VLAN id */
	p = put16(p, 0x0806);
	n = eth_front(pkt, (size_t)(put_arp(p) - pkt), 0x8100);
	check_not_followed("ARP behind a VLAN tag", pkt, n, false, "not_ip");
	/* UDP to a port no tunnel is on, ICMP, ICMPv6 behind hop-by-hop */
	n = wrap(pkt, 0, 4, 17, udp53, sizeof(udp53));
	check_not_followed("UDP to port 53", pkt, n, true, "not_tcp");
	n = eth_front(pkt, n, 0x0800);
	check_not_followed("UDP to port 53 on Ethernet", pkt, n, false, "not_tcp");
	n = eth_front(pkt, wrap(pkt, 0, 4, 1, icmp, sizeof(icmp)), 0x0800);
	check_not_followed("ICMP", pkt, n, false, "not_tcp");
	n = eth_front(pkt, wrap(pkt, 0, 6, 0, hbh_icmp6, sizeof(hbh_icmp6)), 0x86DD);
	check_not_followed("ICMPv6 behind hop-by-hop", pkt, n, false, "not_tcp");
	/* inside tunnels: ARP in GRE, ARP in VXLAN, UDP in IPIP; GRE of
	 * version 1 (PPTP), not decapsulated */
	n = eth_front(pkt, wrap(pkt, (size_t)(put_arp(pkt) - pkt), 4, 47, gre_arp,
				sizeof(gre_arp)), 0x0800);
	check_not_followed("ARP in GRE", pkt, n, false, "not_ip");
	n = eth_front(pkt, (size_t)(put_arp(pkt) - pkt), 0x0806);
	n = eth_front(pkt, wrap(pkt, n, 4, 17, vxlan, sizeof(vxlan)), 0x0800);
	check_not_followed("ARP in VXLAN", pkt, n, false, "not_ip");
	n = wrap(pkt, wrap(pkt, 0, 4, 17, udp53, sizeof(udp53)), 4, 4, NULL, 0);
	check_not_followed("UDP in IPIP", pkt, n, true, "not_tcp");
	n = eth_front(pkt, wrap(pkt, 0, 4, 47, gre_v1, sizeof(gre_v1)), 0x0800);
	check_not_followed("GRE version 1", pkt, n, false, "not_tcp");
	/* no link layer, and not IP: an impossible header for both */
	n = wrap(pkt, 0, 4, 17, udp53, sizeof(udp53));
	pkt[0] = 0x55;
	check_not_followed("IP version 5 without a link layer", pkt, n, true,
			   "bad_headers");
	/* a TCP segment is none of them, and costs none of the tests */
	n = build((s = client_hello4(), &s), pkt);
	run_on(fx.skel->progs.tlswatch, pkt, n);
	CHECK_INT(counter(TW_CNT_PACKETS_WATCHED), 1);
	CHECK_INT(counter(TW_CNT_NOT_IP), 4);
	CHECK_INT(counter(TW_CNT_NOT_TCP), 6);
	CHECK_INT(counter(TW_CNT_BAD_HEADERS), 1);
	CHECK_INT(counter(TW_CNT_PACKETS_SEEN), 12);
	fx_close();
}

int main(void)
{
	RUN_TEST(test_ipv4_client_hello_emits_one_record);
	RUN_TEST(test_short_segment_uses_small_record);
	RUN_TEST(test_record_size_classes);
	RUN_TEST(test_continuation_from_server_is_emitted);
	RUN_TEST(test_pure_ack_is_not_emitted);
	RUN_TEST(test_non_tls_payload_is_copied_as_preamble);
	RUN_TEST(test_starttls_handshake_after_plaintext_is_tracked);
	RUN_TEST(test_non_tls_flow_is_given_up_after_probes);
	RUN_TEST(test_preamble_past_its_bytes_is_given_up_with_a_gap);
	RUN_TEST(test_fin_of_a_copied_preamble_is_reported);
	RUN_TEST(test_hello_inside_a_preamble_packet_is_copied);
	RUN_TEST(test_hello_one_byte_per_segment_is_tracked);
	RUN_TEST(test_non_tls_bytes_one_per_segment_are_copied_as_preamble);
	RUN_TEST(test_ipv6_with_extension_headers_is_emitted);
	RUN_TEST(test_ipv6_fragment_is_skipped);
	RUN_TEST(test_ipv6_atomic_fragment_is_emitted);
	RUN_TEST(test_ipv6_last_fragment_is_skipped);
	RUN_TEST(test_ipv4_ah_is_skipped_to_tcp);
	RUN_TEST(test_ipv4_fragment_is_skipped);
	RUN_TEST(test_vlan_8021q_is_parsed);
	RUN_TEST(test_qinq_8021ad_is_parsed);
	RUN_TEST(test_vlan_tags_are_followed_as_far_as_analyze_does);
	RUN_TEST(test_ipv6_ext_headers_are_followed_as_far_as_analyze_does);
	RUN_TEST(test_l3_program_parses_from_the_ip_header);
	RUN_TEST(test_truncated_headers_do_no_harm);
	RUN_TEST(test_impossible_header_lengths_are_counted);
	RUN_TEST(test_payload_shorter_than_ip_length_is_clamped);
	RUN_TEST(test_unwatched_port_is_ignored);
	RUN_TEST(test_fin_in_handshake_reports_and_half_closes);
	RUN_TEST(test_rst_from_server_reports_and_forgets_flow);
	RUN_TEST(test_rst_far_from_its_sender_keeps_the_flow);
	RUN_TEST(test_rst_window_edges_in_the_kernel);
	RUN_TEST(test_spoofed_rst_of_a_done_flow_keeps_its_entry);
	RUN_TEST(test_rst_window_edges_of_a_done_flow);
	RUN_TEST(test_fins_in_either_order_forget_the_flow);
	RUN_TEST(test_rst_after_fin_ends_the_flow_in_the_kernel);
	RUN_TEST(test_fin_with_payload_sends_data_then_close);
	RUN_TEST(test_fin_on_untracked_flow_is_silent);
	RUN_TEST(test_budget_cuts_a_packet_and_is_counted_once);
	RUN_TEST(test_budget_spent_at_packet_boundary_sends_gap);
	RUN_TEST(test_lost_record_stops_its_direction_and_owes_a_gap);
	RUN_TEST(test_budget_gap_lost_to_a_full_ring_is_sent_later);
	RUN_TEST(test_long_packet_is_copied_in_chunks);
	RUN_TEST(test_chunk_cap_truncates_a_packet);
	RUN_TEST(test_flow_marked_done_is_not_copied);
	RUN_TEST(test_fins_on_done_flow_forget_it_silently);
	RUN_TEST(test_fin_lost_to_the_marking_is_applied_again);
	RUN_TEST(test_fin_applied_again_spares_a_flow_being_copied);
	RUN_TEST(test_syn_forgets_a_stale_entry);
	RUN_TEST(test_spoofed_syn_keeps_the_flow);
	RUN_TEST(test_syn_ack_to_an_ignored_syn_forgets_the_entry);
	RUN_TEST(test_spoofed_fins_keep_the_flow);
	RUN_TEST(test_real_fin_of_a_forwarded_flow_is_taken);
	RUN_TEST(test_syn_to_a_local_listener_ends_a_stale_entry);
	RUN_TEST(test_syn_of_a_forwarded_flow_to_a_wildcard_listener_port);
	RUN_TEST(test_syn_to_a_time_wait_socket_ends_the_entry);
	RUN_TEST(test_reset_of_a_connection_the_host_closed_ends_its_entry);
	RUN_TEST(test_fast_open_hello_of_a_forwarded_port_pair_starts_a_flow);
	RUN_TEST(test_syn_ack_is_looked_up_only_after_an_ignored_syn);
	RUN_TEST(test_spoofed_syn_ack_of_a_local_server_keeps_the_entry);
	RUN_TEST(test_real_rst_far_ahead_of_a_done_flow_ends_it);
	RUN_TEST(test_real_fin_far_ahead_of_a_done_flow_is_taken);
	RUN_TEST(test_both_ports_watched_server_is_hello_receiver);
	RUN_TEST(test_served_only_follows_a_hello_not_sent_here);
	RUN_TEST(test_client_close_of_an_outgoing_flow_binds_nothing);
	RUN_TEST(test_served_only_follows_a_local_server);
	RUN_TEST(test_freed_record_binds_only_to_its_close);
	RUN_TEST(test_served_only_judges_a_server_message_by_its_receiver);
	RUN_TEST(test_served_only_takes_a_server_hello_from_elsewhere_for_outgoing);
	RUN_TEST(test_served_only_loopback_server_hello_after_a_full_map);
	RUN_TEST(test_served_only_takes_a_local_fast_open_hello_for_outgoing);
	RUN_TEST(test_reset_made_here_for_a_wildcard_listener_ends_the_entry);
	RUN_TEST(test_syn_ack_of_a_server_in_another_namespace_ends_the_entry);
	RUN_TEST(test_served_only_follows_a_connection_joined_at_a_session_ticket);
	RUN_TEST(test_both_ports_watched_client_key_exchange_names_the_receiver);
	RUN_TEST(test_record_becomes_segment);
	RUN_TEST(test_handshake_records_do_not_wake_the_consumer);
	RUN_TEST(test_alert_record_wakes_the_consumer);
	RUN_TEST(test_close_record_wakes_the_consumer);
	RUN_TEST(test_urgent_wakeups_are_spaced_by_the_gap);
	RUN_TEST(test_ring_fill_wakes_the_consumer);
	RUN_TEST(test_vxlan_hello_is_emitted_with_the_outer_addresses);
	RUN_TEST(test_keyed_gre_over_ipv6_carries_ipv4);
	RUN_TEST(test_ipip_inside_gue_is_two_layers);
	RUN_TEST(test_three_layers_are_counted_not_followed);
	RUN_TEST(test_udp_on_other_ports_is_not_decapsulated);
	RUN_TEST(test_l3_program_decapsulates_too);
	RUN_TEST(test_not_ip_and_not_tcp_are_counted_as_analyze_does);
	return CHECK_EXIT_CODE();
}
