// SPDX-License-Identifier: MIT
/* Loading options: defaults, then the configuration file, then the command
 * line, each value checked against option_table.h. */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_opts.h"
#include "common/decimal.h"
#include "common/grow.h"
#include "config_file.h"

/* Each name CLI_CHOICE_NAME may read fits its row, its NUL included. */
#define X(id, name, ...) \
	_Static_assert(sizeof(name) <= CLI_CHOICE_LEN, "CLI_CHOICE_LEN: " name);
CLI_DIRECTIONS(X)
CLI_UPROBES_MODES(X)
WEBHOOK_FORMATS(X)
#undef X

const struct cli_option cli_options[CLI_OPT__COUNT] = {
#define X(id, nm, sh, ar, cm, gr, ty, fl, mn, mx, df, hl) \
	[CLI_OPT_##id] = { nm, sh, ar, cm, CLI_GROUP_##gr, ty, fl, mn, mx, df, hl },
	CLI_OPTIONS(X)
#undef X
};

const char *const cli_group_titles[CLI_GROUP__COUNT] = {
#define X(id, title) [CLI_GROUP_##id] = title,
	CLI_OPTION_GROUPS(X)
#undef X
};

const char *const cli_cmd_names[CLI__COUNT] = {
	[CLI_ANALYZE] = "analyze", [CLI_RUN] = "run", [CLI_INVENTORY] = "inventory",
};

/* What each option needs given with it (option_table.h). */
static const struct {
	bool any;
	enum cli_opt needs, or_needs;
} cli_needs[CLI_OPT__COUNT] = {
#define X(id, needs, or_needs) \
	[CLI_OPT_##id] = { true, CLI_OPT_##needs, CLI_OPT_##or_needs },
	CLI_OPTION_NEEDS(X)
#undef X
};

static bool needs_other(enum cli_opt id)
{
	return cli_needs[id].any;
}

void cli_option_needs_text(enum cli_opt id, char *buf, size_t len)
{
	enum cli_opt a = cli_needs[id].needs, b = cli_needs[id].or_needs;

	if (!needs_other(id))
		snprintf(buf, len, "%s", "");
	else if (a == b)
		snprintf(buf, len, "--%s", cli_options[a].name);
	else
		snprintf(buf, len, "--%s or --%s", cli_options[a].name, cli_options[b].name);
}

#define GETOPT_BASE 256   /* getopt's value of option i: GETOPT_BASE + i */

bool cli_opt_in(enum cli_opt id, enum cli_cmd cmd)
{
	return cli_options[id].cmds & (1u << cmd);
}

const char *cli_option_default(enum cli_opt id, enum cli_cmd cmd)
{
	const struct cli_option *opt = &cli_options[id];

	if (id == CLI_OPT_DB && cmd != CLI_ANALYZE)
		return CLI_DEFAULT_DB;
	if (id == CLI_OPT_PORT && cmd == CLI_RUN)
		return CLI_RUN_DEFAULT_PORT;
	return opt->def;
}

/* The value of an option's "a|b|c" list that starts at @p: its length in
 * *@len; the next one's start, or NULL after the last. */
static const char *choice_next(const char *p, size_t *len)
{
	const char *bar = strchr(p, '|');

	*len = bar ? (size_t)(bar - p) : strlen(p);
	return bar ? bar + 1 : NULL;
}

int cli_option_choice(enum cli_opt id, const char *arg, char *err, size_t errlen)
{
	const char *p, *next;
	size_t len, off;
	int i = 0, n = 0;

	for (p = cli_options[id].arg; p; p = next, n++) {
		next = choice_next(p, &len);
		/* an upper-case word ("PATH") says what else it takes */
		if (!isupper((unsigned char)*p) && len == strlen(arg) &&
		    strncmp(p, arg, len) == 0)
			return n;
	}
	/* "'x' is not a, b or c": the list with its bars said in words */
	off = (size_t)snprintf(err, errlen, "'%s' is not ", arg);
	for (p = cli_options[id].arg; p && off < errlen; p = next, i++) {
		next = choice_next(p, &len);
		off += (size_t)snprintf(err + off, errlen - off, "%s%.*s",
					i == 0 ? "" : i == n - 1 ? " or " : ", ",
					(int)len, p);
	}
	return -EXIT_USAGE;
}

static int find_option(const char *name)
{
	int i;

	for (i = 0; i < CLI_OPT__COUNT; i++)
		if (strcmp(cli_options[i].name, name) == 0)
			return i;
	return -1;
}

/* Edits (insert, delete, replace a character) from @a to @b, at most
 * CONF_NEAR_MAX + 1: two names further apart are not near. */
#define CONF_NEAR_MAX 2
static int name_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	int row[64], diag, up;

	if (lb >= sizeof(row) / sizeof(row[0]) || (la > lb ? la - lb : lb - la) > CONF_NEAR_MAX)
		return CONF_NEAR_MAX + 1;
	for (j = 0; j <= lb; j++)
		row[j] = (int)j;
	for (i = 1; i <= la; i++) {
		diag = row[0];
		row[0] = (int)i;
		for (j = 1; j <= lb; j++) {
			up = row[j];
			row[j] = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < row[j])
				row[j] = up + 1;
			if (row[j - 1] + 1 < row[j])
				row[j] = row[j - 1] + 1;
			diag = up;
		}
	}
	return row[lb];
}

