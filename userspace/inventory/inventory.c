// SPDX-License-Identifier: MIT
/*
 * The served-certificate inventory in SQLite. The schema is versioned with
 * PRAGMA user_version and brought up to date by the migrations below, one
 * transaction each, so a database written by an older tlswatch keeps its
 * history. A file that cannot be written is refused at open with a clear
 * reason; the caller then carries on without it.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "common/fs_writable.h"
#include "common/log.h"
#include "common/printable.h"
#include "common/timefmt.h"
#include "inventory.h"
#include "inventory_internal.h"
#include "common/json.h"

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
	"  THEN excluded.findings ELSE findings END,"
	" last_seen_us = max(last_seen_us, excluded.last_seen_us),"
	" count = count + 1, key = excluded.key"
	" RETURNING count, first_seen_us";

/* Sightings counted in memory (inventory_memo.c), written in a batch with
 * the same rules as sql_record's update. */
static const char sql_add_sightings[] =
	"UPDATE served SET count = count + ?5,"
	" findings = CASE WHEN ?6 >= last_seen_us THEN ?7 ELSE findings END,"
	" last_seen_us = max(last_seen_us, ?6)"
	" WHERE name = ?1 AND addr = ?2 AND port = ?3 AND sha256 = ?4";

static const char sql_set_findings[] =
	"UPDATE served SET findings = ?5"
	" WHERE name = ?1 AND addr = ?2 AND port = ?3 AND sha256 = ?4";

#define LEAF_COLUMNS \
	"name, addr, port, sha256, subject, issuer, key, not_before, not_after," \
	" first_seen_us, last_seen_us, count, findings"

#define KEY_FAMILY_SQL "substr(key, 1, instr(key || '-', '-') - 1)"

/* The rows inventory_find_newer() chooses from, at any time: of the same
 * key family (?8 false), or of another one (?8 true). */
#define NEWER_CANDIDATES \
	" FROM served" \
	" WHERE name = ?1 AND sha256 <> ?2 AND not_before > ?3" \
	" AND (?1 <> '' OR (addr = ?5 AND port = ?6))" \
	" AND CASE WHEN ?8 THEN ?7 <> '' AND key <> '' AND " KEY_FAMILY_SQL " <> ?7" \
	"  ELSE ?7 = '' OR key = '' OR " KEY_FAMILY_SQL " = ?7 END"

static const char sql_find_newer[] =
	"SELECT name, addr, port, sha256, subject, issuer, key, not_before,"
	" not_after, min(first_seen_us), max(last_seen_us), sum(count), findings"
	NEWER_CANDIDATES " AND first_seen_us <= ?4"
	" GROUP BY sha256 ORDER BY not_before DESC, sha256 LIMIT 1";

static const char sql_newest_candidate[] =
	"SELECT max(first_seen_us)" NEWER_CANDIDATES;

/* inventory_rival_facts(): two rows on one address, and a leaf's last
 * sighting for the name. */
static const char sql_rival_rows[] =
	"SELECT sha256, last_seen_us, rollback_us, rollback_evidence FROM served"
	" WHERE name = ?1 AND addr = ?2 AND port = ?3 AND sha256 IN (?4, ?5)";

static const char sql_last_for_name[] =
	"SELECT max(last_seen_us) FROM served WHERE name = ?1 AND sha256 = ?4"
	" AND (?1 <> '' OR (addr = ?2 AND port = ?3))";

/* The listing: the rollback columns where the file has them. */
#define SQL_DUMP(rollback) \
	"SELECT " LEAF_COLUMNS ", " rollback "," \
	" last_seen_us = max(last_seen_us) OVER (PARTITION BY name, addr, port)" \
	" FROM served ORDER BY name, last_seen_us DESC, addr, port, sha256"
