// SPDX-License-Identifier: MIT
/* The event history in the inventory's file: what the agent writes a
 * second at a time reads back as the aggregates of the same events; the
 * schema migrates from version 2; rows older than the bound go. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "check.h"
#include "common/strmap.h"
#include "db_peek.h"
#include "detect/spike.h"
#include "health_fixture.h"
#include "html_page.h"
#include "inventory/inventory.h"
#include "sink/history_store.h"
#include "sink/html_report.h"

#define T0_S 1767225600ull                  /* 2026-01-01T00:00:00Z */
#define US 1000000ull
#define JA4_CRL "t12d020700_b06afd972a5c_e7e480e5a997"
#define JA4_OTHER "t13d1516h2_8daaf6152771_02713d6af862"

static char dir[64];

static char *db_path(const char *name)
{
	static char p[128];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return p;
}

/* --- events, fed to the reference aggregate and to the one-second one */

struct feed {
	struct html_agg *ref;          /* what analyze --html would hold */
	struct html_agg *second;       /* what the history sink holds */
	struct inventory *inv;
	struct history_store *st;
	uint64_t keep_s;
	int writes_failed;
};

static struct cert_info cert_b, cert_a;
static char issuer[] = "CN=Test Intermediate";

static struct cert_info fake_cert(char digit, char *subject, char *serial)
{
	struct cert_info ci;

	memset(&ci, 0, sizeof(ci));
	memset(ci.sha256_hex, digit, 64);
	ci.subject = subject;
	ci.issuer = issuer;
	ci.serial_hex = serial;
	snprintf(ci.key, sizeof(ci.key), "EC-P256");
	ci.not_before = 1735689600;
	ci.not_after = 1798761600;
	return ci;
}

static void feed_open(struct feed *f, const char *path)
{
	char err[256] = "";

	CHECK_INT(inventory_open(path, &f->inv, err, sizeof(err)), 0);
	CHECK_INT(history_store_open(inventory_sqlite(f->inv), &f->st, err, sizeof(err)), 0);
	if (err[0])
		printf("# %s\n", err);
}

static void feed_close(struct feed *f)
{
	history_store_close(f->st);
	inventory_close(f->inv);
	f->st = NULL;
	f->inv = NULL;
}

/* The sink's tick: the second written, then emptied. */
static void feed_write(struct feed *f)
{
	char err[256] = "";

	if (history_store_write(f->st, f->second, f->keep_s, err, sizeof(err))) {
		printf("# write: %s\n", err);
		f->writes_failed++;
	}
	html_agg_reset(f->second);
}

static void feed_hs(struct feed *f, const char *sni, uint64_t ts_us,
		    enum hs_outcome outcome, const struct cert_info *leaf,
		    const char *ja4, int alert)
{
	struct hs_record rec;
	struct hs_view v;

	memset(&v, 0, sizeof(v));
	hs_record_init(&rec);
	rec.has_sni = sni[0] != '\0';
	rec.sni_len = (uint16_t)strlen(sni);
	memcpy(rec.sni, sni, rec.sni_len);
	rec.end_us = ts_us;
	rec.outcome = outcome;
	rec.server.addr.family = 4;
	memcpy(rec.server.addr.bytes, "\x0a\x00\x00\x02", 4);
	rec.server.port = 443;
	snprintf(rec.ja4, sizeof(rec.ja4), "%s", ja4);
	if (alert >= 0) {
		rec.n_alerts = 1;
		rec.alerts[0].from_client = true;
		rec.alerts[0].encrypted = alert == 256;
		rec.alerts[0].description = (uint8_t)alert;
	}
	v.rec = &rec;
	v.n_chain = leaf ? 1 : 0;
	v.chain[0] = leaf;
	if (leaf == &cert_a)
		finding_add(&v.findings, FINDING_SUPERSEDED, "B is newer");
	html_agg_handshake(f->ref, &v);
	html_agg_handshake(f->second, &v);
}

/* A handshake of @sni that showed no certificate: TLS @version, resumed,
 * or a chain not read (@chain_error, @chain_bytes declared); served by
 * 10.0.0.2, or 10.0.0.3 when the microsecond of @ts_us is odd. */
static void feed_no_cert(struct feed *f, const char *sni, uint64_t ts_us,
			 uint16_t version, bool resumed, int chain_error,
			 uint32_t chain_bytes)
{
	struct hs_record rec;
	struct hs_view v;

	memset(&v, 0, sizeof(v));
	hs_record_init(&rec);
	rec.has_sni = true;
	rec.sni_len = (uint16_t)strlen(sni);
	memcpy(rec.sni, sni, rec.sni_len);
	rec.end_us = ts_us;
	rec.outcome = HS_OK;
	rec.has_server_hello = true;
	rec.version = version;
	rec.resumed = resumed;
	rec.chain_error = chain_error;
	rec.chain_bytes = chain_bytes;
	rec.server.addr.family = 4;
	memcpy(rec.server.addr.bytes, ts_us & 1 ? "\x0a\x00\x00\x03" : "\x0a\x00\x00\x02", 4);
	rec.server.port = 443;
	v.rec = &rec;
	html_agg_handshake(f->ref, &v);
	html_agg_handshake(f->second, &v);
}

