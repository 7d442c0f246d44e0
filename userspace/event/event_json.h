/* SPDX-License-Identifier: MIT */
/*
 * The JSON object of events.md for one event, without the newline. Sinks
 * never build JSON themselves: the sink set calls this once per event and
 * hands the text to each of them.
 */
#ifndef TW_EVENT_JSON_H
#define TW_EVENT_JSON_H

#include "common/json.h"
#include "event.h"

/* Resets @j and writes @ev into it. 0, -ENOMEM, or -EINVAL for an unknown
 * type. */
int event_json_write(struct json_writer *j, const struct event *ev);

/* Opens the object with the keys every event starts with: event, schema,
 * ts (omitted when @ts_us is 0: unknown, as in the summary of a capture
 * without packets) and source (omitted when NULL). */
void event_json_begin(struct json_writer *j, enum event_type type,
		      uint64_t ts_us, const char *source);

/* One finding, {"kind", "severity"[, "detail"]}: the one shape of a
 * finding in every event; "detail" omitted when @detail is NULL. */
void event_json_finding(struct json_writer *j, enum finding_kind k,
			const char *detail);

#endif
