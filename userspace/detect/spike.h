/* SPDX-License-Identifier: MIT */
/*
 * Failure accounting and baselined spike detection (the `spike` event of
 * events.md). One detector takes one handshake outcome at a time and calls
 * back with `firing` and `resolved` events. It never allocates after
 * spike_detector_new(): its memory is fixed by the options, whatever the
 * traffic (spike_memory_bound()).
 *
 * What counts
 *   A handshake is a failure when its outcome is `failed` (a fatal alert,
 *   plaintext or an inferred TLS 1.3 encrypted one) or `aborted` (FIN/RST
 *   before the handshake finished). `incomplete` (capture ended, flow timed
 *   out, gap) is neither a success nor a failure: it is counted apart and
 *   left out of every rate. handshakes = ok + failed + aborted.
 *   Alerts are counted on failed handshakes only, by description and by
 *   side; warning-level alerts are ignored; TLS 1.3 encrypted alerts count
 *   under the description "encrypted"; a description without a name
 *   becomes "unknown_<n>". A handshake counts once per description.
 *
 * Scopes
 *   all traffic ({}), each server name ({"sni"}), each alert description
 *   ({"alert"}), each leaf fingerprint ({"sha256"}), each client JA4
 *   ({"ja4"}). A handshake without an SNI, leaf fingerprint (TLS 1.3) or
 *   JA4 is only counted in the scopes it has. The rate of an alert scope is
 *   the handshakes failing with that alert over ALL handshakes (the share
 *   of traffic that dies with unknown_ca), so its `handshakes` is the
 *   all-traffic count.
 *
 * Windows
 *   Time is the handshake's timestamp (packet time offline, wall clock
 *   live); it never goes back: an older timestamp counts in the current
 *   second; one past 2106 counts as 2106 (seconds are kept in 32 bits).
 *   Each scope keeps 1 s buckets; the judged window is the current second
 *   and the window_s - 1 before it. After a gap, the seconds are closed
 *   one by one only while something fires (at most window_s + resolve_s
 *   + 2 of them), then in one step.
 *
 * Baseline
 *   Per scope, exponentially weighted sums (time constant baseline_s) of
 *   handshakes H and failures F, learned from each second as it LEAVES the
 *   window, so a rising spike is judged before it can be learned. The
 *   baseline rate is p = F / H. A second is not learned, and the sums do
 *   not decay, while the scope fires; the seconds that were in the window
 *   when it fired and every second until it resolved are never learned.
 *   The spread is the learned per-handshake variance
 *   sum((f_s - n_s p)^2) / sum(n_s) over seconds s, never below
 *   p'(1 - p') with p' = p clamped to [0.01, 0.5], never above 0.25.
 *   Cold start: a scope whose learned H is below 50 handshakes (new, or
 *   its baseline decayed away after a long silence) has no baseline, and
 *   baseline_rate is omitted from its events. An alert description seen
 *   for the first time starts warm: it was 0 % of all the traffic learned
 *   so far (H = the all-traffic H, F = 0).
 *
 * Firing (judged each time a handshake lands in the scope)
 *   With n handshakes and f failures in the window, rate r = f / n, all of:
 *     f >= min_failures
 *     cold: r >= cold_rate
 *     warm, with R = min(factor * p, (1 + p) / 2) (factor times the normal
 *     rate, capped at halfway to 100 %) and k its multiplier of p
 *     (factor, or 1/2 when capped):
 *       r >= R  and  r >= p + sigma * sqrt(spread * (1 / n + 1 / H))
 *       and  r - R >= sigma * sqrt(r (1 - r) / n + k^2 q (1 - q) / H),
 *       q = max(p, 1 / (H + 1))
 *   that is: the rate is `factor` times the normal one, beyond the learned
 *   spread at this volume, and still so allowing for the sampling noise
 *   of both the window and the baseline (small scopes with young
 *   baselines do not fire by chance).
 *   Nesting: while the all-traffic scope fires, its event explains the
 *   names, leaves, clients and alerts involved, so a narrower scope fires
 *   only if it also stands out from all traffic: r >= min(factor * A,
 *   (1 + A) / 2) with A the all-traffic window rate; alert scopes (a share
 *   of all traffic) do not fire then. A site-wide outage is one event, a
 *   broken certificate inside it still gets its own. Scopes that fired
 *   before all traffic did keep firing until they resolve.
 *
 * Resolving (judged once per second while firing)
 *   The window is clear when 2 f < min_failures or r < (p + T) / 2 with
 *   T = max(R, p + sigma * sqrt(spread * (1 / n + 1 / H))), or cold_rate
 *   (p = 0 when cold). A scope resolves after resolve_s consecutive clear
 *   seconds; the resolved event's ts is the start of that second and its
 *   `started` is the firing time. So each scope fires and resolves once
 *   per episode, and a rate flapping around the threshold stays one
 *   episode. A scope still firing when the input ends stays firing (no
 *   resolved event is made up).
 *
 * Explanation
 *   A ring of the last failure_log failures (time, SNI, leaf, JA4, up to 4
 *   alerts). When a scope fires or resolves, the failures of its window in
 *   that ring are counted by alert (description + side), SNI, leaf and JA4;
 *   each list keeps the top 5 by count desc, then key asc. Keys whose scope
 *   entry was evicted since are left out. When a window holds more
 *   failures than the ring, only the most recent failure_log are counted.
 *   certificate_findings repeats, for each top leaf, the critical findings
 *   last given with it (spike_input.leaf_findings). `aborted` is how many
 *   of those failures were aborted (no alert); `incomplete` is the
 *   window's incomplete handshakes (all traffic's, for an alert scope).
 *
 * Bounded memory
 *   Each keyed kind (SNI, leaf, JA4) has a fixed table of
 *   max_scopes_per_kind entries (alerts: a fixed 257). A new key takes a
 *   free entry, or replaces the entry with the lowest recent activity
 *   (handshake count decaying with a 30 s half-life) among 8 neighbours
 *   from a random place (deterministic seed), never one that is firing;
 *   if all 8 fire the handshake is counted in the kind's "other" bucket
 *   (spike_stats.other_*). The totals of
 *   a replaced entry go to "other" too, so per-kind totals add up. A key
 *   that comes back starts cold. Heavy keys survive any number of one-off
 *   keys.
 *   The detector's memory is spike_memory_bound(opts), allocated at once
 *   and never grown: 8,332,925 bytes (7.95 MiB) with the defaults on
 *   x86-64 (see the function for the formula).
 */
