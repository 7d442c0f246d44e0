// SPDX-License-Identifier: MIT
/*
 * A --db file a command created and then did not use: removed when the
 * command fails before adding anything (inventory_lease.h:
 * inventory_lease_drop_new), so that a refused start or run leaves no
 * file behind, as before there was a lease.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "inventory_lease.h"

/* 1: table @name has a row; 0: none; -1: it cannot be read. */
static int table_has_rows(sqlite3 *db, const unsigned char *name)
{
	char *sql = sqlite3_mprintf("SELECT 1 FROM \"%w\" LIMIT 1",
				    name ? (const char *)name : "");
	sqlite3_stmt *st = NULL;
	int step = SQLITE_ERROR;

	if (sql && sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK)
		step = sqlite3_step(st);
	sqlite3_finalize(st);
	sqlite3_free(sql);
	return step == SQLITE_ROW ? 1 : step == SQLITE_DONE ? 0 : -1;
}

/* 1: the database @path has a row in some table (SQLite's own too:
 * sqlite_sequence); 0: none, its schema alone; -1: it cannot be read. */
static int db_has_rows(const char *path)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int rc = -1, step = SQLITE_ERROR;

	/* read-write, never created: a WAL file read read-only would want
	 * its -shm; the file goes next */
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, "SELECT name FROM sqlite_master WHERE type = 'table'",
			       -1, &st, NULL) == SQLITE_OK) {
		rc = 0;
		while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW)
			rc = table_has_rows(db, sqlite3_column_text(st, 0));
		if (rc == 0 && step != SQLITE_DONE)
			rc = -1;
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	return rc;
}

/* Whether @path is still the file leased by @fd, no other process holds
 * a lease on it (the lease becomes exclusive at once, or it is kept), and
 * it holds no row. */
static bool still_new(const char *path, int fd)
{
	struct stat held, now;

	return flock(fd, LOCK_EX | LOCK_NB) == 0 && fstat(fd, &held) == 0 &&
	       stat(path, &now) == 0 && now.st_dev == held.st_dev &&
	       now.st_ino == held.st_ino &&
	       (held.st_size == 0 || db_has_rows(path) == 0);
}

/* Removes @path@suffix; 0, or -1 with @err (a missing file is gone). */
static int remove_file(const char *path, const char *suffix, char *err,
		       size_t errlen)
{
	char name[4096];

	if ((size_t)snprintf(name, sizeof(name), "%s%s", path, suffix) >= sizeof(name))
		return 0;   /* longer than any path: never created */
	if (unlink(name) == 0 || errno == ENOENT)
		return 0;
	snprintf(err, errlen, "%s: cannot remove the new database left unused: %s",
		 name, strerror(errno));
	return -1;
}

int inventory_lease_drop_new(const char *path, int fd, char *err, size_t errlen)
{
	static const char *const beside[] = { "-wal", "-shm", "-journal" };
	size_t i;

	if (fd < 0 || !still_new(path, fd))
		return 0;
	if (remove_file(path, "", err, errlen))
		return -1;
	for (i = 0; i < sizeof(beside) / sizeof(beside[0]); i++)
		if (remove_file(path, beside[i], err, errlen))
			return -1;
	return 1;
}
