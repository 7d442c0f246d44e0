// SPDX-License-Identifier: MIT
/* --expect NAME=SHA256 and --expect-dir: the unexpected finding. */
#include <stdio.h>
#include <stdlib.h>

#include "check.h"
#include "health_fixture.h"
#include "cert/expect.h"

#define FP1 "1111111111111111111111111111111111111111111111111111111111111111"
#define FP2 "2222222222222222222222222222222222222222222222222222222222222222"
#define FP3 "3333333333333333333333333333333333333333333333333333333333333333"
#define FP4 "4444444444444444444444444444444444444444444444444444444444444444"

static struct expect_set *open_specs(const char *const *specs, int n)
{
	struct expect_set *e = NULL;
	char err[256] = "";

	if (expect_set_open(specs, n, NULL, &e, err, sizeof(err)))
		printf("# expect_set_open: %s\n", err);
	return e;
}

static void test_expected_leaf_is_not_a_finding(void)
{
	const char *specs[] = { "a.test=" FP1 };
	struct expect_set *e = open_specs(specs, 1);
	char detail[256] = "";

	CHECK_INT(expect_check(e, "a.test", sizeof("a.test") - 1, FP1, detail, sizeof(detail)), 0);
	expect_set_free(e);
}

static void test_other_leaf_is_unexpected_and_names_the_expected_one(void)
{
	const char *specs[] = { "a.test=" FP1 };
	struct expect_set *e = open_specs(specs, 1);
	char detail[256] = "";

	CHECK_INT(expect_check(e, "a.test", sizeof("a.test") - 1, FP2, detail, sizeof(detail)), 1);
	CHECK_STR(detail, "expected " FP1);
	expect_set_free(e);
}

static void test_name_without_expectation_is_not_judged(void)
{
	const char *specs[] = { "a.test=" FP1 };
	struct expect_set *e = open_specs(specs, 1);
	char detail[256] = "";

	CHECK_INT(expect_check(e, "b.test", sizeof("b.test") - 1, FP2, detail, sizeof(detail)), -1);
	CHECK_INT(expect_check(e, NULL, 0, FP2, detail, sizeof(detail)), -1);
	expect_set_free(e);
}

static void test_openssl_fingerprint_format_and_name_case_are_accepted(void)
{
	const char *specs[] = {
		"A.Test.=11:11:11:11:11:11:11:11:11:11:11:11:11:11:11:11:"
		"11:11:11:11:11:11:11:11:11:11:11:11:11:11:11:11",
	};
	struct expect_set *e = open_specs(specs, 1);
	char detail[256] = "";

	CHECK(e != NULL);
	CHECK_INT(expect_check(e, "a.TEST", sizeof("a.TEST") - 1, FP1, detail, sizeof(detail)), 0);
	CHECK_INT(expect_check(e, "a.test.", sizeof("a.test.") - 1, FP1, detail, sizeof(detail)), 0);
	expect_set_free(e);
}

static void test_two_expected_leaves_during_a_rotation(void)
{
	const char *specs[] = { "a.test=" FP1, "a.test=" FP2 };
	struct expect_set *e = open_specs(specs, 2);
	char detail[256] = "";

	CHECK_INT(expect_check(e, "a.test", sizeof("a.test") - 1, FP2, detail, sizeof(detail)), 0);
	CHECK_INT(expect_check(e, "a.test", sizeof("a.test") - 1, FP3, detail, sizeof(detail)), 1);
	CHECK_STR(detail, "expected " FP1 " or " FP2);
	expect_set_free(e);
}

static void test_more_than_three_expected_are_counted(void)
{
	const char *specs[] = { "a.test=" FP1, "a.test=" FP2, "a.test=" FP3,
				"a.test=" FP4 };
	struct expect_set *e = open_specs(specs, 4);
	char detail[256] = "";

	CHECK_INT(expect_check(e, "a.test", sizeof("a.test") - 1,
			       "5555555555555555555555555555555555555555555555555555555555555555",
			       detail, sizeof(detail)), 1);
	CHECK(strstr(detail, " (+1 more)") != NULL);
	CHECK(strncmp(detail, "expected " FP1 " or ", 9 + 64 + 4) == 0);
	expect_set_free(e);
}

/* Every byte of the SNI is the name: one holding a NUL is no DNS name and
 * has no expectation, not that of the name before its NUL. */
