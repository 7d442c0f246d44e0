// SPDX-License-Identifier: MIT
/* The text report of analyze: what it says past its bounds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "detect/spike.h"
#include "sink/sink.h"

#define T0_US 1767225600000000ull   /* 2026-01-01T00:00:00Z */

/* The report of @n spike events (firing and resolving by turns), then
 * @sum. */
static char *report_of(struct summary *sum, int n)
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

		sink_set_emit(set, &e);
	}
	if (set) {
		sink_set_emit(set, &ev);
		sink_set_close(set);
	}
	fclose(o.text_report);
	return text;
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

int main(void)
{
	RUN_TEST(test_problems_list_every_reason);
	RUN_TEST(test_problems_only_those_counted);
	RUN_TEST(test_spike_timeline_says_what_it_left_out);
	return CHECK_EXIT_CODE();
}
