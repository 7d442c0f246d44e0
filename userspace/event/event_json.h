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

#endif
