// SPDX-License-Identifier: MIT
/*
 * analyze --db adds a capture to the database once: added again, its
 * sightings would be counted again, doubling every count it touched.
 * Each capture is identified before anything is read (inventory.h:
 * inventory_capture); standard input, and a named pipe given by path,
 * first go to a temporary file, to be identified as a file is. The
 * captures read are recorded at the end of the run, on the one
 * connection the checks borrow (cert_health_opts.db_inv), and the run's
 * writes land in the same transaction (inventory_run_begin): a run cut
 * short adds nothing, and its captures are added by the next.
 *
 * A webhook outbox in the same file writes as alerts come (so that an
 * alert is durable, and sent, while the run lasts), which the run's
 * transaction would stall: with one, the run is made on a temporary copy
 * of the file (inventory_copy) in a transaction of its own, and merged
 * into the file in one transaction at the end (inventory_run_merge).
 * Killed part-way, it added nothing to the inventory, while the alerts
 * it raised are in the outbox with their claims: the next run judges the
 * same captures against the same rows, raises the same alerts, and the
 * claims suppress them (outbox_claim, within --webhook-cooldown) while
 * the rows queued are delivered. So no sighting is counted twice, and
 * each alert is delivered once (under one Idempotency-Key when a
 * delivery was cut short before its acknowledgement was written).
 *
 * A command whose captures were all added already is reported again,
 * judged against a temporary copy of the database that is not merged;
 * one that mixes added captures with new ones is refused, and so is a
 * capture that grew since it was added.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "analyze_db.h"
#include "analyze_grown.h"
#include "cli.h"
#include "common/digest.h"
#include "common/hex.h"
#include "common/log.h"
#include "common/timefmt.h"
#include "cert/health.h"
#include "inventory/inventory.h"
#include "inventory/inventory_lease.h"
#include "stdin_file.h"

struct analyze_db {
	struct inventory *inv;                  /* NULL: not open (yet) */
	const char *db;
	struct analyze_db_lease *lease;         /* the caller's */
	char *const *files;
	int n_files;
	off_t stdin_from;                       /* where standard input's
	                                         * capture begins in fd 0 */
	bool again;                             /* every capture was added:
	                                         * inv is a temporary copy */
	bool merge;                             /* inv is a temporary copy,
	                                         * merged at the end */
	bool *opened;                           /* to record at the end */
	int *pipe_copy;                         /* a named pipe's temporary
	                                         * copy (fifo_as_file), read
	                                         * in its place; -1: none */
	char source[32];                        /* analyze_db_source's */
	struct inventory_capture *ids;          /* head_sha256 "": not identified */
	struct grown_cut *cuts;                 /* of each one identified
	                                         * (analyze_grown.h) */
	struct inventory_capture_added *was;    /* of the files added before */
	struct grown_index *grown;              /* the captures added whole,
	                                         * read once (find_grown) */
};

/* The head of the file being identified: find_grown() digests its
 * beginnings. */
static unsigned char head[INVENTORY_CAPTURE_HEAD];

/* File @i was identified (identify() fills head_sha256 only then). */
static bool identified(const struct analyze_db *adb, int i)
{
	return adb->ids[i].head_sha256[0] != '\0';
}

