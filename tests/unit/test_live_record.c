// SPDX-License-Identifier: MIT
/*
 * Ring buffer record -> struct tw_segment (live_record_decode) and the flow
 * key userspace builds to reach the kernel's entry (live_flow_key). No
 * kernel needed: records are built here the way the BPF program fills them.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "check.h"
#include "live/live.h"

/* Record sizes as the kernel reserves them: header, room, tail. */
#define REC_EMPTY TW_EVENT_DATA_BYTES(0)
#define REC_SMALL TW_EVENT_DATA_BYTES(TW_CHUNK_SMALL)
#define REC_MAX   TW_EVENT_DATA_BYTES(TW_CHUNK_MAX)

static uint8_t buf[REC_MAX];

/* The tail of a record of @size bytes in buf: its last bytes. */
static struct tw_event_tail *tail_of(size_t size)
{
	return (struct tw_event_tail *)(buf + size - sizeof(struct tw_event_tail));
}

/* A record from 192.0.2.1:443 to 192.0.2.10:40000, seq 5000, ack 1517. */
static struct tw_event *rec4(uint8_t kind, uint32_t wire, uint32_t off,
			     uint32_t len, uint8_t flags)
{
	struct tw_event *e = (struct tw_event *)buf;
	uint32_t i;

	memset(buf, 0, sizeof(buf));
	e->ts_ns = 2000000123;
	inet_pton(AF_INET, "192.0.2.1", e->saddr);
	inet_pton(AF_INET, "192.0.2.10", e->daddr);
	e->sport = 443;
	e->dport = 40000;
	e->seq = 5000;
	e->ack = 1517;
	e->wire_len = wire;
	e->chunk_off = off;
	e->chunk_len = len;
	e->ifindex = 7;
	e->family = 4;
	e->tcp_flags = TW_TCP_ACK | TW_TCP_PSH;
	e->kind = kind;
	e->flags = flags;
	for (i = 0; i < len; i++)
		e->data[i] = (uint8_t)i;
	return e;
}

static void test_data_record_maps_every_field(void)
{
	struct tw_segment seg;
	struct live_meta meta;
	char a[TW_ADDR_STRLEN];

	rec4(TW_EV_DATA, 300, 0, 300, TW_EVF_FROM_SERVER | TW_EVF_FLOW_START);
	CHECK_INT(live_record_decode(buf, REC_SMALL, 1700000000000000000LL, &seg,
				     &meta), 0);
	/* (2000000123 ns monotonic + offset) in microseconds */
	CHECK_INT(seg.ts_us, 1700000002000000ULL);
	CHECK_STR(tw_addr_format(&seg.src.addr, a), "192.0.2.1");
	CHECK_INT(seg.src.port, 443);
	CHECK_STR(tw_addr_format(&seg.dst.addr, a), "192.0.2.10");
	CHECK_INT(seg.dst.port, 40000);
	CHECK_INT(seg.src.addr.family, 4);
	CHECK_INT(seg.src.addr.bytes[4], 0); /* IPv4: the rest is zero */
	CHECK_INT(seg.seq, 5000);
	CHECK_INT(seg.ack, 1517);
	CHECK_INT(seg.tcp_flags, TW_TCP_ACK | TW_TCP_PSH);
	CHECK_INT(seg.len, 300);
	CHECK_INT(seg.wire_len, 300);
	CHECK(!seg.truncated);
	CHECK(seg.payload == buf + sizeof(struct tw_event));
	CHECK_INT(meta.ifindex, 7);
	CHECK_INT(meta.kind, TW_EV_DATA);
	CHECK(meta.from_server);
	CHECK(meta.flow_start);
	CHECK(!meta.budget);
	CHECK(seg.flow_start);
}

/* The flow stage starts a new flow on a flow start: the packet's first
 * record says so, its later records continue the flow. */
static void test_flow_start_reaches_the_segment_on_the_first_chunk_only(void)
{
	struct tw_segment seg;

	rec4(TW_EV_DATA, 20000, 4096, 4096, TW_EVF_FLOW_START);
	CHECK_INT(live_record_decode(buf, sizeof(buf), 0, &seg, NULL), 0);
	CHECK(!seg.flow_start);
	rec4(TW_EV_DATA, 20000, 0, 4096, 0);
	CHECK_INT(live_record_decode(buf, sizeof(buf), 0, &seg, NULL), 0);
	CHECK(!seg.flow_start);
}