static const char sql_dump[] = SQL_DUMP("rollback_us, rollback_evidence");
static const char sql_dump_before_rollback[] = SQL_DUMP("0, ''");

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
static int inv_query_text(struct inventory *inv, const char *sql, char *out,
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

static int inv_migrate(struct inventory *inv, char *err, size_t errlen)
{
	int version, steps;

	/* Bounded: each step raises the version by one. */
	for (steps = 0; steps <= INVENTORY_SCHEMA_VERSION; steps++) {
		if (inv_schema_version(inv, &version, err, errlen))
			return -1;
		if (version > INVENTORY_SCHEMA_VERSION) {
			snprintf(err, errlen, "%s: schema version %d is newer "
				 "than this tlswatch (%d)", inv->where, version,
				 INVENTORY_SCHEMA_VERSION);
			return -1;
		}
		if (version == INVENTORY_SCHEMA_VERSION) {
			inv->version = version;
			return 0;
		}
		if (inv_migrate_step(inv, err, errlen))
			return -1;
	}
	snprintf(err, errlen, "%s: the schema version does not advance",
		 inv->where);
	return -1;
}

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

static int inv_prepare(struct inventory *inv, char *err, size_t errlen)
{
	if (sqlite3_prepare_v3(inv->db, sql_record, -1, SQLITE_PREPARE_PERSISTENT,
			       &inv->record, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v3(inv->db, sql_set_findings, -1,
			       SQLITE_PREPARE_PERSISTENT, &inv->set_findings,
			       NULL) != SQLITE_OK ||
	    sqlite3_prepare_v3(inv->db, sql_find_newer, -1,
			       SQLITE_PREPARE_PERSISTENT, &inv->find_newer,
			       NULL) != SQLITE_OK ||
	    sqlite3_prepare_v3(inv->db, sql_newest_candidate, -1,
			       SQLITE_PREPARE_PERSISTENT, &inv->newest_candidate,
			       NULL) != SQLITE_OK ||
	    sqlite3_prepare_v3(inv->db, sql_add_sightings, -1,
			       SQLITE_PREPARE_PERSISTENT, &inv->add_sightings,
			       NULL) != SQLITE_OK ||
	    sqlite3_prepare_v3(inv->db, sql_rival_rows, -1,
			       SQLITE_PREPARE_PERSISTENT, &inv->rival_rows,
			       NULL) != SQLITE_OK ||
	    sqlite3_prepare_v3(inv->db, sql_last_for_name, -1,
			       SQLITE_PREPARE_PERSISTENT, &inv->last_for_name,
			       NULL) != SQLITE_OK)
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
	if (inv_migrate(inv, err, errlen))
		return -1;
	if (inv_bound_open(inv))
		return inv_fail(inv, "counting rows", err, errlen);
	return inv_prepare(inv, err, errlen);
}

int inventory_open(const char *path, struct inventory **out, char *err,
		   size_t errlen)
{
	struct inventory *inv = calloc(1, sizeof(*inv));
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;

	*out = NULL;
	if (!inv) {
		snprintf(err, errlen, "inventory: out of memory");
		return -1;
	}
	snprintf(inv->where, sizeof(inv->where), "inventory %s", path ? path : ":memory:");
	if (inv_memo_open(inv)) {
		snprintf(err, errlen, "%s: out of memory", inv->where);
		inventory_close(inv);
		return -1;
	}
	if (sqlite3_open_v2(path ? path : ":memory:", &inv->db, flags, NULL) !=
	    SQLITE_OK) {
		if (inv->db)
			inv_fail(inv, NULL, err, errlen);
		else
			snprintf(err, errlen, "%s: out of memory", inv->where);
		inventory_close(inv);
		return -1;
	}
	if (inv_setup(inv, path, err, errlen)) {
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
	    sqlite3_bind_text(st, 13, nz(s->rollback_evidence), -1, SQLITE_STATIC) != SQLITE_OK)
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
			   const char *findings, char *err, size_t errlen)
{
	sqlite3_stmt *st = inv->set_findings;

	/* Sightings waiting in memory carry older findings: write them first. */
	if (inventory_flush(inv, err, errlen))
		return -1;
	if (!inv_bind_key(st, name, addr, port, sha256) ||
	    sqlite3_bind_text(st, 5, nz(findings), -1, SQLITE_STATIC) != SQLITE_OK)
		return inv_step_done(inv, st, SQLITE_ERROR, "updating", err, errlen);
	return inv_step_done(inv, st, sqlite3_step(st), "updating", err, errlen);
}

static void inv_col_text(sqlite3_stmt *st, int col, char *out, size_t len)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	snprintf(out, len, "%s", t ? (const char *)t : "");
}

/* Columns in LEAF_COLUMNS order. */
static void inv_read_leaf(sqlite3_stmt *st, struct inventory_leaf *l)
{
	memset(l, 0, sizeof(*l));
	inv_col_text(st, 0, l->name, sizeof(l->name));
	inv_col_text(st, 1, l->addr, sizeof(l->addr));
	l->port = (uint16_t)sqlite3_column_int(st, 2);
	inv_col_text(st, 3, l->sha256, sizeof(l->sha256));
	inv_col_text(st, 4, l->subject, sizeof(l->subject));
	inv_col_text(st, 5, l->issuer, sizeof(l->issuer));
	inv_col_text(st, 6, l->key, sizeof(l->key));
	l->not_before = sqlite3_column_int64(st, 7);
	l->not_after = sqlite3_column_int64(st, 8);
	l->first_seen_us = (uint64_t)sqlite3_column_int64(st, 9);
	l->last_seen_us = (uint64_t)sqlite3_column_int64(st, 10);
	l->count = sqlite3_column_int64(st, 11);
	inv_col_text(st, 12, l->findings, sizeof(l->findings));
}

/* "EC" of "EC-P256"; "" when unknown. */
static void inv_key_family(const char *key, char *out, size_t len)
{
	size_t n = key ? strcspn(key, "-") : 0;

	if (n >= len)
		n = len - 1;
	memcpy(out, key ? key : "", n);
	out[n] = 0;
}

static bool bind_candidates(sqlite3_stmt *st, const struct newer_query *q)
{
	return sqlite3_bind_text(st, 1, nz(q->name), -1, SQLITE_STATIC) == SQLITE_OK &&
	       sqlite3_bind_text(st, 2, nz(q->sha256), -1, SQLITE_STATIC) == SQLITE_OK &&
	       sqlite3_bind_int64(st, 3, q->not_before) == SQLITE_OK &&
	       sqlite3_bind_text(st, 5, nz(q->addr), -1, SQLITE_STATIC) == SQLITE_OK &&
	       sqlite3_bind_int(st, 6, q->port) == SQLITE_OK &&
	       sqlite3_bind_text(st, 7, q->family, -1, SQLITE_STATIC) == SQLITE_OK &&
	       sqlite3_bind_int(st, 8, q->other_family) == SQLITE_OK;
}

/* The latest first_seen of any candidate row, at any time (0: none). */
static int newest_candidate(struct inventory *inv, const struct newer_query *q,
			    uint64_t *out, char *err, size_t errlen)
{
	sqlite3_stmt *st = inv->newest_candidate;
	int rc;

	if (!bind_candidates(st, q))
		return inv_step_done(inv, st, SQLITE_ERROR, "querying", err, errlen);
	rc = sqlite3_step(st);
	*out = rc == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(st, 0) : 0;
	return inv_step_done(inv, st, rc, "querying", err, errlen);
}

int inventory_find_newer(struct inventory *inv, const char *name,
			 const char *addr, uint16_t port, const char *sha256,
			 int64_t not_before, const char *key,
			 enum inventory_family_match match, uint64_t served_by_us,
			 struct inventory_leaf *out, char *err, size_t errlen)
{
	sqlite3_stmt *st = inv->find_newer;
	char family[32];
	struct newer_query q = {
		.name = name, .addr = addr, .port = port, .sha256 = sha256,
		.not_before = not_before, .family = family,
		.served_by_us = served_by_us,
		.other_family = match == INVENTORY_OTHER_FAMILY,
	};
	uint64_t newest;
	int rc;

	inv_key_family(key, family, sizeof(family));
	rc = inv_memo_newer_get(inv, &q, out);
	if (rc >= 0)
		return rc;
	if (!bind_candidates(st, &q) ||
	    sqlite3_bind_int64(st, 4, (sqlite3_int64)served_by_us) != SQLITE_OK)
		return inv_step_done(inv, st, SQLITE_ERROR, "querying", err, errlen);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		inv_read_leaf(st, out);
	if (inv_step_done(inv, st, rc, "querying", err, errlen))
		return -1;
	rc = rc == SQLITE_ROW ? 1 : 0;
	/* Failing to learn whether the answer may be kept only means it is not. */
	if (newest_candidate(inv, &q, &newest, err, errlen) == 0)
		inv_memo_newer_put(inv, &q, newest, rc ? out : NULL);
	return rc;
}

/* The two rows on @addr/@port into @out (and the sightings counted in
 * memory). */
static int rival_rows(struct inventory *inv, const char *name, const char *addr,
		      uint16_t port, const char *older, const char *newer,
		      struct inventory_rival_facts *out, char *err, size_t errlen)
{
	sqlite3_stmt *st = inv->rival_rows;
	int rc;

	if (!inv_bind_key(st, name, addr, port, older) ||
	    sqlite3_bind_text(st, 5, nz(newer), -1, SQLITE_STATIC) != SQLITE_OK)
		return inv_step_done(inv, st, SQLITE_ERROR, "querying", err, errlen);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const unsigned char *sha = sqlite3_column_text(st, 0);

		if (sha && !strcmp((const char *)sha, nz(newer))) {
			out->newer_last_here_us = (uint64_t)sqlite3_column_int64(st, 1);
			continue;
		}
		out->rollback_us = (uint64_t)sqlite3_column_int64(st, 2);
		inv_col_text(st, 3, out->rollback_evidence,
			     sizeof(out->rollback_evidence));
	}
	if (inv_step_done(inv, st, rc, "querying", err, errlen))
		return -1;
	out->newer_last_here_us = inv_memo_last_seen(inv, name, addr, port, newer,
						     out->newer_last_here_us);
	return 0;
}

