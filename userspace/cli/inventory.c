// SPDX-License-Identifier: MIT
/* tlswatch inventory: what each server name serves and served. */
#include <stdint.h>
#include <stdio.h>

#include "cert/health.h"
#include "cli.h"
#include "cli_opts.h"

static const struct cli_help inventory_help = {
	.usage = "[--db PATH] [--json | --html FILE [--since TIME] [--until TIME]]\n"
		 "                          [--config FILE]",
	.description =
"Lists the inventory database the agent (or 'analyze --db') keeps: for each\n"
"server name, newest first, the leaf certificates served at each address\n"
"and port, with validity, first and last seen, how often, and findings.\n"
"The certificate being served now is marked 'serving', older ones 'served'.\n"
"Safe while the agent writes to the database. With --html FILE (also as\n"
"'tlswatch report --html FILE'), the HTML page of analyze --html drawn\n"
"from the event history the agent keeps in the database (the last 24 h:\n"
"timeline, spikes, certificates per name, findings, alerts, clients);\n"
"without history, the inventory's certificates per name and their\n"
"findings, with no timeline.",
	.notes =
"--db is read from " CLI_DEFAULT_CONFIG " when it exists (or --config\n"
"FILE), so that inventory lists the agent's database; the file's options\n"
"of other commands are skipped.\n",
};

int cmd_inventory(int argc, char **argv)
{
	struct cli_opts o;
	char err[512];
	bool empty = false;
	int rc = cli_start(CLI_INVENTORY, argc, argv, &o, &inventory_help);

	if (rc >= 0)
		return rc;
	rc = EXIT_OK;
	/* --since and --until without --html: refused with the options */
	if (o.until_given && o.since_us > o.until_us) {
		fprintf(stderr, "tlswatch inventory: --since is after --until\n");
		rc = EXIT_USAGE;
	} else if (o.out.html_path && o.json) {
		/* the page is written instead of the listing: --json would be
		 * silently ignored */
		fprintf(stderr, "tlswatch inventory: --json and --html are alternatives "
			"(the listing as JSON lines, or the page): give one\n");
		rc = EXIT_USAGE;
	} else if (o.out.html_path) {
		rc = cli_check_html_path(&o);
		if (rc == EXIT_OK)
			rc = inventory_write_html(o.check.health.db_path, o.out.html_path,
						  o.since_us,
						  o.until_given ? o.until_us : UINT64_MAX);
	} else if (cert_health_inventory_dump(o.check.health.db_path, o.json, stdout,
					      &empty, err, sizeof(err)) < 0) {
		fprintf(stderr, "tlswatch inventory: %s\n", err);
		rc = EXIT_INPUT;
	} else {
		/* nothing on standard output would read as a listing cut short */
		if (empty)
			fprintf(stderr, "tlswatch inventory: no certificate recorded in %s\n",
				o.check.health.db_path);
		rc = cli_stdout_written("tlswatch inventory");
	}
	cli_opts_free(&o);
	return rc;
}