#ifndef TW_SPIKE_H
#define TW_SPIKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tls/hs_record.h"

enum spike_kind {
	SPIKE_SCOPE_ALL = 0,   /* {} */
	SPIKE_SCOPE_SNI,       /* {"sni": ...} */
	SPIKE_SCOPE_ALERT,     /* {"alert": ...} */
	SPIKE_SCOPE_CERT,      /* {"sha256": ...} */
	SPIKE_SCOPE_JA4,       /* {"ja4": ...} */
	SPIKE_KIND_COUNT,
};

/* The JSON key of a scope kind ("sni", "alert", "sha256", "ja4"); NULL for
 * SPIKE_SCOPE_ALL. */
const char *spike_kind_key(enum spike_kind k);

enum spike_state { SPIKE_FIRING, SPIKE_RESOLVED };

const char *spike_state_name(enum spike_state s);   /* "firing" */

/* One handshake. Strings are copied (truncated to 255, 64 and 36 bytes)
 * and need to live only for the call; NULL or "" means unknown. */
struct spike_input {
	uint64_t ts_us;
	const char *sni;
	/* the SNI's bytes, off the wire (0: up to its NUL): one holding a
	 * NUL or a backslash is keyed by its escaped form
	 * (tw_host_name_key): "good.test\0x" is not good.test */
	size_t sni_len;
	const char *ja4;
	const char *leaf_sha256;   /* lowercase hex; NULL when not visible */
	enum hs_outcome outcome;
	int n_alerts;
	const struct hs_alert *alerts;
	/* Critical findings of the leaf, comma-separated ("revoked,superseded"):
	 * "" = none, NULL = not known (keeps what an earlier call said). */
	const char *leaf_findings;
};

/* Zero or 0.0 in any field means its default. */
struct spike_opts {
	uint32_t window_s;            /* 10; 1..300 */
	double factor;                /* 3.0; >= 1 */
	uint32_t min_failures;        /* 20 */
	uint32_t max_scopes_per_kind; /* 4096; 16..1048576 */
	uint32_t resolve_s;           /* window_s; 1..3600 */
	uint32_t baseline_s;          /* 600: EWMA time constant, 10..86400 */
	double cold_rate;             /* 0.5; (0, 1] */
	double sigma;                 /* 4.0 */
	uint32_t failure_log;         /* 65536; 16..16777216 */
};

#define SPIKE_TOP_N 5

struct spike_top {
	const char *key;
	const char *from;   /* top_alerts: "client" or "server"; else NULL */
	uint64_t count;
};

struct spike_cert_findings {
	const char *sha256;
	const char *findings;   /* comma-separated, non-empty */
};

