// SPDX-License-Identifier: MIT
/* The JSON writer and the printable-text helper: wire bytes never break a line. */
#include <arpa/inet.h>
#include <errno.h>

#include "check.h"
#include "common/endpoint.h"
#include "common/printable.h"
#include "common/json.h"
#include "common/timefmt.h"

static const char *one_string(struct json_writer *j, const char *s, size_t n)
{
	jw_reset(j);
	jw_string_n(j, s, n);
	return jw_text(j);
}

static void test_escapes_quotes_backslash_and_controls(void)
{
	struct json_writer j;

	jw_init(&j);
	CHECK_STR(one_string(&j, "a\"b\\c", 5), "\"a\\\"b\\\\c\"");
	CHECK_STR(one_string(&j, "\n\r\t\b\f", 5), "\"\\n\\r\\t\\b\\f\"");
	CHECK_STR(one_string(&j, "\x01\x1f\x7f", 3), "\"\\u0001\\u001f\\u007f\"");
	CHECK_STR(one_string(&j, "a\0b", 3), "\"a\\u0000b\"");
	jw_free(&j);
}

static void test_valid_utf8_passes_and_invalid_becomes_replacement(void)
{
	struct json_writer j;

	jw_init(&j);
	CHECK_STR(one_string(&j, "caf\xc3\xa9", 5), "\"caf\xc3\xa9\"");
	CHECK_STR(one_string(&j, "\xf0\x9f\x94\x92", 4), "\"\xf0\x9f\x94\x92\"");
	CHECK_STR(one_string(&j, "\xff", 1), "\"\\ufffd\"");
	CHECK_STR(one_string(&j, "\xc3", 1), "\"\\ufffd\"");              /* cut sequence */
	CHECK_STR(one_string(&j, "\xc0\xaf", 2), "\"\\ufffd\\ufffd\"");    /* overlong */
	CHECK_STR(one_string(&j, "\xed\xa0\x80", 3), "\"\\ufffd\\ufffd\\ufffd\""); /* surrogate */
	jw_free(&j);
}

static void test_commas_and_nesting(void)
{
	struct json_writer j;

	jw_init(&j);
	jw_object_begin(&j);
	jw_kv_str(&j, "a", "x");
	jw_kv_str(&j, "skipped", NULL);
	jw_key(&j, "b");
	jw_array_begin(&j);
	jw_int(&j, -1);
	jw_uint(&j, 2);
	jw_bool(&j, true);
	jw_object_begin(&j);
	jw_object_end(&j);
	jw_array_end(&j);
	jw_kv_double(&j, "r", 0.25);
	jw_kv_time_us(&j, "ts", 1795000000123456ULL);
	jw_kv_time_s(&j, "t", 0);
	jw_object_end(&j);
	CHECK_STR(jw_text(&j), "{\"a\":\"x\",\"b\":[-1,2,true,{}],\"r\":0.25,"
		  "\"ts\":\"2026-11-18T11:06:40.123456Z\",\"t\":\"1970-01-01T00:00:00Z\"}");
	jw_free(&j);
}

static void test_not_a_number_is_written_as_zero(void)
{
	struct json_writer j;
	double zero = 0.0;

	jw_init(&j);
	jw_double(&j, zero / zero);
	CHECK_STR(jw_text(&j), "0.0");
	jw_free(&j);
}

/* A double is always written as one: 1 is 1.0 (a rate of 1 read as an
 * integer made a log pipeline map the key as one). */
static void test_whole_doubles_keep_a_fraction(void)
{
	static const struct { double v; const char *text; } cases[] = {
		{ 0, "0.0" }, { 1, "1.0" }, { -3, "-3.0" }, { 0.625, "0.625" },
		{ 1e6, "1e+06" }, { 123456, "123456.0" }, { 2.5e-7, "2.5e-07" },
	};
	struct json_writer j;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		jw_init(&j);
		jw_double(&j, cases[i].v);
		CHECK_STR(jw_text(&j), cases[i].text);
		jw_free(&j);
	}
}

