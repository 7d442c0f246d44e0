// SPDX-License-Identifier: MIT
/* The HTML report's aggregates: their bounds, the serving periods of the
 * 2018 picture, and escaping in the rendered page. */
#include <stdlib.h>

#include "check.h"
#include "detect/spike.h"
#include "common/html_escape.h"
#include "html_page.h"
#include "sink/html_report.h"

#define T0_US 1767225600000000ull   /* 2026-01-01T00:00:00Z */

struct fake_hs {
	struct hs_record rec;
	struct hs_view view;
};

static void fake_hs(struct fake_hs *h, const char *sni, uint64_t ts_us,
		    enum hs_outcome outcome, const struct cert_info *leaf)
{
	memset(h, 0, sizeof(*h));
	hs_record_init(&h->rec);
	h->rec.has_sni = sni[0] != '\0';
	h->rec.sni_len = (uint16_t)strlen(sni);
	memcpy(h->rec.sni, sni, h->rec.sni_len);
	h->rec.end_us = ts_us;
	h->rec.outcome = outcome;
	snprintf(h->rec.ja4, sizeof(h->rec.ja4), "t12d020700_b06afd972a5c_e7e480e5a997");
	h->view.rec = &h->rec;
	h->view.n_chain = leaf ? 1 : 0;
	h->view.chain[0] = leaf;
}

static void add(struct html_agg *a, const char *sni, uint64_t ts_us,
		enum hs_outcome outcome, const struct cert_info *leaf)
{
	struct fake_hs h;

	fake_hs(&h, sni, ts_us, outcome, leaf);
	html_agg_handshake(a, &h.view);
}

static struct cert_info fake_cert(const char *hex_digit, char *subject)
{
	struct cert_info ci;
	int i;

	memset(&ci, 0, sizeof(ci));
	for (i = 0; i < 64; i++)
		ci.sha256_hex[i] = hex_digit[0];
	ci.subject = subject;
	ci.issuer = subject;
	ci.serial_hex = "1";
	snprintf(ci.key, sizeof(ci.key), "EC-P256");
	return ci;
}

static uint64_t timeline_sum(const struct html_timeline *tl, bool failures)
{
	uint64_t s = 0;
	uint32_t i;

	for (i = 0; i < HTML_TIMELINE_BUCKETS; i++)
		s += failures ? tl->b[i].failures : tl->b[i].handshakes;
	return s;
}

static void test_timeline_coarsens_past_its_columns(void)
{
	struct html_agg *a = html_agg_new();
	int s;

	CHECK(a);
	/* 2000 seconds, one handshake each, every third failed: 1 s columns
	 * cannot hold it, 4 s columns can (2000 / 4 = 500 <= 600). */
	for (s = 0; s < 2000; s++)
		add(a, "a.test", T0_US + (uint64_t)s * 1000000,
		    s % 3 ? HS_OK : HS_FAILED, NULL);
	CHECK_INT(a->tl.width_s, 4);
	CHECK_INT(a->tl.n, 500);
	CHECK_INT(a->tl.start_s, T0_US / 1000000);
	CHECK_INT(timeline_sum(&a->tl, false), 2000);
	CHECK_INT(timeline_sum(&a->tl, true), 667);
	CHECK_INT(a->tl.b[0].handshakes, 4);
	CHECK_INT(a->tl.b[0].failures, 2);   /* seconds 0 and 3 */
	html_agg_free(a);
}

static void test_timeline_moves_back_for_an_earlier_capture(void)
{
	struct html_agg *a = html_agg_new();

	CHECK(a);
	add(a, "a.test", T0_US + 100 * 1000000ull, HS_OK, NULL);
	add(a, "a.test", T0_US + 40 * 1000000ull, HS_FAILED, NULL);
	CHECK_INT(a->tl.width_s, 1);
	CHECK_INT(a->tl.start_s, T0_US / 1000000 + 40);
	CHECK_INT(a->tl.n, 61);
	CHECK_INT(a->tl.b[0].failures, 1);
	CHECK_INT(a->tl.b[60].handshakes, 1);
	/* Far earlier: coarsened until it fits, nothing lost. */
	add(a, "a.test", T0_US - 5000 * 1000000ull, HS_OK, NULL);
	CHECK(a->tl.n <= HTML_TIMELINE_BUCKETS);
	CHECK_INT(a->tl.width_s, 16);
	CHECK_INT(timeline_sum(&a->tl, false), 3);
	CHECK_INT(timeline_sum(&a->tl, true), 1);
	html_agg_free(a);
}

