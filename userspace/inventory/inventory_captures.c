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
 * be one transaction (inventory_run_begin .. inventory_run_commit), on
 * the file or on a temporary copy of it merged into the file in one
 * transaction at the end (inventory_run_merge).
 *
 * The table is this file's own, created when first needed (as the webhook
 * outbox's): it adds no schema version, so older tlswatch versions still
 * open a file that has it.
 */
#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "common/stringify.h"
#include "inventory.h"
#include "inventory_internal.h"

#define CAPTURE_TABLE "analyzed_capture ("				\
	" head_sha256 TEXT NOT NULL,"					\
	" head_len INTEGER NOT NULL,"					\
	" size INTEGER NOT NULL,"					\
	" name TEXT NOT NULL,"						\
	" added_us INTEGER NOT NULL,"					\
	" PRIMARY KEY (head_sha256, head_len, size))"

/* The digests of a capture's beginnings shorter than its head, at the
 * lengths analyze_grown.c chooses (its record ends): a copy of it cut
 * short below the head, up to its last whole record, is one of them.
 * (Rows at other lengths, of an earlier build, are digests of
 * beginnings too: a match is still one.) Up to one row per record of
 * the head: the key is the row, kept once (WITHOUT ROWID: not again in
 * an index beside the table). */
#define PREFIX_COLUMNS "("						\
	" len INTEGER NOT NULL,"					\
	" sha256 TEXT NOT NULL,"					\
	" head_sha256 TEXT NOT NULL,"					\
	" head_len INTEGER NOT NULL,"					\
	" size INTEGER NOT NULL,"					\
	" PRIMARY KEY (len, sha256, head_sha256, head_len, size))"	\
	" WITHOUT ROWID"
#define PREFIX_TABLE "analyzed_capture_prefix " PREFIX_COLUMNS
#define PREFIX_COLS "len, sha256, head_sha256, head_len, size"

/*
 * The bound on a capture's rows (inventory.h: INVENTORY_CAPTURE_PREFIX_
 * FIRST, _PAGE), said once: table @t's rows, each capture's ranked by
 * length (its record ends), and whether it is the longest in its page of
 * the file (the lengths (k - 1) * PAGE + 1 .. k * PAGE); PREFIX_KEPT
 * over them keeps the first ones and the longest of each page.
 */
#define PREFIX_RANKED(t)						\
	"SELECT " PREFIX_COLS ","					\
	" row_number() OVER (PARTITION BY head_sha256, head_len, size"	\
	"  ORDER BY len) AS nth,"					\
	" len = max(len) OVER (PARTITION BY head_sha256, head_len, size," \
	"  (len - 1) / " TW_STRINGIFY(INVENTORY_CAPTURE_PREFIX_PAGE)	\
	") AS last_in_page"						\
	" FROM " t
#define PREFIX_KEPT							\
	"(nth <= " TW_STRINGIFY(INVENTORY_CAPTURE_PREFIX_FIRST)		\
	" OR last_in_page)"

/* A run's rows are staged (one capture's are all its record ends), and
 * those kept moved into the file's table at the end of the run. */
#define PREFIX_NEW "temp.analyzed_capture_prefix_new"
static const char sql_keep_new[] =
	"INSERT OR IGNORE INTO main.analyzed_capture_prefix SELECT " PREFIX_COLS
	" FROM (" PREFIX_RANKED(PREFIX_NEW) ") WHERE " PREFIX_KEPT ";"
	"DELETE FROM " PREFIX_NEW;

/*
 * The rows an older tlswatch kept beyond the bound, deleted in schema @s
 * (PREFIX_BOUND_OLD). The file marks, for each bound (first, page: one
 * row per bound, so builds of different bounds leave each other's be),
 * the last capture it was applied to (its rowid: captures are only ever
 * added, each after the last); a run bounds the captures added since
 * then by others than itself (an older tlswatch writing into the file
 * after a newer one), and marks the file's last capture. The first run
 * on a file marks none: every capture, a sort of the whole table (12 s
 * for 800,000 rows on 2 CPUs), once; later runs look only at the
 * captures added since (PREFIX_PENDING), and sort nothing when those are
 * their own. Through a temporary table of the rows to drop, each then
 * deleted by its key (a NOT IN over the ranked rows is scanned again
 * for each row).
 */
