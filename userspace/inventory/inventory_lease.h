/* SPDX-License-Identifier: MIT */
/*
 * Who may write an inventory file at the same time, settled before SQLite
 * opens it: a lease, flock(2) on the database file itself.
 *
 *   shared     each running agent (`tlswatch run --db`), for its life:
 *              agents write one file side by side, each write short;
 *   exclusive  `tlswatch analyze --db`, for its run: the run holds
 *              SQLite's write lock from its first write to its commit
 *              (inventory_run_begin), which would stall every other
 *              writer of the file (up to INVENTORY_BUSY_TIMEOUT_MS at
 *              each write, then a failure) for as long.
 *
 * Taken without waiting: a lease that cannot be had is refused at once,
 * with a message naming the file and who holds it. Read-only commands
 * (`inventory`, `report`) take none: WAL readers never wait for a writer.
 *
 * The lease is a descriptor of its own on the database file, and it must
 * stay open until every SQLite connection of the process to that file is
 * closed. SQLite locks the file with POSIX fcntl() record locks, and POSIX
 * drops ALL of a process's record locks on a file when ANY descriptor of
 * that file is closed: ending the lease first would silently release the
 * locks SQLite believes it holds (a write transaction, the WAL's read
 * marks), and another process could then write under it. flock() and
 * fcntl() locks are independent on Linux local file systems. On NFS the
 * kernel emulates flock() with a whole-file fcntl() lock, and the two
 * would clash; SQLite is not safe on NFS anyway (README: Limits).
 *
 * Returns: 0 or a -errno, the reason in @err.
 */
#ifndef TW_INVENTORY_LEASE_H
#define TW_INVENTORY_LEASE_H

#include <stddef.h>

enum inventory_lease_kind {
	INVENTORY_LEASE_AGENT,          /* shared */
	INVENTORY_LEASE_ANALYZE_RUN,    /* exclusive */
};

/*
 * Takes a lease of @kind on @path, creating an empty file when there is
 * none (0644 less the umask, as SQLite would create it; SQLite takes an
 * empty file for a new database). 0 and *@fd: the lease (end it with
 * inventory_lease_end), or -1 when there is nothing to lease: @path is
 * not a regular file or cannot be opened (a directory, a device, a
 * missing directory, no permission), which the database's own open then
 * says. -EWOULDBLOCK when another process holds a lease in the way, @err
 * naming the file and the holder, and what to do ("inv.db: a running
 * tlswatch agent writes this database; ..."); another -errno with @err.
 * Take it before the process has any SQLite connection to @path: a
 * refused lease's descriptor is closed.
 */
int inventory_lease_take(const char *path, enum inventory_lease_kind kind,
			 int *fd, char *err, size_t errlen);
/*
 * A command that created @path with its lease @fd (the file was not
 * there) and fails before it added anything removes it, so that it
 * leaves no file behind: only while @path is still the leased file (same
 * inode), no other process holds a lease on it (the lease becomes
 * exclusive at once, or the file is kept), and it holds no row in any
 * table (an empty file, or the schema alone); with its -wal, -shm and
 * -journal. Call it once every SQLite connection of the process to the
 * file is closed, and end the lease next (it may have become exclusive,
 * or been dropped, whatever the answer). 1 removed, 0 kept (@fd
 * -1: nothing to remove), or -1 with @err.
 */
int inventory_lease_drop_new(const char *path, int fd, char *err, size_t errlen);
/* Ends the lease @fd (-1: none), once the last SQLite connection of the
 * process to its file is closed (see above). */
void inventory_lease_end(int fd);

/*
 * The agent's lease follows its --db path: the file there may not be the
 * one leased at start (none could be created then: a read-only file
 * system; or a repaired file system mounted at the path since), and the
 * agent's owners that open the file again by its path (inventory_reopen,
 * the webhook outbox) lease each new file first. One thread (the
 * agent's loop), one path per process.
 *
 * inventory_lease_follow_start: from now on @path is followed, a lease
 * of @kind; @fd is the lease taken at start (-1: none), which the
 * process now owns. inventory_lease_follow: before @path is opened again
 * by its path: 0 when the process holds a lease on the file there (or
 * follows none, or there is nothing to lease: the open says why), a
 * lease on it taken now; -EWOULDBLOCK with @err when it is refused (an
 * analyze --db run adds to it: leave it closed, try again later); another
 * -errno with @err. inventory_lease_follow_end: ends every lease taken,
 * once every SQLite connection of the process to them is closed.
 */
void inventory_lease_follow_start(const char *path,
				  enum inventory_lease_kind kind, int fd);
int inventory_lease_follow(const char *path, char *err, size_t errlen);
void inventory_lease_follow_end(void);

#endif
