/* SPDX-License-Identifier: MIT */
/*
 * The options of every subcommand, from the configuration file and the
 * command line, as one struct. Loading never prints and never exits, so
 * the agent can load a fresh set again on SIGHUP.
 *
 * Errors: functions returning int return 0 (or a documented positive
 * value) on success and a negative exit code (-EXIT_USAGE, -EXIT_INPUT,
 * -EXIT_INTERNAL) with a one-line message in @err.
 */
#ifndef TW_CLI_OPTS_H
#define TW_CLI_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "check_opts.h"
#include "common/tunnel.h"
#include "deliver/outbox.h"   /* OUTBOX_DEFAULT_MAX_ROWS: a default */
#include "output_opts.h"

enum cli_cmd { CLI_ANALYZE, CLI_RUN, CLI_INVENTORY, CLI__COUNT };

#include "option_table.h"

enum option_type { OT_FLAG, OT_STR, OT_UINT, OT_DOUBLE };
enum option_flags {
	OF_REPEAT = 1,  /* repeatable: a list, or a count for a flag */
	OF_NOCONF = 2,  /* command line only */
};

enum cli_opt {
#define X(id, ...) CLI_OPT_##id,
	CLI_OPTIONS(X)
#undef X
	CLI_OPT__COUNT,
};

enum cli_group {
#define X(id, title) CLI_GROUP_##id,
	CLI_OPTION_GROUPS(X)
#undef X
	CLI_GROUP__COUNT,
};

struct cli_option {
	const char *name;
	char short_name;
	const char *arg;        /* NULL: no value */
	unsigned cmds;          /* CMD_* bits */
	enum cli_group group;
	enum option_type type;
	unsigned flags;         /* OF_* bits */
	double min, max;
	const char *def;
	const char *help;
};

extern const struct cli_option cli_options[CLI_OPT__COUNT];

struct cli_exit_code {
	unsigned cmds;          /* CMD_* bits, CMD_TOP */
	int code;
	const char *text;
};

#define X(...) +1
enum { CLI_N_EXIT_CODES = 0 CLI_EXIT_CODES(X) };
#undef X
extern const struct cli_exit_code cli_exit_codes[CLI_N_EXIT_CODES];
extern const char *const cli_group_titles[CLI_GROUP__COUNT];
extern const char *const cli_cmd_names[CLI__COUNT];

#define CLI_MAX_PORTS 64
#define CLI_MAX_IFACES 64
#define CLI_MAX_UPROBES 16
#define CLI_DEFAULT_DB "/var/lib/tlswatch/inventory.db"
#define CLI_RUN_DEFAULT_PORT "443"
#ifndef CLI_DEFAULT_CONFIG   /* -DCLI_DEFAULT_CONFIG=... for another sysconfdir */
#define CLI_DEFAULT_CONFIG "/etc/tlswatch/tlswatch.conf"
#endif

/* One value given for an option, where it came from. */
struct cli_setting {
	enum cli_opt opt;
	const char *value;      /* NULL for a flag */
	int line;               /* of the configuration file; 0: command line */
};

struct cli_opts {
	enum cli_cmd cmd;
	bool help, show_config;
	const char *config_path;   /* the file read, or NULL */
	bool quiet;
	int verbose;
	bool json;
	uint16_t ports[CLI_MAX_PORTS];
	int n_ports;
	struct tw_udp_encap udp_encap; /* which UDP ports carry tunnels */
	struct check_opts check;   /* --db lives in check.health.db_path */
	struct output_opts out;
	/* inventory --html: the history's window, µs since the epoch, each
	 * bound in force when given (the epoch itself is a bound) */
	uint64_t since_us, until_us;
	bool since_given, until_given;
	/* analyze */
	uint32_t fail_on;          /* bit per finding kind, FAIL_ON_SPIKE */
	char **files;
	int n_files;
	/* run */
	const char *ifaces[CLI_MAX_IFACES];
	int n_ifaces;
	const char *log_path;
	bool served_only;          /* --direction served */
	const char *uprobes[CLI_MAX_UPROBES]; /* "auto", "off" or paths */
	int n_uprobes;
	bool active;
	unsigned stats_interval_s;
	unsigned dir_budget;
	unsigned handshake_memory_mib;
	unsigned ring_buffer_kib;
	unsigned flow_map_entries;
	/* the values in force, in order, for --show-config */
	struct cli_setting *settings;
	int n_settings;
	size_t cap_settings;
	char *conf_text;           /* owns the strings taken from the file */
};

