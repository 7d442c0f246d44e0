// SPDX-License-Identifier: MIT
/*
 * The TLS parser: sniffing, the record layer (records and messages split
 * and merged every way), hello, Certificate and CertificateStatus parsing,
 * alerts, the outcome state machine of events.md, and malformed input.
 * Real handshakes captured from openssl s_server/s_client are replayed;
 * synthetic ones are built byte by byte with tls_build.h.
 */
#include <openssl/evp.h>

#include "check.h"
#include "common/hex.h"
#include "tls/tls_conn.h"
#include "tls_build.h"
#include "tls_captures.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------------------ */
/* helpers                                                             */

static void feed_tb(struct tls_conn *c, bool from_client, const struct tb *b,
		    uint64_t ts)
{
	tls_conn_feed(c, from_client, b->p, b->n, ts);
}

/* Feeds a capture's segments in order, each in pieces of @chunk bytes. */
static void feed_capture(struct tls_conn *c, const struct capture *cap,
			 size_t chunk)
{
	size_t i, off;

	for (i = 0; i < cap->n_segs; i++) {
		const struct cap_seg *s = &cap->segs[i];

		for (off = 0; off < s->len; off += chunk) {
			size_t n = s->len - off < chunk ? s->len - off : chunk;

			tls_conn_feed(c, s->from_client, s->data + off, n, s->ts_us);
		}
	}
}

static const char *sha256_hex(const uint8_t *p, size_t n, char out[65])
{
	uint8_t sum[32];
	unsigned int len = 0;

	out[0] = '\0';
	if (!p || EVP_Digest(p, n, sum, &len, EVP_sha256(), NULL) != 1 || len != 32)
		return out;
	return tw_hex(sum, 32, out);
}

static const uint16_t std_ciphers[] = { 0x1301, 0x1302, 0xc02f, 0xc030, 0x00ff };
static const uint16_t std_exts[] = { 0x0000, 0x0010, 0x002b, 0x000d, 0x000a, 0x000b };
static const struct tb_str std_alpn[] = { TB_STR("h2"), TB_STR("http/1.1") };
static const uint16_t std_versions[] = { 0x0304, 0x0303 };
static const uint16_t std_sig_algs[] = { 0x0403, 0x0804, 0x0401 };
static const uint16_t std_groups[] = { 0x001d, 0x0017 };
static const uint8_t std_pf[] = { 0 };

static struct tb_client_hello std_hello(void)
{
	struct tb_client_hello ch = {
		.legacy_version = 0x0303,
		.ciphers = std_ciphers, .n_ciphers = N(std_ciphers),
		.exts = std_exts, .n_exts = N(std_exts),
		.sni = TB_STR("www.example.com"),
		.alpn = std_alpn, .n_alpn = N(std_alpn),
		.versions = std_versions, .n_versions = N(std_versions),
		.sig_algs = std_sig_algs, .n_sig_algs = N(std_sig_algs),
		.groups = std_groups, .n_groups = N(std_groups),
		.point_formats = std_pf, .n_point_formats = 1,
	};
	return ch;
}

/* Records holding one handshake message built into @msg. */
static void wrap(struct tb *out, const struct tb *msg)
{
	tb_records(out, 22, msg->p, msg->n, 16384);
}

static void client_hello_records(struct tb *out, const struct tb_client_hello *ch)
{
	struct tb msg = { 0 };

	tb_client_hello(&msg, ch);
	wrap(out, &msg);
	tb_free(&msg);
}

static uint8_t der_leaf[600], der_int[500], der_root[400];

static void init_ders(void)
{
	tb_fake_der(der_leaf, sizeof(der_leaf), 0x11);
	tb_fake_der(der_int, sizeof(der_int), 0x22);
	tb_fake_der(der_root, sizeof(der_root), 0x33);
}

/* TLS 1.2 server flight: ServerHello, Certificate, ServerHelloDone. */
static void tls12_server_flight(struct tb *out)
{
	const uint8_t *ders[] = { der_leaf };
	const size_t lens[] = { sizeof(der_leaf) };
	struct tb msg = { 0 };

	tb_server_hello(&msg, 0xc02f, 0, false, false);
	tb_certificate(&msg, ders, lens, 1);
	tb_handshake(&msg, 14, 0);
	wrap(out, &msg);
	tb_free(&msg);
}

/* ClientKeyExchange, then CCS and the encrypted Finished. */
static void tls12_client_finish(struct tb *out)
{
	struct tb msg = { 0 };

	tb_handshake(&msg, 16, 33);
	wrap(out, &msg);
	tb_free(&msg);
	tb_opaque_record(out, 20, 1);
	tb_opaque_record(out, 22, 40);
}

/* [NewSessionTicket], CCS and the encrypted Finished. */
static void tls12_server_finish(struct tb *out)
{
	tb_opaque_record(out, 20, 1);
	tb_opaque_record(out, 22, 40);
}

static struct tls_conn *conn_with_hello(const struct tb_client_hello *ch)
{
	struct tls_conn *c = tls_conn_new(NULL);
	struct tb b = { 0 };

	if (!c)
		return NULL;
	client_hello_records(&b, ch);
	feed_tb(c, true, &b, 1000);
	tb_free(&b);
	return c;
}

/* ------------------------------------------------------------------ */
/* sniffing                                                            */

static void test_sniff_client_hello(void)
{
	const struct cap_seg *s = &cap_tls12_ok.segs[0];

	CHECK_INT(tls_sniff(s->data, s->len), TLS_SNIFF_CLIENT_HELLO);
	CHECK_INT(tls_sniff(s->data, 6), TLS_SNIFF_CLIENT_HELLO);
}

static void test_sniff_server_handshake(void)
{
	const struct cap_seg *s = &cap_tls12_ok.segs[1];

	CHECK(!s->from_client);
	CHECK_INT(tls_sniff(s->data, s->len), TLS_SNIFF_SERVER_HANDSHAKE);
}

/* A capture that starts at the client's second flight: ClientKeyExchange
 * (and CertificateVerify) are the client's (they were taken for the
 * server's: client and server swapped). */
static void test_sniff_client_key_exchange_is_the_client(void)
{
	static const uint8_t cke[] = { 0x16, 0x03, 0x03, 0x00, 0x25, 0x10, 0x00 };
	static const uint8_t cv[] = { 0x16, 0x03, 0x03, 0x01, 0x08, 0x0f, 0x00 };

	CHECK_INT(tls_sniff(cke, sizeof(cke)), TLS_SNIFF_CLIENT_HANDSHAKE);
	CHECK_INT(tls_sniff(cv, sizeof(cv)), TLS_SNIFF_CLIENT_HANDSHAKE);
}

static void test_sniff_sslv2_hello(void)
{
	static const uint8_t v2[] = { 0x80, 0x2e, 0x01, 0x03, 0x01, 0x00, 0x15 };

	static const uint8_t ssl20[] = { 0x80, 0x2e, 0x01, 0x00, 0x02, 0x00, 0x15 };
	static const uint8_t noise[] = { 0x9f, 0x2e, 0x01, 0x55, 0x01, 0x00, 0x15 };

	CHECK_INT(tls_sniff(v2, sizeof(v2)), TLS_SNIFF_SSLV2_HELLO);
	CHECK_INT(tls_sniff(v2, 2), TLS_SNIFF_NEED_MORE);
	CHECK_INT(tls_sniff(v2, 4), TLS_SNIFF_NEED_MORE);
	/* SSL 2.0 itself, and bytes that only start like it: not TLS */
	CHECK_INT(tls_sniff(ssl20, sizeof(ssl20)), TLS_SNIFF_NOT_TLS);
	CHECK_INT(tls_sniff(noise, sizeof(noise)), TLS_SNIFF_NOT_TLS);
}

static void test_sniff_needs_six_bytes(void)
{
	static const uint8_t p[] = { 0x16, 0x03, 0x01, 0x00, 0xd1, 0x01 };

	CHECK_INT(tls_sniff(p, 0), TLS_SNIFF_NEED_MORE);
	CHECK_INT(tls_sniff(p, 1), TLS_SNIFF_NEED_MORE);
	CHECK_INT(tls_sniff(p, 5), TLS_SNIFF_NEED_MORE);
	CHECK_INT(tls_sniff(p, 6), TLS_SNIFF_CLIENT_HELLO);
}

/* A Certificate first (a capture that starts after the hellos) is the
 * client's when a ClientKeyExchange follows it (client authentication,
 * TLS <= 1.2), the server's when its own messages do; the message after
 * it may be in a later record, the bytes up to it in later feeds. */
static const uint8_t cert_rec[] = {
	0x16, 0x03, 0x03, 0x00, 0x0a,
	0x0b, 0x00, 0x00, 0x06, 0x00, 0x00, 0x03, 0xaa, 0xbb, 0xcc,
};

static void sniff_after_certificate(uint8_t next, enum tls_sniff want)
{
	uint8_t p[sizeof(cert_rec) + 9];

	memcpy(p, cert_rec, sizeof(cert_rec));
	memcpy(p + sizeof(cert_rec),
	       (const uint8_t[]){ 0x16, 0x03, 0x03, 0x00, 0x04, next, 0, 0, 0 }, 9);
	CHECK_INT(tls_sniff(p, sizeof(p)), want);
	/* up to the next message's type, and not a byte more */
	CHECK_INT(tls_sniff(p, sizeof(cert_rec) + 6), want);
	CHECK_INT(tls_sniff(p, sizeof(cert_rec) + 5), TLS_SNIFF_NEED_MORE);
	CHECK_INT(tls_sniff(p, sizeof(cert_rec)), TLS_SNIFF_NEED_MORE);
	CHECK_INT(tls_sniff(p, 6), TLS_SNIFF_NEED_MORE);
}

static void test_sniff_certificate_decided_by_the_next_message(void)
{
	sniff_after_certificate(16, TLS_SNIFF_CLIENT_HANDSHAKE);  /* ClientKeyExchange */
	sniff_after_certificate(15, TLS_SNIFF_CLIENT_HANDSHAKE);  /* CertificateVerify */
	sniff_after_certificate(12, TLS_SNIFF_SERVER_HANDSHAKE);  /* ServerKeyExchange */
	sniff_after_certificate(13, TLS_SNIFF_SERVER_HANDSHAKE);  /* CertificateRequest */
	sniff_after_certificate(14, TLS_SNIFF_SERVER_HANDSHAKE);  /* ServerHelloDone */
	sniff_after_certificate(22, TLS_SNIFF_SERVER_HANDSHAKE);  /* CertificateStatus */
}

static void test_sniff_certificate_next_message_in_the_same_record(void)
{
	static const uint8_t p[] = {
		0x16, 0x03, 0x03, 0x00, 0x0e,
		0x0b, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00,
		0x10, 0x00, 0x00, 0x02, 0x01, 0x42,
	};

	CHECK_INT(tls_sniff(p, sizeof(p)), TLS_SNIFF_CLIENT_HANDSHAKE);
	CHECK_INT(tls_sniff(p, 13), TLS_SNIFF_CLIENT_HANDSHAKE);
	CHECK_INT(tls_sniff(p, 12), TLS_SNIFF_NEED_MORE);
}

/* Past TLS_SNIFF_MAX_BYTES without the next message, or anything but a
 * handshake record after the Certificate: the server's, as before. */
static void test_sniff_certificate_without_an_answer_is_the_server(void)
{
	static const uint8_t ccs_next[sizeof(cert_rec) + 6] = {
		[sizeof(cert_rec)] = 0x14, 0x03, 0x03, 0x00, 0x01, 0x01,
	};
	uint8_t p[sizeof(ccs_next)];
	uint8_t *big = calloc(1, TLS_SNIFF_MAX_BYTES);

	CHECK(big != NULL);
	if (!big)
		return;
	memcpy(p, ccs_next, sizeof(p));
	memcpy(p, cert_rec, sizeof(cert_rec));
	CHECK_INT(tls_sniff(p, sizeof(p)), TLS_SNIFF_SERVER_HANDSHAKE);
	/* a Certificate of 16 MiB - 1 in records of 16 KiB */
	memcpy(big, (const uint8_t[]){ 0x16, 0x03, 0x03, 0x40, 0x00,
				       0x0b, 0xff, 0xff, 0xff }, 9);
	for (size_t at = 5 + 0x4000; at + 5 <= TLS_SNIFF_MAX_BYTES; at += 5 + 0x4000)
		memcpy(big + at, (const uint8_t[]){ 0x16, 0x03, 0x03, 0x40, 0x00 }, 5);
	CHECK_INT(tls_sniff(big, TLS_SNIFF_MAX_BYTES - 1), TLS_SNIFF_NEED_MORE);
	CHECK_INT(tls_sniff(big, TLS_SNIFF_MAX_BYTES), TLS_SNIFF_SERVER_HANDSHAKE);
	/* the same Certificate in records of one byte: 64 records at most
	 * (a walk from the start for each byte that comes stays short) */
	for (size_t i = 0; i < 64; i++)
		memcpy(big + 6 * i, (const uint8_t[]){ 0x16, 0x03, 0x03, 0x00, 0x01,
						       i == 0 ? 0x0b : 0xff }, 6);
	CHECK_INT(tls_sniff(big, 6 * 63), TLS_SNIFF_NEED_MORE);
	CHECK_INT(tls_sniff(big, 6 * 64), TLS_SNIFF_SERVER_HANDSHAKE);
	free(big);
}

/* When no more bytes will come, a Certificate without the message after
 * it is the server's; fewer than 6 bytes still say nothing. */
