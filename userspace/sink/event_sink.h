/* SPDX-License-Identifier: MIT */
/* The interface every output (JSON lines, text report, webhooks) implements. */
#ifndef TW_EVENT_SINK_H
#define TW_EVENT_SINK_H

#include <stdio.h>

#include "pipeline/view.h"

struct spike_event;

struct event_sink {
	void (*handshake)(struct event_sink *s, const struct hs_view *v);
	void (*cert)(struct event_sink *s, const struct cert_view *v);
	void (*spike)(struct event_sink *s, const struct spike_event *ev,
		      const char *source);
	void (*summary)(struct event_sink *s, const struct summary *sum);
	void (*destroy)(struct event_sink *s);
	int write_errors;              /* lines that could not be written */
};

/* JSON lines (events.md) to @out. */
struct event_sink *json_sink_new(FILE *out);
/* Later lines go to @out (the agent reopens its log on SIGHUP). */
void json_sink_set_output(struct event_sink *s, FILE *out);
/* The human report, printed to @out by the summary call. */
struct event_sink *text_report_new(FILE *out);

#endif
