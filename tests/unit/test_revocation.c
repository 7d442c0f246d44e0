// SPDX-License-Identifier: MIT
/*
 * OCSP answers and the revocation verdict: what the CRL, the responder and
 * the staple say, combined. The answers are real ones, made by
 * `openssl ocsp` from the CA database (scripts/make-health-pki.sh); the
 * responder's own side is in tests/e2e/health_ocsp.sh.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ocsp.h>

#include "check.h"
#include "health_fixture.h"
#include "cert/ocsp_client.h"
#include "cert/revo_facts.h"
#include "cert/revocation.h"
#include "common/timefmt.h"

static int64_t now_s(void)
{
	return (int64_t)time(NULL);
}

/* An OCSP answer file of the PKI checked for @cert issued by inter. */
static void answer(const char *file, const char *cert, int64_t now,
		   struct ocsp_answer *a)
{
	size_t len = 0;
	uint8_t *der = hf_read_pki(file, &len);

	ocsp_answer_check(der, len, hf_cert(cert)->x509, hf_cert("inter")->x509,
			  now, a);
	free(der);
}

static void staple(const char *file, const char *leaf, struct staple_info *st)
{
	size_t len = 0;
	uint8_t *der = hf_read_pki(file, &len);

	staple_check(der, len, hf_cert(leaf), hf_cert("inter"), st);
	free(der);
}

/* A revo_cert for @leaf: the CRL file's answer, and the responder's
 * answer from @ocsp_file (NULL: not asked). */
static void leaf_sources(const char *leaf, const char *crl_file, const char *ocsp_file,
			 struct revo_cert *c)
{
	struct crl_store *s = crl_store_new();
	char path[1200], err[256];

	memset(c, 0, sizeof(*c));
	snprintf(c->label, sizeof(c->label), "leaf");
	c->crl.status = OCSP_ST_UNKNOWN;
	c->crl.reason = -1;
	if (crl_file && crl_store_load_file(s, hf_path(crl_file, path, sizeof(path)),
					    err, sizeof(err)) == 0)
		crl_check(s, hf_cert(leaf)->x509, hf_cert("inter")->x509, now_s(), &c->crl);
	crl_store_free(s);
	if (ocsp_file) {
		answer(ocsp_file, leaf, now_s(), &c->ocsp.answer);
		c->ocsp.state = c->ocsp.answer.ok ? OCSP_ANSWERED : OCSP_FAILED;
		snprintf(c->ocsp.url, sizeof(c->ocsp.url), "http://127.0.0.1:9");
	}
}

static void judge(const struct revo_cert *certs, int n, const struct staple_info *st,
		  int64_t at, int64_t max_age, struct revocation *r,
		  struct finding_list *f)
{
	struct revo_input in = {
		.certs = certs, .n = n, .staple = st, .at = at,
		.staple_max_age_s = max_age,
	};

	memset(f, 0, sizeof(*f));
	revocation_judge(&in, r, f);
}

static const char *detail_of(const struct finding_list *f, enum finding_kind k)
{
	int i;

	for (i = 0; i < f->n; i++)
		if (f->items[i].kind == k)
			return f->items[i].detail;
	return NULL;
}

static const char *ts(int64_t t)
{
	static char bufs[4][TW_TIME_STRLEN];
	static int next;

	return tw_time_format_s(t, bufs[next++ % 4]);
}

/* --- answers from a responder */

static void test_good_answer_verifies(void)
{
	struct ocsp_answer a;

	answer("ocsp/good-good.der", "good.test", now_s(), &a);
	CHECK(a.ok);
	CHECK_STR(a.error, "");
	CHECK_INT(a.status, OCSP_ST_GOOD);
	CHECK_INT(a.next_update - a.this_update, 86400);
	CHECK_INT(a.revoked_at, 0);
}

static void test_revoked_answer_has_time_and_reason(void)
{
	struct ocsp_answer a;

	answer("ocsp/revoked.der", "revoked.test", now_s(), &a);
	CHECK(a.ok);
	CHECK_INT(a.status, OCSP_ST_REVOKED);
	CHECK_INT(a.reason, 1);
	CHECK(a.revoked_at > hf_time("2026-01-01T00:00:00"));
}

