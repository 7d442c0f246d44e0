// SPDX-License-Identifier: MIT
/*
 * The bound on the CRL URLs followed: a full table forgets the half asked
 * for least recently (never one with a download out) and counts them; a
 * forgotten URL is followed again when asked for. A refresh that fails
 * keeps the last CRL. The downloads go to a real HTTP pool, at a loopback
 * port nothing listens on; their answers are made here.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "fail_strdup.h"
#include "health_fixture.h"
#include "cert/crl_fetch.h"

#define T0 1800000000

struct fixture {
	int efd;
	struct http_pool *pool;
	struct crl_store *store;
	struct crl_fetch *fetch;
};

/* A fixture whose pool holds at most @max_queued jobs not started
 * (0: the pool's default) and gives each transfer @timeout_ms. */
static int setup_pool(struct fixture *fx, int max_queued, int timeout_ms)
{
	struct http_pool_opts o = { .threads = 1, .timeout_ms = timeout_ms,
				    .max_queued = max_queued };
	char err[256];

	memset(fx, 0, sizeof(*fx));
	fx->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	o.notify_fd = fx->efd;
	if (fx->efd < 0 || http_pool_new(&o, &fx->pool, err, sizeof(err)))
		return -1;
	fx->store = crl_store_new();
	fx->fetch = fx->store ? crl_fetch_new(fx->pool, fx->store) : NULL;
	return fx->fetch ? 0 : -1;
}

static int setup(struct fixture *fx)
{
	return setup_pool(fx, 0, 500);
}

static void teardown(struct fixture *fx)
{
	crl_fetch_free(fx->fetch);
	crl_store_free(fx->store);
	http_pool_free(fx->pool);
	if (fx->efd >= 0)
		close(fx->efd);
}

static const char *url_of(int i, char *buf, size_t len)
{
	snprintf(buf, len, "http://127.0.0.1:9/shard%d.crl", i);
	return buf;
}

/* Asks for URL @i; a download it started is ended at once as failed, so
 * that no URL stays "in flight" (those are never forgotten). */
static void want(struct fixture *fx, int i, bool may_fetch,
		 struct crl_fetch_status *st)
{
	char url[128], problem[512];
	struct http_result r;

	crl_fetch_want(fx->fetch, url_of(i, url, sizeof(url)), T0, may_fetch, st);
	if (!st->in_flight)
		return;
	memset(&r, 0, sizeof(r));
	r.url = url;
	snprintf(r.error, sizeof(r.error), "test: not fetched");
	crl_fetch_complete(fx->fetch, &r, T0, problem, sizeof(problem));
	crl_fetch_want(fx->fetch, url, T0, false, st);
}

static bool remembered(struct fixture *fx, int i)
{
	struct crl_fetch_status st;

	want(fx, i, false, &st);
	return st.state != CRL_FETCH_NONE;
}

/* Ends @url's download, started by crl_fetch_want at @now, with a 200
 * answer holding @body. */
static int answer(struct fixture *fx, const char *url, int64_t now, uint8_t *body,
		  size_t len, char *problem, size_t plen)
{
	struct crl_fetch_status st;
	struct http_result r;

	crl_fetch_want(fx->fetch, url, now, true, &st);
	CHECK(st.in_flight);
	memset(&r, 0, sizeof(r));
	r.url = (char *)url;
	r.status = 200;
	r.body = body;
	r.body_len = len;
	return crl_fetch_complete(fx->fetch, &r, now, problem, plen);
}

/* README: a refresh that keeps failing keeps the last CRL, also when the
 * server answers 200 with something that is not a CRL. */