static void test_sniff_final_takes_a_lone_certificate_for_the_server(void)
{
	CHECK_INT(tls_sniff(cert_rec, sizeof(cert_rec)), TLS_SNIFF_NEED_MORE);
	CHECK_INT(tls_sniff_final(cert_rec, sizeof(cert_rec)), TLS_SNIFF_SERVER_HANDSHAKE);
	CHECK_INT(tls_sniff_final(cert_rec, 6), TLS_SNIFF_SERVER_HANDSHAKE);
	CHECK_INT(tls_sniff_final(cert_rec, 5), TLS_SNIFF_NEED_MORE);
}

/* ChangeCipherSpec, alert and application data records first, or a
 * NewSessionTicket: a TLS connection joined after its handshake (idle
 * past the flow timeout; a capture started late; a retransmission after
 * the close). They were taken for bytes that are not TLS. */
static void test_sniff_midstream_records(void)
{
	static const uint8_t appdata[] = { 0x17, 0x03, 0x03, 0x00, 0x20, 0x01 };
	static const uint8_t alert[] = { 0x15, 0x03, 0x03, 0x00, 0x02 };
	static const uint8_t ccs[] = { 0x14, 0x03, 0x01, 0x00, 0x01 };
	static const uint8_t nst[] = { 0x16, 0x03, 0x03, 0x00, 0xaa, 0x04 };
	static const uint8_t zero_len[] = { 0x17, 0x03, 0x03, 0x00, 0x00 };
	static const uint8_t bad_version[] = { 0x17, 0x03, 0x05, 0x00, 0x20 };
	static const uint8_t heartbeat[] = { 0x18, 0x03, 0x03, 0x00, 0x20 };

	CHECK_INT(tls_sniff(appdata, sizeof(appdata)), TLS_SNIFF_MIDSTREAM);
	CHECK_INT(tls_sniff(appdata, 4), TLS_SNIFF_NEED_MORE);
	CHECK_INT(tls_sniff(alert, sizeof(alert)), TLS_SNIFF_MIDSTREAM);
	CHECK_INT(tls_sniff(ccs, sizeof(ccs)), TLS_SNIFF_MIDSTREAM);
	CHECK_INT(tls_sniff(nst, sizeof(nst)), TLS_SNIFF_MIDSTREAM);
	CHECK_INT(tls_sniff(zero_len, sizeof(zero_len)), TLS_SNIFF_NOT_TLS);
	CHECK_INT(tls_sniff(bad_version, sizeof(bad_version)), TLS_SNIFF_NOT_TLS);
	CHECK_INT(tls_sniff(heartbeat, sizeof(heartbeat)), TLS_SNIFF_NOT_TLS);
}

static void test_sniff_rejects_non_tls(void)
{
	static const uint8_t http[] = "GET / HTTP/1.1\r\n";
	static const uint8_t bad_major[] = { 0x16, 0x02, 0x01, 0x00, 0x20, 0x01 };
	static const uint8_t bad_minor[] = { 0x16, 0x03, 0x05, 0x00, 0x20, 0x01 };
	static const uint8_t zero_len[] = { 0x16, 0x03, 0x01, 0x00, 0x00, 0x01 };
	static const uint8_t huge_len[] = { 0x16, 0x03, 0x01, 0xff, 0xff, 0x01 };
	static const uint8_t v2_not_hello[] = { 0x80, 0x2e, 0x02, 0x03, 0x01 };

	CHECK_INT(tls_sniff(http, sizeof(http) - 1), TLS_SNIFF_NOT_TLS);
	CHECK_INT(tls_sniff(bad_major, 2), TLS_SNIFF_NOT_TLS);
	CHECK_INT(tls_sniff(bad_minor, sizeof(bad_minor)), TLS_SNIFF_NOT_TLS);
	CHECK_INT(tls_sniff(zero_len, sizeof(zero_len)), TLS_SNIFF_NOT_TLS);
	CHECK_INT(tls_sniff(huge_len, sizeof(huge_len)), TLS_SNIFF_NOT_TLS);
	CHECK_INT(tls_sniff(v2_not_hello, sizeof(v2_not_hello)), TLS_SNIFF_NOT_TLS);
}

/* ------------------------------------------------------------------ */
/* real handshakes (openssl s_server / s_client on loopback)           */

static void test_capture_tls13_ok(void)
{
	struct tls_conn *c = tls_conn_new(NULL);
	struct hs_record *r = tls_conn_record(c);

	feed_capture(c, &cap_tls13_ok, 65536);
	CHECK(tls_conn_decided(c));
	CHECK_INT(r->outcome, HS_OK);
	CHECK_INT(r->end_us, cap_tls13_ok.segs[2].ts_us);  /* client Finished */
	CHECK_INT(r->version, 0x0304);
	CHECK_INT(r->cipher, 0x1302);
	CHECK_STR(hs_cipher_name(r->cipher), "TLS_AES_256_GCM_SHA384");
	CHECK_STR(r->sni, "www.example.com");
	CHECK_INT(r->sni_len, 15);
	CHECK_INT(r->n_alpn, 2);
	CHECK_STR(r->alpn[0].bytes, "h2");
	CHECK_STR(r->alpn[1].bytes, "http/1.1");
	CHECK_INT(r->client_version, 0x0304);
	CHECK_STR(r->ja3, "5a1edc7f170af1014fc65c994878e63c");
	CHECK_STR(r->ja4, "t13d3111h2_e8f1e7e78f70_1f22a2ca17c4");
	CHECK(!r->cert_visible);
	CHECK_INT(r->n_chain, 0);
	CHECK_INT(r->n_alerts, 0);   /* the close_notify after Finished is ignored */
	CHECK(!r->resumed);
	CHECK(!r->hello_retry);
	CHECK(r->parse_error == NULL);
	tls_conn_free(c);
}

static void test_capture_tls12_ok(void)
{
	struct tls_conn *c = tls_conn_new(NULL);
	struct hs_record *r = tls_conn_record(c);
	char hex[65];

	feed_capture(c, &cap_tls12_ok, 65536);
	CHECK_INT(r->outcome, HS_OK);
	CHECK_INT(r->end_us, cap_tls12_ok.segs[3].ts_us);  /* server Finished */
	CHECK_INT(r->version, 0x0303);
	CHECK_INT(r->cipher, 0xc030);
	CHECK_STR(hs_cipher_name(r->cipher), "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384");
	CHECK_STR(r->sni, "tls12.example.com");
	CHECK_INT(r->n_alpn, 0);
	CHECK_INT(r->client_version, 0x0303);
	CHECK_STR(r->ja3, "871a754af286dfb70c1b53c6887c62e0");
	CHECK(r->cert_visible);
	CHECK_INT(r->n_chain, 1);
	CHECK_INT(r->chain[0].len, 787);
	CHECK_STR(sha256_hex(r->chain[0].data, r->chain[0].len, hex),
		  "cb33642b1f4ece1439b3a636d715c7d70be6662e17690550882abafd2fc1dcd3");
	CHECK(!r->has_staple);
	CHECK(!r->resumed);
	CHECK_INT(r->n_alerts, 0);
	CHECK(r->parse_error == NULL);
	tls_conn_free(c);
}

static void test_capture_tls12_client_rejects_certificate(void)
{
	struct tls_conn *c = tls_conn_new(NULL);
	struct hs_record *r = tls_conn_record(c);

	feed_capture(c, &cap_tls12_unknown_ca, 65536);
	CHECK_INT(r->outcome, HS_FAILED);
	CHECK_INT(r->end_us, cap_tls12_unknown_ca.segs[2].ts_us);
	CHECK_INT(r->n_alerts, 1);
	CHECK(r->alerts[0].from_client);
	CHECK(!r->alerts[0].encrypted);
	CHECK_INT(r->alerts[0].level, HS_ALERT_FATAL);
	CHECK_INT(r->alerts[0].description, 48);
	CHECK_STR(hs_alert_description_name(r->alerts[0].description), "unknown_ca");
	CHECK_INT(r->alerts[0].ts_us, cap_tls12_unknown_ca.segs[2].ts_us);
	CHECK_INT(r->n_chain, 1);
	CHECK_STR(r->sni, "bad.example.com");
	tls_conn_free(c);
}

static void test_capture_tls13_client_plaintext_alert(void)
{
	struct tls_conn *c = tls_conn_new(NULL);
	struct hs_record *r = tls_conn_record(c);

	feed_capture(c, &cap_tls13_plain_alert, 65536);
	CHECK_INT(r->outcome, HS_FAILED);
	CHECK_INT(r->version, 0x0304);
	CHECK_INT(r->n_alerts, 1);
	CHECK(r->alerts[0].from_client);
	CHECK(!r->alerts[0].encrypted);
	CHECK_INT(r->alerts[0].level, HS_ALERT_FATAL);
	CHECK_INT(r->alerts[0].description, 48);
	CHECK(!r->cert_visible);
	CHECK_STR(r->ja3, "f146948b4a599d4d7ddf071b74696983");
	CHECK_STR(r->ja4, "t13d041000_16476d049b0b_78f1d400d464");
	tls_conn_free(c);
}

static void test_capture_tls12_resumed(void)
{
	struct tls_conn *c = tls_conn_new(NULL);
	struct hs_record *r = tls_conn_record(c);

	feed_capture(c, &cap_tls12_resumed, 65536);
	CHECK_INT(r->outcome, HS_OK);
	CHECK_INT(r->end_us, cap_tls12_resumed.segs[2].ts_us);  /* client Finished */
	CHECK(r->resumed);
	CHECK(!r->cert_visible);
	CHECK_INT(r->n_chain, 0);
	CHECK_INT(r->cipher, 0xc030);
	CHECK_STR(r->ja3, "871a754af286dfb70c1b53c6887c62e0");
	tls_conn_free(c);
}

static void test_capture_tls13_hello_retry(void)
{
	struct tls_conn *c = tls_conn_new(NULL);
	struct hs_record *r = tls_conn_record(c);

	feed_capture(c, &cap_tls13_hrr, 65536);
	CHECK_INT(r->outcome, HS_OK);
	CHECK_INT(r->end_us, cap_tls13_hrr.segs[4].ts_us);
	CHECK(r->hello_retry);
	CHECK(r->has_server_hello);
	CHECK_INT(r->version, 0x0304);
	CHECK_INT(r->cipher, 0x1302);
	CHECK_STR(r->sni, "hrr.example.com");
	/* the fingerprint of the first ClientHello */
	CHECK_STR(r->ja3, "a766c0cb08b7143fcaf7ee210298ded8");
	CHECK_STR(r->ja4, "t13d311000_e8f1e7e78f70_1f22a2ca17c4");
	tls_conn_free(c);
}

static void check_staple_capture(const struct hs_record *r)
{
	char hex[65];

	CHECK_INT(r->outcome, HS_OK);
	CHECK_INT(r->version, 0x0303);
	CHECK_STR(r->sni, "staple.example.com");
	CHECK(r->cert_visible);
	CHECK_INT(r->n_chain, 3);
	CHECK(!r->chain_truncated);
	CHECK_STR(sha256_hex(r->chain[0].data, r->chain[0].len, hex),
		  "feffb808bb2e1552a1637900442d0201814a12c3c33bc26cf6e763cb10a803cd");
	CHECK_STR(sha256_hex(r->chain[1].data, r->chain[1].len, hex),
		  "e808ec57907147cf1f2f21f5d4fa3a759585eea61341f71ccd9f8d4723551220");
	CHECK_STR(sha256_hex(r->chain[2].data, r->chain[2].len, hex),
		  "37d446b50da490c375fbff01339af4907d19d3134273f758de837f0d164c11ae");
	CHECK(r->has_staple);
	CHECK_INT(r->staple.len, 747);
	CHECK_STR(sha256_hex(r->staple.data, r->staple.len, hex),
		  "672e3fbf0057a2fefd4bf040920cf52f77a754c5d27d68ab8c849297262f9635");
	CHECK_STR(r->ja3, "7b15e023156c94815f028ded58cd07ce");
	CHECK_STR(r->ja4, "t12d280800_d943125447b4_0f0eab847d69");
	CHECK(r->parse_error == NULL);
}

static void test_capture_tls12_chain_and_staple(void)
{
	struct tls_conn *c = tls_conn_new(NULL);

	feed_capture(c, &cap_tls12_staple, 65536);
	check_staple_capture(tls_conn_record(c));
	tls_conn_free(c);
}

static void test_capture_fed_byte_by_byte_gives_same_record(void)
{
	struct tls_conn *c = tls_conn_new(NULL);

	feed_capture(c, &cap_tls12_staple, 1);
	check_staple_capture(tls_conn_record(c));
	tls_conn_free(c);
}

/* ------------------------------------------------------------------ */
/* record layer                                                        */

static void check_std_hello(const struct hs_record *r)
{
	CHECK(r->has_client_hello);
	CHECK(r->has_sni);
	CHECK_STR(r->sni, "www.example.com");
	CHECK_INT(r->n_alpn, 2);
	CHECK_STR(r->alpn[1].bytes, "http/1.1");
	CHECK_INT(r->alpn[1].len, 8);
	CHECK_INT(r->client_version, 0x0304);
	CHECK_STR(r->ja4, "t13d0506h2_8f1d35f4f097_0d385148b956");
	CHECK_STR(r->ja3, "0ab1b874b1172beaeee806cfca8a6c60");
	CHECK(r->parse_error == NULL);
}

static void test_client_hello_in_one_record(void)
{
	struct tb_client_hello ch = std_hello();
	struct tls_conn *c = conn_with_hello(&ch);

	check_std_hello(tls_conn_record(c));
	tls_conn_free(c);
}

static void test_client_hello_split_across_three_records(void)
{
	struct tb_client_hello ch = std_hello();
	struct tls_conn *c = tls_conn_new(NULL);
	struct tb msg = { 0 }, rec = { 0 };

	tb_client_hello(&msg, &ch);
	tb_records(&rec, 22, msg.p, msg.n, msg.n / 3 + 1);
	CHECK_INT(rec.n, msg.n + 3 * 5);     /* three record headers */
	feed_tb(c, true, &rec, 1);
	check_std_hello(tls_conn_record(c));
	tb_free(&msg);
	tb_free(&rec);
	tls_conn_free(c);
}

