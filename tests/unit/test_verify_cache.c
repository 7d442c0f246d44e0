// SPDX-License-Identifier: MIT
/*
 * Memoized chain verification: the same answers as verify_chain() at every
 * time around every validity boundary, hits only inside a span, and a
 * bound on what it keeps.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

#include "check.h"
#include "health_fixture.h"
#include "cert/verify_cache.h"

static struct verify_store *open_store(const char *ca_file)
{
	struct verify_store *vs = NULL;
	char err[256] = "";

	if (verify_store_open(ca_file, NULL, &vs, err, sizeof(err)))
		printf("# verify_store_open %s: %s\n", ca_file, err);
	return vs;
}

static struct verify_store *open_root_store(void)
{
	char path[1200];

	return open_store(hf_path("root.crt", path, sizeof(path)));
}

static bool same_result(int rc_a, const struct verify_result *a, int rc_b,
			const struct verify_result *b)
{
	int i, n;

	if (rc_a != rc_b || a->code != b->code || a->depth != b->depth ||
	    strcmp(a->text, b->text) || strcmp(a->detail, b->detail))
		return false;
	n = a->built ? sk_X509_num(a->built) : -1;
	if (n != (b->built ? sk_X509_num(b->built) : -1))
		return false;
	for (i = 0; i < n; i++)
		if (X509_cmp(sk_X509_value(a->built, i), sk_X509_value(b->built, i)))
			return false;
	return true;
}

/* Every validity boundary of @x, one second either side, and itself. */
static int add_times(X509 *x, int64_t *t, int n)
{
	const ASN1_TIME *edges[2] = { X509_get0_notBefore(x), X509_get0_notAfter(x) };
	int64_t e;
	int i, d;

	for (i = 0; i < 2; i++) {
		if (!cert_time_to_epoch(edges[i], &e))
			continue;
		for (d = -1; d <= 1; d++)
			t[n++] = e + d;
	}
	return n;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* Cached and uncached answers agree at every interesting time of @chain. */
static void sweep(struct verify_store *vs, const struct cert_info *const *chain,
		  int n, X509 *const *extra, int n_extra, uint64_t *hits)
{
	struct verify_cache *vc = verify_cache_new(vs);
	struct verify_cache_stats st;
	int64_t times[64];
	int i, k = 0, rc_a, rc_b;

	CHECK(vc != NULL);
	if (!vc)
		return;
	for (i = 0; i < n; i++)
		if (chain[i])
			k = add_times(chain[i]->x509, times, k);
	for (i = 0; i < n_extra; i++)
		k = add_times(extra[i], times, k);
	times[k++] = hf_time("2026-06-01T00:00:00");
	qsort(times, (size_t)k, sizeof(times[0]), cmp_i64);
	for (i = 0; i < 2 * k; i++) {
		/* up, then down again: both directions cross every boundary */
		int64_t at = times[i < k ? i : 2 * k - 1 - i];
		struct verify_result a, b;

		rc_a = verify_cache_chain(vc, chain, n, at, &a);
		rc_b = verify_chain(vs, chain, n, at, &b);
		if (!same_result(rc_a, &a, rc_b, &b)) {
			printf("# at %lld: cached '%s' (%d), verified '%s' (%d)\n",
			       (long long)at, a.detail, rc_a, b.detail, rc_b);
			CHECK(false);
		}
		verify_result_release(&a);
		verify_result_release(&b);
	}
	verify_cache_stats(vc, &st);
	CHECK_INT((int)(st.hits + st.misses), 2 * k);
	*hits += st.hits;
	verify_cache_free(vc);
}

static void test_cached_answers_equal_verification_around_every_boundary(void)
{
	const char *leaves[] = { "good.test", "expired.test", "future.test",
				 "revoked.test", "unknown.test" };
	struct verify_store *vs = open_root_store();
	X509 *root = hf_cert("root")->x509;
	uint64_t hits = 0;
	size_t i;

	CHECK(vs != NULL);
	for (i = 0; vs && i < sizeof(leaves) / sizeof(leaves[0]); i++) {
		const struct cert_info *with_inter[2] = { hf_cert(leaves[i]), hf_cert("inter") };

		sweep(vs, with_inter, 2, &root, 1, &hits);
		sweep(vs, with_inter, 1, &root, 1, &hits);   /* intermediate missing */
	}
	CHECK(hits > 0);   /* neighbouring times inside one span did hit */
	verify_store_free(vs);
}

/*
 * Two trust anchors with the intermediate's name and key, A for 2030-2031
 * and B for 2031-2033. In 2031 both are valid and OpenSSL picks one; outside
 * it only one is. So the answer (the chain built) changes at a boundary of
 * a store certificate that may not be in the chain built: a span must end
 * there too, or one sweep direction gets a stale answer.
 */
static int make_two_anchors(const char *dir, char *bundle, size_t len, X509 **out)
{
	char cmd[4096], rel[1200], key[PATH_MAX], path[1200];
	const char *names[2] = { "a.crt", "b.crt" };
	FILE *f;
	int i;

	if (!realpath(hf_path("inter.key", rel, sizeof(rel)), key))
		return -1;
	snprintf(cmd, sizeof(cmd),
		 "{ cd '%s' && printf '[ca]\\ndefault_ca=c\\n[c]\\ndatabase=index\\n"
		 "new_certs_dir=.\\nserial=serial\\ndefault_md=sha256\\npolicy=p\\n"
		 "unique_subject=no\\n[p]\\norganizationName=optional\\n"
		 "commonName=supplied\\n' >ca.cnf && : >index &&"
		 " printf 'basicConstraints=critical,CA:TRUE\\n"
		 "keyUsage=critical,keyCertSign,cRLSign\\nsubjectKeyIdentifier=hash\\n' >ext &&"
		 " openssl req -new -key '%s' -subj '/O=tlswatch test/CN=Health Test Intermediate'"
		 " -out r.csr && sign() { echo $1 >serial && openssl ca -batch -config ca.cnf"
		 " -selfsign -keyfile '%s' -in r.csr -out $2 -notext -startdate $3"
		 " -enddate $4 -extfile ext; } && sign 0A01 a.crt 300101000000Z 320101000000Z"
		 " && sign 0A02 b.crt 310101000000Z 340101000000Z && cat a.crt b.crt >bundle.pem;"
		 " } >/dev/null 2>&1", dir, key, key);
	if (hf_sh(cmd))
		return -1;
	snprintf(bundle, len, "%s/bundle.pem", dir);
	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		f = fopen(path, "r");
		out[i] = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
		if (f)
			fclose(f);
		if (!out[i])
			return -1;
	}
	return 0;
}

