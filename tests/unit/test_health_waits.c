// SPDX-License-Identifier: MIT
/*
 * The cert events that wait for online answers (cert/health.c): how long
 * they wait, what they keep needed while they wait, and which answers
 * judge them again. The responder and CRL server are the test itself
 * (health_responder.h): a request is answered when the test says, or
 * never.
 *
 * The clocks are the test's: time() and clock_gettime() below read the
 * real ones plus a step the test sets, on the test's own thread only
 * (the HTTP pool's workers keep the real time: their own timeouts do not
 * move).
 */
#include <pthread.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "cert/cert_info.h"
#include "cert/crl_fetch.h"
#include "cert/health.h"
#include "cert/revo_facts.h"
#include "check.h"
#include "health_fixture.h"
#include "health_responder.h"
#include "pipeline/pipeline_priv.h"

static pthread_t test_thread;
static int64_t wall_step_s, mono_step_s;

static bool on_test_thread(void)
{
	return test_thread && pthread_equal(pthread_self(), test_thread);
}

int clock_gettime(clockid_t clk, struct timespec *ts)
{
	if (syscall(SYS_clock_gettime, clk, ts))
		return -1;
	if (on_test_thread() && clk == CLOCK_REALTIME)
		ts->tv_sec += wall_step_s;
	if (on_test_thread() && clk == CLOCK_MONOTONIC)
		ts->tv_sec += mono_step_s;
	return 0;
}

time_t time(time_t *t)
{
	struct timespec ts;
	time_t now = clock_gettime(CLOCK_REALTIME, &ts) ? (time_t)-1 : ts.tv_sec;

	if (t)
		*t = now;
	return now;
}

/* --- what the facade says */

#define PORTS 8

struct said {
	int updates[PORTS];               /* by server port */
	int status[PORTS];                /* of the last update */
	int settled, problems;
};

static bool on_updated(void *ctx, const struct cert_health_result *r)
{
	struct said *s = ctx;

	if (r->server.port >= PORTS)
		return true;
	s->updates[r->server.port]++;
	s->status[r->server.port] = r->revocation.status;
	return true;
}

static void on_settled(void *ctx, const struct cert_health_result *r)
{
	((struct said *)ctx)->settled++;
}

static void on_problem(void *ctx, const char *message)
{
	((struct said *)ctx)->problems++;
}


/* --- a test's PKI, responder and facade */

struct setup {
	char dir[64], root[1200];
	int lfd;                          /* the responder and CRL server */
	int held[8], n_held;              /* requests never answered */
	struct cert_health *h;
	struct said said;
	struct cert_health_events ev;
};

/*
 * The two PKIs (their leaves name the socket as their CRL server too, or
 * not), each made once with its socket and shared by the tests: making
 * one (scripts/make-health-pki.sh, a few dozen openssl runs) took most of
 * each test's time. A test still starts with a facade of its own, and
 * with no request of an earlier test's on the socket (pki_flush).
 */
struct pki {
	char dir[64], root[1200];
	int lfd;
};
static struct pki pkis[2];   /* by crl */

static const struct pki *pki_get(bool crl)
{
	struct pki *p = &pkis[crl];

	if (!p->dir[0]) {
		snprintf(p->dir, sizeof(p->dir), "/tmp/tw-health-waits-XXXXXX");
		p->lfd = health_pki_on_socket(p->dir, 16, crl, p->root, sizeof(p->root));
	}
	return p;
}

/* Closes the connections still queued on @lfd: requests of a facade
 * closed since, which no test took. Its workers are joined, so every
 * connection it made is queued already. */
static void pki_flush(int lfd)
{
	struct pollfd pfd = { .fd = lfd, .events = POLLIN };
	int c;

	while (lfd >= 0 && poll(&pfd, 1, 0) == 1 && (c = accept(lfd, NULL, NULL)) >= 0)
		close(c);
}

static void pkis_remove(void)
{
	char cmd[256];
	size_t i;

	for (i = 0; i < sizeof(pkis) / sizeof(pkis[0]); i++) {
		if (!pkis[i].dir[0])
			continue;
		if (pkis[i].lfd >= 0)
			close(pkis[i].lfd);
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", pkis[i].dir);
		CHECK_INT(hf_sh(cmd), 0);
	}
}

