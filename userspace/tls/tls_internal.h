/* SPDX-License-Identifier: MIT */
/*
 * Inside the TLS parser: the record layer of one direction, the parsed
 * hello messages and the fingerprint functions. Not for other modules:
 * they use tls_conn.h and hs_record.h.
 */
#ifndef TW_TLS_INTERNAL_H
#define TW_TLS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hs_record.h"

/* Record content types (RFC 8446 5.1). */
#define TLS_CT_CHANGE_CIPHER_SPEC 20
#define TLS_CT_ALERT              21
#define TLS_CT_HANDSHAKE          22
#define TLS_CT_APPLICATION_DATA   23
#define TLS_CT_HEARTBEAT          24

/* Handshake message types. */
#define TLS_HS_CLIENT_HELLO       1
#define TLS_HS_SERVER_HELLO       2
#define TLS_HS_CERTIFICATE        11
#define TLS_HS_SERVER_KEY_EXCHANGE 12
#define TLS_HS_CERTIFICATE_STATUS 22
/* CertificateVerify, ClientKeyExchange: tw_hs_client_only (tlswatch/event.h);
 * NewSessionTicket: tw_hs_after_handshake (the same) */

/* Extension types this parser reads. */
#define TLS_EXT_SERVER_NAME       0x0000
#define TLS_EXT_STATUS_REQUEST    0x0005
#define TLS_EXT_SUPPORTED_GROUPS  0x000a
#define TLS_EXT_EC_POINT_FORMATS  0x000b
#define TLS_EXT_SIG_ALGS          0x000d
#define TLS_EXT_ALPN              0x0010
#define TLS_EXT_STATUS_REQUEST_V2 0x0011
#define TLS_EXT_PRE_SHARED_KEY    0x0029
#define TLS_EXT_SUPPORTED_VERSIONS 0x002b
#define TLS_EXT_KEY_SHARE         0x0033

#define TLS_VERSION_13            0x0304

/* Largest record body: 2^14 plus the TLS 1.2 ciphertext expansion. */
#define TLS_MAX_RECORD_LEN        (16384 + 2048)
#define TLS_DEFAULT_MAX_MESSAGE   (256 * 1024)

/* RFC 8701: 0x0a0a, 0x1a1a, ... 0xfafa. */
static inline bool tls_is_grease(uint16_t v)
{
	return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
}

/* --- record layer (tls_record.c) ------------------------------------- */

/* Plaintext alert records are at most this long (a few 2-byte alerts). */
#define TLS_ALERT_BODY_MAX 16

struct tls_dir;

/*
 * What the record layer reports to its owner. Both are called with the
 * timestamp of the feed that completed the message or record; either may
 * stop the direction (tls_dir_stop) and the feed loop then returns.
 */
struct tls_dir_ops {
	/* A complete plaintext handshake message (header removed). */
	void (*message)(void *ctx, struct tls_dir *d, uint8_t type,
			const uint8_t *body, uint32_t len, uint64_t ts_us);
	/*
	 * A complete record that is not a plaintext handshake record: @body
	 * holds its bytes for alert records (at most TLS_ALERT_BODY_MAX, else
	 * NULL), nothing for the other types.
	 */
	void (*record)(void *ctx, struct tls_dir *d, uint8_t type, uint16_t len,
		       const uint8_t *body, uint64_t ts_us);
	/*
	 * The client's first record in SSLv2 framing (RFC 5246 E.2): a 2-byte
	 * length with the high bit set, then an SSLv2 ClientHello, whole in
	 * @body (message type included). TLS records follow it.
	 */
	void (*sslv2_hello)(void *ctx, struct tls_dir *d, const uint8_t *body,
			    uint32_t len, uint64_t ts_us);
	/*
	 * A handshake message declares @len bytes, more than max_message:
	 * true to drop its body as it comes and read on, false to stop the
	 * direction with an error.
	 */
	bool (*oversized)(void *ctx, struct tls_dir *d, uint8_t type, uint32_t len);
};

struct tls_dir {
	bool from_client;
	bool stopped;             /* no more bytes are looked at */
	bool hs_encrypted;        /* set by the owner after a TLS <= 1.2 CCS */
	bool seen_record;         /* a record header has been read */
	bool sslv2;               /* the record being read is SSLv2-framed */
	const char *error;        /* why it stopped, if by a parse error */
	uint32_t max_message;

	/* the record being read */
	uint8_t hdr[5];
	uint8_t hdr_len;
	uint8_t type;
	uint16_t len;
	uint16_t left;            /* body bytes still to come */
	uint8_t small[TLS_ALERT_BODY_MAX];

	/* handshake bytes not yet consumed as whole messages */
	uint8_t *hs;
	size_t hs_off;            /* start of the unconsumed bytes */
	size_t hs_len;            /* end of the unconsumed bytes */
	size_t hs_cap;
	uint32_t hs_skip;         /* body bytes of an oversized message to drop */

