/* SPDX-License-Identifier: MIT */
#ifndef TW_OUTPUT_FILE_H
#define TW_OUTPUT_FILE_H

#include <stdio.h>

/*
 * Opening a file tlswatch writes (--html, --json-log, the --db lease),
 * as root too, safely: the path is walked one name at a time, each
 * symbolic link on it (in the middle or at the end) opened itself and
 * read by this code, never followed by the kernel, so the kernel's rules
 * for sticky world-writable directories (/tmp) apply whatever the
 * sysctls say:
 *   - fs.protected_symlinks: a link there is followed only when it is
 *     this process's own or its directory owner's;
 *   - fs.protected_regular and fs.protected_fifos: an existing regular
 *     file or FIFO there is opened only when it is this process's own or
 *     its directory owner's;
 *   - beyond the kernel's rules, anywhere: a link of another user's
 *     (not this process's, not root's) leads only to their own
 *     directories, links and file (no absolute target, no ".." out of
 *     their directories), so a directory they own on the path (their
 *     home, one they made in /tmp under the name the path goes through)
 *     cannot lead root to its own files elsewhere;
 *   - fs.protected_hardlinks' aim: a regular file with more than one
 *     name is refused anywhere (another user may have linked a file
 *     root owns elsewhere into a directory they can write).
 * procfs's links only are the kernel's to follow (/dev/stdout leads to
 * /proc/self/fd/1, which reads as no path for a pipe). At most
 * TW_OUTPUT_MAX_LINKS links are followed (the kernel's MAXSYMLINKS).
 */

/* The errno of a link, file or FIFO the rules above refuse: not EACCES,
 * which open(2) says of a file the process may not write (root would read
 * "Permission denied" of its own refusals); ENOLINK as systemd's chase()
 * says an unsafe path. */
#define TW_OUTPUT_REFUSED ENOLINK

/* The kernel's bound on the links of one path (MAXSYMLINKS). */
#define TW_OUTPUT_MAX_LINKS 40

enum tw_output_mode {
	/* write-only, not truncated: the caller empties it when it writes
	 * (an earlier page stays until the new one is there) */
	TW_OUTPUT_REPLACE,
	/* write-only, O_APPEND: a log */
	TW_OUTPUT_APPEND,
	/* read-only and O_NONBLOCK (a FIFO is not waited on): a file to
	 * lock (flock) that another library opens by its path */
	TW_OUTPUT_LOCK,
};

struct tw_output {
	int fd;
	/* the file this call created, when it did: its directory (O_PATH,
	 * to remove it there, not by its path again) and its name in it;
	 * -1 and NULL when it opened an existing one */
	int created_dir;
	char *created_name;
};

/*
 * @path opened as @mode says into *@out, created (mode 0666 less the
 * umask, 0644 for TW_OUTPUT_LOCK) with O_EXCL when missing, also at the
 * end of links. A file another process makes under that name meanwhile
 * is opened (or refused), never taken for one this call created. An
 * existing file is opened without waiting (a FIFO with no reader: -ENXIO),
 * then blocking again but for TW_OUTPUT_LOCK. 0, or -errno:
 * -TW_OUTPUT_REFUSED for a link, file or FIFO the rules above refuse,
 * -EMLINK for a regular file with more than one name. On failure *@out
 * holds no descriptor (fd -1).
 */
int tw_output_open(const char *path, enum tw_output_mode mode,
		   struct tw_output *out);

/*
 * tw_output_open(@path, TW_OUTPUT_REPLACE) as a stdio stream, not
 * truncated (the caller empties it when it writes: tw_output_empty). NULL
 * with *@rc (-errno) when refused or failed; a file this call created is
 * removed again when no stream could be made on it.
 */
FILE *tw_output_fopen(const char *path, struct tw_output *out, int *rc);

/*
 * Whether @path, a file another library opens or creates by its path
 * (SQLite's -wal, -shm and -journal beside a database), is one the rules
 * above let this process write: 0 when nothing is there (nor its
 * directory), or when what is there passes them (through the links on
 * the path); -TW_OUTPUT_REFUSED, -EMLINK, or another -errno of the walk.
 * Creates nothing. A look: the name may change after it.
 */
int tw_output_probe(const char *path);

/* Removes the file tw_output_open created, while it is still the one
 * under that name in that directory (a writer of that directory could
 * swap it between the look and the removal: no call removes a name only
 * while it is a given inode). 0, or -errno; 0 when it created none. */
int tw_output_remove_created(const struct tw_output *out);

/* Closes created_dir and frees created_name (the fd stays the caller's). */
void tw_output_forget_created(struct tw_output *out);

/* The regular file open at @fd emptied (a device or FIFO has nothing to
 * empty). 0, or -errno. */
int tw_output_empty(int fd);

/* What tw_output_open's @rc means: strerror's text, or a sentence for
 * -TW_OUTPUT_REFUSED, -EMLINK and -ENXIO. */
const char *tw_output_error(int rc);

#endif
