// SPDX-License-Identifier: MIT
/*
 * Memory stays bounded when every handshake serves a new certificate: the
 * certificate cache frees what it evicts unless it is pinned, and a pinned
 * entry outlives its eviction exactly until its last unpin (run under
 * ASan: a read of a freed entry fails the test).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/pem.h>

#include "cert/cert_info.h"
#include "cert/health.h"
#include "cert_mint.h"
#include "check.h"
#include "common/distinct.h"
#include "health_fixture.h"
#include "health_responder.h"
#include "http_recorder.h"
#include "pipeline/pipeline_priv.h"
#include "sink/sink.h"

#define BOUND 16
#define FLOOD 500    /* distinct certificates, >> BOUND */

/* Serves certificate @i (freshly minted) to @c. */
static const struct cert_info *serve(struct cert_cache *c, int i)
{
	const struct cert_info *ci = NULL;
	uint8_t *der;
	size_t len;

	der = cert_mint(i, &len);
	CHECK(der != NULL);
	if (der)
		ci = cert_cache_get(c, der, len, NULL);
	CHECK(ci != NULL);
	free(der);
	return ci;
}

/* Serves @n new certificates from @first on; the most live entries seen. */
static size_t flood(struct cert_cache *c, int first, int n)
{
	size_t most = 0;
	int i;

	for (i = first; i < first + n; i++) {
		serve(c, i);
		if (cert_cache_live(c) > most)
			most = cert_cache_live(c);
	}
	return most;
}

static void test_live_entries_never_exceed_the_bound(void)
{
	struct cert_cache *c = cert_cache_new(BOUND);

	CHECK(c != NULL);
	if (!c)
		return;
	CHECK_INT(flood(c, 0, FLOOD), BOUND);
	CHECK_INT(cert_cache_count(c), BOUND);
	CHECK_INT(cert_cache_retired(c), 0);
	cert_cache_free(c);
}

/* A cache of BOUND entries whose first certificate (*@first) is pinned. */
static struct cert_cache *cache_pinning_first(const struct cert_info **first)
{
	struct cert_cache *c = cert_cache_new(BOUND);

	CHECK(c != NULL);
	if (!c)
		return NULL;
	*first = serve(c, 0);
	cert_cache_pin(c, *first);
	return c;
}

/* Reads certificate 0's entry: under ASan, fails if it was freed. */
static void check_first_alive(const struct cert_info *first)
{
	CHECK(first != NULL);
	if (first)
		CHECK_STR(first->serial_hex, "4d494e5400000000");
}

static void test_pinned_entry_outlives_its_eviction_until_unpinned(void)
{
	const struct cert_info *first;
	struct cert_cache *c = cache_pinning_first(&first);

	if (!c)
		return;
	CHECK_INT(flood(c, 1, 10 * BOUND), BOUND + 1);
	CHECK_INT(cert_cache_retired(c), 1);
	check_first_alive(first);   /* ASan: fails if eviction freed it */
	cert_cache_unpin(c, first);
	CHECK_INT(cert_cache_retired(c), 0);
	CHECK_INT(cert_cache_live(c), BOUND);
	cert_cache_free(c);
}

static void test_pins_nest(void)
{
	const struct cert_info *first;
	struct cert_cache *c = cache_pinning_first(&first);

	if (!c)
		return;
	cert_cache_pin(c, first);
	flood(c, 1, 2 * BOUND);
	cert_cache_unpin(c, first);
	CHECK_INT(cert_cache_retired(c), 1);
	check_first_alive(first);
	cert_cache_unpin(c, first);
	CHECK_INT(cert_cache_retired(c), 0);
	cert_cache_free(c);
}

/* Unpinned while still in the table: nothing is freed, and its later
 * eviction frees it (no retired entry left behind). */
