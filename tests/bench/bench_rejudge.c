// SPDX-License-Identifier: MIT
/*
 * Cost of the online answers for the cert events waiting on them (not a
 * test): CERT_HEALTH_MAX_WAITS (4,096) cert events wait, spread over
 * LEAVES distinct leaves (minted under the intermediate of
 * scripts/make-health-pki.sh, their responder this program's socket),
 * then the responder answers one query at a time (a failure: those waits
 * are over), each answer drained before the next, as the agent's event
 * loop drains them. At most 4 + 256 queries are out at once (the HTTP
 * pool's threads and queue), so 4,096 waits share their answers: 16 a
 * leaf with the default 256 leaves.
 * Prints the waits, answers, re-judgements and the CPU time of the drains.
 * Usage: bench_rejudge [leaves, default 256, at most 256], from the top
 * of the tree (it runs scripts/make-health-pki.sh). Built and run by
 * scripts/bench-rejudge.sh (make bench), which writes its section of
 * BENCHMARKS.md.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cert/cert_info.h"
#include "cert/health.h"

#define WAITS CERT_HEALTH_MAX_WAITS
#define MAX_LEAVES 256

static void *load_pem(const char *dir, const char *name, bool key)
{
	char path[1200];
	FILE *f;
	void *v;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	if (!f)
		return NULL;
	v = key ? (void *)PEM_read_PrivateKey(f, NULL, NULL, NULL) :
		  (void *)PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	return v;
}

static struct cert_info *info_of(X509 *x)
{
	unsigned char *der = NULL;
	const char *err = NULL;
	int len = i2d_X509(x, &der);
	struct cert_info *ci = len > 0 ? cert_info_parse(der, (size_t)len, &err) : NULL;

	OPENSSL_free(der);
	return ci;
}

/* Leaf @i under @ca, its responder http://127.0.0.1:@port. */
static X509 *mint(int i, X509 *ca, EVP_PKEY *ca_key, EVP_PKEY *key, int port)
{
	X509 *x = X509_new();
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	char cn[64], aia[96];
	bool ok;

	snprintf(cn, sizeof(cn), "leaf%d.bench", i);
	snprintf(aia, sizeof(aia), "OCSP;URI:http://127.0.0.1:%d", port);
	ok = x && X509_set_version(x, 2) &&
	     ASN1_INTEGER_set(X509_get_serialNumber(x), 50000 + i) &&
	     X509_gmtime_adj(X509_getm_notBefore(x), -86400) &&
	     X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 365) &&
	     X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
					(const unsigned char *)cn, -1, -1, 0) &&
	     X509_set_issuer_name(x, X509_get_subject_name(ca)) &&
	     X509_set_pubkey(x, key);
	X509V3_set_ctx(&ctx, ca, x, NULL, NULL, 0);
	ext = ok ? X509V3_EXT_conf_nid(NULL, &ctx, NID_info_access, aia) : NULL;
	ok = ext && X509_add_ext(x, ext, -1) && X509_sign(x, ca_key, EVP_sha256());
	X509_EXTENSION_free(ext);
	if (!ok) {
		X509_free(x);
		return NULL;
	}
	return x;
}

/* Takes one request off @lfd and answers it 500: -1 when none came. */
static int answer_one(int lfd)
{
	static const char fail[] = "HTTP/1.1 500 Internal Server Error\r\n"
				   "Content-Length: 0\r\nConnection: close\r\n\r\n";
	struct pollfd pfd = { .fd = lfd, .events = POLLIN };
	char buf[8192];
	size_t len = 0;
	ssize_t n;
	int c;

	if (poll(&pfd, 1, 10000) != 1 || (c = accept(lfd, NULL, NULL)) < 0)
		return -1;
	/* an OCSP POST: headers and a body of ~100 bytes */
	while (len < sizeof(buf) - 1 && (n = read(c, buf + len, sizeof(buf) - 1 - len)) > 0) {
		char *end, *cl;

		len += (size_t)n;
		buf[len] = 0;
		end = strstr(buf, "\r\n\r\n");
		cl = strcasestr(buf, "Content-Length:");
		if (end && (size_t)(end + 4 - buf) + (cl ? strtoul(cl + 15, NULL, 10) : 0) <= len)
			break;
	}
	if (write(c, fail, sizeof(fail) - 1) < 0)
		perror("write");
	close(c);
	return 0;
}

