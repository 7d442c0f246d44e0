// SPDX-License-Identifier: MIT
/*
 * The human report of `analyze` without --json: accumulates per server name
 * and per certificate, prints everything when the summary arrives. Every
 * wire string is made printable first.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/grow.h"
#include "common/host_name.h"
#include "common/printable.h"
#include "common/strmap.h"
#include "common/timefmt.h"
#include "detect/spike.h"
#include "no_cert.h"
#include "sink.h"

#define NAME_MAX_CERTS 8
#define REPORT_MAX_SPIKE_LINES 1000

/* What the report prints of a certificate, copied: an event's cert_info
 * is valid only during the call (the cache frees what it evicts). */
struct cert_text {
	char sha256_hex[65];
	char subject[256], issuer[256];   /* made printable */
	char serial_hex[80];              /* longer ones cut, as the HTML report does */
	char key[32];
	int64_t not_before, not_after;
};

/* One certificate as served for one name: what every cert event of that
 * (name, certificate) said, so a finding one handshake showed is not hidden
 * by a later one, nor by the same certificate served for another name. */
struct cert_row {
	struct cert_text cert;
	struct finding_list findings;   /* union of its cert events' findings */
};

static void cert_text_fill(struct cert_text *t, const struct cert_info *ci)
{
	snprintf(t->sha256_hex, sizeof(t->sha256_hex), "%s", ci->sha256_hex);
	tw_printable(ci->subject, strlen(ci->subject), t->subject, sizeof(t->subject));
	tw_printable(ci->issuer, strlen(ci->issuer), t->issuer, sizeof(t->issuer));
	snprintf(t->serial_hex, sizeof(t->serial_hex), "%s", ci->serial_hex);
	snprintf(t->key, sizeof(t->key), "%s", ci->key);
	t->not_before = ci->not_before;
	t->not_after = ci->not_after;
}

struct name_row {
	char sni[HS_MAX_SNI];           /* the spelling first seen */
	uint16_t sni_len;
	uint64_t handshakes;
	uint64_t outcomes[HS_OUTCOME__COUNT];
	int n_certs;
	bool certs_truncated;
	struct {
		struct cert_row *row;
		uint64_t count;
	} certs[NAME_MAX_CERTS];
	char server[TW_ENDPOINT_STRLEN];   /* first server address:port */
	int n_servers;
	struct no_cert_counts no_cert;   /* why none was seen, by handshake */
	uint64_t tunnelled;                /* handshakes that came through one */
	char tunnel[TW_TUNNEL_STRLEN];     /* the first of those's tunnel */
	uint64_t starttls[HS_STARTTLS__COUNT]; /* handshakes after a preamble */
	uint64_t sslv2_hellos;
};

struct text_report {
	struct sink base;               /* first: the sink is cast to it */
	FILE *out;
	/* Names by their key (tw_host_name_fold_key: A.test, a.test and
	 * A.TEST. are one name, RFC 4343), "" without SNI */
	struct strmap *names;           /* name key -> name_row */
	struct strmap *certs;           /* sha256 + name key -> cert_row */
	uint64_t alerts[2][256];        /* [from_client][description] */
	uint64_t encrypted_alerts[2];
	char **spike_lines;
	size_t n_spike_lines, cap_spike_lines;
	uint64_t spike_lines_left_out;  /* past REPORT_MAX_SPIKE_LINES */
	uint64_t spike_lines_no_memory; /* their line not kept: out of memory */
};

/* The row of @ci served for @nr, the name whose key (name_of) is @key
 * (@key_len bytes); the map's key is the fixed-size fingerprint followed
 * by the name's. A row is made
 * only while the name lists fewer than NAME_MAX_CERTS: one it does not
 * list is never printed, and a name served a new certificate on every
 * handshake would otherwise cost a row (7 KB) each. NULL past that (the
 * name says more were not listed) or out of memory. */
