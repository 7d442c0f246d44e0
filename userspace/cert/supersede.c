// SPDX-License-Identifier: MIT
/* The superseded finding, from the inventory's per-name history. */
#include <stdio.h>
#include <string.h>

#include "common/printable.h"
#include "common/timefmt.h"
#include "supersede.h"

int supersede_judge(struct inventory *inv, const char *name,
		    const struct tw_endpoint *server, const struct cert_info *leaf,
		    uint64_t ts_us, struct supersede_verdict *out, char *err,
		    size_t errlen)
{
	struct inventory_leaf newer;
	char addr[TW_ADDR_STRLEN];
	int rc;

	memset(out, 0, sizeof(*out));
	if (!inv || !leaf || !server)
		return 0;
	addr[0] = 0;
	if (server->addr.family == 4 || server->addr.family == 6)
		tw_addr_format(&server->addr, addr);
	rc = inventory_find_newer(inv, name ? name : "", addr, server->port,
				  leaf->sha256_hex, leaf->not_before, leaf->key,
				  ts_us, &newer, err, errlen);
	if (rc < 0)
		return -1;
	if (rc == 1) {
		out->superseded = true;
		snprintf(out->newer_sha256, sizeof(out->newer_sha256), "%s",
			 newer.sha256);
		out->newer_not_before = newer.not_before;
		out->newer_first_seen_us = newer.first_seen_us;
	}
	return 0;
}

void supersede_detail(const struct supersede_verdict *v, const char *name,
		      char *buf, size_t len)
{
	char nb[TW_TIME_STRLEN], seen[TW_TIME_STRLEN], shown[96];

	tw_printable(name ? name : "", name ? strlen(name) : 0, shown,
		     sizeof(shown));
	snprintf(buf, len, "newer certificate %s (not_before %s) was served for "
		 "%s since %s", v->newer_sha256,
		 tw_time_format_s(v->newer_not_before, nb),
		 shown[0] ? shown : "this address",
		 tw_time_format_us(v->newer_first_seen_us, seen));
}