/* Whether configuration-file key @i is one a file may set. */
static bool conf_key(int i)
{
	return !(cli_options[i].flags & OF_NOCONF);
}

/* The keys @name begins, quoted, into @out ("'a'", "'a' or 'b'", "'a',
 * 'b' or 'c'"): how many. */
static int conf_keys_begun(const char *name, char *out, size_t len)
{
	size_t n = strlen(name), used = 0;
	int i, count = 0, left = 0;

	for (i = 0; i < CLI_OPT__COUNT; i++)
		if (conf_key(i) && strncmp(cli_options[i].name, name, n) == 0)
			left++;
	out[0] = '\0';
	for (i = 0; i < CLI_OPT__COUNT && used < len; i++) {
		if (!conf_key(i) || strncmp(cli_options[i].name, name, n) != 0)
			continue;
		count++;
		used += (size_t)snprintf(out + used, len - used, "%s'%s'",
					 count == 1 ? "" : count == left ? " or " : ", ",
					 cli_options[i].name);
	}
	return count;
}

/* The configuration-file key nearest @name within CONF_NEAR_MAX edits
 * (the first of equals); NULL. */
static const char *conf_key_near(const char *name)
{
	const char *best = NULL;
	int i, d, best_d = CONF_NEAR_MAX + 1;

	for (i = 0; i < CLI_OPT__COUNT; i++) {
		if (!conf_key(i))
			continue;
		d = name_distance(name, cli_options[i].name);
		if (d < best_d) {
			best_d = d;
			best = cli_options[i].name;
		}
	}
	return best;
}

/* What the unknown configuration-file key @name was probably meant to
 * be, into @out: the keys it begins (a file takes whole names, the
 * command line abbreviations: all of them when it begins several), else
 * the nearest within CONF_NEAR_MAX edits, else "". */
static void conf_key_hint(const char *name, char *out, size_t len)
{
	char keys[384];
	const char *near;

	if (conf_keys_begun(name, keys, sizeof(keys)) > 0) {
		snprintf(out, len, " (a file takes whole names: did you mean %s?)", keys);
		return;
	}
	near = conf_key_near(name);
	if (near)
		snprintf(out, len, " (did you mean '%s'?)", near);
	else
		out[0] = '\0';
}

/* Digits only ("5", not " 5", "+5" or "0x5"). */
static bool parse_whole(const char *arg, uint64_t *v)
{
	const char *end;

	return tw_dec_parse(arg, &end, v) && !*end;
}

