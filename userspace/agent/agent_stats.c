// SPDX-License-Identifier: MIT
/* The agent's own events: counters from the one table, busiest names. */
#include <stdlib.h>
#include <string.h>

#include "agent_internal.h"
#include "common/log.h"

struct name_count {
	uint64_t handshakes, failures;
};

struct strmap *agent_names_new(void)
{
	return strmap_new(sizeof(struct name_count));
}

void agent_count_name(struct agent *ag, const struct hs_record *rec)
{
	size_t len = rec->has_sni ? rec->sni_len : 0;
	struct name_count *nc;

	/* Past the bound only names already known are counted. */
	if (strmap_count(ag->names) >= AGENT_MAX_NAME_STATS &&
	    !strmap_get(ag->names, rec->sni, len))
		return;
	nc = strmap_put(ag->names, rec->sni, len, NULL);
	if (!nc)
		return;
	nc->handshakes++;
	nc->failures += rec->outcome == HS_FAILED || rec->outcome == HS_ABORTED;
}

void agent_read_counters(void *ctx, struct counter_values *cv)
{
	struct agent *ag = ctx;
	struct live_counters lc;
	const struct summary *sum;

	if (ag->live && live_counters(ag->live, &lc) == 0) {
#define X(id, name, help) counter_set(cv, COUNTER_BPF_##id, lc.kernel[TW_CNT_##id]);
		TW_KERNEL_COUNTERS(X)
#undef X
		counter_set(cv, COUNTER_RECORDS_BAD, lc.bad_records);
	}
	if (ag->uprobes_used && ag->live)
		agent_uprobe_counters(ag, cv);
	if (ag->pl) {
		sum = pipeline_summary(ag->pl);
		counter_set(cv, COUNTER_HANDSHAKES, sum->handshakes);
		counter_set(cv, COUNTER_HANDSHAKES_OK, sum->outcomes[HS_OK]);
		counter_set(cv, COUNTER_HANDSHAKES_FAILED, sum->outcomes[HS_FAILED]);
		counter_set(cv, COUNTER_HANDSHAKES_ABORTED, sum->outcomes[HS_ABORTED]);
		counter_set(cv, COUNTER_HANDSHAKES_INCOMPLETE, sum->outcomes[HS_INCOMPLETE]);
		counter_set(cv, COUNTER_CERTIFICATES, sum->certificates);
		counter_set(cv, COUNTER_GAPS, sum->problems[SUM_GAPS]);
		counter_set(cv, COUNTER_FLOWS_EVICTED, sum->problems[SUM_FLOWS_EVICTED]);
		counter_set(cv, COUNTER_HANDSHAKE_BYTES, pipeline_conn_bytes(ag->pl));
		counter_set(cv, COUNTER_FLOWS_REOPENED, sum->problems[SUM_FLOWS_REOPENED]);
		counter_set(cv, COUNTER_FLOWS_CLOSED_GAPPED,
			    sum->problems[SUM_FLOWS_CLOSED_GAPPED]);
		counter_set(cv, COUNTER_FLOWS_LOST, pipeline_flows_lost(ag->pl));
		counter_set(cv, COUNTER_FLOWS_REFOUND,
			    pipeline_flow_stats(ag->pl)->flows_refound);
		counter_set(cv, COUNTER_SEGMENTS_LATE,
			    pipeline_flow_stats(ag->pl)->segments_late);
		counter_set(cv, COUNTER_FLOWS_NOT_TLS, sum->problems[SUM_NON_TLS_FLOWS]);
		counter_set(cv, COUNTER_FLOWS_MIDSTREAM_TLS,
			    sum->problems[SUM_MIDSTREAM_TLS_FLOWS]);
		counter_set(cv, COUNTER_CHAINS_TOO_LARGE, sum->problems[SUM_CHAINS_TOO_LARGE]);
		counter_set(cv, COUNTER_CHAINS_TRUNCATED, sum->problems[SUM_CHAINS_TRUNCATED]);
	}
	if (ag->o.health) {
		struct cert_health_stats hs;

		cert_health_stats(ag->o.health, &hs);
		counter_set(cv, COUNTER_INVENTORY_UNANSWERED, hs.inventory_unanswered);
		counter_set(cv, COUNTER_INVENTORY_REFUSED, hs.inventory_refused);
		counter_set(cv, COUNTER_CRL_URLS_FORGOTTEN, hs.crl_urls_forgotten);
		/* the pipeline's forgotten cert events too: their waits */
		counter_set(cv, COUNTER_CERT_UPDATES_LOST, hs.waits_let_go);
	}
	counter_set(cv, COUNTER_CONFIG_RELOADS, ag->reloads_applied);
	counter_set(cv, COUNTER_CONFIG_REFUSED, ag->reloads_refused);
	counter_set(cv, COUNTER_CONFIG_LAST_OK, !ag->last_reload_refused);
	if (ag->active) {
		const struct active_stats *as = active_stats(ag->active);

		counter_set(cv, COUNTER_ACTIVE_CHECKS, as->succeeded);
		counter_set(cv, COUNTER_ACTIVE_FAILURES, as->failed);
		counter_set(cv, COUNTER_ACTIVE_LIMITED, as->rate_limited);
	}
}

