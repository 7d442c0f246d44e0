// SPDX-License-Identifier: MIT
/* The text report of analyze: what it says past its bounds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "detect/spike.h"
#include "fail_strdup.h"
#include "sink/sink.h"

#define T0_US 1767225600000000ull   /* 2026-01-01T00:00:00Z */

/* The report of @n spike events (firing and resolving by turns), then
 * @sum; the events at @no_memory[0..n_no_memory) find no memory for their
 * line (the report's strdup of it fails). */
static char *report_failing(struct summary *sum, int n, const int *no_memory,
			    int n_no_memory)
{
	struct output_opts o = { 0 };
	struct event ev = { .type = EVENT_SUMMARY, .summary = sum };
	struct sink_set *set = NULL;
	char err[256] = "", *text = NULL;
	size_t len = 0;
	int i;

	o.text_report = open_memstream(&text, &len);
	CHECK(o.text_report != NULL);
	CHECK_INT(sink_set_open(&o, &set, err, sizeof(err)), 0);
	for (i = 0; set && i < n; i++) {
		struct spike_event sp = {
			.state = i % 2 ? SPIKE_RESOLVED : SPIKE_FIRING,
			.kind = SPIKE_SCOPE_SNI, .key = "a.test",
			.ts_us = T0_US + (uint64_t)i * 1000000, .window_s = 5,
			.handshakes = 10, .failures = 9, .rate = 0.9,
		};
		struct event e = { .type = EVENT_SPIKE, .ts_us = sp.ts_us, .spike = &sp };
		int j;

		for (j = 0; j < n_no_memory; j++)
			if (no_memory[j] == i)
				fail_strdup_left = 1;
		sink_set_emit(set, &e);
		CHECK_INT(fail_strdup_left, 0);   /* the line's strdup took it */
		fail_strdup_left = 0;
	}
	if (set) {
		sink_set_emit(set, &ev);
		sink_set_close(set);
	}
	fclose(o.text_report);
	return text;
}

static char *report_of(struct summary *sum, int n)
{
	return report_failing(sum, n, NULL, 0);
}

static int lines_with(const char *text, const char *needle)
{
	const char *p = text;
	int n = 0;

	while (p && (p = strstr(p, needle))) {
		n++;
		p += strlen(needle);
	}
	return n;
}

static char *report_of_spikes(int n)
{
	struct summary sum = { .source = "test" };

	return report_of(&sum, n);
}

/* 1,000 spike lines at most, and the report says how many it left out. */
static void test_spike_timeline_says_what_it_left_out(void)
{
	char *text = report_of_spikes(1005);

	CHECK(text != NULL);
	CHECK_INT(lines_with(text, " sni=a.test: 9 of 10 failed"), 1000);
	CHECK(text && strstr(text, "\n  (5 later spike events not listed: at most 1000)\n"));
	free(text);
	text = report_of_spikes(1000);
	CHECK(text && !strstr(text, "not listed"));
	free(text);
}

/* A spike line left out for lack of memory is counted apart from those
 * past the bound, wherever it was (not "later"); before, it was left out
 * without a word, and a timeline none of whose lines was kept had no
 * heading either. */
static void test_spike_timeline_says_what_memory_left_out(void)
{
	struct summary sum = { .source = "test" };
	const int second = 1, first = 0;
	char *text = report_failing(&sum, 3, &second, 1);

	CHECK_INT(lines_with(text, " sni=a.test: 9 of 10 failed"), 2);
	CHECK(text && strstr(text, "\n  (1 spike event not listed: out of memory)\n"));
	CHECK(text && !strstr(text, "later spike"));
	free(text);
	text = report_failing(&sum, 1, &first, 1);
	CHECK_INT(lines_with(text, " sni=a.test: 9 of 10 failed"), 0);
	CHECK(text && strstr(text, "\nFailure spikes (timeline)\n"
				   "  (1 spike event not listed: out of memory)\n"));
	free(text);
}

/* Both causes: the first line finds no memory, 1,000 are listed (the
 * 2nd to the 1,001st), the 1,002nd is past the bound. */
static void test_spike_timeline_says_both_causes(void)
{
	struct summary sum = { .source = "test" };
	const int first = 0;
	char *text = report_failing(&sum, 1002, &first, 1);

	CHECK_INT(lines_with(text, " sni=a.test: 9 of 10 failed"), 1000);
	CHECK(text && strstr(text, "\n  (1 later spike event not listed: at most 1000)\n"
				   "  (1 spike event not listed: out of memory)\n"));
	free(text);
}

/* Every problem counted has its line, the ones added last too (the
 * report once printed a chosen few: non_tls_flows was never shown). */