/* @crl: the PKI's certificates name the socket as their CRL server too.
 * @ca_file: the trust store (NULL: the PKI's root). */
static void setup_open(struct setup *s, bool crl, const char *ca_file)
{
	struct cert_health_opts o = { .online = true, .ocsp_timeout_ms = 60000 };
	const struct pki *p = pki_get(crl);
	char err[256] = "";

	memset(s, 0, sizeof(*s));
	memcpy(s->dir, p->dir, sizeof(s->dir));
	memcpy(s->root, p->root, sizeof(s->root));
	s->lfd = p->lfd;
	s->ev = (struct cert_health_events){
		.updated = on_updated, .settled = on_settled, .problem = on_problem,
		.ctx = &s->said,
	};
	o.ca_file = ca_file ? ca_file : s->root;
	CHECK_INT(cert_health_open(&o, &s->h, err, sizeof(err)), 0);
}

static void setup_close(struct setup *s)
{
	int i;

	/* first: the requests out fail at once, not at their timeout */
	for (i = 0; i < s->n_held; i++)
		close(s->held[i]);
	cert_health_close(s->h);
	pki_flush(s->lfd);
	wall_step_s = mono_step_s = 0;
}

/* The certificate @name of the PKI (NAME.crt) as cert_info; NULL when
 * it cannot be read. */
static struct cert_info *pki_cert(struct setup *s, const char *name)
{
	char path[1200];
	const char *err = NULL;
	struct cert_info *ci = NULL;
	uint8_t *der;
	size_t len = 0;
	X509 *x = NULL;

	snprintf(path, sizeof(path), "%s/%s.crt", s->dir, name);
	der = pem_der(path, &len, &x);
	if (der)
		ci = cert_info_parse(der, len, &err);
	free(der);
	X509_free(x);
	CHECK(ci != NULL);
	return ci;
}

/* Checks @n certificates, from the leaf on, served at 127.0.0.1:@port
 * now. */
static void check_chain(struct setup *s, struct cert_info *const *chain, int n,
			uint16_t port, struct cert_health_result *res)
{
	struct tw_endpoint server = { .addr.family = 4, .port = port };
	struct cert_health_input in = {
		.sni = "w.test", .server = &server,
		.chain = (const struct cert_info *const *)chain, .n_chain = n,
		.ts_us = (uint64_t)time(NULL) * 1000000,
	};

	server.addr.bytes[0] = 127;
	server.addr.bytes[3] = 1;
	memset(res, 0, sizeof(*res));
	if (s->h)
		cert_health_check(s->h, &in, res);
}

/* The PKI's leaf @leaf with inter served at @port (checked now). */
static void check_pki(struct setup *s, const char *leaf, uint16_t port,
		      struct cert_health_result *res)
{
	struct cert_info *chain[2] = { pki_cert(s, leaf), pki_cert(s, "inter") };

	if (chain[0] && chain[1])
		check_chain(s, chain, 2, port, res);
	cert_info_free(chain[0]);
	cert_info_free(chain[1]);
}

/* Takes @n requests: the OCSP queries are held (never answered), a CRL
 * download is answered with the PKI's www/@crls[path] ("/inter.crl" ->
 * "inter.crl": pairs of path and file; NULL file: a 500). */
static void serve(struct setup *s, int n, const char *const *crls)
{
	char target[256], path[1200];
	uint8_t *body;
	size_t len = 0;
	bool ocsp;
	int i, j, c;

	for (i = 0; i < n; i++) {
		c = take_request_target(s->lfd, &ocsp, target, sizeof(target));
		CHECK(c >= 0);
		if (c < 0)
			return;
		if (ocsp) {
			CHECK(s->n_held < 8);
			if (s->n_held < 8)
				s->held[s->n_held++] = c;
			else
				close(c);
			continue;
		}
		for (j = 0; crls && crls[j] && strcmp(crls[j], target); j += 2)
			;
		if (!crls) {   /* no download was expected */
			CHECK(crls != NULL);
			close(c);
			continue;
		}
		CHECK(crls[j] != NULL);   /* a download the test did not expect */
		body = NULL;
		if (crls[j] && crls[j + 1]) {
			snprintf(path, sizeof(path), "%s/www/%s", s->dir, crls[j + 1]);
			body = hf_read(path, &len);
			CHECK(body != NULL);
		}
		answer(c, body, len);
		free(body);
	}
}

