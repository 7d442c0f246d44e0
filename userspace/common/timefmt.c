// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "timefmt.h"

#define SECS_PER_DAY 86400

#define SECS_YEAR_0     (-62167219200LL)  /* 0000-01-01T00:00:00 */
#define SECS_YEAR_10000 253402300800LL    /* 10000-01-01T00:00:00 */

/* Proleptic Gregorian date of day @days since 1970-01-01 (negative before),
 * counting in 400-year eras of 146097 days that start on a March 1st. */
static void civil_from_days(int64_t days, int64_t *year, unsigned *month,
			    unsigned *day)
{
	int64_t z = days + 719468;    /* days since 0000-03-01 */
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);              /* [0, 146096] */
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);   /* from March 1st */
	unsigned mp = (5 * doy + 2) / 153;

	*day = doy - (153 * mp + 2) / 5 + 1;
	*month = mp < 10 ? mp + 3 : mp - 9;
	*year = (int64_t)yoe + era * 400 + (*month <= 2);
}

static char *put2(char *p, unsigned v)
{
	p[0] = (char)('0' + v / 10);
	p[1] = (char)('0' + v % 10);
	return p + 2;
}

/*
 * Events carry several times each and are written for every handshake:
 * formatted here without gmtime_r and strftime, years always in four
 * digits as RFC 3339 wants (strftime's %Y writes year 1 as "1"; a
 * certificate's notBefore can say 0001). RFC 3339 has years 0000-9999
 * only: a time outside them (a corrupt capture's timestamp, a hostile
 * database's) is written as the nearest one it can say, never as a date
 * no parser takes. @buf holds TW_TIME_STRLEN bytes. Returns the length,
 * always that of "YYYY-MM-DDThh:mm:ss" (the years clamped to four digits).
 */
static size_t format_utc(int64_t secs, char *buf)
{
	int64_t days, rem, year;
	unsigned month, day, s;
	char *p = buf;

	if (secs < SECS_YEAR_0)
		secs = SECS_YEAR_0;
	else if (secs >= SECS_YEAR_10000)
		secs = SECS_YEAR_10000 - 1;
	days = secs / SECS_PER_DAY;
	rem = secs % SECS_PER_DAY;
	if (rem < 0) {
		rem += SECS_PER_DAY;
		days--;
	}
	civil_from_days(days, &year, &month, &day);
	s = (unsigned)rem;
	p = put2(p, (unsigned)(year / 100));
	p = put2(p, (unsigned)(year % 100));
	*p++ = '-';
	p = put2(p, month);
	*p++ = '-';
	p = put2(p, day);
	*p++ = 'T';
	p = put2(p, s / 3600);
	*p++ = ':';
	p = put2(p, s / 60 % 60);
	*p++ = ':';
	p = put2(p, s % 60);
	*p = '\0';
	return (size_t)(p - buf);
}

_Static_assert(TW_TIME_STRLEN >= sizeof("YYYY-MM-DDThh:mm:ss.uuuuuuZ"),
	       "TW_TIME_STRLEN holds the longest time written");

const char *tw_time_format_us(uint64_t ts_us, char *buf)
{
	unsigned us = ts_us / 1000000 >= SECS_YEAR_10000 ? 999999 :
		      (unsigned)(ts_us % 1000000);
	size_t n = format_utc((int64_t)(ts_us / 1000000), buf);
	int i;

	buf[n] = '.';
	for (i = 6; i >= 1; i--, us /= 10)
		buf[n + (size_t)i] = (char)('0' + us % 10);
	memcpy(buf + n + 7, "Z", 2);
	return buf;
}

const char *tw_time_format_s(int64_t ts, char *buf)
{
	memcpy(buf + format_utc(ts, buf), "Z", 2);
	return buf;
}

/* strptime takes a day up to 31 in any month and a second up to 60 (or
 * 61), which timegm carries over: 02-30 would be 03-02. A time is valid
 * when carrying changes nothing. */
static bool tm_same_time(const struct tm *a, const struct tm *b)
{
	return a->tm_year == b->tm_year && a->tm_mon == b->tm_mon &&
	       a->tm_mday == b->tm_mday && a->tm_hour == b->tm_hour &&
	       a->tm_min == b->tm_min && a->tm_sec == b->tm_sec;
}

int tw_time_parse_s(const char *text, int64_t *out)
{
	struct tm tm, given;
	const char *end;
	time_t t;

	memset(&tm, 0, sizeof(tm));
	end = text ? strptime(text, "%Y-%m-%dT%H:%M:%SZ", &tm) : NULL;
	if (!end || *end)
		return -EINVAL;
	given = tm;
	t = timegm(&tm);           /* normalises @tm */
	if (!tm_same_time(&given, &tm))
		return -EINVAL;
	*out = (int64_t)t;
	return 0;
}
