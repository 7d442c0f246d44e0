/* SPDX-License-Identifier: MIT */
/*
 * SipHash-1-3 with a 128-bit key: the hash of every table keyed by bytes
 * off the wire (flows, names, fingerprints). A keyed hash, so that an
 * attacker who cannot read the key cannot aim many keys at one bucket;
 * 1-3 rounds, as CPython and Rust use for their hash tables, because the
 * tables are consulted for every packet and every handshake. Written here
 * (no Debian library offers SipHash) after the reference description by
 * Aumasson and Bernstein.
 */
#ifndef TW_SIPHASH_H
#define TW_SIPHASH_H

#include <endian.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline uint64_t tw_rotl64(uint64_t x, int b)
{
	return (x << b) | (x >> (64 - b));
}

#define TW_SIPROUND(v0, v1, v2, v3) do {                                  \
	v0 += v1; v1 = tw_rotl64(v1, 13); v1 ^= v0; v0 = tw_rotl64(v0, 32); \
	v2 += v3; v3 = tw_rotl64(v3, 16); v3 ^= v2;                        \
	v0 += v3; v3 = tw_rotl64(v3, 21); v3 ^= v0;                        \
	v2 += v1; v1 = tw_rotl64(v1, 17); v1 ^= v2; v2 = tw_rotl64(v2, 32); \
} while (0)

/* SipHash-c-d of @len bytes at @data (little-endian words, as specified):
 * @c rounds per word, @d to finish. */
static inline uint64_t tw_siphash(const uint64_t key[2], const void *data,
				  size_t len, int c, int d)
{
	const unsigned char *p = data;
	uint64_t v0 = key[0] ^ 0x736f6d6570736575ULL;
	uint64_t v1 = key[1] ^ 0x646f72616e646f6dULL;
	uint64_t v2 = key[0] ^ 0x6c7967656e657261ULL;
	uint64_t v3 = key[1] ^ 0x7465646279746573ULL;
	uint64_t m, last = (uint64_t)len << 56;
	size_t i, tail = len & 7;
	int r;

	for (i = 0; i + 8 <= len; i += 8) {
		memcpy(&m, p + i, 8);
		m = le64toh(m);
		v3 ^= m;
		for (r = 0; r < c; r++)
			TW_SIPROUND(v0, v1, v2, v3);
		v0 ^= m;
	}
	for (size_t k = 0; k < tail; k++)
		last |= (uint64_t)p[i + k] << (8 * k);
	v3 ^= last;
	for (r = 0; r < c; r++)
		TW_SIPROUND(v0, v1, v2, v3);
	v0 ^= last;
	v2 ^= 0xff;
	for (r = 0; r < d; r++)
		TW_SIPROUND(v0, v1, v2, v3);
	return v0 ^ v1 ^ v2 ^ v3;
}

static inline uint64_t tw_siphash13(const uint64_t key[2], const void *data,
				    size_t len)
{
	return tw_siphash(key, data, len, 1, 3);
}

#endif
