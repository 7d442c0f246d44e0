/* SPDX-License-Identifier: MIT */
/* Standard input made a file, so that it can be read twice. */
#ifndef TW_STDIN_FILE_H
#define TW_STDIN_FILE_H

#include <sys/types.h>

/*
 * Standard input, when it is not a regular file (a pipe), is copied into
 * an unlinked temporary file in $TMPDIR (else /tmp; gone with the
 * process) that becomes standard input, read from its start. *@from:
 * where what is left to read begins (a `< file` redirection may have
 * been read in part). EXIT_OK, or EXIT_INPUT said on stderr ("-: cannot
 * copy standard input into a temporary file in DIR (...): REASON"; or,
 * where DIR's file system has no O_TMPFILE and the file made there
 * cannot be unlinked: "-: cannot remove the temporary file PATH ...").
 */
int stdin_as_file(off_t *from);

#endif
