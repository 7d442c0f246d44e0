// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "active_check.h"
#include "common/endpoint.h"
#include "common/host_name.h"
#include "common/log.h"
#include "common/strmap.h"

#define ACTIVE_QUEUE      64   /* pending checks and undrained results */
#define ACTIVE_OWN        64   /* remembered local ends of our connections */
#define ACTIVE_MAX_CACHE  65536

struct active_job {
	struct tw_endpoint server;
	bool has_sni;
	char sni[HS_MAX_SNI + 1];
};

struct active_result {
	struct hs_record recs[ACTIVE_PROBES_MAX];   /* one per distinct leaf */
	int n_recs;
	struct active_job job;
	char error[192];          /* the first probe's failure */
	bool ok;                  /* at least one leaf */
};

struct active_checker {
	struct active_opts o;
	SSL_CTX *ssl;
	int efd;
	pthread_t thread;
	bool thread_started;
	/* shared with the worker, under lock */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stop;
	struct active_job jobs[ACTIVE_QUEUE];
	int job_head, job_count;
	struct active_result *results[ACTIVE_QUEUE];
	int n_results;
	struct tw_endpoint own[ACTIVE_OWN];
	int own_next;
	struct active_stats st;
	/* caller's thread only */
	struct strmap *cache;         /* target -> uint64_t last request (us) */
	uint64_t minute_start_us;
	int minute_count;
};

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static socklen_t endpoint_to_sockaddr(const struct tw_endpoint *ep,
				      struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (ep->addr.family == 6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(ep->port);
		memcpy(&s6->sin6_addr, ep->addr.bytes, 16);
		return sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(ep->port);
		memcpy(&s4->sin_addr, ep->addr.bytes, 4);
		return sizeof(*s4);
	}
}

static void sockaddr_to_endpoint(const struct sockaddr_storage *ss,
				 struct tw_endpoint *ep)
{
	memset(ep, 0, sizeof(*ep));
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;

		ep->addr.family = 6;
		memcpy(ep->addr.bytes, &s6->sin6_addr, 16);
		ep->port = ntohs(s6->sin6_port);
	} else {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;

		ep->addr.family = 4;
		memcpy(ep->addr.bytes, &s4->sin_addr, 4);
		ep->port = ntohs(s4->sin_port);
	}
}

static void remember_own(struct active_checker *a, const struct tw_endpoint *local)
{
	pthread_mutex_lock(&a->lock);
	a->own[a->own_next] = *local;
	a->own_next = (a->own_next + 1) % ACTIVE_OWN;
	pthread_mutex_unlock(&a->lock);
}

/* A TCP connection within the timeout; the socket is blocking afterwards
 * with send/receive timeouts, so the TLS handshake is bounded too. */
static int tcp_connect(struct active_checker *a, const struct tw_endpoint *server,
		       struct tw_endpoint *local, char *err, size_t errlen)
{
	struct timeval tv = { a->o.timeout_ms / 1000, (a->o.timeout_ms % 1000) * 1000 };
	struct sockaddr_storage ss;
	socklen_t sl = endpoint_to_sockaddr(server, &ss);
	struct pollfd pfd;
	int fd, soerr = 0;
	socklen_t len = sizeof(soerr);

	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&ss, sl) < 0 && errno != EINPROGRESS) {
		snprintf(err, errlen, "connect: %s", strerror(errno));
		goto fail;
	}
	pfd.fd = fd;
	pfd.events = POLLOUT;
	if (poll(&pfd, 1, a->o.timeout_ms) != 1) {
		snprintf(err, errlen, "connect: timed out after %d ms", a->o.timeout_ms);
		goto fail;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0 || soerr) {
		snprintf(err, errlen, "connect: %s", strerror(soerr ? soerr : errno));
		goto fail;
	}
	len = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0) {
		sockaddr_to_endpoint(&ss, local);
		remember_own(a, local);
	}
	if (fcntl(fd, F_SETFL, 0) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0) {
		snprintf(err, errlen, "socket options: %s", strerror(errno));
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return -1;
}

