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
 * input, so that it is identified as a file is; so is each named pipe
 * among @files, read from its copy (analyze_db_source), while a device
 * or socket among them is refused (EXIT_USAGE said: it could not be
 * recognised if given again). First of all, an
 * existing @db is leased for the run (*@lease, inventory_lease.h; fd -1:
 * none yet, a new file is leased by analyze_db_check as it is created,
 * so that a run that reads nothing leaves no file; or nothing to lease,
 * the checks say why). *@lease is the caller's: end it with
 * analyze_db_lease_end() once every connection of the run to the file is
 * closed (analyze_db_close, and the sinks: the webhook outbox). EXIT_OK,
 * or EXIT_INPUT (a running agent writes @db, or another analyze --db run
 * adds to it; standard input or a named pipe could not be copied) /
 * EXIT_USAGE (a device) / EXIT_INTERNAL said on stderr.
 */
int analyze_db_prepare(const char *db, char *const *files, int n_files,
		       struct analyze_db_lease *lease, struct analyze_db **out);
/*
 * Before any capture is read: opens the database, begins the run's
 * transaction (inventory_run_begin) in it, or with @on_copy (a webhook
 * outbox shares the file and writes as alerts come) in a temporary copy
 * of it that analyze_db_commit merges into the file, and identifies each
 * capture (inventory_capture). EXIT_OK, and then either *@adbp stays and
 * @health borrows its connection (db_inv; close the checks before
 * analyze_db_close): the file's, or a temporary copy's (with @on_copy,
 * or when every capture was added to the file before: each said on
 * stderr, they are reported without being added again); or the database
 * cannot be written (the checks say why), and *@adbp stays, adding
 * nothing, for analyze_db_source. EXIT_USAGE said on stderr (and *@adbp
 * closed, NULL) when a capture is given twice, grew since it was added
 * (begins with the bytes of one added, or is one cut short), was added
 * while others given were not; EXIT_INPUT said (a
 * new file leased by an agent or another run as it was created; or the
 * database is busy: a writer that takes no lease, such as sqlite3, holds
 * it); EXIT_INTERNAL said.
 */
int analyze_db_check(struct analyze_db **adbp, bool on_copy,
		     struct cert_health_opts *health);
/* The path to read capture @i, given as @path, from: a named pipe's
 * temporary copy (valid until the next call), else @path. */
const char *analyze_db_source(struct analyze_db *adb, int i, const char *path);
/* Capture @i was read, @packets records in it: recorded as added at the
 * end when it had any. A file of headers alone is not recorded: every
 * capture of the same link type and snap length begins with its bytes,
 * and would be refused as grown from it. */
void analyze_db_added(struct analyze_db *adb, int i, uint64_t packets);
/* At the end of the run: records the captures opened, and commits them
 * with everything else the run wrote (the sightings still counted in
 * memory too; from a copy, merged into the file). EXIT_OK, or EXIT_INPUT
 * said: nothing of the run was added. */
int analyze_db_commit(struct analyze_db *adb);
/* Without analyze_db_commit(): nothing of the run is added (its captures
 * are added by the next run). */
void analyze_db_close(struct analyze_db *adb);
/* Ends the run's lease on @db, last of all. With @unused (the run failed
 * before it read any capture), a file the run created is removed while
 * it holds no row (inventory_lease_drop_new): a refused run leaves no
 * file behind. */
void analyze_db_lease_end(const char *db, struct analyze_db_lease *lease,
			  bool unused);

#endif
