// SPDX-License-Identifier: MIT
/*
 * What this process already knows, in front of SQLite, so that the common
 * case - the same leaf served again for the same (name, address, port) -
 * costs hash lookups instead of two statements per handshake (a fifth of
 * analyze's time went there):
 *
 * - Rows this process has written. A further sighting of one only adds to
 *   its count and moves last_seen and the findings; that is counted here
 *   and written for all rows in one transaction by inventory_flush(): when
 *   INV_FLUSH_ROWS rows wait, when the owner flushes (the agent every
 *   second), before inventory_set_findings() and at close. A sighting
 *   older than the row's first_seen is written at once.
 * - inventory_find_newer() answers. One holds while no write changed a row
 *   the question could see (the generation, bumped by every write that is
 *   not a deferred count, and by every flush: the findings it writes say
 *   which rows are candidates, a leaf untrusted before a reload of the
 *   trust store may not be now) and while the asked time is past the
 *   first_seen of every candidate row: then a later time cannot add a
 *   candidate, and the answer is the same. Other answers are not kept.
 * - inventory_rival_facts() answers without a rollback recorded (every
 *   handshake serving the older leaf of a dual deployment asks), kept for
 *   the same generation: a rollback is recorded only by a write that bumps
 *   it, and the last sightings in them only grow with deferred counts, so a
 *   kept one is a lower bound (inventory.h says so).
 */
#include <stdlib.h>
#include <string.h>

#include "inventory_internal.h"

#define INV_FLUSH_ROWS 4096      /* rows with waiting sightings */
#define INV_ROWS_MAX 65536       /* rows remembered */
#define INV_NEWER_MAX 16384      /* answers remembered */
#define INV_RIVALS_MAX 16384     /* rival facts remembered */
/* name (SNI, at most 255) NUL addr NUL port sha256 NUL, then not_before,
 * other family, untrusted too, family NUL (find_newer) or the newer
 * sha256 NUL (rivals) */
#define INV_KEY_MAX (256 + 1 + 64 + 1 + 2 + 65 + 8 + 1 + 1 + 65)

struct row_memo {
	uint64_t first_seen_us;
	int64_t pending;              /* sightings not written yet */
	uint64_t pending_last_us;     /* the latest of them */
	char findings[INV_FINDINGS_MAX]; /* of that one, staple ones carried */
	bool carry_row;               /* it also keeps the row's staple
	                               * findings (inventory_carry.c) */
};

struct rival_memo {
	uint64_t generation;
	uint64_t newer_last_here_us, older_last_us;
};

struct newer_memo {
	uint64_t generation;
	uint64_t from_us;             /* holds for served_by_us >= from_us */
	struct inventory_leaf *leaf;  /* owned; NULL: there is none */
};

int inv_memo_open(struct inventory *inv)
{
	inv->rows = strmap_new(sizeof(struct row_memo));
	inv->newer = strmap_new(sizeof(struct newer_memo));
	inv->rivals = strmap_new(sizeof(struct rival_memo));
	return inv->rows && inv->newer && inv->rivals ? 0 : -1;
}

static void newer_forget_all(struct inventory *inv)
{
	struct newer_memo *m;
	void *v;
	size_t i;

	for (i = 0; strmap_at(inv->newer, i, NULL, NULL, &v); i++) {
		m = v;
		free(m->leaf);
	}
	strmap_clear(inv->newer);
}

void inv_memo_close(struct inventory *inv)
{
	if (inv->newer)
		newer_forget_all(inv);
	strmap_free(inv->newer);
	strmap_free(inv->rivals);
	strmap_free(inv->rows);
}

/* --- keys: the strings with their NULs, then the fixed-size parts */

struct key_buf {
	uint8_t b[INV_KEY_MAX];
	size_t len;
	bool ok;
};

static void key_str(struct key_buf *k, const char *s)
{
	size_t n = strlen(nz(s)) + 1;

	if (!k->ok || k->len + n > sizeof(k->b)) {
		k->ok = false;
		return;
	}
	memcpy(k->b + k->len, nz(s), n);
	k->len += n;
}

static void key_bytes(struct key_buf *k, const void *p, size_t n)
{
	if (!k->ok || k->len + n > sizeof(k->b)) {
		k->ok = false;
		return;
	}
	memcpy(k->b + k->len, p, n);
	k->len += n;
}

static void key_row(struct key_buf *k, const char *name, const char *addr,
		    uint16_t port, const char *sha256)
{
	k->len = 0;
	k->ok = true;
	key_str(k, name);
	key_str(k, addr);
	key_bytes(k, &port, sizeof(port));
	key_str(k, sha256);
}

