// SPDX-License-Identifier: MIT
/*
 * Fuzzes TCP reassembly. The input is a list of segment descriptors over a
 * fixed 4 KiB stream per direction; the harness keeps its own model of
 * where each direction's delivery must start and checks, in the data
 * callback, that every delivered byte equals the stream at the right
 * offset, never past its end, never after a gap, never on an ended flow.
 *
 * Input: 2 config bytes, then 4 bytes per segment:
 *   cfg0: bits 0-1 caps, bits 2-3 consumer action (1 mark done, 2 mark
 *         ignored) once more than (bits 4-7) * 256 bytes were delivered
 *   cfg1: picks the initial sequence numbers (direction 0 wraps 2^32)
 *   b0: bit0 direction, bit1 SYN, bit2 FIN, bit3 RST, bit4 truncated,
 *       bit5 ACK, bit6 advance packet time by 200 s first, bit7 flow_start
 *       (the live source began the flow's handshake phase with this
 *       packet: on a flow already followed, it lost the flow and found it
 *       again; every segment has its own packet time)
 *   b1 | (b2 & 0x0f) << 8: stream offset;  b3 | (b2 >> 4) << 8: length
 * Every ACK acknowledges sequence number 0: where the other side is known
 * only by it, its RSTs are far from it and ignored (flow_seq.c).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "flow/flow.h"

#define STREAM_LEN 4096u

struct fz_dir {
	bool started;
	bool gapped;
	uint32_t start_off;   /* stream offset of the first byte to deliver */
	uint32_t delivered;
};

struct fz {
	struct flow_table *t;
	struct tw_endpoint ep[2];   /* ep[0] is direction 0's sender */
	uint32_t isn[2];
	bool alive;                 /* the model's view: a flow exists */
	struct fz_dir dir[2];
	int cur_dir;                /* the segment being pushed */
	bool cur_syn;
	bool cur_flow_start;
	uint32_t cur_off, cur_len;
	int action;
	uint32_t threshold;
	uint32_t total;
};

static uint8_t stream[2][STREAM_LEN];

static void fz_init_streams(void)
{
	uint32_t x = 0x9e3779b9u;

	for (int d = 0; d < 2; d++) {
		for (uint32_t i = 0; i < STREAM_LEN; i++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			stream[d][i] = (uint8_t)x;
		}
	}
}

#define FZ_ASSERT(c) do { if (!(c)) __builtin_trap(); } while (0)

static int fz_dir_of(struct fz *z, struct flow *f, int from)
{
	return tw_endpoint_equal(&f->ep[from], &z->ep[0]) ? 0 : 1;
}

static void fz_data(void *ctx, struct flow *f, int from, const uint8_t *p,
		    size_t n, uint64_t ts_us)
{
	struct fz *z = ctx;
	int d = fz_dir_of(z, f, from);
	struct fz_dir *zd = &z->dir[d];

	FZ_ASSERT(z->alive);
	FZ_ASSERT(zd->started && !zd->gapped);
	FZ_ASSERT(f->state == FLOW_TRACKED);
	FZ_ASSERT(n > 0);
	uint32_t off = zd->start_off + zd->delivered;
	FZ_ASSERT(off <= STREAM_LEN && n <= STREAM_LEN - off);
	FZ_ASSERT(memcmp(p, stream[d] + off, n) == 0);
	zd->delivered += (uint32_t)n;
	z->total += (uint32_t)n;
	if (z->total > z->threshold) {
		if (z->action == 1)
			flow_mark_done(z->t, f);
		else if (z->action == 2)
			flow_mark_ignored(z->t, f);
	}
}

static void fz_gap(void *ctx, struct flow *f, int from, uint64_t ts_us)
{
	struct fz *z = ctx;
	struct fz_dir *zd = &z->dir[fz_dir_of(z, f, from)];

	FZ_ASSERT(z->alive);
	FZ_ASSERT(!zd->gapped);
	zd->gapped = true;
}

static void fz_end(void *ctx, struct flow *f, enum flow_end_reason why,
		   uint64_t ts_us)
{
	struct fz *z = ctx;

	FZ_ASSERT(z->alive);
	z->alive = false;
	if (why == FLOW_END_RESTARTED)
		FZ_ASSERT(z->cur_flow_start);
	if (why == FLOW_END_REOPENED)
		FZ_ASSERT(z->cur_syn || z->cur_flow_start);
	if ((why == FLOW_END_REOPENED || why == FLOW_END_RESTARTED) &&
	    (z->cur_syn || z->cur_len > 0)) {
		/* a new flow starts with this segment */
		z->alive = true;
		memset(z->dir, 0, sizeof(z->dir));
		z->dir[z->cur_dir].started = true;
		z->dir[z->cur_dir].start_off = z->cur_syn ? 0 : z->cur_off;
	}
}

/* Mirrors the flow's creation and each direction's start, before the push. */
static void fz_model(struct fz *z, int d, bool syn, uint32_t off, uint32_t len)
{
	z->cur_dir = d;
	z->cur_syn = syn;
	z->cur_off = off;
	z->cur_len = len;
	if (!z->alive && (syn || len > 0)) {
		z->alive = true;
		memset(z->dir, 0, sizeof(z->dir));
	}
	if (!z->alive || z->dir[d].started)
		return;
	if (syn) {
		z->dir[d].started = true;
		z->dir[d].start_off = 0;
	} else if (len > 0) {
		z->dir[d].started = true;
		z->dir[d].start_off = off;
	}
}

