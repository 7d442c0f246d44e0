// SPDX-License-Identifier: MIT
/*
 * The spike detector, specified by synthetic streams with default options
 * (window 10 s, factor 3, min_failures 20, resolve after 10 clear s).
 * Times are offsets from T0 = 2023-11-14T22:13:20Z.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>

#include "check.h"
#include "spike_stream.h"

static struct st_events evs;

static struct spike_detector *new_detector(void)
{
	struct spike_detector *d;

	memset(&evs, 0, sizeof(evs));
	d = spike_detector_new(NULL, st_record, &evs);
	if (!d)
		abort();
	return d;
}

/* About 2 handshakes a second, all fine, at s + 0.25 and s + 0.75. */
static void calm(struct st_stream *s, uint64_t from_s, uint64_t to_s)
{
	uint64_t t;

	for (t = from_s; t < to_s; t++) {
		st_push(s, T0 + t * SEC + 250000, HS_OK);
		st_push(s, T0 + t * SEC + 750000, HS_OK);
	}
}

/* 30 aborted handshakes in 5 s from @at_s: failure i at i * 166666 us, so
 * seconds at..at+4 hold 7, 6, 6, 6, 5 and failure 20 (i = 19) comes at
 * at + 3.166654 s. */
static void burst(struct st_stream *s, uint64_t at_s)
{
	int i;

	for (i = 0; i < 30; i++)
		st_push(s, T0 + at_s * SEC + (uint64_t)i * 166666, HS_ABORTED);
}

static void test_cold_start_fires_on_absolute_floor(void)
{
	struct spike_detector *d = new_detector();
	struct st_stream s = { 0 };

	/* no history: judged against cold_rate 0.5. At failure 20 the window
	 * (seconds 0..3) holds 6 fine + 20 failed handshakes. */
	calm(&s, 0, 10);
	burst(&s, 0);
	st_feed(d, &s);
	CHECK_INT(evs.n, 1);
	CHECK_INT(evs.ev[0].state, SPIKE_FIRING);
	CHECK_INT(evs.ev[0].kind, SPIKE_SCOPE_ALL);
	CHECK_INT(evs.ev[0].ts, T0 + 3166654);
	CHECK_INT(evs.ev[0].handshakes, 26);
	CHECK_INT(evs.ev[0].failures, 20);
	CHECK_INT(evs.ev[0].aborted, 20);
	CHECK(!evs.ev[0].has_baseline);
	CHECK(strstr(evs.ev[0].json, "baseline_rate") == NULL);
	spike_detector_free(d);
}

static void test_cold_start_ignores_rate_below_floor(void)
{
	struct spike_detector *d = new_detector();
	struct st_stream s = { 0 };
	struct spike_stats st;
	uint64_t t, k;

	/* 10 % failing from the first second, 1,000 a second, for 30 s */
	for (t = 0; t < 30; t++)
		for (k = 0; k < 1000; k++)
			st_push(&s, T0 + t * SEC + k * 1000, k % 10 == 3 ? HS_FAILED : HS_OK);
	st_feed(d, &s);
	spike_detector_stats(d, &st);
	CHECK_INT(evs.n, 0);
	CHECK_INT(st.handshakes, 30000);
	CHECK_INT(st.failures, 3000);
	spike_detector_free(d);
}

static void test_calm_then_burst_fires_within_window(void)
{
	struct spike_detector *d = new_detector();
	struct st_stream s = { 0 };

	/* 60 s of 2/s with no failure, then 30 failing in 5 s: fires at
	 * failure 20 (min_failures); window = seconds 54..63 = 18 fine + 20
	 * failed; the learned baseline is 0 */
	calm(&s, 0, 70);
	burst(&s, 60);
	st_feed(d, &s);
	CHECK_INT(evs.n, 1);
	CHECK_INT(evs.ev[0].state, SPIKE_FIRING);
	CHECK_INT(evs.ev[0].kind, SPIKE_SCOPE_ALL);
	CHECK_INT(evs.ev[0].ts, T0 + 63166654);
	CHECK(evs.ev[0].ts - (T0 + 60 * SEC) <= 10 * SEC);
	CHECK_INT(evs.ev[0].started, T0 + 63166654);
	CHECK_INT(evs.ev[0].handshakes, 38);
	CHECK_INT(evs.ev[0].failures, 20);
	CHECK(fabs(evs.ev[0].rate - 20.0 / 38) < 1e-12);
	CHECK(evs.ev[0].has_baseline);
	CHECK(evs.ev[0].baseline == 0);
	spike_detector_free(d);
}

/* An alert code with no name (200) is its number in the explanation, as
 * in handshake events and the summary's alert_counts (it was
 * "unknown_200": the two did not join). */
static void test_unassigned_alert_is_named_by_its_number(void)
{
	struct spike_detector *d = new_detector();
	struct st_stream s = { 0 };
	struct st_rec *r;
	int i;

	calm(&s, 0, 70);
	for (i = 0; i < 30; i++) {
		r = st_push(&s, T0 + 60 * SEC + (uint64_t)i * 166666, HS_FAILED);
		r->alert = 200;
		r->from_client = true;
	}
	st_feed(d, &s);
	CHECK_INT(evs.n, 1);
	CHECK_STR(evs.ev[0].top[0][0].key, "200");
	CHECK_INT(evs.ev[0].top[0][0].count, 20);
	spike_detector_free(d);
}

