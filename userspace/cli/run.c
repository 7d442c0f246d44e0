// SPDX-License-Identifier: MIT
/*
 * tlswatch run: the live agent. eBPF TC probes -> the same pipeline as
 * analyze -> JSON lines; active checks for TLS 1.3 names; agent events
 * for its own state. Runs until SIGINT/SIGTERM, then detaches exactly
 * what it attached. SIGHUP reopens the log file and reloads what can
 * change without a restart (the end of this file).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/agent.h"
#include "cli.h"
#include "cli_opts.h"
#include "inventory/inventory_lease.h"
#include "live/live.h"

static const struct cli_help run_help = {
	.usage = "[OPTIONS]",
	.description =
"The live agent. Attaches an eBPF TC classifier to ingress and egress of\n"
"the chosen interfaces, follows every TLS handshake to or from the watched\n"
"ports, and writes the same JSON events as 'analyze --json' as they happen,\n"
"plus 'agent' events (started, periodic stats, stopped, errors). The TC\n"
"program never drops, changes or delays a packet. For TLS 1.3, whose\n"
"certificate is encrypted, the agent checks each new (address, port, name)\n"
"itself with its own TLS connection and reports the certificate with\n"
"\"observed\": \"active\".",
	.notes =
"Options are read first from " CLI_DEFAULT_CONFIG " when it exists\n"
"(or --config FILE); the command line overrides them.\n"
"When the inventory database cannot be used the agent says so and keeps\n"
"the inventory in memory.\n"
"Needs root, or CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON; once attached it\n"
"keeps only CAP_NET_ADMIN (and CAP_BPF on kernels before 6.5). Files it\n"
"creates are 0640 (umask 0027).\n"
"Stops on SIGINT or SIGTERM and detaches everything it attached.\n"
"SIGHUP reopens the --json-log file and reads the options again (the\n"
"configuration file as it is now, and the command line): --expect,\n"
"--expect-dir, --crl, --ca-file, --ca-dir, --staple-max-age, the --webhook*\n"
"and --alertmanager options, --instance, --udp-encap, --port and --direction\n"
"take effect at once (an agent event config_reloaded); a configuration that\n"
"cannot be used is refused whole (config_refused, the old one stays); other\n"
"changed options wait for a restart (listed under \"ignored\").\n",
};

static int run_exit_code(enum agent_status st)
{
	switch (st) {
	case AGENT_OK:           return EXIT_OK;
	case AGENT_ERR_NO_IFACE: return EXIT_USAGE;
	case AGENT_ERR_OUTPUT:   return EXIT_INPUT;
	default:                 return EXIT_INTERNAL;
	}
}

/* The command line, for loading the options again on SIGHUP. */
static int saved_argc;
static char **saved_argv;

int run_load_options_again(struct cli_opts *fresh, char *err, size_t errlen)
{
	if (!saved_argv) {
		snprintf(err, errlen, "tlswatch run has not started");
		return -EXIT_INTERNAL;
	}
	return cli_load_options(CLI_RUN, saved_argc, saved_argv, fresh, err, errlen);
}

/*
 * The agent's options from the loaded ones. @ao points into @o, which must
 * outlive it. (A SIGHUP reload loads fresh options with cli_load_options()
 * on the saved argv, opens their checker and maps them here again.)
 */
static void agent_opts_from(struct cli_opts *o, struct cert_health *health,
			    struct agent_opts *ao)
{
	int uprobes = cli_uprobes_mode(o);

	ao->ifaces = o->ifaces;
	ao->n_ifaces = o->n_ifaces;
	ao->ports = o->ports;
	ao->n_ports = o->n_ports;
	ao->udp_encap = &o->udp_encap;
	ao->served_only = o->served_only;
	ao->dir_budget = o->dir_budget;
	ao->handshake_memory_mib = o->handshake_memory_mib;
	ao->ringbuf_bytes = o->ring_buffer_kib << 10;
	ao->max_flows = o->flow_map_entries;
	ao->active = o->active;
	ao->uprobes_auto = uprobes == CLI_UPROBES_AUTO;
	/* the paths, when no mode was given */
	ao->uprobes = o->uprobes;
	ao->n_uprobes = uprobes < 0 ? o->n_uprobes : 0;
	ao->stats_interval_s = o->stats_interval_s;
	ao->health = health;
	ao->start_problem = o->check.db_warning[0] ? o->check.db_warning : NULL;
	ao->leaf = o->check.leaf;
	ao->spikes = o->check.no_spikes ? NULL : &o->check.spike;
	ao->outputs = o->out;
	ao->outputs.json_path = o->log_path;
	ao->outputs.db_path = o->check.health.db_path;
	ao->outputs.history = true;
	ao->outputs.expiring_warn_days = o->check.leaf.warn_days;
}