	const struct tls_dir_ops *ops;
	void *ctx;
};

void tls_dir_init(struct tls_dir *d, bool from_client, uint32_t max_message,
		  const struct tls_dir_ops *ops, void *ctx);
void tls_dir_feed(struct tls_dir *d, const uint8_t *p, size_t n, uint64_t ts_us);
/* Stops the direction; @error is a static string or NULL (no error). */
void tls_dir_stop(struct tls_dir *d, const char *error);
void tls_dir_release(struct tls_dir *d);
/* A handshake message whose header was read and whose body is still
 * incomplete: true, with its type and declared length. */
bool tls_dir_partial_message(const struct tls_dir *d, uint8_t *type,
			     uint32_t *len);

/* --- hello messages (tls_hello.c) ------------------------------------ */

/* A list of 16-bit values in wire order, GREASE included. */
struct tls_u16_list {
	const uint16_t *v;
	size_t n;
};

/* A parsed ClientHello; byte views point into the message. */
struct tls_client_hello {
	uint16_t legacy_version;
	uint16_t best_version;    /* highest non-GREASE supported_versions; 0 none */
	const uint8_t *session_id; /* legacy_session_id (0..32 bytes) */
	uint8_t session_id_len;
	bool has_sni_ext;
	const uint8_t *host_name; /* first host_name entry, NULL if none */
	size_t host_name_len;
	bool has_alpn_ext;
	const uint8_t *alpn;      /* protocol_name_list body, entries validated */
	size_t alpn_len;
	struct tls_u16_list ciphers;
	struct tls_u16_list exts;
	struct tls_u16_list sig_algs;
	struct tls_u16_list groups;
	const uint8_t *point_formats;
	size_t n_point_formats;
	uint16_t *pool;           /* backing store of the lists (owned) */
};

struct tls_server_hello {
	uint16_t legacy_version;
	bool hello_retry;         /* the random is the HelloRetryRequest magic */
	const uint8_t *session_id; /* legacy_session_id(_echo) */
	uint8_t session_id_len;
	uint16_t cipher;
	uint16_t selected_version; /* supported_versions extension; 0 none */
	bool psk;                 /* pre_shared_key accepted: TLS 1.3 resumption */
	bool has_group;           /* key_share (or an HRR's selected group) */
	uint16_t group;
	const uint8_t *alpn;      /* the one protocol selected; NULL if none */
	uint8_t alpn_len;
};

/* Both return NULL, or a static text naming the message and field. */
const char *tls_parse_client_hello(const uint8_t *p, size_t n,
				   struct tls_client_hello *ch);
void tls_client_hello_release(struct tls_client_hello *ch);
const char *tls_parse_server_hello(const uint8_t *p, size_t n,
				   struct tls_server_hello *sh);
/* An SSLv2-compatible ClientHello (version 3.0 or later): its cipher
 * suites that exist in TLS, no extensions. */
const char *tls_parse_sslv2_client_hello(const uint8_t *p, size_t n,
					 struct tls_client_hello *ch);

/* --- ServerKeyExchange (tls_server_kex.c) ---------------------------- */

/* The named curve of an ECDHE ServerKeyExchange (TLS <= 1.2): true and
 * *@group set; false for explicit curves or a body too short. */
bool tls_server_kex_group(const uint8_t *p, size_t n, uint16_t *group);

/* --- key families the client accepts (key_offer.c) ------------------- */

/* Most preferred first: for a TLS 1.3 negotiation, and for TLS 1.2 and
 * older. */
void tls_key_offers(const struct tls_client_hello *ch, struct key_offer *tls13,
		    struct key_offer *tls12);

/* --- Certificate, CertificateStatus (tls_cert.c) --------------------- */

/* Copy the DER certificates / the stapled OCSP response into @r. */
const char *tls_parse_certificate(const uint8_t *p, size_t n, struct hs_record *r);
const char *tls_parse_certificate_status(const uint8_t *p, size_t n,
					 struct hs_record *r);

/* --- fingerprints (ja4.c, ja3.c) ------------------------------------- */

/* Both write a NUL-terminated string; false (and "") if hashing failed. */
bool tls_ja4(const struct tls_client_hello *ch, char out[HS_JA4_LEN + 1]);
bool tls_ja3(const struct tls_client_hello *ch, char out[HS_JA3_LEN + 1]);
/* Both, through the memo @fc when not NULL (fp_cache.c). */
struct tls_fp_cache;
void tls_fingerprint(struct tls_fp_cache *fc, const struct tls_client_hello *ch,
		     char ja4[HS_JA4_LEN + 1], char ja3[HS_JA3_LEN + 1]);

#endif
