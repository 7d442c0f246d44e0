// SPDX-License-Identifier: MIT
/*
 * Where OpenSSL keeps, in an SSL object, the last alert it sent
 * (s3.send_alert: level, description) and the fatal alert it read
 * (s3.fatal_alert, an int). No exported function says which fatal alert a
 * server sent or read, and TLS 1.3 encrypts both on the wire, but the SSL
 * object keeps them until it is freed. The offsets are private to the
 * library build, so they are measured, not assumed: SSL objects of the
 * libssl this process links are made to send (a server given a bad hello)
 * and to read (a client given an alert) two different fatal alerts each,
 * and the one offset where each object holds its own alert, and held zero
 * before, is the answer. It applies to servers that map the same library
 * file only (uprobes.c checks device and inode).
 */
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "uprobes.h"

#define ALERT_FATAL 2

/* What a server gets instead of a ClientHello: a ServerHello
 * (unexpected_message), and a ClientHello cut after one byte of its
 * version (decode_error). Which alerts they draw does not matter, only
 * that they differ: the library's own output says which they were. */
static const uint8_t bad_hello[2][10] = {
	{ 0x16, 0x03, 0x01, 0x00, 0x04, 0x02, 0x00, 0x00, 0x00 },
	{ 0x16, 0x03, 0x01, 0x00, 0x05, 0x01, 0x00, 0x00, 0x01, 0x03 },
};
static const size_t bad_hello_len[2] = { 9, 10 };

/* What a client gets after its hello: fatal handshake_failure, then
 * fatal decrypt_error. */
static const uint8_t alert_to_read[2] = { 40, 51 };

struct alert_probe {
	uint8_t *before, *after;      /* the SSL object's bytes */
	size_t size;
	int desc;                     /* the alert it sent or read, -1: none */
};

/* The alert record a server wrote: 15 03 0x 00 02 level desc. */
static int sent_alert(BIO *out)
{
	uint8_t rec[7];

	if (BIO_read(out, rec, sizeof(rec)) != (int)sizeof(rec) || rec[0] != 0x15 ||
	    rec[5] != ALERT_FATAL)
		return -1;
	return rec[6];
}

/* A fresh SSL of @ctx on memory BIOs, its bytes kept in p->before. */
static SSL *probe_begin(SSL_CTX *ctx, bool server, struct alert_probe *p)
{
	SSL *s = uprobe_mem_ssl(ctx);

	p->desc = -1;
	if (!s)
		return NULL;
	if (server) {
		SSL_set_accept_state(s);
	} else {
		SSL_set_connect_state(s);
		SSL_do_handshake(s); /* its hello, then it waits */
	}
	p->size = malloc_usable_size(s);
	p->before = malloc(p->size);
	p->after = malloc(p->size);
	if (!p->before || !p->after) {
		SSL_free(s);
		return NULL;
	}
	memcpy(p->before, s, p->size);
	return s;
}

/* Feeds @in to @s, lets it fail, keeps its bytes in p->after. */
static int probe_end(SSL *s, const uint8_t *in, size_t n, struct alert_probe *p)
{
	int rc = -1;

	if (BIO_write(SSL_get_rbio(s), in, (int)n) == (int)n &&
	    SSL_do_handshake(s) <= 0) {
		memcpy(p->after, s, p->size);
		rc = 0;
	}
	ERR_clear_error();
	return rc;
}

static int provoke_sent(SSL_CTX *srv, int which, struct alert_probe *p)
{
	SSL *s = probe_begin(srv, true, p);
	int rc = -1;

	if (s && !probe_end(s, bad_hello[which], bad_hello_len[which], p)) {
		p->desc = sent_alert(SSL_get_wbio(s));
		rc = p->desc < 0 ? -1 : 0;
	}
	SSL_free(s);
	return rc;
}

static int provoke_read(SSL_CTX *cli, int which, struct alert_probe *p)
{
	uint8_t rec[7] = { 0x15, 0x03, 0x03, 0x00, 0x02, ALERT_FATAL,
			   alert_to_read[which] };
	SSL *s = probe_begin(cli, false, p);
	int rc = -1;

	/* had the alert not been read, no offset would hold it */
	if (s && !probe_end(s, rec, sizeof(rec), p)) {
		p->desc = alert_to_read[which];
		rc = 0;
	}
	SSL_free(s);
	return rc;
}

