// SPDX-License-Identifier: MIT
/* The active checker's bookkeeping: which requests become checks. The
 * checks it queues go to 127.0.0.1 port 1 (nothing listens: refused at
 * once); only the caller's side, decided before any connection, is
 * asserted. */
#include <string.h>

#include "active/active_check.h"
#include "check.h"

#define NOW_US 1767225600000000ull   /* 2026-01-01T00:00:00Z */

static struct tw_endpoint loopback_port_1(void)
{
	struct tw_endpoint ep;

	memset(&ep, 0, sizeof(ep));
	ep.addr.family = 4;
	memcpy(ep.addr.bytes, "\x7f\x00\x00\x01", 4);
	ep.port = 1;
	return ep;
}

/* Host names are case-insensitive (RFC 4343): A.test, a.test and A.TEST.
 * at one address are one target, checked once within the TTL; another
 * name, or no SNI, is a target of its own. */
static void test_a_name_in_any_case_is_one_target(void)
{
	struct active_opts o = { .timeout_ms = 200 };
	struct active_checker *a = active_new(&o);
	struct tw_endpoint ep = loopback_port_1();

	CHECK(a != NULL);
	if (!a)
		return;
	CHECK(active_request(a, &ep, "A.test", NOW_US));
	CHECK(!active_request(a, &ep, "a.test", NOW_US + 1));
	CHECK(!active_request(a, &ep, "A.TEST.", NOW_US + 2));
	CHECK(active_request(a, &ep, "b.test", NOW_US + 3));
	CHECK(active_request(a, &ep, NULL, NOW_US + 4));
	CHECK_INT(active_stats(a)->requested, 5);
	CHECK_INT(active_stats(a)->cached, 2);
	CHECK_INT(active_stats(a)->rate_limited, 0);
	active_free(a);
}

int main(void)
{
	RUN_TEST(test_a_name_in_any_case_is_one_target);
	return CHECK_EXIT_CODE();
}
