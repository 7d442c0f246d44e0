// SPDX-License-Identifier: MIT
/*
 * schema_samples: the code's side of docs/events.schema.json, for
 * tests/e2e/json_schema.sh. Not a unit test (its name does not start with
 * test_); built with `make build/tests/schema_samples`.
 *
 *   schema_samples --lists   one JSON object: the names the code can put in
 *                            an event, per list (finding kinds, outcomes,
 *                            ...), named like the schema's $defs
 *   schema_samples           events of every type through event_json_write,
 *                            together using every name of those lists
 *
 * The test compares the lists with the schema's enums (both ways) and
 * validates the events, so a name added on one side only fails it.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "detect/spike.h"
#include "event/counters.h"
#include "event/event_json.h"
#include "cert/revocation.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define SHA_A "c3e71b9a9128e1474b1e580b48936698c6ea8650adadd0a41e9b3df3ef7c6f3b"
#define SHA_B "98fba99e3a6080f1be589950e3f8c7a268ed046d27671c82e7ba73427616c975"
#define T0_US 1795430400123456ULL   /* 2026-11-23T10:40:00.123456Z */

/* --- --lists */

typedef const char *(*name_fn)(int i);

static const char *finding_i(int i) { return finding_kind_name((enum finding_kind)i); }
static const char *warning_i(int i)
{
	return finding_kind_severity((enum finding_kind)i) == SEV_WARNING ?
	       finding_kind_name((enum finding_kind)i) : NULL;
}
static const char *severity_i(int i) { return finding_severity_name((enum finding_severity)i); }
static const char *outcome_i(int i) { return hs_outcome_name((enum hs_outcome)i); }
static const char *version_i(int i) { return hs_version_name((uint16_t)(0x0300 + i)); }
static const char *level_i(int i) { return hs_alert_level_name((uint8_t)i); }
static const char *ocsp_i(int i) { return ocsp_status_name((enum ocsp_cert_status)i); }
static const char *method_i(int i) { return revocation_method_name((enum revo_method)i); }
static const char *spike_state_i(int i) { return spike_state_name((enum spike_state)i); }
static const char *scope_i(int i) { return spike_kind_key((enum spike_kind)i); }
static const char *problem_i(int i) { return summary_problem_names[i]; }
/* the packet-level reasons, which the agent's summary leaves out */
static const char *capture_problem_i(int i)
{
	return summary_problem_capture_only[i] ? summary_problem_names[i] : NULL;
}
static const char *counter_i(int i) { return counter_defs[i].name; }
static const char *event_i(int i) { return event_type_name((enum event_type)i); }
static const char *chain_error_i(int i) { return hs_chain_error_name((enum hs_chain_error)i); }
static const char *group_slot_i(int i) { return hs_group_slot_name(i); }
static const char *alpn_slot_i(int i) { return hs_alpn_slot_name(i); }
static const char *tunnel_i(int i) { return tw_tunnel_type_name((unsigned)i); }
static const char *starttls_i(int i) { return hs_starttls_name((uint8_t)i); }

static const struct {
	const char *def;    /* the schema's $defs name */
	name_fn name;       /* NULL past the list, or for a gap */
	int n;
} lists[] = {
	{ "finding_kind", finding_i, FINDING__COUNT },
	{ "warning_finding_kind", warning_i, FINDING__COUNT },
	{ "finding_severity", severity_i, SEV_INFO + 1 },
	{ "outcome", outcome_i, HS_OUTCOME__COUNT },
	{ "version", version_i, SUMMARY_VERSIONS },
	{ "alert_level", level_i, 256 },
	{ "ocsp_status", ocsp_i, OCSP_ST_UNKNOWN + 1 },
	{ "revocation_method", method_i, REVO_STAPLE + 1 },
	{ "spike_state", spike_state_i, SPIKE_RESOLVED + 1 },
	{ "spike_scope", scope_i, SPIKE_KIND_COUNT },
	{ "summary_problem", problem_i, SUM_PROBLEM__COUNT },
	{ "agent_summary_omits", capture_problem_i, SUM_PROBLEM__COUNT },
	{ "agent_counter", counter_i, COUNTER__COUNT },
	{ "event", event_i, EVENT__COUNT },
	{ "chain_error", chain_error_i, HS_CHAIN_TRUNCATED + 1 },
	{ "group_slot", group_slot_i, HS_GROUP_SLOTS },
	{ "alpn_slot", alpn_slot_i, HS_ALPN_SLOTS },
	{ "tunnel_type", tunnel_i, TW_TUN__COUNT },
	{ "starttls", starttls_i, HS_STARTTLS__COUNT },
};

