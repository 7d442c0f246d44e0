// SPDX-License-Identifier: MIT
/* The bounded aggregates behind the HTML report (see html_report.h). */
#include <stdlib.h>
#include <string.h>

#include "common/strmap.h"
#include "detect/spike.h"
#include "html_report.h"

/* What is not zero in an empty aggregate. */
static void agg_init(struct html_agg *a)
{
	a->tl.width_s = 1;
	a->until_us = UINT64_MAX;
}

struct html_agg *html_agg_new(void)
{
	struct html_agg *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	agg_init(a);
	a->clients = strmap_new(sizeof(struct html_client));
	if (!a->clients) {
		free(a);
		return NULL;
	}
	return a;
}

void html_agg_reset(struct html_agg *a)
{
	struct strmap *clients = a->clients;

	strmap_clear(clients);
	memset(a, 0, sizeof(*a));
	a->clients = clients;
	agg_init(a);
}

void html_agg_free(struct html_agg *a)
{
	if (!a)
		return;
	strmap_free(a->clients);
	free(a);
}

/* --- timeline */

/* @a + @b, at most UINT32_MAX: a column of a history's seconds can hold
 * counts no capture has (a damaged or crafted file). */
static uint32_t add_u32(uint32_t a, uint32_t b)
{
	return a > UINT32_MAX - b ? UINT32_MAX : a + b;
}

/* Halves the resolution: column i takes columns 2i and 2i + 1. */
static void timeline_coarsen(struct html_timeline *tl)
{
	uint32_t i;

	for (i = 0; i < HTML_TIMELINE_BUCKETS / 2; i++) {
		tl->b[i].handshakes = add_u32(tl->b[2 * i].handshakes,
					      tl->b[2 * i + 1].handshakes);
		tl->b[i].failures = add_u32(tl->b[2 * i].failures,
					    tl->b[2 * i + 1].failures);
	}
	memset(&tl->b[HTML_TIMELINE_BUCKETS / 2], 0,
	       sizeof(tl->b) / 2);
	tl->n = (tl->n + 1) / 2;
	tl->width_s *= 2;
}

/* A second before the first column (captures given out of order): the
 * columns move right to make room, coarsened first if need be. */
static void timeline_extend_back(struct html_timeline *tl, uint64_t s)
{
	uint64_t shift;

	/* Bounded: each round doubles the width; 64 rounds at most. */
	for (;;) {
		shift = (tl->start_s - s + tl->width_s - 1) / tl->width_s;
		if (tl->n + shift <= HTML_TIMELINE_BUCKETS)
			break;
		timeline_coarsen(tl);
	}
	memmove(&tl->b[shift], tl->b, tl->n * sizeof(tl->b[0]));
	memset(tl->b, 0, shift * sizeof(tl->b[0]));
	tl->start_s -= shift * tl->width_s;
	tl->n += (uint32_t)shift;
}

static void timeline_add(struct html_timeline *tl, uint64_t s,
			 uint32_t handshakes, uint32_t failures)
{
	uint64_t col;

	if (!tl->started) {
		tl->started = true;
		tl->start_s = s;
	}
	if (s < tl->start_s)
		timeline_extend_back(tl, s);
	/* Bounded: each round halves the column index; 64 rounds at most. */
	while ((col = (s - tl->start_s) / tl->width_s) >= HTML_TIMELINE_BUCKETS)
		timeline_coarsen(tl);
	tl->b[col].handshakes = add_u32(tl->b[col].handshakes, handshakes);
	tl->b[col].failures = add_u32(tl->b[col].failures, failures);
	if (col + 1 > tl->n)
		tl->n = (uint32_t)col + 1;
}

/* --- certificates */

int html_agg_find_cert(const struct html_agg *a, const char *sha256)
{
	int i;

	for (i = 0; i < a->n_certs; i++)
		if (!strcmp(a->certs[i].sha256, sha256))
			return i;
	return -1;
}

/* The row of @sha256, created when there is room; NULL otherwise. */
static struct html_cert *cert_row(struct html_agg *a, const char *sha256,
				  bool *created)
{
	int i = html_agg_find_cert(a, sha256);

	*created = false;
	if (i >= 0)
		return &a->certs[i];
	if (a->n_certs == HTML_MAX_CERTS) {
		a->certs_untracked++;
		return NULL;
	}
	*created = true;
	snprintf(a->certs[a->n_certs].sha256, sizeof(a->certs[0].sha256), "%s", sha256);
	return &a->certs[a->n_certs++];
}

