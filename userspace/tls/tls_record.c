// SPDX-License-Identifier: MIT
/*
 * The TLS record layer of one direction: 5-byte record headers, records
 * split across feeds, and handshake messages reassembled from the bodies of
 * plaintext handshake records (a message may span records, a record may
 * hold several messages). Whole records of the other types are reported to
 * the owner, which keeps the protocol state.
 */
#include <stdlib.h>
#include <string.h>

#include "common/cursor.h"
#include "common/grow.h"
#include "tlswatch/event.h" /* tw_hs_client_only, shared with the kernel side */
#include "tls_conn.h"
#include "tls_internal.h"

static bool tls_record_header_ok(uint8_t type, uint8_t major, uint8_t minor)
{
	if (type < TLS_CT_CHANGE_CIPHER_SPEC || type > TLS_CT_HEARTBEAT)
		return false;
	return major == 3 && minor <= 4;
}

/* SSLv2 framing: a 2-byte length with the high bit set, then the type
 * (CLIENT-HELLO) and a 3.x version: SSL 2.0 itself is not TLS. */
static enum tls_sniff tls_sniff_sslv2(struct cursor *c)
{
	uint8_t type, major, minor;

	cur_u8(c);                 /* the length's low byte */
	type = cur_u8(c);
	major = cur_u8(c);
	minor = cur_u8(c);
	if (!cur_ok(c))
		return TLS_SNIFF_NEED_MORE;
	return type == TLS_HS_CLIENT_HELLO && major == 3 && minor <= 4 ?
	       TLS_SNIFF_SSLV2_HELLO : TLS_SNIFF_NOT_TLS;
}

/* The handshake message after a Certificate says whose it is: a client
 * authenticating (TLS <= 1.2) follows its own with a ClientKeyExchange
 * (then a CertificateVerify); a server follows its own with a
 * ServerKeyExchange, CertificateRequest, ServerHelloDone or
 * CertificateStatus. Anything else keeps the server, as before. */
static enum tls_sniff tls_sniff_by_next_message(uint8_t type)
{
	if (tw_hs_client_only(type))
		return TLS_SNIFF_CLIENT_HANDSHAKE;
	return TLS_SNIFF_SERVER_HANDSHAKE;
}

/* Where the walk through a Certificate's records stands: the handshake
 * bytes seen (at), and the offset of the next byte wanted in them (1 to
 * 3: the Certificate's length; then the next message's type). */
struct tls_cert_walk {
	uint32_t at, want, msg_len;
};

/* Takes the wanted bytes out of one record's (possibly partial) body.
 * True once the next message's type is in *@next. */
static bool tls_cert_walk_body(struct tls_cert_walk *w, struct cursor body,
			       uint8_t *next)
{
	while (w->want < w->at + cur_left(&body)) {
		uint8_t b;

		cur_skip(&body, w->want - w->at);
		w->at = w->want;
		b = cur_u8(&body);
		w->at++;
		if (w->want > 3) {
			*next = b;
			return true;
		}
		w->msg_len = w->msg_len << 8 | b;
		w->want = w->want == 3 ? 4 + w->msg_len : w->want + 1;
	}
	w->at += (uint32_t)cur_left(&body);
	return false;
}

/* Records a Certificate's walk reads at most: a chain of 64 KiB in
 * records of 1 KiB. Bytes that come a few at a time are walked again from
 * the start each time: many tiny records would make that quadratic. */
#define TLS_SNIFF_MAX_RECORDS 64

/*
 * A first record starting with a Certificate: walks the handshake records
 * (a chain may span several) to the message after it. With @max bytes or
 * more, or TLS_SNIFF_MAX_RECORDS records, and no next message, the
 * Certificate is taken for the server's.
 */
