// SPDX-License-Identifier: MIT
/*
 * tlswatch run: the live agent. eBPF TC probes -> the same pipeline as
 * analyze -> JSON lines; active checks for TLS 1.3 names; agent events
 * for its own state. Runs until SIGINT/SIGTERM, then detaches exactly
 * what it attached. SIGHUP reopens the log file.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "active/active_check.h"
#include "check_opts.h"
#include "cli.h"
#include "common/log.h"
#include "common/strmap.h"
#include "live/live.h"
#include "pipeline/pipeline.h"
#include "sink/agent_json.h"

#define MAX_PORTS 64
#define RUN_DEFAULT_DB "/var/lib/tlswatch/inventory.db"
#define MAX_IFACES 64
#define MAX_NAME_STATS 4096    /* names kept for the per-name log */
#define NAMES_IN_STATS 20      /* busiest names in each stats event */

struct run_opts {
	const char *ifaces[MAX_IFACES];
	int n_ifaces;
	uint16_t ports[MAX_PORTS];
	int n_ports;
	const char *log_path;
	bool active;
	struct check_opts check;
	unsigned long stats_interval_s;
	unsigned long dir_budget;
};

struct name_count {
	uint64_t handshakes, failures;
};

struct agent {
	struct run_opts o;
	struct live *live;
	struct pipeline *pl;
	struct event_sink *json;
	struct event_sink watch;       /* per-name counts, active-check trigger */
	struct active_checker *active;
	struct cert_health *health;
	struct strmap *names;
	struct json_writer jw;
	FILE *log;
	const char *const *attached;
	int n_attached;
};

static volatile sig_atomic_t stop_requested, reopen_requested;

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		reopen_requested = 1;
	else
		stop_requested = 1;
}

static const char run_help[] =
"Usage: tlswatch run [OPTIONS]\n"
"\n"
"The live agent. Attaches an eBPF TC classifier to ingress and egress of\n"
"the chosen interfaces, follows every TLS handshake to or from the watched\n"
"ports, and writes the same JSON events as 'analyze --json' as they happen,\n"
"plus 'agent' events (started, periodic stats, stopped, errors). The TC\n"
"program never drops, changes or delays a packet. For TLS 1.3, whose\n"
"certificate is encrypted, the agent checks each new (address, port, name)\n"
"itself with its own TLS connection and reports the certificate with\n"
"\"observed\": \"active\".\n"
"\n"
"Options:\n"
"  --iface IF             watch interface IF (repeatable); default: every\n"
"                         interface that is up, except loopback\n"
"  --port PORT            watched server port (repeatable, 1-65535;\n"
"                         default 443)\n"
"  --json-log FILE        append events to FILE ('-': standard output,\n"
"                         the default); SIGHUP reopens it\n"
"  --no-active-check      never connect to servers (TLS 1.3 certificates\n"
"                         then stay unseen)\n"
"  --stats-interval SECS  agent stats event every SECS seconds (1-86400,\n"
"                         default 60)\n"
"  --dir-budget BYTES     bytes copied per connection direction during the\n"
"                         handshake (4096-1048576, default 65536)\n"
"  -q, --quiet            only errors on standard error\n"
"  -v, --verbose          more detail on standard error (repeat for debug)\n"
"  -h, --help             this text\n"
"\n"
"%s"
"\n"
"The inventory database defaults to /var/lib/tlswatch/inventory.db; when it\n"
"cannot be used the agent says so and keeps the inventory in memory.\n"
"Needs root, or CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON.\n"
"Stops on SIGINT or SIGTERM and detaches everything it attached.\n"
"\n"
"Exit status:\n"
"  0  stopped by a signal after a clean detach\n"
"  2  bad command line\n"
"  3  the log file cannot be opened\n"
"  4  loading or attaching the eBPF program failed (the message says why)\n";

enum { OPT_IFACE = 256, OPT_PORT, OPT_JSON_LOG, OPT_NO_ACTIVE, OPT_STATS,
       OPT_BUDGET };