/* Just after the decimal digits at the start of @s (@s: none). */
static const char *skip_digits(const char *s)
{
	while (*s >= '0' && *s <= '9')
		s++;
	return s;
}

/* Plain decimal: digits, then maybe a point and digits ("2.5", not "1e2",
 * "0x10", "+3", ".5" or "inf"), as many as written: only their form is
 * checked here, strtod rounds them. */
static bool parse_decimal(const char *arg, double *d)
{
	const char *end = skip_digits(arg);

	if (end == arg)
		return false;
	if (*end == '.') {
		const char *frac = end + 1;

		end = skip_digits(frac);
		if (end == frac)
			return false;
	}
	if (*end)
		return false;
	errno = 0;
	*d = strtod(arg, NULL);
	return errno == 0;
}

/*
 * A text value a configuration file could not hold: empty (a key without
 * a value is refused), with a blank at either end (the file's values are
 * trimmed) or a line break (one option per line). Refused on the command
 * line too, so that values are read alike and --show-config's output
 * loads back as the same options (--instance $'a\nport = 1' printed a
 * second key). A file's values never are. Asked after the option's own
 * parser, whose words are the more precise ones ("an empty item" of
 * --fail-on, the port of --udp-encap).
 */
static int check_text(const char *arg, char *err, size_t errlen)
{
	size_t n = strlen(arg);

	if (n == 0) {
		snprintf(err, errlen, "needs a value, not an empty one");
		return -EXIT_USAGE;
	}
	if (strchr(arg, '\n')) {
		snprintf(err, errlen, "a value with a line break, which a configuration "
			 "file (one option per line) could not hold");
		return -EXIT_USAGE;
	}
	if (isspace((unsigned char)arg[0]) || isspace((unsigned char)arg[n - 1])) {
		snprintf(err, errlen, "'%s' starts or ends with a blank, which a "
			 "configuration file (its values trimmed) could not hold", arg);
		return -EXIT_USAGE;
	}
	return 0;
}

/* The value of @arg for option @id, checked against its type and bounds. */
static int check_value(enum cli_opt id, const char *arg, unsigned long *u,
		       double *d, char *err, size_t errlen)
{
	const struct cli_option *opt = &cli_options[id];
	uint64_t v;

	if (opt->type == OT_UINT) {
		if (!parse_whole(arg, &v) || v < opt->min || v > opt->max) {
			snprintf(err, errlen, "'%s' is not a whole number from %.0f to %.0f",
				 arg, opt->min, opt->max);
			return -EXIT_USAGE;
		}
		*u = (unsigned long)v;
	} else if (opt->type == OT_DOUBLE) {
		if (!parse_decimal(arg, d) || !(*d >= opt->min && *d <= opt->max)) {
			snprintf(err, errlen, "'%s' is not a number from %g to %g",
				 arg, opt->min, opt->max);
			return -EXIT_USAGE;
		}
	}
	return 0;
}

static void forget_settings(struct cli_opts *o, enum cli_opt id)
{
	int i, n = 0;

	for (i = 0; i < o->n_settings; i++)
		if (o->settings[i].opt != id)
			o->settings[n++] = o->settings[i];
	o->n_settings = n;
}

/* Options that undo each other: the last one given is the one in force. */
static int opposite(enum cli_opt id)
{
	switch (id) {
	case CLI_OPT_ONLINE:     return CLI_OPT_NO_ONLINE;
	case CLI_OPT_NO_ONLINE:  return CLI_OPT_ONLINE;
	case CLI_OPT_METRICS:    return CLI_OPT_NO_METRICS;
	case CLI_OPT_NO_METRICS: return CLI_OPT_METRICS;
	case CLI_OPT_QUIET:      return CLI_OPT_VERBOSE;
	case CLI_OPT_VERBOSE:    return CLI_OPT_QUIET;
	default:                 return -1;
	}
}