/* --- how long a wait waits */

/*
 * Two cert events wait for the responder, which never answers. The wall
 * clock is set a day ahead (NTP correcting a clock that booted wrong):
 * they still wait. Before, the 600 s were read on the wall clock: both
 * were let go at once (and a step back held them as much longer).
 */
static void test_wall_clock_step_lets_go_of_no_wait(void)
{
	struct cert_health_result res;
	struct cert_health_stats st;
	struct setup s;

	setup_open(&s, false, NULL);
	check_pki(&s, "good.test", 1, &res);
	CHECK(res.pending);
	check_pki(&s, "good.test", 2, &res);
	CHECK(res.pending);
	serve(&s, 1, NULL);   /* the one query for good.test, held */
	wall_step_s = 86400;
	cert_health_drain(s.h, &s.ev);
	CHECK_INT(s.said.settled, 0);
	CHECK_INT(cert_health_flush(s.h, 0, &s.ev), 2);
	cert_health_stats(s.h, &st);
	CHECK_INT(st.waits_let_go, 0);
	setup_close(&s);
}

/*
 * The same two waits, 601 s later on the monotonic clock: both are let
 * go (judged again first: nothing new), and counted as let go - their
 * answer, when it comes, is said with no cert event (cert_updates_lost).
 * Before, a wait let go at its limit was not counted.
 */
static void test_wait_past_its_limit_is_let_go_and_counted(void)
{
	struct cert_health_result res;
	struct cert_health_stats st;
	struct setup s;

	setup_open(&s, false, NULL);
	check_pki(&s, "good.test", 1, &res);
	check_pki(&s, "good.test", 2, &res);
	serve(&s, 1, NULL);
	mono_step_s = 601;
	cert_health_drain(s.h, &s.ev);
	CHECK_INT(s.said.settled, 2);
	CHECK_INT(s.said.updates[1] + s.said.updates[2], 0);
	cert_health_stats(s.h, &st);
	CHECK_INT(st.waits_let_go, 2);
	CHECK_INT(st.waits_rejudged, 2);
	setup_close(&s);
}

/* A cert event checked again while it waits, its name spelled another
 * way ("W.Test." is w.test): still one wait, the newest check's. */
static void test_cert_event_checked_again_keeps_one_wait(void)
{
	struct cert_info *chain[2];
	struct cert_health_result res;
	struct tw_endpoint server = { .addr.family = 4, .port = 1 };
	struct cert_health_input in = { .server = &server, .n_chain = 2 };
	struct setup s;

	setup_open(&s, false, NULL);
	chain[0] = pki_cert(&s, "good.test");
	chain[1] = pki_cert(&s, "inter");
	in.chain = (const struct cert_info *const *)chain;
	in.ts_us = (uint64_t)time(NULL) * 1000000;
	in.sni = "w.test";
	if (s.h && chain[0] && chain[1]) {
		cert_health_check(s.h, &in, &res);
		in.sni = "W.Test.";
		cert_health_check(s.h, &in, &res);
		CHECK(res.pending);
		CHECK_INT(cert_health_flush(s.h, 0, &s.ev), 1);
		server.port = 2;   /* another cert event */
		cert_health_check(s.h, &in, &res);
		CHECK_INT(cert_health_flush(s.h, 0, &s.ev), 2);
	}
	serve(&s, 1, NULL);
	cert_info_free(chain[0]);
	cert_info_free(chain[1]);
	setup_close(&s);
}


/* --- what is counted as lost (cert_updates_lost) */

static void count_cert_events(void *ctx, const struct event *ev)
{
	if (ev->type == EVENT_CERT)
		(*(int *)ctx)++;
}

/* The agent's cert_updates_lost with @h. */
static uint64_t updates_lost(struct cert_health *h)
{
	struct cert_health_stats st;

	cert_health_stats(h, &st);
	return st.waits_let_go;
}

/* Waits until @n online answers are in, without taking them (the
 * facade's fd counts them: read, its count is added up; drain takes
 * every answer in whatever its count). At most 10 s. */
