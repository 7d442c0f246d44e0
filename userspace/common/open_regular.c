// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "open_regular.h"

int tw_open_regular(const char *path)
{
	struct stat st;

	return tw_open_regular_stat(path, &st);
}

int tw_open_regular_stat(const char *path, struct stat *st)
{
	int fd, flags, e;

	/* O_NONBLOCK: a FIFO opens at once; a regular file ignores it */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (fstat(fd, st) < 0 || (flags = fcntl(fd, F_GETFL)) < 0) {
		e = errno;
		close(fd);
		return -e;
	}
	if (!S_ISREG(st->st_mode)) {
		close(fd);
		return -EINVAL;
	}
	if (fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0) {
		e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

const char *tw_open_regular_error(int rc)
{
	return rc == -EINVAL ? "not a regular file" : strerror(-rc);
}
