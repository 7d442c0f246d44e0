// SPDX-License-Identifier: MIT
/*
 * superseded, and the 2018 replay through the certificate-health facade:
 * a name serves A, then B (newer) replaces it, then A - revoked by then -
 * comes back. Also across a restart (the inventory on disk), and with a
 * database that cannot be used (the checks go on from memory).
 */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <arpa/inet.h>

#include "check.h"
#include "health_fixture.h"
#include "cert/health.h"
#include "cert/supersede.h"
#include "common/timefmt.h"

#define T(s) ((uint64_t)hf_time(s) * 1000000ull)

static char dir[64];

static struct tw_endpoint ep(const char *ip, uint16_t port)
{
	struct tw_endpoint e;

	memset(&e, 0, sizeof(e));
	e.addr.family = 4;
	inet_pton(AF_INET, ip, e.addr.bytes);
	e.port = port;
	return e;
}

static char *db_path(const char *name)
{
	static char p[128];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return p;
}

/* The facade with root.crt as trust store, optionally inter's CRL and a DB. */
static int open_health(bool with_crl, const char *db, struct cert_health **h,
		       char *err, size_t errlen)
{
	static char ca[1200], crl[1200];
	static const char *crls[1];
	struct cert_health_opts o = { 0 };

	o.ca_file = hf_path("root.crt", ca, sizeof(ca));
	crls[0] = hf_path("crl/inter.pem", crl, sizeof(crl));
	o.crl_files = crls;
	o.n_crl = with_crl ? 1 : 0;
	o.db_path = db;
	return cert_health_open(&o, h, err, errlen);
}

/* One handshake: @name served leaf @leaf (with inter) by @ip:443 at @when. */
static void serve(struct cert_health *h, const char *name, const char *leaf,
		  const char *ip, const char *when, struct cert_health_result *r)
{
	const struct cert_info *chain[2] = { hf_cert(leaf), hf_cert("inter") };
	struct tw_endpoint server = ep(ip, 443);
	struct cert_health_input in = {
		.sni = name, .server = &server, .chain = chain, .n_chain = 2,
		.ts_us = T(when),
	};

	cert_health_check(h, &in, r);
}

static const char *detail_of(const struct finding_list *f, enum finding_kind k)
{
	int i;

	for (i = 0; i < f->n; i++)
		if (f->items[i].kind == k)
			return f->items[i].detail;
	return NULL;
}

static void want_superseded_by_b(const struct cert_health_result *r)
{
	char want[256];

	snprintf(want, sizeof(want), "newer certificate %s (not_before "
		 "2025-06-01T00:00:00Z) was served for a.test since "
		 "2026-03-02T00:00:00.000000Z", hf_fp("a-new.test"));
	CHECK_STR(detail_of(&r->findings, FINDING_SUPERSEDED), want);
}

/* --- supersede_judge itself */

static void test_judge_needs_a_newer_leaf_already_served(void)
{
	struct inventory *inv = NULL;
	struct supersede_verdict v;
	struct tw_endpoint e = ep("10.0.0.1", 443);
	const struct cert_info *a = hf_cert("a-old.test"), *b = hf_cert("a-new.test");
	struct inventory_sighting sb = {
		.name = "a.test", .addr = "10.0.0.2", .port = 443,
		.sha256 = b->sha256_hex, .key = b->key, .not_before = b->not_before,
		.not_after = b->not_after, .ts_us = T("2026-03-02T00:00:00"),
	};
	char err[256];

	CHECK_INT(inventory_open(NULL, &inv, err, sizeof(err)), 0);
	CHECK_INT(inventory_record(inv, &sb, NULL, err, sizeof(err)), 0);
	CHECK_INT(supersede_judge(inv, "a.test", &e, a, false, NULL, T("2026-03-01T00:00:00"), &v,
				  err, sizeof(err)), 0);
	CHECK(!v.superseded);
	CHECK_INT(supersede_judge(inv, "a.test", &e, a, false, NULL, T("2026-03-03T00:00:00"), &v,
				  err, sizeof(err)), 0);
	CHECK(v.superseded);
	CHECK_STR(v.newer_sha256, b->sha256_hex);
	CHECK_INT(v.newer_not_before, hf_time("2025-06-01T00:00:00"));
	CHECK_INT(supersede_judge(inv, "b.test", &e, a, false, NULL, T("2026-03-03T00:00:00"), &v,
				  err, sizeof(err)), 0);
	CHECK(!v.superseded);
	CHECK_INT(supersede_judge(inv, "a.test", &e, b, false, NULL, T("2026-03-03T00:00:00"), &v,
				  err, sizeof(err)), 0);
	CHECK(!v.superseded);
	inventory_close(inv);
}