static void test_unpin_in_the_table_frees_nothing(void)
{
	const struct cert_info *first;
	struct cert_cache *c = cache_pinning_first(&first);

	if (!c)
		return;
	cert_cache_unpin(c, first);
	CHECK_INT(cert_cache_live(c), 1);
	check_first_alive(first);
	CHECK_INT(flood(c, 1, 2 * BOUND), BOUND);
	CHECK_INT(cert_cache_retired(c), 0);
	cert_cache_free(c);
}

/* A retired (pinned) certificate served again is a new entry; both go
 * their own way. */
static void test_retired_certificate_served_again_is_a_new_entry(void)
{
	struct cert_cache *c = cert_cache_new(BOUND);
	const struct cert_info *old, *again = NULL;
	uint8_t *der;
	size_t len;

	CHECK(c != NULL);
	der = cert_mint(0, &len);
	CHECK(der != NULL);
	if (!c || !der) {
		cert_cache_free(c);
		free(der);
		return;
	}
	old = cert_cache_get(c, der, len, NULL);
	cert_cache_pin(c, old);
	flood(c, 1, BOUND);
	again = cert_cache_get(c, der, len, NULL);
	CHECK(again != NULL && again != old);
	if (old && again)
		CHECK_STR(again->sha256_hex, old->sha256_hex);
	CHECK_INT(cert_cache_live(c), BOUND + 1);
	cert_cache_unpin(c, old);
	CHECK_INT(cert_cache_live(c), BOUND);
	CHECK(cert_cache_get(c, der, len, NULL) == again);
	free(der);
	cert_cache_free(c);
}

/* Entries still pinned at cert_cache_free() are freed with it (LSan). */
static void test_free_takes_pinned_entries_too(void)
{
	const struct cert_info *first;
	struct cert_cache *c = cache_pinning_first(&first);

	if (!c)
		return;
	cert_cache_pin(c, serve(c, 1));
	flood(c, 2, BOUND);
	CHECK_INT(cert_cache_retired(c), 2);
	cert_cache_free(c);
}

/* --- the pipeline: what holds a certificate past its judgement */

/* Judges certificate @i served for "mint.test" (an active check: a cert
 * event each, the text report keeps a row each). */
static void judge_cert(struct pipeline *pl, uint32_t i)
{
	struct hs_record rec;

	CHECK_INT(cert_mint_record(&rec, i), 0);
	if (rec.chain[0].data)
		pipeline_report_active(pl, &rec);
	free(rec.chain[0].data);
}

/*
 * More distinct certificates than the cache holds: the first ones are
 * freed while the text report still lists them (it copies what it prints:
 * ASan fails a report that kept the pointer), the counts stay exact, and
 * nothing stays pinned once the handshakes are judged.
 */
static void test_pipeline_frees_certificates_the_report_still_lists(void)
{
	struct output_opts o = { 0 };
	struct sink_set *set = NULL;
	struct pipeline *pl = NULL;
	struct summary *sum;
	char err[256] = "", *text = NULL, want[128];
	const uint32_t n = CERT_CACHE_DEFAULT_MAX + 50;
	size_t len = 0;
	uint32_t i;

	o.text_report = open_memstream(&text, &len);
	CHECK(o.text_report != NULL);
	CHECK_INT(sink_set_open(&o, &set, err, sizeof(err)), 0);
	if (set) {
		struct pipeline_opts po = { .emit = sink_set_emit, .emit_ctx = set };

		pl = pipeline_new(&po);
	}
	CHECK(pl != NULL);
	for (i = 0; pl && i < n; i++)
		judge_cert(pl, i);
	if (pl) {
		/* the documented default bound, and no pin left behind */
		CHECK_INT(cert_cache_live(pipeline_cert_cache(pl)), 4096);
		sum = pipeline_summary(pl);
		CHECK_INT(sum->certificates, n);
		CHECK_INT(sum->leaf_certificates, n);
		pipeline_emit_summary(pl, sum);
		pipeline_free(pl);
	}
	sink_set_close(set);
	fclose(o.text_report);
	CHECK(text && strstr(text, "      serial  4d494e5400000000  key EC-P256"));
	CHECK(text && strstr(text, "      subject CN=mint.test\n      issuer  CN=mint-ca.test\n"));
	/* the name lists its first 8: no row kept for the others */
	CHECK(text && strstr(text, "4d494e5400000007  key")
	      && !strstr(text, "4d494e5400000008  key"));
	CHECK(text && strstr(text, "    (more certificates not listed)\n"));
	snprintf(want, sizeof(want), "%u distinct certificates (%u leaves)", n, n);
	CHECK(text && strstr(text, want));
	free(text);
}