static void test_incomplete_handshakes_stay_off_the_timeline(void)
{
	struct html_agg *a = html_agg_new();

	CHECK(a);
	add(a, "a.test", T0_US, HS_INCOMPLETE, NULL);
	add(a, "a.test", T0_US, HS_ABORTED, NULL);
	CHECK_INT(timeline_sum(&a->tl, false), 1);
	CHECK_INT(timeline_sum(&a->tl, true), 1);
	CHECK_INT(a->names[0].handshakes, 2);
	html_agg_free(a);
}

static void test_names_beyond_the_cap_are_counted_apart(void)
{
	struct html_agg *a = html_agg_new();
	char name[32];
	int i;

	CHECK(a);
	for (i = 0; i < HTML_MAX_NAMES + 8; i++) {
		snprintf(name, sizeof(name), "n%d.test", i);
		add(a, name, T0_US, HS_OK, NULL);
	}
	CHECK_INT(a->n_names, HTML_MAX_NAMES);
	CHECK_INT(a->other_names_handshakes, 8);
	html_agg_free(a);
}

static int count_of(const char *hay, const char *needle);

/* Host names are case-insensitive (RFC 4343): A.test, a.test and A.TEST.
 * are one name row, shown as first seen, one serving period; a cert
 * event in another spelling gives its findings to that period; the
 * inventory's row (kept folded) joins it too. */
static void test_a_name_in_any_case_is_one_row(void)
{
	struct html_agg *a = html_agg_new();
	char subject[] = "CN=a.test";
	struct cert_info leaf = fake_cert("c", subject);
	const struct cert_info *chain[1] = { &leaf };
	struct finding_list fl;
	struct cert_view cv = { .sni = "a.TEST", .sni_len = 6, .n_chain = 1,
				.chain = chain, .findings = &fl };
	struct html_served inv = {
		.name = "a.test", .addr = "10.0.0.9", .port = 443,
		.sha256 = leaf.sha256_hex, .subject = subject, .issuer = subject,
		.key = "EC-P256", .first_seen_us = T0_US, .last_seen_us = T0_US,
		.count = 2, .findings = "",
	};
	char *page;

	CHECK(a);
	memset(&fl, 0, sizeof(fl));
	finding_add(&fl, FINDING_UNTRUSTED, "self-signed certificate");
	add(a, "A.test", T0_US, HS_OK, &leaf);
	add(a, "a.test", T0_US + 1000000, HS_OK, &leaf);
	add(a, "A.TEST.", T0_US + 2000000, HS_FAILED, &leaf);
	html_agg_cert(a, &cv);
	CHECK_INT(a->n_names, 1);
	CHECK_INT(a->names[0].sni_len, 6);
	CHECK(!memcmp(a->names[0].sni, "A.test", 6));
	CHECK_INT(a->names[0].handshakes, 3);
	CHECK_INT(a->names[0].outcomes[HS_FAILED], 1);
	CHECK_INT(a->names[0].n_runs, 1);
	CHECK_INT(a->names[0].runs[0].handshakes, 3);
	CHECK_INT(a->names[0].runs[0].last_us, T0_US + 2000000);
	CHECK_INT(a->names[0].runs[0].findings, 1u << FINDING_UNTRUSTED);
	html_agg_served(a, &inv);
	CHECK_INT(a->n_names, 1);
	CHECK_INT(a->names[0].handshakes, 5);
	page = html_page(a);
	CHECK_INT(count_of(page, "<h3 class=\"name\">"), 1);
	CHECK(page && strstr(page, "<h3 class=\"name\">A.test <span"));
	CHECK(page && !strstr(page, ">a.test") && !strstr(page, "A.TEST."));
	free(page);
	html_agg_free(a);
}

