// SPDX-License-Identifier: MIT
/*
 * One TLS connection: the two record-layer directions, the handshake
 * record they fill, and the outcome state machine of events.md:
 *
 *  TLS <= 1.2  ok when each side has sent ChangeCipherSpec and then one
 *              encrypted handshake record (its Finished); failed on a
 *              fatal alert, or on an encrypted alert before that.
 *  TLS 1.3     everything after ServerHello is encrypted. The first
 *              application_data record of a side is either its Finished
 *              or, when alert-sized (2-byte alert, content type, the
 *              cipher suite's tag: 19 bytes, 11 with CCM_8), an encrypted
 *              alert: failed. After the client's Finished the server may
 *              still refuse (a client certificate it wanted, a Finished
 *              that does not verify): its next record decides,
 *              alert-sized is an alert (failed), anything else ok. A close
 *              before that record is ok: the client's side finished.
 *
 *              A server that sends no session tickets answers the
 *              client's close_notify with its own, alert-sized too: no
 *              length tells it from a refusal, only the times can, and
 *              only sometimes. A server refuses the client's flight (its
 *              Finished, or its Certificate: mutual TLS) as it reads it.
 *              Its alert-sized record is the reply to the client's
 *              close_notify when the close came more than twice the
 *              handshake's longest turn (the ServerHello after the
 *              ClientHello, the client's flight after the server's: about
 *              a round trip seen from either end) plus
 *              TLS13_CLOSE_SLACK_US after the client's flight, the reply
 *              was read after the close, is dated at or after it and no
 *              more than a turn plus TLS13_CLOSE_SLACK_US after it. The
 *              slack covers scheduling, millisecond timestamps (a turn
 *              of 0), checking a client certificate against local trust
 *              and the order of the two directions in live mode.
 *              What stays wrong, on the side of failed where it can: a
 *              client that closed within those bounds against a server
 *              without tickets (failed though it finished), a reply the
 *              capture shows before the close (failed); and on the side
 *              of ok: a server that checks a client certificate for
 *              longer than those bounds (an OCSP or CRL lookup) and
 *              refuses it within a turn and the slack after a late
 *              close, and a refusal lost before the capture point and
 *              sent again (after a retransmission timeout) just after a
 *              late close.
 *  close       aborted on FIN/RST before a decision, incomplete when the
 *              capture ended, or when a gap, parse errors or a capture of
 *              one direction only left us blind.
 */
#include <stdlib.h>
#include <string.h>

#include "../common/cursor.h"
#include "../common/log.h"
#include "tls_conn.h"
#include "tls_internal.h"

/* Slack on the times that tell a TLS 1.3 close_notify reply from a
 * refusal: scheduling, millisecond timestamps, a client certificate
 * checked against local trust, live mode's order. */
#define TLS13_CLOSE_SLACK_US 10000

/* AlertDescription values that are not errors (RFC 8446 6.1). */
#define TLS_ALERT_CLOSE_NOTIFY  0
#define TLS_ALERT_USER_CANCELED 90

/* An encrypted alert: 2 bytes and the inner content type, then the tag. */
#define TLS13_ALERT_PLAINTEXT_LEN 3
#define TLS13_AEAD_TAG_LEN        16
/* TLS 1.3 suites whose tag is not 16 bytes (RFC 8446 B.4, RFC 9150) */
#define TLS_AES_128_CCM_8_SHA256  0x1305
#define TLS_SHA256_SHA256         0xc0b4
#define TLS_SHA384_SHA384         0xc0b5

enum { TLS_SERVER = 0, TLS_CLIENT = 1 };

struct tls_conn {
	struct hs_record rec;
	struct tls_dir dir[2];       /* indexed by from_client */
	bool decided;
	bool server_sent_cert;       /* a Certificate message, even a bad one */
	bool ccs[2];                 /* TLS <= 1.2: ChangeCipherSpec sent */
	bool finished[2];            /* ... and the encrypted Finished after it */
	bool first_app_done[2];      /* TLS 1.3: first application_data seen */
	bool client_closed;          /* the client sent FIN before the decision */
	bool client_finished;        /* TLS 1.3: ... and it was not an alert */
	bool client_closing;         /* TLS 1.3: an alert-sized record after
				      * the Finished, at client_close_us */
	uint64_t client_finished_us;
	uint64_t client_close_us;
	uint64_t turn_us;            /* TLS 1.3: the handshake's longest turn */
	uint64_t client_hello_us;    /* times of the hellos and of the server's */
	uint64_t server_hello_us;    /* latest record, for turn_us */
	uint64_t server_last_us;
	struct tls_fp_cache *fp_cache; /* shared memo of JA3/JA4, or NULL */
	uint8_t client_session_id[32]; /* to tell a TLS <= 1.2 resumption */
	uint8_t client_session_id_len;
};

