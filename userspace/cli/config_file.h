/* SPDX-License-Identifier: MIT */
/*
 * The configuration file's syntax, knowing nothing of the options: one
 * "name = value" or "name" (a flag) per line, blank lines, and lines whose
 * first non-blank character is '#'.
 */
#ifndef TW_CLI_CONFIG_FILE_H
#define TW_CLI_CONFIG_FILE_H

#include <stdbool.h>
#include <stddef.h>

#define CONFIG_FILE_MAX (1u << 20)

/* Called for each setting of line @line (from 1); @value is NULL for a
 * bare name. Returns 0, or a negative exit code with the reason (without
 * file and line) in @err. */
typedef int (*config_line_fn)(void *ctx, int line, const char *name,
			      const char *value, char *err, size_t errlen);

/*
 * Reads @path into *@text (the caller frees it; names and values point
 * into it) and calls @fn per line. When run as root, a file that is not
 * owned by root or is writable by group or others is refused: it would
 * choose what the agent reads and writes as root.
 * Returns 0; 1 when @path does not exist and @optional; -EXIT_INPUT when
 * it cannot be read; -EXIT_USAGE for a refused file or a bad line. @err
 * starts with "PATH:" or "PATH:LINE:".
 */
int config_file_read(const char *path, bool optional, char **text,
		     config_line_fn fn, void *ctx, char *err, size_t errlen);

#endif