static enum tls_sniff tls_sniff_certificate(struct cursor *c, size_t n,
					    size_t max)
{
	struct tls_cert_walk w = { .want = 1 };
	enum tls_sniff more = n >= max ? TLS_SNIFF_SERVER_HANDSHAKE
				       : TLS_SNIFF_NEED_MORE;

	for (int records = 0; records < TLS_SNIFF_MAX_RECORDS; records++) {
		uint8_t type = cur_u8(c), major = cur_u8(c), minor = cur_u8(c);
		uint16_t len = cur_u16(c);
		size_t avail;
		uint8_t next;

		if (!cur_ok(c))
			return more;
		if (type != TLS_CT_HANDSHAKE || !tls_record_header_ok(type, major, minor) ||
		    len == 0 || len > TLS_MAX_RECORD_LEN)
			return TLS_SNIFF_SERVER_HANDSHAKE;
		avail = cur_left(c) < len ? cur_left(c) : len;
		if (tls_cert_walk_body(&w, cur_sub(c, avail), &next))
			return tls_sniff_by_next_message(next);
		if (avail < len)
			return more;
	}
	return TLS_SNIFF_SERVER_HANDSHAKE;
}

/* A record of ChangeCipherSpec, alert or application data: bytes of a TLS
 * connection whose handshake came before the flow began here. */
static bool tls_sniff_is_midstream(uint8_t type)
{
	return type == TLS_CT_CHANGE_CIPHER_SPEC || type == TLS_CT_ALERT ||
	       type == TLS_CT_APPLICATION_DATA;
}

/* Each byte is judged as soon as it is there: a prefix that cannot be TLS
 * says so at once, one that still can asks for more; a Certificate with
 * @max bytes or more and no message after it is the server's. */
static enum tls_sniff tls_sniff_upto(const uint8_t *p, size_t n, size_t max)
{
	struct cursor c = cur_make(p, n);
	uint8_t first = cur_u8(&c);
	uint16_t len;
	uint8_t type;

	if (!cur_ok(&c))
		return TLS_SNIFF_NEED_MORE;
	if (first & 0x80)
		return tls_sniff_sslv2(&c);
	if (first != TLS_CT_HANDSHAKE && !tls_sniff_is_midstream(first))
		return TLS_SNIFF_NOT_TLS;
	if (cur_left(&c) >= 1 && cur_u8(&c) != 3)
		return TLS_SNIFF_NOT_TLS;
	if (cur_left(&c) >= 1 && cur_u8(&c) > 4)
		return TLS_SNIFF_NOT_TLS;
	len = cur_u16(&c);
	if (cur_ok(&c) && (len == 0 || len > TLS_MAX_RECORD_LEN))
		return TLS_SNIFF_NOT_TLS;
	if (cur_ok(&c) && first != TLS_CT_HANDSHAKE)
		return TLS_SNIFF_MIDSTREAM;
	type = cur_u8(&c);
	if (!cur_ok(&c))
		return TLS_SNIFF_NEED_MORE;
	if (type == TLS_HS_CLIENT_HELLO)
		return TLS_SNIFF_CLIENT_HELLO;
	/* messages only a client sends in the clear (TLS <= 1.2) */
	if (tw_hs_client_only(type))
		return TLS_SNIFF_CLIENT_HANDSHAKE;
	/* the handshake was before the flow began here (a capture that
	 * starts late; a retransmission after the connection closed) */
	if (tw_hs_after_handshake(type))
		return TLS_SNIFF_MIDSTREAM;
	if (type == TLS_HS_CERTIFICATE) {
		c = cur_make(p, n);
		return tls_sniff_certificate(&c, n, max);
	}
	return TLS_SNIFF_SERVER_HANDSHAKE;
}

enum tls_sniff tls_sniff(const uint8_t *p, size_t n)
{
	return tls_sniff_upto(p, n, TLS_SNIFF_MAX_BYTES);
}

enum tls_sniff tls_sniff_final(const uint8_t *p, size_t n)
{
	return tls_sniff_upto(p, n, 0);
}

void tls_dir_init(struct tls_dir *d, bool from_client, uint32_t max_message,
		  const struct tls_dir_ops *ops, void *ctx)
{
	memset(d, 0, sizeof(*d));
	d->from_client = from_client;
	d->max_message = max_message;
	d->ops = ops;
	d->ctx = ctx;
}

void tls_dir_release(struct tls_dir *d)
{
	free(d->hs);
	d->hs = NULL;
	d->hs_off = d->hs_len = d->hs_cap = 0;
}

void tls_dir_stop(struct tls_dir *d, const char *error)
{
	if (d->stopped)
		return;
	d->stopped = true;
	d->error = error;
	tls_dir_release(d);
}

