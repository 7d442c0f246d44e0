// SPDX-License-Identifier: MIT
/*
 * capture_file_header_len() on the first bytes of any file, as
 * analyze --db reads a capture's head: pcap's 24 bytes for its four
 * magics, 0 for anything else that is not pcapng; for pcapng, an answer
 * that rests only on the bytes it read: the same for every prefix that
 * still holds the type, length and byte-order mark of the block it
 * stopped at (up to 12 bytes past the answer). Not 1 to 11 (the section
 * header block is 12 bytes at the least); an answer past the input is
 * the end of the block the input ends in, at most one 32-bit length past
 * it.
 *
 * Then capture_walk_next() over the same bytes (analyze --db's record
 * ends, as far as libpcap reads): every end past the
 * one before by 12 bytes at least and within the input, so the walk is
 * bounded whatever the block lengths say; a walk stopped by bytes that
 * are no record says why, and gives nothing more.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "capture/file_header.h"

static size_t header_len_of_copy(const uint8_t *data, size_t size)
{
	/* an exact-size heap copy, so ASan sees any read past @size */
	uint8_t *copy = malloc(size ? size : 1);
	size_t r;

	if (!copy)
		abort();
	memcpy(copy, data, size);
	r = capture_file_header_len(copy, size);
	free(copy);
	return r;
}

static uint32_t magic_of(const uint8_t *data)
{
	uint32_t m;

	memcpy(&m, data, sizeof(m));   /* host order, as the cursor reads */
	return m;
}

static void walk_copy(const uint8_t *data, size_t size)
{
	uint8_t *copy = malloc(size ? size : 1);
	struct capture_walk w;
	size_t end, before = 0, n = 0;

	if (!copy)
		abort();
	memcpy(copy, data, size);
	capture_walk_begin(&w, copy, size);
	while ((end = capture_walk_next(&w)) != 0) {
		if (end > size || (before && end < before + 12) || ++n > size / 12)
			abort();
		before = end;
	}
	if (w.why[0] && capture_walk_next(&w) != 0)
		abort();
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t r = header_len_of_copy(data, size), whole, p;
	uint32_t magic;

	walk_copy(data, size);

	if (size < 4) {
		if (r != 0)
			abort();
		return 0;
	}
	magic = magic_of(data);
	if (magic == 0xa1b2c3d4U || magic == 0xd4c3b2a1U ||
	    magic == 0xa1b23c4dU || magic == 0x4d3cb2a1U) {
		if (r != 24)
			abort();
		return 0;
	}
	if (magic != 0x0a0d0d0aU) {
		if (r != 0)
			abort();
		return 0;
	}
	/* pcapng: nothing, or at least its section header block (12 bytes
	 * at the least); past the input only by a block's length */
	if ((r && r < 12) || (r > size && r - size > UINT32_MAX))
		abort();
	/* the shortest prefix that holds all the answer rests on, then
	 * every prefix from it to the whole input, a few of them */
	whole = r + 12 < size ? r + 12 : size;
	if (header_len_of_copy(data, whole) != r)
		abort();
	for (p = whole + 1; p < size; p += 1 + (size - whole) / 8)
		if (capture_file_header_len(data, p) != r)
			abort();
	return 0;
}