static const struct option run_options[] = {
	{ "iface", required_argument, NULL, OPT_IFACE },
	{ "port", required_argument, NULL, OPT_PORT },
	{ "json-log", required_argument, NULL, OPT_JSON_LOG },
	{ "no-active-check", no_argument, NULL, OPT_NO_ACTIVE },
	CHECK_LONG_OPTIONS,
	{ "stats-interval", required_argument, NULL, OPT_STATS },
	{ "dir-budget", required_argument, NULL, OPT_BUDGET },
	{ "quiet", no_argument, NULL, 'q' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int parse_args(int argc, char **argv, struct run_opts *o)
{
	int c, verbose = 0;
	bool quiet = false;

	o->log_path = "-";
	o->active = true;
	check_opts_init(&o->check, true, RUN_DEFAULT_DB);
	o->stats_interval_s = 60;
	o->dir_budget = 65536;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":qvh", run_options, NULL)) != -1) {
		int handled = check_opts_parse("run", c, optarg, &o->check);

		if (handled < 0)
			return -1;
		if (handled)
			continue;
		switch (c) {
		case OPT_IFACE:
			if (o->n_ifaces == MAX_IFACES) {
				opt_usage_error("run", "--iface: at most %d interfaces", MAX_IFACES);
				return -1;
			}
			o->ifaces[o->n_ifaces++] = optarg;
			break;
		case OPT_PORT:
			if (!opt_add_port("run", optarg, o->ports, &o->n_ports, MAX_PORTS))
				return -1;
			break;
		case OPT_JSON_LOG:
			o->log_path = optarg;
			break;
		case OPT_NO_ACTIVE:
			o->active = false;
			break;
		case OPT_STATS:
			if (!opt_parse_uint("run", "--stats-interval", optarg, 1, 86400,
					    &o->stats_interval_s))
				return -1;
			break;
		case OPT_BUDGET:
			if (!opt_parse_uint("run", "--dir-budget", optarg, 4096, 1048576,
					    &o->dir_budget))
				return -1;
			break;
		case 'q':
			quiet = true;
			break;
		case 'v':
			verbose++;
			break;
		case 'h':
			printf(run_help, check_opts_help);
			return 1;
		case ':':
			opt_usage_error("run", "%s needs a value", argv[optind - 1]);
			return -1;
		default:
			opt_usage_error("run", "unknown option '%s'", argv[optind - 1]);
			return -1;
		}
	}
	if (optind < argc) {
		opt_usage_error("run", "unexpected argument '%s'", argv[optind]);
		return -1;
	}
	if (!o->n_ports)
		o->ports[o->n_ports++] = 443;
	tw_log_set_level(quiet ? TW_LOG_SILENT : verbose >= 2 ? TW_LOG_DEBUG : TW_LOG_INFO);
	return 0;
}

static uint64_t wall_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static FILE *open_log(const char *path)
{
	FILE *f;

	if (strcmp(path, "-") == 0)
		return stdout;
	f = fopen(path, "a");
	if (f)
		setvbuf(f, NULL, _IOLBF, 0);
	return f;
}

/* --- per-name accounting and the TLS 1.3 active-check trigger */

static void watch_handshake(struct event_sink *s, const struct hs_view *v)
{
	struct agent *ag = (struct agent *)((char *)s - offsetof(struct agent, watch));
	const struct hs_record *rec = v->rec;
	struct name_count *nc;

	if (strmap_count(ag->names) < MAX_NAME_STATS ||
	    strmap_get(ag->names, rec->sni, rec->has_sni ? rec->sni_len : 0)) {
		nc = strmap_put(ag->names, rec->sni, rec->has_sni ? rec->sni_len : 0, NULL);
		if (nc) {
			nc->handshakes++;
			nc->failures += rec->outcome == HS_FAILED || rec->outcome == HS_ABORTED;
		}
	}
	if (ag->active && rec->has_server_hello && !rec->cert_visible)
		active_request(ag->active, &rec->server,
			       rec->has_sni && strlen(rec->sni) == rec->sni_len ? rec->sni : NULL,
			       wall_us());
}

static void on_active_result(void *ctx, struct hs_record *rec, const char *error)
{
	struct agent *ag = ctx;
	char addr[TW_ADDR_STRLEN];

	if (error) {
		pr_info("active check of %s port %u (%s): %s\n",
			tw_addr_format(&rec->server.addr, addr), rec->server.port,
			rec->has_sni ? rec->sni : "no SNI", error);
		return;
	}
	pipeline_report_active(ag->pl, rec);
}

/* Segments of our own active checks are not client traffic. */
static void on_segment(void *ctx, const struct tw_segment *seg)
{
	struct agent *ag = ctx;

	const struct live_meta *meta = live_current_meta(ag->live);

	if (ag->active && (active_is_own(ag->active, &seg->src) ||
			   active_is_own(ag->active, &seg->dst)))
		return;
	pipeline_set_source(ag->pl, meta && meta->iface ? meta->iface : "live");
	pipeline_segment(ag->pl, seg);
}

/* --- agent events */

