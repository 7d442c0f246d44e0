/* SPDX-License-Identifier: MIT */
/*
 * The events of events.md as structs: what the pipeline and the agent hand
 * to the output side. One struct event carries one of them; the sink set
 * builds its JSON document once and hands both to every sink. Read-only
 * for sinks; valid only during the call.
 */
#ifndef TW_EVENT_H
#define TW_EVENT_H

#include <stdbool.h>
#include <stdint.h>

#include "cert/cert_info.h"
#include "cert/findings.h"
#include "cert/health.h"
#include "cert/staple.h"
#include "tls/hs_record.h"

struct hs_view {
	const struct hs_record *rec;
	int n_chain;
	const struct cert_info *chain[HS_MAX_CHAIN]; /* NULL: did not parse */
	bool has_staple;
	struct staple_info staple;
	struct finding_list findings;  /* of the leaf and the staple, plus
					* chain and revocation when checked */
	bool has_health;               /* chain/revocation/inventory checked */
	struct cert_health_result health;
};

struct revocation_view {
	const char *method;            /* "crl", "ocsp", "staple" */
	const char *status;            /* "good", "revoked", "unknown" */
	int64_t revoked_at;            /* 0 if none */
	const char *reason;            /* NULL if none */
	int64_t checked_at;            /* 0 if unknown */
	int64_t stale_since;           /* 0 unless the CRL used was past its
	                                * nextUpdate at the handshake */
};

struct cert_view {
	const struct tw_endpoint *server;
	const char *sni;               /* NULL without SNI */
	size_t sni_len;
	const char *observed;          /* "passive", "active" or "server" */
	uint32_t pid;                  /* "server": the serving process, or 0 */
	const char *exe;               /* its executable, or NULL */
	const char *comm;              /* its thread's name, or NULL */
	int n_chain;
	const struct cert_info *const *chain; /* leaf first; entries may be NULL */
	const char *verify;            /* NULL when not checked */
	const struct revocation_view *revocation; /* NULL when not checked */
	const struct finding_list *findings;
};

/*
 * Packets and flows passed over, by reason: the summary's "problems" object
 * (in this order), the text report and the agent's counters read this one
 * list.  X(ENUM_SUFFIX, name, capture, help): capture 1 for what only a
 * capture file's reading counts (frames, packets, inputs); the live agent's
 * kernel side counts those its own way (agent counters), so its summary
 * leaves them out.
 */
#define SUMMARY_PROBLEMS(X)                                                    \
	X(NOT_IP, not_ip, 1, "Frames that are not IPv4 or IPv6")                  \
	X(NOT_TCP, not_tcp, 1, "IP packets that are not TCP")                     \
	X(IP_FRAGMENTS, ip_fragments, 1, "IP fragments skipped")                  \
	X(TRUNCATED_HEADERS, truncated_headers, 1, "Packets whose headers were cut by the snap length") \
	X(BAD_HEADERS, bad_headers, 1, "Packets with impossible headers, or more VLAN tags or IPv6 extension headers than followed") \
	X(TRUNCATED_PAYLOAD, truncated_payload, 1, "Packets whose payload was cut by the snap length") \
	X(TUNNELS_TOO_DEEP, tunnels_too_deep, 1, "Packets with more nested encapsulations than followed") \
	X(FLOWS_EVICTED, flows_evicted, 0, "Flows evicted by the memory or flow bounds") \
	X(GAPS, gaps, 0, "Connection directions with missing bytes")              \
	X(PARSE_ERRORS, parse_errors, 0, "Handshakes that did not parse")         \
	X(SSLV2_HELLOS, sslv2_hellos, 0, "SSLv2-compatible ClientHellos (reported as handshakes)") \
	X(NON_TLS_FLOWS, non_tls_flows, 0, "Flows that did not start with TLS")   \
	X(MIDSTREAM_TLS_FLOWS, midstream_tls_flows, 0, "TLS connections joined after their handshake (idle past the flow timeout, or begun before the capture): not read") \
	X(UNREAD_INPUTS, unread_inputs, 1, "Input files that could not be read, or not to their end") \
	X(CHAINS_TOO_LARGE, chains_too_large, 0, "Certificate messages above the per-message cap (256 KiB), not read") \
	X(CHAINS_TRUNCATED, chains_truncated, 0, "Certificate messages cut before their end (a gap, the copy budget), not read") \
	X(RSTS_IGNORED, rsts_ignored, 1, "RSTs whose sequence number was not plausible for their sender (spoofed): ignored") \
	X(CLOCK_OUTLIERS, clock_outliers, 1, "Packets dated far ahead of the ones after them (a corrupt record): read at the time of the one before") \
	X(FLOWS_REOPENED, flows_reopened, 0, "Flows ended by a new connection on the same addresses and ports (a port reused while the old connection was followed)") \
	X(FLOWS_CLOSED_GAPPED, flows_closed_gapped, 0, "Flows closed by both sides (FINs) with bytes before a FIN never seen: ended 2 s of packet time after the second FIN (their missing bytes also counted in gaps)") \
	X(SEGMENTS_AFTER_CLOSE, segments_after_close, 1, "Segments of a connection already closed (FINs, RST) within 60 s of packet time: late retransmissions, or a capture given twice, dropped")

