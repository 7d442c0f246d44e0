// SPDX-License-Identifier: MIT
/*
 * Standard input, or a named pipe, made a file, for analyze --db: a
 * pipe's bytes can be read once only, so they are copied into an
 * unlinked temporary file first, which is then read in its place
 * (stdin_file.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "stdin_file.h"

/* An unlinked temporary file in @dir, open for reading and writing: fd,
 * or -1 (errno; @left names a file made but not unlinked, else ""). */
static int tmp_file(const char *dir, char left[4096])
{
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600), saved;

	left[0] = '\0';
	if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR))
		return fd;
	/* a file system without O_TMPFILE */
	if (snprintf(left, 4096, "%s/tlswatch-stdin-XXXXXX", dir) >= 4096) {
		left[0] = '\0';
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = mkostemp(left, O_CLOEXEC);
	if (fd < 0 || unlink(left) == 0) {
		left[0] = '\0';
		return fd;
	}
	/* it would stay behind the run, named, holding the capture */
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

/* Copies what is left of @in into @fd. 0, or -1 (errno). */
static int copy_all(int in, int fd)
{
	static char buf[1 << 16];
	ssize_t n, w, off;

	while ((n = read(in, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		for (off = 0; off < n; off += w) {
			w = write(fd, buf + off, (size_t)(n - off));
			if (w < 0 && errno == EINTR)
				w = 0;
			else if (w < 0)
				return -1;
		}
	}
	return 0;
}

/* @in copied into an unlinked temporary file: its descriptor (at offset
 * 0), or -1 said on stderr, naming the input @name and @what it is. */
static int copy_to_tmp(int in, const char *name, const char *what)
{
	const char *dir = getenv("TMPDIR");
	char left[4096];
	int fd;

	if (!dir || !*dir)
		dir = "/tmp";
	fd = tmp_file(dir, left);
	if (fd < 0 && left[0]) {
		fprintf(stderr, "tlswatch analyze: %s: cannot remove the temporary "
			"file %s made to copy %s into (to identify it for --db): "
			"%s; remove it\n", name, left, what, strerror(errno));
		return -1;
	}
	if (fd < 0 || copy_all(in, fd) || lseek(fd, 0, SEEK_SET) != 0) {
		fprintf(stderr, "tlswatch analyze: %s: cannot copy %s into a "
			"temporary file in %s (to identify it for --db): %s\n",
			name, what, dir, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

int stdin_as_file(off_t *from)
{
	struct stat sb;
	int fd;

	if (fstat(STDIN_FILENO, &sb) == 0 && S_ISREG(sb.st_mode)) {
		/* `< file`: the capture is what is left of it to read */
		*from = lseek(STDIN_FILENO, 0, SEEK_CUR);
		if (*from < 0)
			*from = 0;
		return EXIT_OK;
	}
	fd = copy_to_tmp(STDIN_FILENO, "-", "standard input");
	if (fd < 0)
		return EXIT_INPUT;
	if (dup2(fd, STDIN_FILENO) < 0) {
		fprintf(stderr, "tlswatch analyze: -: cannot read standard input "
			"from its temporary copy: %s\n", strerror(errno));
		close(fd);
		return EXIT_INPUT;
	}
	close(fd);
	*from = 0;
	return EXIT_OK;
}

int fifo_as_file(const char *path, int *out)
{
	int in, fd, saved;

	*out = -1;
	/* blocks until a writer opens it, as reading it in its turn would */
	in = open(path, O_RDONLY | O_CLOEXEC);
	if (in < 0) {
		fprintf(stderr, "tlswatch analyze: %s: %s\n", path, strerror(errno));
		return EXIT_INPUT;
	}
	fd = copy_to_tmp(in, path, "the named pipe");
	saved = errno;
	close(in);
	errno = saved;
	if (fd < 0)
		return EXIT_INPUT;
	*out = fd;
	return EXIT_OK;
}
