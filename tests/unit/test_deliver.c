// SPDX-License-Identifier: MIT
/* Webhook delivery helpers: retry timing, status verdicts, signatures. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "deliver/backoff.h"
#include "deliver/sign.h"

#define SEC 1000000LL

static void test_backoff_doubles_with_equal_jitter(void)
{
	CHECK_INT(backoff_delay_us(0, SEC, 300 * SEC, 0), 500000);
	CHECK_INT(backoff_delay_us(0, SEC, 300 * SEC, 0x80000000u), 750000);
	CHECK_INT(backoff_delay_us(3, SEC, 300 * SEC, 0), 4 * SEC);
	CHECK_INT(backoff_delay_us(3, SEC, 300 * SEC, 0xffffffffu), 7999999);
	CHECK_INT(backoff_delay_us(0, 3, 100, 0), 2);      /* odd: the fixed half rounds up */
}

static void test_backoff_is_capped_at_max(void)
{
	CHECK_INT(backoff_delay_us(20, SEC, 300 * SEC, 0), 150 * SEC);
	CHECK_INT(backoff_delay_us(2000000000, SEC, 300 * SEC, 0x80000000u), 225 * SEC);
	CHECK_INT(backoff_delay_us(0, 10 * SEC, 4 * SEC, 0), 2 * SEC);
	CHECK_INT(backoff_delay_us(-1, SEC, 300 * SEC, 0), 500000);
}

/* Whatever cap it is given (--webhook-retry-max stops at 12 h), a delay
 * never passes 12 h. */
static void test_backoff_never_passes_the_delay_cap(void)
{
	CHECK_INT(BACKOFF_DELAY_MAX_US, 12 * 3600 * SEC);
	CHECK_INT(backoff_delay_us(40, SEC, 86400 * SEC, 0xffffffffu) <=
		  BACKOFF_DELAY_MAX_US, 1);
	CHECK_INT(backoff_delay_us(40, SEC, 86400 * SEC, 0), 6 * 3600 * SEC);
}

static void test_retry_after_delta_seconds(void)
{
	CHECK_INT(backoff_retry_after_us("120", 5), 120 * SEC);
	CHECK_INT(backoff_retry_after_us(" 0 ", 5), 0);
	CHECK_INT(backoff_retry_after_us("99999999999999999999999", 5),
		  12 * 3600 * SEC);
	CHECK_INT(backoff_retry_after_us("86400", 5), 12 * 3600 * SEC);
	CHECK_INT(backoff_retry_after_us("43200", 5), 12 * 3600 * SEC);
	CHECK_INT(backoff_retry_after_us("43199", 5), 43199 * SEC);
}

static void test_retry_after_http_date(void)
{
	const char *date = "Wed, 21 Oct 2015 07:28:00 GMT";   /* 1445412480 */

	CHECK_INT(backoff_retry_after_us(date, 1445412450 * SEC), 30 * SEC);
	CHECK_INT(backoff_retry_after_us(date, 1445412450 * SEC + 250000), 29750000);
	CHECK_INT(backoff_retry_after_us(date, 1445412481 * SEC), 0);   /* past */
	CHECK_INT(backoff_retry_after_us(date, 1400000000 * SEC), 12 * 3600 * SEC);
}

static void test_retry_after_invalid_is_minus_one(void)
{
	CHECK_INT(backoff_retry_after_us(NULL, 0), -1);
	CHECK_INT(backoff_retry_after_us("", 0), -1);
	CHECK_INT(backoff_retry_after_us("  ", 0), -1);
	CHECK_INT(backoff_retry_after_us("-5", 0), -1);
	CHECK_INT(backoff_retry_after_us("+5", 0), -1);
	CHECK_INT(backoff_retry_after_us("1.5", 0), -1);
	CHECK_INT(backoff_retry_after_us("12x", 0), -1);
	CHECK_INT(backoff_retry_after_us("soon", 0), -1);
}

static void test_classify_status(void)
{
	CHECK_INT(backoff_classify_status(200, false), BACKOFF_DELIVERED);
	CHECK_INT(backoff_classify_status(204, false), BACKOFF_DELIVERED);
	CHECK_INT(backoff_classify_status(400, false), BACKOFF_GIVE_UP);
	CHECK_INT(backoff_classify_status(404, false), BACKOFF_GIVE_UP);
	CHECK_INT(backoff_classify_status(408, false), BACKOFF_RETRY);
	CHECK_INT(backoff_classify_status(429, false), BACKOFF_RETRY);
	CHECK_INT(backoff_classify_status(500, false), BACKOFF_RETRY);
	CHECK_INT(backoff_classify_status(503, false), BACKOFF_RETRY);
	CHECK_INT(backoff_classify_status(301, false), BACKOFF_RETRY);
	CHECK_INT(backoff_classify_status(0, true), BACKOFF_RETRY);
	CHECK_INT(backoff_classify_status(200, true), BACKOFF_RETRY);
	CHECK_INT(backoff_classify_status(0, false), BACKOFF_RETRY);
}

