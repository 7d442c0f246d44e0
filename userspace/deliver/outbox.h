/* SPDX-License-Identifier: MIT */
/*
 * The durable webhook outbox: an alert is written to SQLite before any
 * delivery is tried and removed only when its receiver acknowledged it
 * (or refused it for good), so alerts survive a crash, SIGKILL or reboot
 * and are sent at least once. The receiver drops repeats by the
 * idempotency key each row carries.
 *
 * The tables (outbox, outbox_sent, deliver_meta) may live in the
 * inventory's file: the outbox never touches PRAGMA user_version, which
 * the inventory owns; its own schema version is in deliver_meta. Each
 * write is one transaction, in WAL mode with synchronous=FULL: when
 * outbox_put returns, the alert is on disk.
 *
 * Rows handed out by outbox_due are "in flight" until the caller reports
 * their fate with outbox_ack, outbox_retry, outbox_fail or outbox_release;
 * the in-flight set is only in memory, so after a restart every row is
 * handed out again when its next attempt is due. Each attempt is counted
 * in the file when it is handed out, not when it failed: a process killed
 * while a request was under way leaves the row tried (its count goes on,
 * and the bound keeps a sequel of a row that may have been received).
 *
 * Times are wall-clock µs since the epoch, given by the caller (they must
 * mean the same across restarts). One thread uses an outbox at a time.
 * Errors are negative errno values: -EINVAL for bad arguments, -ENOMEM,
 * -ENOENT for an id not in the outbox, -ENOSPC when the disk (or the
 * database) is full, -EIO for another database failure; outbox_error()
 * then describes the last two. A write that failed leaves the file and
 * the connection as they were (SQLite rolls it back): once space is freed,
 * the same outbox takes writes again.
 *
 * An outcome (outbox_ack, outbox_retry, outbox_fail) the file cannot take
 * returns that error but holds for the run all the same: it is kept in
 * memory, outbox_due and outbox_next_due_us follow it (a delivered row is
 * not handed out again, a retried one waits for its time), and the first
 * write that succeeds (any of them, or outbox_close's last try) stores it.
 * Until then the file has the row as before: a restart sends it again.
 *
 * Order: a row put with an order key (outbox_put_ordered: the alert it is
 * about, say a spike's scope) is held, not handed out, while its target
 * has an earlier row with the same order key in the outbox, in flight or
 * waiting for a retry: a receiver never gets an alert's "resolved" before
 * its "firing" went (acknowledged or refused for good). Rows of other
 * keys, and of other targets, go on meanwhile.
 */
#ifndef TW_DELIVER_OUTBOX_H
#define TW_DELIVER_OUTBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OUTBOX_KEY_LEN 32           /* hex characters of an idempotency key */
/* A target's name or URL, in bytes at most. The database holds each row's
 * own length; an item handed out (outbox_due) holds this much plus a NUL,
 * a caller's array of them too. */
#define OUTBOX_TARGET_LEN 2048
#define OUTBOX_DEFAULT_MAX_ROWS 10000
#define OUTBOX_DEFAULT_COOLDOWN_S 3600
/* Twice the longest a retry is put off (BACKOFF_DELAY_MAX_US, 12 h; the
 * margin covers a caller whose clock reads differ a little): a row due
 * later than this from now was scheduled by a clock that has since been
 * stepped back, and is due. */
#define OUTBOX_MAX_DELAY_US (24LL * 3600 * 1000000)

struct outbox;

struct outbox_opts {
	int64_t max_rows;     /* rows kept at most; <= 0: 10000 */
	int64_t cooldown_s;   /* outbox_claim's dedup window; <= 0: 3600 */
};

struct outbox_item {
	int64_t id;                       /* for ack/retry/fail/release */
	char target[OUTBOX_TARGET_LEN + 1];
	char idem_key[OUTBOX_KEY_LEN + 1];
	char order_key[OUTBOX_KEY_LEN + 1];  /* its digest; "" unordered */
	int64_t seq;                      /* the order among a key's rows */
	bool critical;
	bool sequel;                      /* OUTBOX_SEQUEL */
	bool opens;                       /* OUTBOX_OPENS */
	char *body;                       /* malloc'd, NUL-terminated */
	size_t body_len;                  /* without that NUL */
	int attempts;                     /* attempts before this one */
	int64_t created_us;
};

