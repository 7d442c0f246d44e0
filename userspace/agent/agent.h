/* SPDX-License-Identifier: MIT */
/*
 * The live agent: the eBPF source, the pipeline, active checks of TLS 1.3
 * names and the output side, driven by one poll loop until SIGINT or
 * SIGTERM. SIGHUP reopens output files. Detaches exactly what it attached.
 * Its own state is reported as `agent` events (started, stats, stopped,
 * error) through the same sinks as everything else.
 */
#ifndef TW_AGENT_H
#define TW_AGENT_H

#include <stdbool.h>
#include <stdint.h>

#include "cert/findings.h"
#include "cert/health.h"
#include "detect/spike.h"
#include "sink/sink.h"

struct agent_opts {
	const char **ifaces;           /* NULL/0: every interface that is up,
					* except loopback */
	int n_ifaces;
	const uint16_t *ports;         /* at least one */
	int n_ports;
	uint32_t dir_budget;           /* bytes per flow direction */
	bool active;                   /* check TLS 1.3 names ourselves */
	unsigned stats_interval_s;
	struct cert_health *health;    /* not owned; may be NULL */
	struct leaf_check_opts leaf;
	const struct spike_opts *spikes; /* NULL: no spike detection */
	struct output_opts outputs;    /* read_counters is set by the agent */
};

enum agent_status {
	AGENT_OK = 0,
	AGENT_ERR_NO_IFACE,            /* nothing to watch */
	AGENT_ERR_OUTPUT,              /* an output could not be opened */
	AGENT_ERR_ATTACH,              /* loading or attaching eBPF failed */
	AGENT_ERR_INTERNAL,            /* out of memory, poll failure */
};

/* Runs until a stop signal. On error, @err says what and why. */
enum agent_status agent_run(const struct agent_opts *o, char *err,
			    size_t errlen);

#endif
