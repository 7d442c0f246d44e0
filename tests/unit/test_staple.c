// SPDX-License-Identifier: MIT
/*
 * Stapled OCSP responses made at test time by `openssl ocsp` acting as a
 * responder over an index file: good, revoked, unknown, signed by the
 * issuer, by a delegated responder, by keys that must not be accepted.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "cert_fixture.h"
#include "cert/cert_info.h"
#include "cert/staple.h"
#include "cert/staple_cache.h"

#define REVOKED_AT_2025_03_01 1740787200LL
#define OCSP_REASON_KEY_COMPROMISE 1

static struct cert_cache *cache;
static const struct cert_info *rsa, *ec, *inter, *root;
static time_t made_from, made_until;   /* when the responses were produced */

static const struct cert_info *load(const char *file)
{
	const struct cert_info *ci = NULL;
	uint8_t *der;
	size_t len;

	if (pki_read(file, &der, &len) == 0) {
		ci = cert_cache_get(cache, der, len, NULL);
		free(der);
	}
	return ci;
}

/* Checks @file (a response in the PKI directory) for @leaf/@issuer. */
static void check_file(const char *file, const struct cert_info *leaf,
		       const struct cert_info *issuer, struct staple_info *st)
{
	uint8_t *der = NULL;
	size_t len = 0;

	memset(st, 0xa5, sizeof(*st));   /* staple_check must set every field */
	CHECK(pki_read(file, &der, &len) == 0);
	staple_check(der, len, leaf, issuer, st);
	free(der);
}

/* index.txt lines as `openssl ocsp -index` reads them. */
static int write_indexes(void)
{
	char serial[128], good[512], revoked[512], other[512];
	const char *rsa_subj = "/O=Tlswatch Test/CN=www.example.test";

	if (pki_line(serial, sizeof(serial),
		     "openssl x509 -in rsa.pem -serial -noout | sed 's/^serial=//'"))
		return -1;
	snprintf(good, sizeof(good), "V\t270101000000Z\t\t%s\tunknown\t%s\n",
		 serial, rsa_subj);
	snprintf(revoked, sizeof(revoked),
		 "R\t270101000000Z\t250301000000Z,keyCompromise\t%s\tunknown\t%s\n",
		 serial, rsa_subj);
	if (pki_line(serial, sizeof(serial),
		     "openssl x509 -in ec.pem -serial -noout | sed 's/^serial=//'"))
		return -1;
	snprintf(other, sizeof(other), "V\t600101000000Z\t\t%s\tunknown\t%s\n",
		 serial, "/CN=ec.example.test");
	return pki_write("good.idx", good) || pki_write("revoked.idx", revoked) ||
	       pki_write("other.idx", other) ? -1 : 0;
}

/* @out from the responder answering for @leaf.pem with @index. */
static int respond(const char *out, const char *index, const char *signer,
		   const char *leaf_name, const char *extra)
{
	return pki_sh("openssl ocsp -index %s -rsigner %s.pem -rkey %s.key "
		      "-CA inter.pem %s -issuer inter.pem -cert %s.pem "
		      "-respout %s -ndays 1",
		      index, signer, signer, extra, leaf_name, out);
}

static int make_responders(void)
{
	return pki_csr("ocsp", PKI_P256, NULL, "/CN=Tlswatch Test OCSP Responder") ||
	       pki_x509_sign("ocsp", "ext_ocsp", "0x77") ||
	       pki_csr("oldocsp", PKI_P256, NULL, "/CN=Tlswatch Test Old Responder") ||
	       pki_ca_sign("oldocsp", "ext_ocsp", "79", "20240101000000Z",
			   "20250101000000Z", "-cert inter.pem -keyfile inter.key") ||
	       pki_csr("noeku", PKI_P256, NULL, "/CN=Tlswatch Test Not A Responder") ||
	       pki_x509_sign("noeku", "ext_noeku", "0x78") ||
	       pki_sh("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
		      "-nodes -keyout unrel.key -out unrel.pem -days 30 "
		      "-subj '/CN=Tlswatch Test Unrelated'") ? -1 : 0;
}

static int make_responses(void)
{
	if (write_indexes() || make_responders())
		return -1;
	made_from = time(NULL);
	if (respond("good.der", "good.idx", "inter", "rsa", "") ||
	    respond("revoked.der", "revoked.idx", "inter", "rsa", "") ||
	    respond("unknown.der", "other.idx", "inter", "rsa", "") ||
	    respond("ec_good.der", "other.idx", "inter", "ec", "") ||
	    respond("sha256.der", "good.idx", "inter", "rsa", "-sha256 -resp_key_id") ||
	    respond("delegated.der", "good.idx", "ocsp", "rsa", "") ||
	    respond("noeku.der", "good.idx", "noeku", "rsa", "") ||
	    respond("oldocsp.der", "good.idx", "oldocsp", "rsa", "") ||
	    respond("unrelated.der", "good.idx", "unrel", "rsa", "") ||
	    respond("by_root.der", "good.idx", "root", "rsa", ""))
		return -1;
	made_until = time(NULL);
	return 0;
}

