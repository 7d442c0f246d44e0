/* SPDX-License-Identifier: MIT */
/*
 * The inventory: every leaf certificate served, per (server name, server
 * address, port), in SQLite. It is how a replaced certificate that comes
 * back is recognised, also across restarts.
 *
 * Table "served" (schema version 2, PRAGMA user_version):
 *   name TEXT        SNI ('' when the client sent none)
 *   addr TEXT        server address (dotted quad / RFC 5952)
 *   port INTEGER
 *   sha256 TEXT      leaf fingerprint, lowercase hex
 *   subject, issuer TEXT; key TEXT ("EC-P256", '' when unknown)
 *   not_before, not_after INTEGER   seconds since the epoch
 *   first_seen_us, last_seen_us INTEGER  packet time, microseconds
 *   count INTEGER    handshakes that served it
 *   findings TEXT    finding kinds of the latest check, comma-separated
 *   rollback_us INTEGER, rollback_evidence TEXT   (schema version 4) when
 *                    and why this older leaf was judged a rollback over a
 *                    newer leaf of another key family (cert/supersede.h);
 *                    0 and '' when never
 * Primary key (name, addr, port, sha256). WAL mode, so readers (the
 * `inventory` command, sqlite3) never block the writer.
 *
 * Schema version 3 adds the agent's recent events, as the aggregates the
 * HTML report draws (sink/history.c writes them once a second, and
 * deletes what is older than its bound; sink/history_store.c reads them
 * back for `tlswatch report`). Times in µs (seconds, minutes: since the
 * epoch, divided); names are the raw SNI bytes:
 *   history_second  (second, handshakes, failures): the timeline; and
 *                   other_names, other_clients, other_clients_failures,
 *                   other_certs: what a second had beyond the report's
 *                   bounds (html_report.h), counted, not detailed;
 *                   other_incomplete, other_ok, other_failed,
 *                   other_aborted (version 6): the outcomes of other_names
 *   history_name    (minute, name, server, incomplete, ok, failed,
 *                   aborted): a minute's outcomes of a name on the row
 *                   of its first server, its other servers with zeros
 *   history_period  (name, server, sha256, first_us, last_us, handshakes,
 *                   failures; findings (version 6): the kinds seen in
 *                   the period, bit k for kind k of enum finding_kind, -1
 *                   not recorded): which leaf a name was served from an
 *                   address, when
 *   history_cert    (sha256, subject, issuer, serial, key, not_before,
 *                   not_after, last_us); history_finding (sha256, kind,
 *                   detail, last_us; rowid: the order first seen):
 *                   certificates and their findings; history_leaf
 *                   (minute, sha256, handshakes, failures): their counts
 *   history_spike   one row per spike event, with its explanation
 *   history_alert   (minute, from_client, description (-1: encrypted),
 *                   count); history_client (minute, ja4, handshakes,
 *                   failures)
 * Readers of the served table read any version from
 * INVENTORY_READ_MIN_VERSION (1, the first) on: the versions after it
 * only add tables and columns, which a reader reads only from the
 * version that added them (INVENTORY_KEY_VERSION,
 * INVENTORY_ROLLBACK_VERSION, INVENTORY_NO_CERT_VERSION,
 * INVENTORY_OTHER_OUTCOMES_VERSION).
 *
 * One connection per struct inventory, used from one thread.
 */
#ifndef TW_INVENTORY_H
#define TW_INVENTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define INVENTORY_SCHEMA_VERSION 6
#define INVENTORY_READ_MIN_VERSION 1
#define INVENTORY_KEY_VERSION 2        /* served.key */
#define INVENTORY_ROLLBACK_VERSION 4   /* rollback_us, rollback_evidence */
#define INVENTORY_NO_CERT_VERSION 5    /* history_name's no_cert_*, largest_chain */
#define INVENTORY_OTHER_OUTCOMES_VERSION 6 /* history_second's other_incomplete..,
                                            * history_period's findings */
#define INVENTORY_BUSY_TIMEOUT_MS 5000
/* Rows the table may hold (names come from clients): past it a sighting
 * of a new row is refused and counted, one of an existing row is still
 * recorded. About 100 MB of SQLite file at most. */
