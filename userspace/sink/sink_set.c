// SPDX-License-Identifier: MIT
/* The sink set: opens the configured sinks and hands each event to all. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/grow.h"
#include "common/log.h"
#include "event/event_json.h"
#include "sink.h"

/*
 * Every kind of sink, in the order events reach them. Adding a sink is one
 * file and one line here: NAME_open(const struct output_opts *,
 * struct sink_set *, char *err, size_t errlen) adds what the options ask
 * for. RELOAD: whether sink_set_reconfigure() replaces the kind's sinks
 * (their options can change without a restart).
 *   X(NAME, RELOAD)
 */
#define SINK_KINDS(X)              \
	X(json_lines, false)       \
	X(text_report, false)      \
	X(html_report, false)      \
	X(history, false)          \
	X(webhook, true)           \
	X(alertmanager, true)      \
	X(metrics, false)

#define X(kind, reload) int kind##_open(const struct output_opts *o, \
					struct sink_set *set, char *err, size_t errlen);
SINK_KINDS(X)
#undef X

typedef int (*sink_open_fn)(const struct output_opts *o, struct sink_set *set,
			    char *err, size_t errlen);

static const struct sink_kind {
	sink_open_fn open;
	bool reload;
} sink_kinds[] = {
#define X(kind, reload) { kind##_open, reload },
	SINK_KINDS(X)
#undef X
};

#define SINK_N_KINDS (int)(sizeof(sink_kinds) / sizeof(sink_kinds[0]))

struct sink_set {
	struct output_opts opts;
	struct sink **sinks;           /* each of sink_kinds[sinks[i]->kind] */
	size_t cap;                    /* of sinks */
	int n_sinks;
	int opening;                   /* the kind being opened */
	bool wants_json;
	struct json_writer jw;         /* the current event's document */
	uint64_t errors;               /* every sink's and the set's own */
	uint64_t unbuilt;              /* the set's own: no JSON document */
};

int sink_set_add(struct sink_set *set, struct sink *s, char *err, size_t errlen)
{
	int rc = tw_grow(&set->sinks, &set->cap, sizeof(*set->sinks),
			 (size_t)set->n_sinks, 1, SINK_N_KINDS, TW_GROW_NO_CAP);

	if (rc < 0) {
		s->ops->close(s);
		snprintf(err, errlen, "out of memory");
		return rc;
	}
	s->set = set;
	s->kind = set->opening;
	set->sinks[set->n_sinks++] = s;
	set->wants_json |= s->ops->wants_json;
	return 0;
}

const struct output_opts *sink_set_opts(const struct sink_set *set)
{
	return &set->opts;
}

