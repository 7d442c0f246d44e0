/* SPDX-License-Identifier: MIT */
/*
 * The handshake record: one per TLS connection, filled by the TLS parser and
 * handed, read-only, to certificate checks, inventory, spike detection and
 * sinks. Every string in it came off the wire: sinks escape it.
 */
#ifndef TW_HS_RECORD_H
#define TW_HS_RECORD_H

#include <stdbool.h>
#include <stdint.h>

#include "../common/endpoint.h"
#include "hs_names.h"
#include "../common/tunnel.h"
#include "../common/key_family.h"

#define HS_MAX_ALPN      8
#define HS_MAX_ALPN_LEN  255
#define HS_MAX_CHAIN     10
#define HS_MAX_ALERTS    8
#define HS_MAX_SNI       255
#define HS_JA4_LEN       36   /* "t13d1516h2_8daaf6152771_e5627efa2ab1" */
#define HS_JA3_LEN       32   /* MD5 hex */

/*
 * Protocols that upgrade a plaintext connection to TLS (STARTTLS and its
 * kin), as named in the handshake event's "starttls". The one list: the
 * enum, the names and the schema's list are generated from it.
 *   X(ENUM_SUFFIX, name)
 */
#define HS_STARTTLS_PROTOCOLS(X)                                               \
	X(SMTP, "smtp") X(LMTP, "lmtp") X(IMAP, "imap") X(POP3, "pop3")        \
	X(FTP, "ftp") X(LDAP, "ldap") X(XMPP, "xmpp")                          \
	X(POSTGRES, "postgres") X(MYSQL, "mysql") X(NNTP, "nntp")              \
	X(SIEVE, "sieve") X(IRC, "irc") X(RDP, "rdp")                          \
	X(UNKNOWN, "unknown")

enum hs_starttls {
	HS_STARTTLS_NONE = 0,     /* TLS from the connection's first byte */
#define HS_STARTTLS_ENUM(id, name) HS_STARTTLS_##id,
	HS_STARTTLS_PROTOCOLS(HS_STARTTLS_ENUM)
#undef HS_STARTTLS_ENUM
	HS_STARTTLS__COUNT,
};

enum hs_outcome {
	HS_INCOMPLETE = 0,   /* capture ended, flow timed out, or a gap */
	HS_OK,               /* handshake finished */
	HS_FAILED,           /* a fatal alert (plaintext or inferred encrypted) */
	HS_ABORTED,          /* FIN/RST before the handshake finished, no alert */
	HS_OUTCOME__COUNT,
};

/* Why a Certificate message sent in the clear (TLS <= 1.2) was not read. */
enum hs_chain_error {
	HS_CHAIN_READ = 0,        /* read, or none was sent */
	HS_CHAIN_TOO_LARGE,       /* declared more than the per-message cap */
	HS_CHAIN_TRUNCATED,       /* began, but its end was never seen */
};

enum hs_alert_level {
	HS_ALERT_WARNING = 1,
	HS_ALERT_FATAL = 2,
	HS_ALERT_UNKNOWN = 255,   /* encrypted: level and description unknown */
};

struct hs_alert {
	bool from_client;
	bool encrypted;           /* inferred from a TLS 1.3 encrypted record */
	bool from_server_lib;     /* the server's TLS library read it (uprobes) */
	uint8_t level;            /* enum hs_alert_level */
	uint8_t description;      /* RFC 8446 AlertDescription; 255 if unknown */
	uint64_t ts_us;
};

struct hs_blob {
	uint8_t *data;            /* owned by the record */
	uint32_t len;
};

struct hs_string {
	uint8_t len;
	char bytes[HS_MAX_ALPN_LEN + 1]; /* NUL-terminated, may hold any byte */
};

struct hs_record {
	uint64_t start_us;        /* first packet of the connection seen */
	uint64_t end_us;          /* when the outcome was decided */
	struct tw_endpoint client;
	struct tw_endpoint server;
	struct tw_tunnel tunnel;  /* the outermost encapsulation the connection
				   * came through (type TW_TUN_NONE: none);
				   * src on the client's side */

