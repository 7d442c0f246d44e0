// SPDX-License-Identifier: MIT
#include <stdio.h>
#include <string.h>

#include "check_opts.h"
#include "cli.h"
#include "common/log.h"

void check_opts_init(struct check_opts *co, bool online, const char *db)
{
	memset(co, 0, sizeof(*co));
	co->health.online = online;
	co->health.db_path = db;
	co->health.crl_files = co->crl_files;
	co->health.expects = co->expects;
}

int check_opts_add(const char **list, int *n, int max, const char *what,
		   const char *arg, char *err, size_t errlen)
{
	if (*n == max) {
		snprintf(err, errlen, "at most %d %s", max, what);
		return -EXIT_USAGE;
	}
	list[(*n)++] = arg;
	return 0;
}

int check_opts_open(const char *cmd, struct check_opts *co, struct cert_health **out)
{
	char err[512];
	int rc = cert_health_open(&co->health, out, err, sizeof(err));

	if (rc < 0) {
		fprintf(stderr, "tlswatch %s: %s\n", cmd, err);
		return -1;
	}
	if (rc > 0) {
		pr_warn("%s\n", err);
		snprintf(co->db_warning, sizeof(co->db_warning), "%s", err);
	}
	return 0;
}