static int last_for_name(struct inventory *inv, const char *name, const char *addr,
			 uint16_t port, const char *sha256, uint64_t *out,
			 char *err, size_t errlen)
{
	sqlite3_stmt *st = inv->last_for_name;
	int rc;

	if (!inv_bind_key(st, name, addr, port, sha256))
		return inv_step_done(inv, st, SQLITE_ERROR, "querying", err, errlen);
	rc = sqlite3_step(st);
	*out = rc == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(st, 0) : 0;
	if (inv_step_done(inv, st, rc, "querying", err, errlen))
		return -1;
	*out = inv_memo_last_seen(inv, name, addr, port, sha256, *out);
	return 0;
}

int inventory_rival_facts(struct inventory *inv, const char *name,
			  const char *addr, uint16_t port, const char *older,
			  const char *newer, bool exact,
			  struct inventory_rival_facts *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if (!exact && inv_memo_rival_get(inv, name, addr, port, older, newer, out))
		return 0;
	if (exact && inventory_flush(inv, err, errlen))
		return -1;
	if (rival_rows(inv, name, addr, port, older, newer, out, err, errlen) ||
	    last_for_name(inv, name, addr, port, older, &out->older_last_us,
			  err, errlen))
		return -1;
	inv_memo_rival_put(inv, name, addr, port, older, newer, out);
	return 0;
}

