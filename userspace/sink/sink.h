/* SPDX-License-Identifier: MIT */
/*
 * The output side: every way tlswatch reports is a sink behind this one
 * interface, and a sink set hands each event to all of them.
 *
 *   sink_set_open(&outputs, &set, err, sizeof(err));
 *   pipeline_opts.emit = sink_set_emit; pipeline_opts.emit_ctx = set;
 *   ... sink_set_tick(set, now) at least every SINK_TICK_MS ...
 *   ... sink_set_flush(set) when a batch of events is done ...
 *   sink_set_close(set);          flushes (bounded) and frees
 *
 * Each event's JSON document (events.md) is built once by the set, and only
 * when a sink of the set asks for it. A sink is one file in this folder and
 * one line in SINK_KINDS (sink_set.c): its open function reads its part of
 * struct output_opts and adds zero or more sinks to the set.
 */
#ifndef TW_SINK_H
#define TW_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "event/counters.h"
#include "event/event.h"

#define SINK_TICK_MS 250           /* longest wait between two ticks */
#define OUTPUT_MAX_URLS 16         /* --webhook, --alertmanager */
/* Bytes of a --webhook or --alertmanager URL at most: signed webhook URLs
 * (a signature in the query string) run to several hundred. */
#define OUTPUT_URL_LEN 2048
/* --alertmanager-resend's default: every active alert is sent again every
 * 60 s, its endsAt 3 intervals ahead (a plain number: the help shows it). */
#define OUTPUT_AM_RESEND_DEFAULT_S 60
/* The largest --webhook-ca-file, in bytes (a plain number: the help shows
 * it); a system bundle of every public CA is about 200 KiB. */
#define SINK_CA_FILE_MAX 1048576

/* --webhook-format's values, in the order of the enum: X(ID, "name").
 * The option's ARG ("json|slack") is generated from this list too
 * (option_table.h), so cli_option_choice's index is the enum value. */
#define WEBHOOK_FORMATS(X)                                                     \
	X(JSON, "json")                                                        \
	X(SLACK, "slack")

enum webhook_format {
#define X(id, name) WEBHOOK_FORMAT_##id,
	WEBHOOK_FORMATS(X)
#undef X
};

/* Which events a webhook is sent for (--webhook-events), each defined once:
 *   X(ID, name, help) */
#define WEBHOOK_SELECTORS(X)                                                   \
	X(CRITICAL, "critical", "cert events with a critical finding")         \
	X(WARNING, "warning", "cert events with a warning finding")            \
	X(CERT, "cert", "every cert event")                                    \
	X(SPIKE, "spike", "failure spikes, firing and resolved")               \
	X(AGENT_ERROR, "agent-error", "the agent's errors and refused reloads") \
	X(AGENT, "agent", "every agent event, stats included")                 \
	X(HANDSHAKE, "handshake", "every handshake (a request per connection)") \
	X(SUMMARY, "summary", "the summary at the end of a run")

enum webhook_selector {
#define X(id, name, help) WEBHOOK_SEL_##id,
	WEBHOOK_SELECTORS(X)
#undef X
	WEBHOOK_SEL__COUNT,
};

#define WEBHOOK_EVENTS_DEFAULT \
	(1u << WEBHOOK_SEL_CRITICAL | 1u << WEBHOOK_SEL_SPIKE | 1u << WEBHOOK_SEL_AGENT_ERROR)

/* "critical,spike": a bit per selector. 0, or -EINVAL for an unknown or
 * empty item (",critical", "critical,,spike", "critical,") or list. */
int webhook_events_parse(const char *list, uint32_t *mask);
const char *webhook_selector_name(enum webhook_selector sel);
/* Whether @mask selects @ev. */
bool webhook_selects(uint32_t mask, const struct event *ev);
/* An agent event that reports a problem ("error", "config_refused"): the
 * agent-error selector, and deduplicated by its message. */
bool webhook_agent_problem(const struct event *ev);

/* What to report where; the CLI fills it from options, zero means off. */
struct output_opts {
	const char *json_path;         /* JSON lines: "-" standard output, or a
					* file appended to (reopened on SIGHUP) */
	FILE *text_report;             /* the human report, printed at the summary */
	const char *html_path;         /* the HTML incident report (html_report.h) */
	/* webhooks */
	const char *webhooks[OUTPUT_MAX_URLS];
	int n_webhooks;
	uint32_t webhook_events;       /* bit per enum webhook_selector */
	const char *webhook_secret_file;
	enum webhook_format webhook_format;
	unsigned webhook_cooldown_s;
	unsigned webhook_timeout_ms;
	unsigned webhook_retry_max_s;  /* longest wait between two tries */
	unsigned webhook_outbox_max;   /* rows the outbox keeps; 0: its default */
	const char *webhook_ca_file;   /* PEM CAs for https receivers (webhooks
					* and Alertmanager); NULL: the system store */
	/* Alertmanager v2 API base URLs */
	const char *alertmanagers[OUTPUT_MAX_URLS];
	int n_alertmanagers;
	unsigned alertmanager_resend_s;  /* --alertmanager-resend; 0: default */
	const char *instance;          /* "instance" label; NULL: the host name */
	/* Prometheus /metrics */
	const char *metrics_addr;      /* "127.0.0.1:9733"; NULL: off */
	bool metrics_optional;         /* the default address: when it is taken,
					* warn and go on without /metrics */
	int expiring_warn_days;        /* exported as tlswatch_expiry_warning_seconds */
	/* The SQLite file of the webhook outbox; NULL: in memory */
	const char *db_path;
	/* The agent: keep the recent events in db_path's history tables
	 * (history.c), for `tlswatch report`. */
	bool history;
	/* Flat counters owned outside the output side (kernel, pipeline):
	 * read when a stats event or /metrics needs them. May be NULL. */
	void (*read_counters)(void *ctx, struct counter_values *cv);
	void *counters_ctx;
	/* Bound on the wait for deliveries at close (analyze); 0: default */
	unsigned drain_ms;
};

