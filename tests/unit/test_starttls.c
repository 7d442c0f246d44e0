// SPDX-License-Identifier: MIT
/*
 * TLS after a plaintext preamble (tls/starttls.c): where the ClientHello
 * starts, the bounds, and the protocol named from each protocol's real
 * preamble (the bytes openssl s_client -starttls and the servers send);
 * and the SSLv2-compatible ClientHello through the whole TLS parser.
 */
#include "check.h"
#include "tls/starttls.h"
#include "tls/tls_conn.h"
#include "tls_build.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

enum { CLIENT = 0, SERVER = 1 };

static const uint16_t hello_ciphers[] = { 0x1301, 0xc02f };

/* A ClientHello in one record. */
static void hello_bytes(struct tb *out)
{
	struct tb_client_hello ch = {
		.legacy_version = 0x0303,
		.ciphers = hello_ciphers, .n_ciphers = N(hello_ciphers),
	};
	struct tb msg = { 0 };

	tb_client_hello(&msg, &ch);
	tb_records(out, 22, msg.p, msg.n, 16384);
	tb_free(&msg);
}

/* One message of a preamble: who sends it, its bytes. */
struct said {
	int from;
	const char *text;
	size_t len;         /* 0: strlen(text) */
};

/* Feeds @n messages, then the hello from CLIENT; the protocol named, or
 * -1 when the hello was not found where it starts. */
static int protocol_of(const struct said *talk, size_t n)
{
	struct tls_preamble pa = { 0 };
	struct tb hello = { 0 };
	size_t i, at = 99;
	int v;

	for (i = 0; i < n; i++) {
		const struct said *s = &talk[i];

		v = tls_preamble_feed(&pa, s->from, (const uint8_t *)s->text,
				      s->len ? s->len : strlen(s->text), &at);
		if (v != TLS_PREAMBLE_MORE)
			return -1;
	}
	hello_bytes(&hello);
	v = tls_preamble_feed(&pa, CLIENT, hello.p, hello.n, &at);
	tb_free(&hello);
	if (v != TLS_PREAMBLE_HELLO || at != 0)
		return -1;
	return tls_preamble_protocol(&pa, CLIENT);
}

#define CHECK_PROTOCOL(want, ...) do {                                       \
	const struct said _t[] = { __VA_ARGS__ };                           \
	CHECK_STR(hs_starttls_name((uint8_t)protocol_of(_t, N(_t))), want); \
} while (0)

static void test_smtp_is_named(void)
{
	CHECK_PROTOCOL("smtp",
		{ SERVER, "220 mail.example ESMTP Postfix\r\n", 0 },
		{ CLIENT, "EHLO mail.example\r\n", 0 },
		{ SERVER, "250-mail.example\r\n250-PIPELINING\r\n250 STARTTLS\r\n", 0 },
		{ CLIENT, "STARTTLS\r\n", 0 },
		{ SERVER, "220 2.0.0 Ready to start TLS\r\n", 0 });
}

static void test_lmtp_is_named(void)
{
	CHECK_PROTOCOL("lmtp",
		{ SERVER, "220 lmtp.example LMTP ready\r\n", 0 },
		{ CLIENT, "LHLO mail.example\r\n", 0 },
		{ SERVER, "250-lmtp.example\r\n250 STARTTLS\r\n", 0 },
		{ CLIENT, "STARTTLS\r\n", 0 },
		{ SERVER, "220 2.0.0 Ready to start TLS\r\n", 0 });
}

static void test_imap_is_named(void)
{
	CHECK_PROTOCOL("imap",
		{ SERVER, "* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n", 0 },
		{ CLIENT, ". CAPABILITY\r\n", 0 },
		{ SERVER, "* CAPABILITY IMAP4rev1 STARTTLS\r\n. OK done\r\n", 0 },
		{ CLIENT, ". STARTTLS\r\n", 0 },
		{ SERVER, ". OK Begin TLS negotiation now\r\n", 0 });
}