/* Valid only during the callback: the strings point into the detector. */
struct spike_event {
	enum spike_state state;
	enum spike_kind kind;
	const char *key;             /* NULL for SPIKE_SCOPE_ALL */
	uint64_t ts_us;
	uint32_t window_s;
	uint64_t handshakes;
	uint64_t failures;
	uint64_t aborted;            /* of the failures counted in the log */
	uint64_t incomplete;         /* in the window, not in handshakes */
	double rate;
	bool has_baseline;           /* false when cold: baseline_rate omitted */
	double baseline_rate;
	uint64_t started_us;
	int n_alerts, n_snis, n_certs, n_clients, n_cert_findings;
	struct spike_top top_alerts[SPIKE_TOP_N];
	struct spike_top top_snis[SPIKE_TOP_N];
	struct spike_top top_certs[SPIKE_TOP_N];
	struct spike_top top_clients[SPIKE_TOP_N];
	struct spike_cert_findings cert_findings[SPIKE_TOP_N];
};

typedef void (*spike_emit_fn)(void *ctx, const struct spike_event *ev);

struct spike_stats {
	uint64_t records;            /* spike_detector_add() calls */
	uint64_t handshakes, failures, aborted, incomplete;
	uint64_t spikes_fired, spikes_resolved;
	uint32_t firing;             /* scopes firing now */
	uint32_t scopes[SPIKE_KIND_COUNT];     /* tracked now */
	uint64_t evictions[SPIKE_KIND_COUNT];
	/* "other": handshakes of keys not tracked (replaced, or no room) */
	uint64_t other_handshakes[SPIKE_KIND_COUNT];
	uint64_t other_failures[SPIKE_KIND_COUNT];
	size_t memory_bytes;         /* allocated by the detector, fixed */
};

/* Totals of one tracked scope since it was (last) admitted. */
struct spike_scope_info {
	enum spike_kind kind;
	const char *key;             /* NULL for SPIKE_SCOPE_ALL */
	uint64_t handshakes, failures, aborted, incomplete;
	bool firing;
	bool has_baseline;
	double baseline_rate;
	const char *leaf_findings;   /* SPIKE_SCOPE_CERT: last given, or NULL */
};

struct spike_detector;

/* Bytes the detector allocates with @o (NULL = defaults); 0 if @o is out
 * of range. With C = max_scopes_per_kind, W = window_s, L = failure_log,
 * E = sizeof(struct spike_entry) + 8 (144 on x86-64), P = the power of two
 * >= 2 C (at least 16):
 *     3 * (C * (E + 12 W + 8) + 8 P)   SNI, leaf, JA4: entries, 1 s buckets,
 *                                      explanation scratch, hash index
 *   + C * (256 + 65 + 37 + 128)        their keys; leaf findings
 *   + 258 * (E + 12 W + 12) + 257 * 24 + 1   alerts (257) and all traffic
 *   + 40 L                             failure log
 *   + 8 * (3 C + 258) + 3084           firing list, alert scratch
 *   + sizeof(struct spike_detector)    (1056 bytes)
 * Defaults (C 4096, W 10, L 65536): 8,332,925 bytes. Each window second
 * more costs 36 C + 3096 bytes; each unit of C about 1.35 KiB (1374 bytes
 * at W = 10, for the three kinds together). */
size_t spike_memory_bound(const struct spike_opts *o);

/* NULL with errno set: EINVAL (option out of range), ENOMEM. @o may be
 * NULL (defaults); @emit may be NULL (count only). */
struct spike_detector *spike_detector_new(const struct spike_opts *o,
					  spike_emit_fn emit, void *ctx);
void spike_detector_free(struct spike_detector *d);

/* One handshake, when its outcome is decided. May emit events. */
void spike_detector_add(struct spike_detector *d, const struct spike_input *in);
/* Time passes without handshakes (packet time offline, wall clock live):
 * closes the seconds up to @now_us, which may resolve spikes. */
void spike_detector_advance(struct spike_detector *d, uint64_t now_us);
/* End of input: closes the seconds up to @now_us. Scopes still firing stay
 * firing; nothing is resolved artificially. */
void spike_detector_finish(struct spike_detector *d, uint64_t now_us);

void spike_detector_stats(const struct spike_detector *d, struct spike_stats *out);
/* Calls @cb for every tracked scope of @kind (unspecified order). */
void spike_detector_foreach(const struct spike_detector *d, enum spike_kind kind,
			    void (*cb)(void *ctx, const struct spike_scope_info *s),
			    void *ctx);
/* One scope by key (@key ignored for SPIKE_SCOPE_ALL); false if untracked. */
bool spike_detector_scope(const struct spike_detector *d, enum spike_kind kind,
			  const char *key, struct spike_scope_info *out);

#endif