/* The strings of struct output_opts, each named once, for
 * output_opts_copy(): X(FIELD) single strings, X(LIST, COUNT) lists. */
#define OUTPUT_OPTS_STRINGS(X)                                                 \
	X(json_path) X(html_path) X(webhook_secret_file) X(webhook_ca_file)    \
	X(instance)                                                            \
	X(metrics_addr) X(db_path)
#define OUTPUT_OPTS_LISTS(X)                                                   \
	X(webhooks, n_webhooks) X(alertmanagers, n_alertmanagers)

/*
 * @src with every string copied into one block, *@strings, which the
 * caller frees: for a sink a reload keeps while the options it was opened
 * from are freed. 0, or -ENOMEM (said in @err; *@strings NULL).
 */
int output_opts_copy(struct output_opts *dst, char **strings,
		     const struct output_opts *src, char *err, size_t errlen);

struct sink;

struct sink_ops {
	const char *name;
	bool wants_json;               /* needs each event's JSON document */
	/* One event; @json is its document (NULL unless wants_json). 0 or
	 * -errno: the set counts a write error. */
	int (*event)(struct sink *s, const struct event *ev, const char *json,
		     size_t json_len);
	/* Time passes: deliveries, retries, metric snapshots. May be NULL. */
	void (*tick)(struct sink *s, uint64_t now_us);
	/* Writes out the events it buffered (the JSON log buffers a batch of
	 * lines and writes them in one write(2), not one each); returns how
	 * many of them it could not write (the set counts them). May be
	 * NULL. */
	unsigned (*flush)(struct sink *s);
	/* SIGHUP: reopen files. May be NULL. */
	int (*reopen)(struct sink *s);
	/* Reload: whether a sink opened from @o would be this one (the same
	 * options, the same secret): then it is kept, with its state (queued
	 * deliveries, active alerts). NULL: always replaced. */
	bool (*unchanged)(struct sink *s, const struct output_opts *o);
	/* Adds the sink's own counters (deliveries, outbox). May be NULL. */
	void (*counters)(struct sink *s, struct counter_values *cv);
	/* Flushes what is pending (bounded by output_opts.drain_ms) and frees. */
	void (*close)(struct sink *s);
};

struct sink {
	const struct sink_ops *ops;
	struct sink_set *set;          /* the set it belongs to */
	int kind;                      /* its set's kind of sink (sink_set.c) */
	uint64_t errors;               /* its events lost (sink_set_each_error) */
};

struct sink_set;

/* Opens every sink that @o configures. 0, or -errno with a message that
 * names the option or file in @err. */
int sink_set_open(const struct output_opts *o, struct sink_set **out,
		  char *err, size_t errlen);
/* An event_fn: @set is the struct sink_set. */
void sink_set_emit(void *set, const struct event *ev);
void sink_set_tick(struct sink_set *set, uint64_t now_us);
/* Writes out what the sinks buffered; the agent calls it after each turn of
 * its loop, so no event waits longer than the turn that made it. Without
 * it, buffered events go out when a buffer fills and at close. */
void sink_set_flush(struct sink_set *set);
/* Reopens files; 0, or the first error (-errno). */
int sink_set_reopen(struct sink_set *set);
/*
 * Reload: replaces the webhook and Alertmanager sinks whose options
 * changed in @o (webhook, Alertmanager and instance options, and the
 * content of the webhook secret file) by ones opened from @o; unchanged
 * ones are kept with their state. The other sinks, and the options that
 * need a restart (the JSON log, /metrics, the outbox database), stay as
 * they are. The new sinks are opened first: on failure (-errno, said in
 * @err) nothing changes. The replaced sinks close as at exit (deliveries
 * drained, bounded; with --db what is undelivered stays in the outbox,
 * which the new webhook sink reads).
 * The reloadable sinks own copies of their options' strings, so @o (and
 * the options of the open) may be freed once a later call replaced it:
 * only the set's own options (sink_set_opts) point into the last @o.
 */
int sink_set_reconfigure(struct sink_set *set, const struct output_opts *o,
			 char *err, size_t errlen);
/* Every counter: those of read_counters, then each sink's own. */
void sink_set_counters(struct sink_set *set, struct counter_values *cv);
/* Events a sink could not write or queue so far. */
uint64_t sink_set_errors(const struct sink_set *set);
/*
 * Whose they were, so that a command blames the output that failed: calls
 * @fn once per sink name (sink_ops.name: "html", "webhook", ...) whose
 * sinks lost events, with their sum, in the order of the sinks (those a
 * reload closed are no longer named); then, if any, with a NULL name for the events no sink saw (their JSON document
 * could not be built: out of memory).
 */
void sink_set_each_error(const struct sink_set *set,
			 void (*fn)(void *ctx, const char *name, uint64_t lost),
			 void *ctx);
void sink_set_close(struct sink_set *set);

/* For sink files: adds @s, which the set owns from now on: on failure
 * (-ENOMEM, said in @err) @s is closed. */
int sink_set_add(struct sink_set *set, struct sink *s, char *err, size_t errlen);
/* The options the set was opened with. */
const struct output_opts *sink_set_opts(const struct sink_set *set);
/* For unchanged(): the same strings (both NULL counts), the same lists. */
bool sink_str_same(const char *a, const char *b);
bool sink_strv_same(const char *const *a, int na, const char *const *b, int nb);

#endif