/* The inverse of key_row, for the flush: pointers into @key. */
static void key_row_parse(const char *key, const char **name, const char **addr,
			  uint16_t *port, const char **sha256)
{
	*name = key;
	*addr = *name + strlen(*name) + 1;
	memcpy(port, *addr + strlen(*addr) + 1, sizeof(*port));
	*sha256 = *addr + strlen(*addr) + 1 + sizeof(*port);
}

/* --- deferred sightings */

/* @s is the latest waiting sighting: its findings, and the staple ones of
 * the one before (waiting, or through carry_row the row's) when it cannot
 * show the staple. */
static void memo_findings(struct row_memo *m, const struct inventory_sighting *s)
{
	char carried[sizeof(m->findings)];

	if (m->pending == 1 || !s->staple_unknown) {
		snprintf(m->findings, sizeof(m->findings), "%s", nz(s->findings));
		m->carry_row = s->staple_unknown;
	} else {
		inv_staple_carry(m->findings, s->findings, true, carried, sizeof(carried));
		memcpy(m->findings, carried, sizeof(carried));
	}
	m->pending_last_us = s->ts_us;
}

int inv_memo_defer(struct inventory *inv, const struct inventory_sighting *s,
		   char *err, size_t errlen)
{
	struct row_memo *m;
	struct key_buf k;

	key_row(&k, s->name, s->addr, s->port, s->sha256);
	m = k.ok ? strmap_get(inv->rows, k.b, k.len) : NULL;
	/* rollback evidence is rare and must reach the row at once */
	if (!m || s->ts_us < m->first_seen_us || s->rollback_us)
		return 0;
	/* Of the waiting sightings only the latest can set the findings (the
	 * later one of equal times, as the upsert's >= does); whether it
	 * does against the row is for the flush's UPDATE to say. */
	if (m->pending++ == 0)
		inv->n_dirty++;
	if (m->pending == 1 || s->ts_us >= m->pending_last_us)
		memo_findings(m, s);
	if (inv->n_dirty >= INV_FLUSH_ROWS && inventory_flush(inv, err, errlen))
		return -1;
	return 1;
}

void inv_memo_written(struct inventory *inv, const struct inventory_sighting *s,
		      uint64_t first_seen_us)
{
	struct row_memo *m;
	struct key_buf k;
	char err[256];

	inv->generation++;
	key_row(&k, s->name, s->addr, s->port, s->sha256);
	if (!k.ok)
		return;
	m = strmap_get(inv->rows, k.b, k.len);
	if (!m && strmap_count(inv->rows) >= INV_ROWS_MAX) {
		if (inventory_flush(inv, err, sizeof(err)))
			return;   /* keep what waits; this row is written through */
		strmap_clear(inv->rows);
	}
	if (!m && !(m = strmap_put(inv->rows, k.b, k.len, NULL)))
		return;
	m->first_seen_us = first_seen_us;
}

uint64_t inv_memo_last_seen(struct inventory *inv, const char *name,
			    const char *addr, uint16_t port, const char *sha256,
			    uint64_t db_last_us)
{
	const struct row_memo *m;
	struct key_buf k;

	key_row(&k, name, addr, port, sha256);
	m = k.ok ? strmap_get(inv->rows, k.b, k.len) : NULL;
	if (m && m->pending && m->pending_last_us > db_last_us)
		return m->pending_last_us;
	return db_last_us;
}

static int flush_row(struct inventory *inv, const char *key, const struct row_memo *m,
		     char *err, size_t errlen)
{
	sqlite3_stmt *st = inv->add_sightings;
	const char *name, *addr, *sha256;
	uint16_t port;

	key_row_parse(key, &name, &addr, &port, &sha256);
	if (!inv_bind_key(st, name, addr, port, sha256) ||
	    sqlite3_bind_int64(st, 5, m->pending) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 6, (sqlite3_int64)m->pending_last_us) != SQLITE_OK ||
	    sqlite3_bind_text(st, 7, m->findings, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int(st, 8, m->carry_row) != SQLITE_OK)
		return inv_step_done(inv, st, SQLITE_ERROR, "recording", err, errlen);
	return inv_step_done(inv, st, sqlite3_step(st), "recording", err, errlen);
}

