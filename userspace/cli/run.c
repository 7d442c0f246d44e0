// SPDX-License-Identifier: MIT
/*
 * tlswatch run: the live agent. eBPF TC probes -> the same pipeline as
 * analyze -> JSON lines; active checks for TLS 1.3 names; agent events
 * for its own state. Runs until SIGINT/SIGTERM, then detaches exactly
 * what it attached. SIGHUP reopens the log file and reloads what can
 * change without a restart (the end of this file).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent.h"
#include "check_opts.h"
#include "output_opts.h"
#include "cli.h"
#include "common/log.h"

#define MAX_PORTS 64
#define RUN_DEFAULT_DB "/var/lib/tlswatch/inventory.db"
#define MAX_IFACES 64

struct run_opts {
	const char *ifaces[MAX_IFACES];
	int n_ifaces;
	uint16_t ports[MAX_PORTS];
	int n_ports;
	const char *log_path;
	bool active;
	struct check_opts check;
	struct output_opts out;
	unsigned long stats_interval_s;
	unsigned long dir_budget;
};

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
"%s"
"%s"
"\n"
"The inventory database defaults to /var/lib/tlswatch/inventory.db; when it\n"
"cannot be used the agent says so and keeps the inventory in memory.\n"
"Needs root, or CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON.\n"
"Stops on SIGINT or SIGTERM and detaches everything it attached.\n"
"SIGHUP reopens the log file and reads the options again: --expect,\n"
"--expect-dir, --crl, --ca-file, --ca-dir, --staple-max-age, the --webhook*\n"
"and --alertmanager options and --instance take effect at once (an agent\n"
"event config_reloaded); a configuration that cannot be used is refused\n"
"whole (config_refused, the old one stays); other changed options wait for\n"
"a restart (listed under \"ignored\").\n"
"\n"
"Exit status:\n"
"  0  stopped by a signal after a clean detach\n"
"  2  bad command line\n"
"  3  an input or output cannot be used: the log file, a --ca-file,\n"
"     --crl or --expect-dir that cannot be read, a refused\n"
"     --webhook-secret-file, an explicit --metrics address that cannot\n"
"     be bound\n"
"  4  loading or attaching the eBPF program failed (the message says why)\n";

enum { OPT_IFACE = 256, OPT_PORT, OPT_JSON_LOG, OPT_NO_ACTIVE, OPT_STATS,
       OPT_BUDGET };

static const struct option run_options[] = {
	{ "iface", required_argument, NULL, OPT_IFACE },
	{ "port", required_argument, NULL, OPT_PORT },
	{ "json-log", required_argument, NULL, OPT_JSON_LOG },
	{ "no-active-check", no_argument, NULL, OPT_NO_ACTIVE },
	CHECK_LONG_OPTIONS,
	OUTPUT_LONG_OPTIONS,
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
	output_opts_init(&o->out, OUTPUT_DEFAULT_METRICS);
	o->stats_interval_s = 60;
	o->dir_budget = 65536;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":qvh", run_options, NULL)) != -1) {
		int handled = check_opts_parse("run", c, optarg, &o->check);

		if (!handled)
			handled = output_opts_parse("run", c, optarg, &o->out, true);
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
			printf(run_help, check_opts_help, output_opts_help, output_opts_metrics_help);
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

/* --- SIGHUP: the options read again and handed to the agent.
 * run_reparse() is the one place that reads them; a configuration file
 * loader takes its place when there is one. The strings it returns must
 * stay valid while the agent runs (argv's do): sinks kept across a
 * reload, and the sink set, point into the options they were opened
 * from. The struct itself may go once applied. */

struct run_reload {
	int argc;
	char **argv;
	struct run_opts *current;      /* in force; heap, or cmd_run's */
	bool current_on_heap;
};

/* Parses @argv into @o without printing or exiting; -1 and @err. */
static int run_reparse(int argc, char **argv, struct run_opts *o, char *err,
		       size_t errlen)
{
	int rc;

	memset(o, 0, sizeof(*o));
	opt_errors_capture(err, errlen);
	rc = parse_args(argc, argv, o);
	opt_errors_capture(NULL, 0);
	if (rc > 0)
		snprintf(err, errlen, "--help is not a configuration");
	return rc ? -1 : 0;
}

static bool str_differ(const char *a, const char *b)
{
	return a != b && (!a || !b || strcmp(a, b) != 0);
}

static bool strv_differ(const char *const *a, int na, const char *const *b, int nb)
{
	int i;

	if (na != nb)
		return true;
	for (i = 0; i < na; i++)
		if (str_differ(a[i], b[i]))
			return true;
	return false;
}

/* Options a reload cannot apply, each with how to tell it changed:
 *   X(NAME, DIFFERS) with the old options in a, the new ones in b */
