// SPDX-License-Identifier: MIT
/* The JSON document of each event of events.md, built once per event. */
#include <errno.h>
#include <stdlib.h>

#include "agent_json.h"
#include "cert/staple.h"
#include "event_json.h"
#include "spike_json.h"

static void write_endpoint(struct json_writer *j, const char *key,
			   const struct tw_endpoint *ep)
{
	char buf[TW_ADDR_STRLEN];

	jw_key(j, key);
	jw_object_begin(j);
	jw_kv_str(j, "ip", tw_addr_format(&ep->addr, buf));
	jw_kv_uint(j, "port", ep->port);
	jw_object_end(j);
}

void event_json_begin(struct json_writer *j, enum event_type type,
		      uint64_t ts_us, const char *source)
{
	jw_object_begin(j);
	jw_kv_str(j, "event", event_type_name(type));
	jw_kv_uint(j, "schema", TW_EVENT_SCHEMA);
	if (ts_us != EVENT_TS_NONE)
		jw_kv_time_us(j, "ts", ts_us);
	jw_kv_str(j, "source", source);
}

void event_json_finding(struct json_writer *j, enum finding_kind k,
			const char *detail)
{
	jw_object_begin(j);
	jw_kv_str(j, "kind", finding_kind_name(k));
	jw_kv_str(j, "severity", finding_severity_name(finding_kind_severity(k)));
	jw_kv_str(j, "detail", detail);
	jw_object_end(j);
}

/* "findings": [{"kind", "severity"[, "detail"]}, ...]; a handshake's go
 * without details (the cert event of its leaf has them). */
static void write_findings(struct json_writer *j, const struct finding_list *l,
			   bool with_detail)
{
	int i;

	jw_key(j, "findings");
	jw_array_begin(j);
	for (i = 0; i < l->n; i++)
		event_json_finding(j, l->items[i].kind,
				   with_detail ? l->items[i].detail : NULL);
	jw_array_end(j);
}

static void write_alerts(struct json_writer *j, const struct hs_record *rec)
{
	int i;

	jw_key(j, "alerts");
	jw_array_begin(j);
	for (i = 0; i < rec->n_alerts; i++) {
		const struct hs_alert *a = &rec->alerts[i];
		const char *level = a->encrypted ? "unknown" : hs_alert_level_name(a->level);
		const char *desc = a->encrypted ? "unknown" : hs_alert_description_name(a->description);
		char code[16];

		if (!desc) {   /* unassigned codes keep their number */
			snprintf(code, sizeof(code), "%u", a->description);
			desc = code;
		}
		jw_object_begin(j);
		jw_kv_str(j, "from", a->from_client ? "client" : "server");
		jw_kv_str(j, "level", level ? level : "unknown");
		jw_kv_str(j, "description", desc);
		jw_kv_bool(j, "encrypted", a->encrypted);
		if (a->from_server_lib)
			jw_kv_str(j, "observed", "server");
		jw_object_end(j);
	}
	jw_array_end(j);
}

/* "process": the server process the uprobes saw serve the connection. */
static void write_process(struct json_writer *j, uint32_t pid, const char *exe,
			  const char *comm)
{
	if (!pid)
		return;
	jw_key(j, "process");
	jw_object_begin(j);
	jw_kv_uint(j, "pid", pid);
	if (exe && exe[0])
		jw_kv_str(j, "exe", exe);
	if (comm && comm[0])
		jw_kv_str(j, "comm", comm);
	jw_object_end(j);
}

static void write_chain(struct json_writer *j, const struct hs_view *v)
{
	int i;

	jw_key(j, "chain");
	jw_array_begin(j);
	for (i = 0; i < v->n_chain; i++) {
		const struct cert_info *ci = v->chain[i];

		jw_object_begin(j);
		if (!ci) {   /* bytes that do not parse: still fingerprinted */
			jw_kv_str(j, "error", "certificate does not parse");
			jw_object_end(j);
			continue;
		}
		jw_kv_str(j, "sha256", ci->sha256_hex);
		jw_kv_str(j, "subject", ci->subject);
		jw_kv_str(j, "issuer", ci->issuer);
		jw_kv_str(j, "serial", ci->serial_hex);
		jw_kv_time_s(j, "not_before", ci->not_before);
		jw_kv_time_s(j, "not_after", ci->not_after);
		jw_object_end(j);
	}
	jw_array_end(j);
}