/* The 2018 picture: B, then the old revoked A with failures, then B. */
static void test_serving_periods_follow_the_served_leaf(void)
{
	struct html_agg *a = html_agg_new();
	char sb[] = "CN=a.test B", sa[] = "CN=a.test A";
	struct cert_info b = fake_cert("b", sb), old = fake_cert("a", sa);
	int i;

	CHECK(a);
	for (i = 0; i < 3; i++)
		add(a, "a.test", T0_US + (uint64_t)i * 1000000, HS_OK, &b);
	for (i = 3; i < 8; i++)
		add(a, "a.test", T0_US + (uint64_t)i * 1000000, i < 7 ? HS_FAILED : HS_OK, &old);
	for (i = 8; i < 10; i++)
		add(a, "a.test", T0_US + (uint64_t)i * 1000000, HS_OK, &b);
	CHECK_INT(a->n_certs, 2);
	CHECK_INT(a->names[0].n_runs, 3);
	CHECK_INT(a->names[0].runs[0].cert, 0);
	CHECK_INT(a->names[0].runs[1].cert, 1);
	CHECK_INT(a->names[0].runs[2].cert, 0);
	CHECK_INT(a->names[0].runs[1].handshakes, 5);
	CHECK_INT(a->names[0].runs[1].failures, 4);
	CHECK_INT(a->names[0].runs[1].first_us, T0_US + 3000000);
	CHECK_INT(a->names[0].runs[1].last_us, T0_US + 7000000);
	CHECK_INT(a->certs[0].handshakes, 5);
	CHECK_INT(a->certs[1].failures, 4);
	html_agg_free(a);
}

/* The serving period row of @page that starts at @from, copied. */
static char *period_row(const char *page, const char *from)
{
	char start[80];
	const char *p, *end;

	snprintf(start, sizeof(start), "<tr><td class=\"t\">%s", from);
	p = page ? strstr(page, start) : NULL;
	end = p ? strstr(p, "</tr>") : NULL;
	return end ? strndup(p, (size_t)(end - p)) : NULL;
}

/* B served, then A, then B again, which then showed a revoked staple and,
 * by a cert event, was revoked: the first period of B is not marked with
 * what B only got in the last one. */
static void test_a_period_shows_what_it_showed(void)
{
	struct html_agg *a = html_agg_new();
	char sb[] = "CN=a.test B", sa[] = "CN=a.test A";
	struct cert_info b = fake_cert("b", sb), other = fake_cert("a", sa);
	const struct cert_info *chain[1] = { &b };
	struct finding_list revoked = { 0 };
	struct cert_view cv = { .sni = "a.test", .sni_len = 6, .n_chain = 1,
				.chain = chain, .findings = &revoked };
	struct fake_hs h;
	char *page, *first_b, *last_b;

	CHECK(a);
	add(a, "a.test", T0_US, HS_OK, &b);
	add(a, "a.test", T0_US + 1000000, HS_OK, &other);
	fake_hs(&h, "a.test", T0_US + 2000000, HS_OK, &b);
	finding_add(&h.view.findings, FINDING_REVOKED_STAPLE, "staple says revoked");
	html_agg_handshake(a, &h.view);
	finding_add(&revoked, FINDING_REVOKED, "CRL");
	html_agg_cert(a, &cv);
	CHECK_INT(a->names[0].n_runs, 3);
	CHECK_INT(a->names[0].runs[0].findings, 0);
	CHECK_INT(a->names[0].runs[2].findings,
		  1u << FINDING_REVOKED_STAPLE | 1u << FINDING_REVOKED);
	page = html_page(a);
	first_b = period_row(page, "2026-01-01T00:00:00.000000Z");
	last_b = period_row(page, "2026-01-01T00:00:02.000000Z");
	CHECK(first_b && strstr(first_b, "<td>none</td>") && !strstr(first_b, "revoked"));
	CHECK(last_b && strstr(last_b, "revoked_staple") && !strstr(last_b, "none"));
	free(first_b);
	free(last_b);
	free(page);
	html_agg_free(a);
}

