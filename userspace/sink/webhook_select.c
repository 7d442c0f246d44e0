// SPDX-License-Identifier: MIT
/* Which events go to webhooks: the selectors of --webhook-events. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/comma_list.h"
#include "detect/spike.h"
#include "sink.h"

static const char *const selector_names[WEBHOOK_SEL__COUNT] = {
#define X(id, name, help) [WEBHOOK_SEL_##id] = name,
	WEBHOOK_SELECTORS(X)
#undef X
};

const char *webhook_selector_name(enum webhook_selector sel)
{
	return (unsigned)sel < WEBHOOK_SEL__COUNT ? selector_names[sel] : NULL;
}

int webhook_events_parse(const char *list, uint32_t *mask)
{
	const char *p = list, *item;
	size_t n;

	*mask = 0;
	/* an empty item (",x", "x,,y", "x,") matches no name */
	while (comma_list_next(&p, &item, &n)) {
		int i;

		for (i = 0; i < WEBHOOK_SEL__COUNT; i++)
			if (strlen(selector_names[i]) == n &&
			    strncmp(item, selector_names[i], n) == 0)
				break;
		if (i == WEBHOOK_SEL__COUNT)
			return -EINVAL;
		*mask |= 1u << i;
	}
	return comma_list_ends_empty(list) ? -EINVAL : 0;
}

static bool has_severity(const struct finding_list *l, enum finding_severity sev)
{
	int i;

	for (i = 0; i < l->n; i++)
		if (finding_kind_severity(l->items[i].kind) == sev)
			return true;
	return false;
}

bool webhook_agent_problem(const struct event *ev)
{
	return ev->type == EVENT_AGENT &&
	       (strcmp(ev->agent->state, "error") == 0 ||
		strcmp(ev->agent->state, "config_refused") == 0);
}

static bool selected(uint32_t mask, enum webhook_selector sel)
{
	return mask & (1u << sel);
}

bool webhook_selects(uint32_t mask, const struct event *ev)
{
	switch (ev->type) {
	case EVENT_CERT:
		return selected(mask, WEBHOOK_SEL_CERT) ||
		       (selected(mask, WEBHOOK_SEL_CRITICAL) &&
			has_severity(ev->cert->findings, SEV_CRITICAL)) ||
		       (selected(mask, WEBHOOK_SEL_WARNING) &&
			has_severity(ev->cert->findings, SEV_WARNING));
	case EVENT_SPIKE:
		return selected(mask, WEBHOOK_SEL_SPIKE);
	case EVENT_AGENT:
		return selected(mask, WEBHOOK_SEL_AGENT) ||
		       (selected(mask, WEBHOOK_SEL_AGENT_ERROR) &&
			webhook_agent_problem(ev));
	case EVENT_HANDSHAKE:
		return selected(mask, WEBHOOK_SEL_HANDSHAKE);
	case EVENT_SUMMARY:
		return selected(mask, WEBHOOK_SEL_SUMMARY);
	default:
		return false;
	}
}
