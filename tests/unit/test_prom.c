// SPDX-License-Identifier: MIT
/*
 * The Prometheus text writer and the capped series sets. With --dump, prints
 * an exposition full of hostile label values instead, for
 * tests/e2e/metrics_promtool.sh to hand to `promtool check metrics`.
 */
#include <errno.h>
#include <math.h>

#include "check.h"
#include "common/prom_series.h"
#include "common/prom_text.h"

static const char *const sni_label[] = { "sni" };
static const char *const two_labels[] = { "sni", "outcome" };

#define VALUES(...) ((const char *const[]){ __VA_ARGS__ })

static void test_renders_families_in_declaration_order_exactly(void)
{
	struct prom_writer *w = prom_writer_new();
	size_t len = 0;

	CHECK(w != NULL);
	CHECK_INT(prom_family(w, "tlswatch_handshakes_total", "Handshakes seen.",
			      PROM_COUNTER), 0);
	CHECK_INT(prom_sample_u64(w, "tlswatch_handshakes_total", two_labels,
				  VALUES("a.test", "ok"), 2, 18446744073709551615ULL), 0);
	CHECK_INT(prom_sample_u64(w, "tlswatch_handshakes_total", two_labels,
				  VALUES("b.test", "alert"), 2, 3), 0);
	CHECK_INT(prom_family(w, "tlswatch_up", "Whether the agent runs.", PROM_GAUGE), 0);
	CHECK_INT(prom_sample(w, "tlswatch_up", NULL, NULL, 0, 1), 0);
	CHECK_STR(prom_text(w, &len),
		  "# HELP tlswatch_handshakes_total Handshakes seen.\n"
		  "# TYPE tlswatch_handshakes_total counter\n"
		  "tlswatch_handshakes_total{sni=\"a.test\",outcome=\"ok\"} 18446744073709551615\n"
		  "tlswatch_handshakes_total{sni=\"b.test\",outcome=\"alert\"} 3\n"
		  "# HELP tlswatch_up Whether the agent runs.\n"
		  "# TYPE tlswatch_up gauge\n"
		  "tlswatch_up 1\n");
	CHECK_INT(len, strlen(prom_text(w, NULL)));
	prom_writer_free(w);
}

static void test_one_help_and_type_per_family_across_calls(void)
{
	struct prom_writer *w = prom_writer_new();

	CHECK_INT(prom_family(w, "a_total", "A.", PROM_COUNTER), 0);
	CHECK_INT(prom_sample_u64(w, "a_total", sni_label, VALUES("x"), 1, 1), 0);
	CHECK_INT(prom_family(w, "b", "B.", PROM_GAUGE), 0);
	CHECK_INT(prom_sample(w, "b", NULL, NULL, 0, 2), 0);
	CHECK_INT(prom_family(w, "a_total", "A again.", PROM_COUNTER), 0);
	CHECK_INT(prom_sample_u64(w, "a_total", sni_label, VALUES("y"), 1, 2), 0);
	CHECK_STR(prom_text(w, NULL),
		  "# HELP a_total A.\n# TYPE a_total counter\n"
		  "a_total{sni=\"x\"} 1\na_total{sni=\"y\"} 2\n"
		  "# HELP b B.\n# TYPE b gauge\nb 2\n");
	prom_writer_free(w);
}

/* The text of one gauge sample of family "g" with label sni=@value. */
static const char *one_label(struct prom_writer *w, const char *value)
{
	prom_writer_reset(w);
	prom_family(w, "g", "G.", PROM_GAUGE);
	prom_sample(w, "g", sni_label, &value, 1, 0);
	return prom_text(w, NULL);
}

static void test_label_value_escapes_quote_backslash_newline(void)
{
	struct prom_writer *w = prom_writer_new();

	CHECK_STR(one_label(w, "a\"b\\c\nd"),
		  "# HELP g G.\n# TYPE g gauge\ng{sni=\"a\\\"b\\\\c\\nd\"} 0\n");
	prom_writer_free(w);
}

static void test_label_value_invalid_utf8_becomes_replacement(void)
{
	struct prom_writer *w = prom_writer_new();
	const char *head = "# HELP g G.\n# TYPE g gauge\n";
	char want[128];

	snprintf(want, sizeof(want), "%sg{sni=\"caf\xc3\xa9 \xef\xbf\xbd|\xef\xbf\xbd\xef\xbf\xbd|"
		 "\xef\xbf\xbd\xef\xbf\xbd\"} 0\n", head);
	/* valid é, a stray 0xff, an overlong '/', a cut sequence at the end:
	 * one U+FFFD per byte that starts no valid sequence, as in JSON */
	CHECK_STR(one_label(w, "caf\xc3\xa9 \xff|\xc0\xaf|\xe2\x82"), want);
	snprintf(want, sizeof(want), "%sg{sni=\"\xf0\x9f\x94\x92\"} 0\n", head);
	CHECK_STR(one_label(w, "\xf0\x9f\x94\x92"), want);
	prom_writer_free(w);
}