static void test_runs_beyond_the_cap_grow_the_last_one(void)
{
	struct html_agg *a = html_agg_new();
	char sb[] = "B", sa[] = "A";
	struct cert_info b = fake_cert("b", sb), old = fake_cert("a", sa);
	int i;

	CHECK(a);
	for (i = 0; i < 2 * HTML_NAME_MAX_RUNS + 10; i++)
		add(a, "a.test", T0_US + (uint64_t)i * 1000000, HS_OK, i % 2 ? &old : &b);
	CHECK_INT(a->names[0].n_runs, HTML_NAME_MAX_RUNS);
	CHECK(a->names[0].runs_merged);
	CHECK_INT(a->names[0].runs[HTML_NAME_MAX_RUNS - 1].last_us,
		  T0_US + (uint64_t)(2 * HTML_NAME_MAX_RUNS + 9) * 1000000);
	html_agg_free(a);
}

static void test_clients_beyond_the_cap_are_counted_apart(void)
{
	struct html_agg *a = html_agg_new();
	struct fake_hs h;
	int i;

	CHECK(a);
	for (i = 0; i < HTML_MAX_CLIENTS + 5; i++) {
		fake_hs(&h, "a.test", T0_US, HS_FAILED, NULL);
		snprintf(h.rec.ja4, sizeof(h.rec.ja4), "t13d%06d", i);
		html_agg_handshake(a, &h.view);
	}
	CHECK_INT(a->other_clients_handshakes, 5);
	CHECK_INT(a->other_clients_failures, 5);
	html_agg_free(a);
}

static void test_page_escapes_wire_strings(void)
{
	struct html_agg *a = html_agg_new();
	char subject[] = "CN=<b>x</b>&co";
	struct cert_info ci = fake_cert("c", subject);
	char *page = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&page, &len);

	CHECK(a && f);
	add(a, "<script>alert(1)</script>", T0_US, HS_OK, &ci);
	CHECK_INT(html_render(a, f), 0);
	fclose(f);
	CHECK(strstr(page, "&lt;script&gt;alert(1)&lt;/script&gt;"));
	CHECK(!strstr(page, "<script"));
	CHECK(strstr(page, "CN=&lt;b&gt;x&lt;/b&gt;&amp;co"));
	CHECK(!strstr(page, "<b>x"));
	free(page);
	html_agg_free(a);
}

static void test_escape_cuts_between_escapes(void)
{
	char out[6];

	CHECK_INT(tw_html_escape("a<b", 3, out, sizeof(out)), 2);
	CHECK_STR(out, "a&lt;");
	CHECK_INT(tw_html_escape("\x01\"", 2, out, sizeof(out)), 1);
	CHECK_STR(out, "\\x01");
	CHECK_INT(tw_html_escape("ab", 2, out, 1), 0);
	CHECK_STR(out, "");
}

/* A handshake of "a.test" without a leaf, for one reason. */
static void add_no_cert(struct html_agg *a, uint16_t version, bool resumed,
			enum hs_chain_error chain_error, uint32_t chain_bytes)
{
	struct fake_hs h;

	fake_hs(&h, "a.test", T0_US, HS_OK, NULL);
	h.rec.has_server_hello = true;
	h.rec.version = version;
	h.rec.resumed = resumed;
	h.rec.chain_error = chain_error;
	h.rec.chain_bytes = chain_bytes;
	html_agg_handshake(a, &h.view);
}

/* From handshake records, the text report's reasons; a name with none. */
static void test_no_certificate_says_why_from_handshakes(void)
{
	struct html_agg *a = html_agg_new();
	char *page;

	CHECK(a != NULL);
	add_no_cert(a, 0x0304, false, HS_CHAIN_READ, 0);
	add_no_cert(a, 0x0304, false, HS_CHAIN_READ, 0);
	add_no_cert(a, 0x0303, true, HS_CHAIN_READ, 0);
	add_no_cert(a, 0x0303, false, HS_CHAIN_TOO_LARGE, 300000);
	add_no_cert(a, 0x0303, false, HS_CHAIN_TRUNCATED, 5000);
	add(a, "b.test", T0_US, HS_OK, NULL);      /* no ServerHello */
	page = html_page(a);
	CHECK(page && strstr(page, "<p class=\"note\">Certificate chain not read: 1 too large (over 256 KiB), 1 truncated (cut before its end); up to 300000 bytes.</p>\n"
			 "<p class=\"note\">Certificate not sent on 1 resumed handshake (the session's full handshake carried it).</p>\n"
			 "<p class=\"note\">Certificate not visible on 2 TLS 1.3 handshakes (encrypted).</p>\n"));
	CHECK(page && strstr(page, "<p class=\"note\">Certificate not visible (no Certificate message seen).</p>\n"));
	CHECK(page && !strstr(page, "TLS 1.3, or no Certificate message"));
	free(page);
	html_agg_free(a);
}

