// SPDX-License-Identifier: MIT
/*
 * Worker threads for HTTP fetches. Ownership is simple: a job belongs to
 * the queue, then to exactly one worker, then to the finished list, then
 * to whoever took it. The mutex guards the two lists and the counters;
 * libcurl runs outside it. Each worker keeps one curl handle so repeated
 * queries to the same responder reuse the connection.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <strings.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "common/grow.h"
#include "http_pool.h"

#define HTTP_MAX_THREADS 64   /* webhooks: 2 per receiver, 17 receivers */
/* A receiver that moved answers 301/302/303/307/308; more than this many
 * in a row is a loop, or a chain nobody meant: the attempt fails. */
#define HTTP_MAX_REDIRECTS 5

struct http_job {
	struct http_job *next;
	struct http_result *res;       /* filled by the worker */
	struct curl_slist *headers;    /* Content-Type (POST) and the extras */
	uint8_t *body;
	size_t body_len;
};

struct http_pool {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct http_job *queue_head, *queue_tail;
	struct http_job *done_head, *done_tail;
	size_t queued, outstanding;
	atomic_bool stopping;
	int n_threads;
	pthread_t threads[HTTP_MAX_THREADS];
	int timeout_ms;
	size_t max_body;
	size_t max_queued;
	int notify_fd;
	struct curl_blob ca;           /* ca.data NULL: libcurl's default store */
};

struct http_sink {
	struct http_result *res;
	size_t cap, max;
	bool too_big;
};

static pthread_once_t http_curl_once = PTHREAD_ONCE_INIT;
static CURLcode http_curl_init_rc;

static void http_curl_init(void)
{
	http_curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static uint64_t http_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static size_t http_write(char *data, size_t size, size_t nmemb, void *ctx)
{
	struct http_sink *s = ctx;
	struct http_result *r = s->res;
	size_t n = size * nmemb;

	if (n > s->max - r->body_len) {
		s->too_big = true;
		return 0;   /* makes curl fail the transfer */
	}
	if (tw_grow(&r->body, &s->cap, 1, r->body_len, n, 4096, s->max) < 0)
		return 0;
	memcpy(r->body + r->body_len, data, n);
	r->body_len += n;
	return n;
}

/* Keeps the value of Retry-After; an answer after a redirect starts over. */
static size_t http_header(char *data, size_t size, size_t nmemb, void *ctx)
{
	static const char name[] = "Retry-After:";
	struct http_result *r = ctx;
	size_t n = size * nmemb, len = sizeof(name) - 1;

	if (n >= 5 && strncmp(data, "HTTP/", 5) == 0)
		r->retry_after[0] = '\0';
	if (n < len || strncasecmp(data, name, len) != 0)
		return n;
	data += len;
	n -= len;
	while (n && (*data == ' ' || *data == '\t')) {
		data++;
		n--;
	}
	while (n && strchr(" \t\r\n", data[n - 1]))
		n--;
	if (n < sizeof(r->retry_after)) {
		memcpy(r->retry_after, data, n);
		r->retry_after[n] = '\0';
	} else {
		r->retry_after[0] = '\0';   /* no valid value is that long */
	}
	return size * nmemb;
}

/* Lets a stopping pool abort transfers that are waiting on the network. */
static int http_progress(void *ctx, curl_off_t dt, curl_off_t dn, curl_off_t ut,
			 curl_off_t un)
{
	struct http_pool *p = ctx;

	return atomic_load(&p->stopping) ? 1 : 0;
}

/*
 * The pool's CAs only, when it has some: the blob, and neither the default
 * bundle file nor the default certificate directory, which libcurl would
 * otherwise still search.
 */
static bool http_setup_ca(CURL *c, struct http_pool *p)
{
	if (!p->ca.data)
		return true;
	return curl_easy_setopt(c, CURLOPT_CAINFO_BLOB, &p->ca) == CURLE_OK &&
	       curl_easy_setopt(c, CURLOPT_CAINFO, NULL) == CURLE_OK &&
	       curl_easy_setopt(c, CURLOPT_CAPATH, NULL) == CURLE_OK;
}

static bool http_setup(CURL *c, struct http_pool *p, struct http_job *j,
		       struct http_sink *sink, char *errbuf)
{
	return curl_easy_setopt(c, CURLOPT_URL, j->res->url) == CURLE_OK &&
	       curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
	       curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)p->timeout_ms) == CURLE_OK &&
	       curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)p->timeout_ms) == CURLE_OK &&
	       curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK &&
	       curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https") == CURLE_OK &&
	       curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L) == CURLE_OK &&
	       curl_easy_setopt(c, CURLOPT_MAXREDIRS, (long)HTTP_MAX_REDIRECTS) == CURLE_OK &&
	       /* A POST stays a POST with its body after a 301/302/303:
		* browsers turn it into a body-less GET, which a webhook
		* receiver answers 200 and the alert is lost. */
	       curl_easy_setopt(c, CURLOPT_POSTREDIR, (long)CURL_REDIR_POST_ALL) == CURLE_OK &&
	       curl_easy_setopt(c, CURLOPT_USERAGENT, "tlswatch") == CURLE_OK &&
	       curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf) == CURLE_OK &&
	       curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, http_write) == CURLE_OK &&
	       curl_easy_setopt(c, CURLOPT_WRITEDATA, sink) == CURLE_OK &&
	       curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, http_header) == CURLE_OK &&
	       curl_easy_setopt(c, CURLOPT_HEADERDATA, j->res) == CURLE_OK &&
	       curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L) == CURLE_OK &&
	       curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, http_progress) == CURLE_OK &&
	       curl_easy_setopt(c, CURLOPT_XFERINFODATA, p) == CURLE_OK &&
	       http_setup_ca(c, p) &&
	       (!j->headers ||
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, j->headers) == CURLE_OK) &&
	       (!j->body ||
		(curl_easy_setopt(c, CURLOPT_POSTFIELDS, j->body) == CURLE_OK &&
		 curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)j->body_len) == CURLE_OK));
}