/* --- status and times */

static void test_good_staple_parsed_and_verified(void)
{
	struct staple_info st;

	check_file("good.der", rsa, inter, &st);
	CHECK(st.parsed);
	CHECK(st.error == NULL);
	CHECK_INT(st.status, OCSP_ST_GOOD);
	CHECK_STR(ocsp_status_name(st.status), "good");
	CHECK(st.matches_leaf);
	CHECK(st.verified);
	CHECK_INT(st.revoked_at, 0);
	CHECK_INT(st.revocation_reason, -1);
}

static void test_times_are_the_responders(void)
{
	struct staple_info st;

	check_file("good.der", rsa, inter, &st);
	CHECK(st.this_update >= made_from && st.this_update <= made_until);
	CHECK(st.produced_at >= made_from && st.produced_at <= made_until);
	CHECK_INT(st.next_update - st.this_update, 86400);   /* -ndays 1 */
}

static void test_revoked_staple_has_time_and_reason(void)
{
	struct staple_info st;

	check_file("revoked.der", rsa, inter, &st);
	CHECK(st.parsed);
	CHECK_INT(st.status, OCSP_ST_REVOKED);
	CHECK_STR(ocsp_status_name(st.status), "revoked");
	CHECK_INT(st.revoked_at, REVOKED_AT_2025_03_01);
	CHECK_INT(st.revocation_reason, OCSP_REASON_KEY_COMPROMISE);
	CHECK(st.matches_leaf);
	CHECK(st.verified);
}

static void test_unknown_staple(void)
{
	struct staple_info st;

	check_file("unknown.der", rsa, inter, &st);
	CHECK(st.parsed);
	CHECK_INT(st.status, OCSP_ST_UNKNOWN);
	CHECK_STR(ocsp_status_name(st.status), "unknown");
	CHECK(st.matches_leaf);
	CHECK(st.verified);
}

static void test_sha256_certid_and_key_hash_responder_id(void)
{
	struct staple_info st;

	check_file("sha256.der", rsa, inter, &st);
	CHECK(st.parsed);
	CHECK_INT(st.status, OCSP_ST_GOOD);
	CHECK(st.matches_leaf);
	CHECK(st.verified);
}

/* --- which leaf */

static void test_response_for_another_leaf_does_not_match(void)
{
	struct staple_info st;

	check_file("ec_good.der", rsa, inter, &st);
	CHECK(st.parsed);
	CHECK(!st.matches_leaf);
	CHECK(!st.verified);
	CHECK_INT(st.this_update, 0);

	check_file("ec_good.der", ec, inter, &st);
	CHECK(st.matches_leaf);
	CHECK_INT(st.status, OCSP_ST_GOOD);
	CHECK(st.verified);
}

static void test_without_issuer_serial_match_is_not_verified(void)
{
	struct staple_info st;

	check_file("good.der", rsa, NULL, &st);
	CHECK(st.parsed);
	CHECK(st.matches_leaf);
	CHECK_INT(st.status, OCSP_ST_GOOD);
	CHECK(!st.verified);
}

/* --- who signed */

static void test_delegated_responder_signed_by_issuer_verifies(void)
{
	struct staple_info st;

	check_file("delegated.der", rsa, inter, &st);
	CHECK(st.parsed);
	CHECK(st.matches_leaf);
	CHECK(st.verified);
}

static void test_responder_without_ocsp_signing_usage_rejected(void)
{
	struct staple_info st;

	check_file("noeku.der", rsa, inter, &st);
	CHECK(st.parsed);
	CHECK(st.matches_leaf);
	CHECK(!st.verified);
}

static void test_responder_expired_when_response_produced_rejected(void)
{
	struct staple_info st;

	/* oldocsp was valid during 2024 only; the response is from today */
	check_file("oldocsp.der", rsa, inter, &st);
	CHECK(st.parsed);
	CHECK(st.matches_leaf);
	CHECK(!st.verified);
}

static void test_unrelated_signer_rejected(void)
{
	struct staple_info st;

	check_file("unrelated.der", rsa, inter, &st);
	CHECK(st.parsed);
	CHECK_INT(st.status, OCSP_ST_GOOD);
	CHECK(!st.verified);
}

static void test_signed_by_issuers_ca_rejected(void)
{
	struct staple_info st;

	/* The root issued the intermediate, not the leaf: only the issuer
	 * itself (or its delegate) may answer for the leaf. */
	check_file("by_root.der", rsa, inter, &st);
	CHECK(st.parsed);
	CHECK(!st.verified);
}