static void test_resolves_after_burst_ends(void)
{
	struct spike_detector *d = new_detector();
	struct st_stream s = { 0 };
	struct spike_scope_info all;

	/* the window holds fewer than min_failures / 2 failures from second
	 * 73 (only second 64's 5); 10 clear seconds later, at 82, resolved */
	calm(&s, 0, 120);
	burst(&s, 60);
	st_feed(d, &s);
	CHECK_INT(evs.n, 2);
	CHECK_INT(evs.ev[1].state, SPIKE_RESOLVED);
	CHECK_INT(evs.ev[1].kind, SPIKE_SCOPE_ALL);
	CHECK_INT(evs.ev[1].ts, T0 + 82 * SEC);
	CHECK_INT(evs.ev[1].started, T0 + 63166654);
	CHECK_INT(evs.ev[1].handshakes, 18);
	CHECK_INT(evs.ev[1].failures, 0);
	CHECK(strstr(evs.ev[1].json, "\"state\":\"resolved\"") != NULL);
	CHECK(strstr(evs.ev[1].json, "\"started\":\"2023-11-14T22:14:23.166654Z\"") != NULL);
	/* the burst's seconds were never learned: the baseline is still 0 */
	CHECK(spike_detector_scope(d, SPIKE_SCOPE_ALL, NULL, &all));
	CHECK(all.baseline_rate == 0);
	CHECK(!all.firing);
	CHECK_INT(all.handshakes, 270);
	CHECK_INT(all.failures, 30);
	spike_detector_free(d);
}

static void test_advance_resolves_without_traffic(void)
{
	struct spike_detector *d = new_detector();
	struct st_stream s = { 0 };

	calm(&s, 0, 60);
	burst(&s, 60);
	st_feed(d, &s);
	CHECK_INT(evs.n, 1);
	spike_detector_advance(d, T0 + 200 * SEC);
	CHECK_INT(evs.n, 2);
	CHECK_INT(evs.ev[1].state, SPIKE_RESOLVED);
	CHECK_INT(evs.ev[1].ts, T0 + 82 * SEC);
	CHECK_INT(evs.ev[1].handshakes, 0);
	spike_detector_free(d);
}

static void test_finish_does_not_resolve_artificially(void)
{
	struct spike_detector *d = new_detector();
	struct st_stream s = { 0 };
	struct spike_stats st;

	calm(&s, 0, 66);
	burst(&s, 60);
	st_feed(d, &s);
	spike_detector_finish(d, T0 + 66 * SEC);
	spike_detector_stats(d, &st);
	CHECK_INT(evs.n, 1);
	CHECK_INT(st.spikes_fired, 1);
	CHECK_INT(st.spikes_resolved, 0);
	CHECK_INT(st.firing, 1);
	spike_detector_free(d);
}

static void test_time_jumps_and_goes_back_safely(void)
{
	struct spike_detector *d = new_detector();
	struct st_stream s = { 0 };
	struct spike_input late = { .ts_us = T0, .outcome = HS_ABORTED };
	struct spike_input far = { .ts_us = UINT64_MAX, .outcome = HS_OK };
	struct spike_stats st;

	calm(&s, 0, 66);
	burst(&s, 60);
	st_feed(d, &s);
	/* an old timestamp counts now: the window holds 21 failures */
	spike_detector_add(d, &late);
	/* a jump to the end of time resolves the spike after the window
	 * and resolve_s seconds of nothing, without walking every second */
	spike_detector_add(d, &far);
	spike_detector_stats(d, &st);
	CHECK_INT(evs.n, 2);
	CHECK_INT(evs.ev[1].state, SPIKE_RESOLVED);
	CHECK_INT(evs.ev[1].ts, T0 + 82 * SEC);
	CHECK_INT(st.records, 2 * 66 + 30 + 2);
	CHECK_INT(st.firing, 0);
	spike_detector_free(d);
}

static void test_steady_noisy_rate_never_fires(void)
{
	struct spike_detector *d = new_detector();
	struct st_stream s = { 0 };
	struct spike_scope_info all;
	uint64_t t, k;

	/* 5 % failing, binomial noise, 1,000 a second for 10 minutes */
	st_seed(5);
	for (t = 0; t < 600; t++)
		for (k = 0; k < 1000; k++)
			st_push(&s, T0 + t * SEC + k * 1000,
				st_uniform() < 0.05 ? HS_FAILED : HS_OK);
	st_feed(d, &s);
	CHECK_INT(evs.n, 0);
	CHECK(spike_detector_scope(d, SPIKE_SCOPE_ALL, NULL, &all));
	CHECK(all.has_baseline);
	CHECK(fabs(all.baseline_rate - 0.05) < 0.002);
	spike_detector_free(d);
}