/* --- through the facade */

static void test_normal_rotation_is_not_a_finding(void)
{
	struct cert_health *h = NULL;
	struct cert_health_result r;
	char err[256] = "";

	CHECK_INT(open_health(false, NULL, &h, err, sizeof(err)), 0);
	serve(h, "a.test", "a-old.test", "10.0.0.1", "2026-03-01T00:00:00", &r);
	CHECK_INT(r.findings.n, 0);
	CHECK(r.new_in_inventory);
	serve(h, "a.test", "a-new.test", "10.0.0.1", "2026-03-02T00:00:00", &r);
	CHECK_INT(r.findings.n, 0);
	serve(h, "a.test", "a-new.test", "10.0.0.2", "2026-03-03T00:00:00", &r);
	CHECK_INT(r.findings.n, 0);
	CHECK_STR(r.verify, "ok");
	cert_health_close(h);
}

/* Host names are case-insensitive: the old leaf served to "A.Test" after
 * the newer one to "a.test" is superseded (it was not: two names). */
static void test_name_case_does_not_hide_superseded(void)
{
	struct cert_health *h = NULL;
	struct cert_health_result r;
	char err[256] = "";

	CHECK_INT(open_health(false, NULL, &h, err, sizeof(err)), 0);
	serve(h, "a.test", "a-old.test", "10.0.0.1", "2026-03-01T00:00:00", &r);
	serve(h, "a.test", "a-new.test", "10.0.0.2", "2026-03-02T00:00:00", &r);
	serve(h, "A.Test", "a-old.test", "10.0.0.1", "2026-03-03T00:00:00", &r);
	CHECK(finding_has(&r.findings, FINDING_SUPERSEDED));
	CHECK(!r.new_in_inventory);          /* the same name, already seen */
	CHECK_STR(r.sni, "A.Test");          /* the event says what was sent */
	cert_health_close(h);
}

/* "A.Test." is a.test too (an absolute name): the old leaf served to it
 * after the newer one to "a.test" is superseded, and the detail names
 * a.test (it named the spelling sent, and filed it apart). */
static void test_trailing_dot_does_not_hide_superseded(void)
{
	struct cert_health *h = NULL;
	struct cert_health_result r;
	char err[256] = "";

	CHECK_INT(open_health(false, NULL, &h, err, sizeof(err)), 0);
	serve(h, "a.test", "a-old.test", "10.0.0.1", "2026-03-01T00:00:00", &r);
	serve(h, "a.test.", "a-new.test", "10.0.0.2", "2026-03-02T00:00:00", &r);
	serve(h, "A.Test.", "a-old.test", "10.0.0.1", "2026-03-03T00:00:00", &r);
	want_superseded_by_b(&r);
	CHECK(!r.new_in_inventory);
	CHECK_STR(r.sni, "A.Test.");
	cert_health_close(h);
}

/* "." (sent as a name: the root, with its trailing dot) is not the
 * handshake without SNI: it folded to "", the name without SNI is filed
 * under, so the two shared one history and the older leaf sent for "."
 * after the newer one without SNI was superseded. */
