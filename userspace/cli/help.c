// SPDX-License-Identifier: MIT
/* Everything written about the options, from option_table.h: --help, the
 * man pages' OPTIONS and EXIT STATUS sections, the configuration file. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cli_opts.h"

#define HELP_WIDTH 79
#define HELP_TEXT_COL 25

const struct cli_exit_code cli_exit_codes[CLI_N_EXIT_CODES] = {
#define X(cmds, code, text) { cmds, code, text },
	CLI_EXIT_CODES(X)
#undef X
};

/* The help text with what the option needs, the bounds and the default
 * the table gives. */
void cli_option_text(enum cli_opt id, char *buf, size_t len)
{
	const struct cli_option *opt = &cli_options[id];
	bool bounded = opt->type == OT_UINT || opt->type == OT_DOUBLE;
	char help[1024], needs[64];

	cli_option_needs_text(id, needs, sizeof(needs));
	if (needs[0])
		snprintf(help, sizeof(help), "%s; needs %s", opt->help, needs);
	else
		snprintf(help, sizeof(help), "%s", opt->help);
	if (bounded && opt->def[0])
		snprintf(buf, len, "%s (%.15g-%.15g, default %s)", help, opt->min, opt->max, opt->def);
	else if (bounded)
		snprintf(buf, len, "%s (%.15g-%.15g)", help, opt->min, opt->max);
	else if (opt->def[0])
		snprintf(buf, len, "%s (default %s)", help, opt->def);
	else
		snprintf(buf, len, "%s", help);
}

/* Writes @text from column @col, wrapping lines at HELP_WIDTH; each new
 * line starts with @lead. */
void cli_wrap(FILE *out, const char *text, int col, const char *lead)
{
	const char *p = text;

	while (*p) {
		int word = (int)strcspn(p, " ");

		if (col > (int)strlen(lead) && col + 1 + word > HELP_WIDTH) {
			fprintf(out, "\n%s", lead);
			col = (int)strlen(lead);
		} else if (p != text) {
			fputc(' ', out);
			col++;
		}
		fprintf(out, "%.*s", word, p);
		col += word;
		p += word;
		p += strspn(p, " ");
	}
	fputc('\n', out);
}

static bool group_used(enum cli_group g, unsigned cmd_bit)
{
	int i;

	for (i = 0; i < CLI_OPT__COUNT; i++)
		if (cli_options[i].group == g && (cli_options[i].cmds & cmd_bit))
			return true;
	return false;
}

static void print_option_help(FILE *out, enum cli_opt id)
{
	const struct cli_option *opt = &cli_options[id];
	char label[64], text[1024];
	int n;

	if (opt->short_name)
		n = snprintf(label, sizeof(label), "  -%c, --%s", opt->short_name, opt->name);
	else
		n = snprintf(label, sizeof(label), "  --%s", opt->name);
	if (opt->arg)
		n += snprintf(label + n, sizeof(label) - (size_t)n, " %s", opt->arg);
	cli_option_text(id, text, sizeof(text));
	if (n >= HELP_TEXT_COL - 1)
		fprintf(out, "%s\n%*s", label, HELP_TEXT_COL, "");
	else
		fprintf(out, "%-*s", HELP_TEXT_COL, label);
	cli_wrap(out, text, HELP_TEXT_COL, "                         ");
}

void cli_print_exit_codes(FILE *out, unsigned cmd_bit)
{
	size_t i;

	fprintf(out, "Exit status:\n");
	for (i = 0; i < CLI_N_EXIT_CODES; i++) {
		if (!(cli_exit_codes[i].cmds & cmd_bit))
			continue;
		fprintf(out, "  %d  ", cli_exit_codes[i].code);
		cli_wrap(out, cli_exit_codes[i].text, 5, "     ");
	}
}

void cli_print_help(FILE *out, enum cli_cmd cmd, const char *usage,
		    const char *description, const char *notes)
{
	int g, i;

	fprintf(out, "Usage: tlswatch %s %s\n\n%s\n", cli_cmd_names[cmd], usage, description);
	for (g = 0; g < CLI_GROUP__COUNT; g++) {
		if (!group_used(g, 1u << cmd))
			continue;
		fprintf(out, "\n%s:\n", cli_group_titles[g]);
		for (i = 0; i < CLI_OPT__COUNT; i++)
			if (cli_options[i].group == (enum cli_group)g && cli_opt_in(i, cmd))
				print_option_help(out, i);
	}
	fprintf(out, "\n%s\n", notes);
	cli_print_exit_codes(out, 1u << cmd);
}

void cli_print_top_help(FILE *out)
{
	fprintf(out,
"Usage: tlswatch COMMAND [OPTIONS]\n"
"       tlswatch --help | --version\n"
"\n"
"Watches the TLS handshakes a server takes part in: which certificate is\n"
"really served, whether it is revoked or stale, and whether clients fail.\n"
"\n"
"Commands:\n"
"  analyze FILE...   analyse pcap/pcapng captures (offline)\n"
"  run               live agent: eBPF TC probes on this host's interfaces\n"
"  inventory         what each server name serves and served (SQLite)\n"
"  report            the same as inventory: with --html FILE, its HTML page\n"
"  version           print the version\n"
"\n"
"Options:\n"
"  -h, --help        this text\n"
"  -V, --version     print the version\n"
"\n"
"'tlswatch COMMAND --help' documents each command's options and exit codes;\n"
"man pages: tlswatch(8), tlswatch-analyze(1), tlswatch-inventory(1),\n"
"tlswatch-events(5). Options can also come from a configuration file\n"
"(--config FILE; " CLI_DEFAULT_CONFIG " for run and inventory).\n"
"\n");
	cli_print_exit_codes(out, CMD_TOP);
}