static struct cert_row *cert_row_of(struct text_report *r, struct name_row *nr,
				    const char *key, size_t key_len,
				    const struct cert_info *ci)
{
	uint8_t mkey[32 + TW_HOST_NAME_KEY_MAX];
	struct cert_row *row;

	memcpy(mkey, ci->sha256, 32);
	memcpy(mkey + 32, key, key_len);
	row = strmap_get(r->certs, mkey, 32 + key_len);
	if (row)
		return row;
	if (nr->n_certs == NAME_MAX_CERTS) {
		nr->certs_truncated = true;
		return NULL;
	}
	row = strmap_put(r->certs, mkey, 32 + key_len, NULL);
	if (row)
		cert_text_fill(&row->cert, ci);
	return row;
}

/* The row of the name @sni (@sni_len bytes; NULL: no SNI), found by its
 * key, written into @key (its length in *@key_len), and made when new,
 * shown as @sni: the first spelling seen. NULL out of memory. */
static struct name_row *name_of(struct text_report *r, const char *sni,
				size_t sni_len, char key[TW_HOST_NAME_KEY_MAX],
				size_t *key_len, bool *created)
{
	struct name_row *nr;

	if (sni_len > HS_MAX_SNI)
		sni_len = HS_MAX_SNI;
	*key_len = sni ? tw_host_name_fold_key(sni, sni_len, key,
					       TW_HOST_NAME_KEY_MAX) : 0;
	nr = strmap_put(r->names, key, *key_len, created);
	if (nr && *created && sni) {
		memcpy(nr->sni, sni, sni_len);
		nr->sni_len = (uint16_t)sni_len;
	}
	return nr;
}

/* Counts one serving of @row for @nr (@count 0: a cert event with no
 * handshake seen for it lists the row without counting it). */
static void note_cert(struct name_row *nr, struct cert_row *row, uint64_t count)
{
	int i;

	for (i = 0; i < nr->n_certs; i++) {
		if (nr->certs[i].row == row) {
			nr->certs[i].count += count;
			return;
		}
	}
	if (nr->n_certs == NAME_MAX_CERTS) {
		nr->certs_truncated = true;
		return;
	}
	nr->certs[nr->n_certs].row = row;
	nr->certs[nr->n_certs++].count = count;
}

static void report_handshake(struct text_report *r, const struct hs_view *v)
{
	const struct hs_record *rec = v->rec;
	struct name_row *nr;
	char server[sizeof(nr->server)], key[TW_HOST_NAME_KEY_MAX];
	size_t key_len;
	bool created;
	int i;

	nr = name_of(r, rec->has_sni ? rec->sni : NULL, rec->sni_len, key,
		     &key_len, &created);
	if (!nr)
		return;
	tw_endpoint_format(&rec->server, server);
	if (created || strcmp(nr->server, server) != 0)
		nr->n_servers++;
	if (created)
		snprintf(nr->server, sizeof(nr->server), "%s", server);
	nr->handshakes++;
	if (rec->tunnel.type && !nr->tunnelled++)
		tw_tunnel_format(&rec->tunnel, nr->tunnel);
	if ((unsigned)rec->outcome < HS_OUTCOME__COUNT)
		nr->outcomes[rec->outcome]++;
	if (rec->starttls < HS_STARTTLS__COUNT)
		nr->starttls[rec->starttls]++;
	nr->sslv2_hellos += rec->sslv2_hello;
	if (v->chain[0]) {
		struct cert_row *row = cert_row_of(r, nr, key, key_len, v->chain[0]);

		if (row)
			note_cert(nr, row, 1);
	} else
		no_cert_note(&nr->no_cert, rec);
	for (i = 0; i < rec->n_alerts; i++) {
		const struct hs_alert *a = &rec->alerts[i];

		if (a->encrypted)
			r->encrypted_alerts[a->from_client]++;
		else
			r->alerts[a->from_client][a->description]++;
	}
}

/* A cert event: its findings join those of its (name, certificate) row,
 * the first detail of each kind kept (the handshake that showed it). */