/* From the inventory (report --db): no per-handshake records, no reasons. */
static void test_no_certificate_from_the_inventory_keeps_its_words(void)
{
	struct html_agg *a = html_agg_new();
	char *page;

	CHECK(a != NULL);
	a->from_inventory = true;
	add_no_cert(a, 0x0304, false, HS_CHAIN_READ, 0);
	page = html_page(a);
	CHECK(page && strstr(page, "<p>Certificate not visible (TLS 1.3, or no Certificate message).</p>\n"));
	CHECK(page && !strstr(page, "encrypted)"));
	free(page);
	html_agg_free(a);
}

static int count_of(const char *hay, const char *needle)
{
	int n = 0;

	while (hay && (hay = strstr(hay, needle))) {
		n++;
		hay += strlen(needle);
	}
	return n;
}

static void add_spike(struct html_agg *a, enum spike_state state, const char *sni,
		      uint64_t ts_us)
{
	struct spike_event ev = {
		.state = state, .kind = SPIKE_SCOPE_SNI, .key = sni, .ts_us = ts_us,
		.window_s = 5, .handshakes = 10, .failures = 9, .rate = 0.9,
	};

	html_agg_spike(a, &ev);
}

/* Past the bound the earliest episodes go whole, counted: the rows left
 * are the latest incidents, each with its resolution; one still firing
 * at the end stays so. */
static void test_spikes_beyond_the_cap_keep_the_latest_episodes(void)
{
	struct html_agg *a = html_agg_new();
	char *page;
	int i, firing = 0;

	CHECK(a != NULL);
	add_spike(a, SPIKE_FIRING, "long.test", T0_US);
	for (i = 0; i < 100; i++) {
		add_spike(a, SPIKE_FIRING, "a.test", T0_US + (uint64_t)(10 * i + 1) * 1000000);
		add_spike(a, SPIKE_RESOLVED, "a.test", T0_US + (uint64_t)(10 * i + 6) * 1000000);
	}
	add_spike(a, SPIKE_FIRING, "last.test", T0_US + 2000ull * 1000000);
	CHECK_INT(a->n_spikes, HTML_MAX_SPIKES - 1);   /* 31 episodes and last.test */
	CHECK_INT(a->spikes_dropped, 1 + 100 - 31);
	for (i = 0; i < a->n_spikes; i++)
		firing += a->spikes[i].state == SPIKE_FIRING;
	CHECK_INT(firing, 32);
	CHECK_INT(a->spikes[a->n_spikes - 2].ts_us, T0_US + 996ull * 1000000);
	CHECK_STR(a->spikes[a->n_spikes - 1].key, "last.test");
	page = html_page(a);
	CHECK(page && strstr(page, "70 earlier spike episodes not listed"));
	/* only last.test is still firing at the end */
	CHECK_INT(count_of(page, "still firing at the end"), 1);
	free(page);
	html_agg_free(a);
}

/* A page drawn for --since/--until says its window; the inventory's
 * (no history in the window) says it is not narrowed. */
static void test_page_states_its_window(void)
{
	struct html_agg *a = html_agg_new();
	char *page;

	CHECK(a != NULL);
	page = html_page(a);
	CHECK(page && !strstr(page, "ov-window"));
	free(page);
	a->since_us = T0_US;
	page = html_page(a);
	CHECK(page && strstr(page, "<td id=\"ov-window\">2026-01-01T00:00:00.000000Z .. -</td>"));
	free(page);
	a->from_inventory = true;
	page = html_page(a);
	CHECK(page && strstr(page, ".. - (no history in it: the inventory's rows, not narrowed to it)"));
	free(page);
	html_agg_free(a);
}