static void test_name_holding_a_nul_has_no_expectation(void)
{
	const char *specs[] = { "a.test=" FP1 };
	struct expect_set *e = open_specs(specs, 1);
	char detail[256] = "";

	CHECK_INT(expect_check(e, "a.test\0evil", 11, FP2, detail, sizeof(detail)), -1);
	CHECK_INT(expect_check(e, "a.test\0evil", 11, FP1, detail, sizeof(detail)), -1);
	CHECK_INT(expect_check(e, "a.test\0", 7, FP2, detail, sizeof(detail)), -1);
	CHECK_STR(detail, "");
	CHECK_INT(expect_check(e, "a.test\0evil", 6, FP2, detail, sizeof(detail)), 1);
	CHECK_STR(detail, "expected " FP1);
	expect_set_free(e);
}

static void test_wildcard_covers_one_label(void)
{
	const char *specs[] = { "*.example.com=" FP1 };
	struct expect_set *e = open_specs(specs, 1);
	char detail[256] = "";

	CHECK_INT(expect_check(e, "www.example.com", sizeof("www.example.com") - 1, FP2, detail, sizeof(detail)), 1);
	CHECK_INT(expect_check(e, "www.example.com", sizeof("www.example.com") - 1, FP1, detail, sizeof(detail)), 0);
	CHECK_INT(expect_check(e, "a.b.example.com", sizeof("a.b.example.com") - 1, FP2, detail, sizeof(detail)), -1);
	CHECK_INT(expect_check(e, "example.com", sizeof("example.com") - 1, FP2, detail, sizeof(detail)), -1);
	expect_set_free(e);
}

static void test_malformed_specs_are_clear_errors(void)
{
	const char *no_eq[] = { "a.test" };
	const char *short_fp[] = { "a.test=abcd" };
	const char *no_name[] = { "=" FP1 };
	const char *not_hex[] = { "a.test=" "zz11111111111111111111111111111111111111111111111111111111111111" };
	struct expect_set *e = NULL;
	char err[256] = "";

	CHECK_INT(expect_set_open(no_eq, 1, NULL, &e, err, sizeof(err)), -1);
	CHECK_STR(err, "--expect: 'a.test' is not NAME=SHA256 (a name, '=', 64 hex digits)");
	CHECK_INT(expect_set_open(short_fp, 1, NULL, &e, err, sizeof(err)), -1);
	CHECK_STR(err, "--expect: 'a.test=abcd' is not NAME=SHA256 (a name, '=', 64 hex digits)");
	CHECK_INT(expect_set_open(no_name, 1, NULL, &e, err, sizeof(err)), -1);
	CHECK_INT(expect_set_open(not_hex, 1, NULL, &e, err, sizeof(err)), -1);
	CHECK(e == NULL);
}

/* A deploy directory: a fullchain file for a.test (B = a-new), a key, a
 * subdirectory with good.test's certificate, and a CA-only file. */
static char *make_deploy_dir(char *dir, size_t len)
{
	char cmd[4096];
	const char *p = hf_pki();

	if (!hf_tmpdir(dir, len))
		return NULL;
	snprintf(cmd, sizeof(cmd),
		 "mkdir -p %s/live/good && cp %s/a-new.test.chain.pem %s/a.fullchain.pem && "
		 "cp %s/inter.key %s/a.key && cp %s/good.test.crt %s/live/good/cert.pem && "
		 "cp %s/inter.crt %s/chain.pem", dir, p, dir, p, dir, p, dir, p, dir);
	return hf_sh(cmd) ? NULL : dir;
}

static void test_expect_dir_takes_names_from_sans(void)
{
	struct expect_set *e = NULL;
	char dir[64], cmd[128], detail[256] = "", err[256] = "";

	CHECK(make_deploy_dir(dir, sizeof(dir)) != NULL);
	CHECK_INT(expect_set_open(NULL, 0, dir, &e, err, sizeof(err)), 0);
	CHECK_INT(expect_set_count(e), 2);
	CHECK_INT(expect_check(e, "a.test", sizeof("a.test") - 1, hf_fp("a-new.test"), detail, sizeof(detail)), 0);
	CHECK_INT(expect_check(e, "good.test", sizeof("good.test") - 1, hf_fp("good.test"), detail,
			       sizeof(detail)), 0);
	expect_set_free(e);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	hf_sh(cmd);
}

