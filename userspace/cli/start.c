// SPDX-License-Identifier: MIT
/* The start every subcommand shares: options, help, log level. */
#include <stdio.h>

#include "cli.h"
#include "cli_opts.h"
#include "common/log.h"

/* analyze warns by default, the agent also says what it does; -v -v is
 * debug for both. */
static void set_log_level(const struct cli_opts *o)
{
	enum tw_log_level normal = o->cmd == CLI_RUN ? TW_LOG_INFO : TW_LOG_WARN;

	tw_log_set_level(o->quiet ? TW_LOG_SILENT : o->verbose >= 2 ? TW_LOG_DEBUG :
			 o->verbose ? TW_LOG_INFO : normal);
}

int cli_start(int cmd, int argc, char **argv, struct cli_opts *o,
	      const struct cli_help *help)
{
	const char *name = cli_cmd_names[cmd];
	char err[1024];
	int rc = cli_load_options(cmd, argc, argv, o, err, sizeof(err));

	if (rc == 1) {
		cli_print_help(stdout, cmd, help->usage, help->description, help->notes);
		snprintf(err, sizeof(err), "tlswatch %s", name);
		rc = cli_stdout_written(err);
	} else if (rc < 0) {
		fprintf(stderr, "tlswatch %s: %s\n", name, err);
		if (rc == -EXIT_USAGE)
			fprintf(stderr, "Try 'tlswatch %s --help'.\n", name);
		rc = -rc;
	} else if (o->show_config) {
		cli_print_config(stdout, o);
		snprintf(err, sizeof(err), "tlswatch %s", name);
		rc = cli_stdout_written(err);
	} else {
		set_log_level(o);
		snprintf(err, sizeof(err), "tlswatch %s", name);
		tw_log_set_prefix(err);
		return -1;
	}
	cli_opts_free(o);
	return rc;
}