static void answers_in(struct cert_health *h, uint64_t n)
{
	struct pollfd pfd = { .fd = cert_health_fd(h), .events = POLLIN };
	uint64_t got = 0, count;
	int i;

	for (i = 0; i < 100 && got < n; i++)
		if (poll(&pfd, 1, 100) == 1 && read(pfd.fd, &count, sizeof(count)) ==
		    (ssize_t)sizeof(count))
			got += count;
	CHECK_INT(got, n);
}

/*
 * revoked.test's cert event, said by a pipeline, waits for its responder
 * (held) and two CRLs; the pipeline forgets it (as at
 * PIPELINE_MAX_CERT_EVENTS). The CRLs come, revoked, and are taken 601 s
 * later: the wait is judged again (changed: revoked) and let go, its
 * responder's answer still out. One cert event's update lost: counted
 * once. Before, twice: by the pipeline (a change it could not say) and
 * by the facade (a wait let go with answers out).
 */
static void test_lost_update_of_a_wait_let_go_counts_once(void)
{
	static const char *const crls[] = {
		"/inter.crl", "inter.crl", "/root.crl", "root.crl", NULL,
	};
	int events = 0;
	struct pipeline_opts po = { .emit = count_cert_events, .emit_ctx = &events };
	struct hs_record rec = { .n_chain = 2 };
	struct pipeline *pl = NULL;
	X509 *leaf = NULL, *inter = NULL;
	char path[1200];
	struct setup s;
	size_t len = 0;

	setup_open(&s, true, NULL);
	po.health = s.h;
	po.problem = on_problem;   /* the responder's failure, when closed */
	po.problem_ctx = &s.said;
	pl = s.h ? pipeline_new(&po) : NULL;
	CHECK(pl != NULL);
	rec.start_us = rec.end_us = (uint64_t)time(NULL) * 1000000;
	rec.server.addr.family = 4;
	rec.server.port = 1;
	snprintf(path, sizeof(path), "%s/revoked.test.crt", s.dir);
	rec.chain[0].data = pem_der(path, &len, &leaf);
	rec.chain[0].len = (uint32_t)len;
	snprintf(path, sizeof(path), "%s/inter.crt", s.dir);
	rec.chain[1].data = pem_der(path, &len, &inter);
	rec.chain[1].len = (uint32_t)len;
	if (pl && rec.chain[0].data && rec.chain[1].data) {
		pipeline_report_active(pl, &rec);
		CHECK_INT(events, 1);
		/* what the pipeline does past PIPELINE_MAX_CERT_EVENTS */
		strmap_clear(pl->cert_events);
		chain_pins_drop_all(pl);
		serve(&s, 3, crls);   /* its query (held), two downloads */
		answers_in(s.h, 2);
		mono_step_s = 601;
		pipeline_drain_checks(pl);
		CHECK_INT(events, 1);   /* forgotten: not said */
		CHECK_INT(updates_lost(s.h), 1);
		/* its answer, when it comes, is for no wait: no more */
		CHECK_INT(s.n_held, 1);
		close(s.held[0]);
		s.n_held = 0;
		judge_wait_checks(pl, 10000);
		CHECK_INT(events, 1);
		CHECK_INT(updates_lost(s.h), 1);
	}
	free(rec.chain[0].data);
	free(rec.chain[1].data);
	X509_free(leaf);
	X509_free(inter);
	pipeline_free(pl);
	setup_close(&s);
}

/* --- what a wait keeps needed */

#define FLOOD CRL_FETCH_MAX_URLS   /* new CRL URLs: the table ages */
/* Each flood certificate names as many URLs as a certificate's are read
 * (a quarter of the certificates to mint and check: those took most of
 * the test's time, above all under the sanitizers) */
#define FLOOD_URLS REVO_FACTS_MAX_CRL_URLS
_Static_assert(FLOOD % FLOOD_URLS == 0, "the flood is whole certificates");

/* A certificate @cn issued by @issuer (NULL: self-signed) with @key
 * (@ikey signing), a CA or not, naming the CRL URLs @crl_uris
 * ("URI:http://a,URI:http://b"; NULL: none). */