static bool copy_blob(struct hs_blob *b, const uint8_t *p, size_t len)
{
	b->data = malloc(len ? len : 1);
	if (!b->data)
		return false;
	memcpy(b->data, p, len);
	b->len = (uint32_t)len;
	return true;
}

/* Chain (leaf first, as the server sent it) and staple into @rec. */
static bool record_peer(SSL *ssl, struct hs_record *rec)
{
	STACK_OF(X509) *chain = SSL_get_peer_cert_chain(ssl);
	const unsigned char *resp;
	long resp_len;
	int i, n = chain ? sk_X509_num(chain) : 0;

	for (i = 0; i < n && rec->n_chain < HS_MAX_CHAIN; i++) {
		unsigned char *der = NULL;
		int len = i2d_X509(sk_X509_value(chain, i), &der);
		bool ok;

		if (len <= 0)
			return false;
		ok = copy_blob(&rec->chain[rec->n_chain], der, (size_t)len);
		OPENSSL_free(der);
		if (!ok)
			return false;
		rec->n_chain++;
	}
	rec->chain_truncated = n > HS_MAX_CHAIN;
	resp_len = SSL_get_tlsext_status_ocsp_resp(ssl, &resp);
	if (resp && resp_len > 0) {
		if (!copy_blob(&rec->staple, resp, (size_t)resp_len))
			return false;
		rec->has_staple = true;
	}
	rec->cert_visible = rec->n_chain > 0;
	return true;
}

/*
 * The probes of one check: one per key family a server may hold a
 * certificate of, in TLS 1.3 and in TLS 1.2, each offering only that
 * family (signature algorithms, and for TLS 1.2 the cipher suites'
 * authentication), so a host holding RSA and ECDSA certificates for a name
 * shows both. A probe the server has no certificate for fails its
 * handshake; that is an answer, not an error.
 *
 * X(TLS version, family, signature algorithms, TLS 1.2 cipher suites)
 */
#define ACTIVE_SIGALGS_EC13 "ecdsa_secp256r1_sha256:ecdsa_secp384r1_sha384:ecdsa_secp521r1_sha512"
#define ACTIVE_SIGALGS_RSA13 "rsa_pss_rsae_sha256:rsa_pss_rsae_sha384:rsa_pss_rsae_sha512:" \
	"rsa_pss_pss_sha256:rsa_pss_pss_sha384:rsa_pss_pss_sha512"
#define ACTIVE_PROBES(X) \
	X(TLS1_3_VERSION, EC, ACTIVE_SIGALGS_EC13, NULL) \
	X(TLS1_3_VERSION, RSA, ACTIVE_SIGALGS_RSA13, NULL) \
	X(TLS1_3_VERSION, ED25519, "ed25519", NULL) \
	X(TLS1_2_VERSION, EC, ACTIVE_SIGALGS_EC13 ":ECDSA+SHA1", "aECDSA") \
	X(TLS1_2_VERSION, RSA, ACTIVE_SIGALGS_RSA13 ":RSA+SHA256:RSA+SHA384:RSA+SHA512:RSA+SHA1", "aRSA") \
	X(TLS1_2_VERSION, ED25519, "ed25519", "aECDSA")

struct active_probe {
	int version;
	enum key_family family;
	const char *sigalgs, *ciphers;
};

static const struct active_probe active_probes[] = {
#define ACTIVE_PROBE(v, f, s, c) { v, KEY_FAMILY_##f, s, c },
	ACTIVE_PROBES(ACTIVE_PROBE)
#undef ACTIVE_PROBE
};

_Static_assert(sizeof(active_probes) / sizeof(active_probes[0]) == ACTIVE_PROBES_MAX,
	       "ACTIVE_PROBES_MAX is the number of probes");