static void test_pop3_is_named(void)
{
	CHECK_PROTOCOL("pop3",
		{ SERVER, "+OK POP3 ready\r\n", 0 },
		{ CLIENT, "STLS\r\n", 0 },
		{ SERVER, "+OK Begin TLS negotiation\r\n", 0 });
}

static void test_ftp_is_named(void)
{
	CHECK_PROTOCOL("ftp",
		{ SERVER, "220 FTP server ready\r\n", 0 },
		{ CLIENT, "AUTH TLS\r\n", 0 },
		{ SERVER, "234 AUTH TLS successful\r\n", 0 });
}

static void test_nntp_sieve_irc_are_named(void)
{
	CHECK_PROTOCOL("nntp",
		{ SERVER, "200 news.example NNTP service ready\r\n", 0 },
		{ CLIENT, "STARTTLS\r\n", 0 },
		{ SERVER, "382 Continue with TLS negotiation\r\n", 0 });
	CHECK_PROTOCOL("sieve",
		{ SERVER, "\"IMPLEMENTATION\" \"sieved\"\r\n\"STARTTLS\"\r\nOK\r\n", 0 },
		{ CLIENT, "STARTTLS\r\n", 0 },
		{ SERVER, "OK \"Begin TLS negotiation now.\"\r\n", 0 });
	CHECK_PROTOCOL("irc",
		{ CLIENT, "STARTTLS\r\n", 0 },
		{ SERVER, ":irc.example 670 * :STARTTLS successful, go ahead\r\n", 0 });
}

static void test_xmpp_is_named(void)
{
	CHECK_PROTOCOL("xmpp",
		{ CLIENT, "<stream:stream xmlns:stream='http://etherx.jabber.org/streams' "
			  "xmlns='jabber:client' to='x.test' version='1.0'>", 0 },
		{ SERVER, "<?xml version='1.0'?><stream:stream id='1' version='1.0'>"
			  "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"
			  "</stream:features>", 0 },
		{ CLIENT, "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>", 0 },
		{ SERVER, "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>", 0 });
}

/* The ExtendedRequest openssl s_client sends, and a success answer. */
static const char ldap_request[] =
	"\x30\x1d\x02\x01\x01\x77\x18\x80\x16" "1.3.6.1.4.1.1466.20037";
static const char ldap_response[] =
	"\x30\x0c\x02\x01\x01\x78\x07\x0a\x01\x00\x04\x00\x04\x00";

static void test_binary_protocols_are_named(void)
{
	/* MySQL 8 greeting (packet 0, protocol 10) and the SSL request
	 * (packet 1, 32 bytes, CLIENT_SSL set) */
	static const char mysql_greeting[] = "\x4a\x00\x00\x00\x0a" "8.0.36\0\x01\x00\x00\x00";
	static const char mysql_ssl[] = "\x20\x00\x00\x01\x05\xae\xff\x01\x00\x00\x00\x01\x21";
	/* an X.224 Connection Request with RDP_NEG_REQ (TLS), and the
	 * Connection Confirm */
	static const char rdp_cr[] = "\x03\x00\x00\x13\x0e\xe0\x00\x00\x00\x00\x00"
				     "\x01\x00\x08\x00\x01\x00\x00\x00";
	static const char rdp_cc[] = "\x03\x00\x00\x13\x0e\xd0\x00\x00\x12\x34\x00"
				     "\x02\x00\x08\x00\x01\x00\x00\x00";

	CHECK_PROTOCOL("postgres",
		{ CLIENT, "\x00\x00\x00\x08\x04\xd2\x16\x2f", 8 },
		{ SERVER, "S", 0 });
	CHECK_PROTOCOL("mysql",
		{ SERVER, mysql_greeting, sizeof(mysql_greeting) - 1 },
		{ CLIENT, mysql_ssl, sizeof(mysql_ssl) - 1 });
	CHECK_PROTOCOL("ldap",
		{ CLIENT, ldap_request, sizeof(ldap_request) - 1 },
		{ SERVER, ldap_response, sizeof(ldap_response) - 1 });
	CHECK_PROTOCOL("rdp",
		{ CLIENT, rdp_cr, sizeof(rdp_cr) - 1 },
		{ SERVER, rdp_cc, sizeof(rdp_cc) - 1 });
}

