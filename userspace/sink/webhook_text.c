// SPDX-License-Identifier: MIT
/* The readable message of the slack webhook format. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/printable.h"
#include "common/timefmt.h"
#include "detect/spike.h"
#include "webhook_text.h"

#define TEXT_MAX 4096

/* What an operator does about each finding, in the order of findings.h. */
static const char *const finding_advice[FINDING__COUNT] = {
	[FINDING_REVOKED] = "deploy a certificate that is not revoked, and purge every cache or edge that still serves this one",
	[FINDING_EXPIRED] = "renew the certificate and deploy it",
	[FINDING_NOT_YET_VALID] = "deploy the certificate in use before, or check the issuing system's clock",
	[FINDING_SUPERSEDED] = "an older certificate is served again: redeploy the current one and find what rolled it back",
	[FINDING_UNEXPECTED] = "this is not the certificate deployed for the name: compare with the deployment",
	[FINDING_UNTRUSTED] = "serve the full chain up to a trusted root",
	[FINDING_HOSTNAME_MISMATCH] = "serve a certificate whose names cover this server name",
	[FINDING_REVOKED_STAPLE] = "the stapled OCSP answer says revoked: clients reject it; refresh the staple and wipe the OCSP cache",
	[FINDING_STALE_STAPLE] = "refresh the OCSP staple (the server's OCSP cache is stuck)",
	[FINDING_EXPIRING_SOON] = "renew before it expires",
	[FINDING_SELF_SIGNED] = "serve a certificate issued by a CA",
	[FINDING_WEAK_KEY] = "reissue the certificate with a stronger key",
};

void webhook_text_init(struct webhook_text *t)
{
	jw_init(&t->jw);
}

void webhook_text_free(struct webhook_text *t)
{
	jw_free(&t->jw);
}

static size_t text_cert(const struct cert_view *v, char *buf, size_t len)
{
	const struct cert_info *leaf = v->chain[0];
	char name[300] = "(no server name)", addr[TW_ADDR_STRLEN], after[TW_TIME_STRLEN];
	size_t off;
	int i;

	if (v->sni)
		tw_printable(v->sni, v->sni_len, name, sizeof(name));
	off = (size_t)snprintf(buf, len, "tlswatch: %s (%s port %u) serves a certificate with %d finding%s\n",
			       name, tw_addr_format(&v->server->addr, addr), v->server->port,
			       v->findings->n, v->findings->n == 1 ? "" : "s");
	for (i = 0; i < v->findings->n && off < len; i++) {
		enum finding_kind k = v->findings->items[i].kind;

		off += (size_t)snprintf(buf + off, len - off, "- %s (%s): %s. What to do: %s.\n",
					finding_kind_name(k),
					finding_severity_name(finding_kind_severity(k)),
					v->findings->items[i].detail, finding_advice[k]);
	}
	if (off < len)
		off += (size_t)snprintf(buf + off, len - off,
					"Certificate: sha256 %s, serial %s, subject %s, issuer %s, not after %s\n",
					leaf->sha256_hex, leaf->serial_hex, leaf->subject,
					leaf->issuer, tw_time_format_s(leaf->not_after, after));
	return off < len ? off : len - 1;
}

static size_t text_spike(const struct spike_event *ev, char *buf, size_t len)
{
	const char *kind = spike_kind_key(ev->kind);
	size_t off;

	off = (size_t)snprintf(buf, len, "tlswatch: handshake failure spike %s for %s%s%s: %llu of %llu handshakes failed in %us (%.0f%%)\n",
			       spike_state_name(ev->state), ev->key ? kind : "all traffic",
			       ev->key ? "=" : "", ev->key ? ev->key : "",
			       (unsigned long long)ev->failures, (unsigned long long)ev->handshakes,
			       ev->window_s, 100.0 * ev->rate);
	if (ev->n_alerts && off < len)
		off += (size_t)snprintf(buf + off, len - off, "Top alert: %s\n", ev->top_alerts[0].key);
	if (ev->n_snis && off < len)
		off += (size_t)snprintf(buf + off, len - off, "Top name: %s\n", ev->top_snis[0].key);
	if (ev->n_certs && off < len)
		off += (size_t)snprintf(buf + off, len - off, "Top certificate: %s\n", ev->top_certs[0].key);
	return off < len ? off : len - 1;
}

/*
 * Slack (and Mattermost) read "<...>" in a message as a control sequence:
 * "<!channel>" pings everyone, "<https://x|text>" is a link that shows
 * "text". The name, subject, issuer, details and spike keys come from the
 * wire or a certificate, so a client choosing its SNI would write into the
 * ops channel. Their escaping is "&amp;", "&lt;", "&gt;" (what Slack asks
 * for), applied to the whole text: our own words hold none of the three,
 * so no field can be missed. @out holds 5 bytes per byte of @in.
 */
static size_t text_escape_markup(const char *in, size_t n, char *out)
{
	size_t i, len = 0;

	for (i = 0; i < n; i++) {
		const char *e = in[i] == '&' ? "&amp;" : in[i] == '<' ? "&lt;" :
				in[i] == '>' ? "&gt;" : NULL;

		if (!e) {
			out[len++] = in[i];
			continue;
		}
		memcpy(out + len, e, strlen(e));
		len += strlen(e);
	}
	return len;
}

const char *webhook_text_slack(struct webhook_text *t, const struct event *ev,
			       const char *json, size_t json_len, size_t *len)
{
	char buf[TEXT_MAX], escaped[5 * TEXT_MAX];
	size_t n;

	switch (ev->type) {
	case EVENT_CERT:
		n = text_cert(ev->cert, buf, sizeof(buf));
		break;
	case EVENT_SPIKE:
		n = text_spike(ev->spike, buf, sizeof(buf));
		break;
	case EVENT_AGENT:
		n = (size_t)snprintf(buf, sizeof(buf), "tlswatch agent %s: %s\n", ev->agent->state,
				     ev->agent->message ? ev->agent->message : "");
		break;
	default:
		n = (size_t)snprintf(buf, sizeof(buf), "tlswatch %s event:\n```%.*s```\n",
				     event_type_name(ev->type), (int)(json_len < 3900 ? json_len : 3900),
				     json);
		break;
	}
	if (n >= sizeof(buf))
		n = sizeof(buf) - 1;
	jw_reset(&t->jw);
	jw_object_begin(&t->jw);
	jw_key(&t->jw, "text");
	jw_string_n(&t->jw, escaped, text_escape_markup(buf, n, escaped));
	jw_object_end(&t->jw);
	if (jw_failed(&t->jw))
		return NULL;
	*len = jw_len(&t->jw);
	return jw_text(&t->jw);
}
