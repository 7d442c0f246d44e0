/* SPDX-License-Identifier: MIT */
#ifndef TW_HOST_NAME_H
#define TW_HOST_NAME_H

#include <stdbool.h>
#include <stddef.h>

/*
 * How every check compares a host name (an SNI, an --expect name): without
 * the one trailing dot of an absolute name ("good.test." is good.test: a
 * client may send it, RFC 6066 forbids it, servers strip it) and, where
 * a copy is kept, in ASCII lowercase. Events keep the SNI as it was sent.
 */

/*
 * Whether @name's first @len bytes hold a NUL. An SNI off the wire may
 * ("good.test\0evil"), a DNS name cannot: such a name is covered by no
 * certificate (hostname_mismatch) and filed under no inventory name,
 * instead of being taken for the name before its NUL.
 */
bool tw_host_name_has_nul(const char *name, size_t len);

/*
 * The key a name is counted under where keys are C strings (the spike
 * detector's SNI scopes): @name itself, or, when its @len bytes hold a
 * NUL or a backslash, their escaped form (tw_printable: "good.test\x00x")
 * written into @buf (@buflen, truncated as it says). A name holding a NUL
 * is so never counted as the name before its NUL, and no name sent with
 * a literal "\x00" takes its key (its backslash is escaped too).
 */
const char *tw_host_name_key(const char *name, size_t len, char *buf,
			     size_t buflen);

/*
 * How long an SNI given as @sni and @sni_len is, where a length of 0 means
 * "up to its NUL" (cert_health_input's and spike_input's convention, for
 * callers holding a C string): @sni_len, strlen(@sni) when it is 0, and 0
 * for a NULL @sni.
 */
size_t tw_host_name_sni_len(const char *sni, size_t sni_len);

/* The length of @name's first @len bytes without one trailing dot. */
size_t tw_host_name_len(const char *name, size_t len);

/* @name (@len bytes) into @out (@outlen, NUL-terminated, truncated to
 * @outlen - 1 bytes) without one trailing dot, ASCII letters lowercased;
 * returns the bytes written. */
size_t tw_host_name_fold(const char *name, size_t len, char *out, size_t outlen);

/*
 * @name (@len bytes) as the key what is judged of a name is kept under -
 * the cert event said, the hostname verdict, the inventory's name, an
 * alert (webhook, Alertmanager), a spike's scope: host names are
 * case-insensitive (RFC 4343), so "A.test" and "a.test" (and "a.test.")
 * are one. tw_host_name_fold into @out, except "." (the only name that
 * folds to nothing; "" is a handshake without SNI), which stays ".".
 * Returns the bytes written (NUL bytes of @name kept, as given).
 */
size_t tw_host_name_fold_key(const char *name, size_t len, char *out,
			     size_t outlen);

/* Room for the key of any SNI: 255 bytes at most (HS_MAX_SNI), a NUL. */
#define TW_HOST_NAME_KEY_MAX 256

/* Whether @a (@alen bytes) and @b (@blen) have the same key
 * (tw_host_name_fold_key); NULL is no name, equal only to NULL. */
bool tw_host_name_same_key(const char *a, size_t alen, const char *b,
			   size_t blen);

#endif
