// SPDX-License-Identifier: MIT
/*
 * cert_info, the certificate cache, host matching and the leaf findings,
 * against certificates made at test time by the openssl command line.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cert_fixture.h"
#include "cert/cert_info.h"
#include "cert/findings.h"
#include "cert/host_memo.h"
#include "common/host_name.h"

#define AT_2026_01_01 1767225600LL
#define AT_2026_12_01 1796083200LL
#define AT_2026_12_25 1798156800LL

static struct cert_cache *cache;

/* The cached cert_info of NAME.der (NULL and a failed check if absent). */
static const struct cert_info *leaf(const char *name)
{
	char file[64];
	const struct cert_info *ci = NULL;
	const char *err = NULL;
	uint8_t *der;
	size_t len;

	snprintf(file, sizeof(file), "%s.der", name);
	if (pki_read(file, &der, &len) == 0) {
		ci = cert_cache_get(cache, der, len, &err);
		free(der);
	}
	if (!ci)
		printf("# %s: %s\n", file, err ? err : "cannot read");
	CHECK(ci != NULL);
	return ci;
}

static const char *const all_certs[] = {
	"rsa", "ec", "ec384", "ed", "expired", "notyet", "weak", "cnonly",
	"many", "odd", "self", "zero", "neg", "root", "inter",
};
#define N_CERTS (sizeof(all_certs) / sizeof(all_certs[0]))

/* --- fields compared with the command line's own answers */

static void test_sha256_equals_openssl_der_digest(void)
{
	char want[65];
	size_t i;

	for (i = 0; i < N_CERTS; i++) {
		const struct cert_info *ci = leaf(all_certs[i]);

		CHECK(pki_sha256(want, "openssl x509 -in %s.pem -outform DER | sha256sum",
				 all_certs[i]) == 0);
		if (ci)
			CHECK_STR(ci->sha256_hex, want);
	}
}

static void test_spki_sha256_equals_openssl_pubkey_digest(void)
{
	char want[65];
	size_t i;

	for (i = 0; i < N_CERTS; i++) {
		const struct cert_info *ci = leaf(all_certs[i]);

		CHECK(pki_sha256(want, "openssl x509 -in %s.pem -pubkey -noout | "
				 "openssl pkey -pubin -outform DER | sha256sum",
				 all_certs[i]) == 0);
		if (ci)
			CHECK_STR(ci->spki_sha256_hex, want);
	}
}

static void test_serial_equals_openssl_serial(void)
{
	char cli[128], want[128];
	size_t i;

	for (i = 0; i < N_CERTS; i++) {
		const struct cert_info *ci = leaf(all_certs[i]);

		CHECK(pki_line(cli, sizeof(cli), "openssl x509 -in %s.pem -serial -noout",
			       all_certs[i]) == 0);
		pki_serial_normalise(cli, want, sizeof(want));
		if (ci)
			CHECK_STR(ci->serial_hex, want);
	}
}

static void test_subject_and_issuer_match_openssl_rfc2253(void)
{
	char want[512];
	size_t i;

	for (i = 0; i < N_CERTS; i++) {
		const struct cert_info *ci = leaf(all_certs[i]);

		CHECK(pki_line(want, sizeof(want), "openssl x509 -in %s.pem -noout "
			       "-subject -nameopt RFC2253 | sed 's/^subject=//'",
			       all_certs[i]) == 0);
		if (ci)
			CHECK_STR(ci->subject, want);
		CHECK(pki_line(want, sizeof(want), "openssl x509 -in %s.pem -noout "
			       "-issuer -nameopt RFC2253 | sed 's/^issuer=//'",
			       all_certs[i]) == 0);
		if (ci)
			CHECK_STR(ci->issuer, want);
	}
}

/* --- exact values */

static void test_subject_is_rfc2253_most_specific_first(void)
{
	const struct cert_info *ci = leaf("rsa");

	if (!ci)
		return;
	CHECK_STR(ci->subject, "CN=www.example.test,O=Tlswatch Test");
	CHECK_STR(ci->issuer, "CN=Tlswatch Test Intermediate,O=Tlswatch Test");
}

static void test_serial_has_no_leading_zeros(void)
{
	const struct cert_info *rsa = leaf("rsa"), *ec = leaf("ec");

	if (rsa)
		CHECK_STR(rsa->serial_hex, "fedcba987654321");
	/* DER holds 00 a1 b2 c3: the sign byte is not part of the number */
	if (ec)
		CHECK_STR(ec->serial_hex, "a1b2c3");
}

static void test_serial_zero_is_0(void)
{
	const struct cert_info *ci = leaf("zero");

	if (ci)
		CHECK_STR(ci->serial_hex, "0");
}

static void test_serial_negative_has_minus(void)
{
	const struct cert_info *ci = leaf("neg");

	if (ci)
		CHECK_STR(ci->serial_hex, "-1234");
}

