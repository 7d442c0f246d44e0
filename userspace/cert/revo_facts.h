/* SPDX-License-Identifier: MIT */
/*
 * What revocation checking needs to know about one certificate - its
 * SHA-256 (the OCSP cache key), its OCSP responder URL, its CRL
 * distribution points - decoded once per certificate object and kept with
 * it (OpenSSL ex_data), instead of once per handshake: the same chain
 * objects come back for every handshake that serves them (the certificate
 * cache and the trust store own them), and freeing the object frees its
 * facts.
 */
#ifndef TW_REVO_FACTS_H
#define TW_REVO_FACTS_H

#include <stdbool.h>
#include <stdint.h>

#include "crl.h"
#include "net/http_pool.h"

#define REVO_FACTS_MAX_CRL_URLS 4

typedef struct x509_st X509;

struct revo_facts {
	bool has_sha256;
	uint8_t sha256[32];
	bool has_ocsp_url;
	char ocsp_url[HTTP_URL_MAX];
	int n_crl_urls;
	char crl_urls[REVO_FACTS_MAX_CRL_URLS][CRL_URL_MAX];
};

/* The facts of @x, decoded on first use. NULL only when out of memory.
 * Not thread-safe for one object: call from the owner's thread. */
const struct revo_facts *revo_facts_of(X509 *x);

#endif
