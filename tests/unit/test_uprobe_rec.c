// SPDX-License-Identifier: MIT
/*
 * The uprobes' records -> the server's view of a connection (uprobe_rec.c),
 * and that view merged into the connection's handshake record
 * (pipeline/server_view.c). Records are built here the way
 * bpf/uprobes.bpf.c and the TC program's bind fill them.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "live/uprobes.h"
#include "pipeline/pipeline_priv.h"
#include "tls/hs_names.h"

/* Records are built here as the kernel reserves them (TW_UP_REC_BYTES,
 * TW_UP_BIND_BYTES): header, info, room for the bytes, tail. */
static uint8_t rec[TW_UP_REC_BYTES];
static struct tw_server_view seen;
static int n_seen;
static uint8_t seen_der[2][TW_UP_CHUNK * 2];
static uint8_t seen_alpn[TW_UP_ALPN_MAX];
static char seen_exe[TW_VIEW_EXE_MAX], seen_comm[16];

/* The view is valid during the call only: what is checked is copied. */
static void on_view(void *ctx, const struct tw_server_view *v)
{
	int i;

	(void)ctx;
	seen = *v;
	snprintf(seen_exe, sizeof(seen_exe), "%s", v->exe ? v->exe : "");
	snprintf(seen_comm, sizeof(seen_comm), "%s", v->comm ? v->comm : "");
	seen.exe = seen_exe;
	seen.comm = seen_comm;
	memcpy(seen_alpn, v->alpn ? v->alpn : (const uint8_t *)"", v->alpn_len);
	seen.alpn = seen_alpn;
	for (i = 0; i < v->n_certs && i < 2; i++) {
		memcpy(seen_der[i], v->certs[i].der, v->certs[i].len);
		seen.certs[i].der = seen_der[i];
	}
	n_seen++;
}

static struct tw_up_info *info_of(void)
{
	return (struct tw_up_info *)(rec + sizeof(struct tw_event));
}

/* One chunk [off, off+len) of certificate @index (of @total bytes, its
 * bytes are (index * 16 + i) & 0xff) of handshake @hs; its record size. */
static size_t cert_rec(uint64_t hs, uint16_t index, uint32_t total,
		       uint32_t off, uint32_t len)
{
	struct tw_event *e = (struct tw_event *)rec;
	struct tw_up_info *in = info_of();
	uint8_t *der = rec + sizeof(*e) + sizeof(*in);
	uint32_t i;

	memset(rec, 0, sizeof(rec));
	e->ts_ns = 1000;
	e->kind = TW_EV_UP_CERT;
	e->wire_len = total;
	e->chunk_off = off;
	e->chunk_len = len;
	in->hs_id = hs;
	in->tgid = 4242;
	in->tid = 4243;
	in->cert_index = index;
	memcpy(in->comm, "nginx", 6);
	if (index == 0) { /* /usr/sbin/nginx, file name first */
		strcpy(in->exe[0], "nginx");
		strcpy(in->exe[1], "sbin");
		strcpy(in->exe[2], "usr");
		in->exe_parts = 3;
	}
	for (i = 0; i < len; i++)
		der[i] = (uint8_t)((index * 16 + off + i) & 0xff);
	return TW_UP_REC_BYTES;
}

/* The server 192.0.2.1:443 sent a packet to 198.51.100.7:40000. */
static size_t bind_rec(uint64_t hs, uint16_t n_certs, uint8_t flags,
		       uint8_t alert, uint8_t alert_sent)
{
	struct tw_event *e = (struct tw_event *)rec;
	struct tw_up_info *in = info_of();

	memset(rec, 0, sizeof(rec));
	e->ts_ns = 2000;
	e->kind = TW_EV_UP_BIND;
	e->family = 4;
	inet_pton(AF_INET, "192.0.2.1", e->saddr);
	inet_pton(AF_INET, "198.51.100.7", e->daddr);
	e->sport = 443;
	e->dport = 40000;
	in->hs_id = hs;
	in->tgid = 4242;
	in->cert_index = n_certs;
	in->flags = flags;
	in->alert = alert;
	in->alert_sent = alert_sent;
	return TW_UP_BIND_BYTES;
}

