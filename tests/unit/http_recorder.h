/* SPDX-License-Identifier: MIT */
/*
 * A tiny HTTP server on 127.0.0.1 for the alert senders' unit tests: it
 * reads each request (headers, then Content-Length bytes), answers 200
 * (500 while @failing is set) and records the body, the request line
 * and a log of every request's answer and body. http_read_request, its
 * reading, serves tests that answer by hand too.
 */
#ifndef TW_TEST_HTTP_RECORDER_H
#define TW_TEST_HTTP_RECORDER_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct recorder {
	int fd;
	uint16_t port;
	pthread_t thread;
	atomic_int requests;
	atomic_bool stop;
	atomic_bool failing;           /* answers 500 while set */
	atomic_int answered_ok;        /* requests answered 200 */
	char last[8192];               /* the last body, NUL-terminated */
	char line[512];                /* the last request line */
	char log[65536];               /* "STATUS BODY\n" of each request */
	pthread_mutex_t lock;
};

/*
 * Reads one request on @c into @buf (NUL-terminated): its headers, then
 * Content-Length bytes, or as much as @size holds. The end of its headers
 * in @hdr_end (NULL: they did not end within @buf); -1 when the peer
 * closed, or the read failed, before that.
 */
static inline int http_read_request(int c, char *buf, size_t size, char **hdr_end)
{
	size_t len = 0, want = 0;
	char *cl;
	ssize_t n;

	*hdr_end = NULL;
	while (len < size - 1) {
		n = read(c, buf + len, size - 1 - len);
		if (n <= 0)
			return -1;
		len += (size_t)n;
		buf[len] = '\0';
		if (!*hdr_end && (*hdr_end = strstr(buf, "\r\n\r\n"))) {
			cl = strcasestr(buf, "Content-Length:");
			want = (size_t)(*hdr_end + 4 - buf) + (cl ? strtoul(cl + 15, NULL, 10) : 0);
		}
		if (*hdr_end && len >= want)
			break;
	}
	return 0;
}

/* Reads one request (headers, then Content-Length bytes), answers 200. */
static inline void recorder_serve(struct recorder *r, int c)
{
	static char buf[65536];
	char *hdr_end;

	if (http_read_request(c, buf, sizeof(buf), &hdr_end) < 0)
		return;
	static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
	static const char fail[] = "HTTP/1.1 500 Internal Server Error\r\n"
				   "Content-Length: 0\r\nConnection: close\r\n\r\n";
	bool failing = atomic_load(&r->failing);
	const char *answer = failing ? fail : ok;
	size_t off;

	pthread_mutex_lock(&r->lock);
	snprintf(r->last, sizeof(r->last), "%s", hdr_end ? hdr_end + 4 : "");
	snprintf(r->line, sizeof(r->line), "%.*s", (int)strcspn(buf, "\r\n"), buf);
	off = strlen(r->log);
	snprintf(r->log + off, sizeof(r->log) - off, "%d %s\n", failing ? 500 : 200,
		 r->last);
	pthread_mutex_unlock(&r->lock);
	atomic_fetch_add(&r->requests, 1);
	if (!failing)
		atomic_fetch_add(&r->answered_ok, 1);

	if (write(c, answer, strlen(answer)) < 0)
		return;
}

static inline void *recorder_main(void *arg)
{
	struct recorder *r = arg;

	while (!atomic_load(&r->stop)) {
		struct pollfd p = { .fd = r->fd, .events = POLLIN };
		int c;

		if (poll(&p, 1, 50) <= 0)
			continue;
		c = accept(r->fd, NULL, NULL);
		if (c < 0)
			continue;
		recorder_serve(r, c);
		close(c);
	}
	return NULL;
}

static inline int recorder_start(struct recorder *r)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);

	memset(r, 0, sizeof(*r));
	pthread_mutex_init(&r->lock, NULL);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	r->fd = socket(AF_INET, SOCK_STREAM, 0);
	if (r->fd < 0 || bind(r->fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    listen(r->fd, 16) < 0 || getsockname(r->fd, (struct sockaddr *)&a, &alen) < 0)
		return -1;
	r->port = ntohs(a.sin_port);
	return pthread_create(&r->thread, NULL, recorder_main, r) == 0 ? 0 : -1;
}

static inline void recorder_stop(struct recorder *r)
{
	atomic_store(&r->stop, true);
	pthread_join(r->thread, NULL);
	close(r->fd);
	pthread_mutex_destroy(&r->lock);
}

/* Waits (at most 5 s) until @n requests arrived; the count then. */
static inline int recorder_wait(struct recorder *r, int n)
{
	int i;

	for (i = 0; i < 500 && atomic_load(&r->requests) < n; i++)
		usleep(10000);
	usleep(50000);                 /* and nothing more comes */
	return atomic_load(&r->requests);
}

/* The count after 200 ms: for "nothing was sent". */
static inline int recorder_settle(struct recorder *r)
{
	usleep(200000);
	return atomic_load(&r->requests);
}

static inline bool recorder_last_has(struct recorder *r, const char *s)
{
	bool has;

	pthread_mutex_lock(&r->lock);
	has = strstr(r->last, s) != NULL;
	pthread_mutex_unlock(&r->lock);
	return has;
}

#endif