static void test_middle_chunk_advances_seq_and_stands_for_itself(void)
{
	struct tw_segment seg;

	rec4(TW_EV_DATA, 20000, 4096, 4096, 0);
	CHECK_INT(live_record_decode(buf, sizeof(buf), 0, &seg, NULL), 0);
	CHECK_INT(seg.seq, 5000 + 4096);
	CHECK_INT(seg.len, 4096);
	CHECK_INT(seg.wire_len, 4096);
	CHECK(!seg.truncated);
}

static void test_truncated_last_chunk_stands_for_rest_of_packet(void)
{
	struct tw_segment seg;
	struct live_meta meta;

	rec4(TW_EV_DATA, 20000, 8192, 729, TW_EVF_TRUNCATED | TW_EVF_BUDGET);
	CHECK_INT(live_record_decode(buf, sizeof(buf), 0, &seg, &meta), 0);
	CHECK_INT(seg.seq, 5000 + 8192);
	CHECK_INT(seg.len, 729);
	CHECK_INT(seg.wire_len, 20000 - 8192);
	CHECK(seg.truncated);
	CHECK(meta.budget);
}

static void test_seq_wraps_around(void)
{
	struct tw_segment seg;

	rec4(TW_EV_DATA, 8192, 4096, 4096, 0)->seq = 0xFFFFF000u;
	CHECK_INT(live_record_decode(buf, sizeof(buf), 0, &seg, NULL), 0);
	CHECK_INT(seg.seq, 0); /* 0xFFFFF000 + 4096, modulo 2^32 */
}

static void test_close_record_is_an_empty_segment_at_the_fin(void)
{
	struct tw_segment seg;

	rec4(TW_EV_CLOSE, 7, 7, 0, 0)->tcp_flags = TW_TCP_FIN | TW_TCP_ACK;
	CHECK_INT(live_record_decode(buf, REC_EMPTY, 0, &seg, NULL), 0);
	CHECK_INT(seg.seq, 5007);
	CHECK_INT(seg.tcp_flags, TW_TCP_FIN | TW_TCP_ACK);
	CHECK_INT(seg.len, 0);
	CHECK_INT(seg.wire_len, 0);
	CHECK(!seg.truncated);
}

static void test_gap_record_is_a_truncated_empty_segment(void)
{
	struct tw_segment seg;

	rec4(TW_EV_GAP, 100, 0, 0, TW_EVF_TRUNCATED | TW_EVF_BUDGET);
	CHECK_INT(live_record_decode(buf, REC_EMPTY, 0, &seg, NULL), 0);
	CHECK_INT(seg.seq, 5000);
	CHECK_INT(seg.len, 0);
	CHECK_INT(seg.wire_len, 100);
	CHECK(seg.truncated);
}

/* IPv6 addresses are in the record's tail; the header's IPv4 fields
 * (192.0.2.1, 192.0.2.10 here) are not looked at. */
static void test_ipv6_addresses_come_whole_from_the_tail(void)
{
	struct tw_segment seg;
	char a[TW_ADDR_STRLEN];
	struct tw_event *e = rec4(TW_EV_DATA, 10, 0, 10, 0);

	e->family = 6;
	inet_pton(AF_INET6, "2001:db8::1", tail_of(REC_SMALL)->saddr6);
	inet_pton(AF_INET6, "2001:db8::10", tail_of(REC_SMALL)->daddr6);
	CHECK_INT(live_record_decode(buf, REC_SMALL, 0, &seg, NULL), 0);
	CHECK_STR(tw_addr_format(&seg.src.addr, a), "2001:db8::1");
	CHECK_STR(tw_addr_format(&seg.dst.addr, a), "2001:db8::10");
}

static void test_timestamp_out_of_range_saturates(void)
{
	struct tw_segment seg;

	rec4(TW_EV_DATA, 10, 0, 10, 0)->ts_ns = UINT64_MAX - 5;
	CHECK_INT(live_record_decode(buf, sizeof(buf), 1000, &seg, NULL), 0);
	CHECK(seg.ts_us == UINT64_MAX / 1000);
	rec4(TW_EV_DATA, 10, 0, 10, 0)->ts_ns = 5;
	CHECK_INT(live_record_decode(buf, sizeof(buf), -1000, &seg, NULL), 0);
	CHECK_INT(seg.ts_us, 0);
}