/* What the probe offered, on the record (the superseded rule reads it). */
static void probe_offer(const struct active_probe *p, struct hs_record *rec)
{
	memset(&rec->keys_tls13, 0, sizeof(rec->keys_tls13));
	key_offer_add(&rec->keys_tls13, p->family);
	rec->keys_tls12 = rec->keys_tls13;
}

static bool probe_setup(SSL *ssl, const struct active_probe *p, int fd,
			const struct active_job *job)
{
	return SSL_set_fd(ssl, fd) &&
	       SSL_set_min_proto_version(ssl, p->version) &&
	       SSL_set_max_proto_version(ssl, p->version) &&
	       SSL_set1_sigalgs_list(ssl, p->sigalgs) &&
	       (!p->ciphers || SSL_set_cipher_list(ssl, p->ciphers)) &&
	       (!job->has_sni || SSL_set_tlsext_host_name(ssl, job->sni)) &&
	       SSL_set_tlsext_status_type(ssl, TLSEXT_STATUSTYPE_ocsp);
}

static void probe_record_init(const struct active_job *job, struct hs_record *rec)
{
	hs_record_init(rec);
	rec->server = job->server;
	rec->start_us = now_us();
	rec->has_sni = job->has_sni;
	if (job->has_sni) {
		snprintf(rec->sni, sizeof(rec->sni), "%s", job->sni);
		rec->sni_len = (uint16_t)strlen(rec->sni);
	}
}

/*
 * One probe into @rec. 1: a chain was served; 0: the handshake failed, or
 * this library cannot make such an offer (@err says which); -1: no TCP
 * connection (the other probes would not get one either) or out of memory.
 */
static int run_probe(struct active_checker *a, const struct active_job *job,
		     const struct active_probe *p, struct hs_record *rec,
		     char *err, size_t errlen)
{
	SSL *ssl = NULL;
	int fd, ret = 0;

	probe_record_init(job, rec);
	probe_offer(p, rec);
	fd = tcp_connect(a, &job->server, &rec->client, err, errlen);
	if (fd < 0)
		return -1;
	ssl = SSL_new(a->ssl);
	if (!ssl) {
		snprintf(err, errlen, "out of memory");
		ret = -1;
		goto out;
	}
	if (!probe_setup(ssl, p, fd, job)) {
		snprintf(err, errlen, "TLS setup failed (%s offer)",
			 key_family_name(p->family));
		goto out;
	}
	if (SSL_connect(ssl) != 1) {
		unsigned long e = ERR_get_error();

		snprintf(err, errlen, "TLS handshake: %s",
			 e ? ERR_reason_error_string(e) : "connection closed or timed out");
		goto out;
	}
	rec->has_server_hello = true;
	rec->version = (uint16_t)SSL_version(ssl);
	rec->cipher = SSL_CIPHER_get_protocol_id(SSL_get_current_cipher(ssl));
	rec->outcome = HS_OK;
	rec->end_us = now_us();
	if (!record_peer(ssl, rec)) {
		snprintf(err, errlen, "out of memory");
		ret = -1;
		goto out;
	}
	ret = rec->n_chain > 0;
	SSL_shutdown(ssl);
out:
	ERR_clear_error();
	SSL_free(ssl);
	close(fd);
	return ret;
}

/* Is @rec's leaf one of the first @n records' already? */
static bool leaf_known(const struct hs_record *recs, int n, const struct hs_record *rec)
{
	const struct hs_blob *leaf = &rec->chain[0];
	int i;

	for (i = 0; i < n; i++)
		if (recs[i].chain[0].len == leaf->len &&
		    !memcmp(recs[i].chain[0].data, leaf->data, leaf->len))
			return true;
	return false;
}

/* Every probe, each distinct leaf kept once (from the first probe that
 * got it). */
static void run_check(struct active_checker *a, const struct active_job *job,
		      struct active_result *res)
{
	char err[sizeof(res->error)];
	size_t i;
	int rc;

