/* SPDX-License-Identifier: MIT */
/*
 * analyze --db: whether a capture grew from one added to the database
 * while it was smaller than INVENTORY_CAPTURE_HEAD (digested whole then:
 * its bytes are a beginning of the capture's head now).
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

#endif
