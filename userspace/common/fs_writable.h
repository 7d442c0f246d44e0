/* SPDX-License-Identifier: MIT */
#ifndef TW_FS_WRITABLE_H
#define TW_FS_WRITABLE_H

#include <stdbool.h>

/*
 * Whether the file system that holds @path takes new data: an unnamed file
 * (O_TMPFILE: nothing is left behind) is made and written in @path's
 * directory. 0, or -errno (-EROFS: read-only). For a SQLite file whose
 * write failed: SQLite says only "disk I/O error" (it keeps no errno),
 * and statvfs() does not always show a file system the kernel made
 * read-only after an I/O error (errors=remount-ro), which stays so until
 * it is mounted again and which an open connection never sees: its owner
 * opens the file again by its path once this says 0.
 */
int tw_fs_writable(const char *path);

/* tw_fs_writable() said -EROFS; false for a NULL @path (no file). */
bool tw_fs_read_only(const char *path);

#endif
