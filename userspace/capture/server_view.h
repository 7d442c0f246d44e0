/* SPDX-License-Identifier: MIT */
/*
 * What the server's own TLS library said about one connection (the live
 * source's uprobes, userspace/live/uprobes.h): the chain it served, the
 * fatal alerts it sent and read, the ALPN protocol it selected. Handed to the pipeline beside the segments, in
 * order with them: a view comes before the server's first packet that
 * follows it on the wire.
 */
#ifndef TW_SERVER_VIEW_H
#define TW_SERVER_VIEW_H

#include <stdbool.h>
#include <stdint.h>

#include "../common/endpoint.h"

#define TW_VIEW_MAX_CERTS 10       /* = HS_MAX_CHAIN */
#define TW_VIEW_EXE_MAX   256

struct tw_view_cert {
	const uint8_t *der;        /* valid during the call */
	uint32_t len;
};

struct tw_server_view {
	uint64_t ts_us;            /* when the packet that named it left */
	struct tw_endpoint client;
	struct tw_endpoint server;
	uint32_t pid;              /* the serving process (init pid namespace) */
	const char *exe;           /* its executable, "" when unknown */
	const char *comm;          /* its thread's name, "" when unknown */
	uint8_t n_certs;           /* 0: no chain in this view */
	struct tw_view_cert certs[TW_VIEW_MAX_CERTS]; /* leaf first */
	bool chain_truncated;      /* more certificates than TW_VIEW_MAX_CERTS */
	bool chain_lost;           /* a certificate too big to copy, or lost
				    * (ring buffer full): no chain is reported */
	bool has_alert;
	uint8_t alert;             /* RFC 8446 AlertDescription the server read */
	bool has_alert_sent;
	uint8_t alert_sent;        /* ... and the one it sent */
	uint8_t alpn_len;          /* 0: no ALPN protocol in this view */
	const uint8_t *alpn;       /* the one it selected; valid during the call */
};

typedef void (*tw_server_view_fn)(void *ctx, const struct tw_server_view *v);

#endif
