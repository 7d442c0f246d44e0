/* SPDX-License-Identifier: MIT */
/* Options shared by analyze and run: certificate checks and spike detection. */
#ifndef TW_CHECK_OPTS_H
#define TW_CHECK_OPTS_H

#include <stdbool.h>
#include <stddef.h>

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
	/* set by check_opts_open(): why the --db is kept in memory, or "" */
	char db_warning[512];
};

/* Defaults: @online and @db (NULL: in-memory inventory) differ per command. */
void check_opts_init(struct check_opts *co, bool online, const char *db);
/* Appends @arg to a list of at most @max @what ("CRL files"). 0, or
 * -EXIT_USAGE with @err ("at most 64 CRL files"). */
int check_opts_add(const char **list, int *n, int max, const char *what,
		   const char *arg, char *err, size_t errlen);
/* Opens the checker. A database that cannot be used is a warning (the
 * inventory is kept in memory); bad files are errors. Returns 0 or -1. */
int check_opts_open(const char *cmd, struct check_opts *co, struct cert_health **out);

#endif
