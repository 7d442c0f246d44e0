/* SPDX-License-Identifier: MIT */
/* Reading a SQLite file the way another process would, for tests. */
#ifndef TW_DB_PEEK_H
#define TW_DB_PEEK_H

#include <sqlite3.h>

/* The first column of @sql's first row, from a separate read-only
 * connection; -999 when there is none. */
static inline long long db_peek(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	long long v = -999;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

/* The inventory's table as schema version 1 made it: for the tests of
 * the migrations (the files older tlswatch versions left). */
#define DB_INVENTORY_V1_SCHEMA                                                 \
	"CREATE TABLE served (name TEXT NOT NULL, addr TEXT NOT NULL,"        \
	" port INTEGER NOT NULL, sha256 TEXT NOT NULL,"                       \
	" subject TEXT NOT NULL DEFAULT '', issuer TEXT NOT NULL DEFAULT '',"  \
	" not_before INTEGER NOT NULL, not_after INTEGER NOT NULL,"           \
	" first_seen_us INTEGER NOT NULL, last_seen_us INTEGER NOT NULL,"     \
	" count INTEGER NOT NULL DEFAULT 0, findings TEXT NOT NULL DEFAULT '',"\
	" PRIMARY KEY (name, addr, port, sha256));"

#endif