static void feed(struct up_asm *a, size_t size)
{
	CHECK_INT(up_asm_record(a, rec, size, 0, on_view, NULL), 0);
}

/* SSL_free's record of the ALPN protocol @proto handshake @hs selected. */
static size_t alpn_rec(uint64_t hs, const char *proto, size_t len)
{
	struct tw_event *e = (struct tw_event *)rec;
	struct tw_up_info *in = info_of();

	memset(rec, 0, sizeof(rec));
	e->ts_ns = 1500;
	e->kind = TW_EV_UP_ALPN;
	e->wire_len = len;
	e->chunk_len = len;
	in->hs_id = hs;
	in->tgid = 4242;
	in->flags = TW_UPF_ALPN;
	memcpy(rec + sizeof(*e) + sizeof(*in), proto, len);
	return TW_UP_REC_BYTES;
}

static void test_alpn_then_bind_reaches_the_view_with_the_alerts(void)
{
	struct up_asm *a = up_asm_new();

	n_seen = 0;
	feed(a, alpn_rec(21, "h2", 2));
	CHECK_INT(n_seen, 0); /* waits for the packet that names it */
	feed(a, bind_rec(21, 0, TW_UPF_ALPN | TW_UPF_ALERT, 48, 0));
	CHECK_INT(n_seen, 1);
	CHECK_INT(seen.alpn_len, 2);
	CHECK(!memcmp(seen.alpn, "h2", 2));
	CHECK(seen.has_alert && seen.alert == 48);
	CHECK_INT(seen.n_certs, 0);
	CHECK(!seen.chain_lost); /* no chain was announced */
	CHECK_INT(up_asm_stats(a)->alpns_bound, 1);
	/* its slot went with the bind: the same id again names nothing */
	feed(a, bind_rec(21, 0, TW_UPF_ALPN, 0, 0));
	CHECK_INT(n_seen, 2);
	CHECK_INT(seen.alpn_len, 0);
	CHECK_INT(up_asm_stats(a)->alpns_bound, 1);
	up_asm_free(a);
}

static void test_longest_alpn_is_kept_whole(void)
{
	struct up_asm *a = up_asm_new();
	char proto[TW_UP_ALPN_MAX];

	memset(proto, 'x', sizeof(proto));
	proto[0] = 'a';
	proto[TW_UP_ALPN_MAX - 1] = 'z';
	n_seen = 0;
	feed(a, alpn_rec(22, proto, sizeof(proto)));
	feed(a, bind_rec(22, 0, TW_UPF_ALPN, 0, 0));
	CHECK_INT(n_seen, 1);
	CHECK_INT(seen.alpn_len, TW_UP_ALPN_MAX);
	CHECK(!memcmp(seen.alpn, proto, sizeof(proto)));
	up_asm_free(a);
}

/* A protocol nobody bound (a client's SSL freed) ages out uncounted: it
 * is no lost chain. */
static void test_unbound_alpn_is_no_unbound_chain(void)
{
	struct up_asm *a = up_asm_new();
	size_t n;

	feed(a, alpn_rec(24, "h2", 2));
	n = cert_rec(25, 0, 10, 0, 10);
	((struct tw_event *)rec)->ts_ns = 10ull * 1000000000; /* 10 s later */
	feed(a, n);
	CHECK_INT(up_asm_stats(a)->chains_unbound, 0);
	n_seen = 0;
	feed(a, bind_rec(24, 0, TW_UPF_ALPN, 0, 0)); /* its slot went */
	CHECK_INT(n_seen, 1);
	CHECK_INT(seen.alpn_len, 0);
	up_asm_free(a);
}