bool sink_str_same(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

bool sink_strv_same(const char *const *a, int na, const char *const *b, int nb)
{
	int i;

	if (na != nb)
		return false;
	for (i = 0; i < na; i++)
		if (!sink_str_same(a[i], b[i]))
			return false;
	return true;
}

/* Copies @s to *@at (advanced past it); NULL stays NULL. With a NULL
 * *@at, only counts the bytes it needs in *@need. */
static const char *output_str_copy(const char *s, char **at, size_t *need)
{
	size_t n;
	char *copy;

	if (!s)
		return NULL;
	n = strlen(s) + 1;
	*need += n;
	if (!*at)
		return s;
	copy = memcpy(*at, s, n);
	*at += n;
	return copy;
}

/* Points @o's strings to copies at *@at (or only counts them, as above). */
static void output_opts_strings_to(struct output_opts *o, char **at, size_t *need)
{
	int i;

#define X(field) o->field = output_str_copy(o->field, at, need);
	OUTPUT_OPTS_STRINGS(X)
#undef X
#define X(list, count)                                                 \
	for (i = 0; i < o->count; i++)                                 \
		o->list[i] = output_str_copy(o->list[i], at, need);
	OUTPUT_OPTS_LISTS(X)
#undef X
}

int output_opts_copy(struct output_opts *dst, char **strings,
		     const struct output_opts *src, char *err, size_t errlen)
{
	char *at = NULL;
	size_t need = 0;

	*dst = *src;
	output_opts_strings_to(dst, &at, &need);
	*strings = at = malloc(need ? need : 1);
	if (!at) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	output_opts_strings_to(dst, &at, &need);
	return 0;
}

#define SINK_ALL_KINDS ((1u << SINK_N_KINDS) - 1)

/* Opens the kinds of the bit mask @kinds. */
static int sink_set_open_kinds(const struct output_opts *o, uint32_t kinds,
			       struct sink_set **out, char *err, size_t errlen)
{
	struct sink_set *set = calloc(1, sizeof(*set));
	int rc;

	*out = NULL;
	if (!set) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	set->opts = *o;
	jw_init(&set->jw);
	for (set->opening = 0; set->opening < SINK_N_KINDS; set->opening++) {
		if (!(kinds & (1u << set->opening)))
			continue;
		rc = sink_kinds[set->opening].open(&set->opts, set, err, errlen);
		if (rc < 0) {
			sink_set_close(set);
			return rc;
		}
	}
	*out = set;
	return 0;
}

int sink_set_open(const struct output_opts *o, struct sink_set **out,
		  char *err, size_t errlen)
{
	return sink_set_open_kinds(o, SINK_ALL_KINDS, out, err, errlen);
}

/* What a reload may change: the options of the reloadable kinds. The
 * rest (files, /metrics, the outbox database, counters) stays. */
static void sink_keep_restart_only(struct output_opts *n, const struct output_opts *old)
{
	n->json_path = old->json_path;
	n->text_report = old->text_report;
	n->metrics_addr = old->metrics_addr;
	n->metrics_optional = old->metrics_optional;
	n->expiring_warn_days = old->expiring_warn_days;
	n->db_path = old->db_path;
	n->history = old->history;
	n->read_counters = old->read_counters;
	n->counters_ctx = old->counters_ctx;
	n->drain_ms = old->drain_ms;
}

/* The reloadable kinds that @o changes: those with a sink that is not
 * unchanged(), and those without a sink (which @o may ask for). */
static uint32_t sink_kinds_changed(const struct sink_set *set, const struct output_opts *o)
{
	uint32_t changed = 0, present = 0;
	int i, k;

	for (i = 0; i < set->n_sinks; i++) {
		struct sink *s = set->sinks[i];

		present |= 1u << s->kind;
		if (!s->ops->unchanged || !s->ops->unchanged(s, o))
			changed |= 1u << s->kind;
	}
	for (k = 0; k < SINK_N_KINDS; k++)
		if (!sink_kinds[k].reload)
			changed &= ~(1u << k);
		else if (!(present & (1u << k)))
			changed |= 1u << k;
	return changed;
}

/* Moves @from's sinks of @kind to the end of @to's array (sized for
 * them); closes them instead when @close. */
static void sink_set_move_kind(struct sink_set *to, struct sink_set *from,
			       int kind, bool close)
{
	int i;

	for (i = 0; i < from->n_sinks; i++) {
		struct sink *s = from->sinks[i];

		if (!s || s->kind != kind)
			continue;
		from->sinks[i] = NULL;  /* moved or closed: the other kinds'
					 * passes skip it */
		if (close) {
			s->ops->close(s);
			continue;
		}
		s->set = to;
		to->sinks[to->n_sinks++] = s;
		to->wants_json |= s->ops->wants_json;
	}
}

int sink_set_reconfigure(struct sink_set *set, const struct output_opts *o,
			 char *err, size_t errlen)
{
	struct output_opts merged = *o;
	struct sink_set *fresh, old;
	uint32_t changed;
	size_t cap;
	int rc, k;

	sink_keep_restart_only(&merged, &set->opts);
	changed = sink_kinds_changed(set, &merged);
	rc = sink_set_open_kinds(&merged, changed, &fresh, err, errlen);
	if (rc < 0)
		return rc;
	cap = (size_t)(set->n_sinks + fresh->n_sinks) + 1;
	old = *set;
	set->sinks = malloc(cap * sizeof(*set->sinks));
	set->cap = cap;
	if (!set->sinks) {
		*set = old;
		sink_set_close(fresh);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	/* Nothing can fail from here: the new sinks take the place of the
	 * old ones of their kinds, in the kinds' order. */
	set->n_sinks = 0;
	set->wants_json = false;
	set->opts = merged;
	for (k = 0; k < SINK_N_KINDS; k++) {
		sink_set_move_kind(set, &old, k, changed & (1u << k));
		sink_set_move_kind(set, fresh, k, false);
	}
	free(old.sinks);
	fresh->n_sinks = 0;
	sink_set_close(fresh);
	return 0;
}

/* @s lost @n events: counted for it and for its set. */
static void sink_lost(struct sink *s, uint64_t n)
{
	s->errors += n;
	s->set->errors += n;
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
			set->unbuilt++;
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
			sink_lost(s, 1);
	}
}

void sink_set_tick(struct sink_set *set, uint64_t now_us)
{
	int i;

	for (i = 0; i < set->n_sinks; i++)
		if (set->sinks[i]->ops->tick)
			set->sinks[i]->ops->tick(set->sinks[i], now_us);
}

void sink_set_flush(struct sink_set *set)
{
	int i;

	for (i = 0; i < set->n_sinks; i++)
		if (set->sinks[i]->ops->flush)
			sink_lost(set->sinks[i], set->sinks[i]->ops->flush(set->sinks[i]));
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

/* Whether a sink before @i has @i's name (its errors were said with it). */
static bool sink_name_seen(const struct sink_set *set, int i)
{
	int j;

	for (j = 0; j < i; j++)
		if (strcmp(set->sinks[j]->ops->name, set->sinks[i]->ops->name) == 0)
			return true;
	return false;
}

void sink_set_each_error(const struct sink_set *set,
			 void (*fn)(void *ctx, const char *name, uint64_t lost),
			 void *ctx)
{
	const char *name;
	uint64_t lost;
	int i, j;

	for (i = 0; i < set->n_sinks; i++) {
		if (sink_name_seen(set, i))
			continue;
		name = set->sinks[i]->ops->name;
		for (lost = 0, j = i; j < set->n_sinks; j++)
			if (strcmp(set->sinks[j]->ops->name, name) == 0)
				lost += set->sinks[j]->errors;
		if (lost)
			fn(ctx, name, lost);
	}
	if (set->unbuilt)
		fn(ctx, NULL, set->unbuilt);
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