static void test_signature_matches_openssl_dgst(void)
{
	/* printf '%s' '1700000000.{"a":1}' | openssl dgst -sha256 -hmac secret */
	char out[WEBHOOK_SIGNATURE_MAX];
	const char *body = "{\"a\":1}";

	CHECK_INT(webhook_signature("secret", 6, 1700000000, body, 7, out,
				    sizeof(out)), 80);
	CHECK_STR(out, "t=1700000000,v1="
		  "49f24e537407743fa4a0242bb63b94b9a47ee99cbbe071ccd8a22550ae411686");
}

static void test_signature_refuses_small_buffer_and_empty_secret(void)
{
	char out[WEBHOOK_SIGNATURE_MAX];

	CHECK_INT(webhook_signature("secret", 6, 1700000000, "x", 1, out, 80), -ENOSPC);
	CHECK_INT(webhook_signature("", 0, 1700000000, "x", 1, out, sizeof(out)), -EINVAL);
}

/* A temporary file holding @data with @mode; its path in @path. */
static void secret_file(char path[64], const char *data, mode_t mode)
{
	int fd;

	snprintf(path, 64, "/tmp/tw_secret_XXXXXX");
	fd = mkstemp(path);
	CHECK(fd >= 0);
	if (fd < 0)
		return;
	CHECK_INT(write(fd, data, strlen(data)), (long long)strlen(data));
	CHECK_INT(fchmod(fd, mode), 0);
	close(fd);
}

static int load(const char *path, uint8_t *buf, size_t cap, size_t *len,
		char *err)
{
	return webhook_secret_load(path, buf, cap, len, err, 256);
}

static void test_secret_readable_by_others_is_refused(void)
{
	/* any permission for the group or others, even one bit */
	static const mode_t refused[] = { 0644, 0640, 0604, 0620, 0601 };
	char path[64], err[256], want[160];
	uint8_t buf[64];
	size_t i, len;

	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		len = 9;
		secret_file(path, "s3cret\n", refused[i]);
		CHECK_INT(load(path, buf, sizeof(buf), &len, err), -EACCES);
		CHECK_INT(len, 0);
		snprintf(want, sizeof(want), "webhook secret %s: group or others may "
			 "access it (mode %04o); chmod 600 %s", path,
			 (unsigned)refused[i], path);
		CHECK_STR(err, want);
		unlink(path);
	}
}

static void test_secret_mode_600_loads_without_newline(void)
{
	char path[64], err[256] = "";
	uint8_t buf[64];
	size_t len = 0;

	secret_file(path, "s3cret\n", 0600);
	CHECK_INT(load(path, buf, sizeof(buf), &len, err), 0);
	CHECK_INT(len, 6);
	CHECK(memcmp(buf, "s3cret", 6) == 0);
	unlink(path);
	secret_file(path, "s3cret\r\n", 0600);
	CHECK_INT(load(path, buf, sizeof(buf), &len, err), 0);
	CHECK_INT(len, 6);
	unlink(path);
	secret_file(path, "s3cret\n\n", 0400);   /* only one newline goes */
	CHECK_INT(load(path, buf, sizeof(buf), &len, err), 0);
	CHECK_INT(len, 7);
	unlink(path);
}

static void test_secret_empty_long_or_not_regular_is_refused(void)
{
	char path[64], err[256];
	uint8_t buf[8];
	size_t len;

	secret_file(path, "", 0600);
	CHECK_INT(load(path, buf, sizeof(buf), &len, err), -EINVAL);
	unlink(path);
	secret_file(path, "\n", 0600);
	CHECK_INT(load(path, buf, sizeof(buf), &len, err), -EINVAL);
	unlink(path);
	secret_file(path, "123456789", 0600);
	CHECK_INT(load(path, buf, sizeof(buf), &len, err), -EFBIG);
	unlink(path);
	secret_file(path, "12345678", 0600);    /* exactly cap */
	CHECK_INT(load(path, buf, sizeof(buf), &len, err), 0);
	CHECK_INT(len, 8);
	unlink(path);
	CHECK_INT(load("/tmp", buf, sizeof(buf), &len, err), -EINVAL);
	CHECK_STR(err, "webhook secret /tmp: not a regular file");
	CHECK_INT(load("/nonexistent/secret", buf, sizeof(buf), &len, err), -ENOENT);
}

int main(void)
{
	RUN_TEST(test_backoff_doubles_with_equal_jitter);
	RUN_TEST(test_backoff_is_capped_at_max);
	RUN_TEST(test_backoff_never_passes_the_delay_cap);
	RUN_TEST(test_retry_after_delta_seconds);
	RUN_TEST(test_retry_after_http_date);
	RUN_TEST(test_retry_after_invalid_is_minus_one);
	RUN_TEST(test_classify_status);
	RUN_TEST(test_signature_matches_openssl_dgst);
	RUN_TEST(test_signature_refuses_small_buffer_and_empty_secret);
	RUN_TEST(test_secret_readable_by_others_is_refused);
	RUN_TEST(test_secret_mode_600_loads_without_newline);
	RUN_TEST(test_secret_empty_long_or_not_regular_is_refused);
	return CHECK_EXIT_CODE();
}