static void test_validity_is_epoch_seconds(void)
{
	const struct cert_info *ci = leaf("rsa");

	if (!ci)
		return;
	CHECK_INT(ci->not_before, 1735689600);   /* 2025-01-01 */
	CHECK_INT(ci->not_after, 1798761600);    /* 2027-01-01 */
}

static void test_validity_generalized_time_after_2038(void)
{
	const struct cert_info *ci = leaf("ec");

	if (ci)
		CHECK_INT(ci->not_after, 2840140800LL);  /* 2060-01-01 */
}

static void test_validity_utctime_before_1970(void)
{
	const struct cert_info *ci = leaf("self");

	if (!ci)
		return;
	CHECK_INT(ci->not_before, -315619200LL);     /* 1960-01-01 */
	CHECK_INT(ci->not_after, 2524608000LL);      /* 2050-01-01 */
}

static void test_sans_dns_and_ip_in_certificate_order(void)
{
	const struct cert_info *ci = leaf("rsa");

	if (!ci)
		return;
	CHECK_INT(ci->n_san, 5);
	CHECK(!ci->san_truncated);
	if (ci->n_san != 5)
		return;
	CHECK_STR(ci->san[0], "www.example.test");
	CHECK_STR(ci->san[1], "*.api.example.test");
	CHECK_STR(ci->san[2], "192.0.2.10");
	CHECK_STR(ci->san[3], "2001:db8::1:0:0:1");   /* RFC 5952 */
	CHECK_STR(ci->san[4], "example.test");
}

static void test_sans_truncated_at_cert_max_san(void)
{
	const struct cert_info *ci = leaf("many");

	if (!ci)
		return;
	CHECK_INT(ci->n_san, CERT_MAX_SAN);
	CHECK(ci->san_truncated);
	CHECK_STR(ci->san[0], "h0.example.test");
	CHECK_STR(ci->san[CERT_MAX_SAN - 1], "h63.example.test");
}

static void test_sans_escaped_and_other_types_skipped(void)
{
	const struct cert_info *ci = leaf("odd");

	if (!ci)
		return;
	/* the 8-byte iPAddress and the URI are not names a client matches */
	CHECK_INT(ci->n_san, 2);
	if (ci->n_san != 2)
		return;
	CHECK_STR(ci->san[0], "x\\x01y.test");
	CHECK_STR(ci->san[1], "ok.test");
}

static void test_no_san_extension_gives_no_sans(void)
{
	const struct cert_info *ci = leaf("cnonly");

	if (!ci)
		return;
	CHECK_INT(ci->n_san, 0);
	CHECK(!ci->san_truncated);
}

static void test_key_names_and_bits(void)
{
	const struct cert_info *rsa = leaf("rsa"), *ec = leaf("ec");
	const struct cert_info *ec384 = leaf("ec384"), *ed = leaf("ed");
	const struct cert_info *weak = leaf("weak");

	if (!rsa || !ec || !ec384 || !ed || !weak)
		return;
	CHECK_STR(rsa->key, "RSA-2048");
	CHECK_INT(rsa->key_bits, 2048);
	CHECK_STR(ec->key, "EC-P256");
	CHECK_INT(ec->key_bits, 256);
	CHECK_STR(ec384->key, "EC-P384");
	CHECK_INT(ec384->key_bits, 384);
	CHECK_STR(ed->key, "ED25519");
	CHECK_STR(weak->key, "RSA-1024");
	CHECK_INT(weak->key_bits, 1024);
}

static void test_self_signed_only_for_own_signature(void)
{
	const struct cert_info *self = leaf("self"), *root = leaf("root");
	const struct cert_info *inter = leaf("inter"), *rsa = leaf("rsa");

	if (!self || !root || !inter || !rsa)
		return;
	/* self has keyUsage without keyCertSign: still self-signed */
	CHECK(self->self_signed);
	CHECK(root->self_signed);
	CHECK(!inter->self_signed);
	CHECK(!rsa->self_signed);
}

/* --- the cache */

static void test_cache_returns_same_pointer_for_same_der(void)
{
	struct cert_cache *c = cert_cache_new(8);
	const struct cert_info *a, *b;
	uint8_t *der;
	size_t len;

	CHECK(c != NULL);
	if (!c || pki_read("rsa.der", &der, &len)) {
		cert_cache_free(c);
		CHECK(0);
		return;
	}
	a = cert_cache_get(c, der, len, NULL);
	b = cert_cache_get(c, der, len, NULL);
	CHECK(a != NULL);
	CHECK(a == b);
	if (a)
		CHECK_INT(a->refs, 2);
	CHECK_INT(cert_cache_count(c), 1);
	free(der);
	cert_cache_free(c);
}

