// SPDX-License-Identifier: MIT
/*
 * Retry timing for webhooks. Everything here is arithmetic on the caller's
 * values; only the HTTP-date parsing is handed to libcurl, which has done
 * it for every cookie and Retry-After it ever met.
 */
#include <ctype.h>
#include <stdint.h>
#include <string.h>

#include <curl/curl.h>

#include "backoff.h"

/* @v * @random / 2^32, without overflow for any non-negative @v. */
static int64_t backoff_scale(int64_t v, uint32_t random)
{
	uint64_t hi = (uint64_t)v >> 32, lo = (uint64_t)v & 0xffffffffu;

	return (int64_t)(hi * random + ((lo * random) >> 32));
}

int64_t backoff_delay_us(int attempts, int64_t base_us, int64_t max_us,
			 uint32_t random)
{
	int64_t d = base_us > 0 ? base_us : 0, half;
	int i;

	if (max_us < 0)
		max_us = 0;
	if (max_us > BACKOFF_DELAY_MAX_US)
		max_us = BACKOFF_DELAY_MAX_US;
	/* Doubling stops at the cap, so it cannot overflow. */
	for (i = 0; i < attempts && d < max_us; i++)
		d = d > max_us / 2 ? max_us : d * 2;
	if (d > max_us)
		d = max_us;
	half = d / 2;
	return d - half + backoff_scale(half, random);
}

/* Delta-seconds: digits only; a huge value is simply the cap. */
static int64_t backoff_delta_seconds(const char *s, size_t n)
{
	const int64_t cap_s = BACKOFF_RETRY_AFTER_MAX_US / 1000000;
	int64_t secs = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		if (secs <= cap_s)
			secs = secs * 10 + (s[i] - '0');
	}
	return (secs > cap_s ? cap_s : secs) * 1000000;
}

static int64_t backoff_http_date(const char *s, int64_t now_us)
{
	time_t t = curl_getdate(s, NULL);
	int64_t d;

	if (t == -1)
		return -1;
	if ((int64_t)t > (now_us + BACKOFF_RETRY_AFTER_MAX_US) / 1000000)
		return BACKOFF_RETRY_AFTER_MAX_US;
	d = (int64_t)t * 1000000 - now_us;
	return d < 0 ? 0 : d;
}

int64_t backoff_retry_after_us(const char *value, int64_t now_us)
{
	char buf[64];
	size_t n;

	if (!value)
		return -1;
	while (*value == ' ' || *value == '\t')
		value++;
	n = strlen(value);
	while (n && (value[n - 1] == ' ' || value[n - 1] == '\t'))
		n--;
	if (n == 0 || n >= sizeof(buf))
		return -1;
	if (isdigit((unsigned char)value[0]))
		return backoff_delta_seconds(value, n);
	/* Every HTTP-date form starts with the day's name; curl_getdate
	 * alone would also take "+5" or a bare "12:00". */
	if (!isalpha((unsigned char)value[0]))
		return -1;
	memcpy(buf, value, n);
	buf[n] = '\0';
	return backoff_http_date(buf, now_us);
}

enum backoff_verdict backoff_classify_status(long http_status,
					     bool transport_error)
{
	if (transport_error || http_status == 0)
		return BACKOFF_RETRY;
	if (http_status >= 200 && http_status <= 299)
		return BACKOFF_DELIVERED;
	if (http_status >= 400 && http_status <= 499 &&
	    http_status != 408 && http_status != 429)
		return BACKOFF_GIVE_UP;
	return BACKOFF_RETRY;
}