static void test_dot_is_not_the_name_without_sni(void)
{
	struct cert_health *h = NULL;
	struct cert_health_result r;
	char err[256] = "";

	CHECK_INT(open_health(false, NULL, &h, err, sizeof(err)), 0);
	serve(h, NULL, "a-old.test", "10.0.0.1", "2026-03-01T00:00:00", &r);
	serve(h, NULL, "a-new.test", "10.0.0.1", "2026-03-02T00:00:00", &r);
	serve(h, ".", "a-old.test", "10.0.0.1", "2026-03-03T00:00:00", &r);
	CHECK(!finding_has(&r.findings, FINDING_SUPERSEDED));
	CHECK(r.new_in_inventory);           /* a name of its own */
	CHECK_STR(r.sni, ".");
	/* the history without SNI is whole: its older leaf is superseded */
	serve(h, NULL, "a-old.test", "10.0.0.1", "2026-03-04T00:00:00", &r);
	CHECK(finding_has(&r.findings, FINDING_SUPERSEDED));
	cert_health_close(h);
}

/* The result keeps every byte of the SNI, a NUL among them: the update
 * of its cert event is found by them. */
static void test_result_keeps_the_sni_bytes(void)
{
	const struct cert_info *chain[2] = { hf_cert("a-old.test"), hf_cert("inter") };
	struct tw_endpoint server = ep("10.0.0.1", 443);
	struct cert_health_input in = {
		.sni = "a.test\0evil", .sni_len = 11, .server = &server,
		.chain = chain, .n_chain = 2, .ts_us = T("2026-03-01T00:00:00"),
	};
	struct cert_health *h = NULL;
	struct cert_health_result r;
	char err[256] = "";

	CHECK_INT(open_health(false, NULL, &h, err, sizeof(err)), 0);
	cert_health_check(h, &in, &r);
	CHECK(r.has_sni);
	CHECK_INT(r.sni_len, 11);
	CHECK(!memcmp(r.sni, "a.test\0evil", 12));
	in.sni = "a.test";
	in.sni_len = 0;                    /* 0: up to the NUL */
	cert_health_check(h, &in, &r);
	CHECK_INT(r.sni_len, 6);
	CHECK_STR(r.sni, "a.test");
	cert_health_close(h);
}

static void test_2018_old_certificate_back_is_superseded_and_revoked(void)
{
	struct cert_health *h = NULL;
	struct cert_health_result r;
	char err[256] = "", want[512], crl[1200], when[TW_TIME_STRLEN];

	CHECK_INT(open_health(true, NULL, &h, err, sizeof(err)), 0);
	serve(h, "a.test", "a-old.test", "10.0.0.1", "2026-03-01T00:00:00", &r);
	CHECK(!finding_has(&r.findings, FINDING_SUPERSEDED));
	serve(h, "a.test", "a-new.test", "10.0.0.2", "2026-03-02T00:00:00", &r);
	CHECK_INT(r.findings.n, 0);
	CHECK_INT(r.revocation.status, OCSP_ST_GOOD);
	serve(h, "a.test", "a-old.test", "10.0.0.1", "2026-03-03T00:00:00", &r);
	want_superseded_by_b(&r);
	snprintf(want, sizeof(want), "leaf revoked at %s (superseded) per CRL %s",
		 tw_time_format_s(r.revocation.revoked_at, when),
		 hf_path("crl/inter.pem", crl, sizeof(crl)));
	CHECK_STR(detail_of(&r.findings, FINDING_REVOKED), want);
	CHECK(r.revocation.revoked_at > hf_time("2026-01-01T00:00:00"));
	CHECK_INT(r.revocation.status, OCSP_ST_REVOKED);
	CHECK_INT(r.revocation.method, REVO_CRL);
	CHECK_INT(r.revocation.reason, 4);
	CHECK_STR(r.leaf_sha256_hex, hf_fp("a-old.test"));
	CHECK(!r.pending);
	cert_health_close(h);
}

