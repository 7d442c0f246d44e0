// SPDX-License-Identifier: MIT
/*
 * The pipeline's accounting of handshakes its source lost
 * (pipeline_opts.flow_followed, FLOW_END_RESTARTED): segments of a client
 * that sends a ClientHello and waits, then an end of some kind.
 */
#include <string.h>

#include "check.h"
#include "capture/server_view.h"
#include "pipeline/pipeline.h"
#include "tls_build.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define S(s) ((uint64_t)(s) * 1000000)

struct run {
	int handshakes;
	enum hs_outcome outcome;
	int asked;                /* flow_followed calls */
	bool followed;            /* its answer */
	bool done_unfollows;      /* false from the first flow_done on, as
				   * the kernel's entry once marked DONE */
	int marked;               /* flow_done calls */
	int fins;                 /* flow_fin calls */
	bool lib_alert;           /* the last one's first alert: the
				   * server's library named it */
};

static void on_event(void *ctx, const struct event *ev)
{
	struct run *r = ctx;

	if (ev->type != EVENT_HANDSHAKE)
		return;
	r->handshakes++;
	r->outcome = ev->handshake->rec->outcome;
	r->lib_alert = ev->handshake->rec->n_alerts &&
		       ev->handshake->rec->alerts[0].from_server_lib;
}

static bool followed(void *ctx, const struct tw_endpoint *client,
		     const struct tw_endpoint *server)
{
	struct run *r = ctx;

	(void)client;
	(void)server;
	r->asked++;
	return r->followed && !(r->done_unfollows && r->marked);
}

static void marked(void *ctx, const struct tw_endpoint *client,
		   const struct tw_endpoint *server)
{
	struct run *r = ctx;

	CHECK_INT(client->port, 40000);
	CHECK_INT(server->port, 443);
	r->marked++;
}

static void fin_after_marking(void *ctx, const struct tw_endpoint *from,
			      const struct tw_endpoint *to)
{
	struct run *r = ctx;

	CHECK_INT(from->port, 40000);
	CHECK_INT(to->port, 443);
	r->fins++;
}

static struct pipeline *pipeline_for(struct run *r, bool ask)
{
	struct pipeline_opts o = {
		.emit = on_event,
		.emit_ctx = r,
		.flow_done = marked,
		.flow_done_ctx = r,
		.flow_followed = ask ? followed : NULL,
		.flow_fin = fin_after_marking,
	};

	return pipeline_new(&o);
}

static struct tw_endpoint ep4(uint8_t last, uint16_t port)
{
	struct tw_endpoint e = { .addr = { .family = 4 }, .port = port };

	e.addr.bytes[0] = 10;
	e.addr.bytes[3] = last;
	return e;
}

/* The ClientHello of client port @port at @seq, packet time @ts_us,
 * marked as the start of the flow by the source: its length. */
static uint32_t send_hello_from(struct pipeline *pl, uint64_t ts_us, uint32_t seq,
			    uint16_t port)
{
	static const uint16_t ciphers[] = { 0x1301, 0xc02f };
	static const uint16_t exts[] = { 0x0000 };
	struct tb_client_hello ch = {
		.legacy_version = 0x0303,
		.ciphers = ciphers, .n_ciphers = N(ciphers),
		.exts = exts, .n_exts = N(exts),
		.sni = TB_STR("lost.test"),
	};
	struct tb msg = { 0 }, rec = { 0 };

	tb_client_hello(&msg, &ch);
	tb_records(&rec, 22, msg.p, msg.n, 16384);
	struct tw_segment seg = {
		.ts_us = ts_us, .src = ep4(1, port), .dst = ep4(2, 443),
		.seq = seq, .tcp_flags = TW_TCP_ACK | TW_TCP_PSH, .flow_start = true,
		.payload = rec.p, .len = (uint32_t)rec.n, .wire_len = (uint32_t)rec.n,
	};
	pipeline_segment(pl, &seg);
	tb_free(&msg);
	tb_free(&rec);
	return seg.len;
}

static uint32_t send_hello(struct pipeline *pl, uint64_t ts_us, uint32_t seq)
{
	return send_hello_from(pl, ts_us, seq, 40000);
}

/* The client's FIN after its hello. */
static void send_client_fin(struct pipeline *pl, uint64_t ts_us)
{
	struct tw_segment seg = {
		.ts_us = ts_us, .src = ep4(1, 40000), .dst = ep4(2, 443),
		.seq = 2000, .tcp_flags = TW_TCP_FIN | TW_TCP_ACK,
	};

	pipeline_segment(pl, &seg);
}