/* --- SIGHUP: the options read again and handed to the agent. Two sets
 * live at most: the start's (the agent's restart-only values point into
 * it) and the last reload's, in force (the agent's ports, the checks and
 * the sink set point into it). The sinks a reload keeps own copies of
 * their options' strings, so the set a reload replaces is freed. */

struct run_reload {
	/* the start's: the restart-only options a reload compares with
	 * (they never change during a run) */
	const struct cli_opts *running;
	struct cli_opts *in_force;     /* the last applied reload's, or NULL */
};

static bool str_differ(const char *a, const char *b)
{
	return a != b && (!a || !b || strcmp(a, b) != 0);
}

static bool strv_has(const char *const *v, int n, const char *s)
{
	int i;

	for (i = 0; i < n; i++)
		if (!str_differ(v[i], s))
			return true;
	return false;
}

/* Lists of interfaces or libraries: the same set in any order (or
 * repeated) is the same. */
static bool strset_differ(const char *const *a, int na, const char *const *b, int nb)
{
	int i;

	for (i = 0; i < na; i++)
		if (!strv_has(b, nb, a[i]))
			return true;
	for (i = 0; i < nb; i++)
		if (!strv_has(a, na, b[i]))
			return true;
	return false;
}

/* --uprobes off, written or not (the default), is no library at all. */
static int run_n_uprobes(const struct cli_opts *o)
{
	return cli_uprobes_mode(o) == CLI_UPROBES_OFF ? 0 : o->n_uprobes;
}

/* Options a reload cannot apply, each with how to tell it changed:
 *   X(NAME, DIFFERS) with the running options in a, the new ones in b */
#define RUN_RESTART_ONLY(X)                                                    \
	X("iface", strset_differ(a->ifaces, a->n_ifaces, b->ifaces, b->n_ifaces)) \
	X("json-log", str_differ(a->log_path, b->log_path))                    \
	X("no-active-check", a->active != b->active)                           \
	X("uprobes", strset_differ(a->uprobes, run_n_uprobes(a),               \
				   b->uprobes, run_n_uprobes(b)))              \
	X("stats-interval", a->stats_interval_s != b->stats_interval_s)        \
	X("dir-budget", a->dir_budget != b->dir_budget)                        \
	X("handshake-memory", a->handshake_memory_mib != b->handshake_memory_mib) \
	X("ring-buffer", a->ring_buffer_kib != b->ring_buffer_kib)             \
	X("flow-map", a->flow_map_entries != b->flow_map_entries)              \
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

static int run_restart_only_changes(const struct cli_opts *a, const struct cli_opts *b,
				    const char **names)
{
	int n = 0;

#define X(name, differs) if (differs) names[n++] = name;
	RUN_RESTART_ONLY(X)
#undef X
	return n;
}

/* A set loaded by a reload; NULL is none. */
static void run_opts_free(struct cli_opts *o)
{
	if (!o)
		return;
	cli_opts_free(o);
	free(o);
}

static void run_on_reload(void *ctx, struct agent *ag)
{
	struct run_reload *rr = ctx;
	const char *ignored[RUN_N_RESTART_ONLY];
	struct agent_reload r = { .ignored = ignored };
	struct cli_opts *fresh = calloc(1, sizeof(*fresh));
	char err[512];

	if (!fresh) {
		agent_reload_refused(ag, "out of memory");
		return;
	}
	if (run_load_options_again(fresh, err, sizeof(err)) < 0) {
		agent_reload_refused(ag, err);
		free(fresh);
		return;
	}
	r.health = &fresh->check.health;
	r.outputs = &fresh->out;
	r.udp_encap = &fresh->udp_encap;
	r.ports = fresh->ports;
	r.n_ports = fresh->n_ports;
	r.served_only = fresh->served_only;
	r.n_ignored = run_restart_only_changes(rr->running, fresh, ignored);
	if (agent_reload(ag, &r) < 0) {
		run_opts_free(fresh);
		return;
	}
	run_opts_free(rr->in_force);
	rr->in_force = fresh;
}

