// SPDX-License-Identifier: MIT
/* tlswatch run: the live agent (wired once the eBPF source lands). */
#include <stdio.h>

#include "cli.h"

int cmd_run(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "tlswatch run: not built yet\n");
	return EXIT_INTERNAL;
}