static void cert_fill(struct html_cert *c, const struct cert_info *ci)
{
	snprintf(c->subject, sizeof(c->subject), "%s", ci->subject);
	snprintf(c->issuer, sizeof(c->issuer), "%s", ci->issuer);
	snprintf(c->serial, sizeof(c->serial), "%s", ci->serial_hex);
	snprintf(c->key, sizeof(c->key), "%s", ci->key);
	c->not_before = ci->not_before;
	c->not_after = ci->not_after;
}

/* Keeps every kind seen with the certificate, with its latest detail. */
/* The index of @kind among the certificate's findings, -1 when absent. */
static int cert_finding_index(const struct html_cert *c, int kind)
{
	int i;

	for (i = 0; i < c->n_findings; i++)
		if (c->findings[i].kind == kind)
			return i;
	return -1;
}

static void cert_add_finding(struct html_cert *c, int kind, const char *detail)
{
	int i = cert_finding_index(c, kind);

	if (i < 0) {
		i = c->n_findings;
		if (c->n_findings == FINDING__COUNT)
			return;
		c->n_findings++;
	}
	c->findings[i].kind = (uint8_t)kind;
	snprintf(c->findings[i].detail, sizeof(c->findings[i].detail), "%s", detail);
}

static void cert_add_findings(struct html_cert *c, const struct finding_list *l)
{
	int i;

	for (i = 0; i < l->n; i++)
		cert_add_finding(c, l->items[i].kind, l->items[i].detail);
}

/* --- server names */

/* The row of name @sni (@len bytes), NULL if it has none. A name is found
 * by its key (tw_host_name_fold_key), so every spelling of it is one row
 * (RFC 4343); @key and @key_len, when not NULL, get that key. */
static struct html_name *name_find_key(struct html_agg *a, const char *sni,
				       size_t len, char key[TW_HOST_NAME_KEY_MAX],
				       size_t *key_len)
{
	char buf[TW_HOST_NAME_KEY_MAX];
	size_t n;
	int i;

	if (!key)
		key = buf;
	n = tw_host_name_fold_key(sni, len, key, TW_HOST_NAME_KEY_MAX);
	if (key_len)
		*key_len = n;
	for (i = 0; i < a->n_names; i++)
		if (a->names[i].key_len == n && !memcmp(a->names[i].key, key, n))
			return &a->names[i];
	return NULL;
}

static struct html_name *name_find(struct html_agg *a, const char *sni,
				   size_t len)
{
	return name_find_key(a, sni, len, NULL, NULL);
}

/* The row of name @sni, added when there is room, shown as @sni: the
 * first spelling seen. */
static struct html_name *name_row(struct html_agg *a, const char *sni,
				  size_t len)
{
	char key[TW_HOST_NAME_KEY_MAX];
	size_t key_len;
	struct html_name *nr;

	if (len > HS_MAX_SNI)           /* an inventory name is a C string */
		len = HS_MAX_SNI;
	nr = name_find_key(a, sni, len, key, &key_len);
	if (nr)
		return nr;
	if (a->n_names == HTML_MAX_NAMES)
		return NULL;
	nr = &a->names[a->n_names++];
	memcpy(nr->sni, sni, len);
	nr->sni_len = (uint16_t)len;
	memcpy(nr->key, key, key_len);
	nr->key_len = (uint16_t)key_len;
	return nr;
}

/* The index of @server among the name's addresses (added when there is
 * room), -1 beyond HTML_NAME_MAX_SERVERS. */
static int name_note_server(struct html_name *nr, const char *server)
{
	int i;

	for (i = 0; i < nr->n_servers; i++)
		if (!strcmp(nr->servers[i], server))
			return i;
	if (nr->n_servers == HTML_NAME_MAX_SERVERS) {
		nr->more_servers = true;
		return -1;
	}
	snprintf(nr->servers[i], sizeof(nr->servers[i]), "%s", server);
	return nr->n_servers++;
}

/* What one serving period is: a leaf from a server address. */
struct run_key {
	int cert, server;
	bool extend;                  /* false: always a period of its own */
};

/* Handshakes from @first_us to @last_us served the leaf of @k: they
 * extend the current period (same leaf, same server) or open the next. */
static void name_note_run(struct html_name *nr, struct run_key k,
			  uint64_t first_us, uint64_t last_us,
			  uint64_t handshakes, uint64_t failures, uint32_t findings)
{
	struct html_run *r = nr->n_runs ? &nr->runs[nr->n_runs - 1] : NULL;

	if (!r || r->cert != k.cert || r->server != k.server || !k.extend) {
		if (nr->n_runs < HTML_NAME_MAX_RUNS) {
			r = &nr->runs[nr->n_runs++];
			r->cert = k.cert;
			r->server = k.server;
			r->first_us = first_us;
		} else {
			nr->runs_merged = true;
		}
	}
	if (last_us > r->last_us)
		r->last_us = last_us;
	if (first_us < r->first_us)
		r->first_us = first_us;
	r->handshakes += handshakes;
	r->failures += failures;
	r->findings |= findings;
}

