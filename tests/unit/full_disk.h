/* SPDX-License-Identifier: MIT */
/*
 * A full disk for the unit tests, real: a 256 KiB tmpfs mounted in a
 * child's own mount namespace (needs root), and a file that fills it.
 * Include after check.h.
 */
#ifndef TW_TEST_FULL_DISK_H
#define TW_TEST_FULL_DISK_H

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* Writes zeros to @path until the file system holding it is full. */
static inline void fill_up(const char *path)
{
	static const char block[4096];
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600), i;

	CHECK(fd >= 0);
	for (i = 0; fd >= 0 && i < 1 << 16; i++)
		if (write(fd, block, sizeof(block)) < 0)
			break;
	CHECK_INT(errno, ENOSPC);
	if (fd >= 0)
		close(fd);
}

/* Runs @body in a child's own mount namespace (the tmpfs goes with it),
 * on a 256 KiB tmpfs at a new directory; it returns 0 when every check
 * held. */
static inline void full_disk_child(int (*body)(const char *dir))
{
	char dir[] = "/tmp/tw_outbox_full_XXXXXX";
	int status = -1, rc = 1;
	pid_t pid;

	CHECK(mkdtemp(dir) != NULL);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		if (unshare(CLONE_NEWNS) ||
		    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
		    mount("tw-outbox", dir, "tmpfs", 0, "size=256k"))
			printf("#   a tmpfs in a mount namespace: %s (needs root)\n",
			       strerror(errno));
		else
			rc = body(dir);
		fflush(stdout);
		_exit(rc);
	}
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	rmdir(dir);
}

#endif