static void test_bad_alpn_records_are_refused(void)
{
	struct up_asm *a = up_asm_new();
	size_t n;

	n = alpn_rec(23, "", 0);                                  /* empty */
	CHECK(up_asm_record(a, rec, n, 0, on_view, NULL) < 0);
	alpn_rec(23, "http/1.1", 8);                              /* cut: */
	n = sizeof(struct tw_event) + sizeof(struct tw_up_info) + 7 + /* room */
	    sizeof(struct tw_event_tail);                              /* for 7 */
	CHECK(up_asm_record(a, rec, n, 0, on_view, NULL) < 0);
	((struct tw_event *)rec)->chunk_len = TW_UP_ALPN_MAX + 1;  /* too long */
	((struct tw_event *)rec)->wire_len = TW_UP_ALPN_MAX + 1;
	CHECK(up_asm_record(a, rec, sizeof(rec), 0, on_view, NULL) < 0);
	n = alpn_rec(23, "h2", 2);
	((struct tw_event *)rec)->chunk_off = 1;                   /* not whole */
	CHECK(up_asm_record(a, rec, n, 0, on_view, NULL) < 0);
	CHECK_INT(up_asm_stats(a)->bad_records, 4);
	up_asm_free(a);
}

/* Handshake id 0 marks a free slot (the kernel counts from 1): records
 * under it are refused, else their bytes stayed in a free slot and the
 * next handshake to take it served them (found by fuzz_uprobe_rec). */
static void test_records_under_handshake_id_0_are_refused(void)
{
	struct up_asm *a = up_asm_new();
	size_t n;

	n = alpn_rec(0, "h2", 2);
	CHECK_INT(up_asm_record(a, rec, n, 0, on_view, NULL), -EINVAL);
	n = cert_rec(0, 0, 10, 0, 10);
	CHECK_INT(up_asm_record(a, rec, n, 0, on_view, NULL), -EINVAL);
	CHECK_INT(up_asm_stats(a)->bad_records, 2);
	n_seen = 0;
	feed(a, cert_rec(31, 0, 10, 0, 10));
	feed(a, bind_rec(31, 1, TW_UPF_CHAIN | TW_UPF_ALPN, 0, 0));
	CHECK_INT(n_seen, 1);
	CHECK_INT(seen.alpn_len, 0); /* not hs 0's "h2" */
	CHECK_INT(seen.n_certs, 1);
	CHECK_INT(seen.certs[0].len, 10);
	CHECK(seen.n_certs == 1 && seen.certs[0].der[9] == 9);
	/* a bind under 0 finds no chain: lost, not bound with none */
	feed(a, bind_rec(0, 0, TW_UPF_CHAIN, 0, 0));
	CHECK_INT(n_seen, 2);
	CHECK(seen.chain_lost);
	CHECK_INT(up_asm_stats(a)->chains_bound, 1);
	CHECK_INT(up_asm_stats(a)->chains_lost, 1);
	up_asm_free(a);
}

static void test_chain_in_chunks_is_joined_to_the_bound_connection(void)
{
	struct up_asm *a = up_asm_new();
	char ip[TW_ADDR_STRLEN];

	n_seen = 0;
	feed(a, cert_rec(7, 0, 5000, 0, TW_UP_CHUNK));
	feed(a, cert_rec(7, 0, 5000, TW_UP_CHUNK, 5000 - TW_UP_CHUNK));
	feed(a, cert_rec(7, 1, 300, 0, 300));
	CHECK_INT(n_seen, 0); /* nothing until a packet names the connection */
	feed(a, bind_rec(7, 2, TW_UPF_CHAIN, 0, 0));
	CHECK_INT(n_seen, 1);
	CHECK_INT(seen.n_certs, 2);
	CHECK_INT(seen.certs[0].len, 5000);
	CHECK_INT(seen.certs[0].der[4999], (4999) & 0xff);
	CHECK_INT(seen.certs[0].der[TW_UP_CHUNK], TW_UP_CHUNK & 0xff);
	CHECK_INT(seen.certs[1].len, 300);
	CHECK_INT(seen.certs[1].der[0], 16);
	CHECK_STR(tw_addr_format(&seen.server.addr, ip), "192.0.2.1");
	CHECK_INT(seen.server.port, 443);
	CHECK_STR(tw_addr_format(&seen.client.addr, ip), "198.51.100.7");
	CHECK_INT(seen.client.port, 40000);
	CHECK_INT(seen.pid, 4242);
	CHECK_STR(seen.exe, "/usr/sbin/nginx");
	CHECK_STR(seen.comm, "nginx");
	CHECK(!seen.chain_lost && !seen.has_alert && !seen.has_alert_sent);
	CHECK_INT(up_asm_stats(a)->chains_bound, 1);
	up_asm_free(a);
}

