/* SPDX-License-Identifier: MIT */
/*
 * A small pool of worker threads doing HTTP GET/POST with libcurl for the
 * online revocation checks (OCSP queries, CRL downloads) and the alert
 * webhooks. The owner thread
 * submits jobs and takes finished ones back; workers never touch anything
 * but their job. Every transfer has a total timeout, so a dead responder
 * costs one worker for at most that long and never blocks the owner.
 * Redirects (http and https only) are followed, at most 5, a POST staying
 * a POST with its body; more is a failed transfer.
 * Completion is announced by writing to a caller-provided eventfd, so the
 * owner can poll() it next to its other descriptors.
 */
#ifndef TW_HTTP_POOL_H
#define TW_HTTP_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The URLs the revocation checks keep (OCSP responders, CRL distribution
 * points), NUL included. */
#define HTTP_URL_MAX 256
/* The longest URL a request takes, in bytes: signed webhook URLs (a
 * query string with a signature) run to several hundred. */
#define HTTP_REQUEST_URL_LEN 8192
#define HTTP_KEY_MAX 64
#define HTTP_HEADERS_MAX 16       /* extra request headers per job */
#define HTTP_HEADER_LEN_MAX 1024  /* "Name: value", per header */

struct http_pool;

struct http_pool_opts {
	int threads;          /* concurrent transfers; <= 0 means 4; at most 64 */
	int timeout_ms;       /* per transfer, connect included; <= 0: 5000 */
	size_t max_body;      /* a larger response fails; 0 means 1 MiB */
	int max_queued;       /* submitted but not started; <= 0 means 256 */
	int notify_fd;        /* eventfd written on each completion (not owned) */
	/* PEM CA certificates that https servers are verified against
	 * instead of libcurl's default store; not copied: they must outlive
	 * the pool. NULL: the default. */
	const char *ca_pem;
	size_t ca_pem_len;
};

struct http_result {
	int kind;                 /* as submitted */
	char *url;                /* as submitted; owned */
	uint8_t key[HTTP_KEY_MAX];/* as submitted */
	size_t key_len;
	long status;              /* HTTP status; 0 when there was no answer */
	uint8_t *body;            /* owned; NULL when empty */
	size_t body_len;
	char error[256];          /* "" when a 200 answer arrived, else why not */
	uint64_t elapsed_ms;
	/*
	 * True when the server answered, whatever the status: @status is then
	 * its verdict (a webhook receiver's 503 or 404), even though @error
	 * says "HTTP status 503". A body over max_body still counts as an
	 * answer. False: no answer (refused, timeout, TLS failure, ...).
	 */
	bool transport_ok;
	/* The last answer's Retry-After value, trimmed; "" when absent or
	 * too long to be valid. */
	char retry_after[64];
};

int http_pool_new(const struct http_pool_opts *o, struct http_pool **out,
		  char *err, size_t errlen);
/* Stops the workers (transfers in progress are aborted) and frees
 * everything, jobs not taken included. */
void http_pool_free(struct http_pool *p);

/*
 * Queues a GET (@body NULL) or a POST of @body with @content_type.
 * Copies everything. 0, or -errno: -EAGAIN when max_queued jobs wait
 * already, -ENOMEM when memory is short, -EINVAL when the URL is longer
 * than HTTP_REQUEST_URL_LEN bytes or the key than HTTP_KEY_MAX
 * (http_pool_submit_strerror says which in words).
 */
int http_pool_submit(struct http_pool *p, int kind, const char *url,
		     const void *key, size_t key_len, const char *content_type,
		     const uint8_t *body, size_t body_len);

/*
 * The same with extra request headers, @headers a NULL-terminated list of
 * "Name: value" strings (NULL: none), copied. -errno as above, -EINVAL
 * also when there are more than HTTP_HEADERS_MAX, one is longer than
 * HTTP_HEADER_LEN_MAX or one holds a CR or LF (it would smuggle in a
 * header of its own).
 */
int http_pool_submit_headers(struct http_pool *p, int kind, const char *url,
			     const void *key, size_t key_len,
			     const char *content_type, const uint8_t *body,
			     size_t body_len, const char *const *headers);

/* Why a submit that returned @rc (< 0) queued nothing, for a message:
 * "the request queue is full", "out of memory" or "the request is not
 * valid (URL too long, or a bad header)". */
const char *http_pool_submit_strerror(int rc);

/*
 * @url as logs may show it: "scheme://host[:port]", then "/…" when it
 * has more (a path, a query, a fragment), never the user and password.
 * Receiver URLs carry secrets (Slack's /services/T/B/SECRET, a ?sig=, a
 * user:password@), and logs go to journals and tickets. "(a URL that does
 * not parse)" when libcurl cannot read it. Returns @out.
 */
#define HTTP_URL_LOG_LEN 320
const char *http_url_for_log(const char *url, char out[HTTP_URL_LOG_LEN]);

/* A finished job, or NULL; never blocks. Free it with http_result_free. */
struct http_result *http_pool_take(struct http_pool *p);
void http_result_free(struct http_result *r);

/* Jobs submitted and not yet taken back (queued, running or finished). */
size_t http_pool_outstanding(struct http_pool *p);

#endif
