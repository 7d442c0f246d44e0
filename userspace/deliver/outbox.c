// SPDX-License-Identifier: MIT
/*
 * The webhook outbox in SQLite. Every statement is prepared once at open
 * from the table below; a write that touches more than one row (put,
 * claim) is one IMMEDIATE transaction, so a crash leaves either all of it
 * or none. Ids are AUTOINCREMENT: an id is never reused, so a late ack for
 * a row the bound dropped cannot delete a newer alert.
 *
 * An outcome (ack, retry, fail) the file cannot take, say on a full disk,
 * is kept in memory (struct ob_unwritten) and is in effect all the same:
 * outbox_due and outbox_next_due_us read each row through it, so a
 * delivered row is not handed out again and a retried one waits for its
 * time, as when the write succeeds. Every write transaction begins by
 * writing what is kept (ob_begin), so the first write that succeeds
 * carries them into the file; until then the file keeps the rows as they
 * were, and a restart sends them again (at least once).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <sqlite3.h>

#include "common/digest.h"
#include "common/grow.h"
#include "common/hex.h"
#include "common/strmap.h"
#include "outbox.h"

#define OUTBOX_SCHEMA_VERSION 5
#define OUTBOX_BUSY_TIMEOUT_MS 5000

/* migrations[i] takes the outbox's tables from version i to i + 1. */
static const char *const outbox_migrations[OUTBOX_SCHEMA_VERSION] = {
	"CREATE TABLE outbox ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" target TEXT NOT NULL,"
	" idem_key TEXT NOT NULL,"
	" critical INTEGER NOT NULL,"
	" body BLOB NOT NULL,"
	" created_us INTEGER NOT NULL,"
	" next_attempt_us INTEGER NOT NULL,"
	" attempts INTEGER NOT NULL DEFAULT 0,"
	" UNIQUE (target, idem_key));"
	"CREATE INDEX outbox_by_due ON outbox (next_attempt_us);"
	"CREATE INDEX outbox_by_victim ON outbox (critical, id);"
	"CREATE TABLE outbox_sent ("
	" dedup_key TEXT PRIMARY KEY,"
	" sent_us INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE INDEX outbox_sent_by_time ON outbox_sent (sent_us)",
	/* 2: the order of an alert's rows per target (outbox.h); a row
	 * stored before has no order key */
	"ALTER TABLE outbox ADD COLUMN order_key TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE outbox ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;"
	"UPDATE outbox SET seq = id;"
	"CREATE INDEX outbox_by_order ON outbox (target, order_key, seq);"
	"CREATE INDEX outbox_by_seq ON outbox (seq, id);"
	/* the targets done with an alert other targets still wait for
	 * (outbox_retarget gives them no copy) */
	"CREATE INDEX outbox_by_key ON outbox (idem_key);"
	"CREATE TABLE outbox_done ("
	" target TEXT NOT NULL,"
	" idem_key TEXT NOT NULL,"
	" PRIMARY KEY (target, idem_key)) WITHOUT ROWID;"
	"CREATE INDEX outbox_done_by_key ON outbox_done (idem_key)",
	/* 3: a row that means nothing without the one before it in its
	 * order (a spike's "resolved"), dropped with it by the bound, or
	 * when it comes after its predecessor was dropped (outbox_orphans:
	 * the groups whose last row was) */
	"ALTER TABLE outbox ADD COLUMN sequel INTEGER NOT NULL DEFAULT 0;"
	"DROP INDEX IF EXISTS outbox_by_victim;"
	"CREATE INDEX outbox_by_victim ON outbox (critical, sequel, id);"
	"CREATE TABLE outbox_orphans ("
	" target TEXT NOT NULL,"
	" order_key TEXT NOT NULL,"
	" PRIMARY KEY (target, order_key)) WITHOUT ROWID",
	/* 4: only a row that can have a sequel (a spike's firing) leaves a
	 * mark, and the marks are bounded, the oldest (lowest rowid)
	 * forgotten: version 3 marked every ordered row it dropped, its
	 * marks are mostly certificates' and go (a mark lost costs a
	 * resolution sent without its firing, never an alert kept open) */
	"ALTER TABLE outbox ADD COLUMN opens INTEGER NOT NULL DEFAULT 0;"
	"DROP TABLE outbox_orphans;"
	"CREATE TABLE outbox_orphans ("
	" target TEXT NOT NULL,"
	" order_key TEXT NOT NULL,"
	" UNIQUE (target, order_key))",
	/* 5: a mark names the alert (idempotency key) of the firing it
	 * stands for, so a retarget gives it to the targets given now that
	 * were not given that alert, as the rows (outbox_retarget); a target
	 * done with that alert is remembered while a mark of it lasts.
	 * Version 4's marks name none and stay with their target. */
	("ALTER TABLE outbox_orphans ADD COLUMN idem_key TEXT NOT NULL DEFAULT '';"
	 "CREATE INDEX outbox_orphans_by_key ON outbox_orphans (idem_key)"),
};

enum outbox_stmt {
	OB_EXISTS, OB_COUNT, OB_DROP, OB_INSERT, OB_DUE, OB_NEXT, OB_DELETE,
	OB_RETRY, OB_SENT_PRUNE, OB_SENT_GET, OB_SENT_PUT, OB_ALL, OB_SENT_ALL,
	OB_SENT_MERGE, OB_SEQ_SELF, OB_HOLD, OB_GET, OB_TARGETS, OB_FINISH,
	OB_SIBLING, OB_DONE_PUT, OB_DONE_FORGET, OB_DONE_HAS, OB_DONE_PRUNE,
	OB_DROP_SEQUELS, OB_LATER, OB_ORPHAN_PUT, OB_ORPHAN_TAKE, OB_ORPHANS_ALL,
	OB_ORPHAN_CAP, OB_TRIED, OB_ORPHAN_TARGETS, OB_ORPHAN_GET, OB_ORPHAN_DEL,
	OB_NSTMT
};

/* The columns of a row read whole (OB_DUE, OB_ALL, OB_GET): ob_read_item. */
#define OB_ROW_COLUMNS "id, target, idem_key, critical, body, attempts," \
		       " created_us, order_key, seq, sequel, opens"

