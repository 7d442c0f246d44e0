// SPDX-License-Identifier: MIT
/* The counter table of counters.h, expanded once. */
#include "counters.h"

const struct counter_def counter_defs[COUNTER__COUNT] = {
#define X(id, nm, k, fam, lname, lvalue, hlp)                                   \
	[COUNTER_##id] = { .name = #nm, .kind = k, .family = fam,              \
			   .label_name = lname, .label_value = lvalue, .help = hlp },
	AGENT_COUNTERS(X)
#undef X
};
