// SPDX-License-Identifier: MIT
/*
 * An inventory file read from outside the agent that writes it: opened
 * read-only, creating nothing beside it, and checked to be an inventory
 * this tlswatch reads (inventory_open_readonly, for `tlswatch report`);
 * its rows walked (inventory_foreach) and listed as text or JSON lines
 * with the end of each rollback recorded (inventory_dump, the `tlswatch
 * inventory` command).
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "common/comma_list.h"
#include "common/json.h"
#include "common/printable.h"
#include "common/timefmt.h"
#include "inventory.h"
#include "inventory_internal.h"

/* The listing: the key type and rollback columns where the file has
 * them (versions 2 and 4 added them). */
#define SQL_DUMP(key, rollback) \
	"SELECT " LEAF_COLUMNS_WITH(key) ", " rollback "," \
	" last_seen_us = max(last_seen_us) OVER (PARTITION BY name, addr, port)" \
	" FROM served ORDER BY name, last_seen_us DESC, addr, port, sha256"
static const char sql_dump[] = SQL_DUMP("key", "rollback_us, rollback_evidence");
static const char sql_dump_before_rollback[] = SQL_DUMP("key", "0, ''");
static const char sql_dump_before_key[] = SQL_DUMP("''", "0, ''");

static const char *dump_sql(int version)
{
	if (version >= INVENTORY_ROLLBACK_VERSION)
		return sql_dump;
	return version >= INVENTORY_KEY_VERSION ? sql_dump_before_rollback :
	       sql_dump_before_key;
}

/*
 * When a rollback recorded on a row ended: a newer leaf (later
 * not_before) served again on its name, address and port after the
 * rollback (what makes cert/supersede.c stop reporting it). The earliest
 * sighting known after the rollback: its first one when all its
 * sightings came after, else its last one (the rows keep no other).
 */
static const char sql_rollback_end[] =
	"SELECT sha256, CASE WHEN first_seen_us > ?5 THEN first_seen_us"
	" ELSE last_seen_us END AS back_us FROM served"
	" WHERE name = ?1 AND addr = ?2 AND port = ?3 AND sha256 != ?4"
	" AND not_before > ?6 AND last_seen_us > ?5"
	" ORDER BY back_us, sha256 LIMIT 1";

/* The row's kind names as stored, one string each, an unknown name (a
 * newer tlswatch's) too; empty names are left out. */
static void dump_findings_json(struct json_writer *j, const char *findings)
{
	const char *p = findings, *name;
	size_t n;

	jw_key(j, "findings");
	jw_array_begin(j);
	while (comma_list_next(&p, &name, &n))
		if (n)
			jw_string_n(j, name, n);
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
		if (l->rollback_ended_us) {
			jw_kv_time_us(j, "ended", l->rollback_ended_us);
			jw_kv_str(j, "ended_by", l->rollback_ended_by);
		}
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
	char by[DUMP_TEXT_COL];
	char nb[TW_TIME_STRLEN], na[TW_TIME_STRLEN], ended[TW_TIME_STRLEN];
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
	if (l->rollback_us && !l->rollback_ended_us)
		fprintf(out, "          rollback at %s: %s\n",
			tw_time_format_us(l->rollback_us, rb),
			dump_printable(l->rollback_evidence, evidence));
	if (l->rollback_ended_us)
		fprintf(out, "          rollback at %s, ended by %s (%s served "
			"again): %s\n", tw_time_format_us(l->rollback_us, rb),
			tw_time_format_us(l->rollback_ended_us, ended),
			dump_printable(l->rollback_ended_by, by),
			dump_printable(l->rollback_evidence, evidence));
	return ferror(out) ? -1 : 0;
}

/* Whether and when the rollback recorded on @l ended (sql_rollback_end). */
static int rollback_end(sqlite3_stmt *end, struct inventory_leaf *l)
{
	int rc;

	sqlite3_reset(end);
	if (!inv_bind_key(end, l->name, l->addr, l->port, l->sha256) ||
	    sqlite3_bind_int64(end, 5, (sqlite3_int64)l->rollback_us) != SQLITE_OK ||
	    sqlite3_bind_int64(end, 6, l->not_before) != SQLITE_OK)
		return -1;
	rc = sqlite3_step(end);
	if (rc == SQLITE_ROW) {
		inv_col_text(end, 0, l->rollback_ended_by, sizeof(l->rollback_ended_by));
		l->rollback_ended_us = (uint64_t)sqlite3_column_int64(end, 1);
	}
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

/* Calls @cb for each row of the dump query, until it returns non-zero;
 * with @ends, each recorded rollback's end (sql_rollback_end: a query per
 * such row, for the listing only). */
static int foreach_row(struct inventory *inv, bool ends, inventory_row_fn cb,
		       void *ctx, char *err, size_t errlen)
{
	struct inventory_leaf l;
	sqlite3_stmt *st = NULL, *end = NULL;
	int rc = SQLITE_DONE, crc = 0;

	if (sqlite3_prepare_v2(inv->db, dump_sql(inv->version), -1, &st, NULL) != SQLITE_OK ||
	    (ends && sqlite3_prepare_v2(inv->db, sql_rollback_end, -1, &end,
					NULL) != SQLITE_OK)) {
		sqlite3_finalize(st);
		return inv_fail(inv, NULL, err, errlen);
	}
	while (crc == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		inv_read_leaf(st, &l);
		l.rollback_us = (uint64_t)sqlite3_column_int64(st, 13);
		inv_col_text(st, 14, l.rollback_evidence, sizeof(l.rollback_evidence));
		if (ends && l.rollback_us && rollback_end(end, &l)) {
			rc = sqlite3_errcode(inv->db);
			break;
		}
		crc = cb(ctx, &l, sqlite3_column_int(st, 15) != 0);
	}
	sqlite3_finalize(end);
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

	if (inventory_check_path(path, true, err, errlen))
		return -1;
	if (stat(path, &sb) == 0 && sb.st_size == 0) {
		snprintf(err, errlen, "%s: empty file, not a tlswatch inventory", path);
		return -1;
	}
	return 0;
}

/* The schema this tlswatch lists, in words when it is not: every
 * version from INVENTORY_READ_MIN_VERSION (1) on; later ones add
 * columns (dump_sql) and tables. Sets inv->version. */
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
/* Opens @path and calls @cb for each row (foreach_row). */
static int foreach_file(const char *path, bool ends, inventory_row_fn cb,
			void *ctx, char *err, size_t errlen)
{
	struct inventory inv;
	int rc = -1;

	memset(&inv, 0, sizeof(inv));
	if (!inv_open_read(path, &inv, err, errlen))
		rc = foreach_row(&inv, ends, cb, ctx, err, errlen);
	sqlite3_close(inv.db);
	return rc;
}

int inventory_foreach(const char *path, inventory_row_fn cb, void *ctx,
		      char *err, size_t errlen)
{
	return foreach_file(path, false, cb, ctx, err, errlen);
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

int inventory_dump(const char *path, bool json, FILE *out, bool *empty,
		   char *err, size_t errlen)
{
	struct dump_ctx d = { .json = json, .out = out, .first = true };
	int rc;

	jw_init(&d.j);
	rc = foreach_file(path, true, dump_row, &d, err, errlen);
	jw_free(&d.j);
	if (!rc && empty)
		*empty = d.first;   /* the listing has every row of served */
	return rc;
}