static const char *const outbox_sql[OB_NSTMT] = {
	[OB_EXISTS] = "SELECT 1 FROM outbox WHERE target = ?1 AND idem_key = ?2",
	[OB_COUNT] = "SELECT count(*) FROM outbox",
	/* The victim of the bound: non-critical (0) before critical, a row
	 * before a sequel (whose predecessor may have gone to its receiver:
	 * dropped, the alert would never end there), oldest. */
	[OB_DROP] = "DELETE FROM outbox WHERE id = (SELECT id FROM outbox"
		    " ORDER BY critical, sequel, id LIMIT 1)"
		    " RETURNING id, target, order_key, seq, sequel, attempts, opens,"
		    " idem_key",
	/* the sequels right after row ?3 of its group, up to its next row
	 * that is not one (ob_drop_victim) */
	[OB_DROP_SEQUELS] = "DELETE FROM outbox WHERE target = ?1 AND order_key = ?2"
			    " AND sequel = 1 AND seq > ?3 AND seq < ifnull((SELECT"
			    " min(seq) FROM outbox WHERE target = ?1 AND order_key = ?2"
			    " AND sequel = 0 AND seq > ?3), 9223372036854775807)"
			    " RETURNING id",
	[OB_LATER] = "SELECT 1 FROM outbox WHERE target = ?1 AND order_key = ?2"
		     " AND seq > ?3 LIMIT 1",
	/* marked again, a group is the newest: the last the cap forgets */
	[OB_ORPHAN_PUT] = "INSERT OR REPLACE INTO outbox_orphans (target, order_key,"
			  " idem_key) VALUES (?1, ?2, ?3)",
	/* the marks past the newest ?1 (max_rows) */
	[OB_ORPHAN_CAP] = "DELETE FROM outbox_orphans WHERE rowid IN (SELECT rowid"
			  " FROM outbox_orphans ORDER BY rowid DESC LIMIT -1 OFFSET ?1)",
	[OB_ORPHAN_TAKE] = "DELETE FROM outbox_orphans WHERE target = ?1"
			   " AND order_key = ?2",
	[OB_ORPHANS_ALL] = "SELECT target, order_key, idem_key FROM outbox_orphans",
	/* outbox_retarget: the marks that name their alert, in age order;
	 * then one of them, to give and remove */
	[OB_ORPHAN_TARGETS] = "SELECT rowid, target FROM outbox_orphans"
			      " WHERE idem_key != '' ORDER BY rowid",
	[OB_ORPHAN_GET] = "SELECT target, order_key, idem_key FROM outbox_orphans"
			  " WHERE rowid = ?1",
	[OB_ORPHAN_DEL] = "DELETE FROM outbox_orphans WHERE rowid = ?1",
	[OB_INSERT] = "INSERT INTO outbox (target, idem_key, critical, body,"
		      " created_us, next_attempt_us, attempts, order_key, seq,"
		      " sequel, opens) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9,"
		      " ?10, ?11)",
	/* in each order key's order (ob_held) */
	[OB_DUE] = "SELECT " OB_ROW_COLUMNS " FROM outbox"
		   " WHERE next_attempt_us <= ?1 OR next_attempt_us > ?2"
		   " ORDER BY seq, id",
	[OB_NEXT] = "SELECT id, next_attempt_us, target FROM outbox"
		    " ORDER BY next_attempt_us, id",
	[OB_DELETE] = "DELETE FROM outbox WHERE id = ?1",
	[OB_RETRY] = "UPDATE outbox SET attempts = attempts + ?3,"
		     " next_attempt_us = ?2 WHERE id = ?1",
	/* an attempt begun (outbox_due), or taken back (outbox_release) */
	[OB_TRIED] = "UPDATE outbox SET attempts = max(attempts + ?2, 0)"
		     " WHERE id = ?1",
	[OB_SENT_PRUNE] = "DELETE FROM outbox_sent WHERE sent_us <= ?1",
	[OB_SENT_GET] = "SELECT sent_us FROM outbox_sent WHERE dedup_key = ?1",
	[OB_SENT_PUT] = "INSERT INTO outbox_sent (dedup_key, sent_us)"
			" VALUES (?1, ?2) ON CONFLICT (dedup_key)"
			" DO UPDATE SET sent_us = excluded.sent_us",
	/* outbox_move: every row with its schedule, every claim; a claim
	 * already in the destination keeps the later time. */
	[OB_ALL] = "SELECT " OB_ROW_COLUMNS ", next_attempt_us FROM outbox"
		   " ORDER BY id",
	[OB_SENT_ALL] = "SELECT dedup_key, sent_us FROM outbox_sent",
	[OB_SENT_MERGE] = "INSERT INTO outbox_sent (dedup_key, sent_us)"
			  " VALUES (?1, ?2) ON CONFLICT (dedup_key)"
			  " DO UPDATE SET sent_us = max(sent_us, excluded.sent_us)",
	/* a new alert's place in its order key's order is its own id */
	[OB_SEQ_SELF] = "UPDATE outbox SET seq = id WHERE id = last_insert_rowid()",
	/* the rows a row of the same target and order key waits for */
	[OB_HOLD] = "SELECT id FROM outbox WHERE target = ?1 AND order_key = ?2"
		    " AND (seq < ?3 OR (seq = ?3 AND id < ?4))",
	/* outbox_retarget: each row's target, then a row to copy */
	[OB_GET] = "SELECT " OB_ROW_COLUMNS " FROM outbox WHERE id = ?1",
	[OB_TARGETS] = "SELECT id, target FROM outbox ORDER BY id",
	/* outbox_done: a row acknowledged or refused while its alert's other
	 * rows wait (ob_finish_locked) */
	[OB_FINISH] = "DELETE FROM outbox WHERE id = ?1 RETURNING target, idem_key",
	/* a mark of the alert (a firing dropped unsent) counts as a row
	 * waiting: a retarget gives the mark to targets not done with it */
	[OB_SIBLING] = "SELECT 1 FROM outbox WHERE idem_key = ?1 UNION ALL"
		       " SELECT 1 FROM outbox_orphans WHERE idem_key = ?1 LIMIT 1",
	[OB_DONE_PUT] = "INSERT OR IGNORE INTO outbox_done (target, idem_key)"
			" VALUES (?1, ?2)",
	[OB_DONE_FORGET] = "DELETE FROM outbox_done WHERE idem_key = ?1",
	[OB_DONE_HAS] = "SELECT 1 FROM outbox_done WHERE target = ?1 AND idem_key = ?2",
	[OB_DONE_PRUNE] = "DELETE FROM outbox_done WHERE idem_key NOT IN"
			  " (SELECT idem_key FROM outbox UNION"
			  " SELECT idem_key FROM outbox_orphans)",
};

/* An outcome the file could not take yet (see the top). */
struct ob_unwritten {
	int64_t id;
	bool gone;               /* acked or failed: the row is to be deleted */
	int attempts;            /* else retried: attempts to add, */
	int64_t next_us;         /* and its next attempt */
};

struct outbox {
	sqlite3 *db;
	sqlite3_stmt *st[OB_NSTMT];
	int64_t max_rows;
	int64_t cooldown_us;
	int64_t *inflight;        /* ids handed out, sorted ascending */
	size_t n_inflight, cap_inflight;
	struct ob_unwritten *unwritten;   /* sorted by id, at most max_rows */
	size_t n_unwritten, cap_unwritten;
	struct strmap *groups;    /* of a pass of outbox_due: (order key, target) */
	bool marks_gone;          /* outbox_done may keep alerts of no row */
				  /* nor mark: ob_forget_done when it is safe */
	struct outbox_stats stats;
	char where[128];          /* the path, or ":memory:", for messages */
	char err[256];
};

/* Records why the database failed; the caller returns what this does:
 * -ENOSPC when the disk is full (the owner may write again once space is
 * freed), else -EIO. */
static int ob_fail(struct outbox *ob, const char *what)
{
	snprintf(ob->err, sizeof(ob->err), "outbox %s: %s: %s", ob->where, what,
		 sqlite3_errmsg(ob->db));
	return (sqlite3_extended_errcode(ob->db) & 0xff) == SQLITE_FULL ? -ENOSPC : -EIO;
}

/* Records why a call was refused before the database saw it; returns @rc. */
static int __attribute__((format(printf, 3, 4)))
ob_refuse(struct outbox *ob, int rc, const char *fmt, ...)
{
	char why[192];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	snprintf(ob->err, sizeof(ob->err), "outbox %s: %s", ob->where, why);
	return rc;
}

static int ob_exec(struct outbox *ob, const char *sql, const char *what)
{
	if (sqlite3_exec(ob->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return ob_fail(ob, what);
	return 0;
}

/* A prepared statement, reset and unbound, ready for new values. */
static sqlite3_stmt *ob_stmt(struct outbox *ob, enum outbox_stmt which)
{
	sqlite3_stmt *st = ob->st[which];

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return st;
}

/* Runs a statement that returns no row. 0 or ob_fail()'s -errno. */
static int ob_done(struct outbox *ob, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);

	rc = rc == SQLITE_DONE ? 0 : ob_fail(ob, what);
	sqlite3_reset(st);
	return rc;
}

/* The first column of the first row: 1 with *@v set, 0 for no row. */
static int ob_int64(struct outbox *ob, sqlite3_stmt *st, int64_t *v,
		    const char *what)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_ROW) {
		*v = sqlite3_column_int64(st, 0);
		rc = 1;
	} else {
		rc = rc == SQLITE_DONE ? 0 : ob_fail(ob, what);
	}
	sqlite3_reset(st);
	return rc;
}

/* Column @col as text, "" for NULL, cut to @len. */
static void ob_col_text(sqlite3_stmt *st, int col, char *out, size_t len)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	snprintf(out, len, "%s", t ? (const char *)t : "");
}

/* Ends the transaction ob_begin began for an operation that returned @rc;
 * committed, the outcomes kept in memory are in the file. */
static int ob_end(struct outbox *ob, int rc)
{
	int c;

	if (rc >= 0 && (c = ob_exec(ob, "COMMIT", "committing")))
		rc = c;
	if (rc < 0)
		sqlite3_exec(ob->db, "ROLLBACK", NULL, NULL, NULL);
	else
		ob->n_unwritten = 0;
	return rc;
}

/* --- sorted arrays in memory, of elements that begin with an int64_t id */

static int64_t ob_id_at(const void *base, size_t size, size_t i)
{
	int64_t id;

	memcpy(&id, (const char *)base + i * size, sizeof(id));
	return id;
}

/* Where @id is, or would go. */
static size_t ob_pos(const void *base, size_t n, size_t size, int64_t id)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ob_id_at(base, size, mid) < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Opens a zeroed slot at @i (grown by doubling), or NULL (no memory). */
static void *ob_open_slot(void **base, size_t *n, size_t *cap, size_t size,
			  size_t i)
{
	char *a;

	if (tw_grow(base, cap, size, *n, 1, 64, TW_GROW_NO_CAP) < 0)
		return NULL;
	a = *base;
	memmove(a + (i + 1) * size, a + i * size, (*n - i) * size);
	memset(a + i * size, 0, size);
	(*n)++;
	return a + i * size;
}

static void ob_close_slot(void *base, size_t *n, size_t size, size_t i)
{
	char *a = base;

	memmove(a + i * size, a + (i + 1) * size, (*n - i - 1) * size);
	(*n)--;
}

/* --- the in-flight set: the ids handed out */

static bool ob_inflight_has(const struct outbox *ob, int64_t id)
{
	size_t i = ob_pos(ob->inflight, ob->n_inflight, sizeof(int64_t), id);

	return i < ob->n_inflight && ob->inflight[i] == id;
}

