/* SPDX-License-Identifier: MIT */
/*
 * A capture's clock against a record dated far ahead of it. Packet time
 * drives everything below (idle timeouts, spike windows) and only moves
 * forward, so one record years ahead (a corrupt record header) would take
 * the clock with it for the rest of the file: the flows open across it
 * timed out, every spike after it missed. A forward jump is real when the
 * record after it agrees (a rotated file, a quiet hour), so a record more
 * than CLOCK_GUARD_JUMP_US ahead is held back until the next record is
 * read: if that one is not more than CLOCK_GUARD_JUMP_US before it, the
 * clock jumps; if it is, the held record was a lone outlier and is read at
 * the clock's time, counted.
 *
 * The guard only decides times; its caller keeps the held record.
 */
#ifndef TW_CLOCK_GUARD_H
#define TW_CLOCK_GUARD_H

#include <stdbool.h>
#include <stdint.h>

/* The longest step ahead taken without confirmation: the default spike
 * window, so an outlier let through cannot carry the spike detector past
 * the window it judges; a real gap longer than it (a quiet server) costs
 * one held copy of its first record. */
#define CLOCK_GUARD_JUMP_US (10ull * 1000000)

struct clock_guard {
	uint64_t now_us;      /* the latest record time taken */
	uint64_t held_us;     /* the held record's own time */
	uint64_t outliers;    /* records read at the clock's time instead */
	bool started;         /* now_us holds */
	bool holding;         /* a record waits for the next one */
};

/* Whether the record at @ts_us must wait for the next one (the caller
 * keeps it, then calls clock_guard_release). Otherwise the record is
 * read at its own time, and the clock moves to it if it is later. */
bool clock_guard_hold(struct clock_guard *g, uint64_t ts_us);

/* The time to read the held record at, now that the next record, at
 * @next_us, is known (@last: there is none): its own when the next one
 * confirms the jump, else the clock's (counted in outliers). */
uint64_t clock_guard_release(struct clock_guard *g, uint64_t next_us, bool last);

#endif
