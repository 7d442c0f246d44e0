// SPDX-License-Identifier: MIT
/* CRLs from files and bytes, checked against the issuer of every cert. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

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

/* CRLs of inter made here, each saying one thing of hold.test. */
struct crl_spec {
	const char *name;          /* also its origin in the store */
	int number;                /* cRLNumber; -1: none */
	int delta_base;            /* deltaCRLIndicator; -1: a complete CRL */
	const char *this_update;   /* nextUpdate 30 days later */
	int hold_reason;           /* hold.test's entry; -1: not listed */
};

static const struct crl_spec specs[] = {
	/* delta and complete of one scope */
	{ "D5-hold", 5, 4, "2026-05-20T00:00:00", 6 },
	{ "C6-none", 6, -1, "2026-05-21T00:00:00", -1 },
	{ "D6-hold", 6, 5, "2026-05-22T00:00:00", 6 },
	{ "C5-hold", 5, -1, "2026-05-20T00:00:00", 6 },
	{ "C5-none", 5, -1, "2026-05-20T00:00:00", -1 },
	{ "R6-remove", 6, 5, "2026-05-21T00:00:00", 8 },
	{ "R7-remove-on-6", 7, 6, "2026-05-21T00:00:00", 8 },
	{ "D8-none-on-7", 8, 7, "2026-05-22T00:00:00", -1 },
	/* numbers against dates: A has the latest date, C the highest number */
	{ "A5", 5, -1, "2026-05-23T00:00:00", 6 },
	{ "BN", -1, -1, "2026-05-22T00:00:00", 6 },
	{ "C6", 6, -1, "2026-05-21T00:00:00", 6 },
	{ "AN-none", -1, -1, "2026-05-23T00:00:00", -1 },
	/* all of one date */
	{ "E6", 6, -1, "2026-05-20T00:00:00", 6 },
	{ "EN", -1, -1, "2026-05-20T00:00:00", 6 },
	{ "E5", 5, -1, "2026-05-20T00:00:00", 6 },
	{ "EN-none", -1, -1, "2026-05-20T00:00:00", -1 },
};

static const struct crl_spec *spec_named(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(specs) / sizeof(specs[0]); i++)
		if (strcmp(specs[i].name, name) == 0)
			return &specs[i];
	return NULL;
}

static EVP_PKEY *inter_key(void)
{
	char path[1200];
	FILE *f = fopen(hf_path("inter.key", path, sizeof(path)), "r");
	EVP_PKEY *k = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;

	if (f)
		fclose(f);
	return k;
}

static bool crl_add_int(X509_CRL *crl, int nid, int v, int crit)
{
	ASN1_INTEGER *n = ASN1_INTEGER_new();
	bool ok = n && ASN1_INTEGER_set(n, v) &&
		  X509_CRL_add1_ext_i2d(crl, nid, n, crit, 0) == 1;

	ASN1_INTEGER_free(n);
	return ok;
}

static bool crl_list_hold(X509_CRL *crl, int reason, int64_t at)
{
	X509_REVOKED *r = X509_REVOKED_new();
	ASN1_TIME *t = ASN1_TIME_set(NULL, (time_t)at);
	ASN1_ENUMERATED *e = ASN1_ENUMERATED_new();
	bool ok = r && t && e &&
		  X509_REVOKED_set_serialNumber(r, (ASN1_INTEGER *)X509_get0_serialNumber(
				  hf_cert("hold.test")->x509)) &&
		  X509_REVOKED_set_revocationDate(r, t) && ASN1_ENUMERATED_set(e, reason) &&
		  X509_REVOKED_add1_ext_i2d(r, NID_crl_reason, e, 0, 0) == 1 &&
		  X509_CRL_add0_revoked(crl, r);

	if (!ok)
		X509_REVOKED_free(r);
	ASN1_TIME_free(t);
	ASN1_ENUMERATED_free(e);
	return ok;
}

/* @sp as DER signed by inter's key; NULL (and a failed check) if not. */
static uint8_t *crl_build(const struct crl_spec *sp, EVP_PKEY *key, int *len)
{
	X509_CRL *crl = X509_CRL_new();
	int64_t tu = hf_time(sp->this_update);
	ASN1_TIME *t1 = ASN1_TIME_set(NULL, (time_t)tu);
	ASN1_TIME *t2 = ASN1_TIME_set(NULL, (time_t)(tu + 30 * 86400));
	unsigned char *der = NULL;
	bool ok = crl && t1 && t2 && X509_CRL_set_version(crl, 1) &&
		  X509_CRL_set_issuer_name(crl, X509_get_subject_name(hf_cert("inter")->x509)) &&
		  X509_CRL_set1_lastUpdate(crl, t1) && X509_CRL_set1_nextUpdate(crl, t2) &&
		  (sp->number < 0 || crl_add_int(crl, NID_crl_number, sp->number, 0)) &&
		  (sp->delta_base < 0 || crl_add_int(crl, NID_delta_crl, sp->delta_base, 1)) &&
		  (sp->hold_reason < 0 || crl_list_hold(crl, sp->hold_reason, tu - 86400)) &&
		  X509_CRL_sort(crl) && X509_CRL_sign(crl, key, EVP_sha256()) > 0;

	*len = ok ? i2d_X509_CRL(crl, &der) : -1;
	CHECK(*len > 0);
	X509_CRL_free(crl);
	ASN1_TIME_free(t1);
	ASN1_TIME_free(t2);
	return *len > 0 ? der : NULL;
}