static int ob_inflight_add(struct outbox *ob, int64_t id)
{
	size_t i = ob_pos(ob->inflight, ob->n_inflight, sizeof(int64_t), id);
	int64_t *slot;

	if (i < ob->n_inflight && ob->inflight[i] == id)
		return 0;
	slot = ob_open_slot((void **)&ob->inflight, &ob->n_inflight,
			    &ob->cap_inflight, sizeof(int64_t), i);
	if (!slot)
		return -ENOMEM;
	*slot = id;
	return 0;
}

static void ob_inflight_del(struct outbox *ob, int64_t id)
{
	size_t i = ob_pos(ob->inflight, ob->n_inflight, sizeof(int64_t), id);

	if (i < ob->n_inflight && ob->inflight[i] == id)
		ob_close_slot(ob->inflight, &ob->n_inflight, sizeof(int64_t), i);
}

/* --- outcomes the file could not take yet (see the top) */

static struct ob_unwritten *ob_unwritten_of(const struct outbox *ob, int64_t id)
{
	size_t i = ob_pos(ob->unwritten, ob->n_unwritten, sizeof(*ob->unwritten), id);

	return i < ob->n_unwritten && ob->unwritten[i].id == id ?
	       &ob->unwritten[i] : NULL;
}

/*
 * Keeps the outcome of the handed-out row @id: deleted (@gone) or retried
 * (@attempts more) at @next_us. One per row (a row retried twice adds two
 * attempts), and only rows handed out, which the file holds: so at most
 * max_rows. Past that (a file holding more rows than this outbox's bound)
 * or without memory, -ENOSPC or -ENOMEM: the outcome is lost, and the row
 * is due as the file says (sent again: at least once still holds).
 */
static int ob_unwritten_keep(struct outbox *ob, int64_t id, bool gone,
			     int attempts, int64_t next_us)
{
	size_t i = ob_pos(ob->unwritten, ob->n_unwritten, sizeof(*ob->unwritten), id);
	struct ob_unwritten *u = ob_unwritten_of(ob, id);

	if (!u && (int64_t)ob->n_unwritten >= ob->max_rows)
		return -ENOSPC;
	if (!u && !(u = ob_open_slot((void **)&ob->unwritten, &ob->n_unwritten,
				     &ob->cap_unwritten, sizeof(*u), i)))
		return -ENOMEM;
	u->id = id;
	u->gone = u->gone || gone;
	u->attempts += attempts;
	u->next_us = next_us;
	return 0;
}

int outbox_adopt_outcomes(struct outbox *to, struct outbox *from)
{
	const struct ob_unwritten *u;
	size_t i;
	int rc = 0;

	if (!to || !from || to == from)
		return -EINVAL;
	for (i = 0; i < from->n_unwritten; i++) {
		u = &from->unwritten[i];
		if (ob_unwritten_keep(to, u->id, u->gone, u->attempts, u->next_us) == -ENOMEM)
			rc = -ENOMEM;
	}
	from->n_unwritten = 0;   /* one connection writes them, once */
	return rc;
}

/* Inside a transaction: the row @id deleted, or retried (@attempts more,
 * due at @next_us). 0, 1 when the file has no such row, or -errno. */
static int ob_update_locked(struct outbox *ob, int64_t id, bool gone,
			    int attempts, int64_t next_us)
{
	sqlite3_stmt *st = ob_stmt(ob, gone ? OB_DELETE : OB_RETRY);
	int rc;

	if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK ||
	    (!gone && (sqlite3_bind_int64(st, 2, next_us) != SQLITE_OK ||
		       sqlite3_bind_int(st, 3, attempts) != SQLITE_OK)))
		return ob_fail(ob, "updating a row");
	if ((rc = ob_done(ob, st, "updating a row")))
		return rc;
	return sqlite3_changes(ob->db) == 1 ? 0 : 1;
}

/*
 * Inside a transaction: the row @id, acknowledged or refused for good,
 * goes. While other rows of its alert (its idempotency key) wait, its
 * target is remembered as done with it: a retarget gives it no copy of
 * theirs. The last row of an alert forgets them. 0, 1 when the file has
 * no such row, or -errno.
 */
static int ob_finish_locked(struct outbox *ob, int64_t id)
{
	char target[OUTBOX_TARGET_LEN + 1], idem[OUTBOX_KEY_LEN + 1];
	sqlite3_stmt *st = ob_stmt(ob, OB_FINISH);
	int64_t one;
	int rc;

	if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK)
		return ob_fail(ob, "removing a row");
	/* the row is deleted by the first step, which returns it */
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		ob_col_text(st, 0, target, sizeof(target));
		ob_col_text(st, 1, idem, sizeof(idem));
		rc = sqlite3_step(st);
		rc = rc == SQLITE_DONE ? 0 : ob_fail(ob, "removing a row");
	} else {
		rc = rc == SQLITE_DONE ? 1 : ob_fail(ob, "removing a row");
	}
	sqlite3_reset(st);
	if (rc)
		return rc;
	st = ob_stmt(ob, OB_SIBLING);
	if (sqlite3_bind_text(st, 1, idem, -1, SQLITE_STATIC) != SQLITE_OK)
		return ob_fail(ob, "reading an alert's rows");
	if ((rc = ob_int64(ob, st, &one, "reading an alert's rows")) < 0)
		return rc;
	st = ob_stmt(ob, rc ? OB_DONE_PUT : OB_DONE_FORGET);
	if ((rc && sqlite3_bind_text(st, 1, target, -1, SQLITE_STATIC) != SQLITE_OK) ||
	    sqlite3_bind_text(st, rc ? 2 : 1, idem, -1, SQLITE_STATIC) != SQLITE_OK)
		return ob_fail(ob, "recording a target done");
	return ob_done(ob, st, "recording a target done");
}

/* Inside a transaction: the row @id deleted (@gone, see ob_finish_locked)
 * or retried (@attempts more, due at @next_us). 0, 1 when the file has no
 * such row, or -errno. */
static int ob_change_locked(struct outbox *ob, int64_t id, bool gone,
			    int attempts, int64_t next_us)
{
	return gone ? ob_finish_locked(ob, id) :
		      ob_update_locked(ob, id, false, attempts, next_us);
}

/* Begins a write transaction, carrying the outcomes kept in memory into
 * it first (ob_end forgets them once it commits). */
static int ob_begin(struct outbox *ob, const char *what)
{
	const struct ob_unwritten *u;
	size_t i;
	int rc;

	if ((rc = ob_exec(ob, "BEGIN IMMEDIATE", what)))
		return rc;
	for (i = 0; !rc && i < ob->n_unwritten; i++) {
		u = &ob->unwritten[i];
		rc = ob_change_locked(ob, u->id, u->gone, u->attempts, u->next_us);
	}
	if (rc < 0)
		sqlite3_exec(ob->db, "ROLLBACK", NULL, NULL, NULL);
	return rc < 0 ? rc : 0;
}

/* A row's next attempt at @next_us is due at @now_us; one due later than
 * OUTBOX_MAX_DELAY_US was set by a clock since stepped back (outbox.h). */
static bool ob_is_due(int64_t next_us, int64_t now_us)
{
	return next_us <= now_us || next_us > now_us + OUTBOX_MAX_DELAY_US;
}

/* --- opening */

static int ob_schema_version(struct outbox *ob, int64_t *version)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(ob->db, "SELECT max(schema) FROM deliver_meta",
			       -1, &st, NULL) != SQLITE_OK)
		return ob_fail(ob, "reading the schema version");
	*version = 0;
	rc = ob_int64(ob, st, version, "reading the schema version");
	sqlite3_finalize(st);
	return rc < 0 ? rc : 0;
}

static int ob_migrate_locked(struct outbox *ob)
{
	char sql[96];
	int64_t v;
	int rc;

	rc = ob_exec(ob, "CREATE TABLE IF NOT EXISTS deliver_meta"
		     " (schema INTEGER NOT NULL)", "creating deliver_meta");
	if (!rc)
		rc = ob_schema_version(ob, &v);
	if (rc)
		return rc;
	if (v > OUTBOX_SCHEMA_VERSION) {
		snprintf(ob->err, sizeof(ob->err), "outbox %s: schema version %"
			 PRId64 " is newer than this tlswatch (%d)", ob->where, v,
			 OUTBOX_SCHEMA_VERSION);
		return -EIO;
	}
	if (v == OUTBOX_SCHEMA_VERSION)
		return 0;
	for (; v < OUTBOX_SCHEMA_VERSION; v++)
		if ((rc = ob_exec(ob, outbox_migrations[v], "migrating the schema")))
			return rc;
	snprintf(sql, sizeof(sql), "DELETE FROM deliver_meta;"
		 " INSERT INTO deliver_meta (schema) VALUES (%d)",
		 OUTBOX_SCHEMA_VERSION);
	return ob_exec(ob, sql, "recording the schema version");
}