/* Counts in this process since outbox_open. */
struct outbox_stats {
	uint64_t delivered;   /* acknowledged */
	uint64_t failed;      /* refused for good (outbox_fail) */
	uint64_t dropped;     /* evicted by the max_rows bound */
};

/*
 * Opens (creating if missing) the outbox in the SQLite file @path, or in
 * memory when @path is NULL. @o NULL means the defaults. 0, or -errno
 * with @err naming the file and the reason.
 */
int outbox_open(const char *path, const struct outbox_opts *o,
		struct outbox **out, char *err, size_t errlen);
/* Closes @ob after a last try at storing the outcomes kept in memory. */
void outbox_close(struct outbox *ob);

/* Stores the outcomes kept in memory (see the top), if any: 0 or -errno. */
int outbox_flush(struct outbox *ob);
/* Rows delivered or refused whose removal is kept in memory only: the
 * file still has them, so a run that opens it next sends them again. */
int64_t outbox_unremoved(const struct outbox *ob);

/* The last failure's description ("" before any). */
const char *outbox_error(const struct outbox *ob);

/*
 * Deduplication across restarts: 1 when the alert @dedup_key was not
 * claimed within the cooldown; its claim time becomes @now_us and
 * @idem_key receives the row's idempotency key, the first 32 lowercase
 * hex characters of SHA-256("<dedup_key>|<now_us in decimal>"). 0 when
 * the cooldown suppresses it (@idem_key is then ""). Claim, then put at
 * once: a crash between the two loses that alert for the cooldown.
 */
int outbox_claim(struct outbox *ob, const char *dedup_key, int64_t now_us,
		 char idem_key[OUTBOX_KEY_LEN + 1]);

/*
 * Stores an alert for @target, due at once. 0 added; 1 when the outbox
 * already holds (@target, @idem_key), which is then left as it was. At
 * max_rows the oldest non-critical row is dropped to make room, or the
 * oldest critical one when all are critical, a sequel (below) after the
 * other rows; stats.dropped counts them.
 * -ENAMETOOLONG for a target over OUTBOX_TARGET_LEN bytes, -EINVAL for an
 * empty target or a key empty or over OUTBOX_KEY_LEN characters; every
 * error but a NULL @ob is described by outbox_error().
 */
int outbox_put(struct outbox *ob, const char *target, const char *idem_key,
	       bool critical, const char *body, size_t len, int64_t now_us);
/* outbox_put_ordered's @flags. */
#define OUTBOX_CRITICAL 0x1u   /* dropped by the bound after the others */
/*
 * Means nothing without the row before it in its order key's order (a
 * spike's "resolved" after its "firing"): when the bound drops that row
 * never tried and not in flight, its sequels go with it, and a sequel
 * put after it was dropped so (with no row of the order key between, and
 * the row put with OUTBOX_OPENS) is dropped too, counted in
 * stats.dropped. The put still returns 0. A row that may have reached its
 * receiver (in flight, or tried: a timeout the receiver processed all
 * the same) keeps its sequels when dropped: they end what it began.
 */
#define OUTBOX_SEQUEL 0x2u
/*
 * Can have sequels (a spike's "firing"): dropped never sent and with no
 * later row of its order key, it leaves a mark that drops the next sequel
 * put in that order key. The marks are kept with the rows (outbox_move
 * carries them), max_rows at most: past that the oldest is forgotten,
 * and that sequel is then sent.
 */
#define OUTBOX_OPENS 0x4u
/* The same, in the order of @order_key (see the top; NULL or "": none,
 * and OUTBOX_SEQUEL and OUTBOX_OPENS are ignored), any string: the outbox
 * keeps its digest. */
int outbox_put_ordered(struct outbox *ob, const char *target,
		       const char *idem_key, const char *order_key,
		       unsigned int flags, const char *body, size_t len,
		       int64_t now_us);

/*
 * Gives the rows of every target not among @targets (@n of them, n > 0)
 * to each of @targets that was not given the alert itself (it holds a
 * row of the same idempotency key, or acknowledged or refused one while
 * this row waited): a copy with its key, body and place in its order
 * key's order, never tried and due at @now_us; the row itself goes. The
 * mark of a firing such a target dropped unsent (OUTBOX_OPENS) goes the
 * same way, to each of @targets not done with that alert and holding no
 * row of its order key (a mark from a file of outbox schema 4 names no
 * alert and stays). For a sender whose receivers changed: what was queued
 * for a URL no longer given goes to the ones given now. One transaction.
 * The rows given, or -errno (nothing changed).
 */
