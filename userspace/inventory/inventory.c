// SPDX-License-Identifier: MIT
/*
 * The served-certificate inventory in SQLite. The schema is versioned with
 * PRAGMA user_version and brought up to date by the migrations below, one
 * transaction each, so a database written by an older tlswatch keeps its
 * history. A file that cannot be written is refused at open with a clear
 * reason; the caller then carries on without it.
 *
 * This file opens the database and records sightings and findings; the
 * questions the judge asks are in inventory_query.c, the read-only
 * opening and the `tlswatch inventory` listing in inventory_dump.c.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>
#include <sys/stat.h>

#include "common/fs_writable.h"
#include "common/log.h"
#include "inventory.h"
#include "inventory_internal.h"
#include "inventory_lease.h"

/* migrations[i] takes the schema from version i to i + 1. */
static const char *const migrations[INVENTORY_SCHEMA_VERSION] = {
	"CREATE TABLE served ("
	" name TEXT NOT NULL,"
	" addr TEXT NOT NULL,"
	" port INTEGER NOT NULL,"
	" sha256 TEXT NOT NULL,"
	" subject TEXT NOT NULL DEFAULT '',"
	" issuer TEXT NOT NULL DEFAULT '',"
	" not_before INTEGER NOT NULL,"
	" not_after INTEGER NOT NULL,"
	" first_seen_us INTEGER NOT NULL,"
	" last_seen_us INTEGER NOT NULL,"
	" count INTEGER NOT NULL DEFAULT 0,"
	" findings TEXT NOT NULL DEFAULT '',"
	" PRIMARY KEY (name, addr, port, sha256))",
	/* 2: the key type, so a dual RSA/ECDSA deployment is not taken for an
	 * old certificate coming back; an index for per-name questions. */
	"ALTER TABLE served ADD COLUMN key TEXT NOT NULL DEFAULT '';"
	"CREATE INDEX served_by_name ON served (name, not_before)",
	/* 3: the agent's recent events, in the aggregates the HTML report
	 * draws (written by sink/history.c, read by sink/history_store.c;
	 * inventory.h describes the tables). Older rows are deleted as new
	 * ones come: indexes on the times they are deleted by. */
	"CREATE TABLE history_second ("
	" second INTEGER PRIMARY KEY,"
	" handshakes INTEGER NOT NULL,"
	" failures INTEGER NOT NULL,"
	" other_names INTEGER NOT NULL,"
	" other_clients INTEGER NOT NULL,"
	" other_clients_failures INTEGER NOT NULL,"
	" other_certs INTEGER NOT NULL);"
	"CREATE TABLE history_name ("
	" minute INTEGER NOT NULL,"
	" name BLOB NOT NULL,"
	" server TEXT NOT NULL,"
	" incomplete INTEGER NOT NULL,"
	" ok INTEGER NOT NULL,"
	" failed INTEGER NOT NULL,"
	" aborted INTEGER NOT NULL,"
	" PRIMARY KEY (minute, name, server)) WITHOUT ROWID;"
	"CREATE TABLE history_period ("
	" name BLOB NOT NULL,"
	" server TEXT NOT NULL,"
	" sha256 TEXT NOT NULL,"
	" first_us INTEGER NOT NULL,"
	" last_us INTEGER NOT NULL,"
	" handshakes INTEGER NOT NULL,"
	" failures INTEGER NOT NULL,"
	" PRIMARY KEY (name, server, sha256, first_us)) WITHOUT ROWID;"
	"CREATE INDEX history_period_by_last ON history_period (last_us);"
	"CREATE TABLE history_cert ("
	" sha256 TEXT PRIMARY KEY,"
	" subject TEXT NOT NULL,"
	" issuer TEXT NOT NULL,"
	" serial TEXT NOT NULL,"
	" key TEXT NOT NULL,"
	" not_before INTEGER NOT NULL,"
	" not_after INTEGER NOT NULL,"
	" last_us INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE INDEX history_cert_by_last ON history_cert (last_us);"
	"CREATE TABLE history_leaf ("
	" minute INTEGER NOT NULL,"
	" sha256 TEXT NOT NULL,"
	" handshakes INTEGER NOT NULL,"
	" failures INTEGER NOT NULL,"
	" PRIMARY KEY (minute, sha256)) WITHOUT ROWID;"
	"CREATE TABLE history_finding ("
	" sha256 TEXT NOT NULL,"
	" kind TEXT NOT NULL,"
	" detail TEXT NOT NULL,"
	" last_us INTEGER NOT NULL,"
	" PRIMARY KEY (sha256, kind));"
	"CREATE INDEX history_finding_by_last ON history_finding (last_us);"
	"CREATE TABLE history_spike ("
	" ts_us INTEGER NOT NULL,"
	" state TEXT NOT NULL,"
	" scope TEXT NOT NULL,"
	" key TEXT NOT NULL,"
	" started_us INTEGER NOT NULL,"
	" window_s INTEGER NOT NULL,"
	" handshakes INTEGER NOT NULL,"
	" failures INTEGER NOT NULL,"
	" aborted INTEGER NOT NULL,"
	" rate REAL NOT NULL,"
	" baseline_rate REAL,"
	" top_alert TEXT NOT NULL, top_alert_from TEXT NOT NULL,"
	" top_alert_count INTEGER NOT NULL,"
	" top_sni TEXT NOT NULL, top_sni_from TEXT NOT NULL,"
	" top_sni_count INTEGER NOT NULL,"
	" top_cert TEXT NOT NULL, top_cert_from TEXT NOT NULL,"
	" top_cert_count INTEGER NOT NULL,"
	" top_client TEXT NOT NULL, top_client_from TEXT NOT NULL,"
	" top_client_count INTEGER NOT NULL,"
	" cert_findings TEXT NOT NULL);"
	"CREATE INDEX history_spike_by_time ON history_spike (ts_us);"
	"CREATE TABLE history_alert ("
	" minute INTEGER NOT NULL,"
	" from_client INTEGER NOT NULL,"
	" description INTEGER NOT NULL,"
	" count INTEGER NOT NULL,"
	" PRIMARY KEY (minute, from_client, description)) WITHOUT ROWID;"
	"CREATE TABLE history_client ("
	" minute INTEGER NOT NULL,"
	" ja4 TEXT NOT NULL,"
	" handshakes INTEGER NOT NULL,"
	" failures INTEGER NOT NULL,"
	" PRIMARY KEY (minute, ja4)) WITHOUT ROWID",
	/* 4: the evidence that an older leaf of another key family is a
	 * rollback and not half of a dual RSA/ECDSA deployment (supersede.h),
	 * kept so the finding holds for every client until the newer leaf is
	 * served again there. */
	"ALTER TABLE served ADD COLUMN rollback_us INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE served ADD COLUMN rollback_evidence TEXT NOT NULL DEFAULT ''",
	/* 5: why a name's handshakes showed no certificate (sink/no_cert.h),
	 * per minute, so that the history's report says it as a capture's
	 * does; rows written before hold zeros. */
	"ALTER TABLE history_name ADD COLUMN no_cert_resumed INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE history_name ADD COLUMN no_cert_tls13 INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE history_name ADD COLUMN no_cert_too_large INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE history_name ADD COLUMN no_cert_truncated INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE history_name ADD COLUMN largest_chain INTEGER NOT NULL DEFAULT 0",
	/* 6: the outcomes of the handshakes of names beyond a second's bound
	 * (other_names), so that the report's overview counts them; rows
	 * written before hold zeros. */
	"ALTER TABLE history_second ADD COLUMN other_incomplete INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE history_second ADD COLUMN other_ok INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE history_second ADD COLUMN other_failed INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE history_second ADD COLUMN other_aborted INTEGER NOT NULL DEFAULT 0;"
	/* and the finding kinds a serving period showed (a bit per kind, in
	 * the order of events.md's list; -1: not recorded), so that a period
	 * is not marked with what its leaf only got later */
	"ALTER TABLE history_period ADD COLUMN findings INTEGER NOT NULL DEFAULT -1",
};