/* An inventory row's findings, read once: the certificate's (no detail,
 * list order) and its period's; a certificate past the bound, not
 * tracked, still marks its period. */
static void test_an_inventory_row_gives_its_findings_to_cert_and_period(void)
{
	struct html_agg *a = html_agg_new();
	struct html_served s = {
		.name = "a.test", .addr = "10.0.0.1", .port = 443, .subject = "CN=a",
		.issuer = "CN=CA", .key = "EC-P256", .count = 3,
		.first_seen_us = T0_US, .last_seen_us = T0_US + 1000000,
		.findings = "expired,bogus,revoked",
	};
	char sha[65];
	int i;

	CHECK(a != NULL);
	for (i = 0; i <= HTML_MAX_CERTS; i++) {
		snprintf(sha, sizeof(sha), "%064d", i);
		s.sha256 = sha;
		if (i == HTML_MAX_CERTS)
			s.findings = "weak_key";
		html_agg_served(a, &s);
	}
	CHECK_INT(a->n_certs, HTML_MAX_CERTS);
	CHECK_INT(a->certs_untracked, 1);
	CHECK_INT(a->certs[0].n_findings, 2);
	CHECK_INT(a->certs[0].findings[0].kind, FINDING_EXPIRED);
	CHECK_INT(a->certs[0].findings[1].kind, FINDING_REVOKED);
	CHECK_STR(a->certs[0].findings[1].detail, "");
	CHECK_INT(a->names[0].n_runs, HTML_NAME_MAX_RUNS);
	CHECK_INT(a->names[0].runs[0].findings,
		  1u << FINDING_EXPIRED | 1u << FINDING_REVOKED);
	/* the untracked one went into the last period, merged */
	CHECK_INT(a->names[0].runs[HTML_NAME_MAX_RUNS - 1].findings,
		  1u << FINDING_EXPIRED | 1u << FINDING_REVOKED | 1u << FINDING_WEAK_KEY);
	html_agg_free(a);
}

/* The lane group of @page (the first), copied: from its <g class="lane">
 * to the </g> that closes it. */
static char *lane_of(const char *page)
{
	const char *p = page ? strstr(page, "<g class=\"lane\">") : NULL;
	const char *end = p ? strstr(p, "</g>\n</g>\n") : NULL;

	return end ? strndup(p, (size_t)(end - p) + strlen("</g>\n</g>")) : NULL;
}

/* Whether @page draws a lane's bar from @x, @w wide, its top at @y. */
static bool has_bar(const char *page, const char *x, int y, const char *w)
{
	char want[128];

	snprintf(want, sizeof(want), "<rect x=\"%s\" y=\"%d\" width=\"%s\" height=\"20\"",
		 x, y, w);
	return page && strstr(page, want);
}

/* Two leaves of a.test, C1 and C2 once served, for the lanes' tests. */
struct two_leaves {
	struct html_agg *a;
	char s1[16], s2[16];
	struct cert_info c1, c2;
};

static void two_leaves_init(struct two_leaves *t)
{
	t->a = html_agg_new();
	CHECK(t->a != NULL);
	snprintf(t->s1, sizeof(t->s1), "CN=a.test 1");
	snprintf(t->s2, sizeof(t->s2), "CN=a.test 2");
	t->c1 = fake_cert("1", t->s1);
	t->c2 = fake_cert("2", t->s2);
}

/* The plot spans x 170 to 990. A.test served C1 for 99 seconds, then C2
 * in the last one: C2's bar (8.2 wide) is too narrow for its label, and
 * after it the label ran past the plot's right edge (x 992): it goes
 * before the bar, its end 2 units left of it; there it would be over
 * C1's bar, so C2 has the lane's second row (26 units lower). */