static void feed_cert_revoked(struct feed *f)
{
	const struct cert_info *chain[1] = { &cert_a };
	struct finding_list fl;
	struct cert_view v = { .n_chain = 1, .chain = chain, .findings = &fl };

	memset(&fl, 0, sizeof(fl));
	finding_add(&fl, FINDING_REVOKED, "CRL of Test Intermediate");
	html_agg_cert(f->ref, &v);
	html_agg_cert(f->second, &v);
}

static void feed_spike(struct feed *f, enum spike_state state, uint64_t ts_us,
		       bool baseline)
{
	struct spike_event ev = {
		.state = state, .kind = SPIKE_SCOPE_CERT, .key = cert_a.sha256_hex,
		.ts_us = ts_us, .window_s = 5, .handshakes = 9, .failures = 8,
		.aborted = 1, .rate = 8.0 / 9, .has_baseline = baseline,
		.baseline_rate = 0.015625, .started_us = T0_S * US + 3 * US,
		.n_alerts = 1, .n_snis = 1, .n_certs = 1, .n_clients = 1,
		.n_cert_findings = 1,
		.top_alerts = { { "certificate_revoked", "client", 8 } },
		.top_snis = { { "a.test", NULL, 8 } },
		.top_certs = { { cert_a.sha256_hex, NULL, 8 } },
		.top_clients = { { JA4_CRL, NULL, 7 } },
		.cert_findings = { { cert_a.sha256_hex, "revoked,superseded" } },
	};

	html_agg_spike(f->ref, &ev);
	html_agg_spike(f->second, &ev);
}

/*
 * The 2018 picture, a write a second: a.test serves B (s 0-2), then A
 * (s 3-7: CRL-checking clients fail with certificate_revoked), then B
 * (s 8-11); b.test (TLS 1.3, no certificate visible) fails once with an
 * encrypted alert; a spike on A fires and resolves. The agent restarts
 * after second 9 (a new connection, the periods it followed forgotten).
 */
static void feed_2018(struct feed *f, const char *path)
{
	uint64_t s;
	int i;

	feed_open(f, path);
	for (s = 0; s < 12; s++) {
		uint64_t t = (T0_S + s) * US;
		bool a = s >= 3 && s <= 7;

		for (i = 0; i < 3; i++)
			feed_hs(f, "a.test", t + (uint64_t)i * 1000, a && i ? HS_FAILED : HS_OK,
				a ? &cert_a : &cert_b, i == 2 ? JA4_OTHER : JA4_CRL,
				a && i ? 44 : -1);
		if (s == 4)
			feed_cert_revoked(f);
		if (s == 5) {
			feed_hs(f, "b.test", t + 5000, HS_FAILED, NULL, JA4_OTHER, 256);
			feed_hs(f, "b.test", t + 6000, HS_INCOMPLETE, NULL, JA4_OTHER, -1);
		}
		if (s == 6)
			feed_spike(f, SPIKE_FIRING, t + 7000, true);
		if (s == 10)
			feed_spike(f, SPIKE_RESOLVED, t + 7000, false);
		feed_write(f);
		if (s == 9) {
			feed_close(f);
			feed_open(f, path);
		}
	}
	feed_close(f);
}

/* --- comparing aggregates */

static void check_same_cert(const struct html_cert *x, const struct html_cert *y)
{
	int i;

	CHECK_STR(x->sha256, y->sha256);
	CHECK_STR(x->subject, y->subject);
	CHECK_STR(x->issuer, y->issuer);
	CHECK_STR(x->serial, y->serial);
	CHECK_STR(x->key, y->key);
	CHECK_INT(x->not_before, y->not_before);
	CHECK_INT(x->not_after, y->not_after);
	CHECK_INT(x->handshakes, y->handshakes);
	CHECK_INT(x->failures, y->failures);
	CHECK_INT(x->n_findings, y->n_findings);
	for (i = 0; i < x->n_findings && i < y->n_findings; i++) {
		CHECK_INT(x->findings[i].kind, y->findings[i].kind);
		CHECK_STR(x->findings[i].detail, y->findings[i].detail);
	}
}

static void check_same_name(const struct html_name *x, const struct html_name *y)
{
	int i;

	CHECK_INT(x->sni_len, y->sni_len);
	CHECK(!memcmp(x->sni, y->sni, x->sni_len));
	CHECK_INT(x->handshakes, y->handshakes);
	for (i = 0; i < HS_OUTCOME__COUNT; i++)
		CHECK_INT(x->outcomes[i], y->outcomes[i]);
	CHECK_INT(x->n_servers, y->n_servers);
	for (i = 0; i < x->n_servers && i < y->n_servers; i++)
		CHECK_STR(x->servers[i], y->servers[i]);
	CHECK_INT(x->no_cert.resumed, y->no_cert.resumed);
	CHECK_INT(x->no_cert.tls13, y->no_cert.tls13);
	CHECK_INT(x->no_cert.too_large, y->no_cert.too_large);
	CHECK_INT(x->no_cert.truncated, y->no_cert.truncated);
	CHECK_INT(x->no_cert.largest_chain, y->no_cert.largest_chain);
	CHECK_INT(x->n_runs, y->n_runs);
	for (i = 0; i < x->n_runs && i < y->n_runs; i++) {
		CHECK_INT(x->runs[i].cert, y->runs[i].cert);
		CHECK_INT(x->runs[i].server, y->runs[i].server);
		CHECK_INT(x->runs[i].first_us, y->runs[i].first_us);
		CHECK_INT(x->runs[i].last_us, y->runs[i].last_us);
		CHECK_INT(x->runs[i].handshakes, y->runs[i].handshakes);
		CHECK_INT(x->runs[i].failures, y->runs[i].failures);
		CHECK_INT(x->runs[i].findings, y->runs[i].findings);
	}
}