static const char sql_record[] =
	"INSERT INTO served (name, addr, port, sha256, subject, issuer, key,"
	" not_before, not_after, first_seen_us, last_seen_us, count, findings,"
	" rollback_us, rollback_evidence)"
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10, 1, ?11, ?12, ?13)"
	" ON CONFLICT (name, addr, port, sha256) DO UPDATE SET"
	" first_seen_us = min(first_seen_us, excluded.first_seen_us),"
	" rollback_evidence = CASE WHEN excluded.rollback_us > 0"
	"  THEN excluded.rollback_evidence ELSE rollback_evidence END,"
	" rollback_us = CASE WHEN excluded.rollback_us > 0"
	"  THEN excluded.rollback_us ELSE rollback_us END,"
	" findings = CASE WHEN excluded.last_seen_us >= last_seen_us"
	"  THEN tw_staple_carry(findings, excluded.findings, ?14) ELSE findings END,"
	" last_seen_us = max(last_seen_us, excluded.last_seen_us),"
	" count = count + 1, key = excluded.key"
	" RETURNING count, first_seen_us";

/* Sightings counted in memory (inventory_memo.c), written in a batch with
 * the same rules as sql_record's update. */
static const char sql_add_sightings[] =
	"UPDATE served SET count = count + ?5,"
	" findings = CASE WHEN ?6 >= last_seen_us"
	"  THEN tw_staple_carry(findings, ?7, ?8) ELSE findings END,"
	" last_seen_us = max(last_seen_us, ?6)"
	" WHERE name = ?1 AND addr = ?2 AND port = ?3 AND sha256 = ?4";

