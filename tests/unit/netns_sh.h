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

/* A command line printing ip(8) line @line (a string literal, with $i)
 * for i in 1..@n. */
#define TW_IP_LINES(n, line)                                                   \
	"for i in $(seq " TW_STR(n) "); do echo \"" line "\"; done"

/* Those lines run as one ip -batch read from a pipe (no file: a fixed
 * path under /tmp was shared by test binaries running at the same time,
 * one's batch overwritten or removed by the other's). Its status is
 * ip's. */
#define TW_IP_BATCH(n, line) TW_IP_LINES(n, line) " | ip -batch -"

/* @cmd's exit status, -1 when it did not exit. */
static inline int sh(const char *cmd)
{
	int r = system(cmd);

	return WIFEXITED(r) ? WEXITSTATUS(r) : -1;
}

#endif
