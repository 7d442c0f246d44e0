// SPDX-License-Identifier: MIT
#include <stdarg.h>
#include <stdio.h>

#include "log.h"

static enum tw_log_level current_level = TW_LOG_WARN;
static char prefix[64] = "tlswatch";

void tw_log_set_level(enum tw_log_level level) { current_level = level; }
void tw_log_set_prefix(const char *p) { snprintf(prefix, sizeof(prefix), "%s", p); }
enum tw_log_level tw_log_get_level(void) { return current_level; }

void tw_log(enum tw_log_level level, const char *fmt, ...)
{
	va_list ap;

	if (level > current_level)
		return;
	fprintf(stderr, "%s: ", prefix);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}
