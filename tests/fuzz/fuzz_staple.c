// SPDX-License-Identifier: MIT
/*
 * Stapled OCSP bytes into staple_check() for a fixed leaf and issuer.
 *
 * The PKI is built in memory at start-up with Ed25519 keys derived from
 * fixed seeds, fixed serials and fixed dates, so the certificates are the
 * same bytes on every run: the seed corpus (real responses about this
 * leaf) keeps matching CertIDs and signatures. To rewrite the seeds:
 *   FUZZ_STAPLE_WRITE_SEEDS=tests/fuzz/corpus/fuzz_staple build/fuzz/fuzz_staple -runs=0
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cert/cert_info.h"
#include "cert/staple.h"

#define T_2025 1735689600L
#define T_2060 2840140800L

struct fz_party {
	EVP_PKEY *key;
	X509 *cert;
	const struct cert_info *ci;
};

static struct cert_cache *fz_cache;
static struct fz_party fz_issuer, fz_leaf, fz_responder;
static volatile size_t sink;

static void fz_die(const char *what)
{
	fprintf(stderr, "fuzz_staple init: %s\n", what);
	abort();
}

static EVP_PKEY *fz_key(uint8_t seed_byte)
{
	uint8_t seed[32];
	EVP_PKEY *k;

	memset(seed, seed_byte, sizeof(seed));
	k = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, sizeof(seed));
	if (!k)
		fz_die("Ed25519 key");
	return k;
}

static void fz_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;

	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (!ext || !X509_add_ext(x, ext, -1))
		fz_die("extension");
	X509_EXTENSION_free(ext);
}

static X509_NAME *fz_name(const char *cn)
{
	X509_NAME *n = X509_NAME_new();

	if (!n || !X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
					      (const unsigned char *)cn, -1, -1, 0))
		fz_die("name");
	return n;
}

/* A certificate for @p named @cn, signed by @signer (NULL: itself). */
static void fz_cert(struct fz_party *p, const char *cn, long serial,
		    const struct fz_party *signer, int nid, const char *value)
{
	X509_NAME *name = fz_name(cn);
	X509 *x = X509_new();
	X509 *issuer_cert = signer ? signer->cert : x;
	EVP_PKEY *sign_key = signer ? signer->key : p->key;
	unsigned char *der = NULL;
	int len;

	if (!x || !X509_set_version(x, 2) ||
	    !ASN1_INTEGER_set(X509_get_serialNumber(x), serial) ||
	    !X509_set_subject_name(x, name) ||
	    !X509_set_issuer_name(x, signer ? X509_get_subject_name(signer->cert) : name) ||
	    !ASN1_TIME_set(X509_getm_notBefore(x), T_2025) ||
	    !ASN1_TIME_set(X509_getm_notAfter(x), T_2060) ||
	    !X509_set_pubkey(x, p->key))
		fz_die("certificate fields");
	fz_ext(x, issuer_cert, nid, value);
	if (!X509_sign(x, sign_key, NULL))   /* Ed25519: no separate digest */
		fz_die("certificate signature");
	len = i2d_X509(x, &der);
	if (len <= 0)
		fz_die("certificate DER");
	p->cert = x;
	p->ci = cert_cache_get(fz_cache, der, (size_t)len, NULL);
	if (!p->ci)
		fz_die("cert_cache_get of a generated certificate");
	OPENSSL_free(der);
	X509_NAME_free(name);
}

static void fz_write(const char *dir, const char *name, OCSP_RESPONSE *resp)
{
	unsigned char *der = NULL;
	char path[1024];
	int len = i2d_OCSP_RESPONSE(resp, &der);
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (len <= 0 || !f || fwrite(der, 1, (size_t)len, f) != (size_t)len)
		fz_die(path);
	fclose(f);
	OPENSSL_free(der);
}