static void test_refresh_with_garbage_keeps_the_last_crl(void)
{
	static char url[] = "http://127.0.0.1:9/inter.crl";
	static uint8_t junk[] = "<html>not a CRL</html>";
	struct fixture fx;
	struct crl_fetch_status st;
	char problem[512] = "";
	size_t len = 0;
	uint8_t *der = hf_read_pki("www/inter.crl", &len);

	if (setup(&fx) || !der) {
		CHECK(!"fixture");
		free(der);
		teardown(&fx);
		return;
	}
	CHECK_INT(answer(&fx, url, T0, der, len, problem, sizeof(problem)), 0);
	CHECK_INT(crl_store_count(fx.store), 1);
	/* a day later: past any TTL, downloaded again */
	CHECK_INT(answer(&fx, url, T0 + 86400 + 1, junk, sizeof(junk) - 1, problem,
			 sizeof(problem)), -1);
	CHECK_STR(problem, "CRL http://127.0.0.1:9/inter.crl: not a CRL (neither DER nor PEM)");
	crl_fetch_want(fx.fetch, url, T0 + 86400 + 1, false, &st);
	CHECK_INT(st.state, CRL_FETCH_LOADED);
	CHECK_INT(crl_store_count(fx.store), 1);
	free(der);
	teardown(&fx);
}

static void test_full_table_forgets_the_least_recently_asked_half(void)
{
	struct crl_fetch_status st;
	struct fixture fx;
	int i;

	if (setup(&fx)) {
		CHECK(!"fixture");
		teardown(&fx);
		return;
	}
	for (i = 0; i < CRL_FETCH_MAX_URLS; i++)
		want(&fx, i, true, &st);
	CHECK_INT(crl_fetch_forgotten(fx.fetch), 0);
	want(&fx, 7, true, &st);        /* asked again: now the most recent */
	want(&fx, CRL_FETCH_MAX_URLS, true, &st);
	CHECK_INT(st.state, CRL_FETCH_FAILED);
	CHECK_INT(crl_fetch_forgotten(fx.fetch), CRL_FETCH_MAX_URLS / 2);
	CHECK(remembered(&fx, 7));
	CHECK(!remembered(&fx, 0));
	CHECK(!remembered(&fx, CRL_FETCH_MAX_URLS / 2));
	CHECK(remembered(&fx, CRL_FETCH_MAX_URLS / 2 + 1));
	CHECK(remembered(&fx, CRL_FETCH_MAX_URLS - 1));
	CHECK(remembered(&fx, CRL_FETCH_MAX_URLS));
	/* A forgotten URL is followed again. */
	want(&fx, 0, true, &st);
	CHECK_INT(st.state, CRL_FETCH_FAILED);
	CHECK(remembered(&fx, 0));
	teardown(&fx);
}

/* Needed by the test's owner: the URLs of shards below *ctx; each call
 * counted. */
static int needed_calls;

static bool needed_below(void *ctx, const char *url, size_t len)
{
	int below = *(const int *)ctx, i;

	needed_calls++;
	return sscanf(url, "http://127.0.0.1:9/shard%d.crl", &i) == 1 && i < below;
}

/*
 * The owner still needs the oldest 3,071 (waiting cert events
 * read their CRLs): a full table forgets only the least recent of the
 * rest, and keeps them even though they were asked for least recently.
 * With the URLs kept, it ages again only once half a table of new URLs
 * came, not at each new one (each ageing is a pass over the table).
 */