static void check_same_top(const struct html_top *x, const struct html_top *y)
{
	CHECK_STR(x->key, y->key);
	CHECK_STR(x->from, y->from);
	CHECK_INT(x->count, y->count);
}

static void check_same_spike(const struct html_spike *x, const struct html_spike *y)
{
	CHECK_INT(x->state, y->state);
	CHECK_INT(x->kind, y->kind);
	CHECK_STR(x->key, y->key);
	CHECK_INT(x->ts_us, y->ts_us);
	CHECK_INT(x->started_us, y->started_us);
	CHECK_INT(x->window_s, y->window_s);
	CHECK_INT(x->handshakes, y->handshakes);
	CHECK_INT(x->failures, y->failures);
	CHECK_INT(x->aborted, y->aborted);
	CHECK(x->rate == y->rate);
	CHECK_INT(x->has_baseline, y->has_baseline);
	CHECK(!x->has_baseline || x->baseline_rate == y->baseline_rate);
	check_same_top(&x->alert, &y->alert);
	check_same_top(&x->sni, &y->sni);
	check_same_top(&x->cert, &y->cert);
	check_same_top(&x->client, &y->client);
	CHECK_STR(x->cert_findings, y->cert_findings);
}

static void check_same_clients(const struct html_agg *x, const struct html_agg *y)
{
	const struct html_client *cx, *cy;
	const char *key;
	size_t i, len;
	void *v;

	CHECK_INT(strmap_count(x->clients), strmap_count(y->clients));
	for (i = 0; strmap_at(x->clients, i, &key, &len, &v); i++) {
		cx = v;
		cy = strmap_get(y->clients, key, len);
		CHECK(cy != NULL);
		if (!cy)
			continue;
		CHECK_INT(cx->handshakes, cy->handshakes);
		CHECK_INT(cx->failures, cy->failures);
	}
}

static void check_same_agg(const struct html_agg *x, const struct html_agg *y)
{
	int i;

	CHECK_INT(x->tl.start_s, y->tl.start_s);
	CHECK_INT(x->tl.width_s, y->tl.width_s);
	CHECK_INT(x->tl.n, y->tl.n);
	CHECK(!memcmp(x->tl.b, y->tl.b, sizeof(x->tl.b)));
	CHECK_INT(x->n_certs, y->n_certs);
	for (i = 0; i < x->n_certs && i < y->n_certs; i++)
		check_same_cert(&x->certs[i], &y->certs[i]);
	CHECK_INT(x->n_names, y->n_names);
	for (i = 0; i < x->n_names && i < y->n_names; i++)
		check_same_name(&x->names[i], &y->names[i]);
	CHECK_INT(x->n_spikes, y->n_spikes);
	for (i = 0; i < x->n_spikes && i < y->n_spikes; i++)
		check_same_spike(&x->spikes[i], &y->spikes[i]);
	CHECK(!memcmp(x->alerts, y->alerts, sizeof(x->alerts)));
	CHECK_INT(x->encrypted_alerts[0], y->encrypted_alerts[0]);
	CHECK_INT(x->encrypted_alerts[1], y->encrypted_alerts[1]);
	check_same_clients(x, y);
}

/* What load() reads: everything unless a test narrows it. */
static struct history_window window = { .until_us = UINT64_MAX };

static int64_t load(const char *path, struct html_agg *a)
{
	struct inventory *inv = NULL;
	char err[256] = "";
	int64_t rows = -1;

	if (inventory_open_readonly(path, &inv, err, sizeof(err)) == 0)
		rows = history_store_load(inventory_sqlite(inv), inventory_version(inv),
					  &window, a, err, sizeof(err));
	if (err[0])
		printf("# load: %s\n", err);
	inventory_close(inv);
	return rows;
}

/* --- tests */

static void test_rows_read_back_as_the_aggregates_of_the_events(void)
{
	struct feed f = { .keep_s = HISTORY_KEEP_S };
	struct html_agg *back = html_agg_new();

	f.ref = html_agg_new();
	f.second = html_agg_new();
	CHECK(f.ref && f.second && back);
	feed_2018(&f, db_path("2018.db"));
	CHECK_INT(f.writes_failed, 0);
	/* 12 timeline rows, 4 period rows (B, A, B, and B again after the
	 * restart: the report joins it to the one before), 2 spike rows. */
	CHECK_INT(load(db_path("2018.db"), back), 12 + 4 + 2);
	CHECK_INT(back->from_history, 1);
	check_same_agg(f.ref, back);
	/* The exact picture, not only the same one. */
	CHECK_INT(back->names[0].n_runs, 3);
	CHECK_INT(back->names[0].runs[1].cert, 1);
	CHECK_INT(back->names[0].runs[1].handshakes, 15);
	CHECK_INT(back->names[0].runs[1].failures, 10);
	CHECK_INT(back->names[0].runs[2].first_us, (T0_S + 8) * US);
	CHECK_INT(back->names[0].runs[2].last_us, (T0_S + 11) * US + 2000);
	CHECK_INT(back->certs[1].n_findings, 2);
	CHECK_INT(back->alerts[1][44], 10);
	CHECK_INT(back->encrypted_alerts[1], 1);
	CHECK_INT(back->sum.handshakes, 38);
	CHECK_INT(back->sum.outcomes[HS_FAILED], 11);
	CHECK_INT(back->sum.outcomes[HS_INCOMPLETE], 1);
	CHECK_INT(back->sum.spikes, 1);
	html_agg_free(back);
	html_agg_free(f.ref);
	html_agg_free(f.second);
}