#define PREFIX_MARK_WHERE						\
	" WHERE first = " TW_STRINGIFY(INVENTORY_CAPTURE_PREFIX_FIRST)		\
	" AND page = " TW_STRINGIFY(INVENTORY_CAPTURE_PREFIX_PAGE)
#define PREFIX_MARK_CREATE(s)						\
	"CREATE TABLE IF NOT EXISTS " s "analyzed_capture_prefix_mark"	\
	" (first INTEGER NOT NULL, page INTEGER NOT NULL,"		\
	" upto INTEGER NOT NULL, PRIMARY KEY (first, page));"		\
	"INSERT OR IGNORE INTO " s "analyzed_capture_prefix_mark VALUES (" \
	TW_STRINGIFY(INVENTORY_CAPTURE_PREFIX_FIRST) ", "			\
	TW_STRINGIFY(INVENTORY_CAPTURE_PREFIX_PAGE) ", 0)"
/* the captures added since the mark, not by this run */
#define PREFIX_SINCE(s)							\
	"SELECT head_sha256, head_len, size FROM " s "analyzed_capture"	\
	" WHERE rowid > (SELECT upto FROM " s "analyzed_capture_prefix_mark" \
	PREFIX_MARK_WHERE ")"						\
	" EXCEPT SELECT head_sha256, head_len, size FROM temp.analyzed_capture_run"
#define PREFIX_PENDING(s) "SELECT EXISTS (" PREFIX_SINCE(s) ")"
#define PREFIX_BOUND_OLD(s)						\
	"CREATE TEMP TABLE IF NOT EXISTS analyzed_capture_prefix_drop "	\
	PREFIX_COLUMNS ";"						\
	"INSERT OR IGNORE INTO temp.analyzed_capture_prefix_drop"	\
	" SELECT " PREFIX_COLS " FROM ("				\
	PREFIX_RANKED(s "analyzed_capture_prefix"			\
		      " WHERE (head_sha256, head_len, size) IN ("	\
		      PREFIX_SINCE(s) ")") ") WHERE NOT " PREFIX_KEPT ";" \
	"DELETE FROM " s "analyzed_capture_prefix WHERE (" PREFIX_COLS ") IN" \
	" (SELECT " PREFIX_COLS " FROM temp.analyzed_capture_prefix_drop);" \
	"DROP TABLE temp.analyzed_capture_prefix_drop"
#define PREFIX_MARK(s)							\
	"UPDATE " s "analyzed_capture_prefix_mark SET upto ="		\
	" (SELECT coalesce(max(rowid), 0) FROM " s "analyzed_capture)"	\
	PREFIX_MARK_WHERE

static const char sql_create[] =
	"CREATE TABLE IF NOT EXISTS " CAPTURE_TABLE ";"
	"CREATE TABLE IF NOT EXISTS " PREFIX_TABLE ";"
	"CREATE TEMP TABLE IF NOT EXISTS analyzed_capture_prefix_new " PREFIX_COLUMNS ";"
	/* the captures this run added (bounded as they were staged) */
	"CREATE TEMP TABLE IF NOT EXISTS analyzed_capture_run"
	" (head_sha256 TEXT NOT NULL, head_len INTEGER NOT NULL,"
	" size INTEGER NOT NULL)";

/* The exact capture first, then one that begins with the same bytes. */
static const char sql_find[] =
	"SELECT name, added_us, size FROM analyzed_capture"
	" WHERE head_sha256 = ?1 AND head_len = ?2"
	" ORDER BY size != ?3, added_us LIMIT 1";

/* The captures digested whole (smaller than the head then), by size. */
static const char sql_short_heads[] =
	"SELECT head_sha256, head_len FROM analyzed_capture"
	" WHERE head_len = size AND head_len < ?1 ORDER BY head_len";

/* The capture, longer than ?3, one of whose beginnings this is. */
static const char sql_find_prefix[] =
	"SELECT c.name, c.added_us, c.size FROM analyzed_capture_prefix p"
	" JOIN analyzed_capture c USING (head_sha256, head_len, size)"
	" WHERE p.len = ?1 AND p.sha256 = ?2 AND p.size > ?3"
	" ORDER BY c.added_us LIMIT 1";

