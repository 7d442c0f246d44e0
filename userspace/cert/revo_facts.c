// SPDX-License-Identifier: MIT
/* Per-certificate revocation facts kept in ex_data: see revo_facts.h. */
#include <pthread.h>
#include <stdlib.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "common/digest.h"
#include "ocsp_client.h"
#include "revo_facts.h"

static int facts_index = -1;
static pthread_once_t facts_once = PTHREAD_ONCE_INIT;

static void facts_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx,
		       long argl, void *argp)
{
	free(ptr);
}

static void facts_register(void)
{
	facts_index = X509_get_ex_new_index(0, NULL, NULL, NULL, facts_free);
}

static void facts_decode(X509 *x, struct revo_facts *f)
{
	unsigned int len = 0;

	f->has_sha256 = X509_digest(x, tw_md_sha256(), f->sha256, &len) && len == 32;
	f->has_ocsp_url = ocsp_responder_url(x, f->ocsp_url, sizeof(f->ocsp_url));
	f->n_crl_urls = crl_distribution_urls(x, f->crl_urls, REVO_FACTS_MAX_CRL_URLS);
}

const struct revo_facts *revo_facts_of(X509 *x)
{
	struct revo_facts *f;

	if (pthread_once(&facts_once, facts_register) || facts_index < 0 || !x)
		return NULL;
	f = X509_get_ex_data(x, facts_index);
	if (f)
		return f;
	f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	facts_decode(x, f);
	if (!X509_set_ex_data(x, facts_index, f)) {
		free(f);
		return NULL;
	}
	return f;
}