static void test_answer_signed_by_another_key_is_refused(void)
{
	struct ocsp_answer a;

	answer("ocsp/good-evil.der", "good.test", now_s(), &a);
	CHECK(!a.ok);
	CHECK_STR(a.error, "signature does not verify with the issuer's key or a "
		  "responder it authorised");
}

static void test_answer_about_another_certificate_is_refused(void)
{
	struct ocsp_answer a;

	answer("ocsp/good-good.der", "revoked.test", now_s(), &a);
	CHECK(!a.ok);
	CHECK_STR(a.error, "the answer is not about this certificate");
}

static void test_answer_past_next_update_is_refused(void)
{
	struct ocsp_answer a;

	answer("ocsp/good-good.der", "good.test", now_s() + 2 * 86400, &a);
	CHECK(!a.ok);
	CHECK_STR(a.error, "answer is past its nextUpdate");
}

static void test_garbage_answer_is_refused(void)
{
	static const uint8_t junk[] = "<html>502 Bad Gateway</html>";
	struct ocsp_answer a;

	ocsp_answer_check(junk, sizeof(junk) - 1, hf_cert("good.test")->x509,
			  hf_cert("inter")->x509, now_s(), &a);
	CHECK(!a.ok);
	CHECK_STR(a.error, "not a DER OCSP response");
}

static void test_unsuccessful_responder_status_is_named(void)
{
	/* OCSPResponse { responseStatus tryLater (3) } */
	static const uint8_t try_later[] = { 0x30, 0x03, 0x0a, 0x01, 0x03 };
	struct ocsp_answer a;

	ocsp_answer_check(try_later, sizeof(try_later), hf_cert("good.test")->x509,
			  hf_cert("inter")->x509, now_s(), &a);
	CHECK(!a.ok);
	CHECK_STR(a.error, "responder status trylater");
}

static void test_responder_url_and_request(void)
{
	char url[256];
	uint8_t *der = NULL;
	const unsigned char *p;
	size_t len = 0;
	OCSP_REQUEST *req;

	CHECK(ocsp_responder_url(hf_cert("good.test")->x509, url, sizeof(url)));
	CHECK_STR(url, "http://127.0.0.1:9");
	CHECK(!ocsp_responder_url(hf_cert("inter")->x509, url, sizeof(url)));
	CHECK_INT(ocsp_request_der(hf_cert("good.test")->x509, hf_cert("inter")->x509,
				   &der, &len), 0);
	p = der;
	req = d2i_OCSP_REQUEST(NULL, &p, (long)len);
	CHECK(req != NULL);
	CHECK_INT(req ? OCSP_request_onereq_count(req) : 0, 1);
	OCSP_REQUEST_free(req);
	free(der);
}

/* Decoded once per certificate object, equal to what the decoders say. */
static void test_revo_facts_decoded_once_per_certificate(void)
{
	X509 *good = hf_cert("good.test")->x509, *inter = hf_cert("inter")->x509;
	const struct revo_facts *f = revo_facts_of(good), *g = revo_facts_of(inter);
	char urls[REVO_FACTS_MAX_CRL_URLS][CRL_URL_MAX];

	CHECK(f != NULL && g != NULL);
	if (!f || !g)
		return;
	CHECK(revo_facts_of(good) == f);
	CHECK(f->has_sha256);
	CHECK(memcmp(f->sha256, hf_cert("good.test")->sha256, 32) == 0);
	CHECK(f->has_ocsp_url);
	CHECK_STR(f->ocsp_url, "http://127.0.0.1:9");
	CHECK_INT(f->n_crl_urls, crl_distribution_urls(good, urls, REVO_FACTS_MAX_CRL_URLS));
	CHECK_INT(f->n_crl_urls, 1);
	CHECK_STR(f->crl_urls[0], urls[0]);
	CHECK(!g->has_ocsp_url);
	CHECK(memcmp(g->sha256, hf_cert("inter")->sha256, 32) == 0);
}

