// SPDX-License-Identifier: MIT
/*
 * What SIGHUP replaces, below the agent: the certificate-health check
 * state (trust store, CRL files, expectations: cert_health_prepare /
 * commit) and the alert sinks of a sink set (sink_set_reconfigure). A new
 * state judges at once; one that cannot be built changes nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <arpa/inet.h>

#include "check.h"
#include "health_fixture.h"
#include "cert/health.h"
#include "sink/sink.h"

#define T(s) ((uint64_t)hf_time(s) * 1000000ull)

static char dir[64];
static char ca[1200], crl_inter[1200], garbage[128];

static void paths(void)
{
	hf_path("root.crt", ca, sizeof(ca));
	hf_path("crl/inter.pem", crl_inter, sizeof(crl_inter));
	snprintf(garbage, sizeof(garbage), "%s/garbage.crl", dir);
}

/* root.crt as trust store; @crl (may be NULL); one --expect (may be NULL). */
static void opts(struct cert_health_opts *o, const char **crl, const char **expect)
{
	memset(o, 0, sizeof(*o));
	o->ca_file = ca;
	o->crl_files = crl;
	o->n_crl = crl && crl[0] ? 1 : 0;
	o->expects = expect;
	o->n_expects = expect && expect[0] ? 1 : 0;
}

/* The kinds of the findings of @leaf served for @name, "kind,kind" or "-". */
static const char *judge(struct cert_health *h, const char *name, const char *leaf)
{
	static char kinds[256];
	const struct cert_info *chain[2] = { hf_cert(leaf), hf_cert("inter") };
	struct tw_endpoint server = { .addr.family = 4, .port = 443 };
	struct cert_health_input in = {
		.sni = name, .server = &server, .chain = chain, .n_chain = 2,
		.ts_us = T("2026-06-01T00:00:00Z"),
	};
	struct cert_health_result r;
	size_t off = 0;
	int i;

	inet_pton(AF_INET, "192.0.2.1", server.addr.bytes);
	cert_health_check(h, &in, &r);
	kinds[0] = '\0';
	for (i = 0; i < r.findings.n; i++)
		off += (size_t)snprintf(kinds + off, sizeof(kinds) - off, "%s%s",
					i ? "," : "", finding_kind_name(r.findings.items[i].kind));
	return off ? kinds : "-";
}

static struct cert_health *open_with(const char **crl, const char **expect)
{
	struct cert_health_opts o;
	struct cert_health *h = NULL;
	char err[512];

	opts(&o, crl, expect);
	if (cert_health_open(&o, &h, err, sizeof(err)) != 0)
		printf("#   cert_health_open: %s\n", err);
	return h;
}

/* Prepares and commits; the description of the new state, or the error. */
static const char *reload(struct cert_health *h, const char **crl, const char **expect)
{
	static char out[512];
	struct cert_health_opts o;
	struct cert_checks *c;

	opts(&o, crl, expect);
	if (cert_health_prepare(h, &o, &c, out, sizeof(out)) < 0)
		return out;
	cert_checks_describe(c, out, sizeof(out));
	cert_health_commit(h, c);
	return out;
}

static void test_a_new_crl_file_revokes_at_once(void)
{
	const char *none[1] = { NULL }, *crl[1] = { crl_inter };
	struct cert_health *h = open_with(none, NULL);

	CHECK(h);
	if (!h)
		return;
	CHECK_STR(judge(h, "revoked.test", "revoked.test"), "-");
	CHECK_STR(reload(h, crl, NULL), "1 CRL, 0 expectations");
	CHECK_STR(judge(h, "revoked.test", "revoked.test"), "revoked");
	CHECK_STR(judge(h, "good.test", "good.test"), "-");
	CHECK_STR(reload(h, none, NULL), "0 CRLs, 0 expectations");
	CHECK_STR(judge(h, "revoked.test", "revoked.test"), "-");
	cert_health_close(h);
}

static void test_new_expectations_replace_the_old(void)
{
	static char want_old[128], want_new[128];
	const char *old[1] = { want_old }, *fresh[1] = { want_new };
	struct cert_health *h;

	snprintf(want_old, sizeof(want_old), "a.test=%s", hf_fp("a-old.test"));
	snprintf(want_new, sizeof(want_new), "a.test=%s", hf_fp("a-new.test"));
	h = open_with(NULL, old);
	CHECK(h);
	if (!h)
		return;
	CHECK_STR(judge(h, "a.test", "a-new.test"), "unexpected");
	CHECK_STR(reload(h, NULL, fresh), "0 CRLs, 1 expectation");
	CHECK_STR(judge(h, "a.test", "a-new.test"), "-");
	cert_health_close(h);
}

