// SPDX-License-Identifier: MIT
/*
 * The whole pipeline below the sources: arbitrary segments of one or two
 * connections through flows, TLS parsing, certificate checks, spikes and
 * both sinks. Input: records of [flags, direction|conn, seq delta (2),
 * length (2)] followed by that many payload bytes.
 */
#include <stdio.h>
#include <string.h>

#include "detect/spike.h"
#include "pipeline/pipeline.h"
#include "sink/sink.h"

static FILE *devnull;

static void endpoints(int conn, int dir, struct tw_segment *seg)
{
	struct tw_endpoint a = { .addr = { .family = 4, .bytes = { 10, 0, 0, 1 } },
				 .port = (uint16_t)(40000 + conn) };
	struct tw_endpoint b = { .addr = { .family = 6, .bytes = { 0x20, 0x01, 0x0d, 0xb8 } },
				 .port = 443 };

	if (conn & 1)
		a.addr = b.addr;
	seg->src = dir ? b : a;
	seg->dst = dir ? a : b;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pipeline_opts po = { 0 };
	struct spike_opts so = { 0 };
	struct output_opts out = { .json_path = "/dev/null" };
	struct sink_set *sinks = NULL;
	struct pipeline *pl = NULL;
	char err[256];
	uint32_t seq[4][2] = { { 1000, 5000 }, { 1000, 5000 }, { 7, 9 }, { 7, 9 } };
	uint64_t ts = 1795000000000000ULL;
	size_t off = 0;

	if (!devnull)
		devnull = fopen("/dev/null", "w");
	so.max_scopes_per_kind = 16;   /* small fixed arena: fast runs */
	so.failure_log = 16;
	po.spikes = &so;
	po.flow.max_flows = 3;         /* 4 connections: one is evicted */
	po.flow.max_ooo_bytes_per_dir = 4096;
	out.text_report = devnull;
	if (sink_set_open(&out, &sinks, err, sizeof(err)) < 0)
		goto out;
	po.emit = sink_set_emit;
	po.emit_ctx = sinks;
	pl = pipeline_new(&po);
	if (!pl)
		goto out;
	while (off + 6 <= size) {
		struct tw_segment seg = { 0 };
		int conn = (data[off + 1] >> 1) & 3, dir = data[off + 1] & 1;
		uint16_t delta = (uint16_t)(data[off + 2] << 8 | data[off + 3]);
		uint16_t len = (uint16_t)(data[off + 4] << 8 | data[off + 5]);

		seg.tcp_flags = data[off] & 0x1f;
		off += 6;
		if (len > size - off)
			len = (uint16_t)(size - off);
		endpoints(conn, dir, &seg);
		seq[conn][dir] += delta & 0x8000 ? -(uint32_t)(delta & 0xff) : delta;
		seg.seq = seq[conn][dir];
		seg.payload = data + off;
		seg.len = seg.wire_len = len;
		seg.ts_us = ts += 1000 * (data[off - 6] >> 5);
		pipeline_segment(pl, &seg);
		seq[conn][dir] += len;
		off += len;
	}
	pipeline_flush(pl, ts);
	pipeline_finish(pl, ts, 0);
	pipeline_summary(pl)->source = "fuzz";
	pipeline_emit_summary(pl, pipeline_summary(pl));
out:
	pipeline_free(pl);
	sink_set_close(sinks);
	return 0;
}