	for (i = 0; i < ACTIVE_PROBES_MAX; i++) {
		struct hs_record *rec = &res->recs[res->n_recs];

		rc = run_probe(a, job, &active_probes[i], rec, err, sizeof(err));
		if (rc == 1 && !leaf_known(res->recs, res->n_recs, rec)) {
			res->n_recs++;
			continue;
		}
		hs_record_release(rec);
		if (rc != 1 && !res->error[0])
			snprintf(res->error, sizeof(res->error), "%s", err);
		if (rc < 0)
			break;
	}
	res->ok = res->n_recs > 0;
	if (res->ok)
		res->error[0] = '\0';
}

static void result_free(struct active_result *res)
{
	int i;

	for (i = 0; i < res->n_recs; i++)
		hs_record_release(&res->recs[i]);
	free(res);
}

static void push_result(struct active_checker *a, struct active_result *res)
{
	uint64_t one = 1;

	pthread_mutex_lock(&a->lock);
	if (res->ok)
		a->st.succeeded++;
	else
		a->st.failed++;
	if (a->n_results == ACTIVE_QUEUE) {   /* nobody drains: drop */
		pthread_mutex_unlock(&a->lock);
		result_free(res);
		return;
	}
	a->results[a->n_results++] = res;
	pthread_mutex_unlock(&a->lock);
	if (write(a->efd, &one, sizeof(one)) != sizeof(one))
		pr_debug("active check: eventfd write failed\n");
}

static void *worker(void *arg)
{
	struct active_checker *a = arg;

	pthread_mutex_lock(&a->lock);
	for (;;) {
		struct active_job job;
		struct active_result *res;

		while (!a->stop && a->job_count == 0)
			pthread_cond_wait(&a->cond, &a->lock);
		if (a->stop)
			break;
		job = a->jobs[a->job_head];
		a->job_head = (a->job_head + 1) % ACTIVE_QUEUE;
		a->job_count--;
		a->st.started++;
		pthread_mutex_unlock(&a->lock);
		res = calloc(1, sizeof(*res));
		if (res) {
			res->job = job;
			run_check(a, &job, res);
			push_result(a, res);
		}
		pthread_mutex_lock(&a->lock);
	}
	pthread_mutex_unlock(&a->lock);
	return NULL;
}