/* --- verdicts */

static void test_no_source_is_unknown_and_no_finding(void)
{
	struct revo_cert c;
	struct revocation r;
	struct finding_list f;

	leaf_sources("good.test", NULL, NULL, &c);
	judge(&c, 1, NULL, now_s(), 0, &r, &f);
	CHECK_INT(r.status, OCSP_ST_UNKNOWN);
	CHECK(revocation_method_name(r.method) == NULL);
	CHECK_INT(r.checked_at, 0);
	CHECK_INT(f.n, 0);
}

/* revoked.test judged with @crl_file alone: revoked, the detail ending
 * with @stale_note, stale_since @stale_since. */
static void check_crl_revokes(const char *crl_file, const char *stale_note,
			      int64_t stale_since)
{
	struct revo_cert c;
	struct revocation r;
	struct finding_list f;
	char want[512], path[1200];

	leaf_sources("revoked.test", crl_file, NULL, &c);
	judge(&c, 1, NULL, now_s(), 0, &r, &f);
	CHECK_STR(revocation_method_name(r.method), "crl");
	CHECK_INT(r.status, OCSP_ST_REVOKED);
	CHECK_INT(r.reason, 1);
	CHECK_INT(r.revoked_at, c.crl.revoked_at);
	CHECK_INT(r.checked_at, c.crl.this_update);
	CHECK_INT(r.stale_since, stale_since);
	snprintf(want, sizeof(want), "leaf revoked at %s (keyCompromise) per CRL %s%s",
		 ts(c.crl.revoked_at), hf_path(crl_file, path, sizeof(path)), stale_note);
	CHECK_STR(detail_of(&f, FINDING_REVOKED), want);
	CHECK_INT(f.n, 1);
}

static void test_crl_listing_the_leaf_is_revoked(void)
{
	check_crl_revokes("crl/inter.pem", "", 0);
}

static void test_crl_good_gives_good_object(void)
{
	struct revo_cert c;
	struct revocation r;
	struct finding_list f;

	leaf_sources("good.test", "crl/inter.pem", NULL, &c);
	judge(&c, 1, NULL, now_s(), 0, &r, &f);
	CHECK_STR(revocation_method_name(r.method), "crl");
	CHECK_INT(r.status, OCSP_ST_GOOD);
	CHECK_INT(r.reason, -1);
	CHECK_INT(r.revoked_at, 0);
	CHECK_INT(f.n, 0);
}

static void test_revoked_intermediate_is_reported_and_named(void)
{
	struct crl_store *s = crl_store_new();
	struct revo_cert c[2];
	struct revocation r;
	struct finding_list f;
	char path[1200], err[256], want[512];

	crl_store_load_file(s, hf_path("www/root.crl", path, sizeof(path)), err,
			    sizeof(err));
	memset(c, 0, sizeof(c));
	snprintf(c[0].label, sizeof(c[0].label), "leaf");
	c[0].crl.status = OCSP_ST_UNKNOWN;
	snprintf(c[1].label, sizeof(c[1].label),
		 "intermediate CN=Health Test Revoked Intermediate,O=tlswatch test");
	crl_check(s, hf_cert("inter2")->x509, hf_cert("root")->x509, now_s(), &c[1].crl);
	judge(c, 2, NULL, now_s(), 0, &r, &f);
	CHECK_INT(r.status, OCSP_ST_REVOKED);
	CHECK_STR(revocation_method_name(r.method), "crl");
	snprintf(want, sizeof(want), "intermediate CN=Health Test Revoked Intermediate,"
		 "O=tlswatch test revoked at %s (keyCompromise) per CRL %s",
		 ts(c[1].crl.revoked_at), path);
	CHECK_STR(detail_of(&f, FINDING_REVOKED), want);
	crl_store_free(s);
}