static int by_handshakes_desc(const void *a, const void *b)
{
	const struct agent_name_stat *x = a, *y = b;

	return x->handshakes < y->handshakes ? 1 : x->handshakes > y->handshakes ? -1 : 0;
}

/* The @max busiest names; @out holds AGENT_MAX_NAME_STATS entries. */
static int busiest_names(struct agent *ag, struct agent_name_stat *out, int max)
{
	const char *key;
	size_t len, i;
	void *val;

	for (i = 0; strmap_at(ag->names, i, &key, &len, &val); i++) {
		const struct name_count *nc = val;

		out[i] = (struct agent_name_stat){ len ? key : NULL, len,
						   nc->handshakes, nc->failures };
	}
	qsort(out, i, sizeof(*out), by_handshakes_desc);
	return (int)i < max ? (int)i : max;
}

/* The set counters of the table, in its order. */
static int counters_list(struct agent *ag, struct agent_counter *out)
{
	struct counter_values cv;
	int i, n = 0;

	memset(&cv, 0, sizeof(cv));
	sink_set_counters(ag->sinks, &cv);
	for (i = 0; i < COUNTER__COUNT; i++)
		if (cv.set[i])
			out[n++] = (struct agent_counter){ counter_defs[i].name, cv.v[i] };
	return n;
}

void agent_report(struct agent *ag, const char *state, const char *message)
{
	agent_report_ignored(ag, state, message, NULL, 0);
}

void agent_report_ignored(struct agent *ag, const char *state, const char *message,
			  const char *const *ignored, int n_ignored)
{
	static struct agent_name_stat names[AGENT_MAX_NAME_STATS];
	struct agent_counter counters[COUNTER__COUNT];
	/* Errors, reloads, interface changes and uprobes notices say what
	 * happened, without the statistics. */
	bool brief = strcmp(state, "error") == 0 || strncmp(state, "config_", 7) == 0 ||
		     strncmp(state, "interface_", 10) == 0 ||
		     strncmp(state, "uprobes_", 8) == 0;
	struct agent_view v = {
		.state = state,
		.message = message,
		.ignored = ignored,
		.n_ignored = n_ignored,
		.ifaces = ag->attached,
		.n_ifaces = ag->n_attached,
		.ports = ag->o.ports,
		.n_ports = ag->o.n_ports,
	};
	struct event ev = {
		.type = EVENT_AGENT,
		.ts_us = loop_wall_us(),
		.source = "agent",
		.agent = &v,
	};

	if (!ag->sinks)
		return;
	if (ag->live && !brief) {
		v.counters = counters;
		v.n_counters = counters_list(ag, counters);
	}
	if (ag->pl && !brief && strcmp(state, "started") != 0) {
		v.names = names;
		v.n_names = busiest_names(ag, names, AGENT_NAMES_IN_STATS);
	}
	sink_set_emit(ag->sinks, &ev);
}
