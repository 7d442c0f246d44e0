/* SPDX-License-Identifier: MIT */
/*
 * analyze --db: whether a capture grew from one added to the database
 * while it was smaller than INVENTORY_CAPTURE_HEAD (digested whole then:
 * its bytes are a beginning of the capture's head now); and whether a
 * capture smaller than that is a copy, cut short, of one added (its
 * bytes, digested whole, are a beginning of the other's head: each
 * capture added records the digests of its beginnings at a ladder of
 * lengths, GROWN_CUT_*).
 */
#ifndef TW_ANALYZE_GROWN_H
#define TW_ANALYZE_GROWN_H

#include <stdint.h>

#include "inventory/inventory.h"

struct grown_index;

/* The captures of @inv added whole, read once for the run (one scan of
 * the table, not one per capture looked up). 0 and *@out, or -1 with
 * @err. */
int grown_index_read(struct inventory *inv, struct grown_index **out,
		     char *err, size_t errlen);
/*
 * Whether the capture @c, which begins with @head (c->head_len bytes),
 * grew from one in @gi: 1 with *@was (read from @inv), 0, or -1 with
 * @err. The beginnings tried go past the file's header
 * (capture_file_header_len): a capture of the header alone, added by an
 * earlier tlswatch, begins every capture of the same link type and snap
 * length.
 */
int grown_index_find(const struct grown_index *gi, struct inventory *inv,
		     const unsigned char *head, const struct inventory_capture *c,
		     struct inventory_capture_added *was, char *err, size_t errlen);
void grown_index_free(struct grown_index *gi);

/*
 * The ladder: 2^k bytes past the file's header (capture_file_header_len),
 * k from GROWN_CUT_MIN_SHIFT to GROWN_CUT_MAX_SHIFT, up to the head's
 * length. A cut copy is compared at the longest length of the ladder it
 * holds, so it is recognised when it holds GROWN_CUT_MIN_SHIFT's 32
 * bytes of packet records (a record's header and the start of its
 * packet: one capture's, not another's of the same host), and shares
 * half of what it holds at least with the capture it was cut from.
 */
#define GROWN_CUT_MIN_SHIFT 5
#define GROWN_CUT_MAX_SHIFT 15       /* 32 KiB: below the 64 KiB head */
#define GROWN_CUT_MAX (GROWN_CUT_MAX_SHIFT - GROWN_CUT_MIN_SHIFT + 1)

struct grown_cuts {
	unsigned n;
	uint32_t len[GROWN_CUT_MAX];          /* ascending */
	char sha256[GROWN_CUT_MAX][65];
};

/* The ladder's digests of @head (@c->head_len bytes, the head of @c)
 * into *@out. 0, or -1 (SHA-256 failed). */
int grown_cuts_digest(const unsigned char *head,
		      const struct inventory_capture *c, struct grown_cuts *out);
/* Whether @c (its ladder @cuts), smaller than INVENTORY_CAPTURE_HEAD, is
 * a copy cut short of a capture added: 1 with *@was and *@same (the
 * bytes compared), 0, or -1 with @err. */
int grown_find_cut(struct inventory *inv, const struct inventory_capture *c,
		   const struct grown_cuts *cuts, struct inventory_capture_added *was,
		   uint32_t *same, char *err, size_t errlen);
/* Records the ladder @cuts of @c, added. 0, or -1 with @err. */
int grown_cuts_record(struct inventory *inv, const struct inventory_capture *c,
		      const struct grown_cuts *cuts, char *err, size_t errlen);

#endif