static void test_problems_list_every_reason(void)
{
	struct summary sum = { .source = "test" };
	char *text;
	int i;

	for (i = 0; i < SUM_PROBLEM__COUNT; i++)
		sum.problems[i] = (uint64_t)i + 1;
	text = report_of(&sum, 0);
	CHECK(text != NULL);
	CHECK(text && strstr(text, "\nProblems (name in the JSON summary, count, what it counts)\n"
			     "  not_ip               1  Frames that are not IPv4 or IPv6\n"
			     "  not_tcp              2  IP packets that are not TCP\n"));
	CHECK(text && strstr(text, "\n  non_tls_flows        12  Flows that did not start with TLS\n"
			     "  midstream_tls_flows  13  TLS connections joined after their handshake (idle past the flow timeout, or begun before the capture): not read\n"));
	CHECK(text && strstr(text, "\n  flows_reopened       19  Flows ended by a new connection on the same addresses and ports (a port reused while the old connection was followed)\n"));
	for (i = 0; text && i < SUM_PROBLEM__COUNT; i++) {
		char line[64];

		snprintf(line, sizeof(line), "\n  %-20s %d  ", summary_problem_names[i], i + 1);
		CHECK_INT(lines_with(text, line), 1);
	}
	free(text);
}

/* Only the counts that are not 0 are listed; none, no section. */
static void test_problems_only_those_counted(void)
{
	const char *want = "\nProblems (name in the JSON summary, count, what it counts)\n"
			   "  non_tls_flows        1  Flows that did not start with TLS\n";
	struct summary sum = { .source = "test" };
	char *text;

	text = report_of(&sum, 0);
	CHECK(text && !strstr(text, "Problems"));
	free(text);
	sum.problems[SUM_NON_TLS_FLOWS] = 1;
	text = report_of(&sum, 0);
	/* the report's last lines: that one reason and no other */
	CHECK(text && strlen(text) > strlen(want) &&
	      strcmp(text + strlen(text) - strlen(want), want) == 0);
	free(text);
}

/* Handshakes of one name in three spellings (RFC 4343: one name), then
 * the summary: the report of them. */
static char *report_of_spellings(void)
{
	static const char *const snis[] = { "A.test", "a.test", "A.TEST." };
	struct summary sum = { .source = "test" };
	struct event sev = { .type = EVENT_SUMMARY, .summary = &sum };
	struct output_opts o = { 0 };
	struct sink_set *set = NULL;
	char err[256] = "", *text = NULL, subject[] = "CN=a.test";
	struct cert_info leaf;
	struct finding_list fl;
	size_t len = 0;
	int i;

	memset(&leaf, 0, sizeof(leaf));
	memset(leaf.sha256, 0xab, sizeof(leaf.sha256));
	memset(leaf.sha256_hex, 'a', 64);
	leaf.subject = leaf.issuer = subject;
	leaf.serial_hex = "01";
	memset(&fl, 0, sizeof(fl));
	finding_add(&fl, FINDING_UNTRUSTED, "self-signed certificate");
	o.text_report = open_memstream(&text, &len);
	CHECK(o.text_report != NULL);
	CHECK_INT(sink_set_open(&o, &set, err, sizeof(err)), 0);
	for (i = 0; set && i < 3; i++) {
		const struct cert_info *chain[1] = { &leaf };
		struct hs_record rec;
		struct hs_view v;
		struct cert_view cv;
		struct event e = { .type = EVENT_HANDSHAKE, .handshake = &v };

		memset(&v, 0, sizeof(v));
		hs_record_init(&rec);
		rec.has_sni = true;
		rec.sni_len = (uint16_t)strlen(snis[i]);
		memcpy(rec.sni, snis[i], rec.sni_len);
		rec.outcome = HS_OK;
		rec.server.addr.family = 4;
		memcpy(rec.server.addr.bytes, "\x0a\x00\x00\x02", 4);
		rec.server.port = 443;
		v.rec = &rec;
		v.n_chain = 1;
		v.chain[0] = &leaf;
		sink_set_emit(set, &e);
		/* the cert event of the first handshake, as the pipeline says it */
		if (i)
			continue;
		cv = (struct cert_view){ .server = &rec.server, .sni = rec.sni,
					 .sni_len = rec.sni_len, .n_chain = 1,
					 .chain = chain, .findings = &fl };
		e = (struct event){ .type = EVENT_CERT, .cert = &cv };
		sink_set_emit(set, &e);
	}
	if (set) {
		sink_set_emit(set, &sev);
		sink_set_close(set);
	}
	fclose(o.text_report);
	return text;
}

/* Host names are case-insensitive (RFC 4343): A.test, a.test and A.TEST.
 * are one name row, shown as first seen, its certificate listed once with
 * the three servings and the finding of its cert event. */
static void test_a_name_in_any_case_is_one_row(void)
{
	char *text = report_of_spellings();

	CHECK(text != NULL);
	CHECK_INT(lines_with(text, "  at 10.0.0.2:443"), 1);
	CHECK(text && strstr(text, "\n  A.test  at 10.0.0.2:443\n"
			     "    handshakes 3: ok 3, failed 0, aborted 0, incomplete 0;"));
	CHECK_INT(lines_with(text, "    certificate "), 1);
	CHECK(text && strstr(text, "  served 3 times\n"));
	CHECK_INT(lines_with(text, "untrusted: self-signed certificate"), 1);
	free(text);
}

int main(void)
{
	RUN_TEST(test_a_name_in_any_case_is_one_row);
	RUN_TEST(test_problems_list_every_reason);
	RUN_TEST(test_problems_only_those_counted);
	RUN_TEST(test_spike_timeline_says_what_it_left_out);
	RUN_TEST(test_spike_timeline_says_what_memory_left_out);
	RUN_TEST(test_spike_timeline_says_both_causes);
	return CHECK_EXIT_CODE();
}