static void test_inconsistent_records_are_refused(void)
{
	struct tw_segment seg;

	rec4(TW_EV_CLOSE, 7, 7, 0, 0);    /* no room for the tail */
	CHECK_INT(live_record_decode(buf, REC_EMPTY - 1, 0, &seg, NULL), -EINVAL);
	CHECK_INT(live_record_decode(buf, sizeof(struct tw_event), 0, &seg, NULL), -EINVAL);
	rec4(TW_EV_DATA, 600, 0, 600, 0); /* more than the record holds */
	CHECK_INT(live_record_decode(buf, REC_SMALL, 0, &seg, NULL), -EINVAL);
	rec4(TW_EV_DATA, 600, 0, 513, 0); /* the payload's room, then the tail */
	CHECK_INT(live_record_decode(buf, REC_SMALL, 0, &seg, NULL), -EINVAL);
	rec4(TW_EV_DATA, 600, 0, 512, 0);
	CHECK_INT(live_record_decode(buf, REC_SMALL, 0, &seg, NULL), 0);
	rec4(TW_EV_DATA, 100, 50, 60, 0); /* past the packet's end */
	CHECK_INT(live_record_decode(buf, sizeof(buf), 0, &seg, NULL), -EINVAL);
	rec4(TW_EV_DATA, 100, 0, 0, 0);   /* data record without data */
	CHECK_INT(live_record_decode(buf, sizeof(buf), 0, &seg, NULL), -EINVAL);
	rec4(TW_EV_CLOSE, 100, 100, 5, 0); /* close record with data */
	CHECK_INT(live_record_decode(buf, sizeof(buf), 0, &seg, NULL), -EINVAL);
	rec4(9, 100, 0, 10, 0);           /* unknown kind */
	CHECK_INT(live_record_decode(buf, sizeof(buf), 0, &seg, NULL), -EINVAL);
	rec4(TW_EV_DATA, 100, 0, 10, 0)->family = 5;
	CHECK_INT(live_record_decode(buf, sizeof(buf), 0, &seg, NULL), -EINVAL);
}

static void test_tunnel_facts_reach_the_segment(void)
{
	struct tw_event *e = rec4(TW_EV_DATA, 10, 0, 10, 0);
	struct tw_event_tail *t = tail_of(REC_SMALL);
	struct tw_segment seg;
	char a[TW_ADDR_STRLEN];

	CHECK_INT(live_record_decode(buf, REC_SMALL, 0, &seg, NULL), 0);
	CHECK_INT(seg.tunnel.type, TW_TUN_NONE);  /* a plain packet */

	t->tun.type = TW_TUN_GENEVE;
	t->tun.family = 6;
	t->tun.depth = 2;
	t->tun.flags = TW_TUNF_ID;
	t->tun.id = 77;
	inet_pton(AF_INET6, "2001:db8::a", t->tun.saddr);
	inet_pton(AF_INET6, "2001:db8::b", t->tun.daddr);
	/* without the flag the tail's bytes are an older record's */
	CHECK_INT(live_record_decode(buf, REC_SMALL, 0, &seg, NULL), 0);
	CHECK_INT(seg.tunnel.type, TW_TUN_NONE);
	e->flags |= TW_EVF_TUNNEL;
	CHECK_INT(live_record_decode(buf, REC_SMALL, 0, &seg, NULL), 0);
	CHECK_INT(seg.tunnel.type, TW_TUN_GENEVE);
	CHECK_INT(seg.tunnel.depth, 2);
	CHECK_INT(seg.tunnel.has_id, 1);
	CHECK_INT(seg.tunnel.id, 77);
	CHECK_STR(tw_addr_format(&seg.tunnel.src, a), "2001:db8::a");
	CHECK_STR(tw_addr_format(&seg.tunnel.dst, a), "2001:db8::b");
	/* the inner addresses stay the header's */
	CHECK_STR(tw_addr_format(&seg.src.addr, a), "192.0.2.1");

	/* a type or family the kernel cannot write: no tunnel, not a guess */
	t->tun.type = TW_TUN__COUNT;
	CHECK_INT(live_record_decode(buf, REC_SMALL, 0, &seg, NULL), 0);
	CHECK_INT(seg.tunnel.type, TW_TUN_NONE);
	t->tun.type = TW_TUN_GRE;
	t->tun.family = 5;
	CHECK_INT(live_record_decode(buf, REC_SMALL, 0, &seg, NULL), 0);
	CHECK_INT(seg.tunnel.type, TW_TUN_NONE);
}

static void endpoint(struct tw_endpoint *ep, int family, const char *ip,
		     uint16_t port)
{
	memset(ep, 0, sizeof(*ep));
	ep->addr.family = (uint8_t)family;
	inet_pton(family == 4 ? AF_INET : AF_INET6, ip, ep->addr.bytes);
	ep->port = port;
}