#define RUN_RESTART_ONLY(X)                                                    \
	X("iface", strv_differ(a->ifaces, a->n_ifaces, b->ifaces, b->n_ifaces)) \
	X("port", a->n_ports != b->n_ports ||                                  \
		  memcmp(a->ports, b->ports, sizeof(a->ports[0]) * (size_t)a->n_ports)) \
	X("json-log", str_differ(a->log_path, b->log_path))                    \
	X("no-active-check", a->active != b->active)                           \
	X("stats-interval", a->stats_interval_s != b->stats_interval_s)        \
	X("dir-budget", a->dir_budget != b->dir_budget)                        \
	X("db", str_differ(a->check.health.db_path, b->check.health.db_path))  \
	X("online", a->check.health.online != b->check.health.online)          \
	X("ocsp-timeout", a->check.health.ocsp_timeout_ms !=                   \
			  b->check.health.ocsp_timeout_ms)                     \
	X("warn-days", a->check.leaf.warn_days != b->check.leaf.warn_days)     \
	X("spike-window", a->check.spike.window_s != b->check.spike.window_s)  \
	X("spike-factor", a->check.spike.factor != b->check.spike.factor)      \
	X("spike-min-failures", a->check.spike.min_failures !=                 \
				b->check.spike.min_failures)                   \
	X("no-spikes", a->check.no_spikes != b->check.no_spikes)               \
	X("metrics", str_differ(a->out.metrics_addr, b->out.metrics_addr))

#define X(name, differs) + 1
enum { RUN_N_RESTART_ONLY = 0 RUN_RESTART_ONLY(X) };
#undef X

static int run_restart_only_changes(const struct run_opts *a, const struct run_opts *b,
				    const char **names)
{
	int n = 0;

#define X(name, differs) if (differs) names[n++] = name;
	RUN_RESTART_ONLY(X)
#undef X
	return n;
}

static void run_on_reload(void *ctx, struct agent *ag)
{
	struct run_reload *rr = ctx;
	const char *ignored[RUN_N_RESTART_ONLY];
	struct agent_reload r = { .ignored = ignored };
	struct run_opts *fresh = malloc(sizeof(*fresh));
	char err[512];

	if (!fresh) {
		agent_reload_refused(ag, "out of memory");
		return;
	}
	if (run_reparse(rr->argc, rr->argv, fresh, err, sizeof(err)) < 0) {
		agent_reload_refused(ag, err);
		free(fresh);
		return;
	}
	r.health = &fresh->check.health;
	r.outputs = &fresh->out;
	r.n_ignored = run_restart_only_changes(rr->current, fresh, ignored);
	if (agent_reload(ag, &r) < 0) {
		free(fresh);
		return;
	}
	if (rr->current_on_heap)
		free(rr->current);
	rr->current = fresh;
	rr->current_on_heap = true;
}

static int run_exit_code(enum agent_status st)
{
	switch (st) {
	case AGENT_OK:           return EXIT_OK;
	case AGENT_ERR_NO_IFACE: return EXIT_USAGE;
	case AGENT_ERR_OUTPUT:   return EXIT_INPUT;
	default:                 return EXIT_INTERNAL;
	}
}

int cmd_run(int argc, char **argv)
{
	struct run_opts o;
	struct run_reload rr = { argc, argv, &o, false };
	struct agent_opts ao = { .on_reload = run_on_reload, .reload_ctx = &rr };
	struct cert_health *health = NULL;
	enum agent_status st;
	char err[512];
	int rc;

	memset(&o, 0, sizeof(o));
	rc = parse_args(argc, argv, &o);
	if (rc)
		return rc < 0 ? EXIT_USAGE : EXIT_OK;
	if (check_opts_open("run", &o.check, &health) < 0)
		return EXIT_INPUT;
	ao.ifaces = o.ifaces;
	ao.n_ifaces = o.n_ifaces;
	ao.ports = o.ports;
	ao.n_ports = o.n_ports;
	ao.dir_budget = (uint32_t)o.dir_budget;
	ao.active = o.active;
	ao.stats_interval_s = (unsigned)o.stats_interval_s;
	ao.health = health;
	ao.leaf = o.check.leaf;
	ao.spikes = o.check.no_spikes ? NULL : &o.check.spike;
	ao.outputs = o.out;
	ao.outputs.json_path = o.log_path;
	ao.outputs.db_path = o.check.health.db_path;
	ao.outputs.expiring_warn_days = o.check.leaf.warn_days;
	st = agent_run(&ao, err, sizeof(err));
	if (st != AGENT_OK)
		fprintf(stderr, "tlswatch run: %s\n", err);
	if (rr.current_on_heap)
		free(rr.current);
	cert_health_close(health);
	return run_exit_code(st);
}
