// SPDX-License-Identifier: MIT
#include <stdio.h>

#include "timefmt.h"

static void format_utc(int64_t secs, char *buf, size_t len)
{
	struct tm tm;
	time_t t = (time_t)secs;

	if (!gmtime_r(&t, &tm) || !strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm))
		snprintf(buf, len, "1970-01-01T00:00:00");
}

const char *tw_time_format_us(uint64_t ts_us, char *buf)
{
	char base[TW_TIME_STRLEN];

	format_utc((int64_t)(ts_us / 1000000), base, sizeof(base));
	snprintf(buf, TW_TIME_STRLEN, "%s.%06uZ", base,
		 (unsigned)(ts_us % 1000000));
	return buf;
}

const char *tw_time_format_s(int64_t ts, char *buf)
{
	char base[TW_TIME_STRLEN];

	format_utc(ts, base, sizeof(base));
	snprintf(buf, TW_TIME_STRLEN, "%sZ", base);
	return buf;
}
