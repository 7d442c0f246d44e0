// SPDX-License-Identifier: MIT
/*
 * The event history sink's cost (not a test): handshake events through a
 * sink set holding only the history sink (sink/history.c), with a tick
 * each simulated second, which writes that second to a real SQLite file.
 * Workload: RATE handshakes a simulated second (default 50,000) over 60
 * names (more than the 32 a second's aggregate lists), 200 JA4s, a leaf
 * per name that changes every 300 s, 5 % failing with an alert.
 * Prints one line: handshakes, simulated seconds, handshakes/s by wall
 * and by the thread's CPU time, the write's median and worst time (ms,
 * part of the CPU time), and the database's growth per simulated second
 * over the second half of the run, times 86,400 for the 24 h bound.
 * Usage: bench_history DB_FILE [seconds, default 120] [rate, default 50000]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "../unit/db_peek.h"

#include "sink/history_store.h"
#include "sink/sink.h"

#define T0_S 1700000000ull
#define N_NAMES 60
#define N_JA4 200

static double now_s(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Bytes of the database's pages in use, as another reader sees them. */
static double db_bytes(const char *path)
{
	return (double)db_peek(path, "SELECT (page_count - freelist_count) * page_size"
			       " FROM pragma_page_count, pragma_freelist_count,"
			       " pragma_page_size");
}

struct workload {
	char names[N_NAMES][32];
	char ja4s[N_JA4][40];
	char subject[64];
	struct cert_info leaves[N_NAMES][2];
};

static void workload_init(struct workload *w)
{
	int i, k;

	snprintf(w->subject, sizeof(w->subject), "CN=bench");
	for (i = 0; i < N_NAMES; i++) {
		snprintf(w->names[i], sizeof(w->names[i]), "name%02d.bench.test", i);
		for (k = 0; k < 2; k++) {
			struct cert_info *c = &w->leaves[i][k];

			memset(c, 0, sizeof(*c));
			snprintf(c->sha256_hex, sizeof(c->sha256_hex), "%02d%02d%060d", i, k, 0);
			c->subject = c->issuer = c->serial_hex = w->subject;
		}
	}
	for (i = 0; i < N_JA4; i++)
		snprintf(w->ja4s[i], sizeof(w->ja4s[i]), "t13d1516h2_%012d_bench", i);
}

/* Handshake @n of second @s. */
static void make_hs(const struct workload *w, uint64_t s, unsigned n,
		    struct hs_record *rec, struct hs_view *v)
{
	unsigned name = (n * 7919u) % N_NAMES;
	bool failed = n % 20 == 0;

	rec->has_sni = true;
	rec->sni_len = (uint16_t)strlen(w->names[name]);
	memcpy(rec->sni, w->names[name], rec->sni_len);
	rec->end_us = (T0_S + s) * 1000000ull + n % 1000000;
	rec->outcome = failed ? HS_FAILED : HS_OK;
	rec->server.addr.family = 4;
	rec->server.addr.bytes[0] = 10;
	rec->server.addr.bytes[3] = (uint8_t)(1 + name % 4);
	rec->server.port = 443;
	snprintf(rec->ja4, sizeof(rec->ja4), "%s", w->ja4s[(n * 31u) % N_JA4]);
	rec->n_alerts = failed;
	rec->alerts[0].from_client = true;
	rec->alerts[0].description = 48;
	v->rec = rec;
	v->n_chain = 1;
	v->chain[0] = &w->leaves[name][(s / 300) % 2];
}

int main(int argc, char **argv)
{
	struct output_opts o = { .history = true };
	uint64_t seconds = argc > 2 ? strtoull(argv[2], NULL, 10) : 120;
	unsigned rate = argc > 3 ? (unsigned)strtoul(argv[3], NULL, 10) : 50000;
	static struct workload w;
	struct sink_set *set;
	struct hs_record rec;
	struct hs_view v;
	double *writes, t0, c0, wall, cpu, w0, mid = 0, growth;
	char err[512];
	uint64_t s;
	unsigned n;

	if (argc < 2 || !seconds || !rate) {
		fprintf(stderr, "usage: bench_history DB_FILE [seconds] [rate]\n");
		return 2;
	}
	o.db_path = argv[1];
	writes = calloc(seconds, sizeof(*writes));
	if (!writes || sink_set_open(&o, &set, err, sizeof(err)) < 0) {
		fprintf(stderr, "bench_history: %s\n", writes ? err : "out of memory");
		return 1;
	}
	workload_init(&w);
	memset(&v, 0, sizeof(v));
	hs_record_init(&rec);
	t0 = now_s(CLOCK_MONOTONIC);
	c0 = now_s(CLOCK_THREAD_CPUTIME_ID);
	for (s = 0; s < seconds; s++) {
		for (n = 0; n < rate; n++) {
			struct event ev = { .type = EVENT_HANDSHAKE, .handshake = &v };

			make_hs(&w, s, n, &rec, &v);
			ev.ts_us = rec.end_us;
			sink_set_emit(set, &ev);
		}
		w0 = now_s(CLOCK_MONOTONIC);
		sink_set_tick(set, (s + 1) * 1000000ull);
		writes[s] = (now_s(CLOCK_MONOTONIC) - w0) * 1e3;
		if (s == seconds / 2)
			mid = db_bytes(argv[1]);
	}
	wall = now_s(CLOCK_MONOTONIC) - t0;
	cpu = now_s(CLOCK_THREAD_CPUTIME_ID) - c0;
	sink_set_close(set);
	/* The second half's growth: the first pages of each table are paid
	 * once, not per second. */
	growth = (db_bytes(argv[1]) - mid) / (double)(seconds - 1 - seconds / 2);
	qsort(writes, seconds, sizeof(*writes), cmp_double);
	printf("handshakes %llu seconds %llu handshakes/s %.0f cpu_handshakes/s %.0f "
	       "write_median_ms %.2f write_max_ms %.2f bytes_per_s %.0f bytes_24h %.0f\n",
	       (unsigned long long)seconds * rate, (unsigned long long)seconds,
	       (double)seconds * rate / wall, (double)seconds * rate / cpu,
	       writes[seconds / 2], writes[seconds - 1],
	       growth, growth * HISTORY_KEEP_S);
	free(writes);
	return 0;
}
