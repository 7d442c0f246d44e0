/* SPDX-License-Identifier: MIT */
/* A spike event (sni rsa.test, 30 of 50 handshakes failed) for the alert
 * senders' unit tests. */
#ifndef TW_TEST_SINK_SPIKE_H
#define TW_TEST_SINK_SPIKE_H

#include "detect/spike.h"
#include "event/event.h"
#include "sink/sink.h"

static inline void emit_spike(struct sink_set *set, enum spike_state state, uint64_t ts_us)
{
	struct spike_event sp = {
		.state = state, .kind = SPIKE_SCOPE_SNI, .key = "rsa.test",
		.ts_us = ts_us, .window_s = 10, .handshakes = 50, .failures = 30,
		.rate = 0.6, .started_us = ts_us, .n_alerts = 1,
		.top_alerts = { { .key = "unknown_ca", .from = "client", .count = 30 } },
	};
	struct event ev = { .type = EVENT_SPIKE, .ts_us = ts_us, .source = "unit",
			    .spike = &sp };

	sink_set_emit(set, &ev);
}

#endif
