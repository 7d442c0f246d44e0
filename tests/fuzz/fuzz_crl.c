// SPDX-License-Identifier: MIT
/*
 * CRL bytes (DER or PEM) through the loader and the revocation lookup.
 * Two issuers: a fixed pair from scripts/make-health-pki.sh, for the seeds
 * that issuer signed (inter.der, inter.pem), one of another CA (root.der)
 * and a forged one (forged.der), so mutations reach the name match, the
 * signature check and the serial search; and tests/data/pki's
 * intermediate with three of its leaves (fuzz_crl_pki.h), for the seeds of
 * scripts/make-crl-seeds.sh: scoped CRLs (issuingDistributionPoint) and
 * delta CRLs, several in one PEM input, so mutations reach the scope
 * match and the choice of complete and delta CRLs.
 */
#include <stddef.h>
#include <stdint.h>

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "cert/crl.h"
#include "fuzz_crl_pki.h"

static const char issuer_pem[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIIB8DCCAZegAwIBAgICAgAwCgYIKoZIzj0EAwIwMzEWMBQGA1UECgwNdGxzd2F0\n"
	"Y2ggdGVzdDEZMBcGA1UEAwwQSGVhbHRoIFRlc3QgUm9vdDAeFw0yNDAxMDEwMDAw\n"
	"MDBaFw00OTEyMzEwMDAwMDBaMDsxFjAUBgNVBAoMDXRsc3dhdGNoIHRlc3QxITAf\n"
	"BgNVBAMMGEhlYWx0aCBUZXN0IEludGVybWVkaWF0ZTBZMBMGByqGSM49AgEGCCqG\n"
	"SM49AwEHA0IABM6oHKmdtP4uLgytDtM6FVMF2LS/cIporfcLyLrj0LGYR3sho1UK\n"
	"Z8PDKh7lZ0x0v9E5HxlVZvF3WZ8FZfqMkkOjgZIwgY8wDwYDVR0TAQH/BAUwAwEB\n"
	"/zAOBgNVHQ8BAf8EBAMCAYYwHQYDVR0OBBYEFMU5XIAsouTZYTUhdc8TEoKUnwS8\n"
	"MB8GA1UdIwQYMBaAFHQEg227q+qYgTxEUaiQOQ7mUWJTMCwGA1UdHwQlMCMwIaAf\n"
	"oB2GG2h0dHA6Ly8xMjcuMC4wLjE6OS9yb290LmNybDAKBggqhkjOPQQDAgNHADBE\n"
	"AiAuJXw1t5oAGU88GrDC9y1b1tiq2dASGYQ8EfjwBumCiAIgBjL5e0IkKWhiMQlQ\n"
	"NMPKTS6dGMZFYjKH9bfUVI/Drgo=\n"
	"-----END CERTIFICATE-----\n";

static const char leaf_pem[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIICSTCCAe+gAwIBAgICEAQwCgYIKoZIzj0EAwIwOzEWMBQGA1UECgwNdGxzd2F0\n"
	"Y2ggdGVzdDEhMB8GA1UEAwwYSGVhbHRoIFRlc3QgSW50ZXJtZWRpYXRlMB4XDTI1\n"
	"MDEwMTAwMDAwMFoXDTQ1MDEwMTAwMDAwMFowLzEWMBQGA1UECgwNdGxzd2F0Y2gg\n"
	"dGVzdDEVMBMGA1UEAwwMcmV2b2tlZC50ZXN0MFkwEwYHKoZIzj0CAQYIKoZIzj0D\n"
	"AQcDQgAEHamjBEOxGEjHx8O3oAQZMUJzPA/05IZk8WOZ0R2HC3kPsePHHyLUIRuM\n"
	"sugsezXOjOTI+y8Zvfdm8USjM+LYo6OB7jCB6zAMBgNVHRMBAf8EAjAAMA4GA1Ud\n"
	"DwEB/wQEAwIHgDATBgNVHSUEDDAKBggrBgEFBQcDATAdBgNVHQ4EFgQUne8x0BP9\n"
	"CEnuckVBOzycyfk6CtswHwYDVR0jBBgwFoAUxTlcgCyi5NlhNSF1zxMSgpSfBLww\n"
	"FwYDVR0RBBAwDoIMcmV2b2tlZC50ZXN0MC0GA1UdHwQmMCQwIqAgoB6GHGh0dHA6\n"
	"Ly8xMjcuMC4wLjE6OS9pbnRlci5jcmwwLgYIKwYBBQUHAQEEIjAgMB4GCCsGAQUF\n"
	"BzABhhJodHRwOi8vMTI3LjAuMC4xOjkwCgYIKoZIzj0EAwIDSAAwRQIgGF3Xrl62\n"
	"TGrPwDElt9Y3TndR6ouR8bfYnD+HTMlvukcCIQDNK7qaP22KreKg2IebYJZj6KB+\n"
	"86XlEkhsot09X1sOEg==\n"
	"-----END CERTIFICATE-----\n";

static X509 *issuer, *leaf;
static X509 *pki_issuer, *pki_leaves[3];

static X509 *load_pem(const char *pem)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;

	BIO_free(b);
	return x;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	static const char *const leaves[] = {
		crl_pki_dhold, crl_pki_dshard1, crl_pki_drel,
	};
	size_t i;

	issuer = load_pem(issuer_pem);
	leaf = load_pem(leaf_pem);
	pki_issuer = load_pem(crl_pki_issuer);
	if (!issuer || !leaf || !pki_issuer)
		return -1;
	for (i = 0; i < sizeof(leaves) / sizeof(leaves[0]); i++)
		if (!(pki_leaves[i] = load_pem(leaves[i])))
			return -1;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct crl_store *s = crl_store_new();
	struct crl_answer a;
	char err[256];
	size_t i;

	if (!s)
		return 0;
	if (crl_store_add(s, data, size, "fuzz", true, err, sizeof(err)) > 0) {
		crl_check(s, leaf, issuer, 1780000000, &a);
		crl_check(s, issuer, issuer, 1780000000, &a);
		(void)crl_reason_name(a.reason);
		for (i = 0; i < sizeof(pki_leaves) / sizeof(pki_leaves[0]); i++)
			crl_check(s, pki_leaves[i], pki_issuer, 1780000000, &a);
		crl_check(s, pki_issuer, pki_issuer, 1780000000, &a);
	}
	crl_store_free(s);
	return 0;
}
