// SPDX-License-Identifier: MIT
/* The durable webhook outbox: storing, handing out, outcomes, the bound,
 * deduplication, and what survives closing the file. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

#include "check.h"
#include "db_peek.h"
#include "full_disk.h"
#include "deliver/backoff.h"
#include "deliver/outbox.h"
#include "inventory/inventory.h"

#define SEC 1000000LL
#define T0 (1700000000 * SEC)

static struct outbox *open_ob(const char *path, int64_t max_rows,
			      int64_t cooldown_s)
{
	struct outbox_opts o = { .max_rows = max_rows, .cooldown_s = cooldown_s };
	struct outbox *ob = NULL;
	char err[256] = "";

	if (outbox_open(path, &o, &ob, err, sizeof(err)))
		printf("#   outbox_open: %s\n", err);
	return ob;
}

/* A fresh file for one test; tmp_done removes it with its WAL files. */
static void tmp_path(char path[64])
{
	int fd;

	snprintf(path, 64, "/tmp/tw_outbox_XXXXXX");
	fd = mkstemp(path);
	CHECK(fd >= 0);
	if (fd >= 0)
		close(fd);
}

static void tmp_done(const char *path)
{
	char p[80];

	unlink(path);
	snprintf(p, sizeof(p), "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", path);
	unlink(p);
}

static int put(struct outbox *ob, const char *key, bool critical, int64_t now)
{
	return outbox_put(ob, "hook", key, critical, key, strlen(key), now);
}

/* The idempotency keys of what is due at @now, oldest first, joined by
 * spaces; the rows are then released, not in flight. */
static const char *due_keys(struct outbox *ob, int64_t now)
{
	static char out[256];
	struct outbox_item it[8];
	int n = outbox_due(ob, now, it, 8), i;

	out[0] = '\0';
	for (i = 0; i < n; i++) {
		snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%s",
			 i ? " " : "", it[i].idem_key);
		outbox_release(ob, it[i].id);
		outbox_item_release(&it[i]);
	}
	return n < 0 ? "(error)" : out;
}

/* An in-memory outbox holding "k1", handed out into @it. */
static struct outbox *one_in_flight(struct outbox_item *it)
{
	struct outbox *ob = open_ob(NULL, 0, 0);

	CHECK_INT(put(ob, "k1", false, T0), 0);
	CHECK_INT(outbox_due(ob, T0, it, 1), 1);
	return ob;
}

static void test_put_then_due_then_ack_empties_the_outbox(void)
{
	struct outbox *ob = open_ob(NULL, 0, 0);
	struct outbox_item it[4];

	CHECK_INT(outbox_put(ob, "hook", "k1", true, "{\"a\":1}", 7, T0), 0);
	CHECK_INT(outbox_depth(ob), 1);
	CHECK_INT(outbox_due(ob, T0, it, 4), 1);
	CHECK_STR(it[0].target, "hook");
	CHECK_STR(it[0].idem_key, "k1");
	CHECK_STR(it[0].body, "{\"a\":1}");
	CHECK_INT(it[0].body_len, 7);
	CHECK_INT(it[0].critical, 1);
	CHECK_INT(it[0].attempts, 0);
	CHECK_INT(it[0].created_us, T0);
	CHECK_INT(outbox_due(ob, T0, it + 1, 3), 0);     /* in flight */
	CHECK_INT(outbox_ack(ob, it[0].id), 0);
	CHECK_INT(outbox_ack(ob, it[0].id), -ENOENT);
	CHECK_INT(outbox_depth(ob), 0);
	CHECK_INT(outbox_stats(ob)->delivered, 1);
	outbox_item_release(&it[0]);
	outbox_close(ob);
}

static bool take_hook_b(void *ctx, const char *target, const char *order_key)
{
	(*(int *)ctx)++;
	return strcmp(target, "hook-b") == 0;
}

/* A busy receiver's rows, the oldest, are skipped and stay due; the
 * other receiver's come out. */
static void test_due_select_skips_rows_not_taken(void)
{
	struct outbox *ob = open_ob(NULL, 0, 0);
	struct outbox_item it[4];
	int asked = 0;

	CHECK_INT(outbox_put(ob, "hook-a", "a1", false, "1", 1, T0), 0);
	CHECK_INT(outbox_put(ob, "hook-a", "a2", false, "2", 1, T0), 0);
	CHECK_INT(outbox_put(ob, "hook-b", "b1", false, "3", 1, T0), 0);
	CHECK_INT(outbox_due_select(ob, T0, it, 1, take_hook_b, &asked), 1);
	CHECK_STR(it[0].idem_key, "b1");
	CHECK_INT(asked, 3);
	outbox_release(ob, it[0].id);
	outbox_item_release(&it[0]);
	CHECK_STR(due_keys(ob, T0), "a1 a2 b1");   /* none left in flight */
	outbox_close(ob);
}

static void test_duplicate_put_is_ignored(void)
{
	struct outbox *ob = open_ob(NULL, 0, 0);
	struct outbox_item it[4];

	CHECK_INT(outbox_put(ob, "hook", "k1", false, "first", 5, T0), 0);
	CHECK_INT(outbox_put(ob, "hook", "k1", true, "second", 6, T0 + 1), 1);
	CHECK_INT(outbox_put(ob, "other", "k1", false, "third", 5, T0 + 2), 0);
	CHECK_INT(outbox_depth(ob), 2);
	CHECK_INT(outbox_due(ob, T0 + 2, it, 4), 2);
	CHECK_STR(it[0].body, "first");
	CHECK_INT(it[0].critical, 0);
	CHECK_STR(it[1].target, "other");
	outbox_item_release(&it[0]);
	outbox_item_release(&it[1]);
	outbox_close(ob);
}

/* "resolved" waits while "firing", of the same target and order key, is
 * in flight, then retried; another key and another target go meanwhile. */
static void test_row_waits_for_an_earlier_row_of_its_order_key(void)
{
	struct outbox *ob = open_ob(NULL, 0, 0);
	struct outbox_item it[4], fire;

	CHECK_INT(outbox_put_ordered(ob, "hook", "fire", "spike|sni|a", OUTBOX_CRITICAL, "f", 1, T0), 0);
	CHECK_INT(outbox_put_ordered(ob, "hook", "other", "spike|sni|b", OUTBOX_CRITICAL, "o", 1, T0), 0);
	CHECK_INT(outbox_put_ordered(ob, "hook", "resolve", "spike|sni|a", OUTBOX_CRITICAL, "r", 1, T0), 0);
	CHECK_INT(outbox_put_ordered(ob, "hook-b", "fire-b", "spike|sni|a", OUTBOX_CRITICAL, "f", 1, T0), 0);
	CHECK_INT(outbox_due(ob, T0, it, 4), 3);
	CHECK_STR(it[0].idem_key, "fire");
	CHECK_STR(it[1].idem_key, "other");
	CHECK_STR(it[2].idem_key, "fire-b");
	fire = it[0];
	outbox_item_release(&it[1]);
	outbox_item_release(&it[2]);
	CHECK_INT(outbox_retry(ob, fire.id, T0 + SEC), 0);
	outbox_item_release(&fire);
	CHECK_INT(outbox_due(ob, T0, it, 4), 0);        /* firing retries later */
	CHECK_INT(outbox_due(ob, T0 + SEC, it, 4), 1);
	CHECK_STR(it[0].idem_key, "fire");
	CHECK_INT(outbox_ack(ob, it[0].id), 0);
	outbox_item_release(&it[0]);
	CHECK_STR(due_keys(ob, T0 + SEC), "resolve");
	outbox_close(ob);
}

/* Rows without an order key, or of different keys, keep no order. */
static void test_rows_without_an_order_key_are_not_held(void)
{
	struct outbox *ob = open_ob(NULL, 0, 0);
	struct outbox_item it[4];

	CHECK_INT(outbox_put(ob, "hook", "a", false, "a", 1, T0), 0);
	CHECK_INT(outbox_put_ordered(ob, "hook", "b", "", 0, "b", 1, T0), 0);
	CHECK_INT(outbox_due(ob, T0, it, 1), 1);
	CHECK_STR(it[0].idem_key, "a");
	CHECK_STR(it[0].order_key, "");
	CHECK_STR(due_keys(ob, T0), "b");
	outbox_release(ob, it[0].id);
	outbox_item_release(&it[0]);
	outbox_close(ob);
}

/* A URL no longer given: its rows go to each target given now (once per
 * alert), keeping their order; the targets' own rows stay as they were. */