static void test_2018_replay_across_a_restart(void)
{
	struct cert_health *h = NULL;
	struct cert_health_result r;
	char err[256] = "", *out = NULL;
	size_t len = 0;
	FILE *f;

	/* Before the restart: A, then B; nobody has revoked A yet. */
	CHECK_INT(open_health(false, db_path("2018.db"), &h, err, sizeof(err)), 0);
	serve(h, "a.test", "a-old.test", "10.0.0.1", "2026-03-01T00:00:00", &r);
	serve(h, "a.test", "a-new.test", "10.0.0.2", "2026-03-02T00:00:00", &r);
	CHECK_INT(r.findings.n, 0);
	cert_health_close(h);
	/* After it, with the CRL that revokes A: A comes back. */
	CHECK_INT(open_health(true, db_path("2018.db"), &h, err, sizeof(err)), 0);
	serve(h, "a.test", "a-old.test", "10.0.0.1", "2026-03-03T00:00:00", &r);
	want_superseded_by_b(&r);
	CHECK(finding_has(&r.findings, FINDING_REVOKED));
	CHECK_INT(r.findings.n, 2);
	CHECK(!r.new_in_inventory);
	cert_health_close(h);
	f = open_memstream(&out, &len);
	CHECK_INT(cert_health_inventory_dump(db_path("2018.db"), false, f, NULL, err,
					     sizeof(err)), 0);
	fclose(f);
	CHECK(out && strstr(out, "x2  findings superseded,revoked\n") != NULL);
	free(out);
}

static void test_memory_inventory_does_not_survive_a_restart(void)
{
	struct cert_health *h = NULL;
	struct cert_health_result r;
	char err[256] = "";

	CHECK_INT(open_health(false, NULL, &h, err, sizeof(err)), 0);
	serve(h, "a.test", "a-old.test", "10.0.0.1", "2026-03-01T00:00:00", &r);
	serve(h, "a.test", "a-new.test", "10.0.0.2", "2026-03-02T00:00:00", &r);
	cert_health_close(h);
	CHECK_INT(open_health(false, NULL, &h, err, sizeof(err)), 0);
	serve(h, "a.test", "a-old.test", "10.0.0.1", "2026-03-03T00:00:00", &r);
	CHECK(!finding_has(&r.findings, FINDING_SUPERSEDED));
	cert_health_close(h);
}

/* A chain seen without its ClientHello or ServerHello is judged but not
 * filed: a newer leaf seen that way supersedes nothing. */
static void test_unanswered_sighting_is_not_recorded(void)
{
	const struct cert_info *chain[2] = { hf_cert("a-new.test"), hf_cert("inter") };
	struct tw_endpoint server = ep("10.0.0.2", 443);
	struct cert_health_input in = {
		.sni = "a.test", .server = &server, .chain = chain, .n_chain = 2,
		.ts_us = T("2026-03-02T00:00:00"), .unanswered = true,
	};
	struct cert_health *h = NULL;
	struct cert_health_result r;
	struct cert_health_stats st;
	char err[256] = "";

	CHECK_INT(open_health(false, NULL, &h, err, sizeof(err)), 0);
	serve(h, "a.test", "a-old.test", "10.0.0.1", "2026-03-01T00:00:00", &r);
	cert_health_check(h, &in, &r);
	CHECK(!r.new_in_inventory);
	serve(h, "a.test", "a-old.test", "10.0.0.1", "2026-03-03T00:00:00", &r);
	CHECK(!finding_has(&r.findings, FINDING_SUPERSEDED));
	cert_health_stats(h, &st);
	CHECK_INT(st.inventory_unanswered, 1);
	CHECK_INT(st.inventory_refused, 0);
	cert_health_close(h);
}

static void replay_without_db(struct cert_health *h)
{
	struct cert_health_result r;

	serve(h, "a.test", "a-old.test", "10.0.0.1", "2026-03-01T00:00:00", &r);
	serve(h, "a.test", "a-new.test", "10.0.0.2", "2026-03-02T00:00:00", &r);
	serve(h, "a.test", "a-old.test", "10.0.0.1", "2026-03-03T00:00:00", &r);
	want_superseded_by_b(&r);
	CHECK(finding_has(&r.findings, FINDING_REVOKED));
}

