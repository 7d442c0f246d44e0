// SPDX-License-Identifier: MIT
/*
 * The preamble before a ClientHello: where the hello starts, and which
 * protocol the plaintext part spoke (see starttls.h). Every byte is read
 * through a cursor or within a snap's length.
 */
#include <strings.h>
#include <string.h>

#include "../common/cursor.h"
#include "starttls.h"
#include "tls_internal.h"

/* Record header (5), handshake header (4), client_version (2). */
#define TLS_HELLO_HEAD 11
/* The shortest ClientHello body: version, random, three empty vectors. */
#define TLS_HELLO_MIN_BODY 38

bool tls_client_hello_starts(const uint8_t *p, size_t n)
{
	struct cursor c = cur_make(p, n);
	uint8_t type = cur_u8(&c), major = cur_u8(&c), minor = cur_u8(&c);
	uint16_t rec_len = cur_u16(&c);
	uint8_t hs_type = cur_u8(&c);
	uint32_t hs_len = cur_u24(&c);
	uint8_t v_major = cur_u8(&c), v_minor = cur_u8(&c);

	return cur_ok(&c) && type == TLS_CT_HANDSHAKE && major == 3 &&
	       minor <= 4 && rec_len >= 4 + TLS_HELLO_MIN_BODY &&
	       rec_len <= TLS_MAX_RECORD_LEN && hs_type == TLS_HS_CLIENT_HELLO &&
	       hs_len >= TLS_HELLO_MIN_BODY && hs_len <= TLS_DEFAULT_MAX_MESSAGE &&
	       v_major == 3 && v_minor <= 4;
}

/* The first offset in @p where a ClientHello starts; false if none. */
static bool tls_find_client_hello(const uint8_t *p, size_t n, size_t *at)
{
	const uint8_t *q = p;

	while (n - (size_t)(q - p) >= TLS_HELLO_HEAD) {
		q = memchr(q, TLS_CT_HANDSHAKE, n - (size_t)(q - p));
		if (!q)
			return false;
		if (tls_client_hello_starts(q, n - (size_t)(q - p))) {
			*at = (size_t)(q - p);
			return true;
		}
		q++;
	}
	return false;
}

static void tls_snap_take(struct tls_preamble_snap *s, const uint8_t *p, size_t n)
{
	s->len = (uint8_t)(n < TLS_PREAMBLE_SNAP ? n : TLS_PREAMBLE_SNAP);
	memcpy(s->b, p, s->len);
}

/* @n preamble bytes from @from: its first and latest snaps. */
static void tls_preamble_note(struct tls_preamble *pa, int from,
			      const uint8_t *p, size_t n)
{
	if (n == 0)
		return;
	if (pa->bytes[from] == 0)
		tls_snap_take(&pa->first[from], p, n);
	tls_snap_take(&pa->last[from], p, n);
	pa->bytes[from] += (uint32_t)n;
}

enum tls_preamble_verdict tls_preamble_feed(struct tls_preamble *pa, int from,
					    const uint8_t *p, size_t n,
					    size_t *hello_at)
{
	size_t at = 0;
	bool found;

	from = !!from;
	if (n == 0)
		return TLS_PREAMBLE_MORE;
	/* A hello at the start of a delivery is followed whatever came
	 * before (the kernel looks there in every probed segment); one
	 * further in only when the whole delivery fits the preamble. */
	found = tls_client_hello_starts(p, n);
	if (!found) {
		if (n > TW_PREAMBLE_BYTES - pa->bytes[from])
			return TLS_PREAMBLE_NOT_TLS;
		found = tls_find_client_hello(p, n, &at);
	}
	tls_preamble_note(pa, from, p, found ? at : n);
	if (found) {
		*hello_at = at;
		return TLS_PREAMBLE_HELLO;
	}
	if (++pa->segments >= TW_PROBE_SEGMENTS)
		return TLS_PREAMBLE_NOT_TLS;
	return TLS_PREAMBLE_MORE;
}

/* --- naming the protocol */

/* The snaps a rule looks at: c = the client's, s = the server's. */
struct tls_talk {
	const struct tls_preamble_snap *c_first, *c_last, *s_first, *s_last;
};

static bool snap_starts(const struct tls_preamble_snap *s, const char *prefix)
{
	size_t n = strlen(prefix);

	return s->len >= n && strncasecmp((const char *)s->b, prefix, n) == 0;
}

static bool snap_has(const struct tls_preamble_snap *s, const char *needle)
{
	size_t n = strlen(needle), i;

	for (i = 0; i + n <= s->len; i++)
		if (strncasecmp((const char *)s->b + i, needle, n) == 0)
			return true;
	return false;
}

static bool snap_bytes(const struct tls_preamble_snap *s, const uint8_t *want,
		       size_t n)
{
	return s->len >= n && memcmp(s->b, want, n) == 0;
}

