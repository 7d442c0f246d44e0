// SPDX-License-Identifier: MIT
/*
 * Which key families a ClientHello accepts, in its order of preference
 * (tls/key_offer.c): what the superseded rule across key families weighs.
 * ClientHellos built byte by byte (tls_build.h) and fed to the parser.
 */
#include "check.h"
#include "tls/tls_conn.h"
#include "tls_build.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* TLS_AES_128_GCM_SHA256, ECDHE-ECDSA-AES128-GCM, ECDHE-RSA-AES128-GCM */
#define AES13 0x1301
#define ECDSA_SUITE 0xc02b
#define RSA_SUITE 0xc02f
#define RSA_KX_SUITE 0x009c   /* TLS_RSA_WITH_AES_128_GCM_SHA256 */

static const uint16_t sig_exts[] = { 0x002b, 0x000d };
static const uint16_t no_sig_exts[] = { 0x002b };
static const uint16_t versions[] = { 0x0304, 0x0303 };

/* The record the parser makes of one ClientHello; the offers formatted. */
static void offers_of(const uint16_t *ciphers, size_t n_ciphers,
		      const uint16_t *sig_algs, size_t n_sig_algs,
		      char tls13[64], char tls12[64])
{
	struct tb_client_hello ch = {
		.legacy_version = 0x0303,
		.ciphers = ciphers, .n_ciphers = n_ciphers,
		.exts = sig_algs ? sig_exts : no_sig_exts,
		.n_exts = sig_algs ? N(sig_exts) : N(no_sig_exts),
		.versions = versions, .n_versions = N(versions),
		.sig_algs = sig_algs, .n_sig_algs = n_sig_algs,
	};
	struct tls_conn *c = tls_conn_new(NULL);
	struct tb msg = { 0 }, rec = { 0 };
	struct hs_record *r;

	tls13[0] = tls12[0] = '\0';
	if (!c)
		return;
	tb_client_hello(&msg, &ch);
	tb_records(&rec, 22, msg.p, msg.n, 16384);
	tls_conn_feed(c, true, rec.p, rec.n, 1000);
	r = tls_conn_record(c);
	CHECK(r->has_client_hello);
	key_offer_format(&r->keys_tls13, tls13, 64);
	key_offer_format(&r->keys_tls12, tls12, 64);
	tb_free(&msg);
	tb_free(&rec);
	tls_conn_free(c);
}

/* The offers of a ClientHello with these cipher suites and signature
 * algorithms (NULL: no extension) are @want13 and @want12. */
static void expect_offers(const uint16_t *ciphers, size_t n_ciphers,
			  const uint16_t *sigs, size_t n_sigs,
			  const char *want13, const char *want12)
{
	char t13[64], t12[64];

	offers_of(ciphers, n_ciphers, sigs, n_sigs, t13, t12);
	CHECK_STR(t13, want13);
	CHECK_STR(t12, want12);
}

#define EXPECT_OFFERS(ciphers, sigs, want13, want12) \
	expect_offers(ciphers, N(ciphers), sigs, N(sigs), want13, want12)

static void test_openssl_default_offer_prefers_ecdsa(void)
{
	/* openssl s_client's order: ECDSA, Ed25519, Ed448, RSA-PSS, RSA */
	static const uint16_t ciphers[] = { AES13, ECDSA_SUITE, RSA_SUITE, RSA_KX_SUITE };
	static const uint16_t sigs[] = { 0x0403, 0x0503, 0x0603, 0x0807, 0x0808,
					 0x0809, 0x0804, 0x0401, 0x0201 };
	EXPECT_OFFERS(ciphers, sigs, "EC>ED25519>ED448>RSA", "EC>ED25519>ED448>RSA");
}

static void test_sigalgs_ecdsa_only_accepts_ec_alone(void)
{
	/* -sigalgs ECDSA+SHA256 */
	static const uint16_t ciphers[] = { AES13, ECDSA_SUITE, RSA_SUITE };
	static const uint16_t sigs[] = { 0x0403 };
	EXPECT_OFFERS(ciphers, sigs, "EC", "EC");
}

