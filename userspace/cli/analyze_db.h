/* SPDX-License-Identifier: MIT */
/*
 * analyze --db: the captures already added to the database are refused,
 * so that a command run again does not count every handshake twice.
 */
#ifndef TW_ANALYZE_DB_H
#define TW_ANALYZE_DB_H

#include <stdbool.h>

struct analyze_db;

/*
 * Before any capture is read: identifies each of @files that is a regular
 * file (inventory_capture). EXIT_OK with *@out (NULL without @db, or when
 * the database cannot be written: then nothing is added to it), and
 * *@again when every capture was added to @db before (each said on
 * stderr): the caller then reports them without adding them again.
 * EXIT_USAGE said on stderr when a capture is given twice, begins with
 * the same bytes as one added (it grew since), or was added while others
 * given were not; EXIT_INTERNAL said. Standard input and pipes cannot be
 * identified: a warning says they are added unchecked.
 */
int analyze_db_check(const char *db, char *const *files, int n_files,
		     struct analyze_db **out, bool *again);
/* Capture @i opened as a capture: records it as added (a failure is
 * warned about, the analysis goes on). */
void analyze_db_added(struct analyze_db *adb, int i);
void analyze_db_close(struct analyze_db *adb);

#endif