static bool tls_conn_is_13(const struct tls_conn *c)
{
	return c->rec.version == TLS_VERSION_13;
}

/* The length of a TLS 1.3 suite's tag: 16 with AES-GCM, ChaCha20 and
 * AES-CCM, 8 with CCM_8; the integrity-only suites' HMAC. */
static uint16_t tls13_tag_len(uint16_t cipher)
{
	switch (cipher) {
	case TLS_AES_128_CCM_8_SHA256:
		return 8;
	case TLS_SHA256_SHA256:    /* integrity only: the tag is an HMAC */
		return 32;
	case TLS_SHA384_SHA384:
		return 48;
	default:
		return TLS13_AEAD_TAG_LEN;
	}
}

/* The length of a TLS 1.3 encrypted alert under the negotiated suite
 * (unpadded): 19 bytes with AES-GCM, ChaCha20 and AES-CCM, 11 with CCM_8. */
static uint16_t tls13_alert_len(uint16_t cipher)
{
	return TLS13_ALERT_PLAINTEXT_LEN + tls13_tag_len(cipher);
}

/* Microseconds from @from to @to; 0 when @to is not later (clock steps). */
static uint64_t tls_elapsed(uint64_t from, uint64_t to)
{
	return to > from ? to - from : 0;
}

/* Has @side delivered a byte (a record header) to the parser? */
static bool tls_conn_heard(const struct tls_conn *c, int side)
{
	return c->dir[side].seen_record || c->dir[side].hdr_len > 0;
}

/*
 * A capture of one direction only (asymmetric routing, a tap on one
 * link): one side sent what it could only send after hearing the other
 * (the client its TLS <= 1.2 Finished; not a ChangeCipherSpec, which a
 * TLS 1.3 client offering early data sends unanswered; the server
 * anything), and nothing of the other side came. Like a gap, it hides
 * Finished and alerts.
 */
static bool tls_conn_one_way(const struct tls_conn *c)
{
	if (!tls_conn_heard(c, TLS_SERVER))
		return c->finished[TLS_CLIENT];
	return !tls_conn_heard(c, TLS_CLIENT);
}

/*
 * The server's Certificate message began but will not be read to its end
 * (a gap, the kernel's copy budget, the connection ending): say so, with
 * the length it declared, rather than let the chain vanish.
 */
static void tls_conn_note_truncated_chain(struct tls_conn *c)
{
	uint8_t type;
	uint32_t len;

	if (c->rec.chain_error || c->server_sent_cert ||
	    !tls_dir_partial_message(&c->dir[TLS_SERVER], &type, &len) ||
	    type != TLS_HS_CERTIFICATE)
		return;
	c->rec.chain_error = HS_CHAIN_TRUNCATED;
	c->rec.chain_bytes = len;
}

static void tls_conn_decide(struct tls_conn *c, enum hs_outcome outcome,
			    uint64_t ts_us)
{
	if (c->decided)
		return;
	/* A client that closes before its side of the handshake is done has
	 * aborted: an alert the server sends then is a reaction to the close
	 * (kept in alerts), not the cause. Once the client has sent its
	 * Finished, the server's alert is its verdict, FIN or not. */
	if (c->client_closed && outcome == HS_FAILED && !c->client_finished &&
	    !c->finished[TLS_CLIENT])
		return;
	tls_conn_note_truncated_chain(c);
	c->decided = true;
	c->rec.outcome = outcome;
	c->rec.end_us = ts_us;
	/* nothing more matters: later bytes are dropped at the door */
	tls_dir_stop(&c->dir[TLS_SERVER], NULL);
	tls_dir_stop(&c->dir[TLS_CLIENT], NULL);
}