static const char sql_add_prefix[] =
	"INSERT OR IGNORE INTO " PREFIX_NEW
	" (len, sha256, head_sha256, head_len, size) VALUES (?4, ?5, ?1, ?2, ?3)";

static const char sql_add[] =
	"INSERT OR IGNORE INTO analyzed_capture"
	" (head_sha256, head_len, size, name, added_us) VALUES (?1, ?2, ?3, ?4, ?5)";
static const char sql_add_run[] =
	"INSERT INTO temp.analyzed_capture_run VALUES (?1, ?2, ?3)";

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

/* The row @st (name, added_us, size) finds, into *@out, @st finalized:
 * 1, 0 none, or -1 with @err. */
static int captures_found(struct inventory *inv, sqlite3_stmt *st,
			  struct inventory_capture_added *out, char *err,
			  size_t errlen)
{
	int rc = sqlite3_step(st);

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

int inventory_capture_find(struct inventory *inv, const struct inventory_capture *c,
			   struct inventory_capture_added *out, char *err,
			   size_t errlen)
{
	sqlite3_stmt *st = NULL;

	memset(out, 0, sizeof(*out));
	if (captures_prepare(inv, sql_find, &st, err, errlen))
		return -1;
	if (!captures_bind_id(st, c)) {
		sqlite3_finalize(st);
		return inv_fail(inv, "the captures added", err, errlen);
	}
	return captures_found(inv, st, out, err, errlen);
}

int inventory_capture_find_prefix(struct inventory *inv, uint32_t len,
				  const char *sha256, uint64_t shorter,
				  struct inventory_capture_added *out, char *err,
				  size_t errlen)
{
	sqlite3_stmt *st = NULL;

	memset(out, 0, sizeof(*out));
	if (captures_prepare(inv, sql_find_prefix, &st, err, errlen))
		return -1;
	if (sqlite3_bind_int64(st, 1, len) != SQLITE_OK ||
	    sqlite3_bind_text(st, 2, sha256, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 3, (sqlite3_int64)shorter) != SQLITE_OK) {
		sqlite3_finalize(st);
		return inv_fail(inv, "the captures added", err, errlen);
	}
	return captures_found(inv, st, out, err, errlen);
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
	/* and as this run's, which the bound of others' rows passes over */
	if (captures_prepare(inv, sql_add_run, &st, err, errlen))
		return -1;
	rc = captures_bind_id(st, c) ? sqlite3_step(st) : SQLITE_ERROR;
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return inv_fail(inv, "adding a capture", err, errlen);
	return 0;
}

int inventory_capture_add_prefix(struct inventory *inv,
				 const struct inventory_capture *c, uint32_t len,
				 const char *sha256, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (inv_run_lost(inv, err, errlen) ||
	    captures_prepare(inv, sql_add_prefix, &st, err, errlen))
		return -1;
	if (!captures_bind_id(st, c) ||
	    sqlite3_bind_int64(st, 4, len) != SQLITE_OK ||
	    sqlite3_bind_text(st, 5, sha256, -1, SQLITE_STATIC) != SQLITE_OK) {
		sqlite3_finalize(st);
		return inv_fail(inv, "adding a capture", err, errlen);
	}
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return inv_fail(inv, "adding a capture", err, errlen);
	return 0;
}

/* The bound applied to the captures of schema @create's file added since
 * its mark (PREFIX_MARK_CREATE, PREFIX_PENDING, PREFIX_BOUND_OLD,
 * PREFIX_MARK of one schema), in the transaction open. SQLITE_OK, or
 * SQLite's error. */
static int prefixes_bound_since(sqlite3 *db, const char *create,
				const char *pending, const char *bound_old,
				const char *mark)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_exec(db, create, NULL, NULL, NULL), any = 0;

	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(db, pending, -1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		any = sqlite3_column_int(st, 0);
		rc = SQLITE_OK;
	}
	/* finalized first: a statement still running locks the tables the
	 * bound drops */
	sqlite3_finalize(st);
	if (rc == SQLITE_OK && any)
		rc = sqlite3_exec(db, bound_old, NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, mark, NULL, NULL, NULL);
	return rc;
}
#define PREFIXES_BOUND_SINCE(db, s)					\
	prefixes_bound_since(db, PREFIX_MARK_CREATE(s), PREFIX_PENDING(s), \
			     PREFIX_BOUND_OLD(s), PREFIX_MARK(s))

