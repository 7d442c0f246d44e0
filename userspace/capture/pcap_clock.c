// SPDX-License-Identifier: MIT
/* The clock of a run of captures read as one: see pcap_clock.h. */
#include <stdlib.h>

#include "common/log.h"
#include "pcap_clock.h"

void pcap_clock_begin_file(struct pcap_clock *c)
{
	c->file++;
}

bool pcap_clock_room(struct pcap_clock *c, size_t len)
{
	uint8_t *p;

	if (len <= c->cap)
		return true;
	p = realloc(c->buf, len);
	if (!p)
		return false;
	c->buf = p;
	c->cap = len;
	return true;
}

void pcap_clock_release(struct pcap_clock *c, uint64_t next_us, bool last,
			tw_segment_fn fn, void *ctx)
{
	uint64_t outliers = c->guard.outliers;
	uint64_t ts_us = clock_guard_release(&c->guard, next_us, last);
	bool other_file = c->on_source && c->held_file != c->file;

	if (c->guard.outliers > outliers && c->said_file != c->held_file) {
		pr_warn("%s, far ahead of the packets after it: read at the time of the one before (such packets are counted in clock_outliers)\n",
			c->held_where);
		c->said_file = c->held_file;
	}
	if (!c->held_kept)
		return;
	c->held.ts_us = ts_us;
	if (other_file)
		c->on_source(ctx, c->held_source);
	fn(ctx, &c->held);
	if (other_file)
		c->on_source(ctx, c->source);
}

void pcap_clock_finish(struct pcap_clock *c, tw_segment_fn fn, void *ctx)
{
	if (c->guard.holding)
		pcap_clock_release(c, 0, true, fn, ctx);
	free(c->buf);
	c->buf = NULL;
	c->cap = 0;
}