static void test_help_escapes_backslash_and_newline_not_quote(void)
{
	struct prom_writer *w = prom_writer_new();

	CHECK_INT(prom_family(w, "h", "say \"hi\"\\\nbye", PROM_GAUGE), 0);
	CHECK_STR(prom_text(w, NULL), "# HELP h say \"hi\"\\\\\\nbye\n# TYPE h gauge\n");
	prom_writer_free(w);
}

/* The value column of one sample of @v. */
static const char *one_value(struct prom_writer *w, double v)
{
	const char *t;

	prom_writer_reset(w);
	prom_family(w, "v", "V.", PROM_GAUGE);
	prom_sample(w, "v", NULL, NULL, 0, v);
	t = prom_text(w, NULL);
	return t ? strstr(t, "\nv ") + 3 : NULL;
}

static void test_doubles_round_trip_and_specials_are_spelled_as_the_format(void)
{
	struct prom_writer *w = prom_writer_new();

	CHECK_STR(one_value(w, 0.1), "0.1\n");
	CHECK_STR(one_value(w, 1.0 / 3), "0.3333333333333333\n");
	CHECK_STR(one_value(w, 1e21), "1e+21\n");
	CHECK_STR(one_value(w, -2.5), "-2.5\n");
	CHECK_STR(one_value(w, NAN), "NaN\n");
	CHECK_STR(one_value(w, INFINITY), "+Inf\n");
	CHECK_STR(one_value(w, -INFINITY), "-Inf\n");
	prom_writer_free(w);
}

static void test_bad_names_undeclared_family_and_type_change_are_refused(void)
{
	struct prom_writer *w = prom_writer_new();
	const char *const bad_label[] = { "__name" };
	const char *const colon_label[] = { "a:b" };

	CHECK_INT(prom_family(w, "9lives", "x", PROM_GAUGE), -EINVAL);
	CHECK_INT(prom_family(w, "a-b", "x", PROM_GAUGE), -EINVAL);
	CHECK_INT(prom_family(w, "", "x", PROM_GAUGE), -EINVAL);
	CHECK_INT(prom_family(w, "ok:name_1", NULL, PROM_GAUGE), -EINVAL);
	CHECK_INT(prom_sample(w, "missing", NULL, NULL, 0, 1), -ENOENT);
	CHECK_INT(prom_family(w, "ok:name_1", "x", PROM_GAUGE), 0);
	CHECK_INT(prom_family(w, "ok:name_1", "x", PROM_COUNTER), -EINVAL);
	CHECK_INT(prom_sample(w, "ok:name_1", bad_label, VALUES("v"), 1, 1), -EINVAL);
	CHECK_INT(prom_sample(w, "ok:name_1", colon_label, VALUES("v"), 1, 1), -EINVAL);
	CHECK_STR(prom_text(w, NULL), "# HELP ok:name_1 x\n# TYPE ok:name_1 gauge\n");
	prom_writer_free(w);
}

static void test_reset_forgets_every_family(void)
{
	struct prom_writer *w = prom_writer_new();

	prom_family(w, "a", "A.", PROM_GAUGE);
	prom_sample(w, "a", NULL, NULL, 0, 1);
	CHECK(strlen(prom_text(w, NULL)) > 0);
	prom_writer_reset(w);
	CHECK_STR(prom_text(w, NULL), "");
	CHECK_INT(prom_sample(w, "a", NULL, NULL, 0, 1), -ENOENT);
	prom_writer_free(w);
}

static const char *render(const struct prom_series *s, struct prom_writer *w)
{
	prom_writer_reset(w);
	CHECK_INT(prom_series_render(s, w), 0);
	return prom_text(w, NULL);
}

#define CERTS_HEAD "# HELP certs_total Certificates.\n# TYPE certs_total counter\n"
#define FOLDED(n) "# HELP tlswatch_metrics_series_folded_total Updates of label " \
	"tuples past a family's series cap, counted into its series labelled \"other\".\n" \
	"# TYPE tlswatch_metrics_series_folded_total counter\n" \
	"tlswatch_metrics_series_folded_total{family=\"certs_total\"} " #n "\n"