/* Stops a direction on a malformed message; the first error is kept. */
static void tls_conn_error(struct tls_conn *c, struct tls_dir *d, const char *err)
{
	if (!c->rec.parse_error)
		c->rec.parse_error = err;
	tls_dir_stop(d, err);
}

static void tls_conn_add_alert(struct tls_conn *c, bool from_client, bool encrypted,
			       uint8_t level, uint8_t description, uint64_t ts_us)
{
	struct hs_alert *a;

	if (c->rec.n_alerts >= HS_MAX_ALERTS) {
		c->rec.alerts_truncated = true;
		return;
	}
	a = &c->rec.alerts[c->rec.n_alerts++];
	a->from_client = from_client;
	a->encrypted = encrypted;
	a->level = level;
	a->description = description;
	a->ts_us = ts_us;
}

/* --- ClientHello ---------------------------------------------------- */

static void tls_conn_copy_sni(struct hs_record *r, const struct tls_client_hello *ch)
{
	size_t n = ch->host_name_len;

	if (!ch->host_name || n == 0)
		return;
	if (n > HS_MAX_SNI)
		n = HS_MAX_SNI;
	memcpy(r->sni, ch->host_name, n);
	r->sni[n] = '\0';
	r->sni_len = (uint16_t)n;
	r->has_sni = true;
}

/* The number of names in the ClientHello's ALPN list (the parser checked
 * it), at most HS_MAX_ALPN; *@more: it has more than that. */
static uint8_t tls_alpn_count(const struct tls_client_hello *ch, bool *more)
{
	struct cursor list = cur_make(ch->alpn, ch->alpn_len);
	uint8_t n = 0;

	*more = false;
	while (cur_left(&list) > 0 && cur_bytes(&list, cur_u8(&list))) {
		if (n == HS_MAX_ALPN) {
			*more = true;
			break;
		}
		n++;
	}
	return n;
}

static void tls_conn_copy_alpn(struct hs_record *r, const struct tls_client_hello *ch)
{
	struct cursor list = cur_make(ch->alpn, ch->alpn_len);
	uint8_t i, n = tls_alpn_count(ch, &r->alpn_truncated);
	struct hs_string *names;

	if (!n)
		return;
	names = hs_record_alloc_alpn(r, n);
	if (!names) {
		r->alpn_truncated = true;
		return;
	}
	for (i = 0; i < n; i++) {
		uint8_t len = cur_u8(&list);
		const uint8_t *name = cur_bytes(&list, len);

		names[i].len = len;
		memcpy(names[i].bytes, name, len);
		names[i].bytes[len] = '\0';
	}
}

/* A ClientHello, in TLS or (@sslv2) SSLv2-compatible form. */
/* Did the client ask for a stapled OCSP answer (RFC 6066, RFC 6961)? */
static bool tls_asks_staple(const struct tls_client_hello *ch)
{
	size_t i;

	for (i = 0; i < ch->exts.n; i++)
		if (ch->exts.v[i] == TLS_EXT_STATUS_REQUEST ||
		    ch->exts.v[i] == TLS_EXT_STATUS_REQUEST_V2)
			return true;
	return false;
}

static void tls_conn_client_hello(struct tls_conn *c, struct tls_dir *d,
				  const uint8_t *p, uint32_t n, bool sslv2,
				  uint64_t ts_us)
{
	struct hs_record *r = &c->rec;
	struct tls_client_hello ch;
	const char *err;

	/* a second ClientHello answers a HelloRetryRequest: keep the first */
	if (r->has_client_hello)
		return;
	err = sslv2 ? tls_parse_sslv2_client_hello(p, n, &ch)
		    : tls_parse_client_hello(p, n, &ch);
	if (err) {
		tls_conn_error(c, d, err);
		return;
	}
	r->has_client_hello = true;
	c->client_hello_us = ts_us;
	r->sslv2_hello = sslv2;
	r->client_version = ch.best_version ? ch.best_version : ch.legacy_version;
	tls_conn_copy_sni(r, &ch);
	tls_conn_copy_alpn(r, &ch);
	r->staple_requested = tls_asks_staple(&ch);
	if (ch.session_id_len)  /* an SSLv2-compatible hello has none */
		memcpy(c->client_session_id, ch.session_id, ch.session_id_len);
	c->client_session_id_len = ch.session_id_len;
	tls_fingerprint(c->fp_cache, &ch, r->ja4, r->ja3);
	tls_key_offers(&ch, &r->keys_tls13, &r->keys_tls12);
	tls_client_hello_release(&ch);
}