/* Serves certificate @i to the pipeline's cache and keeps it as a cert
 * event awaiting an online answer does. Its pin id. */
static uint64_t keep_cert(struct pipeline *pl, uint32_t i)
{
	const struct cert_info *ci = serve(pipeline_cert_cache(pl), (int)i);
	uint64_t id = ci ? chain_pins_keep(pl, 0, &ci, 1) : 0;

	CHECK(id != 0);
	return id;
}

/* Chains kept for cert events outlive their eviction, at most
 * PIPELINE_MAX_PINNED_CHAINS of them: the oldest is let go (and freed). */
static void test_pipeline_keeps_at_most_the_newest_pinned_chains(void)
{
	struct pipeline_opts po = { 0 };
	struct pipeline *pl = pipeline_new(&po);
	const struct pinned_chain *kept;
	uint64_t first = 0, second = 0, last = 0;
	uint32_t i;

	CHECK(pl != NULL);
	if (!pl)
		return;
	for (i = 0; i < PIPELINE_MAX_PINNED_CHAINS; i++) {
		last = keep_cert(pl, i);
		if (i == 0)
			first = last;
		if (i == 1)
			second = last;
	}
	flood(pipeline_cert_cache(pl), (int)i, CERT_CACHE_DEFAULT_MAX);
	CHECK_INT(cert_cache_live(pipeline_cert_cache(pl)), 4096 + 4096);
	last = keep_cert(pl, i + CERT_CACHE_DEFAULT_MAX);   /* takes first's slot */
	CHECK(chain_pins_get(pl, first) == NULL);
	CHECK_INT(cert_cache_live(pipeline_cert_cache(pl)), 4096 + 4095);
	kept = chain_pins_get(pl, second);   /* ASan: still alive */
	CHECK(kept && kept->n_chain == 1 && kept->chain[0] &&
	      !strcmp(kept->chain[0]->serial_hex, "4d494e5400000001"));
	chain_pins_drop(pl, second);
	CHECK(chain_pins_get(pl, second) == NULL);
	CHECK_INT(cert_cache_live(pipeline_cert_cache(pl)), 4096 + 4094);
	CHECK(chain_pins_get(pl, last) != NULL);
	pipeline_free(pl);
}

/*
 * A cert event kept again while its answer is pending (the next handshake
 * of a busy name) keeps its one slot, as the health checker keeps one wait
 * per cert event: 4,096 handshakes of one name let go of no other chain.
 * Kept again, it is the most recent: the least recently kept goes first.
 */
