// SPDX-License-Identifier: MIT
/* The man pages' generated sections and the configuration file, from
 * option_table.h (help.c writes --help from the same table). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_opts.h"
#include "cert/findings.h"
#include "common/tunnel.h"
#include "sink/sink.h"

/* roff: a backslash is \e; a '-' that starts a word is an option's minus. */
static void roff_text(FILE *out, const char *s)
{
	const char *p;

	if (*s == '.' || *s == '\'')
		fputs("\\&", out);
	for (p = s; *p; p++) {
		if (*p == '\\')
			fputs("\\e", out);
		else if (*p == '-' && (p == s || p[-1] == ' ' || p[-1] == '-' ||
				       p[-1] == '(' || p[-1] == '\''))
			fputs("\\-", out);
		else
			fputc(*p, out);
	}
}

/* An option's name: every '-' is a minus (it is typed). */
static void roff_name(FILE *out, const char *s)
{
	for (; *s; s++)
		fputs(*s == '-' ? "\\-" : (char[2]){ *s, 0 }, out);
}

static void man_option(FILE *out, enum cli_opt id)
{
	const struct cli_option *opt = &cli_options[id];
	char text[1024];

	fputs(".TP\n", out);
	if (opt->short_name)
		fprintf(out, "\\fB\\-%c\\fR, ", opt->short_name);
	fputs("\\fB", out);
	roff_name(out, "--");
	roff_name(out, opt->name);
	fputs("\\fR", out);
	if (opt->arg) {
		fputs(" \\fI", out);
		roff_text(out, opt->arg);
		fputs("\\fR", out);
	}
	fputc('\n', out);
	cli_option_text(id, text, sizeof(text));
	roff_text(out, text);
	fputc('\n', out);
}

static void man_options(FILE *out, enum cli_cmd cmd)
{
	int g, i;

	for (g = 0; g < CLI_GROUP__COUNT; g++) {
		bool titled = false;

		for (i = 0; i < CLI_OPT__COUNT; i++) {
			if (cli_options[i].group != (enum cli_group)g || !cli_opt_in(i, cmd))
				continue;
			if (!titled && g != CLI_GROUP_GENERAL)
				fprintf(out, ".SS %s\n", cli_group_titles[g]);
			titled = true;
			man_option(out, i);
		}
	}
}

static void man_exit(FILE *out, unsigned cmd_bit)
{
	size_t i;

	for (i = 0; i < CLI_N_EXIT_CODES; i++) {
		if (!(cli_exit_codes[i].cmds & cmd_bit))
			continue;
		fprintf(out, ".TP\n.B %d\n", cli_exit_codes[i].code);
		roff_text(out, cli_exit_codes[i].text);
		fputc('\n', out);
	}
}

static void conf_comment(FILE *out, const char *text)
{
	fputs("# ", out);
	cli_wrap(out, text, 2, "# ");
}

static bool conf_key(enum cli_opt id, enum cli_cmd cmd)
{
	return cli_opt_in(id, cmd) && !(cli_options[id].flags & OF_NOCONF);
}

/* Whether a --udp-encap value ("PORT:KIND", checked) names @port. */
static bool udp_port_given(const struct cli_opts *o, unsigned port)
{
	int i;

	for (i = 0; i < o->n_settings; i++)
		if (o->settings[i].opt == CLI_OPT_UDP_ENCAP &&
		    strtoul(o->settings[i].value, NULL, 10) == port)
			return true;
	return false;
}

/* --udp-encap adds to its defaults: those still in force that no value
 * given names, commented out (every one without options: the generated
 * file). */
static void conf_udp_encap_defaults(FILE *out, const struct cli_opts *o)
{
	const struct tw_udp_encap *d = &tw_udp_encap_default;
	int i;

	for (i = 0; i < d->n; i++) {
		if (o && (tw_udp_encap_type(&o->udp_encap, d->e[i].port) != d->e[i].type ||
			  udp_port_given(o, d->e[i].port)))
			continue;
		fprintf(out, "#%s = %u:%s\n", cli_options[CLI_OPT_UDP_ENCAP].name,
			(unsigned)d->e[i].port, tw_tunnel_type_name(d->e[i].type));
	}
}

/* An option left at its default, commented out: "#name = VALUE", or
 * "#name =" when not given is no value of it (a placeholder such as
 * "#port = PORT" would read as a value). */
static void conf_default(FILE *out, const char *name, const char *def)
{
	fprintf(out, "#%s =%s%s\n", name, *def ? " " : "", def);
}

/* One key: the values in force, else the default commented out. */
static void conf_entry(FILE *out, enum cli_cmd cmd, const struct cli_opts *o,
		       enum cli_opt id, bool comments)
{
	const struct cli_option *opt = &cli_options[id];
	char text[1024];
	bool set = false;
	int i;

