// SPDX-License-Identifier: MIT
#include "cert/findings.h"
#include "event_json.h"
#include "spike_json.h"

static void spike_json_scope(struct json_writer *j, const struct spike_event *ev)
{
	const char *k = spike_kind_key(ev->kind);

	jw_key(j, "scope");
	jw_object_begin(j);
	if (k && ev->key)
		jw_kv_str(j, k, ev->key);
	jw_object_end(j);
}

static void spike_json_top(struct json_writer *j, const char *name,
			   const struct spike_top *top, int n)
{
	int i;

	jw_key(j, name);
	jw_array_begin(j);
	for (i = 0; i < n; i++) {
		jw_object_begin(j);
		jw_kv_str(j, "key", top[i].key);
		jw_kv_uint(j, "count", top[i].count);
		jw_kv_str(j, "from", top[i].from);
		jw_object_end(j);
	}
	jw_array_end(j);
}

/* "revoked,superseded" -> [{"kind": "revoked", "severity": ...}, ...];
 * the list holds names of finding_kind_name(), so none is unknown. */
static void spike_json_kinds(struct json_writer *j, const char *list)
{
	const char *p = list;
	int k;

	jw_array_begin(j);
	while (finding_kind_next(&p, &k))
		if (k >= 0)
			event_json_finding(j, (enum finding_kind)k, NULL);
	jw_array_end(j);
}

static void spike_json_findings(struct json_writer *j, const struct spike_event *ev)
{
	int i;

	jw_key(j, "certificate_findings");
	jw_array_begin(j);
	for (i = 0; i < ev->n_cert_findings; i++) {
		jw_object_begin(j);
		jw_kv_str(j, "sha256", ev->cert_findings[i].sha256);
		jw_key(j, "findings");
		spike_json_kinds(j, ev->cert_findings[i].findings);
		jw_object_end(j);
	}
	jw_array_end(j);
}

void spike_event_write_json(struct json_writer *j, const struct spike_event *ev,
			    const char *source)
{
	event_json_begin(j, EVENT_SPIKE, ev->ts_us, source);
	jw_kv_str(j, "state", spike_state_name(ev->state));
	spike_json_scope(j, ev);
	jw_kv_uint(j, "window_s", ev->window_s);
	jw_kv_uint(j, "handshakes", ev->handshakes);
	jw_kv_uint(j, "failures", ev->failures);
	jw_kv_double(j, "rate", ev->rate);
	if (ev->has_baseline)
		jw_kv_double(j, "baseline_rate", ev->baseline_rate);
	jw_kv_time_us(j, "started", ev->started_us);
	spike_json_top(j, "top_alerts", ev->top_alerts, ev->n_alerts);
	spike_json_top(j, "top_snis", ev->top_snis, ev->n_snis);
	spike_json_top(j, "top_certs", ev->top_certs, ev->n_certs);
	spike_json_top(j, "top_clients", ev->top_clients, ev->n_clients);
	jw_kv_uint(j, "aborted", ev->aborted);
	jw_kv_uint(j, "incomplete", ev->incomplete);
	spike_json_findings(j, ev);
	jw_object_end(j);
}
