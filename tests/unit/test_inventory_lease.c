// SPDX-License-Identifier: MIT
/*
 * The lease of an inventory file (inventory/inventory_lease.h). flock(2)
 * locks belong to an open file description, so two leases taken in this
 * one process meet as two processes' would.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "check.h"
#include "inventory/inventory.h"
#include "inventory/inventory_lease.h"

static char dir[64];
static char db[128];
static char err[512];

static void scratch_begin(void)
{
	snprintf(dir, sizeof(dir), "/tmp/tw-lease-XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		exit(2);
	}
	snprintf(db, sizeof(db), "%s/inv.db", dir);
	err[0] = '\0';
}

static void scratch_end(void)
{
	static const char *const left[] = { "fifo", "inv.db-wal", "inv.db-shm",
					    "inv.db-journal", "old.db" };
	char path[160];
	size_t i;

	for (i = 0; i < sizeof(left) / sizeof(left[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, left[i]);
		unlink(path);
	}
	unlink(db);
	rmdir(dir);
}

static void test_agents_share_a_lease(void)
{
	int a = -1, b = -1;

	scratch_begin();
	CHECK_INT(inventory_lease_take(db, INVENTORY_LEASE_AGENT, &a, err, sizeof(err)), 0);
	CHECK_INT(inventory_lease_take(db, INVENTORY_LEASE_AGENT, &b, err, sizeof(err)), 0);
	CHECK(a >= 0 && b >= 0);
	inventory_lease_end(a);
	inventory_lease_end(b);
	scratch_end();
}

/* A lease of @first held, one of @then is refused with @want (its "%s"
 * the file); returns the first one's descriptor. */
static int check_refused(enum inventory_lease_kind first,
			 enum inventory_lease_kind then, const char *want)
{
	char expected[512];
	int held = -1, refused = 7;

	CHECK_INT(inventory_lease_take(db, first, &held, err, sizeof(err)), 0);
	CHECK_INT(inventory_lease_take(db, then, &refused, err, sizeof(err)),
		  -EWOULDBLOCK);
	CHECK_INT(refused, -1);
	snprintf(expected, sizeof(expected), want, db, db);
	CHECK_STR(err, expected);
	return held;
}

/* A lease of @kind on db is refused now with @want (its "%s" the file). */
static void check_refused_now(enum inventory_lease_kind kind, const char *want)
{
	char expected[512];
	int refused = 7;

	CHECK_INT(inventory_lease_take(db, kind, &refused, err, sizeof(err)),
		  -EWOULDBLOCK);
	CHECK_INT(refused, -1);
	snprintf(expected, sizeof(expected), want, db, db);
	CHECK_STR(err, expected);
}

static void test_analyze_run_refused_beside_an_agent(void)
{
	int agent, run = -1;

	scratch_begin();
	agent = check_refused(INVENTORY_LEASE_AGENT, INVENTORY_LEASE_ANALYZE_RUN,
			      "%s: a running tlswatch agent writes this database; "
			      "analyze into a copy of it (sqlite3 %s '.backup "
			      "copy.db') or stop the agent for the run");
	/* the probe's shared lease went with the refused descriptor: the
	 * agent gone, a run has the file */
	inventory_lease_end(agent);
	CHECK_INT(inventory_lease_take(db, INVENTORY_LEASE_ANALYZE_RUN, &run, err,
				       sizeof(err)), 0);
	CHECK(run >= 0);
	inventory_lease_end(run);
	scratch_end();
}

static void test_second_analyze_run_refused(void)
{
	scratch_begin();
	inventory_lease_end(check_refused(INVENTORY_LEASE_ANALYZE_RUN,
					  INVENTORY_LEASE_ANALYZE_RUN,
					  "%s: another tlswatch analyze --db run is "
					  "adding to this database; run this one "
					  "once it has ended"));
	scratch_end();
}