static void test_flow_key_is_the_same_from_both_sides(void)
{
	struct tw_endpoint c, s;
	struct tw_flow_key k1, k2;

	endpoint(&c, 4, "192.0.2.10", 40000);
	endpoint(&s, 4, "192.0.2.1", 443);
	CHECK_INT(live_flow_key(&c, &s, &k1), 1);    /* the client's index */
	CHECK_INT(live_flow_key(&s, &c, &k2), 0);
	CHECK(memcmp(&k1, &k2, sizeof(k1)) == 0);
	CHECK_INT(k1.family, 4);
	/* lower address first: 192.0.2.1 (as stored, word-compared) */
	CHECK_INT(k1.port[0], 443);
	CHECK_INT(k1.port[1], 40000);
	CHECK_INT(k1.addr[0][1], 0);
}

static void test_flow_key_same_address_orders_by_port(void)
{
	struct tw_endpoint a, b;
	struct tw_flow_key k;

	endpoint(&a, 6, "::1", 50000);
	endpoint(&b, 6, "::1", 443);
	CHECK_INT(live_flow_key(&a, &b, &k), 1);
	CHECK_INT(k.port[0], 443);
	CHECK_INT(k.port[1], 50000);
}

static void test_flow_key_refuses_mixed_families(void)
{
	struct tw_endpoint a, b;
	struct tw_flow_key k;

	endpoint(&a, 4, "192.0.2.1", 443);
	endpoint(&b, 6, "2001:db8::1", 40000);
	CHECK_INT(live_flow_key(&a, &b, &k), -EINVAL);
}

/* A reload's list replaces the table: a port it does not name is none. */
static void test_udp_encap_table_is_replaced(void)
{
	static uint8_t table[65536];
	struct tw_udp_encap u = tw_udp_encap_default;
	int port, set = 0;

	live_set_udp_encap(table, &u);
	CHECK_INT(table[4789], TW_TUN_VXLAN);
	CHECK_INT(table[6081], TW_TUN_GENEVE);
	u.n = 1;
	u.e[0].port = 7777;
	u.e[0].type = TW_TUN_FOU;
	live_set_udp_encap(table, &u);
	for (port = 0; port < 65536; port++)
		set += table[port] != TW_TUN_NONE;
	CHECK_INT(set, 1);
	CHECK_INT(table[7777], TW_TUN_FOU);
}

/* A reload's ports replace the bitmap: a port it does not name is not
 * watched; one word (ports 0-63) holds two of them. */
static void test_watched_ports_bitmap_is_replaced(void)
{
	static __u64 bitmap[65536 / 64];
	static const uint16_t first[] = { 443, 8443 }, then[] = { 25, 60, 465, 8443 };
	int w, words = 0;

	live_set_watched_ports(bitmap, first, 2);
	CHECK(bitmap[443 / 64] == 1ULL << (443 % 64));
	CHECK(bitmap[8443 / 64] == 1ULL << (8443 % 64));
	live_set_watched_ports(bitmap, then, 4);
	for (w = 0; w < 65536 / 64; w++)
		words += bitmap[w] != 0;
	CHECK_INT(words, 3);
	CHECK(bitmap[0] == (1ULL << 25 | 1ULL << 60));
	CHECK(bitmap[465 / 64] == 1ULL << (465 % 64));
	CHECK(bitmap[443 / 64] == 0);
	CHECK(bitmap[8443 / 64] == 1ULL << (8443 % 64));
}

int main(void)
{
	RUN_TEST(test_udp_encap_table_is_replaced);
	RUN_TEST(test_watched_ports_bitmap_is_replaced);
	RUN_TEST(test_data_record_maps_every_field);
	RUN_TEST(test_flow_start_reaches_the_segment_on_the_first_chunk_only);
	RUN_TEST(test_middle_chunk_advances_seq_and_stands_for_itself);
	RUN_TEST(test_truncated_last_chunk_stands_for_rest_of_packet);
	RUN_TEST(test_seq_wraps_around);
	RUN_TEST(test_close_record_is_an_empty_segment_at_the_fin);
	RUN_TEST(test_gap_record_is_a_truncated_empty_segment);
	RUN_TEST(test_ipv6_addresses_come_whole_from_the_tail);
	RUN_TEST(test_timestamp_out_of_range_saturates);
	RUN_TEST(test_inconsistent_records_are_refused);
	RUN_TEST(test_tunnel_facts_reach_the_segment);
	RUN_TEST(test_flow_key_is_the_same_from_both_sides);
	RUN_TEST(test_flow_key_same_address_orders_by_port);
	RUN_TEST(test_flow_key_refuses_mixed_families);
	return CHECK_EXIT_CODE();
}