	if (comments) {
		snprintf(text, sizeof(text), "%s: ", opt->name);
		cli_option_text(id, text + strlen(text), sizeof(text) - strlen(text));
		fputc('\n', out);
		conf_comment(out, text);
	}
	for (i = 0; o && i < o->n_settings; i++) {
		if (o->settings[i].opt != id)
			continue;
		set = true;
		if (opt->arg)
			fprintf(out, "%s = %s\n", opt->name, o->settings[i].value);
		else
			fprintf(out, "%s\n", opt->name);
	}
	if (id == CLI_OPT_UDP_ENCAP)
		conf_udp_encap_defaults(out, o);
	else if (!set && opt->arg)
		conf_default(out, opt->name, cli_option_default(id, cmd));
	else if (!set)
		fprintf(out, "#%s\n", opt->name);
}

static void print_config(FILE *out, enum cli_cmd cmd, const struct cli_opts *o,
			 bool comments)
{
	int g, i;

	fprintf(out,
"# tlswatch configuration: the options of 'tlswatch %s', one per line as\n"
"# 'name = value' (the long option without its '--'), or the name alone for\n"
"# an option without a value. Lines starting with '#' are comments. A\n"
"# repeatable option takes one line per value, any other is given once.\n"
"# Options given on the command line replace these (a list given there\n"
"# replaces the file's list).\n",
		cli_cmd_names[cmd]);
	if (o && o->config_path)
		fprintf(out, "# Read from %s.\n", o->config_path);
	for (g = 0; g < CLI_GROUP__COUNT; g++) {
		bool titled = false;

		for (i = 0; i < CLI_OPT__COUNT; i++) {
			if (cli_options[i].group != (enum cli_group)g || !conf_key(i, cmd))
				continue;
			if (!titled)
				fprintf(out, "\n# --- %s\n", cli_group_titles[g]);
			titled = true;
			conf_entry(out, cmd, o, i, comments);
		}
	}
}

void cli_print_config(FILE *out, const struct cli_opts *o)
{
	print_config(out, o->cmd, o, false);
}

/* --fail-on's items: the finding kinds, then "spike". */
static const char *fail_on_value(unsigned i)
{
	return i < FINDING__COUNT ? finding_kind_name((enum finding_kind)i) :
	       i == FINDING__COUNT ? FAIL_ON_SPIKE_NAME : NULL;
}

static const char *webhook_events_value(unsigned i)
{
	return webhook_selector_name((enum webhook_selector)i);
}

/* The options whose values are from a fixed set too many for their ARG
 * (an option with a few has them as its ARG: the help shows them): how
 * they are given, "list" (comma-separated) or "after-colon" (after
 * "PORT:"), and the i-th value (NULL past the last) of the list each is
 * parsed with. */
static const struct {
	enum cli_opt id;
	const char *form;
	const char *(*value)(unsigned i);
} doc_value_sets[] = {
	{ CLI_OPT_FAIL_ON, "list", fail_on_value },
	{ CLI_OPT_WEBHOOK_EVENTS, "list", webhook_events_value },
	{ CLI_OPT_UDP_ENCAP, "after-colon", tw_udp_encap_kind_name },
};

/* "--fail-on list revoked expired ... spike", a line per option of @cmd
 * in doc_value_sets (every command: CLI__COUNT), for the bash
 * completion (scripts/gen-bash-completion.sh). */
static void doc_values(FILE *out, int cmd)
{
	const char *v;
	size_t i;
	unsigned j;

	for (i = 0; i < sizeof(doc_value_sets) / sizeof(doc_value_sets[0]); i++) {
		if (cmd < CLI__COUNT && !cli_opt_in(doc_value_sets[i].id, (enum cli_cmd)cmd))
			continue;
		fprintf(out, "--%s %s", cli_options[doc_value_sets[i].id].name,
			doc_value_sets[i].form);
		for (j = 0; (v = doc_value_sets[i].value(j)); j++)
			fprintf(out, " %s", v);
		fputc('\n', out);
	}
}

static int doc_cmd(const char *name)
{
	int c;

	for (c = 0; c < CLI__COUNT; c++)
		if (strcmp(cli_cmd_names[c], name) == 0)
			return c;
	return strcmp(name, "top") == 0 ? CLI__COUNT : -1;
}

int cli_doc(int argc, char **argv)
{
	int cmd = argc == 3 ? doc_cmd(argv[2]) : -1;

	if (cmd < 0) {
		fprintf(stderr, "usage: tlswatch --doc man-options|man-exit|conf|values analyze|run|inventory|top\n");
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "man-options") == 0 && cmd < CLI__COUNT)
		man_options(stdout, cmd);
	else if (strcmp(argv[1], "man-exit") == 0)
		man_exit(stdout, 1u << cmd);
	else if (strcmp(argv[1], "conf") == 0 && cmd < CLI__COUNT)
		print_config(stdout, cmd, NULL, true);
	else if (strcmp(argv[1], "values") == 0)
		doc_values(stdout, cmd);
	else
		return cli_doc(0, argv);
	return fflush(stdout) ? EXIT_INTERNAL : EXIT_OK;
}
