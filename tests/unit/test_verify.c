// SPDX-License-Identifier: MIT
/* Chain verification against a trust store at the handshake time. */
#include <stdio.h>
#include <stdlib.h>

#include <openssl/x509.h>

#include "check.h"
#include "health_fixture.h"
#include "cert/verify.h"

static struct verify_store *open_root_store(void)
{
	struct verify_store *vs = NULL;
	char path[1200], err[256] = "";

	if (verify_store_open(hf_path("root.crt", path, sizeof(path)), NULL, &vs,
			      err, sizeof(err)))
		printf("# verify_store_open: %s\n", err);
	return vs;
}

/* Verifies leaf NAME served with its intermediate INTER (NULL: alone). */
static int verify_named(struct verify_store *vs, const char *name,
			const char *inter, const char *when,
			struct verify_result *res)
{
	const struct cert_info *chain[2] = { hf_cert(name), NULL };

	if (inter)
		chain[1] = hf_cert(inter);
	return verify_chain(vs, chain, inter ? 2 : 1, hf_time(when), res);
}

static void test_valid_chain_verifies_ok_and_builds_to_the_root(void)
{
	struct verify_store *vs = open_root_store();
	struct verify_result res;

	CHECK(vs != NULL);
	CHECK_INT(verify_named(vs, "good.test", "inter", "2026-06-01T00:00:00", &res), 0);
	CHECK_STR(res.text, "ok");
	CHECK_INT(res.code, X509_V_OK);
	CHECK(res.built != NULL);
	CHECK_INT(sk_X509_num(res.built), 3);
	verify_result_release(&res);
	verify_store_free(vs);
}

static void test_expired_leaf_gives_openssl_text(void)
{
	struct verify_store *vs = open_root_store();
	struct verify_result res;

	CHECK_INT(verify_named(vs, "expired.test", "inter", "2026-06-01T00:00:00", &res), 1);
	CHECK_STR(res.text, "certificate has expired");
	CHECK_INT(res.code, X509_V_ERR_CERT_HAS_EXPIRED);
	CHECK_INT(res.depth, 0);
	CHECK_STR(res.detail, "certificate has expired (depth 0, "
		  "/O=tlswatch test/CN=expired.test)");
	verify_result_release(&res);
	verify_store_free(vs);
}

static void test_verification_time_applies_to_the_whole_chain(void)
{
	/* In 2020 the leaf was valid but its CAs (2024..) were not; OpenSSL
	 * checks validity from the root down, so the root is named. */
	struct verify_store *vs = open_root_store();
	struct verify_result res;

	CHECK_INT(verify_named(vs, "expired.test", "inter", "2020-06-01T00:00:00", &res), 1);
	CHECK_STR(res.text, "certificate is not yet valid");
	CHECK_INT(res.depth, 2);
	verify_result_release(&res);
	verify_store_free(vs);
}

static void test_not_yet_valid_leaf(void)
{
	struct verify_store *vs = open_root_store();
	struct verify_result res;

	CHECK_INT(verify_named(vs, "future.test", "inter", "2026-06-01T00:00:00", &res), 1);
	CHECK_STR(res.text, "certificate is not yet valid");
	verify_result_release(&res);
	verify_store_free(vs);
}

static void test_missing_intermediate_is_untrusted(void)
{
	struct verify_store *vs = open_root_store();
	struct verify_result res;

	CHECK_INT(verify_named(vs, "good.test", NULL, "2026-06-01T00:00:00", &res), 1);
	CHECK_STR(res.text, "unable to get local issuer certificate");
	CHECK(res.built != NULL);
	CHECK_INT(res.built ? sk_X509_num(res.built) : 0, 1);
	verify_result_release(&res);
	verify_store_free(vs);
}

static void test_other_trust_anchor_does_not_verify_the_chain(void)
{
	struct verify_store *vs = NULL;
	struct verify_result res;
	char path[1200], err[256];

	/* evil.crt carries the intermediate's name but another key. */
	CHECK_INT(verify_store_open(hf_path("evil.crt", path, sizeof(path)), NULL,
				    &vs, err, sizeof(err)), 0);
	CHECK_INT(verify_named(vs, "good.test", "inter", "2026-06-01T00:00:00", &res), 1);
	CHECK_STR(res.text, "unable to get local issuer certificate");
	verify_result_release(&res);
	verify_store_free(vs);
}

static void test_system_store_does_not_trust_the_test_root(void)
{
	struct verify_store *vs = NULL;
	struct verify_result res;
	char err[256];

	CHECK_INT(verify_store_open(NULL, NULL, &vs, err, sizeof(err)), 0);
	CHECK_INT(verify_named(vs, "good.test", "inter", "2026-06-01T00:00:00", &res), 1);
	CHECK_STR(res.text, "unable to get local issuer certificate");
	verify_result_release(&res);
	verify_store_free(vs);
}