	/* ClientHello */
	bool has_client_hello;
	bool has_sni;             /* a non-empty host_name was offered */
	uint16_t sni_len;         /* bytes kept in sni (at most HS_MAX_SNI) */
	char sni[HS_MAX_SNI + 1];  /* raw bytes, NUL-terminated */
	uint8_t n_alpn;
	/* n_alpn of them, owned (hs_record_alloc_alpn): room for all
	 * HS_MAX_ALPN in the record was 2 KiB per undecided handshake, for
	 * the two names most clients offer, or none */
	struct hs_string *alpn;
	bool alpn_truncated;      /* more than HS_MAX_ALPN offered (or no
				   * memory to keep them) */
	uint16_t client_version;  /* highest offered (supported_versions or legacy) */
	bool staple_requested;    /* status_request(_v2): a staple may come */
	char ja4[HS_JA4_LEN + 1];
	char ja3[HS_JA3_LEN + 1];
	/* Key families the client accepts, most preferred first, should the
	 * server negotiate TLS 1.3 / TLS 1.2 or older (tls/key_offer.c); an
	 * active check sets what its probe offered. */
	struct key_offer keys_tls13, keys_tls12;
	bool sslv2_hello;         /* the ClientHello came in SSLv2 framing */

	/* How the connection came to TLS */
	uint8_t starttls;         /* enum hs_starttls: after a plaintext preamble */

	/* ServerHello */
	bool has_server_hello;
	bool hello_retry;         /* a HelloRetryRequest was seen */
	uint16_t version;         /* negotiated, 0x0301..0x0304; 0 unknown */
	uint16_t cipher;          /* negotiated cipher suite */
	bool has_group;
	uint16_t group;           /* key-exchange group (IANA Supported Groups):
				   * TLS 1.3 key_share, TLS 1.2 ECDHE
				   * ServerKeyExchange */
	bool has_alpn_selected;   /* TLS <= 1.2: ALPN in the ServerHello
				   * (TLS 1.3 sends it encrypted) */
	struct hs_string alpn_selected;

	/* Certificate (TLS <= 1.2, or an active check) */
	bool cert_visible;        /* false for TLS 1.3 */
	uint8_t n_chain;
	bool chain_truncated;     /* more than HS_MAX_CHAIN certificates */
	struct hs_blob chain[HS_MAX_CHAIN]; /* DER, leaf first */
	enum hs_chain_error chain_error; /* a Certificate message not read */
	uint32_t chain_bytes;     /* ... and the length it declared */
	/* The server's own TLS library (live uprobes): the chain it served,
	 * when the wire did not show one (TLS 1.3), and which process. */
	bool chain_from_server;
	uint32_t server_pid;      /* 0: not known */
	char server_exe[256];     /* "" when not known */
	char server_comm[16];     /* its thread's name, "" when not known */

	/* CertificateStatus (stapled OCSP response, DER) */
	bool has_staple;
	struct hs_blob staple;

	uint8_t n_alerts;
	bool alerts_truncated;    /* more than HS_MAX_ALERTS: the rest dropped */
	struct hs_alert alerts[HS_MAX_ALERTS];

	enum hs_outcome outcome;
	bool gap;                 /* the parse of a direction stopped at a hole */
	bool resumed;             /* abbreviated handshake (no Certificate);
				   * TLS 1.3: the server accepted a PSK */
	const char *parse_error;  /* static text when a message was malformed */
};

void hs_record_init(struct hs_record *r);
/* The key families the client accepted for the version negotiated. */
const struct key_offer *hs_record_key_offer(const struct hs_record *r);
/* Room for @n (1..HS_MAX_ALPN) offered ALPN names in @r, which owns it,
 * n_alpn set: the names to fill in. NULL when out of memory. */
struct hs_string *hs_record_alloc_alpn(struct hs_record *r, uint8_t n);
/* Frees the owned blobs and ALPN names; the struct itself belongs to the
 * caller. */
void hs_record_release(struct hs_record *r);

/* Names for output. Unknown values give NULL (callers omit the field). */
const char *hs_version_name(uint16_t version);      /* "TLS1.2" */
const char *hs_outcome_name(enum hs_outcome o);     /* "ok" */
const char *hs_alert_level_name(uint8_t level);     /* "fatal" */
const char *hs_alert_description_name(uint8_t d);   /* "bad_certificate" */
const char *hs_cipher_name(uint16_t cipher);        /* IANA name */
const char *hs_starttls_name(uint8_t protocol);     /* "smtp"; NULL for none */
/* Does @cipher's ServerKeyExchange carry ECDHE parameters first (ECDHE
 * without PSK, RFC 8422 5.4)? */
bool hs_cipher_is_ecdhe(uint16_t cipher);
/* IANA Supported Groups name ("x25519", "X25519MLKEM768"); NULL when
 * unassigned. hs_group_label() never fails: "0x%04x" for those. */
const char *hs_group_name(uint16_t group);
#define HS_GROUP_LABEL_LEN 7
const char *hs_group_label(uint16_t group, char buf[HS_GROUP_LABEL_LEN]);
const char *hs_chain_error_name(enum hs_chain_error e); /* "too_large"; NULL for READ */
/* The ALPN slot of hs_names.h for what @r's server selected. */
int hs_record_alpn_slot(const struct hs_record *r);

#endif