static void test_spike_at_10k_per_second_fires(void)
{
	struct spike_detector *d = new_detector();
	struct st_stream s = { 0 };
	uint64_t t, k;
	double p;

	/* 1 % for 60 s, 30 % for 10 s, 1 % for 40 s; 10,000 a second */
	st_seed(10);
	for (t = 0; t < 110; t++) {
		p = t >= 60 && t < 70 ? 0.30 : 0.01;
		for (k = 0; k < 10000; k++)
			st_push(&s, T0 + t * SEC + k * 100,
				st_uniform() < p ? HS_FAILED : HS_OK);
	}
	st_feed(d, &s);
	CHECK_INT(evs.n, 2);
	CHECK_INT(evs.ev[0].state, SPIKE_FIRING);
	CHECK_INT(evs.ev[0].kind, SPIKE_SCOPE_ALL);
	/* 3x a 1 % baseline: 0.7 s of 30 % in a 10 s window */
	CHECK(evs.ev[0].ts >= T0 + 60 * SEC && evs.ev[0].ts < T0 + 61 * SEC);
	CHECK(evs.ev[0].has_baseline);
	CHECK(fabs(evs.ev[0].baseline - 0.01) < 0.001);
	CHECK_INT(evs.ev[1].state, SPIKE_RESOLVED);
	CHECK(evs.ev[1].ts > T0 + 70 * SEC && evs.ev[1].ts <= T0 + 90 * SEC);
	spike_detector_free(d);
}

static void test_slow_drift_does_not_fire(void)
{
	struct spike_detector *d = new_detector();
	struct st_stream s = { 0 };
	struct spike_scope_info all;
	uint64_t t, k;
	double p;

	/* 1 % rising steadily to 20 % over 30 minutes, 1,000 a second: the
	 * baseline follows (about 10 minutes behind), never 3x behind */
	st_seed(30);
	for (t = 0; t < 1800; t++) {
		p = 0.01 + 0.19 * (double)t / 1800;
		for (k = 0; k < 1000; k++)
			st_push(&s, T0 + t * SEC + k * 1000,
				st_uniform() < p ? HS_FAILED : HS_OK);
		if (s.n >= 100000)
			st_feed(d, &s);
	}
	st_feed(d, &s);
	CHECK_INT(evs.n, 0);
	CHECK(spike_detector_scope(d, SPIKE_SCOPE_ALL, NULL, &all));
	CHECK(all.baseline_rate > 0.10 && all.baseline_rate < 0.19);
	spike_detector_free(d);
}

static const char *const ja4s[8] = {
	"t13d1516h2_8daaf6152771_02713d6af862", "t13d1517h2_8daaf6152771_b0da82dd1658",
	"t13d1715h2_5b57614c22b0_3d5424432f57", "t12d1209h2_d34a8e72043a_b39be8c56a14",
	"t13d1516h2_8daaf6152771_e5627efa2ab1", "t13d311000_e8f1e7e78f70_d41ae481755e",
	"t13d190900_9dc949149365_97f8aa674fd9", "t12d190800_c866b44c5a26_7c5ae37b9da1",
};

/* The SNI is its bytes: one holding a NUL counts under its escaped form,
 * never under the name before the NUL; a literal "\x00" keeps a key of
 * its own (its backslash escaped); sni_len 0 takes a C string. */
static void test_sni_holding_a_nul_has_a_scope_of_its_own(void)
{
	struct spike_detector *d = new_detector();
	struct spike_input in = { .ts_us = T0, .outcome = HS_ABORTED };
	struct spike_scope_info si;
	struct spike_stats st;
	int i;

	in.sni = "good.test\0x";
	in.sni_len = 11;
	for (i = 0; i < 3; i++)
		spike_detector_add(d, &in);
	in.outcome = HS_OK;
	in.sni = "good.test";
	in.sni_len = 9;
	spike_detector_add(d, &in);
	spike_detector_add(d, &in);
	in.sni = "good.test\\x00x";
	in.sni_len = 14;
	spike_detector_add(d, &in);
	in.sni = "plain.test";
	in.sni_len = 0;
	spike_detector_add(d, &in);

	CHECK(spike_detector_scope(d, SPIKE_SCOPE_SNI, "good.test", &si));
	CHECK_INT(si.handshakes, 2);
	CHECK_INT(si.failures, 0);
	CHECK(spike_detector_scope(d, SPIKE_SCOPE_SNI, "good.test\\x00x", &si));
	CHECK_INT(si.handshakes, 3);
	CHECK_INT(si.failures, 3);
	CHECK(spike_detector_scope(d, SPIKE_SCOPE_SNI, "good.test\\x5cx00x", &si));
	CHECK_INT(si.handshakes, 1);
	CHECK_INT(si.failures, 0);
	CHECK(spike_detector_scope(d, SPIKE_SCOPE_SNI, "plain.test", &si));
	CHECK_INT(si.handshakes, 1);
	spike_detector_stats(d, &st);
	CHECK_INT(st.scopes[SPIKE_SCOPE_SNI], 4);
	spike_detector_free(d);
}

/* sni_len 0 (a C string) is read up to the NUL, then keyed as the same
 * bytes given with their length: a backslash is escaped either way. */
static void test_sni_without_a_length_is_keyed_as_its_bytes(void)
{
	struct spike_detector *d = new_detector();
	struct spike_input in = { .ts_us = T0, .outcome = HS_OK };
	struct spike_scope_info si;
	struct spike_stats st;

	in.sni = "good.test\\x00x";
	in.sni_len = 14;
	spike_detector_add(d, &in);
	in.sni_len = 0;
	spike_detector_add(d, &in);

	CHECK(spike_detector_scope(d, SPIKE_SCOPE_SNI, "good.test\\x5cx00x", &si));
	CHECK_INT(si.handshakes, 2);
	CHECK(!spike_detector_scope(d, SPIKE_SCOPE_SNI, "good.test\\x00x", &si));
	spike_detector_stats(d, &st);
	CHECK_INT(st.scopes[SPIKE_SCOPE_SNI], 1);
	spike_detector_free(d);
}

