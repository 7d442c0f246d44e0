// SPDX-License-Identifier: MIT
/* A capture's clock against a record dated far ahead: see clock_guard.h. */
#include "clock_guard.h"

bool clock_guard_hold(struct clock_guard *g, uint64_t ts_us)
{
	if (g->started && ts_us > g->now_us &&
	    ts_us - g->now_us > CLOCK_GUARD_JUMP_US) {
		g->held_us = ts_us;
		g->holding = true;
		return true;
	}
	if (!g->started || ts_us > g->now_us)
		g->now_us = ts_us;
	g->started = true;
	return false;
}

uint64_t clock_guard_release(struct clock_guard *g, uint64_t next_us, bool last)
{
	bool confirmed = !last && next_us >= g->held_us - CLOCK_GUARD_JUMP_US;

	g->holding = false;
	if (!confirmed) {
		g->outliers++;
		return g->now_us;
	}
	g->now_us = g->held_us;
	return g->held_us;
}
