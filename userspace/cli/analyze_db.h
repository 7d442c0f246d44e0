/* SPDX-License-Identifier: MIT */
/*
 * analyze --db: the captures already added to the database are refused,
 * so that a command run again does not count every handshake twice, and
 * a run adds all it read or nothing.
 */
#ifndef TW_ANALYZE_DB_H
#define TW_ANALYZE_DB_H

#include <stdbool.h>
#include <stdint.h>

struct analyze_db;
struct cert_health_opts;

/* The run's lease on --db, the caller's (analyze_db_prepare). */
struct analyze_db_lease {
	int fd;                 /* -1: none (yet) */
	bool created;           /* the lease created the file */
};

/*
 * Before any capture is opened: *@out (NULL without @db). Standard input
 * ("-" among @files), unless it is a file already, is copied into a
 * temporary file (unlinked, in $TMPDIR or /tmp) that becomes standard
 * input, so that it is identified as a file is. First of all, an
 * existing @db is leased for the run (*@lease, inventory_lease.h; fd -1:
 * none yet, a new file is leased by analyze_db_check as it is created,
 * so that a run that reads nothing leaves no file; or nothing to lease,
 * the checks say why). *@lease is the caller's: end it with
 * analyze_db_lease_end() once every connection of the run to the file is
 * closed (analyze_db_close, and the sinks: the webhook outbox). EXIT_OK,
 * or EXIT_INPUT (a running agent writes @db, or another analyze --db run
 * adds to it) / EXIT_INTERNAL said on stderr.
 */
int analyze_db_prepare(const char *db, char *const *files, int n_files,
		       struct analyze_db_lease *lease, struct analyze_db **out);
/*
 * Before any capture is read: opens the database, with @whole_run begins
 * the run's transaction (inventory_run_begin; without it the run's
 * writes are committed as they are made, and only the captures' records
 * wait for the end), and identifies each file that is a regular file
 * (inventory_capture). EXIT_OK, and then either *@adbp stays and @health
 * borrows its connection (db_inv; close the checks before
 * analyze_db_close): the file's, or a temporary copy's when every
 * capture was added to it before (each said on stderr: they are reported
 * without being added again); or *@adbp was closed and set to NULL: the
 * database cannot be written (the checks say why). EXIT_USAGE said on
 * stderr when a capture is given twice, grew since it was added (begins
 * with the bytes of one added), or was added while others given were
 * not; EXIT_INPUT said (a new file leased by an agent or another run
 * as it was created; or the database is busy: a writer that takes no
 * lease, such as sqlite3, holds it); EXIT_INTERNAL said. A named pipe
 * cannot be identified: a warning says it is added unchecked.
 */
int analyze_db_check(struct analyze_db **adbp, bool whole_run,
		     struct cert_health_opts *health);
/* Capture @i was read, @packets records in it: recorded as added at the
 * end when it had any. A file of headers alone is not recorded: every
 * capture of the same link type and snap length begins with its bytes,
 * and would be refused as grown from it. */
void analyze_db_added(struct analyze_db *adb, int i, uint64_t packets);
/* At the end of the run: records the captures opened, and commits them
 * with the sightings still counted in memory (and, for a whole run,
 * everything else it wrote). EXIT_OK, or EXIT_INPUT said: none was
 * recorded. */
int analyze_db_commit(struct analyze_db *adb);
/* Without analyze_db_commit(): none of the run's captures is recorded as
 * added. A whole run (analyze_db_check's @whole_run) adds nothing at all;
 * one that was not (a webhook outbox shares the file) keeps the writes it
 * made as they came, which the next run of its captures makes again. */
void analyze_db_close(struct analyze_db *adb);
/* Ends the run's lease on @db, last of all. With @unused (the run failed
 * before it read any capture), a file the run created is removed while
 * it holds no row (inventory_lease_drop_new): a refused run leaves no
 * file behind. */
void analyze_db_lease_end(const char *db, struct analyze_db_lease *lease,
			  bool unused);

#endif
