// SPDX-License-Identifier: MIT
/*
 * Throughput and memory of the spike detector (not a test): handshake
 * records per second through spike_detector_add() plus an advance() every
 * 1,000 records, on one core, for three workloads:
 *   edge     10,000 names (skewed: a few heavy, a long tail), 500 JA4s, a
 *            leaf per name, 5 % failing with an alert, 10,000 handshakes
 *            a simulated second, with a 30 % spike on one name for 10 s
 *            every 50 s
 *   flood    every record a name, leaf and JA4 not tracked (a table miss
 *            and a replacement in each of the three kinds)
 *   spiky    the edge workload with the whole site failing 40 % for 20 s
 *            every 100 s (events and explanations)
 * The inputs are generated before the clock starts. Prints one line per
 * workload: records, wall seconds and records/s, the same by the thread's
 * CPU time (steadier on a shared machine), events, detector bytes, heap
 * growth (mallinfo2) and peak RSS.
 * Usage: bench_detect [records per workload, default 5000000] [workload]
 */
#include <inttypes.h>
#include <malloc.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "detect/spike.h"

#define T0 (1700000000ULL * 1000000ULL)
#define N_NAMES 10000
#define N_JA4 500
#define N_FLOOD 262144     /* distinct keys cycled: far more than tracked */
#define CYCLE 1000000u     /* pre-generated records (100 s), replayed */

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t next_rand(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dULL;
}

static double uniform(void)
{
	return (double)(next_rand() >> 11) / 9007199254740992.0;
}

static char *keys(size_t n, size_t width, const char *fmt)
{
	char *k = calloc(n, width);
	size_t i;

	if (!k) {
		perror("calloc");
		exit(1);
	}
	for (i = 0; i < n; i++)
		snprintf(k + i * width, width, fmt, (uint64_t)i);
	return k;
}

static struct hs_alert alert_unknown_ca = {
	.from_client = true, .level = HS_ALERT_FATAL, .description = 48,
};

/* Skewed name choice: 1/(rank+1)-like, by inverting a log-uniform draw. */
static uint32_t skewed(uint32_t n)
{
	double u = uniform();
	uint32_t r = (uint32_t)(exp2(u * log2((double)n + 1)) - 1);

	return r < n ? r : n - 1;
}

struct workload {
	const char *name;
	struct spike_input *in;
	uint64_t events;
};

static void build_edge(struct spike_input *in, char *names, char *ja4s, char *certs,
		       bool spiky)
{
	uint32_t i, n;
	double p;
	uint64_t sec;

	for (i = 0; i < CYCLE; i++) {
		n = skewed(N_NAMES);
		sec = i / 10000;
		p = 0.05;
		if (spiky && sec % 100 >= 60 && sec % 100 < 80)
			p = 0.40;
		else if (!spiky && n == 3 && sec % 50 >= 30 && sec % 50 < 40)
			p = 0.30;
		in[i].sni = names + (size_t)n * 32;
		in[i].leaf_sha256 = certs + (size_t)n * 65;
		in[i].ja4 = ja4s + (size_t)(next_rand() % N_JA4) * 40;
		in[i].outcome = uniform() < p ? HS_FAILED : HS_OK;
		if (in[i].outcome == HS_FAILED) {
			in[i].n_alerts = 1;
			in[i].alerts = &alert_unknown_ca;
		}
		in[i].leaf_findings = n == 3 ? "revoked" : "";
	}
}

static void build_flood(struct spike_input *in, char *names, char *ja4s, char *certs)
{
	uint32_t i, k;

	for (i = 0; i < CYCLE; i++) {
		k = i % N_FLOOD;
		in[i].sni = names + (size_t)k * 32;
		in[i].leaf_sha256 = certs + (size_t)k * 65;
		in[i].ja4 = ja4s + (size_t)k * 40;
		in[i].outcome = i % 20 == 7 ? HS_FAILED : HS_OK;
		if (in[i].outcome == HS_FAILED) {
			in[i].n_alerts = 1;
			in[i].alerts = &alert_unknown_ca;
		}
	}
}