static void test_old_leaf_for_a_deployed_name_is_unexpected(void)
{
	struct expect_set *e = NULL;
	char dir[64], cmd[128], want[128], detail[256] = "", err[256] = "";

	CHECK(make_deploy_dir(dir, sizeof(dir)) != NULL);
	CHECK_INT(expect_set_open(NULL, 0, dir, &e, err, sizeof(err)), 0);
	CHECK_INT(expect_check(e, "a.test", sizeof("a.test") - 1, hf_fp("a-old.test"), detail, sizeof(detail)), 1);
	snprintf(want, sizeof(want), "expected %s", hf_fp("a-new.test"));
	CHECK_STR(detail, want);
	expect_set_free(e);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	hf_sh(cmd);
}

static void test_specs_and_dir_combine(void)
{
	const char *specs[] = { "a.test=" FP1 };
	struct expect_set *e = NULL;
	char dir[64], cmd[128], detail[256] = "", err[256] = "";

	CHECK(make_deploy_dir(dir, sizeof(dir)) != NULL);
	CHECK_INT(expect_set_open(specs, 1, dir, &e, err, sizeof(err)), 0);
	CHECK_INT(expect_check(e, "a.test", sizeof("a.test") - 1, FP1, detail, sizeof(detail)), 0);
	CHECK_INT(expect_check(e, "a.test", sizeof("a.test") - 1, hf_fp("a-new.test"), detail, sizeof(detail)), 0);
	expect_set_free(e);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	hf_sh(cmd);
}

/* In a fresh directory after shell command @fill (run there): loading it
 * fails with "--expect-dir DIR: @why". The directory is removed after. */
static void check_dir_refused(const char *fill, const char *why)
{
	struct expect_set *e = NULL;
	char dir[64], want[192], cmd[256], err[256] = "";

	CHECK(hf_tmpdir(dir, sizeof(dir)) != NULL);
	snprintf(cmd, sizeof(cmd), "cd %s && %s", dir, fill);
	hf_sh(cmd);
	CHECK_INT(expect_set_open(NULL, 0, dir, &e, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "--expect-dir %s: %s", dir, why);
	CHECK_STR(err, want);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	hf_sh(cmd);
}

static void test_dir_without_certificates_is_a_clear_error(void)
{
	check_dir_refused("echo hello > README", "no PEM certificate found");
}

/* A directory past the bound is an error, not read in part (expectations
 * left unread made their certificates "unexpected"; it was silent). The
 * bound counts files and directories, not dot entries. */
static void test_dir_past_the_bound_is_a_clear_error(void)
{
	check_dir_refused("touch .hidden && seq 10001 | xargs touch",
			  "more than 10000 files and directories in it");
	check_dir_refused("touch .hidden && seq 10000 | xargs touch",
			  "no PEM certificate found");
}

static void test_missing_dir_is_a_clear_error(void)
{
	struct expect_set *e = NULL;
	char err[256] = "";

	CHECK_INT(expect_set_open(NULL, 0, "/nonexistent/deploy", &e, err, sizeof(err)), -1);
	CHECK_STR(err, "--expect-dir /nonexistent/deploy: No such file or directory");
}

int main(void)
{
	hf_pki();
	RUN_TEST(test_expected_leaf_is_not_a_finding);
	RUN_TEST(test_other_leaf_is_unexpected_and_names_the_expected_one);
	RUN_TEST(test_name_without_expectation_is_not_judged);
	RUN_TEST(test_openssl_fingerprint_format_and_name_case_are_accepted);
	RUN_TEST(test_two_expected_leaves_during_a_rotation);
	RUN_TEST(test_more_than_three_expected_are_counted);
	RUN_TEST(test_name_holding_a_nul_has_no_expectation);
	RUN_TEST(test_wildcard_covers_one_label);
	RUN_TEST(test_malformed_specs_are_clear_errors);
	RUN_TEST(test_expect_dir_takes_names_from_sans);
	RUN_TEST(test_old_leaf_for_a_deployed_name_is_unexpected);
	RUN_TEST(test_specs_and_dir_combine);
	RUN_TEST(test_dir_without_certificates_is_a_clear_error);
	RUN_TEST(test_missing_dir_is_a_clear_error);
	RUN_TEST(test_dir_past_the_bound_is_a_clear_error);
	hf_cleanup();
	return CHECK_EXIT_CODE();
}
