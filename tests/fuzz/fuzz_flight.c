// SPDX-License-Identifier: MIT
/*
 * Structure-aware: the fuzzer's bytes are not sent as they are, they
 * choose a TLS handshake and how TCP carries it.
 *
 * The handshake: a ClientHello (cipher suites, SNI, ALPN, versions, key
 * share, status_request, repeated extensions, an arbitrary one), the
 * server's flight (TLS 1.2: ServerHello, Certificate of arbitrary blobs,
 * CertificateStatus, ServerHelloDone; TLS 1.3: ServerHello with or without
 * a PSK, ChangeCipherSpec, encrypted records, or a HelloRetryRequest and
 * the client's second hello), the client's second flight and the server's
 * last one (an encrypted alert's size when chosen), with optional
 * plaintext alerts, and handshake messages split over records of a chosen
 * size; and past the parser's bounds: SNI longer than 255 bytes, more than
 * 8 ALPN protocols, 8 alerts or 10 certificates, a Certificate message
 * above 4 KiB, Certificate and CertificateStatus sent twice, SSL 3.0 to
 * TLS 1.1 in the ServerHello; a TLS 1.3 Certificate in clear, a second
 * encrypted record after the client's ChangeCipherSpec. FUZZ_FLIGHT_SHOW=1 prints the events of each input run.
 * Input: the record size, two bytes of flags (PLAN_FLAGS), then whatever
 * the generators take.
 *
 * The TCP side: SYN and SYN-ACK, initial sequence numbers anywhere
 * (wrapping past 2^32 when chosen), each flight cut into segments of
 * chosen sizes, plus retransmissions and overlapping segments (of the
 * same bytes), shuffled within the flight; flights stay in order.
 *
 * Property: the events (handshake, cert) are the same, byte for byte, as
 * when each flight is sent in order as a single segment. The pipeline
 * runs under ASan (no crash, no leak) with out-of-order limits above
 * what a flight can hold, so nothing may be evicted.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "event/event_json.h"
#include "pipeline/pipeline.h"
#include "fuzz_input.h"
#include "strict_parse.h"

#define FLIGHTS 4
#define STREAM_MAX 16384               /* bytes per direction */
#define SEG_MAX 1024                   /* segments per run */
#define TS_US 1795000000000000ULL

struct buf {
	uint8_t b[STREAM_MAX];
	size_t len;
};

static void put(struct buf *b, const void *p, size_t n)
{
	if (n > sizeof(b->b) - b->len)
		n = sizeof(b->b) - b->len;
	memcpy(b->b + b->len, p, n);
	b->len += n;
}

static void put_u(struct buf *b, uint32_t v, int n)
{
	while (n--) {
		uint8_t c = (uint8_t)(v >> (8 * n));

		put(b, &c, 1);
	}
}

static void put_taken(struct buf *b, struct fuzz_input *g, size_t n)
{
	while (n--)
		put_u(b, fuzz_take(g, 1), 1);
}

/* Patches a length field of @n bytes at @at to cover everything after it. */
static void patch_len(struct buf *b, size_t at, int n)
{
	size_t len = b->len - at - (size_t)n;

	for (int i = 0; i < n && at + (size_t)i < sizeof(b->b); i++)
		b->b[at + (size_t)i] = (uint8_t)(len >> (8 * (n - 1 - i)));
}

/* The choices of input bytes 1 and 2, bit by bit: X(name, bit). */
#define PLAN_FLAGS(X)                                                          \
	X(tls13, 0) X(session_id, 1) X(fin, 2) X(certs, 3)                     \
	X(client_alert, 4) X(server_alert, 5) X(fragment, 6) X(isn_wraps, 7)   \
	X(hrr, 8) X(psk, 9) X(staple, 10) X(odd_exts, 11) X(enc_alert, 12)     \
	X(big_cert, 13) X(twice, 14) X(old_version, 15)