static void count_event(void *ctx, const struct spike_event *ev)
{
	(*(uint64_t *)ctx)++;
}

static double clock_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static size_t heap_in_use(void)
{
	struct mallinfo2 mi = mallinfo2();

	return mi.uordblks + mi.hblkhd;
}

static int run(struct workload *w, uint64_t n_records)
{
	struct spike_detector *d;
	struct spike_stats st;
	struct rusage ru;
	struct spike_input in;
	size_t heap0, heap1;
	double t0, t1, c0, c1;
	uint64_t i;

	heap0 = heap_in_use();
	d = spike_detector_new(NULL, count_event, &w->events);
	if (!d) {
		perror("spike_detector_new");
		return -1;
	}
	t0 = clock_s(CLOCK_MONOTONIC);
	c0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
	for (i = 0; i < n_records; i++) {
		in = w->in[i % CYCLE];
		in.ts_us = T0 + i * 100;    /* 10,000 handshakes a second */
		spike_detector_add(d, &in);
		if (i % 1000 == 999)
			spike_detector_advance(d, T0 + i * 100 + 50);
	}
	spike_detector_finish(d, T0 + n_records * 100);
	t1 = clock_s(CLOCK_MONOTONIC);
	c1 = clock_s(CLOCK_THREAD_CPUTIME_ID);
	heap1 = heap_in_use();
	spike_detector_stats(d, &st);
	getrusage(RUSAGE_SELF, &ru);
	printf("%-6s records %" PRIu64 " seconds %.3f records/s %.0f cpu_seconds %.3f"
	       " cpu_records/s %.0f events %" PRIu64
	       " scopes %u/%u/%u evictions %" PRIu64 " detector_bytes %zu heap_growth %zu"
	       " maxrss_kb %ld\n",
	       w->name, n_records, t1 - t0, n_records / (t1 - t0), c1 - c0,
	       n_records / (c1 - c0), w->events,
	       st.scopes[SPIKE_SCOPE_SNI], st.scopes[SPIKE_SCOPE_CERT],
	       st.scopes[SPIKE_SCOPE_JA4],
	       st.evictions[SPIKE_SCOPE_SNI] + st.evictions[SPIKE_SCOPE_CERT] +
	       st.evictions[SPIKE_SCOPE_JA4],
	       st.memory_bytes, heap1 - heap0, ru.ru_maxrss);
	spike_detector_free(d);
	return 0;
}

int main(int argc, char **argv)
{
	uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 5000000;
	char *names = keys(N_FLOOD, 32, "host%07" PRIu64 ".example.com");
	char *ja4s = keys(N_FLOOD, 40, "t13d1516h2_8daaf6152771_%012" PRIx64);
	char *certs = keys(N_FLOOD, 65, "%064" PRIx64);
	struct spike_input *edge = calloc(CYCLE, sizeof(*edge));
	struct spike_input *spiky = calloc(CYCLE, sizeof(*spiky));
	struct spike_input *flood = calloc(CYCLE, sizeof(*flood));
	struct workload w[3] = {
		{ "edge", edge, 0 }, { "flood", flood, 0 }, { "spiky", spiky, 0 },
	};
	int i;

	if (!edge || !spiky || !flood || n == 0) {
		fprintf(stderr, "bench_detect: out of memory or bad count\n");
		return 1;
	}
	build_edge(edge, names, ja4s, certs, false);
	build_edge(spiky, names, ja4s, certs, true);
	build_flood(flood, names, ja4s, certs);
	for (i = 0; i < 3; i++)
		if ((argc < 3 || strcmp(argv[2], w[i].name) == 0) && run(&w[i], n) < 0)
			return 1;
	free(edge);
	free(spiky);
	free(flood);
	free(names);
	free(ja4s);
	free(certs);
	return 0;
}