static void test_corrupt_database_warns_and_checks_go_on(void)
{
	struct cert_health *h = NULL;
	char err[512] = "", want[512];
	FILE *f = fopen(db_path("junk.db"), "w");
	int i;

	for (i = 0; i < 100; i++)
		fputs("not a database at all, sorry\n", f);
	fclose(f);
	CHECK_INT(open_health(true, db_path("junk.db"), &h, err, sizeof(err)), 1);
	snprintf(want, sizeof(want), "inventory %s: file is not a database; keeping "
		 "the inventory in memory for this run", db_path("junk.db"));
	CHECK_STR(err, want);
	CHECK(h != NULL);
	if (h)
		replay_without_db(h);
	cert_health_close(h);
}

static void test_read_only_database_warns_and_checks_go_on(void)
{
	struct cert_health *h = NULL;
	char err[512] = "", want[512], got[512] = "";
	int fds[2], status = 0;
	pid_t pid;
	ssize_t n;

	CHECK_INT(open_health(false, db_path("ro.db"), &h, err, sizeof(err)), 0);
	cert_health_close(h);
	CHECK_INT(pipe(fds), 0);
	pid = fork();
	if (pid == 0) {
		/* Root writes through file modes: make the directory read-only
		 * in a private mount namespace instead. */
		int rc = -9;

		close(fds[0]);
		if (geteuid() != 0)
			chmod(db_path("ro.db"), 0444);
		else if (unshare(CLONE_NEWNS) ||
			 mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
			 mount(dir, dir, NULL, MS_BIND, NULL) ||
			 mount(NULL, dir, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL))
			_exit(3);
		rc = open_health(true, db_path("ro.db"), &h, err, sizeof(err));
		if (write(fds[1], err, strlen(err) + 1) < 0)
			_exit(4);
		if (rc == 1) {
			replay_without_db(h);
			cert_health_close(h);
			_exit(CHECK_EXIT_CODE());
		}
		_exit(5);
	}
	close(fds[1]);
	n = read(fds[0], got, sizeof(got) - 1);
	got[n > 0 ? n : 0] = 0;
	close(fds[0]);
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status));
	CHECK_INT(WEXITSTATUS(status), 0);
	snprintf(want, sizeof(want), "inventory %s: read-only, cannot record "
		 "certificates in it; keeping the inventory in memory for this run",
		 db_path("ro.db"));
	CHECK_STR(got, want);
	chmod(db_path("ro.db"), 0644);
}

static void test_dual_rsa_and_ecdsa_certificates_are_not_superseded(void)
{
	/* a-old and a-new are both EC: with the key of another algorithm
	 * recorded for the newer one, the older one is not judged "back". */
	struct inventory *inv = NULL;
	struct supersede_verdict v;
	struct tw_endpoint e = ep("10.0.0.1", 443);
	const struct cert_info *a = hf_cert("a-old.test"), *b = hf_cert("a-new.test");
	struct inventory_sighting sb = {
		.name = "a.test", .addr = "10.0.0.1", .port = 443,
		.sha256 = b->sha256_hex, .key = "RSA-2048", .not_before = b->not_before,
		.not_after = b->not_after, .ts_us = T("2026-03-02T00:00:00"),
	};
	char err[256];

	CHECK_STR(a->key, "EC-P256");
	CHECK_INT(inventory_open(NULL, &inv, err, sizeof(err)), 0);
	CHECK_INT(inventory_record(inv, &sb, NULL, err, sizeof(err)), 0);
	CHECK_INT(supersede_judge(inv, "a.test", &e, a, false, NULL, T("2026-03-03T00:00:00"), &v,
				  err, sizeof(err)), 0);
	CHECK(!v.superseded);
	inventory_close(inv);
}

/* --- across key families: dual deployment or rollback */

#define NB_RSA "2025-01-01T00:00:00"     /* the older leaf */
#define NB_EC "2025-06-01T00:00:00"      /* its newer replacement */

