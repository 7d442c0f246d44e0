/* SPDX-License-Identifier: MIT */
/* Where a capture file's packet records begin. */
#ifndef TW_FILE_HEADER_H
#define TW_FILE_HEADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * How many bytes of the capture file that begins with @buf (@len bytes
 * of it) come before its first packet record: 24 for pcap; for pcapng
 * every block before the first packet block (section header, interface
 * descriptions, ...); when the @len bytes hold no packet block, as far
 * as they show the header goes (to the end of the block they end in,
 * maybe past @len); 0 when @buf is neither. Files of one host share
 * these bytes (one link type, one snap length): they say nothing of
 * which capture a file is.
 */
size_t capture_file_header_len(const uint8_t *buf, size_t len);
/*
 * The whole records (pcap's packet records, pcapng's blocks) past the
 * header of the capture file that begins with @buf (@len bytes of it),
 * walked one by one, as far as libpcap reads them: pcapng's in the byte
 * order of the file's first section, across the sections written in it.
 * The walk ends at the first record not all in the @len bytes (a copy cut
 * short), or where libpcap stops with an error (a pcapng block length
 * under 12 or not a multiple of 4, a trailing length that is not the
 * leading one, a section header without a byte-order magic, in the
 * other byte order, shorter than its fixed fields or of a major version
 * other than 1: @why says which, and where). Bounded: each record is
 * at least 12 bytes.
 */
struct capture_walk {
	const uint8_t *buf;
	size_t len;
	size_t at;          /* where the next record begins */
	bool pcapng;
	bool le;            /* the file's byte order (pcapng: its first section's) */
	char why[96];       /* "": the walk has not met bytes that are no record */
};

/* A walk of @buf from its first packet record on (none when @buf is not
 * a capture, or its header is not all in the @len bytes). */
void capture_walk_begin(struct capture_walk *w, const uint8_t *buf, size_t len);
/* The end of the next whole record, or 0: no more (w->why says why when
 * it was bytes that are no record). */
size_t capture_walk_next(struct capture_walk *w);

/*
 * Where libpcap, reading the pcapng file @fd in the byte order of its
 * first section, met a section header in the other byte order before
 * byte @reached (as far as its reading got): that header's offset, or -1
 * when it did not (not pcapng, a block cut short or of a bad length
 * first). libpcap's own message for it is often not about byte orders:
 * the header's length read in the wrong order is one too large, or one
 * past the end of the file (a "truncated" file). Reads the blocks'
 * headers from the start of the file with pread() (32 KiB at a time:
 * not one call per block), which leaves a FILE reading @fd where it was.
 * CAPTURE_FILE_CHANGED when the file's size or modification time moved
 * during that walk (written meanwhile: what it found may be of neither
 * the file libpcap read nor the file as it is now).
 */
#define CAPTURE_FILE_CHANGED (-2)
int64_t capture_pcapng_other_order_at(int fd, uint64_t reached);

#endif
