// SPDX-License-Identifier: MIT
/*
 * One scope's time: a ring of window_s one-second buckets, rolled forward
 * lazily (when the scope is touched, or every second while it fires), and
 * the baseline learned from each second as it leaves the ring. Learning
 * late is deliberate: a spike is judged while it is in the window, before
 * any of it can become "normal".
 */
#include <math.h>
#include <string.h>

#include "spike_internal.h"

struct spike_bucket *spike_entry_buckets(const struct spike_detector *d,
					 const struct spike_entry *e)
{
	return d->t[e->kind].b + (size_t)e->idx * d->o.window_s;
}

static bool spike_tainted(const struct spike_entry *e, uint64_t sec)
{
	return e->firing || (sec >= e->taint_from && sec <= e->taint_to);
}

bool spike_entry_warm(const struct spike_entry *e)
{
	return e->H >= SPIKE_WARM_HANDSHAKES;
}

double spike_entry_baseline(const struct spike_entry *e)
{
	return e->H > 0 ? e->F / e->H : 0;
}

/* Handshakes the all-traffic scope saw in second @sec, if still in its
 * ring (alert scopes learn their rate against all traffic). */
static uint32_t spike_all_hs_at(const struct spike_detector *d, uint64_t sec)
{
	const struct spike_entry *g = &d->t[SPIKE_SCOPE_ALL].e[0];
	uint32_t w = d->o.window_s;

	if (sec > g->sec || sec + w <= g->sec)
		return 0;
	return d->t[SPIKE_SCOPE_ALL].b[sec % w].handshakes;
}

static void spike_decay(struct spike_entry *e, double f)
{
	e->F *= f;
	e->H *= f;
	e->Dn *= f;
	e->Dd *= f;
}

/* One second leaves the window: decay the sums one step, then add it. */
static void spike_learn(struct spike_detector *d, struct spike_entry *e,
			uint64_t sec, uint32_t n, uint32_t f)
{
	double p, dev;

	if (spike_tainted(e, sec))
		return;
	if (e->kind == SPIKE_SCOPE_ALERT)
		n = spike_all_hs_at(d, sec);
	/* the spread is learned against a baseline that means something */
	if (n > 0 && spike_entry_warm(e)) {
		p = e->F / e->H;
		dev = (double)f - (double)n * p;
		e->Dn = d->beta * e->Dn + dev * dev;
		e->Dd = d->beta * e->Dd + n;
	} else {
		e->Dn *= d->beta;
		e->Dd *= d->beta;
	}
	e->F = d->beta * e->F + f;
	e->H = d->beta * e->H + n;
}

void spike_entry_roll(struct spike_detector *d, struct spike_entry *e, uint64_t sec)
{
	struct spike_bucket *ring = spike_entry_buckets(d, e), *b;
	uint32_t w = d->o.window_s;
	uint64_t k, j, steps, s;

	if (sec <= e->sec)
		return;
	k = sec - e->sec;
	steps = k < w ? k : w;
	for (j = 1; j <= steps; j++) {
		s = e->sec + j;            /* new second; its slot held s - w */
		b = &ring[s % w];
		if (s >= w)
			spike_learn(d, e, s - w, b->handshakes, b->failures);
		e->win_hs -= b->handshakes;
		e->win_fail -= b->failures;
		e->win_inc -= b->incomplete;
		memset(b, 0, sizeof(*b));
	}
	/* seconds that came and went without a handshake: decay only, and
	 * not while firing (the baseline is frozen then) */
	if (k > w && !e->firing)
		spike_decay(e, exp(-(double)(k - w) / d->o.baseline_s));
	e->sec = sec;
}

uint32_t spike_entry_window_hs(const struct spike_detector *d,
			       const struct spike_entry *e)
{
	if (e->kind == SPIKE_SCOPE_ALERT)
		return d->t[SPIKE_SCOPE_ALL].e[0].win_hs;
	return e->win_hs;
}

uint32_t spike_entry_window_inc(const struct spike_detector *d,
				const struct spike_entry *e)
{
	if (e->kind == SPIKE_SCOPE_ALERT)
		return d->t[SPIKE_SCOPE_ALL].e[0].win_inc;
	return e->win_inc;
}

double spike_threshold(const struct spike_detector *d,
		       const struct spike_entry *e, uint32_t n, double *p)
{
	double pb, pc, var, emp, sig, ratio;

	*p = 0;
	if (n == 0)
		return 2.0;
	if (!spike_entry_warm(e))
		return d->o.cold_rate;
	pb = e->F / e->H;
	*p = pb;
	pc = pb < 0.01 ? 0.01 : pb > 0.5 ? 0.5 : pb;
	var = pc * (1 - pc);
	if (e->kind != SPIKE_SCOPE_ALERT && e->Dd > 0) {
		emp = e->Dn / e->Dd;
		if (emp > var)
			var = emp;
	}
	if (var > 0.25)
		var = 0.25;
	sig = pb + d->o.sigma * sqrt(var * (1.0 / n + 1.0 / e->H));
	ratio = spike_ratio_level(d, pb, NULL);
	return sig > ratio ? sig : ratio;
}

/* factor * p, capped at halfway to 100 %; @k gets the multiplier of p */
double spike_ratio_level(const struct spike_detector *d, double p, double *k)
{
	double level = d->o.factor * p;

	if (k)
		*k = d->o.factor;
	if (level > (1 + p) / 2) {
		level = (1 + p) / 2;
		if (k)
			*k = 0.5;
	}
	return level;
}

/* Is r = f / n factor times the baseline with confidence, the noise of
 * both counted? A small window's rate and a young baseline are both
 * noisy; without this, among hundreds of scopes some would cross the
 * ratio by chance. q = max(p, 1 / (H + 1)) keeps a baseline of 0 from
 * claiming perfect certainty. */
bool spike_ratio_confident(const struct spike_detector *d,
			   const struct spike_entry *e, uint32_t n, uint32_t f)
{
	double p, q, k, level, r, var;

	if (!spike_entry_warm(e))
		return true;    /* cold: the absolute floor decides */
	p = e->F / e->H;
	q = p > 1 / (e->H + 1) ? p : 1 / (e->H + 1);
	level = spike_ratio_level(d, p, &k);
	r = (double)f / n;
	var = r * (1 - r) / n + k * k * q * (1 - q) / e->H;
	return r - level >= d->o.sigma * sqrt(var);
}
