// SPDX-License-Identifier: MIT
/*
 * The spike detector's memory does not depend on the traffic: 100,000
 * distinct server names, leaves and client fingerprints stay within
 * spike_memory_bound(), by the detector's own accounting and by the heap
 * (glibc's mallinfo2, or the sanitizer allocator's count when built with
 * ASan, which replaces malloc). Heavy keys survive the flood.
 */
#include <malloc.h>
#include <stdio.h>

#include "check.h"
#include "spike_stream.h"

#if defined(__SANITIZE_ADDRESS__)
#define SPIKE_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SPIKE_TEST_ASAN 1
#endif
#endif

#ifdef SPIKE_TEST_ASAN
#include <sanitizer/allocator_interface.h>
#endif

/* Allocator overhead on top of the bytes asked for: chunk headers and the
 * page rounding of the large (mmap'd) arrays. */
#define HEAP_SLACK (64 * 1024)

static size_t heap_in_use(void)
{
#ifdef SPIKE_TEST_ASAN
	return __sanitizer_get_current_allocated_bytes();
#else
	struct mallinfo2 mi = mallinfo2();

	return mi.uordblks + mi.hblkhd;
#endif
}

static const char *heap_source(void)
{
#ifdef SPIKE_TEST_ASAN
	return "asan allocator";
#else
	return "mallinfo2";
#endif
}

static void test_default_bound_is_what_is_allocated(void)
{
	struct spike_detector *d = spike_detector_new(NULL, NULL, NULL);
	struct spike_stats st;

	CHECK(d != NULL);
	if (!d)
		return;
	spike_detector_stats(d, &st);
	CHECK_INT(st.memory_bytes, spike_memory_bound(NULL));
	/* the figure documented in spike.h */
	CHECK(st.memory_bytes <= 9 * 1024 * 1024);
	printf("# default bound: %zu bytes (%.2f MiB)\n", st.memory_bytes,
	       st.memory_bytes / 1048576.0);
	spike_detector_free(d);
}

struct totals {
	uint64_t handshakes, failures;
};

static void add_totals(void *ctx, const struct spike_scope_info *s)
{
	struct totals *t = ctx;

	t->handshakes += s->handshakes;
	t->failures += s->failures;
}

static void test_100k_names_and_clients_stay_within_bound(void)
{
	struct spike_detector *d;
	struct spike_stats st;
	struct spike_scope_info heavy;
	struct totals tot = { 0 };
	struct spike_input in = { 0 };
	char sni[64], ja4[64], cert[65];
	size_t before, after_new, after_flood, bound = spike_memory_bound(NULL);
	uint64_t i, heavy_n = 0, n = 0;

	before = heap_in_use();
	d = spike_detector_new(NULL, NULL, NULL);
	CHECK(d != NULL);
	if (!d)
		return;
	after_new = heap_in_use();
	/* 10,000 handshakes a second: every 10th to one heavy name, the rest
	 * each with a name, leaf and JA4 never seen before; 5 % fail */
	for (i = 0; i < 110000; i++) {
		in.ts_us = T0 + i * 100;
		in.outcome = i % 20 == 7 ? HS_FAILED : HS_OK;
		if (i % 10 == 0) {
			in.sni = "heavy.example";
			in.ja4 = "t13d1516h2_8daaf6152771_02713d6af862";
			in.leaf_sha256 = NULL;
			heavy_n++;
		} else {
			snprintf(sni, sizeof(sni), "host%06" PRIu64 ".example", n);
			snprintf(ja4, sizeof(ja4), "t13d1516h2_%012" PRIx64 "_000000000000", n);
			snprintf(cert, sizeof(cert), "%064" PRIx64, n);
			in.sni = sni;
			in.ja4 = ja4;
			in.leaf_sha256 = cert;
			n++;
		}
		spike_detector_add(d, &in);
	}
	after_flood = heap_in_use();
	spike_detector_stats(d, &st);

	CHECK_INT(n, 99000);
	CHECK_INT(heavy_n, 11000);
	CHECK_INT(st.memory_bytes, bound);
	printf("# heap (%s): +%zu bytes at creation, +%zu during 110,000 records; bound %zu\n",
	       heap_source(), after_new - before, after_flood - after_new, bound);
	CHECK(after_new - before <= bound + HEAP_SLACK);
	CHECK(after_flood - after_new <= 4096);    /* nothing allocated per record */
	CHECK_INT(st.scopes[SPIKE_SCOPE_SNI], 4096);
	CHECK_INT(st.scopes[SPIKE_SCOPE_JA4], 4096);
	CHECK_INT(st.scopes[SPIKE_SCOPE_CERT], 4096);
	/* 99,001 distinct names, 4,096 kept: the heavy one never replaced */
	CHECK_INT(st.evictions[SPIKE_SCOPE_SNI], 99001 - 4096);
	CHECK_INT(st.evictions[SPIKE_SCOPE_JA4], 99001 - 4096);
	CHECK_INT(st.evictions[SPIKE_SCOPE_CERT], 99000 - 4096);
	CHECK(spike_detector_scope(d, SPIKE_SCOPE_SNI, "heavy.example", &heavy));
	CHECK_INT(heavy.handshakes, heavy_n);
	/* nothing is lost: tracked + "other" = all */
	spike_detector_foreach(d, SPIKE_SCOPE_SNI, add_totals, &tot);
	CHECK_INT(tot.handshakes + st.other_handshakes[SPIKE_SCOPE_SNI], 110000);
	CHECK_INT(tot.failures + st.other_failures[SPIKE_SCOPE_SNI], 5500);
	spike_detector_free(d);
}