static void test_wrong_issuer_given_does_not_match(void)
{
	struct staple_info st;

	check_file("good.der", rsa, rsa, &st);
	CHECK(st.parsed);
	CHECK(!st.matches_leaf);
	CHECK(!st.verified);
}

/* --- malformed */

static void test_garbage_not_parsed(void)
{
	static const uint8_t junk[] = "certainly not DER";
	struct staple_info st;

	staple_check(junk, sizeof(junk), rsa, inter, &st);
	CHECK(!st.parsed);
	CHECK_STR(st.error, "not a DER OCSP response");
	CHECK(!st.verified);
	CHECK(!st.matches_leaf);
}

static void test_empty_not_parsed(void)
{
	struct staple_info st;

	staple_check(NULL, 0, rsa, inter, &st);
	CHECK(!st.parsed);
	CHECK(st.error != NULL);
}

static void test_try_later_not_parsed(void)
{
	/* OCSPResponse { responseStatus tryLater(3) } */
	static const uint8_t try_later[] = { 0x30, 0x03, 0x0a, 0x01, 0x03 };
	struct staple_info st;

	staple_check(try_later, sizeof(try_later), rsa, inter, &st);
	CHECK(!st.parsed);
	CHECK_STR(st.error, "OCSP responder status tryLater");
}

static void test_truncated_response_not_parsed(void)
{
	struct staple_info st;
	uint8_t *der;
	size_t len;

	if (pki_read("good.der", &der, &len)) {
		CHECK(0);
		return;
	}
	staple_check(der, len - 1, rsa, inter, &st);
	CHECK(!st.parsed);
	CHECK_STR(st.error, "not a DER OCSP response");
	free(der);
}

static void test_trailing_bytes_not_parsed(void)
{
	struct staple_info st;
	uint8_t *der, *longer;
	size_t len;

	if (pki_read("good.der", &der, &len)) {
		CHECK(0);
		return;
	}
	longer = malloc(len + 1);
	CHECK(longer != NULL);
	if (longer) {
		memcpy(longer, der, len);
		longer[len] = 0;
		staple_check(longer, len + 1, rsa, inter, &st);
		CHECK(!st.parsed);
		CHECK_STR(st.error, "trailing bytes after the OCSP response");
		CHECK_INT(st.status, OCSP_ST_UNKNOWN);
	}
	free(longer);
	free(der);
}

static void test_no_leaf_parses_without_match(void)
{
	struct staple_info st;

	check_file("good.der", NULL, inter, &st);
	CHECK(st.parsed);
	CHECK(!st.matches_leaf);
	CHECK(!st.verified);
}

static int setup(void)
{
	if (pki_create() || make_responses())
		return -1;
	cache = cert_cache_new(0);
	if (!cache)
		return -1;
	rsa = load("rsa.der");
	ec = load("ec.der");
	inter = load("inter.der");
	root = load("root.der");
	return rsa && ec && inter && root ? 0 : -1;
}

/* --- the leaf's issuer in the served chain */

static void test_served_issuer_found_out_of_order(void)
{
	const struct cert_info *misordered[] = { rsa, root, inter };
	const struct cert_info *ordered[] = { rsa, inter, root };

	CHECK(staple_served_issuer(misordered, 3) == inter);
	CHECK(staple_served_issuer(ordered, 3) == inter);
}

static void test_served_issuer_absent(void)
{
	const struct cert_info *alone[] = { rsa };
	const struct cert_info *no_inter[] = { rsa, root, NULL };
	const struct cert_info *no_leaf[] = { NULL, inter };

	CHECK(staple_served_issuer(alone, 1) == NULL);
	CHECK(staple_served_issuer(no_inter, 3) == NULL);
	CHECK(staple_served_issuer(no_leaf, 2) == NULL);
}

/* A misordered chain's second certificate (the root) would not match the
 * answer; the issuer found wherever it is does, and verifies. */
static void test_misordered_chain_staple_matches_with_served_issuer(void)
{
	const struct cert_info *misordered[] = { rsa, root, inter };
	struct staple_info st;

	check_file("revoked.der", rsa, misordered[1], &st);
	CHECK(st.parsed && !st.matches_leaf);
	check_file("revoked.der", rsa, staple_served_issuer(misordered, 3), &st);
	CHECK(st.matches_leaf && st.verified);
	CHECK_INT(st.status, OCSP_ST_REVOKED);
}

/* --- the answer's time against the handshake */

static void test_this_update_up_to_skew_after_handshake_is_kept(void)
{
	struct staple_info st;

	check_file("good.der", rsa, inter, &st);
	staple_check_time(&st, st.this_update - 300);
	CHECK(st.parsed && st.matches_leaf && st.verified);
	CHECK_INT(st.status, OCSP_ST_GOOD);
}

