/* SPDX-License-Identifier: MIT */
/*
 * Hostname verdicts, memoized per (leaf, SNI). X509_check_host() decodes
 * the SAN extension on every call; an edge asks the same few questions
 * millions of times. The answer depends only on the certificate and the
 * name, so it never goes stale.
 *
 * Bounded: at most HOST_MEMO_MAX (leaf, name) pairs (~0.4 KB each with
 * their keys); when full it starts empty again.
 */
#ifndef TW_HOST_MEMO_H
#define TW_HOST_MEMO_H

#include <stdbool.h>

#include "cert_info.h"

#define HOST_MEMO_MAX 65536

struct host_memo;

struct host_memo *host_memo_new(void);      /* NULL: out of memory */
void host_memo_free(struct host_memo *m);

/* cert_matches_host(), remembered under the name (@name_len bytes) as it
 * is compared (common/host_name.h). @m may be NULL (not remembered). */
bool host_memo_matches(struct host_memo *m, const struct cert_info *leaf,
		       const char *name, size_t name_len);

#endif