static void send_rst(struct pipeline *pl, uint64_t ts_us)
{
	struct tw_segment seg = {
		.ts_us = ts_us, .src = ep4(2, 443), .dst = ep4(1, 40000),
		.seq = 5000, .tcp_flags = TW_TCP_RST,
	};

	pipeline_segment(pl, &seg);
}

/* The server's fatal alert (handshake_failure): the handshake is decided. */
static void send_alert(struct pipeline *pl, uint64_t ts_us)
{
	static const uint8_t alert[] = { 0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28 };
	struct tw_segment seg = {
		.ts_us = ts_us, .src = ep4(2, 443), .dst = ep4(1, 40000),
		.seq = 5000, .tcp_flags = TW_TCP_ACK | TW_TCP_PSH,
		.payload = alert, .len = sizeof(alert), .wire_len = sizeof(alert),
	};

	pipeline_segment(pl, &seg);
}

/* The server's answer to the hello: a ServerHello (TLS 1.2, or TLS 1.3
 * @retry: a HelloRetryRequest), then its CCS. */
static void send_server_hello(struct pipeline *pl, uint64_t ts_us, bool retry)
{
	struct tb msg = { 0 }, rec = { 0 };

	tb_server_hello(&msg, retry ? 0x1301 : 0xc02f, retry ? 0x0304 : 0, retry, false);
	tb_records(&rec, 22, msg.p, msg.n, 16384);
	tb_opaque_record(&rec, 20, 1);
	struct tw_segment seg = {
		.ts_us = ts_us, .src = ep4(2, 443), .dst = ep4(1, 40000),
		.seq = 5000, .tcp_flags = TW_TCP_ACK | TW_TCP_PSH,
		.payload = rec.p, .len = (uint32_t)rec.n, .wire_len = (uint32_t)rec.n,
	};
	pipeline_segment(pl, &seg);
	tb_free(&msg);
	tb_free(&rec);
}

/* The summary's version_counts after a hello, the server's answer and the
 * end of input: "TLS1.2": 1 for a ServerHello, nothing for a
 * HelloRetryRequest the client never answered (it negotiates nothing). */
static void test_hello_retry_alone_counts_no_version(void)
{
	bool retry;

	for (retry = false; ; retry = true) {
		struct run r = { 0 };
		struct pipeline *pl = pipeline_for(&r, false);
		const struct summary *sum;
		size_t v, total = 0;

		send_hello(pl, S(1), 1000);
		send_server_hello(pl, S(2), retry);
		pipeline_flush(pl, S(3));
		sum = pipeline_summary(pl);
		CHECK_INT(r.handshakes, 1);
		CHECK_INT(r.outcome, HS_INCOMPLETE);
		CHECK_INT(sum->handshakes, 1);
		for (v = 0; v < SUMMARY_VERSIONS; v++)
			total += sum->versions[v];
		CHECK_INT(total, retry ? 0 : 1);
		CHECK_INT(sum->versions[3], retry ? 0 : 1);
		pipeline_free(pl);
		if (retry)
			break;
	}
}

/* A ClientHello left waiting, then the end of input, the source saying
 * it @follows the flow or not: flows_lost. */
static uint64_t lost_at_flush(struct run *r, bool follows)
{
	struct pipeline *pl;
	uint64_t lost;

	memset(r, 0, sizeof(*r));
	r->followed = follows;
	pl = pipeline_for(r, true);
	send_hello(pl, S(1), 1000);
	pipeline_flush(pl, S(2));
	lost = pipeline_flows_lost(pl);
	pipeline_free(pl);
	return lost;
}

/* Live: the kernel's flow map forgot the handshake before the agent
 * stopped: reported incomplete, counted. */
static void test_undecided_handshake_the_source_lost_is_counted(void)
{
	struct run r;

	CHECK_INT(lost_at_flush(&r, false), 1);
	CHECK_INT(r.handshakes, 1);
	CHECK_INT(r.outcome, HS_INCOMPLETE);
	CHECK_INT(r.asked, 1);
}

static void test_undecided_handshake_the_source_follows_is_not_lost(void)
{
	struct run r;

	CHECK_INT(lost_at_flush(&r, true), 0);
	CHECK_INT(r.handshakes, 1);
	CHECK_INT(r.asked, 1);
}