/* --- events */

void html_agg_client(struct html_agg *a, const char *ja4, size_t len,
		     uint64_t handshakes, uint64_t failures)
{
	struct html_client *c = NULL;

	if (!len)
		return;
	c = strmap_get(a->clients, ja4, len);
	if (!c && strmap_count(a->clients) < HTML_MAX_CLIENTS)
		c = strmap_put(a->clients, ja4, len, NULL);
	if (!c) {
		a->other_clients_handshakes += handshakes;
		a->other_clients_failures += failures;
		return;
	}
	c->handshakes += handshakes;
	c->failures += failures;
}

static void note_alerts(struct html_agg *a, const struct hs_record *rec)
{
	int i;

	for (i = 0; i < rec->n_alerts; i++) {
		const struct hs_alert *al = &rec->alerts[i];

		if (al->encrypted)
			a->encrypted_alerts[al->from_client]++;
		else
			a->alerts[al->from_client][al->description]++;
	}
}

static void note_span(struct html_agg *a, uint64_t first_us, uint64_t last_us)
{
	if (!a->first_us || first_us < a->first_us)
		a->first_us = first_us;
	if (last_us > a->last_us)
		a->last_us = last_us;
}

/* The handshake's leaf in the certificate table: its index, -1 when not
 * visible or not tracked. */
static int note_leaf(struct html_agg *a, const struct hs_view *v, bool failed)
{
	struct html_cert *c;
	bool created;

	if (!v->n_chain || !v->chain[0])
		return -1;
	c = cert_row(a, v->chain[0]->sha256_hex, &created);
	if (!c)
		return -1;
	if (created)
		cert_fill(c, v->chain[0]);
	cert_add_findings(c, &v->findings);
	c->handshakes++;
	c->failures += failed;
	return (int)(c - a->certs);
}

void html_agg_handshake(struct html_agg *a, const struct hs_view *v)
{
	const struct hs_record *rec = v->rec;
	bool failed = rec->outcome == HS_FAILED || rec->outcome == HS_ABORTED;
	bool counted = failed || rec->outcome == HS_OK;
	char server[TW_ENDPOINT_STRLEN];
	struct html_name *nr;
	struct run_key key;
	int cert;

	note_span(a, rec->end_us, rec->end_us);
	if (counted)
		timeline_add(&a->tl, rec->end_us / 1000000, 1, failed);
	note_alerts(a, rec);
	html_agg_client(a, rec->ja4, strlen(rec->ja4), 1, failed);
	cert = note_leaf(a, v, failed);
	nr = name_row(a, rec->has_sni ? rec->sni : "", rec->has_sni ? rec->sni_len : 0);
	if (!nr) {
		a->other_names_handshakes++;
		if ((unsigned)rec->outcome < HS_OUTCOME__COUNT)
			a->other_names_outcomes[rec->outcome]++;
		return;
	}
	key = (struct run_key){
		.cert = cert, .extend = true,
		.server = name_note_server(nr, tw_endpoint_format(&rec->server, server)),
	};
	nr->handshakes++;
	if ((unsigned)rec->outcome < HS_OUTCOME__COUNT)
		nr->outcomes[rec->outcome]++;
	if (v->n_chain && v->chain[0])
		name_note_run(nr, key, rec->end_us, rec->end_us, 1, failed,
			      finding_list_mask(&v->findings));
	else
		no_cert_note(&nr->no_cert, rec);
}

/* A cert event's findings belong to the current period of its name with
 * that leaf (a later answer, a staple carried), not to earlier ones. */
static void note_run_findings(struct html_agg *a, const struct cert_view *v, int cert)
{
	struct html_name *nr = name_find(a, v->sni ? v->sni : "",
					 v->sni ? v->sni_len : 0);
	int i;

	for (i = nr ? nr->n_runs - 1 : -1; i >= 0; i--) {
		if (nr->runs[i].cert == cert) {
			nr->runs[i].findings |= finding_list_mask(v->findings);
			return;
		}
	}
}

void html_agg_cert(struct html_agg *a, const struct cert_view *v)
{
	struct html_cert *c;
	bool created;

	if (v->n_chain < 1 || !v->chain[0])
		return;
	c = cert_row(a, v->chain[0]->sha256_hex, &created);
	if (!c)
		return;
	if (created)
		cert_fill(c, v->chain[0]);
	if (v->findings)
		cert_add_findings(c, v->findings);
	note_run_findings(a, v, (int)(c - a->certs));
}