static void test_sigalgs_rsa_only_accepts_rsa_alone(void)
{
	/* -sigalgs RSA-PSS+SHA256:RSA+SHA256 */
	static const uint16_t ciphers[] = { AES13, ECDSA_SUITE, RSA_SUITE };
	static const uint16_t sigs[] = { 0x0804, 0x0401 };
	EXPECT_OFFERS(ciphers, sigs, "RSA", "RSA");
}

static void test_tls13_follows_signature_algorithms_order(void)
{
	/* PKCS #1 and ECDSA-SHA1 do not sign a TLS 1.3 CertificateVerify */
	static const uint16_t ciphers[] = { AES13, ECDSA_SUITE, RSA_SUITE };
	static const uint16_t sigs[] = { 0x0401, 0x0203, 0x0804, 0x0403 };
	EXPECT_OFFERS(ciphers, sigs, "RSA>EC", "EC>RSA");
}

static void test_tls12_follows_cipher_suite_order(void)
{
	static const uint16_t ciphers[] = { RSA_SUITE, AES13, ECDSA_SUITE };
	static const uint16_t sigs[] = { 0x0403, 0x0804 };
	EXPECT_OFFERS(ciphers, sigs, "EC>RSA", "RSA>EC");
}

static void test_tls12_without_signature_algorithms_goes_by_suites(void)
{
	static const uint16_t ciphers[] = { RSA_KX_SUITE, ECDSA_SUITE };

	expect_offers(ciphers, N(ciphers), NULL, 0, "", "RSA>EC");
}

static void test_tls12_suite_without_matching_sigalg_does_not_count(void)
{
	/* an ECDSA suite, but no ECDSA signature algorithm */
	static const uint16_t ciphers[] = { ECDSA_SUITE, RSA_SUITE };
	static const uint16_t sigs[] = { 0x0804, 0x0401 };

	EXPECT_OFFERS(ciphers, sigs, "RSA", "RSA");
}

static void test_record_offer_follows_negotiated_version(void)
{
	struct hs_record r;

	hs_record_init(&r);
	key_offer_add(&r.keys_tls13, KEY_FAMILY_RSA);
	key_offer_add(&r.keys_tls12, KEY_FAMILY_EC);
	r.version = 0x0304;
	CHECK_INT(hs_record_key_offer(&r)->fam[0], KEY_FAMILY_RSA);
	r.version = 0x0303;
	CHECK_INT(hs_record_key_offer(&r)->fam[0], KEY_FAMILY_EC);
	CHECK_INT(key_family_of("EC-P256"), KEY_FAMILY_EC);
	CHECK_INT(key_family_of("RSA-2048"), KEY_FAMILY_RSA);
	CHECK_INT(key_family_of("ED25519"), KEY_FAMILY_ED25519);
	CHECK_INT(key_family_of("1.2.3.4"), KEY_FAMILY_NONE);
	CHECK_INT(key_family_of(""), KEY_FAMILY_NONE);
}

static void test_offer_text_reads_back(void)
{
	struct key_offer o;
	char buf[64];

	key_offer_parse("EC>ED25519>RSA", &o);
	CHECK_INT(o.n, 3);
	CHECK_STR(key_offer_format(&o, buf, sizeof(buf)), "EC>ED25519>RSA");
	key_offer_parse("RSA>DSA>RSA>EC", &o);     /* unknown and repeated: skipped */
	CHECK_STR(key_offer_format(&o, buf, sizeof(buf)), "RSA>EC");
	key_offer_parse("", &o);
	CHECK_INT(o.n, 0);
}

int main(void)
{
	RUN_TEST(test_openssl_default_offer_prefers_ecdsa);
	RUN_TEST(test_sigalgs_ecdsa_only_accepts_ec_alone);
	RUN_TEST(test_sigalgs_rsa_only_accepts_rsa_alone);
	RUN_TEST(test_tls13_follows_signature_algorithms_order);
	RUN_TEST(test_tls12_follows_cipher_suite_order);
	RUN_TEST(test_tls12_without_signature_algorithms_goes_by_suites);
	RUN_TEST(test_tls12_suite_without_matching_sigalg_does_not_count);
	RUN_TEST(test_record_offer_follows_negotiated_version);
	RUN_TEST(test_offer_text_reads_back);
	return CHECK_EXIT_CODE();
}
