// SPDX-License-Identifier: MIT
/*
 * One certificate into a struct cert_info: fingerprints, names, serial,
 * validity, SANs, key description, self-signed test. The bytes come from
 * the network, so every OpenSSL call is checked and a failure refuses the
 * certificate with a static reason rather than filling a field with a guess.
 */
#include <arpa/inet.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/digest.h"
#include "cert_info.h"
#include "common/hex.h"
#include "common/host_name.h"
#include "common/printable.h"

bool cert_time_to_epoch(const struct asn1_string_st *t, int64_t *out)
{
	struct tm tm;

	/* ASN1_TIME_to_tm(NULL) would mean "now": absent is not now. */
	if (!t || !ASN1_TIME_to_tm(t, &tm))
		return false;
	/* 64-bit time_t: GeneralizedTime past 2038 and UTCTime before 1970
	 * (years 1950..1969) both convert. */
	*out = (int64_t)timegm(&tm);
	return true;
}

static int cert_sha256(const void *data, size_t len, uint8_t md[32])
{
	return tw_sha256(data, len, md) ? 0 : -1;
}

static int cert_spki_digest(struct cert_info *ci)
{
	unsigned char *spki = NULL;
	int len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(ci->x509), &spki);
	int ret;

	if (len <= 0)
		return -1;
	ret = cert_sha256(spki, (size_t)len, ci->spki_sha256);
	OPENSSL_free(spki);
	if (ret == 0)
		tw_hex(ci->spki_sha256, 32, ci->spki_sha256_hex);
	return ret;
}

/* A memory BIO holding @name as RFC 2253 text, NULL when it cannot be
 * printed. The flags escape control characters and bytes >= 0x80, so the
 * text is plain ASCII whatever the certificate holds. */
static BIO *cert_name_bio(const X509_NAME *name)
{
	BIO *bio = BIO_new(BIO_s_mem());

	if (bio && X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253) < 0) {
		BIO_free(bio);
		bio = NULL;
	}
	return bio;
}

static char *cert_name_text(const X509_NAME *name)
{
	BIO *bio = cert_name_bio(name);
	char *data = NULL, *text = NULL;
	long n;

	if (!bio)
		return NULL;
	n = BIO_get_mem_data(bio, &data);
	if (n >= 0)
		text = strndup(n ? data : "", (size_t)n);
	BIO_free(bio);
	return text;
}

bool cert_name_print(const X509_NAME *name, char *buf, size_t len)
{
	BIO *bio = cert_name_bio(name);
	char *data = NULL;
	long n = bio ? BIO_get_mem_data(bio, &data) : -1;

	if (n >= 0 && len)
		snprintf(buf, len, "%.*s", (int)n, n ? data : "");
	BIO_free(bio);
	return n >= 0 && len;
}

/* Lowercase hex of the magnitude, no leading zeros, "-" when negative. */
static char *cert_serial_text(const ASN1_INTEGER *serial)
{
	const uint8_t *p = ASN1_STRING_get0_data(serial);
	int len = ASN1_STRING_length(serial);
	bool neg = ASN1_STRING_type(serial) == V_ASN1_NEG_INTEGER;
	char *hex, *out, *digits;

	if (len < 0 || (len > 0 && !p))
		return NULL;
	hex = malloc(2 * (size_t)len + 1);
	if (!hex)
		return NULL;
	tw_hex(p, (size_t)len, hex);
	digits = hex + strspn(hex, "0");
	if (!*digits) {
		digits = "0";
		neg = false;
	}
	if (asprintf(&out, "%s%s", neg ? "-" : "", digits) < 0)
		out = NULL;
	free(hex);
	return out;
}

/* The dNSName is attacker-chosen bytes: kept as printable ASCII. */
static char *cert_san_dns(const ASN1_IA5STRING *s)
{
	const uint8_t *p = ASN1_STRING_get0_data(s);
	int len = ASN1_STRING_length(s);
	size_t room;
	char *out, *shrunk;

	if (len < 0 || (len > 0 && !p))
		return NULL;
	/* 4 bytes per escaped byte, plus tw_printable's "...\0" margin:
	 * never truncated. */
	room = 4 * (size_t)len + 4;
	out = malloc(room);
	if (!out)
		return NULL;
	tw_printable((const char *)p, (size_t)len, out, room);
	shrunk = realloc(out, strlen(out) + 1);
	return shrunk ? shrunk : out;
}

