// SPDX-License-Identifier: MIT
/* CRLs from files and bytes, checked against the issuer of every cert. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

#include "check.h"
#include "health_fixture.h"
#include "cert/crl.h"

static struct crl_store *store_with(const char *rel)
{
	struct crl_store *s = crl_store_new();
	char path[1200], err[256] = "";

	if (s && crl_store_load_file(s, hf_path(rel, path, sizeof(path)), err,
				     sizeof(err)))
		printf("# load %s: %s\n", rel, err);
	return s;
}

static void check_named(struct crl_store *s, const char *cert, const char *issuer,
			struct crl_answer *a)
{
	crl_check(s, hf_cert(cert)->x509, hf_cert(issuer)->x509,
		  hf_time("2026-06-01T00:00:00"), a);
}

static void test_pem_crl_lists_revoked_leaf_with_reason(void)
{
	struct crl_store *s = store_with("crl/inter.pem");
	struct crl_answer a;
	char want[1200];

	CHECK_INT(crl_store_count(s), 1);
	check_named(s, "revoked.test", "inter", &a);
	CHECK_INT(a.status, OCSP_ST_REVOKED);
	CHECK_INT(a.reason, 1);
	CHECK_STR(crl_reason_name(a.reason), "keyCompromise");
	CHECK(a.revoked_at > hf_time("2026-01-01T00:00:00"));
	CHECK(a.this_update > 0);
	CHECK_INT(a.next_update - a.this_update, 30 * 86400);
	CHECK_STR(a.origin, hf_path("crl/inter.pem", want, sizeof(want)));
	crl_store_free(s);
}

static void test_der_crl_says_good_for_unlisted_leaf(void)
{
	struct crl_store *s = store_with("www/inter.crl");
	struct crl_answer a;

	check_named(s, "good.test", "inter", &a);
	CHECK_INT(a.status, OCSP_ST_GOOD);
	CHECK_INT(a.revoked_at, 0);
	CHECK_INT(a.reason, -1);
	CHECK(!a.stale);
	crl_store_free(s);
}

static void test_superseded_certificate_carries_its_reason(void)
{
	struct crl_store *s = store_with("www/inter.crl");
	struct crl_answer a;

	check_named(s, "a-old.test", "inter", &a);
	CHECK_INT(a.status, OCSP_ST_REVOKED);
	CHECK_STR(crl_reason_name(a.reason), "superseded");
	check_named(s, "a-new.test", "inter", &a);
	CHECK_INT(a.status, OCSP_ST_GOOD);
	crl_store_free(s);
}

static void test_root_crl_revokes_the_intermediate(void)
{
	struct crl_store *s = store_with("www/root.crl");
	struct crl_answer a;

	check_named(s, "inter2", "root", &a);
	CHECK_INT(a.status, OCSP_ST_REVOKED);
	CHECK_STR(crl_reason_name(a.reason), "keyCompromise");
	check_named(s, "inter", "root", &a);
	CHECK_INT(a.status, OCSP_ST_GOOD);
	crl_store_free(s);
}

static void test_no_crl_of_the_issuer_is_unknown(void)
{
	struct crl_store *s = store_with("www/root.crl");
	struct crl_answer a;

	check_named(s, "revoked.test", "inter", &a);
	CHECK_INT(a.status, OCSP_ST_UNKNOWN);
	CHECK_INT(a.bad_signatures, 0);
	CHECK_STR(a.origin, "");
	crl_store_free(s);
}

static void test_forged_crl_is_ignored(void)
{
	/* evil.crl names inter as issuer and lists revoked.test, but evil's
	 * key signed it. */
	struct crl_store *s = store_with("crl/evil.crl");
	struct crl_answer a;

	CHECK_INT(crl_store_count(s), 1);
	check_named(s, "revoked.test", "inter", &a);
	CHECK_INT(a.status, OCSP_ST_UNKNOWN);
	CHECK_INT(a.bad_signatures, 1);
	crl_store_free(s);
}

static void test_forged_crl_does_not_hide_the_real_one(void)
{
	struct crl_store *s = store_with("crl/evil.crl");
	struct crl_answer a;
	char path[1200], err[256];

	CHECK_INT(crl_store_load_file(s, hf_path("crl/inter.pem", path, sizeof(path)),
				      err, sizeof(err)), 0);
	check_named(s, "good.test", "inter", &a);
	CHECK_INT(a.status, OCSP_ST_GOOD);
	CHECK_INT(a.bad_signatures, 1);
	crl_store_free(s);
}

