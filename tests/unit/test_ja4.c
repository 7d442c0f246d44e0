// SPDX-License-Identifier: MIT
/*
 * JA4 and JA3 of ClientHellos: the published JA4 examples (FoxIO's
 * technical_details/JA4.md and a browserleaks.com report that also gives
 * JA3), the ALPN and version rules of the JA4 spec, GREASE, empty lists,
 * and real `openssl s_client` hellos checked against tshark's JA3.
 */
#include "check.h"
#include "tls/tls_conn.h"
#include "tls/tls_internal.h"
#include "tls_build.h"
#include "tls_captures.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

struct fp {
	char ja4[HS_JA4_LEN + 1];
	char ja3[HS_JA3_LEN + 1];
	const char *err;
};

/* Parses the message body of a ClientHello handshake message. */
static struct fp fp_of_message(const uint8_t *msg, size_t len)
{
	struct tls_client_hello ch;
	struct fp f = { .err = NULL };

	f.err = tls_parse_client_hello(msg + 4, len - 4, &ch);
	if (f.err)
		return f;
	if (!tls_ja4(&ch, f.ja4))
		f.err = "ja4 failed";
	if (!tls_ja3(&ch, f.ja3))
		f.err = "ja3 failed";
	tls_client_hello_release(&ch);
	return f;
}

/* The same through the memo @fc. */
static struct fp fp_memo_of(struct tls_fp_cache *fc, const struct tb_client_hello *spec)
{
	struct tls_client_hello ch;
	struct tb b = { 0 };
	struct fp f = { .err = NULL };

	tb_client_hello(&b, spec);
	f.err = tls_parse_client_hello(b.p + 4, b.n - 4, &ch);
	if (!f.err) {
		tls_fingerprint(fc, &ch, f.ja4, f.ja3);
		tls_client_hello_release(&ch);
	}
	tb_free(&b);
	return f;
}

static struct fp fp_of(const struct tb_client_hello *spec)
{
	struct tb b = { 0 };
	struct fp f;

	tb_client_hello(&b, spec);
	f = fp_of_message(b.p, b.n);
	tb_free(&b);
	return f;
}

/* FoxIO's example: the lists of JA4_ro, with GREASE sprinkled in. */
static const uint16_t foxio_ciphers[] = {
	0x0a0a, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9,
	0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035,
};
static const uint16_t foxio_exts[] = {
	0x2a2a, 0x001b, 0x0000, 0x0033, 0x0010, 0x4469, 0x0017, 0x002d, 0x000d,
	0x0005, 0x0023, 0x0012, 0x002b, 0xff01, 0x000b, 0x000a, 0x0015, 0xfafa,
};
static const uint16_t foxio_sig_algs[] = {
	0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601,
};
static const uint16_t tls13_versions[] = { 0x3a3a, 0x0304, 0x0303 };
static const struct tb_str alpn_h2_h1[] = { TB_STR("h2"), TB_STR("http/1.1") };
static const uint16_t groups_x25519[] = { 0x8a8a, 0x001d, 0x0017 };
static const uint8_t pf_uncompressed[] = { 0 };

static struct tb_client_hello foxio_hello(void)
{
	struct tb_client_hello ch = {
		.legacy_version = 0x0303,
		.ciphers = foxio_ciphers, .n_ciphers = N(foxio_ciphers),
		.exts = foxio_exts, .n_exts = N(foxio_exts),
		.sni = TB_STR("example.com"),
		.alpn = alpn_h2_h1, .n_alpn = N(alpn_h2_h1),
		.versions = tls13_versions, .n_versions = N(tls13_versions),
		.sig_algs = foxio_sig_algs, .n_sig_algs = N(foxio_sig_algs),
		.groups = groups_x25519, .n_groups = N(groups_x25519),
		.point_formats = pf_uncompressed, .n_point_formats = 1,
	};
	return ch;
}

static void test_ja4_matches_foxio_spec_example(void)
{
	struct tb_client_hello spec = foxio_hello();
	struct fp f = fp_of(&spec);

	CHECK(f.err == NULL);
	CHECK_STR(f.ja4, "t13d1516h2_8daaf6152771_e5627efa2ab1");
}

static void test_ja4_without_signature_algorithms_has_no_underscore_part(void)
{
	struct tb_client_hello spec = foxio_hello();
	struct fp f;

	spec.n_sig_algs = 0;    /* extension 000d present, list empty */
	f = fp_of(&spec);
	CHECK(f.err == NULL);
	CHECK_STR(f.ja4, "t13d1516h2_8daaf6152771_6d807ffa2a79");
}