static int remember(struct cli_opts *o, enum cli_opt id, const char *value, int line)
{
	int other = opposite(id);

	if (!(cli_options[id].flags & OF_REPEAT))
		forget_settings(o, id);
	if (other >= 0)
		forget_settings(o, (enum cli_opt)other);
	if (tw_grow(&o->settings, &o->cap_settings, sizeof(*o->settings),
		    (size_t)o->n_settings, 1, 32, TW_GROW_NO_CAP) < 0)
		return -EXIT_INTERNAL;
	o->settings[o->n_settings++] = (struct cli_setting){ id, value, line };
	return 0;
}

/* Checks and applies one value, from line @line of the configuration file
 * (0: the command line). @err gets the reason only. */
static int set_option(struct cli_opts *o, enum cli_opt id, const char *arg,
		      int line, char *err, size_t errlen)
{
	unsigned long u = 0;
	double d = 0;
	int rc = arg ? check_value(id, arg, &u, &d, err, errlen) : 0;

	if (!rc)
		rc = cli_opt_apply(o, id, arg, u, d, err, errlen);
	if (!rc && arg && cli_options[id].type == OT_STR &&
	    !(cli_options[id].flags & OF_NOCONF))
		rc = check_text(arg, err, errlen);
	if (!rc && (rc = remember(o, id, arg, line)) < 0)
		snprintf(err, errlen, "out of memory");
	return rc;
}

/* The numeric defaults come from the table; the rest depends on @cmd. */
static void set_defaults(struct cli_opts *o, enum cli_cmd cmd)
{
	char err[128];
	int i;

	memset(o, 0, sizeof(*o));
	o->cmd = cmd;
	check_opts_init(&o->check, cmd == CLI_RUN, cmd == CLI_ANALYZE ? NULL : CLI_DEFAULT_DB);
	output_opts_init(&o->out, cmd == CLI_RUN ? OUTPUT_DEFAULT_METRICS : NULL);
	o->log_path = "-";
	o->active = true;
	o->udp_encap = tw_udp_encap_default;
	for (i = 0; i < CLI_OPT__COUNT; i++) {
		const struct cli_option *opt = &cli_options[i];
		unsigned long u = 0;
		double d = 0;

		if (!opt->def[0] || (opt->type != OT_UINT && opt->type != OT_DOUBLE) ||
		    (opt->flags & OF_REPEAT))
			continue;
		/* The table's defaults are within its bounds (test_cli_options). */
		if (check_value(i, opt->def, &u, &d, err, sizeof(err)) == 0)
			cli_opt_apply(o, i, opt->def, u, d, err, sizeof(err));
	}
}

/* The configuration file being read: the options it sets, and the line
 * each key was first given on. */
struct conf_reader {
	struct cli_opts *o;
	int first_line[CLI_OPT__COUNT];   /* 0: not given yet */
};

/* A key that takes one value is given once: a second line silently
 * replaced the first. Checked for every key, the other commands' too (one
 * file serves them all). */
static int conf_once(struct conf_reader *r, enum cli_opt id, int line, char *err,
		     size_t errlen)
{
	if (!r->first_line[id]) {
		r->first_line[id] = line;
		return 0;
	}
	if (cli_options[id].flags & OF_REPEAT)
		return 0;
	snprintf(err, errlen, "%s: given again (first on line %d); only a repeatable "
		 "option takes one line per value", cli_options[id].name,
		 r->first_line[id]);
	return -EXIT_USAGE;
}