static void write_time_if(struct json_writer *j, const char *key, int64_t t)
{
	if (t)
		jw_kv_time_s(j, key, t);
}

static void write_staple(struct json_writer *j, const struct hs_view *v)
{
	const struct staple_info *st = &v->staple;

	jw_key(j, "staple");
	jw_object_begin(j);
	if (!st->parsed || !st->matches_leaf) {
		jw_kv_str(j, "status", "unknown");
		jw_kv_str(j, "error", !st->parsed ? (st->error ? st->error : "malformed") :
			  "the staple answers for another certificate");
		jw_kv_bool(j, "verified", false);
		jw_object_end(j);
		return;
	}
	jw_kv_str(j, "status", ocsp_status_name(st->status));
	write_time_if(j, "this_update", st->this_update);
	write_time_if(j, "next_update", st->next_update);
	write_time_if(j, "produced_at", st->produced_at);
	write_time_if(j, "revoked_at", st->revoked_at);
	jw_kv_bool(j, "verified", st->verified);
	jw_object_end(j);
}

/* "tunnel": {"type", "src", "dst", "vni"|"gre_key", "depth", "direction"} */
static void write_tunnel(struct json_writer *j, const struct tw_tunnel *t)
{
	static const char *const direction[] = {
		[TW_TUNNEL_TO_SERVER] = "to_server",
		[TW_TUNNEL_TO_CLIENT] = "to_client",
		[TW_TUNNEL_TO_SERVER | TW_TUNNEL_TO_CLIENT] = "both",
	};
	char buf[TW_ADDR_STRLEN];

	jw_key(j, "tunnel");
	jw_object_begin(j);
	jw_kv_str(j, "type", tw_tunnel_type_name(t->type));
	jw_kv_str(j, "src", tw_addr_format(&t->src, buf));
	jw_kv_str(j, "dst", tw_addr_format(&t->dst, buf));
	if (t->has_id)
		jw_kv_uint(j, tw_tunnel_id_name(t->type), t->id);
	jw_kv_uint(j, "depth", t->depth);
	if (t->dirs && t->dirs < sizeof(direction) / sizeof(direction[0]))
		jw_kv_str(j, "direction", direction[t->dirs]);
	jw_object_end(j);
}

/* A list cut at its cap says so with "KEY": true; nothing otherwise. */
static void write_flag_if(struct json_writer *j, const char *key, bool set)
{
	if (set)
		jw_kv_bool(j, key, true);
}

static void write_sni(struct json_writer *j, const char *sni, size_t len)
{
	if (!sni)
		return;
	jw_key(j, "sni");
	jw_string_n(j, sni, len);
}

/* What the ServerHello (and key exchange) settled. */
static void write_server_choices(struct json_writer *j, const struct hs_record *rec)
{
	char code[HS_GROUP_LABEL_LEN];

	jw_kv_str(j, "version", hs_version_name(rec->version));
	jw_kv_str(j, "cipher", hs_cipher_name(rec->cipher));
	if (rec->has_group)
		jw_kv_str(j, "group", hs_group_label(rec->group, code));
	if (rec->has_alpn_selected) {
		jw_key(j, "alpn_selected");
		jw_string_n(j, rec->alpn_selected.bytes, rec->alpn_selected.len);
	}
	jw_kv_bool(j, "resumed", rec->resumed);
}

