/* SPDX-License-Identifier: MIT */
/* Subcommands and the option helpers they share. Only this layer exits. */
#ifndef TW_CLI_H
#define TW_CLI_H

#include "common/version.h"

/* Exit codes, documented in --help and the README. */
enum {
	EXIT_OK = 0,
	EXIT_FINDINGS = 1,   /* --fail-on matched */
	EXIT_USAGE = 2,      /* bad command line */
	EXIT_INPUT = 3,      /* an input could not be read */
	EXIT_INTERNAL = 4,   /* out of memory, a library failure, attach failure */
};

int cmd_analyze(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_inventory(int argc, char **argv);

struct cli_opts;
struct cli_help {
	const char *usage;        /* after "tlswatch CMD " */
	const char *description;
	const char *notes;        /* after the options */
};

/*
 * Loads the options of subcommand @cmd (cli_opts.h) and sets the log
 * level. Prints the help, the options in force (--show-config) or the
 * error with "Try 'tlswatch CMD --help'". Returns -1 when the command goes
 * on, else the exit code to return (@o is then freed).
 */
int cli_start(int cmd, int argc, char **argv, struct cli_opts *o,
	      const struct cli_help *help);

#endif