static void test_cache_counts_distinct_certificates(void)
{
	struct cert_cache *saved = cache;

	cache = cert_cache_new(8);
	CHECK(cache != NULL);
	if (!cache) {
		cache = saved;
		return;
	}
	leaf("rsa");
	leaf("ec");
	leaf("rsa");
	leaf("weak");
	CHECK_INT(cert_cache_count(cache), 3);
	CHECK_INT(cert_cache_retired(cache), 0);
	cert_cache_free(cache);
	cache = saved;
}

static void test_cache_evicts_lru_but_keeps_pinned_pointers_valid(void)
{
	struct cert_cache *saved = cache;
	const struct cert_info *rsa, *ec, *ec2, *rsa2;

	cache = cert_cache_new(2);
	CHECK(cache != NULL);
	if (!cache) {
		cache = saved;
		return;
	}
	rsa = leaf("rsa");
	cert_cache_pin(cache, rsa);
	ec = leaf("ec");
	leaf("weak");                 /* table full: rsa, the LRU, retires */
	CHECK_INT(cert_cache_count(cache), 2);
	CHECK_INT(cert_cache_retired(cache), 1);
	if (rsa)   /* still readable: ASan would flag a freed entry */
		CHECK_STR(rsa->subject, "CN=www.example.test,O=Tlswatch Test");
	ec2 = leaf("ec");
	CHECK(ec2 == ec);             /* still in the table */
	rsa2 = leaf("rsa");           /* parsed again: weak, the LRU, is freed */
	CHECK(rsa2 != NULL && rsa2 != rsa);
	if (rsa && rsa2)
		CHECK_STR(rsa2->sha256_hex, rsa->sha256_hex);
	CHECK_INT(cert_cache_count(cache), 2);
	CHECK_INT(cert_cache_retired(cache), 1);
	CHECK(leaf("ec") == ec);
	cert_cache_unpin(cache, rsa); /* the last pin: the retired rsa goes */
	CHECK_INT(cert_cache_retired(cache), 0);
	CHECK_INT(cert_cache_live(cache), 2);
	cert_cache_free(cache);
	cache = saved;
}

static void test_cache_rejects_garbage(void)
{
	static const uint8_t junk[] = { 0x30, 0x03, 0x02, 0x01, 0x05 };
	const char *err = NULL;

	CHECK(cert_cache_get(cache, junk, sizeof(junk), &err) == NULL);
	CHECK(err != NULL);
	err = NULL;
	CHECK(cert_cache_get(cache, junk, 0, &err) == NULL);
	CHECK(err != NULL);
}

static void test_cache_rejects_truncated_der(void)
{
	const char *err = NULL;
	uint8_t *der;
	size_t len;

	if (pki_read("rsa.der", &der, &len)) {
		CHECK(0);
		return;
	}
	CHECK(cert_cache_get(cache, der, len - 1, &err) == NULL);
	CHECK_STR(err, "not a DER X.509 certificate");
	free(der);
}

static void test_cache_rejects_trailing_bytes(void)
{
	const char *err = NULL;
	uint8_t *der, *longer;
	size_t len;

	if (pki_read("rsa.der", &der, &len)) {
		CHECK(0);
		return;
	}
	longer = malloc(len + 1);
	CHECK(longer != NULL);
	if (longer) {
		memcpy(longer, der, len);
		longer[len] = 0;
		CHECK(cert_cache_get(cache, longer, len + 1, &err) == NULL);
		CHECK_STR(err, "trailing bytes after the certificate");
	}
	free(longer);
	free(der);
}

/* --- host matching */

/* cert_matches_host() of a C string */
static bool covers(const struct cert_info *ci, const char *name)
{
	return cert_matches_host(ci, name, name ? strlen(name) : 0);
}

static void test_host_matches_dns_san_case_insensitively(void)
{
	const struct cert_info *ci = leaf("rsa");

	if (!ci)
		return;
	CHECK(covers(ci, "www.example.test"));
	CHECK(covers(ci, "WWW.Example.TEST"));
	CHECK(covers(ci, "example.test"));
	CHECK(!covers(ci, "mail.example.test"));
}

static void test_host_wildcard_covers_one_label(void)
{
	const struct cert_info *ci = leaf("rsa");

	if (!ci)
		return;
	CHECK(covers(ci, "v1.api.example.test"));
	CHECK(!covers(ci, "api.example.test"));
	CHECK(!covers(ci, "a.v1.api.example.test"));
}

static void test_host_ip_matches_ip_san_only(void)
{
	const struct cert_info *rsa = leaf("rsa"), *plain = leaf("expired");

	if (!rsa || !plain)
		return;
	CHECK(covers(rsa, "192.0.2.10"));
	CHECK(covers(rsa, "2001:db8::1:0:0:1"));
	CHECK(!covers(rsa, "192.0.2.11"));
	/* expired has the dNSName "192.0.2.55": an IP SNI never matches it */
	CHECK(!covers(plain, "192.0.2.55"));
}

