// SPDX-License-Identifier: MIT
/* The scope of a CRL and the certificates it covers: see crl_scope.h. */
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>

#include "crl_scope.h"

/* Of the extensions OpenSSL finds, ext_d2i says -1 (absent) or -2
 * (repeated) through @crit; a present one it cannot decode comes back NULL
 * with @crit 0 or 1. */
static bool crl_ext_absent(int crit)
{
	return crit == -1;
}

static const ASN1_OCTET_STRING *crl_idp_raw(X509_CRL *crl)
{
	int at = X509_CRL_get_ext_by_NID(crl, NID_issuing_distribution_point, -1);

	return at < 0 ? NULL : X509_EXTENSION_get_data(X509_CRL_get_ext(crl, at));
}

int crl_scope_read(X509_CRL *crl, struct crl_scope *out, char *err, size_t errlen)
{
	int crit = -1;

	memset(out, 0, sizeof(*out));
	out->idp = X509_CRL_get_ext_d2i(crl, NID_issuing_distribution_point, &crit,
					NULL);
	if (!out->idp && !crl_ext_absent(crit)) {
		snprintf(err, errlen, "malformed or repeated issuingDistributionPoint");
		ERR_clear_error();
		return -1;
	}
	out->idp_raw = crl_idp_raw(crl);
	/* A relative distribution point name is relative to the CRL issuer:
	 * made a full name once, to compare with the certificates' ones. */
	if (out->idp && out->idp->distpoint &&
	    !DIST_POINT_set_dpname(out->idp->distpoint, X509_CRL_get_issuer(crl))) {
		snprintf(err, errlen, "out of memory");
		crl_scope_release(out);
		return -1;
	}
	out->number = X509_CRL_get_ext_d2i(crl, NID_crl_number, &crit, NULL);
	out->delta_base = X509_CRL_get_ext_d2i(crl, NID_delta_crl, &crit, NULL);
	if (X509_CRL_get_ext_by_NID(crl, NID_delta_crl, -1) >= 0)
		out->kind = CRL_KIND_DELTA;
	else if (out->idp && (out->idp->onlysomereasons || out->idp->indirectCRL))
		out->kind = CRL_KIND_PARTIAL;
	else
		out->kind = CRL_KIND_COMPLETE;
	ERR_clear_error();
	return 0;
}

void crl_scope_release(struct crl_scope *s)
{
	ISSUING_DIST_POINT_free(s->idp);
	ASN1_INTEGER_free(s->number);
	ASN1_INTEGER_free(s->delta_base);
	memset(s, 0, sizeof(*s));
}

bool crl_scope_same(const struct crl_scope *a, const struct crl_scope *b)
{
	if (!a->idp_raw != !b->idp_raw)
		return false;
	return !a->idp_raw || ASN1_STRING_cmp(a->idp_raw, b->idp_raw) == 0;
}

int crl_number_cmp(const ASN1_INTEGER *a, const ASN1_INTEGER *b)
{
	int c = ASN1_INTEGER_cmp(a, b);

	return c < 0 ? -1 : c > 0;
}

void crl_subject_init(struct crl_subject *s, X509 *cert)
{
	memset(s, 0, sizeof(*s));
	s->cert = cert;
}

void crl_subject_release(struct crl_subject *s)
{
	CRL_DIST_POINTS_free(s->dps);
	s->dps = NULL;
}

static STACK_OF(DIST_POINT) *crl_subject_dps(struct crl_subject *s)
{
	int i;

	if (s->dps_read)
		return s->dps;
	s->dps_read = true;
	s->dps = X509_get_ext_d2i(s->cert, NID_crl_distribution_points, NULL, NULL);
	for (i = 0; s->dps && i < sk_DIST_POINT_num(s->dps); i++) {
		DIST_POINT *dp = sk_DIST_POINT_value(s->dps, i);

		if (dp->distpoint &&
		    !DIST_POINT_set_dpname(dp->distpoint, X509_get_issuer_name(s->cert))) {
			crl_subject_release(s);   /* no names: covered by no shard */
			break;
		}
	}
	ERR_clear_error();
	return s->dps;
}

static bool general_names_meet(GENERAL_NAMES *a, GENERAL_NAMES *b)
{
	int i, j;

	for (i = 0; i < sk_GENERAL_NAME_num(a); i++)
		for (j = 0; j < sk_GENERAL_NAME_num(b); j++)
			if (GENERAL_NAME_cmp(sk_GENERAL_NAME_value(a, i),
					     sk_GENERAL_NAME_value(b, j)) == 0)
				return true;
	return false;
}

/* A relative name (made full by DIST_POINT_set_dpname) against the
 * directory names of a full one. */
static bool dpname_in_names(const X509_NAME *dpname, GENERAL_NAMES *names)
{
	int i;

	for (i = 0; dpname && i < sk_GENERAL_NAME_num(names); i++) {
		GENERAL_NAME *gn = sk_GENERAL_NAME_value(names, i);

		if (gn->type == GEN_DIRNAME && X509_NAME_cmp(dpname, gn->d.directoryName) == 0)
			return true;
	}
	return false;
}

static bool dp_names_meet(const DIST_POINT_NAME *a, const DIST_POINT_NAME *b)
{
	if (a->type == 0 && b->type == 0)
		return general_names_meet(a->name.fullname, b->name.fullname);
	if (a->type != 0 && b->type != 0)
		return a->dpname && b->dpname && X509_NAME_cmp(a->dpname, b->dpname) == 0;
	if (a->type == 0)
		return dpname_in_names(b->dpname, a->name.fullname);
	return dpname_in_names(a->dpname, b->name.fullname);
}

/* RFC 5280 6.3.3 (b)(2)(i): one of the IDP's names is one of the names of
 * a distribution point of the certificate (or of its cRLIssuer). */
static bool crl_idp_names_subject(const DIST_POINT_NAME *idp_name,
				  struct crl_subject *s)
{
	STACK_OF(DIST_POINT) *dps = crl_subject_dps(s);
	int i;

	for (i = 0; dps && i < sk_DIST_POINT_num(dps); i++) {
		DIST_POINT *dp = sk_DIST_POINT_value(dps, i);

		if (dp->distpoint ? dp_names_meet(idp_name, dp->distpoint)
				  : dp->CRLissuer && idp_name->type == 0 &&
				    general_names_meet(idp_name->name.fullname,
						       dp->CRLissuer))
			return true;
	}
	return false;
}

bool crl_scope_covers(const struct crl_scope *sc, struct crl_subject *subject)
{
	const ISSUING_DIST_POINT *idp = sc->idp;
	bool is_ca;

	if (!idp)
		return true;
	if (idp->onlyattr)
		return false;   /* attribute certificates only */
	if (idp->onlyuser || idp->onlyCA) {
		is_ca = X509_check_ca(subject->cert) > 0;
		ERR_clear_error();
		if ((idp->onlyuser && is_ca) || (idp->onlyCA && !is_ca))
			return false;
	}
	return !idp->distpoint || crl_idp_names_subject(idp->distpoint, subject);
}