static void test_client_hello_across_seven_feeds(void)
{
	static const size_t sizes[] = { 1, 2, 3, 4, 7, 50 };   /* then the rest */
	struct tb_client_hello ch = std_hello();
	struct tls_conn *c = tls_conn_new(NULL);
	struct hs_record *r = tls_conn_record(c);
	struct tb rec = { 0 };
	size_t i, off = 0;

	client_hello_records(&rec, &ch);
	for (i = 0; i < N(sizes); i++) {
		tls_conn_feed(c, true, rec.p + off, sizes[i], 10 + i);
		off += sizes[i];
		CHECK(!r->has_client_hello);
	}
	tls_conn_feed(c, true, rec.p + off, rec.n - off, 20);
	check_std_hello(r);
	tb_free(&rec);
	tls_conn_free(c);
}

static void test_several_handshake_messages_in_one_record(void)
{
	struct tls_conn *c = tls_conn_new(NULL);
	struct hs_record *r = tls_conn_record(c);
	struct tb b = { 0 };

	tls12_server_flight(&b);
	CHECK_INT(b.n, 5 + (4 + 77) + (4 + 3 + 3 + sizeof(der_leaf)) + 4);
	feed_tb(c, false, &b, 5);
	CHECK(r->has_server_hello);
	CHECK_INT(r->version, 0x0303);
	CHECK_INT(r->cipher, 0xc02f);
	CHECK_INT(r->n_chain, 1);
	CHECK_INT(r->chain[0].len, sizeof(der_leaf));
	CHECK(memcmp(r->chain[0].data, der_leaf, sizeof(der_leaf)) == 0);
	CHECK(r->parse_error == NULL);
	tb_free(&b);
	tls_conn_free(c);
}

static void test_sni_raw_bytes_kept(void)
{
	static const char raw[] = "a\"b\\c\x01\x7f\xff\xc3\x28.example\x00z";
	struct tb_client_hello ch = std_hello();
	struct tls_conn *c;
	struct hs_record *r;

	ch.sni.s = raw;
	ch.sni.len = sizeof(raw) - 1;
	c = conn_with_hello(&ch);
	r = tls_conn_record(c);
	CHECK(r->has_sni);
	CHECK_INT(r->sni_len, sizeof(raw) - 1);
	CHECK(memcmp(r->sni, raw, sizeof(raw) - 1) == 0);
	CHECK_INT(r->sni[r->sni_len], 0);
	tls_conn_free(c);
}

static void test_sni_truncated_at_255(void)
{
	char name[300];
	struct tb_client_hello ch = std_hello();
	struct tls_conn *c;
	struct hs_record *r;

	memset(name, 'x', sizeof(name));
	ch.sni.s = name;
	ch.sni.len = sizeof(name);
	c = conn_with_hello(&ch);
	r = tls_conn_record(c);
	CHECK(r->has_sni);
	CHECK_INT(r->sni_len, HS_MAX_SNI);
	CHECK_INT(strlen(r->sni), HS_MAX_SNI);
	tls_conn_free(c);
}

static void test_no_sni(void)
{
	static const uint16_t exts[] = { 0x0010, 0x002b, 0x000d };
	struct tb_client_hello ch = std_hello();
	struct tls_conn *c;
	struct hs_record *r;

	ch.exts = exts;
	ch.n_exts = N(exts);
	c = conn_with_hello(&ch);
	r = tls_conn_record(c);
	CHECK(r->has_client_hello);
	CHECK(!r->has_sni);
	CHECK_INT(r->sni_len, 0);
	CHECK_STR(r->sni, "");
	CHECK(strncmp(r->ja4, "t13i0503h2_", 11) == 0);
	tls_conn_free(c);
}

static void test_alpn_beyond_eight_is_truncated(void)
{
	static const struct tb_str many[] = {
		TB_STR("a1"), TB_STR("a2"), TB_STR("a3"), TB_STR("a4"), TB_STR("a5"),
		TB_STR("a6"), TB_STR("a7"), TB_STR("a8"), TB_STR("a9"),
	};
	struct tb_client_hello ch = std_hello();
	struct tls_conn *c;
	struct hs_record *r;

	ch.alpn = many;
	ch.n_alpn = N(many);
	c = conn_with_hello(&ch);
	r = tls_conn_record(c);
	CHECK_INT(r->n_alpn, HS_MAX_ALPN);
	CHECK(r->alpn_truncated);
	CHECK_STR(r->alpn[7].bytes, "a8");
	tls_conn_free(c);
}

/* A handshake waiting after its ClientHello (a flood of them fills the
 * --handshake-memory budget) holds room for the ALPN names its client
 * offered, not for the most a client may offer: under 2 KiB without
 * ALPN (it held 3,680 bytes), one name's room more per name offered. */
static void test_a_waiting_hello_holds_room_for_its_alpn_names_only(void)
{
	static const uint16_t no_alpn_exts[] = { 0x0000, 0x002b, 0x000d, 0x000a, 0x000b };
	struct tb_client_hello ch = std_hello();
	struct tls_conn *with, *without;

	with = conn_with_hello(&ch);
	ch.exts = no_alpn_exts;
	ch.n_exts = N(no_alpn_exts);
	ch.alpn = NULL;
	ch.n_alpn = 0;
	without = conn_with_hello(&ch);
	CHECK_INT(tls_conn_record(with)->n_alpn, 2);
	CHECK_INT(tls_conn_record(without)->n_alpn, 0);
	CHECK(tls_conn_mem(without) < 2048);
	CHECK_INT(tls_conn_mem(with), tls_conn_mem(without) + 2 * sizeof(struct hs_string));
	tls_conn_free(with);
	tls_conn_free(without);
}

static void test_grease_is_not_the_client_version(void)
{
	static const uint16_t versions[] = { 0xfafa, 0x0303, 0x0a0a };
	static const uint16_t ciphers[] = { 0x2a2a, 0xc02f };
	struct tb_client_hello ch = std_hello();
	struct tls_conn *c;
	struct hs_record *r;

	ch.versions = versions;
	ch.n_versions = N(versions);
	ch.ciphers = ciphers;
	ch.n_ciphers = N(ciphers);
	c = conn_with_hello(&ch);
	r = tls_conn_record(c);
	CHECK_INT(r->client_version, 0x0303);
	CHECK(strncmp(r->ja4, "t12d0106h2_", 11) == 0);
	tls_conn_free(c);
}

/* ------------------------------------------------------------------ */
/* outcomes                                                            */

static void test_tls12_full_handshake_ok(void)
{
	struct tb_client_hello ch = std_hello();
	struct tls_conn *c = conn_with_hello(&ch);
	struct hs_record *r = tls_conn_record(c);
	struct tb s1 = { 0 }, c2 = { 0 }, s2 = { 0 };

	tls12_server_flight(&s1);
	tls12_client_finish(&c2);
	tls12_server_finish(&s2);
	feed_tb(c, false, &s1, 2000);
	feed_tb(c, true, &c2, 3000);
	CHECK(!tls_conn_decided(c));
	feed_tb(c, false, &s2, 4000);
	CHECK(tls_conn_decided(c));
	CHECK_INT(r->outcome, HS_OK);
	CHECK_INT(r->end_us, 4000);
	CHECK(!r->resumed);
	CHECK(r->cert_visible);
	CHECK_INT(r->n_alerts, 0);
	CHECK_STR(hs_outcome_name(r->outcome), "ok");
	CHECK_STR(hs_version_name(r->version), "TLS1.2");
	tb_free(&s1);
	tb_free(&c2);
	tb_free(&s2);
	tls_conn_free(c);
}

static void test_tls12_client_fatal_alert_after_certificate_fails(void)
{
	struct tb_client_hello ch = std_hello();
	struct tls_conn *c = conn_with_hello(&ch);
	struct hs_record *r = tls_conn_record(c);
	struct tb s1 = { 0 }, a = { 0 };

	tls12_server_flight(&s1);
	tb_alert(&a, 2, 48);
	feed_tb(c, false, &s1, 2000);
	feed_tb(c, true, &a, 2500);
	CHECK_INT(r->outcome, HS_FAILED);
	CHECK_INT(r->end_us, 2500);
	CHECK_INT(r->n_alerts, 1);
	CHECK(r->alerts[0].from_client);
	CHECK(!r->alerts[0].encrypted);
	CHECK_INT(r->alerts[0].level, 2);
	CHECK_INT(r->alerts[0].description, 48);
	CHECK_INT(r->alerts[0].ts_us, 2500);
	CHECK_STR(hs_alert_level_name(r->alerts[0].level), "fatal");
	CHECK_INT(r->n_chain, 1);
	tb_free(&s1);
	tb_free(&a);
	tls_conn_free(c);
}

static void test_tls12_warning_alert_is_not_failure(void)
{
	struct tb_client_hello ch = std_hello();
	struct tls_conn *c = conn_with_hello(&ch);
	struct hs_record *r = tls_conn_record(c);
	struct tb s1 = { 0 }, c2 = { 0 }, s2 = { 0 };

	tb_alert(&s1, 1, 112);          /* unrecognized_name, as a warning */
	tls12_server_flight(&s1);
	tls12_client_finish(&c2);
	tls12_server_finish(&s2);
	feed_tb(c, false, &s1, 2000);
	CHECK(!tls_conn_decided(c));
	feed_tb(c, true, &c2, 3000);
	feed_tb(c, false, &s2, 4000);
	CHECK_INT(r->outcome, HS_OK);
	CHECK_INT(r->n_alerts, 1);
	CHECK(!r->alerts[0].from_client);
	CHECK_INT(r->alerts[0].level, 1);
	CHECK_INT(r->alerts[0].description, 112);
	tb_free(&s1);
	tb_free(&c2);
	tb_free(&s2);
	tls_conn_free(c);
}

static void test_tls12_resumed_ok(void)
{
	struct tb_client_hello ch = std_hello();
	struct tls_conn *c = conn_with_hello(&ch);
	struct hs_record *r = tls_conn_record(c);
	struct tb s1 = { 0 }, msg = { 0 }, c2 = { 0 };

	tb_server_hello(&msg, 0xc02f, 0, false, false);
	wrap(&s1, &msg);
	tls12_server_finish(&s1);
	tb_opaque_record(&c2, 20, 1);
	tb_opaque_record(&c2, 22, 40);
	feed_tb(c, false, &s1, 2000);
	CHECK(!tls_conn_decided(c));
	feed_tb(c, true, &c2, 3000);
	CHECK_INT(r->outcome, HS_OK);
	CHECK_INT(r->end_us, 3000);
	CHECK(r->resumed);
	CHECK(!r->cert_visible);
	tb_free(&s1);
	tb_free(&msg);
	tb_free(&c2);
	tls_conn_free(c);
}

static void test_tls12_encrypted_alert_before_finished_fails(void)
{
	struct tb_client_hello ch = std_hello();
	struct tls_conn *c = conn_with_hello(&ch);
	struct hs_record *r = tls_conn_record(c);
	struct tb s1 = { 0 }, c2 = { 0 }, a = { 0 };

	tls12_server_flight(&s1);
	tls12_client_finish(&c2);
	tb_opaque_record(&a, 21, 26);   /* after the client's CCS: encrypted */
	feed_tb(c, false, &s1, 2000);
	feed_tb(c, true, &c2, 3000);
	feed_tb(c, true, &a, 3500);
	CHECK_INT(r->outcome, HS_FAILED);
	CHECK_INT(r->end_us, 3500);
	CHECK_INT(r->n_alerts, 1);
	CHECK(r->alerts[0].from_client);
	CHECK(r->alerts[0].encrypted);
	CHECK_INT(r->alerts[0].level, HS_ALERT_UNKNOWN);
	CHECK_INT(r->alerts[0].description, 255);
	/* 255 is no assigned code: a plaintext one is written as a number;
	 * the encrypted flag is what makes the events say "unknown" */
	CHECK(hs_alert_description_name(255) == NULL);
	tb_free(&s1);
	tb_free(&c2);
	tb_free(&a);
	tls_conn_free(c);
}

static void test_tls12_close_notify_after_finished_is_ignored(void)
{
	struct tb_client_hello ch = std_hello();
	struct tls_conn *c = conn_with_hello(&ch);
	struct hs_record *r = tls_conn_record(c);
	struct tb s1 = { 0 }, c2 = { 0 }, s2 = { 0 }, a = { 0 };

	tls12_server_flight(&s1);
	tls12_client_finish(&c2);
	tls12_server_finish(&s2);
	tb_opaque_record(&a, 21, 26);
	feed_tb(c, false, &s1, 2000);
	feed_tb(c, true, &c2, 3000);
	feed_tb(c, false, &s2, 4000);
	feed_tb(c, true, &a, 5000);
	tls_conn_close(c, true, 6000);
	CHECK_INT(r->outcome, HS_OK);
	CHECK_INT(r->end_us, 4000);
	CHECK_INT(r->n_alerts, 0);
	tb_free(&s1);
	tb_free(&c2);
	tb_free(&s2);
	tb_free(&a);
	tls_conn_free(c);
}

/* TLS 1.3 server flight under @cipher: ServerHello, CCS, encrypted
 * EE..Finished. */
static void tls13_server_flight_with(struct tb *out, uint16_t cipher,
				     size_t first_app_len)
{
	struct tb msg = { 0 };

	tb_server_hello(&msg, cipher, 0x0304, false, false);
	wrap(out, &msg);
	tb_free(&msg);
	tb_opaque_record(out, 20, 1);
	tb_opaque_record(out, 23, first_app_len);
	tb_opaque_record(out, 23, 800);
	tb_opaque_record(out, 23, 280);
	tb_opaque_record(out, 23, 69);
}