static int print_lists(struct json_writer *j)
{
	size_t l;
	int i;

	jw_object_begin(j);
	for (l = 0; l < N(lists); l++) {
		jw_key(j, lists[l].def);
		jw_array_begin(j);
		for (i = 0; i < lists[l].n; i++)
			if (lists[l].name(i))
				jw_string(j, lists[l].name(i));
		jw_array_end(j);
	}
	jw_object_end(j);
	return jw_write_line(j, stdout);
}

/* --- sample events */

static int emit(struct json_writer *j, const struct event *ev)
{
	int rc = event_json_write(j, ev);

	if (rc) {
		fprintf(stderr, "schema_samples: event_json_write: %s\n", strerror(-rc));
		return rc;
	}
	return jw_write_line(j, stdout);
}

static void all_findings(struct finding_list *l)
{
	int k;

	memset(l, 0, sizeof(*l));
	for (k = 0; k < FINDING__COUNT; k++)
		finding_add(l, (enum finding_kind)k, "sample detail of %s",
			    finding_kind_name((enum finding_kind)k));
}

static struct cert_info sample_leaf = {
	.sha256_hex = SHA_A, .spki_sha256_hex = SHA_B,
	.subject = "CN=a.example", .issuer = "CN=Sample CA", .serial_hex = "1f",
	.not_before = 1735689600, .not_after = 2366841600,
	.n_san = 1, .san = { "a.example" }, .key = "RSA-2048",
};

/* A leaf as some old CAs made them: a negative serial (RFC 5280 forbids
 * it), notBefore in year 1 (written 0001). */
static struct cert_info odd_leaf = {
	.sha256_hex = SHA_B, .spki_sha256_hex = SHA_A,
	.subject = "CN=b.example", .issuer = "CN=Sample CA", .serial_hex = "-1234",
	.not_before = -62135596800, .not_after = 2366841600,
	.n_san = 1, .san = { "b.example" }, .key = "RSA-2048",
};

/* Handshake @o's tunnel: none, then each kind of id and direction. */
static void sample_tunnel(struct tw_tunnel *t, int o)
{
	static const struct tw_tunnel samples[] = {
		{ 0 },
		{ .type = TW_TUN_VXLAN, .depth = 1, .has_id = true, .id = 4242,
		  .dirs = TW_TUNNEL_TO_SERVER | TW_TUNNEL_TO_CLIENT,
		  .src = { 4, { 198, 51, 100, 1 } }, .dst = { 4, { 198, 51, 100, 2 } } },
		{ .type = TW_TUN_GRE, .depth = 2, .has_id = true, .id = 42,
		  .dirs = TW_TUNNEL_TO_SERVER,
		  .src = { 4, { 198, 51, 100, 1 } }, .dst = { 4, { 198, 51, 100, 2 } } },
		{ .type = TW_TUN_IP6IP6, .depth = 1, .dirs = TW_TUNNEL_TO_CLIENT,
		  .src = { 6, { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 } },
		  .dst = { 6, { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 } } },
	};

	*t = samples[o % (int)(sizeof(samples) / sizeof(samples[0]))];
}

