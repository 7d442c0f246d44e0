// SPDX-License-Identifier: MIT
/* The agent event: its state, counters and the busiest names. */
#include "agent_json.h"
#include "event_json.h"

static void write_names(struct json_writer *j, const struct agent_view *ev)
{
	int i;

	jw_key(j, "names");
	jw_array_begin(j);
	for (i = 0; i < ev->n_names; i++) {
		const struct agent_name_stat *n = &ev->names[i];

		jw_object_begin(j);
		if (n->sni) {
			jw_key(j, "sni");
			jw_string_n(j, n->sni, n->sni_len);
		}
		jw_kv_uint(j, "handshakes", n->handshakes);
		jw_kv_uint(j, "failures", n->failures);
		jw_kv_double(j, "failure_rate", n->handshakes ?
			     (double)n->failures / (double)n->handshakes : 0.0);
		jw_object_end(j);
	}
	jw_array_end(j);
}

/* "@key": [strings], left out when empty. */
static void write_strings(struct json_writer *j, const char *key,
			  const char *const *list, int n)
{
	if (n)
		jw_kv_str_array(j, key, list, n);
}

void agent_event_write_json(struct json_writer *j, const struct event *e)
{
	const struct agent_view *ev = e->agent;
	int i;

	event_json_begin(j, EVENT_AGENT, e->ts_us, e->source);
	jw_kv_str(j, "state", ev->state);
	jw_kv_str(j, "message", ev->message);
	write_strings(j, "ignored", ev->ignored, ev->n_ignored);
	/* the set watched now is known also when empty (a glob that matches
	 * nothing yet, the last one deleted): [], never left out */
	jw_kv_str_array(j, "interfaces", ev->ifaces, ev->n_ifaces);
	if (ev->n_ports) {
		jw_key(j, "ports");
		jw_array_begin(j);
		for (i = 0; i < ev->n_ports; i++)
			jw_uint(j, ev->ports[i]);
		jw_array_end(j);
	}
	if (ev->n_counters) {
		jw_key(j, "counters");
		jw_object_begin(j);
		for (i = 0; i < ev->n_counters; i++)
			jw_kv_uint(j, ev->counters[i].name, ev->counters[i].value);
		jw_object_end(j);
	}
	if (ev->names)
		write_names(j, ev);
	jw_object_end(j);
}