#define INVENTORY_MAX_ROWS 200000

struct inventory;

/*
 * Opens (creating it and its schema if needed) the database at @path;
 * NULL @path: a private in-memory database with the same behaviour that
 * lasts until inventory_close(). Migrates older schema versions. Returns
 * -1 with @err ("inventory PATH: file is not a database", "... is
 * read-only", "... schema version 9 is newer than this tlswatch (2)") when
 * the file cannot be used for writing; nothing is left open then.
 */
int inventory_open(const char *path, struct inventory **out, char *err,
		   size_t errlen);
void inventory_close(struct inventory *inv);
/*
 * A private temporary copy of @from's database (read through @from's
 * connection, which must not be in a write transaction: the file is not
 * opened again; nothing is written to it):
 * SQLite's private temporary database (its page cache, spilling to a
 * file in its temporary directory, removed at close), migrated as
 * inventory_open() would: answers as the file would, and what is
 * recorded in it is lost at close (`analyze --db` of captures added
 * already). 0, or -1 with @err.
 */
int inventory_copy(struct inventory *from, struct inventory **out, char *err,
		   size_t errlen);

/*
 * Whether @path can be an inventory file, asked before SQLite is (which
 * would create its journal beside a device, and block on a FIFO): a
 * regular file, or none yet unless @must_exist (a path that cannot be
 * looked at is then left to SQLite to say). A path with a ".." after a
 * prefix the kernel does not find as a directory ("nx/../inv.db", nx
 * missing) names
 * no file, also when !@must_exist: SQLite would read the ".." by the
 * letter and open "inv.db", which the lease and the --html check, going
 * by the kernel, would not see. 0, or -1 with @err ("PATH: is a
 * directory, not a tlswatch inventory", "PATH: not a regular file, not a
 * tlswatch inventory", "PATH: No such file or directory", "PATH: No such
 * file or directory (a '..' in it follows 'nx/', which is not an
 * existing directory)", naming the first such prefix).
 */
int inventory_check_path(const char *path, bool must_exist, char *err,
			 size_t errlen);

/* One handshake that served a leaf. */
struct inventory_sighting {
	const char *name;        /* SNI or "" */
	const char *addr;        /* server address text */
	uint16_t port;
	const char *sha256;      /* 64 lowercase hex digits */
	const char *subject, *issuer, *key;
	int64_t not_before, not_after;
	uint64_t ts_us;          /* packet time */
	const char *findings;    /* "expired,untrusted" or "" */
	bool staple_unknown;     /* the handshake could not show the staple:
	                          * the row keeps its staple findings */
	uint64_t rollback_us;    /* non-zero: record this rollback evidence
	                          * on the row (written at once) */
	const char *rollback_evidence;
};

/*
 * Records a sighting: inserts the row or widens first/last seen, counts
 * it and replaces the findings (a sighting with staple_unknown keeps the
 * row's revoked_staple and stale_staple, as the cert events do). *@created (may be NULL) says whether the
 * row is new. 0, or -1 with @err.
 *
 * A further sighting of a row this process has already written (and not
 * older than its first_seen) is counted in memory: its count, last_seen
 * and findings reach the database with the next inventory_flush() - the
 * owner calls it now and then (the agent: every second), and
 * inventory_set_findings() and inventory_close() do. Until then other
 * readers of the file see them lag; inventory_find_newer() does not
 * depend on them.
 */
int inventory_record(struct inventory *inv, const struct inventory_sighting *s,
		     bool *created, char *err, size_t errlen);

/* The row bound (0: INVENTORY_MAX_ROWS), and how many new rows it refused
 * (inventory_record returned 0 for them with *created false). */
void inventory_set_max_rows(struct inventory *inv, uint64_t max_rows);
uint64_t inventory_refused(const struct inventory *inv);

/* Whether the file system holding @path (NULL: no file) is read-only, for
 * a write to the inventory that failed: tw_fs_read_only() (common/), and
 * see inventory_reopen(). */
