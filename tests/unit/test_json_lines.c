// SPDX-License-Identifier: MIT
/*
 * The JSON log (sink/json_lines.c) writes the events of a turn of the
 * agent's loop together: they reach the file at sink_set_flush(), when the
 * buffer would overflow (whole lines only), or at once for the agent's own
 * events; at close nothing is left behind. The set names the sink that
 * lost events, so that a command blames the output that failed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "sink/sink.h"

static char dir[64];

/* Lines in @path, and whether it ends with a newline (or is empty). */
static int lines(const char *path, int *whole)
{
	FILE *f = fopen(path, "r");
	int c, last = '\n', n = 0;

	*whole = 0;
	if (!f)
		return -1;
	while ((c = fgetc(f)) != EOF) {
		n += c == '\n';
		last = c;
	}
	fclose(f);
	*whole = last == '\n';
	return n;
}

#define LOG_PATH_MAX 128

/* A sink set with only a JSON log, @name in the test's directory; its path
 * in @path. */
static struct sink_set *open_log(const char *name, char *path)
{
	struct output_opts o;
	struct sink_set *set = NULL;
	char err[512];

	snprintf(path, LOG_PATH_MAX, "%s/%s", dir, name);
	unlink(path);
	memset(&o, 0, sizeof(o));
	o.json_path = path;
	if (sink_set_open(&o, &set, err, sizeof(err)) != 0)
		printf("#   sink_set_open: %s\n", err);
	return set;
}

static void emit_summary(struct sink_set *set)
{
	static const char *const files[] = { "a.pcap" };
	static struct summary sum = { .files = files, .n_files = 1, .packets = 40 };
	struct event ev = { .type = EVENT_SUMMARY, .ts_us = 1, .source = "a.pcap",
			    .summary = &sum };

	sink_set_emit(set, &ev);
}

static void emit_agent_event(struct sink_set *set)
{
	struct agent_view v = { .state = "stats", .message = "test" };
	struct event ev = { .type = EVENT_AGENT, .ts_us = 1, .source = "t", .agent = &v };

	sink_set_emit(set, &ev);
}

static void test_a_turns_events_reach_the_file_at_flush(void)
{
	char log[LOG_PATH_MAX];
	struct sink_set *set = open_log("turn.jsonl", log);
	int whole;

	if (!set)
		return;
	emit_summary(set);
	emit_summary(set);
	emit_summary(set);
	CHECK_INT(lines(log, &whole), 0);
	sink_set_flush(set);
	CHECK_INT(lines(log, &whole), 3);
	CHECK(whole);
	sink_set_flush(set);          /* nothing buffered: nothing written */
	CHECK_INT(lines(log, &whole), 3);
	emit_summary(set);
	CHECK_INT(sink_set_errors(set), 0);
	sink_set_close(set);
	CHECK_INT(lines(log, &whole), 4);
}

static void test_an_agent_event_goes_out_at_once_with_those_before_it(void)
{
	char log[LOG_PATH_MAX];
	struct sink_set *set = open_log("agent.jsonl", log);
	int whole;

	if (!set)
		return;
	emit_summary(set);
	emit_summary(set);
	emit_agent_event(set);
	CHECK_INT(lines(log, &whole), 3);
	CHECK(whole);
	sink_set_close(set);
}

/* More than the 64 KiB buffer within one turn: what reaches the file
 * before the flush is whole lines, and nothing is lost. */
static void test_a_full_buffer_writes_whole_lines(void)
{
	char log[LOG_PATH_MAX];
	struct sink_set *set = open_log("full.jsonl", log);
	int i, n, whole;

	if (!set)
		return;
	for (i = 0; i < 400; i++)
		emit_summary(set);
	n = lines(log, &whole);
	CHECK(n > 0 && n < 400);
	CHECK(whole);
	sink_set_flush(set);
	CHECK_INT(lines(log, &whole), 400);
	CHECK(whole);
	CHECK_INT(sink_set_errors(set), 0);
	sink_set_close(set);
}

/* What sink_set_each_error() said: "name=count" per call, joined by ' '. */
struct lost_said {
	char text[128];
};

static void note_lost(void *ctx, const char *name, uint64_t lost)
{
	struct lost_said *l = ctx;
	size_t used = strlen(l->text);

	snprintf(l->text + used, sizeof(l->text) - used, "%s%s=%llu", used ? " " : "",
		 name ? name : "(none)", (unsigned long long)lost);
}

/* A set of a JSON log at @json and the HTML page at @html. */
static struct sink_set *open_log_and_page(const char *json, const char *html)
{
	struct output_opts o;
	struct sink_set *set = NULL;
	char err[512];

	memset(&o, 0, sizeof(o));
	o.json_path = json;
	o.html_path = html;
	if (sink_set_open(&o, &set, err, sizeof(err)) != 0)
		printf("#   sink_set_open: %s\n", err);
	return set;
}

/* The page on a full disk: its 3 summaries are the page's losses, not the
 * JSON log's, which took them. */
static void test_lost_events_are_named_by_the_sink_that_lost_them(void)
{
	char log[LOG_PATH_MAX];
	struct lost_said said = { "" };
	struct sink_set *set;
	int whole;

	snprintf(log, sizeof(log), "%s/named.jsonl", dir);
	set = open_log_and_page(log, "/dev/full");
	if (!set)
		return;
	emit_summary(set);
	emit_summary(set);
	emit_summary(set);
	sink_set_flush(set);
	CHECK_INT(lines(log, &whole), 3);
	CHECK_INT(sink_set_errors(set), 3);
	sink_set_each_error(set, note_lost, &said);
	CHECK_STR(said.text, "html=3");
	sink_set_close(set);
}

/* The JSON log on a full disk, past its buffer: the losses are its own;
 * the page, written each time, has none. */
static void test_a_full_json_log_is_not_the_pages_fault(void)
{
	char page[LOG_PATH_MAX];
	struct lost_said said = { "" };
	struct counter_values cv = { 0 };
	struct sink_set *set;
	uint64_t lost;
	int i;

	snprintf(page, sizeof(page), "%s/page.html", dir);
	set = open_log_and_page("/dev/full", page);
	if (!set)
		return;
	for (i = 0; i < 400; i++)
		emit_summary(set);
	lost = sink_set_errors(set);
	CHECK(lost > 0 && lost < 400);
	sink_set_each_error(set, note_lost, &said);
	snprintf(page, sizeof(page), "json=%llu", (unsigned long long)lost);
	CHECK_STR(said.text, page);
	sink_set_counters(set, &cv);
	CHECK_INT(cv.v[COUNTER_EVENTS_LOST], lost);  /* the same count */
	sink_set_close(set);
}

int main(void)
{
	char cmd[128];

	snprintf(dir, sizeof(dir), "/tmp/tw-json-lines-%d", (int)getpid());
	if (mkdir(dir, 0700) < 0) {
		perror(dir);
		return 1;
	}
	RUN_TEST(test_a_turns_events_reach_the_file_at_flush);
	RUN_TEST(test_an_agent_event_goes_out_at_once_with_those_before_it);
	RUN_TEST(test_a_full_buffer_writes_whole_lines);
	RUN_TEST(test_lost_events_are_named_by_the_sink_that_lost_them);
	RUN_TEST(test_a_full_json_log_is_not_the_pages_fault);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
	return CHECK_EXIT_CODE();
}
