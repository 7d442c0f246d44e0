// SPDX-License-Identifier: MIT
/*
 * CRLs, from files and from distribution points. Each CRL is kept parsed
 * with the key that last verified it, so the signature is checked once
 * per (CRL, issuer key) and not on every handshake.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/digest.h"
#include "common/grow.h"
#include "common/open_regular.h"
#include "cert_info.h"
#include "crl.h"
#include "crl_scope.h"

enum crl_sig { CRL_SIG_UNCHECKED, CRL_SIG_OK, CRL_SIG_BAD };

struct crl_entry {
	X509_CRL *crl;
	char origin[CRL_ORIGIN_MAX];
	int64_t this_update;
	int64_t next_update;
	struct crl_scope scope;    /* which certificates it speaks for */
	uint8_t checked_key[32];   /* SHA-256 of the issuer key last tried */
	enum crl_sig sig;          /* the outcome with that key */
	uint64_t seq;              /* when it was added: the array's order is
	                            * not (crl_drop_origin fills holes) */
	bool in_play;              /* crl_check's scratch: of the issuer, in
	                            * scope, signature verified */
	bool weighed;              /* crl_check's scratch: its scope's newest
	                            * CRLs were picked */
};

struct crl_store {
	struct crl_entry *v;
	size_t n, cap;
	uint64_t added;            /* CRLs added since the start */
};

struct crl_store *crl_store_new(void)
{
	return calloc(1, sizeof(struct crl_store));
}

static void crl_entry_release(struct crl_entry *e)
{
	crl_scope_release(&e->scope);
	X509_CRL_free(e->crl);
	e->crl = NULL;
}

void crl_store_free(struct crl_store *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->n; i++)
		crl_entry_release(&s->v[i]);
	free(s->v);
	free(s);
}

size_t crl_store_count(const struct crl_store *s)
{
	return s ? s->n : 0;
}

int64_t crl_store_next_update(const struct crl_store *s, const char *origin)
{
	int64_t next = 0;
	size_t i;

	for (i = 0; s && origin && i < s->n; i++)
		if (strcmp(s->v[i].origin, origin) == 0 && s->v[i].next_update &&
		    (!next || s->v[i].next_update < next))
			next = s->v[i].next_update;
	return next;
}

/* Drops the CRLs of @origin added in [@from, @to) (crl_entry.seq). */
static void crl_drop_origin(struct crl_store *s, const char *origin, uint64_t from,
			    uint64_t to)
{
	size_t i = 0;

	while (i < s->n) {
		if (strcmp(s->v[i].origin, origin) == 0 && s->v[i].seq >= from &&
		    s->v[i].seq < to) {
			crl_entry_release(&s->v[i]);
			s->v[i] = s->v[--s->n];
		} else {
			i++;
		}
	}
}

void crl_store_forget(struct crl_store *s, const char *origin)
{
	if (s && origin)
		crl_drop_origin(s, origin, 0, UINT64_MAX);
}

void crl_store_origin_issuers(const struct crl_store *s, const char *origin,
			      void (*fn)(void *ctx, const X509_NAME *issuer),
			      void *ctx)
{
	size_t i;

	for (i = 0; s && i < s->n; i++)
		if (!strcmp(s->v[i].origin, origin))
			fn(ctx, X509_CRL_get_issuer(s->v[i].crl));
}

/* Takes ownership of @crl, also on failure. */
static int crl_push(struct crl_store *s, X509_CRL *crl, const char *origin,
		    char *err, size_t errlen)
{
	struct crl_entry *e;
	struct crl_scope scope;
	int64_t this_update = 0, next_update = 0;
	char why[128];

	if (!cert_time_to_epoch(X509_CRL_get0_lastUpdate(crl), &this_update) ||
	    (X509_CRL_get0_nextUpdate(crl) &&
	     !cert_time_to_epoch(X509_CRL_get0_nextUpdate(crl), &next_update))) {
		snprintf(err, errlen, "%s: malformed thisUpdate/nextUpdate", origin);
		X509_CRL_free(crl);
		return -1;
	}
	if (crl_scope_read(crl, &scope, why, sizeof(why))) {
		snprintf(err, errlen, "%s: %s", origin, why);
		X509_CRL_free(crl);
		return -1;
	}
	if (tw_grow(&s->v, &s->cap, sizeof(*s->v), s->n, 1, 8, TW_GROW_NO_CAP) < 0) {
		snprintf(err, errlen, "%s: out of memory", origin);
		crl_scope_release(&scope);
		X509_CRL_free(crl);
		return -1;
	}
	e = &s->v[s->n++];
	memset(e, 0, sizeof(*e));
	e->crl = crl;
	e->scope = scope;
	snprintf(e->origin, sizeof(e->origin), "%s", origin);
	e->this_update = this_update;
	e->next_update = next_update;
	e->seq = ++s->added;
	return 0;
}