/* NULL for an address of a length that is neither IPv4 nor IPv6. */
static char *cert_san_ip(const ASN1_OCTET_STRING *s)
{
	const uint8_t *p = ASN1_STRING_get0_data(s);
	int len = ASN1_STRING_length(s);
	char buf[INET6_ADDRSTRLEN];
	int af = len == 4 ? AF_INET : len == 16 ? AF_INET6 : -1;

	if (af < 0 || !p || !inet_ntop(af, p, buf, sizeof(buf)))
		return NULL;
	return strdup(buf);
}

static int cert_sans(struct cert_info *ci)
{
	GENERAL_NAMES *gens;
	int i, n, ret = 0;

	/* A missing, duplicated or undecodable extension gives NULL: no SANs. */
	gens = X509_get_ext_d2i(ci->x509, NID_subject_alt_name, NULL, NULL);
	if (!gens)
		return 0;
	n = sk_GENERAL_NAME_num(gens);
	for (i = 0; i < n; i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		char *text;

		if (g->type == GEN_DNS)
			text = cert_san_dns(g->d.dNSName);
		else if (g->type == GEN_IPADD)
			text = cert_san_ip(g->d.iPAddress);
		else
			continue;
		if (!text) {
			if (g->type == GEN_DNS) {  /* allocation failure */
				ret = -1;
				break;
			}
			continue;
		}
		if (ci->n_san == CERT_MAX_SAN) {
			free(text);
			ci->san_truncated = true;
			break;
		}
		ci->san[ci->n_san++] = text;
	}
	GENERAL_NAMES_free(gens);
	return ret;
}

static void cert_key_ec(struct cert_info *ci, const EVP_PKEY *pk)
{
	char group[64];
	size_t glen = 0;
	int nid;

	if (!EVP_PKEY_get_group_name(pk, group, sizeof(group), &glen)) {
		/* explicit curve parameters: only the size is known */
		snprintf(ci->key, sizeof(ci->key), "EC-%d", ci->key_bits);
		return;
	}
	nid = OBJ_txt2nid(group);
	if (nid == NID_X9_62_prime256v1)
		snprintf(ci->key, sizeof(ci->key), "EC-P256");
	else if (nid == NID_secp384r1)
		snprintf(ci->key, sizeof(ci->key), "EC-P384");
	else if (nid == NID_secp521r1)
		snprintf(ci->key, sizeof(ci->key), "EC-P521");
	else
		snprintf(ci->key, sizeof(ci->key), "EC-%.28s", group);
}

static void cert_key_unknown(struct cert_info *ci)
{
	ASN1_OBJECT *alg = NULL;
	char oid[sizeof(ci->key)];

	if (X509_PUBKEY_get0_param(&alg, NULL, NULL, NULL,
				   X509_get_X509_PUBKEY(ci->x509)) &&
	    alg && OBJ_obj2txt(oid, sizeof(oid), alg, 0) > 0)
		snprintf(ci->key, sizeof(ci->key), "%s", oid);
	else
		snprintf(ci->key, sizeof(ci->key), "unknown");
}

static void cert_key(struct cert_info *ci)
{
	const EVP_PKEY *pk = X509_get0_pubkey(ci->x509);
	const char *type;

	if (!pk) {
		cert_key_unknown(ci);
		return;
	}
	ci->key_bits = EVP_PKEY_get_bits(pk);
	switch (EVP_PKEY_get_base_id(pk)) {
	case EVP_PKEY_RSA:
		snprintf(ci->key, sizeof(ci->key), "RSA-%d", ci->key_bits);
		break;
	case EVP_PKEY_EC:
		cert_key_ec(ci, pk);
		break;
	case EVP_PKEY_ED25519:
		snprintf(ci->key, sizeof(ci->key), "ED25519");
		break;
	case EVP_PKEY_ED448:
		snprintf(ci->key, sizeof(ci->key), "ED448");
		break;
	case EVP_PKEY_DSA:
		snprintf(ci->key, sizeof(ci->key), "DSA-%d", ci->key_bits);
		break;
	default:
		type = EVP_PKEY_get0_type_name(pk);
		snprintf(ci->key, sizeof(ci->key), "%s-%d", type ? type : "unknown",
			 ci->key_bits);
	}
}

