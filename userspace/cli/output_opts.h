/* SPDX-License-Identifier: MIT */
/* Options shared by analyze and run: where reports are delivered. */
#ifndef TW_OUTPUT_OPTS_H
#define TW_OUTPUT_OPTS_H

#include <getopt.h>
#include <stdbool.h>

#include "sink/sink.h"

#define OUTPUT_DEFAULT_METRICS "127.0.0.1:9733"

enum {
	OPT_WEBHOOK = 768, OPT_WEBHOOK_EVENTS, OPT_WEBHOOK_SECRET,
	OPT_WEBHOOK_FORMAT, OPT_WEBHOOK_COOLDOWN, OPT_WEBHOOK_TIMEOUT,
	OPT_WEBHOOK_RETRY_MAX, OPT_ALERTMANAGER, OPT_METRICS, OPT_NO_METRICS,
	OPT_INSTANCE,
};

#define OUTPUT_LONG_OPTIONS                                                   \
	{ "webhook", required_argument, NULL, OPT_WEBHOOK },                  \
	{ "webhook-events", required_argument, NULL, OPT_WEBHOOK_EVENTS },    \
	{ "webhook-secret-file", required_argument, NULL, OPT_WEBHOOK_SECRET }, \
	{ "webhook-format", required_argument, NULL, OPT_WEBHOOK_FORMAT },    \
	{ "webhook-cooldown", required_argument, NULL, OPT_WEBHOOK_COOLDOWN }, \
	{ "webhook-timeout", required_argument, NULL, OPT_WEBHOOK_TIMEOUT },  \
	{ "webhook-retry-max", required_argument, NULL, OPT_WEBHOOK_RETRY_MAX }, \
	{ "alertmanager", required_argument, NULL, OPT_ALERTMANAGER },        \
	{ "metrics", required_argument, NULL, OPT_METRICS },                  \
	{ "no-metrics", no_argument, NULL, OPT_NO_METRICS },                  \
	{ "instance", required_argument, NULL, OPT_INSTANCE }

/* The help text of these options; @metrics: the command serves /metrics. */
extern const char output_opts_help[];
extern const char output_opts_metrics_help[];

/* Defaults; @metrics_addr is the default of --metrics (NULL: off). */
void output_opts_init(struct output_opts *o, const char *metrics_addr);
/* 1: @c was an output option and is applied; 0: not one; -1: bad value
 * (the message is printed). @metrics: whether --metrics is allowed. */
int output_opts_parse(const char *cmd, int c, const char *arg,
		      struct output_opts *o, bool metrics);

#endif