/* "expired,revoked,spike": bit per finding kind; bit 31 for "spike". */
#define FAIL_ON_SPIKE (1u << 31)
#define FAIL_ON_SPIKE_NAME "spike"

/*
 * Builds @o (which must not be in use; free it with cli_opts_free) from the
 * defaults of @cmd, then the configuration file (--config FILE; for run and
 * inventory /etc/tlswatch/tlswatch.conf when it exists), then @argv
 * (argv[0] is the subcommand's name; getopt may permute @argv). Options of
 * the command line replace those of the file; a repeatable option given on
 * the command line replaces the file's list. An option given without the
 * one it needs (CLI_OPTION_NEEDS) is an error.
 * Returns 0, 1 when --help was asked for (nothing else is loaded), or
 * -EXIT_USAGE (bad command line or file), -EXIT_INPUT (the file cannot be
 * read) with the message in @err. @o may point to strings of @argv.
 * @o contains pointers into itself: never copy it by value.
 */
int cli_load_options(enum cli_cmd cmd, int argc, char **argv,
		     struct cli_opts *o, char *err, size_t errlen);
void cli_opts_free(struct cli_opts *o);

/* Applies one value (already checked against the table's type and bounds)
 * to @o; option_apply.c. */
int cli_opt_apply(struct cli_opts *o, enum cli_opt id, const char *arg,
		  unsigned long u, double d, char *err, size_t errlen);
/* Empties a repeatable option's list (the command line replaces the
 * file's). */
void cli_opt_clear(struct cli_opts *o, enum cli_opt id);

bool cli_opt_in(enum cli_opt id, enum cli_cmd cmd);
/* What option @id needs given with it (CLI_OPTION_NEEDS), as the help and
 * the error say it: "--webhook", "--webhook or --alertmanager"; "" when
 * it needs none. */
void cli_option_needs_text(enum cli_opt id, char *buf, size_t len);
/* An option's value when not given, for the docs; "" when not given is
 * not a value of it (no --port: analyze watches every port; no
 * --ca-file: the system store). */
const char *cli_option_default(enum cli_opt id, enum cli_cmd cmd);
/* An option whose ARG in the table is the values it takes, "all|served"
 * (the help, the man pages and the bash completion show that list): the
 * index of @arg in it, or -EXIT_USAGE with @err ("'x' is not all or
 * served"; @err may be NULL when @errlen is 0). The one list of those
 * values: parse with this, never with strings of one's own; its index is
 * the value of the enum generated from the same list (option_table.h). An
 * upper-case word in the list ("PATH") is never matched. */
int cli_option_choice(enum cli_opt id, const char *arg, char *err, size_t errlen);
/* --uprobes' mode: CLI_UPROBES_AUTO or CLI_UPROBES_OFF (none given too),
 * or -1 when library paths were given. */
int cli_uprobes_mode(const struct cli_opts *o);

/* help.c: the --help text, the man pages' sections, the configuration file */
void cli_print_help(FILE *out, enum cli_cmd cmd, const char *usage,
		    const char *description, const char *notes);
void cli_print_top_help(FILE *out);
void cli_print_exit_codes(FILE *out, unsigned cmd_bit);
void cli_print_config(FILE *out, const struct cli_opts *o);
/* An option's help with the table's bounds and default appended. */
void cli_option_text(enum cli_opt id, char *buf, size_t len);
/* Writes @text from column @col, wrapped; each new line starts with @lead. */
void cli_wrap(FILE *out, const char *text, int col, const char *lead);
/* "tlswatch --doc KIND CMD": man-options, man-exit, conf. Exit code. */
int cli_doc(int argc, char **argv);

#endif
