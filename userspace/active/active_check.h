/* SPDX-License-Identifier: MIT */
/*
 * Active checks: TLS 1.3 encrypts the Certificate message, so the agent
 * asks the server itself. For a (server address, port, SNI) it has not
 * verified (the SNI as compared: A.test and a.test are one target, RFC
 * 4343, checked with the spelling first asked for), it opens its own TLS
 * connection from this host with that SNI and records the chain and the
 * stapled OCSP answer. A server may hold
 * several certificates for a name (RSA and ECDSA side by side) and choose
 * per client: a check is up to ACTIVE_PROBES_MAX connections, one per key
 * family (ECDSA, RSA, Ed25519) in TLS 1.3 and in TLS 1.2, each offering
 * only that family, and reports each distinct leaf once. One worker
 * thread, a bounded queue, a per-minute rate limit (of checks), a TTL
 * cache and a short timeout per connection: never on the capture thread,
 * never a hang.
 */
#ifndef TW_ACTIVE_CHECK_H
#define TW_ACTIVE_CHECK_H

#include <stdbool.h>
#include <stdint.h>

#include "common/endpoint.h"
#include "tls/hs_record.h"

/* Connections one check makes at most (active_check.c lists them). */
#define ACTIVE_PROBES_MAX 6

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

/* Hands each finished check to @fn on the caller's thread: one record per
 * distinct leaf served (chain and staple, @error NULL; its key offers say
 * what the probe offered), or, when no probe got a certificate, one
 * record naming the target with the first probe's failure in @error. */
void active_drain(struct active_checker *a,
		  void (*fn)(void *ctx, struct hs_record *rec, const char *error),
		  void *ctx);

/* True if @client is the local end of one of our own check connections
 * (so passive capture does not count them as client traffic). */
bool active_is_own(struct active_checker *a, const struct tw_endpoint *client);

const struct active_stats *active_stats(const struct active_checker *a);

#endif
