// SPDX-License-Identifier: MIT
/* What each option does to struct cli_opts. Values arrive checked against
 * the type and bounds of option_table.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_opts.h"
#include "cert/expect.h"
#include "common/comma_list.h"
#include "common/timefmt.h"
#include "net/http_server.h"
#include "tlswatch/event.h"

static int add_port(struct cli_opts *o, unsigned long port, char *err, size_t errlen)
{
	int i;

	for (i = 0; i < o->n_ports; i++)
		if (o->ports[i] == port)
			return 0;     /* said twice: one port ("ports" lists it once) */
	if (o->n_ports == CLI_MAX_PORTS) {
		snprintf(err, errlen, "at most %d ports", CLI_MAX_PORTS);
		return -EXIT_USAGE;
	}
	o->ports[o->n_ports++] = (uint16_t)port;
	return 0;
}

/* Whether @arg is one of --uprobes' modes (CLI_UPROBES_MODES). */
static bool uprobes_mode(const char *arg)
{
	return cli_option_choice(CLI_OPT_UPROBES, arg, NULL, 0) >= 0;
}

int cli_uprobes_mode(const struct cli_opts *o)
{
	int i;

	if (o->n_uprobes == 0)
		return CLI_UPROBES_OFF;   /* the default: none given */
	/* a mode is given alone (add_uprobes) */
	i = cli_option_choice(CLI_OPT_UPROBES, o->uprobes[0], NULL, 0);
	return i < 0 ? -1 : i;
}

/* --uprobes: 'auto' or 'off' alone (the last one given wins), or paths. */
static int add_uprobes(struct cli_opts *o, const char *arg, char *err,
		       size_t errlen)
{
	bool mode = uprobes_mode(arg);

	if (mode || (o->n_uprobes == 1 && uprobes_mode(o->uprobes[0])))
		o->n_uprobes = 0;
	if (!mode && arg[0] != '/') {
		snprintf(err, errlen, "'%s' is not "
			 CLI_UPROBES_MODES(CLI_CHOICE_QUOTED_)
			 "or an absolute library path", arg);
		return -EXIT_USAGE;
	}
	return check_opts_add(o->uprobes, &o->n_uprobes, CLI_MAX_UPROBES,
			      "library paths", arg, err, errlen);
}

/* --direction: CLI_DIRECTIONS. */
static int set_direction(struct cli_opts *o, const char *arg, char *err,
			 size_t errlen)
{
	int i = cli_option_choice(CLI_OPT_DIRECTION, arg, err, errlen);

	if (i < 0)
		return i;
	o->served_only = i == CLI_DIRECTION_SERVED;
	return 0;
}

/* The table's least --ring-buffer (16 KiB) is the kernel side's. */
_Static_assert((TW_RINGBUF_MIN >> 10) == 16,
	       "--ring-buffer's minimum in option_table.h is TW_RINGBUF_MIN");

/* The kernel takes only a power of two (whole pages). */
static int set_ring_buffer(struct cli_opts *o, unsigned long kib, char *err,
			   size_t errlen)
{
	if (kib & (kib - 1)) {
		snprintf(err, errlen, "'%lu' is not a power of two (16, 32, ... 1048576)", kib);
		return -EXIT_USAGE;
	}
	o->ring_buffer_kib = (unsigned)kib;
	return 0;
}

/* One item of --fail-on: a finding kind or "spike". */
static int fail_on_item(const char *tok, uint32_t *mask, char *err, size_t errlen)
{
	int k;

	if (!*tok) {
		snprintf(err, errlen, "an empty item (a comma too many, or none given)");
		return -EXIT_USAGE;
	}
	if (strcmp(tok, FAIL_ON_SPIKE_NAME) == 0) {
		*mask |= FAIL_ON_SPIKE;
		return 0;
	}
	k = finding_kind_parse(tok);
	if (k < 0) {
		snprintf(err, errlen, "unknown finding kind '%s'", tok);
		return -EXIT_USAGE;
	}
	*mask |= 1u << k;
	return 0;
}

/* Comma-separated, every item named: "expired,,revoked" and "expired,"
 * are refused like --webhook-events'. */
static int parse_fail_on(const char *arg, uint32_t *mask, char *err, size_t errlen)
{
	char *copy = strdup(arg);
	const char *p = copy, *item;
	size_t n;
	int rc = 0;

	if (!copy) {
		snprintf(err, errlen, "out of memory");
		return -EXIT_INTERNAL;
	}
	while (!rc && comma_list_next(&p, &item, &n)) {
		/* the item ends the copy's string here (its comma, if any, is
		 * behind p): fail_on_item names it in its message */
		copy[item - copy + n] = '\0';
		rc = fail_on_item(item, mask, err, errlen);
	}
	if (!rc && comma_list_ends_empty(arg))
		rc = fail_on_item("", mask, err, errlen);
	free(copy);
	return rc;
}