/* One SingleResponse about the leaf, signed by @signer (cert included). */
static OCSP_RESPONSE *fz_response(int status, int reason,
				  const struct fz_party *signer, const EVP_MD *id_md)
{
	OCSP_BASICRESP *bs = OCSP_BASICRESP_new();
	OCSP_CERTID *id = OCSP_cert_to_id(id_md, fz_leaf.cert, fz_issuer.cert);
	ASN1_TIME *thisupd = ASN1_TIME_set(NULL, T_2025);
	ASN1_TIME *nextupd = ASN1_TIME_set(NULL, T_2025 + 86400);
	ASN1_TIME *revtime = ASN1_TIME_set(NULL, T_2025 - 86400);
	STACK_OF(X509) *certs = sk_X509_new_null();
	OCSP_RESPONSE *resp;

	if (!bs || !id || !thisupd || !nextupd || !revtime || !certs ||
	    !sk_X509_push(certs, signer->cert) ||
	    !OCSP_basic_add1_status(bs, id, status, reason,
				    status == V_OCSP_CERTSTATUS_REVOKED ? revtime : NULL,
				    thisupd, nextupd) ||
	    !OCSP_basic_sign(bs, signer->cert, signer->key, NULL, certs, 0))
		fz_die("OCSP response");
	resp = OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, bs);
	if (!resp)
		fz_die("OCSP_response_create");
	sk_X509_free(certs);
	ASN1_TIME_free(thisupd);
	ASN1_TIME_free(nextupd);
	ASN1_TIME_free(revtime);
	OCSP_CERTID_free(id);
	OCSP_BASICRESP_free(bs);
	return resp;
}

static void fz_write_seeds(const char *dir)
{
	static const struct {
		const char *file;
		int status, reason;
		struct fz_party *signer;
		int sha256;
	} seeds[] = {
		{ "good_by_issuer.der", V_OCSP_CERTSTATUS_GOOD, -1, &fz_issuer, 0 },
		{ "revoked_by_issuer.der", V_OCSP_CERTSTATUS_REVOKED, 1, &fz_issuer, 0 },
		{ "unknown_by_issuer.der", V_OCSP_CERTSTATUS_UNKNOWN, -1, &fz_issuer, 0 },
		{ "good_sha256_id.der", V_OCSP_CERTSTATUS_GOOD, -1, &fz_issuer, 1 },
		{ "good_delegated.der", V_OCSP_CERTSTATUS_GOOD, -1, &fz_responder, 0 },
		{ "good_by_leaf.der", V_OCSP_CERTSTATUS_GOOD, -1, &fz_leaf, 0 },
	};
	OCSP_RESPONSE *resp;
	size_t i;

	for (i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
		resp = fz_response(seeds[i].status, seeds[i].reason, seeds[i].signer,
				   seeds[i].sha256 ? EVP_sha256() : NULL);
		fz_write(dir, seeds[i].file, resp);
		OCSP_RESPONSE_free(resp);
	}
	resp = OCSP_response_create(OCSP_RESPONSE_STATUS_TRYLATER, NULL);
	if (!resp)
		fz_die("tryLater");
	fz_write(dir, "try_later.der", resp);
	OCSP_RESPONSE_free(resp);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *seed_dir = getenv("FUZZ_STAPLE_WRITE_SEEDS");

	fz_cache = cert_cache_new(8);
	if (!fz_cache)
		fz_die("cert_cache_new");
	fz_issuer.key = fz_key(0x11);
	fz_leaf.key = fz_key(0x22);
	fz_responder.key = fz_key(0x33);
	fz_cert(&fz_issuer, "Fuzz Issuing CA", 1, NULL, NID_basic_constraints,
		"critical,CA:TRUE");
	fz_cert(&fz_leaf, "leaf.fuzz.test", 0x1234, &fz_issuer,
		NID_subject_alt_name, "DNS:leaf.fuzz.test");
	fz_cert(&fz_responder, "Fuzz OCSP Responder", 0x77, &fz_issuer,
		NID_ext_key_usage, "OCSPSigning");
	if (seed_dir)
		fz_write_seeds(seed_dir);
	return 0;
}

static void fz_check_invariants(const struct staple_info *st)
{
	if (!st->parsed) {
		if (!st->error || st->verified || st->matches_leaf)
			__builtin_trap();
		sink += strlen(st->error);
		return;
	}
	if (st->error || (st->verified && !st->matches_leaf))
		__builtin_trap();
	if (!st->matches_leaf && (st->this_update || st->revoked_at))
		__builtin_trap();
	sink += strlen(ocsp_status_name(st->status));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct staple_info st;

	staple_check(data, size, fz_leaf.ci, fz_issuer.ci, &st);
	fz_check_invariants(&st);
	staple_check(data, size, fz_leaf.ci, NULL, &st);
	fz_check_invariants(&st);
	if (st.verified)           /* no issuer: nothing to verify against */
		__builtin_trap();
	return 0;
}
