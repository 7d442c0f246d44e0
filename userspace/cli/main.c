// SPDX-License-Identifier: MIT
/* tlswatch: subcommand dispatch. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cli_opts.h"

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : NULL;

	if (!cmd) {
		cli_print_top_help(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
		cli_print_top_help(stdout);
		return cli_stdout_written("tlswatch");
	}
	if (!strcmp(cmd, "version") || !strcmp(cmd, "--version") || !strcmp(cmd, "-V")) {
		printf("tlswatch %s\n", TLSWATCH_VERSION);
		return cli_stdout_written("tlswatch");
	}
	/* Undocumented: the man pages' generated sections, the default
	 * configuration file (Makefile). */
	if (!strcmp(cmd, "--doc"))
		return cli_doc(argc - 1, argv + 1);
	if (!strcmp(cmd, "analyze"))
		return cmd_analyze(argc - 1, argv + 1);
	if (!strcmp(cmd, "run"))
		return cmd_run(argc - 1, argv + 1);
	/* report: `report --db PATH --html FILE` reads better after an
	 * incident; the same command and options. */
	if (!strcmp(cmd, "inventory") || !strcmp(cmd, "report"))
		return cmd_inventory(argc - 1, argv + 1);
	fprintf(stderr, "tlswatch: unknown command '%s'\n", cmd);
	cli_print_top_help(stderr);
	return EXIT_USAGE;
}
