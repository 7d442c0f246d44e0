// SPDX-License-Identifier: MIT
/*
 * tlswatch run: the live agent. eBPF TC probes -> the same pipeline as
 * analyze -> JSON lines; active checks for TLS 1.3 names; agent events
 * for its own state. Runs until SIGINT/SIGTERM, then detaches exactly
 * what it attached. SIGHUP reopens the log file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent.h"
#include "cli.h"
#include "cli_opts.h"

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
"Needs root, or CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON.\n"
"Stops on SIGINT or SIGTERM and detaches everything it attached; SIGHUP\n"
"reopens the --json-log file.\n",
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
	ao->ifaces = o->ifaces;
	ao->n_ifaces = o->n_ifaces;
	ao->ports = o->ports;
	ao->n_ports = o->n_ports;
	ao->dir_budget = o->dir_budget;
	ao->active = o->active;
	ao->stats_interval_s = o->stats_interval_s;
	ao->health = health;
	ao->leaf = o->check.leaf;
	ao->spikes = o->check.no_spikes ? NULL : &o->check.spike;
	ao->outputs = o->out;
	ao->outputs.json_path = o->log_path;
	ao->outputs.db_path = o->check.health.db_path;
	ao->outputs.expiring_warn_days = o->check.leaf.warn_days;
}

int cmd_run(int argc, char **argv)
{
	struct cli_opts o;
	struct agent_opts ao = { 0 };
	struct cert_health *health = NULL;
	enum agent_status st;
	char err[512];
	int rc;

	rc = cli_start(CLI_RUN, argc, argv, &o, &run_help);
	if (rc >= 0)
		return rc;
	saved_argc = argc;
	saved_argv = argv;
	if (check_opts_open("run", &o.check, &health) < 0) {
		cli_opts_free(&o);
		return EXIT_INPUT;
	}
	agent_opts_from(&o, health, &ao);
	st = agent_run(&ao, err, sizeof(err));
	if (st != AGENT_OK)
		fprintf(stderr, "tlswatch run: %s\n", err);
	cert_health_close(health);
	cli_opts_free(&o);
	return run_exit_code(st);
}
