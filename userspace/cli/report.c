// SPDX-License-Identifier: MIT
/* tlswatch report: the HTML report of the inventory database. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "inventory/inventory.h"
#include "sink/html_report.h"

static const char report_help[] =
"Usage: tlswatch report [--db PATH] --html FILE\n"
"\n"
"Writes the HTML report of the inventory database the agent (or 'analyze\n"
"--db') keeps: for each server name, the leaf certificates served at each\n"
"address and port with first and last seen and how often, and every\n"
"certificate with its findings and their severity. The inventory keeps\n"
"served certificates, not individual handshakes: the page has no timeline,\n"
"alerts or clients (analyze --html on a capture has them). One\n"
"self-contained file (inline CSS, no script). Safe while the agent writes\n"
"to the database.\n"
"\n"
"Options:\n"
"  --db PATH    the database (default /var/lib/tlswatch/inventory.db)\n"
"  --html FILE  where to write the page ('-': standard output); required\n"
"  -h, --help   this text\n"
"\n"
"Exit status: 0 written, 2 bad command line, 3 the database cannot be\n"
"read or FILE cannot be written, 4 out of memory.\n";

static int add_row(void *ctx, const struct inventory_leaf *l, bool current)
{
	const struct html_served s = {
		.name = l->name, .addr = l->addr, .port = l->port,
		.sha256 = l->sha256, .subject = l->subject, .issuer = l->issuer,
		.key = l->key, .not_before = l->not_before, .not_after = l->not_after,
		.first_seen_us = l->first_seen_us, .last_seen_us = l->last_seen_us,
		.count = l->count > 0 ? (uint64_t)l->count : 0,
		.findings = l->findings,
	};

	html_agg_served(ctx, &s);
	return 0;
}

static int write_page(const struct html_agg *agg, const char *path)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "w") : stdout;
	int rc;

	if (!f) {
		fprintf(stderr, "tlswatch report: --html %s: %s\n", path, strerror(errno));
		return EXIT_INPUT;
	}
	rc = html_render(agg, f);
	if (f != stdout && fclose(f) != 0)
		rc = -EIO;
	if (rc < 0) {
		fprintf(stderr, "tlswatch report: %s: cannot write the page\n", path);
		return EXIT_INPUT;
	}
	return EXIT_OK;
}

/* -1: exit EXIT_USAGE; 1: exit 0 (help); 0: go on. */
static int parse_args(int argc, char **argv, const char **db, const char **html)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "html", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			*db = optarg;
			break;
		case 'o':
			*html = optarg;
			break;
		case 'h':
			fputs(report_help, stdout);
			return 1;
		case ':':
			opt_usage_error("report", "%s needs a value", argv[optind - 1]);
			return -1;
		default:
			opt_usage_error("report", "unknown option '%s'", argv[optind - 1]);
			return -1;
		}
	}
	if (optind < argc) {
		opt_usage_error("report", "unexpected argument '%s'", argv[optind]);
		return -1;
	}
	if (!*html) {
		opt_usage_error("report", "--html FILE is required");
		return -1;
	}
	return 0;
}

int cmd_report(int argc, char **argv)
{
	const char *db = "/var/lib/tlswatch/inventory.db", *html = NULL;
	struct html_agg *agg;
	char err[512];
	int rc;

	rc = parse_args(argc, argv, &db, &html);
	if (rc)
		return rc < 0 ? EXIT_USAGE : EXIT_OK;
	agg = html_agg_new();
	if (!agg) {
		fprintf(stderr, "tlswatch report: out of memory\n");
		return EXIT_INTERNAL;
	}
	snprintf(agg->title, sizeof(agg->title), "inventory %s", db);
	if (inventory_foreach(db, add_row, agg, err, sizeof(err)) < 0) {
		fprintf(stderr, "tlswatch report: %s\n", err);
		rc = EXIT_INPUT;
	} else {
		rc = write_page(agg, html);
	}
	html_agg_free(agg);
	return rc;
}