static void write_handshake(struct json_writer *j, const struct event *ev)
{
	const struct hs_view *v = ev->handshake;
	const struct hs_record *rec = v->rec;
	int i;

	event_json_begin(j, EVENT_HANDSHAKE, ev->ts_us, ev->source);
	write_endpoint(j, "client", &rec->client);
	write_endpoint(j, "server", &rec->server);
	if (rec->tunnel.type)
		write_tunnel(j, &rec->tunnel);
	write_sni(j, rec->has_sni ? rec->sni : NULL, rec->sni_len);
	/* how the connection came to TLS: after a plaintext preamble, with
	 * an SSLv2-compatible hello */
	if (rec->starttls)
		jw_kv_str(j, "starttls", hs_starttls_name(rec->starttls));
	write_flag_if(j, "sslv2_hello", rec->sslv2_hello);
	if (rec->has_client_hello) {
		jw_key(j, "alpn");
		jw_array_begin(j);
		for (i = 0; i < rec->n_alpn; i++)
			jw_string_n(j, rec->alpn[i].bytes, rec->alpn[i].len);
		jw_array_end(j);
		write_flag_if(j, "alpn_truncated", rec->alpn_truncated);
	}
	if (rec->has_server_hello)
		write_server_choices(j, rec);
	if (rec->has_client_hello) {
		jw_kv_str(j, "ja4", rec->ja4);
		if (rec->ja3[0])   /* empty: MD5 refused (tls_ja3) */
			jw_kv_str(j, "ja3", rec->ja3);
	}
	jw_kv_str(j, "outcome", hs_outcome_name(rec->outcome));
	write_alerts(j, rec);
	write_flag_if(j, "alerts_truncated", rec->alerts_truncated);
	if (rec->has_server_hello)
		jw_kv_bool(j, "cert_visible", rec->cert_visible);
	if (v->n_chain)
		write_chain(j, v);
	write_flag_if(j, "chain_truncated", v->n_chain && rec->chain_truncated);
	if (rec->chain_error) {
		jw_kv_str(j, "chain_error", hs_chain_error_name(rec->chain_error));
		jw_kv_uint(j, "chain_bytes", rec->chain_bytes);
	}
	if (rec->chain_from_server && v->n_chain)
		jw_kv_str(j, "observed", "server");
	write_process(j, rec->server_pid, rec->server_exe, rec->server_comm);
	if (v->has_staple)
		write_staple(j, v);
	write_findings(j, &v->findings, false);
	if (rec->parse_error)
		jw_kv_str(j, "parse_error", rec->parse_error);
	jw_object_end(j);
}

static void write_revocation(struct json_writer *j, const struct revocation_view *r)
{
	jw_key(j, "revocation");
	jw_object_begin(j);
	jw_kv_str(j, "method", r->method);
	jw_kv_str(j, "status", r->status);
	write_time_if(j, "revoked_at", r->revoked_at);
	jw_kv_str(j, "reason", r->reason);
	write_time_if(j, "checked_at", r->checked_at);
	write_time_if(j, "stale_since", r->stale_since);
	jw_object_end(j);
}

static void write_cert(struct json_writer *j, const struct event *ev)
{
	const struct cert_view *v = ev->cert;
	const struct cert_info *leaf = v->chain[0];
	int i;

	event_json_begin(j, EVENT_CERT, ev->ts_us, ev->source);
	write_endpoint(j, "server", v->server);
	write_sni(j, v->sni, v->sni_len);
	jw_kv_str(j, "observed", v->observed);
	write_process(j, v->pid, v->exe, v->comm);
	jw_kv_str(j, "sha256", leaf->sha256_hex);
	jw_kv_str(j, "spki_sha256", leaf->spki_sha256_hex);
	jw_kv_str(j, "subject", leaf->subject);
	jw_kv_str(j, "issuer", leaf->issuer);
	jw_kv_str(j, "serial", leaf->serial_hex);
	jw_kv_time_s(j, "not_before", leaf->not_before);
	jw_kv_time_s(j, "not_after", leaf->not_after);
	jw_kv_str_array(j, "san", (const char *const *)leaf->san, leaf->n_san);
	jw_kv_str(j, "key", leaf->key);
	jw_key(j, "chain_sha256");
	jw_array_begin(j);
	for (i = 1; i < v->n_chain; i++)
		if (v->chain[i])
			jw_string(j, v->chain[i]->sha256_hex);
	jw_array_end(j);
	jw_kv_str(j, "verify", v->verify);
	if (v->revocation)
		write_revocation(j, v->revocation);
	write_findings(j, v->findings, true);
	jw_object_end(j);
}

/* "key": {"name": count, ...} of the non-zero counters, then @extra_key
 * (when non-NULL and non-zero) for a counter kept outside the array. */
