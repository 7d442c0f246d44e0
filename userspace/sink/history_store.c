// SPDX-License-Identifier: MIT
/*
 * The event history's rows (see history_store.h): counts are added to
 * the row of their second or minute (ON CONFLICT ... DO UPDATE), so a
 * second written in two ticks, or by an agent restarted within it, adds
 * up. Enumerations are stored by name (finding kinds, spike states and
 * scopes), so a reordered enum does not change what old rows mean.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "common/host_name.h"
#include "common/strmap.h"
#include "detect/spike.h"
#include "history_store.h"
#include "inventory/inventory.h"

#define US_PER_S 1000000ull
#define US_PER_MIN (60 * US_PER_S)

/* The four explanations of a spike event: X(field of html_spike). */
#define SPIKE_TOPS(X) X(alert) X(sni) X(cert) X(client)

/* One column list for the insert and the read. */
#define SPIKE_COLUMNS \
	"ts_us, state, scope, key, started_us, window_s, handshakes, failures," \
	" aborted, rate, baseline_rate," \
	" top_alert, top_alert_from, top_alert_count," \
	" top_sni, top_sni_from, top_sni_count," \
	" top_cert, top_cert_from, top_cert_count," \
	" top_client, top_client_from, top_client_count, cert_findings"

/* The outcomes of other_names, in enum hs_outcome's order (schema 6). */
#define OTHER_OUTCOMES " other_incomplete, other_ok, other_failed, other_aborted"