/* A leaf as supersede_judge reads it: fingerprint, key, not_before. */
static struct cert_info fake_leaf(char fill, const char *key, const char *nb)
{
	struct cert_info ci;

	memset(&ci, 0, sizeof(ci));
	memset(ci.sha256_hex, fill, 64);
	snprintf(ci.key, sizeof(ci.key), "%s", key);
	ci.not_before = hf_time(nb);
	return ci;
}

static struct key_offer offer(const char *families)
{
	struct key_offer o;

	key_offer_parse(families, &o);
	return o;
}

/* One handshake as the health checker makes it: judged, then recorded
 * with the rollback evidence the verdict asks to keep. */
static void serve_leaf(struct inventory *inv, const struct cert_info *leaf,
		       const char *ip, const char *offered, const char *when,
		       struct supersede_verdict *v)
{
	struct tw_endpoint e = ep(ip, 443);
	struct key_offer o = offer(offered);
	struct inventory_sighting s = {
		.name = "dual.test", .addr = ip, .port = 443, .sha256 = leaf->sha256_hex,
		.key = leaf->key, .not_before = leaf->not_before,
		.not_after = hf_time("2045-01-01T00:00:00"), .ts_us = T(when),
	};
	char err[256];

	CHECK_INT(supersede_judge(inv, "dual.test", &e, leaf, false, &o, T(when), v, err,
				  sizeof(err)), 0);
	s.rollback_us = v->record_rollback ? s.ts_us : 0;
	s.rollback_evidence = v->rollback_text;
	CHECK_INT(inventory_record(inv, &s, NULL, err, sizeof(err)), 0);
}

static struct cert_info dual_rsa, dual_ec;

/* The detail names the ECDSA leaf of dual_history(), then @evidence. */
static void check_dual_detail(const struct supersede_verdict *v, const char *evidence)
{
	char detail[384], want[384];

	supersede_detail(v, "dual.test", detail, sizeof(detail));
	snprintf(want, sizeof(want), "newer certificate %s (not_before 2025-06-01T00:00:00Z) "
		 "was served for dual.test since 2026-03-02T00:00:00.000000Z; key EC-P256, "
		 "evidence %s", dual_ec.sha256_hex, evidence);
	CHECK_STR(detail, want);
}


/* The history every case starts from, in the inventory at @path (NULL: in
 * memory): the RSA leaf served on 10.0.0.1, then the newer ECDSA one. */
static struct inventory *dual_history(const char *path)
{
	struct inventory *inv = NULL;
	struct supersede_verdict v;
	char err[256];

	dual_rsa = fake_leaf('a', "RSA-2048", NB_RSA);
	dual_ec = fake_leaf('b', "EC-P256", NB_EC);
	CHECK_INT(inventory_open(path, &inv, err, sizeof(err)), 0);
	serve_leaf(inv, &dual_rsa, "10.0.0.1", "RSA", "2026-03-01T00:00:00", &v);
	CHECK(!v.superseded);
	serve_leaf(inv, &dual_ec, "10.0.0.1", "EC>RSA", "2026-03-02T00:00:00", &v);
	CHECK(!v.superseded);
	return inv;
}

/* The verdict on one more handshake serving @leaf. */
static struct supersede_verdict then_serve(struct inventory *inv,
					   const struct cert_info *leaf,
					   const char *ip, const char *offered,
					   const char *when)
{
	struct supersede_verdict v;

	serve_leaf(inv, leaf, ip, offered, when, &v);
	return v;
}

static void test_dual_deployment_each_family_to_its_clients_is_not_superseded(void)
{
	struct inventory *inv = dual_history(NULL);

	/* RSA-only clients, and clients that prefer RSA, get the RSA leaf */
	CHECK(!then_serve(inv, &dual_rsa, "10.0.0.1", "RSA", "2026-03-02T00:00:02").superseded);
	CHECK(!then_serve(inv, &dual_rsa, "10.0.0.1", "RSA>EC", "2026-03-02T00:00:03").superseded);
	/* a client without a known offer proves nothing either */
	CHECK(!then_serve(inv, &dual_rsa, "10.0.0.1", "", "2026-03-02T00:00:04").superseded);
	CHECK(!then_serve(inv, &dual_ec, "10.0.0.1", "EC", "2026-03-02T00:00:05").superseded);
	inventory_close(inv);
}

