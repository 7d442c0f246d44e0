/* SPDX-License-Identifier: MIT */
/* Subcommands and the option helpers they share. Only this layer exits. */
#ifndef TW_CLI_H
#define TW_CLI_H

#include <stdint.h>

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
/* inventory --html: the page of the database at @db into @html ('-':
 * standard output). An exit code. */
/* The page of the history from @since_us to @until_us (UINT64_MAX: no
 * bound). */
int inventory_write_html(const char *db, const char *html, uint64_t since_us,
			 uint64_t until_us);

struct cli_opts;
/*
 * Refuses an --html FILE that is a file the command reads: a capture, the
 * --db database or the configuration file (the same path, or the same
 * device and inode), or an existing regular file with bytes in it that
 * do not start as an HTML page. EXIT_OK, or EXIT_USAGE with the message
 * on stderr.
 */
int cli_check_html_path(const struct cli_opts *o);
/*
 * Once a command wrote what it had to: flushes standard output and
 * checks that no write to it failed. EXIT_OK, or EXIT_INPUT said on
 * stderr after @who ("tlswatch analyze: cannot write to standard output:
 * No space left on device").
 */
int cli_stdout_written(const char *who);

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

/*
 * For the agent's SIGHUP: the options of tlswatch run from its
 * configuration file as it is now and its saved command line, in @fresh
 * (which must not be in use; free it with cli_opts_free). Prints nothing,
 * exits never. 0, or -EXIT_USAGE / -EXIT_INPUT with the reason in @err
 * ("/etc/tlswatch/tlswatch.conf:3: unknown option 'x'"); the options in
 * force then stay.
 */
int run_load_options_again(struct cli_opts *fresh, char *err, size_t errlen);

#endif
