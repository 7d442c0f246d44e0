// SPDX-License-Identifier: MIT
/*
 * --uprobes in the agent: the server's TLS library's view of each
 * connection (userspace/live/uprobes.h) goes to the pipeline beside the
 * segments; what was hooked, and which servers could not be, are agent
 * events ("uprobes_attached", "uprobes_unsupported").
 */
#include <errno.h>
#include <string.h>

#include "agent_internal.h"
#include "common/log.h"

static void on_view(void *ctx, const struct tw_server_view *v)
{
	struct agent *ag = ctx;
	const struct live_meta *meta = live_current_meta(ag->live);

	pipeline_set_source(ag->pl, meta && meta->iface ? meta->iface : "live");
	pipeline_server_view(ag->pl, v);
}

static void on_note(void *ctx, const char *state, const char *message)
{
	struct agent *ag = ctx;

	pr_info("%s\n", message);
	agent_report(ag, state, message);
}

/* auto, or library paths; neither: no uprobes. */
bool agent_uprobes_wanted(const struct agent_opts *o, bool *auto_find)
{
	if (auto_find)
		*auto_find = o->uprobes_auto;
	return o->uprobes_auto || o->n_uprobes > 0;
}

enum agent_status agent_uprobes_open(struct agent *ag, char *err, size_t errlen)
{
	struct uprobes_opts uo = {
		.paths = ag->o.uprobes,
		.n_paths = ag->o.n_uprobes,
		.ports = ag->o.ports,
		.n_ports = ag->o.n_ports,
	};
	char why[512];
	int rc;

	if (!agent_uprobes_wanted(&ag->o, &uo.auto_find))
		return AGENT_OK;
	rc = live_set_view_fn(ag->live, on_view, ag);
	if (!rc)
		rc = uprobes_open(ag->live, &uo, on_note, ag, &ag->uprobes, why,
				  sizeof(why));
	if (!rc) {
		ag->uprobes_used = true;
		pipeline_expect_server_alpn(ag->pl, uprobes_follow_alpn(ag->uprobes));
		return AGENT_OK;
	}
	if (!uo.auto_find) {
		snprintf(err, errlen, "%s", rc == -ENOMEM ? "out of memory" : why);
		return AGENT_ERR_ATTACH;
	}
	/* auto: the agent is still useful without them; it says so */
	snprintf(err, errlen, "%s; running without uprobes", why);
	agent_report(ag, "error", err);
	err[0] = '\0';
	return AGENT_OK;
}

void agent_uprobes_close(struct agent *ag)
{
	uprobes_close(ag->uprobes);
	ag->uprobes = NULL;
}

void agent_uprobe_counters(struct agent *ag, struct counter_values *cv)
{
	const struct up_asm_stats *st = live_view_stats(ag->live);
	uint64_t k[TW_UP_CNT__MAX];

	if (uprobes_counters(ag->live, k) == 0) {
#define X(id, name, help) counter_set(cv, COUNTER_UP_##id, k[TW_UP_CNT_##id]);
		TW_UPROBE_COUNTERS(X)
#undef X
	}
	if (st) {
		counter_set(cv, COUNTER_UP_CHAINS_JOINED, st->chains_bound);
		counter_set(cv, COUNTER_UP_CHAINS_LOST, st->chains_lost);
		counter_set(cv, COUNTER_UP_CHAINS_UNBOUND, st->chains_unbound);
	}
	if (ag->pl)
		counter_set(cv, COUNTER_UP_VIEWS_UNMATCHED, pipeline_views_unmatched(ag->pl));
}
