// SPDX-License-Identifier: MIT
/*
 * The inventory's row bound. Rows are keyed by names clients choose: a
 * flood of handshakes with made-up names, each answered by the server,
 * would otherwise grow the file without end. Past the bound a sighting of
 * a row that already exists is still counted; a new row is refused and
 * counted (inventory_refused), never an error.
 */
#include "inventory_internal.h"

static const char sql_exists[] =
	"SELECT 1 FROM served WHERE name = ?1 AND addr = ?2 AND port = ?3"
	" AND sha256 = ?4";

int inv_bound_open(struct inventory *inv)
{
	int64_t n = inventory_count(inv);

	if (n < 0)
		return -1;
	inv->n_rows = (uint64_t)n;
	inv->max_rows = INVENTORY_MAX_ROWS;
	return 0;
}

void inv_bound_close(struct inventory *inv)
{
	sqlite3_finalize(inv->exists);
	inv->exists = NULL;
}

/* 1: the row of @s exists; 0: it does not; -1: SQLite failed. */
static int inv_row_exists(struct inventory *inv, const struct inventory_sighting *s)
{
	int rc;

	if (!inv->exists && inv_prepare_stmt(inv, sql_exists, &inv->exists))
		return -1;
	if (!inv_bind_key(inv->exists, s->name, s->addr, s->port, s->sha256)) {
		sqlite3_reset(inv->exists);
		return -1;
	}
	rc = sqlite3_step(inv->exists);
	sqlite3_reset(inv->exists);
	sqlite3_clear_bindings(inv->exists);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

int inv_bound_refuses(struct inventory *inv, const struct inventory_sighting *s,
		      char *err, size_t errlen)
{
	int rc;

	if (inv->n_rows < inv->max_rows)
		return 0;
	rc = inv_row_exists(inv, s);
	if (rc < 0)
		return inv_fail(inv, "recording", err, errlen);
	if (rc == 0)
		inv->refused++;
	return !rc;
}

void inventory_set_max_rows(struct inventory *inv, uint64_t max_rows)
{
	inv->max_rows = max_rows ? max_rows : INVENTORY_MAX_ROWS;
}

uint64_t inventory_refused(const struct inventory *inv)
{
	return inv ? inv->refused : 0;
}
