/* SPDX-License-Identifier: MIT */
/*
 * The slack webhook format: one readable message per alert (name, finding,
 * certificate, what to do) as {"text": "..."}, which Slack, Mattermost and
 * most chat "incoming webhooks" accept.
 */
#ifndef TW_WEBHOOK_TEXT_H
#define TW_WEBHOOK_TEXT_H

#include <stddef.h>

#include "common/json.h"
#include "event/event.h"

struct webhook_text {
	struct json_writer jw;
};

void webhook_text_init(struct webhook_text *t);
void webhook_text_free(struct webhook_text *t);
/* The request body for @ev (@json its document, quoted for events without
 * a text of their own); valid until the next call. NULL when out of memory. */
const char *webhook_text_slack(struct webhook_text *t, const struct event *ev,
			       const char *json, size_t json_len, size_t *len);

#endif