static void copy_top(struct html_top *t, const struct spike_top *src, int n)
{
	if (!n)
		return;
	snprintf(t->key, sizeof(t->key), "%s", src->key);
	snprintf(t->from, sizeof(t->from), "%s", src->from ? src->from : "");
	t->count = src->count;
}

static void spike_remove(struct html_agg *a, int i)
{
	memmove(&a->spikes[i], &a->spikes[i + 1],
		(size_t)(a->n_spikes - i - 1) * sizeof(a->spikes[0]));
	a->n_spikes--;
}

/* Makes room by leaving out the oldest episode whole: its firing event and
 * its resolution (the next event of the same scope and key, if that one
 * resolves it), or a resolution whose firing is not kept (not listed). */
static void spike_drop_oldest(struct html_agg *a)
{
	const struct html_spike *s = &a->spikes[0];
	int j;

	if (s->state == SPIKE_FIRING) {
		a->spikes_dropped++;
		for (j = 1; j < a->n_spikes; j++) {
			const struct html_spike *r = &a->spikes[j];

			if (r->kind != s->kind || strcmp(r->key, s->key))
				continue;
			if (r->state == SPIKE_RESOLVED)
				spike_remove(a, j);
			break;
		}
	}
	spike_remove(a, 0);
}

/* A zeroed slot at the end, the oldest episodes left out when full: the
 * latest incidents are the ones to show. */
static struct html_spike *spike_slot(struct html_agg *a)
{
	struct html_spike *s;

	if (a->n_spikes == HTML_MAX_SPIKES)
		spike_drop_oldest(a);
	s = &a->spikes[a->n_spikes++];
	memset(s, 0, sizeof(*s));
	return s;
}

void html_agg_spike(struct html_agg *a, const struct spike_event *ev)
{
	struct html_spike *s = spike_slot(a);

	s->state = (uint8_t)ev->state;
	s->kind = (uint8_t)ev->kind;
	snprintf(s->key, sizeof(s->key), "%s", ev->key ? ev->key : "");
	s->ts_us = ev->ts_us;
	s->started_us = ev->started_us;
	s->window_s = ev->window_s;
	s->handshakes = ev->handshakes;
	s->failures = ev->failures;
	s->aborted = ev->aborted;
	s->rate = ev->rate;
	s->has_baseline = ev->has_baseline;
	s->baseline_rate = ev->baseline_rate;
	copy_top(&s->alert, ev->top_alerts, ev->n_alerts);
	copy_top(&s->sni, ev->top_snis, ev->n_snis);
	copy_top(&s->cert, ev->top_certs, ev->n_certs);
	copy_top(&s->client, ev->top_clients, ev->n_clients);
	if (ev->n_cert_findings)
		snprintf(s->cert_findings, sizeof(s->cert_findings), "%s",
			 ev->cert_findings[0].findings);
}

void html_agg_summary(struct html_agg *a, const struct summary *sum)
{
	a->sum = *sum;
	a->sum.source = NULL;
	a->sum.files = NULL;
	a->sum.n_files = 0;
	snprintf(a->title, sizeof(a->title), "%s", sum->source ? sum->source : "");
	a->has_summary = true;
}

/* --- inventory rows */

/* The kinds of @list ("revoked,superseded") with no detail, to @c when
 * tracked (NULL: not); a kind @c has already keeps its detail when
 * @keep. Its kinds as html_run.findings bits. */
static uint32_t served_findings(struct html_cert *c, const char *list, bool keep)
{
	const char *p = list;
	uint32_t mask = 0;
	int k;

	while (finding_kind_next(&p, &k)) {
		if (k < 0)
			continue;
		mask |= 1u << k;
		if (c && !(keep && cert_finding_index(c, k) >= 0))
			cert_add_finding(c, k, "");
	}
	return mask;
}