static void test_a_narrow_period_at_the_right_edge_keeps_its_label_inside(void)
{
	struct two_leaves t;
	char *page, *lane;
	int i;

	two_leaves_init(&t);
	for (i = 0; i < 100; i++)
		add(t.a, "a.test", T0_US + (uint64_t)i * 1000000, HS_OK, i < 99 ? &t.c1 : &t.c2);
	CHECK_INT(t.a->tl.n, 100);
	page = html_page(t.a);
	lane = lane_of(page);
	CHECK_STR(lane,
		"<g class=\"lane\"><text x=\"166\" y=\"236\" text-anchor=\"end\">a.test</text>\n"
		"<g class=\"run\" data-cert=\"1\"><title>C1 from 00:00:00 to 00:01:38: "
		"99 handshakes, 0 failed</title>"
		"<rect x=\"170.00\" y=\"223\" width=\"811.80\" height=\"20\" fill=\"#cec\" stroke=\"#000\"/>"
		"<text x=\"173.00\" y=\"237\" font-weight=\"bold\">C1</text></g>\n"
		"<g class=\"run\" data-cert=\"2\"><title>C2 from 00:01:39 to 00:01:39: "
		"1 handshakes, 0 failed</title>"
		"<rect x=\"981.80\" y=\"249\" width=\"8.20\" height=\"20\" fill=\"#cec\" stroke=\"#000\"/>"
		"<text x=\"979.80\" y=\"263\" text-anchor=\"end\" font-weight=\"bold\">C2</text></g>\n"
		"</g>");
	free(lane);
	free(page);
	html_agg_free(t.a);
}

/* A narrow period with room after it keeps its label there, and the bar
 * after it goes to the next row: C1 again from column 51 (x 588.2 to
 * 990) begins under C2's label (x 590.2 to 621.2), which was drawn over
 * it; it is in the second row, and the chart one row taller (220 + 2 *
 * 26 + 6). */
static void test_a_narrow_period_has_its_label_after_it_over_no_bar(void)
{
	struct two_leaves t;
	char *page;
	int i;

	two_leaves_init(&t);
	for (i = 0; i < 100; i++)
		add(t.a, "a.test", T0_US + (uint64_t)i * 1000000, HS_OK, i == 50 ? &t.c2 : &t.c1);
	page = html_page(t.a);
	/* C2 over column 50 of 100: x 580 to 588.2, its label at 590.2 */
	CHECK(has_bar(page, "580.00", 223, "8.20"));
	CHECK(page && strstr(page, "<text x=\"590.20\" y=\"237\" font-weight=\"bold\">C2</text>"));
	CHECK(has_bar(page, "170.00", 223, "410.00"));
	CHECK(has_bar(page, "588.20", 249, "401.80"));
	CHECK(page && strstr(page, "viewBox=\"0 0 1000 278\""));
	free(page);
	html_agg_free(t.a);
}

/* C1 at 0.2 s, C2 from 0.7 s to 9 s: both periods begin in the first
 * column (1 s wide, 82 units). They were drawn over each other; C2 goes
 * to a second row of the lane (26 units lower, its label too), and the
 * chart is one row taller (220 + 2 * 26 + 6). */
static void test_periods_in_one_column_get_rows_of_their_own(void)
{
	struct two_leaves t;
	char *page;

	two_leaves_init(&t);
	add(t.a, "a.test", T0_US + 200000, HS_OK, &t.c1);
	add(t.a, "a.test", T0_US + 700000, HS_OK, &t.c2);
	add(t.a, "a.test", T0_US + 9000000, HS_OK, &t.c2);
	CHECK_INT(t.a->names[0].n_runs, 2);
	page = html_page(t.a);
	CHECK(page && strstr(page, "viewBox=\"0 0 1000 278\""));
	CHECK(has_bar(page, "170.00", 223, "82.00"));
	CHECK(has_bar(page, "170.00", 249, "820.00"));
	CHECK(page && strstr(page, "<text x=\"173.00\" y=\"263\" font-weight=\"bold\">C2</text>"));
	free(page);
	html_agg_free(t.a);
}

/* The 2018 picture in 2 s columns: C1 over seconds 0-2, the old C2 over
 * 3-6, C1 again over 7-9. C2 begins in the column C1's first period ends
 * in, C1's second period in the one C2 ends in: C2 goes to the second
 * row; C1's second period begins under the labels after the first two
 * (too narrow for theirs): the third row (z.test has no lane). */