static X509 *mint(const char *cn, long serial, X509 *issuer, EVP_PKEY *key,
		  EVP_PKEY *ikey, bool ca, const char *crl_uris)
{
	X509 *x = X509_new();
	X509_EXTENSION *ext;
	X509V3_CTX ctx;
	bool ok = x != NULL;

	ok = ok && X509_set_version(x, 2) &&
	     ASN1_INTEGER_set(X509_get_serialNumber(x), serial) &&
	     X509_gmtime_adj(X509_getm_notBefore(x), -86400) &&
	     X509_gmtime_adj(X509_getm_notAfter(x), 365L * 86400) &&
	     X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
					(const unsigned char *)cn, -1, -1, 0) &&
	     X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer)
					     : X509_get_subject_name(x)) &&
	     X509_set_pubkey(x, key);
	X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
	if (ok && ca) {
		ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints,
					  "critical,CA:TRUE");
		ok = ext && X509_add_ext(x, ext, -1);
		X509_EXTENSION_free(ext);
	}
	if (ok && crl_uris) {
		ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_crl_distribution_points,
					  crl_uris);
		ok = ext && X509_add_ext(x, ext, -1);
		X509_EXTENSION_free(ext);
	}
	ok = ok && X509_sign(x, ikey, EVP_sha256()) > 0;
	if (!ok) {
		X509_free(x);
		x = NULL;
	}
	CHECK(x != NULL);
	return x;
}

/* @x as cert_info (NULL on failure). */
static struct cert_info *info_of(X509 *x)
{
	unsigned char *der = NULL;
	const char *err = NULL;
	struct cert_info *ci = NULL;
	int len = x ? i2d_X509(x, &der) : -1;

	if (len > 0)
		ci = cert_info_parse(der, (size_t)len, &err);
	OPENSSL_free(der);
	CHECK(ci != NULL);
	return ci;
}

/* A port on 127.0.0.1 where nothing listens (bound, so nothing will):
 * a download from it fails at once. The socket, or -1. */
static int dead_port(uint16_t *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK(fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	      getsockname(fd, (struct sockaddr *)&a, &alen) == 0);
	*port = ntohs(a.sin_port);
	return fd;
}

/* The PKI's root and @flood_root in one PEM file, @path. 0 or -1. */
static int trust_both(struct setup *s, X509 *flood_root, char *path, size_t len)
{
	char cmd[1400];
	FILE *f;
	int rc = -1;

	snprintf(path, len, "%s/trust.pem", s->dir);
	snprintf(cmd, sizeof(cmd), "cp '%s/root.crt' '%s'", s->dir, path);
	if (hf_sh(cmd) == 0 && (f = fopen(path, "a"))) {
		rc = PEM_write_X509(f, flood_root) ? 0 : -1;
		if (fclose(f))
			rc = -1;
	}
	CHECK_INT(rc, 0);
	return rc;
}

/*
 * revoked.test waits for its responder (held); its CRL and its
 * intermediate's are downloaded: said again, revoked. Then 1,024 new
 * certificates (another CA's) each name 4 CRL URLs of their own, 4,096
 * new URLs: the table of URLs is full and forgets the half asked for
 * least recently.
 * The URLs of the waiting revoked.test stay: asked for again, it is
 * still revoked, nothing downloaded again. Before, they were forgotten
 * with their CRLs (a wait refreshes its URLs only when it is judged
 * again): the wait was said again without its CRL's answer, and the
 * next handshake waited for the downloads again.
 */