static void test_responder_revoked_beats_crl_good(void)
{
	struct revo_cert c;
	struct revocation r;
	struct finding_list f;

	/* The CRL does not list good.test, the (2016) responder says revoked. */
	leaf_sources("good.test", "crl/inter.pem", "ocsp/good-revoked.der", &c);
	judge(&c, 1, NULL, now_s(), 0, &r, &f);
	CHECK_STR(revocation_method_name(r.method), "ocsp");
	CHECK_INT(r.status, OCSP_ST_REVOKED);
	CHECK_INT(r.revoked_at, hf_time("2025-03-01T00:00:00"));
	CHECK_STR(detail_of(&f, FINDING_REVOKED),
		  "leaf revoked at 2025-03-01T00:00:00Z (keyCompromise) per responder "
		  "http://127.0.0.1:9");
}

static void test_responder_unknown_beats_crl_good(void)
{
	struct revo_cert c;
	struct revocation r;
	struct finding_list f;
	char sources[256];

	/* unknown.test: no CRL lists it, its CA's responder has no record. */
	leaf_sources("unknown.test", "crl/inter.pem", "ocsp/unknown.der", &c);
	CHECK_INT(c.crl.status, OCSP_ST_GOOD);
	judge(&c, 1, NULL, now_s(), 0, &r, &f);
	CHECK_STR(revocation_method_name(r.method), "ocsp");
	CHECK_INT(r.status, OCSP_ST_UNKNOWN);
	CHECK_INT(r.checked_at, c.ocsp.answer.this_update);
	CHECK_INT(f.n, 0);
	revocation_sources_text(&c, sources, sizeof(sources));
	CHECK_STR(sources, "CRL says good, responder says unknown");
}

static void test_stale_crl_good_is_unknown(void)
{
	struct revo_cert c;
	struct revocation r;
	struct finding_list f;
	char sources[256];

	leaf_sources("good.test", "crl/inter-stale.pem", NULL, &c);
	judge(&c, 1, NULL, now_s(), 0, &r, &f);
	CHECK_STR(revocation_method_name(r.method), "crl");
	CHECK_INT(r.status, OCSP_ST_UNKNOWN);
	CHECK_INT(r.checked_at, hf_time("2025-01-01T00:00:00"));
	CHECK_INT(r.stale_since, hf_time("2025-01-31T00:00:00"));
	CHECK_INT(f.n, 0);
	revocation_sources_text(&c, sources, sizeof(sources));
	CHECK_STR(sources, "CRL says good (past its nextUpdate 2025-01-31T00:00:00Z)");
	/* A current CRL of the same CA: good, nothing stale. */
	leaf_sources("good.test", "crl/inter.pem", NULL, &c);
	judge(&c, 1, NULL, now_s(), 0, &r, &f);
	CHECK_INT(r.status, OCSP_ST_GOOD);
	CHECK_INT(r.stale_since, 0);
}

static void test_stale_crl_revoked_still_stands(void)
{
	check_crl_revokes("crl/inter-stale.pem",
			  " (past its nextUpdate 2025-01-31T00:00:00Z)",
			  hf_time("2025-01-31T00:00:00"));
}

static void test_stale_crl_good_leaves_a_verified_staple_to_speak(void)
{
	struct revo_cert c;
	struct staple_info st;
	struct revocation r;
	struct finding_list f;

	leaf_sources("good.test", "crl/inter-stale.pem", NULL, &c);
	staple("ocsp/good-good.der", "good.test", &st);
	judge(&c, 1, &st, now_s(), 0, &r, &f);
	CHECK_STR(revocation_method_name(r.method), "staple");
	CHECK_INT(r.status, OCSP_ST_GOOD);
	CHECK_INT(r.stale_since, 0);
}

static void test_staple_good_responder_revoked_names_both(void)
{
	struct revo_cert c;
	struct staple_info st;
	struct revocation r;
	struct finding_list f;

	leaf_sources("good.test", NULL, "ocsp/good-revoked.der", &c);
	staple("ocsp/good-good.der", "good.test", &st);
	judge(&c, 1, &st, now_s(), 0, &r, &f);
	CHECK_STR(detail_of(&f, FINDING_REVOKED),
		  "leaf revoked at 2025-03-01T00:00:00Z (keyCompromise) per responder "
		  "http://127.0.0.1:9; staple says good");
	CHECK(!finding_has(&f, FINDING_REVOKED_STAPLE));
}

