// SPDX-License-Identifier: MIT
/*
 * Flow table and TCP reassembly. Every callback is written into a text log
 * ("d0'abc'" data of direction 0, "g1" gap of direction 1, "end:fin"), so a
 * test states the exact sequence of bytes and events it expects.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "flow/flow.h"
#include "tlswatch/event.h"

#define S(x) ((uint64_t)(x) * 1000000ull)

/* Client 10.0.0.1:<port>, server 10.0.0.2:443. */
#define CLIENT_PORT 40000

struct rec {
	char log[4096];
	size_t len;
	bool tag;                  /* prefix events with ep[0]'s port */
	bool times;                /* gaps and ends with their time ("g1@3000000") */
	bool done_on_data;         /* flow_mark_done() in the first data callback */
	bool ignore_on_data;       /* flow_mark_ignored() in the first data callback */
	struct flow_table *t;
	const uint8_t *last_p;     /* last pointer handed to the data callback */
	int data_calls;
	int last_client;           /* f->client in the last data callback */
	bool sender_is_client;     /* flow_set_client(sender) in the first data callback */
};

static void rec_printf(struct rec *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void rec_printf(struct rec *r, const char *fmt, ...)
{
	va_list ap;

	if (r->len >= sizeof(r->log))
		return;
	va_start(ap, fmt);
	int n = vsnprintf(r->log + r->len, sizeof(r->log) - r->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		r->len += (size_t)n;
	if (r->len > sizeof(r->log))
		r->len = sizeof(r->log);
}

static void rec_tag(struct rec *r, struct flow *f)
{
	if (r->tag)
		rec_printf(r, "p%u:", f->ep[0].port);
}

/* Ends an event's text: its time when the test asks for times. */
static void rec_time(struct rec *r, uint64_t ts_us)
{
	if (r->times)
		rec_printf(r, "@%llu", (unsigned long long)ts_us);
	rec_printf(r, " ");
}

static void on_data(void *ctx, struct flow *f, int from, const uint8_t *p,
		    size_t n, uint64_t ts_us)
{
	struct rec *r = ctx;

	rec_tag(r, f);
	rec_printf(r, "d%d'%.*s' ", from, (int)n, (const char *)p);
	r->last_p = p;
	if (r->sender_is_client && !r->data_calls)
		flow_set_client(f, from);
	r->last_client = f->client;
	r->data_calls++;
	if (r->done_on_data)
		flow_mark_done(r->t, f);
	if (r->ignore_on_data)
		flow_mark_ignored(r->t, f);
}

static void on_gap(void *ctx, struct flow *f, int from, uint64_t ts_us)
{
	struct rec *r = ctx;

	rec_tag(r, f);
	rec_printf(r, "g%d", from);
	rec_time(r, ts_us);
}

static const char *const end_names[] = {
	[FLOW_END_FIN] = "fin",
	[FLOW_END_RST] = "rst",
	[FLOW_END_IDLE] = "idle",
	[FLOW_END_EVICTED] = "evicted",
	[FLOW_END_CAPTURE_END] = "capture_end",
	[FLOW_END_REOPENED] = "reopened",
	[FLOW_END_RESTARTED] = "restarted",
};

static void on_end(void *ctx, struct flow *f, enum flow_end_reason why,
		   uint64_t ts_us)
{
	struct rec *r = ctx;

	rec_tag(r, f);
	rec_printf(r, "end:%s", end_names[why]);
	rec_time(r, ts_us);
}

static void on_half_close(void *ctx, struct flow *f, int from, uint64_t ts_us)
{
	struct rec *r = ctx;

	rec_tag(r, f);
	rec_printf(r, "h%d ", from);
}

static const struct flow_callbacks rec_cb = {
	.data = on_data, .gap = on_gap, .end = on_end,
};

/* The same, half-closes too ("h1": direction 1 is half-closed). */
static const struct flow_callbacks rec_half_close_cb = {
	.data = on_data, .gap = on_gap, .half_close = on_half_close,
	.end = on_end,
};

static struct flow_table *table_new_with(struct rec *r,
					 const struct flow_limits *lim,
					 const struct flow_callbacks *cb)
{
	memset(r, 0, sizeof(*r));
	r->t = flow_table_new(lim, cb, r);
	return r->t;
}

static struct flow_table *table_new(struct rec *r, const struct flow_limits *lim)
{
	return table_new_with(r, lim, &rec_cb);
}

static struct tw_endpoint ep4(uint8_t host, uint16_t port)
{
	struct tw_endpoint e = { .addr = { .family = 4 }, .port = port };

	e.addr.bytes[0] = 10;
	e.addr.bytes[3] = host;
	return e;
}

/* One segment of the connection from client port @cport; @dir 0 goes
 * client -> server, 1 server -> client. */
static struct tw_segment seg_of(uint16_t cport, int dir, uint32_t seq,
				uint8_t flags, const char *data, uint64_t ts_us)
{
	struct tw_endpoint c = ep4(1, cport), s = ep4(2, 443);
	uint32_t n = data ? (uint32_t)strlen(data) : 0;
	struct tw_segment seg = {
		.ts_us = ts_us,
		.src = dir ? s : c,
		.dst = dir ? c : s,
		.seq = seq,
		.tcp_flags = flags,
		.wire_len = n,
		.payload = (const uint8_t *)data,
		.len = n,
	};

	return seg;
}

static void send_port(struct flow_table *t, uint16_t cport, int dir, uint32_t seq,
		      uint8_t flags, const char *data, uint64_t ts_us)
{
	struct tw_segment seg = seg_of(cport, dir, seq, flags, data, ts_us);

	flow_table_push(t, &seg);
}

static void send_seg(struct flow_table *t, int dir, uint32_t seq, uint8_t flags,
		     const char *data)
{
	send_port(t, CLIENT_PORT, dir, seq, flags, data, S(1));
}

#define ACK TW_TCP_ACK
#define SYN TW_TCP_SYN
#define FIN TW_TCP_FIN
#define RST TW_TCP_RST

/* Client ISN 999 (data from 1000), server ISN 4999 (data from 5000). */
static void handshake(struct flow_table *t)
{
	send_seg(t, 0, 999, SYN, NULL);
	send_seg(t, 1, 4999, SYN | ACK, NULL);
	send_seg(t, 0, 1000, ACK, NULL);
}

/* Live (starts_marked): payload of no known flow without the source's
 * start mark is a late record of a flow that ended here: no flow; with
 * the mark, a flow. A capture file marks nothing: a flow starts anywhere. */
static void test_unmarked_segment_of_no_flow_is_late_when_starts_are_marked(void)
{
	struct flow_limits lim = { .starts_marked = true };
	struct tw_segment seg = seg_of(CLIENT_PORT, 1, 5000, ACK, "late", S(1));
	struct flow_table *t;
	struct rec r;

	t = table_new(&r, &lim);
	flow_table_push(t, &seg);
	CHECK_INT(flow_table_stats(t)->flows_created, 0);
	CHECK_INT(flow_table_stats(t)->segments_late, 1);
	seg.flow_start = true;
	flow_table_push(t, &seg);
	CHECK_INT(flow_table_stats(t)->flows_created, 1);
	flow_table_free(t);

	t = table_new(&r, NULL);
	seg.flow_start = false;
	flow_table_push(t, &seg);
	CHECK_INT(flow_table_stats(t)->flows_created, 1);
	CHECK_INT(flow_table_stats(t)->segments_late, 0);
	flow_table_free(t);
}

static void test_in_order_delivery(void)
{
	struct rec r;
	struct flow_table *t = table_new(&r, NULL);
	static const char hello[] = "hello ";

	handshake(t);
	send_seg(t, 0, 1000, ACK, hello);
	CHECK(r.last_p == (const uint8_t *)hello); /* no copy when in order */
	send_seg(t, 0, 1006, ACK, "world");
	CHECK_STR(r.log, "d0'hello ' d0'world' ");
	const struct flow_stats *st = flow_table_stats(t);
	CHECK_INT(st->segments, 5);
	CHECK_INT(st->flows_created, 1);
	CHECK_INT(st->flows_active, 1);
	CHECK_INT(st->retransmitted_bytes, 0);
	CHECK_INT(st->overlap_bytes, 0);
	CHECK_INT(st->ooo_bytes_peak, 0);
	flow_table_free(t);
	CHECK_STR(r.log, "d0'hello ' d0'world' end:capture_end ");
}

static struct flow *captured_flow;
static void capture_flow(void *ctx, struct flow *f, int from, const uint8_t *p,
			 size_t n, uint64_t ts_us)
{
	captured_flow = f;
	on_data(ctx, f, from, p, n, ts_us);
}

static void test_state_new_becomes_tracked_on_first_data(void)
{
	struct rec r;
	struct flow_callbacks cb = rec_cb;

	memset(&r, 0, sizeof(r));
	cb.data = capture_flow;
	r.t = flow_table_new(NULL, &cb, &r);
	struct flow_table *t = r.t;
	captured_flow = NULL;
	handshake(t);
	send_seg(t, 0, 1002, ACK, "cd"); /* held: no delivery yet */
	CHECK(captured_flow == NULL);
	send_seg(t, 0, 1000, ACK, "ab");
	CHECK(captured_flow != NULL);
	if (captured_flow) {
		CHECK_INT(captured_flow->state, FLOW_TRACKED);
		CHECK_INT(captured_flow->first_ts_us, S(1));
	}
	CHECK_STR(r.log, "d0'ab' d0'cd' ");
	flow_table_free(t);
}

/* The inner connection is the flow, however its packets travel: the
 * first tunnel seen is kept with its sender, each direction that came
 * through one is marked. */
static void test_tunnel_first_seen_kept_directions_marked(void)
{
	struct tw_tunnel vx = { .type = TW_TUN_VXLAN, .depth = 1, .has_id = true,
				.id = 7, .src = { 4, { 192, 0, 2, 2 } },
				.dst = { 4, { 192, 0, 2, 1 } } };
	struct tw_tunnel gre = { .type = TW_TUN_GRE, .depth = 1,
				 .src = { 4, { 198, 51, 100, 1 } },
				 .dst = { 4, { 198, 51, 100, 2 } } };
	struct flow_callbacks cb = rec_cb;
	struct tw_segment seg;
	struct rec r;

	memset(&r, 0, sizeof(r));
	cb.data = capture_flow;
	r.t = flow_table_new(NULL, &cb, &r);
	captured_flow = NULL;
	handshake(r.t);                  /* plain: ep[0] is the client */
	seg = seg_of(CLIENT_PORT, 1, 5000, ACK, "ab", S(1));
	seg.tunnel = vx;                 /* the server's reply, tunnelled */
	flow_table_push(r.t, &seg);
	seg = seg_of(CLIENT_PORT, 0, 1000, ACK, "cd", S(1));
	seg.tunnel = gre;                /* then the client's, another way */
	flow_table_push(r.t, &seg);
	CHECK(captured_flow != NULL);
	if (captured_flow) {
		CHECK_INT(captured_flow->tunnel.type, TW_TUN_VXLAN);
		CHECK_INT(captured_flow->tunnel.id, 7);
		CHECK_INT(captured_flow->tunnel_from, 1);
		CHECK_INT(captured_flow->tunnel.dirs, 3);
		CHECK(memcmp(&captured_flow->tunnel.src, &vx.src, sizeof(vx.src)) == 0);
	}
	CHECK_INT(flow_table_stats(r.t)->flows_created, 1);
	CHECK_STR(r.log, "d1'ab' d0'cd' ");
	flow_table_free(r.t);
}

static void test_reversed_five_segments(void)
{
	struct rec r;
	struct flow_table *t = table_new(&r, NULL);

	handshake(t);
	send_seg(t, 0, 1008, ACK, "55");
	send_seg(t, 0, 1006, ACK, "44");
	send_seg(t, 0, 1004, ACK, "33");
	send_seg(t, 0, 1002, ACK, "22");
	CHECK_STR(r.log, "");
	CHECK_INT(flow_table_stats(t)->ooo_bytes_held, 8);
	send_seg(t, 0, 1000, ACK, "11");
	CHECK_STR(r.log, "d0'11' d0'22' d0'33' d0'44' d0'55' ");
	CHECK_INT(flow_table_stats(t)->ooo_bytes_held, 0);
	CHECK_INT(flow_table_stats(t)->ooo_bytes_peak, 8);
	CHECK_INT(flow_table_stats(t)->gaps, 0);
	flow_table_free(t);
}

static void test_duplicated_segments(void)
{
	struct rec r;
	struct flow_table *t = table_new(&r, NULL);

	handshake(t);
	send_seg(t, 0, 1003, ACK, "def");
	send_seg(t, 0, 1003, ACK, "def"); /* duplicate of held data */
	send_seg(t, 0, 1000, ACK, "abc");
	send_seg(t, 0, 1000, ACK, "abc"); /* duplicate of delivered data */
	send_seg(t, 0, 1006, ACK, "ghi");
	send_seg(t, 0, 1006, ACK, "ghi");
	CHECK_STR(r.log, "d0'abc' d0'def' d0'ghi' ");
	CHECK_INT(flow_table_stats(t)->overlap_bytes, 3);
	CHECK_INT(flow_table_stats(t)->retransmitted_bytes, 6);
	flow_table_free(t);
}

static void test_retransmission_of_delivered_data(void)
{
	struct rec r;
	struct flow_table *t = table_new(&r, NULL);

	handshake(t);
	send_seg(t, 0, 1000, ACK, "abcdef");
	send_seg(t, 0, 1000, ACK, "abc");
	send_seg(t, 0, 1002, ACK, "cdef");
	CHECK_STR(r.log, "d0'abcdef' ");
	CHECK_INT(flow_table_stats(t)->retransmitted_bytes, 7);
	CHECK_INT(r.data_calls, 1);
	flow_table_free(t);
}

static void test_partial_overlap_at_front_delivers_new_bytes(void)
{
	struct rec r;
	struct flow_table *t = table_new(&r, NULL);

	handshake(t);
	send_seg(t, 0, 1000, ACK, "abcdef");
	send_seg(t, 0, 1003, ACK, "XYZghi"); /* "def" again, differently */
	CHECK_STR(r.log, "d0'abcdef' d0'ghi' ");
	CHECK_INT(flow_table_stats(t)->retransmitted_bytes, 3);
	flow_table_free(t);
}

static void test_partial_overlap_at_back_keeps_held_copy(void)
{
	struct rec r;
	struct flow_table *t = table_new(&r, NULL);

	handshake(t);
	send_seg(t, 0, 1006, ACK, "ghij");
	send_seg(t, 0, 1000, ACK, "abcdefgX"); /* ends inside the held piece */
	CHECK_STR(r.log, "d0'abcdef' d0'ghij' ");
	CHECK_INT(flow_table_stats(t)->overlap_bytes, 2);
	CHECK_INT(flow_table_stats(t)->retransmitted_bytes, 0);
	flow_table_free(t);
}

static void test_held_overlap_at_front_of_held_piece_is_trimmed(void)
{
	struct rec r;
	struct flow_table *t = table_new(&r, NULL);

	handshake(t);
	send_seg(t, 0, 1004, ACK, "efgh");
	send_seg(t, 0, 1002, ACK, "cdEF"); /* only "cd" is new */
	CHECK_INT(flow_table_stats(t)->ooo_bytes_held, 6);
	send_seg(t, 0, 1000, ACK, "ab");
	CHECK_STR(r.log, "d0'ab' d0'cd' d0'efgh' ");
	CHECK_INT(flow_table_stats(t)->overlap_bytes, 2);
	flow_table_free(t);
}

static void test_held_segment_covering_two_held_ones(void)
{
	struct rec r;
	struct flow_table *t = table_new(&r, NULL);

	handshake(t);
	send_seg(t, 0, 1002, ACK, "cc");
	send_seg(t, 0, 1006, ACK, "ee");
	send_seg(t, 0, 1001, ACK, "123456789"); /* 1001..1009 */
	CHECK_INT(flow_table_stats(t)->ooo_bytes_held, 9);
	CHECK_INT(flow_table_stats(t)->overlap_bytes, 4);
	send_seg(t, 0, 1000, ACK, "a");
	CHECK_STR(r.log, "d0'a' d0'1' d0'cc' d0'45' d0'ee' d0'89' ");
	flow_table_free(t);
}

static void test_in_order_segment_covering_two_held_ones(void)
{
	struct rec r;
	struct flow_table *t = table_new(&r, NULL);

	handshake(t);
	send_seg(t, 0, 1002, ACK, "CD");
	send_seg(t, 0, 1006, ACK, "GH");
	send_seg(t, 0, 1000, ACK, "abcdefghij");
	CHECK_STR(r.log, "d0'ab' d0'CD' d0'ef' d0'GH' d0'ij' ");
	CHECK_INT(flow_table_stats(t)->overlap_bytes, 4);
	CHECK_INT(flow_table_stats(t)->ooo_bytes_held, 0);
	flow_table_free(t);
}

static void test_missing_segment_then_capture_end(void)
{
	struct rec r;
	struct flow_table *t = table_new(&r, NULL);

	handshake(t);
	send_seg(t, 0, 1000, ACK, "abc");
	send_seg(t, 0, 1006, ACK, "ghi"); /* 1003..1005 never come */
	flow_table_flush(t, S(2));
	CHECK_STR(r.log, "d0'abc' g0 end:capture_end ");
	CHECK_INT(flow_table_stats(t)->gaps, 1);
	CHECK_INT(flow_table_stats(t)->ooo_bytes_dropped, 3);
	CHECK_INT(flow_table_stats(t)->ooo_bytes_held, 0);
	CHECK_INT(flow_table_stats(t)->flows_active, 0);
	/* The table stays usable after a flush. */
	send_seg(t, 0, 1000, ACK, "new");
	CHECK_INT(flow_table_stats(t)->flows_active, 1);
	CHECK_INT(flow_table_stats(t)->flows_created, 2);
	flow_table_free(t);
	CHECK_STR(r.log, "d0'abc' g0 end:capture_end d0'new' end:capture_end ");
}

static void test_per_direction_cap_gives_up_once(void)
{
	struct rec r;
	/* Room for two held 10-byte pieces, not three. */
	struct flow_limits lim = {
		.max_ooo_bytes_per_dir = 2 * (10 + FLOW_OOO_SEG_OVERHEAD),
	};
	struct flow_table *t = table_new(&r, &lim);

	handshake(t);
	send_seg(t, 0, 1000, ACK, "start");
	send_seg(t, 0, 1010, ACK, "0123456789");
	send_seg(t, 0, 1030, ACK, "0123456789");
	CHECK_STR(r.log, "d0'start' ");
	send_seg(t, 0, 1050, ACK, "0123456789");
	CHECK_STR(r.log, "d0'start' g0 ");
	send_seg(t, 0, 1005, ACK, "fill5fill5");
	send_seg(t, 0, 1070, ACK, "more");
	send_seg(t, 1, 5000, ACK, "other side still works");
	flow_table_flush(t, S(2));
	CHECK_STR(r.log, "d0'start' g0 d1'other side still works' end:capture_end ");
	const struct flow_stats *st = flow_table_stats(t);
	CHECK_INT(st->gaps, 1);
	CHECK_INT(st->ooo_bytes_dropped, 30);
	CHECK_INT(st->ooo_bytes_held, 0);
	CHECK_INT(st->ooo_bytes_peak, 20);
	flow_table_free(t);
}

static void test_global_cap_evicts_least_recent_holder(void)
{
	struct rec r;
	/* Two held 10-byte pieces fit in all, three do not. */
	struct flow_limits lim = {
		.max_ooo_bytes_total = 2 * (10 + FLOW_OOO_SEG_OVERHEAD),
	};
	struct flow_table *t = table_new(&r, &lim);

	r.tag = true;
	send_port(t, 1, 0, 100, ACK, "x", S(1));             /* holds nothing */
	send_port(t, 2, 0, 100, ACK, "x", S(1));
	send_port(t, 2, 0, 111, ACK, "0123456789", S(1));    /* holds 10 */
	send_port(t, 3, 0, 100, ACK, "x", S(1));
	send_port(t, 3, 0, 111, ACK, "0123456789", S(1));    /* holds 10 */
	send_port(t, 2, 1, 500, ACK, NULL, S(1));           /* 2 active again */
	send_port(t, 4, 0, 100, ACK, "x", S(1));
	CHECK_STR(r.log, "p1:d0'x' p2:d0'x' p3:d0'x' p4:d0'x' ");
	send_port(t, 4, 0, 111, ACK, "0123456789", S(1));    /* over the cap */
	CHECK_STR(r.log, "p1:d0'x' p2:d0'x' p3:d0'x' p4:d0'x' p3:g0 p3:end:evicted ");
	const struct flow_stats *st = flow_table_stats(t);
	CHECK_INT(st->flows_evicted, 1);
	CHECK_INT(st->flows_active, 3);
	CHECK_INT(st->ooo_bytes_held, 20);
	CHECK_INT(st->ooo_bytes_dropped, 10);
	CHECK_INT(st->ooo_bytes_peak, 30);
	flow_table_free(t);
}

static struct flow *flows_by_port[8];
static void remember_flow(void *ctx, struct flow *f, int from, const uint8_t *p,
			  size_t n, uint64_t ts_us)
{
	if (f->ep[0].port < 8)
		flows_by_port[f->ep[0].port] = f;
	on_data(ctx, f, from, p, n, ts_us);
}

static void test_global_cap_evicts_holders_in_activity_order(void)
{
	struct rec r;
	struct flow_callbacks cb = rec_cb;
	/* Three held 10-byte pieces fit in all, four do not. */
	struct flow_limits lim = {
		.max_ooo_bytes_total = 3 * (10 + FLOW_OOO_SEG_OVERHEAD),
	};

	memset(&r, 0, sizeof(r));
	memset(flows_by_port, 0, sizeof(flows_by_port));
	cb.data = remember_flow;
	r.t = flow_table_new(&lim, &cb, &r);
	r.tag = true;
	for (uint16_t port = 1; port <= 3; port++) {
		send_port(r.t, port, 0, 100, ACK, "x", S(1));
		send_port(r.t, port, 0, 111, ACK, "0123456789", S(1));
	}
	CHECK(flows_by_port[2] != NULL);
	if (flows_by_port[2])
		flow_mark_done(r.t, flows_by_port[2]); /* leaves the middle */
	CHECK_INT(flow_table_stats(r.t)->ooo_bytes_held, 20);
	for (uint16_t port = 4; port <= 6; port++) {
		send_port(r.t, port, 0, 100, ACK, "x", S(1));
		send_port(r.t, port, 0, 111, ACK, "0123456789", S(1));
	}
	CHECK_STR(r.log, "p1:d0'x' p2:d0'x' p3:d0'x' p4:d0'x' p5:d0'x' "
			 "p1:g0 p1:end:evicted p6:d0'x' p3:g0 p3:end:evicted ");
	CHECK_INT(flow_table_stats(r.t)->flows_evicted, 2);
	CHECK_INT(flow_table_stats(r.t)->ooo_bytes_held, 30);
	flow_table_flush(r.t, S(2));
	CHECK_STR(r.log, "p1:d0'x' p2:d0'x' p3:d0'x' p4:d0'x' p5:d0'x' "
			 "p1:g0 p1:end:evicted p6:d0'x' p3:g0 p3:end:evicted "
			 "p2:end:capture_end p4:g0 p4:end:capture_end "
			 "p5:g0 p5:end:capture_end p6:g0 p6:end:capture_end ");
	flow_table_free(r.t);
}

static void test_syn_payload_starts_after_isn(void)
{
	struct rec r;
	struct flow_table *t = table_new(&r, NULL);

	send_seg(t, 0, 999, SYN, "early"); /* TCP Fast Open: data at 1000 */
	send_seg(t, 0, 1005, ACK, "next");
	CHECK_STR(r.log, "d0'early' d0'next' ");
	flow_table_free(t);
}

/* The consumer names the client from the payload (the side that sent the
 * ClientHello, not the SYN's: an FTPS data connection in active mode): a
 * SYN-ACK seen again afterwards does not name the other side again. */
static void test_syn_ack_after_payload_keeps_the_client_the_consumer_named(void)
{
	struct rec r;
	struct flow_table *t = table_new(&r, NULL);

	r.sender_is_client = true;
	handshake(t);                            /* the SYN: ep[0] */
	send_seg(t, 1, 5000, ACK, "hello");      /* the hello: ep[1] */
	CHECK_INT(r.last_client, 1);
	send_seg(t, 1, 4999, SYN | ACK, NULL);   /* ep[1]'s SYN-ACK again */
	send_seg(t, 0, 1000, ACK, "answer");
	CHECK_INT(r.last_client, 1);
	CHECK_STR(r.log, "d1'hello' d0'answer' ");
	flow_table_free(t);
}

static void test_syn_with_new_isn_replaces_the_flow(void)
{
	struct rec r;
	struct flow_table *t = table_new(&r, NULL);

	handshake(t);
	send_seg(t, 0, 1000, ACK, "old");
	send_seg(t, 0, 999, SYN, NULL); /* a retransmitted SYN: same flow */
	CHECK_STR(r.log, "d0'old' ");
	send_seg(t, 0, 77776, SYN, NULL); /* FIN was missed; port reused */
	CHECK_STR(r.log, "d0'old' end:reopened ");
	send_seg(t, 0, 77777, ACK, "new");
	CHECK_STR(r.log, "d0'old' end:reopened d0'new' ");
	const struct flow_stats *st = flow_table_stats(t);
	CHECK_INT(st->flows_created, 2);
	CHECK_INT(st->flows_reopened, 1);
	CHECK_INT(st->flows_evicted, 0);
	CHECK_INT(st->flows_active, 1);
	flow_table_free(t);
}

/* The capture began after the SYN of a flow that is still undecided: a
 * SYN with another connection's ISN (its first byte far from where the
 * flow's bytes had got) begins a new flow; the flow's own SYN, captured
 * late, does not. */
static void test_syn_far_from_a_flow_begun_without_one_reopens_it(void)
{
	struct rec r;
	struct flow_table *t = table_new(&r, NULL);

	send_seg(t, 0, 1000, ACK, "old");
	send_seg(t, 0, 900000, SYN, NULL);
	CHECK_STR(r.log, "d0'old' end:reopened ");
	send_seg(t, 0, 900001, ACK, "new");
	CHECK_STR(r.log, "d0'old' end:reopened d0'new' ");
	CHECK_INT(flow_table_stats(t)->flows_created, 2);
	CHECK_INT(flow_table_stats(t)->flows_reopened, 1);
	flow_table_free(t);

	t = table_new(&r, NULL);
	send_seg(t, 0, 1000, ACK, "old");
	send_seg(t, 0, 999, SYN, NULL);             /* its own SYN, late */
	send_seg(t, 0, 1003, ACK, "more");
	CHECK_STR(r.log, "d0'old' d0'more' ");
	CHECK_INT(flow_table_stats(t)->flows_created, 1);
	CHECK_INT(flow_table_stats(t)->flows_reopened, 0);
	flow_table_free(t);
}

/* "Far": the first byte outside TW_RST_WINDOW of the next one expected. */
static void test_syn_on_a_flow_begun_without_one_window_edges(void)
{
	static const struct {
		uint32_t syn_seq;
		bool reopens;
	} cases[] = {
		{ 1003 + TW_RST_WINDOW - 1, false },
		{ 1003 + TW_RST_WINDOW, true },
		{ 1003 - TW_RST_WINDOW - 1, false },
		{ 1003 - TW_RST_WINDOW - 2, true },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rec r;
		struct flow_table *t = table_new(&r, NULL);

		send_seg(t, 0, 1000, ACK, "old");   /* next byte: 1003 */
		send_seg(t, 0, cases[i].syn_seq, SYN, NULL);
		CHECK_INT(flow_table_stats(t)->flows_reopened, cases[i].reopens);
		flow_table_free(t);
	}
}

/* One segment from the client at @ts_us, marked as the start of a
 * connection by the source (the live source: the kernel began a new
 * handshake phase). */
static void send_flow_start_at(struct flow_table *t, uint64_t ts_us,
			       uint32_t seq, const char *data)
{
	uint32_t n = (uint32_t)strlen(data);
	struct tw_segment seg = {
		.ts_us = ts_us, .src = ep4(1, CLIENT_PORT), .dst = ep4(2, 443),
		.seq = seq, .tcp_flags = ACK, .flow_start = true, .wire_len = n,
		.payload = (const uint8_t *)data, .len = n,
	};

	flow_table_push(t, &seg);
}

/* The same from the server, acknowledging @ack. */
static void send_server_flow_start_at(struct flow_table *t, uint64_t ts_us,
				      uint32_t seq, uint32_t ack, const char *data)
{
	uint32_t n = (uint32_t)strlen(data);
	struct tw_segment seg = {
		.ts_us = ts_us, .src = ep4(2, 443), .dst = ep4(1, CLIENT_PORT),
		.seq = seq, .ack = ack, .tcp_flags = ACK, .flow_start = true,
		.wire_len = n, .payload = (const uint8_t *)data, .len = n,
	};

	flow_table_push(t, &seg);
}

static void send_flow_start(struct flow_table *t, uint32_t seq, const char *data)
{
	send_flow_start_at(t, S(1), seq, data);
}

/* Live: the kernel stops copying a decided flow, so its FIN never comes; a
 * new connection on the same ports must not be taken for the old one. */
static void test_flow_start_on_done_flow_starts_a_new_flow(void)
{
	struct rec r;
	struct flow_table *t = table_new(&r, NULL);

	r.done_on_data = true;
	send_flow_start(t, 1000, "old");
	send_seg(t, 0, 1003, ACK, "more"); /* done: not delivered */
	CHECK_STR(r.log, "d0'old' ");
	send_flow_start(t, 90000, "new");
	CHECK_STR(r.log, "d0'old' end:reopened d0'new' ");
	CHECK_INT(flow_table_stats(t)->flows_reopened, 1);
	CHECK_INT(flow_table_stats(t)->flows_created, 2);
	flow_table_free(t);
}

/* A flow_start on a flow still being followed changes nothing. */
static void test_flow_start_on_tracked_flow_continues_it(void)
{
	struct rec r;
	struct flow_table *t = table_new(&r, NULL);

	send_flow_start(t, 1000, "abc");
	send_flow_start(t, 1003, "def");
	CHECK_STR(r.log, "d0'abc' d0'def' ");
	CHECK_INT(flow_table_stats(t)->flows_reopened, 0);
	flow_table_free(t);
}

/* Live: the kernel's flow map lost an undecided flow (LRU eviction) and a
 * later packet began a handshake phase again: the old flow ends, counted,
 * and the new start is a flow of its own. */
static void test_flow_start_of_a_later_packet_on_undecided_flow_restarts_it(void)
{
	struct rec r;
	struct flow_table *t = table_new(&r, NULL);

	send_flow_start_at(t, S(1), 1000, "abc");
	send_flow_start_at(t, S(2), 1013, "def");  /* 10 bytes went unseen */
	CHECK_STR(r.log, "d0'abc' end:restarted d0'def' ");
	CHECK_INT(flow_table_stats(t)->flows_restarted, 1);
	CHECK_INT(flow_table_stats(t)->flows_reopened, 0);
	CHECK_INT(flow_table_stats(t)->flows_created, 2);
	flow_table_free(t);
}

/* The restarted flow is the same connection: its client stays the one the
 * old flow knew, whoever sends first now (the server's flight). */
static void test_restarted_flow_keeps_the_client(void)
{
	struct rec r;
	struct flow_table *t = table_new(&r, NULL);

	handshake(t);                       /* the SYN names the client */
	send_flow_start_at(t, S(1), 1000, "abc");
	CHECK_INT(r.last_client, 0);
	/* 1000 server bytes went unseen */
	send_server_flow_start_at(t, S(2), 6000, 1003, "xyz");
	CHECK_STR(r.log, "d0'abc' end:restarted d0'xyz' ");
	CHECK_INT(r.last_client, 1);        /* ep[0] is the server now */
	flow_table_free(t);
}

/* Live: the kernel forgot an undecided flow and its next packet began the
 * handshake phase again, with no byte lost: the flow goes on, counted. */
static void test_flow_start_that_continues_the_bytes_refinds_the_flow(void)
{
	struct rec r;
	struct flow_table *t = table_new(&r, NULL);

	send_flow_start_at(t, S(1), 1000, "abc");
	send_flow_start_at(t, S(2), 1003, "def");
	CHECK_STR(r.log, "d0'abc' d0'def' ");
	CHECK_INT(flow_table_stats(t)->flows_refound, 1);
	CHECK_INT(flow_table_stats(t)->flows_restarted, 0);
	CHECK_INT(flow_table_stats(t)->flows_created, 1);
	flow_table_free(t);
}

/* The same when the server's first bytes are what the source finds again:
 * they acknowledge every byte the client sent. */
static void test_server_flow_start_acking_the_client_refinds_the_flow(void)
{
	struct rec r;
	struct flow_table *t = table_new(&r, NULL);

	send_flow_start_at(t, S(1), 1000, "abc");
	send_server_flow_start_at(t, S(2), 5000, 1003, "xyz");
	CHECK_STR(r.log, "d0'abc' d1'xyz' ");
	CHECK_INT(flow_table_stats(t)->flows_refound, 1);
	flow_table_free(t);
}

/* analyze: a SYN on a decided flow that had no SYN (the capture began
 * mid-flow) starts a new flow. */
static void test_syn_on_done_flow_without_syn_starts_a_new_flow(void)
{
	struct rec r;
	struct flow_table *t = table_new(&r, NULL);

	r.done_on_data = true;
	send_seg(t, 0, 1000, ACK, "old");
	send_seg(t, 0, 5554, SYN, NULL);
	send_seg(t, 0, 5555, ACK, "new");
	CHECK_STR(r.log, "d0'old' end:reopened d0'new' ");
	CHECK_INT(flow_table_stats(t)->flows_reopened, 1);
	flow_table_free(t);
}

/* The new flow is oriented by the SYN's sender, whichever endpoint the
 * old flow had first: its payload (TCP Fast Open) is from endpoint 0. */
static void test_reopened_flow_takes_the_syn_sender_as_first_endpoint(void)
{
	struct rec r;
	struct flow_table *t = table_new(&r, NULL);

	r.done_on_data = true;
	send_seg(t, 1, 5000, ACK, "old");      /* the server spoke first */
	send_seg(t, 0, 7776, SYN, "new");      /* the client's TFO SYN */
	CHECK_STR(r.log, "d0'old' end:reopened d0'new' ");
	flow_table_free(t);
}

/* A segment with an ACK number (the others' is 0). */
static void send_acking(struct flow_table *t, int dir, uint32_t seq,
			uint8_t flags, uint32_t ack, const char *data)
{
	struct tw_segment seg = seg_of(CLIENT_PORT, dir, seq, flags, data, S(1));

	seg.ack = ack;
	flow_table_push(t, &seg);
}

/* The handshake, the client's "hello", the server's "flight", both FINs:
 * the flow ends at the second. */
static void closed_connection(struct flow_table *t)
{
	handshake(t);
	send_seg(t, 0, 1000, ACK, "hello");
	send_seg(t, 1, 5000, ACK, "flight");
	send_seg(t, 0, 1005, FIN | ACK, NULL);
	send_seg(t, 1, 5006, FIN | ACK, NULL);
}

/* Segments of a connection that ended with both FINs, retransmitted after
 * it (late: held up in the network, or another interface's copy), are
 * absorbed: they begin no flow. Before, the client's hello began a flow of
 * its own (an extra handshake, incomplete). A retransmitted SYN-ACK of the
 * old connection is absorbed too; a SYN is a new connection. */
static void test_late_retransmission_after_both_fins_is_absorbed(void)
{
	struct rec r;
	struct flow_table *t = table_new(&r, NULL);

	closed_connection(t);
	CHECK_STR(r.log, "d0'hello' d1'flight' end:fin ");
	send_port(t, CLIENT_PORT, 0, 1000, ACK, "hello", S(1) + 100000);
	send_port(t, CLIENT_PORT, 1, 5000, ACK, "flight", S(1) + 200000);
	send_port(t, CLIENT_PORT, 1, 5002, ACK | FIN, "ight", S(1) + 300000);
	send_port(t, CLIENT_PORT, 1, 4999, SYN | ACK, NULL, S(1) + 400000);
	CHECK_STR(r.log, "d0'hello' d1'flight' end:fin ");
	CHECK_INT(flow_table_stats(t)->flows_created, 1);
	CHECK_INT(flow_table_stats(t)->segments_after_close, 4);
	send_port(t, CLIENT_PORT, 0, 77776, SYN, NULL, S(2));   /* port reused */
	send_port(t, CLIENT_PORT, 0, 77777, ACK, "new", S(2));
	CHECK_STR(r.log, "d0'hello' d1'flight' end:fin d0'new' ");
	CHECK_INT(flow_table_stats(t)->flows_created, 2);
	CHECK_INT(flow_table_stats(t)->flows_reopened, 0);
	/* the old connection is forgotten once a new one took the pair */
	CHECK_INT(flow_table_stats(t)->segments_after_close, 4);
	flow_table_free(t);
}

/* An RST ends a connection as surely: what its peer had in flight comes
 * after it and is absorbed. */
static void test_late_segment_after_an_rst_is_absorbed(void)
{
	struct rec r;
	struct flow_table *t = table_new(&r, NULL);

	handshake(t);
	send_seg(t, 0, 1000, ACK, "hello");
	send_seg(t, 1, 5000, RST, NULL);
	send_seg(t, 0, 1000, ACK, "hello");
	CHECK_STR(r.log, "d0'hello' end:rst ");
	CHECK_INT(flow_table_stats(t)->flows_created, 1);
	CHECK_INT(flow_table_stats(t)->segments_after_close, 1);
	flow_table_free(t);
}

/* Bytes of a closed connection lie after its SYN and before where its
 * sender had got (without a SYN: at most TW_RST_WINDOW before). Others,
 * a SYN-ACK with another ISN (the new connection's SYN not captured) and
 * any SYN, are a new connection on the port pair: a flow of their own. */
static void test_after_close_only_the_old_sequence_space_is_absorbed(void)
{
	static const struct {
		int dir;
		uint32_t seq;
		uint8_t flags;
		int flows;
	} cases[] = {
		{ 0, 1000, ACK, 1 },            /* the client's first byte */
		{ 0, 1006, ACK, 2 },            /* past the client's FIN */
		{ 0, 999, ACK, 2 },             /* its SYN's place */
		{ 0, 900001, ACK, 2 },          /* another connection's */
		{ 1, 5005, ACK, 1 },            /* the server's last byte */
		{ 1, 5007, ACK, 2 },            /* past its FIN */
		{ 1, 699999, SYN | ACK, 2 },    /* a new SYN-ACK */
		{ 1, 4999, SYN | ACK, 1 },      /* the old one, again */
		{ 0, 999, SYN, 2 },             /* a SYN, even with the old ISN */
	};
	struct rec r;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct flow_table *t = table_new(&r, NULL);

		closed_connection(t);
		send_seg(t, cases[i].dir, cases[i].seq, cases[i].flags,
			 cases[i].flags & SYN ? NULL : "x");
		CHECK_INT(flow_table_stats(t)->flows_created, cases[i].flows);
		CHECK_INT(flow_table_stats(t)->segments_after_close,
			  2 - cases[i].flows);
		flow_table_free(t);
	}

	/* begun without a SYN: TW_RST_WINDOW behind where it had got */
	struct flow_table *t = table_new(&r, NULL);
	send_seg(t, 0, 300000, ACK, "hello");
	send_seg(t, 0, 300005, FIN | ACK, NULL);
	send_seg(t, 1, 5000, FIN | ACK, NULL);
	send_seg(t, 0, 300006 - TW_RST_WINDOW, ACK, "x");
	CHECK_INT(flow_table_stats(t)->flows_created, 1);
	send_seg(t, 0, 300005 - TW_RST_WINDOW, ACK, "x");
	CHECK_INT(flow_table_stats(t)->flows_created, 2);
	flow_table_free(t);
}

/* Closed connections are kept FLOW_CLOSED_KEEP_S (60 s) of packet time,
 * and at most FLOW_CLOSED_MAX of them, never more than max_flows: the
 * oldest go first. */
static void test_closed_flows_are_kept_for_a_bounded_time_and_count(void)
{
	struct flow_limits lim = { .max_flows = 3 };
	struct rec r;
	struct flow_table *t = table_new(&r, NULL);

	closed_connection(t);
	send_port(t, CLIENT_PORT, 0, 1000, ACK, "hello", S(61));
	CHECK_INT(flow_table_stats(t)->flows_created, 1);
	send_port(t, CLIENT_PORT, 0, 1000, ACK, "hello", S(61) + 1);
	CHECK_INT(flow_table_stats(t)->flows_created, 2);
	flow_table_free(t);

	t = table_new(&r, &lim);
	for (uint16_t port = 1; port <= 4; port++) {
		send_port(t, port, 0, 1000, ACK, "hello", S(1));
		send_port(t, port, 0, 1005, FIN | ACK, NULL, S(1));
		send_port(t, port, 1, 5000, FIN | ACK, NULL, S(1));
	}
	send_port(t, 2, 0, 1000, ACK, "hello", S(2));      /* kept */
	CHECK_INT(flow_table_stats(t)->flows_created, 4);
	send_port(t, 1, 0, 1000, ACK, "hello", S(2));      /* forgotten */
	CHECK_INT(flow_table_stats(t)->flows_created, 5);
	flow_table_free(t);
}

/* Live (starts_marked), the source says where a flow starts and late
 * records of an ended one are unmarked (segments_late): closed flows are
 * not kept, a marked segment after the close begins a flow. */
static void test_closed_flows_are_not_kept_when_starts_are_marked(void)
{
	struct flow_limits lim = { .starts_marked = true };
	struct tw_segment seg = seg_of(CLIENT_PORT, 0, 1000, ACK, "hello", S(2));
	struct rec r;
	struct flow_table *t = table_new(&r, &lim);

	closed_connection(t);
	flow_table_push(t, &seg);
	CHECK_INT(flow_table_stats(t)->segments_late, 1);
	seg.flow_start = true;
	flow_table_push(t, &seg);
	CHECK_INT(flow_table_stats(t)->flows_created, 2);
	CHECK_INT(flow_table_stats(t)->segments_after_close, 0);
	flow_table_free(t);
}

/* A new connection on the port pair whose SYN the capture did not have
 * (lost before the capture point, or a capture of the server's direction
 * alone): the server's SYN-ACK with another ISN ends the old flow, as a
 * SYN would. Before, the new connection was stitched to the old one. A
 * retransmitted SYN-ACK (the same ISN) changes nothing. */
static void test_syn_ack_with_new_isn_replaces_the_flow(void)
{
	struct rec r;
	struct flow_table *t = table_new(&r, NULL);

	handshake(t);
	send_seg(t, 0, 1000, ACK, "old");
	send_seg(t, 1, 4999, SYN | ACK, NULL);
	CHECK_STR(r.log, "d0'old' ");
	send_acking(t, 1, 699999, SYN | ACK, 900000, NULL);
	CHECK_STR(r.log, "d0'old' end:reopened ");
	send_seg(t, 0, 900000, ACK, "new");
	CHECK_STR(r.log, "d0'old' end:reopened d1'new' ");
	CHECK_INT(flow_table_stats(t)->flows_reopened, 1);
	CHECK_INT(r.last_client, 1);        /* the SYN-ACK's receiver */
	flow_table_free(t);

	/* a flow begun without a SYN-ACK: one far from where the server had
	 * got (the client's ACKs say) reopens it; its own, late, does not */
	t = table_new(&r, NULL);
	send_acking(t, 0, 1000, ACK, 5000, "old");
	send_acking(t, 1, 4999, SYN | ACK, 1000, NULL);
	CHECK_INT(flow_table_stats(t)->flows_reopened, 0);
	send_acking(t, 1, 699999, SYN | ACK, 900000, NULL);
	CHECK_STR(r.log, "d0'old' end:reopened ");
	CHECK_INT(flow_table_stats(t)->flows_reopened, 1);
	flow_table_free(t);

	/* the server's direction alone */
	t = table_new(&r, NULL);
	send_seg(t, 1, 4999, SYN | ACK, NULL);
	send_seg(t, 1, 5000, ACK, "old");
	send_seg(t, 1, 699999, SYN | ACK, NULL);
	send_seg(t, 1, 700000, ACK, "new");
	CHECK_STR(r.log, "d0'old' end:reopened d0'new' ");
	CHECK_INT(flow_table_stats(t)->flows_created, 2);
	flow_table_free(t);
}

static void test_max_flows_evicts_least_recently_active(void)
{
	struct rec r;
	struct flow_limits lim = { .max_flows = 3 };
	struct flow_table *t = table_new(&r, &lim);

	r.tag = true;
	send_port(t, 1, 0, 100, SYN, NULL, S(1));
	send_port(t, 2, 0, 100, SYN, NULL, S(2));
	send_port(t, 3, 0, 100, SYN, NULL, S(3));
	send_port(t, 1, 1, 900, SYN | ACK, NULL, S(4)); /* 1 active again */
	send_port(t, 4, 0, 100, SYN, NULL, S(5));
	CHECK_STR(r.log, "p2:end:evicted ");
	send_port(t, 5, 0, 100, SYN, NULL, S(6));
	CHECK_STR(r.log, "p2:end:evicted p3:end:evicted ");
	const struct flow_stats *st = flow_table_stats(t);
	CHECK_INT(st->flows_created, 5);
	CHECK_INT(st->flows_active, 3);
	CHECK_INT(st->flows_evicted, 2);
	flow_table_flush(t, S(7));
	CHECK_STR(r.log, "p2:end:evicted p3:end:evicted p1:end:capture_end "
			 "p4:end:capture_end p5:end:capture_end ");
	flow_table_free(t);
}

static void test_idle_timeout_by_packet_time(void)
{
	struct rec r;
	struct flow_limits lim = { .idle_timeout_s = 10 };
	struct flow_table *t = table_new(&r, &lim);

	r.tag = true;
	send_port(t, 1, 0, 100, SYN, NULL, S(0));
	send_port(t, 2, 0, 100, SYN, NULL, S(5));
	/* Unrelated bare ACKs move packet time without creating flows. */
	send_port(t, 9, 0, 100, ACK, NULL, S(10));          /* idle exactly 10 s */
	CHECK_STR(r.log, "");
	send_port(t, 9, 0, 100, ACK, NULL, S(10) + 900000); /* no scan within 1 s */
	CHECK_STR(r.log, "");
	send_port(t, 9, 0, 100, ACK, NULL, S(11));
	CHECK_STR(r.log, "p1:end:idle ");
	send_port(t, 2, 1, 900, SYN | ACK, NULL, S(12));     /* keeps 2 alive */
	send_port(t, 9, 0, 100, ACK, NULL, S(22));
	CHECK_STR(r.log, "p1:end:idle ");
	send_port(t, 9, 0, 100, ACK, NULL, S(23));
	CHECK_STR(r.log, "p1:end:idle p2:end:idle ");
	const struct flow_stats *st = flow_table_stats(t);
	CHECK_INT(st->flows_timed_out, 2);
	CHECK_INT(st->flows_active, 0);
	CHECK_INT(st->flows_created, 2);
	CHECK_INT(st->segments, 8);
	flow_table_free(t);
}

static void test_syn_sets_client_and_isn(void)
{
	struct rec r;
	struct flow_callbacks cb = rec_cb;

	memset(&r, 0, sizeof(r));
	cb.data = capture_flow;
	r.t = flow_table_new(NULL, &cb, &r);
	captured_flow = NULL;
	send_seg(r.t, 0, 999, SYN, NULL);
	send_seg(r.t, 0, 1001, ACK, "b"); /* one past the ISN+1: held */
	CHECK_STR(r.log, "");
	send_seg(r.t, 0, 1000, ACK, "a");
	CHECK_STR(r.log, "d0'a' d0'b' ");
	CHECK(captured_flow && captured_flow->client == 0);
	flow_table_free(r.t);
}

static void test_syn_ack_seen_first_sets_client_to_receiver(void)
{
	struct rec r;
	struct flow_callbacks cb = rec_cb;

	memset(&r, 0, sizeof(r));
	cb.data = capture_flow;
	r.t = flow_table_new(NULL, &cb, &r);
	captured_flow = NULL;
	send_seg(r.t, 1, 7999, SYN | ACK, NULL); /* the server is ep[0] */
	send_seg(r.t, 1, 7990, ACK, "0123456789"); /* before the ISN */
	send_seg(r.t, 1, 8000, ACK, "cert");
	send_seg(r.t, 0, 3000, ACK, "hi"); /* client direction starts mid-flow */
	CHECK_STR(r.log, "d0'cert' d1'hi' ");
	CHECK_INT(flow_table_stats(r.t)->retransmitted_bytes, 10);
	CHECK(captured_flow != NULL);
	if (captured_flow) {
		CHECK_INT(captured_flow->client, 1);
		CHECK_INT(captured_flow->ep[0].port, 443);
		CHECK_INT(captured_flow->ep[1].port, CLIENT_PORT);
	}
	flow_table_free(r.t);
}

static void test_mid_flow_start_without_syn(void)
{
	struct rec r;
	struct flow_callbacks cb = rec_cb;

	memset(&r, 0, sizeof(r));
	cb.data = capture_flow;
	r.t = flow_table_new(NULL, &cb, &r);
	captured_flow = NULL;
	send_seg(r.t, 0, 5000, ACK, "hello");
	send_seg(r.t, 0, 4990, ACK, "0123456789");  /* before the start */
	send_seg(r.t, 0, 4998, ACK, "89hello!");    /* straddles the start */
	CHECK_STR(r.log, "d0'hello' d0'!' ");
	CHECK_INT(flow_table_stats(r.t)->retransmitted_bytes, 17);
	CHECK(captured_flow && captured_flow->client == -1);
	if (captured_flow) {
		flow_set_client(captured_flow, 1);
		CHECK_INT(captured_flow->client, 1);
	}
	flow_table_free(r.t);
}

static void test_bare_segment_without_flow_is_ignored(void)
{
	struct rec r;
	struct flow_table *t = table_new(&r, NULL);

	send_seg(t, 0, 1000, ACK, NULL);
	send_seg(t, 1, 1000, FIN | ACK, NULL);
	send_seg(t, 0, 1000, RST, NULL);
	const struct flow_stats *st = flow_table_stats(t);
	CHECK_INT(st->segments, 3);
	CHECK_INT(st->flows_created, 0);
	CHECK_INT(st->flows_active, 0);
	CHECK_STR(r.log, "");
	flow_table_free(t);
	CHECK_STR(r.log, "");
}

static void test_seq_wraparound(void)
{
	struct rec r;
	struct flow_table *t = table_new(&r, NULL);

	send_seg(t, 0, 0xfffffffa, SYN, NULL);
	send_seg(t, 0, 1, ACK, "ghij");            /* after the wrap: held */
	send_seg(t, 0, 0xfffffffb, ACK, "abcdef"); /* ..fb to 0x0 */
	send_seg(t, 0, 0xfffffffd, ACK, "cd");     /* retransmitted */
	send_seg(t, 0, 5, ACK, "kl");
	CHECK_STR(r.log, "d0'abcdef' d0'ghij' d0'kl' ");
	CHECK_INT(flow_table_stats(t)->retransmitted_bytes, 2);
	flow_table_free(t);
}

static void test_fin_from_both_sides_ends_the_flow(void)
{
	struct rec r;
	struct flow_table *t = table_new(&r, NULL);

	handshake(t);
	send_seg(t, 0, 1000, ACK, "GET");
	send_seg(t, 0, 1003, FIN | ACK, "bye");
	CHECK_STR(r.log, "d0'GET' d0'bye' ");       /* half-closed: not over */
	CHECK_INT(flow_table_stats(t)->flows_active, 1);
	send_seg(t, 1, 5000, FIN | ACK, "ok");
	CHECK_STR(r.log, "d0'GET' d0'bye' d1'ok' end:fin ");
	CHECK_INT(flow_table_stats(t)->flows_active, 0);
	send_seg(t, 1, 5003, ACK, NULL); /* late ACK: no flow, none created */
	CHECK_INT(flow_table_stats(t)->flows_created, 1);
	flow_table_free(t);
	CHECK_STR(r.log, "d0'GET' d0'bye' d1'ok' end:fin ");
}

/* A client sends its hello and closes at once; the server's answer comes
 * after the FIN and belongs to the same flow (it used to start a second). */
static void test_answer_after_one_fin_stays_in_the_flow(void)
{
	struct rec r;
	struct flow_table *t = table_new(&r, NULL);

	handshake(t);
	send_seg(t, 0, 1000, FIN | ACK, "hello");
	send_seg(t, 1, 5000, ACK, "flight");
	send_seg(t, 1, 5006, RST, NULL);
	CHECK_STR(r.log, "d0'hello' d1'flight' end:rst ");
	CHECK_INT(flow_table_stats(t)->flows_created, 1);
	flow_table_free(t);
}

/* A client closes after its hello, the server answers, the client's
 * kernel resets at FIN + 1: no hole, no gap. */
static void test_rst_after_fin_is_not_a_gap(void)
{
	struct rec r;
	struct flow_table *t = table_new(&r, NULL);

	handshake(t);
	send_seg(t, 0, 1000, FIN | ACK, "hello");
	send_seg(t, 1, 5000, ACK, "flight");
	send_seg(t, 0, 1006, RST, NULL);
	CHECK_STR(r.log, "d0'hello' d1'flight' end:rst ");
	CHECK_INT(flow_table_stats(t)->gaps, 0);
	flow_table_free(t);
}

/* A capture downstream of a loss: the server's FIN comes before the
 * retransmission of the bytes in front of it (its fatal alert). The
 * direction waits for them, is half-closed once they are in, and the flow
 * ends at the client's FIN, without a gap. */
static void test_fin_past_a_hole_waits_for_the_retransmission(void)
{
	struct rec r;
	struct flow_table *t = table_new_with(&r, NULL, &rec_half_close_cb);

	handshake(t);
	send_seg(t, 0, 1000, ACK, "hello");
	send_seg(t, 1, 5006, FIN | ACK, NULL);      /* "alert!" was lost */
	CHECK_STR(r.log, "d0'hello' ");
	send_seg(t, 1, 5000, ACK, "alert!");        /* its retransmission */
	CHECK_STR(r.log, "d0'hello' d1'alert!' h1 ");
	send_seg(t, 0, 1005, FIN | ACK, NULL);
	CHECK_STR(r.log, "d0'hello' d1'alert!' h1 end:fin ");
	CHECK_INT(flow_table_stats(t)->gaps, 0);
	CHECK_INT(flow_table_stats(t)->flows_active, 0);
	flow_table_free(t);
}

/* Both FINs are in before the retransmission: the flow waits for it. */
static void test_both_fins_wait_for_a_hole_before_one_of_them(void)
{
	struct rec r;
	struct flow_table *t = table_new_with(&r, NULL, &rec_half_close_cb);

	handshake(t);
	send_seg(t, 0, 1000, ACK, "hello");
	send_seg(t, 1, 5006, FIN | ACK, NULL);
	send_seg(t, 0, 1005, FIN | ACK, NULL);
	CHECK_STR(r.log, "d0'hello' h0 ");
	CHECK_INT(flow_table_stats(t)->flows_active, 1);
	send_seg(t, 1, 5000, ACK, "alert!");
	CHECK_STR(r.log, "d0'hello' h0 d1'alert!' end:fin ");
	CHECK_INT(flow_table_stats(t)->gaps, 0);
	CHECK_INT(flow_table_stats(t)->flows_active, 0);
	flow_table_free(t);
}

/* A hole in front of a FIN that is never filled: the gap comes when the
 * flow ends (here the end of the capture), with the bytes held past it
 * dropped. */
static void test_fin_past_a_hole_never_filled_gaps_at_the_end(void)
{
	struct rec r;
	struct flow_table *t = table_new(&r, NULL);

	handshake(t);
	send_seg(t, 0, 1000, ACK, "abc");
	send_seg(t, 0, 1005, FIN | ACK, "fg");
	send_seg(t, 1, 5000, FIN | ACK, NULL);
	CHECK_STR(r.log, "d0'abc' ");
	CHECK_INT(flow_table_stats(t)->flows_active, 1);
	flow_table_flush(t, S(2));
	CHECK_STR(r.log, "d0'abc' g0 end:capture_end ");
	CHECK_INT(flow_table_stats(t)->gaps, 1);
	CHECK_INT(flow_table_stats(t)->ooo_bytes_dropped, 2);
	flow_table_free(t);
}

/* The same with nothing held past the hole (a bare FIN): the gap comes
 * with an RST, or with the idle timeout, which bounds the wait. */
/* A new table, its events timed, after the handshake and the server's
 * FIN past a hole (its bytes 5000-5005 missing). */
static struct flow_table *server_fin_past_a_hole(struct rec *r)
{
	struct flow_table *t = table_new(r, NULL);

	r->times = true;
	handshake(t);
	send_seg(t, 1, 5006, FIN | ACK, NULL);
	return t;
}

static void test_bare_fin_past_a_hole_gaps_when_the_flow_ends(void)
{
	struct rec r;
	struct flow_table *t = table_new(&r, NULL);

	handshake(t);
	send_seg(t, 0, 1000, ACK, "abc");
	send_seg(t, 0, 1005, FIN | ACK, NULL);
	CHECK_STR(r.log, "d0'abc' ");
	send_seg(t, 1, 5000, RST | ACK, NULL);
	CHECK_STR(r.log, "d0'abc' g0 end:rst ");
	flow_table_free(t);

	/* both FINs: the hole has FLOW_FIN_HOLE_WAIT_US (2 s) of packet
	 * time from the second FIN, then it is a gap and the flow ends at
	 * that time (before, it waited for the 120 s idle timeout) */
	t = server_fin_past_a_hole(&r);
	send_port(t, CLIENT_PORT, 0, 1000, FIN | ACK, NULL, S(5));
	flow_table_advance(t, S(7));
	CHECK_STR(r.log, "");
	flow_table_advance(t, S(7) + 1);
	CHECK_STR(r.log, "g1@7000000 end:fin@7000000 ");
	CHECK_INT(flow_table_stats(t)->flows_timed_out, 0);
	CHECK_INT(flow_table_stats(t)->flows_active, 0);
	CHECK_INT(flow_table_stats(t)->gaps, 1);
	CHECK_INT(flow_table_stats(t)->flows_closed_gapped, 1);
	flow_table_free(t);

	/* filled within the wait: the flow ends at the filling packet, once */
	t = server_fin_past_a_hole(&r);
	send_seg(t, 0, 1000, FIN | ACK, NULL);
	send_port(t, CLIENT_PORT, 1, 5000, ACK, "abcdef", S(3));
	flow_table_advance(t, S(200));
	CHECK_STR(r.log, "d1'abcdef' end:fin@3000000 ");
	CHECK_INT(flow_table_stats(t)->gaps, 0);
	CHECK_INT(flow_table_stats(t)->flows_timed_out, 0);
	CHECK_INT(flow_table_stats(t)->flows_closed_gapped, 0);
	flow_table_free(t);

	/* one FIN only: the other side may still send; the idle timeout */
	t = server_fin_past_a_hole(&r);
	flow_table_advance(t, S(1) + S(121));
	CHECK_STR(r.log, "g1@122000000 end:idle@122000000 ");
	CHECK_INT(flow_table_stats(t)->flows_timed_out, 1);
	CHECK_INT(flow_table_stats(t)->flows_closed_gapped, 0);
	flow_table_free(t);
}

static void test_rst_ends_flow(void)
{
	struct rec r;
	struct flow_table *t = table_new(&r, NULL);

	handshake(t);
	send_seg(t, 0, 1000, ACK, "hello");
	send_seg(t, 1, 5000, RST, NULL);
	CHECK_STR(r.log, "d0'hello' end:rst ");
	CHECK_INT(flow_table_stats(t)->flows_active, 0);
	CHECK_INT(flow_table_stats(t)->gaps, 0);
	flow_table_free(t);
}

static void test_rst_with_held_data_gaps_that_direction(void)
{
	struct rec r;
	struct flow_table *t = table_new(&r, NULL);

	handshake(t);
	send_seg(t, 0, 1004, ACK, "late");
	send_seg(t, 1, 5000, RST | ACK, NULL);
	CHECK_STR(r.log, "g0 end:rst ");
	CHECK_INT(flow_table_stats(t)->ooo_bytes_dropped, 4);
	flow_table_free(t);
}

static void test_mark_done_inside_data_callback(void)
{
	struct rec r;
	struct flow_table *t = table_new(&r, NULL);

	handshake(t);
	send_seg(t, 0, 1003, ACK, "def");
	send_seg(t, 0, 1006, ACK, "ghi");
	r.done_on_data = true;
	send_seg(t, 0, 1000, ACK, "abc"); /* fills the hole; consumer is done */
	CHECK_STR(r.log, "d0'abc' ");
	CHECK_INT(flow_table_stats(t)->ooo_bytes_held, 0);
	send_seg(t, 0, 1009, ACK, "jkl");
	send_seg(t, 1, 5000, ACK, "server");
	CHECK_STR(r.log, "d0'abc' ");
	send_seg(t, 1, 5006, FIN | ACK, NULL);
	send_seg(t, 0, 1012, FIN | ACK, NULL);
	CHECK_STR(r.log, "d0'abc' end:fin ");
	CHECK_INT(flow_table_stats(t)->gaps, 0);
	CHECK_INT(flow_table_stats(t)->ooo_bytes_dropped, 0);
	flow_table_free(t);
}

static void test_mark_ignored_then_1000_packets_deliver_nothing(void)
{
	struct rec r;
	struct flow_table *t = table_new(&r, NULL);

	handshake(t);
	r.ignore_on_data = true;
	send_seg(t, 0, 1000, ACK, "SSH-2.0");
	CHECK_STR(r.log, "d0'SSH-2.0' ");
	for (uint32_t i = 0; i < 1000; i++) {
		/* in order, out of order, both directions */
		send_seg(t, i & 1, (i & 1 ? 5000 : 1007) + 64 * i, ACK, "data");
	}
	CHECK_STR(r.log, "d0'SSH-2.0' ");
	const struct flow_stats *st = flow_table_stats(t);
	CHECK_INT(st->segments, 1004);
	CHECK_INT(st->flows_created, 1);
	CHECK_INT(st->flows_active, 1);
	CHECK_INT(st->ooo_bytes_peak, 0);
	CHECK_INT(st->retransmitted_bytes, 0);
	flow_table_flush(t, S(2));
	CHECK_STR(r.log, "d0'SSH-2.0' end:capture_end ");
	flow_table_free(t);
}

static void test_both_directions_interleaved(void)
{
	struct rec r;
	struct flow_table *t = table_new(&r, NULL);

	handshake(t);
	send_seg(t, 0, 1004, ACK, "/ ");
	send_seg(t, 1, 5004, ACK, "/1.1");
	send_seg(t, 0, 1000, ACK, "GET ");
	send_seg(t, 1, 5000, ACK, "HTTP");
	send_seg(t, 0, 1006, ACK, "HTTP/1.1");
	send_seg(t, 1, 5008, ACK, " 200");
	CHECK_STR(r.log, "d0'GET ' d0'/ ' d1'HTTP' d1'/1.1' d0'HTTP/1.1' d1' 200' ");
	CHECK_INT(flow_table_stats(t)->flows_created, 1);
	flow_table_free(t);
}

/* A segment of @dir (as send_seg) of @wire_len bytes on the wire of which
 * only @captured (may be NULL) was captured. */
static void send_cut(struct flow_table *t, int dir, uint32_t seq,
		     uint32_t wire_len, const char *captured)
{
	struct tw_endpoint c = ep4(1, CLIENT_PORT), srv = ep4(2, 443);
	struct tw_segment seg = {
		.ts_us = S(1),
		.src = dir ? srv : c,
		.dst = dir ? c : srv,
		.seq = seq,
		.tcp_flags = ACK,
		.truncated = true,
		.wire_len = wire_len,
		.payload = (const uint8_t *)captured,
		.len = captured ? (uint32_t)strlen(captured) : 0,
	};

	flow_table_push(t, &seg);
}

static void test_truncated_segment_delivers_captured_bytes_then_gaps(void)
{
	struct rec r;
	struct flow_table *t = table_new(&r, NULL);

	handshake(t);
	send_cut(t, 0, 1000, 1400, "abc");
	send_seg(t, 0, 2400, ACK, "next");
	CHECK_STR(r.log, "d0'abc' g0 ");
	CHECK_INT(flow_table_stats(t)->gaps, 1);
	flow_table_free(t);
}

/* The live source's gap record: a truncated segment without bytes. A
 * hole at once when it is where delivery stands, also for a direction
 * that has sent nothing yet. */
static void test_truncated_segment_without_bytes_is_a_hole(void)
{
	struct rec r;
	struct flow_table *t = table_new(&r, NULL);

	send_seg(t, 0, 1000, ACK, "abc");
	send_cut(t, 0, 1003, 1400, NULL);
	send_cut(t, 1, 5000, 1400, NULL);
	send_seg(t, 0, 2403, ACK, "late");
	CHECK_STR(r.log, "d0'abc' g0 g1 ");
	CHECK_INT(flow_table_stats(t)->gaps, 2);
	flow_table_free(t);
}

/* An injected RST half the sequence space from where its sender had got
 * is dropped whole: the flow goes on, and the real RST ends it later. */
static void test_rst_far_from_its_sender_is_ignored(void)
{
	struct rec r;
	struct flow_table *t = table_new(&r, NULL);

	handshake(t);
	send_seg(t, 0, 1000, ACK, "hello");
	send_seg(t, 1, 5000 + 0x80000000u, RST | ACK, NULL);
	CHECK_INT(flow_table_stats(t)->rsts_ignored, 1);
	CHECK_INT(flow_table_stats(t)->flows_active, 1);
	send_seg(t, 1, 5000, ACK, "flight");
	send_seg(t, 1, 5006, RST, NULL);
	CHECK_STR(r.log, "d0'hello' d1'flight' end:rst ");
	CHECK_INT(flow_table_stats(t)->rsts_ignored, 1);
	CHECK_INT(flow_table_stats(t)->flows_created, 1);
	flow_table_free(t);
}

/* The window, both ways from where the sender had got (1006 after its
 * hello): its edges end the flow, one past them does not. */
static void test_rst_window_edges(void)
{
	static const struct { uint32_t seq; bool ends; } cases[] = {
		{ 1006 + TW_RST_WINDOW, true },
		{ 1006 + TW_RST_WINDOW + 1, false },
		{ 1006 - TW_RST_WINDOW, true },
		{ 1006 - TW_RST_WINDOW - 1, false },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rec r;
		struct flow_table *t = table_new(&r, NULL);

		handshake(t);
		send_seg(t, 0, 1000, ACK, "hello!");
		send_seg(t, 0, cases[i].seq, RST, NULL);
		CHECK_INT(flow_table_stats(t)->flows_active, cases[i].ends ? 0 : 1);
		CHECK_INT(flow_table_stats(t)->rsts_ignored, cases[i].ends ? 0 : 1);
		flow_table_free(t);
	}
}

/* RFC 793: a SYN to a closed port is answered by an RST with seq 0 that
 * acknowledges it; its sender had said nothing, so it is taken. */
static void test_rst_with_seq_zero_answering_a_syn_is_taken(void)
{
	struct rec r;
	struct flow_table *t = table_new(&r, NULL);

	send_seg(t, 0, 999, SYN, NULL);
	send_acking(t, 1, 0, RST | ACK, 1000, NULL);
	CHECK_STR(r.log, "end:rst ");
	CHECK_INT(flow_table_stats(t)->rsts_ignored, 0);
	flow_table_free(t);
}

/* A stack that forgot the connection answers a segment with an RST at
 * that segment's ACK: behind what the sender had sent, in the window. */
static void test_rst_at_the_ack_it_answers_is_taken(void)
{
	struct rec r;
	struct flow_table *t = table_new(&r, NULL);

	handshake(t);
	send_acking(t, 1, 5000, ACK, 1000, "flight");
	send_acking(t, 0, 1000, ACK, 5000, "late");
	send_acking(t, 1, 5000, RST, 0, NULL);
	CHECK_STR(r.log, "d1'flight' d0'late' end:rst ");
	CHECK_INT(flow_table_stats(t)->rsts_ignored, 0);
	flow_table_free(t);
}

/* A spoofed segment's ACK far from where the other side had got does not
 * move that side's reference: the spoofed RST that follows it is ignored. */
static void test_far_ack_does_not_move_the_reference(void)
{
	struct rec r;
	struct flow_table *t = table_new(&r, NULL);

	handshake(t);
	send_acking(t, 0, 1000, ACK, 5000 + 0x40000000u, "hello");
	send_seg(t, 1, 5000 + 0x40000000u, RST, NULL);
	CHECK_INT(flow_table_stats(t)->rsts_ignored, 1);
	CHECK_INT(flow_table_stats(t)->flows_active, 1);
	flow_table_free(t);
}

/* A decided flow keeps learning: a spoofed RST after the handshake does
 * not end it (its later packets would have begun a second flow). */
static void test_rst_far_away_on_a_done_flow_is_ignored(void)
{
	struct rec r;
	struct flow_table *t = table_new(&r, NULL);

	handshake(t);
	r.done_on_data = true;
	send_seg(t, 0, 1000, ACK, "hello");
	send_seg(t, 1, 5000, ACK, "server");
	send_seg(t, 0, 1005 + 0x10000000u, RST, NULL);
	send_seg(t, 0, 1005, ACK, "more");
	CHECK_INT(flow_table_stats(t)->rsts_ignored, 1);
	CHECK_INT(flow_table_stats(t)->flows_created, 1);
	send_seg(t, 0, 1009, RST, NULL);
	CHECK_STR(r.log, "d0'hello' end:rst ");
	flow_table_free(t);
}

/* Once a direction's bytes were not all given (live: the kernel's copy
 * budget), its reference is stale: its RST is taken at its word (the
 * kernel, which saw every packet, judged it already). */
static void test_rst_of_a_cut_direction_is_taken(void)
{
	struct rec r;
	struct flow_table *t = table_new(&r, NULL);

	handshake(t);
	send_cut(t, 1, 5000, 1400, "abc");
	send_seg(t, 1, 5000 + 0x10000000u, RST, NULL);
	CHECK_STR(r.log, "d1'abc' g1 end:rst ");
	CHECK_INT(flow_table_stats(t)->rsts_ignored, 0);
	flow_table_free(t);
}

static void test_ipv4_and_ipv6_with_same_bytes_are_two_flows(void)
{
	struct rec r;
	struct flow_table *t = table_new(&r, NULL);
	struct tw_segment seg = {
		.ts_us = S(1), .src = ep4(1, 1), .dst = ep4(2, 2),
		.seq = 1, .tcp_flags = SYN,
	};

	flow_table_push(t, &seg);
	seg.src.addr.family = 6;
	seg.dst.addr.family = 6;
	flow_table_push(t, &seg);
	CHECK_INT(flow_table_stats(t)->flows_created, 2);
	flow_table_free(t);
}

static int count_ends;
static void count_end(void *ctx, struct flow *f, enum flow_end_reason why,
		      uint64_t ts_us)
{
	count_ends++;
}

static void test_many_flows_keep_their_own_streams(void)
{
	struct flow_callbacks cb = { .end = count_end };
	struct flow_table *t = flow_table_new(NULL, &cb, NULL);

	count_ends = 0;
	for (uint32_t i = 0; i < 20000; i++)
		send_port(t, (uint16_t)(i % 60000 + 1), 0, 100, SYN, NULL, S(1));
	for (uint32_t i = 0; i < 20000; i++)
		send_port(t, (uint16_t)(i % 60000 + 1), 1, 100, SYN | ACK, NULL, S(1));
	const struct flow_stats *st = flow_table_stats(t);
	CHECK_INT(st->flows_created, 20000);
	CHECK_INT(st->flows_active, 20000);
	flow_table_free(t);
	CHECK_INT(count_ends, 20000);
}

int main(void)
{
	RUN_TEST(test_unmarked_segment_of_no_flow_is_late_when_starts_are_marked);
	RUN_TEST(test_in_order_delivery);
	RUN_TEST(test_state_new_becomes_tracked_on_first_data);
	RUN_TEST(test_tunnel_first_seen_kept_directions_marked);
	RUN_TEST(test_reversed_five_segments);
	RUN_TEST(test_duplicated_segments);
	RUN_TEST(test_retransmission_of_delivered_data);
	RUN_TEST(test_partial_overlap_at_front_delivers_new_bytes);
	RUN_TEST(test_partial_overlap_at_back_keeps_held_copy);
	RUN_TEST(test_held_overlap_at_front_of_held_piece_is_trimmed);
	RUN_TEST(test_held_segment_covering_two_held_ones);
	RUN_TEST(test_in_order_segment_covering_two_held_ones);
	RUN_TEST(test_missing_segment_then_capture_end);
	RUN_TEST(test_per_direction_cap_gives_up_once);
	RUN_TEST(test_global_cap_evicts_least_recent_holder);
	RUN_TEST(test_global_cap_evicts_holders_in_activity_order);
	RUN_TEST(test_late_retransmission_after_both_fins_is_absorbed);
	RUN_TEST(test_late_segment_after_an_rst_is_absorbed);
	RUN_TEST(test_after_close_only_the_old_sequence_space_is_absorbed);
	RUN_TEST(test_closed_flows_are_kept_for_a_bounded_time_and_count);
	RUN_TEST(test_closed_flows_are_not_kept_when_starts_are_marked);
	RUN_TEST(test_syn_ack_with_new_isn_replaces_the_flow);
	RUN_TEST(test_max_flows_evicts_least_recently_active);
	RUN_TEST(test_idle_timeout_by_packet_time);
	RUN_TEST(test_syn_sets_client_and_isn);
	RUN_TEST(test_syn_ack_seen_first_sets_client_to_receiver);
	RUN_TEST(test_syn_payload_starts_after_isn);
	RUN_TEST(test_syn_ack_after_payload_keeps_the_client_the_consumer_named);
	RUN_TEST(test_syn_with_new_isn_replaces_the_flow);
	RUN_TEST(test_syn_far_from_a_flow_begun_without_one_reopens_it);
	RUN_TEST(test_syn_on_a_flow_begun_without_one_window_edges);
	RUN_TEST(test_flow_start_on_done_flow_starts_a_new_flow);
	RUN_TEST(test_flow_start_on_tracked_flow_continues_it);
	RUN_TEST(test_syn_on_done_flow_without_syn_starts_a_new_flow);
	RUN_TEST(test_reopened_flow_takes_the_syn_sender_as_first_endpoint);
	RUN_TEST(test_flow_start_of_a_later_packet_on_undecided_flow_restarts_it);
	RUN_TEST(test_flow_start_that_continues_the_bytes_refinds_the_flow);
	RUN_TEST(test_server_flow_start_acking_the_client_refinds_the_flow);
	RUN_TEST(test_restarted_flow_keeps_the_client);
	RUN_TEST(test_mid_flow_start_without_syn);
	RUN_TEST(test_bare_segment_without_flow_is_ignored);
	RUN_TEST(test_seq_wraparound);
	RUN_TEST(test_fin_from_both_sides_ends_the_flow);
	RUN_TEST(test_answer_after_one_fin_stays_in_the_flow);
	RUN_TEST(test_fin_past_a_hole_waits_for_the_retransmission);
	RUN_TEST(test_both_fins_wait_for_a_hole_before_one_of_them);
	RUN_TEST(test_fin_past_a_hole_never_filled_gaps_at_the_end);
	RUN_TEST(test_bare_fin_past_a_hole_gaps_when_the_flow_ends);
	RUN_TEST(test_rst_after_fin_is_not_a_gap);
	RUN_TEST(test_rst_ends_flow);
	RUN_TEST(test_rst_with_held_data_gaps_that_direction);
	RUN_TEST(test_rst_far_from_its_sender_is_ignored);
	RUN_TEST(test_rst_window_edges);
	RUN_TEST(test_rst_with_seq_zero_answering_a_syn_is_taken);
	RUN_TEST(test_rst_at_the_ack_it_answers_is_taken);
	RUN_TEST(test_far_ack_does_not_move_the_reference);
	RUN_TEST(test_rst_far_away_on_a_done_flow_is_ignored);
	RUN_TEST(test_rst_of_a_cut_direction_is_taken);
	RUN_TEST(test_mark_done_inside_data_callback);
	RUN_TEST(test_mark_ignored_then_1000_packets_deliver_nothing);
	RUN_TEST(test_both_directions_interleaved);
	RUN_TEST(test_truncated_segment_delivers_captured_bytes_then_gaps);
	RUN_TEST(test_truncated_segment_without_bytes_is_a_hole);
	RUN_TEST(test_ipv4_and_ipv6_with_same_bytes_are_two_flows);
	RUN_TEST(test_many_flows_keep_their_own_streams);
	return CHECK_EXIT_CODE();
}