static void tls13_server_flight(struct tb *out, size_t first_app_len)
{
	tls13_server_flight_with(out, 0x1301, first_app_len);
}

static void test_tls13_server_refuses_after_client_finished(void)
{
	struct tb_client_hello ch = std_hello();
	struct tls_conn *c = conn_with_hello(&ch);
	struct hs_record *r = tls_conn_record(c);
	struct tb s1 = { 0 }, c2 = { 0 }, s2 = { 0 };

	tls13_server_flight(&s1, 32);
	tb_opaque_record(&c2, 23, 69);
	tb_opaque_record(&s2, 23, 19);    /* e.g. certificate_required */
	feed_tb(c, false, &s1, 2000);
	feed_tb(c, true, &c2, 3000);
	feed_tb(c, false, &s2, 4000);
	CHECK_INT(r->outcome, HS_FAILED);
	CHECK_INT(r->end_us, 4000);
	CHECK_INT(r->n_alerts, 1);
	CHECK(!r->alerts[0].from_client);
	CHECK(r->alerts[0].encrypted);
	tb_free(&s1);
	tb_free(&c2);
	tb_free(&s2);
	tls_conn_free(c);
}

/* A client that sends its hello and closes: the server's flight still
 * fills the record, its alert is kept, the outcome is aborted. */
static void test_alert_after_client_fin_is_kept_but_aborted(void)
{
	struct tb_client_hello ch = std_hello();
	struct tls_conn *c = conn_with_hello(&ch);
	struct hs_record *r = tls_conn_record(c);
	struct tb s1 = { 0 };

	tls_conn_half_close(c, true, 1500);
	tb_alert(&s1, 2, 50);   /* decode_error */
	feed_tb(c, false, &s1, 2000);
	CHECK(!tls_conn_decided(c));
	CHECK_INT(r->n_alerts, 1);
	CHECK_INT(r->alerts[0].description, 50);
	tls_conn_close(c, true, 2500);
	CHECK_INT(r->outcome, HS_ABORTED);
	tb_free(&s1);
	tls_conn_free(c);
}

/* The server closes (a timeout, or packets captured out of order), then
 * the client rejects its certificate: failed, by the client's alert (it
 * was aborted: any side's FIN made the alert a reaction). */
static void test_client_alert_after_server_fin_fails(void)
{
	struct tb_client_hello ch = std_hello();
	struct tls_conn *c = conn_with_hello(&ch);
	struct hs_record *r = tls_conn_record(c);
	struct tb s1 = { 0 }, a = { 0 };

	tls12_server_flight(&s1);
	feed_tb(c, false, &s1, 2000);
	tls_conn_half_close(c, false, 2100);
	tb_alert(&a, 2, 45);    /* certificate_expired */
	feed_tb(c, true, &a, 2200);
	CHECK(tls_conn_decided(c));
	CHECK_INT(r->outcome, HS_FAILED);
	CHECK_INT(r->end_us, 2200);
	CHECK_INT(r->n_alerts, 1);
	CHECK(r->alerts[0].from_client);
	tb_free(&s1);
	tb_free(&a);
	tls_conn_free(c);
}

/* The client sends its Finished and closes at once; the server refuses
 * (no client certificate) after the FIN: that is still a failure. */
static void test_tls13_refusal_after_client_finished_and_fin_fails(void)
{
	struct tb_client_hello ch = std_hello();
	struct tls_conn *c = conn_with_hello(&ch);
	struct hs_record *r = tls_conn_record(c);
	struct tb s1 = { 0 }, c2 = { 0 }, s2 = { 0 };

	tls13_server_flight(&s1, 32);
	tb_opaque_record(&c2, 23, 69);
	tb_opaque_record(&s2, 23, 19);
	feed_tb(c, false, &s1, 2000);
	feed_tb(c, true, &c2, 3000);
	tls_conn_half_close(c, true, 3100);
	feed_tb(c, false, &s2, 4000);
	CHECK_INT(r->outcome, HS_FAILED);
	CHECK_INT(r->n_alerts, 1);
	tb_free(&s1);
	tb_free(&c2);
	tb_free(&s2);
	tls_conn_free(c);
}

static void test_tls13_ok_on_client_finished(void)
{
	struct tb_client_hello ch = std_hello();
	struct tls_conn *c = conn_with_hello(&ch);
	struct hs_record *r = tls_conn_record(c);
	struct tb s1 = { 0 }, c2 = { 0 };

	tls13_server_flight(&s1, 32);
	tb_opaque_record(&c2, 20, 1);
	tb_opaque_record(&c2, 23, 69);
	feed_tb(c, false, &s1, 2000);
	CHECK(!tls_conn_decided(c));
	feed_tb(c, true, &c2, 3000);
	/* the server may still refuse: its next record decides */
	CHECK(!tls_conn_decided(c));
	tb_free(&s1);
	tb_opaque_record(&s1, 23, 250);   /* NewSessionTicket */
	feed_tb(c, false, &s1, 3500);
	CHECK_INT(r->outcome, HS_OK);
	CHECK_INT(r->end_us, 3000);
	CHECK_INT(r->version, 0x0304);
	CHECK_STR(hs_version_name(r->version), "TLS1.3");
	CHECK_INT(r->cipher, 0x1301);
	CHECK(!r->cert_visible);
	CHECK(!r->resumed);
	CHECK_INT(r->n_alerts, 0);
	tb_free(&s1);
	tb_free(&c2);
	tls_conn_free(c);
}

static void test_tls13_client_encrypted_alert_fails(void)
{
	struct tb_client_hello ch = std_hello();
	struct tls_conn *c = conn_with_hello(&ch);
	struct hs_record *r = tls_conn_record(c);
	struct tb s1 = { 0 }, c2 = { 0 };

	tls13_server_flight(&s1, 32);
	tb_opaque_record(&c2, 20, 1);
	tb_opaque_record(&c2, 23, 19);
	feed_tb(c, false, &s1, 2000);
	feed_tb(c, true, &c2, 3000);
	CHECK_INT(r->outcome, HS_FAILED);
	CHECK_INT(r->end_us, 3000);
	CHECK_INT(r->n_alerts, 1);
	CHECK(r->alerts[0].from_client);
	CHECK(r->alerts[0].encrypted);
	CHECK_INT(r->alerts[0].level, HS_ALERT_UNKNOWN);
	CHECK_INT(r->alerts[0].description, 255);
	CHECK_STR(hs_alert_level_name(r->alerts[0].level), "unknown");
	tb_free(&s1);
	tb_free(&c2);
	tls_conn_free(c);
}

static void test_tls13_server_encrypted_alert_fails(void)
{
	struct tb_client_hello ch = std_hello();
	struct tls_conn *c = conn_with_hello(&ch);
	struct hs_record *r = tls_conn_record(c);
	struct tb s1 = { 0 }, msg = { 0 };

	tb_server_hello(&msg, 0x1301, 0x0304, false, false);
	wrap(&s1, &msg);
	tb_opaque_record(&s1, 20, 1);
	tb_opaque_record(&s1, 23, 19);
	feed_tb(c, false, &s1, 2000);
	CHECK_INT(r->outcome, HS_FAILED);
	CHECK_INT(r->n_alerts, 1);
	CHECK(!r->alerts[0].from_client);
	CHECK(r->alerts[0].encrypted);
	tb_free(&s1);
	tb_free(&msg);
	tls_conn_free(c);
}

/* One record of a scripted exchange: who sends it, its type, its length
 * and the packet time. */
struct rec_step {
	bool from_client;
	uint8_t type;
	uint16_t len;
	uint64_t ts_us;
};

static void play(struct tls_conn *c, const struct rec_step *steps, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		struct tb rec = { 0 };

		tb_opaque_record(&rec, steps[i].type, steps[i].len);
		feed_tb(c, steps[i].from_client, &rec, steps[i].ts_us);
		tb_free(&rec);
	}
}

/* A TLS 1.3 connection under @cipher whose server flight (first
 * encrypted record @first_app_len bytes) came at 2000. */
static struct tls_conn *tls13_conn_after_flight(uint16_t cipher, size_t first_app_len)
{
	struct tb_client_hello ch = std_hello();
	struct tls_conn *c = conn_with_hello(&ch);
	struct tb s1 = { 0 };

	tls13_server_flight_with(&s1, cipher, first_app_len);
	feed_tb(c, false, &s1, 2000);
	tb_free(&s1);
	return c;
}

/* ... and then @steps played. */
static struct tls_conn *tls13_played(uint16_t cipher, size_t first_app_len,
				     const struct rec_step *steps, size_t n)
{
	struct tls_conn *c = tls13_conn_after_flight(cipher, first_app_len);

	play(c, steps, n);
	return c;
}

/* Failed at @at_us by one encrypted alert of the server's: its refusal. */
static void check_refused_by_server(struct tls_conn *c, uint64_t at_us)
{
	const struct hs_record *r = tls_conn_record(c);

	CHECK_INT(r->outcome, HS_FAILED);
	CHECK_INT(r->end_us, at_us);
	CHECK_INT(r->n_alerts, 1);
	CHECK(!r->alerts[0].from_client);
	CHECK(r->alerts[0].encrypted);
	tls_conn_free(c);
}

/* Under TLS_AES_128_GCM_SHA256: an encrypted Finished alone (4-byte
 * header, 32-byte HMAC, content type, tag), an empty Certificate (its
 * 4-byte header, an empty context and list), an encrypted alert. */
#define FINISHED_LEN     53
#define EMPTY_CERT_LEN   25
#define ALERT_LEN        19

/* A client's Finished at 3000 (hello at 1000, the server's flight at 2000:
 * a turn of 1000 us), after an empty Certificate when @client_cert, its
 * close_notify at @close_us, then the server's alert-sized record at
 * @server_us. */
static struct tls_conn *tls13_closed_then_server(bool client_cert, uint64_t close_us,
						 uint64_t server_us)
{
	static const struct rec_step certificate[] = {
		{ true, 23, EMPTY_CERT_LEN, 3000 },
	};
	const struct rec_step steps[] = {
		{ true, 23, FINISHED_LEN, 3000 },
		{ true, 23, ALERT_LEN, close_us },
		{ false, 23, ALERT_LEN, server_us },
	};
	struct tls_conn *c = tls13_conn_after_flight(0x1301, 32);

	play(c, certificate, client_cert ? N(certificate) : 0);
	play(c, steps, N(steps));
	return c;
}

/*
 * A TLS 1.3 server that sends no session tickets (openssl -num_tickets 0,
 * Go with tickets off) has nothing to say after the client's Finished;
 * the client closes with close_notify (19 bytes), the server answers with
 * its own (19 bytes): ok, at the client's Finished, and no alert. The
 * close came 700 ms after the Finished (s_client reading "Q" late), far
 * more than twice the handshake's longest turn (1000 us: hello at 1000,
 * ServerHello and flight at 2000, Finished at 3000) and the 10 ms slack;
 * the reply 100 us after it.
 */
static void test_tls13_close_notify_answer_without_tickets_is_ok(void)
{
	static const struct rec_step client_closes[] = {
		{ true, 20, 1, 3000 },
		{ true, 23, FINISHED_LEN, 3000 },
		{ true, 23, ALERT_LEN, 703000 },     /* close_notify */
	};
	static const struct rec_step server_answers[] = {
		{ false, 23, ALERT_LEN, 703100 },    /* the server's close_notify */
	};
	struct tls_conn *c = tls13_conn_after_flight(0x1301, 32);
	struct hs_record *r = tls_conn_record(c);

	play(c, client_closes, N(client_closes));
	CHECK(!tls_conn_decided(c));
	play(c, server_answers, N(server_answers));
	CHECK(tls_conn_decided(c));
	CHECK_INT(r->outcome, HS_OK);
	CHECK_INT(r->end_us, 3000);
	CHECK_INT(r->n_alerts, 0);
	tls_conn_free(c);
}

/* ... the bounds of that: the close 12001 us after the Finished (twice
 * the turn and the slack, and 1 us), the reply 11000 us after the close
 * (a turn and the slack): ok. */
static void test_tls13_close_notify_answer_at_the_bounds_is_ok(void)
{
	struct tls_conn *c = tls13_closed_then_server(false, 15001, 26001);
	struct hs_record *r = tls_conn_record(c);

	CHECK_INT(r->outcome, HS_OK);
	CHECK_INT(r->end_us, 3000);
	CHECK_INT(r->n_alerts, 0);
	tls_conn_free(c);
}

/* A client that closes at once after its Finished (no later than twice
 * the handshake's longest turn and the slack): the server's 19 bytes may
 * be the refusal of the Finished as well as the answer to the close: it
 * counts as the refusal, failed. At 12000 us after the Finished as well
 * as at one turn. */
static void test_tls13_close_at_once_then_servers_alert_fails(void)
{
	check_refused_by_server(tls13_closed_then_server(false, 4000, 4050), 4050);
	check_refused_by_server(tls13_closed_then_server(false, 15000, 15050), 15050);
}

/* The reviewer's case: a client that sent an (empty) Certificate, its
 * Finished, and closed 1001 us later, one turn and 1 us; the server's
 * certificate_required 1050 us after the Finished: failed. (It was ok,
 * the close taken for late as soon as it came a turn after.) */
static void test_tls13_close_one_turn_after_finished_then_refusal_fails(void)
{
	check_refused_by_server(tls13_closed_then_server(true, 4001, 4050), 4050);
	/* the same without the Certificate: too soon after the Finished */
	check_refused_by_server(tls13_closed_then_server(false, 4001, 4050), 4050);
}