int outbox_retarget(struct outbox *ob, const char *const *targets, int n,
		    int64_t now_us);

/*
 * Up to @max rows due at @now_us, not in flight and not held (see the
 * top), oldest first (in their order keys' order), into
 * @items; they are then in flight, an attempt counted for each (in the
 * file, or kept in memory when it cannot take it). The count, or -errno
 * (nothing handed out). Free each item's body with outbox_item_release.
 */
int outbox_due(struct outbox *ob, int64_t now_us, struct outbox_item *items,
	       int max);
void outbox_item_release(struct outbox_item *it);
/*
 * The same, handing out only the rows @take accepts (called with each due
 * row's target and order key, as outbox_item has them, oldest first, until
 * @max are taken): a caller bounding the requests per receiver skips a
 * busy receiver's rows without losing its turn for the others' (the
 * oldest rows may all be the busy one's). A row not taken holds back the
 * later rows of its target and order key, as one in flight does.
 */
int outbox_due_select(struct outbox *ob, int64_t now_us,
		      struct outbox_item *items, int max,
		      bool (*take)(void *ctx, const char *target,
				   const char *order_key), void *ctx);
/*
 * Whether @ob holds a row for @target of @order_key (as outbox_item has
 * it: its digest), in flight or waiting, not delivered: 1, 0 (also for
 * "", no order), or -errno. For a caller with two outboxes (a file, and
 * memory while the file cannot be written): a row of the second waits
 * for the first's of its alert.
 */
int outbox_group_waits(struct outbox *ob, const char *target,
		       const char *order_key);

/*
 * The outcome of a row handed out: 0, -ENOENT for an id the outbox does
 * not hold, or -errno when the file could not take it (in effect all the
 * same when the row was in flight: see the top). Only a row in flight is
 * kept so, one outcome per row, max_rows at most; past that, or without
 * memory, the row is due as the file says.
 */
/* Delivered: the row goes (stats.delivered). */
int outbox_ack(struct outbox *ob, int64_t id);
/* Not this time: due again at @next_attempt_us (the attempt was counted
 * when the row was handed out; a row not handed out counts one more). */
int outbox_retry(struct outbox *ob, int64_t id, int64_t next_attempt_us);
/* Refused for good: the row goes (stats.failed). */
int outbox_fail(struct outbox *ob, int64_t id);
/* Not tried after all (say the HTTP queue was full): due as before, the
 * attempt counted at the hand-out taken back. */
void outbox_release(struct outbox *ob, int64_t id);

/*
 * Moves every row of @from (none may be in flight: -EINVAL) into @to, each
 * with its attempts and next attempt, every claim, and the mark of each
 * order key whose sequel is to be dropped (OUTBOX_SEQUEL), in one
 * transaction of @to; @from is then empty. For the agent's memory outbox once its file
 * can be written again. The rows added (one @to holds already, by target
 * and idempotency key, is not added twice), or -errno: @to is as before,
 * outbox_error(@to) says why, and @from keeps everything unless only its
 * emptying failed (it is in memory: it cannot).
 */
int outbox_move(struct outbox *from, struct outbox *to);

/*
 * For the same file opened again (say its file system was read-only, and
 * the repaired one is mounted at the path): @to takes over the outcomes
 * @from kept in memory (@from forgets them: written twice, a retry would
 * count twice), so that a row delivered meanwhile is not handed out again
 * and @to's next write stores them. 0, or -ENOMEM (some not taken: those
 * rows are due as the file says).
 */
int outbox_adopt_outcomes(struct outbox *to, struct outbox *from);

/* Rows waiting, in flight included (not those deleted in memory only, see
 * the top); or -errno. */
int64_t outbox_depth(struct outbox *ob);
/* The same, of the rows whose target @mine accepts (a sender sharing the
 * file with another counts its own). */
int64_t outbox_depth_select(struct outbox *ob,
			    bool (*mine)(void *ctx, const char *target), void *ctx);
/*
 * When the earliest row not in flight is due (maybe in the past), for the
 * caller's poll timeout; -1 when there is none; below -1 (-errno) on error.
 */
int64_t outbox_next_due_us(struct outbox *ob);
/* The same, of the rows whose target @mine accepts. */
int64_t outbox_next_due_select(struct outbox *ob,
			       bool (*mine)(void *ctx, const char *target),
			       void *ctx);
const struct outbox_stats *outbox_stats(const struct outbox *ob);

#endif