struct hs_plan {
#define PLAN_FLAG_FIELD(name, bit) bool name;
	PLAN_FLAGS(PLAN_FLAG_FIELD)
#undef PLAN_FLAG_FIELD
	uint16_t server_version;       /* TLS 1.2 path: SSL 3.0 .. TLS 1.2 */
	uint16_t cipher;
	size_t record_max;             /* handshake bytes per record */
};

static const uint16_t suites[] = { 0x1301, 0x1302, 0x1303, 0xc02f, 0xc030, 0xc02b,
				   0x009c, 0x0035, 0x0a0a, 0x00ff };

static void client_extensions(struct buf *m, struct fuzz_input *g, const struct hs_plan *pl)
{
	size_t ext, at;
	uint32_t i, n;

	ext = m->len;
	put_u(m, 0, 2);
	if (fuzz_take(g, 1) & 1) {                      /* server_name */
		put_u(m, 0, 2);
		at = m->len;
		put_u(m, 0, 2);
		put_u(m, 0, 2);                    /* list length, patched */
		put_u(m, 0, 1);                    /* host_name */
		n = fuzz_take(g, 2) % 300;            /* past HS_MAX_SNI too */
		put_u(m, n, 2);
		put_taken(m, g, n);
		patch_len(m, at + 2, 2);
		patch_len(m, at, 2);
	}
	n = fuzz_take(g, 1) % 12;                       /* ALPN, past HS_MAX_ALPN too */
	if (n) {
		put_u(m, 16, 2);
		at = m->len;
		put_u(m, 0, 4);
		for (i = 0; i < n; i++) {
			uint32_t len = 1 + fuzz_take(g, 1) % 8;

			put_u(m, len, 1);
			put_taken(m, g, len);
		}
		patch_len(m, at + 2, 2);
		patch_len(m, at, 2);
	}
	put_u(m, 10, 2), put_u(m, 6, 2), put_u(m, 4, 2), put_u(m, 0x001d, 2), put_u(m, 0x0017, 2);
	put_u(m, 13, 2), put_u(m, 6, 2), put_u(m, 4, 2), put_u(m, 0x0403, 2), put_u(m, 0x0804, 2);
	if (pl->tls13) {
		put_u(m, 43, 2), put_u(m, 5, 2), put_u(m, 4, 1), put_u(m, 0x0304, 2),
			put_u(m, 0x0303, 2);
		put_u(m, 51, 2), put_u(m, 38, 2), put_u(m, 36, 2), put_u(m, 0x001d, 2),
			put_u(m, 32, 2);
		put_taken(m, g, 32);
	}
	if (pl->staple)                            /* status_request */
		put_u(m, 5, 2), put_u(m, 5, 2), put_u(m, 1, 1), put_u(m, 0, 4);
	if (pl->odd_exts) {                        /* point formats; SNI and ALPN again */
		put_u(m, 11, 2), put_u(m, 3, 2), put_u(m, 2, 1), put_u(m, 0x0001, 2);
		put_u(m, 0, 2), put_u(m, 8, 2), put_u(m, 6, 2), put_u(m, 0, 1), put_u(m, 3, 2);
		put(m, "dup", 3);
		put_u(m, 16, 2), put_u(m, 5, 2), put_u(m, 3, 2), put_u(m, 2, 1), put(m, "h3", 2);
	}
	n = fuzz_take(g, 1) % 16;                       /* one the parser may not know */
	if (n) {
		put_u(m, fuzz_take(g, 2), 2);
		put_u(m, n - 1, 2);
		put_taken(m, g, n - 1);
	}
	patch_len(m, ext, 2);
}

/* What both hellos start with: type, length (returned, to patch),
 * legacy version, random, session id. */
