/* SPDX-License-Identifier: MIT */
#ifndef TW_HOST_NAME_H
#define TW_HOST_NAME_H

#include <stddef.h>

/*
 * How every check compares a host name (an SNI, an --expect name): without
 * the one trailing dot of an absolute name ("good.test." is good.test: a
 * client may send it, RFC 6066 forbids it, servers strip it) and, where
 * a copy is kept, in ASCII lowercase. Events keep the SNI as it was sent.
 */

/* The length of @name's first @len bytes without one trailing dot. */
size_t tw_host_name_len(const char *name, size_t len);

/* @name (@len bytes) into @out (@outlen, NUL-terminated, truncated to
 * @outlen - 1 bytes) without one trailing dot, ASCII letters lowercased;
 * returns the bytes written. */
size_t tw_host_name_fold(const char *name, size_t len, char *out, size_t outlen);

#endif
