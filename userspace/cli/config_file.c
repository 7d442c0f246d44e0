// SPDX-License-Identifier: MIT
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "common/open_regular.h"
#include "config_file.h"

static int check_owner(const char *path, const struct stat *st, char *err,
		       size_t errlen)
{
	if (geteuid() == 0 && (st->st_uid != 0 || (st->st_mode & 022))) {
		snprintf(err, errlen, "%s: refused: running as root, the file must be owned by root and not writable by group or others (chown root %s; chmod go-w %s)",
			 path, path, path);
		return -EXIT_USAGE;
	}
	return 0;
}

/* The whole file, NUL-terminated, in *@text. */
static int slurp(const char *path, bool optional, char **text, char *err, size_t errlen)
{
	struct stat st;
	ssize_t got;
	int fd, rc;

	fd = tw_open_regular_stat(path, &st);
	if (fd < 0) {
		if (fd == -ENOENT && optional)
			return 1;
		snprintf(err, errlen, "%s: %s", path, tw_open_regular_error(fd));
		return -EXIT_INPUT;
	}
	rc = check_owner(path, &st, err, errlen);
	if (!rc && st.st_size >= CONFIG_FILE_MAX) {
		snprintf(err, errlen, "%s: larger than %u bytes", path, CONFIG_FILE_MAX);
		rc = -EXIT_USAGE;
	}
	if (!rc && !(*text = malloc((size_t)st.st_size + 1))) {
		snprintf(err, errlen, "%s: out of memory", path);
		rc = -EXIT_INTERNAL;
	}
	if (!rc) {
		got = read(fd, *text, (size_t)st.st_size);
		if (got < 0) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			rc = -EXIT_INPUT;
		} else if (memchr(*text, '\0', (size_t)got)) {
			/* a text file has none; the lines after one would be
			 * skipped unread, their errors unseen */
			snprintf(err, errlen, "%s: a NUL byte: not a text file", path);
			rc = -EXIT_USAGE;
		} else {
			(*text)[got] = '\0';
		}
	}
	close(fd);
	return rc;
}

static char *trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

/* Splits one line in place. 0, 1 for nothing to do, -EXIT_USAGE. */
static int split_line(char *line, char **name, char **value, char *err, size_t errlen)
{
	char *p, sep;

	line = trim(line);
	if (!*line || *line == '#')
		return 1;
	*name = line;
	for (p = line; islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '-'; p++)
		;
	if (!islower((unsigned char)*line) || (*p && *p != '=' && !isspace((unsigned char)*p))) {
		/* The line is not echoed: run as root through sudo, a
		 * --config naming a file the user cannot read would show its
		 * first line (the first line of /etc/shadow). */
		snprintf(err, errlen, "expected 'name = value' or 'name' (a name is "
			 "lowercase letters, digits and '-')");
		return -EXIT_USAGE;
	}
	*value = NULL;
	if (!*p)
		return 0;
	sep = *p;
	*p++ = '\0';
	if (sep != '=') {
		p = trim(p);
		if (*p != '=') {
			snprintf(err, errlen, "expected '=' after '%s'", *name);
			return -EXIT_USAGE;
		}
		p++;
	}
	*value = trim(p);
	return 0;
}

int config_file_read(const char *path, bool optional, char **text,
		     config_line_fn fn, void *ctx, char *err, size_t errlen)
{
	char reason[512], *line, *next, *name, *value;
	int rc, lineno = 0;

	*text = NULL;
	rc = slurp(path, optional, text, err, errlen);
	if (rc)
		return rc;
	for (line = *text; line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		rc = split_line(line, &name, &value, reason, sizeof(reason));
		if (!rc)
			rc = fn(ctx, lineno, name, value, reason, sizeof(reason));
		if (rc < 0) {
			snprintf(err, errlen, "%s:%d: %s", path, lineno, reason);
			return rc;
		}
	}
	return 0;
}