static size_t hello_start(struct buf *m, struct fuzz_input *g, const struct hs_plan *pl,
			  uint8_t type, const uint8_t *random)
{
	size_t at;

	put_u(m, type, 1);
	at = m->len;
	put_u(m, 0, 3);
	put_u(m, type == 2 && !pl->tls13 ? pl->server_version : 0x0303, 2);
	if (random)
		put(m, random, 32);
	else
		put_taken(m, g, 32);
	put_u(m, pl->session_id ? 32 : 0, 1);
	if (pl->session_id)
		put_taken(m, g, 32);
	return at;
}

static void client_hello(struct buf *m, struct fuzz_input *g, struct hs_plan *pl)
{
	size_t at = hello_start(m, g, pl, 1, NULL);
	uint32_t i, n = 1 + fuzz_take(g, 1) % 6;

	put_u(m, 2 * n, 2);
	for (i = 0; i < n; i++) {
		uint16_t s = suites[fuzz_take(g, 1) % (sizeof(suites) / sizeof(suites[0]))];

		if (i == 0)
			pl->cipher = s;
		put_u(m, s, 2);
	}
	put_u(m, 1, 1), put_u(m, 0, 1);            /* null compression */
	client_extensions(m, g, pl);
	patch_len(m, at, 3);
}

/* RFC 8446 4.1.3: a HelloRetryRequest is a ServerHello with this random,
 * SHA-256("HelloRetryRequest"), computed here rather than copied. */
static uint8_t hrr_random[32];

static void server_hello(struct buf *m, struct fuzz_input *g, const struct hs_plan *pl,
			 bool retry)
{
	size_t at = hello_start(m, g, pl, 2, retry ? hrr_random : NULL), ext;

	put_u(m, pl->cipher, 2);
	put_u(m, 0, 1);
	ext = m->len;
	put_u(m, 0, 2);
	if (pl->tls13) {
		put_u(m, 43, 2), put_u(m, 2, 2), put_u(m, 0x0304, 2);
		put_u(m, 51, 2), put_u(m, 36, 2), put_u(m, 0x001d, 2), put_u(m, 32, 2);
		put_taken(m, g, 32);
		if (pl->psk && !retry)
			put_u(m, 41, 2), put_u(m, 2, 2), put_u(m, 0, 2);
	}
	patch_len(m, ext, 2);
	patch_len(m, at, 3);
}

/* Certificate with 0-11 arbitrary blobs (past HS_MAX_CHAIN), the first
 * one past the parser's first 4 KiB message buffer when @big. */
static void server_certs(struct buf *m, struct fuzz_input *g, bool big)
{
	size_t at, list;
	uint32_t i, n = fuzz_take(g, 1) % 12;

	put_u(m, 11, 1);
	at = m->len;
	put_u(m, 0, 3);
	list = m->len;
	put_u(m, 0, 3);
	for (i = 0; i < n; i++) {
		uint32_t len = 1 + (uint32_t)(big && i == 0 ? fuzz_take(g, 2) % 6000 : fuzz_take(g, 1));

		put_u(m, len, 3);
		put_taken(m, g, len);
	}
	patch_len(m, list, 3);
	patch_len(m, at, 3);
}

/* CertificateStatus (an OCSP staple of arbitrary bytes). */
static void server_staple(struct buf *m, struct fuzz_input *g)
{
	uint32_t n = fuzz_take(g, 1);

	put_u(m, 22, 1), put_u(m, n + 4, 3), put_u(m, 1, 1), put_u(m, n, 3);
	put_taken(m, g, n);
}

/* Handshake messages @msg as records of at most @max bytes. */
static void records(struct buf *out, const struct buf *msg, size_t max, uint16_t version)
{
	size_t off = 0, n;

	while (off < msg->len) {
		n = msg->len - off < max ? msg->len - off : max;
		put_u(out, 22, 1), put_u(out, version, 2), put_u(out, (uint32_t)n, 2);
		put(out, msg->b + off, n);
		off += n;
	}
}

