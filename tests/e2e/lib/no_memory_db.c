// SPDX-License-Identifier: MIT
/*
 * Fault injection for tests/e2e/analyze_errors.sh (LD_PRELOAD): SQLite
 * refuses to open an in-memory database, as it does when memory runs out,
 * while files open as usual. The webhook sink keeps its alerts in memory
 * when its --db file refuses them; with this, that fallback fails too and
 * the sink loses the alert for real, the one failure of an output other
 * than standard output and --html that analyze can meet short of memory
 * running out for the whole process.
 *
 *   cc -shared -fPIC -o no_memory_db.so tests/e2e/lib/no_memory_db.c
 */
#include <dlfcn.h>
#include <string.h>

#include <sqlite3.h>

typedef int (*open_v2_fn)(const char *, sqlite3 **, int, const char *);

int sqlite3_open_v2(const char *name, sqlite3 **db, int flags, const char *vfs)
{
	open_v2_fn real = (open_v2_fn)dlsym(RTLD_NEXT, "sqlite3_open_v2");

	if (!real || (name && strcmp(name, ":memory:") == 0)) {
		*db = NULL;
		return SQLITE_NOMEM;
	}
	return real(name, db, flags, vfs);
}