static void test_host_cn_only_without_dns_sans(void)
{
	const struct cert_info *cnonly = leaf("cnonly"), *ec384 = leaf("ec384");

	if (!cnonly || !ec384)
		return;
	CHECK(covers(cnonly, "legacy.example.test"));
	/* ec384 has DNS SANs, so its CN is not looked at */
	CHECK(!covers(ec384, "ec384.example.test"));
	CHECK(covers(ec384, "leaf.example.test"));
}

static void test_host_empty_or_null_never_matches(void)
{
	const struct cert_info *ci = leaf("rsa");

	if (!ci)
		return;
	CHECK(!covers(ci, ""));
	CHECK(!covers(ci, NULL));
	CHECK(!covers(NULL, "www.example.test"));
	CHECK(!covers(ci, "."));
}

/* An absolute name (one trailing dot) is the name: "www.example.test."
 * is covered as www.example.test is; two dots are not a name. */
static void test_host_trailing_dot_is_the_name(void)
{
	const struct cert_info *ci = leaf("rsa"), *cnonly = leaf("cnonly");

	if (!ci || !cnonly)
		return;
	CHECK(covers(ci, "www.example.test."));
	CHECK(covers(ci, "WWW.Example.TEST."));
	CHECK(covers(ci, "v1.api.example.test."));
	CHECK(covers(ci, "192.0.2.10."));
	CHECK(covers(cnonly, "legacy.example.test."));
	CHECK(!covers(ci, "www.example.test.."));
	CHECK(!covers(ci, "mail.example.test."));
}

/* The one rule every check compares names by. */
static void test_host_name_fold(void)
{
	char out[8];

	CHECK_INT(tw_host_name_len("a.test.", 7), 6);
	CHECK_INT(tw_host_name_len("a.test..", 8), 7);
	CHECK_INT(tw_host_name_len("", 0), 0);
	CHECK_INT(tw_host_name_fold("A.Test.", 7, out, sizeof(out)), 6);
	CHECK_STR(out, "a.test");
	CHECK_INT(tw_host_name_fold("\xc3\x89.TEST", 7, out, sizeof(out)), 7);
	CHECK_STR(out, "\xc3\x89.test");     /* ASCII only, bytes kept */
	CHECK_INT(tw_host_name_fold("ABCDEFGHIJ", 10, out, sizeof(out)), 7);
	CHECK_STR(out, "abcdefg");
	CHECK_INT(tw_host_name_fold("x", 1, out, 0), 0);
}

/* The memo answers as cert_matches_host does, per leaf: asked twice, the
 * same name gets each leaf's own answer. */
static void test_host_memo_answers_per_leaf_and_name(void)
{
	const char *names[] = { "www.example.test", "WWW.Example.TEST",
				"v1.api.example.test", "api.example.test",
				"192.0.2.10", "leaf.example.test", "", "legacy.example.test",
				"WWW.example.test.", "192.0.2.10.", "api.example.test.",
				"leaf.example.test.." };
	const struct cert_info *leaves[] = { leaf("rsa"), leaf("ec384"), leaf("cnonly") };
	struct host_memo *m = host_memo_new();
	int round, matched = 0;
	size_t i, j;

	CHECK(m != NULL);
	for (round = 0; m && round < 2; round++)
		for (i = 0; i < sizeof(leaves) / sizeof(leaves[0]); i++)
			for (j = 0; j < sizeof(names) / sizeof(names[0]); j++) {
				bool got = host_memo_matches(m, leaves[i], names[j], strlen(names[j]));

				CHECK(got == covers(leaves[i], names[j]));
				matched += got;
			}
	/* rsa: www three times (case, dot), v1.api, 192.0.2.10 twice (dot);
	 * ec384: leaf; cnonly: legacy */
	CHECK_INT(matched, 2 * 8);
	CHECK(!host_memo_matches(m, leaves[0], NULL, 0));
	host_memo_free(m);
}

/* An SNI off the wire may hold a NUL; the name before it is not what was
 * asked for: no certificate covers it, memo or not, even after the name
 * before the NUL was found covered. */
static void test_host_name_with_nul_never_matches(void)
{
	static const char sni[] = "www.example.test\0evil.test";
	const struct cert_info *ci = leaf("rsa");
	struct host_memo *m = host_memo_new();

	CHECK(m != NULL);
	if (!ci || !m) {
		host_memo_free(m);
		return;
	}
	CHECK(tw_host_name_has_nul(sni, sizeof(sni) - 1));
	CHECK(!tw_host_name_has_nul(sni, 16));
	CHECK(cert_matches_host(ci, sni, 16));
	CHECK(!cert_matches_host(ci, sni, sizeof(sni) - 1));
	CHECK(!cert_matches_host(ci, "www.example.test\0", 17));
	CHECK(host_memo_matches(m, ci, sni, 16));
	CHECK(!host_memo_matches(m, ci, sni, sizeof(sni) - 1));
	CHECK(host_memo_matches(m, ci, sni, 16));
	host_memo_free(m);
}

