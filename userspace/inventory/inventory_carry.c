// SPDX-License-Identifier: MIT
/*
 * The staple carry rule of the pipeline's cert events (judge.c
 * staple_carry(), README "cert" event), for the findings text of a served
 * row: a handshake that cannot show the staple (the client did not ask,
 * or TLS 1.3 encrypted it) keeps the staple findings an earlier handshake
 * of the same (name, address, port, leaf) showed. Registered as the SQL
 * function tw_staple_carry(old, new, unknown) the row updates use.
 */
#include <string.h>

#include "inventory_internal.h"
#include "staple_kinds.h"

#define STAPLE_KIND_NAME(id, name) name,
static const char *const staple_kinds[] = { STAPLE_FINDING_KINDS(STAPLE_KIND_NAME) };
#undef STAPLE_KIND_NAME

/* Whether the comma-separated @list holds the word @kind. */
static bool list_has(const char *list, const char *kind)
{
	size_t n = strlen(kind);
	const char *p = list;

	while ((p = strstr(p, kind))) {
		if ((p == list || p[-1] == ',') && (p[n] == ',' || !p[n]))
			return true;
		p += n;
	}
	return false;
}

void inv_staple_carry(const char *old, const char *now, bool unknown,
		      char *out, size_t len)
{
	size_t off, i;

	off = (size_t)snprintf(out, len, "%s", nz(now));
	for (i = 0; unknown && old && i < sizeof(staple_kinds) / sizeof(staple_kinds[0]); i++) {
		if (off >= len || !list_has(old, staple_kinds[i]) ||
		    list_has(out, staple_kinds[i]))
			continue;
		off += (size_t)snprintf(out + off, len - off, "%s%s",
					off ? "," : "", staple_kinds[i]);
	}
}

static void sql_staple_carry(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	char out[INV_FINDINGS_MAX];

	(void)argc;
	inv_staple_carry((const char *)sqlite3_value_text(argv[0]),
			 (const char *)sqlite3_value_text(argv[1]),
			 sqlite3_value_int(argv[2]) != 0, out, sizeof(out));
	sqlite3_result_text(ctx, out, -1, SQLITE_TRANSIENT);
}

int inv_carry_register(struct inventory *inv)
{
	return sqlite3_create_function_v2(inv->db, "tw_staple_carry", 3,
					  SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL,
					  sql_staple_carry, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}