/* A scope is the name as compared (RFC 4343): "A.test", "a.TEST." and
 * "a.test" (also given as a C string) count as a.test; "." keeps a
 * scope of its own. */
static void test_sni_scope_is_the_name_as_compared(void)
{
	static const char *const spellings[] = { "A.test", "a.TEST.", "a.test", "." };
	struct spike_detector *d = new_detector();
	struct spike_input in = { .ts_us = T0, .outcome = HS_ABORTED };
	struct spike_scope_info si;
	struct spike_stats st;
	int i;

	for (i = 0; i < 4; i++) {
		in.sni = spellings[i];
		in.sni_len = strlen(spellings[i]);
		spike_detector_add(d, &in);
	}
	in.outcome = HS_OK;
	in.sni = "A.Test";
	in.sni_len = 0;
	spike_detector_add(d, &in);

	CHECK(spike_detector_scope(d, SPIKE_SCOPE_SNI, "a.test", &si));
	CHECK_INT(si.handshakes, 4);
	CHECK_INT(si.failures, 3);
	CHECK(!spike_detector_scope(d, SPIKE_SCOPE_SNI, "A.test", &si));
	CHECK(spike_detector_scope(d, SPIKE_SCOPE_SNI, ".", &si));
	CHECK_INT(si.handshakes, 1);
	spike_detector_stats(d, &st);
	CHECK_INT(st.scopes[SPIKE_SCOPE_SNI], 2);
	spike_detector_free(d);
}

static void test_burst_on_one_name_fires_for_that_name_only(void)
{
	struct spike_detector *d = new_detector();
	struct st_stream s = { 0 };
	static char names[50][32], certs[50][65];
	struct st_rec *r;
	uint64_t t, k;
	int n, m;
	double p;

	for (n = 0; n < 50; n++) {
		snprintf(names[n], sizeof(names[n]), "name%02d.example", n);
		snprintf(certs[n], sizeof(certs[n]), "%064x", 0xc0de00 + n);
	}
	/* 50 names x 20/s, each with its own leaf, 8 client JA4s spread over
	 * every name; 1 % fail with bad_certificate. From 120 s to 140 s,
	 * name07 fails 30 %: global 1 % -> 1.6 %, each JA4 1 % -> 1.6 %, the
	 * alert's share 1 % -> 1.6 %; only name07 and its leaf spike. */
	st_seed(50);
	for (t = 0; t < 200; t++) {
		for (k = 0; k < 1000; k++) {
			n = (int)(k % 50);
			m = (int)(k / 50);
			p = n == 7 && t >= 120 && t < 140 ? 0.30 : 0.01;
			r = st_push(&s, T0 + t * SEC + k * 1000,
				    st_uniform() < p ? HS_FAILED : HS_OK);
			r->sni = names[n];
			r->cert = certs[n];
			r->ja4 = ja4s[m % 8];
			if (r->outcome == HS_FAILED) {
				r->alert = 42;
				r->from_client = true;
			}
		}
	}
	st_feed(d, &s);
	CHECK_INT(evs.n, 4);
	CHECK_INT(st_count(&evs, SPIKE_SCOPE_SNI, "name07.example", SPIKE_FIRING), 1);
	CHECK_INT(st_count(&evs, SPIKE_SCOPE_SNI, "name07.example", SPIKE_RESOLVED), 1);
	CHECK_INT(st_count(&evs, SPIKE_SCOPE_CERT, certs[7], SPIKE_FIRING), 1);
	CHECK_INT(st_count(&evs, SPIKE_SCOPE_CERT, certs[7], SPIKE_RESOLVED), 1);
	CHECK_INT(st_count(&evs, SPIKE_SCOPE_ALL, NULL, SPIKE_FIRING), 0);
	CHECK_INT(st_count(&evs, SPIKE_SCOPE_ALERT, NULL, SPIKE_FIRING), 0);
	CHECK_INT(st_count(&evs, SPIKE_SCOPE_JA4, NULL, SPIKE_FIRING), 0);
	CHECK(evs.ev[0].ts >= T0 + 120 * SEC && evs.ev[0].ts < T0 + 125 * SEC);
	/* its explanation names it, its leaf and the alert */
	CHECK_STR(evs.ev[0].top[1][0].key, "name07.example");
	CHECK_INT(evs.ev[0].n_top[1], 1);
	CHECK_STR(evs.ev[0].top[2][0].key, certs[7]);
	CHECK_STR(evs.ev[0].top[0][0].key, "bad_certificate");
	CHECK_STR(evs.ev[0].top[0][0].from, "client");
	CHECK_INT(evs.ev[0].top[0][0].count, evs.ev[0].failures);
	spike_detector_free(d);
}

/* 1,000 a second, 1 % failing except where @bad says 10 %; failures are
 * spread evenly (every 100th / every 10th handshake). */