int64_t inventory_count(struct inventory *inv)
{
	char v[32];

	if (inv_query_text(inv, "SELECT count(*) FROM served", v, sizeof(v)))
		return -1;
	return atoll(v);
}

/* --- `tlswatch inventory` */

static void dump_findings_json(struct json_writer *j, const char *findings)
{
	const char *p = findings;

	jw_key(j, "findings");
	jw_array_begin(j);
	while (p && *p) {
		size_t n = strcspn(p, ",");

		if (n)
			jw_string_n(j, p, n);
		p += n;
		if (*p == ',')
			p++;
	}
	jw_array_end(j);
}

static int dump_json_row(struct json_writer *j, const struct inventory_leaf *l,
			 bool current, FILE *out)
{
	jw_object_begin(j);
	jw_kv_str(j, "name", l->name);
	jw_key(j, "server");
	jw_object_begin(j);
	jw_kv_str(j, "ip", l->addr);
	jw_kv_int(j, "port", l->port);
	jw_object_end(j);
	jw_kv_bool(j, "current", current);
	jw_kv_str(j, "sha256", l->sha256);
	jw_kv_str(j, "subject", l->subject);
	jw_kv_str(j, "issuer", l->issuer);
	if (l->key[0])
		jw_kv_str(j, "key", l->key);
	jw_kv_time_s(j, "not_before", l->not_before);
	jw_kv_time_s(j, "not_after", l->not_after);
	jw_kv_time_us(j, "first_seen", l->first_seen_us);
	jw_kv_time_us(j, "last_seen", l->last_seen_us);
	jw_kv_int(j, "count", l->count);
	dump_findings_json(j, l->findings);
	if (l->rollback_us) {
		jw_key(j, "rollback");
		jw_object_begin(j);
		jw_kv_time_us(j, "at", l->rollback_us);
		jw_kv_str(j, "evidence", l->rollback_evidence);
		jw_object_end(j);
	}
	jw_object_end(j);
	return jw_write_line(j, out);
}