void html_agg_served(struct html_agg *a, const struct html_served *s)
{
	char server[TW_ENDPOINT_STRLEN];
	struct html_name *nr;
	struct html_cert *c;
	uint32_t kinds;
	bool created;
	int cert = -1;

	a->from_inventory = true;
	note_span(a, s->first_seen_us, s->last_seen_us);
	c = cert_row(a, s->sha256, &created);
	if (c && created) {
		snprintf(c->subject, sizeof(c->subject), "%s", s->subject);
		snprintf(c->issuer, sizeof(c->issuer), "%s", s->issuer);
		snprintf(c->key, sizeof(c->key), "%s", s->key);
		c->not_before = s->not_before;
		c->not_after = s->not_after;
	}
	kinds = served_findings(c, s->findings, false);
	if (c) {
		c->handshakes += s->count;
		cert = (int)(c - a->certs);
	}
	nr = name_row(a, s->name, strlen(s->name));
	if (!nr) {
		a->other_names_handshakes += s->count;
		return;
	}
	snprintf(server, sizeof(server), strchr(s->addr, ':') ? "[%s]:%u" : "%s:%u",
		 s->addr, s->port);
	nr->handshakes += s->count;
	/* An inventory row is a period of its own (one leaf on one address). */
	name_note_run(nr, (struct run_key){ .cert = cert, .extend = false,
					    .server = name_note_server(nr, server) },
		      s->first_seen_us, s->last_seen_us, s->count, 0, kinds);
}

/* --- stored history (sink/history_store.c) */

void html_agg_second(struct html_agg *a, uint64_t s, uint32_t handshakes,
		     uint32_t failures)
{
	note_span(a, s * 1000000, s * 1000000 + 999999);
	timeline_add(&a->tl, s, handshakes, failures);
}

int html_agg_stored_cert(struct html_agg *a, const struct html_cert *from)
{
	struct html_cert *c;
	bool created;

	c = cert_row(a, from->sha256, &created);
	if (!c)
		return -1;
	if (created) {
		*c = *from;
		c->handshakes = c->failures = 0;
		c->n_findings = 0;
	}
	return (int)(c - a->certs);
}

void html_agg_stored_finding(struct html_agg *a, int cert, int kind,
			     const char *detail)
{
	if (cert >= 0 && cert < a->n_certs && kind >= 0 && kind < FINDING__COUNT)
		cert_add_finding(&a->certs[cert], kind, detail);
}

void html_agg_stored_period(struct html_agg *a, const struct html_period *p)
{
	struct html_name *nr = name_row(a, p->name, p->name_len);
	bool tracked = p->cert >= 0 && p->cert < a->n_certs;

	note_span(a, p->first_us, p->last_us);
	if (!nr)
		return;
	/* Periods come in time order: a period that continues the last one
	 * (the same leaf and address, after a restart) extends it. */
	name_note_run(nr, (struct run_key){ .cert = tracked ? p->cert : -1, .extend = true,
					    .server = name_note_server(nr, p->server) },
		      p->first_us, p->last_us, p->handshakes, p->failures, p->findings);
}

/* Handshakes with @outcomes: the overview counts every name, listed or
 * not. */
static void sum_outcomes(struct html_agg *a, uint64_t handshakes,
			 const uint64_t outcomes[HS_OUTCOME__COUNT])
{
	int o;

	a->sum.handshakes += handshakes;
	for (o = 0; o < HS_OUTCOME__COUNT; o++)
		a->sum.outcomes[o] += outcomes[o];
}

void html_agg_stored_other_names(struct html_agg *a, uint64_t handshakes,
				 const uint64_t outcomes[HS_OUTCOME__COUNT])
{
	int o;

	sum_outcomes(a, handshakes, outcomes);
	a->other_names_handshakes += handshakes;
	for (o = 0; o < HS_OUTCOME__COUNT; o++)
		a->other_names_outcomes[o] += outcomes[o];
}

void html_agg_stored_name(struct html_agg *a, const char *name, size_t len,
			  const char *server,
			  const uint64_t outcomes[HS_OUTCOME__COUNT],
			  const struct no_cert_counts *no_cert)
{
	struct html_name *nr = name_row(a, name, len);
	uint64_t n = 0;
	int o;

	for (o = 0; o < HS_OUTCOME__COUNT; o++)
		n += outcomes[o];
	if (!nr) {
		html_agg_stored_other_names(a, n, outcomes);
		return;
	}
	sum_outcomes(a, n, outcomes);
	for (o = 0; o < HS_OUTCOME__COUNT; o++)
		nr->outcomes[o] += outcomes[o];
	nr->handshakes += n;
	no_cert_add(&nr->no_cert, no_cert);
	if (server[0])
		name_note_server(nr, server);
}

void html_agg_stored_spike(struct html_agg *a, const struct html_spike *s)
{
	*spike_slot(a) = *s;
	a->sum.spikes += s->state == SPIKE_FIRING;
}

void html_agg_inventory_findings(struct html_agg *a, const char *sha256,
				 const char *findings)
{
	int i = html_agg_find_cert(a, sha256);

	if (i >= 0)
		served_findings(&a->certs[i], findings, true);
}