/* A reset says the connection ended: nothing to ask. */
static void test_reset_handshake_is_not_asked_about(void)
{
	struct run r = { .followed = false };
	struct pipeline *pl = pipeline_for(&r, true);

	send_hello(pl, S(1), 1000);
	send_rst(pl, S(1) + 500);
	CHECK_INT(r.handshakes, 1);
	CHECK_INT(r.outcome, HS_ABORTED);
	CHECK_INT(r.asked, 0);
	CHECK_INT(pipeline_flows_lost(pl), 0);
	pipeline_free(pl);
}

/* The source began the flow again from a later packet, with bytes lost
 * in between: the old handshake is lost (no callback needed), the new
 * start is a handshake of its own. */
static void test_restarted_flow_counts_the_old_handshake_lost(void)
{
	struct run r = { 0 };
	struct pipeline *pl = pipeline_for(&r, false);

	send_hello(pl, S(1), 1000);
	send_hello(pl, S(2), 90000);
	CHECK_INT(r.handshakes, 1);
	CHECK_INT(r.outcome, HS_INCOMPLETE);
	CHECK_INT(pipeline_flows_lost(pl), 1);
	pipeline_flush(pl, S(3));
	CHECK_INT(r.handshakes, 2);
	CHECK_INT(pipeline_flows_lost(pl), 1);   /* a capture file: not asked */
	pipeline_free(pl);
}

/* The client's fatal bad_certificate, at @ts_us, after a hello of @len
 * bytes at seq 1000. */
static void send_client_alert(struct pipeline *pl, uint64_t ts_us, uint32_t len)
{
	static const uint8_t alert[] = { 0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x2a };
	struct tw_segment a = {
		.ts_us = ts_us, .src = ep4(1, 40000), .dst = ep4(2, 443),
		.seq = 1000 + len, .tcp_flags = TW_TCP_ACK | TW_TCP_PSH,
		.payload = alert, .len = sizeof(alert), .wire_len = sizeof(alert),
	};

	pipeline_segment(pl, &a);
}

/*
 * A pipeline of @o (its emit and source callbacks set to @r's) whose one
 * handshake, decided by the client's alert at 1 s while the server's
 * library view says its chain was lost, waits for that library's reading
 * of the alert (conn_defer, up to 1 s): its flow marked done at the
 * source, so none of its data comes any more. NULL if out of memory.
 */
static struct pipeline *deferred_in(struct run *r, struct pipeline_opts *o)
{
	struct tw_server_view v = {
		.ts_us = S(1) + 10, .client = ep4(1, 40000), .server = ep4(2, 443),
		.exe = "", .comm = "", .chain_lost = true,
	};
	struct pipeline *pl;
	uint32_t len;

	memset(r, 0, sizeof(*r));
	r->followed = r->done_unfollows = true;
	o->emit = on_event;
	o->emit_ctx = o->flow_done_ctx = r;
	o->flow_done = marked;
	o->flow_followed = followed;
	o->flow_fin = fin_after_marking;
	pl = pipeline_new(o);
	CHECK(pl != NULL);
	if (!pl)
		return NULL;
	len = send_hello(pl, S(1), 1000);
	pipeline_server_view(pl, &v);
	send_client_alert(pl, S(1) + 20, len);
	pipeline_tick(pl, S(1) + 50);
	CHECK_INT(r->handshakes, 0);
	CHECK_INT(r->marked, 1);
	return pl;
}

/* A handshake decided while the server's library view says its chain
 * was lost waits for the server's own alerts (conn_defer), its flow
 * marked done at the source at once; the agent then stops within the
 * wait. Reported with its outcome, and not lost: the kernel stopped
 * following it because it was decided. */
static void test_deferred_handshake_ended_in_its_wait_is_not_lost(void)
{
	struct pipeline_opts o = { 0 };
	struct run r;
	struct pipeline *pl = deferred_in(&r, &o);

	if (!pl)
		return;
	pipeline_flush(pl, S(1) + 100);
	CHECK_INT(r.handshakes, 1);
	CHECK_INT(r.outcome, HS_FAILED);
	CHECK_INT(pipeline_flows_lost(pl), 0);
	pipeline_free(pl);
}

/* The server's close, later, with its library's reading of the alert. */
static void send_alert_view(struct pipeline *pl, uint64_t ts_us)
{
	struct tw_server_view v = {
		.ts_us = ts_us, .client = ep4(1, 40000), .server = ep4(2, 443),
		.exe = "", .comm = "", .has_alert = true, .alert = 42,
	};

	pipeline_server_view(pl, &v);
}

