/* SPDX-License-Identifier: MIT */
/* The `agent` event of events.md as one JSON object (event_json.c's part). */
#ifndef TW_AGENT_JSON_H
#define TW_AGENT_JSON_H

#include "common/json.h"
#include "event.h"

/* @ev->type is EVENT_AGENT. */
void agent_event_write_json(struct json_writer *j, const struct event *ev);

#endif