static void test_unrecognised_preamble_is_unknown(void)
{
	CHECK_PROTOCOL("unknown",
		{ SERVER, "HELLO there\r\n", 0 },
		{ CLIENT, "UPGRADE please\r\n", 0 });
	/* STARTTLS with a greeting no rule knows */
	CHECK_PROTOCOL("unknown",
		{ SERVER, "999 who knows\r\n", 0 },
		{ CLIENT, "STARTTLS\r\n", 0 });
}

/* A client that sends its request and the hello in one segment (MySQL
 * does not wait for an answer): the hello is found inside it, and the
 * bytes before it are the request. */
static void test_hello_inside_a_delivery_is_found(void)
{
	static const char greeting[] = "\x4a\x00\x00\x00\x0a" "5.7.44\0";
	static const uint8_t ssl[] = { 0x20, 0, 0, 1, 0x05, 0xae, 0xff, 0x01,
				       0, 0, 0, 1, 0x21 };
	struct tls_preamble pa = { 0 };
	struct tb b = { 0 };
	size_t at = 0;

	CHECK_INT(tls_preamble_feed(&pa, SERVER, (const uint8_t *)greeting,
				    sizeof(greeting) - 1, &at), TLS_PREAMBLE_MORE);
	tb_bytes(&b, ssl, sizeof(ssl));
	hello_bytes(&b);
	CHECK_INT(tls_preamble_feed(&pa, CLIENT, b.p, b.n, &at), TLS_PREAMBLE_HELLO);
	CHECK_INT(at, sizeof(ssl));
	CHECK_INT(pa.bytes[CLIENT], sizeof(ssl));
	CHECK_STR(hs_starttls_name(tls_preamble_protocol(&pa, CLIENT)), "mysql");
	tb_free(&b);
}

/* Bytes that look like a record header but not like a ClientHello. */
static void test_handshake_lookalikes_are_not_a_hello(void)
{
	static const uint8_t not_hello[][11] = {
		{ 0x16, 0x03, 0x01, 0x00, 0x40, 0x02, 0, 0, 0x3c, 3, 3 }, /* ServerHello */
		{ 0x16, 0x03, 0x05, 0x00, 0x40, 0x01, 0, 0, 0x3c, 3, 3 }, /* version 3.5 */
		{ 0x16, 0x03, 0x01, 0x00, 0x10, 0x01, 0, 0, 0x0c, 3, 3 }, /* too short */
		{ 0x16, 0x03, 0x01, 0x00, 0x40, 0x01, 0, 0, 0x3c, 2, 0 }, /* client 2.0 */
		{ 0x16, 0x03, 0x01, 0x48, 0x01, 0x01, 0, 0, 0x3c, 3, 3 }, /* record > 2^14+2048 */
	};
	static const uint8_t hello[] = { 0x16, 0x03, 0x01, 0x00, 0x40, 0x01,
					 0, 0, 0x3c, 3, 3 };
	size_t i;

	for (i = 0; i < N(not_hello); i++)
		CHECK(!tls_client_hello_starts(not_hello[i], sizeof(not_hello[i])));
	CHECK(tls_client_hello_starts(hello, sizeof(hello)));
	CHECK(!tls_client_hello_starts(hello, sizeof(hello) - 1));
}

static void test_preamble_past_its_bytes_is_not_tls(void)
{
	static uint8_t text[TW_PREAMBLE_BYTES];
	struct tls_preamble pa = { 0 };
	size_t at;

	memset(text, 'a', sizeof(text));
	CHECK_INT(tls_preamble_feed(&pa, SERVER, text, sizeof(text) - 1, &at),
		  TLS_PREAMBLE_MORE);
	/* the other side has its own budget */
	CHECK_INT(tls_preamble_feed(&pa, CLIENT, text, 100, &at), TLS_PREAMBLE_MORE);
	CHECK_INT(tls_preamble_feed(&pa, SERVER, text, 2, &at), TLS_PREAMBLE_NOT_TLS);
}

