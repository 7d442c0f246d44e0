// SPDX-License-Identifier: MIT
/*
 * The Alertmanager sink's timing, against a tiny HTTP server on 127.0.0.1
 * that records each request body: a new alert goes at the next tick, an
 * active one again every resend interval, a resolved one three times, 1 s
 * apart, then never; a resolution the URL did not take goes again at each
 * resend until it does, 3 resends at most. (tests/e2e/alertmanager.sh checks the alerts against
 * a real Alertmanager.)
 */
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "common/timefmt.h"
#include "http_recorder.h"
#include "sink_spike.h"
#include "detect/spike.h"
#include "sink/sink.h"

/* The endsAt of the last body's first alert, "" without one. */
static void recorder_ends_at(struct recorder *r, char out[TW_TIME_STRLEN])
{
	const char *p;

	pthread_mutex_lock(&r->lock);
	p = strstr(r->last, "\"endsAt\":\"");
	snprintf(out, TW_TIME_STRLEN, "%.*s", p ? (int)strcspn(p + 10, "\"") : 0,
		 p ? p + 10 : "");
	pthread_mutex_unlock(&r->lock);
}

static uint64_t wall_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* Starts @r and a sink set with one Alertmanager sink sending to it;
 * NULL (with @r stopped) on failure. */
static struct sink_set *open_sink_at(struct recorder *r, char *url, size_t urllen,
				     const char *path, unsigned resend_s)
{
	struct output_opts o = { 0 };
	struct sink_set *set = NULL;
	char err[256];

	if (recorder_start(r) < 0) {
		printf("#   cannot start the recorder\n");
		return NULL;
	}
	snprintf(url, urllen, "http://127.0.0.1:%u%s", r->port, path);
	o.alertmanagers[0] = url;
	o.n_alertmanagers = 1;
	o.alertmanager_resend_s = resend_s;
	o.instance = "unit";
	o.drain_ms = 2000;
	if (sink_set_open(&o, &set, err, sizeof(err)) < 0) {
		printf("#   sink_set_open: %s\n", err);
		recorder_stop(r);
	}
	return set;
}

static struct sink_set *open_sink(struct recorder *r, char *url, size_t urllen,
				  unsigned resend_s)
{
	return open_sink_at(r, url, urllen, "/", resend_s);
}

/* Ticks @set at @at_us; @r then has @n requests in all. */
static void tick_and_wait(struct recorder *r, struct sink_set *set, uint64_t at_us,
			  int n)
{
	sink_set_tick(set, at_us);
	CHECK_INT(recorder_wait(r, n), n);
}

/* Closes @set, whose drain leaves @r with @n requests in all, then @r. */
static void close_expecting(struct sink_set *set, struct recorder *r, int n)
{
	sink_set_close(set);
	CHECK_INT(recorder_settle(r), n);
	recorder_stop(r);
}

static void test_spike_is_sent_at_the_next_tick_and_resolved_three_times(void)
{
	struct recorder r;
	struct sink_set *set;
	char url[64];
	uint64_t now = wall_us();

	set = open_sink(&r, url, sizeof(url), 60);
	CHECK(set != NULL);
	if (!set)
		return;
	emit_spike(set, SPIKE_FIRING, now);
	CHECK_INT(recorder_settle(&r), 0);        /* nothing before a tick */
	tick_and_wait(&r, set, now, 1);
	CHECK(recorder_last_has(&r, "\"alertname\":\"TLSWatchHandshakeFailureSpike\""));
	CHECK(recorder_last_has(&r, "\"scope\":\"sni\",\"key\":\"rsa.test\""));
	CHECK(recorder_last_has(&r, "\"instance\":\"unit\""));
	CHECK(recorder_last_has(&r, "Top alerts: unknown_ca (client) 30."));
	sink_set_tick(set, now + 250000);
	CHECK_INT(recorder_settle(&r), 1);        /* active: waits for the resend */

	emit_spike(set, SPIKE_RESOLVED, now + 500000);
	tick_and_wait(&r, set, now + 500000, 2);
	sink_set_tick(set, now + 1000000);         /* 0.5 s later: not yet */
	CHECK_INT(recorder_settle(&r), 2);
	tick_and_wait(&r, set, now + 1500000, 3);
	tick_and_wait(&r, set, now + 2500000, 4);
	CHECK(recorder_last_has(&r, "\"scope\":\"sni\""));
	sink_set_tick(set, now + 3500000);         /* sent 3 times: forgotten */
	sink_set_tick(set, now + 61000000);        /* even at the resend */
	CHECK_INT(recorder_settle(&r), 4);
	close_expecting(set, &r, 4);
}

static void test_active_alert_is_resent_every_interval(void)
{
	struct recorder r;
	struct sink_set *set;
	struct counter_values cv = { 0 };
	char url[64];
	uint64_t now = wall_us();

	set = open_sink(&r, url, sizeof(url), 2);
	CHECK(set != NULL);
	if (!set)
		return;
	emit_spike(set, SPIKE_FIRING, now);
	tick_and_wait(&r, set, now, 1);
	sink_set_tick(set, now + 1900000);
	CHECK_INT(recorder_settle(&r), 1);
	tick_and_wait(&r, set, now + 2000000, 2);
	tick_and_wait(&r, set, now + 4100000, 3);
	sink_set_tick(set, now + 4200000);          /* results taken */
	sink_set_counters(set, &cv);
	CHECK_INT(cv.v[COUNTER_ALERTMANAGER_SENT], 3);
	CHECK_INT(cv.v[COUNTER_ALERTMANAGER_FAILED], 0);
	close_expecting(set, &r, 3);          /* still active: not resolved */
}