static void test_a_change_within_a_column_keeps_the_lane_readable(void)
{
	struct two_leaves t;
	char *page;
	int i;

	two_leaves_init(&t);
	for (i = 0; i < 10; i++)
		add(t.a, "a.test", T0_US + (uint64_t)i * 1000000, HS_OK,
		    i >= 3 && i <= 6 ? &t.c2 : &t.c1);
	/* one handshake 1100 s later makes the columns 2 s wide */
	add(t.a, "z.test", T0_US + 1100 * 1000000ull, HS_OK, NULL);
	CHECK_INT(t.a->tl.width_s, 2);
	CHECK_INT(t.a->tl.n, 551);
	page = html_page(t.a);
	/* columns of 820 / 551 units; C1: 0 to 2 columns, C2: 1.5 to 4, C1:
	 * 3.5 to 5.5 */
	CHECK(has_bar(page, "170.00", 223, "2.98"));
	CHECK(has_bar(page, "172.23", 249, "3.72"));
	CHECK(has_bar(page, "175.21", 275, "2.98"));
	CHECK(page && strstr(page, "viewBox=\"0 0 1000 304\""));
	free(page);
	html_agg_free(t.a);
}

/* One leaf served from two addresses, the handshakes alternating: each
 * change of address is a serving period of its own, all in one column.
 * One bar says it, not a stack of them drawn over each other. */
static void test_one_leaf_from_two_addresses_is_one_bar(void)
{
	struct two_leaves t;
	struct fake_hs h;
	char *page;
	int i;

	two_leaves_init(&t);
	for (i = 0; i < 6; i++) {
		fake_hs(&h, "a.test", T0_US + (uint64_t)i * 100000, HS_OK, &t.c1);
		h.rec.server.addr.family = 4;
		memcpy(h.rec.server.addr.bytes, i % 2 ? "\x0a\0\0\x02" : "\x0a\0\0\x01", 4);
		h.rec.server.port = 443;
		html_agg_handshake(t.a, &h.view);
	}
	CHECK_INT(t.a->names[0].n_runs, 6);
	page = html_page(t.a);
	CHECK_INT(count_of(page, "<g class=\"run\""), 1);
	CHECK(page && strstr(page, "<title>C1 from 00:00:00 to 00:00:00: 6 handshakes, "
			 "0 failed in 6 serving periods</title>"));
	CHECK(has_bar(page, "170.00", 223, "820.00"));
	CHECK(page && strstr(page, "viewBox=\"0 0 1000 252\""));
	free(page);
	html_agg_free(t.a);
}

int main(void)
{
	RUN_TEST(test_timeline_coarsens_past_its_columns);
	RUN_TEST(test_timeline_moves_back_for_an_earlier_capture);
	RUN_TEST(test_incomplete_handshakes_stay_off_the_timeline);
	RUN_TEST(test_names_beyond_the_cap_are_counted_apart);
	RUN_TEST(test_serving_periods_follow_the_served_leaf);
	RUN_TEST(test_a_name_in_any_case_is_one_row);
	RUN_TEST(test_a_period_shows_what_it_showed);
	RUN_TEST(test_runs_beyond_the_cap_grow_the_last_one);
	RUN_TEST(test_clients_beyond_the_cap_are_counted_apart);
	RUN_TEST(test_spikes_beyond_the_cap_keep_the_latest_episodes);
	RUN_TEST(test_page_states_its_window);
	RUN_TEST(test_an_inventory_row_gives_its_findings_to_cert_and_period);
	RUN_TEST(test_a_narrow_period_at_the_right_edge_keeps_its_label_inside);
	RUN_TEST(test_a_narrow_period_has_its_label_after_it_over_no_bar);
	RUN_TEST(test_periods_in_one_column_get_rows_of_their_own);
	RUN_TEST(test_a_change_within_a_column_keeps_the_lane_readable);
	RUN_TEST(test_one_leaf_from_two_addresses_is_one_bar);
	RUN_TEST(test_page_escapes_wire_strings);
	RUN_TEST(test_escape_cuts_between_escapes);
	RUN_TEST(test_no_certificate_says_why_from_handshakes);
	RUN_TEST(test_no_certificate_from_the_inventory_keeps_its_words);
	printf("# sizeof(struct html_agg) = %zu\n", sizeof(struct html_agg));
	return CHECK_EXIT_CODE();
}