/*
 * Same name as issuer and signed by its own key. X509_check_issued(x, x)
 * would also demand keyCertSign when a keyUsage extension is present,
 * which many self-signed server certificates (keyUsage digitalSignature,
 * keyEncipherment) lack: they are self-signed all the same.
 */
static bool cert_is_self_signed(X509 *x)
{
	EVP_PKEY *pk;

	if (X509_NAME_cmp(X509_get_subject_name(x), X509_get_issuer_name(x)) != 0)
		return false;
	pk = X509_get0_pubkey(x);
	return pk && X509_verify(x, pk) == 1;
}

static const char *cert_fill(struct cert_info *ci)
{
	if (cert_spki_digest(ci))
		return "cannot encode the public key";
	ci->subject = cert_name_text(X509_get_subject_name(ci->x509));
	ci->issuer = cert_name_text(X509_get_issuer_name(ci->x509));
	if (!ci->subject || !ci->issuer)
		return "cannot print the subject or issuer name";
	ci->serial_hex = cert_serial_text(X509_get0_serialNumber(ci->x509));
	if (!ci->serial_hex)
		return "cannot read the serial number";
	if (!cert_time_to_epoch(X509_get0_notBefore(ci->x509), &ci->not_before) ||
	    !cert_time_to_epoch(X509_get0_notAfter(ci->x509), &ci->not_after))
		return "malformed validity time";
	if (cert_sans(ci))
		return "out of memory reading subjectAltName";
	cert_key(ci);
	ci->self_signed = cert_is_self_signed(ci->x509);
	return NULL;
}

struct cert_info *cert_info_parse(const uint8_t *der, size_t len,
				  const char **err)
{
	const unsigned char *p = der;
	struct cert_info *ci;
	const char *why = NULL;

	if (!der || len == 0 || len > LONG_MAX) {
		why = "empty or oversized certificate";
		goto fail;
	}
	ci = calloc(1, sizeof(*ci));
	if (!ci) {
		why = "out of memory";
		goto fail;
	}
	ci->x509 = d2i_X509(NULL, &p, (long)len);
	if (!ci->x509)
		why = "not a DER X.509 certificate";
	else if ((size_t)(p - der) != len)
		why = "trailing bytes after the certificate";
	else if (cert_sha256(der, len, ci->sha256))
		why = "SHA-256 failed";
	else
		why = cert_fill(ci);
	if (!why) {
		tw_hex(ci->sha256, 32, ci->sha256_hex);
		ERR_clear_error();
		return ci;
	}
	cert_info_free(ci);
fail:
	/* Leave no stale errors behind for the next OpenSSL user. */
	ERR_clear_error();
	if (err)
		*err = why;
	return NULL;
}

void cert_info_free(struct cert_info *ci)
{
	int i;

	if (!ci)
		return;
	free(ci->subject);
	free(ci->issuer);
	free(ci->serial_hex);
	for (i = 0; i < ci->n_san; i++)
		free(ci->san[i]);
	X509_free(ci->x509);
	free(ci);
}

static bool cert_is_ip_literal(const char *name)
{
	unsigned char buf[16];

	return inet_pton(AF_INET, name, buf) == 1 ||
	       inet_pton(AF_INET6, name, buf) == 1;
}

bool cert_matches_host(const struct cert_info *ci, const char *name,
		       size_t name_len)
{
	char ip[64];   /* an address literal is shorter */
	size_t len;
	int rc;

	if (!ci || !ci->x509 || !name || tw_host_name_has_nul(name, name_len))
		return false;
	/* "good.test." is good.test (common/host_name.h), for both kinds:
	 * the hostname memo keeps one verdict for the two spellings */
	len = tw_host_name_len(name, name_len);
	if (len == 0)
		return false;
	if (len < sizeof(ip)) {
		memcpy(ip, name, len);
		ip[len] = '\0';
	}
	/* OpenSSL's rules: DNS SANs, the CN only when there is no DNS SAN,
	 * wildcards as a whole left-most label only. */
	if (len < sizeof(ip) && cert_is_ip_literal(ip))
		rc = X509_check_ip_asc(ci->x509, ip, 0);
	else
		rc = X509_check_host(ci->x509, name, len,
				     X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, NULL);
	ERR_clear_error();
	return rc == 1;
}