static void opaque_record(struct buf *out, struct fuzz_input *g, uint8_t type)
{
	uint32_t n = 1 + fuzz_take(g, 1) % 64;

	put_u(out, type, 1), put_u(out, 0x0303, 2), put_u(out, n, 2);
	put_taken(out, g, n);
}

/* 1-10 alerts (past HS_MAX_ALERTS), warning or fatal. */
static void alert(struct buf *out, struct fuzz_input *g)
{
	uint32_t i, n = 1 + fuzz_take(g, 1) % 10;

	for (i = 0; i < n; i++) {
		put_u(out, 21, 1), put_u(out, 0x0303, 2), put_u(out, 2, 2);
		put_u(out, 1 + fuzz_take(g, 1) % 2, 1), put_u(out, fuzz_take(g, 1), 1);
	}
}

/* The byte stream of each direction, and where each flight ends in it. */
struct conv {
	struct buf dir[2];             /* 0 client, 1 server */
	size_t end[FLIGHTS];           /* flight i is direction i & 1 */
};

static void ccs(struct buf *out)
{
	put_u(out, 0x14030300, 4), put_u(out, 0x0101, 2);
}

/* TLS 1.2: ServerHello, Certificate, CertificateStatus, ServerHelloDone. */
static void server_flight12(struct buf *msg, struct fuzz_input *g, const struct hs_plan *pl)
{
	server_hello(msg, g, pl, false);
	for (int i = 0; i < (pl->twice ? 2 : 1); i++) {   /* repeats are ignored */
		if (pl->certs)
			server_certs(msg, g, pl->big_cert);
		if (pl->staple)
			server_staple(msg, g);
	}
	put_u(msg, 14, 1), put_u(msg, 0, 3);
}

/* TLS 1.3 after a HelloRetryRequest: the client's second hello, the
 * server's real ServerHello and its encrypted flight. */
static void build_retry(struct fuzz_input *g, struct conv *c, struct hs_plan *pl)
{
	static struct buf msg;

	msg.len = 0;
	server_hello(&msg, g, pl, true);
	records(&c->dir[1], &msg, pl->record_max, 0x0303);
	ccs(&c->dir[1]);
	c->end[1] = c->dir[1].len;
	msg.len = 0;
	client_hello(&msg, g, pl);
	records(&c->dir[0], &msg, pl->record_max, 0x0303);
	c->end[2] = c->dir[0].len;
	msg.len = 0;
	server_hello(&msg, g, pl, false);
	records(&c->dir[1], &msg, pl->record_max, 0x0303);
	opaque_record(&c->dir[1], g, 23);
	c->end[3] = c->dir[1].len;
}

static void build_handshake(struct fuzz_input *g, struct conv *c, struct hs_plan *pl)
{
	static struct buf msg;
	struct buf *cl = &c->dir[0], *sv = &c->dir[1];

	msg.len = 0;
	client_hello(&msg, g, pl);
	records(cl, &msg, pl->record_max, 0x0301);
	c->end[0] = cl->len;
	if (pl->tls13 && pl->hrr) {
		build_retry(g, c, pl);
		return;
	}
	msg.len = 0;
	if (pl->tls13) {
		server_hello(&msg, g, pl, false);
		if (pl->twice && pl->certs)        /* in clear, where 1.3 encrypts it */
			server_certs(&msg, g, false);
	} else {
		server_flight12(&msg, g, pl);
	}
	records(sv, &msg, pl->record_max, 0x0303);
	if (pl->tls13) {
		ccs(sv);
		opaque_record(sv, g, 23);
	}
	if (pl->server_alert)
		alert(sv, g);
	c->end[1] = sv->len;
	if (pl->client_alert) {
		alert(cl, g);
	} else {
		ccs(cl);
		opaque_record(cl, g, pl->tls13 ? 23 : 22);
		if (pl->twice)                     /* a second "Finished" */
			opaque_record(cl, g, pl->tls13 ? 23 : 22);
	}
	c->end[2] = cl->len;
	if (!pl->tls13) {
		ccs(sv);
		opaque_record(sv, g, 22);
	} else if (pl->enc_alert) {                /* an encrypted alert's size */
		put_u(sv, 0x17030300, 4), put_u(sv, 19, 1);
		put_taken(sv, g, 19);
	} else {
		opaque_record(sv, g, 23);
	}
	c->end[3] = sv->len;
}