static void test_write_line_resets_and_reports_failure(void)
{
	struct json_writer j;
	FILE *f = tmpfile();
	char buf[64] = "";

	jw_init(&j);
	jw_object_begin(&j);
	jw_kv_int(&j, "n", 1);
	jw_object_end(&j);
	CHECK_INT(jw_write_line(&j, f), 0);
	CHECK_STR(jw_text(&j), "");
	rewind(f);
	CHECK(fgets(buf, sizeof(buf), f) != NULL);
	CHECK_STR(buf, "{\"n\":1}\n");
	fclose(f);
	for (int i = 0; i < JW_MAX_DEPTH + 2; i++)   /* too deep: sticky failure */
		jw_array_begin(&j);
	CHECK(j.failed);
	CHECK_INT(jw_write_line(&j, stdout), -1);
	jw_free(&j);
}

static void test_printable_escapes_everything_unsafe(void)
{
	char out[64];

	CHECK_STR(tw_printable("ok.test", 7, out, sizeof(out)), "ok.test");
	CHECK_STR(tw_printable("a\nb\\\x1b\xff", 6, out, sizeof(out)),
		  "a\\x0ab\\x5c\\x1b\\xff");
	CHECK_STR(tw_printable("0123456789abcdef", 16, out, 12), "01234567...");   /* 8 + "..." + NUL */
}

static void test_numbers_cover_the_whole_range(void)
{
	struct json_writer j;

	jw_init(&j);
	jw_array_begin(&j);
	jw_int(&j, 0);
	jw_int(&j, INT64_MIN);
	jw_int(&j, INT64_MAX);
	jw_uint(&j, UINT64_MAX);
	jw_uint(&j, 10);
	jw_array_end(&j);
	CHECK_STR(jw_text(&j), "[0,-9223372036854775808,9223372036854775807,"
		  "18446744073709551615,10]");
	jw_free(&j);
}

/* What tw_time_format_s() wrote before it had its own calendar code; it
 * still writes that outside years 0-999, which it writes in four digits. */
static const char *libc_time(int64_t secs, char *buf, size_t len)
{
	struct tm tm;
	time_t t = (time_t)secs;

	if (!gmtime_r(&t, &tm) || !strftime(buf, len - 1, "%Y-%m-%dT%H:%M:%S", &tm))
		snprintf(buf, len, "1970-01-01T00:00:00");
	strcat(buf, "Z");
	return buf;
}

static void test_times_are_formatted_as_gmtime_and_strftime_would(void)
{
	static const int64_t edges[] = {
		0, -1, 59, 86399, 86400, 951782400 /* 2000-02-29 */, 951868800,
		4107542400 /* 2100-03-01 */, -30610224000 /* 1000-01-01 */,
		253402300799 /* 9999-12-31T23:59:59 */,
	};
	const int64_t year_0 = -62167219200, year_1000 = -30610224000,
		      year_10000 = 253402300800;
	char got[TW_TIME_STRLEN], want[TW_TIME_STRLEN];
	uint64_t x = 88172645463325252ULL;
	int i;

	for (i = 0; i < (int)(sizeof(edges) / sizeof(edges[0])); i++)
		CHECK_STR(tw_time_format_s(edges[i], got), libc_time(edges[i], want, sizeof(want)));
	for (i = 0; i < 200000; i++) {   /* xorshift over years 1000-9999 and beyond */
		int64_t t;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		t = (int64_t)(x % 600000000000ULL) - 100000000000LL;
		if (t < year_1000 || t >= year_10000)
			continue;
		if (strcmp(tw_time_format_s(t, got), libc_time(t, want, sizeof(want))) != 0) {
			CHECK_STR(got, want);
			break;
		}
	}
	CHECK_STR(tw_time_format_us(1795000000000001ULL, got), "2026-11-18T11:06:40.000001Z");
	CHECK_STR(tw_time_format_us(0, got), "1970-01-01T00:00:00.000000Z");
	CHECK_STR(tw_time_format_s(2240611200, got), "2041-01-01T00:00:00Z");
	/* years before 1000 in four digits, as RFC 3339 has them */
	CHECK_STR(tw_time_format_s(year_1000 - 1, got), "0999-12-31T23:59:59Z");
	CHECK_STR(tw_time_format_s(-62135596800, got), "0001-01-01T00:00:00Z");
	CHECK_STR(tw_time_format_s(year_0, got), "0000-01-01T00:00:00Z");
	/* outside RFC 3339's years: the nearest time it can say */
	CHECK_STR(tw_time_format_s(year_0 - 1, got), "0000-01-01T00:00:00Z");
	CHECK_STR(tw_time_format_s(INT64_MIN, got), "0000-01-01T00:00:00Z");
	CHECK_STR(tw_time_format_s(year_10000, got), "9999-12-31T23:59:59Z");
	CHECK_STR(tw_time_format_s(INT64_MAX, got), "9999-12-31T23:59:59Z");
	CHECK_STR(tw_time_format_us(UINT64_MAX, got), "9999-12-31T23:59:59.999999Z");
	CHECK_STR(tw_time_format_us((uint64_t)year_10000 * 1000000 - 1, got),
		  "9999-12-31T23:59:59.999999Z");
}