int inventory_capture_prune_prefixes(struct inventory *inv, char *err,
				     size_t errlen)
{
	if (inv_run_lost(inv, err, errlen) ||
	    sqlite3_exec(inv->db, sql_create, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(inv->db, sql_keep_new, NULL, NULL, NULL) != SQLITE_OK ||
	    /* a copy's older rows are not merged into the file, whose own
	     * are bounded by the merge (inventory_run_merge) */
	    (!inv->is_copy &&
	     PREFIXES_BOUND_SINCE(inv->db, "main.") != SQLITE_OK))
		return inv_fail(inv, "bounding the captures' beginnings", err,
				errlen);
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

/*
 * What a run on a copy wrote, carried into the file: the rows of the
 * tables an `analyze --db` run writes (served: sightings, findings,
 * rollbacks; analyzed_capture and analyzed_capture_prefix: the captures'
 * records, the run's bounded already on the copy, the file's of an older
 * tlswatch bounded here, since the file's mark) that differ from
 * the file's. A run only adds and updates rows, never deletes one, and
 * the lease keeps tlswatch's other writers off the file, so each row of
 * the copy that is not in the file as it is (EXCEPT compares whole
 * rows) is the run's, and replaces the file's row of the same key. The
 * copy is a backup of the file, so both tables have the same columns in
 * the same order.
 */
static const char sql_merge[] =
	"CREATE TABLE IF NOT EXISTS main." CAPTURE_TABLE ";"
	"CREATE TABLE IF NOT EXISTS main." PREFIX_TABLE ";"
	"CREATE TABLE IF NOT EXISTS run_file." CAPTURE_TABLE ";"
	"CREATE TABLE IF NOT EXISTS run_file." PREFIX_TABLE ";"
	"INSERT OR REPLACE INTO run_file.served"
	" SELECT * FROM main.served EXCEPT SELECT * FROM run_file.served;"
	"INSERT OR IGNORE INTO run_file.analyzed_capture"
	" SELECT * FROM main.analyzed_capture;"
	"INSERT OR IGNORE INTO run_file.analyzed_capture_prefix"
	" SELECT * FROM main.analyzed_capture_prefix";

/* @inv's message, for the file @path. -1. */
static int merge_fail(struct inventory *inv, const char *path, const char *what,
		      char *err, size_t errlen)
{
	snprintf(err, errlen, "inventory %s: %s: %s", path, what,
		 sqlite3_errmsg(inv->db));
	return -1;
}

int inventory_run_merge(struct inventory *copy, const char *path, char *err,
			size_t errlen)
{
	sqlite3_stmt *st = NULL;
	int rc = -1;

	/* ATTACH cannot run inside a transaction: the copy's is committed */
	if (!sqlite3_get_autocommit(copy->db)) {
		snprintf(err, errlen, "inventory %s: merging the run: the copy's "
			 "transaction is still open", path);
		return -1;
	}
	if (sqlite3_prepare_v2(copy->db, "ATTACH ?1 AS run_file", -1, &st,
			       NULL) != SQLITE_OK ||
	    sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_DONE) {
		merge_fail(copy, path, "opening it to merge the run into", err, errlen);
		sqlite3_finalize(st);
		return -1;
	}
	sqlite3_finalize(st);
	if (sqlite3_exec(copy->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		merge_fail(copy, path, "beginning the run's merge", err, errlen);
	else if (sqlite3_exec(copy->db, sql_merge, NULL, NULL, NULL) != SQLITE_OK ||
		 sqlite3_exec(copy->db, sql_create, NULL, NULL, NULL) != SQLITE_OK ||
		 PREFIXES_BOUND_SINCE(copy->db, "run_file.") != SQLITE_OK ||
		 sqlite3_exec(copy->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		merge_fail(copy, path, "merging the run", err, errlen);
	else
		rc = 0;
	/* a failed statement or COMMIT may leave it open: nothing merged */
	if (!sqlite3_get_autocommit(copy->db))
		sqlite3_exec(copy->db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_exec(copy->db, "DETACH run_file", NULL, NULL, NULL);
	return rc;
}
