// SPDX-License-Identifier: MIT
/*
 * Finding kinds (names and severities are the events.md contract) and the
 * checks that need nothing but the leaf, the SNI and the handshake time.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "findings.h"
#include "common/comma_list.h"
#include "common/host_name.h"
#include "common/printable.h"
#include "common/timefmt.h"

#define DAY_S 86400
#define FINDINGS_DEFAULT_WARN_DAYS 14
#define FINDINGS_DEFAULT_MIN_RSA_BITS 2048
#define FINDINGS_MIN_EC_BITS 224

static const struct {
	const char *name;
	enum finding_severity severity;
} finding_kinds[FINDING__COUNT] = {
	[FINDING_REVOKED]           = { "revoked", SEV_CRITICAL },
	[FINDING_EXPIRED]           = { "expired", SEV_CRITICAL },
	[FINDING_NOT_YET_VALID]     = { "not_yet_valid", SEV_CRITICAL },
	[FINDING_SUPERSEDED]        = { "superseded", SEV_CRITICAL },
	[FINDING_UNEXPECTED]        = { "unexpected", SEV_CRITICAL },
	[FINDING_UNTRUSTED]         = { "untrusted", SEV_CRITICAL },
	[FINDING_HOSTNAME_MISMATCH] = { "hostname_mismatch", SEV_CRITICAL },
	[FINDING_REVOKED_STAPLE]    = { "revoked_staple", SEV_CRITICAL },
	[FINDING_STALE_STAPLE]      = { "stale_staple", SEV_WARNING },
	[FINDING_EXPIRING_SOON]     = { "expiring_soon", SEV_WARNING },
	[FINDING_SELF_SIGNED]       = { "self_signed", SEV_WARNING },
	[FINDING_WEAK_KEY]          = { "weak_key", SEV_WARNING },
};

static bool finding_kind_valid(enum finding_kind k)
{
	return (unsigned)k < FINDING__COUNT;
}

const char *finding_kind_name(enum finding_kind k)
{
	return finding_kind_valid(k) ? finding_kinds[k].name : "unknown";
}

enum finding_severity finding_kind_severity(enum finding_kind k)
{
	return finding_kind_valid(k) ? finding_kinds[k].severity : SEV_INFO;
}

const char *finding_severity_name(enum finding_severity s)
{
	switch (s) {
	case SEV_CRITICAL:
		return "critical";
	case SEV_WARNING:
		return "warning";
	case SEV_INFO:
		return "info";
	}
	return "unknown";
}

int finding_kind_parse(const char *name)
{
	int k;

	if (!name)
		return -1;
	for (k = 0; k < FINDING__COUNT; k++)
		if (strcmp(name, finding_kinds[k].name) == 0)
			return k;
	return -1;
}

bool finding_kind_next(const char **p, int *kind)
{
	/* longer than every kind's name: no name cut to it matches */
	char name[32];
	const char *item;
	size_t n;

	if (!comma_list_next(p, &item, &n))
		return false;
	if (n < sizeof(name)) {
		memcpy(name, item, n);
		name[n] = '\0';
		*kind = finding_kind_parse(name);
	} else {
		*kind = -1;
	}
	return true;
}

static struct finding *finding_find(struct finding_list *l, enum finding_kind k)
{
	int i;

	for (i = 0; i < l->n; i++)
		if (l->items[i].kind == k)
			return &l->items[i];
	return NULL;
}

void finding_add(struct finding_list *l, enum finding_kind k,
		 const char *fmt, ...)
{
	struct finding *f;
	va_list ap;

	if (!l || !finding_kind_valid(k))
		return;
	f = finding_find(l, k);
	if (!f) {
		/* One per kind, so FINDINGS_MAX slots always suffice; the check
		 * guards against a list whose n was never initialised sanely. */
		if (l->n < 0 || l->n >= FINDINGS_MAX)
			return;
		f = &l->items[l->n++];
		f->kind = k;
	}
	va_start(ap, fmt);
	vsnprintf(f->detail, sizeof(f->detail), fmt, ap);
	va_end(ap);
}

uint32_t finding_list_mask(const struct finding_list *l)
{
	uint32_t mask = 0;
	int i;

	for (i = 0; l && i < l->n; i++)
		mask |= 1u << l->items[i].kind;
	return mask;
}

bool finding_has(const struct finding_list *l, enum finding_kind k)
{
	int i;

	if (!l)
		return false;
	for (i = 0; i < l->n && i < FINDINGS_MAX; i++)
		if (l->items[i].kind == k)
			return true;
	return false;
}

/* "1 day", "10 days", "less than a day". */
static const char *findings_days(int64_t seconds, char *buf, size_t len)
{
	int64_t days = seconds / DAY_S;

	if (days < 1)
		snprintf(buf, len, "less than a day");
	else
		snprintf(buf, len, "%lld day%s", (long long)days, days == 1 ? "" : "s");
	return buf;
}

/*
 * OpenSSL's bounds (cert_expired_at, cert_not_yet_valid_at). @at is the
 * handshake's second (its time truncated), as chain verification is given.
 */
