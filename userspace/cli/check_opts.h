/* SPDX-License-Identifier: MIT */
/* Options shared by analyze and run: certificate checks and spike detection. */
#ifndef TW_CHECK_OPTS_H
#define TW_CHECK_OPTS_H

#include <getopt.h>
#include <stdbool.h>

#include "cert/findings.h"
#include "cert/health.h"
#include "detect/spike.h"

#define CHECK_MAX_CRL 64
#define CHECK_MAX_EXPECT 1024

struct check_opts {
	struct cert_health_opts health;
	const char *crl_files[CHECK_MAX_CRL];
	const char *expects[CHECK_MAX_EXPECT];
	struct leaf_check_opts leaf;
	struct spike_opts spike;
	bool no_spikes;
};

enum {
	OPT_CA_FILE = 512, OPT_CA_DIR, OPT_CRL, OPT_ONLINE, OPT_NO_ONLINE,
	OPT_OCSP_TIMEOUT, OPT_STAPLE_MAX_AGE, OPT_EXPECT, OPT_EXPECT_DIR, OPT_DB,
	OPT_WARN_DAYS, OPT_SPIKE_WINDOW, OPT_SPIKE_FACTOR, OPT_SPIKE_MIN_FAILURES,
	OPT_NO_SPIKES,
};

#define CHECK_LONG_OPTIONS                                                   \
	{ "ca-file", required_argument, NULL, OPT_CA_FILE },                 \
	{ "ca-dir", required_argument, NULL, OPT_CA_DIR },                   \
	{ "crl", required_argument, NULL, OPT_CRL },                         \
	{ "online", no_argument, NULL, OPT_ONLINE },                         \
	{ "no-online", no_argument, NULL, OPT_NO_ONLINE },                   \
	{ "ocsp-timeout", required_argument, NULL, OPT_OCSP_TIMEOUT },       \
	{ "staple-max-age", required_argument, NULL, OPT_STAPLE_MAX_AGE },   \
	{ "expect", required_argument, NULL, OPT_EXPECT },                   \
	{ "expect-dir", required_argument, NULL, OPT_EXPECT_DIR },           \
	{ "db", required_argument, NULL, OPT_DB },                           \
	{ "warn-days", required_argument, NULL, OPT_WARN_DAYS },             \
	{ "spike-window", required_argument, NULL, OPT_SPIKE_WINDOW },       \
	{ "spike-factor", required_argument, NULL, OPT_SPIKE_FACTOR },       \
	{ "spike-min-failures", required_argument, NULL, OPT_SPIKE_MIN_FAILURES }, \
	{ "no-spikes", no_argument, NULL, OPT_NO_SPIKES }

/* The help text of these options, for --help. */
extern const char check_opts_help[];

/* Defaults: @online and @db (NULL: in-memory inventory) differ per command. */
void check_opts_init(struct check_opts *co, bool online, const char *db);
/* 1: @c was a check option and is applied; 0: not one; -1: bad value
 * (the message is printed). */
int check_opts_parse(const char *cmd, int c, const char *arg, struct check_opts *co);
/* Opens the checker. A database that cannot be used is a warning (the
 * inventory is kept in memory); bad files are errors. Returns 0 or -1. */
int check_opts_open(const char *cmd, struct check_opts *co, struct cert_health **out);

#endif