static bool crl_looks_pem(const uint8_t *buf, size_t len)
{
	static const char tag[] = "-----BEGIN X509 CRL-----";
	size_t i, tl = sizeof(tag) - 1;

	for (i = 0; i + tl <= len; i++)
		if (memcmp(buf + i, tag, tl) == 0)
			return true;
	return false;
}

static int crl_add_pem(struct crl_store *s, const uint8_t *buf, size_t len,
		       const char *origin, char *err, size_t errlen)
{
	BIO *bio = BIO_new_mem_buf(buf, (int)len);
	X509_CRL *crl;
	int added = 0;

	if (!bio) {
		snprintf(err, errlen, "%s: out of memory", origin);
		return -1;
	}
	while ((crl = PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL))) {
		if (crl_push(s, crl, origin, err, errlen)) {
			added = -1;
			break;
		}
		added++;
	}
	BIO_free(bio);
	if (added == 0)
		snprintf(err, errlen, "%s: malformed PEM CRL", origin);
	return added > 0 ? added : -1;
}

static int crl_add_der(struct crl_store *s, const uint8_t *buf, size_t len,
		       const char *origin, char *err, size_t errlen)
{
	const unsigned char *p = buf;
	X509_CRL *crl = d2i_X509_CRL(NULL, &p, (long)len);

	if (!crl) {
		snprintf(err, errlen, "%s: not a CRL (neither DER nor PEM)", origin);
		return -1;
	}
	if ((size_t)(p - buf) != len) {
		snprintf(err, errlen, "%s: trailing bytes after the DER CRL", origin);
		X509_CRL_free(crl);
		return -1;
	}
	return crl_push(s, crl, origin, err, errlen) ? -1 : 1;
}

int crl_store_add(struct crl_store *s, const uint8_t *buf, size_t len,
		  const char *origin, bool replace, char *err, size_t errlen)
{
	uint64_t first;
	int rc;

	if (!origin)
		origin = "CRL";
	if (!buf || len == 0 || len > CRL_MAX_BYTES || len > INT_MAX) {
		snprintf(err, errlen, "%s: empty or oversized CRL (%zu bytes)",
			 origin, len);
		return -1;
	}
	first = s->added + 1;
	if (crl_looks_pem(buf, len))
		rc = crl_add_pem(s, buf, len, origin, err, errlen);
	else
		rc = crl_add_der(s, buf, len, origin, err, errlen);
	/* Only a whole success replaces: a refresh that fails, also half way
	 * through a PEM, leaves the CRLs of the last one (crl_fetch.c). */
	if (rc < 0)
		crl_drop_origin(s, origin, first, UINT64_MAX);
	else if (replace)
		crl_drop_origin(s, origin, 0, first);
	ERR_clear_error();
	return rc;
}