/* The counters of family certs_total by sni, at most @max series. */
static struct prom_series *certs(size_t max)
{
	return prom_series_new("certs_total", "Certificates.", PROM_COUNTER,
			       sni_label, 1, max);
}

static void test_cap_two_folds_third_tuple_into_other(void)
{
	struct prom_series *s = certs(2);
	struct prom_writer *w = prom_writer_new();

	CHECK_INT(prom_series_add(s, VALUES("a.test"), 1), 0);
	CHECK_INT(prom_series_add(s, VALUES("b.test"), 2), 0);
	CHECK_INT(prom_series_add(s, VALUES("c.test"), 5), 0);
	CHECK_INT(prom_series_add(s, VALUES("a.test"), 1), 0);
	CHECK_INT(prom_series_count(s), 3);
	CHECK_INT(prom_series_folded(s), 1);
	CHECK_STR(render(s, w), CERTS_HEAD
		  "certs_total{sni=\"a.test\"} 2\n"
		  "certs_total{sni=\"b.test\"} 2\n"
		  "certs_total{sni=\"other\"} 5\n" FOLDED(1));
	prom_writer_free(w);
	prom_series_free(s);
}

static void test_remove_drops_the_series_and_makes_room(void)
{
	struct prom_series *s = certs(2);
	struct prom_writer *w = prom_writer_new();

	prom_series_add(s, VALUES("a.test"), 1);
	prom_series_add(s, VALUES("b.test"), 1);
	prom_series_add(s, VALUES("c.test"), 1);
	CHECK_INT(prom_series_remove(s, VALUES("a.test")), 0);
	CHECK_INT(prom_series_remove(s, VALUES("a.test")), -ENOENT);
	CHECK_INT(prom_series_remove(s, VALUES("c.test")), -ENOENT);  /* folded, never its own */
	CHECK_INT(prom_series_add(s, VALUES("d.test"), 4), 0);
	CHECK_INT(prom_series_remove(s, VALUES("other")), 0);
	CHECK_INT(prom_series_count(s), 2);
	CHECK_INT(prom_series_folded(s), 1);
	CHECK_STR(render(s, w), CERTS_HEAD
		  "certs_total{sni=\"b.test\"} 1\n"
		  "certs_total{sni=\"d.test\"} 4\n" FOLDED(1));
	prom_writer_free(w);
	prom_series_free(s);
}

static void test_removed_then_readded_series_restarts_at_zero(void)
{
	struct prom_series *s = certs(4);
	struct prom_writer *w = prom_writer_new();

	prom_series_add(s, VALUES("a.test"), 7);
	prom_series_add(s, VALUES("b.test"), 1);
	prom_series_add(s, VALUES("c.test"), 1);
	CHECK_INT(prom_series_remove(s, VALUES("a.test")), 0);
	CHECK_INT(prom_series_add(s, VALUES("a.test"), 1), 0);
	CHECK_STR(render(s, w), CERTS_HEAD
		  "certs_total{sni=\"a.test\"} 1\n"
		  "certs_total{sni=\"b.test\"} 1\n"
		  "certs_total{sni=\"c.test\"} 1\n" FOLDED(0));
	prom_writer_free(w);
	prom_series_free(s);
}

static void test_churn_keeps_insertion_order_of_the_survivors(void)
{
	struct prom_series *s = certs(100);
	struct prom_writer *w = prom_writer_new();
	char name[16];
	const char *v[1] = { name };
	int i;

	/* 0..49, then drop all but 7 and 42: the map compacts on the way */
	for (i = 0; i < 50; i++) {
		snprintf(name, sizeof(name), "h%d", i);
		prom_series_add(s, v, (uint64_t)i);
	}
	for (i = 0; i < 50; i++) {
		snprintf(name, sizeof(name), "h%d", i);
		if (i != 7 && i != 42)
			CHECK_INT(prom_series_remove(s, v), 0);
	}
	CHECK_INT(prom_series_count(s), 2);
	CHECK_STR(render(s, w), CERTS_HEAD
		  "certs_total{sni=\"h7\"} 7\n"
		  "certs_total{sni=\"h42\"} 42\n" FOLDED(0));
	prom_writer_free(w);
	prom_series_free(s);
}

static void test_tuples_that_render_alike_share_one_series(void)
{
	struct prom_series *s = prom_series_new("g", "G.", PROM_GAUGE, two_labels, 2, 8);

	CHECK_INT(prom_series_set(s, VALUES("x\xff", "ok"), 1), 0);
	CHECK_INT(prom_series_set(s, VALUES("x\xfe", "ok"), 2), 0);
	CHECK_INT(prom_series_set(s, VALUES("x", "\xffok"), 3), 0);
	CHECK_INT(prom_series_count(s), 2);
	prom_series_free(s);
}