static void test_retarget_gives_a_removed_targets_rows_to_the_given_ones(void)
{
	const char *now_given[] = { "new-1", "new-2" };
	struct outbox *ob = open_ob(NULL, 0, 0);
	struct outbox_item it[8];
	int n, i;

	CHECK_INT(outbox_put_ordered(ob, "old", "fire", "spike|x", OUTBOX_CRITICAL, "f", 1, T0), 0);
	CHECK_INT(outbox_retry(ob, 1, T0 + 60 * SEC), 0);   /* tried, failed */
	CHECK_INT(outbox_put_ordered(ob, "new-1", "fire", "spike|x", OUTBOX_CRITICAL, "f", 1, T0), 0);
	CHECK_INT(outbox_put_ordered(ob, "old", "resolve", "spike|x", OUTBOX_CRITICAL, "r", 1, T0), 0);
	CHECK_INT(outbox_retarget(ob, now_given, 2, T0 + SEC), 2);
	CHECK_INT(outbox_depth(ob), 4);   /* fire: new-1 (its own), new-2; resolve: both */
	n = outbox_due(ob, T0 + SEC, it, 8);
	CHECK_INT(n, 2);                  /* each target's firing; resolves held */
	for (i = 0; i < n; i++) {
		CHECK_STR(it[i].idem_key, "fire");
		CHECK_INT(it[i].attempts, 0);
		CHECK_INT(outbox_ack(ob, it[i].id), 0);
		outbox_item_release(&it[i]);
	}
	CHECK_INT(outbox_due(ob, T0 + SEC, it, 8), 2);
	CHECK_STR(it[0].target, "new-1");
	CHECK_STR(it[0].idem_key, "resolve");
	CHECK_STR(it[1].target, "new-2");
	CHECK_STR(it[1].idem_key, "resolve");
	outbox_item_release(&it[0]);
	outbox_item_release(&it[1]);
	CHECK_INT(outbox_retarget(ob, now_given, 2, T0 + SEC), 0);
	outbox_close(ob);
}

/* A row given by a retarget keeps its place: before the target's own
 * later rows of its order key, though stored after them. */
static void test_retargeted_row_goes_before_the_targets_later_rows(void)
{
	const char *now_given[] = { "new" };
	struct outbox *ob = open_ob(NULL, 0, 0);
	struct outbox_item it[4];

	CHECK_INT(outbox_put_ordered(ob, "old", "fire", "spike|x", OUTBOX_CRITICAL, "f", 1, T0), 0);
	CHECK_INT(outbox_put_ordered(ob, "new", "resolve", "spike|x", OUTBOX_CRITICAL, "r", 1, T0), 0);
	CHECK_INT(outbox_retarget(ob, now_given, 1, T0), 1);
	CHECK_INT(outbox_due(ob, T0, it, 4), 1);
	CHECK_STR(it[0].idem_key, "fire");
	CHECK_INT(outbox_ack(ob, it[0].id), 0);
	outbox_item_release(&it[0]);
	CHECK_STR(due_keys(ob, T0), "resolve");
	outbox_close(ob);
}

/* A target given now that was sent the alert already (acknowledged, or
 * refused for good) gets no copy of the removed target's row. */
static void test_retarget_gives_no_copy_to_a_target_done_with_the_alert(void)
{
	const char *now_given[] = { "kept", "refusing" };
	struct outbox *ob = open_ob(NULL, 0, 0);
	struct outbox_item it[4];
	int n, i;

	CHECK_INT(outbox_put(ob, "removed", "k", true, "b", 1, T0), 0);
	CHECK_INT(outbox_put(ob, "kept", "k", true, "b", 1, T0), 0);
	CHECK_INT(outbox_put(ob, "refusing", "k", true, "b", 1, T0), 0);
	CHECK_INT(outbox_put(ob, "removed", "late", true, "l", 1, T0), 0);
	n = outbox_due(ob, T0, it, 4);
	CHECK_INT(n, 4);
	for (i = 0; i < n; i++) {
		if (strcmp(it[i].target, "kept") == 0)
			CHECK_INT(outbox_ack(ob, it[i].id), 0);
		else if (strcmp(it[i].target, "refusing") == 0)
			CHECK_INT(outbox_fail(ob, it[i].id), 0);
		else
			CHECK_INT(outbox_retry(ob, it[i].id, T0 + 60 * SEC), 0);
		outbox_item_release(&it[i]);
	}
	CHECK_INT(outbox_retarget(ob, now_given, 2, T0 + SEC), 2);
	/* "k": both done with it; "late": never given to them */
	n = outbox_due(ob, T0 + SEC, it, 4);
	CHECK_INT(n, 2);
	for (i = 0; i < n; i++) {
		CHECK_STR(it[i].idem_key, "late");
		outbox_item_release(&it[i]);
	}
	CHECK_INT(outbox_depth(ob), 2);
	outbox_close(ob);
}

/* A spike's firing for @target, or (@resolved) its resolution. */
static int put_spike_to(struct outbox *ob, const char *target, const char *key,
			const char *scope, bool resolved)
{
	return outbox_put_ordered(ob, target, key, scope, OUTBOX_CRITICAL |
				  (resolved ? OUTBOX_SEQUEL : OUTBOX_OPENS), key,
				  strlen(key), T0);
}

/* The mark of a firing the bound dropped unsent follows the alert to the
 * target given now, as the queued rows do: its resolution is not sent
 * there alone. */
static void test_retarget_gives_a_dropped_firings_mark_to_the_given_target(void)
{
	const char *now_given[] = { "new" };
	struct outbox *ob = open_ob(NULL, 1, 0);

	CHECK_INT(put_spike_to(ob, "old", "fire-a", "spike|a", false), 0);
	CHECK_INT(put_spike_to(ob, "old", "fire-b", "spike|b", false), 0); /* drops fire-a */
	CHECK_INT(outbox_retarget(ob, now_given, 1, T0), 1);
	CHECK_INT(put_spike_to(ob, "new", "resolve-a", "spike|a", true), 0);
	CHECK_STR(due_keys(ob, T0), "fire-b");
	CHECK_INT(outbox_stats(ob)->dropped, 2);
	/* it left "old": given again, "old" gets what it is given */
	CHECK_INT(put_spike_to(ob, "old", "resolve-a", "spike|a", true), 0);
	CHECK_INT(outbox_depth(ob), 1);
	CHECK_INT(outbox_stats(ob)->dropped, 3);        /* fire-b, for room */
	outbox_close(ob);
}

/* A target given now that had the firing itself (delivered while the
 * removed target's copy waited, then was dropped) gets no mark: its
 * resolution goes, or the alert would never end there. */
static void test_retarget_gives_no_mark_to_a_target_done_with_the_alert(void)
{
	const char *now_given[] = { "kept" };
	struct outbox *ob = open_ob(NULL, 2, 0);
	struct outbox_item it[2];
	int i;

	CHECK_INT(put_spike_to(ob, "removed", "fire-a", "spike|a", false), 0);
	CHECK_INT(put_spike_to(ob, "kept", "fire-a", "spike|a", false), 0);
	CHECK_INT(outbox_due(ob, T0, it, 2), 2);
	for (i = 0; i < 2; i++) {
		if (strcmp(it[i].target, "kept") == 0)
			CHECK_INT(outbox_ack(ob, it[i].id), 0);
		else
			outbox_release(ob, it[i].id);          /* never tried */
		outbox_item_release(&it[i]);
	}
	CHECK_INT(put(ob, "x", true, T0), 0);
	CHECK_INT(put(ob, "y", true, T0), 0);       /* drops removed's fire-a */
	CHECK_INT(outbox_stats(ob)->dropped, 1);
	CHECK_INT(outbox_retarget(ob, now_given, 1, T0), 2);
	CHECK_INT(put_spike_to(ob, "kept", "resolve-a", "spike|a", true), 0); /* drops x */
	CHECK_STR(due_keys(ob, T0), "y resolve-a");
	CHECK_INT(outbox_stats(ob)->dropped, 2);
	outbox_close(ob);
}

/* A retarget that gives a row to a target holding a mark of its group
 * (the copy, a sequel, is dropped, the mark taken) still knows which
 * other targets were done with that alert: they get no copy. */
static void test_retarget_taking_a_mark_keeps_the_targets_done(void)
{
	const char *now_given[] = { "t1", "t2" };
	struct outbox *ob = open_ob(NULL, 3, 0);
	struct outbox_item it[4];
	int n, i;

	CHECK_INT(put_spike_to(ob, "t1", "fire-a", "spike|a", false), 0);
	CHECK_INT(put(ob, "x", true, T0), 0);
	CHECK_INT(put(ob, "y", true, T0), 0);
	CHECK_INT(put(ob, "z", true, T0), 0);       /* drops fire-a: t1's mark */
	CHECK_INT(put_spike_to(ob, "gone", "res-a", "spike|a", true), 0);  /* drops x */
	CHECK_INT(put_spike_to(ob, "t2", "res-a", "spike|a", true), 0);    /* drops y */
	n = outbox_due(ob, T0, it, 4);
	CHECK_INT(n, 3);
	for (i = 0; i < n; i++) {
		if (strcmp(it[i].target, "t2") == 0)
			CHECK_INT(outbox_ack(ob, it[i].id), 0);  /* t2 is done */
		else
			outbox_release(ob, it[i].id);
		outbox_item_release(&it[i]);
	}
	CHECK_INT(outbox_retarget(ob, now_given, 2, T0), 2);
	CHECK_STR(due_keys(ob, T0), "z z");
	outbox_close(ob);
}

