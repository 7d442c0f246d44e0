// SPDX-License-Identifier: MIT
/*
 * Revocation verdicts. The CA's view of a certificate comes from its
 * responder (a verified answer) or its CRL; when both answer, "revoked"
 * from either wins, then the responder's answer ("unknown" included: a
 * certificate its CA has no record of), being the fresher one. A CRL past
 * its nextUpdate still revokes, but its "good" is only "unknown": the CA
 * has not said since whether that still holds.
 * The staple is judged apart: it is what clients were shown, not what the
 * CA says now, and the two are reported side by side.
 */
#include <stdio.h>
#include <string.h>

#include "common/timefmt.h"
#include "revocation.h"

struct ca_view {
	enum revo_method method;
	enum ocsp_cert_status status;
	int64_t revoked_at;
	int reason;
	int64_t checked_at;
	int64_t stale_since;      /* the CRL's nextUpdate, when passed */
	const char *source;       /* CRL origin or responder URL */
};

const char *revocation_method_name(enum revo_method m)
{
	switch (m) {
	case REVO_CRL:
		return "crl";
	case REVO_OCSP:
		return "ocsp";
	case REVO_STAPLE:
		return "staple";
	case REVO_NONE:
		break;
	}
	return NULL;
}

static void view_from_ocsp(const struct ocsp_lookup *o, struct ca_view *v)
{
	v->method = REVO_OCSP;
	v->status = o->answer.status;
	v->revoked_at = o->answer.revoked_at;
	v->reason = o->answer.reason;
	v->checked_at = o->answer.this_update;
	v->source = o->url;
}

static void view_from_crl(const struct crl_answer *c, struct ca_view *v)
{
	v->method = REVO_CRL;
	v->status = c->status;
	v->revoked_at = c->revoked_at;
	v->reason = c->reason;
	v->checked_at = c->this_update;
	v->stale_since = c->stale ? c->next_update : 0;
	v->source = c->origin;
	if (c->stale && c->status == OCSP_ST_GOOD)
		v->status = OCSP_ST_UNKNOWN;
}

static void ca_view_of(const struct revo_cert *c, struct ca_view *v)
{
	bool answered = c->ocsp.state == OCSP_ANSWERED;

	memset(v, 0, sizeof(*v));
	v->status = OCSP_ST_UNKNOWN;
	v->reason = -1;
	v->source = "";
	if (answered && c->ocsp.answer.status == OCSP_ST_REVOKED)
		view_from_ocsp(&c->ocsp, v);
	else if (c->crl.status == OCSP_ST_REVOKED)
		view_from_crl(&c->crl, v);
	else if (answered)
		view_from_ocsp(&c->ocsp, v);
	else if (c->crl.status == OCSP_ST_GOOD)
		view_from_crl(&c->crl, v);   /* unknown when stale */
	else if (c->ocsp.state == OCSP_FAILED)
		v->method = REVO_OCSP;   /* asked, no usable answer: unknown */
	/* pending: no method yet; the answer comes as an update */
}

/* " (past its nextUpdate T)" for a stale CRL answer, else "". */
static void crl_stale_text(const struct crl_answer *c, char *buf, size_t len)
{
	char when[TW_TIME_STRLEN];

	buf[0] = 0;
	if (c->status != OCSP_ST_UNKNOWN && c->stale)
		snprintf(buf, len, " (past its nextUpdate %s)",
			 tw_time_format_s(c->next_update, when));
}

static const char *reason_text(int reason)
{
	const char *r = crl_reason_name(reason);

	return r ? r : "no reason given";
}

void revocation_sources_text(const struct revo_cert *c, char *buf, size_t len)
{
	const struct ocsp_lookup *o = &c->ocsp;
	char stale[TW_TIME_STRLEN + 32] = "";
	size_t off = 0;

	buf[0] = 0;
	crl_stale_text(&c->crl, stale, sizeof(stale));
	if (c->crl.status != OCSP_ST_UNKNOWN)
		off += (size_t)snprintf(buf, len, "CRL says %s%s",
					ocsp_status_name(c->crl.status), stale);
	if (off < len && o->state == OCSP_ANSWERED)
		snprintf(buf + off, len - off, "%sresponder says %s", off ? ", " : "",
			 ocsp_status_name(o->answer.status));
	else if (off < len && o->state == OCSP_FAILED)
		snprintf(buf + off, len - off, "%sresponder failed (%s)",
			 off ? ", " : "", o->answer.error);
	else if (off < len && o->state == OCSP_PENDING)
		snprintf(buf + off, len - off, "%sresponder answer pending",
			 off ? ", " : "");
	if (!buf[0])
		snprintf(buf, len, "no CRL or responder answer");
}

static bool staple_usable(const struct staple_info *s)
{
	return s && s->parsed && s->matches_leaf;
}

static void add_revoked(const struct revo_input *in, int first,
			const struct ca_view *v, int n_revoked,
			struct finding_list *findings)
{
	char when[TW_TIME_STRLEN], extra[96] = "", more[64] = "";
	char stale[TW_TIME_STRLEN + 32] = "";
	const struct staple_info *st = in->staple;