/* Makes room for @n more handshake bytes, compacting first. */
static bool tls_hs_reserve(struct tls_dir *d, size_t n)
{
	size_t used = d->hs_len - d->hs_off;

	if (d->hs_off > 0) {
		memmove(d->hs, d->hs + d->hs_off, used);
		d->hs_off = 0;
		d->hs_len = used;
	}
	return tw_grow(&d->hs, &d->hs_cap, 1, used, n, 4096, TW_GROW_NO_CAP) == 0;
}

/*
 * A message larger than the cap: the owner may have its body dropped as it
 * comes (a Certificate with thousands of names), so the messages after it
 * are still read, or the direction stops.
 */
static void tls_hs_oversized(struct tls_dir *d, uint8_t type, uint32_t len)
{
	size_t have;

	if (!d->ops->oversized || !d->ops->oversized(d->ctx, d, type, len)) {
		tls_dir_stop(d, "handshake message: length above the limit");
		return;
	}
	d->hs_off += 4;
	have = d->hs_len - d->hs_off;
	if (have > len)
		have = len;
	d->hs_off += have;
	d->hs_skip = len - (uint32_t)have;
}

/* Of @n bytes that came, how many belong to the rest of an oversized
 * message's body, and are dropped. */
static size_t tls_hs_skip(struct tls_dir *d, size_t n)
{
	size_t take = n < d->hs_skip ? n : d->hs_skip;

	d->hs_skip -= (uint32_t)take;
	return take;
}

bool tls_dir_partial_message(const struct tls_dir *d, uint8_t *type,
			     uint32_t *len)
{
	struct cursor cur;

	if (!d->hs || d->hs_skip)
		return false;
	cur = cur_make(d->hs + d->hs_off, d->hs_len - d->hs_off);
	*type = cur_u8(&cur);
	*len = cur_u24(&cur);
	return cur_ok(&cur);
}

/* Hands every complete message in the buffer to the owner. */
static void tls_hs_drain(struct tls_dir *d, uint64_t ts_us)
{
	while (!d->stopped) {
		struct cursor cur = cur_make(d->hs + d->hs_off, d->hs_len - d->hs_off);
		uint8_t type = cur_u8(&cur);
		uint32_t len = cur_u24(&cur);
		const uint8_t *body;

		if (!cur_ok(&cur))
			return;    /* header incomplete */
		if (len > d->max_message) {
			tls_hs_oversized(d, type, len);
			continue;
		}
		body = cur_bytes(&cur, len);
		if (!body)
			return;    /* body incomplete */
		d->hs_off += 4 + (size_t)len;
		d->ops->message(d->ctx, d, type, body, len, ts_us);
	}
}

static void tls_hs_append(struct tls_dir *d, const uint8_t *p, size_t n,
			  uint64_t ts_us)
{
	size_t skipped = tls_hs_skip(d, n);

	p += skipped;
	n -= skipped;
	if (n == 0)
		return;
	if (!tls_hs_reserve(d, n)) {
		tls_dir_stop(d, "handshake message: out of memory");
		return;
	}
	memcpy(d->hs + d->hs_len, p, n);
	d->hs_len += n;
	tls_hs_drain(d, ts_us);
	/* Nothing half-read: the buffer goes. A connection that waits (a
	 * client that sent its hello and stopped, thousands of them in a
	 * flood) then holds no buffer while it waits. */
	if (d->hs && d->hs_off == d->hs_len)
		tls_dir_release(d);
}

static bool tls_record_is_plain_handshake(const struct tls_dir *d)
{
	return d->type == TLS_CT_HANDSHAKE && !d->hs_encrypted;
}

/* SSLv2 framing: 2-byte header, the high bit set, a 15-bit length. */
#define TLS_SSLV2_HDR 2

/* The client's first byte says whether its first record is SSLv2-framed. */
static bool tls_record_is_sslv2(const struct tls_dir *d, uint8_t first)
{
	return d->from_client && !d->seen_record && d->hdr_len == 0 &&
	       (first & 0x80);
}