/* browserleaks.com report of a Chrome 143 hello: ja4, ja4_ro and ja3_text. */
static const uint16_t chrome_ciphers[] = {
	0x4a4a, 4865, 4866, 4867, 49195, 49199, 49196, 49200, 52393, 52392,
	49171, 49172, 156, 157, 47, 53,
};
static const uint16_t chrome_exts[] = {
	0x5a5a, 45, 51, 16, 65037, 23, 17613, 0, 11, 10, 43, 65281, 35, 18, 5,
	13, 27, 0x1a1a,
};
static const uint16_t chrome_groups[] = { 0xdada, 4588, 29, 23, 24 };

static void test_ja4_and_ja3_match_published_chrome_hello(void)
{
	struct tb_client_hello spec = {
		.legacy_version = 0x0303,
		.ciphers = chrome_ciphers, .n_ciphers = N(chrome_ciphers),
		.exts = chrome_exts, .n_exts = N(chrome_exts),
		.sni = TB_STR("tls.browserleaks.com"),
		.alpn = alpn_h2_h1, .n_alpn = N(alpn_h2_h1),
		.versions = tls13_versions, .n_versions = N(tls13_versions),
		.sig_algs = foxio_sig_algs, .n_sig_algs = N(foxio_sig_algs),
		.groups = chrome_groups, .n_groups = N(chrome_groups),
		.point_formats = pf_uncompressed, .n_point_formats = 1,
	};
	struct fp f = fp_of(&spec);

	CHECK(f.err == NULL);
	CHECK_STR(f.ja4, "t13d1516h2_8daaf6152771_d8a2da3f94cd");
	CHECK_STR(f.ja3, "98487aa16281980e7d1120d399efb6a4");
}

/* JA4 part a's ALPN characters for a one-value ALPN list. */
static void alpn_case(const char *value, size_t len, const char *want)
{
	struct tb_client_hello spec = foxio_hello();
	struct tb_str alpn = { value, len };
	struct fp f;

	spec.alpn = &alpn;
	spec.n_alpn = 1;
	f = fp_of(&spec);
	CHECK(f.err == NULL);
	if (strncmp(f.ja4 + 8, want, 2) != 0)
		printf("#   ALPN of %zu bytes gave \"%.2s\", expected \"%s\"\n", len,
		       f.ja4 + 8, want);
	CHECK(strncmp(f.ja4 + 8, want, 2) == 0);
}

static void test_ja4_alpn_uses_first_and_last_character(void)
{
	alpn_case("http/1.1", 8, "h1");
	alpn_case("h2", 2, "h2");
	alpn_case("h", 1, "hh");
}

static void test_ja4_alpn_non_alphanumeric_uses_hex_digits(void)
{
	alpn_case("\xab", 1, "ab");
	alpn_case("\xab\xcd", 2, "ad");
	alpn_case("\x30\xab", 2, "3b");
	alpn_case("\x30\x31\xab\xcd", 4, "3d");
	alpn_case("\x30\xab\xcd\x31", 4, "01");
}

static void test_ja4_alpn_missing_or_empty_is_00(void)
{
	struct tb_client_hello spec = foxio_hello();
	static const uint16_t no_alpn_exts[] = { 0x0000, 0x002b, 0x000d };
	struct fp f;

	spec.n_alpn = 0;       /* extension present, empty list */
	f = fp_of(&spec);
	CHECK(f.err == NULL);
	CHECK(strncmp(f.ja4 + 8, "00", 2) == 0);

	alpn_case("", 0, "00");

	spec = foxio_hello();
	spec.exts = no_alpn_exts;
	spec.n_exts = N(no_alpn_exts);
	f = fp_of(&spec);
	CHECK(f.err == NULL);
	CHECK(strncmp(f.ja4, "t13d150300_", 11) == 0);
}

static void version_case(uint16_t legacy, const uint16_t *versions, size_t n,
			 const char *want)
{
	static const uint16_t ciphers[] = { 0x002f };
	static const uint16_t with_sv[] = { 0x002b };
	static const uint16_t sv_list_dummy[] = { 0 };
	struct tb_client_hello spec = {
		.legacy_version = legacy,
		.ciphers = ciphers, .n_ciphers = 1,
		.exts = with_sv, .n_exts = versions ? 1 : 0,
		.versions = versions ? versions : sv_list_dummy, .n_versions = n,
	};
	struct fp f = fp_of(&spec);

	CHECK(f.err == NULL);
	if (strncmp(f.ja4 + 1, want, 2) != 0)
		printf("#   legacy %04x gave \"%s\", expected version \"%s\"\n",
		       legacy, f.ja4, want);
	CHECK(strncmp(f.ja4 + 1, want, 2) == 0);
}

