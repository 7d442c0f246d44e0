// SPDX-License-Identifier: MIT
/*
 * Races for tests/e2e/cli_files.sh (LD_PRELOAD), made to happen at one
 * exact point instead of by chance, each once per process:
 *
 * TW_RACE_CREATE=FILE: another process creates FILE (it holds "other")
 *   right after an open for writing without O_CREAT found no file (the
 *   --html open that meets a symbolic link to no file), or after a
 *   symbolic link was read (readlinkat: the --html open that follows the
 *   link itself), whichever comes first: before the open that creates the
 *   link's target.
 * TW_RACE_SWAP_DIR=DIR, TW_RACE_SWAP_TO=OTHER, TW_RACE_NAME=NAME: right
 *   after a look at a file NAME that does not follow links and finds it
 *   (the --html discard's "is it still ours?"), DIR is renamed DIR.moved
 *   and a symbolic link DIR -> OTHER put in its place, before the
 *   removal.
 *
 *   cc -shared -fPIC -o html_race.so tests/e2e/lib/html_race.c -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef int (*open_fn)(const char *, int, ...);
typedef int (*openat_fn)(int, const char *, int, ...);
typedef int (*lstat_fn)(const char *, struct stat *);
typedef int (*fstatat_fn)(int, const char *, struct stat *, int);
typedef ssize_t (*readlinkat_fn)(int, const char *, char *, size_t);

static int created, swapped;

/* FILE appears (once). */
static void race_create_now(void)
{
	const char *file = getenv("TW_RACE_CREATE");
	openat_fn real = (openat_fn)dlsym(RTLD_NEXT, "openat");
	int e = errno, fd;

	if (created || !file || !real)
		return;
	created = 1;
	fd = real(AT_FDCWD, file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd >= 0) {
		if (write(fd, "other\n", 6) != 6)
			perror("html_race: write");
		close(fd);
	} else {
		perror("html_race: create");
	}
	errno = e;
}

/* After an open that found no file to write to: FILE appears. */
static void race_create(int rc, int flags)
{
	if (rc < 0 && errno == ENOENT && (flags & O_ACCMODE) == O_WRONLY &&
	    !(flags & (O_CREAT | O_PATH)))
		race_create_now();
}

/* After a look at NAME that found it: DIR is swapped for a link. */
static void race_swap(int rc, const char *path)
{
	const char *dir = getenv("TW_RACE_SWAP_DIR"), *to = getenv("TW_RACE_SWAP_TO");
	const char *name = getenv("TW_RACE_NAME"), *base = strrchr(path, '/');
	char moved[4096];
	int e = errno;

	base = base ? base + 1 : path;
	if (swapped || rc != 0 || !dir || !to || !name || strcmp(base, name) != 0)
		return;
	swapped = 1;
	snprintf(moved, sizeof(moved), "%s.moved", dir);
	if (rename(dir, moved) != 0 || symlink(to, dir) != 0)
		perror("html_race: swap");
	errno = e;
}

int open(const char *path, int flags, ...)
{
	open_fn real = (open_fn)dlsym(RTLD_NEXT, "open");
	mode_t mode = 0;
	va_list ap;
	int rc;

	if (flags & (O_CREAT | O_TMPFILE)) {
		va_start(ap, flags);
		mode = va_arg(ap, mode_t);
		va_end(ap);
	}
	rc = real(path, flags, mode);
	race_create(rc, flags);
	return rc;
}

int openat(int dir, const char *path, int flags, ...)
{
	openat_fn real = (openat_fn)dlsym(RTLD_NEXT, "openat");
	mode_t mode = 0;
	va_list ap;
	int rc;

	if (flags & (O_CREAT | O_TMPFILE)) {
		va_start(ap, flags);
		mode = va_arg(ap, mode_t);
		va_end(ap);
	}
	rc = real(dir, path, flags, mode);
	race_create(rc, flags);
	return rc;
}

int lstat(const char *path, struct stat *sb)
{
	lstat_fn real = (lstat_fn)dlsym(RTLD_NEXT, "lstat");
	int rc = real(path, sb);

	race_swap(rc, path);
	return rc;
}

int fstatat(int dir, const char *path, struct stat *sb, int flags)
{
	fstatat_fn real = (fstatat_fn)dlsym(RTLD_NEXT, "fstatat");
	int rc = real(dir, path, sb, flags);

	if (flags & AT_SYMLINK_NOFOLLOW)
		race_swap(rc, path);
	return rc;
}

ssize_t readlinkat(int dir, const char *path, char *buf, size_t size)
{
	readlinkat_fn real = (readlinkat_fn)dlsym(RTLD_NEXT, "readlinkat");
	ssize_t n = real(dir, path, buf, size);

	if (n > 0)
		race_create_now();
	return n;
}
