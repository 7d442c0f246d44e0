// SPDX-License-Identifier: MIT
/*
 * Where OpenSSL keeps the last alert an SSL object sent (s3.send_alert:
 * level, description). No exported function says which fatal alert a
 * server sent, and TLS 1.3 encrypts it on the wire, but the SSL object
 * keeps it after sending. Its offset is private to the library build, so
 * it is measured, not assumed: two server-side SSL objects of the libssl
 * this process links are made to send two different fatal alerts, and the
 * one offset where each object holds (fatal, its own alert), and held
 * zeros before, is the answer. It applies to servers that map the same
 * library file only (uprobes.c checks device and inode).
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

struct alert_probe {
	uint8_t *before, *after;      /* the SSL object's bytes */
	size_t size;
	int desc;                     /* the alert it sent, -1: none */
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

static int provoke(SSL_CTX *ctx, int which, struct alert_probe *p)
{
	BIO *in = BIO_new(BIO_s_mem()), *out = BIO_new(BIO_s_mem());
	SSL *s = SSL_new(ctx);
	int rc = -1;

	p->desc = -1;
	if (!s || !in || !out)
		goto done;
	SSL_set_bio(s, in, out);
	in = out = NULL; /* owned by s */
	SSL_set_accept_state(s);
	p->size = malloc_usable_size(s);
	p->before = malloc(p->size);
	p->after = malloc(p->size);
	if (!p->before || !p->after)
		goto done;
	memcpy(p->before, s, p->size);
	if (BIO_write(SSL_get_rbio(s), bad_hello[which], (int)bad_hello_len[which]) <= 0)
		goto done;
	if (SSL_do_handshake(s) > 0)
		goto done;
	memcpy(p->after, s, p->size);
	p->desc = sent_alert(SSL_get_wbio(s));
	rc = p->desc < 0 ? -1 : 0;
done:
	ERR_clear_error();
	BIO_free(in);
	BIO_free(out);
	SSL_free(s);
	return rc;
}

static bool holds(const struct alert_probe *p, size_t off)
{
	return off + 1 < p->size && p->before[off] == 0 && p->before[off + 1] == 0 &&
	       p->after[off] == ALERT_FATAL && p->after[off + 1] == p->desc;
}

long uprobe_calibrate(void)
{
	struct alert_probe p[2] = { { 0 }, { 0 } };
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	long found = 0;
	size_t off;
	int i;

	if (ctx && !provoke(ctx, 0, &p[0]) && !provoke(ctx, 1, &p[1]) &&
	    p[0].desc != p[1].desc) {
		for (off = 1; off < p[0].size; off++) {
			if (!holds(&p[0], off) || !holds(&p[1], off))
				continue;
			if (found) { /* two candidates: not sure, so none */
				found = 0;
				break;
			}
			found = (long)off;
		}
	}
	for (i = 0; i < 2; i++) {
		free(p[i].before);
		free(p[i].after);
	}
	SSL_CTX_free(ctx);
	return found;
}