static void http_perform(CURL *c, struct http_pool *p, struct http_job *j)
{
	struct http_result *r = j->res;
	struct http_sink sink = { .res = r, .max = p->max_body };
	char errbuf[CURL_ERROR_SIZE] = "";
	uint64_t start = http_now_ms();
	CURLcode rc;

	curl_easy_reset(c);
	if (!http_setup(c, p, j, &sink, errbuf)) {
		snprintf(r->error, sizeof(r->error), "cannot set up the request");
		return;
	}
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	r->elapsed_ms = http_now_ms() - start;
	/* Our own body limit cut the transfer after the status arrived. */
	r->transport_ok = r->status != 0 && (rc == CURLE_OK || sink.too_big);
	if (sink.too_big)
		snprintf(r->error, sizeof(r->error), "response larger than %zu bytes",
			 p->max_body);
	else if (rc == CURLE_TOO_MANY_REDIRECTS)
		snprintf(r->error, sizeof(r->error),
			 "more than %d redirects (a redirect loop?)", HTTP_MAX_REDIRECTS);
	else if (rc != CURLE_OK)
		snprintf(r->error, sizeof(r->error), "%s",
			 errbuf[0] ? errbuf : curl_easy_strerror(rc));
	else if (r->status != 200)
		snprintf(r->error, sizeof(r->error), "HTTP status %ld", r->status);
}

static void http_notify(struct http_pool *p)
{
	uint64_t one = 1;

	if (p->notify_fd >= 0 && write(p->notify_fd, &one, sizeof(one)) < 0) {
		/* EAGAIN: the counter is already non-zero, the owner will wake. */
	}
}

static struct http_job *http_next_job(struct http_pool *p)
{
	struct http_job *j;

	pthread_mutex_lock(&p->lock);
	while (!atomic_load(&p->stopping) && !p->queue_head)
		pthread_cond_wait(&p->wake, &p->lock);
	j = atomic_load(&p->stopping) ? NULL : p->queue_head;
	if (j) {
		p->queue_head = j->next;
		if (!p->queue_head)
			p->queue_tail = NULL;
		p->queued--;
		j->next = NULL;
	}
	pthread_mutex_unlock(&p->lock);
	return j;
}

static void http_finish(struct http_pool *p, struct http_job *j)
{
	pthread_mutex_lock(&p->lock);
	if (p->done_tail)
		p->done_tail->next = j;
	else
		p->done_head = j;
	p->done_tail = j;
	http_notify(p);
	pthread_mutex_unlock(&p->lock);
}