/* "'x' is not a list of critical, warning, ...": the selectors'
 * names, from the list they are parsed with. */
static void webhook_events_refused(const char *arg, char *err, size_t errlen)
{
	const char *name;
	size_t off;
	int i;

	off = (size_t)snprintf(err, errlen, "'%s' is not a list of ", arg);
	for (i = 0; (name = webhook_selector_name((enum webhook_selector)i)) &&
		    off < errlen; i++)
		off += (size_t)snprintf(err + off, errlen - off, "%s%s", i ? ", " : "", name);
}

/* --since, --until: "2026-12-06T14:00:00Z" as µs since the epoch. */
static int parse_utc(const char *arg, uint64_t *us, bool *given, char *err,
		     size_t errlen)
{
	int64_t s;

	if (tw_time_parse_s(arg, &s) < 0 || s < 0) {
		snprintf(err, errlen, "'%s' is not a UTC time such as "
			 "2026-12-06T14:00:00Z", arg);
		return -EXIT_USAGE;
	}
	*us = (uint64_t)s * 1000000;
	*given = true;
	return 0;
}

static int apply_general(struct cli_opts *o, enum cli_opt id, const char *arg,
			 unsigned long u, char *err, size_t errlen)
{
	switch (id) {
	case CLI_OPT_JSON:            o->json = true; return 0;
	case CLI_OPT_HTML:            o->out.html_path = arg; return 0;
	case CLI_OPT_SINCE:
		return parse_utc(arg, &o->since_us, &o->since_given, err, errlen);
	case CLI_OPT_UNTIL:
		return parse_utc(arg, &o->until_us, &o->until_given, err, errlen);
	case CLI_OPT_PORT:            return add_port(o, u, err, errlen);
	case CLI_OPT_IFACE:
		return check_opts_add(o->ifaces, &o->n_ifaces, CLI_MAX_IFACES,
				      "interfaces", arg, err, errlen);
	case CLI_OPT_UDP_ENCAP:
		return tw_udp_encap_add(&o->udp_encap, arg, err, errlen) ? -EXIT_USAGE : 0;
	case CLI_OPT_JSON_LOG:        o->log_path = arg; return 0;
	case CLI_OPT_DIRECTION:       return set_direction(o, arg, err, errlen);
	case CLI_OPT_UPROBES:         return add_uprobes(o, arg, err, errlen);
	case CLI_OPT_NO_ACTIVE_CHECK: o->active = false; return 0;
	case CLI_OPT_STATS_INTERVAL:  o->stats_interval_s = (unsigned)u; return 0;
	case CLI_OPT_DIR_BUDGET:      o->dir_budget = (unsigned)u; return 0;
	case CLI_OPT_HANDSHAKE_MEMORY: o->handshake_memory_mib = (unsigned)u; return 0;
	case CLI_OPT_RING_BUFFER:     return set_ring_buffer(o, u, err, errlen);
	case CLI_OPT_FLOW_MAP:        o->flow_map_entries = (unsigned)u; return 0;
	case CLI_OPT_DB:              o->check.health.db_path = arg; return 0;
	case CLI_OPT_FAIL_ON:         return parse_fail_on(arg, &o->fail_on, err, errlen);
	case CLI_OPT_CONFIG:          o->config_path = arg; return 0;
	case CLI_OPT_SHOW_CONFIG:     o->show_config = true; return 0;
	/* each undoes the other: the command line's wins over the file's */
	case CLI_OPT_QUIET:           o->quiet = true; o->verbose = 0; return 0;
	case CLI_OPT_VERBOSE:         o->verbose++; o->quiet = false; return 0;
	case CLI_OPT_HELP:            o->help = true; return 0;
	default:                      return 1;
	}
}

static int apply_check(struct check_opts *co, enum cli_opt id, const char *arg,
		       unsigned long u, double d, char *err, size_t errlen)
{
	struct cert_health_opts *h = &co->health;

	switch (id) {
	case CLI_OPT_CA_FILE:        h->ca_file = arg; return 0;
	case CLI_OPT_CA_DIR:         h->ca_dir = arg; return 0;
	case CLI_OPT_CRL:
		return check_opts_add(co->crl_files, &h->n_crl, CHECK_MAX_CRL,
				      "CRL files", arg, err, errlen);
	case CLI_OPT_ONLINE:         h->online = true; return 0;
	case CLI_OPT_NO_ONLINE:      h->online = false; return 0;
	case CLI_OPT_OCSP_TIMEOUT:   h->ocsp_timeout_ms = (int)u; return 0;
	case CLI_OPT_STAPLE_MAX_AGE: h->staple_max_age_s = (int64_t)u; return 0;
	case CLI_OPT_EXPECT:
		if (expect_spec_check(arg, err, errlen) < 0)
			return -EXIT_USAGE;
		return check_opts_add(co->expects, &h->n_expects, CHECK_MAX_EXPECT,
				      "expected leaves", arg, err, errlen);
	case CLI_OPT_EXPECT_DIR:     h->expect_dir = arg; return 0;
	/* 0 in leaf_check_opts means "default"; --warn-days 0 means off. */
	case CLI_OPT_WARN_DAYS:      co->leaf.warn_days = u ? (int)u : -1; return 0;
	case CLI_OPT_SPIKE_WINDOW:   co->spike.window_s = (uint32_t)u; return 0;
	case CLI_OPT_SPIKE_FACTOR:   co->spike.factor = d; return 0;
	case CLI_OPT_SPIKE_MIN_FAILURES: co->spike.min_failures = (uint32_t)u; return 0;
	case CLI_OPT_NO_SPIKES:      co->no_spikes = true; return 0;
	default:                     return 1;
	}
}