/* --- server messages ------------------------------------------------ */

/* What the server chose besides version and cipher: the group (TLS 1.3
 * key_share) and the ALPN protocol (in the clear up to TLS 1.2 only). */
static void tls_conn_copy_server_choices(struct hs_record *r,
					 const struct tls_server_hello *sh)
{
	if (sh->has_group) {
		r->has_group = true;
		r->group = sh->group;
	}
	if (sh->alpn) {
		r->has_alpn_selected = true;
		r->alpn_selected.len = sh->alpn_len;
		memcpy(r->alpn_selected.bytes, sh->alpn, sh->alpn_len);
		r->alpn_selected.bytes[sh->alpn_len] = '\0';
	}
}

/*
 * TLS <= 1.2: a server that resumes a session (by its id, or by a ticket
 * sent with a session id, RFC 5077 3.4) echoes the client's non-empty
 * session id; a new session gets a new id or none. (TLS 1.3 echoes it
 * always, for middleboxes: the pre_shared_key extension tells there.)
 * Known from the ServerHello on, so a resumed handshake that fails is
 * still said to be resumed; the server's CCS without a Certificate says
 * it too (tls_conn_ccs).
 */
static bool tls_conn_session_echoed(const struct tls_conn *c,
				    const struct tls_server_hello *sh)
{
	return c->client_session_id_len > 0 &&
	       sh->session_id_len == c->client_session_id_len &&
	       memcmp(sh->session_id, c->client_session_id, sh->session_id_len) == 0;
}

static void tls_conn_server_hello(struct tls_conn *c, struct tls_dir *d,
				  const uint8_t *p, uint32_t n)
{
	struct hs_record *r = &c->rec;
	struct tls_server_hello sh;
	const char *err;

	if (r->has_server_hello)
		return;
	err = tls_parse_server_hello(p, n, &sh);
	if (err) {
		tls_conn_error(c, d, err);
		return;
	}
	r->version = sh.selected_version ? sh.selected_version : sh.legacy_version;
	r->cipher = sh.cipher;
	if (sh.hello_retry) {
		/* the real ServerHello follows the client's second hello */
		r->hello_retry = true;
		return;
	}
	r->has_server_hello = true;
	tls_conn_copy_server_choices(r, &sh);
	if (tls_conn_is_13(c)) {
		r->cert_visible = false;
		r->resumed = sh.psk;
	} else {
		r->resumed = tls_conn_session_echoed(c, &sh);
	}
}

/* TLS <= 1.2 ECDHE: the group is in the ServerKeyExchange. */
static void tls_conn_server_key_exchange(struct tls_conn *c, const uint8_t *p,
					 uint32_t n)
{
	struct hs_record *r = &c->rec;

	if (r->has_group || tls_conn_is_13(c) || !hs_cipher_is_ecdhe(r->cipher))
		return;
	r->has_group = tls_server_kex_group(p, n, &r->group);
}

/*
 * A Certificate message above the per-message cap: its body is dropped as
 * it comes (memory stays bounded), the handshake is followed on, and the
 * event says the chain was too large.
 */
static bool tls_conn_on_oversized(void *ctx, struct tls_dir *d, uint8_t type,
				  uint32_t len)
{
	struct tls_conn *c = ctx;

	if (d->from_client || type != TLS_HS_CERTIFICATE || c->server_sent_cert ||
	    tls_conn_is_13(c))
		return false;
	c->server_sent_cert = true;
	c->rec.chain_error = HS_CHAIN_TOO_LARGE;
	c->rec.chain_bytes = len;
	return true;
}

static void tls_conn_certificate(struct tls_conn *c, struct tls_dir *d,
				 const uint8_t *p, uint32_t n)
{
	const char *err;

	/* TLS 1.3 certificates travel encrypted; only <= 1.2 is readable */
	if (c->server_sent_cert || tls_conn_is_13(c))
		return;
	c->server_sent_cert = true;
	err = tls_parse_certificate(p, n, &c->rec);
	if (err)
		tls_conn_error(c, d, err);
}

