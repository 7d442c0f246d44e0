// SPDX-License-Identifier: MIT
/* The servers whose library names its ALPN protocol (followed.c): noted
 * from a chain view with a protocol (or from a protocol that came later for
 * a connection with a chain), looked up by address and port,
 * forgotten by a full handshake without a chain view, all forgotten past
 * FOLLOWED_SERVERS_MAX. */
#include <string.h>

#include "check.h"
#include "pipeline/followed.h"

static struct tw_endpoint server(uint32_t n, uint16_t port)
{
	struct tw_endpoint ep = { .addr.family = 4, .port = port };

	memcpy(ep.addr.bytes, &n, sizeof(n));
	return ep;
}

/* A chain view of @ep, with the protocol @alpn ("": none). */
static struct tw_server_view chain_view(struct tw_endpoint ep, const char *alpn)
{
	return (struct tw_server_view){
		.server = ep,
		.n_certs = 1,
		.alpn_len = (uint8_t)strlen(alpn),
		.alpn = (const uint8_t *)alpn,
	};
}

static void test_note_needs_a_protocol(void)
{
	struct followed_servers fs = { 0 };
	struct tw_endpoint a = server(0x0100000a, 443);
	struct tw_server_view v = chain_view(a, "");

	CHECK(!followed_has(&fs, &a));
	CHECK_INT(followed_note_view(&fs, &v), 0);     /* no offset, or none selected */
	CHECK_INT(followed_count(&fs), 0);
	CHECK(!followed_has(&fs, &a));
	v = chain_view(a, "h2");
	CHECK_INT(followed_note_view(&fs, &v), 0);
	CHECK_INT(followed_note_view(&fs, &v), 0);     /* once */
	CHECK_INT(followed_count(&fs), 1);
	CHECK(followed_has(&fs, &a));
	v.server.port = 8443;                          /* another server */
	CHECK(!followed_has(&fs, &v.server));
	v = chain_view(server(0x0100000a, 8443), "h2");
	v.n_certs = 0;
	v.chain_lost = true;                           /* a lost chain counts */
	CHECK_INT(followed_note_view(&fs, &v), 0);
	CHECK_INT(followed_count(&fs), 2);
	followed_free(&fs);
	CHECK_INT(followed_count(&fs), 0);
}

/* SSL_free's protocol, without a chain: of a connection whose chain the
 * i2d_X509 probes read, or of a resumed one. A server whose clients
 * resume sessions made before the agent started is followed from the
 * first; before, only a chain's connection noted it. */
static void test_a_protocol_without_a_chain_notes(void)
{
	struct followed_servers fs = { 0 };
	struct tw_server_view none = { .server = server(0x0100000a, 443) };
	struct tw_server_view h2 = { .server = server(0x0100000a, 443), .alpn_len = 2,
				     .alpn = (const uint8_t *)"h2" };

	CHECK_INT(followed_note_view(&fs, &none), 0);  /* an alert's view */
	CHECK(!followed_has(&fs, &none.server));
	CHECK_INT(followed_note_view(&fs, &h2), 0);
	CHECK_INT(followed_count(&fs), 1);
	CHECK(followed_has(&fs, &h2.server));
	followed_free(&fs);
}

static void test_a_full_handshake_without_a_chain_forgets(void)
{
	struct followed_servers fs = { 0 };
	struct tw_endpoint a = server(0x0100000a, 443), b = server(0x0200000a, 443);
	struct tw_server_view v;
	struct hs_record rec = { .outcome = HS_OK };

	followed_note_report(&fs, &a, &rec, false);        /* nothing noted yet */
	v = chain_view(a, "h2");
	CHECK_INT(followed_note_view(&fs, &v), 0);
	v = chain_view(b, "http/1.1");
	CHECK_INT(followed_note_view(&fs, &v), 0);
	followed_note_report(&fs, &a, &rec, true);         /* its chain came */
	rec.resumed = true;
	followed_note_report(&fs, &a, &rec, false);        /* serves none */
	rec.resumed = false;
	rec.outcome = HS_FAILED;
	followed_note_report(&fs, &a, &rec, false);        /* may have ended first */
	CHECK_INT(followed_count(&fs), 2);
	CHECK(followed_has(&fs, &a));
	rec.outcome = HS_OK;
	followed_note_report(&fs, &a, &rec, false);
	CHECK_INT(followed_count(&fs), 1);
	CHECK(!followed_has(&fs, &a));
	CHECK(followed_has(&fs, &b));
	followed_note_report(&fs, &a, &rec, false);        /* again: nothing */
	CHECK_INT(followed_count(&fs), 1);
	v = chain_view(a, "h2");                           /* learned again */
	CHECK_INT(followed_note_view(&fs, &v), 0);
	CHECK(followed_has(&fs, &a));
	CHECK_INT(followed_count(&fs), 2);
	followed_free(&fs);
}

static void test_all_forgotten_past_the_bound(void)
{
	struct followed_servers fs = { 0 };
	struct tw_server_view v;
	uint32_t i;

	for (i = 0; i < FOLLOWED_SERVERS_MAX; i++) {
		v = chain_view(server(i, 443), "h2");
		CHECK_INT(followed_note_view(&fs, &v), 0);
	}
	CHECK_INT(followed_count(&fs), 4096);
	v = chain_view(server(7, 443), "h2");              /* known: kept */
	CHECK_INT(followed_note_view(&fs, &v), 0);
	CHECK_INT(followed_count(&fs), 4096);
	v = chain_view(server(FOLLOWED_SERVERS_MAX, 443), "h2");
	CHECK_INT(followed_note_view(&fs, &v), 0);
	CHECK_INT(followed_count(&fs), 1);
	CHECK(followed_has(&fs, &v.server));
	v.server = server(0, 443);
	CHECK(!followed_has(&fs, &v.server));
	v.server = server(4095, 443);
	CHECK(!followed_has(&fs, &v.server));
	followed_free(&fs);
}

int main(void)
{
	RUN_TEST(test_note_needs_a_protocol);
	RUN_TEST(test_a_protocol_without_a_chain_notes);
	RUN_TEST(test_a_full_handshake_without_a_chain_forgets);
	RUN_TEST(test_all_forgotten_past_the_bound);
	return CHECK_EXIT_CODE();
}