/* --since and --until: a time that does not exist is refused, not
 * carried into the next month or minute. */
static void test_only_times_that_exist_are_parsed(void)
{
	static const char *const bad[] = {
		"2026-02-30T14:00:00Z", "2026-02-29T00:00:00Z", "2026-04-31T00:00:00Z",
		"2026-12-06T14:00:60Z", "2026-12-06T24:00:00Z", "2026-12-06T14:60:00Z",
		"2026-13-01T00:00:00Z", "2026-12-00T00:00:00Z", "2026-12-06T14:00:00",
		"2026-12-06", "",
	};
	int64_t s = -1;
	int i;

	CHECK_INT(tw_time_parse_s("2026-12-06T14:00:00Z", &s), 0);
	CHECK_INT(s, 1796565600);
	CHECK_INT(tw_time_parse_s("2028-02-29T23:59:59Z", &s), 0);
	CHECK_INT(s, 1835481599);
	CHECK_INT(tw_time_parse_s("1970-01-01T00:00:00Z", &s), 0);
	CHECK_INT(s, 0);
	for (i = 0; i < (int)(sizeof(bad) / sizeof(bad[0])); i++) {
		s = -1;
		if (tw_time_parse_s(bad[i], &s) != -EINVAL) {
			printf("#   '%s' parsed as %lld\n", bad[i], (long long)s);
			CHECK(0);
		}
	}
}

static void test_ipv4_is_formatted_as_inet_ntop_would(void)
{
	struct tw_addr a = { .family = 4, .bytes = { 10, 0, 100, 9 } };
	char got[TW_ADDR_STRLEN], want[INET_ADDRSTRLEN];
	int pos, v;

	CHECK_STR(tw_addr_format(&a, got), "10.0.100.9");
	for (pos = 0; pos < 4; pos++) {
		for (v = 0; v < 256; v++) {
			a.bytes[pos] = (uint8_t)v;
			inet_ntop(AF_INET, a.bytes, want, sizeof(want));
			CHECK_STR(tw_addr_format(&a, got), want);
		}
	}
	CHECK_STR(got, "255.255.255.255");
}

int main(void)
{
	RUN_TEST(test_escapes_quotes_backslash_and_controls);
	RUN_TEST(test_valid_utf8_passes_and_invalid_becomes_replacement);
	RUN_TEST(test_commas_and_nesting);
	RUN_TEST(test_not_a_number_is_written_as_zero);
	RUN_TEST(test_whole_doubles_keep_a_fraction);
	RUN_TEST(test_write_line_resets_and_reports_failure);
	RUN_TEST(test_printable_escapes_everything_unsafe);
	RUN_TEST(test_numbers_cover_the_whole_range);
	RUN_TEST(test_times_are_formatted_as_gmtime_and_strftime_would);
	RUN_TEST(test_only_times_that_exist_are_parsed);
	RUN_TEST(test_ipv4_is_formatted_as_inet_ntop_would);
	return CHECK_EXIT_CODE();
}