static int collect_counters(struct agent *ag, struct agent_counter *c, int max)
{
	struct live_counters lc;
	const struct summary *sum = pipeline_summary(ag->pl);
	int n = 0;

	if (live_counters(ag->live, &lc) < 0)
		memset(&lc, 0, sizeof(lc));
#define COUNTER(nm, v) do { if (n < max) { c[n].name = nm; c[n].value = v; n++; } } while (0)
	COUNTER("packets_seen", lc.packets_seen);
	COUNTER("packets_watched", lc.packets_watched);
	COUNTER("flows_tracked", lc.flows_tracked);
	COUNTER("bytes_copied", lc.bytes_copied);
	COUNTER("ringbuf_lost", lc.ringbuf_full);
	COUNTER("budget_exhausted", lc.budget_exhausted);
	COUNTER("truncated", lc.truncated);
	COUNTER("handshakes", sum->handshakes);
	COUNTER("handshakes_ok", sum->outcomes[HS_OK]);
	COUNTER("handshakes_failed", sum->outcomes[HS_FAILED]);
	COUNTER("handshakes_aborted", sum->outcomes[HS_ABORTED]);
	COUNTER("handshakes_incomplete", sum->outcomes[HS_INCOMPLETE]);
	COUNTER("certificates", sum->certificates);
	COUNTER("gaps", sum->gaps);
	COUNTER("flows_evicted", sum->flows_evicted);
	if (ag->active) {
		const struct active_stats *as = active_stats(ag->active);

		COUNTER("active_checks", as->succeeded);
		COUNTER("active_check_failures", as->failed);
		COUNTER("active_rate_limited", as->rate_limited);
	}
#undef COUNTER
	return n;
}

static int by_handshakes_desc(const void *a, const void *b)
{
	const struct agent_name_stat *x = a, *y = b;

	return x->handshakes < y->handshakes ? 1 : x->handshakes > y->handshakes ? -1 : 0;
}

/* The @max busiest names; @out holds MAX_NAME_STATS entries. */
static int busiest_names(struct agent *ag, struct agent_name_stat *out, int max)
{
	const char *key;
	size_t len, i;
	void *val;

	for (i = 0; strmap_at(ag->names, i, &key, &len, &val); i++) {
		const struct name_count *nc = val;

		out[i] = (struct agent_name_stat){ len ? key : NULL, len,
						   nc->handshakes, nc->failures };
	}
	qsort(out, i, sizeof(*out), by_handshakes_desc);
	return (int)i < max ? (int)i : max;
}

static void agent_event(struct agent *ag, const char *state, const char *message)
{
	static struct agent_name_stat names[MAX_NAME_STATS];
	struct agent_counter counters[24];
	struct agent_event ev = {
		.ts_us = wall_us(),
		.source = "tlswatch",
		.state = state,
		.message = message,
		.ifaces = ag->attached,
		.n_ifaces = ag->n_attached,
		.ports = ag->o.ports,
		.n_ports = ag->o.n_ports,
	};

	if (ag->live && strcmp(state, "error") != 0) {
		ev.counters = counters;
		ev.n_counters = collect_counters(ag, counters, 24);
	}
	if (ag->pl && strcmp(state, "started") != 0 && strcmp(state, "error") != 0) {
		ev.names = names;
		ev.n_names = busiest_names(ag, names, NAMES_IN_STATS);
	}
	if (agent_event_write(&ag->jw, ag->log, &ev) < 0)
		pr_warn("cannot write to %s\n", ag->o.log_path);
}

static void reopen_log(struct agent *ag)
{
	FILE *f;

	reopen_requested = 0;
	if (ag->log == stdout)
		return;
	f = open_log(ag->o.log_path);
	if (!f) {
		pr_warn("%s: cannot reopen: %s; still writing to the old file\n",
			ag->o.log_path, strerror(errno));
		return;
	}
	fclose(ag->log);
	ag->log = f;
	json_sink_set_output(ag->json, f);
	pr_info("%s: reopened\n", ag->o.log_path);
}

static void on_check_problem(void *ctx, const char *message)
{
	agent_event(ctx, "error", message);
}

/* --- setup, loop, teardown */

static int agent_attach(struct agent *ag, char **defaults)
{
	struct live_opts lo = {
		.ifaces = ag->o.ifaces,
		.n_ifaces = ag->o.n_ifaces,
		.ports = ag->o.ports,
		.n_ports = ag->o.n_ports,
		.dir_budget = (uint32_t)ag->o.dir_budget,
	};
	char err[512];
	int rc;

	if (!lo.n_ifaces) {
		lo.ifaces = (const char **)defaults;
		while (defaults[lo.n_ifaces])
			lo.n_ifaces++;
		if (!lo.n_ifaces) {
			fprintf(stderr, "tlswatch run: no interface is up (besides loopback); name one with --iface\n");
			return EXIT_USAGE;
		}
	}
	rc = live_open(&lo, &ag->live, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "tlswatch run: %s\n", err);
		return EXIT_INTERNAL;
	}
	ag->n_attached = live_ifaces(ag->live, &ag->attached);
	return EXIT_OK;
}

