// SPDX-License-Identifier: MIT
/* tlswatch inventory: what each server name serves and served. */
#include <getopt.h>
#include <stdio.h>

#include "cert/health.h"
#include "cli.h"

static const char inventory_help[] =
"Usage: tlswatch inventory [--db PATH] [--json]\n"
"\n"
"Lists the inventory database the agent (or 'analyze --db') keeps: for each\n"
"server name, newest first, the leaf certificates served at each address\n"
"and port, with validity, first and last seen, how often, and findings.\n"
"The certificate being served now is marked 'serving', older ones 'served'.\n"
"Safe while the agent writes to the database.\n"
"\n"
"Options:\n"
"  --db PATH   the database (default /var/lib/tlswatch/inventory.db)\n"
"  --json      one JSON object per row instead of the table\n"
"  -h, --help  this text\n"
"\n"
"Exit status: 0 listed, 2 bad command line, 3 the database cannot be read.\n";

int cmd_inventory(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *db = "/var/lib/tlswatch/inventory.db";
	bool json = false;
	char err[512];
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			db = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			fputs(inventory_help, stdout);
			return EXIT_OK;
		case ':':
			opt_usage_error("inventory", "%s needs a value", argv[optind - 1]);
			return EXIT_USAGE;
		default:
			opt_usage_error("inventory", "unknown option '%s'", argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		opt_usage_error("inventory", "unexpected argument '%s'", argv[optind]);
		return EXIT_USAGE;
	}
	if (cert_health_inventory_dump(db, json, stdout, err, sizeof(err)) < 0) {
		fprintf(stderr, "tlswatch inventory: %s\n", err);
		return EXIT_INPUT;
	}
	return EXIT_OK;
}