static void test_missing_chunk_reports_the_chain_lost(void)
{
	struct up_asm *a = up_asm_new();

	n_seen = 0;
	feed(a, cert_rec(8, 0, 5000, 0, TW_UP_CHUNK)); /* its second chunk lost */
	feed(a, cert_rec(8, 1, 300, 0, 300));
	feed(a, bind_rec(8, 2, TW_UPF_CHAIN, 0, 0));
	CHECK_INT(n_seen, 1);
	CHECK(seen.chain_lost);
	CHECK_INT(seen.n_certs, 0);
	CHECK_INT(up_asm_stats(a)->chains_lost, 1);
	up_asm_free(a);
}

static void test_certificate_too_big_is_counted_and_the_chain_lost(void)
{
	struct up_asm *a = up_asm_new();
	size_t n = cert_rec(9, 0, 100000, 0, 0);

	info_of()->flags = TW_UPF_TOO_BIG;
	n_seen = 0;
	feed(a, n);
	feed(a, bind_rec(9, 1, TW_UPF_CHAIN, 0, 0));
	CHECK(seen.chain_lost);
	CHECK_INT(up_asm_stats(a)->certs_too_big, 1);
	up_asm_free(a);
}

static void test_certificate_announced_but_never_seen_loses_the_chain(void)
{
	struct up_asm *a = up_asm_new();

	n_seen = 0;
	feed(a, cert_rec(10, 0, 300, 0, 300));
	/* the kernel served 2, one record was lost to a full ring */
	feed(a, bind_rec(10, 2, TW_UPF_CHAIN, 0, 0));
	CHECK(seen.chain_lost);
	up_asm_free(a);
}

static void test_alerts_read_and_sent_reach_the_view(void)
{
	struct up_asm *a = up_asm_new();

	n_seen = 0;
	feed(a, bind_rec(0, 0, TW_UPF_ALERT | TW_UPF_ALERT_SENT, 48, 116));
	CHECK_INT(n_seen, 1);
	CHECK(seen.has_alert && seen.alert == 48);
	CHECK(seen.has_alert_sent && seen.alert_sent == 116);
	CHECK_INT(seen.n_certs, 0);
	CHECK(!seen.chain_lost);
	up_asm_free(a);
}

/* An IPv6 connection's addresses are in the BIND record's tail. */
static void test_ipv6_bind_names_the_connection_from_the_tail(void)
{
	struct up_asm *a = up_asm_new();
	struct tw_event_tail *t;
	char s[TW_ADDR_STRLEN];
	size_t n;

	n_seen = 0;
	n = bind_rec(0, 0, TW_UPF_ALERT, 48, 0);
	t = (struct tw_event_tail *)(rec + n - sizeof(*t));
	((struct tw_event *)rec)->family = 6;
	inet_pton(AF_INET6, "2001:db8::1", t->saddr6);
	inet_pton(AF_INET6, "2001:db8::7", t->daddr6);
	feed(a, n);
	CHECK_INT(n_seen, 1);
	CHECK_STR(tw_addr_format(&seen.server.addr, s), "2001:db8::1");
	CHECK_INT(seen.server.port, 443);
	CHECK_STR(tw_addr_format(&seen.client.addr, s), "2001:db8::7");
	CHECK_INT(seen.client.port, 40000);
	up_asm_free(a);
}

static void test_short_or_unknown_records_are_refused(void)
{
	struct up_asm *a = up_asm_new();
	size_t n;

	CHECK(up_asm_record(a, rec, sizeof(struct tw_event), 0, on_view, NULL) < 0);
	cert_rec(11, 0, 300, 0, 300);
	/* no room for its 300 bytes and the tail: cut */
	n = sizeof(struct tw_event) + sizeof(struct tw_up_info) + 300 +
	    sizeof(struct tw_event_tail);
	CHECK(up_asm_record(a, rec, n - 1, 0, on_view, NULL) < 0);
	n = cert_rec(11, 0, 300, 200, 300);                         /* past its end */
	CHECK(up_asm_record(a, rec, n, 0, on_view, NULL) < 0);
	n = bind_rec(11, 1, TW_UPF_CHAIN, 0, 0);
	((struct tw_event *)rec)->family = 5;
	CHECK(up_asm_record(a, rec, n, 0, on_view, NULL) < 0);
	CHECK_INT(up_asm_stats(a)->bad_records, 4);
	up_asm_free(a);
}