bool inventory_fs_read_only(const char *path);

/*
 * For an owner whose inventory failed read-only: opens @path again once
 * its file system takes data (the repaired file system mounted there
 * again, or a read-only mount undone), leasing the file there first when
 * the process follows the path's lease (inventory_lease_follow). 1 with
 * the new inventory in *@out (the owner closes the old one), 0 while it
 * is still read-only, -1 with @err when the file cannot be opened for
 * writing (or its lease is refused: an analyze --db run adds to it).
 */
int inventory_reopen(const char *path, struct inventory **out, char *err,
		     size_t errlen);

/* Writes the sightings counted in memory, in one transaction (a part of
 * the run's, inside inventory_run_begin()). 0, or -1 with @err (they stay
 * counted, for the next try). */
int inventory_flush(struct inventory *inv, char *err, size_t errlen);

/* Replaces the findings text of one row (a later OCSP/CRL answer); with
 * @staple_unknown the row's staple findings stay. */
int inventory_set_findings(struct inventory *inv, const char *name,
			   const char *addr, uint16_t port, const char *sha256,
			   const char *findings, bool staple_unknown,
			   char *err, size_t errlen);

/* A row, as read back. */
struct inventory_leaf {
	char name[256];
	char addr[64];
	uint16_t port;
	char sha256[65];
	char subject[256];
	char issuer[256];
	char key[32];
	int64_t not_before, not_after;
	uint64_t first_seen_us, last_seen_us;
	int64_t count;
	char findings[256];
	uint64_t rollback_us;         /* listings only (inventory_foreach) */
	char rollback_evidence[192];
	uint64_t rollback_ended_us;   /* inventory_dump only: a newer leaf served
	                               * again on the address and port after
	                               * the rollback, at the earliest
	                               * sighting known (0: not ended) */
	char rollback_ended_by[65];   /* that leaf's sha256 */
};

/* The finding kinds (cert/findings.h's names, as a row's findings text
 * spells them; test_supersede checks they agree) that keep a row from
 * being a newer leaf for inventory_find_newer(). */
#define INVENTORY_KIND_MISMATCH "hostname_mismatch"
#define INVENTORY_KIND_UNTRUSTED "untrusted"

/* Which key families inventory_find_newer() compares with. */
enum inventory_family_match {
	INVENTORY_SAME_FAMILY,    /* the same algorithm as @key, or unknown */
	INVENTORY_OTHER_FAMILY,   /* another algorithm (both known): the
	                           * candidate a dual RSA/ECDSA deployment and
	                           * a rollback have in common, for
	                           * cert/supersede.c to weigh the evidence */
};

/*
 * The newest (latest not_before) leaf other than @sha256 that was served
 * for @name (on any address and port; when @name is "", on @addr/@port
 * only) at or before @served_by_us and has a later not_before than
 * @not_before; with INVENTORY_SAME_FAMILY and a non-empty @key, only
 * leaves whose key type has the same algorithm ("EC", "RSA": the part
 * before '-') or is unknown count. A row whose findings hold
 * INVENTORY_KIND_MISMATCH never counts: that leaf does not cover the name
 * (another name's, a default vhost's), it replaced nothing. One holding
 * INVENTORY_KIND_UNTRUSTED counts only with @untrusted_too (the leaf
 * judged does not chain to the trust store either). 1 and *@out when
 * found, 0 when none, -1 with @err. Answers are kept while no row they
 * depend on changes; *@out's count, last_seen_us and findings may then
 * lag.
 */
int inventory_find_newer(struct inventory *inv, const char *name,
			 const char *addr, uint16_t port, const char *sha256,
			 int64_t not_before, const char *key,
			 enum inventory_family_match match, bool untrusted_too,
			 uint64_t served_by_us, struct inventory_leaf *out,
			 char *err, size_t errlen);

/* What the inventory says of an older leaf and a newer rival. */
struct inventory_rival_facts {
	uint64_t newer_last_here_us;  /* the newer leaf's last sighting on this
	                               * address and port (0: never) */
	uint64_t older_last_us;       /* the older leaf's last sighting for the
	                               * name (0: never) */
	uint64_t rollback_us;         /* the rollback recorded on the older
	                               * leaf's row here (0: none) */
	char rollback_evidence[192];
};

