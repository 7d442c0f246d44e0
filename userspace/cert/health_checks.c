// SPDX-License-Identifier: MIT
/* The replaceable check state: built completely, or not at all. */
#include <stdio.h>
#include <stdlib.h>

#include "health_checks.h"

static int checks_load_crls(struct cert_checks *c, const struct cert_health_opts *o,
			    char *err, size_t errlen)
{
	int i;

	c->crls = crl_store_new();
	if (!c->crls) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (i = 0; i < o->n_crl; i++)
		if (crl_store_load_file(c->crls, o->crl_files[i], err, errlen))
			return -1;
	return 0;
}

int cert_checks_open(const struct cert_health_opts *o, struct http_pool *pool,
		     struct cert_checks **out, char *err, size_t errlen)
{
	struct cert_checks *c = calloc(1, sizeof(*c));

	*out = NULL;
	if (!c) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	c->staple_max_age_s = o->staple_max_age_s > 0 ? o->staple_max_age_s : 0;
	if (verify_store_open(o->ca_file, o->ca_dir, &c->vs, err, errlen))
		goto fail;
	c->verified = verify_cache_new(c->vs);
	if (!c->verified) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (checks_load_crls(c, o, err, errlen))
		goto fail;
	if ((o->n_expects > 0 || o->expect_dir) &&
	    expect_set_open(o->expects, o->n_expects, o->expect_dir, &c->expect,
			    err, errlen))
		goto fail;
	if (pool && !(c->fetch = crl_fetch_new(pool, c->crls))) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	*out = c;
	return 0;
fail:
	cert_checks_free(c);
	return -1;
}

void cert_checks_free(struct cert_checks *c)
{
	if (!c)
		return;
	crl_fetch_free(c->fetch);
	expect_set_free(c->expect);
	crl_store_free(c->crls);
	verify_cache_free(c->verified);   /* borrows vs: first */
	verify_store_free(c->vs);
	free(c);
}