/* What the waiting is for: the close brings the library's reading, and
 * the handshake is reported at once with it. */
static void test_deferred_handshake_takes_the_reading_its_close_brings(void)
{
	struct pipeline_opts o = { 0 };
	struct run r;
	struct pipeline *pl = deferred_in(&r, &o);

	if (!pl)
		return;
	send_alert_view(pl, S(1) + 200);
	CHECK_INT(r.handshakes, 1);
	CHECK_INT(r.outcome, HS_FAILED);
	CHECK(r.lib_alert);
	CHECK_INT(pipeline_views_unmatched(pl), 0);
	pipeline_free(pl);
}

/*
 * New connections fill the flow table (4 flows) within a waiting
 * handshake's second: its flow, the least recently active (no data of
 * it since its decision), is evicted when the fourth comes, and the
 * handshake reported then, with its outcome, without the reading it
 * waited for; counted once in flows_evicted, not in flows_lost (its
 * source stopped following it on purpose). The reading, when the close
 * brings it, names a connection no longer followed: views_unmatched.
 * Kept as it is: a table turned over within a second has evicted every
 * older flow already, and keeping this one would evict an undecided
 * handshake instead, reported incomplete, a whole handshake lost rather
 * than one detail of a decided one.
 */
static void test_deferred_handshake_is_reported_when_the_flow_table_evicts_it(void)
{
	struct pipeline_opts o = { .flow = { .max_flows = 4 } };
	struct run r;
	struct pipeline *pl = deferred_in(&r, &o);
	uint16_t i;

	if (!pl)
		return;
	for (i = 1; i <= 3; i++)
		send_hello_from(pl, S(1) + 100 + i, 1000, (uint16_t)(40000 + i));
	CHECK_INT(r.handshakes, 0);              /* 4 flows: still waiting */
	send_hello_from(pl, S(1) + 104, 1000, 40004);
	CHECK_INT(r.handshakes, 1);
	CHECK_INT(r.outcome, HS_FAILED);
	CHECK(!r.lib_alert);
	CHECK_INT(pipeline_summary(pl)->problems[SUM_FLOWS_EVICTED], 1);
	CHECK_INT(pipeline_flows_lost(pl), 0);
	send_alert_view(pl, S(1) + 200);
	CHECK_INT(r.handshakes, 1);
	CHECK_INT(pipeline_views_unmatched(pl), 1);
	pipeline_free(pl);
	CHECK_INT(r.handshakes, 5);              /* and the 4 hellos, at the end */
}

/* The same with the handshake memory budget (1 byte: each undecided
 * handshake is over it alone): the next hello evicts the waiting one,
 * the least recently active; reported the same way. */
static void test_deferred_handshake_is_reported_when_the_budget_evicts_it(void)
{
	struct pipeline_opts o = { .max_conn_bytes = 1 };
	struct run r;
	struct pipeline *pl = deferred_in(&r, &o);

	if (!pl)
		return;
	send_hello_from(pl, S(1) + 101, 1000, 40001);
	CHECK_INT(r.handshakes, 1);
	CHECK_INT(r.outcome, HS_FAILED);
	CHECK(!r.lib_alert);
	CHECK_INT(pipeline_summary(pl)->problems[SUM_FLOWS_EVICTED], 1);
	CHECK_INT(pipeline_flows_lost(pl), 0);
	send_alert_view(pl, S(1) + 200);
	CHECK_INT(pipeline_views_unmatched(pl), 1);
	pipeline_free(pl);
}

/* A pipeline whose one handshake the server's alert decided at 1 s. */
static struct pipeline *decided(struct run *r)
{
	struct pipeline *pl = pipeline_for(r, false);

	send_hello(pl, S(1), 1000);
	send_alert(pl, S(1) + 300);
	CHECK_INT(r->handshakes, 1);
	CHECK_INT(r->outcome, HS_FAILED);
	return pl;
}

/* A decided handshake's flow is marked done at the source at the end of
 * the turn (pipeline_tick), not at once... */
static void test_decided_flow_still_open_is_marked_done_at_the_tick(void)
{
	struct run r = { 0 };
	struct pipeline *pl = decided(&r);

	CHECK_INT(r.marked, 0);
	pipeline_tick(pl, S(1) + 400);
	CHECK_INT(r.marked, 1);
	pipeline_tick(pl, S(1) + 500);
	CHECK_INT(r.marked, 1);                  /* once */
	pipeline_free(pl);
}