static void tls_conn_certificate_status(struct tls_conn *c, struct tls_dir *d,
					const uint8_t *p, uint32_t n)
{
	const char *err;

	if (c->rec.has_staple)
		return;
	err = tls_parse_certificate_status(p, n, &c->rec);
	if (err)
		tls_conn_error(c, d, err);
}

static void tls_conn_on_message(void *ctx, struct tls_dir *d, uint8_t type,
				const uint8_t *body, uint32_t len, uint64_t ts_us)
{
	struct tls_conn *c = ctx;

	if (d->from_client) {
		if (type == TLS_HS_CLIENT_HELLO)
			tls_conn_client_hello(c, d, body, len, false, ts_us);
		return;
	}
	c->server_last_us = ts_us;
	switch (type) {
	case TLS_HS_SERVER_HELLO:
		if (!c->rec.has_server_hello)
			c->server_hello_us = ts_us;
		tls_conn_server_hello(c, d, body, len);
		break;
	case TLS_HS_CERTIFICATE:
		tls_conn_certificate(c, d, body, len);
		break;
	case TLS_HS_CERTIFICATE_STATUS:
		tls_conn_certificate_status(c, d, body, len);
		break;
	case TLS_HS_SERVER_KEY_EXCHANGE:
		tls_conn_server_key_exchange(c, body, len);
		break;
	default:
		break;      /* key exchange, requests, tickets: nothing to keep */
	}
}

/* --- records -------------------------------------------------------- */

/*
 * TLS 1.3 made every alert but close_notify and user_canceled an error,
 * whatever its level says; an alert of no known level is fatal as well.
 */
static bool tls_conn_alert_is_fatal(const struct tls_conn *c, uint8_t level,
				    uint8_t description)
{
	if (level != HS_ALERT_WARNING)
		return true;
	return tls_conn_is_13(c) && description != TLS_ALERT_CLOSE_NOTIFY &&
	       description != TLS_ALERT_USER_CANCELED;
}

static void tls_conn_alert(struct tls_conn *c, struct tls_dir *d, uint16_t len,
			   const uint8_t *body, uint64_t ts_us)
{
	bool client = d->from_client;
	uint16_t i;

	/* TLS <= 1.2 after CCS: encrypted, so unreadable; before Finished it
	 * can only mean the handshake broke down */
	if (!tls_conn_is_13(c) && c->ccs[client]) {
		tls_conn_add_alert(c, client, true, HS_ALERT_UNKNOWN, 255, ts_us);
		/* ... unless the side had sent its Finished while the other
		 * side's bytes were lost (a gap, the copy budget cutting a big
		 * chain, a capture of one direction): then it may be the
		 * close_notify of a handshake that finished unseen, and the
		 * close decides (incomplete) */
		if (!(c->finished[client] && (c->rec.gap || tls_conn_one_way(c))))
			tls_conn_decide(c, HS_FAILED, ts_us);
		return;
	}
	if (!body || len == 0 || len % 2 != 0) {
		tls_conn_error(c, d, "Alert: record length");
		return;
	}
	for (i = 0; i < len; i += 2) {
		tls_conn_add_alert(c, client, false, body[i], body[i + 1], ts_us);
		if (tls_conn_alert_is_fatal(c, body[i], body[i + 1])) {
			tls_conn_decide(c, HS_FAILED, ts_us);
			return;
		}
	}
}

static void tls_conn_ccs(struct tls_conn *c, struct tls_dir *d)
{
	bool client = d->from_client;

	/* in TLS 1.3 a CCS is middlebox-compatibility noise */
	if (tls_conn_is_13(c) || c->ccs[client])
		return;
	c->ccs[client] = true;
	d->hs_encrypted = true;
	tls_dir_release(d);    /* a partial plaintext message can never finish */
	if (!client && !c->server_sent_cert)
		c->rec.resumed = true;
}

/* A TLS <= 1.2 handshake record after CCS: the side's Finished. */
static void tls_conn_encrypted_handshake(struct tls_conn *c, struct tls_dir *d,
					 uint64_t ts_us)
{
	bool client = d->from_client;

	if (!c->ccs[client] || c->finished[client])
		return;
	c->finished[client] = true;
	if (c->finished[TLS_CLIENT] && c->finished[TLS_SERVER])
		tls_conn_decide(c, HS_OK, ts_us);
}