static void test_pipeline_busy_name_keeps_one_pinned_chain(void)
{
	struct pipeline_opts po = { 0 };
	struct pipeline *pl = pipeline_new(&po);
	const struct cert_info *busy;
	uint64_t other, busy_id = 0, id;
	bool same_id = true;
	uint32_t i;

	CHECK(pl != NULL);
	if (!pl)
		return;
	other = keep_cert(pl, 0);
	busy = serve(pipeline_cert_cache(pl), 1);
	CHECK(busy != NULL);
	for (i = 0; busy && i < PIPELINE_MAX_PINNED_CHAINS; i++) {
		id = chain_pins_keep(pl, busy_id, &busy, 1);
		same_id &= id != 0 && (!busy_id || id == busy_id);
		busy_id = id;
	}
	CHECK(same_id);
	CHECK(chain_pins_get(pl, other) != NULL);
	/* both evicted, alive by their pins: the busy one pinned once */
	flood(pipeline_cert_cache(pl), 2, CERT_CACHE_DEFAULT_MAX);
	CHECK_INT(cert_cache_live(pipeline_cert_cache(pl)), 4096 + 2);
	/* room for 4,094 more; the next one lets go of other, the least
	 * recently kept, not of the busy name kept after it */
	for (i = 2; i < PIPELINE_MAX_PINNED_CHAINS; i++)
		keep_cert(pl, i);
	CHECK(chain_pins_get(pl, other) != NULL);
	CHECK(busy && chain_pins_keep(pl, busy_id, &busy, 1) == busy_id);
	keep_cert(pl, i);
	CHECK(chain_pins_get(pl, other) == NULL);
	CHECK(chain_pins_get(pl, busy_id) != NULL);
	pipeline_free(pl);
}

/* The DER of the PKI certificate @name (malloc'd), NULL when unreadable. */
static uint8_t *leaf_der(const char *name, size_t *len)
{
	unsigned char *der = NULL;
	uint8_t *copy = NULL;
	int n = i2d_X509(hf_cert(name)->x509, &der);

	if (n > 0 && (copy = malloc((size_t)n)))
		memcpy(copy, der, (size_t)n);
	*len = n > 0 ? (size_t)n : 0;
	OPENSSL_free(der);
	return copy;
}

/*
 * A leaf sent alone, with a staple: the issuer its staple must name comes
 * from the trust store (root and inter). It is not served, so it stays out
 * of the served certificates' cache: it was parsed into it, counted as
 * served (refs) and took an LRU place from a served certificate.
 */
static void test_trust_store_issuer_stays_out_of_the_served_cache(void)
{
	char bundle[] = "/tmp/tw-cert-bound-ca-XXXXXX", root[1200], inter[1200];
	char cmd[4096], err[256] = "";
	struct cert_health_opts ho = { 0 };
	struct cert_health *h = NULL;
	struct pipeline *pl = NULL;
	const struct cert_info *served;
	static const uint8_t not_ocsp[] = { 0x30, 0x00 };
	struct hs_record rec;
	size_t len = 0;
	int fd = mkstemp(bundle);

	CHECK(fd >= 0);
	if (fd < 0)
		return;
	close(fd);
	snprintf(cmd, sizeof(cmd), "cat '%s' '%s' > '%s'",
		 hf_path("root.crt", root, sizeof(root)),
		 hf_path("inter.crt", inter, sizeof(inter)), bundle);
	CHECK_INT(hf_sh(cmd), 0);
	ho.ca_file = bundle;
	CHECK_INT(cert_health_open(&ho, &h, err, sizeof(err)), 0);
	if (h) {
		struct pipeline_opts po = { .health = h };

		pl = pipeline_new(&po);
	}
	CHECK(pl != NULL);
	memset(&rec, 0, sizeof(rec));
	rec.start_us = rec.end_us = (uint64_t)time(NULL) * 1000000;
	rec.server.addr.family = 4;
	rec.server.addr.bytes[0] = 192;
	rec.server.port = 443;
	rec.chain[0].data = leaf_der("good.test", &len);
	CHECK(rec.chain[0].data != NULL);
	rec.chain[0].len = (uint32_t)len;
	rec.n_chain = 1;
	rec.has_staple = true;
	rec.staple.data = (uint8_t *)not_ocsp;
	rec.staple.len = sizeof(not_ocsp);
	if (pl && rec.chain[0].data) {
		pipeline_report_active(pl, &rec);
		CHECK_INT(cert_cache_count(pipeline_cert_cache(pl)), 1);
		served = cert_cache_get(pipeline_cert_cache(pl), rec.chain[0].data,
					len, NULL);
		CHECK(served && served->refs == 2);   /* the handshake, this get */
		CHECK_INT(cert_cache_count(pipeline_cert_cache(pl)), 1);
	}
	free(rec.chain[0].data);
	pipeline_free(pl);
	cert_health_close(h);
	unlink(bundle);
}