static void test_a_refused_state_leaves_the_old_one_in_force(void)
{
	static char want[128], err_want[256];
	const char *crl[1] = { crl_inter }, *bad[1] = { garbage }, *expect[1] = { want };
	const char *bad_expect[1] = { "a.test=nothex" };
	struct cert_health *h;
	FILE *f = fopen(garbage, "w");

	CHECK(f && fputs("this is not a CRL\n", f) >= 0 && fclose(f) == 0);
	snprintf(want, sizeof(want), "a.test=%s", hf_fp("a-new.test"));
	h = open_with(crl, expect);
	CHECK(h);
	if (!h)
		return;
	snprintf(err_want, sizeof(err_want), "--crl %s: not a CRL (neither DER nor PEM)",
		 garbage);
	CHECK_STR(reload(h, bad, NULL), err_want);
	CHECK(strstr(reload(h, NULL, bad_expect), "nothex") != NULL);
	CHECK_STR(judge(h, "revoked.test", "revoked.test"), "revoked");
	CHECK_STR(judge(h, "a.test", "a-old.test"), "unexpected,revoked");
	cert_health_close(h);
}

/* --- the sink set */

static void counters(struct sink_set *set, struct counter_values *cv)
{
	memset(cv, 0, sizeof(*cv));
	sink_set_counters(set, cv);
}