static void test_this_update_beyond_skew_after_handshake_is_unusable(void)
{
	struct staple_info st;
	int64_t this_update;

	check_file("revoked.der", rsa, inter, &st);
	this_update = st.this_update;
	staple_check_time(&st, this_update - 301);
	CHECK(!st.parsed && !st.matches_leaf && !st.verified);
	CHECK_STR(st.error, "OCSP thisUpdate more than 300 s after the handshake");
	CHECK_INT(st.status, OCSP_ST_UNKNOWN);
	CHECK_INT(st.this_update, 0);
	CHECK_INT(st.revoked_at, 0);
}

static void test_time_check_leaves_unmatched_answers_alone(void)
{
	struct staple_info st;

	check_file("good.der", ec, inter, &st);
	staple_check_time(&st, 0);
	CHECK(st.parsed && !st.matches_leaf && st.error == NULL);
}

/* --- the memo in front of staple_check */

static bool same_staple(const struct staple_info *a, const struct staple_info *b)
{
	return a->parsed == b->parsed && a->error == b->error &&
	       a->status == b->status && a->matches_leaf == b->matches_leaf &&
	       a->verified == b->verified && a->this_update == b->this_update &&
	       a->next_update == b->next_update && a->produced_at == b->produced_at &&
	       a->revoked_at == b->revoked_at &&
	       a->revocation_reason == b->revocation_reason;
}

/* The same answers as staple_check, first and second time, for every
 * response and for the leaf/issuer pairs that change the answer. */
static void test_staple_cache_answers_like_staple_check(void)
{
	const char *files[] = { "good.der", "revoked.der", "unknown.der",
				"delegated.der", "unrelated.der" };
	const struct cert_info *pairs[][2] = {
		{ rsa, inter }, { rsa, NULL }, { ec, inter }, { rsa, ec },
	};
	struct staple_cache *sc = staple_cache_new();
	struct staple_info want, got;
	uint8_t *der;
	size_t f, p, len;
	int round, verified = 0;

	CHECK(sc != NULL);
	for (round = 0; sc && round < 2; round++) {
		for (f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
			if (pki_read(files[f], &der, &len)) {
				CHECK(false);
				continue;
			}
			for (p = 0; p < sizeof(pairs) / sizeof(pairs[0]); p++) {
				staple_check(der, len, pairs[p][0], pairs[p][1], &want);
				staple_cache_check(sc, der, len, pairs[p][0], pairs[p][1], &got);
				CHECK(same_staple(&want, &got));
				verified += got.verified;
			}
			free(der);
		}
	}
	/* good, revoked, unknown and delegated verify for (rsa, inter) only:
	 * the memo kept the issuer apart */
	CHECK_INT(verified, 2 * 4);
	staple_cache_free(sc);
}

int main(void)
{
	if (setup()) {
		pki_dump_log();
		printf("not ok - staple fixture setup\n");
		cert_cache_free(cache);
		pki_destroy();
		return 1;
	}
	RUN_TEST(test_good_staple_parsed_and_verified);
	RUN_TEST(test_times_are_the_responders);
	RUN_TEST(test_revoked_staple_has_time_and_reason);
	RUN_TEST(test_unknown_staple);
	RUN_TEST(test_sha256_certid_and_key_hash_responder_id);
	RUN_TEST(test_response_for_another_leaf_does_not_match);
	RUN_TEST(test_without_issuer_serial_match_is_not_verified);
	RUN_TEST(test_delegated_responder_signed_by_issuer_verifies);
	RUN_TEST(test_responder_without_ocsp_signing_usage_rejected);
	RUN_TEST(test_responder_expired_when_response_produced_rejected);
	RUN_TEST(test_unrelated_signer_rejected);
	RUN_TEST(test_signed_by_issuers_ca_rejected);
	RUN_TEST(test_wrong_issuer_given_does_not_match);
	RUN_TEST(test_garbage_not_parsed);
	RUN_TEST(test_empty_not_parsed);
	RUN_TEST(test_try_later_not_parsed);
	RUN_TEST(test_truncated_response_not_parsed);
	RUN_TEST(test_trailing_bytes_not_parsed);
	RUN_TEST(test_no_leaf_parses_without_match);
	RUN_TEST(test_staple_cache_answers_like_staple_check);
	RUN_TEST(test_served_issuer_found_out_of_order);
	RUN_TEST(test_served_issuer_absent);
	RUN_TEST(test_misordered_chain_staple_matches_with_served_issuer);
	RUN_TEST(test_this_update_up_to_skew_after_handshake_is_kept);
	RUN_TEST(test_this_update_beyond_skew_after_handshake_is_unusable);
	RUN_TEST(test_time_check_leaves_unmatched_answers_alone);
	cert_cache_free(cache);
	pki_destroy();
	return CHECK_EXIT_CODE();
}