/* --- every cert event waiting for an online answer is said again */

#define WAITING (4096 + 3)   /* one past 4,096 waits: three let go */

struct resent {
	int events[WAITING + 1];     /* cert events by server port */
	int ocsp[WAITING + 1];       /* of them, those with the responder's
				      * (failed: nothing listens) answer */
	int problems;
};

static void count_cert(void *ctx, const struct event *ev)
{
	struct resent *r = ctx;
	uint16_t port;

	if (ev->type != EVENT_CERT)
		return;
	port = ev->cert->server->port;
	CHECK(port >= 1 && port <= WAITING);
	if (port < 1 || port > WAITING)
		return;
	r->events[port]++;
	if (ev->cert->revocation && !strcmp(ev->cert->revocation->method, "ocsp"))
		r->ocsp[port]++;
}

static void count_problem(void *ctx, const char *message)
{
	((struct resent *)ctx)->problems++;
}

/* A pipeline judging with @h's online answers (NULL without @h) whose
 * cert events and problems @r counts. */
static struct pipeline *counting_pipeline(struct cert_health *h, struct resent *r)
{
	struct pipeline_opts po = {
		.health = h, .emit = count_cert, .emit_ctx = r,
		.problem = count_problem, .problem_ctx = r,
	};

	return h ? pipeline_new(&po) : NULL;
}

/* An IPv4 handshake record of now, the rest zero. */
static void record_now(struct hs_record *rec)
{
	memset(rec, 0, sizeof(*rec));
	rec->start_us = rec->end_us = (uint64_t)time(NULL) * 1000000;
	rec->server.addr.family = 4;
}

/*
 * 4,099 cert events (one chain, served on 4,099 ports) wait at once for
 * the responder's answer, which comes after the last of them was judged
 * (answers are taken only when the pipeline drains them). Each of the
 * 4,096 most recent is said again with the answer; the 3 oldest were let
 * go and are counted. Before, past 1,024 waits the oldest were let go
 * silently: 1,024 re-sent, 3,075 lost, nothing counted.
 */
static void test_every_waiting_cert_event_is_said_again(void)
{
	static struct resent r;
	char root[1200], err[256] = "";
	struct cert_health_opts ho = {
		.ca_file = hf_path("root.crt", root, sizeof(root)),
		.online = true, .ocsp_timeout_ms = 2000,
	};
	struct cert_health_stats hs;
	struct cert_health *h = NULL;
	struct pipeline *pl = NULL;
	struct hs_record rec;
	size_t len = 0;
	int port, once = 0, twice = 0, other = 0;

	memset(&r, 0, sizeof(r));
	CHECK_INT(cert_health_open(&ho, &h, err, sizeof(err)), 0);
	pl = counting_pipeline(h, &r);
	CHECK(pl != NULL);
	record_now(&rec);
	rec.server.addr.bytes[0] = 127;
	rec.server.addr.bytes[3] = 1;
	rec.chain[0].data = leaf_der("good.test", &len);
	rec.chain[0].len = (uint32_t)len;
	rec.chain[1].data = leaf_der("inter", &len);
	rec.chain[1].len = (uint32_t)len;
	rec.n_chain = 2;
	CHECK(rec.chain[0].data && rec.chain[1].data);
	for (port = 1; pl && rec.chain[0].data && rec.chain[1].data &&
	     port <= WAITING; port++) {
		rec.server.port = (uint16_t)port;
		pipeline_report_active(pl, &rec);
	}
	if (pl)
		pipeline_finish(pl, rec.end_us, 30000);
	for (port = 1; port <= WAITING; port++) {
		once += r.events[port] == 1 && r.ocsp[port] == 0;
		twice += r.events[port] == 2 && r.ocsp[port] == 1;
		other += r.events[port] < 1 || r.events[port] > 2;
	}
	CHECK_INT(twice, 4096);
	CHECK_INT(once, 3);
	CHECK_INT(other, 0);
	/* the oldest three: ports 1-3 */
	CHECK_INT(r.events[1] + r.events[2] + r.events[3], 3);
	CHECK_INT(r.events[4], 2);
	cert_health_stats(h, &hs);
	CHECK_INT(hs.waits_let_go, 3);
	/* every wait settled: no chain left pinned for one */
	CHECK(pl && TAILQ_EMPTY(&pl->pins.kept));
	CHECK(r.problems > 0);   /* the responder cannot be reached */
	free(rec.chain[0].data);
	free(rec.chain[1].data);
	pipeline_free(pl);
	cert_health_close(h);
}

