// SPDX-License-Identifier: MIT
/*
 * The commands' own outputs. An --html FILE must not be a file the
 * command reads, nor an existing file that is not an HTML page: a
 * forgotten file name (`analyze --html a.pcap b.pcap`) would truncate a
 * capture, the inventory or the configuration. Standard output must have
 * been written in full: a report cut short by a full disk is an error.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "cli.h"
#include "cli_opts.h"

/* A file by what it is: its device and inode when it exists, else its
 * directory's and its name in it (a --db the command is to create). A
 * path whose directory the kernel does not find has none: it names no
 * file (a --db such as "nx/../inv.db", which SQLite would read as
 * "inv.db", is refused by inventory_check_path before SQLite opens it). */
struct file_id {
	dev_t dev;
	ino_t ino;
	const char *name;       /* NULL: the file exists */
};

static bool get_file_id(const char *path, struct file_id *id)
{
	const char *slash = strrchr(path, '/');
	char dir[PATH_MAX];
	struct stat st;

	id->name = NULL;
	if (stat(path, &st) < 0) {
		if (!slash)
			snprintf(dir, sizeof(dir), ".");
		else if (snprintf(dir, sizeof(dir), "%.*s/", (int)(slash - path),
				  path) >= (int)sizeof(dir))
			return false;
		if (stat(dir, &st) < 0)
			return false;
		id->name = slash ? slash + 1 : path;
	}
	id->dev = st.st_dev;
	id->ino = st.st_ino;
	return true;
}

/* The same path, or two names of the same file, existing or not. */
static bool same_file(const char *a, const char *b)
{
	struct file_id ia, ib;

	if (strcmp(a, b) == 0)
		return true;
	if (!get_file_id(a, &ia) || !get_file_id(b, &ib))
		return false;
	if (ia.dev != ib.dev || ia.ino != ib.ino || !ia.name != !ib.name)
		return false;
	return !ia.name || strcmp(ia.name, ib.name) == 0;
}

/* What every page html_render writes starts with (any case, as in HTML). */
#define HTML_PAGE_START "<!DOCTYPE html"

/* A regular file with bytes in it that do not start as an HTML page. A
 * file that cannot be read is left to the open for writing to judge. */
static bool other_content(const char *path)
{
	char head[sizeof(HTML_PAGE_START) - 1];
	struct stat st;
	size_t got;
	FILE *f;

	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size == 0)
		return false;
	f = fopen(path, "r");
	if (!f)
		return false;
	got = fread(head, 1, sizeof(head), f);
	fclose(f);
	return got < sizeof(head) || strncasecmp(head, HTML_PAGE_START, sizeof(head)) != 0;
}

static int refuse(const struct cli_opts *o, const char *what, const char *path)
{
	fprintf(stderr, "tlswatch %s: --html %s: the same file as %s %s; "
		"refusing to overwrite it\n", cli_cmd_names[o->cmd], o->out.html_path,
		what, path);
	return EXIT_USAGE;
}

int cli_check_html_path(const struct cli_opts *o)
{
	const char *html = o->out.html_path;
	const char *db = o->check.health.db_path;
	int i;

	if (!html || strcmp(html, "-") == 0)
		return EXIT_OK;
	for (i = 0; i < o->n_files; i++)
		if (strcmp(o->files[i], "-") != 0 && same_file(html, o->files[i]))
			return refuse(o, "the capture", o->files[i]);
	if (db && same_file(html, db))
		return refuse(o, "the --db database", db);
	if (o->config_path && same_file(html, o->config_path))
		return refuse(o, "the configuration file", o->config_path);
	if (other_content(html)) {
		fprintf(stderr, "tlswatch %s: --html %s: the file exists and is not an HTML "
			"page; refusing to overwrite it\n", cli_cmd_names[o->cmd], html);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

int cli_stdout_written(const char *who)
{
	const char *why = "a write failed, the output is incomplete";

	if (fflush(stdout) != 0)
		why = strerror(errno);
	else if (!ferror(stdout))
		return EXIT_OK;
	fprintf(stderr, "%s: cannot write to standard output: %s\n", who, why);
	return EXIT_INPUT;
}