static uint8_t *crl_read_file(const char *path, size_t *len, char *err,
			      size_t errlen)
{
	int fd = tw_open_regular(path);
	FILE *f = fd < 0 ? NULL : fdopen(fd, "rb");
	uint8_t *buf = NULL;
	size_t cap = 0, n = 0, got;

	if (!f) {
		snprintf(err, errlen, "--crl %s: %s", path,
			 fd < 0 ? tw_open_regular_error(fd) : strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	for (;;) {
		/* one byte past CRL_MAX_BYTES: a file that fills it is too large */
		int rc = tw_grow(&buf, &cap, 1, n, 1, 65536, CRL_MAX_BYTES + 1);

		if (rc < 0) {
			if (rc == -E2BIG)
				snprintf(err, errlen, "--crl %s: larger than %u bytes",
					 path, CRL_MAX_BYTES);
			else
				snprintf(err, errlen, "--crl %s: out of memory", path);
			free(buf);
			fclose(f);
			return NULL;
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		snprintf(err, errlen, "--crl %s: read error", path);
		free(buf);
		buf = NULL;
	}
	fclose(f);
	*len = n;
	return buf;
}

int crl_store_load_file(struct crl_store *s, const char *path, char *err,
			size_t errlen)
{
	char why[256];
	size_t len = 0;
	uint8_t *buf = crl_read_file(path, &len, err, errlen);
	int rc;

	if (!buf)
		return -1;
	rc = crl_store_add(s, buf, len, path, false, why, sizeof(why));
	free(buf);
	if (rc < 0) {
		snprintf(err, errlen, "--crl %s", why);
		return -1;
	}
	return 0;
}

static bool crl_key_digest(X509 *issuer, uint8_t md[32])
{
	unsigned int len = 0;

	return X509_pubkey_digest(issuer, tw_md_sha256(), md, &len) && len == 32;
}

/* Named by @issuer (the caller compared the names): a signature its key
 * verifies. */
static bool crl_from_issuer(struct crl_entry *e, X509 *issuer,
			    const uint8_t key[32], int *bad)
{
	EVP_PKEY *pk;

	if (e->sig == CRL_SIG_UNCHECKED || memcmp(e->checked_key, key, 32) != 0) {
		pk = X509_get0_pubkey(issuer);
		e->sig = pk && X509_CRL_verify(e->crl, pk) == 1 ? CRL_SIG_OK
								: CRL_SIG_BAD;
		memcpy(e->checked_key, key, 32);
		ERR_clear_error();
	}
	if (e->sig == CRL_SIG_BAD)
		(*bad)++;
	return e->sig == CRL_SIG_OK;
}

static int crl_entry_reason(X509_REVOKED *rev)
{
	ASN1_ENUMERATED *r = X509_REVOKED_get_ext_d2i(rev, NID_crl_reason,
						      NULL, NULL);
	long v;

	if (!r)
		return -1;
	v = ASN1_ENUMERATED_get(r);
	ASN1_ENUMERATED_free(r);
	return v >= 0 && v <= 10 ? (int)v : -1;
}

static void crl_answer_from(const struct crl_entry *e, int64_t at,
			    struct crl_answer *out)
{
	out->this_update = e->this_update;
	out->next_update = e->next_update;
	out->stale = e->next_update && at > e->next_update;
	snprintf(out->origin, sizeof(out->origin), "%s", e->origin);
}

/* Marks the CRLs that may speak for @subject: named by @issuer, signed
 * with its key, and covering @subject by their scope. The issuer's key
 * digest only once a CRL names it: most handshakes meet no CRL of their
 * issuer at all. */
static void crl_mark_in_play(struct crl_store *s, struct crl_subject *subject,
			     X509 *issuer, int *bad_signatures)
{
	uint8_t key[32];
	bool have_key = false;
	size_t i;

	for (i = 0; i < s->n; i++)
		s->v[i].in_play = s->v[i].weighed = false;
	for (i = 0; i < s->n; i++) {
		struct crl_entry *e = &s->v[i];

		if (X509_NAME_cmp(X509_CRL_get_issuer(e->crl),
				  X509_get_subject_name(issuer)) != 0)
			continue;
		if (!have_key && !(have_key = crl_key_digest(issuer, key)))
			return;
		e->in_play = crl_from_issuer(e, issuer, key, bad_signatures) &&
			     crl_scope_covers(&e->scope, subject);
	}
}

static int crl_cmp_u64(uint64_t a, uint64_t b)
{
	return (a > b) - (a < b);
}

static int crl_cmp_i64(int64_t a, int64_t b)
{
	return (a > b) - (a < b);
}

/*
 * The order of the CRLs of one scope, oldest first: by cRLNumber when
 * every CRL of the scope has one, else by thisUpdate (a number and a date
 * cannot be weighed against each other: keys mixed pair by pair would
 * not be an order, and the newest would depend on the load order). At
 * equal keys a complete CRL comes after a delta (the delta is replaced by
 * it), then the later thisUpdate, then the CRL added later.
 */
static int crl_order(const struct crl_entry *a, const struct crl_entry *b,
		     bool by_number)
{
	int c = by_number ? crl_number_cmp(a->scope.number, b->scope.number)
			  : crl_cmp_i64(a->this_update, b->this_update);

	if (!c)
		c = (b->scope.kind == CRL_KIND_DELTA) - (a->scope.kind == CRL_KIND_DELTA);
	if (!c)
		c = crl_cmp_i64(a->this_update, b->this_update);
	return c ? c : crl_cmp_u64(a->seq, b->seq);
}

/* What one scope has to say: its newest complete (or reason-limited) CRL
 * and its newest delta CRL, when that delta is newer; and the newest delta
 * that builds on that complete CRL (RFC 5280 5.2.4's pair: the newest
 * delta may build on a complete CRL that is not at hand, and then says
 * nothing of what has changed since the one that is). */
struct crl_newest {
	const struct crl_entry *base, *delta, *paired;
};

static bool crl_in_scope_of(const struct crl_entry *e, const struct crl_entry *first)
{
	return e->in_play && crl_scope_same(&e->scope, &first->scope);
}

static bool crl_numbered_below(const struct crl_entry *a, const struct crl_entry *b)
{
	return a->scope.number && b->scope.number &&
	       crl_number_cmp(a->scope.number, b->scope.number) <= 0;
}

/* @delta's removeFromCRL entries undo @base's: the delta says it builds on
 * @base's number or an older one (deltaCRLIndicator). */
static bool crl_delta_builds_on(const struct crl_entry *delta,
				const struct crl_entry *base)
{
	return delta->scope.delta_base && base->scope.number &&
	       crl_number_cmp(delta->scope.delta_base, base->scope.number) <= 0;
}

/* @delta is newer than @base: a delta numbered no higher than the
 * complete CRL (or older, unnumbered) is in it. */
static bool crl_delta_newer(const struct crl_entry *delta, const struct crl_entry *base,
			    bool by_number)
{
	return crl_order(delta, base, by_number) > 0 && !crl_numbered_below(delta, base);
}

/* The newest CRLs in play of s->v[first]'s scope (first: the first of
 * them), marked weighed. */
static void crl_pick_newest(struct crl_store *s, size_t first,
			    struct crl_newest *out)
{
	const struct crl_entry *lead = &s->v[first], **slot;
	bool by_number = true;
	size_t i;

	for (i = first; i < s->n; i++)
		if (crl_in_scope_of(&s->v[i], lead))
			by_number &= s->v[i].scope.number != NULL;
	memset(out, 0, sizeof(*out));
	for (i = first; i < s->n; i++) {
		struct crl_entry *e = &s->v[i];

		if (!crl_in_scope_of(e, lead))
			continue;
		e->weighed = true;
		slot = e->scope.kind == CRL_KIND_DELTA ? &out->delta : &out->base;
		if (!*slot || crl_order(e, *slot, by_number) > 0)
			*slot = e;
	}
	if (out->delta && out->base && !crl_delta_newer(out->delta, out->base, by_number))
		out->delta = NULL;
	for (i = first; out->base && i < s->n; i++) {
		const struct crl_entry *e = &s->v[i];

		if (crl_in_scope_of(e, lead) && e->scope.kind == CRL_KIND_DELTA &&
		    crl_delta_builds_on(e, out->base) &&
		    crl_delta_newer(e, out->base, by_number) &&
		    (!out->paired || crl_order(e, out->paired, by_number) > 0))
			out->paired = e;
	}
}

/* Revoked, with @out filled from @rev in @e. */
static bool crl_revoked(const struct crl_entry *e, X509_REVOKED *rev, int64_t at,
			struct crl_answer *out)
{
	out->status = OCSP_ST_REVOKED;
	cert_time_to_epoch(X509_REVOKED_get0_revocationDate(rev), &out->revoked_at);
	out->reason = crl_entry_reason(rev);
	crl_answer_from(e, at, out);
	return true;
}

/* Of two CRLs that say the certificate is not revoked, the one to name:
 * one still current at @at, then the latest. */
static bool crl_better_witness(const struct crl_entry *a, const struct crl_entry *b,
			       int64_t at)
{
	bool a_stale = a->next_update && at > a->next_update;
	bool b_stale = b->next_update && at > b->next_update;

	if (a_stale != b_stale)
		return !a_stale;
	return a->this_update > b->this_update;
}

static void crl_offer_witness(const struct crl_entry *e, const struct crl_entry **witness,
			      int64_t at)
{
	if (!*witness || crl_better_witness(e, *witness, at))
		*witness = e;
}

/* OpenSSL's lookup: 2 for a removeFromCRL entry, 1 for a revocation, 0
 * when @e (NULL: none) does not list the serial. */
static int crl_lookup(const struct crl_entry *e, const ASN1_INTEGER *serial,
		      X509_REVOKED **rev)
{
	return e ? X509_CRL_get0_by_serial(e->crl, rev, serial) : 0;
}

/*
 * What one scope says of @cert: revoked (true, @out filled) when its
 * newest delta lists it, or the delta paired with its complete CRL does,
 * or that complete CRL does and the paired delta does not release it
 * (removeFromCRL). Otherwise a complete CRL (or the delta that released
 * the certificate) is offered as @witness of "good"; a delta or
 * reason-limited CRL not listing it proves nothing.
 */
static bool crl_scope_answer(const struct crl_newest *p, X509 *cert, int64_t at,
			     struct crl_answer *out, const struct crl_entry **witness)
{
	const ASN1_INTEGER *serial = X509_get0_serialNumber(cert);
	X509_REVOKED *rev = NULL;
	bool released;
	int rc;

	if (crl_lookup(p->delta, serial, &rev) == 1)
		return crl_revoked(p->delta, rev, at, out);
	rc = crl_lookup(p->paired, serial, &rev);
	if (rc == 1)
		return crl_revoked(p->paired, rev, at, out);
	released = rc == 2;
	if (!p->base)
		return false;
	rc = crl_lookup(p->base, serial, &rev);
	if (rc == 1 && !released)
		return crl_revoked(p->base, rev, at, out);
	if (p->base->scope.kind == CRL_KIND_COMPLETE)
		crl_offer_witness(rc == 1 ? p->paired : p->base, witness, at);
	return false;
}

void crl_check(struct crl_store *s, X509 *cert, X509 *issuer, int64_t at,
	       struct crl_answer *out)
{
	const struct crl_entry *witness = NULL;
	struct crl_subject subject;
	struct crl_newest newest;
	size_t i;

	memset(out, 0, sizeof(*out));
	out->status = OCSP_ST_UNKNOWN;
	out->reason = -1;
	if (!s || !cert || !issuer)
		return;
	crl_subject_init(&subject, cert);
	crl_mark_in_play(s, &subject, issuer, &out->bad_signatures);
	for (i = 0; i < s->n; i++) {
		if (!s->v[i].in_play || s->v[i].weighed)
			continue;
		crl_pick_newest(s, i, &newest);
		if (crl_scope_answer(&newest, cert, at, out, &witness))
			break;
	}
	if (out->status != OCSP_ST_REVOKED && witness) {
		out->status = OCSP_ST_GOOD;
		crl_answer_from(witness, at, out);
	}
	crl_subject_release(&subject);
	ERR_clear_error();
}

static bool crl_url_usable(const ASN1_IA5STRING *uri)
{
	const unsigned char *d = ASN1_STRING_get0_data(uri);
	int i, len = ASN1_STRING_length(uri);

	if (!d || len <= 0 || len >= CRL_URL_MAX)
		return false;
	for (i = 0; i < len; i++)
		if (d[i] <= 0x20 || d[i] >= 0x7f)
			return false;
	return (len > 7 && strncasecmp((const char *)d, "http://", 7) == 0) ||
	       (len > 8 && strncasecmp((const char *)d, "https://", 8) == 0);
}

int crl_distribution_urls(X509 *cert, char urls[][CRL_URL_MAX], int max)
{
	STACK_OF(DIST_POINT) *dps;
	int i, j, n = 0;

	if (!cert)
		return 0;
	dps = X509_get_ext_d2i(cert, NID_crl_distribution_points, NULL, NULL);
	for (i = 0; dps && i < sk_DIST_POINT_num(dps) && n < max; i++) {
		DIST_POINT *dp = sk_DIST_POINT_value(dps, i);
		GENERAL_NAMES *names;

		if (!dp->distpoint || dp->distpoint->type != 0)
			continue;
		names = dp->distpoint->name.fullname;
		for (j = 0; j < sk_GENERAL_NAME_num(names) && n < max; j++) {
			GENERAL_NAME *gn = sk_GENERAL_NAME_value(names, j);

			if (gn->type != GEN_URI ||
			    !crl_url_usable(gn->d.uniformResourceIdentifier))
				continue;
			memcpy(urls[n], ASN1_STRING_get0_data(gn->d.uniformResourceIdentifier),
			       (size_t)ASN1_STRING_length(gn->d.uniformResourceIdentifier));
			urls[n][ASN1_STRING_length(gn->d.uniformResourceIdentifier)] = 0;
			n++;
		}
	}
	CRL_DIST_POINTS_free(dps);
	ERR_clear_error();
	return n;
}

const char *crl_reason_name(int reason)
{
	static const char *const names[] = {
		"unspecified", "keyCompromise", "cACompromise",
		"affiliationChanged", "superseded", "cessationOfOperation",
		"certificateHold", NULL, "removeFromCRL", "privilegeWithdrawn",
		"aACompromise",
	};

	if (reason < 0 || reason >= (int)(sizeof(names) / sizeof(names[0])))
		return NULL;
	return names[reason];
}
