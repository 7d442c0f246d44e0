// SPDX-License-Identifier: MIT
/* Names of the event types and of the summary's problem counters. */
#include <string.h>

#include "event.h"

#define SUMMARY_PROBLEM_NAME(id, name, capture, help) [SUM_##id] = #name,
const char *const summary_problem_names[SUM_PROBLEM__COUNT] = {
	SUMMARY_PROBLEMS(SUMMARY_PROBLEM_NAME)
};
#undef SUMMARY_PROBLEM_NAME

#define SUMMARY_PROBLEM_HELP(id, name, capture, help) [SUM_##id] = help,
const char *const summary_problem_help[SUM_PROBLEM__COUNT] = {
	SUMMARY_PROBLEMS(SUMMARY_PROBLEM_HELP)
};
#undef SUMMARY_PROBLEM_HELP

#define SUMMARY_PROBLEM_CAPTURE(id, name, capture, help) [SUM_##id] = capture,
const bool summary_problem_capture_only[SUM_PROBLEM__COUNT] = {
	SUMMARY_PROBLEMS(SUMMARY_PROBLEM_CAPTURE)
};
#undef SUMMARY_PROBLEM_CAPTURE

static const char *const event_type_names[EVENT__COUNT] = {
	[EVENT_HANDSHAKE] = "handshake",
	[EVENT_CERT] = "cert",
	[EVENT_SPIKE] = "spike",
	[EVENT_SUMMARY] = "summary",
	[EVENT_AGENT] = "agent",
};

const char *event_type_name(enum event_type t)
{
	return (unsigned)t < EVENT__COUNT ? event_type_names[t] : NULL;
}

int event_type_parse(const char *name)
{
	int t;

	for (t = 0; t < EVENT__COUNT; t++)
		if (strcmp(name, event_type_names[t]) == 0)
			return t;
	return -1;
}