/* --- findings */

static void test_finding_names_and_severities(void)
{
	static const struct {
		enum finding_kind k;
		const char *name;
		enum finding_severity sev;
	} want[] = {
		{ FINDING_REVOKED, "revoked", SEV_CRITICAL },
		{ FINDING_EXPIRED, "expired", SEV_CRITICAL },
		{ FINDING_NOT_YET_VALID, "not_yet_valid", SEV_CRITICAL },
		{ FINDING_SUPERSEDED, "superseded", SEV_CRITICAL },
		{ FINDING_UNEXPECTED, "unexpected", SEV_CRITICAL },
		{ FINDING_UNTRUSTED, "untrusted", SEV_CRITICAL },
		{ FINDING_HOSTNAME_MISMATCH, "hostname_mismatch", SEV_CRITICAL },
		{ FINDING_REVOKED_STAPLE, "revoked_staple", SEV_CRITICAL },
		{ FINDING_STALE_STAPLE, "stale_staple", SEV_WARNING },
		{ FINDING_EXPIRING_SOON, "expiring_soon", SEV_WARNING },
		{ FINDING_SELF_SIGNED, "self_signed", SEV_WARNING },
		{ FINDING_WEAK_KEY, "weak_key", SEV_WARNING },
	};
	size_t i;

	CHECK_INT(sizeof(want) / sizeof(want[0]), FINDING__COUNT);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		CHECK_STR(finding_kind_name(want[i].k), want[i].name);
		CHECK_INT(finding_kind_severity(want[i].k), want[i].sev);
		CHECK_INT(finding_kind_parse(want[i].name), want[i].k);
	}
	CHECK_STR(finding_severity_name(SEV_CRITICAL), "critical");
	CHECK_STR(finding_severity_name(SEV_WARNING), "warning");
	CHECK_STR(finding_severity_name(SEV_INFO), "info");
}

static void test_finding_parse_unknown_is_minus_one(void)
{
	CHECK_INT(finding_kind_parse("Expired"), -1);
	CHECK_INT(finding_kind_parse(""), -1);
	CHECK_INT(finding_kind_parse(NULL), -1);
}

/* A stored list of kinds, walked: unknown and empty names are -1, a name
 * longer than any kind's is not cut down to one, a trailing comma ends. */
static void test_finding_kind_list_walks_every_name(void)
{
	const char *p = "revoked,,Expired,superseded,"
			"weak_key_weak_key_weak_key_weak_key,weak_key,";
	const int want[] = { FINDING_REVOKED, -1, -1, FINDING_SUPERSEDED, -1,
			     FINDING_WEAK_KEY };
	size_t i;
	int k = -2;

	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		CHECK(finding_kind_next(&p, &k));
		CHECK_INT(k, want[i]);
	}
	CHECK(!finding_kind_next(&p, &k));
	CHECK_STR(p, "");
	p = NULL;
	CHECK(!finding_kind_next(&p, &k));
}

static void test_finding_add_replaces_detail_of_same_kind(void)
{
	struct finding_list l = { 0 };

	finding_add(&l, FINDING_UNTRUSTED, "first %d", 1);
	finding_add(&l, FINDING_WEAK_KEY, "key");
	finding_add(&l, FINDING_UNTRUSTED, "second %d", 2);
	CHECK_INT(l.n, 2);
	CHECK_INT(l.items[0].kind, FINDING_UNTRUSTED);
	CHECK_STR(l.items[0].detail, "second 2");
	CHECK(finding_has(&l, FINDING_WEAK_KEY));
	CHECK(!finding_has(&l, FINDING_EXPIRED));
}

/* The findings of @name at @at, as a list of kind names: "expired,weak_key". */
static const char *kinds_of(const char *name, const char *sni, int64_t at,
			    const struct leaf_check_opts *opts,
			    struct finding_list *l)
{
	static char buf[256];
	const struct cert_info *ci = leaf(name);
	size_t off = 0;
	int i;

	memset(l, 0, sizeof(*l));
	buf[0] = '\0';
	if (!ci)
		return "(no cert)";
	findings_check_leaf(ci, sni, sni ? strlen(sni) : 0, at, opts, NULL, l);
	for (i = 0; i < l->n; i++)
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%s",
					i ? "," : "",
					finding_kind_name(l->items[i].kind));
	return buf;
}

static void test_findings_none_for_good_leaf(void)
{
	struct finding_list l;

	CHECK_STR(kinds_of("rsa", "www.example.test", AT_2026_01_01, NULL, &l), "");
	CHECK_STR(kinds_of("ec", "ec.example.test", AT_2026_01_01, NULL, &l), "");
	CHECK_STR(kinds_of("ed", "leaf.example.test", AT_2026_01_01, NULL, &l), "");
}