/* PostgreSQL: the client's SSLRequest (length 8, code 80877103). */
static bool talk_postgres(const struct tls_talk *t)
{
	static const uint8_t ssl_request[] = { 0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f };

	return t->c_last->len == sizeof(ssl_request) &&
	       snap_bytes(t->c_last, ssl_request, sizeof(ssl_request));
}

/* MySQL: the server's greeting (packet 0, protocol 10), then the
 * client's packet 1 with CLIENT_SSL (0x0800) in its capability flags. */
static bool talk_mysql(const struct tls_talk *t)
{
	const uint8_t *s = t->s_first->b, *c = t->c_last->b;

	return t->s_first->len >= 5 && s[3] == 0 && s[4] == 0x0a &&
	       t->c_last->len >= 6 && c[3] == 1 && (c[5] & 0x08);
}

/* RDP: an X.224 Connection Request in a TPKT (version 3). */
static bool talk_rdp(const struct tls_talk *t)
{
	const uint8_t *c = t->c_first->b;

	return t->c_first->len >= 6 && c[0] == 3 && c[1] == 0 &&
	       (c[5] & 0xf0) == 0xe0;
}

/* LDAP: an LDAPMessage (SEQUENCE) carrying the StartTLS OID. */
static bool talk_ldap(const struct tls_talk *t)
{
	return t->c_last->len > 0 && t->c_last->b[0] == 0x30 &&
	       snap_has(t->c_last, "1.3.6.1.4.1.1466.20037");
}

static bool talk_xmpp(const struct tls_talk *t)
{
	return snap_has(t->c_last, "<starttls");
}

static bool talk_ftp(const struct tls_talk *t)
{
	return snap_has(t->c_last, "AUTH TLS") || snap_has(t->c_last, "AUTH SSL");
}

static bool talk_pop3(const struct tls_talk *t)
{
	return snap_starts(t->c_last, "STLS") && snap_starts(t->s_first, "+OK");
}

/* The rest say STARTTLS; the server's greeting tells them apart. */
static bool talk_starttls(const struct tls_talk *t)
{
	return snap_has(t->c_last, "STARTTLS");
}

static bool talk_imap(const struct tls_talk *t)
{
	return talk_starttls(t) && (snap_starts(t->s_first, "* OK") ||
				    snap_starts(t->s_first, "* PREAUTH"));
}

static bool talk_lmtp(const struct tls_talk *t)
{
	return talk_starttls(t) && snap_starts(t->c_first, "LHLO");
}

static bool talk_smtp(const struct tls_talk *t)
{
	return talk_starttls(t) && snap_starts(t->s_first, "220");
}

static bool talk_nntp(const struct tls_talk *t)
{
	return talk_starttls(t) && (snap_starts(t->s_first, "200") ||
				    snap_starts(t->s_first, "201"));
}

static bool talk_sieve(const struct tls_talk *t)
{
	return talk_starttls(t) && snap_starts(t->s_first, "\"");
}

/* IRC: numeric 670 says "STARTTLS successful"; servers send notices,
 * prefixed with their name, before it. */
static bool talk_irc(const struct tls_talk *t)
{
	return talk_starttls(t) && (snap_has(t->s_last, " 670 ") ||
				    snap_starts(t->s_first, ":"));
}

/* Tried in order: the binary protocols first, then the text ones from
 * the most specific evidence to the least. */
static const struct {
	uint8_t protocol;
	bool (*match)(const struct tls_talk *t);
} tls_talk_rules[] = {
	{ HS_STARTTLS_POSTGRES, talk_postgres },
	{ HS_STARTTLS_MYSQL, talk_mysql },
	{ HS_STARTTLS_RDP, talk_rdp },
	{ HS_STARTTLS_LDAP, talk_ldap },
	{ HS_STARTTLS_XMPP, talk_xmpp },
	{ HS_STARTTLS_FTP, talk_ftp },
	{ HS_STARTTLS_POP3, talk_pop3 },
	{ HS_STARTTLS_IMAP, talk_imap },
	{ HS_STARTTLS_LMTP, talk_lmtp },
	{ HS_STARTTLS_SMTP, talk_smtp },
	{ HS_STARTTLS_NNTP, talk_nntp },
	{ HS_STARTTLS_SIEVE, talk_sieve },
	{ HS_STARTTLS_IRC, talk_irc },
};

uint8_t tls_preamble_protocol(const struct tls_preamble *pa, int client)
{
	struct tls_talk t;
	size_t i;

	client = !!client;
	t.c_first = &pa->first[client];
	t.c_last = &pa->last[client];
	t.s_first = &pa->first[!client];
	t.s_last = &pa->last[!client];
	for (i = 0; i < sizeof(tls_talk_rules) / sizeof(tls_talk_rules[0]); i++)
		if (tls_talk_rules[i].match(&t))
			return tls_talk_rules[i].protocol;
	return HS_STARTTLS_UNKNOWN;
}
