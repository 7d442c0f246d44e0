/* SPDX-License-Identifier: MIT */
/*
 * When to try a webhook again, and whether to: the exponential delay with
 * jitter, the receiver's own Retry-After, and what an HTTP status means
 * for the alert. Pure functions; the caller supplies the clock and the
 * random numbers, so tests see exact values.
 */
#ifndef TW_DELIVER_BACKOFF_H
#define TW_DELIVER_BACKOFF_H

#include <stdbool.h>
#include <stdint.h>

/*
 * The longest any retry is put off, a receiver's Retry-After included:
 * 12 h, half the outbox's clock-step threshold (OUTBOX_MAX_DELAY_US, 24 h).
 * The margin keeps a row scheduled from a clock read a moment after the
 * caller's own (webhook_pump reads it before the answers come in) from
 * being taken for one scheduled by a clock since stepped back: that made
 * a Retry-After of a day due at once, every pass.
 */
#define BACKOFF_DELAY_MAX_US (12LL * 3600 * 1000000)
#define BACKOFF_RETRY_AFTER_MAX_US BACKOFF_DELAY_MAX_US

enum backoff_verdict {
	BACKOFF_DELIVERED,  /* 2xx: the receiver has it; remove it */
	BACKOFF_RETRY,      /* try again later */
	BACKOFF_GIVE_UP,    /* the receiver refuses it for good */
};

/*
 * The delay before attempt @attempts + 1 (@attempts made so far, 0 for
 * the first retry): base_us * 2^attempts capped at max_us (itself capped
 * at BACKOFF_DELAY_MAX_US), with "equal
 * jitter": half of it fixed, the other half scaled by @random / 2^32. So
 * retries never come sooner than half the exponential delay, and agents
 * that failed together spread out. Never negative.
 */
int64_t backoff_delay_us(int attempts, int64_t base_us, int64_t max_us,
			 uint32_t random);

/*
 * The delay an HTTP Retry-After value asks for, from @now_us (wall clock,
 * µs since the epoch): delta-seconds ("120") or an HTTP-date ("Wed, 21
 * Oct 2015 07:28:00 GMT", read with curl_getdate). A date in the past is
 * 0; anything is capped at BACKOFF_RETRY_AFTER_MAX_US. -1 when @value is
 * NULL, empty or neither form.
 */
int64_t backoff_retry_after_us(const char *value, int64_t now_us);

/*
 * What an attempt's outcome means. @transport_error: no HTTP answer
 * (refused, timeout, TLS failure), whatever @http_status says. 2xx is
 * delivered; 4xx other than 408 and 429 will not get better by retrying;
 * everything else (5xx, 408, 429, 1xx/3xx, no answer) is retried.
 */
enum backoff_verdict backoff_classify_status(long http_status,
					     bool transport_error);

#endif