/* Up to date in one transaction: two agents opening at once cannot both
 * create the tables. */
static int ob_migrate(struct outbox *ob)
{
	int rc = ob_begin(ob, "migrating the schema");

	return rc ? rc : ob_end(ob, ob_migrate_locked(ob));
}

static int ob_journal(struct outbox *ob)
{
	sqlite3_stmt *st = NULL;
	const unsigned char *mode;
	bool wal;

	if (sqlite3_prepare_v2(ob->db, "PRAGMA journal_mode = WAL", -1, &st,
			       NULL) != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		return ob_fail(ob, "enabling WAL");
	}
	mode = sqlite3_column_text(st, 0);
	wal = mode && strcmp((const char *)mode, "wal") == 0;
	sqlite3_finalize(st);
	if (!wal) {
		snprintf(ob->err, sizeof(ob->err), "outbox %s: cannot use WAL mode",
			 ob->where);
		return -EIO;
	}
	/* FULL: a put that returned survives a power cut, not just SIGKILL. */
	return ob_exec(ob, "PRAGMA synchronous = FULL", "setting synchronous");
}

static int ob_prepare(struct outbox *ob)
{
	int i;

	for (i = 0; i < OB_NSTMT; i++)
		if (sqlite3_prepare_v3(ob->db, outbox_sql[i], -1,
				       SQLITE_PREPARE_PERSISTENT, &ob->st[i],
				       NULL) != SQLITE_OK)
			return ob_fail(ob, "preparing statements");
	return 0;
}

static int ob_setup(struct outbox *ob, const char *path)
{
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
	int rc;

	if (sqlite3_open_v2(path ? path : ":memory:", &ob->db, flags, NULL) !=
	    SQLITE_OK)
		return ob->db ? ob_fail(ob, "opening") : -ENOMEM;
	sqlite3_busy_timeout(ob->db, OUTBOX_BUSY_TIMEOUT_MS);
	sqlite3_extended_result_codes(ob->db, 1);
	if (path && (rc = ob_journal(ob)))
		return rc;
	if ((rc = ob_migrate(ob)))
		return rc;
	return ob_prepare(ob);
}

int outbox_open(const char *path, const struct outbox_opts *o,
		struct outbox **out, char *err, size_t errlen)
{
	struct outbox *ob = calloc(1, sizeof(*ob));
	int rc;

	*out = NULL;
	if (!ob) {
		snprintf(err, errlen, "outbox: out of memory");
		return -ENOMEM;
	}
	snprintf(ob->where, sizeof(ob->where), "%s", path ? path : ":memory:");
	ob->max_rows = o && o->max_rows > 0 ? o->max_rows : OUTBOX_DEFAULT_MAX_ROWS;
	ob->cooldown_us = (o && o->cooldown_s > 0 ? o->cooldown_s :
			   OUTBOX_DEFAULT_COOLDOWN_S) * 1000000;
	ob->groups = strmap_new(0);
	rc = ob->groups ? ob_setup(ob, path) : -ENOMEM;
	if (rc) {
		if (rc == -ENOMEM)
			snprintf(ob->err, sizeof(ob->err), "outbox %s: out of memory",
				 ob->where);
		snprintf(err, errlen, "%s", ob->err);
		outbox_close(ob);
		return rc;
	}
	*out = ob;
	return 0;
}

int outbox_flush(struct outbox *ob)
{
	int rc;

	if (!ob)
		return -EINVAL;
	if (!ob->n_unwritten)
		return 0;
	rc = ob_begin(ob, "writing the outcomes kept in memory");
	return rc ? rc : ob_end(ob, 0);
}

void outbox_close(struct outbox *ob)
{
	int i;

	if (!ob)
		return;
	/* a last chance for the outcomes kept in memory; else the rows are
	 * handed out again by the next run */
	outbox_flush(ob);
	for (i = 0; i < OB_NSTMT; i++)
		sqlite3_finalize(ob->st[i]);
	sqlite3_close(ob->db);
	free(ob->inflight);
	free(ob->unwritten);
	strmap_free(ob->groups);
	free(ob);
}

const char *outbox_error(const struct outbox *ob)
{
	return ob ? ob->err : "outbox: none";
}

const struct outbox_stats *outbox_stats(const struct outbox *ob)
{
	return &ob->stats;
}

/* --- deduplication */

/* The first OUTBOX_KEY_LEN lowercase hex characters of SHA-256(@key
 * @suffix): an idempotency key, an order key. 0 or -EIO. */
static int ob_digest_key(const char *key, const char *suffix,
			 char out[OUTBOX_KEY_LEN + 1])
{
	uint8_t md[EVP_MAX_MD_SIZE];
	char hex[2 * EVP_MAX_MD_SIZE + 1];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned int n = 0;
	int ok;

	ok = ctx && EVP_DigestInit_ex(ctx, tw_md_sha256(), NULL) == 1 &&
	     EVP_DigestUpdate(ctx, key, strlen(key)) == 1 &&
	     EVP_DigestUpdate(ctx, suffix, strlen(suffix)) == 1 &&
	     EVP_DigestFinal_ex(ctx, md, &n) == 1 && n * 2 >= OUTBOX_KEY_LEN;
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return -EIO;
	tw_hex(md, n, hex);
	memcpy(out, hex, OUTBOX_KEY_LEN);
	out[OUTBOX_KEY_LEN] = '\0';
	return 0;
}

static int ob_idem_key(const char *dedup_key, int64_t now_us,
		       char out[OUTBOX_KEY_LEN + 1])
{
	char t[24];

	snprintf(t, sizeof(t), "|%" PRId64, now_us);
	return ob_digest_key(dedup_key, t, out);
}

/* Inside the transaction: 1 allowed (and recorded), 0 suppressed. */
static int ob_claim_locked(struct outbox *ob, const char *dedup_key,
			   int64_t now_us, char idem_key[OUTBOX_KEY_LEN + 1])
{
	sqlite3_stmt *st = ob_stmt(ob, OB_SENT_PRUNE);
	int64_t sent_us = 0;
	int rc;

	/* Claims whose cooldown is over only take room. */
	if (sqlite3_bind_int64(st, 1, now_us - ob->cooldown_us) != SQLITE_OK)
		return ob_fail(ob, "pruning claims");
	if ((rc = ob_done(ob, st, "pruning claims")))
		return rc;
	st = ob_stmt(ob, OB_SENT_GET);
	if (sqlite3_bind_text(st, 1, dedup_key, -1, SQLITE_STATIC) != SQLITE_OK)
		return ob_fail(ob, "reading claims");
	rc = ob_int64(ob, st, &sent_us, "reading claims");
	if (rc < 0)
		return rc;
	/* A claim up to a cooldown in the future is a clock stepped back a
	 * little: still a repeat. Further out, the clock was wrong when it
	 * was made, and honouring it could silence the alert for years. */
	if (rc == 1 && sent_us <= now_us + ob->cooldown_us)
		return 0;
	if ((rc = ob_idem_key(dedup_key, now_us, idem_key))) {
		snprintf(ob->err, sizeof(ob->err), "outbox: SHA-256 failed");
		return rc;
	}
	st = ob_stmt(ob, OB_SENT_PUT);
	if (sqlite3_bind_text(st, 1, dedup_key, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 2, now_us) != SQLITE_OK)
		return ob_fail(ob, "recording the claim");
	rc = ob_done(ob, st, "recording the claim");
	return rc ? rc : 1;
}

int outbox_claim(struct outbox *ob, const char *dedup_key, int64_t now_us,
		 char idem_key[OUTBOX_KEY_LEN + 1])
{
	int rc;

	idem_key[0] = '\0';
	if (!ob)
		return -EINVAL;
	if (!dedup_key || !*dedup_key)
		return ob_refuse(ob, -EINVAL, "claiming: no dedup key");
	if ((rc = ob_begin(ob, "claiming")))
		return rc;
	rc = ob_end(ob, ob_claim_locked(ob, dedup_key, now_us, idem_key));
	if (rc != 1)
		idem_key[0] = '\0';
	return rc;
}

/* --- storing */

/* A row the bound dropped: its late outcome finds nothing. */
static void ob_dropped(struct outbox *ob, int64_t id)
{
	ob_inflight_del(ob, id);
	ob->stats.dropped++;
}

/* Binds a group, @target's rows of @order_key, and a place @seq in it. */
static int ob_bind_group(sqlite3_stmt *st, const char *target,
			 const char *order_key, int64_t seq)
{
	return sqlite3_bind_text(st, 1, target, -1, SQLITE_STATIC) == SQLITE_OK &&
	       sqlite3_bind_text(st, 2, order_key, -1, SQLITE_STATIC) == SQLITE_OK &&
	       (seq < 0 || sqlite3_bind_int64(st, 3, seq) == SQLITE_OK) ? 0 : -1;
}

/* Runs @st, a DELETE ... RETURNING id of rows the bound drops: how many,
 * or -errno. */