static void test_wire_tuple_reading_other_is_the_other_series(void)
{
	struct prom_series *s = certs(1);
	struct prom_writer *w = prom_writer_new();

	prom_series_add(s, VALUES("a.test"), 1);
	prom_series_add(s, VALUES("other"), 2);    /* full, but no new series */
	prom_series_add(s, VALUES("b.test"), 3);
	CHECK_INT(prom_series_folded(s), 1);
	CHECK_STR(render(s, w), CERTS_HEAD
		  "certs_total{sni=\"a.test\"} 1\n"
		  "certs_total{sni=\"other\"} 5\n" FOLDED(1));
	prom_writer_free(w);
	prom_series_free(s);
}

static void test_gauge_set_and_counter_add_only_on_their_type(void)
{
	struct prom_series *c = prom_series_new("c_total", "C.", PROM_COUNTER, sni_label, 1, 2);
	struct prom_series *g = prom_series_new("g", "G.", PROM_GAUGE, sni_label, 1, 2);

	CHECK_INT(prom_series_set(c, VALUES("a"), 1), -EINVAL);
	CHECK_INT(prom_series_add(g, VALUES("a"), 1), -EINVAL);
	CHECK_INT(prom_series_count(c) + prom_series_count(g), 0);
	CHECK(prom_series_new("x", "X.", PROM_GAUGE, sni_label,
			      PROM_SERIES_MAX_LABELS + 1, 2) == NULL);
	prom_series_free(c);
	prom_series_free(g);
}

/* What promtool gets: every kind of hostile label value, folding included. */
static int dump_hostile_exposition(void)
{
	static const char *const hostile[] = {
		"a\"b\\c\nd", "\xff\xfe", "\xc0\xaf", "\xed\xa0\x80", "\xe2\x82",
		"caf\xc3\xa9", "tab\there", "cr\rlf", "\x1b[31m", "\x7f", "",
		"}{=\",", "other", "# HELP x y", "\\", "\"", "\n",
	};
	struct prom_series *s = prom_series_new("tlswatch_handshakes_total",
						"Handshakes by \"server name\\\"\nper outcome.",
						PROM_COUNTER, two_labels, 2, 32);
	struct prom_series *g = prom_series_new("tlswatch_cert_expiry_seconds",
						"Seconds to notAfter.", PROM_GAUGE,
						sni_label, 1, 4);
	struct prom_writer *w = prom_writer_new();
	const char *text = NULL;
	size_t i;
	int err = -ENOMEM;

	if (!s || !g || !w)
		goto out;
	for (i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		err = prom_series_add(s, VALUES(hostile[i], "ok"), i + 1);
		if (!err)
			err = prom_series_set(g, &hostile[i], i % 2 ? NAN : -1e300 * (double)i);
		if (err)
			goto out;
	}
	err = prom_series_render(s, w);
	if (!err)
		err = prom_series_render(g, w);
	text = err ? NULL : prom_text(w, NULL);
	if (text)
		fputs(text, stdout);
out:
	prom_writer_free(w);
	prom_series_free(g);
	prom_series_free(s);
	return text ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "--dump") == 0)
		return dump_hostile_exposition();
	RUN_TEST(test_renders_families_in_declaration_order_exactly);
	RUN_TEST(test_one_help_and_type_per_family_across_calls);
	RUN_TEST(test_label_value_escapes_quote_backslash_newline);
	RUN_TEST(test_label_value_invalid_utf8_becomes_replacement);
	RUN_TEST(test_help_escapes_backslash_and_newline_not_quote);
	RUN_TEST(test_doubles_round_trip_and_specials_are_spelled_as_the_format);
	RUN_TEST(test_bad_names_undeclared_family_and_type_change_are_refused);
	RUN_TEST(test_reset_forgets_every_family);
	RUN_TEST(test_cap_two_folds_third_tuple_into_other);
	RUN_TEST(test_remove_drops_the_series_and_makes_room);
	RUN_TEST(test_removed_then_readded_series_restarts_at_zero);
	RUN_TEST(test_churn_keeps_insertion_order_of_the_survivors);
	RUN_TEST(test_tuples_that_render_alike_share_one_series);
	RUN_TEST(test_wire_tuple_reading_other_is_the_other_series);
	RUN_TEST(test_gauge_set_and_counter_add_only_on_their_type);
	return CHECK_EXIT_CODE();
}