static void test_findings_expired_with_days(void)
{
	struct finding_list l;

	CHECK_STR(kinds_of("expired", NULL, AT_2026_01_01, NULL, &l), "expired");
	CHECK_INT(finding_kind_severity(l.items[0].kind), SEV_CRITICAL);
	CHECK_STR(l.items[0].detail,
		  "expired 2025-06-01T00:00:00Z, 214 days before the handshake");
}

static void test_findings_expired_boundary_is_not_after(void)
{
	struct finding_list l;

	/* As OpenSSL's verification: the second before not_after
	 * (2025-06-01T00:00:00Z) is the last valid one; at not_after itself
	 * X509_verify_cert() already says "certificate has expired". */
	CHECK_STR(kinds_of("expired", NULL, 1748736000LL - 1, NULL, &l), "expiring_soon");
	CHECK_STR(l.items[0].detail,
		  "expires 2025-06-01T00:00:00Z, less than a day after the handshake");
	CHECK_STR(kinds_of("expired", NULL, 1748736000LL, NULL, &l), "expired");
	CHECK_STR(l.items[0].detail,
		  "expired 2025-06-01T00:00:00Z, less than a day before the handshake");
	CHECK_STR(kinds_of("expired", NULL, 1748736001LL, NULL, &l), "expired");
	CHECK_STR(kinds_of("expired", NULL, 1748736000LL + 86400, NULL, &l), "expired");
	CHECK_STR(l.items[0].detail,
		  "expired 2025-06-01T00:00:00Z, 1 day before the handshake");
}

static void test_findings_not_yet_valid_boundary_is_not_before(void)
{
	struct finding_list l;

	/* valid from not_before (2030-01-01T00:00:00Z) on, that second
	 * included, as OpenSSL's verification */
	CHECK_STR(kinds_of("notyet", NULL, 1893456000LL, NULL, &l), "");
	CHECK_STR(kinds_of("notyet", NULL, 1893456000LL - 1, NULL, &l),
		  "not_yet_valid");
}

static void test_findings_not_yet_valid(void)
{
	struct finding_list l;

	CHECK_STR(kinds_of("notyet", "leaf.example.test", AT_2026_01_01, NULL, &l),
		  "not_yet_valid");
	CHECK_STR(l.items[0].detail,
		  "not valid before 2030-01-01T00:00:00Z, 1461 days after the handshake");
}

static void test_findings_expiring_soon_inside_window(void)
{
	struct finding_list l;

	CHECK_STR(kinds_of("rsa", NULL, AT_2026_12_25, NULL, &l), "expiring_soon");
	CHECK_INT(finding_kind_severity(l.items[0].kind), SEV_WARNING);
	CHECK_STR(l.items[0].detail,
		  "expires 2027-01-01T00:00:00Z, 7 days after the handshake");
}

static void test_findings_expiring_soon_window_is_configurable(void)
{
	struct leaf_check_opts opts = { .warn_days = 40 };
	struct finding_list l;

	CHECK_STR(kinds_of("rsa", NULL, AT_2026_12_01, NULL, &l), "");
	CHECK_STR(kinds_of("rsa", NULL, AT_2026_12_01, &opts, &l), "expiring_soon");
	CHECK_STR(l.items[0].detail,
		  "expires 2027-01-01T00:00:00Z, 31 days after the handshake");
}

/* expiring_soon of the chain @names (leaf first) at @at: its detail, ""
 * without one. */
static const char *chain_expiring(const char *const *names, int n, int64_t at,
				  const struct leaf_check_opts *opts)
{
	static char buf[FINDING_DETAIL_MAX];
	const struct cert_info *chain[4] = { NULL };
	struct finding_list l;
	int i;

	memset(&l, 0, sizeof(l));
	buf[0] = '\0';
	for (i = 0; i < n && i < 4; i++)
		chain[i] = names[i] ? leaf(names[i]) : NULL;
	findings_check_leaf(chain[0], NULL, 0, at, opts, NULL, &l);
	findings_check_chain(chain, n, at, opts, &l);
	for (i = 0; i < l.n; i++)
		if (l.items[i].kind == FINDING_EXPIRING_SOON)
			snprintf(buf, sizeof(buf), "%s", l.items[i].detail);
	return buf;
}

static void test_chain_member_expiring_soon_is_named(void)
{
	const char *chain[] = { "ec", "rsa" };

	CHECK_STR(chain_expiring(chain, 2, AT_2026_12_25, NULL),
		  "chain certificate 1 (CN=www.example.test,O=Tlswatch Test) expires "
		  "2027-01-01T00:00:00Z, 7 days after the handshake");
}

static void test_chain_member_expiring_soon_follows_the_leafs(void)
{
	const char *chain[] = { "rsa", "ec384", "ec" };

	CHECK_STR(chain_expiring(chain, 3, AT_2026_12_25, NULL),
		  "expires 2027-01-01T00:00:00Z, 7 days after the handshake; "
		  "chain certificate 1 (CN=ec384.example.test) expires "
		  "2027-01-01T00:00:00Z, 7 days after the handshake");
}

