/* SPDX-License-Identifier: MIT */
/*
 * The agent's recent events in the inventory's file (the history_* tables
 * of schema version 3, described in inventory/inventory.h): the HTML
 * report's aggregates (html_report.h) written as rows and read back.
 *
 *   history sink, once a second:  history_store_write(st, delta, keep_s)
 *       delta: an html_agg of the events since the last write;
 *       rows older than keep_s before the newest event are deleted in
 *       the same transaction
 *   tlswatch report:              history_store_load(db, version, window, agg, ...)
 *
 * The bound: HISTORY_KEEP_S of per-second rows (86,400 timeline rows of
 * about 30 bytes: under 3 MB), per-minute rows for names, alerts and
 * JA4s (at most HTML_MAX_CLIENTS JA4s a second), a row per serving
 * period, certificate, finding and spike event. A serving period that
 * is still going is kept whatever its start.
 *
 * Errors: 0, or -EIO / -ENOMEM with a message in @err.
 */
#ifndef TW_SINK_HISTORY_STORE_H
#define TW_SINK_HISTORY_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "html_report.h"

#define HISTORY_KEEP_S (24 * 3600)

struct sqlite3;
struct history_store;

/* Prepares the writes on @db (the inventory's connection, schema 3). */
int history_store_open(struct sqlite3 *db, struct history_store **out,
		       char *err, size_t errlen);
void history_store_close(struct history_store *st);

/* One transaction: @delta's rows added, rows older than @keep_s seconds
 * before the newest event written so far deleted. */
int history_store_write(struct history_store *st, const struct html_agg *delta,
			uint64_t keep_s, char *err, size_t errlen);

/* What to read: µs since the epoch, from @since_us (0: from the first)
 * to @until_us (UINT64_MAX: to the last; 0 is the epoch). Seconds and spike
 * events inside it; per-minute rows (names, alerts, JA4s, leaf counts)
 * of the minutes it touches, and serving periods that overlap it, whole
 * (a period's counts are not split by time). */
struct history_window {
	uint64_t since_us, until_us;
};

/* Feeds the stored rows of @w into @a (sets a->from_history when there
 * are any) from a file of schema @version (inventory_version(); 3 or
 * later): what a version added is read from that version on. The count
 * of rows read (0: no history), or -EIO with @err. */
int64_t history_store_load(struct sqlite3 *db, int version,
			   const struct history_window *w, struct html_agg *a,
			   char *err, size_t errlen);

#endif