/* A stored column for the terminal: the database is a file that others
 * may have written, so no column's bytes reach the listing raw. */
#define DUMP_TEXT_COL 300
static const char *dump_printable(const char *col, char out[DUMP_TEXT_COL])
{
	return tw_printable(col, strlen(col), out, DUMP_TEXT_COL);
}

static int dump_text_row(const struct inventory_leaf *l, bool current,
			 bool new_name, FILE *out)
{
	char name[DUMP_TEXT_COL], subject[DUMP_TEXT_COL], addr[DUMP_TEXT_COL];
	char sha256[DUMP_TEXT_COL], findings[DUMP_TEXT_COL], evidence[DUMP_TEXT_COL];
	char nb[TW_TIME_STRLEN], na[TW_TIME_STRLEN];
	char fs[TW_TIME_STRLEN], ls[TW_TIME_STRLEN], rb[TW_TIME_STRLEN];

	if (new_name)
		fprintf(out, "%s\n", l->name[0] ? dump_printable(l->name, name) : "(no SNI)");
	fprintf(out, "  %-7s %s:%u  %s  %s\n", current ? "serving" : "served",
		dump_printable(l->addr, addr), l->port, dump_printable(l->sha256, sha256),
		dump_printable(l->subject, subject));
	fprintf(out, "          valid %s .. %s  seen %s .. %s  x%lld%s%s\n",
		tw_time_format_s(l->not_before, nb), tw_time_format_s(l->not_after, na),
		tw_time_format_us(l->first_seen_us, fs),
		tw_time_format_us(l->last_seen_us, ls), (long long)l->count,
		l->findings[0] ? "  findings " : "", dump_printable(l->findings, findings));
	if (l->rollback_us)
		fprintf(out, "          rollback at %s: %s\n",
			tw_time_format_us(l->rollback_us, rb),
			dump_printable(l->rollback_evidence, evidence));
	return ferror(out) ? -1 : 0;
}