static void store_add_spec(struct crl_store *s, const char *name, EVP_PKEY *key)
{
	const struct crl_spec *sp = spec_named(name);
	uint8_t *der = NULL;
	char err[256];
	int len = 0;

	CHECK(sp != NULL);
	if (sp && (der = crl_build(sp, key, &len)))
		CHECK_INT(crl_store_add(s, der, (size_t)len, name, false, err,
					sizeof(err)), 1);
	OPENSSL_free(der);
}

/* Like check_cases, for hold.test and CRLs of specs[] by name. */
static void check_spec_cases(const struct crl_case *c, size_t n)
{
	EVP_PKEY *key = inter_key();
	char list[256], *save = NULL, *name;
	struct crl_answer a;
	size_t i;

	CHECK(key != NULL);
	for (i = 0; key && i < n; i++) {
		struct crl_store *s = crl_store_new();

		snprintf(list, sizeof(list), "%s", c[i].files);
		for (name = strtok_r(list, " ", &save); name; name = strtok_r(NULL, " ", &save))
			store_add_spec(s, name, key);
		check_named(s, "hold.test", "inter", &a);
		if (a.status != c[i].status || strcmp(a.origin, c[i].origin))
			printf("#   case %zu (%s): status %d from '%s'\n", i, c[i].files,
			       a.status, a.origin);
		CHECK_INT(a.status, c[i].status);
		CHECK_STR(a.origin, c[i].origin);
		crl_store_free(s);
	}
	EVP_PKEY_free(key);
}