/* One segment: direction, stream offset and length, flags. */
struct seg_plan {
	uint8_t dir, flags;
	uint32_t off, len;
};

struct run {
	uint32_t isn[2];
	int n;
	struct seg_plan s[SEG_MAX];
};

static void add_seg(struct run *r, int dir, uint32_t off, uint32_t len, uint8_t flags)
{
	if (r->n < SEG_MAX)
		r->s[r->n++] = (struct seg_plan){ (uint8_t)dir, flags, off, len };
}

static void shuffle(struct run *r, int from, struct fuzz_input *g)
{
	for (int i = r->n - 1; i > from; i--) {
		int j = from + (int)(fuzz_take(g, 1) % (uint32_t)(i - from + 1));
		struct seg_plan t = r->s[i];

		r->s[i] = r->s[j];
		r->s[j] = t;
	}
}

/* Flight @f cut by the fuzzer's sizes, with retransmissions and overlaps
 * of this direction's bytes so far, shuffled. */
static void plan_flight(struct run *r, const struct conv *c, int f, struct fuzz_input *g)
{
	int dir = f & 1, first = r->n;
	uint32_t start = f >= 2 ? (uint32_t)c->end[f - 2] : 0;
	uint32_t end = (uint32_t)c->end[f], off = start, len, extra, i;

	if (end == start)
		return;
	while (off < end) {
		len = g->left ? 1 + fuzz_take(g, 1) : end - off;
		if (len > end - off)
			len = end - off;
		add_seg(r, dir, off, len, TW_TCP_ACK);
		off += len;
	}
	extra = fuzz_take(g, 1) % 4;
	for (i = 0; i < extra; i++) {
		uint32_t a = fuzz_take(g, 2) % end, b = a + 1 + fuzz_take(g, 1);

		add_seg(r, dir, a, (b > end ? end : b) - a, TW_TCP_ACK);
	}
	shuffle(r, first, g);
}

static void plan_whole(struct run *r, const struct conv *c)
{
	for (int f = 0; f < FLIGHTS; f++) {
		uint32_t start = f >= 2 ? (uint32_t)c->end[f - 2] : 0;

		if (c->end[f] > start)
			add_seg(r, f & 1, start, (uint32_t)c->end[f] - start, TW_TCP_ACK);
	}
}

/* --- running a plan through the pipeline */

struct sink {
	struct json_writer j;
	struct buf out;
	int handshakes;
};

static void collect(void *ctx, const struct event *ev)
{
	struct sink *s = ctx;

	if (ev->type == EVENT_SUMMARY)
		return;
	s->handshakes += ev->type == EVENT_HANDSHAKE;
	SP_CHECK(event_json_write(&s->j, ev) == 0);
	put(&s->out, jw_text(&s->j), jw_len(&s->j));
	put(&s->out, "\n", 1);
}

static void push(struct pipeline *pl, const struct run *r, const struct conv *c,
		 int dir, uint32_t off, uint32_t len, uint8_t flags)
{
	static const struct tw_endpoint ep[2] = {
		{ .addr = { .family = 4, .bytes = { 10, 0, 0, 1 } }, .port = 40000 },
		{ .addr = { .family = 4, .bytes = { 10, 0, 0, 2 } }, .port = 443 },
	};
	struct tw_segment seg = {
		.ts_us = TS_US, .src = ep[dir], .dst = ep[!dir],
		.seq = r->isn[dir] + off - ((flags & TW_TCP_SYN) ? 1 : 0),
		.tcp_flags = flags, .wire_len = len, .len = len,
		.payload = c->dir[dir].b + off,
	};

	pipeline_segment(pl, &seg);
}

