/* SPDX-License-Identifier: MIT */
/*
 * What the pipeline hands to sinks: a judged handshake, a certificate as
 * served for a (name, address, port), and the run's summary. Read-only for
 * sinks; valid only during the call.
 */
#ifndef TW_VIEW_H
#define TW_VIEW_H

#include <stdbool.h>
#include <stdint.h>

#include "cert/cert_info.h"
#include "cert/findings.h"
#include "cert/health.h"
#include "cert/staple.h"
#include "tls/hs_record.h"

struct hs_view {
	const struct hs_record *rec;
	const char *source;
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
};

struct cert_view {
	uint64_t ts_us;
	const char *source;
	const struct tw_endpoint *server;
	const char *sni;               /* NULL without SNI */
	size_t sni_len;
	const char *observed;          /* "passive" or "active" */
	int n_chain;
	const struct cert_info *const *chain; /* leaf first; entries may be NULL */
	const char *verify;            /* NULL when not checked */
	const struct revocation_view *revocation; /* NULL when not checked */
	const struct finding_list *findings;
};

/* Counters of one analysis; the pipeline fills the flow/TLS part, the
 * source fills packets and capture problems. */
struct summary {
	const char *source;
	const char *const *files;
	int n_files;
	uint64_t last_ts_us;
	uint64_t packets, bytes, tcp_segments;
	uint64_t flows, handshakes;
	uint64_t outcomes[4];          /* by enum hs_outcome */
	uint64_t versions[5];          /* SSL3.0, TLS1.0 .. TLS1.3 */
	uint64_t certificates, leaf_certificates;
	uint64_t findings[FINDING__COUNT];
	uint64_t alerts[256];          /* plaintext alerts by description */
	uint64_t encrypted_alerts;
	uint64_t spikes;
	/* problems */
	bool truncated_file;
	uint64_t not_ip, not_tcp, ip_fragments, truncated_headers, bad_headers;
	uint64_t truncated_payload, flows_evicted, gaps, parse_errors;
	uint64_t sslv2_hellos, non_tls_flows;
};

#endif
