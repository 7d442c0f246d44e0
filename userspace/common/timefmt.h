/* SPDX-License-Identifier: MIT */
#ifndef TW_TIMEFMT_H
#define TW_TIMEFMT_H

#include <stdint.h>
#include <time.h>

#define TW_TIME_STRLEN 32

/* "2026-11-23T08:30:01.123456Z" from microseconds since the epoch. */
const char *tw_time_format_us(uint64_t ts_us, char *buf);
/* "2026-11-23T08:30:01Z" from seconds (certificate and OCSP times). */
const char *tw_time_format_s(int64_t ts, char *buf);

/* Seconds since the epoch of "2026-11-23T08:30:01Z" (UTC, as the two
 * above print it, without the fraction). 0, or -EINVAL, also for a date
 * or time that does not exist (2026-02-30, 14:00:60: no leap seconds). */
int tw_time_parse_s(const char *text, int64_t *out);

#endif
