// SPDX-License-Identifier: MIT
/* tlswatch inventory --html (also `tlswatch report`): the agent's event
 * history in the database as the HTML report's page; without history,
 * the inventory table as that page. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "common/output_file.h"
#include "inventory/inventory.h"
#include "sink/history_store.h"
#include "sink/html_report.h"

static int add_row(void *ctx, const struct inventory_leaf *l, bool current)
{
	struct html_agg *agg = ctx;
	const struct html_served s = {
		.name = l->name, .addr = l->addr, .port = l->port,
		.sha256 = l->sha256, .subject = l->subject, .issuer = l->issuer,
		.key = l->key, .not_before = l->not_before, .not_after = l->not_after,
		.first_seen_us = l->first_seen_us, .last_seen_us = l->last_seen_us,
		.count = l->count > 0 ? (uint64_t)l->count : 0,
		.findings = l->findings,
	};

	/* With a history, the inventory adds the findings of the latest
	 * checks (a CRL or OCSP answer that came later). */
	if (agg->from_history)
		html_agg_inventory_findings(agg, l->sha256, l->findings);
	else
		html_agg_served(agg, &s);
	return 0;
}

/* @path opened as analyze's --html opens its page (common/output_file.h),
 * and emptied: the page is written at once. NULL with *@rc (-errno). */
static FILE *open_page(const char *path, int *rc)
{
	struct tw_output o;
	FILE *f = tw_output_fopen(path, &o, rc);

	if (!f)
		return NULL;
	tw_output_forget_created(&o);
	*rc = tw_output_empty(fileno(f));
	if (*rc) {
		fclose(f);
		return NULL;
	}
	return f;
}

static int write_page(const struct html_agg *agg, const char *path)
{
	int rc = 0;
	FILE *f = strcmp(path, "-") ? open_page(path, &rc) : stdout;

	if (!f) {
		fprintf(stderr, "tlswatch inventory: --html %s: %s\n", path,
			tw_output_error(rc));
		return EXIT_INPUT;
	}
	rc = html_render(agg, f);
	if (f == stdout)
		return rc < 0 ? cli_stdout_written("tlswatch inventory") : EXIT_OK;
	if (fclose(f) != 0)
		rc = -EIO;
	if (rc < 0) {
		fprintf(stderr, "tlswatch inventory: --html %s: cannot write the page\n", path);
		return EXIT_INPUT;
	}
	return EXIT_OK;
}

/* The history rows into @agg (none in a file older than schema 3). */
static int load_history(const char *db, const struct history_window *w,
			struct html_agg *agg, char *err, size_t errlen)
{
	struct inventory *inv;
	int64_t rows = 0;
	int version;

	if (inventory_open_readonly(db, &inv, err, errlen) < 0)
		return -1;
	version = inventory_version(inv);
	if (version >= 3)
		rows = history_store_load(inventory_sqlite(inv), version, w, agg,
					  err, errlen);
	inventory_close(inv);
	if (rows < 0)
		return -1;
	if (rows == 0)
		html_agg_reset(agg);
	agg->has_summary = agg->from_history;
	/* without history the page is the inventory's, rows or none: it does
	 * not know about spikes or alerts, and must not say "none" */
	agg->from_inventory = !agg->from_history;
	return 0;
}

int inventory_write_html(const char *db, const char *html, uint64_t since_us,
			 uint64_t until_us)
{
	const struct history_window w = { .since_us = since_us, .until_us = until_us };
	struct html_agg *agg = html_agg_new();
	char err[512];
	int rc;

	if (!agg) {
		fprintf(stderr, "tlswatch inventory: out of memory\n");
		return EXIT_INTERNAL;
	}
	if (load_history(db, &w, agg, err, sizeof(err)) < 0 ||
	    inventory_foreach(db, add_row, agg, err, sizeof(err)) < 0) {
		fprintf(stderr, "tlswatch inventory: %s\n", err);
		rc = EXIT_INPUT;
	} else {
		snprintf(agg->title, sizeof(agg->title), "%s %s",
			 agg->from_history ? "agent history" : "inventory", db);
		agg->since_us = since_us;
		agg->until_us = until_us;
		if (agg->counts_clamped)
			fprintf(stderr, "tlswatch inventory: %s: %llu counts of the "
				"event history are over %llu, which no agent writes "
				"(a damaged file?): the page shows them as %llu\n", db,
				(unsigned long long)agg->counts_clamped,
				HTML_COUNT_MAX, HTML_COUNT_MAX);
		rc = write_page(agg, html);
	}
	html_agg_free(agg);
	return rc;
}
