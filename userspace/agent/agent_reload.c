// SPDX-License-Identifier: MIT
/*
 * SIGHUP: the new check state and the new alert sinks are built apart
 * from the running ones; only when both exist are they put in force, so a
 * refused configuration leaves the old one whole.
 */
#include <stdio.h>

#include "agent_internal.h"
#include "common/log.h"

void agent_reload_refused(struct agent *ag, const char *reason)
{
	ag->reloads_refused++;
	ag->last_reload_refused = true;
	pr_warn("configuration not reloaded: %s\n", reason);
	agent_report(ag, "config_refused", reason);
}

int agent_reload(struct agent *ag, const struct agent_reload *r)
{
	struct cert_checks *checks = NULL;
	char err[512], what[128] = "no certificate checks", msg[256];

	if (ag->o.health &&
	    cert_health_prepare(ag->o.health, r->health, &checks, err, sizeof(err)) < 0) {
		agent_reload_refused(ag, err);
		return -1;
	}
	if (sink_set_reconfigure(ag->sinks, r->outputs, err, sizeof(err)) < 0) {
		cert_checks_free(checks);
		agent_reload_refused(ag, err);
		return -1;
	}
	if (checks) {
		cert_checks_describe(checks, what, sizeof(what));
		cert_health_commit(ag->o.health, checks);
	}
	/* the kernel's tables of watched and tunnel ports, rewritten in
	 * place (the options they point into outlive the agent's use), and
	 * which handshakes it follows */
	ag->o.udp_encap = r->udp_encap;
	ag->o.served_only = r->served_only;
	if (r->n_ports > 0) {
		ag->o.ports = r->ports;
		ag->o.n_ports = r->n_ports;
	}
	if (ag->live) {
		live_apply_ports(ag->live, ag->o.ports, ag->o.n_ports);
		live_apply_udp_encap(ag->live, r->udp_encap);
		live_apply_direction(ag->live, r->served_only);
	}
	snprintf(msg, sizeof(msg), "%s, %d webhook%s, %d Alertmanager%s", what,
		 r->outputs->n_webhooks, r->outputs->n_webhooks == 1 ? "" : "s",
		 r->outputs->n_alertmanagers, r->outputs->n_alertmanagers == 1 ? "" : "s");
	ag->reloads_applied++;
	ag->last_reload_refused = false;
	pr_info("configuration reloaded: %s\n", msg);
	agent_report_ignored(ag, "config_reloaded", msg, r->ignored, r->n_ignored);
	return 0;
}
