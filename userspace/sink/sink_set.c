// SPDX-License-Identifier: MIT
/* The sink set: opens the configured sinks and hands each event to all. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "event/event_json.h"
#include "sink.h"

/*
 * Every kind of sink, in the order events reach them. Adding a sink is one
 * file and one line here: NAME_open(const struct output_opts *,
 * struct sink_set *, char *err, size_t errlen) adds what the options ask for.
 */
#define SINK_KINDS(X) \
	X(json_lines)  \
	X(text_report) \
	X(html_report) \
	X(webhook)     \
	X(alertmanager) \
	X(metrics)

#define X(kind) int kind##_open(const struct output_opts *o, struct sink_set *set, \
				char *err, size_t errlen);
SINK_KINDS(X)
#undef X

typedef int (*sink_open_fn)(const struct output_opts *o, struct sink_set *set,
			    char *err, size_t errlen);

static const sink_open_fn sink_kinds[] = {
#define X(kind) kind##_open,
	SINK_KINDS(X)
#undef X
};

struct sink_set {
	struct output_opts opts;
	struct sink **sinks;
	int n_sinks;
	bool wants_json;
	struct json_writer jw;         /* the current event's document */
	uint64_t errors;
};

int sink_set_add(struct sink_set *set, struct sink *s, char *err, size_t errlen)
{
	struct sink **n = realloc(set->sinks, (size_t)(set->n_sinks + 1) * sizeof(*n));

	if (!n) {
		s->ops->close(s);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	s->set = set;
	n[set->n_sinks++] = s;
	set->sinks = n;
	set->wants_json |= s->ops->wants_json;
	return 0;
}

const struct output_opts *sink_set_opts(const struct sink_set *set)
{
	return &set->opts;
}

int sink_set_open(const struct output_opts *o, struct sink_set **out,
		  char *err, size_t errlen)
{
	struct sink_set *set = calloc(1, sizeof(*set));
	size_t i;
	int rc;

	*out = NULL;
	if (!set) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	set->opts = *o;
	jw_init(&set->jw);
	for (i = 0; i < sizeof(sink_kinds) / sizeof(sink_kinds[0]); i++) {
		rc = sink_kinds[i](&set->opts, set, err, errlen);
		if (rc < 0) {
			sink_set_close(set);
			return rc;
		}
	}
	*out = set;
	return 0;
}

void sink_set_emit(void *ctx, const struct event *ev)
{
	struct sink_set *set = ctx;
	const char *json = NULL;
	size_t len = 0;
	int i;

	if (set->wants_json) {
		if (event_json_write(&set->jw, ev) < 0) {
			set->errors++;
			pr_warn("out of memory: a %s event was not reported\n",
				event_type_name(ev->type));
			return;
		}
		json = jw_text(&set->jw);
		len = jw_len(&set->jw);
	}
	for (i = 0; i < set->n_sinks; i++) {
		struct sink *s = set->sinks[i];

		if (s->ops->event(s, ev, s->ops->wants_json ? json : NULL,
				  s->ops->wants_json ? len : 0) < 0)
			set->errors++;
	}
}

void sink_set_tick(struct sink_set *set, uint64_t now_us)
{
	int i;

	for (i = 0; i < set->n_sinks; i++)
		if (set->sinks[i]->ops->tick)
			set->sinks[i]->ops->tick(set->sinks[i], now_us);
}

int sink_set_reopen(struct sink_set *set)
{
	int i, rc, first = 0;

	for (i = 0; i < set->n_sinks; i++) {
		if (!set->sinks[i]->ops->reopen)
			continue;
		rc = set->sinks[i]->ops->reopen(set->sinks[i]);
		if (rc < 0 && !first)
			first = rc;
	}
	return first;
}

void sink_set_counters(struct sink_set *set, struct counter_values *cv)
{
	int i;

	if (set->opts.read_counters)
		set->opts.read_counters(set->opts.counters_ctx, cv);
	for (i = 0; i < set->n_sinks; i++)
		if (set->sinks[i]->ops->counters)
			set->sinks[i]->ops->counters(set->sinks[i], cv);
}

uint64_t sink_set_errors(const struct sink_set *set)
{
	return set->errors;
}

void sink_set_close(struct sink_set *set)
{
	int i;

	if (!set)
		return;
	for (i = 0; i < set->n_sinks; i++)
		set->sinks[i]->ops->close(set->sinks[i]);
	free(set->sinks);
	jw_free(&set->jw);
	free(set);
}