static void flapping_stream(struct st_stream *s)
{
	uint64_t t, k;
	int step;
	bool bad;

	for (t = 0; t < 260; t++) {
		/* from 120 s: 4 x (8 s at 10 %, 12 s at 1 %) */
		bad = t >= 120 && t < 200 && (t - 120) % 20 < 8;
		step = bad ? 10 : 100;
		for (k = 0; k < 1000; k++)
			st_push(s, T0 + t * SEC + k * 1000,
				k % step == 5 ? HS_FAILED : HS_OK);
	}
}

static void test_flapping_is_one_episode(void)
{
	struct spike_detector *d = new_detector();
	struct st_stream s = { 0 };
	struct spike_opts quick = { .resolve_s = 1 };
	int i, fired = 0;

	/* The window rate swings from 1 % to about 8 % and back under the
	 * firing threshold (3 %) and briefly under the clear level (2 %)
	 * each cycle: one episode with the default hysteresis. */
	flapping_stream(&s);
	st_feed(d, &s);
	CHECK_INT(evs.n, 2);
	CHECK_INT(evs.ev[0].state, SPIKE_FIRING);
	/* 3.7 % at the end of second 122 is over 3x the 1 % baseline but not
	 * by the 4 sigma of noise; the first failure of 123 makes 4.0 % */
	CHECK_INT(evs.ev[0].ts, T0 + 123 * SEC + 5000);
	CHECK_INT(evs.ev[1].state, SPIKE_RESOLVED);
	CHECK_INT(evs.ev[1].started, evs.ev[0].ts);
	CHECK(evs.ev[1].ts > T0 + 200 * SEC && evs.ev[1].ts < T0 + 230 * SEC);
	spike_detector_free(d);

	/* the same stream does flap: resolving after 1 clear second gives one
	 * episode per cycle */
	memset(&evs, 0, sizeof(evs));
	d = spike_detector_new(&quick, st_record, &evs);
	CHECK(d != NULL);
	if (!d)
		return;
	flapping_stream(&s);
	st_feed(d, &s);
	for (i = 0; i < evs.n; i++)
		fired += evs.ev[i].state == SPIKE_FIRING;
	CHECK_INT(fired, 4);
	spike_detector_free(d);
}

static void test_sustained_spike_fires_once(void)
{
	struct spike_detector *d = new_detector();
	struct st_stream s = { 0 };
	uint64_t t;
	int i;

	/* 60 s of 5 failures a second (6 windows' worth) after a calm minute */
	calm(&s, 0, 150);
	for (t = 60; t < 120; t++)
		for (i = 0; i < 5; i++)
			st_push(&s, T0 + t * SEC + (uint64_t)i * 100000, HS_ABORTED);
	st_feed(d, &s);
	CHECK_INT(evs.n, 2);
	CHECK_INT(evs.ev[0].state, SPIKE_FIRING);
	CHECK_INT(evs.ev[0].ts, T0 + 63 * SEC + 400000);   /* failure 20 */
	CHECK_INT(evs.ev[1].state, SPIKE_RESOLVED);
	CHECK_INT(evs.ev[1].ts, T0 + 137 * SEC);
	spike_detector_free(d);
}

#define CERT_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define CERT_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