static void test_pem_file_with_two_crls_loads_both(void)
{
	struct crl_store *s = crl_store_new();
	struct crl_answer a;
	size_t l1 = 0, l2 = 0;
	uint8_t *c1 = hf_read_pki("crl/inter.pem", &l1);
	uint8_t *c2 = hf_read_pki("crl/root.pem", &l2);
	uint8_t *both = malloc(l1 + l2);
	char err[256];

	memcpy(both, c1, l1);
	memcpy(both + l1, c2, l2);
	CHECK_INT(crl_store_add(s, both, l1 + l2, "both.pem", false, err, sizeof(err)), 2);
	check_named(s, "inter2", "root", &a);
	CHECK_INT(a.status, OCSP_ST_REVOKED);
	check_named(s, "revoked.test", "inter", &a);
	CHECK_INT(a.status, OCSP_ST_REVOKED);
	free(c1);
	free(c2);
	free(both);
	crl_store_free(s);
}

static void test_crl_past_next_update_is_stale_but_answers(void)
{
	struct crl_store *s = store_with("www/inter.crl");
	struct crl_answer a;

	crl_check(s, hf_cert("good.test")->x509, hf_cert("inter")->x509,
		  time(NULL) + 40 * 86400, &a);
	CHECK_INT(a.status, OCSP_ST_GOOD);
	CHECK(a.stale);
	crl_store_free(s);
}

/* Checks @cert (issued by inter) against the CRL files in @files (a
 * space-separated list), answering into @a. */
static void check_with(const char *files, const char *cert, struct crl_answer *a)
{
	struct crl_store *s = crl_store_new();
	char list[256], *save = NULL, *f, path[1200], err[256];

	snprintf(list, sizeof(list), "%s", files);
	for (f = strtok_r(list, " ", &save); f; f = strtok_r(NULL, " ", &save))
		if (crl_store_load_file(s, hf_path(f, path, sizeof(path)), err, sizeof(err)))
			printf("# load %s: %s\n", f, err);
	check_named(s, cert, "inter", a);
	crl_store_free(s);
}

static const char *origin_file(const struct crl_answer *a)
{
	const char *slash = strrchr(a->origin, '/');

	return slash ? slash + 1 : a->origin;
}

/* Which CRLs answer for a certificate of inter: @files loaded in that
 * order, the status expected, and the file that answers ("" for none). */
struct crl_case {
	const char *files, *cert;
	enum ocsp_cert_status status;
	const char *origin;
};

static void check_cases(const struct crl_case *c, size_t n)
{
	struct crl_answer a;
	size_t i;

	for (i = 0; i < n; i++) {
		check_with(c[i].files, c[i].cert, &a);
		if (a.status != c[i].status || strcmp(origin_file(&a), c[i].origin))
			printf("#   case %zu (%s for %s):\n", i, c[i].files, c[i].cert);
		CHECK_INT(a.status, c[i].status);
		CHECK_STR(origin_file(&a), c[i].origin);
	}
}

static void test_shard_crl_speaks_only_for_its_shard(void)
{
	/* shard1's CRL lists nothing; shard2.test is revoked in shard2's. */
	static const struct crl_case cases[] = {
		{ "crl/shard1.pem", "shard2.test", OCSP_ST_UNKNOWN, "" },
		{ "crl/shard1.pem", "shard1.test", OCSP_ST_GOOD, "shard1.pem" },
		{ "crl/shard1.pem", "good.test", OCSP_ST_UNKNOWN, "" },
		{ "crl/shard2.pem", "shard1.test", OCSP_ST_UNKNOWN, "" },
		{ "crl/shard1.pem crl/shard2.pem", "shard2.test", OCSP_ST_REVOKED, "shard2.pem" },
		{ "crl/shard2.pem crl/shard1.pem", "shard1.test", OCSP_ST_GOOD, "shard1.pem" },
		/* A full CRL covers every shard; its good does not replace the
		 * shard's revoked (another scope). */
		{ "crl/inter.pem", "shard1.test", OCSP_ST_GOOD, "inter.pem" },
		{ "crl/inter.pem crl/shard2.pem", "shard2.test", OCSP_ST_REVOKED, "shard2.pem" },
	};
	struct crl_answer a;

	check_cases(cases, sizeof(cases) / sizeof(cases[0]));
	check_with("crl/shard2.pem", "shard2.test", &a);
	CHECK_STR(crl_reason_name(a.reason), "keyCompromise");
}

