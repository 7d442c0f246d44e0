// SPDX-License-Identifier: MIT
/*
 * Cost of the superseded judgement with the inventory (not a test): each
 * handshake is supersede_judge() then inventory_record(), as the health
 * checker makes them, on one core, for three workloads over one name and
 * one address:
 *   single    one leaf served (the common case)
 *   dual      an RSA and a newer ECDSA leaf side by side, each to the
 *             clients that ask for it (RSA-only clients get the RSA leaf)
 *   rollback  the ECDSA leaf, then the RSA leaf alone, to clients offering
 *             ECDSA first and RSA-only ones in turn (the rollback recorded,
 *             then asked of SQLite on every handshake)
 * Prints one line per workload: handshakes, seconds, microseconds per
 * handshake, superseded findings.
 * Usage: bench_supersede [handshakes per workload, default 1000000] [DB]
 * (DB: an inventory file to create; default in memory)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cert/supersede.h"

#define T0 (1700000000ULL * 1000000ULL)

struct workload {
	const char *name;
	/* the leaf served to handshake @i and the client's offer */
	const struct cert_info *(*leaf)(long i);
	const char *(*offer)(long i);
};

static struct cert_info rsa, ec;

static const struct cert_info *single_leaf(long i) { return &ec; }
static const struct cert_info *dual_leaf(long i) { return i % 2 ? &rsa : &ec; }
static const struct cert_info *rollback_leaf(long i) { return i ? &rsa : &ec; }
static const char *preferring_ec(long i) { return "EC>RSA"; }
static const char *dual_offer(long i) { return i % 2 ? "RSA" : "EC>RSA"; }

static const struct workload workloads[] = {
	{ "single", single_leaf, preferring_ec },
	{ "dual", dual_leaf, dual_offer },
	{ "rollback", rollback_leaf, dual_offer },
};

static struct cert_info fake_leaf(char fill, const char *key, int64_t not_before)
{
	struct cert_info c;

	memset(&c, 0, sizeof(c));
	memset(c.sha256_hex, fill, 64);
	snprintf(c.key, sizeof(c.key), "%s", key);
	c.not_before = not_before;
	return c;
}


static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int run(const struct workload *w, long n, const char *db)
{
	struct tw_endpoint server = { .addr = { .family = 4, .bytes = { 10, 0, 0, 1 } },
				      .port = 443 };
	struct inventory_sighting s = {
		.name = "dual.test", .addr = "10.0.0.1", .port = 443,
		.not_after = 2366841600, .findings = "",
	};
	struct supersede_verdict v;
	struct inventory *inv = NULL;
	long i, superseded = 0;
	char err[512];
	double start;

	if (db)
		unlink(db);
	if (inventory_open(db, &inv, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	start = now_s();
	for (i = 0; i < n; i++) {
		const struct cert_info *leaf = w->leaf(i);
		struct key_offer o;

		key_offer_parse(w->offer(i), &o);
		s.ts_us = T0 + (uint64_t)i * 1000;
		if (supersede_judge(inv, s.name, &server, leaf, false, &o, s.ts_us, &v, err,
				    sizeof(err))) {
			fprintf(stderr, "%s\n", err);
			return 1;
		}
		superseded += v.superseded;
		s.sha256 = leaf->sha256_hex;
		s.key = leaf->key;
		s.not_before = leaf->not_before;
		s.rollback_us = v.record_rollback ? s.ts_us : 0;
		s.rollback_evidence = v.rollback_text;
		if (inventory_record(inv, &s, NULL, err, sizeof(err))) {
			fprintf(stderr, "%s\n", err);
			return 1;
		}
	}
	printf("%s handshakes %ld seconds %.3f us/handshake %.3f superseded %ld\n",
	       w->name, n, now_s() - start, (now_s() - start) / (double)n * 1e6,
	       superseded);
	inventory_close(inv);
	return 0;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000000;
	const char *db = argc > 2 ? argv[2] : NULL;
	size_t i;

	rsa = fake_leaf('a', "RSA-2048", 1735689600);
	ec = fake_leaf('b', "EC-P256", 1748736000);
	for (i = 0; i < sizeof(workloads) / sizeof(workloads[0]); i++)
		if (run(&workloads[i], n, db))
			return 1;
	return 0;
}