static int agent_setup(struct agent *ag)
{
	struct active_opts ao = { 0 };

	ag->log = open_log(ag->o.log_path);
	if (!ag->log) {
		fprintf(stderr, "tlswatch run: %s: %s\n", ag->o.log_path, strerror(errno));
		return EXIT_INPUT;
	}
	jw_init(&ag->jw);
	ag->names = strmap_new(sizeof(struct name_count));
	ag->json = json_sink_new(ag->log);
	ag->watch.handshake = watch_handshake;
	if (check_opts_open("run", &ag->o.check, &ag->health) < 0)
		return EXIT_INPUT;
	if (ag->o.active)
		ag->active = active_new(&ao);
	if (!ag->names || !ag->json || (ag->o.active && !ag->active)) {
		fprintf(stderr, "tlswatch run: out of memory\n");
		return EXIT_INTERNAL;
	}
	return EXIT_OK;
}

/* After attaching: decided flows are handed back to the kernel side. */
static int agent_pipeline(struct agent *ag)
{
	struct pipeline_opts po = { 0 };

	po.leaf = ag->o.check.leaf;
	po.health = ag->health;
	po.spikes = ag->o.check.no_spikes ? NULL : &ag->o.check.spike;
	po.problem = on_check_problem;
	po.problem_ctx = ag;
	po.flow_done = live_flow_done_cb;
	po.flow_done_ctx = ag->live;
	ag->pl = pipeline_new(&po);
	if (!ag->pl || pipeline_add_sink(ag->pl, ag->json) < 0 ||
	    pipeline_add_sink(ag->pl, &ag->watch) < 0) {
		fprintf(stderr, "tlswatch run: out of memory\n");
		return EXIT_INTERNAL;
	}
	return EXIT_OK;
}

static int agent_loop(struct agent *ag)
{
	uint64_t next_stats = wall_us() + ag->o.stats_interval_s * 1000000;
	struct pollfd pfd[3] = {
		{ .fd = live_epoll_fd(ag->live), .events = POLLIN },
		{ .fd = ag->active ? active_fd(ag->active) : -1, .events = POLLIN },
		{ .fd = pipeline_checks_fd(ag->pl), .events = POLLIN },
	};

	while (!stop_requested) {
		uint64_t now;
		int rc;

		if (reopen_requested)
			reopen_log(ag);
		if (poll(pfd, 3, 250) < 0 && errno != EINTR) {
			pr_warn("poll: %s\n", strerror(errno));
			return EXIT_INTERNAL;
		}
		rc = live_poll(ag->live, 0, on_segment, ag);
		if (rc < 0 && rc != -EINTR) {
			pr_warn("ring buffer: %s\n", strerror(-rc));
			return EXIT_INTERNAL;
		}
		if (ag->active && (pfd[1].revents & POLLIN))
			active_drain(ag->active, on_active_result, ag);
		if (pfd[2].revents & POLLIN)
			pipeline_drain_checks(ag->pl);
		now = wall_us();
		pipeline_tick(ag->pl, now);
		if (now >= next_stats) {
			agent_event(ag, "stats", NULL);
			next_stats = now + ag->o.stats_interval_s * 1000000;
		}
	}
	return EXIT_OK;
}

static void agent_teardown(struct agent *ag)
{
	/* Open connections end as incomplete before the final counters. */
	if (ag->pl)
		pipeline_flush(ag->pl, wall_us());
	if (ag->live) {
		agent_event(ag, "stopped", NULL);
		live_close(ag->live);
		ag->live = NULL;
		pr_info("detached\n");
	}
	active_free(ag->active);
	pipeline_free(ag->pl);
	cert_health_close(ag->health);
	if (ag->json)
		ag->json->destroy(ag->json);
	strmap_free(ag->names);
	jw_free(&ag->jw);
	if (ag->log && ag->log != stdout)
		fclose(ag->log);
	else if (ag->log)
		fflush(ag->log);
}

static void install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

int cmd_run(int argc, char **argv)
{
	struct agent ag;
	char **defaults = NULL;
	int rc;

	memset(&ag, 0, sizeof(ag));
	rc = parse_args(argc, argv, &ag.o);
	if (rc)
		return rc < 0 ? EXIT_USAGE : EXIT_OK;
	install_signals();
	if (!ag.o.n_ifaces && live_default_ifaces(&defaults) < 0) {
		fprintf(stderr, "tlswatch run: cannot list interfaces: %s\n", strerror(errno));
		return EXIT_INTERNAL;
	}
	rc = agent_setup(&ag);
	if (!rc)
		rc = agent_attach(&ag, defaults);
	if (!rc)
		rc = agent_pipeline(&ag);
	if (!rc) {
		agent_event(&ag, "started", NULL);
		pr_info("attached to %d interface%s\n", ag.n_attached, ag.n_attached == 1 ? "" : "s");
		rc = agent_loop(&ag);
	}
	agent_teardown(&ag);
	live_ifaces_free(defaults);
	return rc;
}