static const char sql_set_findings[] =
	"UPDATE served SET findings = tw_staple_carry(findings, ?5, ?6)"
	" WHERE name = ?1 AND addr = ?2 AND port = ?3 AND sha256 = ?4";

int inv_fail(const struct inventory *inv, const char *what, char *err,
	     size_t errlen)
{
	/* "disk I/O error" alone does not say what to fix: the system's
	 * reason does ("Read-only file system", "No space left on device") */
	int sys = (sqlite3_extended_errcode(inv->db) & 0xff) == SQLITE_IOERR ?
		  sqlite3_system_errno(inv->db) : 0;

	snprintf(err, errlen, "%s: %s%s%s%s%s%s", inv->where, what ? what : "",
		 what ? ": " : "", sqlite3_errmsg(inv->db), sys ? " (" : "",
		 sys ? strerror(sys) : "", sys ? ")" : "");
	return -1;
}

int inv_run_lost(const struct inventory *inv, char *err, size_t errlen)
{
	if (!inv->run_open || !sqlite3_get_autocommit(inv->db))
		return 0;
	snprintf(err, errlen, "%s: the run's transaction was rolled back by a "
		 "failed write", inv->where);
	return -1;
}

bool inventory_fs_read_only(const char *path)
{
	return tw_fs_read_only(path);
}

int inventory_reopen(const char *path, struct inventory **out, char *err,
		     size_t errlen)
{
	*out = NULL;
	if (tw_fs_read_only(path))
		return 0;
	/* the file there may be a new one: leased before SQLite opens it */
	if (inventory_lease_follow(path, err, errlen) < 0)
		return -1;
	return inventory_open(path, out, err, errlen) ? -1 : 1;
}

