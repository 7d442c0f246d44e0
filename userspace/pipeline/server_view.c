// SPDX-License-Identifier: MIT
/*
 * What the server's own TLS library said about a connection (struct
 * tw_server_view, from the live source's uprobes), kept beside the
 * connection's parser until its handshake is reported, then merged into
 * the record: the served chain where the wire hid it (TLS 1.3), the
 * fatal alerts the server read and sent in place of the encrypted ones
 * inferred, and the ALPN protocol it selected where the wire hid it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline_priv.h"

struct conn_server {
	bool followed;                /* a chain came: the library is hooked */
	uint8_t n_certs;
	bool truncated, lost;
	struct hs_blob certs[HS_MAX_CHAIN];
	uint32_t pid;                 /* 0: no process known */
	char exe[sizeof(((struct hs_record *)0)->server_exe)];
	char comm[sizeof(((struct hs_record *)0)->server_comm)];
	bool has_alert[2];            /* [1]: read from the client, [0]: sent */
	uint8_t alert[2];
	bool has_alpn;
	struct hs_string alpn;        /* the ALPN protocol it selected */
};

void conn_server_free(struct conn_server *cs)
{
	int i;

	if (!cs)
		return;
	for (i = 0; i < cs->n_certs; i++)
		free(cs->certs[i].data);
	free(cs);
}

bool conn_server_has_chain(const struct conn_server *cs)
{
	return cs && cs->followed;
}

size_t conn_server_mem(const struct conn_server *cs)
{
	size_t n = 0;
	int i;

	if (!cs)
		return 0;
	for (i = 0; i < cs->n_certs; i++)
		n += cs->certs[i].len;
	return sizeof(*cs) + n;
}

static int take_chain(struct conn_server *cs, const struct tw_server_view *v)
{
	int i;

	for (i = 0; i < cs->n_certs; i++)
		free(cs->certs[i].data);
	cs->n_certs = 0;
	for (i = 0; i < v->n_certs && i < HS_MAX_CHAIN; i++) {
		cs->certs[i].data = malloc(v->certs[i].len);
		if (!cs->certs[i].data)
			return -1;
		memcpy(cs->certs[i].data, v->certs[i].der, v->certs[i].len);
		cs->certs[i].len = v->certs[i].len;
		cs->n_certs = i + 1;
	}
	return 0;
}

/* The serving process of @v into @cs. */
static void take_process(struct conn_server *cs, const struct tw_server_view *v)
{
	cs->pid = v->pid;
	snprintf(cs->exe, sizeof(cs->exe), "%s", v->exe ? v->exe : "");
	snprintf(cs->comm, sizeof(cs->comm), "%s", v->comm ? v->comm : "");
}

int conn_server_add(struct conn_server **csp, const struct tw_server_view *v)
{
	struct conn_server *cs = *csp;

	if (!cs) {
		cs = calloc(1, sizeof(*cs));
		if (!cs)
			return -1;
		*csp = cs;
	}
	if (v->n_certs || v->chain_lost) {
		cs->followed = true;
		cs->truncated = v->chain_truncated;
		cs->lost = v->chain_lost;
		take_process(cs, v);
		if (take_chain(cs, v))
			cs->lost = true;
	}
	if (v->has_alert) {
		cs->has_alert[1] = true;
		cs->alert[1] = v->alert;
	}
	if (v->has_alert_sent) {
		cs->has_alert[0] = true;
		cs->alert[0] = v->alert_sent;
	}
	if (v->alpn_len) { /* uint8_t: at most HS_MAX_ALPN_LEN */
		/* read from a server's SSL only: without a chain (a resumed
		 * connection), the process that selected it served it */
		if (!cs->pid)
			take_process(cs, v);
		cs->has_alpn = true;
		cs->alpn.len = v->alpn_len;
		memcpy(cs->alpn.bytes, v->alpn, v->alpn_len);
		cs->alpn.bytes[v->alpn_len] = '\0';
	}
	return 0;
}

/* An alert as the server's library read (@from_client) or sent it: it
 * replaces the encrypted one inferred from the wire on that side, or the
 * same one seen in plaintext, or is added. */
