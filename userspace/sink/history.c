// SPDX-License-Identifier: MIT
/*
 * The event history sink (the agent with a --db file): the events of
 * each second go into an html_agg (the HTML report's own aggregation),
 * which the tick writes as rows of the inventory's history tables in one
 * transaction (history_store.c), then empties. Per event, only the
 * aggregation's work in memory; SQLite once a second at most, and not at
 * all while nothing happens. `tlswatch report --db` reads it back.
 *
 * A database that cannot be opened, or a write that fails, costs the
 * history, never the agent: said once on standard error, counted. A file
 * system that turned read-only is opened again by its path every
 * HISTORY_REOPEN_US (inventory_reopen()), so the history resumes once the
 * repaired one is mounted there again.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "history_store.h"
#include "inventory/inventory.h"
#include "sink.h"

#define HISTORY_WRITE_US 1000000ull     /* a transaction a second at most */
#define HISTORY_REOPEN_US 5000000ull    /* a read-only file: opened again */

struct history {
	struct sink base;               /* first: the sink is cast to it */
	struct inventory *inv;          /* its own connection to the file */
	struct history_store *store;
	struct html_agg *second;        /* the events since the last write */
	bool pending;
	uint64_t written_us;            /* the tick of the last write */
	uint64_t failures;              /* writes that failed in a row */
	char *db_path;
	bool read_only;                 /* the last write failed: read-only */
	uint64_t reopened_us;           /* the tick of the last try */
};

static void history_flush(struct history *h)
{
	char err[512];

	if (!h->pending)
		return;
	if (history_store_write(h->store, h->second, HISTORY_KEEP_S, err,
				sizeof(err)) < 0) {
		if (!h->failures++)
			pr_warn("%s: the event history misses this second and the "
				"next ones until a write succeeds\n", err);
		/* cleared by the reopen only: once the repaired file system
		 * is mounted, the old connection still fails */
		if (!h->read_only)
			h->read_only = inventory_fs_read_only(h->db_path);
	} else {
		if (h->failures)
			pr_info("event history: written again after %llu failed writes\n",
				(unsigned long long)h->failures);
		h->failures = 0;
	}
	/* Written or not, the second is over: memory stays bounded. */
	html_agg_reset(h->second);
	h->pending = false;
}

static int history_event(struct sink *s, const struct event *ev,
			 const char *json, size_t len)
{
	struct history *h = (struct history *)s;

	switch (ev->type) {
	case EVENT_HANDSHAKE:
		html_agg_handshake(h->second, ev->handshake);
		break;
	case EVENT_CERT:
		html_agg_cert(h->second, ev->cert);
		break;
	case EVENT_SPIKE:
		html_agg_spike(h->second, ev->spike);
		break;
	default:
		return 0;
	}
	h->pending = true;
	return 0;
}

/* A file system turned read-only (see the top): the file, opened again, takes
 * over once it can be written. */
static void history_reopen(struct history *h, uint64_t now_us)
{
	struct history_store *store;
	struct inventory *inv;
	char err[512];

	if (!h->read_only || now_us - h->reopened_us < HISTORY_REOPEN_US)
		return;
	h->reopened_us = now_us;
	if (inventory_reopen(h->db_path, &inv, err, sizeof(err)) != 1)
		return;
	if (history_store_open(inventory_sqlite(inv), &store, err, sizeof(err)) < 0) {
		inventory_close(inv);
		return;
	}
	history_store_close(h->store);
	inventory_close(h->inv);
	h->inv = inv;
	h->store = store;
	h->read_only = false;
	pr_info("event history %s: writable again\n", h->db_path);
}

static void history_tick(struct sink *s, uint64_t now_us)
{
	struct history *h = (struct history *)s;

	history_reopen(h, now_us);
	if (!h->pending || now_us - h->written_us < HISTORY_WRITE_US)
		return;
	h->written_us = now_us;
	history_flush(h);
}

static void history_close(struct sink *s)
{
	struct history *h = (struct history *)s;

	if (h->store)
		history_flush(h);
	history_store_close(h->store);
	inventory_close(h->inv);
	html_agg_free(h->second);
	free(h->db_path);
	free(h);
}

static const struct sink_ops history_ops = {
	.name = "history",
	.event = history_event,
	.tick = history_tick,
	.close = history_close,
};

int history_open(const struct output_opts *o, struct sink_set *set,
		 char *err, size_t errlen)
{
	struct history *h;
	char why[512];

	if (!o->history || !o->db_path)
		return 0;
	h = calloc(1, sizeof(*h));
	if (!h || !(h->second = html_agg_new()) || !(h->db_path = strdup(o->db_path))) {
		if (h)
			html_agg_free(h->second);
		free(h);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	h->base.ops = &history_ops;
	if (inventory_open(o->db_path, &h->inv, why, sizeof(why)) < 0 ||
	    history_store_open(inventory_sqlite(h->inv), &h->store, why,
			       sizeof(why)) < 0) {
		pr_warn("%s: no event history for tlswatch report\n", why);
		history_close(&h->base);
		return 0;
	}
	return sink_set_add(set, &h->base, err, errlen);
}
