/* SPDX-License-Identifier: MIT */
/*
 * Builds TLS bytes for the parser tests: handshake messages (ClientHello,
 * ServerHello, Certificate, CertificateStatus), records and alerts. Every
 * length field written is remembered (offset, width) so a test can corrupt
 * each one in turn.
 */
#ifndef TW_TEST_TLS_BUILD_H
#define TW_TEST_TLS_BUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TB_MAX_LENGTHS 256

struct tb {
	uint8_t *p;
	size_t n;
	size_t cap;
	size_t n_lengths;
	size_t len_off[TB_MAX_LENGTHS];   /* where each length field is */
	int len_width[TB_MAX_LENGTHS];
};

static inline void tb_reserve(struct tb *b, size_t more)
{
	if (b->n + more <= b->cap)
		return;
	while (b->n + more > b->cap)
		b->cap = b->cap ? 2 * b->cap : 1024;
	b->p = realloc(b->p, b->cap);
	if (!b->p) {
		fprintf(stderr, "tb: out of memory\n");
		abort();
	}
}

static inline void tb_free(struct tb *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

static inline void tb_bytes(struct tb *b, const void *p, size_t n)
{
	tb_reserve(b, n);
	if (n)
		memcpy(b->p + b->n, p, n);
	b->n += n;
}

static inline void tb_u8(struct tb *b, unsigned v)
{
	uint8_t x = (uint8_t)v;

	tb_bytes(b, &x, 1);
}

static inline void tb_u16(struct tb *b, unsigned v)
{
	tb_u8(b, v >> 8);
	tb_u8(b, v);
}

static inline void tb_u24(struct tb *b, unsigned v)
{
	tb_u8(b, v >> 16);
	tb_u16(b, v);
}

static inline void tb_put(uint8_t *p, int width, size_t v)
{
	int i;

	for (i = width - 1; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

/* Opens a length-prefixed vector: returns where its length goes. */
static inline size_t tb_open(struct tb *b, int width)
{
	size_t off = b->n;

	if (b->n_lengths == TB_MAX_LENGTHS) {
		fprintf(stderr, "tb: too many length fields\n");
		abort();
	}
	b->len_off[b->n_lengths] = off;
	b->len_width[b->n_lengths++] = width;
	tb_reserve(b, (size_t)width);
	b->n += (size_t)width;
	return off;
}

static inline void tb_close(struct tb *b, size_t off)
{
	size_t i;
	int width = 0;

	for (i = 0; i < b->n_lengths; i++)
		if (b->len_off[i] == off)
			width = b->len_width[i];
	tb_put(b->p + off, width, b->n - off - (size_t)width);
}

/* --- ClientHello ---------------------------------------------------- */

struct tb_str {
	const char *s;
	size_t len;
};
#define TB_STR(lit) { lit, sizeof(lit) - 1 }

struct tb_client_hello {
	uint16_t legacy_version;
	const uint8_t *session_id;   /* NULL: 32 bytes of filler */
	size_t session_id_len;
	const uint16_t *ciphers;
	size_t n_ciphers;
	const uint16_t *exts;        /* types in order; bodies from the fields below */
	size_t n_exts;
	struct tb_str sni;           /* 0x0000 */
	const struct tb_str *alpn;   /* 0x0010 */
	size_t n_alpn;
	const uint16_t *versions;    /* 0x002b */
	size_t n_versions;
	const uint16_t *sig_algs;    /* 0x000d */
	size_t n_sig_algs;
	const uint16_t *groups;      /* 0x000a */
	size_t n_groups;
	const uint8_t *point_formats; /* 0x000b */
	size_t n_point_formats;
};

static inline void tb_u16_vector(struct tb *b, int width, const uint16_t *v, size_t n)
{
	size_t off = tb_open(b, width), i;

	for (i = 0; i < n; i++)
		tb_u16(b, v[i]);
	tb_close(b, off);
}

static inline void tb_client_ext_body(struct tb *b, const struct tb_client_hello *ch,
			       uint16_t type)
{
	size_t off, inner, i;

	switch (type) {
	case 0x0000:
		off = tb_open(b, 2);
		tb_u8(b, 0);
		inner = tb_open(b, 2);
		tb_bytes(b, ch->sni.s, ch->sni.len);
		tb_close(b, inner);
		tb_close(b, off);
		break;
	case 0x0010:
		off = tb_open(b, 2);
		for (i = 0; i < ch->n_alpn; i++) {
			inner = tb_open(b, 1);
			tb_bytes(b, ch->alpn[i].s, ch->alpn[i].len);
			tb_close(b, inner);
		}
		tb_close(b, off);
		break;
	case 0x002b:
		tb_u16_vector(b, 1, ch->versions, ch->n_versions);
		break;
	case 0x000d:
		tb_u16_vector(b, 2, ch->sig_algs, ch->n_sig_algs);
		break;
	case 0x000a:
		tb_u16_vector(b, 2, ch->groups, ch->n_groups);
		break;
	case 0x000b:
		off = tb_open(b, 1);
		tb_bytes(b, ch->point_formats, ch->n_point_formats);
		tb_close(b, off);
		break;
	default:
		break;    /* empty body */
	}
}

/* A ClientHello handshake message (type, 24-bit length, body). */
static inline void tb_client_hello(struct tb *b, const struct tb_client_hello *ch)
{
	static const uint8_t random[32] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	size_t msg, off, exts, body;
	size_t i;

	tb_u8(b, 1);
	msg = tb_open(b, 3);
	tb_u16(b, ch->legacy_version);
	tb_bytes(b, random, sizeof(random));
	off = tb_open(b, 1);               /* legacy_session_id */
	if (ch->session_id)
		tb_bytes(b, ch->session_id, ch->session_id_len);
	else
		tb_bytes(b, random, 32);
	tb_close(b, off);
	tb_u16_vector(b, 2, ch->ciphers, ch->n_ciphers);
	off = tb_open(b, 1);               /* legacy_compression_methods */
	tb_u8(b, 0);
	tb_close(b, off);
	if (ch->n_exts) {
		exts = tb_open(b, 2);
		for (i = 0; i < ch->n_exts; i++) {
			tb_u16(b, ch->exts[i]);
			body = tb_open(b, 2);
			tb_client_ext_body(b, ch, ch->exts[i]);
			tb_close(b, body);
		}
		tb_close(b, exts);
	}
	tb_close(b, msg);
}

/* --- server messages ------------------------------------------------ */

static const uint8_t tb_hrr_random[32] = {
	0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02,
	0x1e, 0x65, 0xb8, 0x91, 0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e,
	0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
};

/* What a ServerHello says besides its cipher. */
struct tb_server_hello {
	uint16_t cipher;
	uint16_t selected;           /* supported_versions; 0: none */
	bool hrr;
	bool psk;                    /* pre_shared_key (selected identity 0) */
	uint16_t group;              /* key_share group; 0: none */
	const char *alpn;            /* the selected protocol; NULL: none */
	const uint8_t *session_id;   /* NULL: 32 bytes of filler */
	size_t session_id_len;
};

static inline void tb_server_hello_ext_header(struct tb *b, uint16_t type, size_t *body)
{
	tb_u16(b, type);
	*body = tb_open(b, 2);
}

static inline void tb_server_hello_with(struct tb *b, const struct tb_server_hello *sh)
{
	static const uint8_t random[32] = { 9, 9, 9 };
	size_t msg, off, exts, body, list, name;

	tb_u8(b, 2);
	msg = tb_open(b, 3);
	tb_u16(b, 0x0303);
	tb_bytes(b, sh->hrr ? tb_hrr_random : random, 32);
	off = tb_open(b, 1);
	if (sh->session_id)
		tb_bytes(b, sh->session_id, sh->session_id_len);
	else
		tb_bytes(b, random, 32);
	tb_close(b, off);
	tb_u16(b, sh->cipher);
	tb_u8(b, 0);
	exts = tb_open(b, 2);
	tb_server_hello_ext_header(b, 0xff01, &body);   /* renegotiation_info */
	tb_u8(b, 0);
	tb_close(b, body);
	if (sh->selected) {
		tb_server_hello_ext_header(b, 0x002b, &body);
		tb_u16(b, sh->selected);
		tb_close(b, body);
	}
	if (sh->psk) {
		tb_server_hello_ext_header(b, 0x0029, &body);
		tb_u16(b, 0);
		tb_close(b, body);
	}
	if (sh->group) {
		tb_server_hello_ext_header(b, 0x0033, &body);
		tb_u16(b, sh->group);
		off = tb_open(b, 2);                     /* key_exchange */
		tb_bytes(b, random, 32);
		tb_close(b, off);
		tb_close(b, body);
	}
	if (sh->alpn) {
		tb_server_hello_ext_header(b, 0x0010, &body);
		list = tb_open(b, 2);
		name = tb_open(b, 1);
		tb_bytes(b, sh->alpn, strlen(sh->alpn));
		tb_close(b, name);
		tb_close(b, list);
		tb_close(b, body);
	}
	tb_close(b, exts);
	tb_close(b, msg);
}

/* @selected 0: no supported_versions extension. */
static inline void tb_server_hello(struct tb *b, uint16_t cipher, uint16_t selected,
			    bool hrr, bool psk)
{
	struct tb_server_hello sh = { .cipher = cipher, .selected = selected,
				      .hrr = hrr, .psk = psk };

	tb_server_hello_with(b, &sh);
}

/* A TLS 1.2 ECDHE ServerKeyExchange naming @curve (point and signature
 * are filler). */
static inline void tb_server_key_exchange(struct tb *b, uint16_t curve)
{
	size_t msg, off, i;

	tb_u8(b, 12);
	msg = tb_open(b, 3);
	tb_u8(b, 3);                  /* named_curve */
	tb_u16(b, curve);
	off = tb_open(b, 1);
	for (i = 0; i < 65; i++)
		tb_u8(b, 0x04);
	tb_close(b, off);
	tb_u16(b, 0x0804);            /* rsa_pss_rsae_sha256 */
	off = tb_open(b, 2);
	for (i = 0; i < 256; i++)
		tb_u8(b, 0x5a);
	tb_close(b, off);
	tb_close(b, msg);
}

/* A fake DER certificate: @len bytes starting 0x30, filled with @fill. */
static inline void tb_fake_der(uint8_t *p, size_t len, uint8_t fill)
{
	memset(p, fill, len);
	p[0] = 0x30;
}

static inline void tb_certificate(struct tb *b, const uint8_t *const *ders,
			   const size_t *lens, size_t n)
{
	size_t msg, list, one, i;

	tb_u8(b, 11);
	msg = tb_open(b, 3);
	list = tb_open(b, 3);
	for (i = 0; i < n; i++) {
		one = tb_open(b, 3);
		tb_bytes(b, ders[i], lens[i]);
		tb_close(b, one);
	}
	tb_close(b, list);
	tb_close(b, msg);
}

static inline void tb_certificate_status(struct tb *b, const uint8_t *der, size_t len)
{
	size_t msg, off;

	tb_u8(b, 22);
	msg = tb_open(b, 3);
	tb_u8(b, 1);
	off = tb_open(b, 3);
	tb_bytes(b, der, len);
	tb_close(b, off);
	tb_close(b, msg);
}

/* A handshake message with an opaque body (ServerHelloDone, Finished...). */
static inline void tb_handshake(struct tb *b, uint8_t type, size_t body_len)
{
	size_t i;

	tb_u8(b, type);
	tb_u24(b, (unsigned)body_len);
	for (i = 0; i < body_len; i++)
		tb_u8(b, 0x42);
}

/* --- records -------------------------------------------------------- */

/* Wraps @n bytes into records of at most @max_frag bytes each. */
static inline void tb_records(struct tb *b, uint8_t type, const uint8_t *p, size_t n,
		       size_t max_frag)
{
	do {
		size_t take = n < max_frag ? n : max_frag;

		tb_u8(b, type);
		tb_u16(b, 0x0303);
		tb_u16(b, (unsigned)take);
		tb_bytes(b, p, take);
		p += take;
		n -= take;
	} while (n > 0);
}

/* A record of @len opaque bytes (encrypted data, CCS...). */
static inline void tb_opaque_record(struct tb *b, uint8_t type, size_t len)
{
	size_t i;

	tb_u8(b, type);
	tb_u16(b, 0x0303);
	tb_u16(b, (unsigned)len);
	for (i = 0; i < len; i++)
		tb_u8(b, type == 20 ? 1 : 0xa5);
}

static inline void tb_alert(struct tb *b, uint8_t level, uint8_t description)
{
	tb_u8(b, 21);
	tb_u16(b, 0x0303);
	tb_u16(b, 2);
	tb_u8(b, level);
	tb_u8(b, description);
}

#endif
