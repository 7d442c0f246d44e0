/* SPDX-License-Identifier: MIT */
/*
 * TLS that starts after a plaintext preamble on the same connection
 * (SMTP's STARTTLS, IMAP, POP3's STLS, FTP's AUTH TLS, LDAP's StartTLS,
 * XMPP, PostgreSQL's SSLRequest, MySQL, RDP's X.224 negotiation...). One
 * mechanism for all of them: the ClientHello is looked for wherever it
 * starts within a bounded preamble, and the protocol is named afterwards
 * from a few bytes the preamble kept (the first and the latest message of
 * each side), not parsed as it goes.
 *
 * The bounds are the kernel's (include/tlswatch/event.h), so that analyze
 * and run follow the same connections: at most TW_PREAMBLE_BYTES sent by
 * each side, and fewer than TW_PROBE_SEGMENTS deliveries, before the
 * hello begins.
 */
#ifndef TW_STARTTLS_H
#define TW_STARTTLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tlswatch/event.h"
#include "hs_record.h"

#define TLS_PREAMBLE_SNAP 48   /* bytes kept of a message: room for LDAP's
				* StartTLS OID, an IMAP tag and STARTTLS */

struct tls_preamble_snap {
	uint8_t len;
	uint8_t b[TLS_PREAMBLE_SNAP];
};

/* Indexed by the sender's endpoint index in the flow (0 or 1). */
struct tls_preamble {
	uint32_t bytes[2];             /* preamble bytes each side sent */
	uint16_t segments;             /* deliveries without a hello */
	struct tls_preamble_snap first[2]; /* each side's first bytes */
	struct tls_preamble_snap last[2];  /* the start of each side's latest
					    * delivery before the hello */
};

enum tls_preamble_verdict {
	TLS_PREAMBLE_MORE,     /* no hello yet, within the bounds */
	TLS_PREAMBLE_HELLO,    /* a ClientHello starts in these bytes */
	TLS_PREAMBLE_NOT_TLS,  /* past a bound: the flow is not followed */
};

/*
 * In-order bytes @p[0..@n) sent by endpoint @from (@pa zeroed before the
 * first call). On TLS_PREAMBLE_HELLO, *@hello_at is where the ClientHello
 * begins in @p; its sender is the client.
 */
enum tls_preamble_verdict tls_preamble_feed(struct tls_preamble *pa, int from,
					    const uint8_t *p, size_t n,
					    size_t *hello_at);

/* The protocol the preamble spoke (enum hs_starttls), given the endpoint
 * index of the client; HS_STARTTLS_UNKNOWN when no rule matches. */
uint8_t tls_preamble_protocol(const struct tls_preamble *pa, int client);

/* True when @p[0..@n) starts with the first 11 bytes of a ClientHello:
 * record header, handshake header, a 3.x client_version. */
bool tls_client_hello_starts(const uint8_t *p, size_t n);

#endif