/* ... and not at all when it closed within the turn: the source (the
 * kernel's flow map) forgot it at its RST or FINs already. */
static void test_decided_flow_closed_in_its_turn_is_not_marked(void)
{
	struct run r = { 0 };
	struct pipeline *pl = decided(&r);

	send_rst(pl, S(1) + 350);
	pipeline_tick(pl, S(1) + 400);
	CHECK_INT(r.marked, 0);
	pipeline_free(pl);
}

/* The server's next records of the flow after its alert, as the kernel
 * copies them while the flow is not marked done: @n of them, neither
 * the flow's start. */
static void send_server_records(struct pipeline *pl, uint64_t ts_us, int n)
{
	static const uint8_t data[] = { 0x17, 0x03, 0x03, 0x00, 0x01, 0x00 };
	int i;

	for (i = 0; i < n; i++) {
		struct tw_segment seg = {
			.ts_us = ts_us + (uint64_t)i, .src = ep4(2, 443),
			.dst = ep4(1, 40000),
			.seq = 5007 + (uint32_t)(i * (int)sizeof(data)),
			.tcp_flags = TW_TCP_ACK | TW_TCP_PSH,
			.payload = data, .len = sizeof(data), .wire_len = sizeof(data),
		};

		pipeline_segment(pl, &seg);
	}
}

/*
 * Live (starts_marked), a flow table of 4 flows: a handshake decided (its
 * flow queued to be marked done at the turn's end), then, in the same
 * turn, four new hellos; the fourth evicts the decided flow, the least
 * recently active. It is marked done at its eviction (the client and
 * server of marked(): 40000 and 443), once, and the turn's end marks
 * nothing more. The kernel, which copies a flow until it is marked,
 * sends nothing more of it then: no record dropped as late. Before, the
 * turn's end no longer found the flow and marked nothing: the kernel kept
 * copying it, and each of its records (3 here) was dropped as late.
 */
static void test_decided_flow_evicted_in_its_turn_is_marked_done(void)
{
	struct run r = { 0 };
	struct pipeline_opts o = {
		.emit = on_event, .emit_ctx = &r,
		.flow_done = marked, .flow_done_ctx = &r,
		.flow = { .max_flows = 4, .starts_marked = true },
	};
	struct pipeline *pl = pipeline_new(&o);
	uint16_t i;

	CHECK(pl != NULL);
	if (!pl)
		return;
	send_hello(pl, S(1), 1000);
	send_alert(pl, S(1) + 300);
	CHECK_INT(r.handshakes, 1);
	CHECK_INT(r.marked, 0);                  /* queued for the tick */
	for (i = 1; i <= 4; i++)
		send_hello_from(pl, S(1) + 300 + i, 1000, (uint16_t)(40000 + i));
	CHECK_INT(pipeline_flow_stats(pl)->flows_evicted, 1);
	CHECK_INT(r.marked, 1);
	pipeline_tick(pl, S(1) + 400);
	CHECK_INT(r.marked, 1);
	if (!r.marked)                           /* the kernel copies on */
		send_server_records(pl, S(1) + 500, 3);
	CHECK_INT(pipeline_flow_stats(pl)->segments_late, 0);
	pipeline_free(pl);
}

/* A FIN of a flow marked done goes to the source (flow_fin): the kernel
 * may have recorded it while the marking was read and written back. A FIN
 * before the marking does not: the marking read it. */
static void test_fin_after_the_marking_goes_to_the_source(void)
{
	struct run r = { 0 }, r2 = { 0 };
	struct pipeline *pl = decided(&r);

	pipeline_tick(pl, S(1) + 400);
	CHECK_INT(r.marked, 1);
	send_client_fin(pl, S(1) + 450);
	CHECK_INT(r.fins, 1);
	pipeline_free(pl);

	pl = decided(&r2);
	send_client_fin(pl, S(1) + 350);
	pipeline_tick(pl, S(1) + 400);
	CHECK_INT(r2.marked, 1);     /* half-closed: still open */
	CHECK_INT(r2.fins, 0);
	pipeline_free(pl);
}

/* What ends a marked flow (an RST, a second FIN) is not applied again:
 * the kernel deletes the entry at an RST in any state, and reported a
 * second FIN only while it still copied the flow, its bits intact. */
static void test_end_after_the_marking_is_not_sent_to_the_source(void)
{
	struct run r = { 0 };
	struct pipeline *pl = decided(&r);

	pipeline_tick(pl, S(1) + 400);
	send_rst(pl, S(1) + 450);
	CHECK_INT(r.marked, 1);
	CHECK_INT(r.fins, 0);
	pipeline_free(pl);
}