/* --- the merge into the handshake record */

static struct tw_server_view view_with_chain(const uint8_t *der, uint32_t len)
{
	struct tw_server_view v;

	memset(&v, 0, sizeof(v));
	v.pid = 4242;
	v.exe = "/usr/sbin/nginx";
	v.comm = "nginx";
	v.n_certs = 1;
	v.certs[0].der = der;
	v.certs[0].len = len;
	return v;
}

static void test_tls13_record_gets_the_served_chain(void)
{
	static const uint8_t der[] = { 0x30, 0x03, 0x02, 0x01, 0x05 };
	struct tw_server_view v = view_with_chain(der, sizeof(der));
	struct conn_server *cs = NULL;
	struct hs_record r;

	hs_record_init(&r);
	r.outcome = HS_OK;
	CHECK_INT(conn_server_add(&cs, &v), 0);
	conn_server_apply(cs, &r);
	CHECK_INT(r.n_chain, 1);
	CHECK(r.chain_from_server);
	CHECK_INT(r.chain[0].len, 5);
	CHECK_INT(r.chain[0].data[4], 5);
	CHECK_INT(r.server_pid, 4242);
	CHECK_STR(r.server_exe, "/usr/sbin/nginx");
	CHECK_STR(r.server_comm, "nginx");
	conn_server_free(cs);
	hs_record_release(&r);
}

static void test_wire_chain_wins_over_the_served_one(void)
{
	static const uint8_t der[] = { 0x30, 0x00 };
	struct tw_server_view v = view_with_chain(der, sizeof(der));
	struct conn_server *cs = NULL;
	struct hs_record r;

	hs_record_init(&r);
	r.n_chain = 1;
	r.chain[0].data = malloc(3);
	r.chain[0].len = 3;
	CHECK_INT(conn_server_add(&cs, &v), 0);
	conn_server_apply(cs, &r);
	CHECK_INT(r.chain[0].len, 3);
	CHECK(!r.chain_from_server);
	CHECK_INT(r.server_pid, 4242); /* who served it is still said */
	conn_server_free(cs);
	hs_record_release(&r);
}

static void test_encrypted_guess_is_replaced_by_the_library_alert(void)
{
	static const uint8_t der[] = { 0x30, 0x00 };
	struct tw_server_view v = view_with_chain(der, sizeof(der));
	struct conn_server *cs = NULL;
	struct hs_record r;

	hs_record_init(&r);
	r.outcome = HS_FAILED;
	r.n_alerts = 1;
	r.alerts[0] = (struct hs_alert){ .from_client = false, .encrypted = true,
					 .level = HS_ALERT_UNKNOWN, .description = 255 };
	CHECK_INT(conn_server_add(&cs, &v), 0);
	CHECK(conn_server_awaits_alert(cs, &r)); /* the close brings it */
	v.n_certs = 0;
	v.has_alert_sent = true;
	v.alert_sent = 116;
	CHECK_INT(conn_server_add(&cs, &v), 0);
	CHECK(!conn_server_awaits_alert(cs, &r));
	conn_server_apply(cs, &r);
	CHECK_INT(r.n_alerts, 1);
	CHECK(!r.alerts[0].encrypted && r.alerts[0].from_server_lib);
	CHECK_INT(r.alerts[0].description, 116);
	CHECK_INT(r.alerts[0].level, HS_ALERT_FATAL);
	CHECK(!r.alerts[0].from_client);
	conn_server_free(cs);
	hs_record_release(&r);
}