/* One handshake per outcome; the TLS versions and alert levels go round. */
static int emit_handshakes(struct json_writer *j, const struct finding_list *fl)
{
	static struct hs_record rec;
	static struct hs_view v;
	struct event ev = { .type = EVENT_HANDSHAKE, .ts_us = T0_US,
			    .source = "eth0", .handshake = &v };
	int o, rc;

	for (o = 0; o < HS_OUTCOME__COUNT; o++) {
		hs_record_init(&rec);
		rec.client.addr = (struct tw_addr){ 6, { 0x20, 0x01, 0x0d, 0xb8, [15] = 7 } };
		rec.server.addr = (struct tw_addr){ 4, { 192, 0, 2, 1 } };
		rec.client.port = (uint16_t)(40000 + o);
		rec.server.port = 443;
		rec.has_sni = true;
		rec.sni_len = (uint16_t)strlen(strcpy(rec.sni, "a.example"));
		rec.has_client_hello = rec.has_server_hello = true;
		rec.version = (uint16_t)(0x0301 + o);
		rec.cipher = 0x1301;
		strcpy(rec.ja4, "t13d1516h2_8daaf6152771_e5627efa2ab1");
		strcpy(rec.ja3, "0123456789abcdef0123456789abcdef");
		if (o == HS_INCOMPLETE)   /* MD5 refused (a FIPS-only OpenSSL) */
			rec.ja3[0] = '\0';
		rec.outcome = (enum hs_outcome)o;
		rec.starttls = (uint8_t)o;   /* none first, then protocols */
		rec.sslv2_hello = o == HS_ABORTED;
		/* lists cut at their caps, said on one of them */
		rec.alpn_truncated = rec.alerts_truncated = rec.chain_truncated =
			o == HS_FAILED;
		rec.cert_visible = o != HS_OK;
		rec.n_alerts = 3;
		rec.alerts[0] = (struct hs_alert){ .from_client = true,
			.level = HS_ALERT_WARNING, .description = 0 };
		rec.alerts[1] = (struct hs_alert){ .level = HS_ALERT_FATAL, .description = 250 };
		rec.alerts[2] = (struct hs_alert){ .encrypted = true, .level = HS_ALERT_UNKNOWN,
			.description = 255 };
		rec.parse_error = o == HS_INCOMPLETE ? "sample parse error" : NULL;
		/* server choices: a PQ hybrid, an unassigned group, with and
		 * without ALPN, resumed or not; every chain error */
		rec.has_group = o != HS_ABORTED;
		rec.group = o == HS_OK ? 0x11ec : o == HS_FAILED ? 0x001d : 0xabcd;
		rec.has_alpn_selected = o == HS_OK;
		rec.alpn_selected.len = (uint8_t)strlen(strcpy(rec.alpn_selected.bytes, "h2"));
		rec.resumed = o == HS_ABORTED;
		rec.chain_error = (enum hs_chain_error)(o % (HS_CHAIN_TRUNCATED + 1));
		rec.chain_bytes = rec.chain_error ? 348160 : 0;
		sample_tunnel(&rec.tunnel, o);
		v = (struct hs_view){ .rec = &rec, .n_chain = 2,
				      .chain = { &sample_leaf, NULL },
				      .has_staple = true, .findings = *fl };
		v.staple = (struct staple_info){ .parsed = o != HS_FAILED, .matches_leaf = true,
			.status = (enum ocsp_cert_status)(o % 3), .verified = true,
			.this_update = 1795400000, .next_update = 1795500000,
			.produced_at = 1795400000, .revoked_at = o == 1 ? 1795300000 : 0 };
		rc = emit(j, &ev);
		if (rc)
			return rc;
	}
	/* the last one again with every other STARTTLS protocol name */
	for (o = HS_OUTCOME__COUNT; o < HS_STARTTLS__COUNT; o++) {
		rec.starttls = (uint8_t)o;
		rc = emit(j, &ev);
		if (rc)
			return rc;
	}
	return 0;
}

static int emit_certs(struct json_writer *j, const struct finding_list *fl)
{
	static const char *const observed[] = { "passive", "active" };
	const struct cert_info *chain[] = { &sample_leaf, &sample_leaf, NULL };
	struct tw_endpoint server = { { 4, { 192, 0, 2, 1 } }, 443 };
	struct revocation_view rv = { .status = "revoked", .revoked_at = 1795300000,
				      .reason = "keyCompromise", .checked_at = 1795400000,
				      .stale_since = 1795450000 };
	struct cert_view v = { .server = &server, .sni = "a.example", .sni_len = 9,
			       .n_chain = 3, .chain = chain, .verify = "ok",
			       .revocation = &rv, .findings = fl };
	struct event ev = { .type = EVENT_CERT, .ts_us = T0_US, .source = "a.pcap",
			    .cert = &v };
	int m, rc;

	for (m = REVO_CRL; m <= REVO_STAPLE; m++) {
		rv.method = revocation_method_name((enum revo_method)m);
		v.observed = observed[m % 2];
		rc = emit(j, &ev);
		if (rc)
			return rc;
	}
	chain[0] = &odd_leaf;
	return emit(j, &ev);
}

/* One per scope kind, firing then resolved. */
static int emit_spikes(struct json_writer *j)
{
	static const char *const keys[SPIKE_KIND_COUNT] = {
		NULL, "a.example", "bad_certificate", SHA_A,
		"t13d1516h2_8daaf6152771_e5627efa2ab1" };
	struct spike_event s = {
		.ts_us = T0_US, .window_s = 60, .handshakes = 50,
		.failures = 30, .aborted = 2, .incomplete = 1, .rate = 0.6,
		.has_baseline = true, .baseline_rate = 0.01, .started_us = T0_US - 60000000,
		.n_alerts = 1, .n_snis = 1, .n_certs = 1, .n_clients = 1, .n_cert_findings = 1,
		.top_alerts = { { "bad_certificate", "client", 30 } },
		.top_snis = { { "a.example", NULL, 30 } },
		.top_certs = { { SHA_A, NULL, 30 } },
		.top_clients = { { "t13d1516h2_8daaf6152771_e5627efa2ab1", NULL, 30 } },
		.cert_findings = { { SHA_A, "revoked,superseded,expiring_soon" } },
	};
	struct event ev = { .type = EVENT_SPIKE, .ts_us = T0_US, .source = "eth0",
			    .spike = &s };
	int k, rc;

	for (k = 0; k < 2 * SPIKE_KIND_COUNT; k++) {
		s.kind = (enum spike_kind)(k / 2);
		s.state = k % 2 ? SPIKE_RESOLVED : SPIKE_FIRING;
		s.key = keys[s.kind];
		rc = emit(j, &ev);
		if (rc)
			return rc;
	}
	return 0;
}

