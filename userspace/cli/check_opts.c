// SPDX-License-Identifier: MIT
#include <stdio.h>
#include <string.h>

#include "check_opts.h"
#include "cli.h"
#include "common/log.h"

const char check_opts_help[] =
"Certificate checks:\n"
"  --ca-file FILE         trust store: PEM file of CA certificates\n"
"                         (default: the system store)\n"
"  --ca-dir DIR           trust store: every PEM file in DIR\n"
"  --crl FILE             a CRL, PEM or DER (repeatable); applies to every\n"
"                         certificate of a chain whose issuer signed it\n"
"  --online, --no-online  query OCSP responders and fetch CRL distribution\n"
"                         points over HTTP (default: on for run, off for\n"
"                         analyze)\n"
"  --ocsp-timeout MS      per request (100-60000, default 5000)\n"
"  --staple-max-age SECS  stale_staple also when a staple is older than\n"
"                         this (default: only past its nextUpdate)\n"
"  --expect NAME=SHA256   the leaf deployed for NAME (repeatable); another\n"
"                         leaf served for NAME is 'unexpected'\n"
"  --expect-dir DIR       the PEM certificates deployed; names from SANs\n"
"  --db PATH              inventory database (SQLite) of served leaves, used\n"
"                         for 'superseded' across restarts\n"
"  --warn-days DAYS       expiring_soon window (0-3650, default 14; 0: off)\n"
"Failure spikes:\n"
"  --spike-window SECS    judging window (1-300, default 10)\n"
"  --spike-factor X       fire when the window's failure rate is X times the\n"
"                         learned rate and well outside its noise (1-1000,\n"
"                         default 3)\n"
"  --spike-min-failures N and at least N failures in the window (1-1000000,\n"
"                         default 20)\n"
"  --no-spikes            no spike detection\n";

void check_opts_init(struct check_opts *co, bool online, const char *db)
{
	memset(co, 0, sizeof(*co));
	co->health.online = online;
	co->health.db_path = db;
	co->health.crl_files = co->crl_files;
	co->health.expects = co->expects;
}

static int add_to(const char *cmd, const char *opt, const char **list, int *n,
		  int max, const char *arg)
{
	if (*n == max) {
		opt_usage_error(cmd, "%s: at most %d", opt, max);
		return -1;
	}
	list[(*n)++] = arg;
	return 1;
}

static int parse_spike(const char *cmd, int c, const char *arg, struct check_opts *co)
{
	unsigned long v;

	switch (c) {
	case OPT_SPIKE_WINDOW:
		if (!opt_parse_uint(cmd, "--spike-window", arg, 1, 300, &v))
			return -1;
		co->spike.window_s = (uint32_t)v;
		return 1;
	case OPT_SPIKE_FACTOR:
		return opt_parse_double(cmd, "--spike-factor", arg, 1, 1000,
					&co->spike.factor) ? 1 : -1;
	case OPT_SPIKE_MIN_FAILURES:
		if (!opt_parse_uint(cmd, "--spike-min-failures", arg, 1, 1000000, &v))
			return -1;
		co->spike.min_failures = (uint32_t)v;
		return 1;
	case OPT_NO_SPIKES:
		co->no_spikes = true;
		return 1;
	}
	return 0;
}

int check_opts_parse(const char *cmd, int c, const char *arg, struct check_opts *co)
{
	struct cert_health_opts *h = &co->health;
	unsigned long v;

	switch (c) {
	case OPT_CA_FILE:     h->ca_file = arg; return 1;
	case OPT_CA_DIR:      h->ca_dir = arg; return 1;
	case OPT_ONLINE:      h->online = true; return 1;
	case OPT_NO_ONLINE:   h->online = false; return 1;
	case OPT_EXPECT_DIR:  h->expect_dir = arg; return 1;
	case OPT_DB:          h->db_path = arg; return 1;
	case OPT_CRL:
		return add_to(cmd, "--crl", co->crl_files, &h->n_crl, CHECK_MAX_CRL, arg);
	case OPT_EXPECT:
		return add_to(cmd, "--expect", co->expects, &h->n_expects,
			      CHECK_MAX_EXPECT, arg);
	case OPT_OCSP_TIMEOUT:
		if (!opt_parse_uint(cmd, "--ocsp-timeout", arg, 100, 60000, &v))
			return -1;
		h->ocsp_timeout_ms = (int)v;
		return 1;
	case OPT_STAPLE_MAX_AGE:
		if (!opt_parse_uint(cmd, "--staple-max-age", arg, 1, 315360000, &v))
			return -1;
		h->staple_max_age_s = (int64_t)v;
		return 1;
	case OPT_WARN_DAYS:
		if (!opt_parse_uint(cmd, "--warn-days", arg, 0, 3650, &v))
			return -1;
		/* 0 in leaf_check_opts means "default"; --warn-days 0 means off. */
		co->leaf.warn_days = v ? (int)v : -1;
		return 1;
	}
	return parse_spike(cmd, c, arg, co);
}

int check_opts_open(const char *cmd, struct check_opts *co, struct cert_health **out)
{
	char err[512];
	int rc = cert_health_open(&co->health, out, err, sizeof(err));

	if (rc < 0) {
		fprintf(stderr, "tlswatch %s: %s\n", cmd, err);
		return -1;
	}
	if (rc > 0)
		pr_warn("%s\n", err);
	return 0;
}