static int ob_drop_returned(struct outbox *ob, sqlite3_stmt *st)
{
	int step, n = 0;

	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		ob_dropped(ob, sqlite3_column_int64(st, 0));
		n++;
	}
	n = step == SQLITE_DONE ? n : ob_fail(ob, "dropping a row");
	sqlite3_reset(st);
	return n;
}

/* The targets done with alerts that have no row nor mark left are
 * forgotten (ob_finish_locked). Not in the middle of a retarget, which
 * reads them (and rows of an alert it moves are gone for a moment): after
 * a put, or at a retarget's end. 0 or -errno. */
static int ob_forget_done(struct outbox *ob)
{
	int rc = ob_done(ob, ob_stmt(ob, OB_DONE_PRUNE), "forgetting targets done");

	if (!rc)
		ob->marks_gone = false;
	return rc;
}

/* Forgets the oldest marks of orphaned groups past max_rows: 0 or -errno. */
static int ob_orphans_cap(struct outbox *ob)
{
	sqlite3_stmt *st = ob_stmt(ob, OB_ORPHAN_CAP);
	int rc;

	if (sqlite3_bind_int64(st, 1, ob->max_rows) != SQLITE_OK)
		return ob_fail(ob, "bounding the orphaned groups");
	rc = ob_done(ob, st, "bounding the orphaned groups");
	if (!rc && sqlite3_changes(ob->db))
		ob->marks_gone = true;
	return rc;
}

/* Marks @target's group of @order_key orphaned (ob_orphaned) by the
 * alert @idem_key dropped, the oldest marks past max_rows forgotten: 0
 * or -errno. */
static int ob_orphan_mark(struct outbox *ob, const char *target,
			  const char *order_key, const char *idem_key)
{
	sqlite3_stmt *st = ob_stmt(ob, OB_ORPHAN_PUT);
	int rc;

	if (ob_bind_group(st, target, order_key, -1) ||
	    sqlite3_bind_text(st, 3, idem_key, -1, SQLITE_STATIC) != SQLITE_OK)
		return ob_fail(ob, "marking an orphaned group");
	if ((rc = ob_done(ob, st, "marking an orphaned group")))
		return rc;
	return ob_orphans_cap(ob);
}

/* After @target's row @seq of @order_key (the alert @idem_key), never
 * sent, was dropped: its sequels go with it; without any, and without a
 * later row, a row that @opens (can have a sequel) leaves its group an
 * orphan (the next sequel put in it is dropped). The rows dropped, or
 * -errno. */
static int ob_drop_sequels(struct outbox *ob, const char *target,
			   const char *order_key, const char *idem_key,
			   int64_t seq, bool opens)
{
	sqlite3_stmt *st = ob_stmt(ob, OB_DROP_SEQUELS);
	int64_t one;
	int n, rc;

	if (ob_bind_group(st, target, order_key, seq))
		return ob_fail(ob, "dropping a row");
	if ((n = ob_drop_returned(ob, st)) || !opens)
		return n;
	st = ob_stmt(ob, OB_LATER);
	if (ob_bind_group(st, target, order_key, seq))
		return ob_fail(ob, "dropping a row");
	if ((rc = ob_int64(ob, st, &one, "dropping a row")))
		return rc < 0 ? rc : 0;
	return ob_orphan_mark(ob, target, order_key, idem_key);
}

/* Whether row @id, with @attempts in the file, may have reached its
 * receiver: in flight, or tried (a timeout the receiver processed all
 * the same), maybe by a retry kept in memory only. */
static bool ob_maybe_sent(const struct outbox *ob, int64_t id, int attempts)
{
	return attempts > 0 || ob_inflight_has(ob, id) || ob_unwritten_of(ob, id);
}

/* Drops the bound's victim (OB_DROP), and with it the sequels it leaves
 * alone (ob_drop_sequels) when it was never sent: a receiver never gets
 * a spike's "resolved" whose "firing" was dropped, nor keeps a firing
 * (maybe sent) that nothing ends. The rows dropped, 0 for an empty
 * outbox, or -errno. */
static int ob_drop_victim(struct outbox *ob)
{
	char target[OUTBOX_TARGET_LEN + 1], key[OUTBOX_KEY_LEN + 1];
	char idem[OUTBOX_KEY_LEN + 1];
	sqlite3_stmt *st = ob_stmt(ob, OB_DROP);
	bool sequel, opens, sent;
	int64_t seq, id;
	int rc, n;

	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		rc = rc == SQLITE_DONE ? 0 : ob_fail(ob, "dropping a row");
		sqlite3_reset(st);
		return rc;
	}
	id = sqlite3_column_int64(st, 0);
	ob_col_text(st, 1, target, sizeof(target));
	ob_col_text(st, 2, key, sizeof(key));
	seq = sqlite3_column_int64(st, 3);
	sequel = sqlite3_column_int(st, 4) != 0;
	sent = ob_maybe_sent(ob, id, sqlite3_column_int(st, 5));
	opens = sqlite3_column_int(st, 6) != 0;
	ob_col_text(st, 7, idem, sizeof(idem));
	ob_dropped(ob, id);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : ob_fail(ob, "dropping a row");
	sqlite3_reset(st);
	if (rc)
		return rc;
	if (!*key || sequel || sent)
		return 1;
	n = ob_drop_sequels(ob, target, key, idem, seq, opens);
	return n < 0 ? n : 1 + n;
}

/* Makes room for one row: drops victims while the outbox is full. */
static int ob_make_room(struct outbox *ob)
{
	int64_t count = 0;
	int rc;

	rc = ob_int64(ob, ob_stmt(ob, OB_COUNT), &count, "counting rows");
	while (rc >= 0 && count >= ob->max_rows) {
		if ((rc = ob_drop_victim(ob)) <= 0)
			break;
		count -= rc;
	}
	return rc < 0 ? rc : 0;
}

/* Whether @it, about to be stored, goes the way of its dropped
 * predecessor (ob_drop_sequels): 1 when it does, 0, or -errno. A row of
 * its group that is no sequel starts afresh: the mark goes either way. */
static int ob_orphaned(struct outbox *ob, const struct outbox_item *it)
{
	sqlite3_stmt *st = ob_stmt(ob, OB_ORPHAN_TAKE);
	int rc;

	if (!it->order_key[0])
		return 0;
	if (ob_bind_group(st, it->target, it->order_key, -1))
		return ob_fail(ob, "reading the orphaned groups");
	if ((rc = ob_done(ob, st, "reading the orphaned groups")))
		return rc;
	if (sqlite3_changes(ob->db) == 0)
		return 0;
	ob->marks_gone = true;
	return it->sequel;
}

/* Stores @it (its id unused) due at @next_us: 0, 1 for a duplicate, or 2
 * for a sequel dropped with its predecessor (ob_orphaned). */
