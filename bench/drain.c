// SPDX-License-Identifier: MIT
/*
 * Ring buffer consumer for the ring floors of scripts/bench-live.sh
 * (bench/bpf/floor_ring.h): opens the ring tc pinned, and reads it the way
 * the agent reads its own (userspace/live/live.c): a poll with the agent's
 * timeout (LIVE_MAX_BATCH_MS, the floors never wake it), then whatever the
 * ring holds, so the ring never fills and the floor pays for the same cold
 * ring memory as the agent. Each record is counted, not decoded.
 *
 *   drain RING_PIN LOST_PIN SECONDS
 *
 * Runs until SIGTERM or SIGINT, at most SECONDS; prints one JSON line:
 * records, bytes (payload bytes, from the records' chunk_len), lost (the
 * floor's bench_ring_lost: records the full ring refused).
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tlswatch/event.h"
#include "live/live.h"

struct tally {
	unsigned long long records, bytes;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int on_record(void *ctx, void *data, size_t size)
{
	struct tally *t = ctx;
	const struct tw_event *e = data;

	t->records++;
	if (size >= sizeof(*e))
		t->bytes += e->chunk_len;
	return 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int drain(int ring_fd, double seconds, struct tally *t)
{
	struct ring_buffer *rb = ring_buffer__new(ring_fd, on_record, t, NULL);
	double end = now_s() + seconds;
	int r = 0;

	if (!rb) {
		fprintf(stderr, "drain: ring_buffer__new: %s\n", strerror(errno));
		return -1;
	}
	while (!stop && now_s() < end) {
		r = ring_buffer__poll(rb, LIVE_MAX_BATCH_MS);
		if (r >= 0 || r == -EINTR)
			r = ring_buffer__consume(rb);
		if (r < 0 && r != -EINTR) {
			fprintf(stderr, "drain: reading the ring: %s\n", strerror(-r));
			break;
		}
		r = 0;
	}
	ring_buffer__free(rb);
	return r;
}

int main(int argc, char **argv)
{
	struct tally t = { 0 };
	unsigned long long lost = 0;
	int ring_fd, lost_fd, zero = 0;
	struct sigaction sa = { .sa_handler = on_signal };
	char *endp;
	double seconds;

	if (argc != 4) {
		fprintf(stderr, "usage: drain RING_PIN LOST_PIN SECONDS\n");
		return 2;
	}
	seconds = strtod(argv[3], &endp);
	if (*endp || seconds <= 0) {
		fprintf(stderr, "drain: bad SECONDS '%s'\n", argv[3]);
		return 2;
	}
	if (sigaction(SIGTERM, &sa, NULL) || sigaction(SIGINT, &sa, NULL)) {
		perror("drain: sigaction");
		return 1;
	}
	ring_fd = bpf_obj_get(argv[1]);
	lost_fd = bpf_obj_get(argv[2]);
	if (ring_fd < 0 || lost_fd < 0) {
		fprintf(stderr, "drain: opening %s, %s: %s\n", argv[1], argv[2],
			strerror(errno));
		return 1;
	}
	if (drain(ring_fd, seconds, &t))
		return 1;
	if (bpf_map_lookup_elem(lost_fd, &zero, &lost)) {
		perror("drain: reading the lost count");
		return 1;
	}
	printf("{\"records\": %llu, \"bytes\": %llu, \"lost\": %llu}\n",
	       t.records, t.bytes, lost);
	return 0;
}