static void test_alert_read_without_a_wire_alert_is_added_and_fails(void)
{
	struct tw_server_view v;
	struct conn_server *cs = NULL;
	struct hs_record r;

	memset(&v, 0, sizeof(v));
	v.has_alert = true;
	v.alert = 48;
	hs_record_init(&r);
	r.outcome = HS_ABORTED;
	CHECK_INT(conn_server_add(&cs, &v), 0);
	conn_server_apply(cs, &r);
	CHECK_INT(r.n_alerts, 1);
	CHECK(r.alerts[0].from_client && r.alerts[0].from_server_lib);
	CHECK_INT(r.alerts[0].description, 48);
	CHECK_INT(r.outcome, HS_FAILED);
	CHECK_INT(r.server_pid, 0); /* an alert alone says no process */
	conn_server_free(cs);
	hs_record_release(&r);
}

/* The alert the server read, on a record whose 8 alert slots the wire
 * filled (the server's warnings): it cannot be added, and that is said. */
static void test_alert_read_past_eight_wire_alerts_is_said_cut(void)
{
	struct tw_server_view v;
	struct conn_server *cs = NULL;
	struct hs_record r;
	int i;

	memset(&v, 0, sizeof(v));
	v.has_alert = true;
	v.alert = 48;
	hs_record_init(&r);
	r.outcome = HS_ABORTED;
	for (i = 0; i < HS_MAX_ALERTS; i++)
		r.alerts[r.n_alerts++] = (struct hs_alert){ .level = HS_ALERT_WARNING,
							   .description = 112 };
	CHECK_INT(conn_server_add(&cs, &v), 0);
	conn_server_apply(cs, &r);
	CHECK_INT(r.n_alerts, HS_MAX_ALERTS);
	CHECK(r.alerts_truncated);
	CHECK_INT(r.outcome, HS_FAILED);
	conn_server_free(cs);
	hs_record_release(&r);
}

/* A handshake of @version that finished, the client offering 2 ALPNs. */
static void alpn_offered(struct hs_record *r, uint16_t version)
{
	static const char *const offer[2] = { "h2", "http/1.1" };
	struct hs_string *names;
	int i;

	hs_record_init(r);
	r->outcome = HS_OK;
	r->version = version;
	names = hs_record_alloc_alpn(r, 2);
	CHECK(names != NULL);
	for (i = 0; names && i < 2; i++) {
		names[i].len = (uint8_t)strlen(offer[i]);
		memcpy(names[i].bytes, offer[i], names[i].len + 1);
	}
}

/* A proxy's upstream SSL freed on the thread: its protocol, not offered
 * by this connection's client, is not this connection's. */
static void test_alpn_the_client_did_not_offer_is_not_taken(void)
{
	struct tw_server_view v;
	struct conn_server *cs = NULL;
	struct hs_record r;

	alpn_offered(&r, 0x0304);
	memset(&v, 0, sizeof(v));
	v.alpn = (const uint8_t *)"h3";
	v.alpn_len = 2;
	CHECK_INT(conn_server_add(&cs, &v), 0);
	conn_server_apply(cs, &r);
	CHECK(!r.has_alpn_selected);
	CHECK_INT(hs_record_alpn_slot(&r), HS_ALPN_ENCRYPTED);
	conn_server_free(cs);
	hs_record_release(&r);
}

static void test_tls13_record_gets_the_selected_alpn(void)
{
	static const uint8_t der[] = { 0x30, 0x00 };
	struct tw_server_view v = view_with_chain(der, sizeof(der));
	struct conn_server *cs = NULL;
	struct hs_record r;

	alpn_offered(&r, 0x0304);
	CHECK(!conn_server_awaits_alpn(cs, false, &r)); /* no library followed */
	CHECK_INT(conn_server_add(&cs, &v), 0);
	CHECK(conn_server_awaits_alpn(cs, false, &r));  /* the close brings it */
	CHECK_INT(hs_record_alpn_slot(&r), HS_ALPN_ENCRYPTED);
	memset(&v, 0, sizeof(v));
	v.alpn = (const uint8_t *)"h2";
	v.alpn_len = 2;
	CHECK_INT(conn_server_add(&cs, &v), 0);
	CHECK(!conn_server_awaits_alpn(cs, false, &r));
	conn_server_apply(cs, &r);
	CHECK(r.has_alpn_selected);
	CHECK_INT(r.alpn_selected.len, 2);
	CHECK_STR(r.alpn_selected.bytes, "h2");
	CHECK_STR(hs_alpn_slot_name(hs_record_alpn_slot(&r)), "h2");
	conn_server_free(cs);
	hs_record_release(&r);
}

