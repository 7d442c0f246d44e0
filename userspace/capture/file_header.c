// SPDX-License-Identifier: MIT
/*
 * Where a capture file's packet records begin (file_header.h), read from
 * its first bytes through a cursor: pcap's fixed file header, or
 * pcapng's blocks up to the first that holds a packet.
 */
#include <stdbool.h>

#include "common/cursor.h"
#include "file_header.h"

#define PCAP_FILE_HEADER_LEN 24
#define PCAPNG_SHB 0x0a0d0d0aU        /* the same in either byte order */
#define PCAPNG_BYTE_ORDER 0x1a2b3c4dU
#define PCAPNG_BLOCK_MIN 12U          /* type, length, length again */

static bool is_pcap(uint32_t magic)
{
	/* microsecond and nanosecond files, in either byte order */
	return magic == 0xa1b2c3d4U || magic == 0xd4c3b2a1U ||
	       magic == 0xa1b23c4dU || magic == 0x4d3cb2a1U;
}

static uint32_t swap32(uint32_t v)
{
	return v >> 24 | (v >> 8 & 0xff00U) | (v << 8 & 0xff0000U) | v << 24;
}

/* Packet blocks: obsolete Packet, Simple Packet, Enhanced Packet. */
static bool is_packet_block(uint32_t type)
{
	return type == 2 || type == 3 || type == 6;
}

/* The offset of the first packet block of the pcapng file in @c; when
 * none begins in it, the end of the block it ends in (past its end), or
 * the start of a block whose type and length it cuts. */
static size_t pcapng_header_len(struct cursor *c)
{
	bool swap = false;

	/* bounded: each block moves on by at least PCAPNG_BLOCK_MIN bytes */
	while (cur_left(c) >= 8) {
		size_t at = c->off;
		uint32_t type = cur_u32(c), len = cur_u32(c);

		if (type == PCAPNG_SHB) {
			/* a section gives its own byte order */
			uint32_t bom = cur_u32(c);

			swap = bom != PCAPNG_BYTE_ORDER;
			if (swap)
				len = swap32(len);
		} else if (swap) {
			type = swap32(type);
			len = swap32(len);
		}
		if (is_packet_block(type) || !cur_ok(c) || len < PCAPNG_BLOCK_MIN)
			return at;
		c->off = at;
		if (!cur_skip(c, len))
			return at + len;
	}
	/* the bytes given end before the next block's type and length */
	return c->off;
}

size_t capture_file_header_len(const uint8_t *buf, size_t len)
{
	struct cursor c = cur_make(buf, len);
	uint32_t magic = cur_u32(&c);

	if (!cur_ok(&c))
		return 0;
	if (is_pcap(magic))
		return PCAP_FILE_HEADER_LEN;
	if (magic != PCAPNG_SHB)
		return 0;
	c.off = 0;
	return pcapng_header_len(&c);
}

/* The 32-bit number at @p, in the file's byte order (@le: little). */
static uint32_t at32(const uint8_t *p, bool le)
{
	if (le)
		return (uint32_t)p[0] | (uint32_t)p[1] << 8 |
		       (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

#define PCAP_RECORD_HEADER_LEN 16

size_t capture_file_record_end(const uint8_t *buf, size_t len, size_t at)
{
	size_t left = at < len ? len - at : 0;
	uint32_t rec;
	bool le;

	if (len < 12 || left < PCAPNG_BLOCK_MIN)
		return 0;
	/* the magic's first byte tells the byte order: a pcap file's d4 or
	 * 4d (little endian), a1 (big); a pcapng section's byte-order magic
	 * follows its type and length */
	if (is_pcap(at32(buf, true))) {
		le = buf[0] != 0xa1;
		if (left < PCAP_RECORD_HEADER_LEN)
			return 0;
		rec = at32(buf + at + 8, le);   /* the bytes captured */
		if (rec > left - PCAP_RECORD_HEADER_LEN)
			return 0;
		return at + PCAP_RECORD_HEADER_LEN + rec;
	}
	if (at32(buf, true) != PCAPNG_SHB)
		return 0;
	le = at32(buf + 8, true) == PCAPNG_BYTE_ORDER;
	/* a block is read in the byte order of the first section: a file
	 * of several sections in different orders is walked no further
	 * than its first (its block lengths read wrong end beyond it) */
	rec = at32(buf + at + 4, le);
	if (rec < PCAPNG_BLOCK_MIN || rec > left)
		return 0;
	return at + rec;
}