/* Calls @cb for each row of the dump query, until it returns non-zero. */
static int foreach_row(struct inventory *inv, inventory_row_fn cb, void *ctx,
		       char *err, size_t errlen)
{
	struct inventory_leaf l;
	sqlite3_stmt *st = NULL;
	int rc, crc = 0;

	if (sqlite3_prepare_v2(inv->db, inv->version >= INVENTORY_ROLLBACK_VERSION ?
			       sql_dump : sql_dump_before_rollback, -1, &st,
			       NULL) != SQLITE_OK)
		return inv_fail(inv, NULL, err, errlen);
	while (crc == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		inv_read_leaf(st, &l);
		l.rollback_us = (uint64_t)sqlite3_column_int64(st, 13);
		inv_col_text(st, 14, l.rollback_evidence, sizeof(l.rollback_evidence));
		crc = cb(ctx, &l, sqlite3_column_int(st, 15) != 0);
	}
	if (crc) {
		snprintf(err, errlen, "inventory: cannot write the listing");
		sqlite3_finalize(st);
		return -1;
	}
	if (rc != SQLITE_DONE) {
		inv_fail(inv, NULL, err, errlen);
		sqlite3_finalize(st);
		return -1;
	}
	sqlite3_finalize(st);
	return 0;
}

/* Percent-encodes @path into a read-only "file:" URI that SQLite opens
 * without creating -wal or -shm files. */
static int dump_uri(const char *path, char *uri, size_t len)
{
	static const char keep[] = "/._-~";
	size_t off = (size_t)snprintf(uri, len, "file:");
	const unsigned char *p;

	for (p = (const unsigned char *)path; *p && off + 4 < len; p++) {
		if (isalnum(*p) || strchr(keep, *p))
			uri[off++] = (char)*p;
		else
			off += (size_t)snprintf(uri + off, len - off, "%%%02X", *p);
	}
	if (*p || off + sizeof("?immutable=1") > len)
		return -1;
	memcpy(uri + off, "?immutable=1", sizeof("?immutable=1"));
	return 0;
}

/*
 * Opens @path for the listing, creating nothing. While a writer has the
 * database open in WAL mode its -wal file exists (and its -shm): read
 * through them as any SQLite reader does, committed rows still in the
 * WAL included. Without a -wal file nothing is pending: read the file as
 * it is, without the WAL index SQLite would otherwise create beside it.
 */
static int dump_open(struct inventory *inv, const char *path, char *err,
		     size_t errlen)
{
	char uri[3 * PATH_MAX + 32], wal[PATH_MAX + 8];
	bool writer = snprintf(wal, sizeof(wal), "%s-wal", path) < (int)sizeof(wal) &&
		      access(wal, F_OK) == 0;
	int rc;

	if (writer)
		rc = sqlite3_open_v2(path, &inv->db, SQLITE_OPEN_READONLY, NULL);
	else if (dump_uri(path, uri, sizeof(uri)) == 0)
		rc = sqlite3_open_v2(uri, &inv->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL);
	else {
		snprintf(err, errlen, "%s: %s", path, strerror(ENAMETOOLONG));
		return -1;
	}
	if (rc == SQLITE_OK)
		return 0;
	if (inv->db)
		inv_fail(inv, NULL, err, errlen);
	else
		snprintf(err, errlen, "%s: out of memory", path);
	return -1;
}

/* What is at @path before SQLite is asked: a clear word for a directory,
 * an empty file or a missing one. */
static int dump_check_file(const char *path, char *err, size_t errlen)
{
	struct stat sb;

	if (stat(path, &sb) != 0)
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
	else if (S_ISDIR(sb.st_mode))
		snprintf(err, errlen, "%s: is a directory, not a tlswatch inventory", path);
	else if (!S_ISREG(sb.st_mode))
		snprintf(err, errlen, "%s: not a regular file, not a tlswatch inventory", path);
	else if (sb.st_size == 0)
		snprintf(err, errlen, "%s: empty file, not a tlswatch inventory", path);
	else
		return 0;
	return -1;
}