static void test_retry_counts_attempts_and_moves_next_attempt(void)
{
	struct outbox_item it[2];
	struct outbox *ob = one_in_flight(it);

	CHECK_INT(outbox_retry(ob, it[0].id, T0 + 30 * SEC), 0);
	outbox_item_release(&it[0]);
	CHECK_INT(outbox_due(ob, T0 + 30 * SEC - 1, it, 2), 0);
	CHECK_INT(outbox_next_due_us(ob), T0 + 30 * SEC);
	CHECK_INT(outbox_due(ob, T0 + 30 * SEC, it, 2), 1);
	CHECK_INT(it[0].attempts, 1);
	CHECK_INT(outbox_retry(ob, it[0].id, T0 + 90 * SEC), 0);
	outbox_item_release(&it[0]);
	CHECK_INT(outbox_due(ob, T0 + 90 * SEC, it, 2), 1);
	CHECK_INT(it[0].attempts, 2);
	outbox_item_release(&it[0]);
	CHECK_INT(outbox_retry(ob, 999, T0), -ENOENT);
	outbox_close(ob);
}

static void test_fail_deletes_and_counts(void)
{
	struct outbox_item it[2];
	struct outbox *ob = one_in_flight(it);

	CHECK_INT(outbox_fail(ob, it[0].id), 0);
	CHECK_INT(outbox_depth(ob), 0);
	CHECK_INT(outbox_stats(ob)->failed, 1);
	CHECK_INT(outbox_stats(ob)->delivered, 0);
	CHECK_INT(outbox_fail(ob, it[0].id), -ENOENT);
	CHECK_INT(outbox_stats(ob)->failed, 1);
	outbox_item_release(&it[0]);
	outbox_close(ob);
}

static void test_release_makes_a_row_due_again_without_an_attempt(void)
{
	struct outbox_item it[2];
	struct outbox *ob = one_in_flight(it);

	outbox_release(ob, it[0].id);
	outbox_item_release(&it[0]);
	CHECK_INT(outbox_due(ob, T0, it, 2), 1);
	CHECK_INT(it[0].attempts, 0);
	outbox_item_release(&it[0]);
	outbox_close(ob);
}

static void test_bound_drops_oldest_non_critical_first_then_oldest_critical(void)
{
	struct outbox *ob = open_ob(NULL, 3, 0);

	CHECK_INT(put(ob, "a", false, T0 + 1), 0);
	CHECK_INT(put(ob, "b", true, T0 + 2), 0);
	CHECK_INT(put(ob, "c", false, T0 + 3), 0);
	CHECK_INT(put(ob, "d", true, T0 + 4), 0);        /* drops a */
	CHECK_STR(due_keys(ob, T0 + 9), "b c d");
	CHECK_INT(put(ob, "e", true, T0 + 5), 0);        /* drops c */
	CHECK_STR(due_keys(ob, T0 + 9), "b d e");
	CHECK_INT(put(ob, "f", false, T0 + 6), 0);       /* all critical: drops b */
	CHECK_STR(due_keys(ob, T0 + 9), "d e f");
	CHECK_INT(outbox_depth(ob), 3);
	CHECK_INT(outbox_stats(ob)->dropped, 3);
	outbox_close(ob);
}

/* A spike's row for "hook" in the order of @scope: its firing, which
 * opens the alert, or (@resolved) its resolution, the firing's sequel. */
static int put_spike(struct outbox *ob, const char *key, const char *scope,
		     bool resolved)
{
	return outbox_put_ordered(ob, "hook", key, scope, OUTBOX_CRITICAL |
				  (resolved ? OUTBOX_SEQUEL : OUTBOX_OPENS), key,
				  strlen(key), T0);
}

/* An outbox of 2 rows whose spike "spike|a" fired, the firing
 * ("fire-a") handed out into @it. */
static struct outbox *firing_in_flight(struct outbox_item *it)
{
	struct outbox *ob = open_ob(NULL, 2, 0);

	CHECK_INT(put_spike(ob, "fire-a", "spike|a", false), 0);
	CHECK_INT(outbox_due(ob, T0, it, 1), 1);
	return ob;
}

/* The bound drops a firing with its resolution, never the firing alone. */
static void test_bound_drops_a_firing_with_its_resolved(void)
{
	struct outbox *ob = open_ob(NULL, 3, 0);

	CHECK_INT(put_spike(ob, "fire-a", "spike|a", false), 0);
	CHECK_INT(put_spike(ob, "resolve-a", "spike|a", true), 0);
	CHECK_INT(put(ob, "x", true, T0), 0);
	CHECK_INT(put(ob, "y", true, T0), 0);     /* drops fire-a, resolve-a */
	CHECK_STR(due_keys(ob, T0), "x y");
	CHECK_INT(outbox_stats(ob)->dropped, 2);
	outbox_close(ob);
}

/* A resolution put after the bound dropped its firing goes the same way;
 * the next firing of the scope is an alert of its own again. */
static void test_resolved_after_its_firing_was_dropped_is_dropped(void)
{
	struct outbox *ob = open_ob(NULL, 2, 0);

	CHECK_INT(put_spike(ob, "fire-a", "spike|a", false), 0);
	CHECK_INT(put_spike(ob, "fire-b", "spike|b", false), 0);
	CHECK_INT(put_spike(ob, "resolve-a", "spike|a", true), 0);  /* drops fire-a */
	CHECK_STR(due_keys(ob, T0), "fire-b");
	CHECK_INT(outbox_stats(ob)->dropped, 2);
	CHECK_INT(put_spike(ob, "fire-a2", "spike|a", false), 0);
	CHECK_INT(put_spike(ob, "resolve-a2", "spike|a", true), 0); /* drops fire-b */
	CHECK_STR(due_keys(ob, T0), "fire-a2");   /* resolve-a2 waits for it */
	CHECK_INT(outbox_depth(ob), 2);
	CHECK_INT(outbox_stats(ob)->dropped, 3);
	/* fire-b's: dropped without making room, which would drop fire-a2 */
	CHECK_INT(put_spike(ob, "resolve-b", "spike|b", true), 0);
	CHECK_STR(due_keys(ob, T0), "fire-a2");
	CHECK_INT(outbox_depth(ob), 2);
	CHECK_INT(outbox_stats(ob)->dropped, 4);
	outbox_close(ob);
}

/* A resolution whose firing was delivered is dropped after the other
 * rows: dropped, the alert would never end at the receiver. */
static void test_bound_keeps_a_resolved_whose_firing_went(void)
{
	struct outbox_item it[1];
	struct outbox *ob = firing_in_flight(it);

	CHECK_INT(outbox_ack(ob, it[0].id), 0);
	outbox_item_release(&it[0]);
	CHECK_INT(put_spike(ob, "resolve-a", "spike|a", true), 0);
	CHECK_INT(put(ob, "x", true, T0), 0);
	CHECK_INT(put(ob, "y", true, T0), 0);     /* drops x */
	CHECK_STR(due_keys(ob, T0), "resolve-a y");
	CHECK_INT(outbox_stats(ob)->dropped, 1);
	outbox_close(ob);
}

/* The memory outbox moved into the file: a resolution whose firing the
 * memory outbox dropped is dropped by the file too. */
static void test_move_carries_a_dropped_firings_mark(void)
{
	struct outbox *mem = open_ob(NULL, 1, 0), *file = open_ob(NULL, 0, 0);

	CHECK_INT(put_spike(mem, "fire-a", "spike|a", false), 0);
	CHECK_INT(put_spike(mem, "fire-b", "spike|b", false), 0);  /* drops fire-a */
	CHECK_INT(outbox_move(mem, file), 1);
	CHECK_INT(put_spike(file, "resolve-a", "spike|a", true), 0);
	CHECK_STR(due_keys(file, T0), "fire-b");
	CHECK_INT(outbox_stats(file)->dropped, 1);
	outbox_close(mem);
	outbox_close(file);
}

/* A firing the bound drops while it is in flight may reach its receiver:
 * its resolution stays (and is due), or the alert would never end there. */