static void test_explanation_lists_top_keys(void)
{
	static const char *const clients[7] = {
		"t13d_g", "t13d_f", "t13d_e", "t13d_d", "t13d_c", "t13d_b", "t13d_a",
	};
	struct spike_detector *d = new_detector();
	struct st_stream s = { 0 };
	struct st_rec *r;
	uint64_t t;
	int i;

	/* calm traffic has its own name, leaf and client: never a failure */
	for (t = 0; t < 70; t++) {
		for (i = 0; i < 2; i++) {
			r = st_push(&s, T0 + t * SEC + 250000 + (uint64_t)i * 500000, HS_OK);
			r->sni = "calm.example";
			r->cert = "cccc";
			r->ja4 = "t13d_calm";
		}
	}
	/* failure i: i % 5 < 3 -> a.example, leaf A (revoked, superseded),
	 * unknown_ca from the client; else b.example, leaf B (no finding),
	 * certificate_expired from the client and echoed by the server.
	 * Client clients[i % 7]. At failure 20: a 12, b 8; clients g..b 3
	 * each, a 2. */
	for (i = 0; i < 30; i++) {
		r = st_push(&s, T0 + 60 * SEC + (uint64_t)i * 166666, HS_FAILED);
		r->from_client = true;
		r->ja4 = clients[i % 7];
		if (i % 5 < 3) {
			r->sni = "a.example";
			r->cert = CERT_A;
			r->findings = "revoked,superseded";
			r->alert = 48;
		} else {
			r->sni = "b.example";
			r->cert = CERT_B;
			r->findings = "";
			r->alert = 45;
			r->n_alerts = 2;
		}
	}
	st_feed(d, &s);
	CHECK_INT(evs.n, 1);
	CHECK_INT(evs.ev[0].kind, SPIKE_SCOPE_ALL);
	CHECK_INT(evs.ev[0].n_top[0], 3);
	CHECK_STR(evs.ev[0].top[0][0].key, "unknown_ca");
	CHECK_STR(evs.ev[0].top[0][0].from, "client");
	CHECK_INT(evs.ev[0].top[0][0].count, 12);
	CHECK_STR(evs.ev[0].top[0][1].key, "certificate_expired");
	CHECK_STR(evs.ev[0].top[0][1].from, "client");
	CHECK_INT(evs.ev[0].top[0][1].count, 8);
	CHECK_STR(evs.ev[0].top[0][2].from, "server");
	CHECK_INT(evs.ev[0].n_top[1], 2);
	CHECK_STR(evs.ev[0].top[1][0].key, "a.example");
	CHECK_INT(evs.ev[0].top[1][0].count, 12);
	CHECK_STR(evs.ev[0].top[1][1].key, "b.example");
	CHECK_INT(evs.ev[0].top[1][1].count, 8);
	CHECK_INT(evs.ev[0].n_top[2], 2);
	CHECK_STR(evs.ev[0].top[2][0].key, CERT_A);
	CHECK_INT(evs.ev[0].n_top[3], 5);
	CHECK_STR(evs.ev[0].top[3][0].key, "t13d_b");
	CHECK_STR(evs.ev[0].top[3][4].key, "t13d_f");
	CHECK_INT(evs.ev[0].top[3][4].count, 3);
	CHECK_STR(evs.ev[0].json,
		  "{\"event\":\"spike\",\"schema\":2,\"ts\":\"2023-11-14T22:14:23.166654Z\","
		  "\"source\":\"test.pcap\",\"state\":\"firing\",\"scope\":{},"
		  "\"window_s\":10,\"handshakes\":38,\"failures\":20,"
		  "\"rate\":0.526316,\"baseline_rate\":0.0,"
		  "\"started\":\"2023-11-14T22:14:23.166654Z\","
		  "\"top_alerts\":[{\"key\":\"unknown_ca\",\"count\":12,\"from\":\"client\"},"
		  "{\"key\":\"certificate_expired\",\"count\":8,\"from\":\"client\"},"
		  "{\"key\":\"certificate_expired\",\"count\":8,\"from\":\"server\"}],"
		  "\"top_snis\":[{\"key\":\"a.example\",\"count\":12},"
		  "{\"key\":\"b.example\",\"count\":8}],"
		  "\"top_certs\":[{\"key\":\"" CERT_A "\",\"count\":12},"
		  "{\"key\":\"" CERT_B "\",\"count\":8}],"
		  "\"top_clients\":[{\"key\":\"t13d_b\",\"count\":3},"
		  "{\"key\":\"t13d_c\",\"count\":3},{\"key\":\"t13d_d\",\"count\":3},"
		  "{\"key\":\"t13d_e\",\"count\":3},{\"key\":\"t13d_f\",\"count\":3}],"
		  "\"aborted\":0,\"incomplete\":0,"
		  "\"certificate_findings\":[{\"sha256\":\"" CERT_A "\","
		  "\"findings\":[{\"kind\":\"revoked\",\"severity\":\"critical\"},"
		  "{\"kind\":\"superseded\",\"severity\":\"critical\"}]}]}");
	spike_detector_free(d);
}

static void test_incomplete_counted_apart(void)
{
	struct spike_detector *d = new_detector();
	struct st_stream s = { 0 };
	struct spike_stats st;
	int i;

	for (i = 0; i < 50; i++)
		st_push(&s, T0 + (uint64_t)i * 10000, HS_INCOMPLETE);
	for (i = 0; i < 10; i++)
		st_push(&s, T0 + 1 * SEC + (uint64_t)i * 10000, HS_OK);
	for (i = 0; i < 30; i++)
		st_push(&s, T0 + 2 * SEC + (uint64_t)i * 10000, HS_ABORTED);
	st_feed(d, &s);
	spike_detector_stats(d, &st);
	CHECK_INT(st.records, 90);
	CHECK_INT(st.handshakes, 40);
	CHECK_INT(st.incomplete, 50);
	CHECK_INT(st.failures, 30);
	CHECK_INT(st.aborted, 30);
	/* 20 of 30: the 50 incomplete are not in the rate */
	CHECK_INT(evs.n, 1);
	CHECK_INT(evs.ev[0].ts, T0 + 2 * SEC + 190000);
	CHECK_INT(evs.ev[0].handshakes, 30);
	CHECK_INT(evs.ev[0].failures, 20);
	CHECK_INT(evs.ev[0].incomplete, 50);
	spike_detector_free(d);
}

static void test_alert_scope_rate_is_over_all_traffic(void)
{
	struct spike_detector *d = new_detector();
	struct st_stream s = { 0 };
	struct st_rec *r;
	struct spike_scope_info info;
	uint64_t t, k;
	int i;

	/* 100 a second with 20 % aborted (k % 5 == 3) for 70 s; at 60 s, 20
	 * TLS 1.3 clients fail with encrypted alerts within half a second.
	 * All traffic goes from 20 % to about 22 % (not 3x). "encrypted" was
	 * never seen, so it starts with a baseline of 0 % of all traffic
	 * learned (not cold): 2 % of all traffic fires it, at its 20th. */
	for (t = 0; t < 70; t++)
		for (k = 0; k < 100; k++)
			st_push(&s, T0 + t * SEC + k * 10000,
				k % 5 == 3 ? HS_ABORTED : HS_OK);
	for (i = 0; i < 20; i++) {
		r = st_push(&s, T0 + 60 * SEC + (uint64_t)i * 25000 + 5000, HS_FAILED);
		r->encrypted = true;
		r->from_client = true;
	}
	st_feed(d, &s);
	CHECK_INT(evs.n, 1);
	CHECK_INT(evs.ev[0].kind, SPIKE_SCOPE_ALERT);
	CHECK_STR(evs.ev[0].key, "encrypted");
	CHECK_INT(evs.ev[0].ts, T0 + 60 * SEC + 480000);
	/* all traffic in the window: seconds 51..59, 49 of second 60, and
	 * the 20 encrypted */
	CHECK_INT(evs.ev[0].handshakes, 900 + 49 + 20);
	CHECK_INT(evs.ev[0].failures, 20);
	CHECK(evs.ev[0].has_baseline);
	CHECK(evs.ev[0].baseline == 0);
	CHECK_STR(evs.ev[0].top[0][0].key, "encrypted");
	CHECK_STR(evs.ev[0].top[0][0].from, "client");
	CHECK_INT(evs.ev[0].top[0][0].count, 20);
	CHECK(strstr(evs.ev[0].json, "\"scope\":{\"alert\":\"encrypted\"}") != NULL);
	CHECK(spike_detector_scope(d, SPIKE_SCOPE_ALERT, "encrypted", &info));
	CHECK_INT(info.failures, 20);
	spike_detector_free(d);
}