static void test_no_staple_is_never_good(void)
{
	struct revo_cert c;
	struct revocation r;
	struct finding_list f;

	leaf_sources("good.test", NULL, NULL, &c);
	judge(&c, 1, NULL, now_s(), 0, &r, &f);
	CHECK(r.method != REVO_STAPLE);
	CHECK_INT(r.status, OCSP_ST_UNKNOWN);
}

static void test_verified_staple_alone_gives_the_object(void)
{
	struct revo_cert c;
	struct staple_info st;
	struct revocation r;
	struct finding_list f;

	leaf_sources("good.test", NULL, NULL, &c);
	staple("ocsp/good-good.der", "good.test", &st);
	CHECK(st.verified);
	judge(&c, 1, &st, now_s(), 0, &r, &f);
	CHECK_STR(revocation_method_name(r.method), "staple");
	CHECK_INT(r.status, OCSP_ST_GOOD);
	CHECK_INT(r.checked_at, st.this_update);
	CHECK_INT(f.n, 0);
}

static void test_failed_responder_is_unknown_without_finding(void)
{
	struct revo_cert c;
	struct revocation r;
	struct finding_list f;

	leaf_sources("good.test", NULL, "ocsp/good-evil.der", &c);
	CHECK_INT(c.ocsp.state, OCSP_FAILED);
	judge(&c, 1, NULL, now_s(), 0, &r, &f);
	CHECK_STR(revocation_method_name(r.method), "ocsp");
	CHECK_INT(r.status, OCSP_ST_UNKNOWN);
	CHECK_INT(f.n, 0);
}

/* --- the 2016 replay: the CA's responder said "revoked" for valid
 * certificates, CDNs stapled it, the CRL never listed them; the responder
 * was fixed, the stapled answers lived on until they went stale. */

static void test_2016_staple_says_revoked_crl_says_good(void)
{
	struct revo_cert c;
	struct staple_info st;
	struct revocation r;
	struct finding_list f;
	char want[256];

	leaf_sources("good.test", "crl/inter.pem", NULL, &c);
	staple("ocsp/good-revoked.der", "good.test", &st);
	judge(&c, 1, &st, now_s(), 0, &r, &f);
	snprintf(want, sizeof(want), "staple says revoked at 2025-03-01T00:00:00Z "
		 "(keyCompromise), this_update %s; CRL says good", ts(st.this_update));
	CHECK_STR(detail_of(&f, FINDING_REVOKED_STAPLE), want);
	CHECK(!finding_has(&f, FINDING_REVOKED));
	CHECK(!finding_has(&f, FINDING_STALE_STAPLE));
	CHECK_STR(revocation_method_name(r.method), "crl");
	CHECK_INT(r.status, OCSP_ST_GOOD);
}

static void test_2016_fixed_responder_disagrees_with_the_staple(void)
{
	struct revo_cert c;
	struct staple_info st;
	struct revocation r;
	struct finding_list f;
	char want[256];

	leaf_sources("good.test", "crl/inter.pem", "ocsp/good-good.der", &c);
	staple("ocsp/good-revoked.der", "good.test", &st);
	judge(&c, 1, &st, now_s(), 0, &r, &f);
	snprintf(want, sizeof(want), "staple says revoked at 2025-03-01T00:00:00Z "
		 "(keyCompromise), this_update %s; CRL says good, responder says good",
		 ts(st.this_update));
	CHECK_STR(detail_of(&f, FINDING_REVOKED_STAPLE), want);
	CHECK_STR(revocation_method_name(r.method), "ocsp");
	CHECK_INT(r.status, OCSP_ST_GOOD);
	CHECK(!finding_has(&f, FINDING_REVOKED));
}

