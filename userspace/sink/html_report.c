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
 * target of a symbolic link to no file, the link kept), and only that
 * file. "-" is standard output, written at the summary too.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>
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
	/* the file this sink created: its directory (O_PATH) and its name
	 * in it, for html_discard; -1 and NULL when it opened one there */
	int created_dir;
	char *created_name;
};

/* @f emptied (a device or FIFO has nothing to empty). 0, or -1 with
 * errno. */
static int html_empty(FILE *f)
{
	struct stat sb;

	if (fstat(fileno(f), &sb) != 0)
		return -1;
	return S_ISREG(sb.st_mode) ? ftruncate(fileno(f), 0) : 0;
}

/* A failure at the summary is the caller's to say (the sink set counts
 * it: analyze names the file, also with -q). The file is emptied first. */
static int html_write(struct html_report *r)
{
	r->written = true;
	if (r->out != stdout && html_empty(r->out) != 0)
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
 * inode), looked up and removed in the directory it was created in, not
 * by its path again (whose directories may have been renamed or swapped
 * for links meanwhile). A file put under that name in that directory
 * between the two calls would go instead: no call removes a name only
 * while it is a given inode, and only a writer of that directory can. */
static void html_discard(struct html_report *r)
{
	struct stat open_sb, name_sb;

	if (r->out == stdout || r->created_dir < 0)
		return;
	if (fstat(fileno(r->out), &open_sb) == 0 &&
	    fstatat(r->created_dir, r->created_name, &name_sb, AT_SYMLINK_NOFOLLOW) == 0 &&
	    open_sb.st_dev == name_sb.st_dev && open_sb.st_ino == name_sb.st_ino &&
	    unlinkat(r->created_dir, r->created_name, 0) != 0)
		pr_warn("%s: cannot remove the file it created: %s\n", r->path,
			strerror(errno));
}

static void html_close(struct sink *s)
{
	struct html_report *r = (struct html_report *)s;

	if (r->out && !r->written)
		html_discard(r);
	if (r->out && r->out != stdout && fclose(r->out) != 0)
		pr_warn("%s: %s\n", r->path, strerror(errno));
	html_agg_free(r->agg);
	if (r->created_dir >= 0)
		close(r->created_dir);
	free(r->created_name);
	free(r);
}

static const struct sink_ops html_report_ops = {
	.name = "html",
	.event = html_event,
	.close = html_close,
};

/* The kernel's bound on the links of one path (MAXSYMLINKS). */
#define HTML_MAX_LINKS 40

/*
 * Whether the kernel's rules for sticky world-writable directories (/tmp)
 * trust @sb, a symbolic link to follow (fs.protected_symlinks) or a
 * regular file to open as fopen's "w" did, with O_CREAT
 * (fs.protected_regular), found in the directory @dir_sb: one of this
 * process's own, or not in such a directory, or owned by that
 * directory's owner. html_open_file follows the links at the end of
 * --html's path itself, to an existing file too, and opens an existing
 * file without O_CREAT, so it asks this whatever the settings: root
 * never writes where another user's link in /tmp points (an earlier
 * page, an empty file, a device: what the --html checks let through),
 * nor into a file another user made there beforehand (theirs to read and
 * change after).
 */
static bool html_trusted(const struct stat *dir_sb, const struct stat *sb)
{
	return sb->st_uid == geteuid() ||
	       (dir_sb->st_mode & (S_ISVTX | S_IWOTH)) != (S_ISVTX | S_IWOTH) ||
	       dir_sb->st_uid == sb->st_uid;
}

/* 0 when the file open at @fd in the directory @dir is one html_trusted
 * lets this process write: not a regular file (a device, a FIFO: the
 * kernel's rule for FIFOs would need a look before an open that may
 * block), or a trusted one; -1 with errno (EACCES: refused). */
static int html_check_opened(int dir, int fd)
{
	struct stat dir_sb, sb;

	if (fstat(fd, &sb) != 0 || fstat(dir, &dir_sb) != 0)
		return -1;
	if (S_ISREG(sb.st_mode) && !html_trusted(&dir_sb, &sb)) {
		errno = EACCES;
		return -1;
	}
	return 0;
}

/*
 * The directory of @path (relative to the directory @at), opened by the
 * kernel's walk (O_PATH: only to create and remove in), and the last
 * name of @path into @base. -1 with errno.
 */
static int html_open_dir(int at, const char *path, char base[NAME_MAX + 1])
{
	const char *slash = strrchr(path, '/');
	const char *name = slash ? slash + 1 : path;
	char dir[PATH_MAX];
	size_t n = slash ? (size_t)(slash - path) : 0;

	if (!*name) {
		errno = EISDIR;        /* "dir/": what open() says of it */
		return -1;
	}
	if (strlen(name) > NAME_MAX || n >= sizeof(dir)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(base, name, strlen(name) + 1);
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (n == 0)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)n, path);
	return openat(at, dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
}

/*
 * Whether @dir is in procfs, whose links the kernel follows itself: a
 * descriptor's (/proc/self/fd/1, where /dev/stdout leads) reads as no
 * path when it is a pipe or a deleted file, and is a process's own.
 */
static bool html_in_proc(int dir)
{
	struct statfs sfs;

	return fstatfs(dir, &sfs) == 0 && sfs.f_type == PROC_SUPER_MAGIC;
}

