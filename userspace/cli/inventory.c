// SPDX-License-Identifier: MIT
/* tlswatch inventory (wired once the inventory module lands). */
#include <stdio.h>

#include "cli.h"

int cmd_inventory(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "tlswatch inventory: not built yet\n");
	return EXIT_INTERNAL;
}