static void test_bound_keeps_the_resolved_of_a_firing_in_flight(void)
{
	struct outbox_item it[1];
	struct outbox *ob = firing_in_flight(it);               /* in flight */

	CHECK_INT(put_spike(ob, "resolve-a", "spike|a", true), 0);
	CHECK_INT(put_spike(ob, "fire-b", "spike|b", false), 0);   /* drops fire-a */
	CHECK_STR(due_keys(ob, T0), "resolve-a fire-b");
	CHECK_INT(outbox_stats(ob)->dropped, 1);
	outbox_item_release(&it[0]);
	outbox_close(ob);
}

/* A firing tried before (a timeout the receiver may have processed) and
 * dropped by the bound leaves no mark: its later resolution is kept. */
static void test_bound_keeps_a_later_resolved_of_a_firing_tried(void)
{
	struct outbox_item it[1];
	struct outbox *ob = firing_in_flight(it);

	CHECK_INT(outbox_retry(ob, it[0].id, T0 + SEC), 0);
	outbox_item_release(&it[0]);
	CHECK_INT(put_spike(ob, "fire-b", "spike|b", false), 0);
	CHECK_INT(put_spike(ob, "fire-c", "spike|c", false), 0);   /* drops fire-a */
	CHECK_INT(put_spike(ob, "resolve-a", "spike|a", true), 0); /* drops fire-b */
	CHECK_STR(due_keys(ob, T0), "fire-c resolve-a");
	CHECK_INT(outbox_stats(ob)->dropped, 2);
	outbox_close(ob);
}

/* A process killed while a firing is under way: the next one finds the
 * attempt counted (and continues the count), so the bound, dropping that
 * firing (it may have reached its receiver), keeps its resolution. */
static void test_attempt_under_way_at_sigkill_is_counted(void)
{
	struct outbox_item it[1];
	struct outbox *ob;
	char path[64];
	int status = 0;
	pid_t pid;

	tmp_path(path);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		ob = open_ob(path, 2, 0);
		if (ob && put_spike(ob, "fire-a", "spike|a", false) == 0 &&
		    outbox_due(ob, T0, it, 1) == 1)
			raise(SIGKILL);              /* the request under way */
		_exit(1);
	}
	CHECK_INT(waitpid(pid, &status, 0), pid);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	CHECK_INT(db_peek(path, "SELECT attempts FROM outbox"), 1);
	ob = open_ob(path, 2, 0);
	CHECK_INT(put_spike(ob, "resolve-a", "spike|a", true), 0);
	CHECK_INT(put_spike(ob, "fire-b", "spike|b", false), 0);   /* drops fire-a */
	CHECK_STR(due_keys(ob, T0), "resolve-a fire-b");
	CHECK_INT(outbox_stats(ob)->dropped, 1);
	outbox_close(ob);
	tmp_done(path);
}

/* The file counts an attempt when it begins, once: a retry adds none, a
 * row released (not tried after all) has it taken back. */
static void test_file_counts_each_attempt_once_when_it_begins(void)
{
	struct outbox_item it[1];
	struct outbox *ob;
	char path[64];

	tmp_path(path);
	ob = open_ob(path, 0, 0);
	CHECK_INT(put(ob, "k1", false, T0), 0);
	CHECK_INT(outbox_due(ob, T0, it, 1), 1);
	CHECK_INT(db_peek(path, "SELECT attempts FROM outbox"), 1);
	outbox_release(ob, it[0].id);
	outbox_item_release(&it[0]);
	CHECK_INT(db_peek(path, "SELECT attempts FROM outbox"), 0);
	CHECK_INT(outbox_due(ob, T0, it, 1), 1);
	CHECK_INT(it[0].attempts, 0);
	CHECK_INT(outbox_retry(ob, it[0].id, T0 + SEC), 0);
	outbox_item_release(&it[0]);
	CHECK_INT(db_peek(path, "SELECT attempts FROM outbox"), 1);
	CHECK_INT(outbox_due(ob, T0 + SEC, it, 1), 1);
	CHECK_INT(it[0].attempts, 1);
	CHECK_INT(db_peek(path, "SELECT attempts FROM outbox"), 2);
	CHECK_INT(outbox_ack(ob, it[0].id), 0);
	outbox_item_release(&it[0]);
	outbox_close(ob);
	tmp_done(path);
}

/* Only a row that can have a sequel (a spike's firing) leaves a mark when
 * dropped, and the marks are bounded by max_rows, the oldest forgotten. */
static void test_dropped_firings_marks_are_bounded(void)
{
	struct outbox *ob;
	char path[64], key[16];
	int i;

	tmp_path(path);
	ob = open_ob(path, 2, 0);
	for (i = 0; i < 50; i++) {           /* a certificate's rows: no mark */
		snprintf(key, sizeof(key), "cert-%d", i);
		CHECK_INT(outbox_put_ordered(ob, "hook", key, key, 0, key,
					     strlen(key), T0), 0);
	}
	CHECK_INT(db_peek(path, "SELECT count(*) FROM outbox_orphans"), 0);
	for (i = 0; i < 50; i++) {           /* firings: 48 dropped, 2 kept */
		snprintf(key, sizeof(key), "fire-%d", i);
		CHECK_INT(put_spike(ob, key, key, false), 0);
	}
	CHECK_INT(db_peek(path, "SELECT count(*) FROM outbox_orphans"), 2);
	CHECK_INT(put_spike(ob, "resolve-0", "fire-0", true), 0);  /* forgotten */
	CHECK_INT(put_spike(ob, "resolve-47", "fire-47", true), 0);/* marked */
	CHECK_STR(due_keys(ob, T0), "fire-49 resolve-0");
	CHECK_INT(outbox_stats(ob)->dropped, 50 + 48 + 2);
	outbox_close(ob);
	tmp_done(path);
}

/* outbox_move counts the rows it moved, not a sequel the destination
 * dropped because it dropped its firing (the agent logs the count). */
static void test_move_counts_no_sequel_dropped_on_the_way(void)
{
	struct outbox *mem = open_ob(NULL, 0, 0), *file = open_ob(NULL, 1, 0);

	CHECK_INT(put_spike(file, "fire-a", "spike|a", false), 0);
	CHECK_INT(put_spike(file, "fire-b", "spike|b", false), 0); /* drops fire-a */
	CHECK_INT(put_spike(mem, "resolve-a", "spike|a", true), 0);
	CHECK_INT(outbox_move(mem, file), 0);
	CHECK_INT(outbox_depth(mem), 0);
	CHECK_STR(due_keys(file, T0), "fire-b");
	CHECK_INT(outbox_stats(file)->dropped, 2);
	outbox_close(mem);
	outbox_close(file);
}

/* A row of an alert waits, in the outbox or in flight, until delivered:
 * another outbox's row of the same alert can tell (outbox_group_waits). */
static void test_group_waits_until_its_row_is_delivered(void)
{
	struct outbox *ob = open_ob(NULL, 0, 0);
	struct outbox_item it[2];

	CHECK_INT(put_spike(ob, "fire-a", "spike|a", false), 0);
	CHECK_INT(outbox_due(ob, T0, it, 2), 1);           /* in flight */
	CHECK_INT(outbox_group_waits(ob, "hook", it[0].order_key), 1);
	CHECK_INT(outbox_group_waits(ob, "other", it[0].order_key), 0);
	CHECK_INT(outbox_group_waits(ob, "hook", ""), 0);
	CHECK_INT(outbox_ack(ob, it[0].id), 0);
	CHECK_INT(outbox_group_waits(ob, "hook", it[0].order_key), 0);
	outbox_item_release(&it[0]);
	outbox_close(ob);
}

static void test_dropped_row_in_flight_is_not_acked_later(void)
{
	struct outbox *ob = open_ob(NULL, 1, 0);
	struct outbox_item it[2];

	CHECK_INT(put(ob, "a", false, T0), 0);
	CHECK_INT(outbox_due(ob, T0, it, 2), 1);
	CHECK_INT(put(ob, "b", false, T0 + 1), 0);       /* drops a, in flight */
	CHECK_INT(outbox_ack(ob, it[0].id), -ENOENT);
	CHECK_STR(due_keys(ob, T0 + 1), "b");
	CHECK_INT(outbox_stats(ob)->delivered, 0);
	outbox_item_release(&it[0]);
	outbox_close(ob);
}