/* A sink (resend 60 s) sending to @r, whose spike fired at @now is
 * resolved with the recorder failing: sent 3 times, 1 s apart, each
 * answered 500 (4 requests in all, the firing's included); the answers
 * taken. The wall clock read before and after the resolution (its time)
 * in @around. NULL (with @r stopped) when the sink cannot open. */
static struct sink_set *resolved_while_failing(struct recorder *r, uint64_t now,
					       char around[2][TW_TIME_STRLEN])
{
	char url[64];
	struct sink_set *set = open_sink(r, url, sizeof(url), 60);

	CHECK(set != NULL);
	if (!set)
		return NULL;
	emit_spike(set, SPIKE_FIRING, now);
	tick_and_wait(r, set, now, 1);
	atomic_store(&r->failing, true);
	tw_time_format_us(wall_us(), around[0]);
	emit_spike(set, SPIKE_RESOLVED, now + 500000);
	tw_time_format_us(wall_us(), around[1]);
	tick_and_wait(r, set, now + 500000, 2);
	tick_and_wait(r, set, now + 1500000, 3);
	tick_and_wait(r, set, now + 2500000, 4);
	sink_set_tick(set, now + 3500000);        /* answers taken; owed */
	CHECK_INT(recorder_settle(r), 4);
	return set;
}

/* An Alertmanager that failed through a resolution gets it at the next
 * resend, with endsAt the time it resolved; once taken, never again. */
static void test_resolution_a_url_did_not_take_goes_again_at_the_resend(void)
{
	struct recorder r;
	struct sink_set *set;
	char around[2][TW_TIME_STRLEN], ends[TW_TIME_STRLEN];
	uint64_t now = wall_us();

	if (!(set = resolved_while_failing(&r, now, around)))
		return;
	atomic_store(&r.failing, false);
	tick_and_wait(&r, set, now + 61000000, 5);   /* the resend */
	CHECK(recorder_last_has(&r, "\"scope\":\"sni\",\"key\":\"rsa.test\""));
	recorder_ends_at(&r, ends);                /* the time it resolved */
	CHECK(strcmp(ends, around[0]) >= 0 && strcmp(ends, around[1]) <= 0);
	if (strcmp(ends, around[0]) < 0 || strcmp(ends, around[1]) > 0)
		printf("#   endsAt %s, resolved between %s and %s\n", ends,
		       around[0], around[1]);
	sink_set_tick(set, now + 61500000);        /* taken: forgotten */
	sink_set_tick(set, now + 121000000);       /* the next resend */
	CHECK_INT(recorder_settle(&r), 5);
	close_expecting(set, &r, 5);
}

/* Not taken 3 resends after it resolved, it is forgotten: Alertmanager
 * has ended the alert at the endsAt it last had. */
static void test_resolution_never_taken_is_forgotten_after_three_resends(void)
{
	struct recorder r;
	struct sink_set *set;
	char around[2][TW_TIME_STRLEN];
	uint64_t now = wall_us();

	if (!(set = resolved_while_failing(&r, now, around)))
		return;
	tick_and_wait(&r, set, now + 61000000, 5);
	tick_and_wait(&r, set, now + 121000000, 6);
	sink_set_tick(set, now + 181000000);       /* past 180.5 s: forgotten */
	CHECK_INT(recorder_settle(&r), 6);
	atomic_store(&r.failing, false);
	close_expecting(set, &r, 6);          /* nothing left to send */
}

/* A base URL with a path and a query (a proxy's token): the API path goes
 * after the base's path, the query stays a query (it was appended to it,
 * "/am/?token=t1/api/v2/alerts"); the fragment is not sent. */
static void test_api_path_goes_before_the_query(void)
{
	struct recorder r;
	struct sink_set *set;
	char url[128], line[512];

	set = open_sink_at(&r, url, sizeof(url), "/am/?token=t1#part", 60);
	CHECK(set != NULL);
	if (!set)
		return;
	emit_spike(set, SPIKE_FIRING, wall_us());
	tick_and_wait(&r, set, wall_us(), 1);
	pthread_mutex_lock(&r.lock);
	snprintf(line, sizeof(line), "%s", r.line);
	pthread_mutex_unlock(&r.lock);
	CHECK_STR(line, "POST /am/api/v2/alerts?token=t1 HTTP/1.1");
	sink_set_close(set);
	recorder_stop(&r);
}

int main(void)
{
	RUN_TEST(test_spike_is_sent_at_the_next_tick_and_resolved_three_times);
	RUN_TEST(test_active_alert_is_resent_every_interval);
	RUN_TEST(test_resolution_a_url_did_not_take_goes_again_at_the_resend);
	RUN_TEST(test_resolution_never_taken_is_forgotten_after_three_resends);
	RUN_TEST(test_api_path_goes_before_the_query);
	return CHECK_EXIT_CODE();
}
