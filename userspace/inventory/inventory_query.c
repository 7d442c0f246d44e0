// SPDX-License-Identifier: MIT
/*
 * The questions the judge asks the inventory while it records: is a newer
 * leaf served for the name (inventory_find_newer), what is known of two
 * rival leaves on one address (inventory_rival_facts), how many rows
 * there are. Each is answered from memory when inventory_memo.c kept the
 * answer, else by one of the statements prepared here at open.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "inventory.h"
#include "inventory_internal.h"

#define KEY_FAMILY_SQL "substr(key, 1, instr(key || '-', '-') - 1)"

/* Whether a row's findings text ("untrusted,hostname_mismatch") holds
 * @kind. */
#define FINDINGS_HOLD_SQL(kind) "instr(',' || findings || ',', '," kind ",') > 0"

/* The rows inventory_find_newer() chooses from, at any time: of the same
 * key family (?8 false), or of another one (?8 true); never a leaf that
 * did not cover the name it was served for; an untrusted one only for an
 * untrusted leaf (?9). A row's hostname verdict never changes (one leaf,
 * one name); its trust may, with the trust store, and is then read as of
 * the row's last sighting written. */
#define NEWER_CANDIDATES \
	" FROM served" \
	" WHERE name = ?1 AND sha256 <> ?2 AND not_before > ?3" \
	" AND (?1 <> '' OR (addr = ?5 AND port = ?6))" \
	" AND CASE WHEN ?8 THEN ?7 <> '' AND key <> '' AND " KEY_FAMILY_SQL " <> ?7" \
	"  ELSE ?7 = '' OR key = '' OR " KEY_FAMILY_SQL " = ?7 END" \
	" AND NOT " FINDINGS_HOLD_SQL(INVENTORY_KIND_MISMATCH) \
	" AND (?9 OR NOT " FINDINGS_HOLD_SQL(INVENTORY_KIND_UNTRUSTED) ")"

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

int inv_query_prepare(struct inventory *inv)
{
	if (inv_prepare_stmt(inv, sql_find_newer, &inv->find_newer) ||
	    inv_prepare_stmt(inv, sql_newest_candidate, &inv->newest_candidate) ||
	    inv_prepare_stmt(inv, sql_rival_rows, &inv->rival_rows) ||
	    inv_prepare_stmt(inv, sql_last_for_name, &inv->last_for_name))
		return -1;
	return 0;
}

void inv_col_text(sqlite3_stmt *st, int col, char *out, size_t len)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	snprintf(out, len, "%s", t ? (const char *)t : "");
}

void inv_read_leaf(sqlite3_stmt *st, struct inventory_leaf *l)
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
	       sqlite3_bind_int(st, 8, q->other_family) == SQLITE_OK &&
	       sqlite3_bind_int(st, 9, q->untrusted_too) == SQLITE_OK;
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
			 enum inventory_family_match match, bool untrusted_too,
			 uint64_t served_by_us, struct inventory_leaf *out,
			 char *err, size_t errlen)
{
	sqlite3_stmt *st = inv->find_newer;
	char family[32];
	struct newer_query q = {
		.name = name, .addr = addr, .port = port, .sha256 = sha256,
		.not_before = not_before, .family = family,
		.served_by_us = served_by_us,
		.other_family = match == INVENTORY_OTHER_FAMILY,
		.untrusted_too = untrusted_too,
	};
	uint64_t newest = 0;   /* set by newest_candidate(), unseen from here */
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
