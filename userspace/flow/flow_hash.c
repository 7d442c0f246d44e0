// SPDX-License-Identifier: MIT
/*
 * The flow key hash. Captures can be hostile: with a predictable hash an
 * attacker could send many connections into one bucket and make every
 * lookup walk a long chain. SipHash-1-3 (common/siphash.h) with a random
 * per-table key makes collisions unpredictable; 2-4 rounds were 6% of
 * analyze's time (one hash per packet). Both directions of a connection must hash the same, so the two
 * endpoints are put in a fixed order first.
 */
#include <errno.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "flow_internal.h"
#include "common/log.h"
#include "common/siphash.h"

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
	return tw_siphash13(seed, w, sizeof(w));
}