/* The alert sent: (fatal, desc); read: desc as a little-endian int. */
static bool holds(const struct alert_probe *p, size_t off, bool sent)
{
	static const uint8_t zero[4];
	size_t w = sent ? 2 : 4;

	if (off + w > p->size || memcmp(p->before + off, zero, w))
		return false;
	if (sent)
		return p->after[off] == ALERT_FATAL && p->after[off + 1] == p->desc;
	return p->after[off] == p->desc && !memcmp(p->after + off + 1, zero, 3);
}

/* The one offset where both probes hold their alert; 0 if none or two. */
static long find_offset(const struct alert_probe *p, bool sent)
{
	long found = 0;
	size_t off;

	if (p[0].desc < 0 || p[1].desc < 0 || p[0].desc == p[1].desc)
		return 0;
	for (off = 1; off < p[0].size; off++) {
		if (!holds(&p[0], off, sent) || !holds(&p[1], off, sent))
			continue;
		if (found)
			return 0; /* two candidates: not sure, so none */
		found = (long)off;
	}
	return found;
}

static void probes_free(struct alert_probe *p)
{
	int i;

	for (i = 0; i < 2; i++) {
		free(p[i].before);
		free(p[i].after);
		memset(&p[i], 0, sizeof(p[i]));
	}
}

/* A copy of @s's bytes in @buf (@size of them), and whether SSL_is_server()
 * says @want. */
static bool snapshot(const SSL *s, uint8_t *buf, size_t size, int want)
{
	memcpy(buf, s, size);
	return SSL_is_server(s) == want;
}

/*
 * The int that says an SSL is a server's (what SSL_is_server() returns;
 * s->server in OpenSSL 3.0): the one 4-aligned word that is 1 after
 * SSL_set_accept_state(), 0 after SSL_set_connect_state() and 1 again
 * after a second SSL_set_accept_state() (the calls set nothing else that
 * flips that way); 0 if none or two.
 */
static long calibrate_server(SSL_CTX *ctx)
{
	static const uint8_t one[4] = { 1, 0, 0, 0 }, zero[4];
	SSL *s = SSL_new(ctx);
	uint8_t *b[3] = { NULL, NULL, NULL };
	size_t size = s ? malloc_usable_size(s) : 0, off;
	long found = 0;
	bool ok = s != NULL;
	int i;

	for (i = 0; ok && i < 3; i++)
		ok = (b[i] = malloc(size)) != NULL;
	if (ok) {
		SSL_set_accept_state(s);
		ok = snapshot(s, b[0], size, 1);
		SSL_set_connect_state(s);
		ok = ok && snapshot(s, b[1], size, 0);
		SSL_set_accept_state(s);
		ok = ok && snapshot(s, b[2], size, 1);
	}
	for (off = 4; ok && off + 4 <= size; off += 4) {
		if (memcmp(b[0] + off, one, 4) || memcmp(b[1] + off, zero, 4) ||
		    memcmp(b[2] + off, one, 4))
			continue;
		if (found) {
			found = 0; /* two candidates: not sure, so none */
			break;
		}
		found = (long)off;
	}
	for (i = 0; i < 3; i++)
		free(b[i]);
	SSL_free(s);
	return found;
}

struct uprobe_alert_offsets uprobe_calibrate(void)
{
	struct uprobe_alert_offsets o = { 0, 0, 0, 0 };
	struct alert_probe p[2] = { { 0 }, { 0 } };
	SSL_CTX *srv = SSL_CTX_new(TLS_server_method());
	SSL_CTX *cli = SSL_CTX_new(TLS_client_method());
	int i;

	if (srv && cli) {
		for (i = 0; i < 2; i++)
			provoke_sent(srv, i, &p[i]);
		o.sent = find_offset(p, true);
		probes_free(p);
		for (i = 0; i < 2; i++)
			provoke_read(cli, i, &p[i]);
		o.read = find_offset(p, false);
		probes_free(p);
		o.server = calibrate_server(srv);
	}
	SSL_CTX_free(srv);
	SSL_CTX_free(cli);
	o.alpn = uprobe_calibrate_alpn();
	return o;
}

uint64_t uprobe_cookie_field(long value, unsigned field)
{
	if (value <= 0 || value > TW_UP_OFF_MASK)
		return 0;
	return (uint64_t)value << (field * TW_UP_OFF_BITS);
}

uint64_t uprobe_offsets_cookie(struct uprobe_alert_offsets o)
{
	return uprobe_cookie_field(o.sent, TW_UP_OFF_SENT) |
	       uprobe_cookie_field(o.read, TW_UP_OFF_READ) |
	       uprobe_cookie_field(o.alpn, TW_UP_OFF_ALPN) |
	       uprobe_cookie_field(o.server, TW_UP_OFF_SERVER);
}