static int conf_line(void *ctx, int line, const char *name, const char *value,
		     char *err, size_t errlen)
{
	struct conf_reader *r = ctx;
	struct cli_opts *o = r->o;
	int id = find_option(name), rc;
	char reason[512];
	const struct cli_option *opt;

	if (id < 0) {
		char hint[512];

		conf_key_hint(name, hint, sizeof(hint));
		snprintf(err, errlen, "unknown option '%s'%s", name, hint);
		return -EXIT_USAGE;
	}
	opt = &cli_options[id];
	if (opt->flags & OF_NOCONF) {
		snprintf(err, errlen, "'%s' is a command-line option only", name);
		return -EXIT_USAGE;
	}
	rc = conf_once(r, id, line, err, errlen);
	if (rc < 0)
		return rc;
	/* One file serves every subcommand: another one's keys are skipped. */
	if (!cli_opt_in(id, o->cmd))
		return 0;
	if (opt->arg && (!value || !*value)) {
		snprintf(err, errlen, "%s: needs a value (%s = %s)", name, name, opt->arg);
		return -EXIT_USAGE;
	}
	if (!opt->arg && value) {
		snprintf(err, errlen, "%s: takes no value (a line '%s' alone sets it)",
			 name, name);
		return -EXIT_USAGE;
	}
	rc = set_option(o, id, value, line, reason, sizeof(reason));
	if (rc < 0)
		snprintf(err, errlen, "%s: %s", name, reason);
	return rc;
}

static int load_config(struct cli_opts *o, char *err, size_t errlen)
{
	bool optional = !o->config_path;
	const char *path = o->config_path;
	struct conf_reader r = { .o = o };
	int rc;

	if (!path && o->cmd != CLI_ANALYZE)
		path = CLI_DEFAULT_CONFIG;
	if (!path)
		return 0;
	rc = config_file_read(path, optional, &o->conf_text, conf_line, &r, err, errlen);
	o->config_path = rc == 0 ? path : NULL;
	return rc > 0 ? 0 : rc;
}

static void build_getopt(struct option *lo, char *shorts)
{
	int i, n = 0;

	shorts[n++] = ':';   /* a missing value is ':', not '?' */
	for (i = 0; i < CLI_OPT__COUNT; i++) {
		const struct cli_option *opt = &cli_options[i];

		lo[i] = (struct option){ opt->name, opt->arg ? required_argument : no_argument,
					 NULL, GETOPT_BASE + i };
		if (opt->short_name) {
			shorts[n++] = opt->short_name;
			if (opt->arg)
				shorts[n++] = ':';
		}
	}
	lo[CLI_OPT__COUNT] = (struct option){ NULL, 0, NULL, 0 };
	shorts[n] = '\0';
}

static int getopt_id(int c)
{
	int i;

	if (c >= GETOPT_BASE && c < GETOPT_BASE + CLI_OPT__COUNT)
		return c - GETOPT_BASE;
	for (i = 0; i < CLI_OPT__COUNT; i++)
		if (c && cli_options[i].short_name == c)
			return i;
	return -1;
}

/* Pass 1 (@apply false) finds --config and --help and rejects what is no
 * option of the command; pass 2 applies the rest over the file's values. */
static int scan_argv(struct cli_opts *o, int argc, char **argv, bool apply,
		     char *err, size_t errlen)
{
	struct option lo[CLI_OPT__COUNT + 1];
	char shorts[2 * CLI_OPT__COUNT + 2], reason[512];
	bool given[CLI_OPT__COUNT] = { false };
	int c, id, rc;

	build_getopt(lo, shorts);
	optind = 0;   /* glibc: start over, also on a new argv */
	opterr = 0;
	while ((c = getopt_long(argc, argv, shorts, lo, NULL)) != -1) {
		if (c == ':') {
			snprintf(err, errlen, "%s needs a value", argv[optind - 1]);
			return -EXIT_USAGE;
		}
		id = getopt_id(c);
		if (id < 0) {
			snprintf(err, errlen, "unknown option '%s'", argv[optind - 1]);
			return -EXIT_USAGE;
		}
		if (!cli_opt_in(id, o->cmd)) {
			snprintf(err, errlen, "--%s is not an option of 'tlswatch %s'",
				 cli_options[id].name, cli_cmd_names[o->cmd]);
			return -EXIT_USAGE;
		}
		if (!apply) {
			if (id == CLI_OPT_HELP)
				o->help = true;
			if (id == CLI_OPT_CONFIG)
				o->config_path = optarg;
			continue;
		}
		if (id == CLI_OPT_HELP || id == CLI_OPT_CONFIG)
			continue;
		if ((cli_options[id].flags & OF_REPEAT) && !given[id]) {
			cli_opt_clear(o, id);
			forget_settings(o, id);
		}
		given[id] = true;
		rc = set_option(o, id, optarg, 0, reason, sizeof(reason));
		if (rc < 0) {
			snprintf(err, errlen, "--%s: %s", cli_options[id].name, reason);
			return rc;
		}
	}
	return 0;
}