int inventory_flush(struct inventory *inv, char *err, size_t errlen)
{
	const char *key;
	void *v;
	size_t i;

	if (!inv || !inv->n_dirty)
		return 0;
	/* they stay counted: said again at close, never written alone */
	if (inv_run_lost(inv, err, errlen))
		return -1;
	/* a savepoint, not BEGIN: it nests in the transaction `analyze --db`
	 * keeps open for its run (inventory_run_begin), and is one of its own
	 * otherwise */
	if (sqlite3_exec(inv->db, "SAVEPOINT inv_flush", NULL, NULL, NULL) != SQLITE_OK)
		return inv_fail(inv, "recording", err, errlen);
	for (i = 0; strmap_at(inv->rows, i, &key, NULL, &v); i++) {
		if (((struct row_memo *)v)->pending &&
		    flush_row(inv, key, v, err, errlen))
			goto fail;
	}
	if (sqlite3_exec(inv->db, "RELEASE inv_flush", NULL, NULL, NULL) != SQLITE_OK) {
		inv_fail(inv, "recording", err, errlen);
		goto fail;
	}
	for (i = 0; strmap_at(inv->rows, i, NULL, NULL, &v); i++)
		((struct row_memo *)v)->pending = 0;
	inv->n_dirty = 0;
	inv->generation++;
	return 0;
fail:
	/* fails, harmlessly, when SQLite rolled the transaction back itself */
	sqlite3_exec(inv->db, "ROLLBACK TO inv_flush; RELEASE inv_flush", NULL,
		     NULL, NULL);
	return -1;
}

/* --- inventory_find_newer answers */

static bool key_newer(struct key_buf *k, const struct newer_query *q)
{
	key_row(k, q->name, q->addr, q->port, q->sha256);
	key_bytes(k, &q->not_before, sizeof(q->not_before));
	key_bytes(k, &q->other_family, sizeof(q->other_family));
	key_bytes(k, &q->untrusted_too, sizeof(q->untrusted_too));
	key_str(k, q->family);
	return k->ok;
}

int inv_memo_newer_get(struct inventory *inv, const struct newer_query *q,
		       struct inventory_leaf *out)
{
	const struct newer_memo *m;
	struct key_buf k;

	if (!key_newer(&k, q) || !(m = strmap_get(inv->newer, k.b, k.len)) ||
	    m->generation != inv->generation || q->served_by_us < m->from_us)
		return -1;
	if (!m->leaf)
		return 0;
	*out = *m->leaf;
	return 1;
}

void inv_memo_newer_put(struct inventory *inv, const struct newer_query *q,
			uint64_t newest_first_seen_us, const struct inventory_leaf *found)
{
	struct newer_memo *m;
	struct key_buf k;

	/* Earlier than a candidate: a later time could see more. */
	if (q->served_by_us < newest_first_seen_us || !key_newer(&k, q))
		return;
	m = strmap_get(inv->newer, k.b, k.len);
	if (!m && strmap_count(inv->newer) >= INV_NEWER_MAX)
		newer_forget_all(inv);
	if (!m && !(m = strmap_put(inv->newer, k.b, k.len, NULL)))
		return;
	free(m->leaf);
	m->leaf = NULL;
	if (found && !(m->leaf = malloc(sizeof(*m->leaf)))) {
		m->generation = inv->generation - 1;   /* not an answer */
		return;
	}
	if (found)
		*m->leaf = *found;
	m->generation = inv->generation;
	m->from_us = newest_first_seen_us;
}

/* --- inventory_rival_facts answers */

static bool key_rival(struct key_buf *k, const char *name, const char *addr,
		      uint16_t port, const char *older, const char *newer)
{
	key_row(k, name, addr, port, older);
	key_str(k, newer);
	return k->ok;
}

int inv_memo_rival_get(struct inventory *inv, const char *name, const char *addr,
		       uint16_t port, const char *older, const char *newer,
		       struct inventory_rival_facts *out)
{
	const struct rival_memo *m;
	struct key_buf k;

	if (!key_rival(&k, name, addr, port, older, newer) ||
	    !(m = strmap_get(inv->rivals, k.b, k.len)) ||
	    m->generation != inv->generation)
		return 0;
	memset(out, 0, sizeof(*out));
	out->newer_last_here_us = m->newer_last_here_us;
	out->older_last_us = m->older_last_us;
	return 1;
}

void inv_memo_rival_put(struct inventory *inv, const char *name, const char *addr,
			uint16_t port, const char *older, const char *newer,
			const struct inventory_rival_facts *f)
{
	struct rival_memo *m;
	struct key_buf k;

	if (f->rollback_us || !key_rival(&k, name, addr, port, older, newer))
		return;
	if (strmap_count(inv->rivals) >= INV_RIVALS_MAX)
		strmap_clear(inv->rivals);
	m = strmap_put(inv->rivals, k.b, k.len, NULL);
	if (!m)
		return;
	m->generation = inv->generation;
	m->newer_last_here_us = f->newer_last_here_us;
	m->older_last_us = f->older_last_us;
}