static void on_settled(void *ctx, const struct cert_health_result *r)
{
	(*(int *)ctx)++;
}

static double thread_cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	int leaves = argc > 1 ? atoi(argv[1]) : MAX_LEAVES;
	char dir[] = "/tmp/tw-bench-rejudge-XXXXXX", cmd[4096], path[1200], err[256] = "";
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);
	struct cert_info *ci[MAX_LEAVES], *inter_ci;
	struct cert_health_opts ho = { .online = true, .ocsp_timeout_ms = 60000 };
	struct cert_health_events ev = { .settled = on_settled };
	struct cert_health_stats hs;
	struct cert_health *h = NULL;
	struct pollfd pfd;
	EVP_PKEY *ca_key, *key;
	X509 *inter;
	int lfd, i, settled = 0, answers = 0;
	double cpu = 0, t;

	if (leaves < 1 || leaves > MAX_LEAVES)
		leaves = MAX_LEAVES;
	ev.ctx = &settled;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof(a)) ||
	    listen(lfd, 512) || getsockname(lfd, (struct sockaddr *)&a, &alen) ||
	    !mkdtemp(dir)) {
		perror("setup");
		return 1;
	}
	snprintf(cmd, sizeof(cmd), "scripts/make-health-pki.sh '%s' none %u >/dev/null",
		 dir, ntohs(a.sin_port));
	if (system(cmd)) {
		fprintf(stderr, "make-health-pki.sh failed\n");
		return 1;
	}
	inter = load_pem(dir, "inter.crt", false);
	ca_key = load_pem(dir, "inter.key", true);
	key = EVP_EC_gen("P-256");
	inter_ci = inter ? info_of(inter) : NULL;
	for (i = 0; i < leaves && inter_ci && ca_key && key; i++) {
		X509 *x = mint(i, inter, ca_key, key, ntohs(a.sin_port));

		ci[i] = x ? info_of(x) : NULL;
		X509_free(x);
		if (!ci[i])
			break;
	}
	snprintf(path, sizeof(path), "%s/root.crt", dir);
	ho.ca_file = path;
	if (i < leaves || cert_health_open(&ho, &h, err, sizeof(err))) {
		fprintf(stderr, "setup: %s\n", err);
		return 1;
	}
	for (i = 0; i < WAITS; i++) {
		const struct cert_info *chain[2] = { ci[i % leaves], inter_ci };
		struct tw_endpoint server = { .addr.family = 4, .port = (uint16_t)(i + 1) };
		struct cert_health_input in = {
			.sni = "bench", .server = &server, .chain = chain, .n_chain = 2,
			.ts_us = (uint64_t)time(NULL) * 1000000,
		};
		struct cert_health_result res;

		cert_health_check(h, &in, &res);
		if (!res.pending) {
			fprintf(stderr, "wait %d: not pending\n", i);
			return 1;
		}
	}
	pfd.fd = cert_health_fd(h);
	pfd.events = POLLIN;
	for (answers = 0; answers < leaves; answers++) {
		int want = (answers + 1) * (WAITS / leaves), turns;

		if (answer_one(lfd)) {
			fprintf(stderr, "no query %d\n", answers);
			break;
		}
		for (turns = 0; turns < 1000 && settled < want; turns++) {
			if (poll(&pfd, 1, 100) < 0)
				break;
			t = thread_cpu_s();
			cert_health_drain(h, &ev);
			cpu += thread_cpu_s() - t;
		}
	}
	cert_health_stats(h, &hs);
	printf("waits %d leaves %d answers %d settled %d rejudgements %llu "
	       "drain_cpu_s %.3f\n", WAITS, leaves, answers, settled,
	       (unsigned long long)hs.waits_rejudged, cpu);
	cert_health_close(h);
	for (i = 0; i < leaves; i++)
		cert_info_free(ci[i]);
	cert_info_free(inter_ci);
	X509_free(inter);
	EVP_PKEY_free(ca_key);
	EVP_PKEY_free(key);
	close(lfd);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) ? 1 : 0;
}