/*
 * Mutual TLS against a server without tickets (openssl s_server -Verify 1
 * -num_tickets 0), as scripts/make-mtls-capture.sh records it under
 * TLS_AES_256_GCM_SHA384: the client's Certificate (1379 bytes),
 * CertificateVerify (95) and Finished (69) at 3000, its close_notify
 * 700 ms later, the server's close_notify 100 us after that: ok, at the
 * client's flight, no alert. (It was failed: after a client Certificate
 * every alert-sized record of the server's was taken for a refusal.) The
 * same with an empty Certificate.
 */
static void test_tls13_client_certificate_then_close_reply_is_ok(void)
{
	static const struct rec_step steps[] = {
		{ true, 20, 1, 3000 },
		{ true, 23, 1379, 3000 },    /* Certificate */
		{ true, 23, 95, 3000 },      /* CertificateVerify */
		{ true, 23, 69, 3000 },      /* Finished */
		{ true, 23, ALERT_LEN, 703000 },
		{ false, 23, ALERT_LEN, 703100 },
	};
	struct tls_conn *cs[] = {
		tls13_played(0x1302, 32, steps, N(steps)),
		tls13_closed_then_server(true, 703000, 703100),
	};
	size_t i;

	for (i = 0; i < N(cs); i++) {
		const struct hs_record *r = tls_conn_record(cs[i]);

		CHECK_INT(r->outcome, HS_OK);
		CHECK_INT(r->end_us, 3000);
		CHECK_INT(r->n_alerts, 0);
		tls_conn_free(cs[i]);
	}
}

/* ... the server refusing that certificate: its alert 6 ms after the
 * client's flight (as s_server -verify_return_error did, a self-signed
 * client certificate), before the client's close: failed. */
static void test_tls13_client_certificate_refused_fails(void)
{
	static const struct rec_step steps[] = {
		{ true, 23, 413, 3000 },     /* Certificate */
		{ true, 23, 95, 3000 },
		{ true, 23, 69, 3000 },
		{ false, 23, ALERT_LEN, 9000 },
		{ true, 23, ALERT_LEN, 703000 },
	};

	check_refused_by_server(tls13_played(0x1302, 32, steps, N(steps)), 9000);
}

/* The server's record dated before the client's close, read after it
 * (live mode, the two directions from different CPUs): no reply to the
 * close, failed. */
static void test_tls13_server_alert_dated_before_the_close_fails(void)
{
	check_refused_by_server(tls13_closed_then_server(false, 4001, 3500), 3500);
	check_refused_by_server(tls13_closed_then_server(false, 703000, 3500), 3500);
}

/* The server's record long after the client's close (more than a turn
 * and the slack, 11000 us here): a refusal lost before the capture point
 * and sent again after a retransmission timeout, not a reply: failed. */
static void test_tls13_server_alert_long_after_the_close_fails(void)
{
	check_refused_by_server(tls13_closed_then_server(false, 703000, 714001), 714001);
	check_refused_by_server(tls13_closed_then_server(false, 703000, 903000), 903000);
}

/* A capture with millisecond timestamps: hello, the server's flight and
 * the Finished in the same millisecond (a turn of 0), the close 1 ms
 * later, the refusal in the millisecond of the close: failed, the slack
 * holds where the turn is 0. With the close 700 ms after: ok. */
static void test_tls13_millisecond_timestamps(void)
{
	uint64_t close_ms[] = { 2, 700 };
	size_t i;

	for (i = 0; i < N(close_ms); i++) {
		const struct rec_step steps[] = {
			{ false, 23, 32, 1000 },
			{ true, 23, FINISHED_LEN, 1000 },
			{ true, 23, ALERT_LEN, close_ms[i] * 1000 },
			{ false, 23, ALERT_LEN, close_ms[i] * 1000 },
		};
		struct tb_client_hello ch = std_hello();
		struct tls_conn *c = conn_with_hello(&ch);
		struct hs_record *r = tls_conn_record(c);
		struct tb sh = { 0 }, msg = { 0 };

		tb_server_hello(&msg, 0x1301, 0x0304, false, false);
		wrap(&sh, &msg);
		feed_tb(c, false, &sh, 1000);
		play(c, steps, N(steps));
		CHECK_INT(r->outcome, i == 0 ? HS_FAILED : HS_OK);
		CHECK_INT(r->n_alerts, i == 0 ? 1 : 0);
		CHECK_INT(r->end_us, i == 0 ? 2000 : 1000);
		tb_free(&msg);
		tb_free(&sh);
		tls_conn_free(c);
	}
}

/* The server's refusal (certificate_required) comes before the client
 * closes: still failed, from the server, the client's close after it
 * changes nothing. */
static void test_tls13_refusal_before_the_clients_close_notify_fails(void)
{
	static const struct rec_step steps[] = {
		{ true, 20, 1, 3000 },
		{ true, 23, FINISHED_LEN, 3000 },
		{ false, 23, ALERT_LEN, 3500 },    /* certificate_required */
		{ true, 23, ALERT_LEN, 4000 },
	};
	check_refused_by_server(tls13_played(0x1301, 32, steps, N(steps)), 3500);
}

/* The client's request (not alert-sized) after its Finished, then the
 * server's 19 bytes: that is a refusal, as before. */
static void test_tls13_refusal_after_the_clients_request_fails(void)
{
	static const struct rec_step steps[] = {
		{ true, 23, 69, 3000 },
		{ true, 23, 95, 3000 },     /* GET / */
		{ false, 23, 19, 3500 },
	};

	check_refused_by_server(tls13_played(0x1301, 32, steps, N(steps)), 3500);
}

/* TLS_AES_128_CCM_8_SHA256 has an 8-byte tag: an encrypted alert is 11
 * bytes. The server's refusal after the client's Finished is failed. */
static void test_tls13_ccm8_alert_is_11_bytes(void)
{
	static const struct rec_step client_finishes[] = {
		{ true, 20, 1, 3000 },
		{ true, 23, 17, 3000 },     /* empty Certificate */
		{ true, 23, 45, 3000 },     /* Finished */
	};
	static const struct rec_step server_refuses[] = {
		{ false, 23, 11, 3500 },    /* certificate_required */
	};
	struct tls_conn *c = tls13_conn_after_flight(0x1305, 15);

	play(c, client_finishes, N(client_finishes));
	CHECK(!tls_conn_decided(c));
	play(c, server_refuses, N(server_refuses));
	check_refused_by_server(c, 3500);
}

/* ... and under CCM_8 a 19-byte record is data (8 bytes more than an
 * alert): neither the server's first record nor its next one is an
 * alert, ok. */
static void test_tls13_ccm8_19_bytes_is_not_an_alert(void)
{
	static const struct rec_step steps[] = {
		{ true, 23, 45, 3000 },
		{ false, 23, 19, 3500 },
	};
	struct tls_conn *c = tls13_conn_after_flight(0x1305, 19);
	struct hs_record *r = tls_conn_record(c);

	play(c, steps, N(steps));
	CHECK_INT(r->outcome, HS_OK);
	CHECK_INT(r->end_us, 3000);
	CHECK_INT(r->n_alerts, 0);
	tls_conn_free(c);
}

/* A CCM_8 client that refuses the server's certificate with an
 * encrypted alert where its Finished would be: 11 bytes, failed. */
static void test_tls13_ccm8_client_alert_instead_of_finished_fails(void)
{
	static const struct rec_step steps[] = {
		{ true, 20, 1, 3000 },
		{ true, 23, 11, 3000 },
	};
	struct tls_conn *c = tls13_conn_after_flight(0x1305, 15);
	struct hs_record *r = tls_conn_record(c);

	play(c, steps, N(steps));
	CHECK_INT(r->outcome, HS_FAILED);
	CHECK_INT(r->n_alerts, 1);
	CHECK(r->alerts[0].from_client);
	tls_conn_free(c);
}

/* A capture of the client's direction only: its hello, its Finished, its
 * request and its encrypted close_notify; not a byte of the server. The
 * close_notify is kept, but decides nothing: incomplete, FIN or not. */
static void test_tls12_client_direction_only_is_incomplete(void)
{
	bool fin;

	for (fin = false; ; fin = true) {
		struct tb_client_hello ch = std_hello();
		struct tls_conn *c = conn_with_hello(&ch);
		struct hs_record *r = tls_conn_record(c);
		struct tb c2 = { 0 };

		tls12_client_finish(&c2);
		tb_opaque_record(&c2, 23, 40);
		tb_opaque_record(&c2, 21, 26);
		feed_tb(c, true, &c2, 3000);
		CHECK(!tls_conn_decided(c));
		CHECK_INT(r->n_alerts, 1);
		CHECK(r->alerts[0].from_client);
		CHECK(r->alerts[0].encrypted);
		tls_conn_close(c, fin, 4000);
		CHECK_INT(r->outcome, HS_INCOMPLETE);
		CHECK(!r->gap);
		tb_free(&c2);
		tls_conn_free(c);
		if (fin)
			break;
	}
}

/* ... and of the server's direction only. */
static void test_tls12_server_direction_only_is_incomplete(void)
{
	struct tls_conn *c = tls_conn_new(NULL);
	struct hs_record *r = tls_conn_record(c);
	struct tb s1 = { 0 };

	tls12_server_flight(&s1);
	tls12_server_finish(&s1);
	tb_opaque_record(&s1, 23, 40);
	tb_opaque_record(&s1, 21, 26);
	feed_tb(c, false, &s1, 2000);
	CHECK(!tls_conn_decided(c));
	CHECK_INT(r->n_alerts, 1);
	CHECK(!r->alerts[0].from_client);
	tls_conn_close(c, true, 4000);
	CHECK_INT(r->outcome, HS_INCOMPLETE);
	CHECK_INT(r->version, 0x0303);
	CHECK_INT(r->n_chain, 1);
	tb_free(&s1);
	tls_conn_free(c);
}

/* Both directions seen: the client's encrypted alert after its Finished,
 * before the server's, is still a failure. */
static void test_tls12_client_alert_before_servers_finished_still_fails(void)
{
	struct tb_client_hello ch = std_hello();
	struct tls_conn *c = conn_with_hello(&ch);
	struct hs_record *r = tls_conn_record(c);
	struct tb s1 = { 0 }, c2 = { 0 };

	tls12_server_flight(&s1);
	tls12_client_finish(&c2);
	tb_opaque_record(&c2, 21, 26);
	feed_tb(c, false, &s1, 2000);
	feed_tb(c, true, &c2, 3000);
	CHECK_INT(r->outcome, HS_FAILED);
	CHECK_INT(r->end_us, 3000);
	tb_free(&s1);
	tb_free(&c2);
	tls_conn_free(c);
}

/* More than HS_MAX_ALERTS alerts: the first 8 kept, and said so. */
static void test_alerts_beyond_eight_are_flagged(void)
{
	struct tb_client_hello ch = std_hello();
	struct tls_conn *c = conn_with_hello(&ch);
	struct hs_record *r = tls_conn_record(c);
	struct tb s1 = { 0 };
	int i;

	for (i = 0; i < HS_MAX_ALERTS; i++)
		tb_alert(&s1, 1, 112);    /* unrecognized_name, warnings */
	feed_tb(c, false, &s1, 2000);
	CHECK_INT(r->n_alerts, HS_MAX_ALERTS);
	CHECK(!r->alerts_truncated);
	tb_free(&s1);
	tb_alert(&s1, 1, 112);
	feed_tb(c, false, &s1, 2100);
	CHECK_INT(r->n_alerts, HS_MAX_ALERTS);
	CHECK(r->alerts_truncated);
	CHECK(!tls_conn_decided(c));
	tb_free(&s1);
	tls_conn_free(c);
}

static void test_tls13_error_alert_is_fatal_whatever_its_level(void)
{
	struct tb_client_hello ch = std_hello();
	struct tls_conn *c = conn_with_hello(&ch);
	struct hs_record *r = tls_conn_record(c);
	struct tb s1 = { 0 }, msg = { 0 };

	tb_server_hello(&msg, 0x1301, 0x0304, false, false);
	wrap(&s1, &msg);
	tb_alert(&s1, 1, 40);     /* handshake_failure sent as a "warning" */
	feed_tb(c, false, &s1, 2000);
	CHECK_INT(r->outcome, HS_FAILED);
	CHECK_INT(r->n_alerts, 1);
	CHECK_INT(r->alerts[0].level, 1);
	CHECK_INT(r->alerts[0].description, 40);
	tb_free(&s1);
	tb_free(&msg);
	tls_conn_free(c);
}

static void test_tls13_psk_server_hello_is_resumed(void)
{
	struct tb_client_hello ch = std_hello();
	struct tls_conn *c = conn_with_hello(&ch);
	struct hs_record *r = tls_conn_record(c);
	struct tb s1 = { 0 }, msg = { 0 };

	tb_server_hello(&msg, 0x1301, 0x0304, false, true);
	wrap(&s1, &msg);
	feed_tb(c, false, &s1, 2000);
	CHECK(r->has_server_hello);
	CHECK(r->resumed);
	tb_free(&s1);
	tb_free(&msg);
	tls_conn_free(c);
}

static void test_hrr_waits_for_second_server_hello(void)
{
	struct tb_client_hello ch = std_hello();
	struct tls_conn *c = conn_with_hello(&ch);
	struct hs_record *r = tls_conn_record(c);
	struct tb s1 = { 0 }, c2 = { 0 }, s2 = { 0 }, c3 = { 0 }, msg = { 0 };

	tb_server_hello(&msg, 0x1301, 0x0304, true, false);
	wrap(&s1, &msg);
	tb_opaque_record(&s1, 20, 1);
	feed_tb(c, false, &s1, 2000);
	CHECK(r->hello_retry);
	CHECK(!r->has_server_hello);

	/* CCS and the second ClientHello, which does not replace the first */
	tb_opaque_record(&c2, 20, 1);
	ch.sni.s = "second.example.com";
	ch.sni.len = strlen(ch.sni.s);
	client_hello_records(&c2, &ch);
	feed_tb(c, true, &c2, 3000);
	CHECK_STR(r->sni, "www.example.com");
	CHECK(!tls_conn_decided(c));

	tls13_server_flight(&s2, 32);
	feed_tb(c, false, &s2, 4000);
	CHECK(r->has_server_hello);
	CHECK(!tls_conn_decided(c));
	tb_opaque_record(&c3, 23, 69);
	feed_tb(c, true, &c3, 5000);
	tls_conn_close(c, true, 6000);   /* closed before the server spoke again */
	CHECK_INT(r->outcome, HS_OK);
	CHECK_INT(r->end_us, 5000);
	CHECK(r->hello_retry);
	tb_free(&s1);
	tb_free(&c2);
	tb_free(&s2);
	tb_free(&c3);
	tb_free(&msg);
	tls_conn_free(c);
}

