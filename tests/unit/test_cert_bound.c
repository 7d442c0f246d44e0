// SPDX-License-Identifier: MIT
/*
 * Memory stays bounded when every handshake serves a new certificate: the
 * certificate cache frees what it evicts unless it is pinned, and a pinned
 * entry outlives its eviction exactly until its last unpin (run under
 * ASan: a read of a freed entry fails the test).
 */
#include <stdlib.h>
#include <string.h>

#include "cert/cert_info.h"
#include "cert_mint.h"
#include "check.h"

#define BOUND 16
#define FLOOD 500    /* distinct certificates, >> BOUND */

/* Serves certificate @i (freshly minted) to @c. */
static const struct cert_info *serve(struct cert_cache *c, int i)
{
	const struct cert_info *ci = NULL;
	uint8_t *der;
	size_t len;

	der = cert_mint(i, &len);
	CHECK(der != NULL);
	if (der)
		ci = cert_cache_get(c, der, len, NULL);
	CHECK(ci != NULL);
	free(der);
	return ci;
}

/* Serves @n new certificates from @first on; the most live entries seen. */
static size_t flood(struct cert_cache *c, int first, int n)
{
	size_t most = 0;
	int i;

	for (i = first; i < first + n; i++) {
		serve(c, i);
		if (cert_cache_live(c) > most)
			most = cert_cache_live(c);
	}
	return most;
}

static void test_live_entries_never_exceed_the_bound(void)
{
	struct cert_cache *c = cert_cache_new(BOUND);

	CHECK(c != NULL);
	if (!c)
		return;
	CHECK_INT(flood(c, 0, FLOOD), BOUND);
	CHECK_INT(cert_cache_count(c), BOUND);
	CHECK_INT(cert_cache_retired(c), 0);
	cert_cache_free(c);
}

static void test_default_bound_is_documented_value(void)
{
	struct cert_cache *c = cert_cache_new(0);

	CHECK(c != NULL);
	if (!c)
		return;
	CHECK_INT(flood(c, 0, CERT_CACHE_DEFAULT_MAX + 8), 4096);
	cert_cache_free(c);
}

static void test_pinned_entry_outlives_its_eviction_until_unpinned(void)
{
	struct cert_cache *c = cert_cache_new(BOUND);
	const struct cert_info *first;

	CHECK(c != NULL);
	if (!c)
		return;
	first = serve(c, 0);
	cert_cache_pin(c, first);
	CHECK_INT(flood(c, 1, 10 * BOUND), BOUND + 1);
	CHECK_INT(cert_cache_retired(c), 1);
	if (first)   /* ASan: fails here if eviction freed a pinned entry */
		CHECK_STR(first->serial_hex, "4d494e5400000000");
	cert_cache_unpin(c, first);
	CHECK_INT(cert_cache_retired(c), 0);
	CHECK_INT(cert_cache_live(c), BOUND);
	cert_cache_free(c);
}

static void test_pins_nest(void)
{
	struct cert_cache *c = cert_cache_new(BOUND);
	const struct cert_info *first;

	CHECK(c != NULL);
	if (!c)
		return;
	first = serve(c, 0);
	cert_cache_pin(c, first);
	cert_cache_pin(c, first);
	flood(c, 1, 2 * BOUND);
	cert_cache_unpin(c, first);
	CHECK_INT(cert_cache_retired(c), 1);
	if (first)
		CHECK_STR(first->serial_hex, "4d494e5400000000");
	cert_cache_unpin(c, first);
	CHECK_INT(cert_cache_retired(c), 0);
	cert_cache_free(c);
}

/* Unpinned while still in the table: nothing is freed, and its later
 * eviction frees it (no retired entry left behind). */
static void test_unpin_in_the_table_frees_nothing(void)
{
	struct cert_cache *c = cert_cache_new(BOUND);
	const struct cert_info *first;

	CHECK(c != NULL);
	if (!c)
		return;
	first = serve(c, 0);
	cert_cache_pin(c, first);
	cert_cache_unpin(c, first);
	CHECK_INT(cert_cache_live(c), 1);
	if (first)
		CHECK_STR(first->serial_hex, "4d494e5400000000");
	CHECK_INT(flood(c, 1, 2 * BOUND), BOUND);
	CHECK_INT(cert_cache_retired(c), 0);
	cert_cache_free(c);
}

/* A retired (pinned) certificate served again is a new entry; both go
 * their own way. */
static void test_retired_certificate_served_again_is_a_new_entry(void)
{
	struct cert_cache *c = cert_cache_new(BOUND);
	const struct cert_info *old, *again = NULL;
	uint8_t *der;
	size_t len;

	CHECK(c != NULL);
	der = cert_mint(0, &len);
	CHECK(der != NULL);
	if (!c || !der) {
		cert_cache_free(c);
		free(der);
		return;
	}
	old = cert_cache_get(c, der, len, NULL);
	cert_cache_pin(c, old);
	flood(c, 1, BOUND);
	again = cert_cache_get(c, der, len, NULL);
	CHECK(again != NULL && again != old);
	if (old && again)
		CHECK_STR(again->sha256_hex, old->sha256_hex);
	CHECK_INT(cert_cache_live(c), BOUND + 1);
	cert_cache_unpin(c, old);
	CHECK_INT(cert_cache_live(c), BOUND);
	CHECK(cert_cache_get(c, der, len, NULL) == again);
	free(der);
	cert_cache_free(c);
}

/* Entries still pinned at cert_cache_free() are freed with it (LSan). */
static void test_free_takes_pinned_entries_too(void)
{
	struct cert_cache *c = cert_cache_new(BOUND);
	const struct cert_info *first;

	CHECK(c != NULL);
	if (!c)
		return;
	first = serve(c, 0);
	cert_cache_pin(c, first);
	cert_cache_pin(c, serve(c, 1));
	flood(c, 2, BOUND);
	CHECK_INT(cert_cache_retired(c), 2);
	cert_cache_free(c);
}

int main(void)
{
	RUN_TEST(test_live_entries_never_exceed_the_bound);
	RUN_TEST(test_default_bound_is_documented_value);
	RUN_TEST(test_pinned_entry_outlives_its_eviction_until_unpinned);
	RUN_TEST(test_pins_nest);
	RUN_TEST(test_unpin_in_the_table_frees_nothing);
	RUN_TEST(test_retired_certificate_served_again_is_a_new_entry);
	RUN_TEST(test_free_takes_pinned_entries_too);
	cert_mint_done();
	return CHECK_EXIT_CODE();
}
