/* SPDX-License-Identifier: MIT */
/*
 * Chain verification against a trust store, at the time the handshake was
 * seen. Revocation is not part of it (see revocation.h): a certificate
 * whose revocation status is unknown still verifies.
 */
#ifndef TW_VERIFY_H
#define TW_VERIFY_H

#include <stddef.h>
#include <stdint.h>

#include "cert_info.h"

typedef struct x509_store_st X509_STORE;
struct stack_st_X509;

struct verify_store;

/*
 * The trust store: @ca_file (a PEM bundle) and/or @ca_dir (every PEM file
 * in it, no c_rehash needed); with neither, OpenSSL's system default paths.
 * -1 and @err when a given file or directory yields no certificate.
 */
int verify_store_open(const char *ca_file, const char *ca_dir,
		      struct verify_store **out, char *err, size_t errlen);
void verify_store_free(struct verify_store *vs);
/* The X509_STORE itself (borrowed), for OCSP signer checks. */
X509_STORE *verify_store_x509(struct verify_store *vs);

struct verify_result {
	int code;            /* X509_V_OK (0) or X509_V_ERR_* */
	int depth;           /* where the error is (0: leaf); -1 when ok */
	char text[128];      /* "ok" or X509_verify_cert_error_string(code) */
	char detail[256];    /* text plus depth and subject, for the finding */
	/* The chain OpenSSL built, leaf first, ending at the trust anchor when
	 * verification succeeded (as far as it got otherwise). Owned: free
	 * with verify_result_release(). */
	struct stack_st_X509 *built;
};

/*
 * Verifies @chain[0] (the leaf) with @chain[1..n-1] as untrusted
 * intermediates (NULL entries, certificates that did not parse, are
 * skipped) at @at (seconds since the epoch), for TLS server use.
 * Returns 0 when verified, 1 when not (res->text says why), -1 when it
 * could not run (no leaf, out of memory).
 */
int verify_chain(struct verify_store *vs, const struct cert_info *const *chain,
		 int n, int64_t at, struct verify_result *res);
void verify_result_release(struct verify_result *res);

#endif