static void test_short_episode_is_not_learned(void)
{
	struct spike_opts quick = { .resolve_s = 1 };
	struct spike_detector *d;
	struct st_stream s = { 0 };
	struct spike_scope_info all;

	/* resolved at 73 after one clear second, while second 64 (5
	 * failures) is still in the window: it leaves at 74 and is not
	 * learned, nor any second that was in the window when it fired */
	memset(&evs, 0, sizeof(evs));
	d = spike_detector_new(&quick, st_record, &evs);
	CHECK(d != NULL);
	if (!d)
		return;
	calm(&s, 0, 120);
	burst(&s, 60);
	st_feed(d, &s);
	CHECK_INT(evs.n, 2);
	CHECK_INT(evs.ev[1].state, SPIKE_RESOLVED);
	CHECK_INT(evs.ev[1].ts, T0 + 73 * SEC);
	CHECK_INT(evs.ev[1].failures, 5);
	CHECK(spike_detector_scope(d, SPIKE_SCOPE_ALL, NULL, &all));
	CHECK(all.baseline_rate == 0);
	spike_detector_free(d);
}

static void test_site_wide_outage_is_one_event(void)
{
	struct spike_detector *d = new_detector();
	struct st_stream s = { 0 };
	struct st_rec *r;
	uint32_t i;

	/* one name, leaf and client carry all the traffic, as in a capture of
	 * one test server: when it fails, all traffic fires and its
	 * explanation names them; the narrower scopes do not repeat it */
	calm(&s, 0, 100);
	burst(&s, 60);
	for (i = 0; i < s.n; i++) {
		r = &s.r[i];
		r->sni = "only.example";
		r->cert = CERT_A;
		r->ja4 = ja4s[0];
		if (r->outcome != HS_OK) {
			r->outcome = HS_FAILED;
			r->alert = 48;
			r->from_client = true;
		}
	}
	st_feed(d, &s);
	CHECK_INT(evs.n, 2);
	CHECK_INT(evs.ev[0].kind, SPIKE_SCOPE_ALL);
	CHECK_INT(evs.ev[0].state, SPIKE_FIRING);
	CHECK_STR(evs.ev[0].top[0][0].key, "unknown_ca");
	CHECK_STR(evs.ev[0].top[1][0].key, "only.example");
	CHECK_STR(evs.ev[0].top[2][0].key, CERT_A);
	CHECK_STR(evs.ev[0].top[3][0].key, ja4s[0]);
	CHECK_INT(evs.ev[1].kind, SPIKE_SCOPE_ALL);
	CHECK_INT(evs.ev[1].state, SPIKE_RESOLVED);
	spike_detector_free(d);
}

static void test_scope_standing_out_fires_during_outage(void)
{
	static const char *const names[10] = {
		"n0.example", "n1.example", "n2.example", "n3.example", "n4.example",
		"n5.example", "n6.example", "n7.example", "n8.example", "n9.example",
	};
	struct spike_detector *d = new_detector();
	struct st_stream s = { 0 };
	struct st_rec *r;
	uint64_t t, k;
	bool fail;

	/* 10 names x 10 a second, no failure for a minute; then n0 fails
	 * every handshake and the others 2 in 10: all traffic 28 % fires;
	 * n0 (100 % >= min(3 x 28 %, 64 %)) stands out and fires too; the
	 * other names (20 %) would fire alone but not inside the outage */
	for (t = 0; t < 80; t++) {
		for (k = 0; k < 100; k++) {
			fail = t >= 60 && t < 70 && (k % 10 == 0 || (k / 10) % 5 == 1);
			r = st_push(&s, T0 + t * SEC + k * 10000, fail ? HS_ABORTED : HS_OK);
			r->sni = names[k % 10];
		}
	}
	st_feed(d, &s);
	CHECK_INT(st_count(&evs, SPIKE_SCOPE_ALL, NULL, SPIKE_FIRING), 1);
	CHECK_INT(st_count(&evs, SPIKE_SCOPE_SNI, "n0.example", SPIKE_FIRING), 1);
	CHECK_INT(st_count(&evs, SPIKE_SCOPE_SNI, NULL, SPIKE_FIRING), 1);
	CHECK_INT(evs.ev[0].kind, SPIKE_SCOPE_ALL);
	spike_detector_free(d);
}