static int ob_put_locked(struct outbox *ob, const struct outbox_item *it,
			 int64_t next_us)
{
	sqlite3_stmt *st = ob_stmt(ob, OB_EXISTS);
	int64_t one;
	int rc;

	if (sqlite3_bind_text(st, 1, it->target, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_text(st, 2, it->idem_key, -1, SQLITE_STATIC) != SQLITE_OK)
		return ob_fail(ob, "looking for a duplicate");
	rc = ob_int64(ob, st, &one, "looking for a duplicate");
	if (rc)
		return rc;   /* 1: a duplicate, left as it was */
	/* before making room, which a row dropped needs not; and after,
	 * which may have dropped the last row of its group */
	if (!(rc = ob_orphaned(ob, it)) && !(rc = ob_make_room(ob)))
		rc = ob_orphaned(ob, it);
	if (rc) {
		if (rc < 0)
			return rc;
		ob->stats.dropped++;
		return 2;
	}
	st = ob_stmt(ob, OB_INSERT);
	if (sqlite3_bind_text(st, 1, it->target, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_text(st, 2, it->idem_key, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int(st, 3, it->critical) != SQLITE_OK ||
	    sqlite3_bind_blob64(st, 4, it->body ? it->body : "", it->body_len,
				SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 5, it->created_us) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 6, next_us) != SQLITE_OK ||
	    sqlite3_bind_int(st, 7, it->attempts) != SQLITE_OK ||
	    sqlite3_bind_text(st, 8, it->order_key, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 9, it->seq) != SQLITE_OK ||
	    sqlite3_bind_int(st, 10, it->sequel) != SQLITE_OK ||
	    sqlite3_bind_int(st, 11, it->opens) != SQLITE_OK)
		return ob_fail(ob, "storing an alert");
	if ((rc = ob_done(ob, st, "storing an alert")) || it->seq)
		return rc;
	return ob_done(ob, ob_stmt(ob, OB_SEQ_SELF), "storing an alert");
}

int outbox_put(struct outbox *ob, const char *target, const char *idem_key,
	       bool critical, const char *body, size_t len, int64_t now_us)
{
	return outbox_put_ordered(ob, target, idem_key, NULL,
				  critical ? OUTBOX_CRITICAL : 0, body, len, now_us);
}

int outbox_put_ordered(struct outbox *ob, const char *target,
		       const char *idem_key, const char *order_key,
		       unsigned int flags, const char *body, size_t len,
		       int64_t now_us)
{
	struct outbox_item it = { .critical = flags & OUTBOX_CRITICAL,
				  .sequel = order_key && *order_key &&
					    (flags & OUTBOX_SEQUEL),
				  .opens = order_key && *order_key &&
					   (flags & OUTBOX_OPENS),
				  .body = (char *)body, .body_len = len,
				  .created_us = now_us };
	int rc;

	if (!ob)
		return -EINVAL;
	if (!target || !*target || !idem_key || !*idem_key ||
	    strlen(idem_key) > OUTBOX_KEY_LEN || (!body && len))
		return ob_refuse(ob, -EINVAL, "storing an alert: no target, no key "
				 "or a key over %d characters", OUTBOX_KEY_LEN);
	if (strlen(target) > OUTBOX_TARGET_LEN)
		return ob_refuse(ob, -ENAMETOOLONG, "storing an alert: a target of "
				 "%zu bytes, at most %d", strlen(target),
				 OUTBOX_TARGET_LEN);
	snprintf(it.target, sizeof(it.target), "%s", target);
	snprintf(it.idem_key, sizeof(it.idem_key), "%s", idem_key);
	if (order_key && *order_key && ob_digest_key(order_key, "", it.order_key))
		return ob_refuse(ob, -EIO, "storing an alert: SHA-256 failed");
	if ((rc = ob_begin(ob, "storing an alert")))
		return rc;
	rc = ob_put_locked(ob, &it, now_us);
	if (rc >= 0 && ob->marks_gone) {
		int forgot = ob_forget_done(ob);

		rc = forgot < 0 ? forgot : rc;
	}
	rc = ob_end(ob, rc);
	return rc == 2 ? 0 : rc;   /* dropped: outbox.h */
}

/* --- handing out */

static int ob_read_item(sqlite3_stmt *st, struct outbox_item *it)
{
	const void *body = sqlite3_column_blob(st, 4);
	size_t len = (size_t)sqlite3_column_bytes(st, 4);

	memset(it, 0, sizeof(*it));
	if (!(it->body = malloc(len + 1)))
		return -ENOMEM;
	if (len)
		memcpy(it->body, body, len);
	it->body[len] = '\0';
	it->body_len = len;
	it->id = sqlite3_column_int64(st, 0);
	ob_col_text(st, 1, it->target, sizeof(it->target));
	ob_col_text(st, 2, it->idem_key, sizeof(it->idem_key));
	it->critical = sqlite3_column_int(st, 3) != 0;
	it->attempts = sqlite3_column_int(st, 5);
	it->created_us = sqlite3_column_int64(st, 6);
	ob_col_text(st, 7, it->order_key, sizeof(it->order_key));
	it->seq = sqlite3_column_int64(st, 8);
	it->sequel = sqlite3_column_int(st, 9) != 0;
	it->opens = sqlite3_column_int(st, 10) != 0;
	return 0;
}

/* --- moving: the rows and claims of one outbox into another */

/* @from failed while @to was in a move: @to says @from's error. */
static int ob_fail_source(struct outbox *from, struct outbox *to,
			  const char *what)
{
	int rc = ob_fail(from, what);

	snprintf(to->err, sizeof(to->err), "%s", from->err);
	return rc;
}

/* Inside @to's transaction: @from's rows, each with its schedule. */
static int ob_move_rows(struct outbox *from, struct outbox *to, int *moved)
{
	sqlite3_stmt *st = ob_stmt(from, OB_ALL);
	struct outbox_item it;
	int step = SQLITE_DONE, rc = 0;

	while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
		if ((rc = ob_read_item(st, &it)))
			break;
		it.seq = 0;   /* another outbox's ids: after @to's own rows */
		rc = ob_put_locked(to, &it, sqlite3_column_int64(st, 11));
		outbox_item_release(&it);
		if (rc == 0)
			(*moved)++;
		rc = rc < 0 ? rc : 0;   /* 1: there already; 2: dropped */
	}
	if (!rc && step != SQLITE_DONE)
		rc = ob_fail_source(from, to, "reading the rows to move");
	sqlite3_reset(st);
	return rc;
}

/* Inside @to's transaction: each row of @from's @all, its columns put
 * by @to's @put (as many: one each); @moving and @reading name the step
 * in a failure. */
static int ob_move_table(struct outbox *from, struct outbox *to,
			 enum outbox_stmt all, enum outbox_stmt put_which,
			 const char *moving, const char *reading)
{
	sqlite3_stmt *st = ob_stmt(from, all), *put;
	int step = SQLITE_DONE, rc = 0, i;

	while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
		put = ob_stmt(to, put_which);
		for (i = 0; !rc && i < sqlite3_column_count(st); i++)
			if (sqlite3_bind_value(put, i + 1, sqlite3_column_value(st, i)) !=
			    SQLITE_OK)
				rc = ob_fail(to, moving);
		if (!rc)
			rc = ob_done(to, put, moving);
	}
	if (!rc && step != SQLITE_DONE)
		rc = ob_fail_source(from, to, reading);
	sqlite3_reset(st);
	return rc;
}

/* Inside @to's transaction: @from's claims, so the cooldown holds on, and
 * its orphaned groups, so a sequel of a row it dropped is dropped too. */
static int ob_move_claims(struct outbox *from, struct outbox *to)
{
	int rc = ob_move_table(from, to, OB_SENT_ALL, OB_SENT_MERGE,
			       "moving the claims", "reading the claims to move");

	if (!rc)
		rc = ob_move_table(from, to, OB_ORPHANS_ALL, OB_ORPHAN_PUT,
				   "moving the orphaned groups",
				   "reading the orphaned groups to move");
	return rc ? rc : ob_orphans_cap(to);
}

static int ob_empty(struct outbox *ob)
{
	return ob_exec(ob, "DELETE FROM outbox; DELETE FROM outbox_sent;"
		       " DELETE FROM outbox_orphans", "emptying the moved rows");
}

int outbox_move(struct outbox *from, struct outbox *to)
{
	int rc, moved = 0;

	if (!from || !to || from == to || from->n_inflight)
		return -EINVAL;
	/* @from's outcomes kept in memory first: its rows are read as stored */
	if ((rc = outbox_flush(from))) {
		snprintf(to->err, sizeof(to->err), "%s", from->err);
		return rc;
	}
	if ((rc = ob_begin(to, "moving alerts")))
		return rc;
	rc = ob_move_rows(from, to, &moved);
	if (!rc)
		rc = ob_move_claims(from, to);
	/* a failure of @from's reads or @to's writes said itself in @to */
	if (rc == -ENOMEM)
		snprintf(to->err, sizeof(to->err), "outbox: out of memory");
	if ((rc = ob_end(to, rc)) < 0)
		return rc;
	/* committed in @to: gone from @from, or it would be sent twice */
	if ((rc = ob_empty(from)) < 0) {
		snprintf(to->err, sizeof(to->err), "%s", from->err);
		return rc;
	}
	return moved;
}

/* --- retargeting: the rows of targets no longer given */

static bool ob_target_in(const char *target, const char *const *targets, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (strcmp(target, targets[i]) == 0)
			return true;
	return false;
}

/* The ids of the rows (@which OB_TARGETS) or marks (OB_ORPHAN_TARGETS)
 * whose target is not among @targets, ascending, in *@ids (malloc'd,
 * *@n_ids of them): 0 or -errno. */
static int ob_foreign_ids(struct outbox *ob, enum outbox_stmt which,
			  const char *const *targets, int n, int64_t **ids,
			  size_t *n_ids)
{
	sqlite3_stmt *st = ob_stmt(ob, which);
	int step = SQLITE_DONE, rc = 0;
	size_t cap = 0;
	int64_t *slot;

	while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(st, 1);

		if (t && ob_target_in(t, targets, n))
			continue;
		slot = ob_open_slot((void **)ids, n_ids, &cap, sizeof(**ids), *n_ids);
		if (!slot)
			rc = -ENOMEM;
		else
			*slot = sqlite3_column_int64(st, 0);
	}
	if (!rc && step != SQLITE_DONE)
		rc = ob_fail(ob, "reading the rows' targets");
	sqlite3_reset(st);
	return rc;
}

/* Whether @it's target is done with @it's alert (ob_finish_locked): 1, 0
 * or -errno. */
