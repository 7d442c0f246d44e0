// SPDX-License-Identifier: MIT
/*
 * HMAC-SHA256 through OpenSSL 3's EVP_MAC, fed in three pieces so the
 * body is never copied next to the timestamp. The secret file is checked
 * on the descriptor that is read, so nothing can swap it in between.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "common/hex.h"
#include "sign.h"

#define WEBHOOK_MAC_LEN 32

static int webhook_hmac(const void *secret, size_t secret_len, const char *t,
			const char *body, size_t body_len,
			uint8_t mac[WEBHOOK_MAC_LEN])
{
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "SHA256", 0),
		OSSL_PARAM_construct_end(),
	};
	EVP_MAC *mac_alg = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = mac_alg ? EVP_MAC_CTX_new(mac_alg) : NULL;
	size_t n = 0;
	int rc = -EIO;

	if (ctx &&
	    EVP_MAC_init(ctx, secret, secret_len, params) == 1 &&
	    EVP_MAC_update(ctx, (const uint8_t *)t, strlen(t)) == 1 &&
	    EVP_MAC_update(ctx, (const uint8_t *)".", 1) == 1 &&
	    EVP_MAC_update(ctx, (const uint8_t *)body, body_len) == 1 &&
	    EVP_MAC_final(ctx, mac, &n, WEBHOOK_MAC_LEN) == 1 &&
	    n == WEBHOOK_MAC_LEN)
		rc = 0;
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac_alg);
	return rc;
}

int webhook_signature(const void *secret, size_t secret_len, int64_t t,
		      const char *body, size_t body_len, char *out,
		      size_t outlen)
{
	uint8_t mac[WEBHOOK_MAC_LEN];
	char ts[24], hex[2 * WEBHOOK_MAC_LEN + 1];
	int rc, n;

	if (!secret || secret_len == 0 || (!body && body_len))
		return -EINVAL;
	snprintf(ts, sizeof(ts), "%" PRId64, t);
	rc = webhook_hmac(secret, secret_len, ts, body ? body : "", body_len, mac);
	if (rc)
		return rc;
	n = snprintf(out, outlen, "t=%s,v1=%s", ts,
		     tw_hex(mac, sizeof(mac), hex));
	if (n < 0 || (size_t)n >= outlen)
		return -ENOSPC;
	return n;
}

/* -errno of the call that just failed, said about @path. */
static int webhook_errno(const char *path, char *err, size_t errlen)
{
	int e = errno;

	snprintf(err, errlen, "webhook secret %s: %s", path, strerror(e));
	return -e;
}

static int webhook_secret_check(int fd, const char *path, char *err,
				size_t errlen)
{
	struct stat st;

	if (fstat(fd, &st))
		return webhook_errno(path, err, errlen);
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "webhook secret %s: not a regular file", path);
		return -EINVAL;
	}
	if (st.st_mode & 077) {
		snprintf(err, errlen, "webhook secret %s: group or others may access "
			 "it (mode %04o); chmod 600 %s", path,
			 (unsigned)(st.st_mode & 07777), path);
		return -EACCES;
	}
	return 0;
}

/* Fills @buf to @cap; one more byte available means the file is too long. */
static int webhook_secret_read(int fd, const char *path, uint8_t *buf,
			       size_t cap, size_t *len, char *err,
			       size_t errlen)
{
	uint8_t extra;
	ssize_t n;

	*len = 0;
	while (*len < cap && (n = read(fd, buf + *len, cap - *len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return webhook_errno(path, err, errlen);
		*len += (size_t)n;
	}
	if (*len == cap && read(fd, &extra, 1) == 1) {
		snprintf(err, errlen, "webhook secret %s: longer than %zu bytes",
			 path, cap);
		return -EFBIG;
	}
	return 0;
}

static int webhook_secret_get(int fd, const char *path, uint8_t *buf,
			      size_t cap, size_t *len, char *err,
			      size_t errlen)
{
	int rc = webhook_secret_check(fd, path, err, errlen);

	if (!rc)
		rc = webhook_secret_read(fd, path, buf, cap, len, err, errlen);
	if (rc)
		return rc;
	if (*len && buf[*len - 1] == '\n') {
		(*len)--;
		if (*len && buf[*len - 1] == '\r')
			(*len)--;
	}
	if (*len == 0) {
		snprintf(err, errlen, "webhook secret %s: empty", path);
		return -EINVAL;
	}
	return 0;
}

int webhook_secret_load(const char *path, uint8_t *buf, size_t cap,
			size_t *len, char *err, size_t errlen)
{
	int fd, rc;

	*len = 0;
	if (!path || !buf || cap == 0) {
		snprintf(err, errlen, "webhook secret: no file or no room");
		return -EINVAL;
	}
	/* O_NONBLOCK: a FIFO would otherwise block open until a writer came. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return webhook_errno(path, err, errlen);
	rc = webhook_secret_get(fd, path, buf, cap, len, err, errlen);
	close(fd);
	if (rc) {
		explicit_bzero(buf, cap);
		*len = 0;
	}
	return rc;
}
