// SPDX-License-Identifier: MIT
/* The SQLite inventory: recording, schema migration, bad files, listing. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

#include "check.h"
#include "db_peek.h"
#include "full_disk.h"
#include "health_fixture.h"
#include "cert/findings.h"
#include "inventory/inventory.h"
#include "inventory/staple_kinds.h"

#define SHA_A "aaaa000000000000000000000000000000000000000000000000000000000001"
#define SHA_B "bbbb000000000000000000000000000000000000000000000000000000000002"
#define NB_A 1735689600   /* 2025-01-01 */
#define NB_B 1748736000   /* 2025-06-01 */
#define NA   2366841600   /* 2045-01-01 */
#define T0   1780000000000000ull  /* 2026-05-28T20:26:40Z, microseconds */

static char dir[64];

static char *db_path(const char *name)
{
	static char p[128];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return p;
}

static struct inventory_sighting sighting(const char *name, const char *addr,
					  const char *sha, int64_t nb,
					  const char *key, uint64_t ts)
{
	struct inventory_sighting s = {
		.name = name, .addr = addr, .port = 443, .sha256 = sha,
		.subject = "O=tlswatch test,CN=a.test",
		.issuer = "O=tlswatch test,CN=Health Test Intermediate",
		.key = key, .not_before = nb, .not_after = NA, .ts_us = ts,
		.findings = "",
	};
	return s;
}

static int record(struct inventory *inv, struct inventory_sighting s, bool *created)
{
	char err[256] = "";
	int rc = inventory_record(inv, &s, created, err, sizeof(err));

	if (rc)
		printf("# record: %s\n", err);
	return rc;
}

static void test_first_sighting_creates_a_row_then_counts(void)
{
	struct inventory *inv = NULL;
	char err[256];
	bool created = false;

	CHECK_INT(inventory_open(NULL, &inv, err, sizeof(err)), 0);
	CHECK_INT(record(inv, sighting("a.test", "10.0.0.1", SHA_A, NB_A, "EC-P256", T0),
			 &created), 0);
	CHECK(created);
	CHECK_INT(record(inv, sighting("a.test", "10.0.0.1", SHA_A, NB_A, "EC-P256",
				       T0 + 5), &created), 0);
	CHECK(!created);
	CHECK_INT(record(inv, sighting("a.test", "10.0.0.2", SHA_A, NB_A, "EC-P256",
				       T0 + 6), &created), 0);
	CHECK(created);
	CHECK_INT(inventory_count(inv), 2);
	inventory_close(inv);
}

/* Past the row bound a new row is refused and counted; an existing row
 * is still counted, also one written before a restart. */
static void test_row_bound_refuses_new_rows_and_counts_them(void)
{
	struct inventory *inv = NULL;
	char err[256];
	bool created = true;

	CHECK_INT(inventory_open(db_path("bound.db"), &inv, err, sizeof(err)), 0);
	inventory_set_max_rows(inv, 2);
	CHECK_INT(record(inv, sighting("a.test", "10.0.0.1", SHA_A, NB_A, "", T0), NULL), 0);
	CHECK_INT(record(inv, sighting("b.test", "10.0.0.1", SHA_A, NB_A, "", T0), NULL), 0);
	CHECK_INT(record(inv, sighting("c.test", "10.0.0.1", SHA_A, NB_A, "", T0), &created), 0);
	CHECK(!created);
	CHECK_INT(inventory_refused(inv), 1);
	CHECK_INT(inventory_count(inv), 2);
	inventory_close(inv);

	CHECK_INT(inventory_open(db_path("bound.db"), &inv, err, sizeof(err)), 0);
	inventory_set_max_rows(inv, 2);
	CHECK_INT(record(inv, sighting("a.test", "10.0.0.1", SHA_A, NB_A, "", T0 + 1),
			 &created), 0);
	CHECK(!created);
	CHECK_INT(record(inv, sighting("d.test", "10.0.0.1", SHA_A, NB_A, "", T0 + 1), NULL), 0);
	CHECK_INT(inventory_refused(inv), 1);
	CHECK_INT(inventory_count(inv), 2);
	inventory_close(inv);
}

static void test_file_database_uses_wal_and_current_schema(void)
{
	struct inventory *inv = NULL;
	char err[256] = "";

	CHECK_INT(inventory_open(db_path("wal.db"), &inv, err, sizeof(err)), 0);
	CHECK_INT(db_peek(db_path("wal.db"), "PRAGMA user_version"),
		  INVENTORY_SCHEMA_VERSION);
	inventory_close(inv);
	CHECK(access(db_path("wal.db"), F_OK) == 0);
	{
		sqlite3 *db = NULL;
		sqlite3_stmt *st = NULL;
		const unsigned char *mode = NULL;

		sqlite3_open_v2(db_path("wal.db"), &db, SQLITE_OPEN_READONLY, NULL);
		if (sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL) ==
		    SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
			mode = sqlite3_column_text(st, 0);
		CHECK_STR((const char *)mode, "wal");
		sqlite3_finalize(st);
		sqlite3_close(db);
	}
}

static void test_rows_survive_a_reopen(void)
{
	struct inventory *inv = NULL;
	char err[256];

	CHECK_INT(inventory_open(db_path("keep.db"), &inv, err, sizeof(err)), 0);
	CHECK_INT(record(inv, sighting("a.test", "10.0.0.1", SHA_A, NB_A, "EC-P256", T0),
			 NULL), 0);
	inventory_close(inv);
	CHECK_INT(inventory_open(db_path("keep.db"), &inv, err, sizeof(err)), 0);
	CHECK_INT(inventory_count(inv), 1);
	inventory_close(inv);
}

static void test_seen_times_widen_and_old_sightings_keep_newer_findings(void)
{
	struct inventory *inv = NULL;
	struct inventory_sighting s = sighting("a.test", "10.0.0.1", SHA_A, NB_A,
					       "EC-P256", T0 + 100);
	char err[256];

	CHECK_INT(inventory_open(db_path("times.db"), &inv, err, sizeof(err)), 0);
	s.findings = "revoked";
	CHECK_INT(record(inv, s, NULL), 0);
	s.ts_us = T0;           /* an older handshake, replayed late */
	s.findings = "";
	CHECK_INT(record(inv, s, NULL), 0);
	s.ts_us = T0 + 50;
	CHECK_INT(record(inv, s, NULL), 0);
	inventory_close(inv);
	CHECK_INT(db_peek(db_path("times.db"), "SELECT first_seen_us FROM served"), T0);
	CHECK_INT(db_peek(db_path("times.db"), "SELECT last_seen_us FROM served"), T0 + 100);
	CHECK_INT(db_peek(db_path("times.db"), "SELECT count FROM served"), 3);
	CHECK_INT(db_peek(db_path("times.db"),
		       "SELECT findings = 'revoked' FROM served"), 1);
}