static void test_2016_cached_staple_goes_stale(void)
{
	struct revo_cert c;
	struct staple_info st;
	struct revocation r;
	struct finding_list f;
	char want[256];

	leaf_sources("good.test", "crl/inter.pem", "ocsp/good-good.der", &c);
	staple("ocsp/good-revoked.der", "good.test", &st);
	judge(&c, 1, &st, st.next_update + 3600, 0, &r, &f);
	snprintf(want, sizeof(want), "staple next_update %s passed (this_update %s); "
		 "staple says revoked, responder says good", ts(st.next_update),
		 ts(st.this_update));
	CHECK_STR(detail_of(&f, FINDING_STALE_STAPLE), want);
	CHECK(finding_has(&f, FINDING_REVOKED_STAPLE));
	CHECK_INT(f.n, 2);
}

static void test_staple_older_than_the_limit_is_stale(void)
{
	struct revo_cert c;
	struct staple_info st;
	struct revocation r;
	struct finding_list f;
	char want[256];

	leaf_sources("good.test", NULL, NULL, &c);
	staple("ocsp/good-good.der", "good.test", &st);
	judge(&c, 1, &st, st.this_update + 7200, 3600, &r, &f);
	snprintf(want, sizeof(want), "staple is 7200 s old (this_update %s, limit "
		 "3600 s); staple says good", ts(st.this_update));
	CHECK_STR(detail_of(&f, FINDING_STALE_STAPLE), want);
	judge(&c, 1, &st, st.this_update + 1800, 3600, &r, &f);
	CHECK(!finding_has(&f, FINDING_STALE_STAPLE));
}

static void test_staple_for_another_certificate_is_not_judged(void)
{
	struct revo_cert c;
	struct staple_info st;
	struct revocation r;
	struct finding_list f;

	leaf_sources("good.test", NULL, NULL, &c);
	staple("ocsp/revoked.der", "good.test", &st);
	CHECK(st.parsed);
	CHECK(!st.matches_leaf);
	judge(&c, 1, &st, now_s(), 0, &r, &f);
	CHECK_INT(f.n, 0);
	CHECK_INT(r.status, OCSP_ST_UNKNOWN);
}

int main(void)
{
	hf_pki();
	RUN_TEST(test_good_answer_verifies);
	RUN_TEST(test_revoked_answer_has_time_and_reason);
	RUN_TEST(test_answer_signed_by_another_key_is_refused);
	RUN_TEST(test_answer_about_another_certificate_is_refused);
	RUN_TEST(test_answer_past_next_update_is_refused);
	RUN_TEST(test_garbage_answer_is_refused);
	RUN_TEST(test_unsuccessful_responder_status_is_named);
	RUN_TEST(test_responder_url_and_request);
	RUN_TEST(test_revo_facts_decoded_once_per_certificate);
	RUN_TEST(test_no_source_is_unknown_and_no_finding);
	RUN_TEST(test_crl_listing_the_leaf_is_revoked);
	RUN_TEST(test_crl_good_gives_good_object);
	RUN_TEST(test_revoked_intermediate_is_reported_and_named);
	RUN_TEST(test_responder_revoked_beats_crl_good);
	RUN_TEST(test_responder_unknown_beats_crl_good);
	RUN_TEST(test_stale_crl_good_is_unknown);
	RUN_TEST(test_stale_crl_revoked_still_stands);
	RUN_TEST(test_stale_crl_good_leaves_a_verified_staple_to_speak);
	RUN_TEST(test_staple_good_responder_revoked_names_both);
	RUN_TEST(test_no_staple_is_never_good);
	RUN_TEST(test_verified_staple_alone_gives_the_object);
	RUN_TEST(test_failed_responder_is_unknown_without_finding);
	RUN_TEST(test_2016_staple_says_revoked_crl_says_good);
	RUN_TEST(test_2016_fixed_responder_disagrees_with_the_staple);
	RUN_TEST(test_2016_cached_staple_goes_stale);
	RUN_TEST(test_staple_older_than_the_limit_is_stale);
	RUN_TEST(test_staple_for_another_certificate_is_not_judged);
	hf_cleanup();
	return CHECK_EXIT_CODE();
}
