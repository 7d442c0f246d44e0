/* SPDX-License-Identifier: MIT */
/* Standard input, or a named pipe, made a file, so that it can be read
 * twice. */
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
/*
 * A named pipe (a FIFO, `<(zcat x.pcap.gz)`) at @path, read to its end
 * (waiting for a writer, as reading it would) into an unlinked temporary
 * file as standard input is: *@out its descriptor, at offset 0, for the
 * caller to read (through /proc/self/fd) and close. EXIT_OK, or
 * EXIT_INPUT said on stderr ("PATH: cannot copy the named pipe into a
 * temporary file in DIR (...): REASON", or PATH's own open error).
 */
int fifo_as_file(const char *path, int *out);

#endif
