// SPDX-License-Identifier: MIT
/* tlswatch: subcommand dispatch. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static void usage(FILE *out)
{
	fprintf(out,
"Usage: tlswatch COMMAND [OPTIONS]\n"
"\n"
"Watches the TLS handshakes a server takes part in: which certificate is\n"
"really served, whether it is revoked or stale, and whether clients fail.\n"
"\n"
"Commands:\n"
"  analyze FILE...   analyse pcap/pcapng captures (offline)\n"
"  run               live agent: eBPF TC probes on this host's interfaces\n"
"  inventory         what each server name serves and served (SQLite)\n"
"  report            the inventory as an HTML page (--html FILE)\n"
"  version           print the version\n"
"\n"
"'tlswatch COMMAND --help' documents each command's options and exit codes.\n");
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : NULL;

	if (!cmd) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
		usage(stdout);
		return EXIT_OK;
	}
	if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
		printf("tlswatch %s\n", TLSWATCH_VERSION);
		return EXIT_OK;
	}
	if (!strcmp(cmd, "analyze"))
		return cmd_analyze(argc - 1, argv + 1);
	if (!strcmp(cmd, "run"))
		return cmd_run(argc - 1, argv + 1);
	if (!strcmp(cmd, "inventory"))
		return cmd_inventory(argc - 1, argv + 1);
	if (!strcmp(cmd, "report"))
		return cmd_report(argc - 1, argv + 1);
	fprintf(stderr, "tlswatch: unknown command '%s'\n", cmd);
	usage(stderr);
	return EXIT_USAGE;
}