static void test_only_ca_crl_does_not_cover_leaves(void)
{
	static const struct crl_case cases[] = {
		{ "crl/inter-onlyca.pem", "revoked.test", OCSP_ST_UNKNOWN, "" },
		{ "crl/inter-onlyca.pem", "good.test", OCSP_ST_UNKNOWN, "" },
		{ "crl/inter-onlyuser.pem", "revoked.test", OCSP_ST_REVOKED, "inter-onlyuser.pem" },
		{ "crl/inter-onlyuser.pem", "good.test", OCSP_ST_GOOD, "inter-onlyuser.pem" },
	};

	check_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_partial_and_delta_crls_revoke_but_never_say_good(void)
{
	static const struct crl_case cases[] = {
		{ "crl/inter-reasons.pem", "revoked.test", OCSP_ST_REVOKED, "inter-reasons.pem" },
		{ "crl/inter-reasons.pem", "good.test", OCSP_ST_UNKNOWN, "" },
		{ "crl/inter-delta.pem", "revoked.test", OCSP_ST_REVOKED, "inter-delta.pem" },
		{ "crl/inter-delta.pem", "good.test", OCSP_ST_UNKNOWN, "" },
		/* With the complete CRL, that one says good. */
		{ "crl/inter-delta.pem crl/inter.pem", "good.test", OCSP_ST_GOOD, "inter.pem" },
	};

	check_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_higher_crl_number_releases_a_hold(void)
{
	static const struct crl_case cases[] = {
		{ "crl/hold-on.pem", "hold.test", OCSP_ST_REVOKED, "hold-on.pem" },
		{ "crl/hold-on.pem crl/hold-off.pem", "hold.test", OCSP_ST_GOOD, "hold-off.pem" },
		{ "crl/hold-off.pem crl/hold-on.pem", "hold.test", OCSP_ST_GOOD, "hold-off.pem" },
	};
	struct crl_answer a;

	check_cases(cases, sizeof(cases) / sizeof(cases[0]));
	check_with("crl/hold-on.pem", "hold.test", &a);
	CHECK_STR(crl_reason_name(a.reason), "certificateHold");
}

static void test_later_this_update_replaces_an_unnumbered_crl(void)
{
	static const struct crl_case cases[] = {
		{ "crl/inter.pem crl/inter-stale.pem", "good.test", OCSP_ST_GOOD, "inter.pem" },
		{ "crl/inter-stale.pem crl/inter.pem", "revoked.test", OCSP_ST_REVOKED, "inter.pem" },
	};
	struct crl_answer a;

	check_cases(cases, sizeof(cases) / sizeof(cases[0]));
	check_with("crl/inter-stale.pem", "good.test", &a);
	CHECK_INT(a.status, OCSP_ST_GOOD);
	CHECK(a.stale);
	CHECK_INT(a.next_update, hf_time("2025-01-31T00:00:00"));
	check_with("crl/inter.pem crl/inter-stale.pem", "good.test", &a);
	CHECK(!a.stale);
}

static void test_malformed_scope_is_refused(void)
{
	struct crl_store *s = crl_store_new();
	char path[1200], err[256], want[1400];

	hf_path("crl/inter-badidp.pem", path, sizeof(path));
	CHECK_INT(crl_store_load_file(s, path, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "--crl %s: malformed or repeated "
		 "issuingDistributionPoint", path);
	CHECK_STR(err, want);
	CHECK_INT(crl_store_count(s), 0);
	crl_store_free(s);
}

static void test_refetched_crl_replaces_the_one_from_the_same_url(void)
{
	struct crl_store *s = crl_store_new();
	size_t len = 0;
	uint8_t *der = hf_read_pki("www/inter.crl", &len);
	char err[256];

	CHECK_INT(crl_store_add(s, der, len, "http://127.0.0.1:9/inter.crl", true,
				err, sizeof(err)), 1);
	CHECK_INT(crl_store_add(s, der, len, "http://127.0.0.1:9/inter.crl", true,
				err, sizeof(err)), 1);
	CHECK_INT(crl_store_count(s), 1);
	free(der);
	crl_store_free(s);
}

static void test_garbage_file_is_a_clear_error(void)
{
	struct crl_store *s = crl_store_new();
	char path[1200], want[1300], err[256] = "";

	hf_path("inter-index.txt", path, sizeof(path));
	CHECK_INT(crl_store_load_file(s, path, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "--crl %s: not a CRL (neither DER nor PEM)", path);
	CHECK_STR(err, want);
	CHECK_INT(crl_store_count(s), 0);
	crl_store_free(s);
}

static void test_truncated_der_is_refused(void)
{
	struct crl_store *s = crl_store_new();
	size_t len = 0;
	uint8_t *der = hf_read_pki("www/inter.crl", &len);
	char err[256] = "";

	CHECK_INT(crl_store_add(s, der, len - 10, "cut.crl", false, err, sizeof(err)), -1);
	CHECK_STR(err, "cut.crl: not a CRL (neither DER nor PEM)");
	free(der);
	crl_store_free(s);
}

static void test_trailing_bytes_after_der_are_refused(void)
{
	struct crl_store *s = crl_store_new();
	size_t len = 0;
	uint8_t *der = hf_read_pki("www/inter.crl", &len);
	uint8_t *more = malloc(len + 3);
	char err[256] = "";

	memcpy(more, der, len);
	memcpy(more + len, "xyz", 3);
	CHECK_INT(crl_store_add(s, more, len + 3, "long.crl", false, err, sizeof(err)), -1);
	CHECK_STR(err, "long.crl: trailing bytes after the DER CRL");
	free(der);
	free(more);
	crl_store_free(s);
}

static void test_broken_pem_is_refused(void)
{
	static const char pem[] = "-----BEGIN X509 CRL-----\nMIIB!!!notbase64\n"
				  "-----END X509 CRL-----\n";
	struct crl_store *s = crl_store_new();
	char err[256] = "";

	CHECK_INT(crl_store_add(s, (const uint8_t *)pem, sizeof(pem) - 1, "bad.pem",
				false, err, sizeof(err)), -1);
	CHECK_STR(err, "bad.pem: malformed PEM CRL");
	crl_store_free(s);
}

static void test_missing_file_is_a_clear_error(void)
{
	struct crl_store *s = crl_store_new();
	char err[256] = "";

	CHECK_INT(crl_store_load_file(s, "/nonexistent/x.crl", err, sizeof(err)), -1);
	CHECK_STR(err, "--crl /nonexistent/x.crl: No such file or directory");
	crl_store_free(s);
}

static void test_distribution_point_urls(void)
{
	char urls[4][CRL_URL_MAX];

	CHECK_INT(crl_distribution_urls(hf_cert("good.test")->x509, urls, 4), 1);
	CHECK_STR(urls[0], "http://127.0.0.1:9/inter.crl");
	CHECK_INT(crl_distribution_urls(hf_cert("inter2")->x509, urls, 4), 1);
	CHECK_STR(urls[0], "http://127.0.0.1:9/root.crl");
	CHECK_INT(crl_distribution_urls(hf_cert("root")->x509, urls, 4), 0);
}

static void test_reason_names(void)
{
	CHECK_STR(crl_reason_name(0), "unspecified");
	CHECK_STR(crl_reason_name(4), "superseded");
	CHECK(crl_reason_name(7) == NULL);
	CHECK(crl_reason_name(-1) == NULL);
	CHECK(crl_reason_name(11) == NULL);
}

int main(void)
{
	hf_pki();
	RUN_TEST(test_pem_crl_lists_revoked_leaf_with_reason);
	RUN_TEST(test_der_crl_says_good_for_unlisted_leaf);
	RUN_TEST(test_superseded_certificate_carries_its_reason);
	RUN_TEST(test_root_crl_revokes_the_intermediate);
	RUN_TEST(test_no_crl_of_the_issuer_is_unknown);
	RUN_TEST(test_forged_crl_is_ignored);
	RUN_TEST(test_forged_crl_does_not_hide_the_real_one);
	RUN_TEST(test_pem_file_with_two_crls_loads_both);
	RUN_TEST(test_crl_past_next_update_is_stale_but_answers);
	RUN_TEST(test_shard_crl_speaks_only_for_its_shard);
	RUN_TEST(test_only_ca_crl_does_not_cover_leaves);
	RUN_TEST(test_partial_and_delta_crls_revoke_but_never_say_good);
	RUN_TEST(test_higher_crl_number_releases_a_hold);
	RUN_TEST(test_later_this_update_replaces_an_unnumbered_crl);
	RUN_TEST(test_malformed_scope_is_refused);
	RUN_TEST(test_refetched_crl_replaces_the_one_from_the_same_url);
	RUN_TEST(test_garbage_file_is_a_clear_error);
	RUN_TEST(test_truncated_der_is_refused);
	RUN_TEST(test_trailing_bytes_after_der_are_refused);
	RUN_TEST(test_broken_pem_is_refused);
	RUN_TEST(test_missing_file_is_a_clear_error);
	RUN_TEST(test_distribution_point_urls);
	RUN_TEST(test_reason_names);
	hf_cleanup();
	return CHECK_EXIT_CODE();
}