static int lines(const char *path)
{
	FILE *f = fopen(path, "r");
	int c, n = 0;

	if (!f)
		return -1;
	while ((c = fgetc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

static void emit_agent_event(struct sink_set *set, const char *state)
{
	struct agent_view v = { .state = state, .message = "test" };
	struct event ev = { .type = EVENT_AGENT, .ts_us = 1, .source = "t", .agent = &v };

	sink_set_emit(set, &ev);
}

static void test_reconfigure_replaces_alert_sinks_and_keeps_the_log(void)
{
	static char log[128], secret[128];
	struct output_opts o, next;
	struct sink_set *set = NULL;
	struct counter_values cv;
	char err[512], want[256];
	FILE *f;

	snprintf(log, sizeof(log), "%s/events.jsonl", dir);
	snprintf(secret, sizeof(secret), "%s/secret", dir);
	f = fopen(secret, "w");
	CHECK(f && fputs("s3cret\n", f) >= 0 && fclose(f) == 0);
	CHECK(chmod(secret, 0644) == 0);
	memset(&o, 0, sizeof(o));
	o.json_path = log;
	o.webhooks[o.n_webhooks++] = "http://127.0.0.1:9/hook";
	o.webhook_events = WEBHOOK_EVENTS_DEFAULT;
	o.webhook_timeout_ms = 1000;
	o.drain_ms = 1;
	CHECK_INT(sink_set_open(&o, &set, err, sizeof(err)), 0);
	if (!set)
		return;
	emit_agent_event(set, "stats");

	/* A secret others may read: refused, the webhook stays. */
	next = o;
	next.json_path = NULL;   /* restart-only: ignored */
	next.webhook_secret_file = secret;
	CHECK(sink_set_reconfigure(set, &next, err, sizeof(err)) < 0);
	snprintf(want, sizeof(want), "webhook secret %s: group or others may access "
		 "it (mode 0644); chmod 600 %s", secret, secret);
	CHECK_STR(err, want);
	counters(set, &cv);
	CHECK(cv.set[COUNTER_WEBHOOK_DELIVERED] && !cv.set[COUNTER_ALERTMANAGER_SENT]);

	/* No webhook, an Alertmanager: replaced; the log goes on. */
	next.n_webhooks = 0;
	next.webhook_secret_file = NULL;
	next.alertmanagers[next.n_alertmanagers++] = "http://127.0.0.1:9";
	CHECK_INT(sink_set_reconfigure(set, &next, err, sizeof(err)), 0);
	counters(set, &cv);
	CHECK(!cv.set[COUNTER_WEBHOOK_DELIVERED] && cv.set[COUNTER_ALERTMANAGER_SENT]);
	CHECK(sink_set_opts(set)->json_path == log);
	emit_agent_event(set, "stats");
	sink_set_close(set);
	CHECK_INT(lines(log), 2);
}

/* Without --db the outbox lives in the sink: it shows which sink is there. */
static void test_unchanged_webhook_is_kept_with_its_queue(void)
{
	struct output_opts o, next;
	struct sink_set *set = NULL;
	struct counter_values cv;
	char err[512];

	memset(&o, 0, sizeof(o));
	o.webhooks[o.n_webhooks++] = "http://127.0.0.1:9/hook";
	o.webhook_events = WEBHOOK_EVENTS_DEFAULT;
	o.webhook_timeout_ms = 1000;
	o.webhook_retry_max_s = 300;
	o.drain_ms = 1;
	CHECK_INT(sink_set_open(&o, &set, err, sizeof(err)), 0);
	if (!set)
		return;
	emit_agent_event(set, "error");
	counters(set, &cv);
	CHECK_INT(cv.v[COUNTER_OUTBOX_DEPTH], 1);

	next = o;
	CHECK_INT(sink_set_reconfigure(set, &next, err, sizeof(err)), 0);
	counters(set, &cv);
	CHECK_INT(cv.v[COUNTER_OUTBOX_DEPTH], 1);

	next.webhook_retry_max_s = 60;
	CHECK_INT(sink_set_reconfigure(set, &next, err, sizeof(err)), 0);
	counters(set, &cv);
	CHECK(cv.set[COUNTER_OUTBOX_DEPTH]);
	CHECK_INT(cv.v[COUNTER_OUTBOX_DEPTH], 0);
	sink_set_close(set);
}

/* The strings of a set of options as a reload loads them (from the
 * configuration file's text), freed once a newer set is in force. */
struct loaded_strings {
	char *hook, *secret, *am, *instance;
};

static void load_alert_opts(struct output_opts *o, struct loaded_strings *l,
			    const char *secret_path)
{
	l->hook = strdup("http://127.0.0.1:9/hook");
	l->secret = strdup(secret_path);
	l->am = strdup("http://127.0.0.1:9");
	l->instance = strdup("edge-1");
	CHECK(l->hook && l->secret && l->am && l->instance);
	memset(o, 0, sizeof(*o));
	o->webhooks[o->n_webhooks++] = l->hook;
	o->webhook_secret_file = l->secret;
	o->alertmanagers[o->n_alertmanagers++] = l->am;
	o->instance = l->instance;
	o->webhook_events = WEBHOOK_EVENTS_DEFAULT;
	o->webhook_timeout_ms = 1000;
	o->drain_ms = 1;
}

static void unload_alert_opts(struct loaded_strings *l)
{
	free(l->hook);
	free(l->secret);
	free(l->am);
	free(l->instance);
}

/* The sinks a reload keeps own what they use of their options: those
 * they were opened from are freed after the next reload (ASan sees any
 * use), and the kept webhook still compares, queues and is kept. */
static void test_kept_sinks_outlive_their_options(void)
{
	static char secret[128];
	struct loaded_strings first, second, third;
	struct output_opts o;
	struct sink_set *set = NULL;
	struct counter_values cv;
	char err[512];
	FILE *f;

	snprintf(secret, sizeof(secret), "%s/kept-secret", dir);
	f = fopen(secret, "w");
	CHECK(f && fputs("kept\n", f) >= 0 && fclose(f) == 0);
	CHECK(chmod(secret, 0600) == 0);
	load_alert_opts(&o, &first, secret);
	CHECK_INT(sink_set_open(&o, &set, err, sizeof(err)), 0);
	if (!set)
		return;
	emit_agent_event(set, "error");

	load_alert_opts(&o, &second, secret);
	CHECK_INT(sink_set_reconfigure(set, &o, err, sizeof(err)), 0);
	unload_alert_opts(&first);
	load_alert_opts(&o, &third, secret);
	CHECK_INT(sink_set_reconfigure(set, &o, err, sizeof(err)), 0);
	unload_alert_opts(&second);
	emit_agent_event(set, "config_refused");
	counters(set, &cv);
	CHECK(cv.set[COUNTER_ALERTMANAGER_SENT]);
	CHECK_INT(cv.v[COUNTER_OUTBOX_DEPTH], 2);   /* kept: both queued */
	sink_set_close(set);
	unload_alert_opts(&third);
}

int main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/tw-reload-%d", (int)getpid());
	if (mkdir(dir, 0700) < 0) {
		perror(dir);
		return 1;
	}
	hf_pki();
	paths();
	RUN_TEST(test_a_new_crl_file_revokes_at_once);
	RUN_TEST(test_new_expectations_replace_the_old);
	RUN_TEST(test_a_refused_state_leaves_the_old_one_in_force);
	RUN_TEST(test_reconfigure_replaces_alert_sinks_and_keeps_the_log);
	RUN_TEST(test_unchanged_webhook_is_kept_with_its_queue);
	RUN_TEST(test_kept_sinks_outlive_their_options);
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		hf_sh(cmd);
	}
	return CHECK_EXIT_CODE();
}