static int inv_exec(struct inventory *inv, const char *sql, const char *what,
		    char *err, size_t errlen)
{
	if (sqlite3_exec(inv->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return inv_fail(inv, what, err, errlen);
	return 0;
}

/* A one-value query (PRAGMA user_version, quick_check). */
int inv_query_text(struct inventory *inv, const char *sql, char *out,
		   size_t outlen)
{
	sqlite3_stmt *st = NULL;
	int rc = -1;

	if (sqlite3_prepare_v2(inv->db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(st, 0);

		snprintf(out, outlen, "%s", t ? (const char *)t : "");
		rc = 0;
	}
	sqlite3_finalize(st);
	return rc;
}

static int inv_schema_version(struct inventory *inv, int *version, char *err,
			      size_t errlen)
{
	char v[32];

	*version = 0;
	if (inv_query_text(inv, "PRAGMA user_version", v, sizeof(v)))
		return inv_fail(inv, NULL, err, errlen);
	*version = atoi(v);
	return 0;
}

/* One migration, from the version the file has once it is locked:
 * another process (or connection) may have migrated it meanwhile. */
static int inv_migrate_step(struct inventory *inv, char *err, size_t errlen)
{
	char what[64], sql[64];
	int version;

	if (inv_exec(inv, "BEGIN IMMEDIATE", "migrating the schema", err, errlen))
		return -1;
	if (inv_schema_version(inv, &version, err, errlen))
		goto fail;
	if (version >= INVENTORY_SCHEMA_VERSION)
		return inv_exec(inv, "COMMIT", NULL, err, errlen);
	snprintf(what, sizeof(what), "migration to schema %d", version + 1);
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", version + 1);
	if (inv_exec(inv, migrations[version], what, err, errlen) ||
	    inv_exec(inv, sql, what, err, errlen) ||
	    inv_exec(inv, "COMMIT", what, err, errlen))
		goto fail;
	return 0;
fail:
	sqlite3_exec(inv->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

/* A file of an older tlswatch was brought up to date: said, since an
 * older tlswatch's agent and analyze --db refuse it from now on. */
static void inv_say_migrated(const struct inventory *inv, int from)
{
	if (from > 0 && from < INVENTORY_SCHEMA_VERSION)
		pr_warn("%s: migrated from schema version %d to %d, its rows "
			"kept; a tlswatch that writes version %d refuses it now "
			"(keep a copy to go back)\n", inv->where, from,
			INVENTORY_SCHEMA_VERSION, from);
}

static int inv_migrate(struct inventory *inv, char *err, size_t errlen)
{
	int version, steps, from = -1;

	/* Bounded: each step raises the version by one. */
	for (steps = 0; steps <= INVENTORY_SCHEMA_VERSION; steps++) {
		if (inv_schema_version(inv, &version, err, errlen))
			return -1;
		if (from < 0)
			from = version;
		if (version > INVENTORY_SCHEMA_VERSION) {
			snprintf(err, errlen, "%s: schema version %d is newer "
				 "than this tlswatch (%d)", inv->where, version,
				 INVENTORY_SCHEMA_VERSION);
			return -1;
		}
		if (version == INVENTORY_SCHEMA_VERSION) {
			inv->version = version;
			inv_say_migrated(inv, from);
			return 0;
		}
		if (inv_migrate_step(inv, err, errlen))
			return -1;
	}
	snprintf(err, errlen, "%s: the schema version does not advance",
		 inv->where);
	return -1;
}

/* Tables no tlswatch reads that an interim build left in its files,
 * dropped at open: session 12's analyzed_capture_prefix_bound, which the
 * mark table (inventory_captures.c) replaced under the same schema
 * version, so no migration step reaches those files. A file without them
 * is not written. */
static const char sql_drop_leftovers[] =
	"DROP TABLE IF EXISTS analyzed_capture_prefix_bound";

/* Damage SQLite can see without reading every page twice. */
static int inv_check_integrity(struct inventory *inv, char *err, size_t errlen)
{
	char res[160];

	if (inv_query_text(inv, "PRAGMA quick_check(1)", res, sizeof(res)))
		return inv_fail(inv, NULL, err, errlen);
	if (strcmp(res, "ok") != 0) {
		snprintf(err, errlen, "%s: damaged: %s", inv->where, res);
		return -1;
	}
	return 0;
}

int inv_prepare_stmt(struct inventory *inv, const char *sql, sqlite3_stmt **st)
{
	return sqlite3_prepare_v3(inv->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st,
				  NULL) == SQLITE_OK ? 0 : -1;
}

static int inv_prepare(struct inventory *inv, char *err, size_t errlen)
{
	if (inv_carry_register(inv) ||
	    inv_prepare_stmt(inv, sql_record, &inv->record) ||
	    inv_prepare_stmt(inv, sql_set_findings, &inv->set_findings) ||
	    inv_prepare_stmt(inv, sql_add_sightings, &inv->add_sightings) ||
	    inv_query_prepare(inv))
		return inv_fail(inv, NULL, err, errlen);
	return 0;
}

static int inv_setup(struct inventory *inv, const char *path, char *err,
		     size_t errlen)
{
	char mode[32];

	sqlite3_busy_timeout(inv->db, INVENTORY_BUSY_TIMEOUT_MS);
	sqlite3_extended_result_codes(inv->db, 1);
	if (path && sqlite3_db_readonly(inv->db, "main") == 1) {
		snprintf(err, errlen, "%s: read-only, cannot record "
			 "certificates in it", inv->where);
		return -1;
	}
	if (inv_check_integrity(inv, err, errlen))
		return -1;
	if (path) {
		if (inv_query_text(inv, "PRAGMA journal_mode = WAL", mode, sizeof(mode)))
			return inv_fail(inv, "enabling WAL", err, errlen);
		if (strcmp(mode, "wal") != 0) {
			snprintf(err, errlen, "%s: cannot use WAL mode (%s)",
				 inv->where, mode);
			return -1;
		}
		if (inv_exec(inv, "PRAGMA synchronous = NORMAL", NULL, err, errlen))
			return -1;
	}
	if (inv_migrate(inv, err, errlen) ||
	    inv_exec(inv, sql_drop_leftovers, "dropping a leftover table", err, errlen))
		return -1;
	if (inv_bound_open(inv))
		return inv_fail(inv, "counting rows", err, errlen);
	return inv_prepare(inv, err, errlen);
}

/* The length of the first prefix of @path that a ".." component follows
 * and the kernel does not find as a directory ("nx/" of "nx/../inv.db",
 * nx missing), or 0 when every ".." follows a directory. A prefix too long
 * to test counts as not found. */
static size_t path_dotdot_unfound(const char *path)
{
	char dir[PATH_MAX];
	struct stat sb;
	const char *p;
	size_t n;

	for (p = path; (p = strstr(p, "..")) != NULL; p += 2) {
		if (p == path || p[-1] != '/' || (p[2] != '\0' && p[2] != '/'))
			continue;
		n = (size_t)(p - path);   /* with its trailing '/': a directory */
		if (n >= sizeof(dir))
			return n;
		memcpy(dir, path, n);
		dir[n] = '\0';
		if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
			return n;
	}
	return 0;
}

int inventory_check_path(const char *path, bool must_exist, char *err,
			 size_t errlen)
{
	struct stat sb;
	int e;

	if (stat(path, &sb) != 0) {
		e = errno;
		/* SQLite creates a missing file, or says why not. But it reads
		 * ".." by the letter: "nx/../inv.db" is "inv.db" to it though
		 * nx does not exist, where the kernel finds no file; the lease
		 * (inventory_lease.h) and analyze's --html check go by the
		 * kernel and would miss the file SQLite opens. */
		size_t unfound = path_dotdot_unfound(path);

		if (!unfound) {
			if (!must_exist)
				return 0;
			snprintf(err, errlen, "%s: %s", path, strerror(e));
		} else {
			snprintf(err, errlen, "%s: %s (a '..' in it follows '%.*s', "
				 "which is not an existing directory)", path, strerror(e),
				 (int)unfound, path);
		}
	} else if (S_ISDIR(sb.st_mode)) {
		snprintf(err, errlen, "%s: is a directory, not a tlswatch inventory", path);
	} else if (!S_ISREG(sb.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file, not a tlswatch inventory", path);
	} else {
		return 0;
	}
	return -1;
}

/* A struct inventory with its connection to @path (NULL: a new database
 * in memory), not set up yet. NULL with @err. */
static struct inventory *inv_connect(const char *path, const char *where,
				     char *err, size_t errlen)
{
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
	struct inventory *inv = calloc(1, sizeof(*inv));

	if (!inv) {
		snprintf(err, errlen, "inventory: out of memory");
		return NULL;
	}
	snprintf(inv->where, sizeof(inv->where), "inventory %s", where);
	if (inv_memo_open(inv)) {
		snprintf(err, errlen, "%s: out of memory", inv->where);
		inventory_close(inv);
		return NULL;
	}
	if (sqlite3_open_v2(path ? path : ":memory:", &inv->db, flags, NULL) !=
	    SQLITE_OK) {
		if (inv->db)
			inv_fail(inv, NULL, err, errlen);
		else
			snprintf(err, errlen, "%s: out of memory", inv->where);
		inventory_close(inv);
		return NULL;
	}
	return inv;
}

int inventory_open(const char *path, struct inventory **out, char *err,
		   size_t errlen)
{
	struct inventory *inv;

	*out = NULL;
	if (path && inventory_check_path(path, false, err, errlen))
		return -1;
	inv = inv_connect(path, path ? path : ":memory:", err, errlen);
	if (!inv)
		return -1;
	if (inv_setup(inv, path, err, errlen)) {
		inventory_close(inv);
		return -1;
	}
	*out = inv;
	return 0;
}

int inventory_copy(struct inventory *from, struct inventory **out, char *err,
		   size_t errlen)
{
	struct inventory *inv;
	sqlite3_backup *b;
	int rc;

	*out = NULL;
	/* "": SQLite's private temporary database, which spills to a file
	 * it removes at close: a large inventory is not held in memory */
	inv = inv_connect("", "", err, errlen);
	if (!inv)
		return -1;
	inv->is_copy = true;
	snprintf(inv->where, sizeof(inv->where), "%.*s (a temporary copy)",
		 (int)sizeof(inv->where) - 24, from->where);
	b = sqlite3_backup_init(inv->db, "main", from->db, "main");
	rc = b ? sqlite3_backup_step(b, -1) : SQLITE_ERROR;
	if (b)
		sqlite3_backup_finish(b);
	if (rc != SQLITE_DONE)
		snprintf(err, errlen, "%s: %s", inv->where, b ? sqlite3_errstr(rc) :
			 sqlite3_errmsg(inv->db));
	if (rc != SQLITE_DONE || inv_setup(inv, NULL, err, errlen)) {
		inventory_close(inv);
		return -1;
	}
	*out = inv;
	return 0;
}

void inventory_close(struct inventory *inv)
{
	char err[256];

	if (!inv)
		return;
	if (inv->db && inventory_flush(inv, err, sizeof(err)))
		pr_warn("%s: the last sightings were not written\n", err);
	inv_memo_close(inv);
	inv_bound_close(inv);
	sqlite3_finalize(inv->record);
	sqlite3_finalize(inv->set_findings);
	sqlite3_finalize(inv->find_newer);
	sqlite3_finalize(inv->newest_candidate);
	sqlite3_finalize(inv->add_sightings);
	sqlite3_finalize(inv->rival_rows);
	sqlite3_finalize(inv->last_for_name);
	sqlite3_close(inv->db);
	free(inv);
}

bool inv_bind_key(sqlite3_stmt *st, const char *name, const char *addr,
		  uint16_t port, const char *sha256)
{
	return sqlite3_bind_text(st, 1, nz(name), -1, SQLITE_STATIC) == SQLITE_OK &&
	       sqlite3_bind_text(st, 2, nz(addr), -1, SQLITE_STATIC) == SQLITE_OK &&
	       sqlite3_bind_int(st, 3, port) == SQLITE_OK &&
	       sqlite3_bind_text(st, 4, nz(sha256), -1, SQLITE_STATIC) == SQLITE_OK;
}

int inv_step_done(struct inventory *inv, sqlite3_stmt *st, int rc,
		  const char *what, char *err, size_t errlen)
{
	int ret = 0;

	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		ret = inv_fail(inv, what, err, errlen);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return ret;
}

int inventory_record(struct inventory *inv, const struct inventory_sighting *s,
		     bool *created, char *err, size_t errlen)
{
	sqlite3_stmt *st = inv->record;
	uint64_t first = 0;
	int rc;

	if (created)
		*created = false;
	if (inv_run_lost(inv, err, errlen))
		return -1;
	rc = inv_memo_defer(inv, s, err, errlen);
	if (rc)
		return rc < 0 ? -1 : 0;
	rc = inv_bound_refuses(inv, s, err, errlen);
	if (rc)
		return rc < 0 ? -1 : 0;
	if (!inv_bind_key(st, s->name, s->addr, s->port, s->sha256) ||
	    sqlite3_bind_text(st, 5, nz(s->subject), -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_text(st, 6, nz(s->issuer), -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_text(st, 7, nz(s->key), -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 8, s->not_before) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 9, s->not_after) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 10, (sqlite3_int64)s->ts_us) != SQLITE_OK ||
	    sqlite3_bind_text(st, 11, nz(s->findings), -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 12, (sqlite3_int64)s->rollback_us) != SQLITE_OK ||
	    sqlite3_bind_text(st, 13, nz(s->rollback_evidence), -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int(st, 14, s->staple_unknown) != SQLITE_OK)
		return inv_step_done(inv, st, SQLITE_ERROR, "recording", err, errlen);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		if (sqlite3_column_int64(st, 0) == 1)
			inv->n_rows++;
		if (created)
			*created = sqlite3_column_int64(st, 0) == 1;
		first = (uint64_t)sqlite3_column_int64(st, 1);
		rc = sqlite3_step(st);   /* RETURNING: run the statement to its end */
	}
	if (inv_step_done(inv, st, rc, "recording", err, errlen))
		return -1;
	inv_memo_written(inv, s, first);
	return 0;
}

int inventory_set_findings(struct inventory *inv, const char *name,
			   const char *addr, uint16_t port, const char *sha256,
			   const char *findings, bool staple_unknown,
			   char *err, size_t errlen)
{
	sqlite3_stmt *st = inv->set_findings;

	/* Sightings waiting in memory carry older findings: write them first
	 * (which also says whether the run was lost). */
	if (inventory_flush(inv, err, errlen) || inv_run_lost(inv, err, errlen))
		return -1;
	if (!inv_bind_key(st, name, addr, port, sha256) ||
	    sqlite3_bind_text(st, 5, nz(findings), -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int(st, 6, staple_unknown) != SQLITE_OK)
		return inv_step_done(inv, st, SQLITE_ERROR, "updating", err, errlen);
	return inv_step_done(inv, st, sqlite3_step(st), "updating", err, errlen);
}

int inventory_version(const struct inventory *inv)
{
	return inv->version;
}

struct sqlite3 *inventory_sqlite(struct inventory *inv)
{
	return inv->db;
}
