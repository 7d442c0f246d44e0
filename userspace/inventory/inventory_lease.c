// SPDX-License-Identifier: MIT
/*
 * The lease of an inventory file (inventory_lease.h): flock(2), shared for
 * the agents, exclusive for an analyze run, never waited for.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/output_file.h"
#include "inventory_lease.h"

/* @op (LOCK_SH, LOCK_EX) without waiting: 0, or -errno (-EWOULDBLOCK: a
 * lease of another open file description is in the way). */
static int lease_flock(int fd, int op)
{
	int r;

	do
		r = flock(fd, op | LOCK_NB);
	while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : 0;
}

/* Opening @path failed (-errno @r): the process is out of descriptors
 * or memory, or the path is another user's link or file in a sticky
 * world-writable directory, or a file with other names
 * (common/output_file.h: SQLite would open and write it by its path):
 * said, and returned. Or the path cannot be a database this process
 * writes, which SQLite's open then says (0, nothing to lease): EACCES
 * among them, which the kernel says to SQLite as well (an agent without
 * root's file rights then keeps its inventory in memory, live_caps.sh). */
static int lease_open_failed(const char *path, int r, char *err, size_t errlen)
{
	if (r != -EMFILE && r != -ENFILE && r != -ENOMEM &&
	    r != -TW_OUTPUT_REFUSED && r != -EMLINK)
		return 0;
	snprintf(err, errlen, "%s: opening it for its lease: %s", path,
		 tw_output_error(r));
	return r;
}

/*
 * SQLite opens its -wal, -shm and -journal files beside the database
 * (by the database's path with its links resolved: the file open at
 * @fd) with O_CREAT and O_NOFOLLOW: a link there fails that open, but
 * another user's file in a sticky world-writable directory, or a second
 * name of another file, would be taken (a crafted -wal replayed into the
 * database, or root's file written through it). Refused as the database
 * itself would be (common/output_file.h). 0, or -errno said.
 */
static int lease_check_beside(int fd, const char *path, char *err, size_t errlen)
{
	static const char *const suffixes[] = { "-wal", "-shm", "-journal" };
	char proc[32], real[PATH_MAX], side[PATH_MAX + 16];
	ssize_t n;
	size_t i;
	int r;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	n = readlink(proc, real, sizeof(real) - 1);
	/* no path to look beside (no /proc): SQLite's own opens decide */
	if (n <= 0 || (size_t)n >= sizeof(real) - 1)
		return 0;
	real[n] = '\0';
	for (i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		snprintf(side, sizeof(side), "%s%s", real, suffixes[i]);
		r = tw_output_probe(side);
		if (r == -TW_OUTPUT_REFUSED || r == -EMLINK) {
			snprintf(err, errlen, "%s: SQLite's %s beside it: %s", path,
				 side, tw_output_error(r));
			return r;
		}
	}
	return 0;
}

/* *@fd: @path opened (created empty when missing) read-only, or -1 when
 * it is not a regular file. 0, or -errno said. */
static int lease_open(const char *path, int *fd, char *err, size_t errlen)
{
	struct tw_output o;
	struct stat sb;
	int r;

	*fd = -1;
	/* a FIFO would block, a device could answer its opening: not
	 * opened; inventory_check_path() says what it is */
	if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode))
		return 0;
	/* (TW_OUTPUT_LOCK opens with O_NONBLOCK: should it have become a
	 * FIFO since) */
	do
		r = tw_output_open(path, TW_OUTPUT_LOCK, &o);
	while (r == -EINTR);
	if (r)
		return lease_open_failed(path, r, err, errlen);
	*fd = o.fd;
	if (fstat(*fd, &sb) != 0) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-r));
	} else if (S_ISREG(sb.st_mode)) {
		r = lease_check_beside(*fd, path, err, errlen);
	}
	/* refused: the file this call created goes with it */
	if (r)
		tw_output_remove_created(&o);
	tw_output_forget_created(&o);
	if (r || !S_ISREG(sb.st_mode)) {
		inventory_lease_end(*fd);
		*fd = -1;
	}
	return r;
}

/*
 * Says who is in the way of a lease of @kind on @fd: an agent's request
 * can only meet an analyze run; an analyze run's meets agents when a
 * shared lease can be had, else another analyze run. (A probe: a holder
 * may have come or gone since; the shared lease it may take goes with
 * the descriptor, closed next.) -EWOULDBLOCK.
 */
