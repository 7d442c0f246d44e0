/* SPDX-License-Identifier: MIT */
#ifndef TW_OPEN_REGULAR_H
#define TW_OPEN_REGULAR_H

#include <sys/stat.h>

/*
 * Opens @path read-only (close-on-exec) for an input the operator names
 * (--config, --ca-file, --crl), refusing anything but a regular file
 * without waiting on it: a FIFO's open would block until a writer came,
 * and a read of one or of a terminal until data did. The fd, in blocking
 * mode again, or -errno: -EINVAL for a directory, FIFO, device or socket.
 */
int tw_open_regular(const char *path);

/* The same, with the file's status as its open found it in *@st (its
 * size, owner and mode: no second fstat for the caller). */
int tw_open_regular_stat(const char *path, struct stat *st);

/* What tw_open_regular's @rc means: "not a regular file" for -EINVAL,
 * else strerror's text. */
const char *tw_open_regular_error(int rc);

#endif
