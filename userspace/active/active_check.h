/* SPDX-License-Identifier: MIT */
/*
 * Active checks: TLS 1.3 encrypts the Certificate message, so the agent
 * asks the server itself. For a (server address, port, SNI) it has not
 * verified, it opens its own TLS connection from this host with that SNI
 * and records the chain and the stapled OCSP answer. One worker thread,
 * a bounded queue, a per-minute rate limit, a TTL cache and a short
 * timeout: never on the capture thread, never a hang.
 */
#ifndef TW_ACTIVE_CHECK_H
#define TW_ACTIVE_CHECK_H

#include <stdbool.h>
#include <stdint.h>

#include "common/endpoint.h"
#include "tls/hs_record.h"

struct active_opts {
	int timeout_ms;        /* connect + handshake, default 3000 */
	int ttl_s;             /* re-check a target after, default 3600 */
	int max_per_minute;    /* default 60 */
};

struct active_stats {
	uint64_t requested, started, succeeded, failed;
	uint64_t rate_limited, queue_full, cached;
};

struct active_checker;

/* NULL on failure (thread or memory). */
struct active_checker *active_new(const struct active_opts *o);
void active_free(struct active_checker *a);

/* Queues a check unless one for the target is cached, pending or over the
 * rate limit. Never blocks. Returns true if queued. */
bool active_request(struct active_checker *a, const struct tw_endpoint *server,
		    const char *sni, uint64_t now_us);

/* Readable when results wait (for poll()). */
int active_fd(const struct active_checker *a);

/* Hands each finished check to @fn on the caller's thread: a record with
 * the chain and staple on success (@error NULL), or the reason. */
void active_drain(struct active_checker *a,
		  void (*fn)(void *ctx, struct hs_record *rec, const char *error),
		  void *ctx);

/* True if @client is the local end of one of our own check connections
 * (so passive capture does not count them as client traffic). */
bool active_is_own(struct active_checker *a, const struct tw_endpoint *client);

const struct active_stats *active_stats(const struct active_checker *a);

#endif
