/* SPDX-License-Identifier: MIT */
/* The live agent's own `agent` events (events.md). */
#ifndef TW_AGENT_JSON_H
#define TW_AGENT_JSON_H

#include <stdint.h>
#include <stdio.h>

#include "common/json.h"

struct agent_counter {
	const char *name;
	uint64_t value;
};

struct agent_name_stat {
	const char *sni;          /* wire bytes */
	size_t sni_len;
	uint64_t handshakes, failures;
};

struct agent_event {
	uint64_t ts_us;
	const char *source;       /* "tlswatch" */
	const char *state;        /* started, stats, stopped, error */
	const char *message;      /* NULL unless error */
	const char *const *ifaces;
	int n_ifaces;
	const uint16_t *ports;
	int n_ports;
	const struct agent_counter *counters;
	int n_counters;
	const struct agent_name_stat *names;  /* per name over the run */
	int n_names;
};

/* Writes one line; returns 0 or -1. */
int agent_event_write(struct json_writer *j, FILE *out, const struct agent_event *ev);

#endif
