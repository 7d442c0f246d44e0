// SPDX-License-Identifier: MIT
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "output_opts.h"

const char output_opts_help[] =
"Alert delivery:\n"
"  --webhook URL          POST selected events to URL (repeatable, http or\n"
"                         https); a durable outbox in the --db file keeps\n"
"                         them until the receiver answers 2xx\n"
"  --webhook-events LIST  which events (comma-separated): critical (cert\n"
"                         events with a critical finding), warning, cert,\n"
"                         spike, agent-error, agent, handshake, summary\n"
"                         (default: critical,spike,agent-error)\n"
"  --webhook-secret-file FILE\n"
"                         sign each request with the key in FILE (mode 0600\n"
"                         or stricter): header Tlswatch-Signature\n"
"  --webhook-format F     json (the event, default) or slack (one readable\n"
"                         message for chat incoming-webhooks)\n"
"  --webhook-cooldown SECS\n"
"                         the same finding for the same certificate and name\n"
"                         is not sent again within SECS (1-604800, default\n"
"                         3600)\n"
"  --webhook-timeout SECS per request (1-300, default 10)\n"
"  --webhook-retry-max SECS\n"
"                         longest wait between two tries of a request\n"
"                         (1-86400, default 300)\n"
"  --alertmanager URL     push critical findings and spikes to the\n"
"                         Alertmanager at URL (its v2 API; repeatable)\n"
"  --instance NAME        the 'instance' label of Alertmanager alerts\n"
"                         (default: the host name)\n";

const char output_opts_metrics_help[] =
"  --metrics ADDR:PORT    serve Prometheus /metrics and /healthz there\n"
"                         (default 127.0.0.1:9733; [::1]:PORT for IPv6)\n"
"  --no-metrics           no HTTP server\n";

void output_opts_init(struct output_opts *o, const char *metrics_addr)
{
	memset(o, 0, sizeof(*o));
	o->webhook_events = WEBHOOK_EVENTS_DEFAULT;
	o->webhook_cooldown_s = 3600;
	o->webhook_timeout_ms = 10000;
	o->webhook_retry_max_s = 300;
	o->alertmanager_resend_s = 60;
	o->metrics_addr = metrics_addr;
	o->metrics_optional = true;
}

static bool is_http_url(const char *url)
{
	return strncmp(url, "http://", 7) == 0 || strncmp(url, "https://", 8) == 0;
}

static int add_url(const char *cmd, const char *opt, const char **list, int *n,
		   const char *url)
{
	if (!is_http_url(url)) {
		opt_usage_error(cmd, "%s: '%s' is not an http:// or https:// URL", opt, url);
		return -1;
	}
	if (*n == OUTPUT_MAX_URLS) {
		opt_usage_error(cmd, "%s: at most %d", opt, OUTPUT_MAX_URLS);
		return -1;
	}
	list[(*n)++] = url;
	return 1;
}

static int parse_seconds(const char *cmd, const char *opt, const char *arg,
			 unsigned long min, unsigned long max, unsigned *out)
{
	unsigned long v;

	if (!opt_parse_uint(cmd, opt, arg, min, max, &v))
		return -1;
	*out = (unsigned)v;
	return 1;
}

static int parse_webhook(const char *cmd, int c, const char *arg,
			 struct output_opts *o)
{
	unsigned s;

	switch (c) {
	case OPT_WEBHOOK:
		return add_url(cmd, "--webhook", o->webhooks, &o->n_webhooks, arg);
	case OPT_WEBHOOK_EVENTS:
		if (webhook_events_parse(arg, &o->webhook_events) < 0) {
			opt_usage_error(cmd, "--webhook-events: '%s' is not a list of critical, warning, cert, spike, agent-error, agent, handshake, summary", arg);
			return -1;
		}
		return 1;
	case OPT_WEBHOOK_SECRET:
		o->webhook_secret_file = arg;
		return 1;
	case OPT_WEBHOOK_FORMAT:
		if (strcmp(arg, "json") == 0)
			o->webhook_format = WEBHOOK_FORMAT_JSON;
		else if (strcmp(arg, "slack") == 0)
			o->webhook_format = WEBHOOK_FORMAT_SLACK;
		else {
			opt_usage_error(cmd, "--webhook-format: '%s' is not json or slack", arg);
			return -1;
		}
		return 1;
	case OPT_WEBHOOK_COOLDOWN:
		return parse_seconds(cmd, "--webhook-cooldown", arg, 1, 604800,
				     &o->webhook_cooldown_s);
	case OPT_WEBHOOK_TIMEOUT:
		if (parse_seconds(cmd, "--webhook-timeout", arg, 1, 300, &s) < 0)
			return -1;
		o->webhook_timeout_ms = s * 1000;
		return 1;
	case OPT_WEBHOOK_RETRY_MAX:
		return parse_seconds(cmd, "--webhook-retry-max", arg, 1, 86400,
				     &o->webhook_retry_max_s);
	default:
		return 0;
	}
}

int output_opts_parse(const char *cmd, int c, const char *arg,
		      struct output_opts *o, bool metrics)
{
	int rc = parse_webhook(cmd, c, arg, o);

	if (rc)
		return rc;
	switch (c) {
	case OPT_ALERTMANAGER:
		return add_url(cmd, "--alertmanager", o->alertmanagers,
			       &o->n_alertmanagers, arg);
	case OPT_INSTANCE:
		o->instance = arg;
		return 1;
	case OPT_METRICS:
	case OPT_NO_METRICS:
		if (!metrics) {
			opt_usage_error(cmd, "%s: only 'tlswatch run' serves metrics",
					c == OPT_METRICS ? "--metrics" : "--no-metrics");
			return -1;
		}
		o->metrics_addr = c == OPT_METRICS ? arg : NULL;
		o->metrics_optional = false;
		return 1;
	default:
		return 0;
	}
}
