/* SPDX-License-Identifier: MIT */
/*
 * Webhook signatures, so a receiver can tell our alerts from forged ones
 * and refuse replays: the header value "t=UNIX_SECONDS,v1=HEX", HEX the
 * lowercase hex HMAC-SHA256, keyed with the shared secret, of the string
 * "UNIX_SECONDS.BODY". The receiver recomputes it and checks t is recent.
 * Errors are -errno; messages name the file involved.
 */
#ifndef TW_DELIVER_SIGN_H
#define TW_DELIVER_SIGN_H

#include <stddef.h>
#include <stdint.h>

/* "t=" + 20 digits + ",v1=" + 64 hex + NUL, rounded up. */
#define WEBHOOK_SIGNATURE_MAX 96

/*
 * Writes the signature of @body at time @t into @out. The length written
 * (without the NUL), -EINVAL for an empty secret, -ENOSPC when @outlen is
 * too small, -EIO when OpenSSL fails.
 */
int webhook_signature(const void *secret, size_t secret_len, int64_t t,
		      const char *body, size_t body_len, char *out,
		      size_t outlen);

/*
 * Reads the shared secret from @path into @buf: at least 1 and at most
 * @cap bytes, the file's one trailing "\n" or "\r\n" included in @cap and
 * then removed. Refuses a file that is not regular, that group or others
 * may access (mode & 077: it must be chmod 600), empty or longer than
 * @cap. 0 with *@len set, or -errno with @err saying why; @buf is wiped
 * on failure.
 */
int webhook_secret_load(const char *path, uint8_t *buf, size_t cap,
			size_t *len, char *err, size_t errlen);

#endif