static void test_preamble_past_its_segments_is_not_tls(void)
{
	struct tls_preamble pa = { 0 };
	struct tb hello = { 0 };
	size_t at;
	int i;

	for (i = 1; i < TW_PROBE_SEGMENTS; i++)
		CHECK_INT(tls_preamble_feed(&pa, i & 1, (const uint8_t *)"x\r\n", 3, &at),
			  TLS_PREAMBLE_MORE);
	/* a hello as the last segment still counts ... */
	hello_bytes(&hello);
	{
		struct tls_preamble copy = pa;

		CHECK_INT(tls_preamble_feed(&copy, CLIENT, hello.p, hello.n, &at),
			  TLS_PREAMBLE_HELLO);
	}
	/* ... one more segment of text does not */
	CHECK_INT(tls_preamble_feed(&pa, CLIENT, (const uint8_t *)"x\r\n", 3, &at),
		  TLS_PREAMBLE_NOT_TLS);
	tb_free(&hello);
}

/* A hello at the start of a delivery is followed even past the byte
 * bound (the kernel looks at each probed segment's start); one inside a
 * delivery only within it. */
static void test_hello_at_delivery_start_ignores_the_byte_bound(void)
{
	static uint8_t text[TW_PREAMBLE_BYTES];
	struct tls_preamble pa = { 0 };
	struct tb b = { 0 };
	size_t at = 7;

	memset(text, 'a', sizeof(text));
	CHECK_INT(tls_preamble_feed(&pa, CLIENT, text, sizeof(text), &at),
		  TLS_PREAMBLE_MORE);
	hello_bytes(&b);
	CHECK_INT(tls_preamble_feed(&pa, CLIENT, b.p, b.n, &at), TLS_PREAMBLE_HELLO);
	CHECK_INT(at, 0);
	tb_free(&b);
}

/* --- SSLv2-compatible ClientHello ---------------------------------- */

/* An SSLv2-framed ClientHello for TLS 1.0: five TLS suites and an
 * SSLv2-only one (0x0700c0), no session id, a 16-byte challenge. */
static void sslv2_hello(struct tb *b)
{
	static const uint8_t specs[] = {
		0x00, 0x00, 0x39, 0x00, 0x00, 0x38, 0x00, 0x00, 0x35,
		0x07, 0x00, 0xc0, 0x00, 0x00, 0x2f, 0x00, 0x00, 0xff,
	};
	size_t len = 9 + sizeof(specs) + 16, i;

	tb_u8(b, 0x80 | (unsigned)(len >> 8));
	tb_u8(b, len & 0xff);
	tb_u8(b, 1);               /* CLIENT-HELLO */
	tb_u16(b, 0x0301);
	tb_u16(b, sizeof(specs));
	tb_u16(b, 0);              /* session id */
	tb_u16(b, 16);             /* challenge */
	tb_bytes(b, specs, sizeof(specs));
	for (i = 0; i < 16; i++)
		tb_u8(b, (unsigned)i);
}

static void test_sslv2_hello_is_parsed_as_a_client_hello(void)
{
	struct tls_conn *c = tls_conn_new(NULL);
	struct hs_record *r = tls_conn_record(c);
	struct tb b = { 0 };
	size_t i;

	sslv2_hello(&b);
	CHECK_INT(tls_sniff(b.p, b.n), TLS_SNIFF_SSLV2_HELLO);
	/* a byte at a time: the 2-byte header is collected too */
	for (i = 0; i < b.n; i++)
		tls_conn_feed(c, true, b.p + i, 1, 1000);
	CHECK(r->has_client_hello);
	CHECK(r->sslv2_hello);
	CHECK(!r->has_sni);
	CHECK(!r->parse_error);
	CHECK_INT(r->client_version, 0x0301);
	/* JA3 of "769,57-56-53-47-255,,,": the TLS suites, no extensions */
	CHECK_STR(r->ja3, "5ae4b1cb4c089c20c83d4fad2abc527a");
	CHECK(strncmp(r->ja4, "t10i050000_", 11) == 0);
	tb_free(&b);
	tls_conn_free(c);
}