static void *http_worker(void *arg)
{
	struct http_pool *p = arg;
	CURL *c = curl_easy_init();
	struct http_job *j;

	while ((j = http_next_job(p))) {
		if (c)
			http_perform(c, p, j);
		else
			snprintf(j->res->error, sizeof(j->res->error),
				 "curl_easy_init failed");
		free(j->body);
		j->body = NULL;
		curl_slist_free_all(j->headers);
		j->headers = NULL;
		http_finish(p, j);
	}
	curl_easy_cleanup(c);
	return NULL;
}

static void http_job_free(struct http_job *j)
{
	if (!j)
		return;
	http_result_free(j->res);
	curl_slist_free_all(j->headers);
	free(j->body);
	free(j);
}

int http_pool_new(const struct http_pool_opts *o, struct http_pool **out,
		  char *err, size_t errlen)
{
	struct http_pool *p;
	int i;

	*out = NULL;
	pthread_once(&http_curl_once, http_curl_init);
	if (http_curl_init_rc != CURLE_OK) {
		snprintf(err, errlen, "libcurl: %s", curl_easy_strerror(http_curl_init_rc));
		return -1;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	p->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 5000;
	p->max_body = o->max_body ? o->max_body : (1u << 20);
	p->max_queued = o->max_queued > 0 ? (size_t)o->max_queued : 256;
	p->notify_fd = o->notify_fd;
	if (o->ca_pem) {
		/* the caller's bytes, which outlive the pool and so its
		 * transfers: libcurl need not copy them per handle either */
		p->ca.data = (void *)o->ca_pem;
		p->ca.len = o->ca_pem_len;
		p->ca.flags = CURL_BLOB_NOCOPY;
	}
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->wake, NULL);
	atomic_init(&p->stopping, false);
	for (i = 0; i < (o->threads > 0 ? o->threads : 4) && i < HTTP_MAX_THREADS; i++) {
		if (pthread_create(&p->threads[i], NULL, http_worker, p)) {
			snprintf(err, errlen, "cannot start HTTP worker thread");
			http_pool_free(p);
			return -1;
		}
		p->n_threads++;
	}
	*out = p;
	return 0;
}