/* Reads up to @len bytes of @fd from @off into @buf: the count, or -1. */
static ssize_t read_head(int fd, off_t off, unsigned char *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = pread(fd, buf + got, len - got, off + (off_t)got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

/* Identifies the capture in regular file @fd from @off on, its head left
 * in head[]. 0, or -1. */
static int identify_fd(int fd, off_t off, const struct stat *sb,
		       struct inventory_capture *c)
{
	uint8_t md[32];
	ssize_t n = read_head(fd, off, head, sizeof(head));

	if (n < 0 || !tw_sha256(head, (size_t)n, md))
		return -1;
	c->size = (uint64_t)(sb->st_size - off);
	c->head_len = (uint32_t)n;
	tw_hex(md, sizeof(md), c->head_sha256);
	return 0;
}

/* 0 and *@c; -1 when it cannot be read (the analysis says why when its
 * turn comes). Standard input and named pipes are files by now, and
 * other files that are not regular were refused (analyze_db_prepare). */
static int identify(const struct analyze_db *adb, int i,
		    struct inventory_capture *c)
{
	const char *path = adb->files[i];
	struct stat sb;
	int fd, rc;

	if (adb->pipe_copy[i] >= 0)
		return fstat(adb->pipe_copy[i], &sb) == 0 ?
		       identify_fd(adb->pipe_copy[i], 0, &sb, c) : -1;
	if (strcmp(path, "-") == 0)
		return fstat(STDIN_FILENO, &sb) == 0 && S_ISREG(sb.st_mode) ?
		       identify_fd(STDIN_FILENO, adb->stdin_from, &sb, c) : -1;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -1;
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		/* a directory is not a capture: the analysis says so */
		close(fd);
		return -1;
	}
	rc = identify_fd(fd, 0, &sb, c);
	close(fd);
	return rc;
}

static bool same_capture(const struct inventory_capture *a,
			 const struct inventory_capture *b)
{
	return a->size == b->size && a->head_len == b->head_len &&
	       strcmp(a->head_sha256, b->head_sha256) == 0;
}

/* Whether a capture that file @i (its head in head[]) grew from was
 * added: 1 (*@was), 0, or -1 said. The captures added whole are read at
 * the first file that needs them. */
static int find_grown(struct analyze_db *adb, int i,
		      struct inventory_capture_added *was)
{
	char err[512];
	int rc = -1;

	if (adb->grown || grown_index_read(adb->inv, &adb->grown, err,
					   sizeof(err)) == 0)
		rc = grown_index_find(adb->grown, adb->inv, head, &adb->ids[i],
				      was, err, sizeof(err));
	if (rc < 0)
		fprintf(stderr, "tlswatch analyze: %s\n", err);
	return rc;
}

/* What the database knows of file @i: 0 not added, 1 added (*@was), 2
 * it grew from a capture added, or is one cut short (said, EXIT_USAGE),
 * -1 said (EXIT_INTERNAL). */
static int find_added(struct analyze_db *adb, int i,
		      struct inventory_capture_added *was)
{
	const struct inventory_capture *c = &adb->ids[i];
	char err[512], when[TW_TIME_STRLEN];
	uint32_t same;
	bool cut = false;
	int rc = inventory_capture_find(adb->inv, c, was, err, sizeof(err));

	if (rc == 0)
		rc = find_grown(adb, i, was);        /* says its errors */
	else if (rc < 0)
		fprintf(stderr, "tlswatch analyze: %s\n", err);
	if (rc == 0) {
		rc = grown_find_cut(adb->inv, c, &adb->cuts[i], was, err,
				    sizeof(err));
		cut = rc == 1;
		if (rc < 0)
			fprintf(stderr, "tlswatch analyze: %s\n", err);
	}
	if (rc <= 0 || was->size == c->size)
		return rc;
	/* grown from one added whole, or one cut short of a head: the head
	 * of the shorter; cut short below it: its whole records (what
	 * follows them is a record cut short, not read) */
	same = cut ? adb->cuts[i].len :
	       (uint32_t)(was->size < c->head_len ? was->size : c->head_len);
	fprintf(stderr, "tlswatch analyze: %s: begins with the same %llu bytes "
		"as %s, added to the --db database %s at %s (%llu bytes then, "
		"%llu now); adding it would count those handshakes twice\n",
		adb->files[i], (unsigned long long)same, was->name, adb->db,
		tw_time_format_s((int64_t)(was->added_us / 1000000), when),
		(unsigned long long)was->size, (unsigned long long)c->size);
	return 2;
}

/* File @i was added before: what is said of it, after "FILE: already
 * added to the --db database DB at TIME (as NAME)". */
static void say_added(const struct analyze_db *adb, int i,
		      const struct inventory_capture_added *was, const char *then,
		      bool refused)
{
	char when[TW_TIME_STRLEN], line[1024];

	snprintf(line, sizeof(line), "%s: already added to the --db database "
		 "%s at %s (as %s)%s", adb->files[i], adb->db,
		 tw_time_format_s((int64_t)(was->added_us / 1000000), when),
		 was->name, then);
	/* a refusal is an error, said also with -q; a report again a note */
	if (refused)
		fprintf(stderr, "tlswatch analyze: %s\n", line);
	else
		pr_warn("%s\n", line);
}

/* EXIT_OK, or EXIT_USAGE said: file @i is the same capture as an earlier
 * one of the command line. */
static int refuse_twice(const struct analyze_db *adb, int i)
{
	int j;

	for (j = 0; j < i; j++) {
		if (identified(adb, j) && same_capture(&adb->ids[j], &adb->ids[i])) {
			fprintf(stderr, "tlswatch analyze: %s: the same capture as %s; "
				"adding both to the --db database %s would count its "
				"handshakes twice\n", adb->files[i], adb->files[j], adb->db);
			return EXIT_USAGE;
		}
	}
	return EXIT_OK;
}

/* Identifies file @i, with its digest as a copy cut short: 0, or
 * EXIT_USAGE said (given twice), EXIT_INTERNAL said. */
static int identify_file(struct analyze_db *adb, int i)
{
	if (identify(adb, i, &adb->ids[i]) != 0)
		return EXIT_OK;
	/* head[] holds its head */
	if (grown_cut_digest(head, &adb->ids[i], &adb->cuts[i])) {
		fprintf(stderr, "tlswatch analyze: %s: SHA-256 failed\n",
			adb->files[i]);
		return EXIT_INTERNAL;
	}
	return refuse_twice(adb, i);
}

/*
 * Every capture added already: reported again, counted once (*@again).
 * None: added. Some: refused, since the others would be judged against
 * a database they would not be added to.
 */
static int check_files(struct analyze_db *adb, bool *again)
{
	int i, rc, n_added = 0, first_added = -1;

	for (i = 0; i < adb->n_files; i++) {
		rc = identify_file(adb, i);
		if (rc != EXIT_OK)
			return rc;
		rc = identified(adb, i) ? find_added(adb, i, &adb->was[i]) : 0;
		if (rc < 0 || rc == 2)
			return rc < 0 ? EXIT_INTERNAL : EXIT_USAGE;
		if (rc == 1 && n_added++ == 0)
			first_added = i;
	}
	if (n_added && n_added < adb->n_files) {
		say_added(adb, first_added, &adb->was[first_added], "; the other "
			  "captures given were not: give them without it", true);
		return EXIT_USAGE;
	}
	/* here either none was added or every one was */
	for (i = 0; n_added && i < adb->n_files; i++)
		say_added(adb, i, &adb->was[i], ": reported again, not counted "
			  "again", false);
	*again = n_added > 0;
	return EXIT_OK;
}

void analyze_db_close(struct analyze_db *adb)
{
	int i;

	if (!adb)
		return;
	/* without analyze_db_commit(), nothing of the run is added: its
	 * transaction is rolled back, on the file or on the copy that was
	 * not merged, and the next run adds its captures */
	inventory_close(adb->inv);
	for (i = 0; adb->pipe_copy && i < adb->n_files; i++)
		if (adb->pipe_copy[i] >= 0)
			close(adb->pipe_copy[i]);
	free(adb->pipe_copy);
	free(adb->cuts);
	free(adb->ids);
	free(adb->was);
	free(adb->opened);
	grown_index_free(adb->grown);
	free(adb);
}

/* *@lease: the run's lease on @db (-1: nothing to lease, the checks say
 * why), and whether it created the file. EXIT_OK, or EXIT_INPUT said: an
 * agent or another run holds it. */
static int lease_take(const char *db, struct analyze_db_lease *lease)
{
	struct stat sb;
	char err[512];

	lease->created = stat(db, &sb) != 0 && errno == ENOENT;
	if (inventory_lease_take(db, INVENTORY_LEASE_ANALYZE_RUN, &lease->fd, err,
				 sizeof(err)) == 0)
		return EXIT_OK;
	fprintf(stderr, "tlswatch analyze: %s\n", err);
	return EXIT_INPUT;
}

/* An existing file is leased before anything else is done; a new one
 * where SQLite would create it (open_db): a run that reads no capture
 * leaves no file behind, as before there was a lease. */
static int lease_existing(const char *db, struct analyze_db_lease *lease)
{
	struct stat sb;

	if (stat(db, &sb) != 0 && errno == ENOENT)
		return EXIT_OK;
	return lease_take(db, lease);
}

void analyze_db_lease_end(const char *db, struct analyze_db_lease *lease,
			  bool unused)
{
	char err[512];

	if (unused && lease->created &&
	    inventory_lease_drop_new(db, lease->fd, err, sizeof(err)) < 0)
		fprintf(stderr, "tlswatch analyze: %s\n", err);
	inventory_lease_end(lease->fd);
	lease->fd = -1;
}

/* File @i, when it is a named pipe, copied into a temporary file (its
 * bytes can be read once only: copied, they are identified as a file's
 * are, and read from the copy); the same pipe given again shares the
 * copy, and is refused as the same capture. A device (or a socket) is
 * refused: it cannot be identified without reading it (it may never
 * end), so it could not be recognised if given again, and would be
 * counted again. EXIT_OK (also for a path the analysis says it cannot
 * read), EXIT_USAGE or EXIT_INPUT said. */
static int copy_pipe(struct analyze_db *adb, int i)
{
	struct stat sb, earlier;
	int j;

	if (stat(adb->files[i], &sb) != 0 || S_ISREG(sb.st_mode) ||
	    S_ISDIR(sb.st_mode))
		return EXIT_OK;
	if (!S_ISFIFO(sb.st_mode)) {
		fprintf(stderr, "tlswatch analyze: %s: not a regular file or a "
			"pipe, so it could not be recognised if given again; not "
			"added to the --db database %s (copy it into a file, or "
			"give it as standard input, '-')\n", adb->files[i], adb->db);
		return EXIT_USAGE;
	}
	for (j = 0; j < i; j++) {
		if (adb->pipe_copy[j] >= 0 && stat(adb->files[j], &earlier) == 0 &&
		    earlier.st_dev == sb.st_dev && earlier.st_ino == sb.st_ino) {
			adb->pipe_copy[i] = dup(adb->pipe_copy[j]);
			if (adb->pipe_copy[i] >= 0)
				return EXIT_OK;
			fprintf(stderr, "tlswatch analyze: %s: %s\n", adb->files[i],
				strerror(errno));
			return EXIT_INPUT;
		}
	}
	return fifo_as_file(adb->files[i], &adb->pipe_copy[i]);
}

const char *analyze_db_source(struct analyze_db *adb, int i, const char *path)
{
	if (!adb || i < 0 || i >= adb->n_files || adb->pipe_copy[i] < 0)
		return path;
	snprintf(adb->source, sizeof(adb->source), "/proc/self/fd/%d",
		 adb->pipe_copy[i]);
	return adb->source;
}

int analyze_db_prepare(const char *db, char *const *files, int n_files,
		       struct analyze_db_lease *lease, struct analyze_db **out)
{
	struct analyze_db *adb;
	int i, rc;

	*out = NULL;
	lease->fd = -1;
	lease->created = false;
	if (!db)
		return EXIT_OK;
	rc = lease_existing(db, lease);
	if (rc != EXIT_OK)
		return rc;
	adb = calloc(1, sizeof(*adb));
	if (adb) {
		adb->ids = calloc((size_t)n_files, sizeof(*adb->ids));
		adb->cuts = calloc((size_t)n_files, sizeof(*adb->cuts));
		adb->was = calloc((size_t)n_files, sizeof(*adb->was));
		adb->opened = calloc((size_t)n_files, sizeof(*adb->opened));
		adb->pipe_copy = malloc((size_t)n_files * sizeof(*adb->pipe_copy));
	}
	if (!adb || !adb->ids || !adb->cuts || !adb->was || !adb->opened ||
	    !adb->pipe_copy) {
		fprintf(stderr, "tlswatch analyze: out of memory\n");
		analyze_db_close(adb);
		return EXIT_INTERNAL;
	}
	adb->db = db;
	adb->lease = lease;
	adb->files = files;
	adb->n_files = n_files;
	for (i = 0; i < n_files; i++)
		adb->pipe_copy[i] = -1;
	for (i = 0; i < n_files && rc == EXIT_OK; i++)
		rc = strcmp(files[i], "-") == 0 ? stdin_as_file(&adb->stdin_from) :
		     copy_pipe(adb, i);
	if (rc != EXIT_OK) {
		analyze_db_close(adb);
		return rc;
	}
	*out = adb;
	return EXIT_OK;
}

/* Opens the database, and begins the run's transaction in it unless
 * @on_copy (analyze_db_check): true, or false when it cannot be used:
 * not a file at all (*@rc EXIT_OK: the checks say why and refuse it),
 * or said here with *@rc EXIT_INPUT: leased by another, busy, or one
 * SQLite cannot open (not a database, a read-only directory). The run
 * asked for a store: going on in memory would add nothing and exit 0,
 * which a script (or -q) could not tell from a run that added. */
static bool open_db(struct analyze_db *adb, bool on_copy, int *rc)
{
	char err[512];

	/* a new file: leased as it is created, before SQLite opens it */
	if (adb->lease->fd < 0) {
		*rc = lease_take(adb->db, adb->lease);
		if (*rc != EXIT_OK)
			return false;
	}
	if (inventory_check_path(adb->db, false, err, sizeof(err)))
		return false;
	if (inventory_open(adb->db, &adb->inv, err, sizeof(err))) {
		fprintf(stderr, "tlswatch analyze: %s\n", err);
		*rc = EXIT_INPUT;
		return false;
	}
	if (!on_copy && inventory_run_begin(adb->inv, err, sizeof(err))) {
		fprintf(stderr, "tlswatch analyze: %s\n", err);
		*rc = EXIT_INPUT;
		return false;
	}
	return true;
}

/* The run is made on a temporary copy (made through the file's
 * connection, which is then closed, adding nothing): every capture was
 * added before (@merge false: judged, never merged), or a webhook
 * outbox writes the file meanwhile (@merge: the copy's writes are one
 * transaction, merged by analyze_db_commit). EXIT_OK, or EXIT_INTERNAL
 * said. */
static int run_on_copy(struct analyze_db *adb, bool merge)
{
	struct inventory *copy;
	char err[512];

	inventory_run_rollback(adb->inv);
	if (inventory_copy(adb->inv, &copy, err, sizeof(err)) ||
	    (merge && inventory_run_begin(copy, err, sizeof(err)))) {
		if (merge && copy)
			inventory_close(copy);
		fprintf(stderr, "tlswatch analyze: %s\n", err);
		return EXIT_INTERNAL;
	}
	inventory_close(adb->inv);
	adb->inv = copy;
	adb->again = !merge;
	adb->merge = merge;
	return EXIT_OK;
}

int analyze_db_check(struct analyze_db **adbp, bool on_copy,
		     struct cert_health_opts *health)
{
	struct analyze_db *adb = *adbp;
	bool again = false;
	int rc = EXIT_OK;

	if (!adb)
		return EXIT_OK;
	if (open_db(adb, on_copy, &rc))
		rc = check_files(adb, &again);
	else if (rc == EXIT_OK)
		return EXIT_OK;      /* adb stays for its pipes' copies */
	if (rc == EXIT_OK && (again || on_copy))
		rc = run_on_copy(adb, !again);
	if (rc != EXIT_OK) {
		analyze_db_close(adb);
		*adbp = NULL;
		return rc;
	}
	health->db_inv = adb->inv;   /* borrowed: one connection */
	return EXIT_OK;
}

void analyze_db_added(struct analyze_db *adb, int i, uint64_t packets)
{
	if (adb && adb->inv && !adb->again && i >= 0 && i < adb->n_files &&
	    packets > 0)
		adb->opened[i] = true;
}

/*
 * Records the beginnings of file @i (identified) at its record ends
 * (grown_cuts_record), its head read again into head[] (one head in
 * memory, not one per file): when its first bytes are no longer those
 * identified (rewritten since), none. 0, or -1 with @err.
 */
static int record_cuts(struct analyze_db *adb, int i, char *err, size_t errlen)
{
	const struct inventory_capture *c = &adb->ids[i];
	struct inventory_capture now;
	uint8_t md[32];
	char hex[65];

	if (identify(adb, i, &now) != 0 || now.head_len < c->head_len)
		return 0;
	if (!tw_sha256(head, c->head_len, md)) {
		snprintf(err, errlen, "%s: SHA-256 failed", adb->files[i]);
		return -1;
	}
	tw_hex(md, sizeof(md), hex);
	if (strcmp(hex, c->head_sha256) != 0)
		return 0;
	return grown_cuts_record(adb->inv, c, head, adb->files[i], err, errlen);
}

/* Records the captures opened, with @added_us, and bounds the rows of
 * their beginnings (of every capture's). 0, or -1 with @err. */
static int record_opened(struct analyze_db *adb, uint64_t added_us, char *err,
			 size_t errlen)
{
	int i;

	for (i = 0; i < adb->n_files; i++)
		if (adb->opened[i] && identified(adb, i) &&
		    (inventory_capture_add(adb->inv, &adb->ids[i], adb->files[i],
					   added_us, err, errlen) ||
		     record_cuts(adb, i, err, errlen)))
			return -1;
	/* every record end was digested; the rows kept are bounded */
	return inventory_capture_prune_prefixes(adb->inv, err, errlen);
}

int analyze_db_commit(struct analyze_db *adb)
{
	char err[512];
	struct timespec now;

	if (!adb || !adb->inv || adb->again)
		return EXIT_OK;
	clock_gettime(CLOCK_REALTIME, &now);
	if (record_opened(adb, (uint64_t)now.tv_sec * 1000000 +
			  (uint64_t)now.tv_nsec / 1000, err, sizeof(err)) == 0 &&
	    inventory_run_commit(adb->inv, err, sizeof(err)) == 0 &&
	    (!adb->merge || inventory_run_merge(adb->inv, adb->db, err,
						sizeof(err)) == 0))
		return EXIT_OK;
	fprintf(stderr, "tlswatch analyze: %s; the captures read were not recorded "
		"as added to the --db database %s, nor anything of this run\n",
		err, adb->db);
	return EXIT_INPUT;
}