static void test_fin_before_server_hello_is_aborted(void)
{
	struct tb_client_hello ch = std_hello();
	struct tls_conn *c = conn_with_hello(&ch);
	struct hs_record *r = tls_conn_record(c);

	CHECK(!tls_conn_decided(c));
	tls_conn_close(c, true, 7000);
	CHECK(tls_conn_decided(c));
	CHECK_INT(r->outcome, HS_ABORTED);
	CHECK_INT(r->end_us, 7000);
	CHECK_STR(hs_outcome_name(r->outcome), "aborted");
	tls_conn_free(c);
}

static void test_close_at_capture_end_is_incomplete(void)
{
	struct tb_client_hello ch = std_hello();
	struct tls_conn *c = conn_with_hello(&ch);
	struct hs_record *r = tls_conn_record(c);
	struct tb s1 = { 0 };

	tls12_server_flight(&s1);
	feed_tb(c, false, &s1, 2000);
	tls_conn_close(c, false, 9000);
	CHECK_INT(r->outcome, HS_INCOMPLETE);
	CHECK_INT(r->end_us, 9000);
	CHECK(!r->gap);
	tb_free(&s1);
	tls_conn_free(c);
}

static void test_gaps_decide_incomplete_only_at_close(void)
{
	struct tb_client_hello ch = std_hello();
	struct tls_conn *c = conn_with_hello(&ch);
	struct hs_record *r = tls_conn_record(c);

	tls_conn_gap(c, true, 2000);
	tls_conn_gap(c, false, 2100);
	CHECK(!tls_conn_decided(c));
	CHECK(r->gap);
	tls_conn_close(c, true, 3000);
	CHECK_INT(r->outcome, HS_INCOMPLETE);
	CHECK_INT(r->end_us, 3000);
	tls_conn_free(c);
}

static void test_gap_in_one_direction_then_fin_is_incomplete(void)
{
	struct tb_client_hello ch = std_hello();
	struct tls_conn *c = conn_with_hello(&ch);
	struct hs_record *r = tls_conn_record(c);

	tls_conn_gap(c, false, 2000);
	tls_conn_close(c, true, 3000);
	CHECK_INT(r->outcome, HS_INCOMPLETE);
	CHECK(r->gap);
	tls_conn_free(c);
}

static void test_close_after_decision_keeps_outcome(void)
{
	struct tb_client_hello ch = std_hello();
	struct tls_conn *c = conn_with_hello(&ch);
	struct hs_record *r = tls_conn_record(c);
	struct tb a = { 0 };

	tb_alert(&a, 2, 40);
	feed_tb(c, false, &a, 1500);
	CHECK_INT(r->outcome, HS_FAILED);
	tls_conn_close(c, true, 8000);
	tls_conn_close(c, false, 9000);
	CHECK_INT(r->outcome, HS_FAILED);
	CHECK_INT(r->end_us, 1500);
	tb_free(&a);
	tls_conn_free(c);
}

static void test_bytes_after_decision_are_ignored(void)
{
	struct tb_client_hello ch = std_hello();
	struct tls_conn *c = conn_with_hello(&ch);
	struct hs_record *r = tls_conn_record(c);
	struct tb a = { 0 }, s1 = { 0 };

	tb_alert(&a, 2, 40);
	feed_tb(c, true, &a, 1500);
	tls12_server_flight(&s1);
	feed_tb(c, false, &s1, 2000);
	tb_alert(&a, 2, 80);
	feed_tb(c, false, &a, 2100);
	CHECK(!r->has_server_hello);
	CHECK_INT(r->n_chain, 0);
	CHECK_INT(r->n_alerts, 1);
	tb_free(&a);
	tb_free(&s1);
	tls_conn_free(c);
}

/* ------------------------------------------------------------------ */
/* Certificate and CertificateStatus                                   */

static void test_certificate_three_certs_across_four_records(void)
{
	const uint8_t *ders[] = { der_leaf, der_int, der_root };
	const size_t lens[] = { sizeof(der_leaf), sizeof(der_int), sizeof(der_root) };
	struct tls_conn *c = tls_conn_new(NULL);
	struct hs_record *r = tls_conn_record(c);
	struct tb msg = { 0 }, rec = { 0 };

	tb_certificate(&msg, ders, lens, 3);
	tb_records(&rec, 22, msg.p, msg.n, msg.n / 4 + 1);
	CHECK_INT(rec.n, msg.n + 4 * 5);
	feed_tb(c, false, &rec, 1);
	CHECK(r->cert_visible);
	CHECK_INT(r->n_chain, 3);
	CHECK_INT(r->chain[0].len, sizeof(der_leaf));
	CHECK_INT(r->chain[2].len, sizeof(der_root));
	CHECK(memcmp(r->chain[0].data, der_leaf, sizeof(der_leaf)) == 0);
	CHECK(memcmp(r->chain[1].data, der_int, sizeof(der_int)) == 0);
	CHECK(memcmp(r->chain[2].data, der_root, sizeof(der_root)) == 0);
	CHECK(!r->chain_truncated);
	tb_free(&msg);
	tb_free(&rec);
	tls_conn_free(c);
}

static void test_certificate_chain_truncated_after_ten(void)
{
	const uint8_t *ders[12];
	size_t lens[12], i;
	struct tls_conn *c = tls_conn_new(NULL);
	struct hs_record *r = tls_conn_record(c);
	struct tb msg = { 0 }, rec = { 0 };

	for (i = 0; i < 12; i++) {
		ders[i] = i == 10 ? der_root : der_int;
		lens[i] = i == 10 ? sizeof(der_root) : sizeof(der_int);
	}
	tb_certificate(&msg, ders, lens, 12);
	wrap(&rec, &msg);
	feed_tb(c, false, &rec, 1);
	CHECK_INT(r->n_chain, HS_MAX_CHAIN);
	CHECK(r->chain_truncated);
	CHECK_INT(r->chain[9].len, sizeof(der_int));
	CHECK(r->parse_error == NULL);
	tb_free(&msg);
	tb_free(&rec);
	tls_conn_free(c);
}

static void test_certificate_status_gives_staple(void)
{
	uint8_t ocsp[300];
	struct tls_conn *c = tls_conn_new(NULL);
	struct hs_record *r = tls_conn_record(c);
	struct tb msg = { 0 }, rec = { 0 };

	tb_fake_der(ocsp, sizeof(ocsp), 0x44);
	tb_certificate_status(&msg, ocsp, sizeof(ocsp));
	tb_handshake(&msg, 14, 0);
	wrap(&rec, &msg);
	feed_tb(c, false, &rec, 1);
	CHECK(r->has_staple);
	CHECK_INT(r->staple.len, sizeof(ocsp));
	CHECK(memcmp(r->staple.data, ocsp, sizeof(ocsp)) == 0);
	tb_free(&msg);
	tb_free(&rec);
	tls_conn_free(c);
}

/* ------------------------------------------------------------------ */
/* malformed input                                                     */

/* Feeds a (possibly broken) handshake message in records; returns the conn. */
static struct tls_conn *conn_fed_message(bool from_client, const uint8_t *msg,
					 size_t n)
{
	struct tls_conn *c = tls_conn_new(NULL);
	struct tb rec = { 0 };

	tb_records(&rec, 22, msg, n, 16384);
	tls_conn_feed(c, from_client, rec.p, rec.n, 1);
	tb_free(&rec);
	return c;
}

/* Sets every recorded length field of @msg to its maximum, one at a
 * time: the mask of the fields that were no parse error (bit i: field
 * i), and the chain error the last of them left in *@chain_error. */
static uint32_t oversized_lengths_accepted(const struct tb *msg, bool from_client,
					   enum hs_chain_error *chain_error)
{
	uint32_t accepted = 0;
	size_t i;

	CHECK(msg->n_lengths <= 32);
	*chain_error = HS_CHAIN_READ;
	for (i = 0; i < msg->n_lengths && i < 32; i++) {
		uint8_t *copy = malloc(msg->n);
		struct tls_conn *c;

		if (!copy) {
			CHECK(copy != NULL);
			return UINT32_MAX;
		}
		memcpy(copy, msg->p, msg->n);
		memset(copy + msg->len_off[i], 0xff, (size_t)msg->len_width[i]);
		c = conn_fed_message(from_client, copy, msg->n);
		if (!tls_conn_record(c)->parse_error) {
			accepted |= 1u << i;
			*chain_error = tls_conn_record(c)->chain_error;
		}
		tls_conn_free(c);
		free(copy);
	}
	return accepted;
}

static void test_client_hello_every_oversized_length_is_parse_error(void)
{
	struct tb_client_hello ch = std_hello();
	enum hs_chain_error chain_error;
	struct tb msg = { 0 };

	tb_client_hello(&msg, &ch);
	CHECK_INT(msg.n_lengths, 20);
	CHECK_INT(oversized_lengths_accepted(&msg, true, &chain_error), 0);
	tb_free(&msg);
}

static void test_server_messages_every_oversized_length_is_parse_error(void)
{
	const uint8_t *ders[] = { der_leaf, der_int };
	const size_t lens[] = { sizeof(der_leaf), sizeof(der_int) };
	struct tb sh = { 0 }, cert = { 0 }, status = { 0 };
	enum hs_chain_error chain_error;

	tb_server_hello(&sh, 0x1301, 0x0304, false, false);
	CHECK_INT(sh.n_lengths, 5);
	CHECK_INT(oversized_lengths_accepted(&sh, false, &chain_error), 0);
	tb_certificate(&cert, ders, lens, 2);
	CHECK_INT(cert.n_lengths, 4);
	/* the message length (field 0) is not an error: a Certificate above
	 * the cap is skipped and said too_large */
	CHECK_INT(cert.len_off[0], 1);
	CHECK_INT(oversized_lengths_accepted(&cert, false, &chain_error), 1u << 0);
	CHECK_INT(chain_error, HS_CHAIN_TOO_LARGE);
	tb_certificate_status(&status, der_root, sizeof(der_root));
	CHECK_INT(status.n_lengths, 2);
	CHECK_INT(oversized_lengths_accepted(&status, false, &chain_error), 0);
	tb_free(&sh);
	tb_free(&cert);
	tb_free(&status);
}

/*
 * Truncates the body of @msg at every length (fixing the message length):
 * all must be parse errors except @valid_k, a shorter but complete message.
 */
static void check_truncations(const struct tb *msg, bool from_client,
			      size_t valid_k)
{
	size_t body = msg->n - 4, k;

	for (k = 0; k < body; k++) {
		uint8_t *copy = malloc(4 + k);
		struct tls_conn *c;
		const char *err;

		if (!copy) {
			CHECK(copy != NULL);
			return;
		}
		memcpy(copy, msg->p, 4 + k);
		tb_put(copy + 1, 3, k);
		c = conn_fed_message(from_client, copy, 4 + k);
		err = tls_conn_record(c)->parse_error;
		if ((err != NULL) != (k != valid_k)) {
			printf("#   truncated at %zu: %s\n", k, err ? err : "accepted");
			CHECK(0);
		}
		tls_conn_free(c);
		free(copy);
	}
}

static void test_client_hello_truncated_anywhere_is_parse_error(void)
{
	struct tb_client_hello ch = std_hello(), bare = std_hello();
	struct tb msg = { 0 }, bare_msg = { 0 };

	tb_client_hello(&msg, &ch);
	bare.n_exts = 0;     /* ends after compression methods: still valid */
	tb_client_hello(&bare_msg, &bare);
	check_truncations(&msg, true, bare_msg.n - 4);
	tb_free(&msg);
	tb_free(&bare_msg);
}

static void test_server_messages_truncated_anywhere_are_parse_errors(void)
{
	const uint8_t *ders[] = { der_int };
	const size_t lens[] = { sizeof(der_int) };
	struct tb sh = { 0 }, cert = { 0 }, status = { 0 };

	tb_server_hello(&sh, 0x1301, 0x0304, false, false);
	/* version 2 + random 32 + session id 33 + cipher 2 + compression 1 */
	check_truncations(&sh, false, 70);
	tb_certificate(&cert, ders, lens, 1);
	check_truncations(&cert, false, (size_t)-1);
	tb_certificate_status(&status, der_root, sizeof(der_root));
	check_truncations(&status, false, (size_t)-1);
	tb_free(&sh);
	tb_free(&cert);
	tb_free(&status);
}

static void test_certificate_of_zero_length_is_parse_error(void)
{
	const uint8_t *ders[] = { der_leaf, der_leaf };
	const size_t lens[] = { sizeof(der_leaf), 0 };
	struct tb msg = { 0 };
	struct tls_conn *c;
	struct hs_record *r;

	tb_certificate(&msg, ders, lens, 2);
	c = conn_fed_message(false, msg.p, msg.n);
	r = tls_conn_record(c);
	CHECK_STR(r->parse_error, "Certificate: certificate length");
	CHECK_INT(r->n_chain, 0);
	CHECK(!r->cert_visible);
	tb_free(&msg);
	tls_conn_free(c);
}

