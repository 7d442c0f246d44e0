/* SPDX-License-Identifier: MIT */
/*
 * The clock of a run of captures read one after the other as one capture
 * (analyze's FILE...: tcpdump -C, -G rotation): the guard against a record
 * dated far ahead (clock_guard.h) and the record it holds, already decoded,
 * so that it can wait for the next record even when that one is the next
 * file's first. One guard for the run, not one per file: a file's first
 * record is judged against the file before it (a corrupt one dated years
 * ahead does not take the clock), and a file's last record against the
 * next file's first (a quiet moment at a rotation is no outlier).
 *
 * Zeroed to start (struct pcap_clock c = { 0 }), handed to each
 * pcap_source_run in turn, ended by pcap_clock_finish.
 *
 * The held record may be handed on while the next file is read: a caller
 * that names each record's file sets on_source and, before each
 * pcap_source_run, source; on_source is told the held record's file
 * before it is handed on from another file's run, and the file being read
 * after.
 */
#ifndef TW_PCAP_CLOCK_H
#define TW_PCAP_CLOCK_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clock_guard.h"
#include "segment.h"

struct pcap_clock {
	struct clock_guard guard;    /* guard.outliers: the run's count */
	struct tw_segment held;      /* the held record's segment ... */
	bool held_kept;              /* ... when it is one the port filter keeps */
	uint8_t *buf;                /* the held record's bytes (held.payload) */
	size_t cap;
	unsigned file;               /* files begun (pcap_clock_begin_file) */
	unsigned held_file;          /* the held record's file */
	unsigned said_file;          /* the last file whose outlier was said */
	char held_where[PATH_MAX + 64]; /* "FILE: packet N is dated TIME" */
	const char *source;          /* the file being read (the caller's
					name, living as long as the run) ... */
	const char *held_source;     /* ... and the held record's */
	void (*on_source)(void *ctx, const char *source); /* NULL: not told */
};

/* A file of the run begins. */
void pcap_clock_begin_file(struct pcap_clock *c);

/* Room for a held record of @len bytes in c->buf; false without memory. */
bool pcap_clock_room(struct pcap_clock *c, size_t len);

/* Hands the held record on, now that the next record (at @next_us; @last:
 * there is none) says at which time: its own, or the clock's for a lone
 * outlier, counted and, the first of its file, said on stderr. */
void pcap_clock_release(struct pcap_clock *c, uint64_t next_us, bool last,
			tw_segment_fn fn, void *ctx);

/* The run's end: a record still held has no record after it. Frees. */
void pcap_clock_finish(struct pcap_clock *c, tw_segment_fn fn, void *ctx);

#endif