/* --- a wait whose last answer changes nothing lets go of its chain */

/* Delivers answers as they come until @events[1] reaches @want (at most
 * 10 s): the health fd may be readable with no answer in (a problem it
 * said signals it too), so one poll is not enough. */
static void drain_until(struct pipeline *pl, struct cert_health *h,
			const int *events, int want)
{
	struct pollfd pfd = { .fd = cert_health_fd(h), .events = POLLIN };
	int i;

	for (i = 0; i < 100 && events[1] < want; i++) {
		if (poll(&pfd, 1, 100) < 0)
			break;
		pipeline_drain_checks(pl);
	}
}

/*
 * A cert event waits for three answers: its responder's, its CRL's and
 * its intermediate's CRL's. The responder says good (the event is said
 * again, still pending); then both CRL downloads fail, which changes
 * nothing: no update, but the wait is over, and so is its chain's pin. Before, only an update no longer
 * pending let go of a pin: this one stayed pinned until newer ones pushed
 * it out, each such pin in place of a chain a wait still needed (whose
 * answer was then lost).
 */
static void test_settled_wait_lets_go_of_its_chain(void)
{
	char dir[] = "/tmp/tw-cert-bound-pki-XXXXXX", cmd[4096], path[1200];
	char err[256] = "";
	struct cert_health_opts ho = { .online = true, .ocsp_timeout_ms = 10000 };
	struct cert_health_stats hs;
	struct cert_health *h = NULL;
	struct pipeline *pl = NULL;
	static struct resent r;
	X509 *leaf = NULL, *inter = NULL;
	struct hs_record rec;
	uint8_t *good = NULL;
	size_t len = 0, good_len = 0;
	int lfd, c[3] = { -1, -1, -1 }, i;
	bool is_ocsp[3] = { false, false, false };

	memset(&r, 0, sizeof(r));
	/* its leaves name this socket as their CRL's server and responder */
	lfd = health_pki_on_socket(dir, 4, true, path, sizeof(path));
	ho.ca_file = path;
	CHECK_INT(cert_health_open(&ho, &h, err, sizeof(err)), 0);
	pl = counting_pipeline(h, &r);
	CHECK(pl != NULL);
	record_now(&rec);
	rec.server.port = 1;
	snprintf(cmd, sizeof(cmd), "%s/good.test.crt", dir);
	rec.chain[0].data = pem_der(cmd, &len, &leaf);
	rec.chain[0].len = (uint32_t)len;
	snprintf(cmd, sizeof(cmd), "%s/inter.crt", dir);
	rec.chain[1].data = pem_der(cmd, &len, &inter);
	rec.chain[1].len = (uint32_t)len;
	rec.n_chain = 2;
	snprintf(cmd, sizeof(cmd), "%s/ocsp/good-good.der", dir);
	good = hf_read(cmd, &good_len);
	if (pl && leaf && inter && good && rec.chain[0].data && rec.chain[1].data) {
		pipeline_report_active(pl, &rec);
		CHECK_INT(r.events[1], 1);
		/* the leaf's responder, its CRL, the intermediate's CRL */
		for (i = 0; i < 3; i++) {
			c[i] = take_request(lfd, &is_ocsp[i]);
			CHECK(c[i] >= 0);
		}
		CHECK_INT(is_ocsp[0] + is_ocsp[1] + is_ocsp[2], 1);
		for (i = 0; i < 3; i++)
			if (is_ocsp[i])
				answer(c[i], good, good_len);
		drain_until(pl, h, r.events, 2);
		CHECK_INT(r.events[1], 2);     /* said again: the responder's good */
		CHECK_INT(r.ocsp[1], 1);
		CHECK(!TAILQ_EMPTY(&pl->pins.kept));   /* the CRLs may change it */
		for (i = 0; i < 3; i++)
			if (!is_ocsp[i])
				answer(c[i], NULL, 0);
		/* until every check is done: returns once they are */
		judge_wait_checks(pl, 10000);
		CHECK_INT(r.events[1], 2);     /* nothing changed: not said */
		CHECK(TAILQ_EMPTY(&pl->pins.kept));
		cert_health_stats(h, &hs);
		CHECK_INT(hs.waits_let_go, 0);
	}
	free(good);
	free(rec.chain[0].data);
	free(rec.chain[1].data);
	X509_free(leaf);
	X509_free(inter);
	pipeline_free(pl);
	cert_health_close(h);
	if (lfd >= 0)
		close(lfd);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	CHECK_INT(hf_sh(cmd), 0);
}