static void report_cert(struct text_report *r, const struct cert_view *cv)
{
	char key[TW_HOST_NAME_KEY_MAX];
	struct name_row *nr;
	struct cert_row *row;
	size_t key_len;
	bool created;
	int i;

	if (!cv->n_chain || !cv->chain[0])
		return;
	nr = name_of(r, cv->sni, cv->sni_len, key, &key_len, &created);
	if (!nr)
		return;
	if (created) {
		tw_endpoint_format(cv->server, nr->server);
		nr->n_servers = 1;
	}
	row = cert_row_of(r, nr, key, key_len, cv->chain[0]);
	if (!row)
		return;
	note_cert(nr, row, 0);
	for (i = 0; i < cv->findings->n; i++) {
		const struct finding *f = &cv->findings->items[i];

		if (!finding_has(&row->findings, f->kind))
			finding_add(&row->findings, f->kind, "%s", f->detail);
	}
}

/* "2026-11-23T08:30:01.000000Z firing sni=a.test: 30 of 32 failed
 * (94%, normal 1%); top alert unknown_ca, cert 3f5a..., client t13d..." */
static void format_spike(const struct spike_event *ev, char *buf, size_t len)
{
	char ts[TW_TIME_STRLEN], key[200] = "", top[300] = "";
	size_t off = 0;

	if (ev->key)
		tw_printable(ev->key, strlen(ev->key), key, sizeof(key));
	if (ev->n_alerts)
		off += (size_t)snprintf(top + off, sizeof(top) - off, "; top alert %s",
					ev->top_alerts[0].key);
	if (ev->n_snis && off < sizeof(top)) {
		char name[120];

		tw_printable(ev->top_snis[0].key, strlen(ev->top_snis[0].key), name, sizeof(name));
		off += (size_t)snprintf(top + off, sizeof(top) - off, ", name %s", name);
	}
	if (ev->n_certs && off < sizeof(top))
		off += (size_t)snprintf(top + off, sizeof(top) - off, ", cert %.16s...",
					ev->top_certs[0].key);
	if (ev->n_cert_findings && off < sizeof(top))
		snprintf(top + off, sizeof(top) - off, " (%s)", ev->cert_findings[0].findings);
	snprintf(buf, len, "%s %-8s %s%s%s: %llu of %llu failed (%.0f%%%s)%s",
		 tw_time_format_us(ev->ts_us, ts), spike_state_name(ev->state),
		 ev->key ? spike_kind_key(ev->kind) : "all traffic",
		 ev->key ? "=" : "", key, (unsigned long long)ev->failures,
		 (unsigned long long)ev->handshakes, 100.0 * ev->rate,
		 ev->has_baseline ? ", normally low" : "", top);
}

static void report_spike(struct text_report *r, const struct spike_event *ev)
{
	char line[600];

	if (r->n_spike_lines >= REPORT_MAX_SPIKE_LINES) {
		r->spike_lines_left_out++;
		return;
	}
	format_spike(ev, line, sizeof(line));
	/* out of memory: the line is left out (best effort), and counted,
	 * so the report says the timeline misses it */
	if (tw_grow(&r->spike_lines, &r->cap_spike_lines, sizeof(*r->spike_lines),
		    r->n_spike_lines, 1, 16, REPORT_MAX_SPIKE_LINES) < 0 ||
	    !(r->spike_lines[r->n_spike_lines] = strdup(line))) {
		r->spike_lines_no_memory++;
		return;
	}
	r->n_spike_lines++;
}