static void test_ageing_keeps_the_urls_still_needed(void)
{
	int below = CRL_FETCH_MAX_URLS * 3 / 4 - 1, i;
	struct crl_fetch_status st;
	struct fixture fx;

	if (setup(&fx)) {
		CHECK(!"fixture");
		teardown(&fx);
		return;
	}
	crl_fetch_set_needed(fx.fetch, needed_below, &below);
	for (i = 0; i < CRL_FETCH_MAX_URLS; i++)
		want(&fx, i, true, &st);
	needed_calls = 0;
	want(&fx, CRL_FETCH_MAX_URLS, true, &st);
	CHECK_INT(needed_calls, CRL_FETCH_MAX_URLS);   /* one ageing */
	/* the newest half and the 3,071 needed: every URL */
	CHECK_INT(crl_fetch_forgotten(fx.fetch), 0);
	/* 4,096 kept: the next ageing when the 6,144th URL comes */
	for (i = CRL_FETCH_MAX_URLS + 1; i < CRL_FETCH_MAX_URLS * 3 / 2; i++)
		want(&fx, i, true, &st);
	CHECK_INT(needed_calls, CRL_FETCH_MAX_URLS);
	want(&fx, CRL_FETCH_MAX_URLS * 3 / 2, true, &st);
	CHECK_INT(needed_calls, CRL_FETCH_MAX_URLS + CRL_FETCH_MAX_URLS * 3 / 2);
	/* the newest half of the 6,144 there were is 3,072 to 6,143: of
	 * the rest, 0 to 3,071, only 3,071 is not needed */
	CHECK_INT(crl_fetch_forgotten(fx.fetch), 1);
	CHECK(remembered(&fx, 0));
	CHECK(remembered(&fx, below - 1));
	CHECK(!remembered(&fx, below));
	CHECK(remembered(&fx, below + 1));
	teardown(&fx);
}

/* A download that cannot start for lack of memory says so (before, every
 * failed submit said the queue was full). */
static void test_download_not_started_for_lack_of_memory_says_so(void)
{
	struct crl_fetch_status st;
	struct fixture fx;

	if (setup(&fx)) {
		CHECK(!"fixture");
		teardown(&fx);
		return;
	}
	fail_strdup_left = 1;   /* the pool's copy of the URL */
	crl_fetch_want(fx.fetch, "http://127.0.0.1:9/a.crl", T0, true, &st);
	CHECK_INT(fail_strdup_left, 0);
	CHECK_INT(st.state, CRL_FETCH_FAILED);
	CHECK(!st.in_flight);
	CHECK_STR(st.error, "download not started: out of memory");
	CHECK_INT(http_pool_outstanding(fx.pool), 0);
	teardown(&fx);
}

/* A loopback listener that is never accepted from: a download from it
 * holds the pool's one worker until the pool is freed. Its fd, or -1;
 * its port in *@port. */
static int silent_server(uint16_t *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 8) ||
	    getsockname(fd, (struct sockaddr *)&a, &alen)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*port = ntohs(a.sin_port);
	return fd;
}

/* A download that cannot start because the pool's queue is full says
 * so. The pool has one worker and room for one job: the first download
 * holds the worker (its server never answers), so of the next two, one
 * at most is queued, whether the worker had taken the first yet or not:
 * one of the three is refused, and the first refused is the one asked. */
static void test_download_not_started_for_a_full_queue_says_so(void)
{
	struct crl_fetch_status st;
	struct fixture fx;
	char url[128];
	uint16_t port = 0;
	int lfd = silent_server(&port), i, refused = 0;

	if (lfd < 0) {
		CHECK(!"a loopback listener");
		return;
	}
	if (setup_pool(&fx, 1, 60000)) {
		CHECK(!"fixture");
		teardown(&fx);
		close(lfd);
		return;
	}
	for (i = 0; i < 3 && !refused; i++) {
		snprintf(url, sizeof(url), "http://127.0.0.1:%u/%d.crl", port, i);
		crl_fetch_want(fx.fetch, url, T0, true, &st);
		refused = !st.in_flight;
	}
	CHECK(refused);
	CHECK_INT(st.state, CRL_FETCH_FAILED);
	CHECK_STR(st.error, "download not started: the request queue is full");
	teardown(&fx);   /* aborts the download that waits */
	close(lfd);
}

int main(void)
{
	RUN_TEST(test_full_table_forgets_the_least_recently_asked_half);
	RUN_TEST(test_refresh_with_garbage_keeps_the_last_crl);
	RUN_TEST(test_ageing_keeps_the_urls_still_needed);
	RUN_TEST(test_download_not_started_for_lack_of_memory_says_so);
	RUN_TEST(test_download_not_started_for_a_full_queue_says_so);
	return CHECK_EXIT_CODE();
}