static void test_session_id_longer_than_32_is_parse_error(void)
{
	static const uint8_t sid[33] = { 7 };
	struct tb_client_hello ch = std_hello();
	struct tls_conn *c;
	struct hs_record *r;

	ch.session_id = sid;
	ch.session_id_len = sizeof(sid);
	c = conn_with_hello(&ch);
	r = tls_conn_record(c);
	CHECK_STR(r->parse_error, "ClientHello: legacy_session_id");
	CHECK(!r->has_client_hello);
	tls_conn_free(c);
}

static void test_record_version_above_tls13_is_parse_error(void)
{
	static const uint8_t rec[] = { 0x16, 0x03, 0x05, 0x00, 0x01, 0x01 };
	struct tls_conn *c = tls_conn_new(NULL);
	struct hs_record *r = tls_conn_record(c);

	tls_conn_feed(c, true, rec, sizeof(rec), 1);
	CHECK_STR(r->parse_error, "record header: not TLS (content type or version)");
	tls_conn_free(c);
}

static void test_record_length_above_limit_is_parse_error(void)
{
	static const uint8_t rec[] = { 0x16, 0x03, 0x03, 0x48, 0x01, 0x01 };
	struct tls_conn *c = tls_conn_new(NULL);
	struct hs_record *r = tls_conn_record(c);

	tls_conn_feed(c, true, rec, sizeof(rec), 1);
	CHECK_STR(r->parse_error, "record header: length above 2^14 + 2048");
	CHECK(!tls_conn_decided(c));
	tls_conn_free(c);
}

static void test_handshake_message_above_limit_is_parse_error(void)
{
	struct tls_limits lim = { .max_message_bytes = 1000 };
	struct tls_conn *c = tls_conn_new(&lim);
	struct hs_record *r = tls_conn_record(c);
	struct tb msg = { 0 }, rec = { 0 }, c2 = { 0 };
	uint8_t big[1200];

	tb_fake_der(big, sizeof(big), 0x44);
	tb_certificate_status(&msg, big, sizeof(big));   /* a 1204-byte body */
	wrap(&rec, &msg);
	feed_tb(c, false, &rec, 1);
	CHECK_STR(r->parse_error, "handshake message: length above the limit");
	CHECK(!r->has_staple);
	CHECK_INT(r->chain_error, HS_CHAIN_READ);
	/* the other direction goes on */
	tb_alert(&c2, 2, 42);
	feed_tb(c, true, &c2, 2);
	CHECK_INT(r->outcome, HS_FAILED);
	tb_free(&msg);
	tb_free(&rec);
	tb_free(&c2);
	tls_conn_free(c);
}

/* ServerHello, an oversized Certificate, ServerKeyExchange, ServerHelloDone
 * and the server's CCS + Finished, records of @frag bytes. */
static void oversized_chain_flight(struct tb *out, size_t frag)
{
	const uint8_t *ders[] = { der_leaf, der_int };
	const size_t lens[] = { sizeof(der_leaf), sizeof(der_int) };
	struct tb msg = { 0 };

	tb_server_hello(&msg, 0xc02f, 0, false, false);
	tb_certificate(&msg, ders, lens, 2);     /* a 1109-byte body */
	tb_server_key_exchange(&msg, 0x0018);
	tb_handshake(&msg, 14, 0);
	tb_records(out, 22, msg.p, msg.n, frag);
	tb_free(&msg);
}

static void test_certificate_above_limit_is_skipped_and_said_too_large(void)
{
	static const size_t frags[] = { 16384, 100, 7, 1 };
	struct tls_limits lim = { .max_message_bytes = 1000 };
	size_t f;

	for (f = 0; f < N(frags); f++) {
		struct tb_client_hello ch = std_hello();
		struct tb hello = { 0 }, s1 = { 0 }, c2 = { 0 };
		struct tls_conn *c = tls_conn_new(&lim);
		struct hs_record *r = tls_conn_record(c);

		client_hello_records(&hello, &ch);
		feed_tb(c, true, &hello, 1000);
		oversized_chain_flight(&s1, frags[f]);
		tls12_server_finish(&s1);
		feed_tb(c, false, &s1, 2000);
		tls12_client_finish(&c2);
		feed_tb(c, true, &c2, 3000);
		CHECK(r->parse_error == NULL);
		CHECK_INT(r->chain_error, HS_CHAIN_TOO_LARGE);
		CHECK_INT(r->chain_bytes, 1109);
		CHECK_INT(r->n_chain, 0);
		CHECK(!r->cert_visible);
		/* the messages after it are still read */
		CHECK(r->has_group);
		CHECK_INT(r->group, 0x0018);
		CHECK(!r->resumed);
		CHECK_INT(r->outcome, HS_OK);
		/* the skipped body was never buffered */
		CHECK(tls_conn_mem(c) < 4096 + 1000);
		tb_free(&hello);
		tb_free(&s1);
		tb_free(&c2);
		tls_conn_free(c);
	}
}

/* The first @n bytes of a TLS 1.2 flight whose Certificate is 1109 bytes. */
static struct tls_conn *conn_with_partial_chain(size_t n)
{
	struct tb_client_hello ch = std_hello();
	struct tls_conn *c = conn_with_hello(&ch);
	struct tb s1 = { 0 };

	oversized_chain_flight(&s1, 16384);
	tls_conn_feed(c, false, s1.p, n, 2000);
	tb_free(&s1);
	return c;
}

static void test_certificate_cut_by_a_gap_is_truncated(void)
{
	struct tls_conn *c = conn_with_partial_chain(200);
	struct hs_record *r = tls_conn_record(c);

	tls_conn_gap(c, false, 2500);
	tls_conn_close(c, true, 3000);
	CHECK_INT(r->chain_error, HS_CHAIN_TRUNCATED);
	CHECK_INT(r->chain_bytes, 1109);
	CHECK_INT(r->outcome, HS_INCOMPLETE);
	tls_conn_free(c);
}

/* The server's flight lost to a gap after its chain began: the client's
 * Finished, data and encrypted close_notify do not make it "failed". */
static void test_tls12_client_alert_after_its_finished_past_a_gap_is_not_failed(void)
{
	struct tls_conn *c = conn_with_partial_chain(500);
	struct hs_record *r = tls_conn_record(c);
	struct tb c2 = { 0 };

	tls_conn_gap(c, false, 2500);
	tls12_client_finish(&c2);
	tb_opaque_record(&c2, 23, 40);     /* the request */
	tb_opaque_record(&c2, 21, 26);     /* encrypted close_notify */
	feed_tb(c, true, &c2, 3000);
	CHECK(!tls_conn_decided(c));
	CHECK_INT(r->n_alerts, 1);
	CHECK(r->alerts[0].encrypted);
	tls_conn_close(c, true, 4000);
	CHECK_INT(r->outcome, HS_INCOMPLETE);
	CHECK_INT(r->chain_error, HS_CHAIN_TRUNCATED);
	tb_free(&c2);
	tls_conn_free(c);
}

static void test_certificate_cut_by_the_end_is_truncated(void)
{
	struct tls_conn *c = conn_with_partial_chain(500);
	struct hs_record *r = tls_conn_record(c);

	tls_conn_close(c, true, 3000);
	CHECK_INT(r->chain_error, HS_CHAIN_TRUNCATED);
	CHECK_INT(r->chain_bytes, 1109);
	CHECK_INT(r->outcome, HS_ABORTED);
	tls_conn_free(c);
}

static void test_certificate_header_not_complete_says_nothing(void)
{
	/* record header 5, ServerHello 4 + 77, then 2 bytes of the
	 * Certificate's 4-byte header: its length is unknown */
	struct tls_conn *c = conn_with_partial_chain(5 + 4 + 77 + 2);
	struct hs_record *r = tls_conn_record(c);

	CHECK(r->has_server_hello);
	tls_conn_close(c, true, 3000);
	CHECK_INT(r->chain_error, HS_CHAIN_READ);
	tls_conn_free(c);
}

static void test_tls13_server_hello_key_share_names_the_group(void)
{
	static const uint16_t groups[] = { 0x001d, 0x0018, 0x11ec, 0x0100 };
	size_t i;

	for (i = 0; i < N(groups); i++) {
		struct tb_client_hello ch = std_hello();
		struct tls_conn *c = conn_with_hello(&ch);
		struct hs_record *r = tls_conn_record(c);
		struct tb s1 = { 0 }, msg = { 0 };
		struct tb_server_hello sh = { .cipher = 0x1301, .selected = 0x0304,
					      .group = groups[i], .psk = i == 3 };

		tb_server_hello_with(&msg, &sh);
		wrap(&s1, &msg);
		feed_tb(c, false, &s1, 2000);
		CHECK(r->has_server_hello);
		CHECK(r->has_group);
		CHECK_INT(r->group, groups[i]);
		CHECK(!r->has_alpn_selected);
		CHECK(r->resumed == (i == 3));
		tb_free(&s1);
		tb_free(&msg);
		tls_conn_free(c);
	}
}

static void test_tls12_server_hello_alpn_and_key_exchange(void)
{
	struct tb_client_hello ch = std_hello();
	struct tls_conn *c = conn_with_hello(&ch);
	struct hs_record *r = tls_conn_record(c);
	struct tb s1 = { 0 }, msg = { 0 };
	struct tb_server_hello sh = { .cipher = 0xc02f, .alpn = "h2" };

	tb_server_hello_with(&msg, &sh);
	tb_server_key_exchange(&msg, 0x001d);
	wrap(&s1, &msg);
	feed_tb(c, false, &s1, 2000);
	CHECK(r->has_alpn_selected);
	CHECK_INT(r->alpn_selected.len, 2);
	CHECK_STR(r->alpn_selected.bytes, "h2");
	CHECK(r->has_group);
	CHECK_INT(r->group, 0x001d);
	tb_free(&s1);
	tb_free(&msg);
	tls_conn_free(c);
}

/* A DHE or PSK suite's ServerKeyExchange starts with other fields: no group. */
/* TLS 1.2: the ServerHello echoing the client's session id is a
 * resumption, said even when the handshake then fails; another id, an
 * empty one on both sides, or TLS 1.3's echo are not. */
static void test_tls12_session_id_echo_is_resumed(void)
{
	static const uint8_t sid[32] = { 0x5e, 0x55, 0x10, 0x4e };
	static const uint8_t other[32] = { 0x07 };
	static const struct {
		size_t client_len;
		const uint8_t *server;
		size_t server_len;
		uint16_t selected;
		bool resumed;
	} cases[] = {
		{ 32, sid, 32, 0, true },
		{ 16, sid, 16, 0, true },
		{ 32, other, 32, 0, false },
		{ 32, sid, 16, 0, false },
		{ 0, sid, 0, 0, false },
		{ 32, sid, 32, 0x0304, false },   /* TLS 1.3 echoes it always */
	};
	size_t i;

	for (i = 0; i < N(cases); i++) {
		struct tb_client_hello ch = std_hello();
		struct tls_conn *c;
		struct hs_record *r;
		struct tb s1 = { 0 }, msg = { 0 };
		struct tb_server_hello sh = { .cipher = 0xc02f, .selected = cases[i].selected,
					      .session_id = cases[i].server,
					      .session_id_len = cases[i].server_len };

		ch.session_id = sid;
		ch.session_id_len = cases[i].client_len;
		c = conn_with_hello(&ch);
		r = tls_conn_record(c);
		tb_server_hello_with(&msg, &sh);
		wrap(&s1, &msg);
		tb_alert(&s1, 2, 40);
		feed_tb(c, false, &s1, 2000);
		CHECK_INT(r->outcome, HS_FAILED);
		CHECK(r->resumed == cases[i].resumed);
		tb_free(&s1);
		tb_free(&msg);
		tls_conn_free(c);
	}
}

static void test_tls12_non_ecdhe_key_exchange_has_no_group(void)
{
	static const uint16_t ciphers[] = { 0x009e /* DHE_RSA */, 0xd001 /* ECDHE_PSK */ };
	size_t i;

	for (i = 0; i < N(ciphers); i++) {
		struct tb_client_hello ch = std_hello();
		struct tls_conn *c = conn_with_hello(&ch);
		struct hs_record *r = tls_conn_record(c);
		struct tb s1 = { 0 }, msg = { 0 };

		tb_server_hello(&msg, ciphers[i], 0, false, false);
		tb_server_key_exchange(&msg, 0x001d);
		wrap(&s1, &msg);
		feed_tb(c, false, &s1, 2000);
		CHECK(r->has_server_hello);
		CHECK(!r->has_group);
		tb_free(&s1);
		tb_free(&msg);
		tls_conn_free(c);
	}
}

static void test_server_hello_alpn_must_hold_one_name(void)
{
	static const uint8_t bad[][7] = {
		{ 0x00, 0x00 },                               /* empty list */
		{ 0x00, 0x01, 0x00 },                         /* empty name */
		{ 0x00, 0x06, 0x02, 'h', '2', 0x01, 'x' },    /* two names */
	};
	static const size_t lens[] = { 2, 3, 7 };
	size_t i;

	for (i = 0; i < N(bad); i++) {
		struct tb msg = { 0 };
		struct tls_conn *c;
		size_t exts, body;

		tb_u8(&msg, 2);
		body = tb_open(&msg, 3);
		tb_u16(&msg, 0x0303);
		tb_bytes(&msg, der_root, 32);
		tb_u8(&msg, 0);
		tb_u16(&msg, 0xc02f);
		tb_u8(&msg, 0);
		exts = tb_open(&msg, 2);
		tb_u16(&msg, 0x0010);
		tb_u16(&msg, (unsigned)lens[i]);
		tb_bytes(&msg, bad[i], lens[i]);
		tb_close(&msg, exts);
		tb_close(&msg, body);
		c = conn_fed_message(false, msg.p, msg.n);
		CHECK_STR(tls_conn_record(c)->parse_error, "ServerHello: ALPN extension");
		CHECK(!tls_conn_record(c)->has_alpn_selected);
		tls_conn_free(c);
		tb_free(&msg);
	}
}