/* Why a name's handshakes showed no certificate is kept per minute: read
 * back summed over the seconds written (the largest chain the largest)
 * and its two servers' rows (the counts are the name's, in one row), and
 * the page from the history says each reason as a capture's does. */
static void test_no_certificate_reasons_are_kept(void)
{
	struct feed f = { .keep_s = HISTORY_KEEP_S };
	struct html_agg *back = html_agg_new();
	const struct no_cert_counts *nc;
	char *page;

	f.ref = html_agg_new();
	f.second = html_agg_new();
	CHECK(f.ref && f.second && back);
	feed_open(&f, db_path("no_cert.db"));
	feed_no_cert(&f, "hidden.test", T0_S * US, 0x0304, false, 0, 0);
	feed_no_cert(&f, "hidden.test", T0_S * US + 11, 0x0303, true, 0, 0);
	feed_no_cert(&f, "hidden.test", T0_S * US + 20, 0x0303, false,
		     HS_CHAIN_TOO_LARGE, 300000);
	feed_write(&f);
	feed_no_cert(&f, "hidden.test", (T0_S + 1) * US, 0x0304, false, 0, 0);
	feed_no_cert(&f, "hidden.test", (T0_S + 1) * US + 11, 0x0303, false,
		     HS_CHAIN_TRUNCATED, 5000);
	feed_write(&f);
	feed_close(&f);
	CHECK_INT(load(db_path("no_cert.db"), back), 2);
	CHECK_INT(back->n_names, 1);
	CHECK_INT(back->names[0].n_servers, 2);
	check_same_agg(f.ref, back);
	nc = &back->names[0].no_cert;
	CHECK_INT(nc->tls13, 2);
	CHECK_INT(nc->resumed, 1);
	CHECK_INT(nc->too_large, 1);
	CHECK_INT(nc->truncated, 1);
	CHECK_INT(nc->largest_chain, 300000);
	page = html_page(back);
	CHECK(page && strstr(page, "Certificate not visible on 2 TLS 1.3 handshakes (encrypted).") != NULL);
	CHECK(page && strstr(page, "Certificate not sent on 1 resumed handshake") != NULL);
	CHECK(page && strstr(page, "1 too large (over 256 KiB), 1 truncated (cut before its end); up to 300000 bytes.") != NULL);
	CHECK(page && !strstr(page, "TLS 1.3, or no Certificate message"));
	free(page);
	html_agg_free(back);
	html_agg_free(f.ref);
	html_agg_free(f.second);
}

/*
 * Host names are case-insensitive (RFC 4343): the spellings of one name
 * are one name of the page, shown as first seen. The agent writes every
 * row of a name under the spelling it first wrote (a.test's period is one
 * row through A.test and A.TEST.; b.test's minute one row through
 * B.TEST.); rows of other spellings (after a restart here, or of a
 * tlswatch before this one) are joined to it when read.
 */
static void test_a_name_in_any_case_is_one_name(void)
{
	struct feed f = { .keep_s = HISTORY_KEEP_S };
	struct html_agg *back = html_agg_new();
	const char *p = db_path("case.db");

	f.ref = html_agg_new();
	f.second = html_agg_new();
	CHECK(f.ref && f.second && back);
	feed_open(&f, p);
	feed_hs(&f, "a.test", T0_S * US, HS_OK, &cert_b, JA4_CRL, -1);
	feed_write(&f);
	feed_hs(&f, "A.test", (T0_S + 1) * US, HS_OK, &cert_b, JA4_CRL, -1);
	feed_no_cert(&f, "b.test", (T0_S + 1) * US + 2, 0x0304, false, 0, 0);
	feed_write(&f);
	feed_no_cert(&f, "B.TEST.", (T0_S + 2) * US, 0x0304, false, 0, 0);
	feed_hs(&f, "A.TEST.", (T0_S + 2) * US + 2, HS_FAILED, &cert_b, JA4_CRL, -1);
	feed_write(&f);
	feed_close(&f);
	feed_open(&f, p);
	feed_hs(&f, "A.Test", (T0_S + 3) * US, HS_OK, &cert_b, JA4_CRL, -1);
	feed_write(&f);
	feed_close(&f);
	CHECK_INT(db_peek(p, "SELECT count(*) FROM history_name"), 3);
	CHECK_INT(db_peek(p, "SELECT count(*) FROM history_period"), 2);
	CHECK_INT(db_peek(p, "SELECT count(*) FROM history_name WHERE name = CAST('b.test' AS BLOB)"), 1);
	CHECK_INT(load(p, back), 4 + 2);
	CHECK_INT(back->n_names, 2);
	CHECK_INT(back->names[0].sni_len, 6);
	CHECK(!memcmp(back->names[0].sni, "a.test", 6));
	CHECK_INT(back->names[0].handshakes, 4);
	CHECK_INT(back->names[0].outcomes[HS_FAILED], 1);
	CHECK_INT(back->names[0].n_runs, 1);
	CHECK_INT(back->names[0].runs[0].handshakes, 4);
	CHECK_INT(back->names[0].runs[0].first_us, T0_S * US);
	CHECK_INT(back->names[0].runs[0].last_us, (T0_S + 3) * US);
	CHECK_INT(back->names[1].sni_len, 6);
	CHECK(!memcmp(back->names[1].sni, "b.test", 6));
	CHECK_INT(back->names[1].handshakes, 2);
	CHECK_INT(back->names[1].no_cert.tls13, 2);
	check_same_agg(f.ref, back);
	html_agg_free(back);
	html_agg_free(f.ref);
	html_agg_free(f.second);
}