void http_pool_free(struct http_pool *p)
{
	struct http_job *j, *next;
	int i;

	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	atomic_store(&p->stopping, true);
	pthread_cond_broadcast(&p->wake);
	pthread_mutex_unlock(&p->lock);
	for (i = 0; i < p->n_threads; i++)
		pthread_join(p->threads[i], NULL);
	for (j = p->queue_head; j; j = next) {
		next = j->next;
		http_job_free(j);
	}
	for (j = p->done_head; j; j = next) {
		next = j->next;
		http_job_free(j);
	}
	pthread_cond_destroy(&p->wake);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

/* A header that would end early and start another is refused. */
static bool http_headers_valid(const char *const *headers)
{
	size_t i;

	for (i = 0; headers && headers[i]; i++) {
		if (i >= HTTP_HEADERS_MAX ||
		    strnlen(headers[i], HTTP_HEADER_LEN_MAX) >= HTTP_HEADER_LEN_MAX ||
		    strpbrk(headers[i], "\r\n"))
			return false;
	}
	return true;
}

static bool http_job_headers(struct http_job *j, const char *content_type,
			     bool post, const char *const *headers)
{
	struct curl_slist *l;
	char ct[96];

	if (post) {
		/* 63 characters, as the type has always been cut. */
		snprintf(ct, sizeof(ct), "Content-Type: %.63s",
			 content_type ? content_type : "application/octet-stream");
		if (!(j->headers = curl_slist_append(NULL, ct)))
			return false;
	}
	for (; headers && *headers; headers++) {
		if (!(l = curl_slist_append(j->headers, *headers)))
			return false;
		j->headers = l;
	}
	return true;
}

static struct http_job *http_job_new(int kind, const char *url, const void *key,
				     size_t key_len, const char *content_type,
				     const uint8_t *body, size_t body_len,
				     const char *const *headers)
{
	struct http_job *j = calloc(1, sizeof(*j));

	if (!j || !(j->res = calloc(1, sizeof(*j->res))))
		goto fail;
	j->res->kind = kind;
	if (!(j->res->url = strdup(url)))
		goto fail;
	if (key_len)
		memcpy(j->res->key, key, key_len);
	j->res->key_len = key_len;
	if (!http_job_headers(j, content_type, body != NULL, headers))
		goto fail;
	if (body) {
		if (!(j->body = malloc(body_len ? body_len : 1)))
			goto fail;
		memcpy(j->body, body, body_len);
		j->body_len = body_len;
	}
	return j;
fail:
	http_job_free(j);
	return NULL;
}

int http_pool_submit(struct http_pool *p, int kind, const char *url,
		     const void *key, size_t key_len, const char *content_type,
		     const uint8_t *body, size_t body_len)
{
	return http_pool_submit_headers(p, kind, url, key, key_len, content_type,
					body, body_len, NULL);
}

int http_pool_submit_headers(struct http_pool *p, int kind, const char *url,
			     const void *key, size_t key_len,
			     const char *content_type, const uint8_t *body,
			     size_t body_len, const char *const *headers)
{
	struct http_job *j;

	if (!p || !url || strlen(url) > HTTP_REQUEST_URL_LEN || key_len > HTTP_KEY_MAX ||
	    !http_headers_valid(headers))
		return -EINVAL;
	pthread_mutex_lock(&p->lock);
	if (p->queued >= p->max_queued) {
		pthread_mutex_unlock(&p->lock);
		return -EAGAIN;
	}
	pthread_mutex_unlock(&p->lock);
	/* the arguments are valid: what fails in it is an allocation */
	j = http_job_new(kind, url, key, key_len, content_type, body, body_len,
			 headers);
	if (!j)
		return -ENOMEM;
	pthread_mutex_lock(&p->lock);
	if (p->queue_tail)
		p->queue_tail->next = j;
	else
		p->queue_head = j;
	p->queue_tail = j;
	p->queued++;
	p->outstanding++;
	pthread_cond_signal(&p->wake);
	pthread_mutex_unlock(&p->lock);
	return 0;
}

const char *http_pool_submit_strerror(int rc)
{
	switch (rc) {
	case -EAGAIN:
		return "the request queue is full";
	case -ENOMEM:
		return "out of memory";
	default:
		return "the request is not valid (URL too long, or a bad header)";
	}
}

struct http_result *http_pool_take(struct http_pool *p)
{
	struct http_result *r = NULL;
	struct http_job *j;

	if (!p)
		return NULL;
	pthread_mutex_lock(&p->lock);
	j = p->done_head;
	if (j) {
		p->done_head = j->next;
		if (!p->done_head)
			p->done_tail = NULL;
		p->outstanding--;
	}
	pthread_mutex_unlock(&p->lock);
	if (j) {
		r = j->res;
		free(j);
	}
	return r;
}

void http_result_free(struct http_result *r)
{
	if (!r)
		return;
	free(r->url);
	free(r->body);
	free(r);
}

size_t http_pool_outstanding(struct http_pool *p)
{
	size_t n;

	if (!p)
		return 0;
	pthread_mutex_lock(&p->lock);
	n = p->outstanding;
	pthread_mutex_unlock(&p->lock);
	return n;
}

/* A part of @u, or NULL when it has none; free with curl_free. */
static char *http_url_part(CURLU *u, CURLUPart what)
{
	char *part = NULL;

	if (curl_url_get(u, what, &part, 0) != CURLUE_OK)
		return NULL;
	return part;
}

const char *http_url_for_log(const char *url, char out[HTTP_URL_LOG_LEN])
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL;
	char *query = NULL, *frag = NULL;

	snprintf(out, HTTP_URL_LOG_LEN, "(a URL that does not parse)");
	if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    (scheme = http_url_part(u, CURLUPART_SCHEME)) &&
	    (host = http_url_part(u, CURLUPART_HOST))) {
		port = http_url_part(u, CURLUPART_PORT);
		path = http_url_part(u, CURLUPART_PATH);
		query = http_url_part(u, CURLUPART_QUERY);
		frag = http_url_part(u, CURLUPART_FRAGMENT);
		snprintf(out, HTTP_URL_LOG_LEN, "%s://%.256s%s%s%s", scheme, host,
			 port ? ":" : "", port ? port : "",
			 (path && strcmp(path, "/") != 0) || query || frag ?
			 "/\u2026" : "");
	}
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(path);
	curl_free(query);
	curl_free(frag);
	curl_url_cleanup(u);
	return out;
}
