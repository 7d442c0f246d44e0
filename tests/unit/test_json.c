// SPDX-License-Identifier: MIT
/* The JSON writer and the printable-text helper: wire bytes never break a line. */
#include "check.h"
#include "common/printable.h"
#include "common/json.h"

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
	CHECK_STR(jw_text(&j), "0");
	jw_free(&j);
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

int main(void)
{
	RUN_TEST(test_escapes_quotes_backslash_and_controls);
	RUN_TEST(test_valid_utf8_passes_and_invalid_becomes_replacement);
	RUN_TEST(test_commas_and_nesting);
	RUN_TEST(test_not_a_number_is_written_as_zero);
	RUN_TEST(test_write_line_resets_and_reports_failure);
	RUN_TEST(test_printable_escapes_everything_unsafe);
	return CHECK_EXIT_CODE();
}