static void test_claim_suppresses_within_cooldown_and_allows_after(void)
{
	struct outbox *ob = open_ob(NULL, 0, 60);
	char key[OUTBOX_KEY_LEN + 1];

	/* printf 'spike:a.test:1700|1700000000000000' | sha256sum | cut -c1-32 */
	CHECK_INT(outbox_claim(ob, "spike:a.test:1700", T0, key), 1);
	CHECK_STR(key, "3c5d328654d0ad53b94a7baa51f56b9f");
	CHECK_INT(outbox_claim(ob, "spike:a.test:1700", T0 + 60 * SEC - 1, key), 0);
	CHECK_STR(key, "");
	CHECK_INT(outbox_claim(ob, "spike:b.test:1700", T0 + SEC, key), 1);
	CHECK_INT(outbox_claim(ob, "spike:a.test:1700", T0 + 60 * SEC, key), 1);
	CHECK_INT(strlen(key), OUTBOX_KEY_LEN);
	CHECK(strcmp(key, "3c5d328654d0ad53b94a7baa51f56b9f") != 0);
	CHECK_INT(outbox_claim(ob, "", T0, key), -EINVAL);
	outbox_close(ob);
}

static void test_claim_from_a_wrong_future_clock_expires(void)
{
	struct outbox *ob = open_ob(NULL, 0, 60);
	char key[OUTBOX_KEY_LEN + 1];

	CHECK_INT(outbox_claim(ob, "spike:a.test:1700", T0, key), 1);
	CHECK_INT(outbox_claim(ob, "spike:a.test:1700", T0 - 60 * SEC, key), 0);
	CHECK_INT(outbox_claim(ob, "spike:a.test:1700", T0 - 60 * SEC - 1, key), 1);
	outbox_close(ob);
}

/* The wall clock stepped back a year after a retry was scheduled: the row
 * must not wait a year. Within the longest retry delay it still waits. */
static void test_retry_from_a_clock_stepped_back_is_due(void)
{
	struct outbox_item it[2];
	struct outbox *ob = one_in_flight(it);
	int64_t back = T0 - 365LL * 24 * 3600 * SEC;

	CHECK_INT(outbox_retry(ob, it[0].id, T0 + 30 * SEC), 0);
	outbox_item_release(&it[0]);
	CHECK_INT(outbox_due(ob, T0 + 30 * SEC - OUTBOX_MAX_DELAY_US, it, 2), 0);
	CHECK_INT(outbox_due(ob, back, it, 2), 1);
	CHECK_INT(it[0].attempts, 1);
	outbox_item_release(&it[0]);
	outbox_close(ob);
}

/* The webhook reads the clock for its pass, then a receiver's far
 * Retry-After is stored from a clock read a moment later: the row waits,
 * it is not taken for one set by a clock stepped back (it was, and the
 * receiver got a request per pass). */
static void test_longest_retry_after_waits_from_a_clock_read_before(void)
{
	struct outbox_item it[2];
	struct outbox *ob = one_in_flight(it);
	int64_t later = T0 + 2 * SEC;

	CHECK_INT(outbox_retry(ob, it[0].id,
			       later + backoff_retry_after_us("86400", later)), 0);
	outbox_item_release(&it[0]);
	CHECK_INT(outbox_due(ob, T0, it, 2), 0);
	CHECK_INT(outbox_due(ob, later + 12 * 3600 * SEC - 1, it, 2), 0);
	CHECK_INT(outbox_due(ob, later + 12 * 3600 * SEC, it, 2), 1);
	outbox_item_release(&it[0]);
	outbox_close(ob);
}

static void test_claim_and_idempotency_key_survive_reopen(void)
{
	struct outbox_item it[2];
	char path[64], key[OUTBOX_KEY_LEN + 1], again[OUTBOX_KEY_LEN + 1];
	struct outbox *ob;

	tmp_path(path);
	ob = open_ob(path, 0, 60);
	CHECK_INT(outbox_claim(ob, "spike:a.test:1700", T0, key), 1);
	CHECK_INT(outbox_put(ob, "hook", key, false, "{}", 2, T0), 0);
	outbox_close(ob);
	ob = open_ob(path, 0, 60);
	CHECK_INT(outbox_claim(ob, "spike:a.test:1700", T0 + 30 * SEC, again), 0);
	CHECK_INT(outbox_due(ob, T0, it, 2), 1);
	CHECK_STR(it[0].idem_key, "3c5d328654d0ad53b94a7baa51f56b9f");
	CHECK_STR(it[0].idem_key, key);
	outbox_item_release(&it[0]);
	outbox_close(ob);
	tmp_done(path);
}

static void test_rows_survive_reopen_and_are_all_due_again(void)
{
	struct outbox_item it[4];
	char path[64];
	struct outbox *ob;
	int i;

	tmp_path(path);
	ob = open_ob(path, 0, 0);
	CHECK_INT(put(ob, "k1", false, T0), 0);
	CHECK_INT(put(ob, "k2", true, T0 + 1), 0);
	CHECK_INT(put(ob, "k3", false, T0 + 2), 0);
	CHECK_INT(outbox_due(ob, T0 + 2, it, 4), 3);     /* all in flight */
	CHECK_INT(outbox_ack(ob, it[1].id), 0);
	for (i = 0; i < 3; i++)
		outbox_item_release(&it[i]);
	outbox_close(ob);                                /* as if killed */
	ob = open_ob(path, 0, 0);
	CHECK_INT(outbox_depth(ob), 2);
	CHECK_INT(outbox_next_due_us(ob), T0);
	CHECK_STR(due_keys(ob, T0 + 2), "k1 k3");
	outbox_close(ob);
	tmp_done(path);
}

static void test_put_survives_sigkill(void)
{
	struct outbox *ob;
	char path[64];
	int status = 0;
	pid_t pid;

	tmp_path(path);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		ob = open_ob(path, 0, 0);
		if (ob && put(ob, "k1", true, T0) == 0)
			raise(SIGKILL);                  /* no close, no exit */
		_exit(1);
	}
	CHECK_INT(waitpid(pid, &status, 0), pid);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	ob = open_ob(path, 0, 0);
	CHECK_STR(due_keys(ob, T0), "k1");
	outbox_close(ob);
	tmp_done(path);
}

static void test_next_due_skips_rows_in_flight(void)
{
	struct outbox *ob = open_ob(NULL, 0, 0);
	struct outbox_item it[4];

	CHECK_INT(outbox_next_due_us(ob), -1);
	CHECK_INT(put(ob, "k1", false, T0 + 100), 0);
	CHECK_INT(put(ob, "k2", false, T0 + 50), 0);
	CHECK_INT(outbox_next_due_us(ob), T0 + 50);
	CHECK_INT(outbox_due(ob, T0 + 100, it, 4), 2);
	CHECK_INT(outbox_next_due_us(ob), -1);
	CHECK_INT(outbox_retry(ob, it[1].id, T0 + 700), 0);
	CHECK_INT(outbox_next_due_us(ob), T0 + 700);
	outbox_item_release(&it[0]);
	outbox_item_release(&it[1]);
	outbox_close(ob);
}

/* Each refusal says why in outbox_error(), so the caller's warning is never
 * empty. */
static void test_put_refuses_bad_target_and_key(void)
{
	struct outbox *ob = open_ob(NULL, 0, 0);
	char target[OUTBOX_TARGET_LEN + 2];

	memset(target, 'x', OUTBOX_TARGET_LEN + 1);
	target[OUTBOX_TARGET_LEN + 1] = '\0';
	CHECK_INT(outbox_put(ob, target, "k", false, "", 0, T0), -ENAMETOOLONG);
	CHECK_STR(outbox_error(ob), "outbox :memory:: storing an alert: a target "
		  "of 2049 bytes, at most 2048");
	CHECK_INT(outbox_put(ob, "", "k", false, "", 0, T0), -EINVAL);
	CHECK_STR(outbox_error(ob), "outbox :memory:: storing an alert: no target, "
		  "no key or a key over 32 characters");
	CHECK_INT(outbox_put(ob, "hook", "", false, "", 0, T0), -EINVAL);
	CHECK_INT(outbox_put(ob, "hook", "0123456789abcdef0123456789abcdef0",
			     false, "", 0, T0), -EINVAL);
	CHECK_INT(outbox_depth(ob), 0);
	outbox_close(ob);
}

/* Signed webhook URLs run to hundreds of bytes: one of OUTBOX_TARGET_LEN
 * is stored and handed out whole. */
static void test_put_keeps_a_target_of_the_longest_length(void)
{
	struct outbox *ob = open_ob(NULL, 0, 0);
	char target[OUTBOX_TARGET_LEN + 1];
	struct outbox_item it[1];

	memset(target, 'x', OUTBOX_TARGET_LEN);
	target[OUTBOX_TARGET_LEN] = '\0';
	CHECK_INT(outbox_put(ob, target, "k", false, "b", 1, T0), 0);
	CHECK_INT(outbox_due(ob, T0, it, 1), 1);
	CHECK_INT(strlen(it[0].target), OUTBOX_TARGET_LEN);
	CHECK(strcmp(it[0].target, target) == 0);
	outbox_item_release(&it[0]);
	outbox_close(ob);
}