static void test_alpn_slots_of_what_the_server_selected(void)
{
	static const struct {
		uint16_t version;
		const char *alpn;
		const char *slot;
	} cases[] = {
		{ 0x0303, "h2", "h2" },
		{ 0x0303, "http/1.1", "http/1.1" },
		{ 0x0303, "acme-tls/1", "acme-tls/1" },
		{ 0x0303, "h2x", "other" },
		{ 0x0303, "h", "other" },
		{ 0x0303, NULL, "none" },
		{ 0x0304, NULL, "encrypted" },
	};
	struct hs_record r;
	size_t i;

	for (i = 0; i < N(cases); i++) {
		hs_record_init(&r);
		r.has_server_hello = true;
		r.version = cases[i].version;
		if (cases[i].alpn) {
			r.has_alpn_selected = true;
			r.alpn_selected.len = (uint8_t)strlen(cases[i].alpn);
			memcpy(r.alpn_selected.bytes, cases[i].alpn, r.alpn_selected.len);
		}
		CHECK_STR(hs_alpn_slot_name(hs_record_alpn_slot(&r)), cases[i].slot);
	}
	CHECK(hs_alpn_slot_name(HS_ALPN_SLOTS) == NULL);
}

static void test_group_names_are_iana_with_hex_for_the_rest(void)
{
	char buf[HS_GROUP_LABEL_LEN];

	CHECK_STR(hs_group_name(0x001d), "x25519");
	CHECK_STR(hs_group_name(0x0017), "secp256r1");
	CHECK_STR(hs_group_name(0x0018), "secp384r1");
	CHECK_STR(hs_group_name(0x0019), "secp521r1");
	CHECK_STR(hs_group_name(0x001e), "x448");
	CHECK_STR(hs_group_name(0x0100), "ffdhe2048");
	CHECK_STR(hs_group_name(0x0104), "ffdhe8192");
	CHECK_STR(hs_group_name(0x11eb), "SecP256r1MLKEM768");
	CHECK_STR(hs_group_name(0x11ec), "X25519MLKEM768");
	CHECK_STR(hs_group_name(0x11ed), "SecP384r1MLKEM1024");
	CHECK_STR(hs_group_name(0x6399), "X25519Kyber768Draft00");
	CHECK_STR(hs_group_name(0x0201), "MLKEM768");
	CHECK(hs_group_name(0x0a0a) == NULL);      /* GREASE */
	CHECK_STR(hs_group_label(0x11ec, buf), "X25519MLKEM768");
	CHECK_STR(hs_group_label(0xabcd, buf), "0xabcd");
	CHECK_STR(hs_group_label(0x0a0a, buf), "0x0a0a");
	CHECK_STR(hs_group_slot_name(hs_group_slot(0x11ec)), "X25519MLKEM768");
	CHECK_STR(hs_group_slot_name(hs_group_slot(0xabcd)), "other");
	CHECK(hs_group_slot_name(HS_GROUP_SLOTS) == NULL);
	CHECK_STR(hs_chain_error_name(HS_CHAIN_TOO_LARGE), "too_large");
	CHECK_STR(hs_chain_error_name(HS_CHAIN_TRUNCATED), "truncated");
	CHECK(hs_chain_error_name(HS_CHAIN_READ) == NULL);
}

static void test_non_tls_bytes_stop_the_direction(void)
{
	static const uint8_t junk[] = "HTTP/1.1 400 Bad Request\r\n\r\n";
	struct tb_client_hello ch = std_hello();
	struct tls_conn *c = conn_with_hello(&ch);
	struct hs_record *r = tls_conn_record(c);
	struct tb s1 = { 0 };

	tls_conn_feed(c, false, junk, sizeof(junk) - 1, 2000);
	CHECK_STR(r->parse_error, "record header: not TLS (content type or version)");
	tls12_server_flight(&s1);
	feed_tb(c, false, &s1, 2100);
	CHECK(!r->has_server_hello);
	CHECK(r->has_client_hello);
	tls_conn_close(c, true, 3000);
	CHECK_INT(r->outcome, HS_ABORTED);
	tb_free(&s1);
	tls_conn_free(c);
}

static void test_both_directions_broken_is_incomplete_at_fin(void)
{
	static const uint8_t junk[] = { 0x99, 0x03, 0x03, 0x00, 0x01, 0x00 };
	struct tls_conn *c = tls_conn_new(NULL);
	struct hs_record *r = tls_conn_record(c);

	tls_conn_feed(c, true, junk, sizeof(junk), 1);
	tls_conn_feed(c, false, junk, sizeof(junk), 2);
	CHECK(!tls_conn_decided(c));
	tls_conn_close(c, true, 3);
	CHECK_INT(r->outcome, HS_INCOMPLETE);
	CHECK(!r->gap);
	tls_conn_free(c);
}

static void test_alert_record_of_odd_length_is_parse_error(void)
{
	static const uint8_t rec[] = { 0x15, 0x03, 0x03, 0x00, 0x03, 0x02, 0x28, 0x00 };
	struct tls_conn *c = tls_conn_new(NULL);
	struct hs_record *r = tls_conn_record(c);

	tls_conn_feed(c, false, rec, sizeof(rec), 1);
	CHECK_STR(r->parse_error, "Alert: record length");
	CHECK_INT(r->n_alerts, 0);
	CHECK(!tls_conn_decided(c));
	tls_conn_free(c);
}

static void test_names(void)
{
	CHECK_STR(hs_cipher_name(0x1301), "TLS_AES_128_GCM_SHA256");
	CHECK_STR(hs_cipher_name(0xcca8), "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256");
	CHECK_STR(hs_cipher_name(0x002f), "TLS_RSA_WITH_AES_128_CBC_SHA");
	CHECK_STR(hs_cipher_name(0x00ff), "TLS_EMPTY_RENEGOTIATION_INFO_SCSV");
	CHECK(hs_cipher_name(0x0a0a) == NULL);     /* GREASE */
	CHECK(hs_cipher_name(0x1306) == NULL);
	CHECK_STR(hs_version_name(0x0301), "TLS1.0");
	CHECK(hs_version_name(0x0305) == NULL);
	CHECK_STR(hs_outcome_name(HS_INCOMPLETE), "incomplete");
	CHECK_STR(hs_outcome_name(HS_FAILED), "failed");
	CHECK(hs_alert_level_name(3) == NULL);
	CHECK_STR(hs_alert_description_name(42), "bad_certificate");
	CHECK_STR(hs_alert_description_name(116), "certificate_required");
	CHECK(hs_alert_description_name(200) == NULL);
}

int main(void)
{
	init_ders();
	RUN_TEST(test_sniff_client_hello);
	RUN_TEST(test_sniff_server_handshake);
	RUN_TEST(test_sniff_client_key_exchange_is_the_client);
	RUN_TEST(test_sniff_sslv2_hello);
	RUN_TEST(test_sniff_needs_six_bytes);
	RUN_TEST(test_sniff_certificate_decided_by_the_next_message);
	RUN_TEST(test_sniff_certificate_next_message_in_the_same_record);
	RUN_TEST(test_sniff_certificate_without_an_answer_is_the_server);
	RUN_TEST(test_sniff_final_takes_a_lone_certificate_for_the_server);
	RUN_TEST(test_sniff_midstream_records);
	RUN_TEST(test_sniff_rejects_non_tls);
	RUN_TEST(test_capture_tls13_ok);
	RUN_TEST(test_capture_tls12_ok);
	RUN_TEST(test_capture_tls12_client_rejects_certificate);
	RUN_TEST(test_capture_tls13_client_plaintext_alert);
	RUN_TEST(test_capture_tls12_resumed);
	RUN_TEST(test_capture_tls13_hello_retry);
	RUN_TEST(test_capture_tls12_chain_and_staple);
	RUN_TEST(test_capture_fed_byte_by_byte_gives_same_record);
	RUN_TEST(test_client_hello_in_one_record);
	RUN_TEST(test_client_hello_split_across_three_records);
	RUN_TEST(test_client_hello_across_seven_feeds);
	RUN_TEST(test_several_handshake_messages_in_one_record);
	RUN_TEST(test_sni_raw_bytes_kept);
	RUN_TEST(test_sni_truncated_at_255);
	RUN_TEST(test_no_sni);
	RUN_TEST(test_alpn_beyond_eight_is_truncated);
	RUN_TEST(test_a_waiting_hello_holds_room_for_its_alpn_names_only);
	RUN_TEST(test_grease_is_not_the_client_version);
	RUN_TEST(test_tls12_full_handshake_ok);
	RUN_TEST(test_tls12_client_fatal_alert_after_certificate_fails);
	RUN_TEST(test_tls12_warning_alert_is_not_failure);
	RUN_TEST(test_tls12_resumed_ok);
	RUN_TEST(test_tls12_encrypted_alert_before_finished_fails);
	RUN_TEST(test_tls12_close_notify_after_finished_is_ignored);
	RUN_TEST(test_tls13_ok_on_client_finished);
	RUN_TEST(test_alert_after_client_fin_is_kept_but_aborted);
	RUN_TEST(test_client_alert_after_server_fin_fails);
	RUN_TEST(test_tls13_refusal_after_client_finished_and_fin_fails);
	RUN_TEST(test_tls13_server_refuses_after_client_finished);
	RUN_TEST(test_tls13_client_encrypted_alert_fails);
	RUN_TEST(test_tls13_server_encrypted_alert_fails);
	RUN_TEST(test_tls13_close_notify_answer_without_tickets_is_ok);
	RUN_TEST(test_tls13_close_notify_answer_at_the_bounds_is_ok);
	RUN_TEST(test_tls13_close_at_once_then_servers_alert_fails);
	RUN_TEST(test_tls13_close_one_turn_after_finished_then_refusal_fails);
	RUN_TEST(test_tls13_client_certificate_then_close_reply_is_ok);
	RUN_TEST(test_tls13_client_certificate_refused_fails);
	RUN_TEST(test_tls13_server_alert_dated_before_the_close_fails);
	RUN_TEST(test_tls13_server_alert_long_after_the_close_fails);
	RUN_TEST(test_tls13_millisecond_timestamps);
	RUN_TEST(test_tls13_refusal_before_the_clients_close_notify_fails);
	RUN_TEST(test_tls13_refusal_after_the_clients_request_fails);
	RUN_TEST(test_tls13_ccm8_alert_is_11_bytes);
	RUN_TEST(test_tls13_ccm8_19_bytes_is_not_an_alert);
	RUN_TEST(test_tls13_ccm8_client_alert_instead_of_finished_fails);
	RUN_TEST(test_tls12_client_direction_only_is_incomplete);
	RUN_TEST(test_tls12_server_direction_only_is_incomplete);
	RUN_TEST(test_tls12_client_alert_before_servers_finished_still_fails);
	RUN_TEST(test_alerts_beyond_eight_are_flagged);
	RUN_TEST(test_tls13_error_alert_is_fatal_whatever_its_level);
	RUN_TEST(test_tls13_psk_server_hello_is_resumed);
	RUN_TEST(test_hrr_waits_for_second_server_hello);
	RUN_TEST(test_fin_before_server_hello_is_aborted);
	RUN_TEST(test_close_at_capture_end_is_incomplete);
	RUN_TEST(test_gaps_decide_incomplete_only_at_close);
	RUN_TEST(test_gap_in_one_direction_then_fin_is_incomplete);
	RUN_TEST(test_close_after_decision_keeps_outcome);
	RUN_TEST(test_bytes_after_decision_are_ignored);
	RUN_TEST(test_certificate_three_certs_across_four_records);
	RUN_TEST(test_certificate_chain_truncated_after_ten);
	RUN_TEST(test_certificate_status_gives_staple);
	RUN_TEST(test_client_hello_every_oversized_length_is_parse_error);
	RUN_TEST(test_server_messages_every_oversized_length_is_parse_error);
	RUN_TEST(test_client_hello_truncated_anywhere_is_parse_error);
	RUN_TEST(test_server_messages_truncated_anywhere_are_parse_errors);
	RUN_TEST(test_certificate_of_zero_length_is_parse_error);
	RUN_TEST(test_session_id_longer_than_32_is_parse_error);
	RUN_TEST(test_record_version_above_tls13_is_parse_error);
	RUN_TEST(test_record_length_above_limit_is_parse_error);
	RUN_TEST(test_handshake_message_above_limit_is_parse_error);
	RUN_TEST(test_certificate_above_limit_is_skipped_and_said_too_large);
	RUN_TEST(test_certificate_cut_by_a_gap_is_truncated);
	RUN_TEST(test_certificate_cut_by_the_end_is_truncated);
	RUN_TEST(test_tls12_client_alert_after_its_finished_past_a_gap_is_not_failed);
	RUN_TEST(test_certificate_header_not_complete_says_nothing);
	RUN_TEST(test_tls13_server_hello_key_share_names_the_group);
	RUN_TEST(test_tls12_server_hello_alpn_and_key_exchange);
	RUN_TEST(test_tls12_non_ecdhe_key_exchange_has_no_group);
	RUN_TEST(test_tls12_session_id_echo_is_resumed);
	RUN_TEST(test_server_hello_alpn_must_hold_one_name);
	RUN_TEST(test_group_names_are_iana_with_hex_for_the_rest);
	RUN_TEST(test_alpn_slots_of_what_the_server_selected);
	RUN_TEST(test_non_tls_bytes_stop_the_direction);
	RUN_TEST(test_both_directions_broken_is_incomplete_at_fin);
	RUN_TEST(test_alert_record_of_odd_length_is_parse_error);
	RUN_TEST(test_names);
	return CHECK_EXIT_CODE();
}