struct active_checker *active_new(const struct active_opts *o)
{
	struct active_checker *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	a->o = *o;
	if (a->o.timeout_ms <= 0)
		a->o.timeout_ms = 3000;
	if (a->o.ttl_s <= 0)
		a->o.ttl_s = 3600;
	if (a->o.max_per_minute <= 0)
		a->o.max_per_minute = 60;
	a->efd = -1;
	pthread_mutex_init(&a->lock, NULL);
	pthread_cond_init(&a->cond, NULL);
	a->cache = strmap_new(sizeof(uint64_t));
	a->ssl = SSL_CTX_new(TLS_client_method());
	a->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (!a->cache || !a->ssl || a->efd < 0)
		goto fail;
	/* We judge the chain ourselves; see whatever is served, weak or not. */
	SSL_CTX_set_verify(a->ssl, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_security_level(a->ssl, 0);
	if (pthread_create(&a->thread, NULL, worker, a) != 0)
		goto fail;
	a->thread_started = true;
	return a;
fail:
	active_free(a);
	return NULL;
}

void active_free(struct active_checker *a)
{
	int i;

	if (!a)
		return;
	if (a->thread_started) {
		pthread_mutex_lock(&a->lock);
		a->stop = true;
		pthread_cond_broadcast(&a->cond);
		pthread_mutex_unlock(&a->lock);
		pthread_join(a->thread, NULL);
	}
	for (i = 0; i < a->n_results; i++)
		result_free(a->results[i]);
	SSL_CTX_free(a->ssl);
	if (a->efd >= 0)
		close(a->efd);
	strmap_free(a->cache);
	pthread_cond_destroy(&a->cond);
	pthread_mutex_destroy(&a->lock);
	free(a);
}

/* A target's key in the TTL cache: the address, the port and the name as
 * compared (tw_host_name_fold_key: A.test, a.test and A.TEST. are one
 * host, RFC 4343, so one check within the TTL, not one per spelling).
 * Returns its length. */
static size_t target_key(const struct tw_endpoint *server, const char *sni,
			 uint8_t key[TW_ENDPOINT_KEY_LEN + TW_HOST_NAME_KEY_MAX])
{
	size_t n = sni ? tw_host_name_fold_key(sni, strnlen(sni, HS_MAX_SNI),
					       (char *)key + TW_ENDPOINT_KEY_LEN,
					       TW_HOST_NAME_KEY_MAX) : 0;

	tw_endpoint_key(server, key);
	return TW_ENDPOINT_KEY_LEN + n;
}

static bool rate_allows(struct active_checker *a, uint64_t now)
{
	if (now - a->minute_start_us >= 60000000ULL) {
		a->minute_start_us = now;
		a->minute_count = 0;
	}
	return a->minute_count < a->o.max_per_minute;
}

bool active_request(struct active_checker *a, const struct tw_endpoint *server,
		    const char *sni, uint64_t now)
{
	uint8_t key[TW_ENDPOINT_KEY_LEN + TW_HOST_NAME_KEY_MAX];
	size_t klen = target_key(server, sni, key);
	uint64_t *last = strmap_get(a->cache, key, klen);
	struct active_job *job;

	a->st.requested++;
	if (last && now - *last < (uint64_t)a->o.ttl_s * 1000000) {
		a->st.cached++;
		return false;
	}
	if (!rate_allows(a, now)) {
		a->st.rate_limited++;
		return false;
	}
	pthread_mutex_lock(&a->lock);
	if (a->job_count == ACTIVE_QUEUE) {
		a->st.queue_full++;
		pthread_mutex_unlock(&a->lock);
		return false;
	}
	job = &a->jobs[(a->job_head + a->job_count++) % ACTIVE_QUEUE];
	memset(job, 0, sizeof(*job));
	job->server = *server;
	job->has_sni = sni != NULL;
	if (sni)
		snprintf(job->sni, sizeof(job->sni), "%s", sni);
	pthread_cond_signal(&a->cond);
	pthread_mutex_unlock(&a->lock);
	a->minute_count++;
	if (strmap_count(a->cache) >= ACTIVE_MAX_CACHE)
		strmap_clear(a->cache);
	last = strmap_put(a->cache, key, klen, NULL);
	if (last)
		*last = now;
	return true;
}

int active_fd(const struct active_checker *a)
{
	return a->efd;
}

void active_drain(struct active_checker *a,
		  void (*fn)(void *ctx, struct hs_record *rec, const char *error),
		  void *ctx)
{
	struct active_result *taken[ACTIVE_QUEUE];
	uint64_t count;
	int n, i;

	if (read(a->efd, &count, sizeof(count)) < 0 && errno != EAGAIN)
		pr_debug("active check: eventfd read: %s\n", strerror(errno));
	pthread_mutex_lock(&a->lock);
	n = a->n_results;
	memcpy(taken, a->results, (size_t)n * sizeof(*taken));
	a->n_results = 0;
	pthread_mutex_unlock(&a->lock);
	for (i = 0; i < n; i++) {
		struct active_result *res = taken[i];
		struct hs_record failed;
		int j;

		for (j = 0; j < res->n_recs; j++)
			fn(ctx, &res->recs[j], NULL);
		if (!res->ok) {
			/* the target, for the message */
			probe_record_init(&res->job, &failed);
			fn(ctx, &failed, res->error);
		}
		result_free(res);
	}
}

bool active_is_own(struct active_checker *a, const struct tw_endpoint *client)
{
	bool own = false;
	int i;

	pthread_mutex_lock(&a->lock);
	for (i = 0; i < ACTIVE_OWN && !own; i++)
		own = tw_endpoint_equal(&a->own[i], client);
	pthread_mutex_unlock(&a->lock);
	return own;
}

const struct active_stats *active_stats(const struct active_checker *a)
{
	return &a->st;
}
