/* SPDX-License-Identifier: MIT */
/* Subcommands and the option helpers they share. Only this layer exits. */
#ifndef TW_CLI_H
#define TW_CLI_H

#include <stdbool.h>
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
int cmd_report(int argc, char **argv);

/* Each prints "tlswatch CMD: --OPT: reason" and returns false on error. */
bool opt_parse_uint(const char *cmd, const char *opt, const char *arg,
		    unsigned long min, unsigned long max, unsigned long *out);
bool opt_parse_double(const char *cmd, const char *opt, const char *arg,
		      double min, double max, double *out);
bool opt_add_port(const char *cmd, const char *arg, uint16_t *ports, int *n,
		  int max);
/* "expired,revoked,spike": bit per finding kind; bit 31 for "spike". */
#define FAIL_ON_SPIKE (1u << 31)
bool opt_parse_fail_on(const char *cmd, const char *arg, uint32_t *mask);
void opt_usage_error(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
