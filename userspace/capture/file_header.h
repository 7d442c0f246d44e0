/* SPDX-License-Identifier: MIT */
/* Where a capture file's packet records begin. */
#ifndef TW_FILE_HEADER_H
#define TW_FILE_HEADER_H

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
 * Where the record (pcap's packet record, pcapng's block) that begins at
 * @at of the capture file beginning with @buf ends, when all of it is in
 * the @len bytes; 0 when it is not (the file cut short within it, or the
 * bytes are not one), or @buf is not a capture.
 */
size_t capture_file_record_end(const uint8_t *buf, size_t len, size_t at);

#endif
