/* SPDX-License-Identifier: MIT */
/*
 * The part of certificate health that a reload replaces: the trust store,
 * the CRLs (--crl files, and those downloaded from distribution points,
 * which the store judges together), the expectations and the staple age
 * limit. Everything cached under one trust store and one CRL set belongs
 * here (the chain verification memo), so that a new check state starts
 * with fresh caches. Not for other
 * modules: health.c and health_checks.c only.
 */
#ifndef TW_HEALTH_CHECKS_H
#define TW_HEALTH_CHECKS_H

#include "crl.h"
#include "crl_fetch.h"
#include "expect.h"
#include "health.h"
#include "verify_cache.h"

struct cert_checks {
	struct verify_store *vs;
	struct verify_cache *verified;  /* answers under vs only */
	struct crl_store *crls;
	struct crl_fetch *fetch;        /* NULL without --online */
	struct expect_set *expect;      /* NULL without --expect/--expect-dir */
	int64_t staple_max_age_s;
};

/* Builds a check state from @o; downloads go through @pool (NULL:
 * offline). -1 and @err naming the file or option; nothing is left. */
int cert_checks_open(const struct cert_health_opts *o, struct http_pool *pool,
		     struct cert_checks **out, char *err, size_t errlen);

#endif