/* @a + @b, or UINT64_MAX where that would wrap (a capture's times are
 * untrusted). */
static uint64_t tls_add_sat(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* TLS 1.3: the client's flight at @ts_us (its first encrypted record:
 * its Finished, or the Certificate before it), and the handshake's
 * longest turn up to it. */
static void tls_conn_client_finished(struct tls_conn *c, uint64_t ts_us)
{
	uint64_t hello_turn = tls_elapsed(c->client_hello_us, c->server_hello_us);
	uint64_t finished_turn = tls_elapsed(c->server_last_us, ts_us);

	c->client_finished = true;
	c->client_finished_us = ts_us;
	/* without the ClientHello's time, no turn is known: never a reply */
	c->turn_us = !c->rec.has_client_hello ? UINT64_MAX :
		     hello_turn > finished_turn ? hello_turn : finished_turn;
}

/* TLS 1.3: the client's first alert-sized record after its Finished, at
 * @ts_us: its close_notify, if the server's answer fits (below). */
static void tls_conn_client_after_finished(struct tls_conn *c, bool alert_sized,
					   uint64_t ts_us)
{
	if (!alert_sized || c->client_closing)
		return;
	c->client_closing = true;
	c->client_close_us = ts_us;
}

/*
 * TLS 1.3: is the server's alert-sized record at @ts_us, after the
 * client's flight, the reply to the client's close_notify rather than a
 * refusal? A close later than twice the turn plus the slack after the
 * flight, the reply at or after the close and no later than a turn plus
 * the slack (why, and what stays undecidable: the comment at the top).
 */
static bool tls_conn_answers_close(const struct tls_conn *c, uint64_t ts_us)
{
	uint64_t slack = tls_add_sat(c->turn_us, TLS13_CLOSE_SLACK_US);

	if (!c->client_closing || c->turn_us == UINT64_MAX ||
	    ts_us < c->client_close_us)
		return false;
	return tls_elapsed(c->client_finished_us, c->client_close_us) >
	       tls_add_sat(c->turn_us, slack) &&
	       ts_us - c->client_close_us <= slack;
}

/*
 * TLS 1.3: the first application_data record of each side after
 * ServerHello, the server's next one after the client's Finished, and the
 * client's first alert-sized one after its Finished (its close_notify,
 * when it closes without sending data).
 */
static void tls_conn_application_data(struct tls_conn *c, struct tls_dir *d,
				      uint16_t len, uint64_t ts_us)
{
	bool client = d->from_client;
	bool alert_sized;

	if (!tls_conn_is_13(c) || !c->rec.has_server_hello)
		return;
	alert_sized = len == tls13_alert_len(c->rec.cipher);
	if (client && c->client_finished) {
		tls_conn_client_after_finished(c, alert_sized, ts_us);
		return;
	}
	if (c->first_app_done[client] && !(c->client_finished && !client))
		return;   /* only the server's answer to the Finished matters */
	if (alert_sized && tls_conn_answers_close(c, ts_us)) {
		/* the server's close_notify answering the client's */
		tls_conn_decide(c, HS_OK, c->client_finished_us);
	} else if (alert_sized) {
		tls_conn_add_alert(c, client, true, HS_ALERT_UNKNOWN, 255, ts_us);
		tls_conn_decide(c, HS_FAILED, ts_us);
	} else if (c->client_finished) {
		tls_conn_decide(c, HS_OK, c->client_finished_us);
	} else if (client) {
		tls_conn_client_finished(c, ts_us);
	}
	c->first_app_done[client] = true;
}

static void tls_conn_on_record(void *ctx, struct tls_dir *d, uint8_t type,
			       uint16_t len, const uint8_t *body, uint64_t ts_us)
{
	struct tls_conn *c = ctx;

	if (!d->from_client)
		c->server_last_us = ts_us;
	switch (type) {
	case TLS_CT_CHANGE_CIPHER_SPEC:
		tls_conn_ccs(c, d);
		break;
	case TLS_CT_ALERT:
		tls_conn_alert(c, d, len, body, ts_us);
		break;
	case TLS_CT_HANDSHAKE:
		tls_conn_encrypted_handshake(c, d, ts_us);
		break;
	case TLS_CT_APPLICATION_DATA:
		tls_conn_application_data(c, d, len, ts_us);
		break;
	default:
		break;      /* heartbeat */
	}
}