static void test_shares_the_inventory_file_and_leaves_user_version(void)
{
	struct inventory *inv = NULL;
	char path[64], err[256] = "";
	struct outbox *ob;

	tmp_path(path);
	ob = open_ob(path, 0, 0);                         /* the outbox first */
	CHECK_INT(put(ob, "k1", false, T0), 0);
	CHECK_INT(db_peek(path, "PRAGMA user_version"), 0);
	CHECK_INT(inventory_open(path, &inv, err, sizeof(err)), 0);
	CHECK_STR(err, "");
	CHECK_INT(db_peek(path, "PRAGMA user_version"), INVENTORY_SCHEMA_VERSION);
	outbox_close(ob);
	ob = open_ob(path, 0, 0);                         /* and again after */
	CHECK_INT(outbox_depth(ob), 1);
	CHECK_INT(db_peek(path, "PRAGMA user_version"), INVENTORY_SCHEMA_VERSION);
	outbox_close(ob);
	inventory_close(inv);
	tmp_done(path);
}

static void test_newer_outbox_schema_is_refused(void)
{
	char path[64], err[256] = "", want[200];
	struct outbox *ob = NULL;
	sqlite3 *db = NULL;

	tmp_path(path);
	CHECK_INT(sqlite3_open(path, &db), SQLITE_OK);
	CHECK_INT(sqlite3_exec(db, "CREATE TABLE deliver_meta (schema INTEGER);"
			       "INSERT INTO deliver_meta VALUES (7)", NULL, NULL,
			       NULL), SQLITE_OK);
	sqlite3_close(db);
	CHECK_INT(outbox_open(path, NULL, &ob, err, sizeof(err)), -EIO);
	CHECK(ob == NULL);
	snprintf(want, sizeof(want), "outbox %s: schema version 7 is newer than "
		 "this tlswatch (5)", path);
	CHECK_STR(err, want);
	tmp_done(path);
}

/* A file of schema 1 (before order keys): its rows are kept, unordered,
 * and a row put after them comes after them in its key's order. */