/* Every count non-zero, the same as the agent's, then one without packets
 * (no "ts"). */
static int emit_summaries(struct json_writer *j)
{
	static struct summary sum;
	static const char *const files[] = { "a.pcap" };
	struct event ev = { .type = EVENT_SUMMARY, .ts_us = T0_US, .source = "a.pcap",
			    .summary = &sum };
	int i, rc;

	sum = (struct summary){ .files = files, .n_files = 1, .packets = 40,
		.bytes = 5000, .tcp_segments = 40, .flows = 9, .handshakes = 9,
		.certificates = 3, .leaf_certificates = 2, .encrypted_alerts = 1,
		.spikes = 1, .truncated_file = true };
	for (i = 0; i < HS_OUTCOME__COUNT; i++)
		sum.outcomes[i] = (uint64_t)i + 1;
	for (i = 0; i < SUMMARY_VERSIONS; i++)
		sum.versions[i] = (uint64_t)i + 1;
	for (i = 0; i < FINDING__COUNT; i++)
		sum.findings[i] = (uint64_t)i + 1;
	sum.alerts[42] = 2;    /* bad_certificate */
	sum.alerts[250] = 1;   /* unassigned: its number */
	for (i = 0; i < SUM_PROBLEM__COUNT; i++)
		sum.problems[i] = (uint64_t)i;
	for (i = 0; i < HS_GROUP_SLOTS; i++)
		sum.groups[i] = (uint64_t)i + 1;
	for (i = 0; i < HS_ALPN_SLOTS; i++)
		sum.alpn_selected[i] = (uint64_t)i + 1;
	sum.resumed = 3;
	rc = emit(j, &ev);
	if (rc)
		return rc;
	sum.live = true;     /* the agent's: no capture totals */
	ev.source = "agent";
	rc = emit(j, &ev);
	if (rc)
		return rc;
	sum = (struct summary){ .files = files, .n_files = 1 };
	ev.ts_us = EVENT_TS_NONE;
	ev.source = "a.pcap";
	return emit(j, &ev);
}

static int emit_agents(struct json_writer *j)
{
	static const char *const states[] = { "started", "stats", "stopped", "error" };
	static const char *const ifaces[] = { "eth0", "eth1" };
	static const uint16_t ports[] = { 443, 8443 };
	struct agent_counter counters[COUNTER__COUNT];
	struct agent_name_stat names[] = { { "a.example", 9, 10, 3 }, { NULL, 0, 4, 0 } };
	struct agent_view v = { .ifaces = ifaces, .n_ifaces = 2, .ports = ports,
				.n_ports = 2, .counters = counters,
				.n_counters = COUNTER__COUNT, .names = names, .n_names = 2 };
	struct event ev = { .type = EVENT_AGENT, .ts_us = T0_US, .source = "agent",
			    .agent = &v };
	size_t s;
	int i, rc;

	for (i = 0; i < COUNTER__COUNT; i++)
		counters[i] = (struct agent_counter){ counter_defs[i].name, (uint64_t)i };
	for (s = 0; s < N(states); s++) {
		v.state = states[s];
		v.message = strcmp(states[s], "error") == 0 ? "sample error" : NULL;
		/* started: a glob that matches nothing yet watches none */
		v.n_ifaces = s == 0 ? 0 : (int)N(ifaces);
		rc = emit(j, &ev);
		if (rc)
			return rc;
	}
	return 0;
}

static int print_samples(struct json_writer *j)
{
	struct finding_list fl;

	all_findings(&fl);
	if (emit_handshakes(j, &fl) || emit_certs(j, &fl) || emit_spikes(j) ||
	    emit_summaries(j) || emit_agents(j))
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	struct json_writer j;
	int rc;

	jw_init(&j);
	if (argc == 2 && strcmp(argv[1], "--lists") == 0)
		rc = print_lists(&j);
	else if (argc == 1)
		rc = print_samples(&j);
	else {
		fprintf(stderr, "usage: schema_samples [--lists]\n");
		rc = -EINVAL;
	}
	jw_free(&j);
	return rc ? 1 : 0;
}