static int lease_refused(int fd, const char *path, enum inventory_lease_kind kind,
			 char *err, size_t errlen)
{
	if (kind == INVENTORY_LEASE_AGENT)
		snprintf(err, errlen, "%s: a tlswatch analyze --db run is adding "
			 "to this database; start the agent once it has ended", path);
	else if (lease_flock(fd, LOCK_SH) == 0)
		snprintf(err, errlen, "%s: a running tlswatch agent writes this "
			 "database; analyze into a copy of it (sqlite3 %s '.backup "
			 "copy.db') or stop the agent for the run", path, path);
	else
		snprintf(err, errlen, "%s: another tlswatch analyze --db run is "
			 "adding to this database; run this one once it has ended",
			 path);
	return -EWOULDBLOCK;
}

int inventory_lease_take(const char *path, enum inventory_lease_kind kind,
			 int *fd, char *err, size_t errlen)
{
	int r = lease_open(path, fd, err, errlen);

	if (r || *fd < 0)
		return r;
	r = lease_flock(*fd, kind == INVENTORY_LEASE_AGENT ? LOCK_SH : LOCK_EX);
	if (r == 0)
		return 0;
	if (r == -EWOULDBLOCK)
		r = lease_refused(*fd, path, kind, err, errlen);
	else
		snprintf(err, errlen, "%s: cannot lease it: %s", path, strerror(-r));
	/* no SQLite connection to it yet (the caller's promise): closing
	 * it drops no record lock */
	inventory_lease_end(*fd);
	*fd = -1;
	return r;
}

void inventory_lease_end(int fd)
{
	/* read-only: nothing to lose, and the lease ends with the
	 * descriptor whatever close() answers (not retried on EINTR:
	 * Linux has released it already) */
	if (fd >= 0)
		(void)close(fd);
}

/* The leases of the path followed (inventory_lease_follow_start): one
 * per file found there, each kept to the end, since SQLite connections
 * to an earlier file may still be open (closing its lease would drop
 * their locks). */
static struct {
	char *path;                  /* NULL: none followed */
	enum inventory_lease_kind kind;
	int *fds;
	size_t n;
} followed;

/* Whether @fd leases the file @sb describes. */
static bool leases(int fd, const struct stat *sb)
{
	struct stat fsb;

	return fstat(fd, &fsb) == 0 && fsb.st_dev == sb->st_dev &&
	       fsb.st_ino == sb->st_ino;
}

/* Keeps @fd among the leases: 0, or -ENOMEM with @err (@fd ended). */
static int follow_keep(int fd, char *err, size_t errlen)
{
	int *more = realloc(followed.fds, (followed.n + 1) * sizeof(*more));

	if (!more) {
		snprintf(err, errlen, "%s: keeping its lease: %s", followed.path,
			 strerror(ENOMEM));
		inventory_lease_end(fd);
		return -ENOMEM;
	}
	followed.fds = more;
	followed.fds[followed.n++] = fd;
	return 0;
}

void inventory_lease_follow_start(const char *path,
				  enum inventory_lease_kind kind, int fd)
{
	char err[256];

	inventory_lease_follow_end();
	followed.kind = kind;
	followed.path = path ? strdup(path) : NULL;
	/* out of memory: the path is not followed, the lease still held */
	if (fd >= 0 && follow_keep(fd, err, sizeof(err)) < 0)
		fprintf(stderr, "tlswatch: %s\n", err);
}

int inventory_lease_follow(const char *path, char *err, size_t errlen)
{
	struct stat sb;
	size_t i;
	int fd, r;

	if (!followed.path || !path || strcmp(path, followed.path) != 0)
		return 0;
	if (stat(path, &sb) == 0) {
		for (i = 0; i < followed.n; i++)
			if (leases(followed.fds[i], &sb))
				return 0;
	}
	/* a file the process has no SQLite connection to yet: a refused
	 * lease's descriptor is closed harmlessly */
	r = inventory_lease_take(path, followed.kind, &fd, err, errlen);
	if (r < 0 || fd < 0)
		return r;
	return follow_keep(fd, err, errlen);
}

void inventory_lease_follow_end(void)
{
	size_t i;

	for (i = 0; i < followed.n; i++)
		inventory_lease_end(followed.fds[i]);
	free(followed.fds);
	free(followed.path);
	memset(&followed, 0, sizeof(followed));
}
