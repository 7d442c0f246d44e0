// SPDX-License-Identifier: MIT
/* The read-only probe shared by the SQLite files' owners (inventory,
 * history, webhook outbox). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fs_writable.h"

int tw_fs_writable(const char *path)
{
	const char *slash = strrchr(path, '/');
	char dir[PATH_MAX];
	int fd, r = 0;

	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path + (slash == path)),
			  path) >= (int)sizeof(dir))
		return -ENAMETOOLONG;
	fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (write(fd, "", 1) != 1)
		r = -errno;
	close(fd);
	return r;
}

bool tw_fs_read_only(const char *path)
{
	return path && tw_fs_writable(path) == -EROFS;
}