/* --- an answer judges again only the waits it concerns */

static const char *const apart[] = {   /* leaves of inter, apart */
	"good.test", "revoked.test", "unknown.test", "a-old.test",
	"a-new.test", "ends.test", "hold.test", "expired.test",
};
#define APART (int)(sizeof(apart) / sizeof(apart[0]))

struct settled_count {
	int settled, problems;
};

static void count_settled(void *ctx, const struct cert_health_result *r)
{
	((struct settled_count *)ctx)->settled++;
}

static void count_health_problem(void *ctx, const char *message)
{
	((struct settled_count *)ctx)->problems++;
}


/*
 * APART cert events wait, each for its own leaf's responder (no CRL is
 * named). The responder answers (a failure: the wait is over) one query
 * at a time, each drained before the next: each answer judges again its
 * one wait, APART in all. Before, every drain judged every wait again:
 * at least APART * (APART + 1) / 2 (36), more with the drains the
 * answers' problems wake (36 to 53 measured).
 */
static void test_an_answer_judges_again_only_its_waits(void)
{
	char dir[] = "/tmp/tw-cert-bound-apart-XXXXXX", cmd[4096], path[1200];
	char err[256] = "";
	struct cert_health_opts ho = { .online = true, .ocsp_timeout_ms = 10000 };
	struct cert_health *h = NULL;
	struct cert_info *ci[APART + 1] = { NULL };
	struct settled_count sc = { 0, 0 };
	struct cert_health_events ev = {
		.settled = count_settled, .problem = count_health_problem, .ctx = &sc,
	};
	struct cert_health_stats hs;
	int lfd, i, c;
	bool ocsp;

	/* the leaves' responder is this socket; no CRL is named */
	lfd = health_pki_on_socket(dir, APART, false, path, sizeof(path));
	ho.ca_file = path;
	CHECK_INT(cert_health_open(&ho, &h, err, sizeof(err)), 0);
	for (i = 0; i <= APART; i++) {
		const char *err_text = NULL;
		uint8_t *der;
		size_t len = 0;
		X509 *x = NULL;

		snprintf(cmd, sizeof(cmd), "%s/%s.crt", dir, i < APART ? apart[i] : "inter");
		der = pem_der(cmd, &len, &x);
		if (der)
			ci[i] = cert_info_parse(der, len, &err_text);
		CHECK(ci[i] != NULL);
		free(der);
		X509_free(x);
	}
	for (i = 0; h && ci[APART] && i < APART; i++) {
		const struct cert_info *chain[2] = { ci[i], ci[APART] };
		struct tw_endpoint server = { .addr.family = 4, .port = (uint16_t)(i + 1) };
		struct cert_health_input in = {
			.sni = apart[i], .server = &server, .chain = chain, .n_chain = 2,
			.ts_us = (uint64_t)time(NULL) * 1000000,
		};
		struct cert_health_result res;

		if (!ci[i])
			continue;
		cert_health_check(h, &in, &res);
		CHECK(res.pending);
	}
	for (i = 1; h && i <= APART; i++) {
		c = take_request(lfd, &ocsp);
		CHECK(c >= 0 && ocsp);
		if (c < 0)
			break;
		answer(c, NULL, 0);
		drain_health_until(h, &ev, &sc.settled, i);
		CHECK_INT(sc.settled, i);
	}
	if (h) {
		cert_health_stats(h, &hs);
		CHECK_INT(hs.waits_rejudged, APART);
		CHECK_INT(hs.waits_let_go, 0);
	}
	for (i = 0; i <= APART; i++)
		cert_info_free(ci[i]);
	cert_health_close(h);
	if (lfd >= 0)
		close(lfd);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	CHECK_INT(hf_sh(cmd), 0);
}

