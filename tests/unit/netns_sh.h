/* SPDX-License-Identifier: MIT */
/*
 * For the unit tests that change links in their own network namespace
 * (unshare(CLONE_NEWNET)): runs ip(8) and friends, and spells a numeric
 * macro into a command line.
 *
 *   sh("for i in $(seq " TW_STR(PAIRS) "); do ...; done")
 */
#ifndef TW_NETNS_SH_H
#define TW_NETNS_SH_H

#include <stdlib.h>
#include <sys/wait.h>

#define TW_XSTR(x) #x
#define TW_STR(x) TW_XSTR(x)

/* @cmd's exit status, -1 when it did not exit. */
static inline int sh(const char *cmd)
{
	int r = system(cmd);

	return WIFEXITED(r) ? WEXITSTATUS(r) : -1;
}

#endif
