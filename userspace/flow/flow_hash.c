// SPDX-License-Identifier: MIT
/*
 * The flow key hash. Captures can be hostile: with a predictable hash an
 * attacker could send many connections into one bucket and make every
 * lookup walk a long chain. SipHash with a random per-table key makes
 * collisions unpredictable. SipHash-1-3, as CPython and Rust use for their
 * hash tables: the flooding resistance a table needs at well under half
 * the rounds of SipHash-2-4, which was 6% of analyze's time (one hash per
 * packet). Both directions of a connection must hash the same, so the two
 * endpoints are put in a fixed order first.
 */
#include <errno.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "flow_internal.h"
#include "common/log.h"

static inline uint64_t rotl64(uint64_t x, int b)
{
	return (x << b) | (x >> (64 - b));
}

#define SIPROUND(v0, v1, v2, v3) do {                                   \
	v0 += v1; v1 = rotl64(v1, 13); v1 ^= v0; v0 = rotl64(v0, 32);   \
	v2 += v3; v3 = rotl64(v3, 16); v3 ^= v2;                        \
	v0 += v3; v3 = rotl64(v3, 21); v3 ^= v0;                        \
	v2 += v1; v1 = rotl64(v1, 17); v1 ^= v2; v2 = rotl64(v2, 32);   \
} while (0)

/* SipHash-1-3 of @n whole 64-bit words. */
static uint64_t siphash_words(const uint64_t key[2], const uint64_t *w, size_t n)
{
	uint64_t v0 = key[0] ^ 0x736f6d6570736575ULL;
	uint64_t v1 = key[1] ^ 0x646f72616e646f6dULL;
	uint64_t v2 = key[0] ^ 0x6c7967656e657261ULL;
	uint64_t v3 = key[1] ^ 0x7465646279746573ULL;
	uint64_t last = (uint64_t)(n * 8) << 56;

	for (size_t i = 0; i < n; i++) {
		v3 ^= w[i];
		SIPROUND(v0, v1, v2, v3);
		v0 ^= w[i];
	}
	v3 ^= last;
	SIPROUND(v0, v1, v2, v3);
	v0 ^= last;
	v2 ^= 0xff;
	for (int i = 0; i < 3; i++)
		SIPROUND(v0, v1, v2, v3);
	return v0 ^ v1 ^ v2 ^ v3;
}

void flow_hash_seed(uint64_t seed[2])
{
	ssize_t n = getrandom(seed, 2 * sizeof(seed[0]), GRND_NONBLOCK);

	if (n == (ssize_t)(2 * sizeof(seed[0])))
		return;
	/* No entropy yet (early boot) or no getrandom: still differ per
	 * process and per table, which is what matters most. */
	pr_warn("flow: getrandom failed (%s), hash key from time and pid\n",
		n < 0 ? strerror(errno) : "short read");
	struct timespec ts = { 0 };
	clock_gettime(CLOCK_MONOTONIC, &ts);
	seed[0] = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ULL ^ (uint64_t)getpid();
	seed[1] = (uint64_t)ts.tv_sec ^ (uint64_t)(uintptr_t)seed;
}

static int endpoint_cmp(const struct tw_endpoint *a, const struct tw_endpoint *b)
{
	if (a->addr.family != b->addr.family)
		return a->addr.family < b->addr.family ? -1 : 1;
	int c = memcmp(a->addr.bytes, b->addr.bytes, sizeof(a->addr.bytes));
	if (c)
		return c;
	if (a->port != b->port)
		return a->port < b->port ? -1 : 1;
	return 0;
}

uint64_t flow_hash_endpoints(const uint64_t seed[2], const struct tw_endpoint *a,
			     const struct tw_endpoint *b)
{
	uint64_t w[5];

	if (endpoint_cmp(a, b) > 0) {
		const struct tw_endpoint *tmp = a;
		a = b;
		b = tmp;
	}
	memcpy(&w[0], a->addr.bytes, 16);
	memcpy(&w[2], b->addr.bytes, 16);
	w[4] = (uint64_t)a->port | (uint64_t)b->port << 16 |
	       (uint64_t)a->addr.family << 32 | (uint64_t)b->addr.family << 40;
	return siphash_words(seed, w, 5);
}