/* Clients that send a hello and wait, past both the handshake memory
 * budget (each new one evicts the one before) and the flow table's bound
 * (4 flows): a flow whose handshake the budget evicted, evicted again
 * from the table, is one flow evicted (it was counted twice: more flows
 * evicted than there were). */
static void test_flow_evicted_twice_is_counted_once(void)
{
	struct run r = { 0 };
	struct pipeline_opts o = {
		.emit = on_event, .emit_ctx = &r,
		.flow = { .max_flows = 4 },
		.max_conn_bytes = 1,
	};
	struct pipeline *pl = pipeline_new(&o);
	struct summary *sum;
	int i;

	CHECK(pl != NULL);
	if (!pl)
		return;
	for (i = 0; i < 20; i++)
		send_hello_from(pl, S(1) + (uint64_t)i, 1000, (uint16_t)(40000 + i));
	sum = pipeline_summary(pl);
	CHECK_INT(r.handshakes, 19);          /* each reported, incomplete */
	CHECK_INT(sum->problems[SUM_FLOWS_EVICTED], 19);
	pipeline_free(pl);
}

/* A first record holding a Certificate waits for the message after it
 * (whose it is depends on it): the bytes held are charged to the
 * connection budget, which evicts the least recent holders past it (20
 * flows holding 8192 bytes each, a budget of 40000: 4 stay). At the end,
 * the ones still held are the server's Certificates, reported. */
static void test_held_certificates_are_charged_to_the_budget(void)
{
	struct run r = { 0 };
	struct pipeline_opts o = {
		.emit = on_event, .emit_ctx = &r,
		.max_conn_bytes = 40000,
	};
	struct pipeline *pl = pipeline_new(&o);
	static uint8_t part[8192] = {
		0x16, 0x03, 0x03, 0x3e, 0x80,    /* a record of 16000 bytes */
		0x0b, 0x00, 0x3e, 0x7c,          /* a Certificate of 15996 */
	};
	int i;

	CHECK(pl != NULL);
	if (!pl)
		return;
	for (i = 0; i < 20; i++) {
		struct tw_segment seg = {
			.ts_us = S(1) + (uint64_t)i, .src = ep4(2, 443),
			.dst = ep4(1, (uint16_t)(40000 + i)), .seq = 5000,
			.tcp_flags = TW_TCP_ACK, .payload = part,
			.len = sizeof(part), .wire_len = sizeof(part),
		};
		pipeline_segment(pl, &seg);
	}
	CHECK(pipeline_conn_bytes(pl) <= 40000);
	CHECK(pipeline_conn_bytes(pl) >= 4 * sizeof(part));
	CHECK_INT(pipeline_summary(pl)->problems[SUM_FLOWS_EVICTED], 16);
	CHECK_INT(r.handshakes, 0);
	pipeline_free(pl);
	CHECK_INT(r.handshakes, 4);
	CHECK_INT(r.outcome, HS_INCOMPLETE);
}

int main(void)
{
	RUN_TEST(test_decided_flow_still_open_is_marked_done_at_the_tick);
	RUN_TEST(test_decided_flow_closed_in_its_turn_is_not_marked);
	RUN_TEST(test_decided_flow_evicted_in_its_turn_is_marked_done);
	RUN_TEST(test_fin_after_the_marking_goes_to_the_source);
	RUN_TEST(test_end_after_the_marking_is_not_sent_to_the_source);
	RUN_TEST(test_undecided_handshake_the_source_lost_is_counted);
	RUN_TEST(test_undecided_handshake_the_source_follows_is_not_lost);
	RUN_TEST(test_reset_handshake_is_not_asked_about);
	RUN_TEST(test_restarted_flow_counts_the_old_handshake_lost);
	RUN_TEST(test_deferred_handshake_ended_in_its_wait_is_not_lost);
	RUN_TEST(test_deferred_handshake_takes_the_reading_its_close_brings);
	RUN_TEST(test_deferred_handshake_is_reported_when_the_flow_table_evicts_it);
	RUN_TEST(test_deferred_handshake_is_reported_when_the_budget_evicts_it);
	RUN_TEST(test_flow_evicted_twice_is_counted_once);
	RUN_TEST(test_held_certificates_are_charged_to_the_budget);
	RUN_TEST(test_hello_retry_alone_counts_no_version);
	return CHECK_EXIT_CODE();
}