/* A resumed TLS 1.3 connection serves no chain: on a server whose library
 * served one before, it waits for the protocol read at SSL_free, which
 * also names the process that served it. */
static void test_resumed_tls13_waits_on_a_followed_server(void)
{
	struct tw_server_view v;
	struct conn_server *cs = NULL;
	struct hs_record r;

	alpn_offered(&r, 0x0304);
	r.resumed = true;
	CHECK(!conn_server_awaits_alpn(cs, false, &r)); /* a server never followed */
	CHECK(conn_server_awaits_alpn(cs, true, &r));
	memset(&v, 0, sizeof(v));
	v.pid = 4242;
	v.exe = "/usr/sbin/nginx";
	v.comm = "nginx";
	v.alpn = (const uint8_t *)"h2";
	v.alpn_len = 2;
	CHECK_INT(conn_server_add(&cs, &v), 0);
	CHECK(!conn_server_awaits_alpn(cs, true, &r)); /* it came */
	conn_server_apply(cs, &r);
	CHECK(r.has_alpn_selected);
	CHECK_STR(r.alpn_selected.bytes, "h2");
	CHECK_INT(r.server_pid, 4242);
	CHECK_STR(r.server_exe, "/usr/sbin/nginx");
	CHECK_STR(r.server_comm, "nginx");
	CHECK_INT(r.n_chain, 0);
	conn_server_free(cs);
	hs_record_release(&r);
}

static void test_wire_alpn_wins_and_tls12_or_no_offer_does_not_wait(void)
{
	static const uint8_t der[] = { 0x30, 0x00 };
	struct tw_server_view v = view_with_chain(der, sizeof(der));
	struct conn_server *cs = NULL;
	struct hs_record r;

	alpn_offered(&r, 0x0303);
	r.has_alpn_selected = true;
	r.alpn_selected.len = 8;
	memcpy(r.alpn_selected.bytes, "http/1.1", 9);
	CHECK_INT(conn_server_add(&cs, &v), 0);
	CHECK(!conn_server_awaits_alpn(cs, false, &r)); /* TLS 1.2 showed it */
	r.version = 0x0304;
	r.has_alpn_selected = false;
	r.n_alpn = 0;
	CHECK(!conn_server_awaits_alpn(cs, false, &r)); /* nothing offered */
	r.has_alpn_selected = true;
	v.n_certs = 0;
	v.alpn = (const uint8_t *)"h2";
	v.alpn_len = 2;
	CHECK_INT(conn_server_add(&cs, &v), 0);
	conn_server_apply(cs, &r);
	CHECK_STR(r.alpn_selected.bytes, "http/1.1"); /* the wire's stays */
	conn_server_free(cs);
	hs_record_release(&r);
}

/* The offsets measured in the libssl this test links: the ALPN pointer
 * 8-aligned, the server flag 4-aligned, none colliding, all fitting
 * SSL_free's attach cookie. */
static void test_calibration_finds_the_alpn_and_server_next_to_no_alert(void)
{
	struct uprobe_alert_offsets o = uprobe_calibrate();
	uint64_t cookie = uprobe_offsets_cookie(o);

	CHECK(o.alpn > 0 && o.alpn % 8 == 0);
	CHECK(o.sent > 0 && o.read > 0);
	CHECK(o.alpn + 16 <= o.sent || o.alpn >= o.sent + 2);
	CHECK(o.alpn + 16 <= o.read || o.alpn >= o.read + 4);
	CHECK_INT((long)((cookie >> (TW_UP_OFF_ALPN * TW_UP_OFF_BITS)) & TW_UP_OFF_MASK),
		  o.alpn);
	CHECK_INT((long)((cookie >> (TW_UP_OFF_SENT * TW_UP_OFF_BITS)) & TW_UP_OFF_MASK),
		  o.sent);
	CHECK_INT((long)((cookie >> (TW_UP_OFF_READ * TW_UP_OFF_BITS)) & TW_UP_OFF_MASK),
		  o.read);
	CHECK_INT(uprobe_calibrate_alpn(), o.alpn); /* the same, again */
	/* the int of SSL_is_server(): 4-aligned, apart from the others */
	CHECK(o.server > 0 && o.server % 4 == 0);
	CHECK(o.server + 4 <= o.alpn || o.server >= o.alpn + 16);
	CHECK(o.server + 4 <= o.sent || o.server >= o.sent + 2);
	CHECK(o.server + 4 <= o.read || o.server >= o.read + 4);
	CHECK_INT((long)((cookie >> (TW_UP_OFF_SERVER * TW_UP_OFF_BITS)) & TW_UP_OFF_MASK),
		  o.server);
	o.alpn = TW_UP_OFF_MASK + 8;               /* does not fit: left out */
	CHECK_INT((uprobe_offsets_cookie(o) >> (TW_UP_OFF_ALPN * TW_UP_OFF_BITS)) &
		  TW_UP_OFF_MASK, 0);
}