static void test_revoked_intermediate_still_verifies(void)
{
	/* Revocation is judged apart: an unchecked status is not a bad chain. */
	struct verify_store *vs = open_root_store();
	struct verify_result res;

	CHECK_INT(verify_named(vs, "victim.test", "inter2", "2026-06-01T00:00:00", &res), 0);
	CHECK_STR(res.text, "ok");
	verify_result_release(&res);
	verify_store_free(vs);
}

static void test_ca_dir_loads_every_pem_file_without_rehash(void)
{
	struct verify_store *vs = NULL;
	struct verify_result res;
	char dir[64], cmd[2600], err[256] = "";

	CHECK(hf_tmpdir(dir, sizeof(dir)) != NULL);
	snprintf(cmd, sizeof(cmd),
		 "cp %s/root.crt %s/my-root.pem && cp %s/inter.key %s/a.key && "
		 "echo junk > %s/notes.txt", hf_pki(), dir, hf_pki(), dir, dir);
	CHECK_INT(hf_sh(cmd), 0);
	CHECK_INT(verify_store_open(NULL, dir, &vs, err, sizeof(err)), 0);
	CHECK_INT(verify_named(vs, "good.test", "inter", "2026-06-01T00:00:00", &res), 0);
	CHECK_STR(res.text, "ok");
	verify_result_release(&res);
	verify_store_free(vs);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	hf_sh(cmd);
}

static void test_missing_ca_file_is_a_clear_error(void)
{
	struct verify_store *vs = NULL;
	char err[256] = "";

	CHECK_INT(verify_store_open("/nonexistent/ca.pem", NULL, &vs, err, sizeof(err)), -1);
	CHECK(vs == NULL);
	CHECK_STR(err, "--ca-file /nonexistent/ca.pem: No such file or directory");
}

static void test_ca_file_without_certificates_is_a_clear_error(void)
{
	struct verify_store *vs = NULL;
	char path[1200], err[256] = "";

	CHECK_INT(verify_store_open(hf_path("inter-index.txt", path, sizeof(path)),
				    NULL, &vs, err, sizeof(err)), -1);
	CHECK(strstr(err, "inter-index.txt: no usable PEM certificate") != NULL);
}

static void test_empty_ca_dir_is_a_clear_error(void)
{
	struct verify_store *vs = NULL;
	char dir[64], want[128], err[256] = "";

	CHECK(hf_tmpdir(dir, sizeof(dir)) != NULL);
	CHECK_INT(verify_store_open(NULL, dir, &vs, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "--ca-dir %s: no file with a PEM certificate", dir);
	CHECK_STR(err, want);
	rmdir(dir);
}

/* More files than the bound: an error, not a store read in part. */
static void test_ca_dir_past_the_bound_is_a_clear_error(void)
{
	struct verify_store *vs = NULL;
	char dir[64], want[128], cmd[160], err[256] = "";

	CHECK(hf_tmpdir(dir, sizeof(dir)) != NULL);
	snprintf(cmd, sizeof(cmd), "cd %s && seq 4097 | xargs touch", dir);
	hf_sh(cmd);
	CHECK_INT(verify_store_open(NULL, dir, &vs, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "--ca-dir %s: more than 4096 files", dir);
	CHECK_STR(err, want);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	hf_sh(cmd);
}

static void test_no_leaf_cannot_be_verified(void)
{
	struct verify_store *vs = open_root_store();
	const struct cert_info *chain[1] = { NULL };
	struct verify_result res;

	CHECK_INT(verify_chain(vs, chain, 1, 0, &res), -1);
	CHECK(res.built == NULL);
	verify_store_free(vs);
}

int main(void)
{
	hf_pki();
	RUN_TEST(test_valid_chain_verifies_ok_and_builds_to_the_root);
	RUN_TEST(test_expired_leaf_gives_openssl_text);
	RUN_TEST(test_verification_time_applies_to_the_whole_chain);
	RUN_TEST(test_not_yet_valid_leaf);
	RUN_TEST(test_missing_intermediate_is_untrusted);
	RUN_TEST(test_other_trust_anchor_does_not_verify_the_chain);
	RUN_TEST(test_system_store_does_not_trust_the_test_root);
	RUN_TEST(test_revoked_intermediate_still_verifies);
	RUN_TEST(test_ca_dir_loads_every_pem_file_without_rehash);
	RUN_TEST(test_missing_ca_file_is_a_clear_error);
	RUN_TEST(test_ca_file_without_certificates_is_a_clear_error);
	RUN_TEST(test_empty_ca_dir_is_a_clear_error);
	RUN_TEST(test_ca_dir_past_the_bound_is_a_clear_error);
	RUN_TEST(test_no_leaf_cannot_be_verified);
	hf_cleanup();
	return CHECK_EXIT_CODE();
}