/* A bare ACK between two other hosts: creates no flow, moves the clock. */
static void fz_tick(struct fz *z, uint64_t ts_us)
{
	struct tw_segment seg = {
		.ts_us = ts_us, .src = z->ep[0], .dst = z->ep[0],
		.tcp_flags = TW_TCP_ACK,
	};
	seg.src.port = 1;
	seg.dst.port = 2;
	flow_table_push(z->t, &seg);
}

static void fz_segment(struct fz *z, const uint8_t *b, uint64_t *ts_us)
{
	int d = b[0] & 1;
	bool syn = b[0] & 0x02;
	uint32_t off = b[1] | (uint32_t)(b[2] & 0x0f) << 8;
	uint32_t len = b[3] | (uint32_t)(b[2] >> 4) << 8;
	uint8_t flags = 0;

	if (b[0] & 0x40) {
		*ts_us += 200000000ull;
		fz_tick(z, *ts_us);
	}
	if (syn)
		off = 0;
	if (len > STREAM_LEN - off)
		len = STREAM_LEN - off;
	flags |= syn ? TW_TCP_SYN : 0;
	flags |= (b[0] & 0x04) ? TW_TCP_FIN : 0;
	flags |= (b[0] & 0x08) ? TW_TCP_RST : 0;
	flags |= (b[0] & 0x20) ? TW_TCP_ACK : 0;

	struct tw_segment seg = {
		.ts_us = *ts_us,
		.src = z->ep[d],
		.dst = z->ep[!d],
		.seq = syn ? z->isn[d] - 1 : z->isn[d] + off,
		.tcp_flags = flags,
		.truncated = b[0] & 0x10,
		.flow_start = b[0] & 0x80,
		.wire_len = len + ((b[0] & 0x10) ? 100 : 0),
		.payload = stream[d] + off,
		.len = len,
	};
	/* An RST far from where its sender had got is dropped whole, bytes
	 * and all (flow.h), and so is a late segment of a flow that ended by
	 * FIN or RST: the model takes back what it expected of it. */
	uint64_t ignored = flow_table_stats(z->t)->rsts_ignored;
	uint64_t after_close = flow_table_stats(z->t)->segments_after_close;
	bool was_alive = z->alive;
	struct fz_dir was[2];

	memcpy(was, z->dir, sizeof(was));
	z->cur_flow_start = seg.flow_start;
	fz_model(z, d, syn, off, len);
	flow_table_push(z->t, &seg);
	if (flow_table_stats(z->t)->rsts_ignored != ignored) {
		FZ_ASSERT(was_alive && z->alive);
		memcpy(z->dir, was, sizeof(was));
	}
	if (flow_table_stats(z->t)->segments_after_close != after_close) {
		/* no flow was there, none began */
		FZ_ASSERT(!was_alive);
		z->alive = false;
	}
	*ts_us += 1000;
}

static const struct flow_callbacks fz_cb = {
	.data = fz_data, .gap = fz_gap, .end = fz_end,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	struct fz z = { 0 };
	struct flow_limits lim = { 0 };
	uint64_t ts_us = 1000000;

	if (!ready) {
		fz_init_streams();
		ready = true;
	}
	if (size < 2)
		return 0;
	uint8_t cfg0 = data[0], cfg1 = data[1];
	switch (cfg0 & 3) {
	case 1: lim.max_ooo_bytes_per_dir = 600; break;
	case 2: lim.max_ooo_bytes_total = 1000; break;
	case 3: lim.max_ooo_bytes_per_dir = 2000; lim.max_ooo_bytes_total = 2500; break;
	}
	z.action = (cfg0 >> 2) & 3;
	z.threshold = (uint32_t)(cfg0 >> 4) * 256;
	z.isn[0] = 0xfffff000u + (uint32_t)cfg1 * 16;
	z.isn[1] = (uint32_t)cfg1 * 0x01010101u;
	z.ep[0].addr.family = 4;
	z.ep[0].addr.bytes[0] = 10;
	z.ep[0].addr.bytes[3] = 1;
	z.ep[0].port = 40000;
	z.ep[1].addr.family = 4;
	z.ep[1].addr.bytes[0] = 10;
	z.ep[1].addr.bytes[3] = 2;
	z.ep[1].port = 443;

	z.t = flow_table_new(&lim, &fz_cb, &z);
	if (!z.t)
		return 0;
	for (size_t i = 2; i + 4 <= size; i += 4)
		fz_segment(&z, data + i, &ts_us);

	flow_table_flush(z.t, ts_us);
	const struct flow_stats *st = flow_table_stats(z.t);
	FZ_ASSERT(!z.alive);
	FZ_ASSERT(st->flows_active == 0);
	FZ_ASSERT(st->ooo_bytes_held == 0);
	FZ_ASSERT(st->ooo_bytes_peak <= 2u * STREAM_LEN);
	flow_table_free(z.t);
	return 0;
}
