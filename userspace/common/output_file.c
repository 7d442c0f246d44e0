// SPDX-License-Identifier: MIT
/*
 * Opening a file tlswatch writes, safely (output_file.h): the path walked
 * one name at a time with openat(O_PATH | O_NOFOLLOW), each link checked
 * and read here, so that root never writes where another user's link in
 * /tmp points, nor into a file another user made there, nor into a file
 * of root's that someone linked there under another name, whatever
 * fs.protected_symlinks, fs.protected_regular and fs.protected_hardlinks
 * say.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "output_file.h"

/* -1 with @fd closed (when >= 0), errno kept. */
static int fail_closing(int fd)
{
	int e = errno;

	if (fd >= 0)
		close(fd);
	errno = e;
	return -1;
}

/* The walk: the directory reached (O_PATH) and the rest of the path to
 * walk from it. */
struct walk {
	int dir;
	char rest[PATH_MAX];
	int links;                     /* followed so far */
	bool done;                     /* the last name reached */
	/* a link of another user's (not this process's, not root's)
	 * followed: the walk goes on only through their own directories and
	 * links to their own file (as systemd's CHASE_SAFE), so that a link
	 * in a directory they own (one made in /tmp before tlswatch's, a
	 * home directory) cannot lead root to its own files elsewhere, which
	 * the kernel's rules (sticky directories only) let it follow */
	bool limited;
	uid_t owner;                   /* whose, when limited */
};

/* Whether @sb, met on the walk, may be gone through or opened: not
 * limited to another user's files (struct walk), or theirs. */
static bool walk_owned(const struct walk *w, const struct stat *sb)
{
	return !w->limited || sb->st_uid == w->owner;
}

/*
 * Whether the kernel's rules for sticky world-writable directories trust
 * @sb, a symbolic link to follow (fs.protected_symlinks) or a regular
 * file to open with O_CREAT (fs.protected_regular), found in the
 * directory @dir_sb: one of this process's own, or not in such a
 * directory, or owned by that directory's owner.
 */
static bool output_trusted(const struct stat *dir_sb, const struct stat *sb)
{
	return sb->st_uid == geteuid() ||
	       (dir_sb->st_mode & (S_ISVTX | S_IWOTH)) != (S_ISVTX | S_IWOTH) ||
	       dir_sb->st_uid == sb->st_uid;
}

/*
 * 0 when the file open at @fd in the directory w->dir may be written
 * (and the walk's limit to another user's files, struct walk, kept): a
 * device, or a trusted FIFO (as fs.protected_fifos would: another user's
 * FIFO in /tmp would be read by them), or a trusted regular file with
 * one name only. A second name (a hard link) may be another user's, made
 * where they can write to a file root owns elsewhere (as
 * fs.protected_hardlinks=0 lets them): written through, that file would
 * be changed. -1 with errno (TW_OUTPUT_REFUSED, EMLINK: refused).
 */
static int output_check_opened(const struct walk *w, int fd)
{
	struct stat dir_sb, sb;

	if (fstat(fd, &sb) != 0 || fstat(w->dir, &dir_sb) != 0)
		return -1;
	if (!walk_owned(w, &sb)) {
		errno = TW_OUTPUT_REFUSED;
		return -1;
	}
	if (!S_ISREG(sb.st_mode) && !S_ISFIFO(sb.st_mode))
		return 0;
	if (!output_trusted(&dir_sb, &sb)) {
		errno = TW_OUTPUT_REFUSED;
		return -1;
	}
	if (!S_ISREG(sb.st_mode))
		return 0;
	if (sb.st_nlink > 1) {
		errno = EMLINK;
		return -1;
	}
	return 0;
}

/*
 * Whether @dir is in procfs, whose links the kernel follows itself: a
 * descriptor's (/proc/self/fd/1, where /dev/stdout leads) reads as no
 * path when it is a pipe or a deleted file, and is a process's own.
 */
static bool output_in_proc(int dir)
{
	struct statfs sfs;

	return fstatfs(dir, &sfs) == 0 && sfs.f_type == PROC_SUPER_MAGIC;
}

/*
 * The target of the symbolic link open at @link_fd (O_PATH | O_NOFOLLOW)
 * in the directory w->dir into @target, read through that descriptor (so
 * the link checked is the link read, whatever is renamed meanwhile); the
 * walk limited to its owner's files when it is another user's (struct
 * walk). 0, or -1 with errno (TW_OUTPUT_REFUSED: a link output_trusted
 * refuses, or not the owner's the walk is limited to).
 */