static void test_agent_refused_during_an_analyze_run(void)
{
	int agent = -1;

	scratch_begin();
	inventory_lease_end(check_refused(INVENTORY_LEASE_ANALYZE_RUN,
					  INVENTORY_LEASE_AGENT,
					  "%s: a tlswatch analyze --db run is adding "
					  "to this database; start the agent once it "
					  "has ended"));
	/* the run over, the agent has its lease */
	CHECK_INT(inventory_lease_take(db, INVENTORY_LEASE_AGENT, &agent, err,
				       sizeof(err)), 0);
	CHECK(agent >= 0);
	inventory_lease_end(agent);
	scratch_end();
}

/* SQLite takes an empty file for a new database: made as it would be. */
static void test_missing_file_created_empty_as_sqlite_would(void)
{
	mode_t old = umask(027);
	struct stat sb;
	int fd = -1;

	scratch_begin();
	CHECK_INT(inventory_lease_take(db, INVENTORY_LEASE_ANALYZE_RUN, &fd, err,
				       sizeof(err)), 0);
	CHECK(fd >= 0);
	CHECK_INT(stat(db, &sb), 0);
	CHECK_INT(sb.st_size, 0);
	CHECK_INT(sb.st_mode & 07777, 0640);
	inventory_lease_end(fd);
	umask(old);
	scratch_end();
}

/* Nothing to lease: the database's own open says why. */
static void test_not_a_regular_file_takes_no_lease(void)
{
	char fifo[160], missing[160];
	int fd = 7;

	scratch_begin();
	CHECK_INT(inventory_lease_take(dir, INVENTORY_LEASE_AGENT, &fd, err, sizeof(err)), 0);
	CHECK_INT(fd, -1);
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	CHECK_INT(mkfifo(fifo, 0600), 0);
	fd = 7;
	/* not opened: a FIFO without a writer would block */
	CHECK_INT(inventory_lease_take(fifo, INVENTORY_LEASE_ANALYZE_RUN, &fd, err,
				       sizeof(err)), 0);
	CHECK_INT(fd, -1);
	snprintf(missing, sizeof(missing), "%s/no/inv.db", dir);
	fd = 7;
	CHECK_INT(inventory_lease_take(missing, INVENTORY_LEASE_AGENT, &fd, err,
				       sizeof(err)), 0);
	CHECK_INT(fd, -1);
	inventory_lease_end(-1);        /* none: nothing happens */
	scratch_end();
}

