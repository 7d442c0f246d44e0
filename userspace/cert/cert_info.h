/* SPDX-License-Identifier: MIT */
/* One X.509 certificate, parsed once with OpenSSL and cached by fingerprint. */
#ifndef TW_CERT_INFO_H
#define TW_CERT_INFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CERT_MAX_SAN 64

typedef struct x509_st X509;
struct cache_entry;

struct cert_info {
	uint8_t sha256[32];          /* of the DER: the fingerprint */
	char sha256_hex[65];
	uint8_t spki_sha256[32];     /* of the DER SubjectPublicKeyInfo */
	char spki_sha256_hex[65];
	char *subject;               /* RFC 2253 text, e.g. "CN=a.example,O=Org" */
	char *issuer;
	char *serial_hex;            /* lowercase, no leading zeros ("0" for zero) */
	int64_t not_before;          /* seconds since the epoch */
	int64_t not_after;
	int n_san;
	char *san[CERT_MAX_SAN];     /* DNS names (escaped by tw_printable)
	                              * and IP addresses (RFC 5952) as text,
	                              * in certificate order */
	bool san_truncated;
	char key[32];                /* "RSA-2048", "EC-P256", "ED25519";
	                              * other curves "EC-<group>"; an
	                              * undecodable key: its algorithm OID */
	int key_bits;
	bool self_signed;            /* subject == issuer and signature verifies with own key */
	X509 *x509;                  /* owned */
	uint64_t refs;               /* cert_cache_get calls returning it:
	                              * in the pipeline's cache, times this
	                              * certificate was served (the health
	                              * checker parses the trust-store
	                              * issuers it needs in a cache of its
	                              * own) */
	struct cache_entry *cache_entry; /* its cert_cache's bookkeeping
	                              * (cert_cache.c only); NULL outside
	                              * a cache */
};

struct cert_cache;

/*
 * @max_entries bounds the lookup table (0 means CERT_CACHE_DEFAULT_MAX).
 * When it is full the least recently used entry leaves the table and is
 * freed, unless it is pinned: then it is retired (alive, out of the table)
 * until its last unpin frees it. The live entries are therefore at most
 * @max_entries plus the pinned ones: memory does not grow with the number
 * of distinct certificates seen. A retired certificate served again is
 * parsed into a new entry. Not thread-safe.
 */
#define CERT_CACHE_DEFAULT_MAX 4096
struct cert_cache *cert_cache_new(size_t max_entries);
/* Frees every entry, pinned ones too: no pointer survives it. */
void cert_cache_free(struct cert_cache *cache);

/*
 * Parses @der (or returns the cached entry with the same SHA-256).
 * Returns NULL if the bytes are not a certificate; @err, if non-NULL, then
 * receives a static reason. The entry stays valid until the cache evicts
 * it, which only a later cert_cache_get() of another certificate does:
 * whoever keeps it longer (a chain judged across several gets, a cert
 * event to repeat) pins it.
 */
const struct cert_info *cert_cache_get(struct cert_cache *cache,
				       const uint8_t *der, size_t len,
				       const char **err);

/* Keeps @ci (an entry of @cache, or NULL: nothing) valid until as many
 * cert_cache_unpin() calls; the last one frees it if it was evicted
 * meanwhile. Pins nest. */
void cert_cache_pin(struct cert_cache *cache, const struct cert_info *ci);
void cert_cache_unpin(struct cert_cache *cache, const struct cert_info *ci);

/* Entries in the lookup table (at most max_entries). */
size_t cert_cache_count(const struct cert_cache *cache);
/* Entries evicted from the table and kept alive by their pins. */
size_t cert_cache_retired(const struct cert_cache *cache);
/* Every entry alive: count + retired. */
size_t cert_cache_live(const struct cert_cache *cache);

/*
 * Parses one certificate outside any cache (refs starts at 0). The DER must
 * be exactly one certificate: trailing bytes are refused, so sha256 is the
 * fingerprint of the certificate itself. NULL and a static @err on failure.
 */
struct cert_info *cert_info_parse(const uint8_t *der, size_t len,
				  const char **err);
void cert_info_free(struct cert_info *ci);

/* ASN1_TIME (UTCTime or GeneralizedTime) to seconds since the epoch;
 * false for NULL or a malformed time. */
struct asn1_string_st;
bool cert_time_to_epoch(const struct asn1_string_st *t, int64_t *out);

/*
 * OpenSSL's validity bounds (X509_cmp_time), which every judgement of a
 * validity period uses (the findings, the --webhook-ca-file warning):
 * valid from the notBefore second through the second before notAfter; at
 * the notAfter second itself verification already says "certificate has
 * expired".
 */
static inline bool cert_expired_at(int64_t not_after, int64_t at)
{
	return not_after <= at;
}

static inline bool cert_not_yet_valid_at(int64_t not_before, int64_t at)
{
	return not_before > at;
}

/* @name (an X509_NAME) as RFC 2253 text, escaped to plain ASCII, into
 * @buf, cut to fit; false, @buf untouched, when it cannot be printed. */
struct X509_name_st;
bool cert_name_print(const struct X509_name_st *name, char *buf, size_t len);

/* True if @name (SNI, @name_len bytes) is covered by the leaf's SANs (or CN
 * without SANs), with RFC 6125 wildcard rules, case-insensitive, one
 * trailing dot ignored (common/host_name.h: "good.test." is good.test). An
 * IP address literal is compared with the iPAddress SANs only, never with
 * DNS names or the CN. NULL or empty @name, a name holding a NUL
 * (tw_host_name_has_nul), or a cert_info without x509: false. */
bool cert_matches_host(const struct cert_info *ci, const char *name,
		       size_t name_len);

#endif
