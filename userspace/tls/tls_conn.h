/* SPDX-License-Identifier: MIT */
/*
 * TLS parser for one connection: records, handshake messages reassembled
 * across records, alerts, and the outcome state machine of events.md.
 * Fed with in-order bytes of each direction by the flow stage.
 */
#ifndef TW_TLS_CONN_H
#define TW_TLS_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hs_record.h"

/* What the first payload of one side looks like, to decide whether a flow
 * is TLS and which side is its client. */
enum tls_sniff {
	TLS_SNIFF_NOT_TLS,        /* skip the flow */
	TLS_SNIFF_NEED_MORE,      /* fewer than 6 bytes so far, or a Certificate
				   * whose next message has not come yet */
	TLS_SNIFF_CLIENT_HELLO,   /* 0x16 0x03 0x0X .. .. 0x01: sender is the client */
	TLS_SNIFF_CLIENT_HANDSHAKE, /* ClientKeyExchange or CertificateVerify, or
				     * a Certificate followed by one (a capture
				     * that starts after the hello): sender is
				     * the client */
	TLS_SNIFF_SERVER_HANDSHAKE, /* a handshake record of another type: sender is the server */
	TLS_SNIFF_SSLV2_HELLO,    /* SSLv2-style ClientHello: recognised, skipped */
	TLS_SNIFF_MIDSTREAM,      /* a ChangeCipherSpec, alert or application
				   * data record, or a NewSessionTicket: a
				   * TLS connection joined after its
				   * handshake */
};
/* A first record holding a Certificate asks for the bytes up to the
 * message after it (a chain may span records); with this many and no
 * answer yet, the sender is taken for the server. */
#define TLS_SNIFF_MAX_BYTES (64u * 1024)
enum tls_sniff tls_sniff(const uint8_t *p, size_t n);
/* The same, when no more bytes will come (the flow ended): a Certificate
 * without the message after it is the server's. */
enum tls_sniff tls_sniff_final(const uint8_t *p, size_t n);

struct tls_conn;

struct tls_limits {
	uint32_t max_message_bytes;  /* one handshake message, default 256 KiB */
};

struct tls_conn *tls_conn_new(const struct tls_limits *lim);
void tls_conn_free(struct tls_conn *c);
/* Heap bytes @c holds: itself, its message buffers, the chain and staple
 * copies (what the pipeline's connection budget counts). */
size_t tls_conn_mem(const struct tls_conn *c);

/*
 * A memo of client fingerprints (JA3, JA4) shared by connections: clients
 * of the same software send the same lists, so the digests are computed
 * once per distinct ClientHello shape instead of once per handshake.
 * Bounded: past TLS_FP_CACHE_MAX shapes it starts over; hellos whose lists
 * take more than TLS_FP_CACHE_KEY_MAX bytes are computed each time, so it
 * holds at most about 5 MB (typical hellos: 200 bytes a shape). The
 * fingerprints are the same with or without it.
 */
#define TLS_FP_CACHE_MAX 4096
#define TLS_FP_CACHE_KEY_MAX 1024
struct tls_fp_cache;
struct tls_fp_cache *tls_fp_cache_new(void);
void tls_fp_cache_free(struct tls_fp_cache *fc);
size_t tls_fp_cache_count(const struct tls_fp_cache *fc);
/* @fc (may be NULL: no memo) must outlive @c. */
void tls_conn_set_fp_cache(struct tls_conn *c, struct tls_fp_cache *fc);

/* In-order bytes from the client (@from_client) or the server. */
void tls_conn_feed(struct tls_conn *c, bool from_client, const uint8_t *p,
		   size_t n, uint64_t ts_us);
/* That direction has a hole: stop parsing it. */
void tls_conn_gap(struct tls_conn *c, bool from_client, uint64_t ts_us);
/* The connection closed: with @fin_or_rst a FIN/RST (aborted if undecided),
 * otherwise the input ended or the flow timed out (incomplete). A gap in
 * either direction, or parse errors in both, make it incomplete either
 * way: the decisive bytes may have been missed. No effect once decided. */
void tls_conn_close(struct tls_conn *c, bool fin_or_rst, uint64_t ts_us);

/* A side sent FIN (half-close) before the decision: from now on alerts
 * are kept but no longer make the handshake "failed"; the close decides
 * "aborted" unless the handshake finishes. */
void tls_conn_half_close(struct tls_conn *c, bool from_client, uint64_t ts_us);
/* True once the outcome is decided (ok, failed, aborted, incomplete). */
bool tls_conn_decided(const struct tls_conn *c);
/* The record being built; valid until tls_conn_free(). */
struct hs_record *tls_conn_record(struct tls_conn *c);

#endif
