// SPDX-License-Identifier: MIT
/* tlswatch inventory --html (also `tlswatch report`): the inventory
 * database as the HTML report's page. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "inventory/inventory.h"
#include "sink/html_report.h"

static int add_row(void *ctx, const struct inventory_leaf *l, bool current)
{
	const struct html_served s = {
		.name = l->name, .addr = l->addr, .port = l->port,
		.sha256 = l->sha256, .subject = l->subject, .issuer = l->issuer,
		.key = l->key, .not_before = l->not_before, .not_after = l->not_after,
		.first_seen_us = l->first_seen_us, .last_seen_us = l->last_seen_us,
		.count = l->count > 0 ? (uint64_t)l->count : 0,
		.findings = l->findings,
	};

	html_agg_served(ctx, &s);
	return 0;
}

static int write_page(const struct html_agg *agg, const char *path)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "w") : stdout;
	int rc;

	if (!f) {
		fprintf(stderr, "tlswatch inventory: --html %s: %s\n", path, strerror(errno));
		return EXIT_INPUT;
	}
	rc = html_render(agg, f);
	if (f != stdout && fclose(f) != 0)
		rc = -EIO;
	if (rc < 0) {
		fprintf(stderr, "tlswatch inventory: %s: cannot write the page\n", path);
		return EXIT_INPUT;
	}
	return EXIT_OK;
}

int inventory_write_html(const char *db, const char *html)
{
	struct html_agg *agg = html_agg_new();
	char err[512];
	int rc;

	if (!agg) {
		fprintf(stderr, "tlswatch inventory: out of memory\n");
		return EXIT_INTERNAL;
	}
	snprintf(agg->title, sizeof(agg->title), "inventory %s", db);
	if (inventory_foreach(db, add_row, agg, err, sizeof(err)) < 0) {
		fprintf(stderr, "tlswatch inventory: %s\n", err);
		rc = EXIT_INPUT;
	} else {
		rc = write_page(agg, html);
	}
	html_agg_free(agg);
	return rc;
}
