/* SPDX-License-Identifier: MIT */
/*
 * The HTML incident report: bounded aggregates of the events (html_agg.c),
 * rendered as one self-contained page (html_render.c: inline CSS and SVG,
 * no script, no external resource). The sink (html_report.c) feeds it
 * from `analyze --html`; `tlswatch report --db` feeds it the agent's
 * stored history (history_store.h), or inventory rows when there is none.
 *
 * Memory is fixed whatever the capture size: the aggregate is one
 * allocation of sizeof(struct html_agg) (563,008 bytes, 550 KiB, on
 * x86-64; test_html_report prints it), plus a map of at most
 * HTML_MAX_CLIENTS JA4s (each a key of at most 36 bytes and 16 bytes of
 * counts: under 128 KiB with the map's slack). What does not fit is
 * counted and the page says so:
 *   - timeline: HTML_TIMELINE_BUCKETS columns; when the capture spans more
 *     seconds, the column width doubles (1 s, 2 s, 4 s ...) and
 *     neighbouring columns are merged (a capture older than the first
 *     column, when files are given out of order, moves the columns
 *     right the same way);
 *   - server names: the first HTML_MAX_NAMES names; later ones count under
 *     "other names"; a name is one whatever its case (RFC 4343: A.test,
 *     a.test and A.TEST. are one row, shown as first seen);
 *   - per name, HTML_NAME_MAX_RUNS serving periods (a period is a run of
 *     handshakes served the same leaf from the same server address); then
 *     the last period grows; HTML_NAME_MAX_SERVERS server addresses, the
 *     periods of further ones are marked "other";
 *   - certificates: the first HTML_MAX_CERTS distinct leaves with details;
 *   - spike events: the latest HTML_MAX_SPIKES, whole episodes (a firing
 *     event and its resolution); the earlier episodes are counted;
 *   - clients: the first HTML_MAX_CLIENTS JA4s; the top HTML_TOP_CLIENTS
 *     by failures are shown.
 */
#ifndef TW_HTML_REPORT_H
#define TW_HTML_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "common/host_name.h"
#include "event/event.h"
#include "no_cert.h"

#define HTML_TIMELINE_BUCKETS 600
#define HTML_MAX_NAMES 32
#define HTML_NAME_MAX_RUNS 48
#define HTML_NAME_MAX_SERVERS 4
#define HTML_MAX_CERTS 64
#define HTML_MAX_SPIKES 64
#define HTML_MAX_CLIENTS 1024
#define HTML_TOP_CLIENTS 10
#define HTML_KEY_MAX 256          /* bytes kept of a spike key or top entry */

struct html_bucket {
	uint32_t handshakes;          /* ok + failed + aborted */
	uint32_t failures;            /* failed + aborted */
};

struct html_timeline {
	bool started;
	uint64_t start_s;             /* first column's second */
	uint64_t width_s;             /* seconds per column: 1, 2, 4 ... */
	uint32_t n;                   /* columns in use */
	struct html_bucket b[HTML_TIMELINE_BUCKETS];
};

struct html_finding {
	uint8_t kind;                 /* enum finding_kind */
	char detail[FINDING_DETAIL_MAX];
};

struct html_cert {
	char sha256[65];
	char subject[256], issuer[256];
	char serial[80], key[32];
	int64_t not_before, not_after;
	uint64_t handshakes, failures;
	int n_findings;               /* every kind seen with it, last detail */
	struct html_finding findings[FINDING__COUNT];
};

/* A period during which a name was served one leaf. */
struct html_run {
	int cert;                     /* index in html_agg.certs; -1 untracked */
	int server;                   /* index in html_name.servers; -1 other */
	uint64_t first_us, last_us;
	uint64_t handshakes, failures;
	uint32_t findings;            /* kinds seen in the period (bit per enum
	                               * finding_kind), or HTML_RUN_FINDINGS_UNKNOWN */
};
/* A period whose findings were not recorded (a history before schema 6):
 * the page shows its certificate's. */
#define HTML_RUN_FINDINGS_UNKNOWN 0xffffffffu

struct html_name {
	char sni[HS_MAX_SNI + 1];     /* raw wire bytes, as first seen */
	uint16_t sni_len;             /* 0: no SNI */
	/* what the row is found by: the name as compared
	 * (tw_host_name_fold_key; RFC 4343: A.test is a.test) */
	char key[TW_HOST_NAME_KEY_MAX];
	uint16_t key_len;
	char servers[HTML_NAME_MAX_SERVERS][TW_ENDPOINT_STRLEN];
	int n_servers;
	bool more_servers;            /* beyond HTML_NAME_MAX_SERVERS */
	uint64_t handshakes;
	uint64_t outcomes[HS_OUTCOME__COUNT];
	int n_runs;
	bool runs_merged;             /* HTML_NAME_MAX_RUNS reached */
	struct html_run runs[HTML_NAME_MAX_RUNS];
	struct no_cert_counts no_cert; /* from handshake records, or the history */
};

struct html_top {
	char key[HTML_KEY_MAX];
	char from[8];                 /* alerts: "client" / "server" */
	uint64_t count;
};