static int output_read_link(struct walk *w, int link_fd, char target[PATH_MAX])
{
	struct stat dir_sb, link_sb;
	ssize_t n;

	if (fstat(link_fd, &link_sb) != 0 || fstat(w->dir, &dir_sb) != 0)
		return -1;
	if (!output_trusted(&dir_sb, &link_sb) || !walk_owned(w, &link_sb)) {
		errno = TW_OUTPUT_REFUSED;
		return -1;
	}
	if (link_sb.st_uid != geteuid() && link_sb.st_uid != 0) {
		w->limited = true;
		w->owner = link_sb.st_uid;
	}
	n = readlinkat(link_fd, "", target, PATH_MAX);
	if (n == PATH_MAX || n == 0)
		errno = n ? ENAMETOOLONG : ENOENT;
	if (n <= 0 || n == PATH_MAX)
		return -1;
	target[n] = '\0';
	return 0;
}

/* walk_follow's work, @link_fd left open. -1 with errno. */
static int walk_to_target(struct walk *w, int link_fd, const char *after)
{
	char target[PATH_MAX], rest[PATH_MAX];
	int n, root;

	if (++w->links > TW_OUTPUT_MAX_LINKS) {
		errno = ELOOP;
		return -1;
	}
	if (output_read_link(w, link_fd, target) != 0)
		return -1;
	n = *after ? snprintf(rest, sizeof(rest), "%s/%s", target, after) :
		     snprintf(rest, sizeof(rest), "%s", target);
	if (n < 0 || (size_t)n >= sizeof(rest)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (target[0] == '/') {
		/* the root is not another user's own */
		if (w->limited) {
			errno = TW_OUTPUT_REFUSED;
			return -1;
		}
		root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (root < 0)
			return -1;
		close(w->dir);
		w->dir = root;
	}
	memcpy(w->rest, rest, (size_t)n + 1);
	return 0;
}

/*
 * The link open at @link_fd, met in w->dir with @after left to walk
 * behind it ("" at the end of the path), followed: w->rest becomes its
 * target then @after, w->dir the root for an absolute target. @link_fd
 * is closed. 0, or -1 with errno.
 */
static int walk_follow(struct walk *w, int link_fd, const char *after)
{
	if (walk_to_target(w, link_fd, after) != 0)
		return fail_closing(link_fd);
	close(link_fd);
	return 0;
}

/*
 * The next name of w->rest into @name, the rest after it (its slashes
 * skipped) into *@after. 1 when it is the last, 0 when a directory of
 * the path, -1 with errno (EISDIR for a path ending in '/', as open()
 * says of "dir/").
 */
static int walk_next(struct walk *w, char name[NAME_MAX + 1], const char **after)
{
	const char *p = w->rest;
	size_t len;

	while (*p == '/')
		p++;
	len = strcspn(p, "/");
	if (len == 0) {
		errno = EISDIR;
		return -1;
	}
	if (len > NAME_MAX) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(name, p, len);
	name[len] = '\0';
	p += len;
	if (!*p) {
		*after = p;
		return 1;
	}
	while (*p == '/')
		p++;
	*after = p;
	if (!*p) {
		errno = EISDIR;
		return -1;
	}
	return 0;
}

/*
 * w->rest becomes @after, a string inside it. Through a copy, not
 * memmove: with _FORTIFY_SOURCE, glibc's __memmove_chk is an alias of
 * __memcpy_chk, which valgrind then reports as an overlapping memcpy
 * (valgrind.sh). A path walk's few hundred bytes, once per directory.
 */
static void walk_rest_set(struct walk *w, const char *after)
{
	char tmp[sizeof(w->rest)];

	snprintf(tmp, sizeof(tmp), "%s", after);
	memcpy(w->rest, tmp, strlen(tmp) + 1);
}

/* One directory of the path, @name, stepped into (or its link followed,
 * @after behind it). -1 with errno. */
static int walk_dir(struct walk *w, const char *name, const char *after)
{
	bool proc = output_in_proc(w->dir);
	struct stat sb;
	int fd = openat(w->dir, name, O_PATH | O_CLOEXEC | (proc ? 0 : O_NOFOLLOW));

	if (fd < 0 || fstat(fd, &sb) != 0)
		return fail_closing(fd);
	if (S_ISLNK(sb.st_mode)) {
		return walk_follow(w, fd, after);
	}
	if (!S_ISDIR(sb.st_mode) || !walk_owned(w, &sb)) {
		close(fd);
		errno = S_ISDIR(sb.st_mode) ? TW_OUTPUT_REFUSED : ENOTDIR;
		return -1;
	}
	close(w->dir);
	w->dir = fd;
	walk_rest_set(w, after);
	return 0;
}

/* The walk of @path begun: from the root or the working directory. 0,
 * or -errno. */
static int walk_start(struct walk *w, const char *path)
{
	if (!*path)
		return -ENOENT;
	if (strlen(path) >= sizeof(w->rest))
		return -ENAMETOOLONG;
	memcpy(w->rest, path, strlen(path) + 1);
	w->dir = open(path[0] == '/' ? "/" : ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	return w->dir < 0 ? -errno : 0;
}

/* The open(2) flags of @mode, and its creation mode into *@perm. */
static int output_flags(enum tw_output_mode mode, mode_t *perm)
{
	*perm = 0666;
	switch (mode) {
	case TW_OUTPUT_APPEND:
		return O_WRONLY | O_APPEND | O_CLOEXEC | O_NOCTTY;
	case TW_OUTPUT_LOCK:
		*perm = 0644;
		return O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY;
	case TW_OUTPUT_REPLACE:
	default:
		return O_WRONLY | O_CLOEXEC | O_NOCTTY;
	}
}

/* O_NONBLOCK taken off the file open at @fd. 0, or -1 with errno. */
static int output_blocking(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
}

/*
 * The last name of the path, @name in w->dir: created with O_EXCL, or
 * the file there opened and checked (output_check_opened), both setting
 * w->done; or its link followed (w->rest its target: walk on). 0, or -1
 * with errno.
 */
static int walk_last(struct walk *w, const char *name, int flags, mode_t perm,
		     struct tw_output *out)
{
	bool proc;
	int fd, link_fd;

	fd = openat(w->dir, name, flags | O_CREAT | O_EXCL | O_NOFOLLOW, perm);
	if (fd >= 0) {
		out->created_name = strdup(name);
		if (!out->created_name) {
			unlinkat(w->dir, name, 0);
			close(fd);
			errno = ENOMEM;
			return -1;
		}
		out->fd = fd;
		out->created_dir = w->dir;
		w->dir = -1;
		w->done = true;
		return 0;
	}
	/* something is there: a file to open, or a link (not followed by
	 * the kernel, which checks it only as the setting says) */
	if (errno != EEXIST)
		return -1;
	proc = output_in_proc(w->dir);
	/* O_NONBLOCK: a FIFO put there (or a pipe's /proc link) with no
	 * reader is ENXIO, not an open that waits for one forever */
	fd = openat(w->dir, name, flags | O_NONBLOCK | (proc ? 0 : O_NOFOLLOW));
	if (fd >= 0 && !proc && output_check_opened(w, fd) != 0)
		return fail_closing(fd);
	/* writes wait as they did (a FIFO's reader, a pipe) */
	if (fd >= 0 && !(flags & O_NONBLOCK) && output_blocking(fd) != 0)
		return fail_closing(fd);
	if (fd >= 0) {
		out->fd = fd;
		w->done = true;
		return 0;
	}
	/* ELOOP: a link, followed one step here; ENOENT: gone meanwhile,
	 * looked at again */
	if (proc || (errno != ELOOP && errno != ENOENT))
		return -1;
	link_fd = openat(w->dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (link_fd < 0 && errno != ENOENT)
		return -1;
	if (link_fd >= 0) {
		struct stat sb;

		if (fstat(link_fd, &sb) != 0)
			return fail_closing(link_fd);
		if (S_ISLNK(sb.st_mode)) {
			return walk_follow(w, link_fd, "");
		}
		close(link_fd);
	}
	/* removed, or replaced by a file, since it was found a link: the
	 * same name again, counted as a link (the walk stays bounded) */
	if (++w->links > TW_OUTPUT_MAX_LINKS) {
		errno = ELOOP;
		return -1;
	}
	snprintf(w->rest, sizeof(w->rest), "%s", name);
	return 0;
}

/* The last name of the path, @name in w->dir, looked at only: a link
 * followed (0, walk on), a file checked (output_check_opened), nothing
 * there taken as nothing to refuse. 0, or -1 with errno. */
static int walk_probe_last(struct walk *w, const char *name)
{
	struct stat sb;
	int fd = openat(w->dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0 && errno == ENOENT) {
		w->done = true;
		return 0;
	}
	if (fd < 0 || fstat(fd, &sb) != 0)
		return fail_closing(fd);
	if (S_ISLNK(sb.st_mode) && !output_in_proc(w->dir)) {
		return walk_follow(w, fd, "");
	}
	if (output_check_opened(w, fd) != 0)
		return fail_closing(fd);
	close(fd);
	w->done = true;
	return 0;
}

/*
 * The walk of @path, name by name, to its last one: opened with @flags
 * and @perm into @out (walk_last), or with @out NULL only looked at
 * (walk_probe_last). 0, or -errno.
 */
static int walk_path(const char *path, int flags, mode_t perm,
		     struct tw_output *out)
{
	char name[NAME_MAX + 1];
	struct walk w = { .dir = -1 };
	const char *after;
	int last, e, rc;

	rc = walk_start(&w, path);
	if (rc)
		return rc;
	while (!w.done) {
		last = walk_next(&w, name, &after);
		if (last < 0)
			goto fail;
		if (!last)
			rc = walk_dir(&w, name, after);
		else if (out)
			rc = walk_last(&w, name, flags, perm, out);
		else
			rc = walk_probe_last(&w, name);
		if (rc != 0)
			goto fail;
	}
	if (w.dir >= 0)
		close(w.dir);
	return 0;
fail:
	e = errno;
	if (w.dir >= 0)
		close(w.dir);
	return -e;
}

int tw_output_open(const char *path, enum tw_output_mode mode,
		   struct tw_output *out)
{
	mode_t perm;
	int flags = output_flags(mode, &perm);

	out->fd = -1;
	out->created_dir = -1;
	out->created_name = NULL;
	return walk_path(path, flags, perm, out);
}

int tw_output_probe(const char *path)
{
	int r = walk_path(path, 0, 0, NULL);

	/* a directory of the path missing: nothing there either */
	return r == -ENOENT ? 0 : r;
}

int tw_output_remove_created(const struct tw_output *out)
{
	struct stat open_sb, name_sb;

	if (out->created_dir < 0)
		return 0;
	/* gone, or not to be looked at: nothing this call may remove */
	if (fstat(out->fd, &open_sb) != 0 ||
	    fstatat(out->created_dir, out->created_name, &name_sb,
		    AT_SYMLINK_NOFOLLOW) != 0 ||
	    open_sb.st_dev != name_sb.st_dev || open_sb.st_ino != name_sb.st_ino)
		return 0;
	return unlinkat(out->created_dir, out->created_name, 0) == 0 ? 0 : -errno;
}

void tw_output_forget_created(struct tw_output *out)
{
	if (out->created_dir >= 0)
		close(out->created_dir);
	free(out->created_name);
	out->created_dir = -1;
	out->created_name = NULL;
}

FILE *tw_output_fopen(const char *path, struct tw_output *out, int *rc)
{
	FILE *f;

	*rc = tw_output_open(path, TW_OUTPUT_REPLACE, out);
	if (*rc)
		return NULL;
	f = fdopen(out->fd, "w");
	if (!f) {
		*rc = -errno;
		tw_output_remove_created(out);
		tw_output_forget_created(out);
		close(out->fd);
		out->fd = -1;
	}
	return f;
}

int tw_output_empty(int fd)
{
	struct stat sb;

	if (fstat(fd, &sb) != 0 || (S_ISREG(sb.st_mode) && ftruncate(fd, 0) != 0))
		return -errno;
	return 0;
}

const char *tw_output_error(int rc)
{
	if (rc == -EMLINK)
		return "the file has other names (hard links); refusing to write "
		       "into it";
	if (rc == -TW_OUTPUT_REFUSED)
		return "another user's link, file or FIFO on the path; refusing "
		       "to follow or open it";
	if (rc == -ENXIO)
		return "a FIFO with no reader, or a socket; refusing to wait for "
		       "one";
	return strerror(-rc);
}
