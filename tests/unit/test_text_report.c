// SPDX-License-Identifier: MIT
/* The text report of analyze: what it says past its bounds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "detect/spike.h"
#include "sink/sink.h"

#define T0_US 1767225600000000ull   /* 2026-01-01T00:00:00Z */

/* The report of @n spike events (firing and resolving by turns). */
static char *report_of_spikes(int n)
{
	struct output_opts o = { 0 };
	struct summary sum = { .source = "test" };
	struct event ev = { .type = EVENT_SUMMARY, .summary = &sum };
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

int main(void)
{
	RUN_TEST(test_spike_timeline_says_what_it_left_out);
	return CHECK_EXIT_CODE();
}