static void findings_check_validity(const struct cert_info *leaf, int64_t at,
				    int warn_days, struct finding_list *out)
{
	char when[TW_TIME_STRLEN], span[32];

	if (cert_expired_at(leaf->not_after, at)) {
		finding_add(out, FINDING_EXPIRED, "expired %s, %s before the handshake",
			    tw_time_format_s(leaf->not_after, when),
			    findings_days(at - leaf->not_after, span, sizeof(span)));
	} else if (warn_days >= 0 &&
		   leaf->not_after - at <= (int64_t)warn_days * DAY_S) {
		finding_add(out, FINDING_EXPIRING_SOON,
			    "expires %s, %s after the handshake",
			    tw_time_format_s(leaf->not_after, when),
			    findings_days(leaf->not_after - at, span, sizeof(span)));
	}
	if (cert_not_yet_valid_at(leaf->not_before, at))
		finding_add(out, FINDING_NOT_YET_VALID,
			    "not valid before %s, %s after the handshake",
			    tw_time_format_s(leaf->not_before, when),
			    findings_days(leaf->not_before - at, span, sizeof(span)));
}

/* "a.example, *.b.example" or, without SANs, the subject; "..." when cut. */
static void findings_names(const struct cert_info *leaf, char *buf, size_t len)
{
	size_t off = 0;
	int i, n;

	if (leaf->n_san == 0) {
		snprintf(buf, len, "no SANs, subject %s",
			 leaf->subject ? leaf->subject : "");
		return;
	}
	buf[0] = '\0';
	for (i = 0; i < leaf->n_san; i++) {
		n = snprintf(buf + off, len - off, "%s%s", i ? ", " : "", leaf->san[i]);
		if (n < 0 || (size_t)n >= len - off) {
			if (len > 4)
				strcpy(buf + len - 4, "...");
			return;
		}
		off += (size_t)n;
	}
}

static void findings_check_host(const struct cert_info *leaf, const char *sni,
				size_t sni_len, struct host_memo *hosts,
				struct finding_list *out)
{
	char name[96], names[160];

	if (host_memo_matches(hosts, leaf, sni, sni_len))
		return;
	tw_printable(sni, sni_len, name, sizeof(name));
	findings_names(leaf, names, sizeof(names));
	finding_add(out, FINDING_HOSTNAME_MISMATCH,
		    "SNI \"%s\" %sis not covered by the certificate: %s", name,
		    tw_host_name_has_nul(sni, sni_len) ?
		    "holds a NUL byte (no DNS name does), " : "", names);
}

static void findings_check_key(const struct cert_info *leaf, int min_rsa_bits,
			       struct finding_list *out)
{
	const char *k = leaf->key;

	if ((strncmp(k, "RSA", 3) == 0 || strncmp(k, "DSA", 3) == 0) &&
	    leaf->key_bits > 0 && leaf->key_bits < min_rsa_bits)
		finding_add(out, FINDING_WEAK_KEY, "%s key, below %d bits", k,
			    min_rsa_bits);
	else if (strncmp(k, "EC-", 3) == 0 && leaf->key_bits > 0 &&
		 leaf->key_bits < FINDINGS_MIN_EC_BITS)
		finding_add(out, FINDING_WEAK_KEY, "%s key of %d bits, below %d",
			    k, leaf->key_bits, FINDINGS_MIN_EC_BITS);
}

static int findings_warn_days(const struct leaf_check_opts *opts)
{
	/* negative: expiring_soon off */
	return opts && opts->warn_days != 0 ? opts->warn_days
					    : FINDINGS_DEFAULT_WARN_DAYS;
}

void findings_check_leaf(const struct cert_info *leaf, const char *sni,
			 size_t sni_len, int64_t at, const struct leaf_check_opts *opts,
			 struct host_memo *hosts, struct finding_list *out)
{
	int min_rsa_bits = FINDINGS_DEFAULT_MIN_RSA_BITS;

	if (!leaf || !out)
		return;
	if (opts && opts->min_rsa_bits > 0)
		min_rsa_bits = opts->min_rsa_bits;

	findings_check_validity(leaf, at, findings_warn_days(opts), out);
	if (leaf->self_signed)
		finding_add(out, FINDING_SELF_SIGNED,
			    "issued by itself: %s", leaf->subject ? leaf->subject : "");
	if (sni && sni_len)
		findings_check_host(leaf, sni, sni_len, hosts, out);
	findings_check_key(leaf, min_rsa_bits, out);
}

/* The position (1..) of the served certificate after the leaf that expires
 * first inside the window, still valid at @at; 0: none. */
static int findings_chain_expiring(const struct cert_info *const *chain, int n,
				   int64_t at, int warn_days)
{
	int i, first = 0;

	for (i = 1; i < n; i++) {
		const struct cert_info *c = chain[i];

		if (!c || cert_expired_at(c->not_after, at) ||
		    c->not_after - at > (int64_t)warn_days * DAY_S)
			continue;
		if (!first || c->not_after < chain[first]->not_after)
			first = i;
	}
	return first;
}

void findings_check_chain(const struct cert_info *const *chain, int n,
			  int64_t at, const struct leaf_check_opts *opts,
			  struct finding_list *out)
{
	char leaf_part[FINDING_DETAIL_MAX] = "", when[TW_TIME_STRLEN], span[32];
	int warn_days = findings_warn_days(opts), pos;
	const struct cert_info *c;
	struct finding *leaf_f;

	if (!chain || !out || warn_days < 0)
		return;
	pos = findings_chain_expiring(chain, n, at, warn_days);
	if (!pos)
		return;
	c = chain[pos];
	leaf_f = finding_find(out, FINDING_EXPIRING_SOON);
	if (leaf_f)
		snprintf(leaf_part, sizeof(leaf_part), "%s; ", leaf_f->detail);
	finding_add(out, FINDING_EXPIRING_SOON,
		    "%schain certificate %d (%s) expires %s, %s after the handshake",
		    leaf_part, pos, c->subject ? c->subject : "",
		    tw_time_format_s(c->not_after, when),
		    findings_days(c->not_after - at, span, sizeof(span)));
}