static int ob_target_done(struct outbox *ob, const struct outbox_item *it)
{
	sqlite3_stmt *st = ob_stmt(ob, OB_DONE_HAS);
	int64_t one;

	if (sqlite3_bind_text(st, 1, it->target, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_text(st, 2, it->idem_key, -1, SQLITE_STATIC) != SQLITE_OK)
		return ob_fail(ob, "reading the targets done");
	return ob_int64(ob, st, &one, "reading the targets done");
}

/* Inside the transaction: row @id goes, a copy of it to each of @targets
 * (outbox_retarget). A row the bound dropped meanwhile is no more. */
static int ob_retarget_row_locked(struct outbox *ob, int64_t id,
				  const char *const *targets, int n,
				  int64_t now_us)
{
	sqlite3_stmt *st = ob_stmt(ob, OB_GET);
	struct outbox_item it;
	int i, step, rc;

	if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK)
		return ob_fail(ob, "reading a row to retarget");
	step = sqlite3_step(st);
	if (step == SQLITE_ROW)
		rc = ob_read_item(st, &it);
	else
		rc = step == SQLITE_DONE ? 1 : ob_fail(ob, "reading a row to retarget");
	sqlite3_reset(st);
	if (rc)
		return rc < 0 ? rc : 0;
	/* first: the bound must not drop a copy to make room for the row */
	rc = ob_update_locked(ob, id, true, 0, 0);
	it.attempts = 0;   /* never tried at these targets */
	for (i = 0; rc >= 0 && i < n; i++) {
		snprintf(it.target, sizeof(it.target), "%s", targets[i]);
		rc = ob_target_done(ob, &it);          /* 1: it had that alert */
		if (rc == 0)
			rc = ob_put_locked(ob, &it, now_us);   /* 1: it holds it */
	}
	outbox_item_release(&it);
	return rc < 0 ? rc : 0;
}

/* Whether @target holds a row of @order_key: 1, 0 or -errno. */
static int ob_group_held(struct outbox *ob, const char *target,
			 const char *order_key)
{
	sqlite3_stmt *st = ob_stmt(ob, OB_LATER);
	int64_t one;

	if (ob_bind_group(st, target, order_key, -1) ||
	    sqlite3_bind_int64(st, 3, INT64_MIN) != SQLITE_OK)
		return ob_fail(ob, "reading a group's rows");
	return ob_int64(ob, st, &one, "reading a group's rows");
}

/*
 * Inside the transaction: the mark @id (ob_orphan_mark) of a target no
 * longer given follows its alert, as the rows do (ob_retarget_row_locked):
 * to each of @targets not done with that alert (ob_target_done: it had
 * the firing) and holding no row of its order key (its own rows there
 * are newer, and a sequel put after them ends one of those); the mark
 * leaves its old target. 0 or -errno.
 */
static int ob_retarget_mark_locked(struct outbox *ob, int64_t id,
				   const char *const *targets, int n)
{
	sqlite3_stmt *st = ob_stmt(ob, OB_ORPHAN_GET);
	struct outbox_item it = { 0 };   /* its target and key, for ob_target_done */
	int i, step, rc;

	if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK)
		return ob_fail(ob, "reading a mark to retarget");
	step = sqlite3_step(st);
	if (step == SQLITE_ROW) {
		ob_col_text(st, 1, it.order_key, sizeof(it.order_key));
		ob_col_text(st, 2, it.idem_key, sizeof(it.idem_key));
	}
	rc = step == SQLITE_ROW ? 0 : step == SQLITE_DONE ? 1 :
	     ob_fail(ob, "reading a mark to retarget");
	sqlite3_reset(st);
	if (rc)
		return rc < 0 ? rc : 0;   /* 1: forgotten by the cap meanwhile */
	st = ob_stmt(ob, OB_ORPHAN_DEL);
	if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK)
		return ob_fail(ob, "moving a mark");
	if ((rc = ob_done(ob, st, "moving a mark")))
		return rc;
	for (i = 0; rc >= 0 && i < n; i++) {
		snprintf(it.target, sizeof(it.target), "%s", targets[i]);
		if (!(rc = ob_target_done(ob, &it)) &&
		    !(rc = ob_group_held(ob, it.target, it.order_key)))
			rc = ob_orphan_mark(ob, it.target, it.order_key, it.idem_key);
	}
	return rc < 0 ? rc : 0;
}

/* Inside the transaction: rows @ids, then marks @marks, of targets no
 * longer given, to @targets (outbox_retarget). 0 or -errno. */
static int ob_retarget_locked(struct outbox *ob, const int64_t *ids,
			      size_t n_ids, const int64_t *marks, size_t n_marks,
			      const char *const *targets, int n, int64_t now_us)
{
	size_t i;
	int rc = 0;

	for (i = 0; !rc && i < n_ids; i++)
		rc = ob_retarget_row_locked(ob, ids[i], targets, n, now_us);
	/* after the rows: a target given a row of a mark's group has it */
	for (i = 0; !rc && i < n_marks; i++)
		rc = ob_retarget_mark_locked(ob, marks[i], targets, n);
	/* an alert whose rows and marks all went (or were dropped) */
	return rc ? rc : ob_forget_done(ob);
}

int outbox_retarget(struct outbox *ob, const char *const *targets, int n,
		    int64_t now_us)
{
	int64_t *ids = NULL, *marks = NULL;
	size_t n_ids = 0, n_marks = 0, i;
	int rc;

	if (!ob || !targets || n <= 0)
		return -EINVAL;
	rc = ob_foreign_ids(ob, OB_TARGETS, targets, n, &ids, &n_ids);
	if (!rc)
		rc = ob_foreign_ids(ob, OB_ORPHAN_TARGETS, targets, n, &marks, &n_marks);
	if (!rc && (n_ids || n_marks) && !(rc = ob_begin(ob, "retargeting rows")))
		rc = ob_end(ob, ob_retarget_locked(ob, ids, n_ids, marks, n_marks,
						   targets, n, now_us));
	for (i = 0; !rc && i < n_ids; i++)
		ob_inflight_del(ob, ids[i]);   /* their outcomes find no row */
	free(ids);
	free(marks);
	if (rc == -ENOMEM)
		snprintf(ob->err, sizeof(ob->err), "outbox: out of memory");
	return rc < 0 ? rc : (int)n_ids;
}

/* Inside a transaction: @delta attempts more (1: one begun; -1: taken
 * back) for row @id. 0, 1 when the file has no such row, or -errno. */
static int ob_tried_locked(struct outbox *ob, int64_t id, int delta)
{
	sqlite3_stmt *st = ob_stmt(ob, OB_TRIED);
	int rc;

	if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK ||
	    sqlite3_bind_int(st, 2, delta) != SQLITE_OK)
		return ob_fail(ob, "counting an attempt");
	if ((rc = ob_done(ob, st, "counting an attempt")))
		return rc;
	return sqlite3_changes(ob->db) == 1 ? 0 : 1;
}

/*
 * Counts an attempt for each of the @n rows handed out, in the file before
 * any is sent: a process killed while they are under way leaves them
 * tried, so the next run continues their count and the bound keeps the
 * sequel of a row that may have reached its receiver (ob_maybe_sent). A
 * file that cannot take it keeps the count in memory (see the top), as an
 * outcome; the rows are handed out all the same (delivery before
 * durability).
 */
static void ob_count_attempts(struct outbox *ob, const struct outbox_item *items,
			      int n, int64_t now_us)
{
	int i, rc = ob_begin(ob, "counting attempts");

	if (!rc) {
		for (i = 0; rc >= 0 && i < n; i++)
			rc = ob_tried_locked(ob, items[i].id, 1);
		rc = ob_end(ob, rc < 0 ? rc : 0);
	}
	if (!rc)
		return;
	/* past the bound of outcomes kept (or without memory) this attempt
	 * goes uncounted: a backoff a step shorter, as a restart's was */
	for (i = 0; i < n; i++)
		ob_unwritten_keep(ob, items[i].id, false, 1, now_us);
}

/* Takes back what outbox_due handed out before it failed. */
static void ob_unwind(struct outbox *ob, struct outbox_item *items, int n)
{
	while (n-- > 0) {
		ob_inflight_del(ob, items[n].id);
		outbox_item_release(&items[n]);
	}
}

/* Whether @st, OB_HOLD bound, finds a row not deleted in memory already:
 * 1, 0, or -errno. */
static int ob_waits_for(struct outbox *ob, sqlite3_stmt *st)
{
	int step = SQLITE_DONE, held = 0;

	while (!held && (step = sqlite3_step(st)) == SQLITE_ROW) {
		const struct ob_unwritten *u = ob_unwritten_of(ob, sqlite3_column_int64(st, 0));

		held = !u || !u->gone;
	}
	if (!held && step != SQLITE_DONE)
		held = ob_fail(ob, "reading the order of due rows");
	sqlite3_reset(st);
	return held;
}

/*
 * Whether the due row @due points at waits for an earlier row of its
 * group, its target and order key (outbox.h), one not deleted in memory
 * already: 1, 0, or -errno. A pass reads the due rows in their order
 * (seq) and notes each group it meets (ob->groups, empty at the start of
 * a pass): a later row of a group met waits for that one; the first asks
 * the file, whose earlier rows of the group are waiting for a retry.
 */