static void test_waiting_crl_urls_outlive_the_table_ageing(void)
{
	static const char *const crls[] = {
		"/inter.crl", "inter.crl", "/root.crl", "root.crl", NULL,
	};
	struct cert_health_opts o = { .online = true, .ocsp_timeout_ms = 60000 };
	struct cert_health_result res;
	struct cert_health_stats st;
	char trust[1200], uris[FLOOD_URLS * 64], cn[64], err[256] = "";
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *root = key ? mint("Flood Root", 1, NULL, key, key, true, NULL) : NULL;
	struct cert_info *leaf;
	struct setup s;
	uint16_t port = 0;
	int dead, i, j, updates;
	size_t off;

	setup_open(&s, true, NULL);
	dead = dead_port(&port);
	/* the facade again, trusting the flood's root too */
	cert_health_close(s.h);
	s.h = NULL;
	if (root && trust_both(&s, root, trust, sizeof(trust)) == 0) {
		o.ca_file = trust;
		CHECK_INT(cert_health_open(&o, &s.h, err, sizeof(err)), 0);
	}
	check_pki(&s, "revoked.test", 1, &res);
	CHECK(res.pending);
	serve(&s, 3, crls);   /* its query (held), two downloads */
	drain_health_until(s.h, &s.ev, &s.said.updates[1], 1);
	CHECK_INT(s.said.updates[1], 1);
	CHECK_INT(s.said.status[1], OCSP_ST_REVOKED);
	for (i = 0; s.h && i < FLOOD / FLOOD_URLS; i++) {
		X509 *x;

		snprintf(cn, sizeof(cn), "flood-%d.test", i);
		for (j = 0, off = 0; j < FLOOD_URLS; j++)
			off += (size_t)snprintf(uris + off, sizeof(uris) - off,
						"%sURI:http://127.0.0.1:%u/%d.crl",
						j ? "," : "", port, i * FLOOD_URLS + j);
		x = mint(cn, 100 + i, root, key, key, false, uris);
		leaf = info_of(x);
		X509_free(x);
		if (!leaf)
			break;
		check_chain(&s, &leaf, 1, (uint16_t)(PORTS + i), &res);
		cert_info_free(leaf);
		/* every 64 URLs: the failed downloads, their waits */
		if (i % (64 / FLOOD_URLS) == 64 / FLOOD_URLS - 1)
			cert_health_drain(s.h, &s.ev);
	}
	if (s.h) {
		cert_health_drain(s.h, &s.ev);
		cert_health_stats(s.h, &st);
		CHECK(st.crl_urls_forgotten > 0);   /* the table aged */
	}
	updates = s.said.updates[1];
	CHECK_INT(updates, 1);   /* said again only with its answer */
	check_pki(&s, "revoked.test", 1, &res);
	CHECK_INT(res.revocation.status, OCSP_ST_REVOKED);
	CHECK(res.pending);   /* its responder: still held */
	setup_close(&s);
	if (dead >= 0)
		close(dead);
	X509_free(root);
	EVP_PKEY_free(key);
}

/* --- which answers judge a wait again */

/*
 * revoked.test waits for its responder (held) and its CRL
 * (.../inter.crl), whose download fails, as its intermediate's
 * (.../root.crl) does. Then shard1.test, another leaf of inter, names
 * .../shard1.crl, where the CA's full CRL is published too: it lists
 * revoked.test. That download, from a URL revoked.test does not name,
 * judges it again (the key of its issuer's CRLs): said again, revoked.
 */
static void test_crl_from_another_url_of_the_issuer_judges_its_waits(void)
{
	static const char *const failed[] = {
		"/inter.crl", NULL, "/root.crl", NULL, NULL,
	};
	static const char *const full_at_shard[] = {
		"/shard1.crl", "inter.crl", NULL,
	};
	struct cert_health_result res;
	struct setup s;
	int updates;

	setup_open(&s, true, NULL);
	check_pki(&s, "revoked.test", 1, &res);
	CHECK(res.pending);
	CHECK(res.revocation.status != OCSP_ST_REVOKED);
	serve(&s, 3, failed);   /* its query (held) and two downloads */
	drain_health_until(s.h, &s.ev, &s.said.problems, 2);
	CHECK_INT(s.said.problems, 2);
	updates = s.said.updates[1];
	check_pki(&s, "shard1.test", 2, &res);
	CHECK(res.pending);
	serve(&s, 2, full_at_shard);   /* its query (held), its download */
	drain_health_until(s.h, &s.ev, &s.said.updates[1], updates + 1);
	CHECK_INT(s.said.updates[1], updates + 1);
	CHECK_INT(s.said.status[1], OCSP_ST_REVOKED);
	setup_close(&s);
}

int main(void)
{
	test_thread = pthread_self();
	RUN_TEST(test_wall_clock_step_lets_go_of_no_wait);
	RUN_TEST(test_wait_past_its_limit_is_let_go_and_counted);
	RUN_TEST(test_cert_event_checked_again_keeps_one_wait);
	RUN_TEST(test_lost_update_of_a_wait_let_go_counts_once);
	RUN_TEST(test_crl_from_another_url_of_the_issuer_judges_its_waits);
	RUN_TEST(test_waiting_crl_urls_outlive_the_table_ageing);
	pkis_remove();
	return CHECK_EXIT_CODE();
}
