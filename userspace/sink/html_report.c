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

/*
 * The name the file open at @fd has now (allocated; NULL when it cannot
 * be told: no /proc), read back from the descriptor: for a file created
 * through symbolic links, the kernel's own walk named it. Reading the
 * links here instead and creating their target by name would step past
 * fs.protected_symlinks (readlink is not subject to it): a link swapped
 * in /tmp between the two could have root create a file of another
 * user's choosing.
 */
static char *html_fd_name(int fd)
{
	char proc[64], name[PATH_MAX];
	ssize_t n;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	n = readlink(proc, name, sizeof(name));
	if (n <= 0 || (size_t)n == sizeof(name) || name[0] != '/')
		return NULL;
	return strndup(name, (size_t)n);
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
 * NULL (also when that name cannot be told: the file then stays). NULL
 * with errno.
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
			/* a symbolic link to no file: created through it by
			 * the kernel, which names what it created */
			fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOCTTY, 0666);
			if (fd >= 0)
				*created = html_fd_name(fd);
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