static int apply_output(struct output_opts *out, enum cli_opt id, const char *arg,
			unsigned long u, char *err, size_t errlen)
{
	switch (id) {
	case CLI_OPT_WEBHOOK:
		return output_opts_add_url(out->webhooks, &out->n_webhooks, arg, err, errlen);
	case CLI_OPT_WEBHOOK_EVENTS:
		if (webhook_events_parse(arg, &out->webhook_events) < 0) {
			webhook_events_refused(arg, err, errlen);
			return -EXIT_USAGE;
		}
		return 0;
	case CLI_OPT_WEBHOOK_SECRET_FILE: out->webhook_secret_file = arg; return 0;
	case CLI_OPT_WEBHOOK_CA_FILE:   out->webhook_ca_file = arg; return 0;
	case CLI_OPT_WEBHOOK_FORMAT: {
		/* the table's ARG is WEBHOOK_FORMATS: the index is the enum */
		int i = cli_option_choice(CLI_OPT_WEBHOOK_FORMAT, arg, err, errlen);

		if (i < 0)
			return i;
		out->webhook_format = (enum webhook_format)i;
		return 0;
	}
	case CLI_OPT_WEBHOOK_COOLDOWN:  out->webhook_cooldown_s = (unsigned)u; return 0;
	case CLI_OPT_WEBHOOK_TIMEOUT:   out->webhook_timeout_ms = (unsigned)u * 1000; return 0;
	case CLI_OPT_WEBHOOK_RETRY_MAX: out->webhook_retry_max_s = (unsigned)u; return 0;
	case CLI_OPT_WEBHOOK_OUTBOX_MAX: out->webhook_outbox_max = (unsigned)u; return 0;
	case CLI_OPT_ALERTMANAGER:
		return output_opts_add_url(out->alertmanagers, &out->n_alertmanagers, arg,
					   err, errlen);
	case CLI_OPT_ALERTMANAGER_RESEND: out->alertmanager_resend_s = (unsigned)u; return 0;
	case CLI_OPT_INSTANCE:          out->instance = arg; return 0;
	case CLI_OPT_METRICS:
		if (http_server_check_addr(arg, err, errlen) < 0)
			return -EXIT_USAGE;
		/* fall through */
	case CLI_OPT_NO_METRICS:
		out->metrics_addr = id == CLI_OPT_METRICS ? arg : NULL;
		out->metrics_optional = false;
		return 0;
	default:
		return 1;
	}
}

int cli_opt_apply(struct cli_opts *o, enum cli_opt id, const char *arg,
		  unsigned long u, double d, char *err, size_t errlen)
{
	int rc = apply_general(o, id, arg, u, err, errlen);

	if (rc > 0)
		rc = apply_check(&o->check, id, arg, u, d, err, errlen);
	if (rc > 0)
		rc = apply_output(&o->out, id, arg, u, err, errlen);
	return rc;
}

void cli_opt_clear(struct cli_opts *o, enum cli_opt id)
{
	switch (id) {
	case CLI_OPT_PORT:         o->n_ports = 0; break;
	case CLI_OPT_IFACE:        o->n_ifaces = 0; break;
	case CLI_OPT_UPROBES:      o->n_uprobes = 0; break;
	case CLI_OPT_UDP_ENCAP:    o->udp_encap = tw_udp_encap_default; break;
	case CLI_OPT_FAIL_ON:      o->fail_on = 0; break;
	case CLI_OPT_VERBOSE:      o->verbose = 0; break;
	case CLI_OPT_CRL:          o->check.health.n_crl = 0; break;
	case CLI_OPT_EXPECT:       o->check.health.n_expects = 0; break;
	case CLI_OPT_WEBHOOK:      o->out.n_webhooks = 0; break;
	case CLI_OPT_ALERTMANAGER: o->out.n_alertmanagers = 0; break;
	default:                   break;
	}
}
