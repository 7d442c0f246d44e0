/* SPDX-License-Identifier: MIT */
/*
 * analyze --db: whether a capture grew from one added to the database
 * while it was smaller than INVENTORY_CAPTURE_HEAD (digested whole then:
 * its bytes are a beginning of the capture's head now); and whether a
 * capture smaller than that is a copy, cut short, of one added (its
 * records are the first records of the other's head: each capture
 * added records the digests of its beginnings at its record ends).
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
 * A copy cut short: every whole record it holds (pcap's packet records,
 * pcapng's blocks) is the same as one added capture's first records, and
 * what follows them, if anything, is a record cut short (which analysis
 * does not read). Each capture added records the digest of its head up
 * to each of its record ends past the file's header and short of its
 * size (at most INVENTORY_CAPTURE_HEAD / 12 of them, pcapng's shortest
 * block, of which the database keeps at most 80: inventory.h,
 * INVENTORY_CAPTURE_PREFIX_FIRST); a capture under
 * INVENTORY_CAPTURE_HEAD is looked up by the digest of its bytes up to
 * its last whole record.
 */
struct grown_cut {
	uint32_t len;              /* its last whole record's end; 0: none */
	char sha256[65];           /* of its bytes up to there */
};

/* The digest *@out of @head (@c->head_len bytes, the head of @c) up to
 * its last whole record, when @c is under INVENTORY_CAPTURE_HEAD and
 * holds one past the file's header (else out->len 0). 0, or -1 (SHA-256
 * failed). */
int grown_cut_digest(const unsigned char *head,
		     const struct inventory_capture *c, struct grown_cut *out);
/* Whether @c (its digest @cut) is a copy cut short of a capture added:
 * 1 with *@was, 0, or -1 with @err. */
int grown_find_cut(struct inventory *inv, const struct inventory_capture *c,
		   const struct grown_cut *cut, struct inventory_capture_added *was,
		   char *err, size_t errlen);
/* Records, for @c added (as @name), the digests of @head (its first
 * @c->head_len bytes) up to each of its record ends, warning when bytes
 * that are no record end them. 0, or -1 with @err. */
int grown_cuts_record(struct inventory *inv, const struct inventory_capture *c,
		      const unsigned char *head, const char *name, char *err,
		      size_t errlen);

#endif