static void test_schema_1_rows_are_kept_and_sent_unordered(void)
{
	struct outbox_item it[4];
	struct outbox *ob;
	char path[64];
	sqlite3 *db;

	tmp_path(path);
	CHECK_INT(sqlite3_open(path, &db), SQLITE_OK);
	CHECK_INT(sqlite3_exec(db, "CREATE TABLE deliver_meta (schema INTEGER NOT NULL);"
			       "INSERT INTO deliver_meta VALUES (1);"
			       "CREATE TABLE outbox (id INTEGER PRIMARY KEY AUTOINCREMENT,"
			       " target TEXT NOT NULL, idem_key TEXT NOT NULL,"
			       " critical INTEGER NOT NULL, body BLOB NOT NULL,"
			       " created_us INTEGER NOT NULL, next_attempt_us INTEGER NOT NULL,"
			       " attempts INTEGER NOT NULL DEFAULT 0, UNIQUE (target, idem_key));"
			       "CREATE TABLE outbox_sent (dedup_key TEXT PRIMARY KEY,"
			       " sent_us INTEGER NOT NULL) WITHOUT ROWID;"
			       "INSERT INTO outbox (target, idem_key, critical, body, created_us,"
			       " next_attempt_us) VALUES ('hook', 'old', 1, 'o', 1, 1)",
			       NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	ob = open_ob(path, 0, 0);
	CHECK(ob != NULL);
	CHECK_INT(outbox_put_ordered(ob, "hook", "new", "spike|x", OUTBOX_CRITICAL, "n", 1, T0), 0);
	CHECK_INT(outbox_due(ob, T0, it, 4), 2);
	CHECK_STR(it[0].idem_key, "old");
	CHECK_STR(it[0].order_key, "");
	CHECK_INT(it[0].seq, 1);
	CHECK_STR(it[1].idem_key, "new");
	CHECK_INT(it[1].seq, 2);
	outbox_item_release(&it[0]);
	outbox_item_release(&it[1]);
	outbox_close(ob);
	tmp_done(path);
}

/* A schema-3 file (this version's marks: any ordered row's) keeps its
 * rows, loses its marks, and its firings are kept as not opening one. */
static void test_schema_3_marks_go_and_rows_stay(void)
{
	struct outbox *ob;
	char path[64];
	sqlite3 *db;

	tmp_path(path);
	ob = open_ob(path, 0, 0);
	CHECK_INT(put_spike(ob, "fire-a", "spike|a", false), 0);
	outbox_close(ob);
	CHECK_INT(sqlite3_open(path, &db), SQLITE_OK);
	CHECK_INT(sqlite3_exec(db, "ALTER TABLE outbox DROP COLUMN opens;"
			       "DROP TABLE outbox_orphans;"
			       "CREATE TABLE outbox_orphans (target TEXT NOT NULL,"
			       " order_key TEXT NOT NULL,"
			       " PRIMARY KEY (target, order_key)) WITHOUT ROWID;"
			       "INSERT INTO outbox_orphans VALUES ('hook', 'c1'),"
			       " ('hook', 'c2');"
			       "UPDATE deliver_meta SET schema = 3",
			       NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	ob = open_ob(path, 0, 0);
	CHECK(ob != NULL);
	CHECK_INT(db_peek(path, "SELECT max(schema) FROM deliver_meta"), 5);
	CHECK_INT(db_peek(path, "SELECT count(*) FROM outbox_orphans"), 0);
	CHECK_INT(db_peek(path, "SELECT opens FROM outbox"), 0);
	CHECK_STR(due_keys(ob, T0), "fire-a");
	outbox_close(ob);
	tmp_done(path);
}

/* A schema-4 file: its marks name no alert; migrated, they stay with
 * their target across a retarget, and still drop its sequel there. */
static void test_schema_4_marks_stay_with_their_target(void)
{
	const char *now_given[] = { "new" };
	struct outbox *ob;
	char path[64];
	sqlite3 *db;

	tmp_path(path);
	ob = open_ob(path, 1, 0);
	CHECK_INT(put_spike_to(ob, "old", "fire-a", "spike|a", false), 0);
	CHECK_INT(put_spike_to(ob, "old", "fire-b", "spike|b", false), 0); /* drops fire-a */
	outbox_close(ob);
	CHECK_INT(sqlite3_open(path, &db), SQLITE_OK);
	CHECK_INT(sqlite3_exec(db, "DROP INDEX outbox_orphans_by_key;"
			       "ALTER TABLE outbox_orphans DROP COLUMN idem_key;"
			       "UPDATE deliver_meta SET schema = 4",
			       NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	ob = open_ob(path, 2, 0);
	CHECK(ob != NULL);
	CHECK_INT(db_peek(path, "SELECT max(schema) FROM deliver_meta"), 5);
	CHECK_INT(db_peek(path, "SELECT count(*) FROM outbox_orphans WHERE"
			  " target = 'old' AND idem_key = ''"), 1);
	CHECK_INT(outbox_retarget(ob, now_given, 1, T0), 1);
	CHECK_INT(db_peek(path, "SELECT count(*) FROM outbox_orphans WHERE"
			  " target = 'old'"), 1);
	CHECK_INT(put_spike_to(ob, "old", "resolve-a", "spike|a", true), 0);
	CHECK_INT(put_spike_to(ob, "new", "resolve-a", "spike|a", true), 0);
	CHECK_STR(due_keys(ob, T0), "fire-b resolve-a");
	CHECK_INT(outbox_stats(ob)->dropped, 1);
	outbox_close(ob);
	tmp_done(path);
}

/* The agent's memory outbox, once its file can be written again: every
 * row with its schedule and every claim go into the file, one already
 * there is not doubled, and the memory outbox is left empty. */
static void test_move_takes_rows_schedules_and_claims_into_the_file(void)
{
	struct outbox_item it[4];
	char path[64], k1[OUTBOX_KEY_LEN + 1], k2[OUTBOX_KEY_LEN + 1];
	struct outbox *mem = open_ob(NULL, 0, 60), *file;

	tmp_path(path);
	file = open_ob(path, 0, 60);
	CHECK_INT(outbox_claim(mem, "cert|a.test", T0, k1), 1);
	CHECK_INT(outbox_put(mem, "hook", k1, true, "{}", 2, T0), 0);
	CHECK_INT(outbox_claim(mem, "cert|b.test", T0 + 1, k2), 1);
	CHECK_INT(outbox_put(mem, "hook", k2, false, "{}", 2, T0 + 1), 0);
	CHECK_INT(outbox_put(file, "hook", k2, false, "{}", 2, T0 + 1), 0);
	CHECK_INT(outbox_due(mem, T0 + 1, it, 4), 2);
	CHECK_INT(outbox_move(mem, file), -EINVAL);      /* rows in flight */
	CHECK_INT(outbox_retry(mem, it[0].id, T0 + 10 * SEC), 0);
	outbox_release(mem, it[1].id);
	outbox_item_release(&it[0]);
	outbox_item_release(&it[1]);
	CHECK_INT(outbox_move(mem, file), 1);            /* k2 was there */
	CHECK_INT(outbox_depth(mem), 0);
	CHECK_INT(outbox_move(mem, file), 0);            /* nothing twice */
	outbox_close(mem);
	outbox_close(file);
	file = open_ob(path, 0, 60);                     /* it is on disk */
	CHECK_INT(outbox_depth(file), 2);
	CHECK_INT(outbox_next_due_us(file), T0 + 1);
	CHECK_INT(outbox_due(file, T0 + 10 * SEC - 1, it, 4), 1);   /* retried */
	outbox_release(file, it[0].id);
	outbox_item_release(&it[0]);
	CHECK_INT(outbox_due(file, T0 + 10 * SEC, it, 4), 2);
	CHECK_STR(it[0].idem_key, k2);                   /* the file's own */
	CHECK_INT(it[0].attempts, 0);
	CHECK_STR(it[1].idem_key, k1);                   /* moved, as it was */
	CHECK_INT(it[1].attempts, 1);
	CHECK(it[1].critical);
	CHECK_INT(it[1].created_us, T0);
	outbox_item_release(&it[0]);
	outbox_item_release(&it[1]);
	CHECK_INT(outbox_claim(file, "cert|a.test", T0 + 30 * SEC, k1), 0);
	CHECK_INT(outbox_claim(file, "cert|b.test", T0 + 30 * SEC, k2), 0);
	CHECK_INT(outbox_claim(file, "cert|b.test", T0 + 61 * SEC + 1, k2), 1);
	outbox_close(file);
	tmp_done(path);
}

/* An outbox file on the 256 KiB tmpfs at @dir (full_disk_child), and the
 * path of the file that fills it up. */
static struct outbox *full_disk_paths(const char *dir, char path[96], char fill[96])
{
	snprintf(path, 96, "%s/ob.db", dir);
	snprintf(fill, 96, "%s/fill", dir);
	return open_ob(path, 0, 60);
}

/* The tmpfs filled, then freed: a full disk is -ENOSPC and the same
 * connection writes again. */
static int full_disk_then_freed(const char *dir)
{
	char path[96], fill[96], k1[OUTBOX_KEY_LEN + 1], k2[OUTBOX_KEY_LEN + 1];
	struct outbox *mem = open_ob(NULL, 0, 60), *file;

	file = full_disk_paths(dir, path, fill);
	CHECK_INT(put(file, "k0", false, T0), 0);
	CHECK_INT(outbox_claim(mem, "cert|a.test", T0, k1), 1);
	CHECK_INT(outbox_put(mem, "hook", k1, true, "{}", 2, T0), 0);
	CHECK_INT(outbox_claim(mem, "cert|b.test", T0, k2), 1);
	CHECK_INT(outbox_put(mem, "hook", k2, false, "{}", 2, T0), 0);
	fill_up(fill);
	CHECK_INT(put(file, "k3", false, T0), -ENOSPC);
	CHECK(strstr(outbox_error(file), "database or disk is full") != NULL);
	CHECK_INT(outbox_move(mem, file), -ENOSPC);
	CHECK_INT(outbox_depth(mem), 2);                 /* kept where they were */
	CHECK_INT(outbox_depth(file), 1);
	CHECK_INT(unlink(fill), 0);
	CHECK_INT(outbox_move(mem, file), 2);            /* the same connection */
	CHECK_INT(outbox_depth(mem), 0);
	outbox_close(mem);
	outbox_close(file);
	file = open_ob(path, 0, 60);                     /* it is on disk */
	CHECK_INT(outbox_depth(file), 3);
	CHECK_INT(outbox_claim(file, "cert|a.test", T0 + SEC, k1), 0);
	outbox_close(file);
	return check_failed_in_test;
}

/* Rows k1, k2 and k3 (the first @n) in the outbox file, handed out into
 * @it, then the disk is full. */
static void handed_out_then_full(struct outbox *file, const char *fill,
				 struct outbox_item *it, int n)
{
	static const char *const keys[] = { "k1", "k2", "k3" };
	int i;

	for (i = 0; i < n; i++)
		CHECK_INT(put(file, keys[i], false, T0), 0);
	CHECK_INT(outbox_due(file, T0, it, n), n);
	for (i = 0; i < n; i++)
		outbox_item_release(&it[i]);
	fill_up(fill);
}

/* The outcomes of k1 (delivered), k2 (retried twice) and k3 (refused),
 * handed out, while the disk is full: in effect at once, in the file with
 * the first write after space is freed. */
static int full_disk_outcomes(const char *dir)
{
	char path[96], fill[96];
	struct outbox *file = full_disk_paths(dir, path, fill);
	struct outbox_item it[4];

	handed_out_then_full(file, fill, it, 3);
	CHECK_INT(outbox_ack(file, it[0].id), -ENOSPC);
	CHECK_INT(outbox_retry(file, it[1].id, T0 + 10 * SEC), -ENOSPC);
	CHECK_INT(outbox_fail(file, it[2].id), -ENOSPC);
	CHECK_INT(outbox_ack(file, it[0].id), -ENOENT);   /* gone already */
	CHECK_INT(outbox_stats(file)->delivered, 1);
	CHECK_INT(outbox_stats(file)->failed, 1);
	CHECK_STR(due_keys(file, T0 + SEC), "");          /* not sent again */
	CHECK_STR(due_keys(file, T0 + 10 * SEC - 1), ""); /* its backoff */
	CHECK_INT(outbox_next_due_us(file), T0 + 10 * SEC);
	CHECK_INT(outbox_depth(file), 1);
	CHECK_INT(outbox_due(file, T0 + 10 * SEC, it, 4), 1);
	CHECK_STR(it[0].idem_key, "k2");
	CHECK_INT(it[0].attempts, 1);
	CHECK_INT(outbox_retry(file, it[0].id, T0 + 30 * SEC), -ENOSPC);
	outbox_item_release(&it[0]);
	CHECK_STR(due_keys(file, T0 + 30 * SEC - 1), "");
	CHECK_INT(db_peek(path, "SELECT count(*) FROM outbox"), 3);   /* as stored */
	CHECK_INT(unlink(fill), 0);
	CHECK_INT(put(file, "k4", false, T0 + 40 * SEC), 0);   /* takes them along */
	CHECK_INT(db_peek(path, "SELECT count(*) FROM outbox"), 2);
	CHECK_INT(db_peek(path, "SELECT count(*) FROM outbox WHERE idem_key IN ('k1', 'k3')"), 0);
	CHECK_INT(db_peek(path, "SELECT attempts FROM outbox WHERE idem_key = 'k2'"), 2);
	CHECK_INT(db_peek(path, "SELECT next_attempt_us FROM outbox WHERE idem_key = 'k2'"),
		  T0 + 30 * SEC);
	CHECK_STR(due_keys(file, T0 + 40 * SEC), "k2 k4");
	outbox_close(file);
	return check_failed_in_test;
}

/* The file opened again (as after a read-only repair) takes over what the
 * old connection kept, and closing stores it. */
static int full_disk_outcomes_adopted(const char *dir)
{
	char path[96], fill[96];
	struct outbox *file = full_disk_paths(dir, path, fill), *again;
	struct outbox_item it[2];

	handed_out_then_full(file, fill, it, 2);
	CHECK_INT(outbox_ack(file, it[0].id), -ENOSPC);
	CHECK_INT(outbox_retry(file, it[1].id, T0 + 10 * SEC), -ENOSPC);
	CHECK_INT(unlink(fill), 0);
	again = open_ob(path, 0, 60);
	CHECK_STR(due_keys(again, T0 + SEC), "k1 k2");   /* as the file says */
	CHECK_INT(outbox_adopt_outcomes(again, file), 0);
	outbox_close(file);                              /* nothing left to write */
	CHECK_INT(db_peek(path, "SELECT count(*) FROM outbox"), 2);
	CHECK_STR(due_keys(again, T0 + 10 * SEC - 1), "");
	CHECK_INT(outbox_depth(again), 1);
	outbox_close(again);
	CHECK_INT(db_peek(path, "SELECT count(*) FROM outbox"), 1);
	CHECK_INT(db_peek(path, "SELECT attempts FROM outbox WHERE idem_key = 'k2'"), 1);
	CHECK_INT(db_peek(path, "SELECT next_attempt_us FROM outbox WHERE idem_key = 'k2'"),
		  T0 + 10 * SEC);
	return check_failed_in_test;
}

/*
 * The file a move writes into fails in the middle of the move (a 3 MiB row
 * spills its pages to the WAL on the full 256 KiB tmpfs, before COMMIT)
 * while the source still holds the message of an earlier, unrelated
 * failure: the file's own error is what outbox_error() says, not that
 * stale one (before, the source's message was copied over it).
 */
static int move_fails_in_the_file(const char *dir)
{
	char big[96], from_path[128], from_fill[128], path[96], fill[96];
	const size_t n = 3u << 20;
	struct outbox *from, *to;
	char *body = malloc(n);

	snprintf(big, sizeof(big), "%s/big", dir);
	snprintf(from_path, sizeof(from_path), "%s/from.db", big);
	snprintf(from_fill, sizeof(from_fill), "%s/fill", big);
	CHECK(body != NULL);
	CHECK_INT(mkdir(big, 0700), 0);
	CHECK_INT(mount("tw-outbox-big", big, "tmpfs", 0, "size=16m"), 0);
	from = open_ob(from_path, 0, 60);
	fill_up(from_fill);
	CHECK_INT(put(from, "k0", false, T0), -ENOSPC);  /* its error stays */
	CHECK_INT(unlink(from_fill), 0);
	if (body) {
		memset(body, 'x', n);
		CHECK_INT(outbox_put(from, "hook", "k1", false, body, n, T0), 0);
	}
	to = full_disk_paths(dir, path, fill);
	fill_up(fill);
	CHECK_INT(outbox_move(from, to), -ENOSPC);
	if (!strstr(outbox_error(to), path))
		printf("#   outbox_error: %s\n", outbox_error(to));
	CHECK(strstr(outbox_error(to), path) != NULL);
	CHECK(strstr(outbox_error(to), "database or disk is full") != NULL);
	CHECK_INT(outbox_depth(from), 1);                /* kept where it was */
	CHECK_INT(outbox_depth(to), 0);                  /* rolled back */
	outbox_close(from);
	outbox_close(to);
	free(body);
	return check_failed_in_test;
}

/* Attempts begun while the disk is full: the row is handed out all the
 * same, its count kept in memory (a release takes one back), and the
 * first write after space is freed stores it. */
static int full_disk_attempts(const char *dir)
{
	char path[96], fill[96];
	struct outbox *file = full_disk_paths(dir, path, fill);
	struct outbox_item it[1];

	CHECK_INT(put(file, "k1", false, T0), 0);
	fill_up(fill);
	CHECK_INT(outbox_due(file, T0, it, 1), 1);
	CHECK_INT(it[0].attempts, 0);
	CHECK_INT(outbox_retry(file, it[0].id, T0 + 10 * SEC), -ENOSPC);
	outbox_item_release(&it[0]);
	CHECK_INT(outbox_due(file, T0 + 10 * SEC, it, 1), 1);
	CHECK_INT(it[0].attempts, 1);
	outbox_release(file, it[0].id);                  /* not sent after all */
	outbox_item_release(&it[0]);
	CHECK_INT(outbox_due(file, T0 + 10 * SEC, it, 1), 1);
	CHECK_INT(it[0].attempts, 1);
	CHECK_INT(db_peek(path, "SELECT attempts FROM outbox"), 0);  /* as stored */
	CHECK_INT(unlink(fill), 0);
	CHECK_INT(put(file, "k2", false, T0 + 10 * SEC), 0);   /* takes them along */
	CHECK_INT(db_peek(path, "SELECT attempts FROM outbox WHERE idem_key = 'k1'"), 2);
	CHECK_INT(outbox_ack(file, it[0].id), 0);
	outbox_item_release(&it[0]);
	outbox_close(file);
	return check_failed_in_test;
}

static void test_attempts_begun_on_a_full_disk_reach_the_file_later(void)
{
	full_disk_child(full_disk_attempts);
}

/* A full disk is -ENOSPC, not a broken outbox: the failed write leaves
 * file and connection as they were, and once space is freed the same
 * outbox (not opened again) takes the memory outbox's rows and claims. */
static void test_full_disk_is_enospc_and_the_same_outbox_writes_again(void)
{
	full_disk_child(full_disk_then_freed);
}

/* Outcomes the full disk cannot take still hold for the run: a delivered
 * (or refused) row is not handed out again, a retried one waits for its
 * time with its attempts counted; the next write that succeeds stores
 * them (before, such rows were due again at once: resent every tick). */
static void test_outcomes_on_a_full_disk_hold_and_reach_the_file_later(void)
{
	full_disk_child(full_disk_outcomes);
}

/* A move that fails while writing the file says the file's error. */
static void test_move_failing_in_the_file_says_its_own_error(void)
{
	full_disk_child(move_fails_in_the_file);
}

/* The agent's way back from a read-only file system: the file opened
 * again adopts the outcomes the old connection could not write, and its
 * close stores them. */
static void test_outcomes_kept_in_memory_move_to_the_file_opened_again(void)
{
	full_disk_child(full_disk_outcomes_adopted);
}

int main(void)
{
	RUN_TEST(test_put_then_due_then_ack_empties_the_outbox);
	RUN_TEST(test_duplicate_put_is_ignored);
	RUN_TEST(test_due_select_skips_rows_not_taken);
	RUN_TEST(test_row_waits_for_an_earlier_row_of_its_order_key);
	RUN_TEST(test_rows_without_an_order_key_are_not_held);
	RUN_TEST(test_retarget_gives_a_removed_targets_rows_to_the_given_ones);
	RUN_TEST(test_retargeted_row_goes_before_the_targets_later_rows);
	RUN_TEST(test_retarget_gives_no_copy_to_a_target_done_with_the_alert);
	RUN_TEST(test_retarget_gives_a_dropped_firings_mark_to_the_given_target);
	RUN_TEST(test_retarget_gives_no_mark_to_a_target_done_with_the_alert);
	RUN_TEST(test_retarget_taking_a_mark_keeps_the_targets_done);
	RUN_TEST(test_retry_counts_attempts_and_moves_next_attempt);
	RUN_TEST(test_fail_deletes_and_counts);
	RUN_TEST(test_release_makes_a_row_due_again_without_an_attempt);
	RUN_TEST(test_bound_drops_oldest_non_critical_first_then_oldest_critical);
	RUN_TEST(test_bound_drops_a_firing_with_its_resolved);
	RUN_TEST(test_resolved_after_its_firing_was_dropped_is_dropped);
	RUN_TEST(test_bound_keeps_a_resolved_whose_firing_went);
	RUN_TEST(test_group_waits_until_its_row_is_delivered);
	RUN_TEST(test_move_carries_a_dropped_firings_mark);
	RUN_TEST(test_bound_keeps_the_resolved_of_a_firing_in_flight);
	RUN_TEST(test_bound_keeps_a_later_resolved_of_a_firing_tried);
	RUN_TEST(test_attempt_under_way_at_sigkill_is_counted);
	RUN_TEST(test_file_counts_each_attempt_once_when_it_begins);
	RUN_TEST(test_dropped_firings_marks_are_bounded);
	RUN_TEST(test_move_counts_no_sequel_dropped_on_the_way);
	RUN_TEST(test_dropped_row_in_flight_is_not_acked_later);
	RUN_TEST(test_claim_suppresses_within_cooldown_and_allows_after);
	RUN_TEST(test_claim_from_a_wrong_future_clock_expires);
	RUN_TEST(test_retry_from_a_clock_stepped_back_is_due);
	RUN_TEST(test_longest_retry_after_waits_from_a_clock_read_before);
	RUN_TEST(test_claim_and_idempotency_key_survive_reopen);
	RUN_TEST(test_rows_survive_reopen_and_are_all_due_again);
	RUN_TEST(test_put_survives_sigkill);
	RUN_TEST(test_next_due_skips_rows_in_flight);
	RUN_TEST(test_put_refuses_bad_target_and_key);
	RUN_TEST(test_put_keeps_a_target_of_the_longest_length);
	RUN_TEST(test_shares_the_inventory_file_and_leaves_user_version);
	RUN_TEST(test_newer_outbox_schema_is_refused);
	RUN_TEST(test_schema_1_rows_are_kept_and_sent_unordered);
	RUN_TEST(test_schema_3_marks_go_and_rows_stay);
	RUN_TEST(test_schema_4_marks_stay_with_their_target);
	RUN_TEST(test_move_takes_rows_schedules_and_claims_into_the_file);
	RUN_TEST(test_full_disk_is_enospc_and_the_same_outbox_writes_again);
	RUN_TEST(test_outcomes_on_a_full_disk_hold_and_reach_the_file_later);
	RUN_TEST(test_outcomes_kept_in_memory_move_to_the_file_opened_again);
	RUN_TEST(test_attempts_begun_on_a_full_disk_reach_the_file_later);
	RUN_TEST(test_move_failing_in_the_file_says_its_own_error);
	return CHECK_EXIT_CODE();
}