/* --- distinct counts: exact to the bound, estimated past it */

static void digest_of(uint32_t i, uint8_t d[32])
{
	uint32_t x = i * 2654435761u, k;

	/* any bijection of i spread over the bytes: distinct, uniform enough
	 * for the sketch after the mixing below */
	for (k = 0; k < 32; k++) {
		x ^= x >> 15;
		x *= 0x2c1b3c6du;
		x ^= x >> 12;
		x += i;
		d[k] = (uint8_t)(x >> 24);
	}
}

static void test_distinct_exact_to_the_bound_then_estimated(void)
{
	struct distinct *d = distinct_new();
	uint8_t dg[32];
	uint32_t i;

	CHECK(d != NULL);
	if (!d)
		return;
	for (i = 0; i < DISTINCT_EXACT_MAX; i++) {
		digest_of(i, dg);
		distinct_add(d, dg);
		distinct_add(d, dg);    /* twice: counted once */
	}
	CHECK_INT(distinct_count(d), DISTINCT_EXACT_MAX);
	CHECK(!distinct_estimated(d));
	for (; i < 4 * DISTINCT_EXACT_MAX; i++) {
		digest_of(i, dg);
		distinct_add(d, dg);
	}
	CHECK(distinct_estimated(d));
	/* 262,144 within 4% (5 standard errors of the 16 KiB sketch) */
	CHECK(distinct_count(d) > 4 * DISTINCT_EXACT_MAX * 96 / 100);
	CHECK(distinct_count(d) < 4 * DISTINCT_EXACT_MAX * 104 / 100);
	distinct_free(d);
}

int main(void)
{
	hf_pki();
	RUN_TEST(test_live_entries_never_exceed_the_bound);
	RUN_TEST(test_pinned_entry_outlives_its_eviction_until_unpinned);
	RUN_TEST(test_pins_nest);
	RUN_TEST(test_unpin_in_the_table_frees_nothing);
	RUN_TEST(test_retired_certificate_served_again_is_a_new_entry);
	RUN_TEST(test_free_takes_pinned_entries_too);
	RUN_TEST(test_pipeline_frees_certificates_the_report_still_lists);
	RUN_TEST(test_pipeline_keeps_at_most_the_newest_pinned_chains);
	RUN_TEST(test_pipeline_busy_name_keeps_one_pinned_chain);
	RUN_TEST(test_trust_store_issuer_stays_out_of_the_served_cache);
	RUN_TEST(test_every_waiting_cert_event_is_said_again);
	RUN_TEST(test_settled_wait_lets_go_of_its_chain);
	RUN_TEST(test_an_answer_judges_again_only_its_waits);
	RUN_TEST(test_distinct_exact_to_the_bound_then_estimated);
	cert_mint_done();
	hf_cleanup();
	return CHECK_EXIT_CODE();
}
