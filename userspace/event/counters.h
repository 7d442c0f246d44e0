/* SPDX-License-Identifier: MIT */
/*
 * The agent's flat counters, each defined once: its name in the JSON
 * "counters" object of `agent` events, its Prometheus family and label, its
 * type and help text. The stats event and /metrics are both generated from
 * this table; per-label families with values from the wire (handshakes by
 * outcome and version, certificates served) are kept by the metrics sink.
 *
 *   X(ID, json_name, kind, metric_family, label_name, label_value, help)
 *
 * kind: COUNTER_CTR (monotonic), COUNTER_GAUGE (a level), COUNTER_STAT
 * (JSON only: /metrics has a labelled family that says the same).
 * label_name, label_value: NULL, or the one label that tells the family's
 * series apart.
 */
#ifndef TW_COUNTERS_H
#define TW_COUNTERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tlswatch/event.h"

enum counter_kind { COUNTER_CTR, COUNTER_GAUGE, COUNTER_STAT };

#define COUNTER_FROM_KERNEL(id, name, help) \
	X(BPF_##id, name, COUNTER_CTR, "tlswatch_" #name "_total", NULL, NULL, help)

#define COUNTER_FROM_UPROBES(id, name, help) \
	X(UP_##id, name, COUNTER_CTR, "tlswatch_" #name "_total", NULL, NULL, help)

#define AGENT_COUNTERS(X)                                                      \
	TW_KERNEL_COUNTERS(COUNTER_FROM_KERNEL)                                \
	TW_UPROBE_COUNTERS(COUNTER_FROM_UPROBES)                               \
	X(UP_CHAINS_JOINED, uprobe_chains_joined, COUNTER_CTR, "tlswatch_uprobe_chains_joined_total", NULL, NULL, "Served chains joined to their connection") \
	X(UP_CHAINS_LOST, uprobe_chains_lost, COUNTER_CTR, "tlswatch_uprobe_chains_lost_total", NULL, NULL, "Served chains not reported: a certificate too big to copy, or a record lost") \
	X(UP_CHAINS_UNBOUND, uprobe_chains_unbound, COUNTER_CTR, "tlswatch_uprobe_chains_unbound_total", NULL, NULL, "Served chains no packet on a watched flow named the connection of") \
	X(UP_VIEWS_UNMATCHED, uprobe_views_unmatched, COUNTER_CTR, "tlswatch_uprobe_views_unmatched_total", NULL, NULL, "Server views of a connection the pipeline was not following") \
	X(HANDSHAKES, handshakes, COUNTER_STAT, NULL, NULL, NULL, "Handshakes reported") \
	X(HANDSHAKES_OK, handshakes_ok, COUNTER_STAT, NULL, NULL, NULL, "Handshakes that finished") \
	X(HANDSHAKES_FAILED, handshakes_failed, COUNTER_STAT, NULL, NULL, NULL, "Handshakes ended by a fatal alert") \
	X(HANDSHAKES_ABORTED, handshakes_aborted, COUNTER_STAT, NULL, NULL, NULL, "Handshakes ended by FIN or RST") \
	X(HANDSHAKES_INCOMPLETE, handshakes_incomplete, COUNTER_STAT, NULL, NULL, NULL, "Handshakes cut by a gap or a timeout") \
	X(CERTIFICATES, certificates, COUNTER_GAUGE, "tlswatch_certificates_seen", NULL, NULL, "Distinct certificates seen since start") \
	X(GAPS, gaps, COUNTER_CTR, "tlswatch_gaps_total", NULL, NULL, "Connection directions with missing bytes") \
	X(FLOWS_EVICTED, flows_evicted, COUNTER_CTR, "tlswatch_flows_evicted_total", NULL, NULL, "Flows evicted by the memory or flow bounds") \
	X(HANDSHAKE_BYTES, handshake_memory_bytes, COUNTER_GAUGE, "tlswatch_handshake_memory_bytes", NULL, NULL, "Memory held by handshakes still undecided (bounded by --handshake-memory)") \
	X(FLOWS_REOPENED, flows_reopened, COUNTER_CTR, "tlswatch_flows_reopened_total", NULL, NULL, "Decided flows ended by a new connection on the same addresses and ports") \
	X(FLOWS_CLOSED_GAPPED, flows_closed_gapped, COUNTER_CTR, "tlswatch_flows_closed_gapped_total", NULL, NULL, "Flows closed by both sides (FINs) with bytes before a FIN never seen: ended 2 s after the second FIN (their missing bytes also counted in gaps)") \
	X(FLOWS_LOST, flows_lost, COUNTER_CTR, "tlswatch_flows_lost_total", NULL, NULL, "Undecided handshakes the kernel side stopped following (its flow map evicted them, or a new connection took their addresses and ports), reported incomplete") \
	X(FLOWS_REFOUND, flows_refound, COUNTER_CTR, "tlswatch_flows_refound_total", NULL, NULL, "Undecided handshakes the kernel side forgot and found again with no byte lost (each also counted in flows_tracked once more)") \
	X(SEGMENTS_LATE, segments_late, COUNTER_CTR, "tlswatch_segments_late_total", NULL, NULL, "Records of no connection the agent knows, without the kernel's first-record mark: late ones of a connection that ended, dropped (not a loss)") \
	X(CHAINS_TOO_LARGE, chains_too_large, COUNTER_CTR, "tlswatch_chains_unread_total", "reason", "too_large", "Certificate messages not read, by reason") \
	X(CHAINS_TRUNCATED, chains_truncated, COUNTER_CTR, "tlswatch_chains_unread_total", "reason", "truncated", "Certificate messages not read, by reason") \
	X(FLOWS_NOT_TLS, flows_not_tls, COUNTER_CTR, "tlswatch_flows_not_tls_total", NULL, NULL, "Flows dropped as not TLS: no ClientHello within the preamble's bounds (or their first bytes were lost)") \
	X(FLOWS_MIDSTREAM_TLS, flows_midstream_tls, COUNTER_CTR, "tlswatch_flows_midstream_tls_total", NULL, NULL, "Flows of TLS joined after its handshake (records of a connection open before the agent started, or idle past the flow timeout): no handshake, not read") \
	X(INVENTORY_UNANSWERED, inventory_unanswered, COUNTER_CTR, "tlswatch_inventory_refused_total", "reason", "unanswered", "Sightings the inventory did not record") \
	X(INVENTORY_REFUSED, inventory_full, COUNTER_CTR, "tlswatch_inventory_refused_total", "reason", "full", "Sightings the inventory did not record") \
	X(CRL_URLS_FORGOTTEN, crl_urls_forgotten, COUNTER_CTR, "tlswatch_crl_urls_forgotten_total", NULL, NULL, "CRL distribution points forgotten, with their CRLs, when the table of those followed was full (downloaded again when asked for)") \
	X(CERT_UPDATES_LOST, cert_updates_lost, COUNTER_CTR, "tlswatch_cert_updates_lost_total", NULL, NULL, "Cert events whose online answer (--online) is not sent again: let go past 4,096 waiting at once or after 600 s of waiting (changed or not), or forgotten with the 65,536 cert events remembered (the next handshake says it)") \
	X(EVENTS_LOST, events_lost, COUNTER_CTR, "tlswatch_events_lost_total", NULL, NULL, "Events the --json-log file could not take (its disk full): not written") \
	X(RECORDS_BAD, ringbuf_bad_records, COUNTER_CTR, "tlswatch_ringbuf_bad_records_total", NULL, NULL, "Ring buffer records that did not decode") \
	X(ACTIVE_CHECKS, active_checks, COUNTER_CTR, "tlswatch_active_checks_total", "result", "ok", "The agent's own TLS checks of TLS 1.3 endpoints") \
	X(ACTIVE_FAILURES, active_check_failures, COUNTER_CTR, "tlswatch_active_checks_total", "result", "failed", "The agent's own TLS checks of TLS 1.3 endpoints") \
	X(ACTIVE_LIMITED, active_rate_limited, COUNTER_CTR, "tlswatch_active_checks_total", "result", "rate_limited", "The agent's own TLS checks of TLS 1.3 endpoints") \
	X(WEBHOOK_DELIVERED, webhook_delivered, COUNTER_CTR, "tlswatch_webhook_deliveries_total", "result", "delivered", "Webhook requests by result") \
	X(WEBHOOK_RETRIED, webhook_retried, COUNTER_CTR, "tlswatch_webhook_deliveries_total", "result", "retried", "Webhook requests by result") \
	X(WEBHOOK_FAILED, webhook_failed, COUNTER_CTR, "tlswatch_webhook_deliveries_total", "result", "failed", "Webhook requests by result") \
	X(WEBHOOK_DROPPED, webhook_dropped, COUNTER_CTR, "tlswatch_webhook_deliveries_total", "result", "dropped", "Webhook requests by result") \
	X(WEBHOOK_SUPPRESSED, webhook_suppressed, COUNTER_CTR, "tlswatch_webhook_suppressed_total", NULL, NULL, "Alerts not sent again within the cooldown") \
	X(OUTBOX_DEPTH, outbox_depth, COUNTER_GAUGE, "tlswatch_outbox_depth", NULL, NULL, "Webhook requests waiting in the durable outbox") \
	X(ALERTMANAGER_SENT, alertmanager_posts, COUNTER_CTR, "tlswatch_alertmanager_posts_total", "result", "ok", "Alertmanager API requests by result") \
	X(ALERTMANAGER_FAILED, alertmanager_post_failures, COUNTER_CTR, "tlswatch_alertmanager_posts_total", "result", "failed", "Alertmanager API requests by result") \
	X(CONFIG_RELOADS, config_reloads, COUNTER_CTR, "tlswatch_config_reloads_total", "result", "applied", "Configuration reloads (SIGHUP) by result") \
	X(CONFIG_REFUSED, config_reloads_refused, COUNTER_CTR, "tlswatch_config_reloads_total", "result", "refused", "Configuration reloads (SIGHUP) by result") \
	X(CONFIG_LAST_OK, config_last_reload_successful, COUNTER_GAUGE, "tlswatch_config_last_reload_successful", NULL, NULL, "0 when the last reload (SIGHUP) was refused, else 1")

enum counter_id {
#define X(id, name, kind, family, lname, lvalue, help) COUNTER_##id,
	AGENT_COUNTERS(X)
#undef X
	COUNTER__COUNT,
};

struct counter_def {
	const char *name;        /* JSON key */
	enum counter_kind kind;
	const char *family;      /* Prometheus metric name; NULL for COUNTER_STAT */
	const char *label_name;  /* NULL, or the label of this series */
	const char *label_value;
	const char *help;
};

extern const struct counter_def counter_defs[COUNTER__COUNT];

/* A reading of the table: only counters that are @set are reported (the
 * active-check counters only when active checks run, and so on). */
struct counter_values {
	uint64_t v[COUNTER__COUNT];
	bool set[COUNTER__COUNT];
};

static inline void counter_set(struct counter_values *cv, enum counter_id id,
			       uint64_t value)
{
	cv->v[id] = value;
	cv->set[id] = true;
}

#endif