/* A file of schema 4 (an agent not yet restarted on this version, or a
 * copy) is read as it is, opened read-only: its names without reasons,
 * and the page says the general words for them. */
static void test_a_version_4_history_is_read_without_reasons(void)
{
	struct feed f = { .keep_s = HISTORY_KEEP_S };
	struct html_agg *back = html_agg_new();
	const char *p = db_path("v4.db");
	sqlite3 *db;
	char *page;

	f.ref = html_agg_new();
	f.second = html_agg_new();
	CHECK(f.ref && f.second && back);
	feed_open(&f, p);
	feed_no_cert(&f, "hidden.test", T0_S * US, 0x0304, false, 0, 0);
	feed_write(&f);
	feed_close(&f);
	/* what the file was before this version */
	CHECK_INT(sqlite3_open(p, &db), SQLITE_OK);
	CHECK_INT(sqlite3_exec(db,
		"ALTER TABLE history_name DROP COLUMN no_cert_resumed;"
		"ALTER TABLE history_name DROP COLUMN no_cert_tls13;"
		"ALTER TABLE history_name DROP COLUMN no_cert_too_large;"
		"ALTER TABLE history_name DROP COLUMN no_cert_truncated;"
		"ALTER TABLE history_name DROP COLUMN largest_chain;"
		"PRAGMA user_version = 4;", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	CHECK_INT(load(p, back), 1);
	CHECK_INT(back->n_names, 1);
	CHECK_INT(back->names[0].outcomes[HS_OK], 1);
	CHECK_INT(back->names[0].no_cert.tls13, 0);
	CHECK_INT(db_peek(p, "PRAGMA user_version"), 4);   /* not migrated */
	page = html_page(back);
	CHECK(page && strstr(page, "Certificate not visible (TLS 1.3, or no Certificate message).") != NULL);
	free(page);
	html_agg_free(back);
	html_agg_free(f.ref);
	html_agg_free(f.second);
}

/* One period of B across the restart is two rows, the report one run. */
static void test_a_period_across_a_restart_is_joined(void)
{
	CHECK_INT(db_peek(db_path("2018.db"),
			  "SELECT count(*) FROM history_period WHERE first_us >= "
			  "1767225608000000"), 2);
	CHECK_INT(db_peek(db_path("2018.db"),
			  "SELECT sum(handshakes) FROM history_period WHERE first_us >= "
			  "1767225608000000"), 12);
}

static void test_rows_older_than_the_bound_are_deleted(void)
{
	struct feed f = { .keep_s = HISTORY_KEEP_S };
	struct html_agg *back = html_agg_new();
	const char *p = db_path("bound.db");
	uint64_t later = (T0_S + HISTORY_KEEP_S + 2) * US;

	f.ref = html_agg_new();
	f.second = html_agg_new();
	CHECK(f.ref && f.second && back);
	feed_2018(&f, p);
	CHECK_INT(db_peek(p, "SELECT count(*) FROM history_second"), 12);
	feed_open(&f, p);
	/* 24 h and 2 s after the first second: seconds 0 and 1 are past the
	 * bound; the first period of B ended in second 2: it stays. */
	feed_hs(&f, "c.test", later, HS_OK, &cert_b, JA4_CRL, -1);
	feed_write(&f);
	feed_close(&f);
	CHECK_INT(db_peek(p, "SELECT count(*) FROM history_second"), 11);
	CHECK_INT(db_peek(p, "SELECT min(second) FROM history_second"), T0_S + 2);
	CHECK_INT(db_peek(p, "SELECT count(*) FROM history_period"), 5);
	/* An hour later, everything of the first day is gone. */
	feed_open(&f, p);
	feed_hs(&f, "c.test", later + 3600 * US, HS_OK, &cert_b, JA4_CRL, -1);
	feed_write(&f);
	feed_close(&f);
	CHECK_INT(db_peek(p, "SELECT count(*) FROM history_second"), 2);
	CHECK_INT(db_peek(p, "SELECT count(*) FROM history_period"), 2);
	CHECK_INT(db_peek(p, "SELECT count(*) FROM history_spike"), 0);
	CHECK_INT(db_peek(p, "SELECT count(*) FROM history_name"), 2);
	CHECK_INT(db_peek(p, "SELECT count(*) FROM history_alert"), 0);
	CHECK_INT(db_peek(p, "SELECT count(*) FROM history_client"), 2);
	CHECK_INT(db_peek(p, "SELECT count(*) FROM history_cert"), 1);
	CHECK_INT(db_peek(p, "SELECT count(*) FROM history_finding"), 0);
	CHECK_INT(db_peek(p, "SELECT count(*) FROM history_leaf"), 2);
	CHECK_INT(load(p, back), 2 + 2);
	CHECK_INT(back->n_certs, 1);
	html_agg_free(back);
	html_agg_free(f.ref);
	html_agg_free(f.second);
}

/* A period that started more than the bound ago and still goes on stays. */
static void test_an_ongoing_period_outlives_the_bound(void)
{
	struct feed f = { .keep_s = 60 };
	const char *p = db_path("ongoing.db");
	int m;

	f.ref = html_agg_new();
	f.second = html_agg_new();
	CHECK(f.ref && f.second);
	feed_open(&f, p);
	for (m = 0; m <= 3; m++) {
		feed_hs(&f, "a.test", (T0_S + (uint64_t)m * 60) * US, HS_OK, &cert_b,
			JA4_CRL, -1);
		feed_write(&f);
	}
	feed_close(&f);
	CHECK_INT(db_peek(p, "SELECT count(*) FROM history_period"), 1);
	CHECK_INT(db_peek(p, "SELECT first_us FROM history_period"), T0_S * US);
	CHECK_INT(db_peek(p, "SELECT handshakes FROM history_period"), 4);
	CHECK_INT(db_peek(p, "SELECT count(*) FROM history_second"), 2);
	html_agg_free(f.ref);
	html_agg_free(f.second);
}

/* report --db adds the inventory's latest findings: new kinds, without
 * wiping the details the history has. */
static void test_inventory_findings_keep_the_history_details(void)
{
	struct html_agg *a = html_agg_new();
	int c;

	CHECK(a);
	CHECK_INT(load(db_path("2018.db"), a), 12 + 4 + 2);
	c = html_agg_find_cert(a, cert_a.sha256_hex);
	CHECK_INT(c, 1);
	html_agg_inventory_findings(a, cert_a.sha256_hex, "revoked,superseded,expired");
	CHECK_INT(a->certs[c].n_findings, 3);
	CHECK_INT(a->certs[c].findings[0].kind, FINDING_SUPERSEDED);
	CHECK_STR(a->certs[c].findings[0].detail, "B is newer");
	CHECK_INT(a->certs[c].findings[1].kind, FINDING_REVOKED);
	CHECK_STR(a->certs[c].findings[1].detail, "CRL of Test Intermediate");
	CHECK_INT(a->certs[c].findings[2].kind, FINDING_EXPIRED);
	CHECK_STR(a->certs[c].findings[2].detail, "");
	html_agg_free(a);
}

/* --since/--until: seconds and spike events inside the window, serving
 * periods that overlap it, the minutes it touches whole. */
static void test_a_window_reads_its_seconds_and_the_periods_over_it(void)
{
	struct html_agg *a = html_agg_new();

	CHECK(a);
	window.since_us = (T0_S + 3) * US;
	window.until_us = (T0_S + 7) * US + 999999;
	/* seconds 3-7, A's period, the spike that fired in second 6 */
	CHECK_INT(load(db_path("2018.db"), a), 5 + 1 + 1);
	window = (struct history_window){ .until_us = UINT64_MAX };
	CHECK_INT(a->tl.start_s, T0_S + 3);
	CHECK_INT(a->tl.n, 5);
	CHECK_INT(a->tl.b[0].handshakes + a->tl.b[1].handshakes + a->tl.b[2].handshakes +
		  a->tl.b[3].handshakes + a->tl.b[4].handshakes, 15 + 1);
	CHECK_INT(a->tl.b[2].failures, 2 + 1);
	CHECK_INT(a->names[0].n_runs, 1);
	CHECK_STR(a->certs[a->names[0].runs[0].cert].sha256, cert_a.sha256_hex);
	CHECK_INT(a->names[0].runs[0].handshakes, 15);
	CHECK_INT(a->n_spikes, 1);
	CHECK_INT(a->spikes[0].state, SPIKE_FIRING);
	/* The one minute of the scenario counts whole. */
	CHECK_INT(a->sum.handshakes, 38);
	html_agg_free(a);
}

/* A window that starts while a spike fires: its episode is in it (it
 * resolved inside; the resolution alone was no row of the page). */
static void test_a_window_keeps_the_episode_going_on_at_its_start(void)
{
	struct html_agg *a = html_agg_new();

	CHECK(a);
	window.since_us = (T0_S + 8) * US;
	window.until_us = (T0_S + 11) * US + 999999;
	CHECK(load(db_path("2018.db"), a) > 0);
	window = (struct history_window){ .until_us = UINT64_MAX };
	CHECK_INT(a->n_spikes, 2);
	CHECK_INT(a->spikes[0].state, SPIKE_FIRING);
	CHECK_INT(a->spikes[0].ts_us, (T0_S + 6) * US + 7000);
	CHECK_INT(a->spikes[1].state, SPIKE_RESOLVED);
	html_agg_free(a);
}

/* A window that ends before a certificate was first served does not list
 * it (A was served from second 3 on). */
static void test_a_window_leaves_out_certificates_served_after_it(void)
{
	struct html_agg *a = html_agg_new();

	CHECK(a);
	window.until_us = (T0_S + 2) * US + 999999;
	CHECK(load(db_path("2018.db"), a) > 0);
	window = (struct history_window){ .until_us = UINT64_MAX };
	CHECK_INT(a->n_certs, 1);
	CHECK_STR(a->certs[0].sha256, cert_b.sha256_hex);
	html_agg_free(a);
}

/* --until 1970-01-01T00:00:00Z is a bound like any other (0 was taken
 * for "no bound"): nothing was written before it. */
static void test_a_window_up_to_the_epoch_reads_nothing(void)
{
	struct html_agg *a = html_agg_new();

	CHECK(a);
	window.until_us = 0;
	CHECK_INT(load(db_path("2018.db"), a), 0);
	window.until_us = UINT64_MAX;
	CHECK_INT(load(db_path("2018.db"), a) > 0, 1);
	html_agg_free(a);
}

/* A second with more names than the report lists: the first ones in
 * detail, the others counted, on the page and in the overview's total. */
static void test_names_beyond_a_seconds_bound_are_counted(void)
{
	struct feed f = { .keep_s = HISTORY_KEEP_S };
	struct html_agg *back = html_agg_new();
	const char *p = db_path("names.db");
	char name[32];
	int i;

	f.ref = html_agg_new();
	f.second = html_agg_new();
	CHECK(f.ref && f.second && back);
	feed_open(&f, p);
	/* the 8 names past the bound: 5 failed, 2 aborted, 1 incomplete */
	for (i = 0; i < HTML_MAX_NAMES + 8; i++) {
		enum hs_outcome o = i < HTML_MAX_NAMES ? HS_OK :
				    i < HTML_MAX_NAMES + 5 ? HS_FAILED :
				    i < HTML_MAX_NAMES + 7 ? HS_ABORTED : HS_INCOMPLETE;

		snprintf(name, sizeof(name), "n%02d.test", i);
		feed_hs(&f, name, T0_S * US + (uint64_t)i, o, &cert_b, JA4_CRL, -1);
	}
	feed_write(&f);
	feed_close(&f);
	CHECK_INT(load(p, back), 1 + HTML_MAX_NAMES);
	CHECK_INT(back->n_names, HTML_MAX_NAMES);
	CHECK_INT(back->other_names_handshakes, 8);
	CHECK_INT(back->sum.handshakes, HTML_MAX_NAMES + 8);
	/* the overview's outcomes add up to its handshakes */
	CHECK_INT(back->sum.outcomes[HS_OK], HTML_MAX_NAMES);
	CHECK_INT(back->sum.outcomes[HS_FAILED], 5);
	CHECK_INT(back->sum.outcomes[HS_ABORTED], 2);
	CHECK_INT(back->sum.outcomes[HS_INCOMPLETE], 1);
	CHECK_INT(back->other_names_outcomes[HS_FAILED], 5);
	CHECK_INT(back->tl.b[0].handshakes, HTML_MAX_NAMES + 7);   /* ended */
	CHECK_INT(back->tl.b[0].failures, 7);
	CHECK_INT(back->certs[0].handshakes, HTML_MAX_NAMES + 8);
	html_agg_free(back);
	html_agg_free(f.ref);
	html_agg_free(f.second);
}

/* A version 2 file, as the tlswatch before the history wrote it. */
static void make_v2(const char *path)
{
	sqlite3 *db = NULL;

	CHECK_INT(sqlite3_open(path, &db), SQLITE_OK);
	CHECK_INT(sqlite3_exec(db,
		DB_INVENTORY_V1_SCHEMA
		"ALTER TABLE served ADD COLUMN key TEXT NOT NULL DEFAULT '';"
		"CREATE INDEX served_by_name ON served (name, not_before);"
		"INSERT INTO served VALUES ('a.test', '10.0.0.2', 443,"
		" 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb',"
		" 'CN=a.test B', 'CN=CA', 1735689600, 1798761600, 1, 2, 7, '', 'EC-P256');"
		"PRAGMA user_version = 2;", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

static void test_version_2_is_read_then_migrated_keeping_rows(void)
{
	struct inventory *inv = NULL;
	struct html_agg *a = html_agg_new();
	const char *p = db_path("v2.db");
	char err[256] = "", *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	CHECK(a && out);
	make_v2(p);
	/* Read as it is: the listing, and no history. */
	CHECK_INT(inventory_dump(p, true, out, NULL, err, sizeof(err)), 0);
	fclose(out);
	CHECK(text && strstr(text, "\"count\":7") != NULL);
	free(text);
	CHECK_INT(load(p, a), -EIO);     /* no history table yet */
	CHECK_INT(inventory_open_readonly(p, &inv, err, sizeof(err)), 0);
	CHECK_INT(inventory_version(inv), 2);
	inventory_close(inv);
	CHECK_INT(db_peek(p, "PRAGMA user_version"), 2);
	/* The agent opens it: the current version (6), the row kept, the
	 * tables there. */
	CHECK_INT(inventory_open(p, &inv, err, sizeof(err)), 0);
	CHECK_INT(inventory_version(inv), INVENTORY_SCHEMA_VERSION);
	inventory_close(inv);
	CHECK_INT(INVENTORY_SCHEMA_VERSION, 6);
	CHECK_INT(db_peek(p, "PRAGMA user_version"), 6);
	CHECK_INT(db_peek(p, "SELECT count(*) FROM pragma_table_info('history_name')"
			  " WHERE name LIKE 'no_cert_%' OR name = 'largest_chain'"), 5);
	CHECK_INT(db_peek(p, "SELECT count(*) FROM pragma_table_info('history_second')"
			  " WHERE name IN ('other_incomplete', 'other_ok', 'other_failed',"
			  " 'other_aborted')"), 4);
	CHECK_INT(db_peek(p, "SELECT count FROM served"), 7);
	CHECK_INT(db_peek(p, "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
			  " AND name LIKE 'history_%'"), 9);
	html_agg_reset(a);
	CHECK_INT(load(p, a), 0);
	CHECK_INT(a->from_history, 0);
	html_agg_free(a);
}

/* The first schema (no key type) is read as it is, as the later ones:
 * it used to be refused ("this tlswatch reads 2 or later"), though the
 * README said older files are read. */
static void test_version_1_is_read_then_migrated_keeping_rows(void)
{
	struct inventory *inv = NULL;
	struct html_agg *a = html_agg_new();
	const char *p = db_path("v1.db");
	sqlite3 *db = NULL;
	char err[256] = "", *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	CHECK(a && out);
	CHECK_INT(sqlite3_open(p, &db), SQLITE_OK);
	CHECK_INT(sqlite3_exec(db, DB_INVENTORY_V1_SCHEMA
		"INSERT INTO served VALUES ('a.test', '10.0.0.2', 443,"
		" 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb',"
		" 'CN=a.test B', 'CN=CA', 1735689600, 1798761600, 1, 2, 7, 'expired');"
		"PRAGMA user_version = 1", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	CHECK_INT(inventory_open_readonly(p, &inv, err, sizeof(err)), 0);
	CHECK_STR(err, "");
	CHECK_INT(inventory_version(inv), 1);
	CHECK_INT(inventory_count(inv), 1);
	inventory_close(inv);
	CHECK_INT(inventory_dump(p, true, out, NULL, err, sizeof(err)), 0);
	fclose(out);
	CHECK_STR(text, "{\"name\":\"a.test\",\"server\":{\"ip\":\"10.0.0.2\","
		  "\"port\":443},\"current\":true,\"sha256\":\"bbbbbbbbbbbbbbbbbbbb"
		  "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\",\"subject\":"
		  "\"CN=a.test B\",\"issuer\":\"CN=CA\",\"not_before\":"
		  "\"2025-01-01T00:00:00Z\",\"not_after\":\"2027-01-01T00:00:00Z\","
		  "\"first_seen\":\"1970-01-01T00:00:00.000001Z\",\"last_seen\":"
		  "\"1970-01-01T00:00:00.000002Z\",\"count\":7,\"findings\":"
		  "[\"expired\"]}\n");
	free(text);
	CHECK_INT(load(p, a), -EIO);     /* no history table */
	CHECK_INT(db_peek(p, "PRAGMA user_version"), 1);
	/* The agent (or analyze --db) opens it: the current version, the
	 * row kept with no key type. */
	CHECK_INT(inventory_open(p, &inv, err, sizeof(err)), 0);
	CHECK_INT(inventory_version(inv), INVENTORY_SCHEMA_VERSION);
	inventory_close(inv);
	CHECK_INT(db_peek(p, "PRAGMA user_version"), INVENTORY_SCHEMA_VERSION);
	CHECK_INT(db_peek(p, "SELECT count FROM served WHERE key = ''"), 7);
	html_agg_free(a);
}

int main(void)
{
	char cmd[128];

	if (!hf_tmpdir(dir, sizeof(dir))) {
		printf("not ok - mkdtemp\n");
		return 1;
	}
	static char sub_b[] = "CN=a.test B", sub_a[] = "CN=a.test A";
	static char serial_b[] = "0b", serial_a[] = "0a";

	cert_b = fake_cert('b', sub_b, serial_b);
	cert_a = fake_cert('a', sub_a, serial_a);
	RUN_TEST(test_rows_read_back_as_the_aggregates_of_the_events);
	RUN_TEST(test_a_period_across_a_restart_is_joined);
	RUN_TEST(test_no_certificate_reasons_are_kept);
	RUN_TEST(test_a_name_in_any_case_is_one_name);
	RUN_TEST(test_a_version_4_history_is_read_without_reasons);
	RUN_TEST(test_inventory_findings_keep_the_history_details);
	RUN_TEST(test_a_window_reads_its_seconds_and_the_periods_over_it);
	RUN_TEST(test_a_window_keeps_the_episode_going_on_at_its_start);
	RUN_TEST(test_a_window_leaves_out_certificates_served_after_it);
	RUN_TEST(test_a_window_up_to_the_epoch_reads_nothing);
	RUN_TEST(test_rows_older_than_the_bound_are_deleted);
	RUN_TEST(test_an_ongoing_period_outlives_the_bound);
	RUN_TEST(test_names_beyond_a_seconds_bound_are_counted);
	RUN_TEST(test_version_2_is_read_then_migrated_keeping_rows);
	RUN_TEST(test_version_1_is_read_then_migrated_keeping_rows);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
	return CHECK_EXIT_CODE();
}