/* Runs @sql on the database at @path (created if missing). */
static void exec_sql(const char *path, const char *sql)
{
	sqlite3 *h = NULL;

	CHECK_INT(sqlite3_open(path, &h), SQLITE_OK);
	CHECK_INT(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(h);
}

/* A new file is removed, with the files beside it, while it is the one
 * leased, no other lease is held and it has no row; else kept. */
static void test_drop_new_only_when_unused(void)
{
	char wal[160], moved[160];
	int fd = -1, agent = -1;

	scratch_begin();
	CHECK_INT(inventory_lease_take(db, INVENTORY_LEASE_ANALYZE_RUN, &fd, err,
				       sizeof(err)), 0);
	CHECK_INT(inventory_lease_drop_new(db, fd, err, sizeof(err)), 1);  /* empty */
	CHECK(access(db, F_OK) != 0);
	inventory_lease_end(fd);

	CHECK_INT(inventory_lease_take(db, INVENTORY_LEASE_ANALYZE_RUN, &fd, err,
				       sizeof(err)), 0);
	exec_sql(db, "CREATE TABLE t(x); CREATE TABLE u(y)");
	snprintf(wal, sizeof(wal), "%s-wal", db);
	CHECK_INT(close(open(wal, O_WRONLY | O_CREAT, 0600)), 0);
	CHECK_INT(inventory_lease_drop_new(db, fd, err, sizeof(err)), 1);  /* schema */
	CHECK(access(db, F_OK) != 0 && access(wal, F_OK) != 0);
	inventory_lease_end(fd);

	/* kept, each lease ended after (a refused drop may have changed it) */
	CHECK_INT(inventory_lease_take(db, INVENTORY_LEASE_AGENT, &fd, err, sizeof(err)), 0);
	exec_sql(db, "CREATE TABLE t(x); CREATE TABLE u(y); INSERT INTO u VALUES (1)");
	CHECK_INT(inventory_lease_drop_new(db, fd, err, sizeof(err)), 0);  /* a row */
	inventory_lease_end(fd);
	exec_sql(db, "DELETE FROM u");
	CHECK_INT(inventory_lease_take(db, INVENTORY_LEASE_AGENT, &fd, err, sizeof(err)), 0);
	CHECK_INT(inventory_lease_take(db, INVENTORY_LEASE_AGENT, &agent, err,
				       sizeof(err)), 0);
	CHECK_INT(inventory_lease_drop_new(db, fd, err, sizeof(err)), 0);  /* shared */
	inventory_lease_end(agent);
	inventory_lease_end(fd);
	CHECK_INT(inventory_lease_take(db, INVENTORY_LEASE_AGENT, &fd, err, sizeof(err)), 0);
	snprintf(moved, sizeof(moved), "%s/moved.db", dir);
	CHECK_INT(rename(db, moved), 0);
	exec_sql(db, "CREATE TABLE t(x)");
	CHECK_INT(inventory_lease_drop_new(db, fd, err, sizeof(err)), 0);  /* another file */
	CHECK_INT(access(db, F_OK), 0);
	CHECK_INT(inventory_lease_drop_new(moved, fd, err, sizeof(err)), 1);
	CHECK(access(moved, F_OK) != 0);
	CHECK_INT(inventory_lease_drop_new(db, -1, err, sizeof(err)), 0);  /* no lease */
	inventory_lease_end(fd);
	scratch_end();
}

/* The agent's lease follows its --db path: the file there replaced (a
 * repaired file system mounted at the path), the agent's reopen leases
 * the new file before SQLite opens it, so an analyze run is refused
 * beside it; while a run holds the new file, the reopen does not open
 * it. (The agent used to write a new file without a lease.) */
static void test_reopen_leases_a_new_file_at_the_path(void)
{
	char old[160];
	struct inventory *inv = NULL;
	int agent = -1, run = -1;

	scratch_begin();
	snprintf(old, sizeof(old), "%s/old.db", dir);
	CHECK_INT(inventory_lease_take(db, INVENTORY_LEASE_AGENT, &agent, err,
				       sizeof(err)), 0);
	inventory_lease_follow_start(db, INVENTORY_LEASE_AGENT, agent);
	/* another file at the path; an analyze run holds it for a while */
	CHECK_INT(rename(db, old), 0);
	CHECK_INT(inventory_lease_take(db, INVENTORY_LEASE_ANALYZE_RUN, &run, err,
				       sizeof(err)), 0);
	CHECK_INT(inventory_reopen(db, &inv, err, sizeof(err)), -1);
	CHECK(inv == NULL);
	CHECK_INT(inventory_lease_follow(db, err, sizeof(err)), -EWOULDBLOCK);
	inventory_lease_end(run);
	/* the run over: the reopen leases it, then opens it */
	CHECK_INT(inventory_reopen(db, &inv, err, sizeof(err)), 1);
	CHECK(inv != NULL);
	check_refused_now(INVENTORY_LEASE_ANALYZE_RUN,
			  "%s: a running tlswatch agent writes this database; "
			  "analyze into a copy of it (sqlite3 %s '.backup "
			  "copy.db') or stop the agent for the run");
	/* the file leased already: no second lease taken */
	CHECK_INT(inventory_lease_follow(db, err, sizeof(err)), 0);
	inventory_close(inv);
	inventory_lease_follow_end();
	/* every lease ended: a run has the file */
	CHECK_INT(inventory_lease_take(db, INVENTORY_LEASE_ANALYZE_RUN, &run, err,
				       sizeof(err)), 0);
	inventory_lease_end(run);
	scratch_end();
}

int main(void)
{
	RUN_TEST(test_agents_share_a_lease);
	RUN_TEST(test_analyze_run_refused_beside_an_agent);
	RUN_TEST(test_second_analyze_run_refused);
	RUN_TEST(test_agent_refused_during_an_analyze_run);
	RUN_TEST(test_missing_file_created_empty_as_sqlite_would);
	RUN_TEST(test_not_a_regular_file_takes_no_lease);
	RUN_TEST(test_drop_new_only_when_unused);
	RUN_TEST(test_reopen_leases_a_new_file_at_the_path);
	return CHECK_EXIT_CODE();
}
