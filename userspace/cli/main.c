// SPDX-License-Identifier: MIT
/* tlswatch: subcommand dispatch. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cli_opts.h"

/* The help and the version take no argument: `tlswatch version --json`
 * or `tlswatch help run` would else do something else than was asked,
 * and say nothing of it. EXIT_OK, or EXIT_USAGE said. */
static int no_operands(int argc, char **argv)
{
	if (argc <= 2)
		return EXIT_OK;
	fprintf(stderr, "tlswatch: unexpected argument '%s' after '%s'\n"
		"Try 'tlswatch --help'.\n", argv[2], argv[1]);
	return EXIT_USAGE;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : NULL;

	if (!cmd) {
		cli_print_top_help(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
		if (no_operands(argc, argv))
			return EXIT_USAGE;
		cli_print_top_help(stdout);
		return cli_stdout_written("tlswatch");
	}
	if (!strcmp(cmd, "version") || !strcmp(cmd, "--version") || !strcmp(cmd, "-V")) {
		if (no_operands(argc, argv))
			return EXIT_USAGE;
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
