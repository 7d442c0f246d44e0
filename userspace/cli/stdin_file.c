// SPDX-License-Identifier: MIT
/*
 * Standard input made a file, for analyze --db: a pipe's bytes can be
 * read once only, so they are copied into an unlinked temporary file
 * first, which then is standard input (stdin_file.h).
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

/* Copies what is left of standard input into @fd. 0, or -1 (errno). */
static int copy_stdin(int fd)
{
	static char buf[1 << 16];
	ssize_t n, w, off;

	while ((n = read(STDIN_FILENO, buf, sizeof(buf))) != 0) {
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

int stdin_as_file(off_t *from)
{
	const char *dir = getenv("TMPDIR");
	char left[4096];
	struct stat sb;
	int fd;

	if (fstat(STDIN_FILENO, &sb) == 0 && S_ISREG(sb.st_mode)) {
		/* `< file`: the capture is what is left of it to read */
		*from = lseek(STDIN_FILENO, 0, SEEK_CUR);
		if (*from < 0)
			*from = 0;
		return EXIT_OK;
	}
	if (!dir || !*dir)
		dir = "/tmp";
	fd = tmp_file(dir, left);
	if (fd < 0 && left[0]) {
		fprintf(stderr, "tlswatch analyze: -: cannot remove the temporary "
			"file %s made to copy standard input into (to identify it "
			"for --db): %s; remove it\n", left, strerror(errno));
		return EXIT_INPUT;
	}
	if (fd < 0 || copy_stdin(fd) || lseek(fd, 0, SEEK_SET) != 0 ||
	    dup2(fd, STDIN_FILENO) < 0) {
		fprintf(stderr, "tlswatch analyze: -: cannot copy standard input "
			"into a temporary file in %s (to identify it for --db): %s\n",
			dir, strerror(errno));
		if (fd >= 0)
			close(fd);
		return EXIT_INPUT;
	}
	close(fd);
	*from = 0;
	return EXIT_OK;
}