/* The pid of a process that died is reused by another server: its chain
 * names another executable, which replaces the cached one, and its
 * resumed connections (no chain: the executable from the cache) get it. */
static void test_reused_pid_replaces_the_cached_executable(void)
{
	struct up_asm *a = up_asm_new();

	n_seen = 0;
	feed(a, cert_rec(7, 0, 300, 0, 300));
	feed(a, bind_rec(7, 1, TW_UPF_CHAIN, 0, 0));
	CHECK_STR(seen.exe, "/usr/sbin/nginx");
	cert_rec(8, 0, 300, 0, 300);             /* /usr/bin/caddy, pid 4242 */
	strcpy(info_of()->exe[0], "caddy");
	strcpy(info_of()->exe[1], "bin");
	feed(a, TW_UP_REC_BYTES);
	feed(a, bind_rec(8, 1, TW_UPF_CHAIN, 0, 0));
	CHECK_STR(seen.exe, "/usr/bin/caddy");
	feed(a, alpn_rec(9, "h2", 2));
	feed(a, bind_rec(9, 0, TW_UPF_ALPN, 0, 0));
	CHECK_INT(n_seen, 3);
	CHECK_INT(seen.alpn_len, 2);
	CHECK_STR(seen.exe, "/usr/bin/caddy");
	up_asm_free(a);
}

int main(void)
{
	RUN_TEST(test_reused_pid_replaces_the_cached_executable);
	RUN_TEST(test_chain_in_chunks_is_joined_to_the_bound_connection);
	RUN_TEST(test_missing_chunk_reports_the_chain_lost);
	RUN_TEST(test_certificate_too_big_is_counted_and_the_chain_lost);
	RUN_TEST(test_certificate_announced_but_never_seen_loses_the_chain);
	RUN_TEST(test_alerts_read_and_sent_reach_the_view);
	RUN_TEST(test_ipv6_bind_names_the_connection_from_the_tail);
	RUN_TEST(test_short_or_unknown_records_are_refused);
	RUN_TEST(test_alpn_then_bind_reaches_the_view_with_the_alerts);
	RUN_TEST(test_longest_alpn_is_kept_whole);
	RUN_TEST(test_unbound_alpn_is_no_unbound_chain);
	RUN_TEST(test_bad_alpn_records_are_refused);
	RUN_TEST(test_records_under_handshake_id_0_are_refused);
	RUN_TEST(test_tls13_record_gets_the_served_chain);
	RUN_TEST(test_wire_chain_wins_over_the_served_one);
	RUN_TEST(test_encrypted_guess_is_replaced_by_the_library_alert);
	RUN_TEST(test_alert_read_without_a_wire_alert_is_added_and_fails);
	RUN_TEST(test_alert_read_past_eight_wire_alerts_is_said_cut);
	RUN_TEST(test_tls13_record_gets_the_selected_alpn);
	RUN_TEST(test_resumed_tls13_waits_on_a_followed_server);
	RUN_TEST(test_wire_alpn_wins_and_tls12_or_no_offer_does_not_wait);
	RUN_TEST(test_alpn_the_client_did_not_offer_is_not_taken);
	RUN_TEST(test_calibration_finds_the_alpn_and_server_next_to_no_alert);
	return CHECK_EXIT_CODE();
}
