// SPDX-License-Identifier: MIT
/* The HTTP pool's webhook side, against a local libmicrohttpd server:
 * extra request headers go out, Retry-After and a non-200 verdict come back. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <microhttpd.h>

#include "check.h"
#include "net/http_pool.h"

/* Answers 503 with Retry-After, echoing the X-Signature request header. */
static enum MHD_Result serve(void *cls, struct MHD_Connection *c,
			     const char *url, const char *method,
			     const char *version, const char *upload,
			     size_t *upload_len, void **state)
{
	static int started;
	const char *sig;
	struct MHD_Response *r;
	enum MHD_Result rc;

	if (!*state) {
		*state = &started;
		return MHD_YES;
	}
	if (*upload_len) {
		*upload_len = 0;
		return MHD_YES;
	}
	sig = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Signature");
	sig = sig ? sig : "(none)";
	r = MHD_create_response_from_buffer(strlen(sig), (void *)sig,
					    MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "retry-after", "120");
	rc = MHD_queue_response(c, 503, r);
	MHD_destroy_response(r);
	return rc;
}

/* The request /final received: "METHOD BODY". */
static char final_seen[128];
static size_t final_len;

/*
 * Redirects every path but /final to /final with the status in @cls (or,
 * with status 0, to itself: a loop); /final records its method and body
 * in final_seen and answers 200.
 */
static enum MHD_Result serve_redirect(void *cls, struct MHD_Connection *c,
				      const char *url, const char *method,
				      const char *version, const char *upload,
				      size_t *upload_len, void **state)
{
	static int started;
	unsigned status = *(const unsigned *)cls;
	struct MHD_Response *r;
	enum MHD_Result rc;
	bool final = strcmp(url, "/final") == 0;

	if (!*state) {
		*state = &started;
		if (final)
			final_len = (size_t)snprintf(final_seen, sizeof(final_seen),
						     "%s ", method);
		return MHD_YES;
	}
	if (*upload_len) {
		if (final && final_len + *upload_len < sizeof(final_seen)) {
			memcpy(final_seen + final_len, upload, *upload_len);
			final_len += *upload_len;
			final_seen[final_len] = '\0';
		}
		*upload_len = 0;
		return MHD_YES;
	}
	r = MHD_create_response_from_buffer(2, (void *)"ok", MHD_RESPMEM_PERSISTENT);
	if (!r)
		return MHD_NO;
	if (!final)
		MHD_add_response_header(r, "Location", status ? "/final" : url);
	rc = MHD_queue_response(c, final ? 200 : status ? status : 302, r);
	MHD_destroy_response(r);
	return rc;
}

/* Submits one POST to @url and waits for its result. */
static struct http_result *post_one(const char *url, const char *const *headers)
{
	struct http_pool_opts o = { .threads = 1, .timeout_ms = 5000 };
	struct http_result *res = NULL;
	struct http_pool *p = NULL;
	char err[128];
	int i;

	o.notify_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	CHECK(o.notify_fd >= 0);
	CHECK_INT(http_pool_new(&o, &p, err, sizeof(err)), 0);
	CHECK_INT(http_pool_submit_headers(p, 7, url, NULL, 0, "application/json",
					   (const uint8_t *)"{}", 2, headers), 0);
	for (i = 0; i < 100 && !res; i++) {
		struct pollfd pfd = { .fd = o.notify_fd, .events = POLLIN };

		poll(&pfd, 1, 100);
		res = http_pool_take(p);
	}
	http_pool_free(p);
	close(o.notify_fd);
	return res;
}

static void test_webhook_headers_sent_and_retry_after_kept(void)
{
	const char *headers[] = { "X-Signature: t=1,v1=ab", NULL };
	struct MHD_Daemon *d;
	struct http_result *r;
	char url[64];

	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL,
			     serve, NULL, MHD_OPTION_END);
	CHECK(d != NULL);
	if (!d)
		return;
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/hook",
		 MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT)->port);
	r = post_one(url, headers);
	CHECK(r != NULL);
	if (r) {
		CHECK_INT(r->status, 503);
		CHECK_INT(r->transport_ok, 1);
		CHECK_STR(r->retry_after, "120");
		CHECK_STR(r->error, "HTTP status 503");
		CHECK_INT(r->body_len, 9);
		CHECK(r->body && memcmp(r->body, "t=1,v1=ab", 9) == 0);
	}
	http_result_free(r);
	MHD_stop_daemon(d);
}