/*
 * The facts of @older and @newer for @name on @addr/@port (without a
 * name, @addr/@port only). Without @exact, answers with no rollback
 * recorded are kept while no row changes, so the last sightings in them
 * are lower bounds (sightings counted in memory since are not in them);
 * @exact writes every sighting first and asks SQLite. 0, or -1 with @err.
 */
int inventory_rival_facts(struct inventory *inv, const char *name,
			  const char *addr, uint16_t port, const char *older,
			  const char *newer, bool exact,
			  struct inventory_rival_facts *out, char *err, size_t errlen);

/*
 * Opens @path read-only, for the readers of the tables of version 3 and
 * later (`tlswatch report`): any version from INVENTORY_READ_MIN_VERSION
 * on. 0, or -1 with @err. Close with inventory_close().
 */
int inventory_open_readonly(const char *path, struct inventory **out,
			    char *err, size_t errlen);
/* The file's schema version (after inventory_open: the current one). */
int inventory_version(const struct inventory *inv);

/* The connection, for the modules that keep their rows in the tables
 * this module creates (the event history). They read and write those
 * rows; the schema stays this module's. */
struct sqlite3;
struct sqlite3 *inventory_sqlite(struct inventory *inv);

/* Rows in the table (for tests and the summary). -1 on error. */
int64_t inventory_count(struct inventory *inv);

/* One row of the listing; @current: the latest leaf seen on its address
 * and port. Non-zero stops the listing (a write error). */
typedef int (*inventory_row_fn)(void *ctx, const struct inventory_leaf *l,
				bool current);

/*
 * Every row of the database at @path (opened read-only), names in order,
 * newest first within a name: what `tlswatch report` draws (the rows
 * `tlswatch inventory` lists, without asking when each rollback ended:
 * rollback_ended_us stays 0). 0, or -1 with @err.
 */
int inventory_foreach(const char *path, inventory_row_fn cb, void *ctx,
		      char *err, size_t errlen);

/*
 * `tlswatch inventory`: what each name serves and served, names in order,
 * newest first within a name, each row marked current when it is the
 * latest one seen on its address and port, with the rollback recorded on
 * it if any, and whether it ended (rollback_ended_us). Text, or one JSON
 * object per line with @json. Opens @path read-only. 0 (and, with
 * @empty, whether no row was listed), or -1 with @err.
 */
int inventory_dump(const char *path, bool json, FILE *out, bool *empty,
		   char *err, size_t errlen);

/*
 * The captures `tlswatch analyze --db` added to the database
 * (inventory_captures.c, table analyzed_capture), so that the same
 * capture given again is refused rather than counted twice. A capture is
 * known by its size in bytes and the SHA-256 of its first
 * min(size, INVENTORY_CAPTURE_HEAD) bytes.
 */
#define INVENTORY_CAPTURE_HEAD 65536
struct inventory_capture {
	uint64_t size;
	uint32_t head_len;
	char head_sha256[65];      /* lowercase hex */
};

struct inventory_capture_added {
	char name[256];            /* the path it was added under */
	uint64_t added_us;         /* wall clock of the run that added it */
	uint64_t size;             /* its size then */
};

/*
 * Whether @c, or a capture that begins with the same head (same head_len
 * and digest, another size: one that grew, or a copy cut short), was
 * added: 1 with *@out (the same size first), 0 when none, -1 with @err.
 */
int inventory_capture_find(struct inventory *inv, const struct inventory_capture *c,
			   struct inventory_capture_added *out, char *err,
			   size_t errlen);
/*
 * A capture added while smaller than INVENTORY_CAPTURE_HEAD was digested
 * whole (head_len == size): one that grew from it begins with those
 * bytes. Calls @fn for each such capture, by ascending head_len, until it
 * returns non-zero (that value is returned): one scan of the table, to
 * read once for a run rather than once per capture looked up. 0 when
 * done, -1 with @err.
 */