static void run_plan(const struct run *r, const struct conv *c, bool fin, struct sink *s)
{
	struct pipeline_opts po = { 0 };
	struct pipeline *pl;
	int i;

	po.flow.max_ooo_bytes_per_dir = 4 * STREAM_MAX;   /* nothing evicted */
	po.emit = collect;
	po.emit_ctx = s;
	pl = pipeline_new(&po);
	SP_CHECK(pl);
	push(pl, r, c, 0, 0, 0, TW_TCP_SYN);
	push(pl, r, c, 1, 0, 0, TW_TCP_SYN | TW_TCP_ACK);
	for (i = 0; i < r->n; i++)
		push(pl, r, c, r->s[i].dir, r->s[i].off, r->s[i].len, r->s[i].flags);
	if (fin) {
		push(pl, r, c, 0, (uint32_t)c->dir[0].len, 0, TW_TCP_FIN | TW_TCP_ACK);
		push(pl, r, c, 1, (uint32_t)c->dir[1].len, 0, TW_TCP_FIN | TW_TCP_ACK);
	}
	pipeline_flush(pl, TS_US);
	pipeline_finish(pl, TS_US, 0);
	pipeline_free(pl);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char label[] = "HelloRetryRequest";

	return SHA256((const uint8_t *)label, sizeof(label) - 1, hrr_random) ? 0 : -1;
}

static struct conv conv;
static struct run ref, fuzzed;
static struct sink got_ref, got_fuzzed;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input g = { data, size };
	struct hs_plan pl = { 0 };
	uint32_t record_size = (uint32_t)fuzz_take(&g, 1), flags = (uint32_t)fuzz_take(&g, 1);

	flags |= (uint32_t)fuzz_take(&g, 1) << 8;
#define PLAN_FLAG_SET(name, bit) pl.name = flags >> bit & 1;
	PLAN_FLAGS(PLAN_FLAG_SET)
#undef PLAN_FLAG_SET
	pl.record_max = pl.fragment ? 1 + record_size : 16384;
	pl.server_version = pl.old_version ? 0x0300 + (uint16_t)fuzz_take(&g, 1) % 4 : 0x0303;
	memset(&conv, 0, sizeof(conv));
	build_handshake(&g, &conv, &pl);

	ref.n = fuzzed.n = 0;
	ref.isn[0] = fuzzed.isn[0] = pl.isn_wraps ? 0xffffffffu - fuzz_take(&g, 1) * 16 : fuzz_take(&g, 4);
	ref.isn[1] = fuzzed.isn[1] = fuzz_take(&g, 4);
	plan_whole(&ref, &conv);
	for (int f = 0; f < FLIGHTS; f++)
		plan_flight(&fuzzed, &conv, f, &g);

	got_ref.out.len = got_fuzzed.out.len = 0;
	got_ref.handshakes = got_fuzzed.handshakes = 0;
	jw_init(&got_ref.j);
	jw_init(&got_fuzzed.j);
	run_plan(&ref, &conv, pl.fin, &got_ref);
	run_plan(&fuzzed, &conv, pl.fin, &got_fuzzed);
	jw_free(&got_ref.j);
	jw_free(&got_fuzzed.j);
	if (getenv("FUZZ_FLIGHT_SHOW"))            /* what a seed generates */
		fprintf(stderr, "%.*s", (int)got_ref.out.len, (const char *)got_ref.out.b);
	SP_CHECK(got_ref.handshakes == 1);
	SP_CHECK(got_fuzzed.out.len == got_ref.out.len &&
		 memcmp(got_fuzzed.out.b, got_ref.out.b, got_ref.out.len) == 0);
	return 0;
}