static void test_chain_member_expiring_first_is_named(void)
{
	const char *chain[] = { "ec", "ec384", NULL, "expired" };

	/* 2025-05-25: expired.example.test ends on 2025-06-01, ec384 in 2027 */
	CHECK_STR(chain_expiring(chain, 4, 1748736000LL - 7 * 86400, &(struct leaf_check_opts){
				.warn_days = 800 }),
		  "chain certificate 3 (CN=expired.example.test) expires "
		  "2025-06-01T00:00:00Z, 7 days after the handshake");
}

static void test_chain_member_window_and_edges(void)
{
	const char *chain[] = { "ec", "rsa" };
	const char *old[] = { "ec", "expired" };
	struct leaf_check_opts wide = { .warn_days = 40 }, off = { .warn_days = -1 };

	CHECK_STR(chain_expiring(chain, 2, AT_2026_12_01, NULL), "");
	CHECK_STR(chain_expiring(chain, 2, AT_2026_12_01, &wide),
		  "chain certificate 1 (CN=www.example.test,O=Tlswatch Test) expires "
		  "2027-01-01T00:00:00Z, 31 days after the handshake");
	CHECK_STR(chain_expiring(chain, 2, AT_2026_12_25, &off), "");
	/* the last valid second warns; from not_after on, chain verification
	 * says untrusted, not this check */
	CHECK_STR(chain_expiring(old, 2, 1748736000LL - 1, NULL),
		  "chain certificate 1 (CN=expired.example.test) expires "
		  "2025-06-01T00:00:00Z, less than a day after the handshake");
	CHECK_STR(chain_expiring(old, 2, 1748736000LL, NULL), "");
	CHECK_STR(chain_expiring(old, 1, 1748736000LL - 1, NULL), "");
}

static void test_findings_expiring_soon_off_with_negative_window(void)
{
	struct leaf_check_opts opts = { .warn_days = -1 };
	struct finding_list l;

	CHECK_STR(kinds_of("rsa", NULL, AT_2026_12_25, &opts, &l), "");
	/* expired is still reported */
	CHECK_STR(kinds_of("expired", NULL, AT_2026_01_01, &opts, &l), "expired");
}

static void test_findings_self_signed(void)
{
	struct finding_list l;

	CHECK_STR(kinds_of("self", "self.example.test", AT_2026_01_01, NULL, &l),
		  "self_signed");
	CHECK_INT(finding_kind_severity(l.items[0].kind), SEV_WARNING);
}

static void test_findings_hostname_mismatch_names_sni_and_sans(void)
{
	struct finding_list l;

	CHECK_STR(kinds_of("rsa", "other.example.test", AT_2026_01_01, NULL, &l),
		  "hostname_mismatch");
	CHECK_STR(l.items[0].detail,
		  "SNI \"other.example.test\" is not covered by the certificate: "
		  "www.example.test, *.api.example.test, 192.0.2.10, "
		  "2001:db8::1:0:0:1, example.test");
}

static void test_findings_hostname_mismatch_sni_made_printable(void)
{
	struct finding_list l;

	CHECK_STR(kinds_of("cnonly", "bad\x01name\xff", AT_2026_01_01, NULL, &l),
		  "hostname_mismatch");
	CHECK_STR(l.items[0].detail,
		  "SNI \"bad\\x01name\\xff\" is not covered by the certificate: "
		  "no SANs, subject CN=legacy.example.test");
}

/* The SNI's every byte is checked: "www.example.test\0evil" is not the
 * covered www.example.test, and the detail shows the NUL escaped. */
static void test_findings_hostname_mismatch_sni_with_nul(void)
{
	static const char sni[] = "www.example.test\0evil";
	const struct cert_info *ci = leaf("rsa");
	struct finding_list l = { 0 };

	if (!ci)
		return;
	findings_check_leaf(ci, sni, sizeof(sni) - 1, AT_2026_01_01, NULL, NULL, &l);
	CHECK_INT(l.n, 1);
	CHECK_INT(l.items[0].kind, FINDING_HOSTNAME_MISMATCH);
	CHECK_STR(l.items[0].detail,
		  "SNI \"www.example.test\\x00evil\" holds a NUL byte (no DNS "
		  "name does), is not covered by the certificate: "
		  "www.example.test, *.api.example.test, 192.0.2.10, "
		  "2001:db8::1:0:0:1, example.test");
}

static void test_findings_no_hostname_check_without_sni(void)
{
	struct finding_list l;

	CHECK_STR(kinds_of("rsa", NULL, AT_2026_01_01, NULL, &l), "");
	CHECK_STR(kinds_of("rsa", "", AT_2026_01_01, NULL, &l), "");
}