/* "1 handshake", "2 handshakes": the word for @n of a thing. */
static const char *plural(uint64_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

static double percent(uint64_t part, uint64_t whole)
{
	return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

static void print_cert(FILE *out, const struct cert_row *row, uint64_t count)
{
	const struct cert_text *ct = &row->cert;
	char nb[TW_TIME_STRLEN], na[TW_TIME_STRLEN];
	int i;

	fprintf(out, "    certificate %s  served %llu %s\n", ct->sha256_hex,
		(unsigned long long)count, plural(count, "time", "times"));
	fprintf(out, "      subject %s\n      issuer  %s\n", ct->subject, ct->issuer);
	fprintf(out, "      serial  %s  key %s  valid %s .. %s\n", ct->serial_hex,
		ct->key, tw_time_format_s(ct->not_before, nb),
		tw_time_format_s(ct->not_after, na));
	for (i = 0; i < row->findings.n; i++) {
		const struct finding *f = &row->findings.items[i];
		char detail[512];

		tw_printable(f->detail, strlen(f->detail), detail, sizeof(detail));
		fprintf(out, "      %-8s %s: %s\n",
			finding_severity_name(finding_kind_severity(f->kind)),
			finding_kind_name(f->kind), detail);
	}
}

/* "    upgraded in plaintext first: smtp 3, imap 1" when any were. */
static void print_upgrades(FILE *out, const struct name_row *nr)
{
	const char *sep = "    upgraded in plaintext first: ";
	int p;

	for (p = HS_STARTTLS_NONE + 1; p < HS_STARTTLS__COUNT; p++) {
		if (!nr->starttls[p])
			continue;
		fprintf(out, "%s%s %llu", sep, hs_starttls_name((uint8_t)p),
			(unsigned long long)nr->starttls[p]);
		sep = ", ";
	}
	if (sep[0] == ',')
		fputc('\n', out);
	if (nr->sslv2_hellos)
		fprintf(out, "    SSLv2-compatible ClientHellos: %llu\n",
			(unsigned long long)nr->sslv2_hellos);
}

static void say_line(void *out, const char *sentence)
{
	fprintf(out, "    %s\n", sentence);
}

static void print_names(struct text_report *r)
{
	const char *key;
	size_t len, i;
	void *val;

	fprintf(r->out, "\nServer names (handshakes, failure rate, certificates served)\n");
	/* each name as first seen (its key is how it is found) */
	for (i = 0; strmap_at(r->names, i, &key, &len, &val); i++) {
		const struct name_row *nr = val;
		uint64_t failures = nr->outcomes[HS_FAILED] + nr->outcomes[HS_ABORTED];
		char name[300];
		int c;

		if (len)
			tw_printable(nr->sni, nr->sni_len, name, sizeof(name));
		else
			snprintf(name, sizeof(name), "(no SNI)");
		fprintf(r->out, "  %s  at %s%s\n", name, nr->server,
			nr->n_servers > 1 ? " and others" : "");
		fprintf(r->out, "    handshakes %llu: ok %llu, failed %llu, aborted %llu, incomplete %llu; failure rate %.1f%%\n",
			(unsigned long long)nr->handshakes,
			(unsigned long long)nr->outcomes[HS_OK],
			(unsigned long long)nr->outcomes[HS_FAILED],
			(unsigned long long)nr->outcomes[HS_ABORTED],
			(unsigned long long)nr->outcomes[HS_INCOMPLETE],
			/* incomplete ones did not end: out of the rate */
			percent(failures, nr->handshakes - nr->outcomes[HS_INCOMPLETE]));
		if (nr->tunnelled)
			fprintf(r->out, "    through a tunnel: %llu (the first: %s)\n",
				(unsigned long long)nr->tunnelled, nr->tunnel);
		print_upgrades(r->out, nr);
		for (c = 0; c < nr->n_certs; c++)
			print_cert(r->out, nr->certs[c].row, nr->certs[c].count);
		if (nr->certs_truncated)
			fprintf(r->out, "    (more certificates not listed)\n");
		/* why handshakes of the name showed none, each reason counted */
		no_cert_say(&nr->no_cert, nr->n_certs > 0, say_line, r->out);
	}
}

static void print_alerts(struct text_report *r)
{
	bool any = false;
	int side, d;

	for (side = 0; side < 2; side++) {
		for (d = 0; d < 256; d++) {
			const char *name = hs_alert_description_name((uint8_t)d);

			if (!r->alerts[side][d])
				continue;
			if (!any)
				fprintf(r->out, "\nAlerts (description, sender, count)\n");
			any = true;
			if (name)
				fprintf(r->out, "  %-28s from %-6s %llu\n", name,
					side ? "client" : "server",
					(unsigned long long)r->alerts[side][d]);
			else
				fprintf(r->out, "  %-28d from %-6s %llu\n", d,
					side ? "client" : "server",
					(unsigned long long)r->alerts[side][d]);
		}
		if (r->encrypted_alerts[side]) {
			if (!any)
				fprintf(r->out, "\nAlerts (description, sender, count)\n");
			any = true;
			fprintf(r->out, "  %-28s from %-6s %llu (TLS 1.3, inferred from record length)\n",
				"encrypted", side ? "client" : "server",
				(unsigned long long)r->encrypted_alerts[side]);
		}
	}
}

struct choice {
	int slot;
	uint64_t n;
};

static int by_count_desc(const void *a, const void *b)
{
	const struct choice *x = a, *y = b;

	if (x->n != y->n)
		return x->n < y->n ? 1 : -1;
	return x->slot - y->slot;
}

/* " x25519 12 (75.0%), secp384r1 4 (25.0%)": the non-zero counts of the
 * first @n slots, most frequent first. Returns how many it printed. */
static int print_choice_counts(FILE *out, const uint64_t *counts, int n,
				const char *(*name)(int slot), uint64_t whole)
{
	struct choice c[HS_GROUP_SLOTS + HS_ALPN_SLOTS];
	int i, k = 0;

	for (i = 0; i < n; i++)
		if (counts[i])
			c[k++] = (struct choice){ i, counts[i] };
	qsort(c, (size_t)k, sizeof(c[0]), by_count_desc);
	for (i = 0; i < k; i++)
		fprintf(out, "%s %s %llu (%.1f%%)", i ? "," : "", name(c[i].slot),
			(unsigned long long)c[i].n, percent(c[i].n, whole));
	return k;
}

/* Key exchange groups (post-quantum adoption), ALPN (HTTP/2 share) and
 * resumption, over the handshakes the server answered. */
static void print_choices(struct text_report *r, const struct summary *sum)
{
	const uint64_t *alpn = sum->alpn_selected;
	uint64_t with_hello = 0;
	int i;

	for (i = 0; i < HS_ALPN_SLOTS; i++)
		with_hello += alpn[i];
	if (!with_hello)
		return;
	fprintf(r->out, "\nServer choices (%llu %s with a ServerHello)\n",
		(unsigned long long)with_hello, plural(with_hello, "handshake", "handshakes"));
	fprintf(r->out, "  key exchange groups:");
	if (!print_choice_counts(r->out, sum->groups, HS_GROUP_SLOTS, hs_group_slot_name,
				 with_hello))
		fprintf(r->out, " none seen");
	fprintf(r->out, "\n  ALPN selected:");
	i = print_choice_counts(r->out, alpn, HS_ALPN_OTHER + 1, hs_alpn_slot_name, with_hello);
	fprintf(r->out, "%s none %llu, encrypted (TLS 1.3) %llu\n", i ? "," : "",
		(unsigned long long)alpn[HS_ALPN_NONE],
		(unsigned long long)alpn[HS_ALPN_ENCRYPTED]);
	fprintf(r->out, "  resumed: %llu (%.1f%%)\n", (unsigned long long)sum->resumed,
		percent(sum->resumed, with_hello));
}

static void print_overview(struct text_report *r, const struct summary *sum)
{
	char first[TW_TIME_STRLEN];
	int v;

	fprintf(r->out, "tlswatch report: %s\n", sum->source);
	fprintf(r->out, "  %llu %s, %llu TLS %s, %llu %s: ok %llu, failed %llu, aborted %llu, incomplete %llu\n",
		(unsigned long long)sum->packets, plural(sum->packets, "packet", "packets"),
		(unsigned long long)sum->flows, plural(sum->flows, "connection", "connections"),
		(unsigned long long)sum->handshakes,
		plural(sum->handshakes, "handshake", "handshakes"),
		(unsigned long long)sum->outcomes[HS_OK],
		(unsigned long long)sum->outcomes[HS_FAILED],
		(unsigned long long)sum->outcomes[HS_ABORTED],
		(unsigned long long)sum->outcomes[HS_INCOMPLETE]);
	fprintf(r->out, "  versions:");
	for (v = 0; v < 5; v++)
		if (sum->versions[v])
			fprintf(r->out, " %s %llu", hs_version_name((uint16_t)(0x0300 + v)),
				(unsigned long long)sum->versions[v]);
	fprintf(r->out, "%s\n", sum->handshakes ? "" : " none");
	fprintf(r->out, "  %llu distinct %s (%llu %s); last packet %s\n",
		(unsigned long long)sum->certificates,
		plural(sum->certificates, "certificate", "certificates"),
		(unsigned long long)sum->leaf_certificates,
		plural(sum->leaf_certificates, "leaf", "leaves"),
		sum->has_ts ? tw_time_format_us(sum->last_ts_us, first) : "-");
}

/* Every problem the summary counted, each on its line, read from the one
 * list (event.h): one added there is never left out of the report.
 * "  gaps                 2  Connection directions with missing bytes" */
static void print_problems(struct text_report *r, const struct summary *sum)
{
	const uint64_t *p = sum->problems;
	bool any = false;
	int i;

	if (sum->truncated_file)
		fprintf(r->out, "\nWarning: the capture is truncated; the report covers what was read.\n");
	if (p[SUM_UNREAD_INPUTS])
		fprintf(r->out, "\nWarning: %llu %s not fully read (the errors say why); the report covers what was read.\n",
			(unsigned long long)p[SUM_UNREAD_INPUTS],
			plural(p[SUM_UNREAD_INPUTS], "input", "inputs"));
	for (i = 0; i < SUM_PROBLEM__COUNT; i++) {
		if (!p[i])
			continue;
		if (!any)
			fprintf(r->out, "\nProblems (name in the JSON summary, count, what it counts)\n");
		any = true;
		fprintf(r->out, "  %-20s %llu  %s\n", summary_problem_names[i],
			(unsigned long long)p[i], summary_problem_help[i]);
	}
}

static int report_summary(struct text_report *r, const struct summary *sum)
{
	size_t i;

	print_overview(r, sum);
	print_choices(r, sum);
	print_names(r);
	print_alerts(r);
	/* a spike none of whose lines was kept still has its heading and
	 * the line that says why */
	if (r->n_spike_lines || r->spike_lines_no_memory) {
		fprintf(r->out, "\nFailure spikes (timeline)\n");
		for (i = 0; i < r->n_spike_lines; i++)
			fprintf(r->out, "  %s\n", r->spike_lines[i]);
		if (r->spike_lines_left_out)
			fprintf(r->out, "  (%llu later spike %s not listed: at most %d)\n",
				(unsigned long long)r->spike_lines_left_out,
				plural(r->spike_lines_left_out, "event", "events"),
				REPORT_MAX_SPIKE_LINES);
		/* not "later": such a line may be anywhere in the timeline */
		if (r->spike_lines_no_memory)
			fprintf(r->out, "  (%llu spike %s not listed: out of memory)\n",
				(unsigned long long)r->spike_lines_no_memory,
				plural(r->spike_lines_no_memory, "event", "events"));
	}
	print_problems(r, sum);
	return fflush(r->out) != 0 ? -EIO : 0;
}

static int report_event(struct sink *s, const struct event *ev,
			const char *json, size_t len)
{
	struct text_report *r = (struct text_report *)s;

	switch (ev->type) {
	case EVENT_HANDSHAKE:
		report_handshake(r, ev->handshake);
		return 0;
	case EVENT_CERT:
		report_cert(r, ev->cert);
		return 0;
	case EVENT_SPIKE:
		report_spike(r, ev->spike);
		return 0;
	case EVENT_SUMMARY:
		return report_summary(r, ev->summary);
	default:
		return 0;
	}
}

static void report_close(struct sink *s)
{
	struct text_report *r = (struct text_report *)s;
	size_t i;

	strmap_free(r->names);
	strmap_free(r->certs);
	for (i = 0; i < r->n_spike_lines; i++)
		free(r->spike_lines[i]);
	free(r->spike_lines);
	free(r);
}

static const struct sink_ops text_report_ops = {
	.name = "text",
	.event = report_event,
	.close = report_close,
};

int text_report_open(const struct output_opts *o, struct sink_set *set,
		     char *err, size_t errlen)
{
	struct text_report *r;

	if (!o->text_report)
		return 0;
	r = calloc(1, sizeof(*r));
	if (!r) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	r->base.ops = &text_report_ops;
	r->out = o->text_report;
	r->names = strmap_new(sizeof(struct name_row));
	r->certs = strmap_new(sizeof(struct cert_row));
	if (!r->names || !r->certs) {
		report_close(&r->base);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	return sink_set_add(set, &r->base, err, errlen);
}