static void test_set_findings_replaces_the_text(void)
{
	struct inventory *inv = NULL;
	char err[256];

	CHECK_INT(inventory_open(db_path("set.db"), &inv, err, sizeof(err)), 0);
	CHECK_INT(record(inv, sighting("a.test", "10.0.0.1", SHA_A, NB_A, "EC-P256", T0),
			 NULL), 0);
	CHECK_INT(inventory_set_findings(inv, "a.test", "10.0.0.1", 443, SHA_A,
					 "revoked,superseded", false, err, sizeof(err)), 0);
	inventory_close(inv);
	CHECK_INT(db_peek(db_path("set.db"),
		       "SELECT findings = 'revoked,superseded' FROM served"), 1);
}

/* The findings of a sighting with staple_unknown, recorded at @ts. */
static int record_staple(struct inventory *inv, const char *findings, bool unknown,
			 uint64_t ts)
{
	struct inventory_sighting s = sighting("a.test", "10.0.0.1", SHA_A, NB_A,
					       "EC-P256", ts);

	s.findings = findings;
	s.staple_unknown = unknown;
	return record(inv, s, NULL);
}

static int staple_findings_are(const char *want)
{
	char sql[160];

	snprintf(sql, sizeof(sql), "SELECT findings = '%s' FROM served", want);
	return db_peek(db_path("staple.db"), sql);
}

/* The staple kinds the carry rule names are the findings' own names. */
static void test_staple_kinds_are_named_as_their_findings(void)
{
#define CHECK_STAPLE_KIND(id, name) CHECK_STR(finding_kind_name(FINDING_##id), name);
	STAPLE_FINDING_KINDS(CHECK_STAPLE_KIND)
#undef CHECK_STAPLE_KIND
}

/* A sighting that cannot show the staple keeps the row's staple findings
 * (the cert events' carry rule), counted in memory, written by the upsert
 * after a reopen, or set by a later answer; one that shows a good staple
 * ends them. */
static void test_staple_findings_stay_when_the_staple_cannot_be_seen(void)
{
	struct inventory *inv = NULL;
	char err[256];

	CHECK_INT(inventory_open(db_path("staple.db"), &inv, err, sizeof(err)), 0);
	CHECK_INT(record_staple(inv, "revoked_staple", false, T0), 0);
	CHECK_INT(record_staple(inv, "expiring_soon", true, T0 + 1), 0);   /* counted */
	CHECK_INT(record_staple(inv, "", true, T0 + 2), 0);
	inventory_close(inv);
	CHECK_INT(staple_findings_are("revoked_staple"), 1);

	CHECK_INT(inventory_open(db_path("staple.db"), &inv, err, sizeof(err)), 0);
	CHECK_INT(record_staple(inv, "untrusted", true, T0 + 3), 0);       /* upsert */
	CHECK_INT(inventory_flush(inv, err, sizeof(err)), 0);
	CHECK_INT(staple_findings_are("untrusted,revoked_staple"), 1);
	CHECK_INT(inventory_set_findings(inv, "a.test", "10.0.0.1", 443, SHA_A,
					 "revoked", true, err, sizeof(err)), 0);
	CHECK_INT(staple_findings_are("revoked,revoked_staple"), 1);
	CHECK_INT(record_staple(inv, "stale_staple", false, T0 + 4), 0);   /* counted */
	CHECK_INT(record_staple(inv, "", true, T0 + 5), 0);
	inventory_close(inv);
	CHECK_INT(staple_findings_are("stale_staple"), 1);

	CHECK_INT(inventory_open(db_path("staple.db"), &inv, err, sizeof(err)), 0);
	CHECK_INT(record_staple(inv, "", false, T0 + 6), 0);
	inventory_close(inv);
	CHECK_INT(staple_findings_are(""), 1);
}

