// SPDX-License-Identifier: MIT
/*
 * analyze --online: a handshake whose certificate needs answers from the
 * network (an OCSP responder, a CRL distribution point) is held until they
 * are cached, then judged like any other, so its handshake event, the
 * summary's counts, --fail-on and the text report carry the final
 * verdict. Every handshake decided after a held one is held behind it:
 * events, counts and spike windows keep packet order. At most
 * PIPELINE_MAX_HELD are held (a full queue waits for its oldest); the
 * oldest waits at most opts.hold_online_ms, then is judged with what is
 * known (its cert event is then sent again when the answer comes, as the
 * live agent does). The live agent never holds.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "pipeline_priv.h"

struct held_record {
	struct hs_record rec;          /* owns its blobs */
	const char *source;
};

static int64_t hold_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint64_t held_time_us(const struct held_record *h)
{
	return h->rec.end_us ? h->rec.end_us : h->rec.start_us;
}

/* Takes @rec's contents, blobs included: the caller's release frees
 * nothing of it any more. 0, or -1 when out of memory. */
static int hold_push(struct pipeline *pl, struct hs_record *rec)
{
	struct hold_queue *q = &pl->held;
	struct held_record *h;

	if (!q->ring && !(q->ring = calloc(PIPELINE_MAX_HELD, sizeof(*q->ring))))
		return -1;
	h = malloc(sizeof(*h));
	if (!h)
		return -1;
	h->rec = *rec;
	h->source = pl->source;
	memset(rec->chain, 0, sizeof(rec->chain));
	rec->n_chain = 0;
	memset(&rec->staple, 0, sizeof(rec->staple));
	rec->has_staple = false;
	rec->alpn = NULL;
	rec->n_alpn = 0;
	if (!q->n)
		q->first_since_ms = hold_now_ms();
	q->ring[(q->first + q->n) % PIPELINE_MAX_HELD] = h;
	q->n++;
	return 0;
}

/* Judges the oldest held record and forgets it. */
static void hold_judge_first(struct pipeline *pl)
{
	struct hold_queue *q = &pl->held;
	struct held_record *h = q->ring[q->first];
	const char *source = pl->source;

	q->first = (q->first + 1) % PIPELINE_MAX_HELD;
	q->n--;
	q->first_since_ms = hold_now_ms();
	pl->source = h->source;
	judge_advance_spikes(pl, held_time_us(h));
	judge_now(pl, &h->rec);
	pl->source = source;
	hs_record_release(&h->rec);
	free(h);
}

/* Whether the oldest can be judged now; with @wait, waits for its answers
 * until its time is up. */
static bool hold_first_ready(struct pipeline *pl, bool wait)
{
	const struct hold_queue *q = &pl->held;
	const struct hs_record *rec = &q->ring[q->first]->rec;

	for (;;) {
		int64_t left = q->first_since_ms + pl->opts.hold_online_ms - hold_now_ms();

		if (!judge_awaits_answers(pl, rec) || left <= 0)
			return true;
		if (!wait)
			return false;
		judge_wait_checks(pl, (int)left);
	}
}

void hold_release(struct pipeline *pl, enum hold_release how)
{
	while (pl->held.n) {
		if (how != HOLD_NOW && !hold_first_ready(pl, how == HOLD_WAIT))
			return;
		hold_judge_first(pl);
	}
}

bool hold_record(struct pipeline *pl, struct hs_record *rec)
{
	if (!pl->opts.hold_online_ms || !pl->opts.health)
		return false;
	pipeline_drain_checks(pl);
	hold_release(pl, HOLD_READY);
	if (!pl->held.n && !judge_awaits_answers(pl, rec))
		return false;
	if (pl->held.n == PIPELINE_MAX_HELD && hold_first_ready(pl, true))
		hold_judge_first(pl);
	if (hold_push(pl, rec) == 0)
		return true;
	pr_warn("out of memory: a handshake is judged before its online answers\n");
	return false;
}

void hold_free(struct pipeline *pl)
{
	struct hold_queue *q = &pl->held;

	while (q->n) {
		struct held_record *h = q->ring[q->first];

		q->first = (q->first + 1) % PIPELINE_MAX_HELD;
		q->n--;
		hs_record_release(&h->rec);
		free(h);
	}
	free(q->ring);
	q->ring = NULL;
}