static int ob_held(struct outbox *ob, sqlite3_stmt *due)
{
	const char *key = (const char *)sqlite3_column_text(due, 7);
	const char *target = (const char *)sqlite3_column_text(due, 1);
	char group[OUTBOX_KEY_LEN + 1 + OUTBOX_TARGET_LEN + 1];
	sqlite3_stmt *st;
	bool first = false;

	if (!key || !*key)
		return 0;
	snprintf(group, sizeof(group), "%s|%s", key, target ? target : "");
	if (!strmap_put(ob->groups, group, strlen(group), &first))
		return -ENOMEM;
	if (!first)
		return 1;
	st = ob_stmt(ob, OB_HOLD);
	if (sqlite3_bind_value(st, 1, sqlite3_column_value(due, 1)) != SQLITE_OK ||
	    sqlite3_bind_value(st, 2, sqlite3_column_value(due, 7)) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 3, sqlite3_column_int64(due, 8)) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 4, sqlite3_column_int64(due, 0)) != SQLITE_OK)
		return ob_fail(ob, "reading the order of due rows");
	return ob_waits_for(ob, st);
}

int outbox_group_waits(struct outbox *ob, const char *target,
		       const char *order_key)
{
	sqlite3_stmt *st;

	if (!ob || !target || !order_key || !*order_key)
		return ob ? 0 : -EINVAL;
	st = ob_stmt(ob, OB_HOLD);
	if (ob_bind_group(st, target, order_key, INT64_MAX) ||
	    sqlite3_bind_int64(st, 4, INT64_MAX) != SQLITE_OK)
		return ob_fail(ob, "reading the order of due rows");
	return ob_waits_for(ob, st);
}

int outbox_due(struct outbox *ob, int64_t now_us, struct outbox_item *items,
	       int max)
{
	return outbox_due_select(ob, now_us, items, max, NULL, NULL);
}

int outbox_due_select(struct outbox *ob, int64_t now_us,
		      struct outbox_item *items, int max,
		      bool (*take)(void *ctx, const char *target,
				   const char *order_key), void *ctx)
{
	sqlite3_stmt *st;
	int n = 0, rc = 0, step = SQLITE_DONE;

	if (!ob || (!items && max > 0))
		return -EINVAL;
	st = ob_stmt(ob, OB_DUE);
	if (sqlite3_bind_int64(st, 1, now_us) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 2, now_us + OUTBOX_MAX_DELAY_US) != SQLITE_OK)
		return ob_fail(ob, "reading due rows");
	strmap_clear(ob->groups);
	while (n < max && (step = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(st, 0);
		const struct ob_unwritten *u = ob_unwritten_of(ob, id);

		if (u && u->gone)
			continue;   /* delivered: holds nothing back */
		/* first: a row in flight holds back the later ones */
		if ((rc = ob_held(ob, st)) < 0)
			break;
		/* A row kept retried in memory has a later time than the
		 * file's (which was due when it was handed out). */
		if (rc || ob_inflight_has(ob, id) ||
		    (u && !ob_is_due(u->next_us, now_us)) ||
		    (take && !take(ctx, (const char *)sqlite3_column_text(st, 1),
				   (const char *)sqlite3_column_text(st, 7)))) {
			rc = 0;
			continue;
		}
		if ((rc = ob_read_item(st, &items[n])))
			break;
		items[n].attempts += u ? u->attempts : 0;
		n++;
		if ((rc = ob_inflight_add(ob, id)))
			break;
	}
	if (!rc && n < max && step != SQLITE_DONE)
		rc = ob_fail(ob, "reading due rows");
	sqlite3_reset(st);
	if (rc) {
		if (rc == -ENOMEM)
			snprintf(ob->err, sizeof(ob->err), "outbox: out of memory");
		ob_unwind(ob, items, n);
		return rc;
	}
	if (n > 0)
		ob_count_attempts(ob, items, n, now_us);
	return n;
}

void outbox_item_release(struct outbox_item *it)
{
	if (!it)
		return;
	free(it->body);
	it->body = NULL;
	it->body_len = 0;
}

/* --- outcomes */

/*
 * The row @id deleted (@gone) or retried at @next_us. 0, -ENOENT when
 * there is no such row (or it is deleted in memory already), or -errno
 * when the file could not take it; *@in_effect then says whether it was
 * kept in memory (see the top) all the same.
 */
static int ob_change(struct outbox *ob, int64_t id, bool gone,
		     int64_t next_us, bool *in_effect)
{
	bool handed_out = ob_inflight_has(ob, id);
	const struct ob_unwritten *u = ob_unwritten_of(ob, id);
	/* a row handed out had its attempt counted then (ob_count_attempts) */
	int tried = handed_out ? 0 : 1, rc;

	*in_effect = false;
	ob_inflight_del(ob, id);
	if (u && u->gone)
		return -ENOENT;
	if (!(rc = ob_begin(ob, "updating a row")))
		rc = ob_end(ob, ob_change_locked(ob, id, gone, tried, next_us));
	if (rc >= 0) {
		*in_effect = rc == 0;
		return rc ? -ENOENT : 0;
	}
	*in_effect = handed_out && !ob_unwritten_keep(ob, id, gone, tried, next_us);
	return rc;
}

int outbox_ack(struct outbox *ob, int64_t id)
{
	bool done = false;
	int rc = ob ? ob_change(ob, id, true, 0, &done) : -EINVAL;

	if (rc != -EINVAL && done)
		ob->stats.delivered++;
	return rc;
}

int outbox_retry(struct outbox *ob, int64_t id, int64_t next_attempt_us)
{
	bool done = false;

	return ob ? ob_change(ob, id, false, next_attempt_us, &done) : -EINVAL;
}

int outbox_fail(struct outbox *ob, int64_t id)
{
	bool done = false;
	int rc = ob ? ob_change(ob, id, true, 0, &done) : -EINVAL;

	if (rc != -EINVAL && done)
		ob->stats.failed++;
	return rc;
}

void outbox_release(struct outbox *ob, int64_t id)
{
	struct ob_unwritten *u;

	if (!ob || !ob_inflight_has(ob, id))
		return;
	ob_inflight_del(ob, id);
	/* the attempt counted at the hand-out is taken back: in memory when
	 * the file could not take it, else in the file; a write that fails
	 * leaves it counted (a longer backoff, a sequel kept: the safe side) */
	u = ob_unwritten_of(ob, id);
	if (u && u->attempts > 0)
		u->attempts--;
	else if (!ob_begin(ob, "taking an attempt back"))
		ob_end(ob, ob_tried_locked(ob, id, -1) < 0 ? -EIO : 0);
}

/* --- for the caller's loop */

int64_t outbox_depth(struct outbox *ob)
{
	int64_t n = 0;
	int rc;

	if (!ob)
		return -EINVAL;
	rc = ob_int64(ob, ob_stmt(ob, OB_COUNT), &n, "counting rows");
	return rc < 0 ? rc : n - outbox_unremoved(ob);
}

int64_t outbox_depth_select(struct outbox *ob,
			    bool (*mine)(void *ctx, const char *target), void *ctx)
{
	sqlite3_stmt *st;
	const struct ob_unwritten *u;
	int64_t n = 0;
	int step;

	if (!ob || !mine)
		return -EINVAL;
	st = ob_stmt(ob, OB_TARGETS);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		u = ob_unwritten_of(ob, sqlite3_column_int64(st, 0));
		n += (!u || !u->gone) &&
		     mine(ctx, (const char *)sqlite3_column_text(st, 1));
	}
	if (step != SQLITE_DONE)
		n = ob_fail(ob, "counting rows");
	sqlite3_reset(st);
	return n;
}

int64_t outbox_unremoved(const struct outbox *ob)
{
	int64_t n = 0;
	size_t i;

	for (i = 0; ob && i < ob->n_unwritten; i++)
		n += ob->unwritten[i].gone;
	return n;
}

int64_t outbox_next_due_us(struct outbox *ob)
{
	return outbox_next_due_select(ob, NULL, NULL);
}

int64_t outbox_next_due_select(struct outbox *ob,
			       bool (*mine)(void *ctx, const char *target),
			       void *ctx)
{
	sqlite3_stmt *st;
	int64_t due = -1;
	int step;

	if (!ob)
		return -EINVAL;
	st = ob_stmt(ob, OB_NEXT);
	/* In the file's order; a row kept retried in memory is due later
	 * than the file says, so the earliest may be further on. */
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(st, 0), next = sqlite3_column_int64(st, 1);
		const struct ob_unwritten *u = ob_unwritten_of(ob, id);

		if (due >= 0 && next >= due)
			break;
		if (ob_inflight_has(ob, id) || (u && u->gone) ||
		    (mine && !mine(ctx, (const char *)sqlite3_column_text(st, 2))))
			continue;
		if (u && u->next_us > next)
			next = u->next_us;
		if (due < 0 || next < due)
			due = next;
	}
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		due = ob_fail(ob, "reading the next due time");
	sqlite3_reset(st);
	return due;
}