/* The writes, each prepared once:  X(ID, SQL) */
#define HISTORY_WRITES(X)                                                      \
	X(SECOND, "INSERT INTO history_second (second, handshakes, failures,"  \
	  " other_names, other_clients, other_clients_failures, other_certs,"  \
	  OTHER_OUTCOMES ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)" \
	  " ON CONFLICT (second) DO UPDATE"                                    \
	  " SET handshakes = handshakes + excluded.handshakes,"                \
	  " failures = failures + excluded.failures,"                          \
	  " other_names = other_names + excluded.other_names,"                 \
	  " other_clients = other_clients + excluded.other_clients,"           \
	  " other_clients_failures = other_clients_failures"                   \
	  "  + excluded.other_clients_failures,"                               \
	  " other_certs = other_certs + excluded.other_certs,"                 \
	  " other_incomplete = other_incomplete + excluded.other_incomplete,"  \
	  " other_ok = other_ok + excluded.other_ok,"                          \
	  " other_failed = other_failed + excluded.other_failed,"              \
	  " other_aborted = other_aborted + excluded.other_aborted")           \
	X(NAME, "INSERT INTO history_name (minute, name, server, incomplete,"  \
	  " ok, failed, aborted, no_cert_resumed, no_cert_tls13,"              \
	  " no_cert_too_large, no_cert_truncated, largest_chain)"              \
	  " VALUES (?1, ?2, ?7, ?3, ?4, ?5, ?6, ?8, ?9, ?10, ?11, ?12)"        \
	  " ON CONFLICT (minute, name, server) DO UPDATE SET"                  \
	  " incomplete = incomplete + excluded.incomplete,"                    \
	  " ok = ok + excluded.ok, failed = failed + excluded.failed,"         \
	  " aborted = aborted + excluded.aborted,"                             \
	  " no_cert_resumed = no_cert_resumed + excluded.no_cert_resumed,"     \
	  " no_cert_tls13 = no_cert_tls13 + excluded.no_cert_tls13,"           \
	  " no_cert_too_large = no_cert_too_large + excluded.no_cert_too_large," \
	  " no_cert_truncated = no_cert_truncated + excluded.no_cert_truncated," \
	  " largest_chain = max(largest_chain, excluded.largest_chain)")       \
	X(PERIOD, "INSERT INTO history_period (name, server, sha256, first_us," \
	  " last_us, handshakes, failures, findings)"                          \
	  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"                           \
	  " ON CONFLICT (name, server, sha256, first_us) DO UPDATE SET"        \
	  " last_us = max(last_us, excluded.last_us),"                         \
	  " handshakes = handshakes + excluded.handshakes,"                    \
	  " failures = failures + excluded.failures,"                          \
	  " findings = findings | excluded.findings")                          \
	X(CERT, "INSERT INTO history_cert (sha256, subject, issuer, serial,"   \
	  " key, not_before, not_after, last_us)"                              \
	  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (sha256)"      \
	  " DO UPDATE SET last_us = max(last_us, excluded.last_us)")           \
	X(LEAF, "INSERT INTO history_leaf (minute, sha256, handshakes,"        \
	  " failures) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (minute, sha256)"    \
	  " DO UPDATE SET handshakes = handshakes + excluded.handshakes,"      \
	  " failures = failures + excluded.failures")                          \
	X(FINDING, "INSERT INTO history_finding (sha256, kind, detail, last_us)" \
	  " VALUES (?1, ?2, ?3, ?4) ON CONFLICT (sha256, kind) DO UPDATE SET"  \
	  " detail = excluded.detail, last_us = max(last_us, excluded.last_us)") \
	X(SPIKE, "INSERT INTO history_spike (" SPIKE_COLUMNS ") VALUES"        \
	  " (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?," \
	  " ?, ?)")                                                            \
	X(ALERT, "INSERT INTO history_alert (minute, from_client, description," \
	  " count) VALUES (?1, ?2, ?3, ?4)"                                    \
	  " ON CONFLICT (minute, from_client, description) DO UPDATE SET"      \
	  " count = count + excluded.count")                                   \
	X(CLIENT, "INSERT INTO history_client (minute, ja4, handshakes,"       \
	  " failures) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (minute, ja4)"       \
	  " DO UPDATE SET handshakes = handshakes + excluded.handshakes,"      \
	  " failures = failures + excluded.failures")

/* The bound, ?1 the oldest µs kept: one statement per table. */
static const char *const prune_sql[] = {
	"DELETE FROM history_second WHERE second < ?1 / 1000000",
	"DELETE FROM history_name WHERE minute < ?1 / 60000000",
	"DELETE FROM history_period WHERE last_us < ?1",
	"DELETE FROM history_cert WHERE last_us < ?1",
	"DELETE FROM history_leaf WHERE minute < ?1 / 60000000",
	"DELETE FROM history_finding WHERE last_us < ?1",
	"DELETE FROM history_spike WHERE ts_us < ?1",
	"DELETE FROM history_alert WHERE minute < ?1 / 60000000",
	"DELETE FROM history_client WHERE minute < ?1 / 60000000",
};

#define N_PRUNE (int)(sizeof(prune_sql) / sizeof(prune_sql[0]))

enum history_write {
#define X(id, sql) HW_##id,
	HISTORY_WRITES(X)
#undef X
	HW__COUNT
};

static const char *const write_sql[HW__COUNT] = {
#define X(id, sql) [HW_##id] = sql,
	HISTORY_WRITES(X)
#undef X
};

/* The serving period a (name, server) is in, as last written: the next
 * second's handshakes with the same leaf continue its row. */
struct period_cont {
	char sha256[65];
	uint64_t first_us;
};

/* Periods followed at most; beyond, the map starts over (a period then
 * gets a new row, which the report joins to the previous one). */
#define HISTORY_MAX_PERIODS 4096

/* The spelling a name's rows are written under: the first this store
 * wrote for it (html_agg's row of a second is the name as first seen in
 * that second; RFC 4343 makes A.test and a.test one name). So a name's
 * rows of a minute, and a period's row, stay one row whatever spellings
 * its handshakes used; rows of another spelling (written before a
 * restart, past this bound, or by a tlswatch before this rule) are
 * joined to it when read (html_agg finds names by their key). */
struct name_spelling {
	uint16_t len;
	char sni[HS_MAX_SNI];
};

/* Names remembered at most; beyond, the map starts over. */
#define HISTORY_MAX_SPELLINGS 4096

struct history_store {
	sqlite3 *db;
	sqlite3_stmt *w[HW__COUNT];
	sqlite3_stmt *prune[N_PRUNE];
	struct strmap *periods;          /* name key NUL server -> period_cont */
	struct strmap *spellings;        /* name key -> name_spelling */
	uint64_t newest_us;              /* the newest event written */
};

static int store_fail(sqlite3 *db, const char *what, char *err, size_t errlen)
{
	snprintf(err, errlen, "event history: %s: %s", what, sqlite3_errmsg(db));
	return -EIO;
}

int history_store_open(struct sqlite3 *db, struct history_store **out,
		       char *err, size_t errlen)
{
	struct history_store *st = calloc(1, sizeof(*st));
	int i;

	*out = NULL;
	if (!st || !(st->periods = strmap_new(sizeof(struct period_cont))) ||
	    !(st->spellings = strmap_new(sizeof(struct name_spelling)))) {
		if (st)
			strmap_free(st->periods);
		free(st);
		snprintf(err, errlen, "event history: out of memory");
		return -ENOMEM;
	}
	st->db = db;
	for (i = 0; i < HW__COUNT; i++)
		if (sqlite3_prepare_v3(db, write_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
				       &st->w[i], NULL) != SQLITE_OK)
			goto fail;
	for (i = 0; i < N_PRUNE; i++)
		if (sqlite3_prepare_v3(db, prune_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
				       &st->prune[i], NULL) != SQLITE_OK)
			goto fail;
	*out = st;
	return 0;
fail:
	store_fail(db, "preparing", err, errlen);
	history_store_close(st);
	return -EIO;
}

void history_store_close(struct history_store *st)
{
	int i;

	if (!st)
		return;
	for (i = 0; i < HW__COUNT; i++)
		sqlite3_finalize(st->w[i]);
	for (i = 0; i < N_PRUNE; i++)
		sqlite3_finalize(st->prune[i]);
	strmap_free(st->periods);
	strmap_free(st->spellings);
	free(st);
}

/* --- binding: each returns false when SQLite refused the value */

static bool bind_u64(sqlite3_stmt *s, int i, uint64_t v)
{
	return sqlite3_bind_int64(s, i, (sqlite3_int64)v) == SQLITE_OK;
}

static bool bind_text(sqlite3_stmt *s, int i, const char *t)
{
	return sqlite3_bind_text(s, i, t, -1, SQLITE_STATIC) == SQLITE_OK;
}

static bool bind_blob(sqlite3_stmt *s, int i, const void *p, size_t n)
{
	return sqlite3_bind_blob(s, i, n ? p : "", (int)n, SQLITE_STATIC) == SQLITE_OK;
}

/* Runs a bound statement to its end and resets it. */
static int store_step(struct history_store *st, sqlite3_stmt *s, bool bound,
		      char *err, size_t errlen)
{
	int rc = bound ? sqlite3_step(s) : SQLITE_MISUSE;

	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (rc != SQLITE_DONE)
		return store_fail(st->db, "writing", err, errlen);
	return 0;
}

/* --- the writes */

/* What one row of history_second adds. */
struct second_row {
	uint64_t second, handshakes, failures;
	uint64_t other_names, other_clients, other_clients_failures, other_certs;
	uint64_t other_outcomes[HS_OUTCOME__COUNT]; /* of other_names */
};

static int write_second(struct history_store *st, const struct second_row *r,
			char *err, size_t errlen)
{
	sqlite3_stmt *s = st->w[HW_SECOND];

	return store_step(st, s, bind_u64(s, 1, r->second) &&
			  bind_u64(s, 2, r->handshakes) && bind_u64(s, 3, r->failures) &&
			  bind_u64(s, 4, r->other_names) && bind_u64(s, 5, r->other_clients) &&
			  bind_u64(s, 6, r->other_clients_failures) &&
			  bind_u64(s, 7, r->other_certs) &&
			  bind_u64(s, 8, r->other_outcomes[HS_INCOMPLETE]) &&
			  bind_u64(s, 9, r->other_outcomes[HS_OK]) &&
			  bind_u64(s, 10, r->other_outcomes[HS_FAILED]) &&
			  bind_u64(s, 11, r->other_outcomes[HS_ABORTED]),
			  err, errlen);
}

/* The timeline's seconds; what went beyond the bounds goes with the
 * delta's last second. */
static int write_seconds(struct history_store *st, const struct html_agg *d,
			 uint64_t at_us, char *err, size_t errlen)
{
	struct second_row beyond = {
		.second = at_us / US_PER_S,
		.other_names = d->other_names_handshakes,
		.other_clients = d->other_clients_handshakes,
		.other_clients_failures = d->other_clients_failures,
		.other_certs = d->certs_untracked,
	};
	uint32_t i;

	memcpy(beyond.other_outcomes, d->other_names_outcomes,
	       sizeof(beyond.other_outcomes));

	for (i = 0; i < d->tl.n; i++) {
		struct second_row r = {
			.second = d->tl.start_s + i * d->tl.width_s,
			.handshakes = d->tl.b[i].handshakes,
			.failures = d->tl.b[i].failures,
		};

		if (r.handshakes && write_second(st, &r, err, errlen))
			return -EIO;
	}
	if ((beyond.other_names || beyond.other_clients || beyond.other_certs) &&
	    write_second(st, &beyond, err, errlen))
		return -EIO;
	return 0;
}

/* The spelling @nr's rows are written under (struct name_spelling): the
 * first written for its key, @nr's own when new or out of memory. */
static const struct name_spelling *name_spelling(struct history_store *st,
						 const struct html_name *nr,
						 struct name_spelling *own)
{
	struct name_spelling *sp;
	bool created;

	own->len = nr->sni_len;
	memcpy(own->sni, nr->sni, nr->sni_len);
	sp = strmap_put_bounded(st->spellings, nr->key, nr->key_len,
				HISTORY_MAX_SPELLINGS, &created);
	if (!sp)
		return own;
	if (created)
		*sp = *own;
	return sp;
}

/* The name's outcomes go with its first server (the report sums them
 * per name); its other servers are listed with zeros. */
static int write_name(struct history_store *st, const struct html_name *nr,
		      const struct name_spelling *sp, uint64_t minute,
		      int server, char *err, size_t errlen)
{
	sqlite3_stmt *s = st->w[HW_NAME];
	const uint64_t *o = nr->outcomes;
	const struct no_cert_counts *nc = &nr->no_cert;
	bool first = server <= 0;

	/* the name's counts go in its first server's row */
	return store_step(st, s, bind_u64(s, 1, minute) &&
			  bind_blob(s, 2, sp->sni, sp->len) &&
			  bind_u64(s, 3, first ? o[HS_INCOMPLETE] : 0) &&
			  bind_u64(s, 4, first ? o[HS_OK] : 0) &&
			  bind_u64(s, 5, first ? o[HS_FAILED] : 0) &&
			  bind_u64(s, 6, first ? o[HS_ABORTED] : 0) &&
			  bind_text(s, 7, server < 0 ? "" : nr->servers[server]) &&
			  bind_u64(s, 8, first ? nc->resumed : 0) &&
			  bind_u64(s, 9, first ? nc->tls13 : 0) &&
			  bind_u64(s, 10, first ? nc->too_large : 0) &&
			  bind_u64(s, 11, first ? nc->truncated : 0) &&
			  bind_u64(s, 12, first ? nc->largest_chain : 0),
			  err, errlen);
}

static int write_names(struct history_store *st, const struct html_agg *d,
		       uint64_t minute, char *err, size_t errlen)
{
	int n, i;

	for (n = 0; n < d->n_names; n++) {
		const struct html_name *nr = &d->names[n];
		struct name_spelling own;
		const struct name_spelling *sp = name_spelling(st, nr, &own);

		if (!nr->n_servers && write_name(st, nr, sp, minute, -1, err, errlen))
			return -EIO;
		for (i = 0; i < nr->n_servers; i++)
			if (write_name(st, nr, sp, minute, i, err, errlen))
				return -EIO;
	}
	return 0;
}

/* The period @run of @nr continues, or starts: the first_us of its row. */
static uint64_t period_start(struct history_store *st, const struct html_name *nr,
			     const char *server, const char *sha256, uint64_t first_us)
{
	char key[TW_HOST_NAME_KEY_MAX + 1 + TW_ENDPOINT_STRLEN];
	size_t slen = strnlen(server, TW_ENDPOINT_STRLEN - 1);
	size_t klen = nr->key_len + 1 + slen;
	struct period_cont *c;

	/* by the name's key: a period goes on whatever the spelling */
	memcpy(key, nr->key, nr->key_len);
	key[nr->key_len] = 0;
	memcpy(key + nr->key_len + 1, server, slen);
	c = strmap_put_bounded(st->periods, key, klen, HISTORY_MAX_PERIODS, NULL);
	if (!c)
		return first_us;        /* out of memory: a row of its own */
	if (strcmp(c->sha256, sha256)) {
		snprintf(c->sha256, sizeof(c->sha256), "%s", sha256);
		c->first_us = first_us;
	}
	return c->first_us;
}

static int write_run(struct history_store *st, const struct html_agg *d,
		     const struct html_name *nr, const struct html_run *run,
		     char *err, size_t errlen)
{
	sqlite3_stmt *s = st->w[HW_PERIOD];
	const char *server = run->server >= 0 ? nr->servers[run->server] : "other";
	const char *sha256 = d->certs[run->cert].sha256;
	uint64_t first = period_start(st, nr, server, sha256, run->first_us);
	struct name_spelling own;
	const struct name_spelling *sp = name_spelling(st, nr, &own);

	return store_step(st, s, bind_blob(s, 1, sp->sni, sp->len) &&
			  bind_text(s, 2, server) && bind_text(s, 3, sha256) &&
			  bind_u64(s, 4, first) && bind_u64(s, 5, run->last_us) &&
			  bind_u64(s, 6, run->handshakes) &&
			  bind_u64(s, 7, run->failures) &&
			  bind_u64(s, 8, run->findings), err, errlen);
}

static int write_periods(struct history_store *st, const struct html_agg *d,
			 char *err, size_t errlen)
{
	int n, r;

	for (n = 0; n < d->n_names; n++)
		for (r = 0; r < d->names[n].n_runs; r++)
			if (d->names[n].runs[r].cert >= 0 &&
			    write_run(st, d, &d->names[n], &d->names[n].runs[r], err, errlen))
				return -EIO;
	return 0;
}

static int write_cert(struct history_store *st, const struct html_cert *c,
		      uint64_t at_us, char *err, size_t errlen)
{
	sqlite3_stmt *s = st->w[HW_CERT], *f = st->w[HW_FINDING], *l = st->w[HW_LEAF];
	int i;

	if (c->handshakes &&
	    store_step(st, l, bind_u64(l, 1, at_us / US_PER_MIN) &&
		       bind_text(l, 2, c->sha256) && bind_u64(l, 3, c->handshakes) &&
		       bind_u64(l, 4, c->failures), err, errlen))
		return -EIO;

	if (store_step(st, s, bind_text(s, 1, c->sha256) && bind_text(s, 2, c->subject) &&
		       bind_text(s, 3, c->issuer) && bind_text(s, 4, c->serial) &&
		       bind_text(s, 5, c->key) &&
		       sqlite3_bind_int64(s, 6, c->not_before) == SQLITE_OK &&
		       sqlite3_bind_int64(s, 7, c->not_after) == SQLITE_OK &&
		       bind_u64(s, 8, at_us), err, errlen))
		return -EIO;
	for (i = 0; i < c->n_findings; i++)
		if (store_step(st, f, bind_text(f, 1, c->sha256) &&
			       bind_text(f, 2, finding_kind_name(c->findings[i].kind)) &&
			       bind_text(f, 3, c->findings[i].detail) &&
			       bind_u64(f, 4, at_us), err, errlen))
			return -EIO;
	return 0;
}

static int write_certs(struct history_store *st, const struct html_agg *d,
		       uint64_t at_us, char *err, size_t errlen)
{
	int i;

	for (i = 0; i < d->n_certs; i++)
		if (write_cert(st, &d->certs[i], at_us, err, errlen))
			return -EIO;
	return 0;
}

static bool bind_top(sqlite3_stmt *s, int col, const struct html_top *t)
{
	return bind_text(s, col, t->key) && bind_text(s, col + 1, t->from) &&
	       bind_u64(s, col + 2, t->count);
}

static int write_spike(struct history_store *st, const struct html_spike *sp,
		       char *err, size_t errlen)
{
	sqlite3_stmt *s = st->w[HW_SPIKE];
	const char *scope = spike_kind_key(sp->kind);
	bool ok = bind_u64(s, 1, sp->ts_us) &&
		  bind_text(s, 2, spike_state_name(sp->state)) &&
		  bind_text(s, 3, scope ? scope : "all") && bind_text(s, 4, sp->key) &&
		  bind_u64(s, 5, sp->started_us) && bind_u64(s, 6, sp->window_s) &&
		  bind_u64(s, 7, sp->handshakes) && bind_u64(s, 8, sp->failures) &&
		  bind_u64(s, 9, sp->aborted) &&
		  sqlite3_bind_double(s, 10, sp->rate) == SQLITE_OK &&
		  (sp->has_baseline ?
		   sqlite3_bind_double(s, 11, sp->baseline_rate) :
		   sqlite3_bind_null(s, 11)) == SQLITE_OK;
	int col = 12;                   /* the first top (binds count from 1) */

#define X(top) ok = ok && bind_top(s, col, &sp->top); col += 3;
	SPIKE_TOPS(X)
#undef X
	ok = ok && bind_text(s, col, sp->cert_findings);
	return store_step(st, s, ok, err, errlen);
}

static int write_spikes(struct history_store *st, const struct html_agg *d,
			char *err, size_t errlen)
{
	int i;

	for (i = 0; i < d->n_spikes; i++)
		if (write_spike(st, &d->spikes[i], err, errlen))
			return -EIO;
	return 0;
}

static int write_alert(struct history_store *st, uint64_t minute, int side,
		       int desc, uint64_t count, char *err, size_t errlen)
{
	sqlite3_stmt *s = st->w[HW_ALERT];

	if (!count)
		return 0;
	return store_step(st, s, bind_u64(s, 1, minute) &&
			  sqlite3_bind_int(s, 2, side) == SQLITE_OK &&
			  sqlite3_bind_int(s, 3, desc) == SQLITE_OK &&
			  bind_u64(s, 4, count), err, errlen);
}

static int write_alerts(struct history_store *st, const struct html_agg *d,
			uint64_t minute, char *err, size_t errlen)
{
	int side, desc;

	for (side = 0; side < 2; side++) {
		for (desc = 0; desc < 256; desc++)
			if (write_alert(st, minute, side, desc, d->alerts[side][desc],
					err, errlen))
				return -EIO;
		if (write_alert(st, minute, side, -1, d->encrypted_alerts[side],
				err, errlen))
			return -EIO;
	}
	return 0;
}

static int write_clients(struct history_store *st, const struct html_agg *d,
			 uint64_t minute, char *err, size_t errlen)
{
	sqlite3_stmt *s = st->w[HW_CLIENT];
	const struct html_client *c;
	const char *ja4;
	size_t i, len;
	void *v;

	for (i = 0; strmap_at(d->clients, i, &ja4, &len, &v); i++) {
		c = v;
		if (store_step(st, s, bind_u64(s, 1, minute) &&
			       sqlite3_bind_text(s, 2, ja4, (int)len, SQLITE_STATIC) == SQLITE_OK &&
			       bind_u64(s, 3, c->handshakes) && bind_u64(s, 4, c->failures),
			       err, errlen))
			return -EIO;
	}
	return 0;
}

static int write_prune(struct history_store *st, uint64_t keep_s, char *err,
		       size_t errlen)
{
	uint64_t keep_us = keep_s * US_PER_S;
	uint64_t oldest = st->newest_us > keep_us ? st->newest_us - keep_us : 0;
	int i;

	for (i = 0; i < N_PRUNE; i++)
		if (store_step(st, st->prune[i], bind_u64(st->prune[i], 1, oldest),
			       err, errlen))
			return -EIO;
	return 0;
}

/* The newest time @d holds: its handshakes, its spike events. */
static uint64_t delta_newest_us(const struct html_agg *d)
{
	uint64_t t = d->last_us;
	int i;

	for (i = 0; i < d->n_spikes; i++)
		if (d->spikes[i].ts_us > t)
			t = d->spikes[i].ts_us;
	return t;
}

static int write_all(struct history_store *st, const struct html_agg *d,
		     uint64_t keep_s, char *err, size_t errlen)
{
	uint64_t newest = delta_newest_us(d);
	uint64_t at = newest ? newest : st->newest_us;
	uint64_t minute = at / US_PER_MIN;

	if (newest > st->newest_us)
		st->newest_us = newest;
	if (write_seconds(st, d, at, err, errlen) || write_names(st, d, minute, err, errlen) ||
	    write_periods(st, d, err, errlen) || write_certs(st, d, at, err, errlen) ||
	    write_spikes(st, d, err, errlen) || write_alerts(st, d, minute, err, errlen) ||
	    write_clients(st, d, minute, err, errlen))
		return -EIO;
	return write_prune(st, keep_s, err, errlen);
}

int history_store_write(struct history_store *st, const struct html_agg *delta,
			uint64_t keep_s, char *err, size_t errlen)
{
	int rc;

	if (sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return store_fail(st->db, "writing", err, errlen);
	rc = write_all(st, delta, keep_s, err, errlen);
	if (!rc && sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		rc = store_fail(st->db, "writing", err, errlen);
	if (rc) {
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
		/* The rows it wrote are gone: periods and spellings start
		 * again. */
		strmap_clear(st->periods);
		strmap_clear(st->spellings);
	}
	return rc;
}

/* --- reading back */

static const char *col_text(sqlite3_stmt *s, int col)
{
	const unsigned char *t = sqlite3_column_text(s, col);

	return t ? (const char *)t : "";
}

static uint64_t col_u64(sqlite3_stmt *s, int col)
{
	sqlite3_int64 v = sqlite3_column_int64(s, col);

	return v > 0 ? (uint64_t)v : 0;
}

/* A count, at most @max: a larger one (a damaged or crafted file: no
 * agent writes it) is taken as @max and counted, so that what the page
 * adds up cannot overflow and the page says so. The sums are total()s,
 * which SQLite never refuses (sum() fails the whole read on an
 * overflow); a REAL beyond int64 reads as INT64_MAX. */
static uint64_t col_count_max(struct html_agg *a, sqlite3_stmt *s, int col,
			      uint64_t max)
{
	uint64_t v = col_u64(s, col);

	if (v <= max)
		return v;
	a->counts_clamped++;
	return max;
}

static uint64_t col_count(struct html_agg *a, sqlite3_stmt *s, int col)
{
	return col_count_max(a, s, col, HTML_COUNT_MAX);
}

/* Certificate columns from @col: sha256, subject, issuer, serial, key,
 * not_before, not_after. */
static int read_cert(struct html_agg *a, sqlite3_stmt *s, int col)
{
	struct html_cert c;

	memset(&c, 0, sizeof(c));
	snprintf(c.sha256, sizeof(c.sha256), "%s", col_text(s, col));
	snprintf(c.subject, sizeof(c.subject), "%s", col_text(s, col + 1));
	snprintf(c.issuer, sizeof(c.issuer), "%s", col_text(s, col + 2));
	snprintf(c.serial, sizeof(c.serial), "%s", col_text(s, col + 3));
	snprintf(c.key, sizeof(c.key), "%s", col_text(s, col + 4));
	c.not_before = sqlite3_column_int64(s, col + 5);
	c.not_after = sqlite3_column_int64(s, col + 6);
	return html_agg_stored_cert(a, &c);
}

static void read_period(struct html_agg *a, sqlite3_stmt *s)
{
	struct html_period p = {
		.name = sqlite3_column_blob(s, 0),
		.name_len = (size_t)sqlite3_column_bytes(s, 0),
		.server = col_text(s, 1),
		.first_us = col_u64(s, 9), .last_us = col_u64(s, 10),
		.handshakes = col_count(a, s, 11), .failures = col_count(a, s, 12),
		/* -1: a period of a history before schema 6 */
		.findings = sqlite3_column_int64(s, 13) < 0 ? HTML_RUN_FINDINGS_UNKNOWN :
			    (uint32_t)sqlite3_column_int64(s, 13),
	};

	if (!p.name || p.name_len > HS_MAX_SNI)
		p.name_len = p.name ? HS_MAX_SNI : 0;
	if (!p.name)
		p.name = "";
	p.cert = read_cert(a, s, 2);
	html_agg_stored_period(a, &p);
}

static void read_lone_cert(struct html_agg *a, sqlite3_stmt *s)
{
	read_cert(a, s, 0);
}

static void read_leaf(struct html_agg *a, sqlite3_stmt *s)
{
	int i = html_agg_find_cert(a, col_text(s, 0));

	if (i < 0)
		return;
	a->certs[i].handshakes += col_count(a, s, 1);
	a->certs[i].failures += col_count(a, s, 2);
}

static void read_finding(struct html_agg *a, sqlite3_stmt *s)
{
	html_agg_stored_finding(a, html_agg_find_cert(a, col_text(s, 0)),
				finding_kind_parse(col_text(s, 1)), col_text(s, 2));
}

static void read_name(struct html_agg *a, sqlite3_stmt *s)
{
	uint64_t outcomes[HS_OUTCOME__COUNT] = {
		[HS_INCOMPLETE] = col_count(a, s, 2), [HS_OK] = col_count(a, s, 3),
		[HS_FAILED] = col_count(a, s, 4), [HS_ABORTED] = col_count(a, s, 5),
	};
	struct no_cert_counts nc = {
		.resumed = col_count(a, s, 6), .tls13 = col_count(a, s, 7),
		.too_large = col_count(a, s, 8), .truncated = col_count(a, s, 9),
		.largest_chain = (uint32_t)col_count_max(a, s, 10, UINT32_MAX),
	};
	const void *name = sqlite3_column_blob(s, 0);
	size_t len = (size_t)sqlite3_column_bytes(s, 0);

	html_agg_stored_name(a, name ? name : "", len > HS_MAX_SNI ? HS_MAX_SNI : len,
			     col_text(s, 1), outcomes, &nc);
}

static void read_second(struct html_agg *a, sqlite3_stmt *s)
{
	/* the outcomes of other_names (zeros before schema 6: the page says so) */
	uint64_t outcomes[HS_OUTCOME__COUNT];
	int o;

	/* a timeline column counts in 32 bits */
	if (col_u64(s, 1))
		html_agg_second(a, col_u64(s, 0),
				(uint32_t)col_count_max(a, s, 1, UINT32_MAX),
				(uint32_t)col_count_max(a, s, 2, UINT32_MAX));
	a->other_clients_handshakes += col_count(a, s, 4);
	a->other_clients_failures += col_count(a, s, 5);
	a->certs_untracked += col_count(a, s, 6);
	for (o = 0; o < HS_OUTCOME__COUNT; o++)
		outcomes[o] = col_count(a, s, 7 + o);
	html_agg_stored_other_names(a, col_count(a, s, 3), outcomes);
}

static void read_top(struct html_agg *a, sqlite3_stmt *s, int col,
		     struct html_top *t)
{
	snprintf(t->key, sizeof(t->key), "%s", col_text(s, col));
	snprintf(t->from, sizeof(t->from), "%s", col_text(s, col + 1));
	t->count = col_count(a, s, col + 2);
}

static uint8_t spike_kind_parse(const char *scope)
{
	int k;

	for (k = 0; k < SPIKE_KIND_COUNT; k++)
		if (spike_kind_key(k) && !strcmp(spike_kind_key(k), scope))
			return (uint8_t)k;
	return SPIKE_SCOPE_ALL;
}

static void read_spike(struct html_agg *a, sqlite3_stmt *s)
{
	struct html_spike sp;
	int col = 11;                   /* the first top, as in SPIKE_COLUMNS */

	memset(&sp, 0, sizeof(sp));
	sp.ts_us = col_u64(s, 0);
	sp.state = strcmp(col_text(s, 1), spike_state_name(SPIKE_FIRING)) ?
		   SPIKE_RESOLVED : SPIKE_FIRING;
	sp.kind = spike_kind_parse(col_text(s, 2));
	snprintf(sp.key, sizeof(sp.key), "%s", col_text(s, 3));
	sp.started_us = col_u64(s, 4);
	sp.window_s = (uint32_t)col_u64(s, 5);
	sp.handshakes = col_count(a, s, 6);
	sp.failures = col_count(a, s, 7);
	sp.aborted = col_count(a, s, 8);
	sp.rate = sqlite3_column_double(s, 9);
	sp.has_baseline = sqlite3_column_type(s, 10) != SQLITE_NULL;
	sp.baseline_rate = sqlite3_column_double(s, 10);
#define X(top) read_top(a, s, col, &sp.top); col += 3;
	SPIKE_TOPS(X)
#undef X
	snprintf(sp.cert_findings, sizeof(sp.cert_findings), "%s", col_text(s, col));
	html_agg_stored_spike(a, &sp);
}

static void read_alert(struct html_agg *a, sqlite3_stmt *s)
{
	int side = sqlite3_column_int(s, 0) != 0, desc = sqlite3_column_int(s, 1);

	if (desc < 0)
		a->encrypted_alerts[side] += col_count(a, s, 2);
	else if (desc < 256)
		a->alerts[side][desc] += col_count(a, s, 2);
}

static void read_client(struct html_agg *a, sqlite3_stmt *s)
{
	html_agg_client(a, col_text(s, 0), (size_t)sqlite3_column_bytes(s, 0),
			col_count(a, s, 1), col_count(a, s, 2));
}

/* The reads, in the order the aggregate needs them (certificates get
 * their labels in the order they were first served). ?1 and ?2: the
 * window's first and last µs; seconds and spike events are taken inside
 * it, minutes and serving periods that overlap it whole.
 *   X(function, SQL, whether its rows are history) */
#define IN_SECONDS " BETWEEN ?1 / 1000000 AND ?2 / 1000000"
#define IN_MINUTES " BETWEEN ?1 / 60000000 AND ?2 / 60000000"
/* A name's rows; @no_cert: its five no-certificate columns, summed
 * (NO_CERT_SUMS), or zeros for a file older than they are (NO_CERT_NONE):
 * history_store_load() picks one as name_sql. */
#define READ_NAME(no_cert)                                                     \
	"SELECT name, server, total(incomplete), total(ok), total(failed),"    \
	" total(aborted)," no_cert " FROM history_name"                        \
	" WHERE minute" IN_MINUTES " GROUP BY name, server"                    \
	" ORDER BY min(minute), name, server"
#define NO_CERT_SUMS                                                           \
	" total(no_cert_resumed), total(no_cert_tls13),"                       \
	" total(no_cert_too_large), total(no_cert_truncated), max(largest_chain)"
#define NO_CERT_NONE " 0, 0, 0, 0, 0"
/* The seconds; @other_outcomes: OTHER_OUTCOMES, or zeros for a file
 * older than they are: history_store_load() picks one as second_sql. */
#define READ_SECOND(other_outcomes)                                            \
	"SELECT second, handshakes, failures, other_names, other_clients,"     \
	" other_clients_failures, other_certs," other_outcomes                 \
	" FROM history_second WHERE second" IN_SECONDS " ORDER BY second"
/* The periods over the window; @findings: p.findings, or -1 (not
 * recorded) for a file older than the column: history_store_load() picks
 * one as period_sql. */
#define READ_PERIOD(findings)                                                  \
	"SELECT p.name, p.server, p.sha256, c.subject, c.issuer, c.serial,"    \
	" c.key, c.not_before, c.not_after, p.first_us, p.last_us,"            \
	" p.handshakes, p.failures, " findings " FROM history_period p"        \
	" LEFT JOIN history_cert c USING (sha256)"                             \
	" WHERE p.last_us >= ?1 AND p.first_us <= ?2"                          \
	" ORDER BY p.first_us, p.name, p.server"
/* A certificate whose serving periods all began after the window: not
 * one of it (one with no period, known from cert events only, is). */
#define SERVED_AFTER_UNTIL                                                     \
	"(EXISTS (SELECT 1 FROM history_period p WHERE p.sha256 = c.sha256)"   \
	" AND NOT EXISTS (SELECT 1 FROM history_period p"                      \
	" WHERE p.sha256 = c.sha256 AND p.first_us <= ?2))"
/* A spike that fired before the window and had not resolved at its start:
 * its episode goes on inside it (resolved there, or still firing). */
#define ONGOING_AT_SINCE                                                       \
	"s.state = 'firing' AND s.ts_us < ?1 AND NOT EXISTS (SELECT 1"         \
	" FROM history_spike r WHERE r.scope = s.scope AND r.key = s.key"      \
	" AND r.ts_us > s.ts_us AND r.ts_us < ?1)"
#define HISTORY_READS(X)                                                       \
	X(read_period, period_sql, true)                                       \
	X(read_lone_cert, "SELECT sha256, subject, issuer, serial, key,"       \
	  " not_before, not_after FROM history_cert c WHERE last_us >= ?1"     \
	  " AND NOT " SERVED_AFTER_UNTIL " ORDER BY last_us, sha256", false)   \
	X(read_leaf, "SELECT sha256, total(handshakes), total(failures)"       \
	  " FROM history_leaf WHERE minute" IN_MINUTES " GROUP BY sha256", false) \
	X(read_finding, "SELECT sha256, kind, detail FROM history_finding"     \
	  " ORDER BY rowid", false)                                            \
	X(read_name, name_sql, false)                                          \
	X(read_second, second_sql, true)                                       \
	X(read_spike, "SELECT " SPIKE_COLUMNS " FROM history_spike s"          \
	  " WHERE ts_us BETWEEN ?1 AND ?2 OR (" ONGOING_AT_SINCE ")"           \
	  " ORDER BY ts_us, rowid", true)                                      \
	X(read_alert, "SELECT from_client, description, total(count)"          \
	  " FROM history_alert WHERE minute" IN_MINUTES                        \
	  " GROUP BY from_client, description", false)                         \
	X(read_client, "SELECT ja4, total(handshakes), total(failures)"        \
	  " FROM history_client WHERE minute" IN_MINUTES " GROUP BY ja4"       \
	  " ORDER BY total(failures) DESC, total(handshakes) DESC, ja4",       \
	  false)

/* Feeds each row of @sql to @fn; the count of rows, or -EIO. */
static int64_t read_rows(sqlite3 *db, const char *sql,
			 void (*fn)(struct html_agg *, sqlite3_stmt *),
			 const struct history_window *w, struct html_agg *a,
			 char *err, size_t errlen)
{
	uint64_t until = w->until_us < INT64_MAX ? w->until_us : INT64_MAX;
	sqlite3_stmt *s = NULL;
	int64_t n = 0;
	int rc;

	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK ||
	    (sqlite3_bind_parameter_count(s) >= 1 && !bind_u64(s, 1, w->since_us)) ||
	    (sqlite3_bind_parameter_count(s) >= 2 && !bind_u64(s, 2, until))) {
		sqlite3_finalize(s);
		return store_fail(db, "reading", err, errlen);
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		fn(a, s);
		n++;
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return store_fail(db, "reading", err, errlen);
	return n;
}

int64_t history_store_load(struct sqlite3 *db, int version,
			   const struct history_window *w, struct html_agg *a,
			   char *err, size_t errlen)
{
	const char *name_sql = version >= INVENTORY_NO_CERT_VERSION ?
			       READ_NAME(NO_CERT_SUMS) : READ_NAME(NO_CERT_NONE);
	const char *second_sql = version >= INVENTORY_OTHER_OUTCOMES_VERSION ?
				 READ_SECOND(OTHER_OUTCOMES) : READ_SECOND(" 0, 0, 0, 0");
	const char *period_sql = version >= INVENTORY_OTHER_OUTCOMES_VERSION ?
				 READ_PERIOD("p.findings") : READ_PERIOD("-1");
	int64_t rows = 0, n;

	/* One snapshot of the file for every read, while the agent writes. */
	if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		return store_fail(db, "reading", err, errlen);
#define X(fn, sql, counts)                                        \
	if ((n = read_rows(db, sql, fn, w, a, err, errlen)) < 0)  \
		goto fail;                                        \
	rows += (counts) ? n : 0;
	HISTORY_READS(X)
#undef X
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	a->from_history = rows > 0;
	return rows;
fail:
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return n;
}