static void test_version_1_database_is_migrated_keeping_rows(void)
{
	struct inventory *inv = NULL;
	sqlite3 *db = NULL;
	char err[256] = "";

	CHECK_INT(sqlite3_open(db_path("v1.db"), &db), SQLITE_OK);
	CHECK_INT(sqlite3_exec(db,
		DB_INVENTORY_V1_SCHEMA
		"INSERT INTO served VALUES ('a.test', '10.0.0.1', 443, '" SHA_A "',"
		" 'CN=a.test', 'CN=CA', 1735689600, 2366841600, 1, 2, 7, 'expired');"
		"PRAGMA user_version = 1;", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	CHECK_INT(inventory_open(db_path("v1.db"), &inv, err, sizeof(err)), 0);
	CHECK_INT(inventory_count(inv), 1);
	inventory_close(inv);
	CHECK_INT(db_peek(db_path("v1.db"), "PRAGMA user_version"),
		  INVENTORY_SCHEMA_VERSION);
	CHECK_INT(db_peek(db_path("v1.db"), "SELECT count FROM served"), 7);
	CHECK_INT(db_peek(db_path("v1.db"), "SELECT key = '' FROM served"), 1);
	/* 4: no rollback recorded on the rows kept */
	CHECK_INT(db_peek(db_path("v1.db"), "SELECT rollback_us = 0 AND"
			  " rollback_evidence = '' FROM served"), 1);
}

static void test_newer_schema_is_refused(void)
{
	struct inventory *inv = NULL;
	sqlite3 *db = NULL;
	char want[256], err[256] = "";

	sqlite3_open(db_path("v9.db"), &db);
	sqlite3_exec(db, "PRAGMA user_version = 9", NULL, NULL, NULL);
	sqlite3_close(db);
	CHECK_INT(inventory_open(db_path("v9.db"), &inv, err, sizeof(err)), -1);
	CHECK(inv == NULL);
	snprintf(want, sizeof(want), "inventory %s: schema version 9 is newer than "
		 "this tlswatch (%d)", db_path("v9.db"), INVENTORY_SCHEMA_VERSION);
	CHECK_STR(err, want);
}

static void test_corrupt_file_is_a_clear_error(void)
{
	struct inventory *inv = NULL;
	char want[256], err[256] = "";
	FILE *f = fopen(db_path("junk.db"), "w");
	int i;

	for (i = 0; i < 200; i++)
		fputs("this is not an SQLite database, just text\n", f);
	fclose(f);
	CHECK_INT(inventory_open(db_path("junk.db"), &inv, err, sizeof(err)), -1);
	CHECK(inv == NULL);
	snprintf(want, sizeof(want), "inventory %s: file is not a database",
		 db_path("junk.db"));
	CHECK_STR(err, want);
}

/*
 * Opens @path where it cannot be written: root ignores file modes, so a
 * child process remounts the directory read-only in its own mount
 * namespace; others get a mode 0444 file. Returns open's error text.
 */
static int open_read_only(const char *path, char *err, size_t errlen)
{
	int fds[2];
	pid_t pid;
	ssize_t n;

	if (geteuid() != 0) {
		struct inventory *inv = NULL;
		int rc;

		chmod(path, 0444);
		rc = inventory_open(path, &inv, err, errlen);
		inventory_close(inv);
		chmod(path, 0644);
		return rc;
	}
	if (pipe(fds))
		return -2;
	pid = fork();
	if (pid == 0) {
		struct inventory *inv = NULL;
		char e[256] = "";
		int rc = -3;

		close(fds[0]);
		if (unshare(CLONE_NEWNS) == 0 &&
		    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0 &&
		    mount(dir, dir, NULL, MS_BIND, NULL) == 0 &&
		    mount(NULL, dir, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) == 0)
			rc = inventory_open(path, &inv, e, sizeof(e));
		else
			snprintf(e, sizeof(e), "mount namespace: %s", strerror(errno));
		inventory_close(inv);
		if (write(fds[1], e, strlen(e) + 1) < 0)
			_exit(4);
		_exit(rc == -1 ? 0 : 1);
	}
	close(fds[1]);
	n = read(fds[0], err, errlen - 1);
	err[n > 0 ? n : 0] = 0;
	close(fds[0]);
	{
		int status = 0;

		waitpid(pid, &status, 0);
		return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? -1 : 0;
	}
}

static void test_read_only_file_is_a_clear_error(void)
{
	struct inventory *inv = NULL;
	char want[256], err[256] = "";

	CHECK_INT(inventory_open(db_path("ro.db"), &inv, err, sizeof(err)), 0);
	CHECK_INT(record(inv, sighting("a.test", "10.0.0.1", SHA_A, NB_A, "EC-P256", T0),
			 NULL), 0);
	inventory_close(inv);
	CHECK_INT(open_read_only(db_path("ro.db"), err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "inventory %s: read-only, cannot record "
		 "certificates in it", db_path("ro.db"));
	CHECK_STR(err, want);
}

static void test_missing_directory_is_a_clear_error(void)
{
	struct inventory *inv = NULL;
	char err[256] = "";

	CHECK_INT(inventory_open("/nonexistent/dir/inv.db", &inv, err, sizeof(err)), -1);
	CHECK_STR(err, "inventory /nonexistent/dir/inv.db: unable to open database file");
}

/* SQLite reads ".." by the letter ("nx/../x.db" is "x.db" to it, nx
 * missing), the kernel does not: such a path names no file and is refused
 * before SQLite opens it, also when the file may be created. A ".." whose
 * directory exists is what the kernel says. */
/* The refusal of db_path(@name), whose @prefix a ".." follows. */
static void dotdot_refusal(char *want, size_t len, const char *name, const char *why,
			   const char *prefix)
{
	char path[128];   /* db_path's own size */

	snprintf(path, sizeof(path), "%s", db_path(name));
	snprintf(want, len, "%s: %s (a '..' in it follows '%s', which is not an existing "
		 "directory)", path, why, db_path(prefix));
}

static void test_dotdot_after_a_missing_directory_names_no_file(void)
{
	struct inventory *inv = NULL;
	char want[256], err[256] = "";
	struct stat st;

	CHECK_INT(inventory_check_path(db_path("nx/../dd.db"), false, err, sizeof(err)), -1);
	dotdot_refusal(want, sizeof(want), "nx/../dd.db", "No such file or directory", "nx/");
	CHECK_STR(err, want);
	CHECK_INT(inventory_open(db_path("nx/../dd.db"), &inv, err, sizeof(err)), -1);
	CHECK(inv == NULL);
	CHECK_STR(err, want);
	CHECK_INT(stat(db_path("dd.db"), &st), -1);
	/* a file is no directory: "dd.txt/.." */
	CHECK_INT(close(open(db_path("dd.txt"), O_WRONLY | O_CREAT, 0600)), 0);
	CHECK_INT(inventory_check_path(db_path("dd.txt/../dd.db"), false, err, sizeof(err)), -1);
	dotdot_refusal(want, sizeof(want), "dd.txt/../dd.db", "Not a directory", "dd.txt/");
	CHECK_STR(err, want);
	CHECK_INT(mkdir(db_path("dd.d"), 0700), 0);
	CHECK_INT(inventory_check_path(db_path("dd.d/../dd.db"), false, err, sizeof(err)), 0);
	CHECK_INT(inventory_open(db_path("dd.d/../dd.db"), &inv, err, sizeof(err)), 0);
	inventory_close(inv);
	CHECK_INT(stat(db_path("dd.db"), &st), 0);
	/* without "..", a missing directory is still SQLite's to say; so it
	 * is when every ".." follows a directory, whatever comes after it:
	 * the kernel and SQLite name the same missing file */
	CHECK_INT(inventory_check_path(db_path("nx/dd.db"), false, err, sizeof(err)), 0);
	CHECK_INT(inventory_check_path(db_path("dd.d/../nx/dd.db"), false, err, sizeof(err)), 0);
	CHECK_INT(inventory_check_path(db_path("dd.d/../nx/../dd.db"), false, err, sizeof(err)), -1);
	dotdot_refusal(want, sizeof(want), "dd.d/../nx/../dd.db", "No such file or directory",
		       "dd.d/../nx/");
	CHECK_STR(err, want);
}

/* SQLite would block opening a FIFO, and write its journal beside a
 * device: neither is asked to. */
static void test_not_a_regular_file_is_refused_before_sqlite(void)
{
	struct inventory *inv = NULL;
	char want[256], err[256] = "";
	struct stat st;

	CHECK_INT(mkfifo(db_path("fifo.db"), 0600), 0);
	CHECK_INT(inventory_open(db_path("fifo.db"), &inv, err, sizeof(err)), -1);
	CHECK(inv == NULL);
	snprintf(want, sizeof(want), "%s: not a regular file, not a tlswatch inventory",
		 db_path("fifo.db"));
	CHECK_STR(err, want);
	CHECK_INT(stat(db_path("fifo.db-journal"), &st), -1);
	CHECK_INT(stat(db_path("fifo.db-wal"), &st), -1);
	CHECK_INT(mkdir(db_path("dir.db"), 0700), 0);
	CHECK_INT(inventory_open(db_path("dir.db"), &inv, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s: is a directory, not a tlswatch inventory",
		 db_path("dir.db"));
	CHECK_STR(err, want);
	CHECK_INT(inventory_check_path(db_path("none.db"), false, err, sizeof(err)), 0);
	CHECK_INT(inventory_check_path(db_path("none.db"), true, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s: No such file or directory", db_path("none.db"));
	CHECK_STR(err, want);
}

static void test_two_writers_share_the_file(void)
{
	struct inventory *a = NULL, *b = NULL;
	char err[256];

	CHECK_INT(inventory_open(db_path("two.db"), &a, err, sizeof(err)), 0);
	CHECK_INT(inventory_open(db_path("two.db"), &b, err, sizeof(err)), 0);
	CHECK_INT(record(a, sighting("a.test", "10.0.0.1", SHA_A, NB_A, "EC-P256", T0),
			 NULL), 0);
	CHECK_INT(record(b, sighting("a.test", "10.0.0.1", SHA_B, NB_B, "EC-P256", T0 + 1),
			 NULL), 0);
	CHECK_INT(inventory_count(a), 2);
	inventory_close(a);
	inventory_close(b);
}

static struct inventory *history(void)
{
	struct inventory *inv = NULL;
	char err[256];

	if (inventory_open(NULL, &inv, err, sizeof(err)))
		return NULL;
	record(inv, sighting("a.test", "10.0.0.1", SHA_A, NB_A, "EC-P256", T0), NULL);
	record(inv, sighting("a.test", "10.0.0.2", SHA_B, NB_B, "EC-P256", T0 + 10), NULL);
	return inv;
}

static void test_find_newer_sees_other_addresses_of_the_name(void)
{
	struct inventory *inv = history();
	struct inventory_leaf l;
	char err[256];

	CHECK_INT(inventory_find_newer(inv, "a.test", "10.0.0.1", 443, SHA_A, NB_A,
				       "EC-P256", INVENTORY_SAME_FAMILY, false, T0 + 20, &l,
				       err, sizeof(err)), 1);
	CHECK_STR(l.sha256, SHA_B);
	CHECK_INT(l.not_before, NB_B);
	CHECK_INT(l.first_seen_us, T0 + 10);
	CHECK_STR(l.addr, "10.0.0.2");
	inventory_close(inv);
}

static void test_find_newer_ignores_leaves_served_later(void)
{
	struct inventory *inv = history();
	struct inventory_leaf l;
	char err[256];

	CHECK_INT(inventory_find_newer(inv, "a.test", "10.0.0.1", 443, SHA_A, NB_A,
				       "EC-P256", INVENTORY_SAME_FAMILY, false, T0 + 9, &l,
				       err, sizeof(err)), 0);
	inventory_close(inv);
}

static void test_find_newer_ignores_older_leaves_and_itself(void)
{
	struct inventory *inv = history();
	struct inventory_leaf l;
	char err[256];

	CHECK_INT(inventory_find_newer(inv, "a.test", "10.0.0.1", 443, SHA_B, NB_B,
				       "EC-P256", INVENTORY_SAME_FAMILY, false, T0 + 20, &l,
				       err, sizeof(err)), 0);
	inventory_close(inv);
}

static void test_find_newer_compares_keys_of_one_algorithm(void)
{
	/* A dual RSA + ECDSA deployment serves both, neither is "back". */
	struct inventory *inv = history();
	struct inventory_leaf l;
	char err[256];

	CHECK_INT(inventory_find_newer(inv, "a.test", "10.0.0.1", 443, SHA_A, NB_A,
				       "RSA-2048", INVENTORY_SAME_FAMILY, false, T0 + 20, &l,
				       err, sizeof(err)), 0);
	CHECK_INT(inventory_find_newer(inv, "a.test", "10.0.0.1", 443, SHA_A, NB_A,
				       "", INVENTORY_SAME_FAMILY, false, T0 + 20, &l,
				       err, sizeof(err)), 1);
	inventory_close(inv);
}

static void test_find_newer_without_sni_stays_on_the_address(void)
{
	struct inventory *inv = NULL;
	struct inventory_leaf l;
	char err[256];

	CHECK_INT(inventory_open(NULL, &inv, err, sizeof(err)), 0);
	record(inv, sighting("", "10.0.0.2", SHA_B, NB_B, "EC-P256", T0), NULL);
	CHECK_INT(inventory_find_newer(inv, "", "10.0.0.1", 443, SHA_A, NB_A,
				       "EC-P256", INVENTORY_SAME_FAMILY, false, T0 + 20, &l,
				       err, sizeof(err)), 0);
	CHECK_INT(inventory_find_newer(inv, "", "10.0.0.2", 443, SHA_A, NB_A,
				       "EC-P256", INVENTORY_SAME_FAMILY, false, T0 + 20, &l,
				       err, sizeof(err)), 1);
	inventory_close(inv);
}

/* @inv (NULL: a new one in memory) after a.test's newer leaf SHA_B was
 * served with @findings at T0 + @at; NULL if it cannot be opened. */
static struct inventory *with_newer_row(const char *findings, uint64_t at,
					struct inventory *inv)
{
	struct inventory_sighting s = sighting("a.test", "10.0.0.2", SHA_B, NB_B,
					       "EC-P256", T0 + at);
	char err[256];

	if (!inv && inventory_open(NULL, &inv, err, sizeof(err)))
		return NULL;
	s.findings = findings;
	record(inv, s, NULL);
	return inv;
}

/* Whether SHA_A has a newer leaf at T0 + @at, asked with @untrusted_too. */
static int ask_newer(struct inventory *inv, bool untrusted_too, uint64_t at)
{
	struct inventory_leaf l;
	char err[256];

	return inventory_find_newer(inv, "a.test", "10.0.0.1", 443, SHA_A, NB_A,
				    "EC-P256", INVENTORY_SAME_FAMILY, untrusted_too,
				    T0 + at, &l, err, sizeof(err));
}

/* A newer leaf of a.test recorded with @findings: is it one for SHA_A,
 * asked with @untrusted_too (twice: the second answer is the kept one)? */
static int newer_with_findings(const char *findings, bool untrusted_too)
{
	struct inventory *inv = with_newer_row(findings, 10, NULL);
	int rc, again;

	if (!inv)
		return -2;
	rc = ask_newer(inv, untrusted_too, 20);
	again = ask_newer(inv, untrusted_too, 30);
	inventory_close(inv);
	return rc == again ? rc : -3;
}

/* A leaf that did not cover the name it was served for (another name's,
 * a default vhost's) replaced nothing there. */
static void test_find_newer_passes_over_leaves_not_covering_the_name(void)
{
	CHECK_INT(newer_with_findings("hostname_mismatch", false), 0);
	CHECK_INT(newer_with_findings("untrusted,hostname_mismatch", true), 0);
	CHECK_INT(newer_with_findings("self_signed,hostname_mismatch,weak_key", true), 0);
	CHECK_INT(newer_with_findings("expiring_soon,weak_key", false), 1);
}

/* An untrusted newer leaf counts only for an untrusted older one. */
static void test_find_newer_takes_untrusted_leaves_for_untrusted_ones(void)
{
	CHECK_INT(newer_with_findings("untrusted", false), 0);
	CHECK_INT(newer_with_findings("self_signed,untrusted", false), 0);
	CHECK_INT(newer_with_findings("self_signed,untrusted", true), 1);
	CHECK_INT(newer_with_findings("self_signed", false), 1);
}

/* A kept answer is one for the trust it was asked with. */
static void test_kept_newer_answers_are_per_trust(void)
{
	struct inventory *inv = with_newer_row("untrusted", 10, NULL);
	int i;

	CHECK(inv != NULL);
	for (i = 0; inv && i < 2; i++) {
		CHECK_INT(ask_newer(inv, true, 20), 1);
		CHECK_INT(ask_newer(inv, false, 20), 0);
	}
	inventory_close(inv);
}

/* A newer leaf untrusted until the trust store learnt its CA: once a
 * sighting says it verifies and reaches the file, the kept answer "none"
 * is not given any more. */
static void test_kept_newer_answer_follows_a_leaf_trusted_now(void)
{
	struct inventory *inv = with_newer_row("untrusted", 10, NULL);
	char err[256];

	CHECK(inv != NULL);
	if (!inv)
		return;
	CHECK_INT(ask_newer(inv, false, 20), 0);
	with_newer_row("", 30, inv);       /* counted in memory */
	CHECK_INT(inventory_flush(inv, err, sizeof(err)), 0);
	CHECK_INT(ask_newer(inv, false, 40), 1);
	inventory_close(inv);
}

/* The kinds that keep a row from being a newer leaf are the findings'
 * own names. */
static void test_successor_kinds_are_named_as_their_findings(void)
{
	CHECK_STR(finding_kind_name(FINDING_HOSTNAME_MISMATCH), INVENTORY_KIND_MISMATCH);
	CHECK_STR(finding_kind_name(FINDING_UNTRUSTED), INVENTORY_KIND_UNTRUSTED);
}

static char *dump_to_string(const char *path, bool json, int *rc)
{
	char *buf = NULL, err[256] = "";
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	*rc = inventory_dump(path, json, f, NULL, err, sizeof(err));
	fclose(f);
	if (*rc)
		printf("# dump: %s\n", err);
	return buf;
}

/* A new inventory file @name (the one of an earlier run removed). */
static struct inventory *open_fresh(const char *name)
{
	struct inventory *inv = NULL;
	char err[256], cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -f %s*", db_path(name));
	hf_sh(cmd);
	CHECK_INT(inventory_open(db_path(name), &inv, err, sizeof(err)), 0);
	return inv;
}

static void fill_dump_db(void)
{
	struct inventory *inv = open_fresh("dump.db");
	struct inventory_sighting s;

	record(inv, sighting("a.test", "10.0.0.1", SHA_A, NB_A, "EC-P256", T0), NULL);
	record(inv, sighting("a.test", "10.0.0.1", SHA_B, NB_B, "EC-P256", T0 + 1000000),
	       NULL);
	s = sighting("a.test", "10.0.0.1", SHA_A, NB_A, "EC-P256", T0 + 2000000);
	s.findings = "superseded,revoked";
	record(inv, s, NULL);
	inventory_close(inv);
}

static void test_dump_text_lists_newest_first_and_marks_current(void)
{
	int rc;
	char *out;

	fill_dump_db();
	out = dump_to_string(db_path("dump.db"), false, &rc);
	CHECK_INT(rc, 0);
	CHECK_STR(out,
		"a.test\n"
		"  serving 10.0.0.1:443  " SHA_A "  O=tlswatch test,CN=a.test\n"
		"          valid 2025-01-01T00:00:00Z .. 2045-01-01T00:00:00Z  seen "
		"2026-05-28T20:26:40.000000Z .. 2026-05-28T20:26:42.000000Z  x2  "
		"findings superseded,revoked\n"
		"  served  10.0.0.1:443  " SHA_B "  O=tlswatch test,CN=a.test\n"
		"          valid 2025-06-01T00:00:00Z .. 2045-01-01T00:00:00Z  seen "
		"2026-05-28T20:26:41.000000Z .. 2026-05-28T20:26:41.000000Z  x1\n");
	free(out);
}

/* A row written by someone else (the file is not only ours): no stored
 * byte reaches the terminal raw. Found by fuzz_inventory. */
static void test_dump_text_escapes_every_stored_column(void)
{
	struct inventory *inv = open_fresh("hostile.db");
	struct inventory_sighting s;
	char *out;
	int rc;

	s = sighting("a\x1b[2J", "10.0.0.1\n", "ab\r", NB_A, "EC-P256", T0);
	s.findings = "expired\n\x07";
	record(inv, s, NULL);
	inventory_close(inv);
	out = dump_to_string(db_path("hostile.db"), false, &rc);
	CHECK_INT(rc, 0);
	CHECK_STR(out,
		"a\\x1b[2J\n"
		"  serving 10.0.0.1\\x0a:443  ab\\x0d  O=tlswatch test,CN=a.test\n"
		"          valid 2025-01-01T00:00:00Z .. 2045-01-01T00:00:00Z  seen "
		"2026-05-28T20:26:40.000000Z .. 2026-05-28T20:26:40.000000Z  x1  "
		"findings expired\\x0a\\x07\n");
	free(out);
}

static void test_dump_json_one_object_per_row(void)
{
	int rc;
	char *out, *nl;

	fill_dump_db();
	out = dump_to_string(db_path("dump.db"), true, &rc);
	CHECK_INT(rc, 0);
	nl = out ? strchr(out, '\n') : NULL;
	if (nl)
		*nl = 0;
	CHECK_STR(out,
		"{\"name\":\"a.test\",\"server\":{\"ip\":\"10.0.0.1\",\"port\":443},"
		"\"current\":true,\"sha256\":\"" SHA_A "\","
		"\"subject\":\"O=tlswatch test,CN=a.test\","
		"\"issuer\":\"O=tlswatch test,CN=Health Test Intermediate\","
		"\"key\":\"EC-P256\",\"not_before\":\"2025-01-01T00:00:00Z\","
		"\"not_after\":\"2045-01-01T00:00:00Z\","
		"\"first_seen\":\"2026-05-28T20:26:40.000000Z\","
		"\"last_seen\":\"2026-05-28T20:26:42.000000Z\",\"count\":2,"
		"\"findings\":[\"superseded\",\"revoked\"]}");
	free(out);
}

/* The JSON listing names the stored kinds as they are, one string each:
 * a name this tlswatch does not know (a newer one's) too, empty names
 * (stray commas) not. */
static void test_dump_json_lists_every_stored_kind_name(void)
{
	struct inventory *inv = open_fresh("kinds.db");
	struct inventory_sighting s;
	char *out, *at;
	int rc;

	s = sighting("a.test", "10.0.0.1", SHA_A, NB_A, "EC-P256", T0);
	s.findings = ",revoked,,kind_of_tomorrow,";
	record(inv, s, NULL);
	inventory_close(inv);
	out = dump_to_string(db_path("kinds.db"), true, &rc);
	CHECK_INT(rc, 0);
	at = out ? strstr(out, "\"findings\"") : NULL;
	CHECK_STR(at, "\"findings\":[\"revoked\",\"kind_of_tomorrow\"]}\n");
	free(out);
}

static void test_dump_lists_the_rollback_recorded_on_a_row(void)
{
	struct inventory *inv = open_fresh("rollback.db");
	struct inventory_sighting s;
	char *out;
	int rc;

	s = sighting("a.test", "10.0.0.1", SHA_A, NB_A, "RSA-2048", T0);
	s.rollback_us = T0;
	s.rollback_evidence = "client_preferred (offered EC>RSA)";
	record(inv, s, NULL);
	/* a later sighting without evidence keeps what was recorded */
	s = sighting("a.test", "10.0.0.1", SHA_A, NB_A, "RSA-2048", T0 + 1000000);
	record(inv, s, NULL);
	inventory_close(inv);
	out = dump_to_string(db_path("rollback.db"), false, &rc);
	CHECK_INT(rc, 0);
	CHECK_STR(out,
		"a.test\n"
		"  serving 10.0.0.1:443  " SHA_A "  O=tlswatch test,CN=a.test\n"
		"          valid 2025-01-01T00:00:00Z .. 2045-01-01T00:00:00Z  seen "
		"2026-05-28T20:26:40.000000Z .. 2026-05-28T20:26:41.000000Z  x2\n"
		"          rollback at 2026-05-28T20:26:40.000000Z: "
		"client_preferred (offered EC>RSA)\n");
	free(out);
	out = dump_to_string(db_path("rollback.db"), true, &rc);
	CHECK_INT(rc, 0);
	CHECK(out && strstr(out, ",\"findings\":[],\"rollback\":{\"at\":"
			    "\"2026-05-28T20:26:40.000000Z\",\"evidence\":"
			    "\"client_preferred (offered EC>RSA)\"}}\n"));
	free(out);
}

/* B (ECDSA, newer) served at T0, then A (RSA, older) at T0 + 1 s with the
 * evidence of a rollback. */
static void record_rollback(struct inventory *inv)
{
	struct inventory_sighting s;

	record(inv, sighting("a.test", "10.0.0.1", SHA_B, NB_B, "EC-P256", T0), NULL);
	s = sighting("a.test", "10.0.0.1", SHA_A, NB_A, "RSA-2048", T0 + 1000000);
	s.rollback_us = T0 + 1000000;
	s.rollback_evidence = "client_preferred (offered EC>RSA)";
	record(inv, s, NULL);
}

/* B (ECDSA, newer) served, then A (RSA, older) with the evidence of a
 * rollback, then B again: the rollback ended, and the listing says when
 * and by which leaf (it used to go on saying "rollback at" for ever). */
static void test_dump_says_when_a_rollback_ended(void)
{
	struct inventory *inv = open_fresh("rollback_end.db");
	char err[256];
	char *out;
	int rc;

	record_rollback(inv);
	record(inv, sighting("a.test", "10.0.0.1", SHA_A, NB_A, "RSA-2048",
			     T0 + 2000000), NULL);
	/* the rollback is still on while only A is served */
	inventory_flush(inv, err, sizeof(err));
	out = dump_to_string(db_path("rollback_end.db"), false, &rc);
	CHECK_INT(rc, 0);
	CHECK(out && strstr(out, "          rollback at 2026-05-28T20:26:41.000000Z: "
			    "client_preferred (offered EC>RSA)\n"));
	free(out);
	record(inv, sighting("a.test", "10.0.0.1", SHA_B, NB_B, "EC-P256",
			     T0 + 3000000), NULL);
	inventory_close(inv);
	out = dump_to_string(db_path("rollback_end.db"), false, &rc);
	CHECK_INT(rc, 0);
	CHECK_STR(out,
		"a.test\n"
		"  serving 10.0.0.1:443  " SHA_B "  O=tlswatch test,CN=a.test\n"
		"          valid 2025-06-01T00:00:00Z .. 2045-01-01T00:00:00Z  seen "
		"2026-05-28T20:26:40.000000Z .. 2026-05-28T20:26:43.000000Z  x2\n"
		"  served  10.0.0.1:443  " SHA_A "  O=tlswatch test,CN=a.test\n"
		"          valid 2025-01-01T00:00:00Z .. 2045-01-01T00:00:00Z  seen "
		"2026-05-28T20:26:41.000000Z .. 2026-05-28T20:26:42.000000Z  x2\n"
		"          rollback at 2026-05-28T20:26:41.000000Z, ended by "
		"2026-05-28T20:26:43.000000Z (" SHA_B " served again): "
		"client_preferred (offered EC>RSA)\n");
	free(out);
	out = dump_to_string(db_path("rollback_end.db"), true, &rc);
	CHECK_INT(rc, 0);
	CHECK(out && strstr(out, ",\"rollback\":{\"at\":\"2026-05-28T20:26:41.000000Z\","
			    "\"evidence\":\"client_preferred (offered EC>RSA)\","
			    "\"ended\":\"2026-05-28T20:26:43.000000Z\","
			    "\"ended_by\":\"" SHA_B "\"}}\n"));
	free(out);
}

/* The rows of inventory_foreach(), as `tlswatch report` reads them. */
struct foreach_rows {
	int n;
	struct inventory_leaf l[4];
};

static int keep_row(void *ctx, const struct inventory_leaf *l, bool current)
{
	struct foreach_rows *rows = ctx;

	(void)current;
	if (rows->n < 4)
		rows->l[rows->n++] = *l;
	return 0;
}

/* The report's walk of the rows ignores when a rollback ended: it does
 * not ask (a query per row with a rollback), so the rows say "not ended"
 * where the listing says "ended" (test_dump_says_when_a_rollback_ended). */
static void test_foreach_leaves_the_rollback_end_to_the_listing(void)
{
	struct inventory *inv = open_fresh("rollback_foreach.db");
	struct foreach_rows rows = { 0 };
	char err[256];

	record_rollback(inv);
	record(inv, sighting("a.test", "10.0.0.1", SHA_B, NB_B, "EC-P256",
			     T0 + 3000000), NULL);
	inventory_close(inv);
	CHECK_INT(inventory_foreach(db_path("rollback_foreach.db"), keep_row, &rows,
				    err, sizeof(err)), 0);
	CHECK_INT(rows.n, 2);
	CHECK_STR(rows.l[1].sha256, SHA_A);
	CHECK_INT(rows.l[1].rollback_us, T0 + 1000000);
	CHECK_INT(rows.l[1].rollback_ended_us, 0);
	CHECK_STR(rows.l[1].rollback_ended_by, "");
}

static void test_dump_of_a_missing_file_is_a_clear_error(void)
{
	char err[256] = "";

	CHECK_INT(inventory_dump("/nonexistent/inv.db", false, stdout, NULL, err, sizeof(err)), -1);
	CHECK_STR(err, "/nonexistent/inv.db: No such file or directory");
}

static void test_dump_of_a_corrupt_file_is_a_clear_error(void)
{
	char want[256], err[256] = "";
	FILE *f = fopen(db_path("junk2.db"), "w");
	int i;

	for (i = 0; i < 200; i++)
		fputs("garbage garbage garbage garbage\n", f);
	fclose(f);
	CHECK_INT(inventory_dump(db_path("junk2.db"), false, stdout, NULL, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s: not a tlswatch inventory (file is not a database)",
		 db_path("junk2.db"));
	CHECK_STR(err, want);
}

/* --- sightings counted in memory, answers kept */

static void test_further_sightings_reach_the_file_at_flush(void)
{
	struct inventory *inv = NULL;
	struct inventory_sighting s = sighting("a.test", "10.0.0.1", SHA_A, NB_A,
					       "EC-P256", T0);
	char err[256];
	int i;

	CHECK_INT(inventory_open(db_path("defer.db"), &inv, err, sizeof(err)), 0);
	CHECK_INT(record(inv, s, NULL), 0);
	for (i = 1; i <= 9; i++) {
		s.ts_us = T0 + (uint64_t)i;
		s.findings = i == 9 ? "expired" : "";
		CHECK_INT(record(inv, s, NULL), 0);
	}
	/* written: the first sighting; counted in memory: nine more */
	CHECK_INT(db_peek(db_path("defer.db"), "SELECT count FROM served"), 1);
	CHECK_INT(inventory_flush(inv, err, sizeof(err)), 0);
	CHECK_INT(db_peek(db_path("defer.db"), "SELECT count FROM served"), 10);
	CHECK_INT(db_peek(db_path("defer.db"), "SELECT last_seen_us FROM served"), T0 + 9);
	CHECK_INT(db_peek(db_path("defer.db"),
		       "SELECT findings = 'expired' FROM served"), 1);
	CHECK_INT(inventory_flush(inv, err, sizeof(err)), 0);   /* nothing waits */
	CHECK_INT(db_peek(db_path("defer.db"), "SELECT count FROM served"), 10);
	inventory_close(inv);
}

/* What a row must hold after any sightings, by the rules of the header. */
struct row_model {
	uint64_t first, last;
	long long count;
	const char *findings;
};

static void model_add(struct row_model *m, uint64_t ts, const char *findings)
{
	if (!m->count || ts < m->first)
		m->first = ts;
	if (!m->count || ts >= m->last) {
		m->last = ts;
		m->findings = findings;
	}
	m->count++;
}

/*
 * Random sightings of three rows, times going back and forth with ties,
 * flushes at random points: every row ends as the rules say, exactly as
 * when each sighting was written by itself.
 */
static void test_counted_sightings_end_as_written_one_by_one(void)
{
	static const char *const shas[3] = { SHA_A, SHA_B,
		"cccc000000000000000000000000000000000000000000000000000000000003" };
	static const char *const texts[4] = { "", "expired", "revoked", "untrusted" };
	struct row_model want[3] = { { 0 } };
	struct inventory *inv = NULL;
	char err[256], sql[256];
	unsigned seed = 7;
	int i, r;

	CHECK_INT(inventory_open(db_path("model.db"), &inv, err, sizeof(err)), 0);
	for (i = 0; inv && i < 3000; i++) {
		struct inventory_sighting s;

		seed = seed * 1103515245u + 12345u;
		r = (int)((seed >> 16) % 3);
		s = sighting("a.test", "10.0.0.1", shas[r], NB_A, "EC-P256",
			     T0 + (seed >> 8) % 50);
		s.findings = texts[(seed >> 4) % 4];
		CHECK_INT(record(inv, s, NULL), 0);
		model_add(&want[r], s.ts_us, s.findings);
		if ((seed >> 12) % 97 == 0)
			CHECK_INT(inventory_flush(inv, err, sizeof(err)), 0);
	}
	inventory_close(inv);
	for (r = 0; r < 3; r++) {
		snprintf(sql, sizeof(sql), "SELECT count FROM served WHERE sha256 = '%s'",
			 shas[r]);
		CHECK_INT(db_peek(db_path("model.db"), sql), want[r].count);
		snprintf(sql, sizeof(sql), "SELECT first_seen_us FROM served WHERE sha256 = '%s'",
			 shas[r]);
		CHECK_INT(db_peek(db_path("model.db"), sql), (long long)want[r].first);
		snprintf(sql, sizeof(sql), "SELECT last_seen_us FROM served WHERE sha256 = '%s'",
			 shas[r]);
		CHECK_INT(db_peek(db_path("model.db"), sql), (long long)want[r].last);
		snprintf(sql, sizeof(sql), "SELECT findings = '%s' FROM served WHERE sha256 = '%s'",
			 want[r].findings, shas[r]);
		CHECK_INT(db_peek(db_path("model.db"), sql), 1);
	}
}

/* The answer of a handle that has kept nothing: SQLite's own. */
static int fresh_answer(const char *path, const struct inventory_sighting *q,
			uint64_t at, struct inventory_leaf *out)
{
	struct inventory *inv = NULL;
	char err[256];
	int rc = -1;

	if (inventory_open(path, &inv, err, sizeof(err)) == 0)
		rc = inventory_find_newer(inv, q->name, q->addr, q->port, q->sha256,
					  q->not_before, q->key, INVENTORY_SAME_FAMILY, false, at,
					  out, err, sizeof(err));
	inventory_close(inv);
	return rc;
}

/*
 * Leaves of two key types and several not_befores served for two names in
 * random order and times, questions asked between the sightings: the kept
 * answers are always those of a handle that kept none.
 */
static void test_kept_newer_answers_equal_fresh_ones(void)
{
	static const char *const keys[2] = { "EC-P256", "RSA-2048" };
	struct inventory *inv = NULL;
	struct inventory_leaf got, want;
	char err[256], sha[65];
	unsigned seed = 11;
	int i, rc_got, rc_want, found = 0, asked = 0;

	CHECK_INT(inventory_open(db_path("newer.db"), &inv, err, sizeof(err)), 0);
	for (i = 0; inv && i < 1500; i++) {
		struct inventory_sighting s;
		unsigned leaf;

		seed = seed * 1103515245u + 12345u;
		leaf = (seed >> 16) % 12;
		snprintf(sha, sizeof(sha), "%064u", leaf);
		s = sighting((seed >> 10) % 2 ? "a.test" : "b.test", "10.0.0.1", sha,
			     NB_A + (int64_t)leaf * 86400, keys[leaf % 2],
			     T0 + (seed >> 6) % 1000);
		CHECK_INT(record(inv, s, NULL), 0);
		if ((seed >> 3) % 4)
			continue;
		/* a question about another sighting time of the same leaf */
		s.ts_us = T0 + (seed >> 20) % 1000;
		rc_got = inventory_find_newer(inv, s.name, s.addr, s.port, s.sha256,
					      s.not_before, s.key, INVENTORY_SAME_FAMILY, false,
					      s.ts_us, &got, err, sizeof(err));
		rc_want = fresh_answer(db_path("newer.db"), &s, s.ts_us, &want);
		CHECK_INT(rc_got, rc_want);
		if (rc_got == 1 && rc_want == 1) {
			CHECK_STR(got.sha256, want.sha256);
			CHECK_INT(got.not_before, want.not_before);
			CHECK_INT((long long)got.first_seen_us, (long long)want.first_seen_us);
			found++;
		}
		asked++;
	}
	CHECK(asked > 50);
	CHECK(found > 10);    /* the questions did find newer leaves */
	inventory_close(inv);
}

/*
 * A write of an `analyze --db` run that fails on a full disk while SQLite
 * spills its page cache rolls the run's whole transaction back (SQLite
 * does it itself). The run's later writes are refused, not written one
 * by one outside it, committed as they are made, and the commit says the
 * run was lost: nothing of the run is in the file, so the next run adds
 * it once. On the 256 KiB tmpfs of full_disk.h.
 */
static int run_rolled_back_by_sqlite(const char *tmp)
{
	char path[96], fill[96], name[64], err[256] = "", want[256];
	struct inventory_sighting s;
	struct inventory *inv = NULL;
	int i, failed = -1;

	snprintf(path, sizeof(path), "%s/run.db", tmp);
	snprintf(fill, sizeof(fill), "%s/fill", tmp);
	CHECK_INT(inventory_open(path, &inv, err, sizeof(err)), 0);
	if (!inv)
		return 1;
	fill_up(fill);
	CHECK_INT(inventory_run_begin(inv, err, sizeof(err)), 0);
	/* a small cache spills into the WAL, which has no room */
	CHECK_INT(sqlite3_exec(inventory_sqlite(inv), "PRAGMA cache_size = 10",
			       NULL, NULL, NULL), SQLITE_OK);
	for (i = 0; i < 20000 && failed < 0; i++) {
		snprintf(name, sizeof(name), "host-%05d.lost.test", i);
		s = sighting(name, "192.0.2.1", SHA_A, NB_A, "EC", T0 + (uint64_t)i);
		if (inventory_record(inv, &s, NULL, err, sizeof(err)))
			failed = i;
	}
	CHECK(failed > 0);
	printf("# the write that failed, #%d: %s\n", failed, err);
	CHECK_INT(sqlite3_get_autocommit(inventory_sqlite(inv)), 1);
	/* room again: a write outside the run would now be committed */
	CHECK_INT(unlink(fill), 0);
	s = sighting("after.lost.test", "192.0.2.1", SHA_A, NB_A, "EC", T0);
	err[0] = '\0';
	CHECK_INT(inventory_record(inv, &s, NULL, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "inventory %s: the run's transaction was "
		 "rolled back by a failed write", path);
	CHECK_STR(err, want);
	err[0] = '\0';
	CHECK_INT(inventory_run_commit(inv, err, sizeof(err)), -1);
	CHECK_STR(err, want);
	inventory_close(inv);
	CHECK_INT(db_peek(path, "SELECT count(*) FROM served"), 0);
	return check_failed_in_test;
}

static void test_a_run_rolled_back_by_sqlite_writes_nothing_more(void)
{
	full_disk_child(run_rolled_back_by_sqlite);
}

int main(void)
{
	char cmd[128];

	if (!hf_tmpdir(dir, sizeof(dir))) {
		printf("not ok - mkdtemp\n");
		return 1;
	}
	RUN_TEST(test_first_sighting_creates_a_row_then_counts);
	RUN_TEST(test_row_bound_refuses_new_rows_and_counts_them);
	RUN_TEST(test_file_database_uses_wal_and_current_schema);
	RUN_TEST(test_rows_survive_a_reopen);
	RUN_TEST(test_seen_times_widen_and_old_sightings_keep_newer_findings);
	RUN_TEST(test_set_findings_replaces_the_text);
	RUN_TEST(test_staple_kinds_are_named_as_their_findings);
	RUN_TEST(test_staple_findings_stay_when_the_staple_cannot_be_seen);
	RUN_TEST(test_version_1_database_is_migrated_keeping_rows);
	RUN_TEST(test_newer_schema_is_refused);
	RUN_TEST(test_corrupt_file_is_a_clear_error);
	RUN_TEST(test_read_only_file_is_a_clear_error);
	RUN_TEST(test_missing_directory_is_a_clear_error);
	RUN_TEST(test_dotdot_after_a_missing_directory_names_no_file);
	RUN_TEST(test_not_a_regular_file_is_refused_before_sqlite);
	RUN_TEST(test_two_writers_share_the_file);
	RUN_TEST(test_find_newer_sees_other_addresses_of_the_name);
	RUN_TEST(test_find_newer_ignores_leaves_served_later);
	RUN_TEST(test_find_newer_ignores_older_leaves_and_itself);
	RUN_TEST(test_find_newer_compares_keys_of_one_algorithm);
	RUN_TEST(test_find_newer_without_sni_stays_on_the_address);
	RUN_TEST(test_find_newer_passes_over_leaves_not_covering_the_name);
	RUN_TEST(test_find_newer_takes_untrusted_leaves_for_untrusted_ones);
	RUN_TEST(test_kept_newer_answers_are_per_trust);
	RUN_TEST(test_kept_newer_answer_follows_a_leaf_trusted_now);
	RUN_TEST(test_successor_kinds_are_named_as_their_findings);
	RUN_TEST(test_further_sightings_reach_the_file_at_flush);
	RUN_TEST(test_counted_sightings_end_as_written_one_by_one);
	RUN_TEST(test_kept_newer_answers_equal_fresh_ones);
	RUN_TEST(test_dump_text_lists_newest_first_and_marks_current);
	RUN_TEST(test_dump_text_escapes_every_stored_column);
	RUN_TEST(test_dump_lists_the_rollback_recorded_on_a_row);
	RUN_TEST(test_dump_says_when_a_rollback_ended);
	RUN_TEST(test_foreach_leaves_the_rollback_end_to_the_listing);
	RUN_TEST(test_dump_json_one_object_per_row);
	RUN_TEST(test_dump_json_lists_every_stored_kind_name);
	RUN_TEST(test_dump_of_a_missing_file_is_a_clear_error);
	RUN_TEST(test_dump_of_a_corrupt_file_is_a_clear_error);
	RUN_TEST(test_a_run_rolled_back_by_sqlite_writes_nothing_more);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	hf_sh(cmd);
	return CHECK_EXIT_CODE();
}