static void test_ja4_version_from_supported_versions_else_legacy(void)
{
	static const uint16_t grease_12[] = { 0xeaea, 0x0303, 0x0302 };
	static const uint16_t grease_only[] = { 0x0a0a };

	version_case(0x0303, tls13_versions, N(tls13_versions), "13");
	version_case(0x0301, grease_12, N(grease_12), "12");
	version_case(0x0303, NULL, 0, "12");
	version_case(0x0302, NULL, 0, "11");
	version_case(0x0301, NULL, 0, "10");
	version_case(0x0300, NULL, 0, "s3");
	version_case(0x0200, NULL, 0, "00");
	version_case(0x0301, grease_only, N(grease_only), "10");
}

static void test_ja4_ja3_hello_without_extensions(void)
{
	static const uint16_t ciphers[] = { 0x002f };
	struct tb_client_hello spec = {
		.legacy_version = 0x0301, .ciphers = ciphers, .n_ciphers = 1,
	};
	struct fp f = fp_of(&spec);

	CHECK(f.err == NULL);
	CHECK_STR(f.ja4, "t10i010000_ba72b8082249_000000000000");
	CHECK_STR(f.ja3, "b02be259814e870a469a20ce9b2a7900");   /* "769,47,,," */
}

static void test_ja4_empty_cipher_list_hashes_to_zeros(void)
{
	struct tb_client_hello spec = foxio_hello();
	struct fp f;

	spec.n_ciphers = 0;
	f = fp_of(&spec);
	CHECK(f.err == NULL);
	CHECK_STR(f.ja4, "t13d0016h2_000000000000_e5627efa2ab1");
}

static void test_ja4_counts_are_capped_at_99(void)
{
	uint16_t ciphers[120], exts[110];
	struct tb_client_hello spec = { .legacy_version = 0x0303 };
	struct fp f;
	size_t i;

	for (i = 0; i < N(ciphers); i++)
		ciphers[i] = (uint16_t)(i + 1);
	for (i = 0; i < N(exts); i++)
		exts[i] = (uint16_t)(0x0100 + i);
	spec.ciphers = ciphers;
	spec.n_ciphers = N(ciphers);
	spec.exts = exts;
	spec.n_exts = N(exts);
	f = fp_of(&spec);
	CHECK(f.err == NULL);
	CHECK(strncmp(f.ja4, "t12i999900_0f8860b09f90_", 24) == 0);
}

/* Lists in any order hash as sorted: short lists (sorted in place) and
 * long ones (qsort) alike. */
static void test_ja4_sorts_short_and_long_lists(void)
{
	uint16_t ciphers[120];
	struct tb_client_hello spec = { .legacy_version = 0x0303 };
	struct fp f;
	size_t i;

	for (i = 0; i < N(ciphers); i++)
		ciphers[i] = (uint16_t)(N(ciphers) - i);    /* 120, 119, ..., 1 */
	spec.ciphers = ciphers;
	spec.n_ciphers = N(ciphers);
	f = fp_of(&spec);
	CHECK(f.err == NULL);
	CHECK_STR(f.ja4, "t12i990000_0f8860b09f90_000000000000");
	for (i = 0; i < 20; i++)
		ciphers[i] = (uint16_t)(i % 2 ? 20 - i / 2 : 1 + i / 2);   /* 1, 20, 2, 19, ... */
	spec.n_ciphers = 20;
	f = fp_of(&spec);
	CHECK(f.err == NULL);
	CHECK_STR(f.ja4, "t12i200000_fca96bc37ac2_000000000000");
}

static void test_memo_gives_the_same_fingerprints_once_per_shape(void)
{
	struct tls_fp_cache *fc = tls_fp_cache_new();
	struct tb_client_hello spec = foxio_hello();
	struct fp f;
	int i;

	CHECK(fc != NULL);
	for (i = 0; i < 3; i++) {
		f = fp_memo_of(fc, &spec);
		CHECK(f.err == NULL);
		CHECK_STR(f.ja4, "t13d1516h2_8daaf6152771_e5627efa2ab1");
		CHECK_STR(f.ja3, fp_of(&spec).ja3);
	}
	CHECK_INT(tls_fp_cache_count(fc), 1);
	spec.n_sig_algs = 0;          /* another shape: its own entry */
	f = fp_memo_of(fc, &spec);
	CHECK_STR(f.ja4, "t13d1516h2_8daaf6152771_6d807ffa2a79");
	CHECK_INT(tls_fp_cache_count(fc), 2);
	spec = foxio_hello();
	spec.alpn = NULL;             /* the ALPN part of JA4 is in the key */
	spec.n_alpn = 0;
	f = fp_memo_of(fc, &spec);
	CHECK_STR(f.ja4, fp_of(&spec).ja4);
	CHECK_STR(f.ja4, "t13d151600_8daaf6152771_e5627efa2ab1");
	CHECK_INT(tls_fp_cache_count(fc), 3);
	tls_fp_cache_free(fc);
}

