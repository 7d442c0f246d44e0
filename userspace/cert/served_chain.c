// SPDX-License-Identifier: MIT
/* Issuers among the served certificates: see served_chain.h. */
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "served_chain.h"

#define SERVED_SKIP_BITS 32

int served_issuer_index(const struct cert_info *const *chain, int n, X509 *x,
			uint32_t skip)
{
	int i, found = -1;

	for (i = 0; x && i < n && i < SERVED_SKIP_BITS && found < 0; i++)
		if (!(skip & (1u << i)) && chain[i] && chain[i]->x509 &&
		    X509_check_issued(chain[i]->x509, x) == X509_V_OK)
			found = i;
	/* a refusal leaves its reason on the error queue */
	ERR_clear_error();
	return found;
}