/* After the SSLv2 hello the client speaks TLS records: its CCS and
 * Finished count, so the handshake completes. */
static void test_sslv2_hello_then_tls_records_complete(void)
{
	struct tls_conn *c = tls_conn_new(NULL);
	struct hs_record *r = tls_conn_record(c);
	struct tb cli = { 0 }, srv = { 0 }, msg = { 0 };

	sslv2_hello(&cli);
	tls_conn_feed(c, true, cli.p, cli.n, 1000);
	tb_server_hello(&msg, 0x002f, 0, false, false);
	tb_handshake(&msg, 14, 0);      /* ServerHelloDone */
	tb_records(&srv, 22, msg.p, msg.n, 16384);
	tls_conn_feed(c, false, srv.p, srv.n, 1100);
	tb_free(&cli);
	tb_free(&msg);
	tb_handshake(&msg, 16, 66);     /* ClientKeyExchange */
	tb_records(&cli, 22, msg.p, msg.n, 16384);
	tb_opaque_record(&cli, 20, 1);
	tb_opaque_record(&cli, 22, 40);
	tls_conn_feed(c, true, cli.p, cli.n, 1200);
	tb_free(&srv);
	tb_opaque_record(&srv, 20, 1);
	tb_opaque_record(&srv, 22, 40);
	tls_conn_feed(c, false, srv.p, srv.n, 1300);
	CHECK(tls_conn_decided(c));
	CHECK_INT(r->outcome, HS_OK);
	CHECK(r->sslv2_hello);
	CHECK(!r->parse_error);
	tb_free(&cli);
	tb_free(&srv);
	tb_free(&msg);
	tls_conn_free(c);
}

static void test_sslv2_framing_of_ssl2_itself_is_a_parse_error(void)
{
	struct tls_conn *c = tls_conn_new(NULL);
	struct hs_record *r = tls_conn_record(c);
	struct tb b = { 0 };

	sslv2_hello(&b);
	b.p[4] = 0x02;                  /* version 0.2: SSL 2.0 */
	b.p[3] = 0x00;
	tls_conn_feed(c, true, b.p, b.n, 1000);
	CHECK(!r->has_client_hello);
	CHECK_STR(r->parse_error, "SSLv2 ClientHello: version (SSL 2.0 itself is not followed)");
	tb_free(&b);
	tls_conn_free(c);
}

int main(void)
{
	RUN_TEST(test_smtp_is_named);
	RUN_TEST(test_lmtp_is_named);
	RUN_TEST(test_imap_is_named);
	RUN_TEST(test_pop3_is_named);
	RUN_TEST(test_ftp_is_named);
	RUN_TEST(test_nntp_sieve_irc_are_named);
	RUN_TEST(test_xmpp_is_named);
	RUN_TEST(test_binary_protocols_are_named);
	RUN_TEST(test_unrecognised_preamble_is_unknown);
	RUN_TEST(test_hello_inside_a_delivery_is_found);
	RUN_TEST(test_handshake_lookalikes_are_not_a_hello);
	RUN_TEST(test_preamble_past_its_bytes_is_not_tls);
	RUN_TEST(test_preamble_past_its_segments_is_not_tls);
	RUN_TEST(test_hello_at_delivery_start_ignores_the_byte_bound);
	RUN_TEST(test_sslv2_hello_is_parsed_as_a_client_hello);
	RUN_TEST(test_sslv2_hello_then_tls_records_complete);
	RUN_TEST(test_sslv2_framing_of_ssl2_itself_is_a_parse_error);
	return CHECK_EXIT_CODE();
}
