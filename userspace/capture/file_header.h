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
 * descriptions, ...), which may reach past @len when the file's first
 * @len bytes hold none; 0 when @buf is neither. Files of one host share
 * these bytes (one link type, one snap length): they say nothing of
 * which capture a file is.
 */
size_t capture_file_header_len(const uint8_t *buf, size_t len);

#endif