/* Its 2-byte header is complete: the body is collected whole. */
static void tls_sslv2_begin(struct tls_dir *d)
{
	d->type = 0;
	d->len = (uint16_t)((d->hdr[0] & 0x7f) << 8 | d->hdr[1]);
	d->left = d->len;
	if (d->len == 0)
		tls_dir_stop(d, "SSLv2 record header: empty record");
	else if (!tls_hs_reserve(d, d->len))
		tls_dir_stop(d, "SSLv2 record: out of memory");
}

/* Consumes SSLv2 body bytes; hands the message over once whole. */
static size_t tls_sslv2_body(struct tls_dir *d, const uint8_t *p, size_t n,
			     uint64_t ts_us)
{
	size_t take = n < d->left ? n : d->left;

	if (d->hs_len == 0 && p[0] != TLS_HS_CLIENT_HELLO) {
		tls_dir_stop(d, "SSLv2 record: not a ClientHello");
		return take;
	}
	memcpy(d->hs + d->hs_len, p, take);
	d->hs_len += take;
	d->left -= (uint16_t)take;
	if (d->left == 0) {
		d->sslv2 = false;
		d->hdr_len = 0;
		if (d->ops->sslv2_hello)
			d->ops->sslv2_hello(d->ctx, d, d->hs, d->len, ts_us);
		tls_dir_release(d);
	}
	return take;
}

/* The 5-byte header is complete: check it and start the body. */
static void tls_record_begin(struct tls_dir *d)
{
	struct cursor cur = cur_make(d->hdr, sizeof(d->hdr));
	uint8_t major, minor;

	d->type = cur_u8(&cur);
	major = cur_u8(&cur);
	minor = cur_u8(&cur);
	d->len = cur_u16(&cur);
	d->left = d->len;
	if (!tls_record_header_ok(d->type, major, minor)) {
		tls_dir_stop(d, "record header: not TLS (content type or version)");
		return;
	}
	if (d->len > TLS_MAX_RECORD_LEN)
		tls_dir_stop(d, "record header: length above 2^14 + 2048");
}

static void tls_record_end(struct tls_dir *d, uint64_t ts_us)
{
	const uint8_t *body = NULL;

	d->hdr_len = 0;
	if (tls_record_is_plain_handshake(d))
		return;
	if (d->type == TLS_CT_ALERT && d->len <= TLS_ALERT_BODY_MAX)
		body = d->small;
	d->ops->record(d->ctx, d, d->type, d->len, body, ts_us);
}

/* Consumes up to @n body bytes of the current record; returns how many. */
static size_t tls_record_body(struct tls_dir *d, const uint8_t *p, size_t n,
			      uint64_t ts_us)
{
	size_t take = n < d->left ? n : d->left;

	if (tls_record_is_plain_handshake(d)) {
		tls_hs_append(d, p, take, ts_us);
	} else if (d->type == TLS_CT_ALERT && d->len <= TLS_ALERT_BODY_MAX) {
		memcpy(d->small + (d->len - d->left), p, take);
	}
	d->left -= (uint16_t)take;
	return take;
}

static size_t tls_record_header(struct tls_dir *d, const uint8_t *p, size_t n)
{
	size_t want, take;

	if (tls_record_is_sslv2(d, p[0]))
		d->sslv2 = true;
	want = d->sslv2 ? TLS_SSLV2_HDR : sizeof(d->hdr);
	take = want - d->hdr_len;
	if (take > n)
		take = n;
	memcpy(d->hdr + d->hdr_len, p, take);
	d->hdr_len += (uint8_t)take;
	if (d->hdr_len < want)
		return take;
	d->seen_record = true;
	if (d->sslv2)
		tls_sslv2_begin(d);
	else
		tls_record_begin(d);
	return take;
}

void tls_dir_feed(struct tls_dir *d, const uint8_t *p, size_t n, uint64_t ts_us)
{
	size_t used;

	while (!d->stopped && n > 0) {
		if (d->sslv2 && d->hdr_len == TLS_SSLV2_HDR)
			used = tls_sslv2_body(d, p, n, ts_us);
		else if (d->hdr_len < sizeof(d->hdr))
			used = tls_record_header(d, p, n);
		else
			used = tls_record_body(d, p, n, ts_us);
		p += used;
		n -= used;
		/* a zero-length record ends as soon as its header is complete */
		if (!d->stopped && d->hdr_len == sizeof(d->hdr) && d->left == 0)
			tls_record_end(d, ts_us);
	}
}