static void test_older_family_served_to_client_preferring_newer_is_client_preferred(void)
{
	struct inventory *inv = dual_history(NULL);
	struct supersede_verdict v;

	v = then_serve(inv, &dual_rsa, "10.0.0.1", "EC>ED25519>RSA", "2026-03-03T00:00:00");
	CHECK(v.superseded);
	CHECK_INT(v.evidence, SUPERSEDE_CLIENT_PREFERRED);
	CHECK(v.record_rollback);
	CHECK_STR(v.newer_sha256, dual_ec.sha256_hex);
	CHECK_STR(v.rollback_text, "client_preferred (offered EC>ED25519>RSA)");
	check_dual_detail(&v, "client_preferred (offered EC>ED25519>RSA)");
	inventory_close(inv);
}

static void test_client_that_offered_only_the_newer_family_is_client_preferred(void)
{
	struct inventory *inv = dual_history(NULL);
	struct supersede_verdict v;

	v = then_serve(inv, &dual_rsa, "10.0.0.1", "EC", "2026-03-03T00:00:00");
	CHECK(v.superseded);
	CHECK_INT(v.evidence, SUPERSEDE_CLIENT_PREFERRED);
	inventory_close(inv);
}

static void test_recorded_rollback_holds_for_every_client_until_newer_is_back(void)
{
	struct inventory *inv = dual_history(NULL);
	struct supersede_verdict v;

	v = then_serve(inv, &dual_rsa, "10.0.0.1", "EC>RSA", "2026-03-03T00:00:00");
	CHECK_INT(v.evidence, SUPERSEDE_CLIENT_PREFERRED);
	/* an RSA-only client proves nothing, but the rollback is recorded */
	v = then_serve(inv, &dual_rsa, "10.0.0.1", "RSA", "2026-03-03T00:00:01");
	CHECK(v.superseded);
	CHECK_INT(v.evidence, SUPERSEDE_ROLLBACK_RECORDED);
	CHECK(!v.record_rollback);
	check_dual_detail(&v, "rollback_recorded (client_preferred (offered EC>RSA) "
			  "at 2026-03-03T00:00:00Z)");
	/* the recorded rollback is per address: another one is judged afresh */
	CHECK(!then_serve(inv, &dual_rsa, "10.0.0.2", "RSA", "2026-03-03T00:00:02").superseded);
	/* the newer leaf is served here again (dual again): RSA-only clients
	 * getting the RSA leaf are no longer a finding */
	then_serve(inv, &dual_ec, "10.0.0.1", "EC>RSA", "2026-03-04T00:00:00");
	CHECK(!then_serve(inv, &dual_rsa, "10.0.0.1", "RSA", "2026-03-04T00:00:01").superseded);
	inventory_close(inv);
}

static void test_recorded_rollback_survives_a_restart(void)
{
	struct inventory *inv = dual_history(db_path("rollback.db"));
	struct supersede_verdict v;
	char err[256];

	v = then_serve(inv, &dual_rsa, "10.0.0.1", "EC>RSA", "2026-03-03T00:00:00");
	CHECK_INT(v.evidence, SUPERSEDE_CLIENT_PREFERRED);
	inventory_close(inv);
	CHECK_INT(inventory_open(db_path("rollback.db"), &inv, err, sizeof(err)), 0);
	v = then_serve(inv, &dual_rsa, "10.0.0.1", "RSA", "2026-03-03T00:00:05");
	CHECK_INT(v.evidence, SUPERSEDE_ROLLBACK_RECORDED);
	CHECK(v.superseded);
	inventory_close(inv);
}