/*
 * The target of the symbolic link @name in the directory @dir into
 * @target, read through a descriptor of the link itself (so the link
 * checked is the link read, whatever is renamed meanwhile). 0; 1 when
 * @name is no link any more (looked at again: @target is @name); -1
 * with errno (EACCES: a link html_trusted refuses).
 */
static int html_read_link(int dir, const char *name, char target[PATH_MAX])
{
	struct stat dir_sb, link_sb;
	ssize_t n = -1;
	int fd = openat(dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC), e;

	if (fd < 0 && errno != ENOENT)
		return -1;
	if (fd >= 0 && (fstat(fd, &link_sb) != 0 || fstat(dir, &dir_sb) != 0))
		goto fail;
	/* removed, or replaced by a file, since it was found a link */
	if (fd < 0 || !S_ISLNK(link_sb.st_mode)) {
		if (fd >= 0)
			close(fd);
		snprintf(target, PATH_MAX, "%s", name);
		return 1;
	}
	if (!html_trusted(&dir_sb, &link_sb)) {
		errno = EACCES;
		goto fail;
	}
	n = readlinkat(fd, "", target, PATH_MAX);
	if (n == PATH_MAX)
		errno = ENAMETOOLONG;
	if (n <= 0 || n == PATH_MAX)
		goto fail;
	target[n] = '\0';
	close(fd);
	return 0;
fail:
	e = errno;
	close(fd);
	errno = e;
	return -1;
}

/*
 * @path opened for writing, not truncated: the page replaces what is
 * there when it is written. A missing file is created with O_EXCL, also
 * at the end of symbolic links (as fopen did): each link at the end of
 * the path, to a file or to none, is opened itself, checked as
 * fs.protected_symlinks would check it, read through that descriptor,
 * and its target opened, or created with O_EXCL, in the directory the
 * kernel's walk of the target's path opens (which checks the links on
 * that path itself); procfs's links only are the kernel's to follow
 * (html_in_proc). An existing regular file is checked as
 * fs.protected_regular would check it (html_check_opened). So a file
 * another process makes under that name meanwhile is opened (or
 * refused), never taken for one this call made, and *@dir and
 * *@name (allocated) are set for a file this call created only (else -1
 * and NULL). NULL with errno.
 */
static FILE *html_open_file(const char *path, int *dir, char **name)
{
	char target[PATH_MAX], base[NAME_MAX + 1];
	const char *next = path;
	int at = AT_FDCWD, d = -1, fd = -1, hops, e;
	bool proc;
	FILE *f;

	*dir = -1;
	*name = NULL;
	for (hops = 0; hops <= HTML_MAX_LINKS; hops++) {
		/* relative to the directory of the link it is the target of */
		d = html_open_dir(at, next, base);
		if (at != AT_FDCWD)
			close(at);
		if (d < 0)
			return NULL;
		fd = openat(d, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
			    O_CLOEXEC | O_NOCTTY, 0666);
		if (fd >= 0) {
			*name = strdup(base);
			if (!*name) {
				unlinkat(d, base, 0);
				close(fd);
				errno = ENOMEM;
				goto fail;
			}
			*dir = d;
			break;
		}
		/* something is there: a file to open, or a link (not followed
		 * by the kernel, which checks it only as the setting says) */
		if (errno != EEXIST)
			goto fail;
		proc = html_in_proc(d);
		fd = openat(d, base, O_WRONLY | O_CLOEXEC | O_NOCTTY |
			    (proc ? 0 : O_NOFOLLOW));
		if (fd >= 0 && !proc && html_check_opened(d, fd) != 0) {
			e = errno;
			close(fd);
			errno = e;
			goto fail;
		}
		if (fd >= 0) {
			close(d);
			break;
		}
		/* ELOOP: a link, followed one step here; ENOENT: gone
		 * meanwhile, looked at again */
		if (proc || (errno != ELOOP && errno != ENOENT) ||
		    html_read_link(d, base, target) < 0)
			goto fail;
		at = d;
		next = target;
	}
	if (fd < 0) {
		errno = ELOOP;
		goto fail;
	}
	f = fdopen(fd, "w");
	if (!f) {
		e = errno;
		close(fd);
		if (*dir >= 0) {
			unlinkat(*dir, *name, 0);
			close(*dir);
		}
		free(*name);
		*dir = -1;
		*name = NULL;
		errno = e;
	}
	return f;
fail:
	e = errno;
	close(d);
	errno = e;
	return NULL;
}

FILE *html_page_open(const char *path)
{
	char *name;
	int dir, e;
	FILE *f = html_open_file(path, &dir, &name);

	if (!f)
		return NULL;
	if (dir >= 0)
		close(dir);
	free(name);
	if (html_empty(f) != 0) {
		e = errno;
		fclose(f);
		errno = e;
		return NULL;
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
	r->created_dir = -1;
	r->out = strcmp(o->html_path, "-") ?
		html_open_file(o->html_path, &r->created_dir, &r->created_name) : stdout;
	if (!r->out) {
		int rc = -errno;

		snprintf(err, errlen, "--html %s: %s", o->html_path, strerror(errno));
		html_close(&r->base);
		return rc;
	}
	return sink_set_add(set, &r->base, err, errlen);
}
