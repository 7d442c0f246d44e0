// SPDX-License-Identifier: MIT
/*
 * The webhook sender's order across its two outboxes. When the --db file
 * cannot take an alert (here: its disk full), the alert is kept in memory;
 * a spike's "resolved" kept so must still wait for its "firing", which
 * the file took before it filled and which waits there for a retry. Real
 * SQLite on a full tmpfs (full_disk.h: needs root), a real HTTP receiver
 * on 127.0.0.1 (http_recorder.h).
 */
#include "check.h"
#include "full_disk.h"
#include "http_recorder.h"
#include "sink_spike.h"

static uint64_t wall_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* The states of the spike bodies the receiver answered 200 to, in order,
 * space-separated. */
static const char *delivered_states(struct recorder *r)
{
	static char out[256];
	const char *line, *st;

	out[0] = '\0';
	pthread_mutex_lock(&r->lock);
	for (line = r->log; *line; line = strchr(line, '\n') + 1) {
		st = strstr(line, "\"state\":\"");
		if (strncmp(line, "200 ", 4) == 0 && st && st < strchr(line, '\n'))
			snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%.*s",
				 out[0] ? " " : "", (int)strcspn(st + 9, "\""), st + 9);
	}
	pthread_mutex_unlock(&r->lock);
	return out;
}

/* Ticks @set every 50 ms until the receiver answered 200 to @n requests,
 * 5 s at most. */
static void tick_until_delivered(struct sink_set *set, struct recorder *r, int n)
{
	int i;

	for (i = 0; i < 100 && atomic_load(&r->answered_ok) < n; i++) {
		sink_set_tick(set, wall_us());
		usleep(50000);
	}
}

static int resolved_in_memory_waits_for_the_files_firing(const char *dir)
{
	char db[96], fill[96], url[64];
	struct output_opts o = { 0 };
	struct sink_set *set = NULL;
	struct recorder r;
	uint64_t now = wall_us();
	char err[256];

	snprintf(db, sizeof(db), "%s/agent.db", dir);
	snprintf(fill, sizeof(fill), "%s/fill", dir);
	CHECK_INT(recorder_start(&r), 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/hook", r.port);
	o.webhooks[o.n_webhooks++] = url;
	o.webhook_events = WEBHOOK_EVENTS_DEFAULT;
	o.webhook_timeout_ms = 2000;
	o.webhook_retry_max_s = 1;
	o.db_path = db;
	o.drain_ms = 1000;
	CHECK_INT(sink_set_open(&o, &set, err, sizeof(err)), 0);
	if (!set) {
		printf("#   sink_set_open: %s\n", err);
		recorder_stop(&r);
		return 1;
	}
	/* the firing: in the file, answered 500, waits for its retry */
	atomic_store(&r.failing, true);
	emit_spike(set, SPIKE_FIRING, now);
	CHECK_INT(recorder_wait(&r, 1), 1);
	sink_set_tick(set, wall_us());                /* the 500 taken */
	fill_up(fill);
	atomic_store(&r.failing, false);
	/* the resolved: the file is full, so in memory; it must wait */
	emit_spike(set, SPIKE_RESOLVED, now + 1000);
	tick_until_delivered(set, &r, 2);
	CHECK_STR(delivered_states(&r), "firing resolved");
	sink_set_close(set);
	recorder_stop(&r);
	return check_failed_in_test;
}

static void test_resolved_kept_in_memory_waits_for_the_files_firing(void)
{
	full_disk_child(resolved_in_memory_waits_for_the_files_firing);
}

int main(void)
{
	RUN_TEST(test_resolved_kept_in_memory_waits_for_the_files_firing);
	return CHECK_EXIT_CODE();
}