	if (first == 0 && staple_usable(st) && st->status != OCSP_ST_REVOKED)
		snprintf(extra, sizeof(extra), "; staple says %s",
			 ocsp_status_name(st->status));
	if (n_revoked > 1)
		snprintf(more, sizeof(more), "; %d more revoked in the chain",
			 n_revoked - 1);
	if (v->method == REVO_CRL)
		crl_stale_text(&in->certs[first].crl, stale, sizeof(stale));
	finding_add(findings, FINDING_REVOKED, "%s revoked at %s (%s) per %s %s%s%s%s",
		    in->certs[first].label, tw_time_format_s(v->revoked_at, when),
		    reason_text(v->reason), v->method == REVO_OCSP ? "responder" : "CRL",
		    v->source, stale, extra, more);
}

static void add_revoked_staple(const struct revo_input *in,
			       struct finding_list *findings)
{
	const struct staple_info *st = in->staple;
	char when[TW_TIME_STRLEN], upd[TW_TIME_STRLEN], ca[220];

	revocation_sources_text(&in->certs[0], ca, sizeof(ca));
	finding_add(findings, FINDING_REVOKED_STAPLE,
		    "staple says revoked at %s (%s), this_update %s%s; %s",
		    tw_time_format_s(st->revoked_at, when), reason_text(st->revocation_reason),
		    tw_time_format_s(st->this_update, upd),
		    st->verified ? "" : ", signature not verified", ca);
}

static void add_stale_staple(const struct revo_input *in,
			     struct finding_list *findings)
{
	const struct staple_info *st = in->staple;
	const struct ocsp_lookup *o = &in->certs[0].ocsp;
	char t1[TW_TIME_STRLEN], t2[TW_TIME_STRLEN], why[128], answers[96];

	if (st->next_update && in->at > st->next_update)
		snprintf(why, sizeof(why), "staple next_update %s passed (this_update %s)",
			 tw_time_format_s(st->next_update, t1),
			 tw_time_format_s(st->this_update, t2));
	else if (in->staple_max_age_s > 0 && st->this_update &&
		 in->at - st->this_update > in->staple_max_age_s)
		snprintf(why, sizeof(why), "staple is %lld s old (this_update %s, "
			 "limit %lld s)", (long long)(in->at - st->this_update),
			 tw_time_format_s(st->this_update, t1),
			 (long long)in->staple_max_age_s);
	else
		return;
	if (o->state == OCSP_ANSWERED && o->answer.status != st->status)
		snprintf(answers, sizeof(answers), "staple says %s, responder says %s",
			 ocsp_status_name(st->status), ocsp_status_name(o->answer.status));
	else
		snprintf(answers, sizeof(answers), "staple says %s",
			 ocsp_status_name(st->status));
	finding_add(findings, FINDING_STALE_STAPLE, "%s; %s", why, answers);
}

static void object_from_view(const struct ca_view *v, struct revocation *out)
{
	out->method = v->method;
	out->status = v->status;
	out->revoked_at = v->status == OCSP_ST_REVOKED ? v->revoked_at : 0;
	out->reason = v->status == OCSP_ST_REVOKED ? v->reason : -1;
	out->checked_at = v->checked_at;
	out->stale_since = v->stale_since;
}

static void object_from_staple(const struct staple_info *st, struct revocation *out)
{
	out->method = REVO_STAPLE;
	out->status = st->status;
	out->revoked_at = st->status == OCSP_ST_REVOKED ? st->revoked_at : 0;
	out->reason = st->status == OCSP_ST_REVOKED ? st->revocation_reason : -1;
	out->checked_at = st->this_update;
}

void revocation_judge(const struct revo_input *in, struct revocation *out,
		      struct finding_list *findings)
{
	struct ca_view leaf, v, first_v = { 0 };
	int i, first = -1, n_revoked = 0;

	memset(out, 0, sizeof(*out));
	out->status = OCSP_ST_UNKNOWN;
	out->reason = -1;
	if (!in->certs || in->n < 1)
		return;
	ca_view_of(&in->certs[0], &leaf);
	for (i = 0; i < in->n; i++) {
		ca_view_of(&in->certs[i], &v);
		if (v.status != OCSP_ST_REVOKED)
			continue;
		if (first < 0) {
			first = i;
			first_v = v;
		}
		n_revoked++;
	}
	if (first >= 0) {
		object_from_view(&first_v, out);
		add_revoked(in, first, &first_v, n_revoked, findings);
	} else if (leaf.status == OCSP_ST_GOOD) {
		object_from_view(&leaf, out);
	} else if (staple_usable(in->staple) && in->staple->verified) {
		object_from_staple(in->staple, out);
	} else {
		object_from_view(&leaf, out);
	}
	if (staple_usable(in->staple)) {
		if (in->staple->status == OCSP_ST_REVOKED)
			add_revoked_staple(in, findings);
		add_stale_staple(in, findings);
	}
}