enum summary_problem {
#define SUMMARY_PROBLEM_ENUM(id, name, capture, help) SUM_##id,
	SUMMARY_PROBLEMS(SUMMARY_PROBLEM_ENUM)
#undef SUMMARY_PROBLEM_ENUM
	SUM_PROBLEM__COUNT,
};

extern const char *const summary_problem_names[SUM_PROBLEM__COUNT];
extern const char *const summary_problem_help[SUM_PROBLEM__COUNT];
extern const bool summary_problem_capture_only[SUM_PROBLEM__COUNT];

#define SUMMARY_VERSIONS 5             /* SSL3.0, TLS1.0 .. TLS1.3 */

/* Counters of one analysis; the pipeline fills the flow/TLS part, the
 * source fills packets and capture problems. */
struct summary {
	const char *source;
	const char *const *files;
	int n_files;
	uint64_t last_ts_us;
	bool has_ts;                   /* a segment was seen: last_ts_us holds */
	uint64_t packets, bytes, tcp_segments;
	uint64_t flows, handshakes;
	uint64_t outcomes[HS_OUTCOME__COUNT];
	uint64_t versions[SUMMARY_VERSIONS];
	uint64_t certificates, leaf_certificates;
	uint64_t findings[FINDING__COUNT];
	uint64_t alerts[256];          /* plaintext alerts by description */
	uint64_t encrypted_alerts;
	/* what servers chose, over the handshakes with a ServerHello (the
	 * ALPN slots add up to them); slots of tls/hs_names.h */
	uint64_t groups[HS_GROUP_SLOTS];
	uint64_t alpn_selected[HS_ALPN_SLOTS];
	uint64_t resumed;
	uint64_t spikes;
	bool truncated_file;
	uint64_t problems[SUM_PROBLEM__COUNT];
	/* the live agent's: no capture files, packets, bytes or segments were
	 * read here (the kernel side's are in the agent's counters), so they
	 * are left out rather than written as zeros */
	bool live;
};

/* --- the live agent's own state (event "agent") */

struct agent_counter {
	const char *name;
	uint64_t value;
};

struct agent_name_stat {
	const char *sni;          /* wire bytes */
	size_t sni_len;
	uint64_t handshakes, failures;
};

struct agent_view {
	const char *state;        /* started, stats, stopped, error,
				   * config_reloaded, config_refused,
				   * interface_added, interface_removed */
	const char *message;      /* what happened, or NULL */
	const char *const *ignored; /* config_reloaded: options that differ
				     * but need a restart */
	int n_ignored;
	const char *const *ifaces;
	int n_ifaces;
	const uint16_t *ports;
	int n_ports;
	const struct agent_counter *counters;
	int n_counters;
	const struct agent_name_stat *names;  /* per name over the run */
	int n_names;
};

/* --- the envelope */

/* The "schema" key of every event: the version of events.md's contract,
 * raised by a breaking change (a key renamed or given another type). */
#define TW_EVENT_SCHEMA 2

struct spike_event;

enum event_type {
	EVENT_HANDSHAKE,
	EVENT_CERT,
	EVENT_SPIKE,
	EVENT_SUMMARY,
	EVENT_AGENT,
	EVENT__COUNT,
};

/* The ts_us of an event without "ts" (a summary of no packet). Not 0: a
 * capture may say its packets were sent at the epoch itself. */
#define EVENT_TS_NONE UINT64_MAX

struct event {
	enum event_type type;
	uint64_t ts_us;                /* the "ts" of the event, or EVENT_TS_NONE */
	const char *source;            /* the "source" of the event */
	union {
		const struct hs_view *handshake;
		const struct cert_view *cert;
		const struct spike_event *spike;
		const struct summary *summary;
		const struct agent_view *agent;
	};
};

/* "handshake", "cert", ...: the "event" key of events.md. */
const char *event_type_name(enum event_type t);
/* Parses an event type name; -1 when unknown. */
int event_type_parse(const char *name);

/* Where events go: the pipeline and the agent call this for each event. */
typedef void (*event_fn)(void *ctx, const struct event *ev);

#endif