static void tls_conn_on_sslv2_hello(void *ctx, struct tls_dir *d,
				    const uint8_t *body, uint32_t len,
				    uint64_t ts_us)
{
	tls_conn_client_hello(ctx, d, body, len, true, ts_us);
}

static const struct tls_dir_ops tls_conn_ops = {
	.message = tls_conn_on_message,
	.record = tls_conn_on_record,
	.sslv2_hello = tls_conn_on_sslv2_hello,
	.oversized = tls_conn_on_oversized,
};

/* --- API ------------------------------------------------------------ */

struct tls_conn *tls_conn_new(const struct tls_limits *lim)
{
	uint32_t max = TLS_DEFAULT_MAX_MESSAGE;
	struct tls_conn *c;

	if (lim && lim->max_message_bytes)
		max = lim->max_message_bytes;
	c = calloc(1, sizeof(*c));
	if (!c) {
		pr_warn("tls: out of memory for a connection\n");
		return NULL;
	}
	hs_record_init(&c->rec);
	tls_dir_init(&c->dir[TLS_SERVER], false, max, &tls_conn_ops, c);
	tls_dir_init(&c->dir[TLS_CLIENT], true, max, &tls_conn_ops, c);
	return c;
}

void tls_conn_free(struct tls_conn *c)
{
	if (!c)
		return;
	tls_dir_release(&c->dir[TLS_SERVER]);
	tls_dir_release(&c->dir[TLS_CLIENT]);
	hs_record_release(&c->rec);
	free(c);
}

size_t tls_conn_mem(const struct tls_conn *c)
{
	size_t n = sizeof(*c) + c->dir[0].hs_cap + c->dir[1].hs_cap +
		   c->rec.n_alpn * sizeof(*c->rec.alpn);
	uint8_t i;

	for (i = 0; i < c->rec.n_chain && i < HS_MAX_CHAIN; i++)
		n += c->rec.chain[i].len;
	return n + (c->rec.has_staple ? c->rec.staple.len : 0);
}

void tls_conn_set_fp_cache(struct tls_conn *c, struct tls_fp_cache *fc)
{
	c->fp_cache = fc;
}

void tls_conn_feed(struct tls_conn *c, bool from_client, const uint8_t *p,
		   size_t n, uint64_t ts_us)
{
	struct tls_dir *d = &c->dir[from_client ? TLS_CLIENT : TLS_SERVER];

	if (c->decided || d->stopped || !p || n == 0)
		return;
	tls_dir_feed(d, p, n, ts_us);
	/* record-layer errors (not TLS, oversized) stop the direction there */
	if (d->stopped && d->error && !c->rec.parse_error)
		c->rec.parse_error = d->error;
}

void tls_conn_gap(struct tls_conn *c, bool from_client, uint64_t ts_us)
{
	if (c->decided)
		return;
	c->rec.gap = true;
	if (!from_client)
		tls_conn_note_truncated_chain(c);
	tls_dir_stop(&c->dir[from_client ? TLS_CLIENT : TLS_SERVER], NULL);
}

void tls_conn_close(struct tls_conn *c, bool fin_or_rst, uint64_t ts_us)
{
	bool blind;

	if (c->decided)
		return;
	if (c->client_finished) {   /* the server never refused */
		tls_conn_decide(c, HS_OK, c->client_finished_us);
		return;
	}
	/* a gap, or the direction the capture lacks, may have hidden the
	 * Finished or an alert: do not guess */
	blind = c->rec.gap || tls_conn_one_way(c) ||
		(c->dir[TLS_SERVER].stopped && c->dir[TLS_CLIENT].stopped);
	tls_conn_decide(c, fin_or_rst && !blind ? HS_ABORTED : HS_INCOMPLETE, ts_us);
}

void tls_conn_half_close(struct tls_conn *c, bool from_client, uint64_t ts_us)
{
	(void)ts_us;
	/* only the client's FIN makes a later (server) alert a reaction; after
	 * the server's FIN, the client's alert is its verdict */
	if (from_client)
		c->client_closed = true;
}

bool tls_conn_decided(const struct tls_conn *c)
{
	return c->decided;
}

struct hs_record *tls_conn_record(struct tls_conn *c)
{
	return &c->rec;
}
