/* SPDX-License-Identifier: MIT */
/*
 * Internals of the spike detector, shared by its files:
 *   spike.c          the detector: accounting, clock, firing, resolving
 *   spike_table.c    bounded scope tables (hash index, replacement)
 *   spike_window.c   per-scope 1 s buckets and the learned baseline
 *   spike_explain.c  the failure log and the top-N explanation
 */
#ifndef TW_SPIKE_INTERNAL_H
#define TW_SPIKE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "spike.h"

#define SPIKE_USEC            1000000ULL
#define SPIKE_SNI_MAX         255
#define SPIKE_CERT_MAX        64
#define SPIKE_JA4_MAX         36
#define SPIKE_FINDINGS_MAX    127
#define SPIKE_ALERT_CODES     257      /* 0..255, 256 = "encrypted" */
#define SPIKE_ALERT_ENCRYPTED 256
#define SPIKE_ALERT_NAME_MAX  23
#define SPIKE_LOG_ALERTS      4
#define SPIKE_WARM_HANDSHAKES 50.0     /* learned H below this: cold */
#define SPIKE_EVICT_SAMPLES   8
#define SPIKE_NEVER           UINT64_MAX
#define SPIKE_MAX_US          ((uint64_t)UINT32_MAX * SPIKE_USEC)  /* 2106 */

struct spike_bucket {
	uint32_t handshakes;
	uint32_t failures;
	uint32_t incomplete;
};

struct spike_entry {
	uint64_t hash;
	uint64_t sec;             /* second of the newest bucket */
	uint64_t started_us;      /* firing since */
	uint64_t taint_from;      /* seconds in [from, to] are never learned */
	uint64_t taint_to;
	double F, H;              /* learned failures, handshakes (decayed) */
	double Dn, Dd;            /* learned dispersion: sum dev^2, sum n */
	uint64_t tot_hs, tot_fail, tot_aborted, tot_inc;
	uint32_t win_hs, win_fail, win_inc;   /* sums over the window */
	uint32_t idx;             /* position in its table */
	uint32_t gen;             /* bumped when the entry is replaced */
	uint32_t clear_run;       /* consecutive clear seconds while firing */
	uint16_t key_len;
	uint8_t kind;             /* enum spike_kind */
	bool used;
	bool firing;
	bool has_findings;        /* SPIKE_SCOPE_CERT: leaf_findings given */
};

/* Recent activity of an entry, for replacement: a handshake count that
 * halves every 30 s. Kept apart from the entries so that sampling
 * neighbours reads one or two cache lines. */
struct spike_rank {
	float score;
	uint32_t sec;
};

struct spike_table {
	enum spike_kind kind;
	uint32_t cap;
	uint32_t used;
	uint32_t key_max;         /* bytes, without the NUL */
	struct spike_entry *e;
	struct spike_bucket *b;   /* cap * window_s */
	struct spike_rank *rank;
	char *keys;               /* cap * (key_max + 1) */
	char *findings;           /* SPIKE_SCOPE_CERT: cap * (FINDINGS_MAX + 1) */
	uint64_t *index;          /* hash tag | entry + 1, 0 empty; NULL = direct */
	uint32_t index_mask;
	uint32_t *order;          /* direct tables: codes in admission order */
	uint32_t *ex_count;       /* explanation scratch, per entry */
	uint32_t *ex_touched;
	uint64_t evictions;
	uint64_t other_hs, other_fail, other_aborted, other_inc;
};

/* One failure, for the explanation. ref = entry index + 1, 0 = none. */
struct spike_fail_rec {
	uint32_t sec;
	uint32_t ref[3];          /* SNI, leaf, JA4 */
	uint32_t gen[3];
	uint16_t alerts[SPIKE_LOG_ALERTS];  /* code | SPIKE_FROM_CLIENT; 0xffff none */
	uint8_t aborted;
};

#define SPIKE_FROM_CLIENT 0x8000
#define SPIKE_NO_ALERT    0xffff

struct spike_detector {
	struct spike_opts o;
	spike_emit_fn emit;
	void *ctx;
	bool started;
	uint64_t sec;             /* current second */
	uint64_t now_us;
	double beta;              /* per-second decay of the baseline sums */
	uint64_t rng;
	struct spike_table t[SPIKE_KIND_COUNT];
	struct spike_entry **firing;
	uint32_t n_firing;
	uint32_t firing_cap;
	struct spike_fail_rec *log;
	uint32_t log_head;        /* next slot to write */
	uint32_t log_len;
	uint32_t *ex_alerts;      /* explanation scratch: SPIKE_ALERT_CODES * 2 */
	uint16_t *ex_alert_touched;
	size_t mem;
	struct spike_stats st;
};

/* spike_table.c */
int spike_table_init(struct spike_detector *d, struct spike_table *t,
		     enum spike_kind kind, uint32_t cap, uint32_t key_max,
		     bool hashed);
void spike_table_free(struct spike_table *t);
size_t spike_table_bytes(uint32_t cap, uint32_t key_max, bool hashed,
			 bool findings, uint32_t window_s);
uint64_t spike_hash(const char *s, size_t len);
/* The entry for @key, admitting it (maybe replacing another); NULL when
 * the table is full of firing entries ("other"). */
struct spike_entry *spike_table_get(struct spike_detector *d,
				    struct spike_table *t, const char *key,
				    size_t len);
struct spike_entry *spike_table_find(const struct spike_table *t,
				     const char *key, size_t len);
/* The entry of alert @code, admitting it. */
struct spike_entry *spike_table_direct(struct spike_detector *d,
				       struct spike_table *t, uint32_t code);
const char *spike_table_key(const struct spike_table *t, const struct spike_entry *e);
/* Resets @e for a new key at the detector's current second. */
void spike_entry_reset(struct spike_detector *d, struct spike_entry *e);
/* One more handshake for @e's replacement rank. */
void spike_table_touch(struct spike_table *t, const struct spike_entry *e, uint64_t sec);

/* spike_window.c */
struct spike_bucket *spike_entry_buckets(const struct spike_detector *d,
					 const struct spike_entry *e);
/* Closes the entry's seconds up to @sec, learning those that leave. */
void spike_entry_roll(struct spike_detector *d, struct spike_entry *e, uint64_t sec);
/* Handshakes in the judged window: the all-traffic count for alerts. */
uint32_t spike_entry_window_hs(const struct spike_detector *d,
			       const struct spike_entry *e);
uint32_t spike_entry_window_inc(const struct spike_detector *d,
				const struct spike_entry *e);
bool spike_entry_warm(const struct spike_entry *e);
double spike_entry_baseline(const struct spike_entry *e);
/* The firing threshold for a window of @n handshakes (> 1 when n == 0);
 * @p gets the baseline rate (0 when cold). */
double spike_threshold(const struct spike_detector *d,
		       const struct spike_entry *e, uint32_t n, double *p);
double spike_ratio_level(const struct spike_detector *d, double p, double *k);
/* Firing also needs this: see spike.h. */
bool spike_ratio_confident(const struct spike_detector *d,
			   const struct spike_entry *e, uint32_t n, uint32_t f);

/* spike_explain.c */
void spike_log_failure(struct spike_detector *d, const struct spike_fail_rec *r);
/* Fills the counts' explanation of @ev for @e's window ending at @sec. */
void spike_explain(struct spike_detector *d, const struct spike_entry *e,
		   uint64_t sec, struct spike_event *ev);

#endif