static void test_full_table_of_firing_scopes_counts_in_other(void)
{
	struct spike_opts o = { .max_scopes_per_kind = 16 };
	struct st_events evs;
	struct spike_detector *d;
	struct spike_stats st;
	struct spike_input in = { 0 };
	char sni[32];
	int i, k;

	memset(&evs, 0, sizeof(evs));
	d = spike_detector_new(&o, st_record, &evs);
	CHECK(d != NULL);
	if (!d)
		return;
	/* 16 names each fail 20 times in their first second: all 16 fire
	 * (cold), and the table is full of entries that must not go */
	in.outcome = HS_ABORTED;
	for (k = 0; k < 20; k++) {
		for (i = 0; i < 16; i++) {
			snprintf(sni, sizeof(sni), "n%02d.example", i);
			in.sni = sni;
			in.ts_us = T0 + (uint64_t)(k * 16 + i) * 1000;
			spike_detector_add(d, &in);
		}
	}
	in.sni = "late.example";
	in.outcome = HS_OK;
	spike_detector_add(d, &in);
	spike_detector_stats(d, &st);
	CHECK_INT(st_count(&evs, SPIKE_SCOPE_SNI, NULL, SPIKE_FIRING), 16);
	CHECK_INT(st.scopes[SPIKE_SCOPE_SNI], 16);
	CHECK_INT(st.evictions[SPIKE_SCOPE_SNI], 0);
	CHECK_INT(st.other_handshakes[SPIKE_SCOPE_SNI], 1);
	/* once they resolved, a new name takes a place */
	spike_detector_advance(d, T0 + 60 * SEC);
	CHECK_INT(st_count(&evs, SPIKE_SCOPE_SNI, NULL, SPIKE_RESOLVED), 16);
	in.ts_us = T0 + 60 * SEC;
	spike_detector_add(d, &in);
	spike_detector_stats(d, &st);
	CHECK_INT(st.evictions[SPIKE_SCOPE_SNI], 1);
	CHECK_INT(st.other_handshakes[SPIKE_SCOPE_SNI], 1 + 20);
	spike_detector_free(d);
}

int main(void)
{
	RUN_TEST(test_default_bound_is_what_is_allocated);
	RUN_TEST(test_100k_names_and_clients_stay_within_bound);
	RUN_TEST(test_full_table_of_firing_scopes_counts_in_other);
	return CHECK_EXIT_CODE();
}