struct html_spike {
	uint8_t state;                /* enum spike_state */
	uint8_t kind;                 /* enum spike_kind */
	char key[HTML_KEY_MAX];       /* "" for all traffic */
	uint64_t ts_us, started_us;
	uint32_t window_s;
	uint64_t handshakes, failures, aborted;
	double rate, baseline_rate;
	bool has_baseline;
	struct html_top alert, sni, cert, client;
	char cert_findings[HTML_KEY_MAX];
};

struct html_client {
	uint64_t handshakes, failures;
};

struct html_agg {
	char title[256];              /* source, or the database path */
	bool from_inventory;          /* report --db: no timeline, no alerts */
	bool from_history;            /* report --db with the agent's history */
	bool has_summary;
	struct summary sum;           /* pointers cleared; source in title */
	uint64_t first_us, last_us;   /* handshakes seen */
	uint64_t since_us, until_us;  /* report --since/--until: the page
	                               * says (0, UINT64_MAX, as html_agg_new
	                               * sets them: no window) */
	struct html_timeline tl;
	int n_names;
	uint64_t other_names_handshakes;
	uint64_t other_names_outcomes[HS_OUTCOME__COUNT]; /* of those */
	struct html_name names[HTML_MAX_NAMES];
	int n_certs;
	uint64_t certs_untracked;     /* distinct leaves beyond HTML_MAX_CERTS */
	struct html_cert certs[HTML_MAX_CERTS];
	int n_spikes;
	uint64_t spikes_dropped;      /* earlier episodes left out */
	struct html_spike spikes[HTML_MAX_SPIKES];
	uint64_t alerts[2][256];      /* [from_client][description] */
	uint64_t encrypted_alerts[2];
	struct strmap *clients;       /* JA4 -> struct html_client */
	uint64_t other_clients_handshakes, other_clients_failures;
	uint64_t counts_clamped;      /* history counts beyond HTML_COUNT_MAX
	                               * (a damaged or crafted file), taken
	                               * as that bound: the page says so */
};

/* The largest count of one history row the page takes: 2^40, beyond any
 * day an agent can see, and small enough that the page's sums of the
 * rows never overflow. */
#define HTML_COUNT_MAX (1ull << 40)

struct html_agg *html_agg_new(void);
void html_agg_free(struct html_agg *a);

void html_agg_handshake(struct html_agg *a, const struct hs_view *v);
void html_agg_cert(struct html_agg *a, const struct cert_view *v);
void html_agg_spike(struct html_agg *a, const struct spike_event *ev);
void html_agg_summary(struct html_agg *a, const struct summary *sum);

/* One inventory row (report --db): @findings is "revoked,superseded". */
struct html_served {
	const char *name, *addr;
	uint16_t port;
	const char *sha256, *subject, *issuer, *key;
	int64_t not_before, not_after;
	uint64_t first_seen_us, last_seen_us;
	uint64_t count;
	const char *findings;
};
void html_agg_served(struct html_agg *a, const struct html_served *s);

/* Empties @a for reuse (the history sink's aggregate of one second). */
void html_agg_reset(struct html_agg *a);

/* Handshakes and failures of the client @ja4 (@len bytes). */
void html_agg_client(struct html_agg *a, const char *ja4, size_t len,
		     uint64_t handshakes, uint64_t failures);

/*
 * The stored history (sink/history_store.c) fed back: the same aggregates
 * from rows instead of events. Certificates first (the index returned,
 * -1 when not tracked), then periods in time order, then the rest.
 */
struct html_period {
	const char *name;             /* raw SNI bytes */
	size_t name_len;
	const char *server;           /* "192.0.2.1:443", "[2001:db8::1]:443" */
	int cert;                     /* html_agg_stored_cert()'s index, or -1 */
	uint64_t first_us, last_us;
	uint64_t handshakes, failures;
	uint32_t findings;            /* as html_run's */
};
void html_agg_second(struct html_agg *a, uint64_t s, uint32_t handshakes,
		     uint32_t failures);
int html_agg_stored_cert(struct html_agg *a, const struct html_cert *c);
void html_agg_stored_finding(struct html_agg *a, int cert, int kind,
			     const char *detail);
void html_agg_stored_period(struct html_agg *a, const struct html_period *p);
void html_agg_stored_name(struct html_agg *a, const char *name, size_t len,
			  const char *server,
			  const uint64_t outcomes[HS_OUTCOME__COUNT],
			  const struct no_cert_counts *no_cert);
/* @handshakes of names folded past the bound (those of the outcomes
 * and, before schema 6, ones whose outcomes were not recorded). */
void html_agg_stored_other_names(struct html_agg *a, uint64_t handshakes,
				 const uint64_t outcomes[HS_OUTCOME__COUNT]);
void html_agg_stored_spike(struct html_agg *a, const struct html_spike *s);
/* The inventory's findings (comma-separated kinds, the latest check) of
 * @sha256, when the history has that certificate. */
void html_agg_inventory_findings(struct html_agg *a, const char *sha256,
				 const char *findings);

/* The index of @sha256 in a->certs, -1 when not tracked. */
int html_agg_find_cert(const struct html_agg *a, const char *sha256);

/* Writes the page. 0, or -EIO. */
int html_render(const struct html_agg *a, FILE *out);

#endif