static void write_counts(struct json_writer *j, const char *key,
			 const uint64_t *counts, int n,
			 const char *(*name)(int i),
			 const char *extra_key, uint64_t extra)
{
	char code[16];
	int i;

	jw_key(j, key);
	jw_object_begin(j);
	for (i = 0; i < n; i++) {
		const char *nm;

		if (!counts[i])
			continue;
		nm = name(i);
		if (!nm) {
			snprintf(code, sizeof(code), "%d", i);
			nm = code;
		}
		jw_kv_uint(j, nm, counts[i]);
	}
	if (extra_key && extra)
		jw_kv_uint(j, extra_key, extra);
	jw_object_end(j);
}

static const char *outcome_name_i(int i) { return hs_outcome_name((enum hs_outcome)i); }
static const char *version_name_i(int i) { return hs_version_name((uint16_t)(0x0300 + i)); }
static const char *finding_name_i(int i) { return finding_kind_name((enum finding_kind)i); }
static const char *alert_name_i(int i) { return hs_alert_description_name((uint8_t)i); }
static const char *group_name_i(int i) { return hs_group_slot_name(i); }
static const char *alpn_name_i(int i) { return hs_alpn_slot_name(i); }

/* Every reason, zeros too: the set of keys is fixed. */
static void write_problem_counts(struct json_writer *j, const struct summary *sum)
{
	int i;

	jw_key(j, "problem_counts");
	jw_object_begin(j);
	for (i = 0; i < SUM_PROBLEM__COUNT; i++)
		if (!sum->live || !summary_problem_capture_only[i])
			jw_kv_uint(j, summary_problem_names[i], sum->problems[i]);
	jw_object_end(j);
}

static void write_summary(struct json_writer *j, const struct event *ev)
{
	const struct summary *sum = ev->summary;

	event_json_begin(j, EVENT_SUMMARY, ev->ts_us, ev->source);
	if (!sum->live) {
		jw_kv_str_array(j, "files", sum->files, sum->n_files);
		jw_kv_uint(j, "packets", sum->packets);
		jw_kv_uint(j, "bytes", sum->bytes);
		jw_kv_uint(j, "tcp_segments", sum->tcp_segments);
	}
	jw_kv_uint(j, "flows", sum->flows);
	jw_kv_uint(j, "handshakes", sum->handshakes);
	jw_kv_uint(j, "certificates", sum->certificates);
	jw_kv_uint(j, "leaf_certificates", sum->leaf_certificates);
	jw_kv_uint(j, "spikes", sum->spikes);
	if (!sum->live)
		jw_kv_bool(j, "truncated_file", sum->truncated_file);
	write_counts(j, "outcome_counts", sum->outcomes, HS_OUTCOME__COUNT,
		     outcome_name_i, NULL, 0);
	write_counts(j, "version_counts", sum->versions, SUMMARY_VERSIONS,
		     version_name_i, NULL, 0);
	write_counts(j, "finding_counts", sum->findings, FINDING__COUNT,
		     finding_name_i, NULL, 0);
	/* TLS 1.3 alerts inferred from record lengths have no description */
	write_counts(j, "alert_counts", sum->alerts, 256, alert_name_i,
		     "encrypted", sum->encrypted_alerts);
	jw_kv_uint(j, "resumed_handshakes", sum->resumed);
	write_counts(j, "group_counts", sum->groups, HS_GROUP_SLOTS, group_name_i, NULL, 0);
	write_counts(j, "alpn_selected_counts", sum->alpn_selected, HS_ALPN_SLOTS,
		     alpn_name_i, NULL, 0);
	write_problem_counts(j, sum);
	jw_object_end(j);
}

int event_json_write(struct json_writer *j, const struct event *ev)
{
	jw_reset(j);
	switch (ev->type) {
	case EVENT_HANDSHAKE:
		write_handshake(j, ev);
		break;
	case EVENT_CERT:
		write_cert(j, ev);
		break;
	case EVENT_SPIKE:
		spike_event_write_json(j, ev->spike, ev->source);
		break;
	case EVENT_SUMMARY:
		write_summary(j, ev);
		break;
	case EVENT_AGENT:
		agent_event_write_json(j, ev);
		break;
	default:
		return -EINVAL;
	}
	return jw_failed(j) ? -ENOMEM : 0;
}