static void test_store_candidates_bound_the_span(void)
{
	char dir[1024], bundle[1200], cmd[1200];
	const struct cert_info *chain[1] = { hf_cert("good.test") };
	struct verify_store *vs = NULL;
	X509 *anchors[2] = { NULL, NULL };
	uint64_t hits = 0;

	CHECK(hf_tmpdir(dir, sizeof(dir)) != NULL);
	CHECK_INT(make_two_anchors(dir, bundle, sizeof(bundle), anchors), 0);
	if (anchors[0] && anchors[1])
		vs = open_store(bundle);
	CHECK(vs != NULL);
	if (vs)
		sweep(vs, chain, 1, anchors, 2, &hits);
	X509_free(anchors[0]);
	X509_free(anchors[1]);
	verify_store_free(vs);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	CHECK_INT(hf_sh(cmd), 0);
}

static void test_second_handshake_in_span_is_a_hit_and_outside_a_miss(void)
{
	struct verify_store *vs = open_root_store();
	struct verify_cache *vc = verify_cache_new(vs);
	const struct cert_info *chain[2] = { hf_cert("good.test"), hf_cert("inter") };
	struct verify_cache_stats st;
	struct verify_result res;

	CHECK(vc != NULL);
	CHECK_INT(verify_cache_chain(vc, chain, 2, hf_time("2026-06-01T00:00:00"), &res), 0);
	verify_result_release(&res);
	CHECK_INT(verify_cache_chain(vc, chain, 2, hf_time("2030-06-01T00:00:00"), &res), 0);
	CHECK_STR(res.text, "ok");
	CHECK_INT(res.built ? sk_X509_num(res.built) : 0, 3);
	verify_result_release(&res);
	verify_cache_stats(vc, &st);
	CHECK_INT((int)st.misses, 1);
	CHECK_INT((int)st.hits, 1);
	/* 2046: the leaf has expired; the answer changes, found by a miss */
	CHECK_INT(verify_cache_chain(vc, chain, 2, hf_time("2046-06-01T00:00:00"), &res), 1);
	CHECK_STR(res.text, "certificate has expired");
	verify_result_release(&res);
	/* at <= 0 means now: never memoized */
	CHECK_INT(verify_cache_chain(vc, chain, 2, 0, &res), 0);
	verify_result_release(&res);
	verify_cache_stats(vc, &st);
	CHECK_INT((int)st.misses, 2);
	CHECK_INT((int)st.hits, 1);
	CHECK_INT((int)st.entries, 1);
	verify_cache_free(vc);
	verify_store_free(vs);
}

/* Distinct served chains past the bound: the cache starts over. Chains
 * differ by where unparsed (NULL) certificates sit after the leaf. */
static void test_cache_holds_at_most_its_bound(void)
{
	struct verify_store *vs = open_root_store();
	struct verify_cache *vc = verify_cache_new(vs);
	const struct cert_info *chain[14];
	struct verify_cache_stats st;
	struct verify_result res;
	int i, bit, distinct = VERIFY_CACHE_MAX + 100;

	CHECK(vc != NULL);
	for (i = 0; vc && i < distinct; i++) {
		chain[0] = hf_cert("good.test");
		for (bit = 0; bit < 13; bit++)
			chain[bit + 1] = (i >> bit) & 1 ? hf_cert("inter") : NULL;
		verify_cache_chain(vc, chain, 14, hf_time("2026-06-01T00:00:00"), &res);
		verify_result_release(&res);
	}
	verify_cache_stats(vc, &st);
	CHECK_INT((int)st.misses, distinct);
	CHECK(st.entries <= VERIFY_CACHE_MAX);
	CHECK_INT((int)st.entries, 100);
	verify_cache_free(vc);
	verify_store_free(vs);
}

int main(void)
{
	hf_pki();
	RUN_TEST(test_cached_answers_equal_verification_around_every_boundary);
	RUN_TEST(test_store_candidates_bound_the_span);
	RUN_TEST(test_second_handshake_in_span_is_a_hit_and_outside_a_miss);
	RUN_TEST(test_cache_holds_at_most_its_bound);
	hf_cleanup();
	return CHECK_EXIT_CODE();
}
