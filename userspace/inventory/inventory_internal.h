/* SPDX-License-Identifier: MIT */
/* Shared by the files of the inventory: inventory.c (opening, the write
 * side), inventory_query.c (the judge's questions), inventory_dump.c (the
 * read-only listing), inventory_memo.c (what this process already knows
 * in front of SQLite) and inventory_bound.c. Not for other modules. */
#ifndef TW_INVENTORY_INTERNAL_H
#define TW_INVENTORY_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <sqlite3.h>

#include "common/strmap.h"
#include "inventory.h"

struct inventory {
	sqlite3 *db;
	char where[1024];         /* "inventory PATH" (or the path alone), for messages */
	int version;              /* the file's schema version */
	bool run_open;            /* an `analyze --db` run's transaction
	                           * was begun and not ended: inv_run_lost */
	bool is_copy;             /* inventory_copy's: merged into its file */
	sqlite3_stmt *record;
	sqlite3_stmt *set_findings;
	sqlite3_stmt *find_newer;
	sqlite3_stmt *newest_candidate;
	sqlite3_stmt *add_sightings;
	sqlite3_stmt *rival_rows;
	sqlite3_stmt *last_for_name;
	/* inventory_memo.c */
	struct strmap *rows;      /* rows written by this process: row_memo */
	size_t n_dirty;           /* rows with sightings not yet written */
	uint64_t generation;      /* bumped by every write that can change
	                           * what inventory_find_newer() answers */
	struct strmap *newer;     /* inventory_find_newer answers: newer_memo */
	struct strmap *rivals;    /* inventory_rival_facts answers: rival_memo */
	/* inventory_bound.c */
	sqlite3_stmt *exists;     /* is a row there (prepared at the bound) */
	uint64_t n_rows;          /* rows in the table */
	uint64_t max_rows;        /* INVENTORY_MAX_ROWS unless set */
	uint64_t refused;         /* new rows refused at the bound */
};

static inline const char *nz(const char *s)
{
	return s ? s : "";
}

int inv_fail(const struct inventory *inv, const char *what, char *err,
	     size_t errlen);
bool inv_bind_key(sqlite3_stmt *st, const char *name, const char *addr,
		  uint16_t port, const char *sha256);
/* Before each write: -1 with @err once SQLite rolled the run's
 * transaction back itself (some errors do: a full disk, an I/O error),
 * since the write would then be committed alone, outside the run; 0. */
int inv_run_lost(const struct inventory *inv, char *err, size_t errlen);
int inv_step_done(struct inventory *inv, sqlite3_stmt *st, int rc,
		  const char *what, char *err, size_t errlen);
/* Prepares @sql into *@st for the life of the connection (finalized by
 * inventory_close). 0, or -1 (the reason: inv_fail). */
int inv_prepare_stmt(struct inventory *inv, const char *sql, sqlite3_stmt **st);
/* A one-value query (PRAGMA user_version, quick_check, a count) into
 * @out. 0, or -1 (the reason: sqlite3_errmsg). */
int inv_query_text(struct inventory *inv, const char *sql, char *out,
		   size_t outlen);

/* inventory_query.c: reading rows, for the questions and the listing. */
/* The columns of a served row, in the order inv_read_leaf() reads, with
 * @key for the key type's ("''" in a version 1 file, which has none). */
#define LEAF_COLUMNS_WITH(key) \
	"name, addr, port, sha256, subject, issuer, " key ", not_before, not_after," \
	" first_seen_us, last_seen_us, count, findings"

/* Text column @col into @out ("" for NULL), truncated to @len. */
void inv_col_text(sqlite3_stmt *st, int col, char *out, size_t len);
/* Columns 0 to 12, in LEAF_COLUMNS order; the rest of @l zeroed. */
void inv_read_leaf(sqlite3_stmt *st, struct inventory_leaf *l);
/* Prepares the questions' statements (at open). 0, or -1 (the reason:
 * inv_fail). */
int inv_query_prepare(struct inventory *inv);

/* An inventory_find_newer() question. */
struct newer_query {
	const char *name, *addr;
	uint16_t port;
	const char *sha256;
	int64_t not_before;
	const char *family;        /* "EC", "RSA", "" */
	uint64_t served_by_us;
	bool other_family;         /* candidates of other families than @family */
	bool untrusted_too;        /* rows recorded untrusted are candidates */
};

/* inventory_bound.c */
int inv_bound_open(struct inventory *inv);
void inv_bound_close(struct inventory *inv);
/* 1: @s would be a new row past the bound (refused, counted); 0: record
 * it; -1 with @err. */
int inv_bound_refuses(struct inventory *inv, const struct inventory_sighting *s,
		      char *err, size_t errlen);

/* inventory_carry.c: @now plus the staple findings of @old when @unknown
 * (the sighting could not show the staple), into @out. */
#define INV_FINDINGS_MAX 256
void inv_staple_carry(const char *old, const char *now, bool unknown,
		      char *out, size_t len);
/* Registers tw_staple_carry(old, new, unknown) on the connection. */
int inv_carry_register(struct inventory *inv);

/* inventory_memo.c */
int inv_memo_open(struct inventory *inv);
void inv_memo_close(struct inventory *inv);
/* 1: @s was a further sighting of a row written by this process and is
 * counted in memory (written by the next flush); 0: write it to SQLite
 * (then call inv_memo_written). -1 with @err when a flush failed. */
int inv_memo_defer(struct inventory *inv, const struct inventory_sighting *s,
		   char *err, size_t errlen);
void inv_memo_written(struct inventory *inv, const struct inventory_sighting *s,
		      uint64_t first_seen_us);
/* The later of @db_last_us and the latest sighting of the row counted in
 * memory and not written yet. */
uint64_t inv_memo_last_seen(struct inventory *inv, const char *name,
			    const char *addr, uint16_t port, const char *sha256,
			    uint64_t db_last_us);
/* 1 and *@out: a kept inventory_rival_facts() answer; 0: ask SQLite. */
int inv_memo_rival_get(struct inventory *inv, const char *name, const char *addr,
		       uint16_t port, const char *older, const char *newer,
		       struct inventory_rival_facts *out);
/* Keeps @f when no rollback is recorded in it. */
void inv_memo_rival_put(struct inventory *inv, const char *name, const char *addr,
			uint16_t port, const char *older, const char *newer,
			const struct inventory_rival_facts *f);
/* 1 and *@out, 0 (none): the kept answer; -1: none kept, ask SQLite. */
int inv_memo_newer_get(struct inventory *inv, const struct newer_query *q,
		       struct inventory_leaf *out);
/* Keeps an answer (@found NULL: none) when it holds at every later time:
 * @newest_first_seen_us is the latest first_seen of any candidate row. */
void inv_memo_newer_put(struct inventory *inv, const struct newer_query *q,
			uint64_t newest_first_seen_us, const struct inventory_leaf *found);

#endif