static bool given(const struct cli_opts *o, enum cli_opt id)
{
	int i;

	for (i = 0; i < o->n_settings; i++)
		if (o->settings[i].opt == id)
			return true;
	return false;
}

/* An option given without the one it needs would be silently ignored (a
 * --webhook-secret-file without --webhook signs nothing): the first one,
 * the file's before the command line's. */
static int check_needs(const struct cli_opts *o, char *err, size_t errlen)
{
	const struct cli_setting *s;
	char needs[64];
	int i;

	for (i = 0; i < o->n_settings; i++) {
		s = &o->settings[i];
		if (!needs_other(s->opt) || given(o, cli_needs[s->opt].needs) ||
		    given(o, cli_needs[s->opt].or_needs))
			continue;
		cli_option_needs_text(s->opt, needs, sizeof(needs));
		if (s->line)
			snprintf(err, errlen, "%s:%d: %s needs %s (in the file or on the "
				 "command line)", o->config_path, s->line,
				 cli_options[s->opt].name, needs);
		else
			snprintf(err, errlen, "--%s needs %s", cli_options[s->opt].name, needs);
		return -EXIT_USAGE;
	}
	return 0;
}

/* What follows the options: capture files for analyze, nothing otherwise. */
static int take_operands(struct cli_opts *o, int argc, char **argv, char *err,
			 size_t errlen)
{
	int i, n_stdin = 0;

	if (o->cmd != CLI_ANALYZE) {
		if (optind < argc) {
			snprintf(err, errlen, "unexpected argument '%s'", argv[optind]);
			return -EXIT_USAGE;
		}
		return 0;
	}
	o->files = argv + optind;
	o->n_files = argc - optind;
	if (!o->n_files && !o->show_config) {
		snprintf(err, errlen, "no capture file given");
		return -EXIT_USAGE;
	}
	/* the second would find the first one's end ("not a pcap or
	 * pcapng file") */
	for (i = 0; i < o->n_files; i++)
		if (strcmp(o->files[i], "-") == 0 && ++n_stdin == 2) {
			snprintf(err, errlen, "standard input ('-') given twice: it "
				 "can be read only once");
			return -EXIT_USAGE;
		}
	return 0;
}

int cli_load_options(enum cli_cmd cmd, int argc, char **argv,
		     struct cli_opts *o, char *err, size_t errlen)
{
	int rc;

	set_defaults(o, cmd);
	rc = scan_argv(o, argc, argv, false, err, errlen);
	if (rc || o->help)
		return rc ? rc : 1;
	rc = load_config(o, err, errlen);
	if (!rc)
		rc = scan_argv(o, argc, argv, true, err, errlen);
	if (!rc)
		rc = take_operands(o, argc, argv, err, errlen);
	if (!rc)
		rc = check_needs(o, err, errlen);
	if (!rc && cmd == CLI_RUN && !o->n_ports)
		rc = cli_opt_apply(o, CLI_OPT_PORT, CLI_RUN_DEFAULT_PORT,
				   strtoul(CLI_RUN_DEFAULT_PORT, NULL, 10), 0, err, errlen);
	return rc;
}

void cli_opts_free(struct cli_opts *o)
{
	free(o->settings);
	free(o->conf_text);
	o->settings = NULL;
	o->conf_text = NULL;
	o->n_settings = o->cap_settings = 0;
}