static void test_findings_weak_rsa_key(void)
{
	struct leaf_check_opts opts = { .min_rsa_bits = 1024 };
	struct finding_list l;

	CHECK_STR(kinds_of("weak", NULL, AT_2026_01_01, NULL, &l), "weak_key");
	CHECK_INT(finding_kind_severity(l.items[0].kind), SEV_WARNING);
	CHECK_STR(l.items[0].detail, "RSA-1024 key, below 2048 bits");
	CHECK_STR(kinds_of("weak", NULL, AT_2026_01_01, &opts, &l), "");
}

static void test_findings_several_at_once(void)
{
	struct finding_list l;

	/* self-signed leaf, wrong name, at 2049-12-25: expiring soon */
	CHECK_STR(kinds_of("self", "www.example.test", 2524003200LL, NULL, &l),
		  "expiring_soon,self_signed,hostname_mismatch");
}

int main(void)
{
	if (pki_create()) {
		pki_dump_log();
		printf("not ok - pki_create\n");
		pki_destroy();
		return 1;
	}
	cache = cert_cache_new(64);
	if (!cache) {
		printf("not ok - cert_cache_new\n");
		pki_destroy();
		return 1;
	}
	RUN_TEST(test_sha256_equals_openssl_der_digest);
	RUN_TEST(test_spki_sha256_equals_openssl_pubkey_digest);
	RUN_TEST(test_serial_equals_openssl_serial);
	RUN_TEST(test_subject_and_issuer_match_openssl_rfc2253);
	RUN_TEST(test_subject_is_rfc2253_most_specific_first);
	RUN_TEST(test_serial_has_no_leading_zeros);
	RUN_TEST(test_serial_zero_is_0);
	RUN_TEST(test_serial_negative_has_minus);
	RUN_TEST(test_validity_is_epoch_seconds);
	RUN_TEST(test_validity_generalized_time_after_2038);
	RUN_TEST(test_validity_utctime_before_1970);
	RUN_TEST(test_sans_dns_and_ip_in_certificate_order);
	RUN_TEST(test_sans_truncated_at_cert_max_san);
	RUN_TEST(test_sans_escaped_and_other_types_skipped);
	RUN_TEST(test_no_san_extension_gives_no_sans);
	RUN_TEST(test_key_names_and_bits);
	RUN_TEST(test_self_signed_only_for_own_signature);
	RUN_TEST(test_cache_returns_same_pointer_for_same_der);
	RUN_TEST(test_cache_counts_distinct_certificates);
	RUN_TEST(test_cache_evicts_lru_but_keeps_pinned_pointers_valid);
	RUN_TEST(test_cache_rejects_garbage);
	RUN_TEST(test_cache_rejects_truncated_der);
	RUN_TEST(test_cache_rejects_trailing_bytes);
	RUN_TEST(test_host_matches_dns_san_case_insensitively);
	RUN_TEST(test_host_wildcard_covers_one_label);
	RUN_TEST(test_host_ip_matches_ip_san_only);
	RUN_TEST(test_host_cn_only_without_dns_sans);
	RUN_TEST(test_host_empty_or_null_never_matches);
	RUN_TEST(test_host_trailing_dot_is_the_name);
	RUN_TEST(test_host_name_fold);
	RUN_TEST(test_host_memo_answers_per_leaf_and_name);
	RUN_TEST(test_host_name_with_nul_never_matches);
	RUN_TEST(test_finding_names_and_severities);
	RUN_TEST(test_finding_parse_unknown_is_minus_one);
	RUN_TEST(test_finding_kind_list_walks_every_name);
	RUN_TEST(test_finding_add_replaces_detail_of_same_kind);
	RUN_TEST(test_findings_none_for_good_leaf);
	RUN_TEST(test_findings_expired_with_days);
	RUN_TEST(test_findings_expired_boundary_is_not_after);
	RUN_TEST(test_findings_not_yet_valid_boundary_is_not_before);
	RUN_TEST(test_findings_not_yet_valid);
	RUN_TEST(test_findings_expiring_soon_inside_window);
	RUN_TEST(test_findings_expiring_soon_window_is_configurable);
	RUN_TEST(test_findings_expiring_soon_off_with_negative_window);
	RUN_TEST(test_findings_self_signed);
	RUN_TEST(test_findings_hostname_mismatch_names_sni_and_sans);
	RUN_TEST(test_findings_hostname_mismatch_sni_made_printable);
	RUN_TEST(test_findings_hostname_mismatch_sni_with_nul);
	RUN_TEST(test_findings_no_hostname_check_without_sni);
	RUN_TEST(test_findings_weak_rsa_key);
	RUN_TEST(test_findings_several_at_once);
	RUN_TEST(test_chain_member_expiring_soon_is_named);
	RUN_TEST(test_chain_member_expiring_soon_follows_the_leafs);
	RUN_TEST(test_chain_member_expiring_first_is_named);
	RUN_TEST(test_chain_member_window_and_edges);
	cert_cache_free(cache);
	pki_destroy();
	return CHECK_EXIT_CODE();
}