/* Every --iface name must exist, and the interfaces the agent must attach
 * (those names, or without --iface every one that is up) be held for it,
 * before anything is opened or created (the database, the log): a refusal
 * leaves no file behind, and of two agents started at the same instant
 * one holds and the other is refused here. A pattern may match nothing
 * yet: the agent attaches to interfaces as they appear. */
static int run_hold_ifaces(const struct cli_opts *o, struct live_holds **holds)
{
	char err[256];
	int r;

	r = live_holds_take(o->ifaces, o->n_ifaces, holds, err, sizeof(err));
	if (r)
		fprintf(stderr, "tlswatch run: %s\n", err);
	return r;
}

/* The --db file's shared lease, for the agent's life (--db is
 * restart-only), taken before anything opens it: an analyze --db run,
 * which holds the file's write lock for its whole run, is refused while
 * agents write the file, and an agent is refused while such a run lasts,
 * before it attached or created anything (inventory_lease.h). 0 (*@lease,
 * -1: none; *@created: the lease created the file, empty), or -1 said. */
static int run_lease_db(const struct cli_opts *o, int *lease, bool *created)
{
	const char *db = o->check.health.db_path;
	struct stat sb;
	char err[512];

	*lease = -1;
	*created = db && stat(db, &sb) != 0 && errno == ENOENT;
	if (!db || inventory_lease_take(db, INVENTORY_LEASE_AGENT, lease, err,
					sizeof(err)) == 0)
		return 0;
	fprintf(stderr, "tlswatch run: %s\n", err);
	return -1;
}

/* A start refused after run_lease_db: the file the lease created is
 * removed (inventory_lease_drop_new), then the lease ends. */
static void run_lease_drop(const char *db, int lease, bool created)
{
	char err[512];

	if (created && inventory_lease_drop_new(db, lease, err, sizeof(err)) < 0)
		fprintf(stderr, "tlswatch run: %s\n", err);
	inventory_lease_end(lease);
}

int cmd_run(int argc, char **argv)
{
	struct cli_opts o;
	struct run_reload rr = { .running = &o };
	struct agent_opts ao = { .on_reload = run_on_reload, .reload_ctx = &rr };
	struct cert_health *health = NULL;
	enum agent_status st;
	char err[512];
	int rc, lease;
	bool db_created;

	agent_catch_signals();
	if (agent_safe_defaults(err, sizeof(err))) {
		fprintf(stderr, "tlswatch run: %s\n", err);
		return EXIT_INTERNAL;
	}
	rc = cli_start(CLI_RUN, argc, argv, &o, &run_help);
	if (rc >= 0)
		return rc;
	saved_argc = argc;
	saved_argv = argv;
	if (run_hold_ifaces(&o, &ao.holds) < 0) {
		cli_opts_free(&o);
		return EXIT_INTERNAL;    /* as when attaching to it fails */
	}
	/* after the holds: a refused interface leaves no file behind */
	if (run_lease_db(&o, &lease, &db_created) < 0) {
		live_holds_free(ao.holds);
		cli_opts_free(&o);
		return EXIT_INPUT;       /* as a --db that cannot be used */
	}
	if (check_opts_open("run", &o.check, &health) < 0) {
		run_lease_drop(o.check.health.db_path, lease, db_created);
		live_holds_free(ao.holds);
		cli_opts_free(&o);
		return EXIT_INPUT;
	}
	/* the file opened again by its path later (a file system repaired
	 * and mounted there) is leased first: the lease follows the path */
	inventory_lease_follow_start(o.check.health.db_path, INVENTORY_LEASE_AGENT,
				     lease);
	agent_opts_from(&o, health, &ao);
	st = agent_run(&ao, err, sizeof(err));
	if (st != AGENT_OK)
		fprintf(stderr, "tlswatch run: %s\n", err);
	cert_health_close(health);
	/* last: after every SQLite connection to the file (the history and
	 * the outbox closed in agent_run; inventory_lease.h); the lease taken
	 * at start among them */
	inventory_lease_follow_end();
	live_holds_free(ao.holds);
	run_opts_free(rr.in_force);
	cli_opts_free(&o);
	return run_exit_code(st);
}