/* The schema this tlswatch lists, in words when it is not: the served
 * table as read here is the same from INVENTORY_READ_MIN_VERSION on
 * (later versions add tables). Sets inv->version. */
static int dump_check_schema(struct inventory *inv, const char *path, char *err,
			     size_t errlen)
{
	int version;

	if (inv_query_text(inv, "PRAGMA user_version", err, errlen)) {
		if (sqlite3_errcode(inv->db) == SQLITE_NOTADB)
			snprintf(err, errlen, "%s: not a tlswatch inventory (%s)", path,
				 sqlite3_errmsg(inv->db));
		else
			inv_fail(inv, NULL, err, errlen);
		return -1;
	}
	version = atoi(err);
	err[0] = '\0';                 /* it held the answer, not an error */
	if (version == 0) {
		snprintf(err, errlen, "%s: not a tlswatch inventory (no tlswatch schema in it)", path);
		return -1;
	}
	if (version < INVENTORY_READ_MIN_VERSION) {
		snprintf(err, errlen, "%s: schema version %d, this tlswatch reads %d "
			 "or later (run the agent once to migrate it)", path, version,
			 INVENTORY_READ_MIN_VERSION);
		return -1;
	}
	inv->version = version;
	return 0;
}

/* Opens @path read-only into @inv (zeroed) and checks it is an inventory
 * this tlswatch reads. 0, or -1 with @err (inv->db may then be open:
 * sqlite3_close it). */
static int inv_open_read(const char *path, struct inventory *inv, char *err,
			 size_t errlen)
{
	if (!path) {
		snprintf(err, errlen, "no database given");
		return -1;
	}
	snprintf(inv->where, sizeof(inv->where), "%s", path);
	if (dump_check_file(path, err, errlen) || dump_open(inv, path, err, errlen))
		return -1;
	sqlite3_busy_timeout(inv->db, INVENTORY_BUSY_TIMEOUT_MS);
	return dump_check_schema(inv, path, err, errlen);
}

int inventory_open_readonly(const char *path, struct inventory **out,
			    char *err, size_t errlen)
{
	struct inventory *inv = calloc(1, sizeof(*inv));

	*out = NULL;
	if (!inv) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (inv_open_read(path, inv, err, errlen)) {
		sqlite3_close(inv->db);
		free(inv);
		return -1;
	}
	*out = inv;
	return 0;
}

int inventory_version(const struct inventory *inv)
{
	return inv->version;
}

struct sqlite3 *inventory_sqlite(struct inventory *inv)
{
	return inv->db;
}

int inventory_foreach(const char *path, inventory_row_fn cb, void *ctx,
		      char *err, size_t errlen)
{
	struct inventory inv;
	int rc = -1;

	memset(&inv, 0, sizeof(inv));
	if (!inv_open_read(path, &inv, err, errlen))
		rc = foreach_row(&inv, cb, ctx, err, errlen);
	sqlite3_close(inv.db);
	return rc;
}

struct dump_ctx {
	bool json;
	FILE *out;
	struct json_writer j;
	char prev[256];
	bool first;
};

static int dump_row(void *ctx, const struct inventory_leaf *l, bool current)
{
	struct dump_ctx *d = ctx;
	int rc;

	if (d->json)
		rc = dump_json_row(&d->j, l, current, d->out);
	else
		rc = dump_text_row(l, current, d->first || strcmp(d->prev, l->name),
				   d->out);
	snprintf(d->prev, sizeof(d->prev), "%s", l->name);
	d->first = false;
	return rc;
}

int inventory_dump(const char *path, bool json, FILE *out, char *err,
		   size_t errlen)
{
	struct dump_ctx d = { .json = json, .out = out, .first = true };
	int rc;

	jw_init(&d.j);
	rc = inventory_foreach(path, dump_row, &d, err, errlen);
	jw_free(&d.j);
	return rc;
}