static void test_warning_alerts_are_not_counted(void)
{
	struct spike_detector *d = new_detector();
	struct spike_scope_info info;
	struct hs_alert al[2] = {
		{ .from_client = false, .level = HS_ALERT_WARNING, .description = 112 },
		{ .from_client = true, .level = HS_ALERT_FATAL, .description = 48 },
	};
	struct spike_input in = {
		.ts_us = T0, .outcome = HS_FAILED, .n_alerts = 2, .alerts = al,
	};

	spike_detector_add(d, &in);
	CHECK(!spike_detector_scope(d, SPIKE_SCOPE_ALERT, "unrecognized_name", &info));
	CHECK(spike_detector_scope(d, SPIKE_SCOPE_ALERT, "unknown_ca", &info));
	CHECK_INT(info.failures, 1);
	spike_detector_free(d);
}

static void test_json_of_resolved_cold_event(void)
{
	struct spike_event ev;
	struct json_writer j;

	memset(&ev, 0, sizeof(ev));
	ev.state = SPIKE_RESOLVED;
	ev.kind = SPIKE_SCOPE_SNI;
	ev.key = "shop.example";
	ev.ts_us = T0 + 90 * SEC;
	ev.window_s = 10;
	ev.handshakes = 40;
	ev.failures = 1;
	ev.rate = 0.025;
	ev.has_baseline = false;
	ev.started_us = T0 + 63 * SEC + 500000;
	ev.n_alerts = 1;
	ev.top_alerts[0] = (struct spike_top){ "bad_certificate", "client", 1 };
	ev.n_snis = 1;
	ev.top_snis[0] = (struct spike_top){ "shop.example", NULL, 1 };
	ev.incomplete = 2;
	jw_init(&j);
	spike_event_write_json(&j, &ev, "eth0");
	CHECK_STR(jw_text(&j),
		  "{\"event\":\"spike\",\"schema\":2,\"ts\":\"2023-11-14T22:14:50.000000Z\","
		  "\"source\":\"eth0\",\"state\":\"resolved\","
		  "\"scope\":{\"sni\":\"shop.example\"},\"window_s\":10,"
		  "\"handshakes\":40,\"failures\":1,\"rate\":0.025,"
		  "\"started\":\"2023-11-14T22:14:23.500000Z\","
		  "\"top_alerts\":[{\"key\":\"bad_certificate\",\"count\":1,\"from\":\"client\"}],"
		  "\"top_snis\":[{\"key\":\"shop.example\",\"count\":1}],"
		  "\"top_certs\":[],\"top_clients\":[],\"aborted\":0,\"incomplete\":2,"
		  "\"certificate_findings\":[]}");
	jw_free(&j);
}

static void test_options_out_of_range_are_rejected(void)
{
	struct spike_opts bad_window = { .window_s = 301 };
	struct spike_opts bad_factor = { .factor = 0.5 };
	struct spike_opts bad_cold = { .cold_rate = 1.5 };

	errno = 0;
	CHECK(spike_detector_new(&bad_window, NULL, NULL) == NULL);
	CHECK_INT(errno, EINVAL);
	CHECK(spike_detector_new(&bad_factor, NULL, NULL) == NULL);
	CHECK(spike_detector_new(&bad_cold, NULL, NULL) == NULL);
	CHECK_INT(spike_memory_bound(&bad_window), 0);
	CHECK(spike_memory_bound(NULL) > 0);
}

int main(void)
{
	RUN_TEST(test_cold_start_fires_on_absolute_floor);
	RUN_TEST(test_cold_start_ignores_rate_below_floor);
	RUN_TEST(test_calm_then_burst_fires_within_window);
	RUN_TEST(test_unassigned_alert_is_named_by_its_number);
	RUN_TEST(test_resolves_after_burst_ends);
	RUN_TEST(test_short_episode_is_not_learned);
	RUN_TEST(test_advance_resolves_without_traffic);
	RUN_TEST(test_finish_does_not_resolve_artificially);
	RUN_TEST(test_time_jumps_and_goes_back_safely);
	RUN_TEST(test_steady_noisy_rate_never_fires);
	RUN_TEST(test_spike_at_10k_per_second_fires);
	RUN_TEST(test_slow_drift_does_not_fire);
	RUN_TEST(test_burst_on_one_name_fires_for_that_name_only);
	RUN_TEST(test_sni_holding_a_nul_has_a_scope_of_its_own);
	RUN_TEST(test_sni_without_a_length_is_keyed_as_its_bytes);
	RUN_TEST(test_sni_scope_is_the_name_as_compared);
	RUN_TEST(test_flapping_is_one_episode);
	RUN_TEST(test_sustained_spike_fires_once);
	RUN_TEST(test_explanation_lists_top_keys);
	RUN_TEST(test_incomplete_counted_apart);
	RUN_TEST(test_alert_scope_rate_is_over_all_traffic);
	RUN_TEST(test_site_wide_outage_is_one_event);
	RUN_TEST(test_scope_standing_out_fires_during_outage);
	RUN_TEST(test_warning_alerts_are_not_counted);
	RUN_TEST(test_json_of_resolved_cold_event);
	RUN_TEST(test_options_out_of_range_are_rejected);
	return CHECK_EXIT_CODE();
}