static void test_memo_is_bounded_and_skips_huge_hellos(void)
{
	struct tls_fp_cache *fc = tls_fp_cache_new();
	uint16_t ciphers[600];
	struct tb_client_hello spec = { .legacy_version = 0x0303,
					 .ciphers = ciphers, .n_ciphers = 1 };
	struct fp f;
	int i;

	for (i = 0; i < TLS_FP_CACHE_MAX + 10; i++) {
		ciphers[0] = (uint16_t)(0x1000 + i);   /* a new shape each time */
		f = fp_memo_of(fc, &spec);
		CHECK_STR(f.ja4, fp_of(&spec).ja4);
	}
	CHECK_INT(tls_fp_cache_count(fc), 10);   /* started over at the bound */
	for (i = 0; i < 600; i++)
		ciphers[i] = (uint16_t)(i + 1);
	spec.n_ciphers = 600;                    /* 1200 bytes of list: no entry */
	f = fp_memo_of(fc, &spec);
	CHECK_STR(f.ja4, "t12i990000_de312afcc2f4_000000000000");
	CHECK_INT(tls_fp_cache_count(fc), 10);
	tls_fp_cache_free(fc);
}

static void test_ja4_grease_is_ignored_everywhere(void)
{
	struct tb_client_hello with = foxio_hello(), without = foxio_hello();
	struct fp a, b;

	/* the same hello without its GREASE values */
	without.ciphers = foxio_ciphers + 1;
	without.n_ciphers = N(foxio_ciphers) - 1;
	without.exts = foxio_exts + 1;
	without.n_exts = N(foxio_exts) - 2;
	without.groups = groups_x25519 + 1;
	without.n_groups = N(groups_x25519) - 1;
	without.versions = tls13_versions + 1;
	without.n_versions = N(tls13_versions) - 1;
	a = fp_of(&with);
	b = fp_of(&without);
	CHECK_STR(a.ja4, b.ja4);
	CHECK_STR(a.ja3, b.ja3);
}

/* Message of the first client segment of a capture: after the record header. */
static struct fp fp_of_capture(const struct capture *cap)
{
	const struct cap_seg *s = &cap->segs[0];

	return fp_of_message(s->data + 5, s->len - 5);
}

/* JA3 from tshark 4.0.17; JA4 from the spec over tshark's field values. */
static void test_openssl_s_client_tls13_hello(void)
{
	struct fp f = fp_of_capture(&cap_tls13_ok);

	CHECK(f.err == NULL);
	CHECK_STR(f.ja3, "5a1edc7f170af1014fc65c994878e63c");
	CHECK_STR(f.ja4, "t13d3111h2_e8f1e7e78f70_1f22a2ca17c4");
}

static void test_openssl_s_client_tls12_hello(void)
{
	struct fp f = fp_of_capture(&cap_tls12_ok);

	CHECK(f.err == NULL);
	CHECK_STR(f.ja3, "871a754af286dfb70c1b53c6887c62e0");
	CHECK_STR(f.ja4, "t12d280700_d943125447b4_e7e480e5a997");
}

int main(void)
{
	RUN_TEST(test_ja4_matches_foxio_spec_example);
	RUN_TEST(test_ja4_without_signature_algorithms_has_no_underscore_part);
	RUN_TEST(test_ja4_and_ja3_match_published_chrome_hello);
	RUN_TEST(test_ja4_alpn_uses_first_and_last_character);
	RUN_TEST(test_ja4_alpn_non_alphanumeric_uses_hex_digits);
	RUN_TEST(test_ja4_alpn_missing_or_empty_is_00);
	RUN_TEST(test_ja4_version_from_supported_versions_else_legacy);
	RUN_TEST(test_ja4_ja3_hello_without_extensions);
	RUN_TEST(test_ja4_empty_cipher_list_hashes_to_zeros);
	RUN_TEST(test_ja4_counts_are_capped_at_99);
	RUN_TEST(test_ja4_sorts_short_and_long_lists);
	RUN_TEST(test_ja4_grease_is_ignored_everywhere);
	RUN_TEST(test_memo_gives_the_same_fingerprints_once_per_shape);
	RUN_TEST(test_memo_is_bounded_and_skips_huge_hellos);
	RUN_TEST(test_openssl_s_client_tls13_hello);
	RUN_TEST(test_openssl_s_client_tls12_hello);
	return CHECK_EXIT_CODE();
}