static void test_complete_crl_replaces_a_delta_numbered_no_higher(void)
{
	static const struct crl_case cases[] = {
		{ "D5-hold C6-none", NULL, OCSP_ST_GOOD, "C6-none" },
		{ "C6-none D5-hold", NULL, OCSP_ST_GOOD, "C6-none" },
		/* the same number: the complete CRL holds what the delta says */
		{ "C6-none D6-hold", NULL, OCSP_ST_GOOD, "C6-none" },
		{ "D6-hold C6-none", NULL, OCSP_ST_GOOD, "C6-none" },
		/* a newer delta still revokes */
		{ "C5-none D6-hold", NULL, OCSP_ST_REVOKED, "D6-hold" },
		{ "D6-hold C5-none", NULL, OCSP_ST_REVOKED, "D6-hold" },
	};

	check_spec_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_delta_remove_from_crl_releases_the_base_hold(void)
{
	static const struct crl_case cases[] = {
		{ "C5-hold R6-remove", NULL, OCSP_ST_GOOD, "R6-remove" },
		{ "R6-remove C5-hold", NULL, OCSP_ST_GOOD, "R6-remove" },
		/* a delta built on #6 says nothing of what #5 still lists */
		{ "C5-hold R7-remove-on-6", NULL, OCSP_ST_REVOKED, "C5-hold" },
		/* alone, a removal is no revocation and no "good" either */
		{ "R6-remove", NULL, OCSP_ST_UNKNOWN, "" },
	};

	check_spec_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

/* The newest delta builds on a complete CRL that is not at hand (#7): of
 * what changed since #5, the delta built on #5 speaks (RFC 5280 5.2.4),
 * whatever the load order. */
static void test_delta_paired_with_the_complete_crl_speaks_past_a_newer_one(void)
{
	static const struct crl_case cases[] = {
		{ "C5-hold R6-remove D8-none-on-7", NULL, OCSP_ST_GOOD, "R6-remove" },
		{ "D8-none-on-7 R6-remove C5-hold", NULL, OCSP_ST_GOOD, "R6-remove" },
		{ "C5-hold R6-remove R7-remove-on-6", NULL, OCSP_ST_GOOD, "R6-remove" },
		{ "C5-none D6-hold D8-none-on-7", NULL, OCSP_ST_REVOKED, "D6-hold" },
		{ "D8-none-on-7 D6-hold C5-none", NULL, OCSP_ST_REVOKED, "D6-hold" },
		/* without a delta built on #5, #5's hold stands */
		{ "C5-hold D8-none-on-7", NULL, OCSP_ST_REVOKED, "C5-hold" },
	};

	check_spec_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_unnumbered_crl_orders_its_scope_by_date_in_every_load_order(void)
{
	static const struct crl_case cases[] = {
		{ "A5 BN C6", NULL, OCSP_ST_REVOKED, "A5" },
		{ "A5 C6 BN", NULL, OCSP_ST_REVOKED, "A5" },
		{ "BN A5 C6", NULL, OCSP_ST_REVOKED, "A5" },
		{ "BN C6 A5", NULL, OCSP_ST_REVOKED, "A5" },
		{ "C6 A5 BN", NULL, OCSP_ST_REVOKED, "A5" },
		{ "C6 BN A5", NULL, OCSP_ST_REVOKED, "A5" },
		/* the latest date wins over the highest number */
		{ "C6 AN-none", NULL, OCSP_ST_GOOD, "AN-none" },
		{ "AN-none C6", NULL, OCSP_ST_GOOD, "AN-none" },
		/* one date: the CRL added last */
		{ "E6 EN E5", NULL, OCSP_ST_REVOKED, "E5" },
		{ "E5 EN E6", NULL, OCSP_ST_REVOKED, "E6" },
		{ "E6 E5 EN", NULL, OCSP_ST_REVOKED, "EN" },
		{ "E6 EN-none", NULL, OCSP_ST_GOOD, "EN-none" },
		{ "EN-none E6", NULL, OCSP_ST_REVOKED, "E6" },
	};

	check_spec_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_tie_goes_to_the_crl_added_last_after_a_forget(void)
{
	/* Forgetting the first fills its place with the last: the order of
	 * the store is then not the order the CRLs were added in. */
	struct crl_store *s = crl_store_new();
	EVP_PKEY *key = inter_key();
	struct crl_answer a;

	CHECK(key != NULL);
	store_add_spec(s, "EN", key);
	store_add_spec(s, "EN-none", key);
	store_add_spec(s, "E6", key);
	crl_store_forget(s, "EN");
	CHECK_INT(crl_store_count(s), 2);
	check_named(s, "hold.test", "inter", &a);
	CHECK_INT(a.status, OCSP_ST_REVOKED);
	CHECK_STR(a.origin, "E6");
	EVP_PKEY_free(key);
	crl_store_free(s);
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

/* A refresh that brings no usable CRL (garbage, or a PEM whose second CRL
 * is refused) keeps the CRLs of the last good download and adds none of
 * its own: crl_fetch.c keeps using the last ones until the next refresh. */
static void test_failed_refetch_keeps_the_last_crl(void)
{
	static const char url[] = "http://127.0.0.1:9/inter.crl";
	static const uint8_t junk[] = "<html>not a CRL</html>";
	struct crl_store *s = crl_store_new();
	size_t len = 0, l1 = 0, l2 = 0;
	uint8_t *der = hf_read_pki("www/inter.crl", &len);
	uint8_t *good = hf_read_pki("crl/hold-on.pem", &l1);
	uint8_t *bad = hf_read_pki("crl/inter-badidp.pem", &l2);
	uint8_t *both = malloc(l1 + l2);
	struct crl_answer a;
	char err[256];

	CHECK(der && good && bad && both);
	memcpy(both, good, l1);
	memcpy(both + l1, bad, l2);
	CHECK_INT(crl_store_add(s, der, len, url, true, err, sizeof(err)), 1);
	CHECK_INT(crl_store_add(s, junk, sizeof(junk) - 1, url, true, err, sizeof(err)), -1);
	CHECK_INT(crl_store_count(s), 1);
	CHECK_INT(crl_store_add(s, both, l1 + l2, url, true, err, sizeof(err)), -1);
	CHECK_INT(crl_store_count(s), 1);
	check_named(s, "revoked.test", "inter", &a);
	CHECK_INT(a.status, OCSP_ST_REVOKED);
	CHECK_STR(a.origin, url);
	check_named(s, "hold.test", "inter", &a);   /* hold-on.pem was not added */
	CHECK_INT(a.status, OCSP_ST_GOOD);
	free(der);
	free(good);
	free(bad);
	free(both);
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
	RUN_TEST(test_complete_crl_replaces_a_delta_numbered_no_higher);
	RUN_TEST(test_delta_remove_from_crl_releases_the_base_hold);
	RUN_TEST(test_delta_paired_with_the_complete_crl_speaks_past_a_newer_one);
	RUN_TEST(test_unnumbered_crl_orders_its_scope_by_date_in_every_load_order);
	RUN_TEST(test_tie_goes_to_the_crl_added_last_after_a_forget);
	RUN_TEST(test_malformed_scope_is_refused);
	RUN_TEST(test_refetched_crl_replaces_the_one_from_the_same_url);
	RUN_TEST(test_failed_refetch_keeps_the_last_crl);
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
