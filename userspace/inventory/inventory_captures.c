// SPDX-License-Identifier: MIT
/*
 * The captures `tlswatch analyze --db` added to a database, so that the
 * same capture given again is refused instead of counted twice (its
 * sightings would add to every row's count). A capture is known by the
 * SHA-256 of its first bytes (at most INVENTORY_CAPTURE_HEAD) and its
 * size in bytes: a copy or a move is the same capture, and one that grew
 * since (tcpdump still writing) begins with the same bytes.
 *
 * An `analyze --db` run's writes, and the records of its captures, can
 * be one transaction (inventory_run_begin .. inventory_run_commit).
 *
 * The table is this file's own, created when first needed (as the webhook
 * outbox's): it adds no schema version, so older tlswatch versions still
 * open a file that has it.
 */
#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "inventory.h"
#include "inventory_internal.h"

static const char sql_create[] =
	"CREATE TABLE IF NOT EXISTS analyzed_capture ("
	" head_sha256 TEXT NOT NULL,"
	" head_len INTEGER NOT NULL,"
	" size INTEGER NOT NULL,"
	" name TEXT NOT NULL,"
	" added_us INTEGER NOT NULL,"
	" PRIMARY KEY (head_sha256, head_len, size))";

/* The exact capture first, then one that begins with the same bytes. */
static const char sql_find[] =
	"SELECT name, added_us, size FROM analyzed_capture"
	" WHERE head_sha256 = ?1 AND head_len = ?2"
	" ORDER BY size != ?3, added_us LIMIT 1";

/* The captures digested whole (smaller than the head then), by size. */
static const char sql_short_heads[] =
	"SELECT head_sha256, head_len FROM analyzed_capture"
	" WHERE head_len = size AND head_len < ?1 ORDER BY head_len";

static const char sql_add[] =
	"INSERT OR IGNORE INTO analyzed_capture"
	" (head_sha256, head_len, size, name, added_us) VALUES (?1, ?2, ?3, ?4, ?5)";

static int captures_prepare(struct inventory *inv, const char *sql,
			    sqlite3_stmt **st, char *err, size_t errlen)
{
	if (sqlite3_exec(inv->db, sql_create, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(inv->db, sql, -1, st, NULL) != SQLITE_OK)
		return inv_fail(inv, "the captures added", err, errlen);
	return 0;
}

static bool captures_bind_id(sqlite3_stmt *st, const struct inventory_capture *c)
{
	return sqlite3_bind_text(st, 1, c->head_sha256, -1, SQLITE_STATIC) == SQLITE_OK &&
	       sqlite3_bind_int64(st, 2, c->head_len) == SQLITE_OK &&
	       sqlite3_bind_int64(st, 3, (sqlite3_int64)c->size) == SQLITE_OK;
}

int inventory_capture_find(struct inventory *inv, const struct inventory_capture *c,
			   struct inventory_capture_added *out, char *err,
			   size_t errlen)
{
	sqlite3_stmt *st = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if (captures_prepare(inv, sql_find, &st, err, errlen))
		return -1;
	if (!captures_bind_id(st, c)) {
		sqlite3_finalize(st);
		return inv_fail(inv, "the captures added", err, errlen);
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		inv_col_text(st, 0, out->name, sizeof(out->name));
		out->added_us = (uint64_t)sqlite3_column_int64(st, 1);
		out->size = (uint64_t)sqlite3_column_int64(st, 2);
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc != SQLITE_DONE)
		return inv_fail(inv, "the captures added", err, errlen);
	return 0;
}

int inventory_capture_short_heads(struct inventory *inv,
				  int (*fn)(void *ctx, const struct inventory_capture *c),
				  void *ctx, char *err, size_t errlen)
{
	struct inventory_capture c;
	sqlite3_stmt *st = NULL;
	int rc, stop = 0;

	if (captures_prepare(inv, sql_short_heads, &st, err, errlen))
		return -1;
	if (sqlite3_bind_int64(st, 1, INVENTORY_CAPTURE_HEAD) != SQLITE_OK) {
		sqlite3_finalize(st);
		return inv_fail(inv, "the captures added", err, errlen);
	}
	/* one scan of the table, for the run */
	while (!stop && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		inv_col_text(st, 0, c.head_sha256, sizeof(c.head_sha256));
		c.head_len = (uint32_t)sqlite3_column_int64(st, 1);
		c.size = c.head_len;
		stop = fn(ctx, &c);
	}
	sqlite3_finalize(st);
	if (stop)
		return stop;
	if (rc != SQLITE_DONE)
		return inv_fail(inv, "the captures added", err, errlen);
	return 0;
}

int inventory_capture_add(struct inventory *inv, const struct inventory_capture *c,
			  const char *name, uint64_t added_us, char *err,
			  size_t errlen)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (inv_run_lost(inv, err, errlen) ||
	    captures_prepare(inv, sql_add, &st, err, errlen))
		return -1;
	if (!captures_bind_id(st, c) ||
	    sqlite3_bind_text(st, 4, nz(name), -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 5, (sqlite3_int64)added_us) != SQLITE_OK) {
		sqlite3_finalize(st);
		return inv_fail(inv, "adding a capture", err, errlen);
	}
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return inv_fail(inv, "adding a capture", err, errlen);
	return 0;
}

int inventory_run_begin(struct inventory *inv, char *err, size_t errlen)
{
	if (sqlite3_exec(inv->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return inv_fail(inv, "beginning the run's transaction", err, errlen);
	inv->run_open = true;
	return 0;
}

int inventory_run_commit(struct inventory *inv, char *err, size_t errlen)
{
	/* before the flush: once SQLite rolled the transaction back itself
	 * (a full disk), the flush and COMMIT would commit what is not the
	 * run's, the counts in memory alone (inv_run_lost) */
	if (inv_run_lost(inv, err, errlen) || inventory_flush(inv, err, errlen) ||
	    inv_run_lost(inv, err, errlen))
		return -1;
	if (sqlite3_exec(inv->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		return inv_fail(inv, "committing the run", err, errlen);
	inv->run_open = false;
	return 0;
}

void inventory_run_rollback(struct inventory *inv)
{
	if (!sqlite3_get_autocommit(inv->db))
		sqlite3_exec(inv->db, "ROLLBACK", NULL, NULL, NULL);
	inv->run_open = false;
}