static void test_newer_served_alone_for_a_day_then_older_back_is_newer_alone(void)
{
	struct inventory *inv = dual_history(NULL);
	struct supersede_verdict v;

	then_serve(inv, &dual_ec, "10.0.0.1", "EC>RSA", "2026-03-02T12:00:00");
	/* 23 hours: could still be a dual deployment with rare RSA clients */
	CHECK(!then_serve(inv, &dual_rsa, "10.0.0.2", "RSA", "2026-03-02T23:00:00").superseded);
	inventory_close(inv);

	inv = dual_history(NULL);
	v = then_serve(inv, &dual_rsa, "10.0.0.2", "RSA", "2026-03-03T00:00:00");
	CHECK(v.superseded);
	CHECK_INT(v.evidence, SUPERSEDE_NEWER_ALONE);
	CHECK_STR(v.evidence_text, "older one last served 2026-03-01T00:00:00Z");
	CHECK(v.record_rollback);
	inventory_close(inv);
}

static void test_older_leaf_seen_after_newer_is_not_newer_alone(void)
{
	struct inventory *inv = dual_history(NULL);
	struct supersede_verdict v;
	char err[256];

	/* counted in memory, not written yet: still seen */
	CHECK(!then_serve(inv, &dual_rsa, "10.0.0.1", "RSA", "2026-03-02T01:00:00").superseded);
	CHECK(!then_serve(inv, &dual_rsa, "10.0.0.1", "RSA", "2026-03-03T00:30:00").superseded);
	inventory_close(inv);

	/* never served before the newer one (an RSA leaf added beside it
	 * later): not a replacement coming back */
	CHECK_INT(inventory_open(NULL, &inv, err, sizeof(err)), 0);
	serve_leaf(inv, &dual_ec, "10.0.0.1", "EC>RSA", "2026-03-02T00:00:00", &v);
	CHECK(!then_serve(inv, &dual_rsa, "10.0.0.1", "RSA", "2026-03-05T00:00:00").superseded);
	inventory_close(inv);
}

int main(void)
{
	char cmd[128];

	hf_pki();
	if (!hf_tmpdir(dir, sizeof(dir))) {
		printf("not ok - mkdtemp\n");
		return 1;
	}
	RUN_TEST(test_judge_needs_a_newer_leaf_already_served);
	RUN_TEST(test_normal_rotation_is_not_a_finding);
	RUN_TEST(test_name_case_does_not_hide_superseded);
	RUN_TEST(test_trailing_dot_does_not_hide_superseded);
	RUN_TEST(test_dot_is_not_the_name_without_sni);
	RUN_TEST(test_result_keeps_the_sni_bytes);
	RUN_TEST(test_2018_old_certificate_back_is_superseded_and_revoked);
	RUN_TEST(test_2018_replay_across_a_restart);
	RUN_TEST(test_memory_inventory_does_not_survive_a_restart);
	RUN_TEST(test_unanswered_sighting_is_not_recorded);
	RUN_TEST(test_corrupt_database_warns_and_checks_go_on);
	RUN_TEST(test_read_only_database_warns_and_checks_go_on);
	RUN_TEST(test_dual_rsa_and_ecdsa_certificates_are_not_superseded);
	RUN_TEST(test_dual_deployment_each_family_to_its_clients_is_not_superseded);
	RUN_TEST(test_older_family_served_to_client_preferring_newer_is_client_preferred);
	RUN_TEST(test_client_that_offered_only_the_newer_family_is_client_preferred);
	RUN_TEST(test_recorded_rollback_holds_for_every_client_until_newer_is_back);
	RUN_TEST(test_recorded_rollback_survives_a_restart);
	RUN_TEST(test_newer_served_alone_for_a_day_then_older_back_is_newer_alone);
	RUN_TEST(test_older_leaf_seen_after_newer_is_not_newer_alone);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	hf_sh(cmd);
	hf_cleanup();
	return CHECK_EXIT_CODE();
}