/* POSTs {} to /hook of a server redirecting with @status (0: to itself). */
static struct http_result *post_redirected(unsigned status)
{
	struct http_result *r = NULL;
	struct MHD_Daemon *d;
	char url[64];

	final_seen[0] = '\0';
	final_len = 0;
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL,
			     serve_redirect, &status, MHD_OPTION_END);
	CHECK(d != NULL);
	if (!d)
		return NULL;
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/hook",
		 MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT)->port);
	r = post_one(url, NULL);
	MHD_stop_daemon(d);
	return r;
}

/* curl's default turns a POST into a GET without body after 301, 302 and
 * 303: the receiver's 200 to that GET was taken for a delivery. */
static void test_redirect_keeps_post_and_body(void)
{
	static const unsigned codes[] = { 301, 302, 303, 307, 308 };
	size_t i;

	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		struct http_result *r = post_redirected(codes[i]);

		CHECK(r != NULL);
		if (!r)
			continue;
		CHECK_INT(r->status, 200);
		CHECK_STR(r->error, "");
		CHECK_STR(final_seen, "POST {}");
		http_result_free(r);
	}
}

static void test_redirect_loop_fails_with_a_message(void)
{
	struct http_result *r = post_redirected(0);

	CHECK(r != NULL);
	if (r) {
		CHECK_INT(r->status, 302);
		CHECK_INT(r->transport_ok, 0);
		CHECK_STR(r->error, "more than 5 redirects (a redirect loop?)");
	}
	CHECK_STR(final_seen, "");
	http_result_free(r);
}

static void test_refused_connection_is_not_an_answer(void)
{
	struct http_result *r = post_one("http://127.0.0.1:1/hook", NULL);

	CHECK(r != NULL);
	if (r) {
		CHECK_INT(r->status, 0);
		CHECK_INT(r->transport_ok, 0);
		CHECK_STR(r->retry_after, "");
		CHECK(r->error[0] != '\0');
	}
	http_result_free(r);
}

/* Receiver URLs carry secrets: logs show scheme, host and port only. */
static void test_url_for_log_hides_user_path_and_query(void)
{
	char out[HTTP_URL_LOG_LEN];

	CHECK_STR(http_url_for_log("https://hooks.slack.com/services/T0/B0/s3cret", out),
		  "https://hooks.slack.com/\u2026");
	CHECK_STR(http_url_for_log("http://ops:s3cret@127.0.0.1:8080/hook?sig=s3cret", out),
		  "http://127.0.0.1:8080/\u2026");
	CHECK_STR(http_url_for_log("http://h.test/#s3cret", out), "http://h.test/\u2026");
	CHECK_STR(http_url_for_log("http://[::1]:9093/", out), "http://[::1]:9093");
	CHECK_STR(http_url_for_log("https://am.test", out), "https://am.test");
	CHECK_STR(http_url_for_log("http://exa mple/x", out), "(a URL that does not parse)");
}

static void test_header_with_newline_is_refused(void)
{
	const char *headers[] = { "X-A: 1\r\nX-Injected: 2", NULL };
	struct http_pool_opts o = { .threads = 1, .notify_fd = -1 };
	struct http_pool *p = NULL;
	char err[128];

	CHECK_INT(http_pool_new(&o, &p, err, sizeof(err)), 0);
	CHECK_INT(http_pool_submit_headers(p, 7, "http://127.0.0.1:1/", NULL, 0,
					   NULL, NULL, 0, headers), -EINVAL);
	CHECK_INT(http_pool_outstanding(p), 0);
	http_pool_free(p);
}

int main(void)
{
	RUN_TEST(test_webhook_headers_sent_and_retry_after_kept);
	RUN_TEST(test_redirect_keeps_post_and_body);
	RUN_TEST(test_redirect_loop_fails_with_a_message);
	RUN_TEST(test_refused_connection_is_not_an_answer);
	RUN_TEST(test_header_with_newline_is_refused);
	RUN_TEST(test_url_for_log_hides_user_path_and_query);
	return CHECK_EXIT_CODE();
}