int inventory_capture_short_heads(struct inventory *inv,
				  int (*fn)(void *ctx, const struct inventory_capture *c),
				  void *ctx, char *err, size_t errlen);
/*
 * A copy of a capture cut short below INVENTORY_CAPTURE_HEAD is digested
 * whole, a digest the capture's row does not hold: each capture added
 * also records the digests of some of its beginnings (@len bytes, their
 * SHA-256 @sha256: the lengths are analyze_grown.c's). Find: the capture
 * longer than @shorter bytes that begins so (1 with *@out, the earliest
 * added), 0 when none, -1 with @err. Add: records one of @c's. 0, or -1
 * with @err.
 */
int inventory_capture_find_prefix(struct inventory *inv, uint32_t len,
				  const char *sha256, uint64_t shorter,
				  struct inventory_capture_added *out, char *err,
				  size_t errlen);
int inventory_capture_add_prefix(struct inventory *inv,
				 const struct inventory_capture *c, uint32_t len,
				 const char *sha256, char *err, size_t errlen);
/*
 * The beginnings kept per capture, so that a capture of tiny packets
 * does not leave a row per record (up to INVENTORY_CAPTURE_HEAD / 12 of
 * them, some 0.6 MB): those up to each of its first
 * INVENTORY_CAPTURE_PREFIX_FIRST record ends, and up to its last record
 * end within each INVENTORY_CAPTURE_PREFIX_PAGE bytes of the file (a
 * copy cut short at a multiple of 4 KiB: a full disk, a writer killed
 * with its 4 KiB buffer unwritten). At most 64 + 16 per capture. A copy
 * cut at any other offset past the 64th record end (an interrupted scp,
 * curl, wget, rsync --partial) is not recognised below the head.
 */
#define INVENTORY_CAPTURE_PREFIX_FIRST 64
#define INVENTORY_CAPTURE_PREFIX_PAGE 4096
/* Keeps, of the beginnings inventory_capture_add_prefix recorded (every
 * record end: staged for the run), those within that bound; and deletes
 * those an older tlswatch kept beyond it for the captures added since
 * the file's mark (every capture the first time), then marks the file
 * (on a copy, inventory_run_merge does this in the file). 0, or -1 with
 * @err. */
int inventory_capture_prune_prefixes(struct inventory *inv, char *err,
				     size_t errlen);
/* Records @c as added under @name at @added_us. 0, or -1 with @err. */
int inventory_capture_add(struct inventory *inv, const struct inventory_capture *c,
			  const char *name, uint64_t added_us, char *err,
			  size_t errlen);

/*
 * `analyze --db`: every write of the run, the captures' records
 * included, in one transaction, so that a run cut short (killed, a full
 * disk) adds nothing and its captures are not taken for added. Begun
 * before the captures are looked up. Other writers of the file wait,
 * up to INVENTORY_BUSY_TIMEOUT_MS at each write, then fail ("...
 * database is locked"), until the run commits: the run's lease keeps
 * tlswatch's own writers (agents, another run) off the file
 * (inventory_lease.h), not others (sqlite3). inventory_close() without
 * inventory_run_commit() adds nothing. 0, or -1 with @err.
 */
int inventory_run_begin(struct inventory *inv, char *err, size_t errlen);
/* Writes the sightings counted in memory and commits. 0, or -1 with @err:
 * nothing of the run was added. */
int inventory_run_commit(struct inventory *inv, char *err, size_t errlen);
/* Ends the run's transaction adding nothing, before anything is recorded
 * (a run that adds nothing: its captures were added already). */
void inventory_run_rollback(struct inventory *inv);
/*
 * A run made on a temporary copy of the file @path (inventory_copy, run
 * begun and committed on @copy), so that the file is not written while
 * it lasts (a webhook outbox shares the file and writes as alerts come):
 * its served rows and captures' records are written into @path in one
 * transaction, through @copy's connection (which opens @path again). A
 * run cut short before adds nothing. 0, or -1 with @err: nothing merged.
 */
int inventory_run_merge(struct inventory *copy, const char *path, char *err,
			size_t errlen);

#endif
