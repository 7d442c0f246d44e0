/* SPDX-License-Identifier: MIT */
/*
 * A responder and CRL server played by the test itself: the PKI of
 * scripts/make-health-pki.sh made to name a loopback socket as its OCSP
 * responder (and CRL server), the requests taken off that socket one at a
 * time, each answered (or not) when the test says. For the tests of what
 * the certificate-health facade does while answers are out.
 */
#ifndef TW_HEALTH_RESPONDER_H
#define TW_HEALTH_RESPONDER_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "cert/health.h"
#include "check.h"
#include "health_fixture.h"
#include "http_recorder.h"

/* DER of the PEM certificate @path (malloc'd), NULL when unreadable. */
static __attribute__((unused)) uint8_t *pem_der(const char *path, size_t *len, X509 **keep)
{
	unsigned char *der = NULL;
	uint8_t *copy = NULL;
	FILE *f = fopen(path, "r");
	X509 *x = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
	int n = x ? i2d_X509(x, &der) : -1;

	if (f)
		fclose(f);
	if (n > 0 && (copy = malloc((size_t)n)))
		memcpy(copy, der, (size_t)n);
	*len = n > 0 ? (size_t)n : 0;
	OPENSSL_free(der);
	*keep = x;
	return copy;
}

/*
 * A socket listening on 127.0.0.1 (-1 on failure) and, in @dir (a
 * mkdtemp template), the PKI of scripts/make-health-pki.sh whose leaves
 * name it as their responder and, with @crl, as their CRL's server; the
 * path of its root in @path.
 */
static __attribute__((unused)) int health_pki_on_socket(char *dir, int backlog, bool crl, char *path, size_t size)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);
	char cmd[4096], crl_port[16] = "none";
	int lfd;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK(lfd >= 0 && bind(lfd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	      listen(lfd, backlog) == 0 &&
	      getsockname(lfd, (struct sockaddr *)&a, &alen) == 0);
	CHECK(mkdtemp(dir) != NULL);
	if (crl)
		snprintf(crl_port, sizeof(crl_port), "%u", ntohs(a.sin_port));
	snprintf(cmd, sizeof(cmd), "scripts/make-health-pki.sh '%s' %s %u >/dev/null",
		 dir, crl_port, ntohs(a.sin_port));
	CHECK_INT(hf_sh(cmd), 0);
	snprintf(path, size, "%s/root.crt", dir);
	return lfd;
}

/* Takes one request off @lfd (the responder's and CRL server's socket):
 * the connection, left open for the answer, or -1. *@ocsp: it is the
 * OCSP query (a POST), not the CRL download (a GET), whose path (from
 * the request line, "/inter.crl") goes to @target (@tlen bytes; NULL:
 * not wanted). */
static __attribute__((unused)) int take_request_target(int lfd, bool *ocsp,
							char *target, size_t tlen)
{
	static char buf[16384];
	struct pollfd pfd = { .fd = lfd, .events = POLLIN };
	char *hdr_end, path[256];
	int c = -1;

	buf[0] = 0;
	/* bounded: a request that never comes fails the test, not hangs it */
	if (poll(&pfd, 1, 10000) == 1)
		c = accept(lfd, NULL, NULL);
	/* what came before the peer closed is still looked at */
	if (c >= 0)
		http_read_request(c, buf, sizeof(buf), &hdr_end);
	*ocsp = !strncmp(buf, "POST ", 5);
	if (target && tlen)
		snprintf(target, tlen, "%s",
			 sscanf(buf, "%*s %255s", path) == 1 ? path : "");
	return c;
}

static __attribute__((unused)) int take_request(int lfd, bool *ocsp)
{
	return take_request_target(lfd, ocsp, NULL, 0);
}

/* Answers the request on @c (@body NULL: 500, the server failed). */
static __attribute__((unused)) void answer(int c, const uint8_t *body, size_t len)
{
	char head[256];
	int n = snprintf(head, sizeof(head), "HTTP/1.1 %s\r\nContent-Length: %zu\r\n"
			 "Content-Type: application/ocsp-response\r\n"
			 "Connection: close\r\n\r\n",
			 body ? "200 OK" : "500 Internal Server Error", body ? len : 0);

	CHECK(write(c, head, (size_t)n) == n);
	CHECK(!body || write(c, body, len) == (ssize_t)len);
	close(c);
}

/* Drains @h until *@count reaches @want (at most 10 s). */
static __attribute__((unused)) void drain_health_until(struct cert_health *h,
							const struct cert_health_events *ev,
							const int *count, int want)
{
	struct pollfd pfd = { .fd = cert_health_fd(h), .events = POLLIN };
	int i;

	for (i = 0; i < 100 && *count < want; i++) {
		if (poll(&pfd, 1, 100) < 0)
			break;
		cert_health_drain(h, ev);
	}
}

#endif