static void apply_alert(const struct conn_server *cs, bool from_client,
			struct hs_record *rec)
{
	struct hs_alert real = {
		.from_client = from_client,
		.level = HS_ALERT_FATAL,
		.description = cs->alert[from_client],
		.from_server_lib = true,
	};
	int i;

	for (i = 0; i < rec->n_alerts; i++) {
		struct hs_alert *a = &rec->alerts[i];

		if (a->from_client != from_client)
			continue;
		if (a->encrypted || a->description == real.description) {
			real.ts_us = a->ts_us;
			*a = real;
			goto failed;
		}
	}
	if (rec->n_alerts < HS_MAX_ALERTS) {
		real.ts_us = rec->end_us;
		rec->alerts[rec->n_alerts++] = real;
	} else {
		rec->alerts_truncated = true;
	}
failed:
	if (rec->outcome != HS_OK)
		rec->outcome = HS_FAILED;
}

/* Whether the client offered @p (RFC 7301: a server selects one of
 * those): a protocol the thread's other SSL selected (a proxy's upstream)
 * is not taken for this connection's. A cut offer list cannot tell. */
static bool alpn_offered(const struct hs_record *rec, const struct hs_string *p)
{
	int i;

	for (i = 0; i < rec->n_alpn; i++)
		if (rec->alpn[i].len == p->len && !memcmp(rec->alpn[i].bytes, p->bytes, p->len))
			return true;
	return rec->alpn_truncated;
}

void conn_server_apply(struct conn_server *cs, struct hs_record *rec)
{
	int i;

	if (!cs)
		return;
	if (cs->pid) {
		rec->server_pid = cs->pid;
		memcpy(rec->server_exe, cs->exe, sizeof(rec->server_exe));
		memcpy(rec->server_comm, cs->comm, sizeof(rec->server_comm));
	}
	/* a resumed handshake serves no certificate: a chain bound to it was
	 * written for another SSL of its thread (a proxy's client
	 * certificate to its upstream, read by the i2d_X509 probes, which do
	 * not know the SSL), not served on this connection */
	if (cs->n_certs && rec->n_chain == 0 && !cs->lost && !rec->resumed) {
		for (i = 0; i < cs->n_certs; i++) {
			rec->chain[i] = cs->certs[i];
			cs->certs[i].data = NULL;
		}
		rec->n_chain = cs->n_certs;
		rec->chain_truncated = cs->truncated;
		rec->chain_from_server = true;
		cs->n_certs = 0;
	}
	for (i = 0; i < 2; i++)
		if (cs->has_alert[i])
			apply_alert(cs, i, rec);
	if (cs->has_alpn && !rec->has_alpn_selected && alpn_offered(rec, &cs->alpn)) {
		rec->has_alpn_selected = true;
		rec->alpn_selected = cs->alpn;
	}
}

/* A TLS 1.3 handshake that finished with ALPN offered, on a server whose
 * library is followed (a chain came for it, or, @server_followed, for an
 * earlier connection of that server: a resumed one serves none): the
 * protocol it selected went encrypted, and comes with the server's close
 * (its SSL_free). */
bool conn_server_awaits_alpn(const struct conn_server *cs, bool server_followed,
			     const struct hs_record *rec)
{
	return (server_followed || (cs && cs->followed)) && !(cs && cs->has_alpn) &&
	       rec->outcome == HS_OK && rec->version == 0x0304 && rec->n_alpn &&
	       !rec->has_alpn_selected;
}

/* An alert decided the failure: a client's (plaintext in TLS 1.2, and
 * from OpenSSL clients in TLS 1.3 too; encrypted from others), or the
 * server's encrypted one. The library's reading of it comes with the
 * server's close. */
bool conn_server_awaits_alert(const struct conn_server *cs,
			      const struct hs_record *rec)
{
	int i;

	if (!cs || !cs->followed || rec->outcome != HS_FAILED)
		return false;
	for (i = 0; i < rec->n_alerts; i++) {
		const struct hs_alert *a = &rec->alerts[i];

		if (a->from_client ? !cs->has_alert[1]
				   : a->encrypted && !cs->has_alert[0])
			return true;
	}
	return false;
}
