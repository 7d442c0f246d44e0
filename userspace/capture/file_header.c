// SPDX-License-Identifier: MIT
/*
 * Where a capture file's packet records begin (file_header.h), read from
 * its first bytes through a cursor: pcap's fixed file header, or
 * pcapng's blocks up to the first that holds a packet.
 */
#include <stdbool.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cursor.h"
#include "file_header.h"

#define PCAP_FILE_HEADER_LEN 24
#define PCAPNG_SHB 0x0a0d0d0aU        /* the same in either byte order */
#define PCAPNG_BYTE_ORDER 0x1a2b3c4dU
#define PCAPNG_BLOCK_MIN 12U          /* type, length, length again */
/* a section header's fixed part libpcap reads: byte-order magic,
 * major and minor version, section length */
#define PCAPNG_SHB_MIN (PCAPNG_BLOCK_MIN + 16U)
#define PCAPNG_MAJOR 1U

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

/* The 32-bit number at @p, in the byte order @le (little) or big. */
static uint32_t at32(const uint8_t *p, bool le)
{
	if (le)
		return (uint32_t)p[0] | (uint32_t)p[1] << 8 |
		       (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* The byte order the pcapng section header at @p (12 bytes) gives its
 * section: 1 little endian, 0 big, -1 none (no byte-order magic). */
static int section_order(const uint8_t *p)
{
	if (at32(p + 8, true) == PCAPNG_BYTE_ORDER)
		return 1;
	return at32(p + 8, false) == PCAPNG_BYTE_ORDER ? 0 : -1;
}

#define PCAP_RECORD_HEADER_LEN 16

/* The end of the pcap record at w->at: 0 when it is cut short. */
static size_t pcap_record_end(const struct capture_walk *w)
{
	size_t left = w->len - w->at;
	uint32_t caplen;

	if (left < PCAP_RECORD_HEADER_LEN)
		return 0;
	caplen = at32(w->buf + w->at + 8, w->le);   /* the bytes captured */
	if (caplen > left - PCAP_RECORD_HEADER_LEN)
		return 0;
	return w->at + PCAP_RECORD_HEADER_LEN + caplen;
}

/* The 16-bit number at @p, in the byte order @le (little) or big. */
static uint16_t at16(const uint8_t *p, bool le)
{
	return le ? (uint16_t)(p[0] | p[1] << 8) : (uint16_t)(p[0] << 8 | p[1]);
}

/* Whether libpcap reads on past the whole section header of @len bytes
 * at w->at, @p, as it does past one later in the file: its fixed part is
 * there and its major version is 1 (the minor is not looked at there;
 * the first section's, checked when libpcap opens the file, varies with
 * its version). Else false with w->why. */
static bool pcapng_section_read_on(struct capture_walk *w, const uint8_t *p,
				   uint32_t len)
{
	unsigned int major;

	if (len < PCAPNG_SHB_MIN) {
		snprintf(w->why, sizeof(w->why), "pcapng section header at "
			 "byte %zu has a length of %u, under %u", w->at, len,
			 PCAPNG_SHB_MIN);
		return false;
	}
	major = at16(p + 12, w->le);
	if (major != PCAPNG_MAJOR) {
		snprintf(w->why, sizeof(w->why), "pcapng section header at "
			 "byte %zu has major version %u: libpcap reads no "
			 "further", w->at, major);
		return false;
	}
	return true;
}

/* The end of the pcapng block at w->at, in the byte order of the file's
 * first section: 0 when it is cut short, or with w->why where libpcap
 * reads no further (bytes that are no block, a section in the other
 * byte order or of another major version). */
static size_t pcapng_block_end(struct capture_walk *w)
{
	const uint8_t *p = w->buf + w->at;
	size_t left = w->len - w->at;
	uint32_t len, trail;
	bool section;

	if (left < 8)
		return 0;
	section = at32(p, true) == PCAPNG_SHB;
	if (section) {
		if (left < 12)
			return 0;
		if (section_order(p) < 0) {
			snprintf(w->why, sizeof(w->why), "pcapng section header "
				 "at byte %zu has no byte-order magic", w->at);
			return 0;
		}
		/* libpcap reads a whole file in its first section's order
		 * and stops with an error at a section in the other: the
		 * records past it are never analysed, so none is a record
		 * end a copy of this capture could be cut at */
		if (section_order(p) != w->le) {
			snprintf(w->why, sizeof(w->why), "section at byte %zu "
				 "in the other byte order: libpcap reads no "
				 "further", w->at);
			return 0;
		}
	}
	len = at32(p + 4, w->le);
	/* as libpcap refuses it: a walk never stays in place */
	if (len < PCAPNG_BLOCK_MIN || len % 4 != 0) {
		snprintf(w->why, sizeof(w->why), "pcapng block at byte %zu has "
			 "a length of %u, %s", w->at, len, len < PCAPNG_BLOCK_MIN ?
			 "under 12" : "not a multiple of 4");
		return 0;
	}
	if (len > left)
		return 0;
	/* libpcap stops at a block whose trailing length is not the one
	 * it begins with */
	trail = at32(p + len - 4, w->le);
	if (trail != len) {
		snprintf(w->why, sizeof(w->why), "pcapng block at byte %zu has "
			 "a length of %u, and %u at its end", w->at, len, trail);
		return 0;
	}
	/* then, as libpcap does with a whole block, the section's fields */
	if (section && !pcapng_section_read_on(w, p, len))
		return 0;
	return w->at + len;
}

size_t capture_walk_next(struct capture_walk *w)
{
	size_t end;

	if (w->at >= w->len || w->why[0])
		return 0;
	end = w->pcapng ? pcapng_block_end(w) : pcap_record_end(w);
	if (end)
		w->at = end;
	return end;
}

void capture_walk_begin(struct capture_walk *w, const uint8_t *buf, size_t len)
{
	size_t header = capture_file_header_len(buf, len);

	w->buf = buf;
	w->len = len;
	w->why[0] = '\0';
	/* no record past a header that is not all there (0: not a capture) */
	w->at = header && header <= len ? header : len;
	if (w->at == len)
		return;
	w->pcapng = at32(buf, true) == PCAPNG_SHB;
	if (!w->pcapng) {
		/* the magic's first byte: a pcap file's d4 or 4d (little
		 * endian), a1 (big) */
		w->le = buf[0] != 0xa1;
		return;
	}
	/* the first section's byte order, the one libpcap reads the whole
	 * file in (a header holds its section header's 12 bytes at least;
	 * without a byte-order magic the walk below stops at byte 0) */
	w->le = len >= 12 && section_order(buf) == 1;
	/* the header's blocks (one that is no block, or a section in the
	 * other byte order, stops the walk: w->why) */
	w->at = 0;
	while (w->at < header && capture_walk_next(w))
		;
	if (w->at != header)
		w->at = len;
}

/* The walk back's window on the file: a block header read with each
 * pread() of its own made the walk of a big capture cut short (a copy
 * still being written, the usual read error) a system call per packet,
 * three times the whole analysis. */
#define OTHER_ORDER_WINDOW (32U * 1024U)

static int64_t other_order_walk(int fd, uint64_t reached)
{
	uint8_t win[OTHER_ORDER_WINDOW];
	uint64_t at = 0, win_at = 0;
	size_t win_len = 0;
	int order = -1;

	/* bounded: each block moves on by PCAPNG_BLOCK_MIN bytes at least */
	while (at < reached) {
		const uint8_t *p;
		uint32_t len;

		/* the block's first 12 bytes, from the window or a new one
		 * beginning at the block */
		if (at + PCAPNG_BLOCK_MIN > win_at + win_len) {
			ssize_t n = pread(fd, win, sizeof(win), (off_t)at);

			win_at = at;
			win_len = n > 0 ? (size_t)n : 0;
		}
		/* a block cut short: where a truncated file ends */
		if (at + PCAPNG_BLOCK_MIN > win_at + win_len)
			return -1;
		p = win + (at - win_at);
		if (at32(p, true) == PCAPNG_SHB) {
			if (section_order(p) < 0)
				return -1;
			if (order < 0)
				order = section_order(p);
			else if (section_order(p) != order)
				return (int64_t)at;
		} else if (order < 0) {
			return -1;         /* not pcapng */
		}
		/* read in the first section's order, as libpcap does */
		len = at32(p + 4, order == 1);
		if (len < PCAPNG_BLOCK_MIN || len % 4 != 0)
			return -1;
		at += len;
	}
	return -1;
}

/* Whether @a and @b, the file's status before and after the walk, say it
 * was written meanwhile (its size or its time of change moved). */
static bool status_moved(const struct stat *a, const struct stat *b)
{
	return a->st_size != b->st_size ||
	       a->st_mtim.tv_sec != b->st_mtim.tv_sec ||
	       a->st_mtim.tv_nsec != b->st_mtim.tv_nsec;
}

int64_t capture_pcapng_other_order_at(int fd, uint64_t reached)
{
	struct stat before, after;
	int64_t at;

	/* a file rewritten during the walk (its header's blocks read in
	 * windows, not at once) could show a section libpcap never met, or
	 * hide one it did: said as such, not as either */
	if (fstat(fd, &before) != 0)
		return -1;
	at = other_order_walk(fd, reached);
	if (fstat(fd, &after) != 0 || status_moved(&before, &after))
		return CAPTURE_FILE_CHANGED;
	return at;
}
