// SPDX-License-Identifier: MIT
/*
 * The HTML incident report sink (--html FILE): feeds the bounded
 * aggregates of html_agg.c from the events and writes the page when the
 * summary arrives (the end of an analysis). The file is opened at open,
 * so a path that cannot be written is an error before any work, but not
 * truncated until the page is written: a sink closed without a summary
 * (the run failed before it read anything: a refused
 * --webhook-secret-file, a sink opened after this one) writes nothing,
 * leaves an earlier page as it was and removes the file it created (the
 * target of a symbolic link to no file, the link kept). "-"
 * is standard output, written at the summary too.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "html_report.h"
#include "sink.h"

struct html_report {
	struct sink base;               /* first: the sink is cast to it */
	const char *path;
	FILE *out;
	struct html_agg *agg;
	bool written;
	char *created;                  /* the name the open made the file under */
};

/* A failure at the summary is the caller's to say (the sink set counts
 * it: analyze names the file, also with -q). The file is emptied first
 * (a device or FIFO has nothing to empty). */
static int html_write(struct html_report *r)
{
	struct stat sb;

	r->written = true;
	if (r->out != stdout &&
	    (fstat(fileno(r->out), &sb) != 0 ||
	     (S_ISREG(sb.st_mode) && ftruncate(fileno(r->out), 0) != 0)))
		return -EIO;
	return html_render(r->agg, r->out);
}

static int html_event(struct sink *s, const struct event *ev, const char *json,
		      size_t len)
{
	struct html_report *r = (struct html_report *)s;

	switch (ev->type) {
	case EVENT_HANDSHAKE:
		html_agg_handshake(r->agg, ev->handshake);
		return 0;
	case EVENT_CERT:
		html_agg_cert(r->agg, ev->cert);
		return 0;
	case EVENT_SPIKE:
		html_agg_spike(r->agg, ev->spike);
		return 0;
	case EVENT_SUMMARY:
		html_agg_summary(r->agg, ev->summary);
		return html_write(r);
	default:
		return 0;
	}
}

/* No page was written: the file this sink created goes, while it is
 * still the one under the name it was created under (same device and
 * inode; the target of a link --html named, not the link). */
static void html_discard(struct html_report *r)
{
	struct stat open_sb, path_sb;

	if (r->out == stdout || !r->created)
		return;
	if (fstat(fileno(r->out), &open_sb) == 0 && lstat(r->created, &path_sb) == 0 &&
	    open_sb.st_dev == path_sb.st_dev && open_sb.st_ino == path_sb.st_ino &&
	    unlink(r->created) != 0)
		pr_warn("%s: cannot remove it: %s\n", r->created, strerror(errno));
}

static void html_close(struct sink *s)
{
	struct html_report *r = (struct html_report *)s;

	if (r->out && !r->written)
		html_discard(r);
	if (r->out && r->out != stdout && fclose(r->out) != 0)
		pr_warn("%s: %s\n", r->path, strerror(errno));
	html_agg_free(r->agg);
	free(r->created);
	free(r);
}

static const struct sink_ops html_report_ops = {
	.name = "html",
	.event = html_event,
	.close = html_close,
};

/* Symbolic links followed at most (the kernel's own bound, MAXSYMLINKS). */
#define HTML_MAX_LINKS 40

/*
 * The name a file opened at @path would be created under: @path itself,
 * or, when it is a symbolic link (to no file), its target, each relative
 * target taken from the directory of the link that holds it, through at
 * most HTML_MAX_LINKS links. Allocated; NULL with errno (ELOOP past the
 * bound). A name that changes meanwhile is caught by the O_EXCL open.
 */
static char *html_link_target(const char *path)
{
	char *cur = strdup(path), *next, *slash;
	char target[PATH_MAX];
	ssize_t n;
	int i, e;

	for (i = 0; cur && i <= HTML_MAX_LINKS; i++) {
		n = readlink(cur, target, sizeof(target));
		if (n < 0 && (errno == ENOENT || errno == EINVAL))
			return cur;     /* no file, or not a link: the name */
		if (n < 0 || (size_t)n == sizeof(target)) {
			e = n < 0 ? errno : ENAMETOOLONG;
			free(cur);
			errno = e;
			return NULL;
		}
		slash = target[0] == '/' ? NULL : strrchr(cur, '/');
		if (asprintf(&next, "%.*s%.*s", slash ? (int)(slash - cur + 1) : 0, cur,
			     (int)n, target) < 0)
			next = NULL;
		free(cur);
		cur = next;
	}
	if (!cur)
		errno = ENOMEM;
	else {
		free(cur);
		errno = ELOOP;
	}
	return NULL;
}

/* @name created for writing (O_EXCL: only a file this call made). */
static int html_create(const char *name)
{
	return open(name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY, 0666);
}

/*
 * @path opened for writing, not truncated: the page replaces what is
 * there when it is written. A missing file is created, also through a
 * symbolic link to no file (its target, as fopen did); *@created is then
 * the name it was created under (allocated), for html_discard, else
 * NULL. NULL with errno.
 */
static FILE *html_open_file(const char *path, char **created)
{
	int fd, e;
	FILE *f;

	*created = NULL;
	fd = html_create(path);
	if (fd >= 0) {
		*created = strdup(path);
		if (!*created) {
			close(fd);
			unlink(path);
			errno = ENOMEM;
			return NULL;
		}
	} else if (errno == EEXIST) {
		fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
		if (fd < 0 && errno == ENOENT) {
			/* a symbolic link to no file */
			*created = html_link_target(path);
			if (!*created)
				return NULL;
			fd = html_create(*created);
			if (fd < 0) {
				e = errno;
				free(*created);
				*created = NULL;
				errno = e;
			}
		}
	}
	if (fd < 0)
		return NULL;
	f = fdopen(fd, "w");
	if (!f) {
		e = errno;
		close(fd);
		if (*created)
			unlink(*created);
		free(*created);
		*created = NULL;
		errno = e;
	}
	return f;
}

int html_report_open(const struct output_opts *o, struct sink_set *set,
		     char *err, size_t errlen)
{
	struct html_report *r;

	if (!o->html_path)
		return 0;
	r = calloc(1, sizeof(*r));
	if (!r || !(r->agg = html_agg_new())) {
		free(r);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	r->base.ops = &html_report_ops;
	r->path = o->html_path;
	r->out = strcmp(o->html_path, "-") ? html_open_file(o->html_path, &r->created)
					    : stdout;
	if (!r->out) {
		int rc = -errno;

		snprintf(err, errlen, "--html %s: %s", o->html_path, strerror(errno));
		html_close(&r->base);
		return rc;
	}
	return sink_set_add(set, &r->base, err, errlen);
}
