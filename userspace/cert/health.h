/* SPDX-License-Identifier: MIT */
/*
 * Certificate health: the one interface the pipeline uses for everything
 * about a served chain beyond the leaf-only checks of findings.h - chain
 * verification, revocation (CRL files and distribution points, OCSP
 * queries, the staple), unexpected and superseded certificates, and the
 * inventory database.
 *
 * Threads: every function here is called from one thread (the pipeline's).
 * With online checking, queries run on internal worker threads; their
 * results come back only through cert_health_drain()/cert_health_flush(),
 * on the caller's thread, when the caller asks (poll cert_health_fd()).
 *
 * Usage:
 *   cert_health_open(&opts, &h, err, sizeof(err));     // 1: DB unusable, warn
 *   per handshake with a visible chain (or an active check's chain):
 *     cert_health_check(h, &in, &res);  // res.findings: in.base + health
 *   in the event loop: poll cert_health_fd(h); when readable, or now and
 *   then: cert_health_drain(h, &events)  -> updated() / problem()
 *   at the end of an offline run: cert_health_flush(h, timeout, &events)
 *   cert_health_close(h);
 */
#ifndef TW_CERT_HEALTH_H
#define TW_CERT_HEALTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cert_info.h"
#include "common/endpoint.h"
#include "common/host_name.h"
#include "common/key_family.h"
#include "findings.h"
#include "revocation.h"
#include "staple.h"

#define CERT_HEALTH_SNI_MAX 256
/* Cert events (sni, server, leaf) kept waiting for online answers, to be
 * judged again and re-sent when they come: as many as the certificates
 * the pipeline's cache keeps (CERT_CACHE_DEFAULT_MAX), so a flood of new
 * leaves pushes certificates out of the cache before it pushes a wait
 * out. Past it the least recently checked is let go, counted
 * (cert_health_stats.waits_let_go): its answer is not re-sent, the next
 * handshake says it. The pipeline pins as many chains (pipeline_priv.h). */
#define CERT_HEALTH_MAX_WAITS CERT_CACHE_DEFAULT_MAX

struct cert_health;
struct inventory;

struct cert_health_opts {
	const char *ca_file;            /* --ca-file: PEM bundle */
	const char *ca_dir;             /* --ca-dir: every PEM file in it */
	                                /* neither: the system trust store */
	const char *const *crl_files;   /* --crl, repeatable: PEM or DER */
	int n_crl;
	bool online;                    /* --online: OCSP queries, CRL downloads */
	int64_t staple_max_age_s;       /* --staple-max-age; 0: next_update only */
	const char *const *expects;     /* --expect NAME=SHA256, repeatable */
	int n_expects;
	const char *expect_dir;         /* --expect-dir */
	const char *db_path;            /* --db; NULL: in-memory inventory */
	struct inventory *db_inv;       /* db_path, opened already (analyze
	                                 * --db), or a temporary copy of it
	                                 * (inventory_copy): used instead of
	                                 * opening it again; borrowed, closed
	                                 * by the caller after
	                                 * cert_health_close() */
	int ocsp_timeout_ms;            /* per query / download; 0: 5000 */
	int max_concurrency;            /* worker threads; 0: 4 */
};

/*
 * 0: ready. 1: ready, but the database could not be used (@err says why,
 * e.g. "inventory /var/lib/tlswatch/inventory.db: file is not a
 * database"); the inventory then lives in memory for this run - the caller
 * reports it (an agent event) and carries on. -1: a fatal configuration
 * error in @err (unreadable --ca-file, malformed --crl, bad --expect,
 * empty --expect-dir, ...); nothing is left open.
 */
int cert_health_open(const struct cert_health_opts *o, struct cert_health **out,
		     char *err, size_t errlen);
void cert_health_close(struct cert_health *h);

struct cert_health_input {
	const char *sni;                      /* NULL: the client sent none */
	size_t sni_len;                       /* its bytes: an SNI off the
	                                       * wire may hold a NUL (0:
	                                       * strlen(sni)) */
	const struct tw_endpoint *server;
	const struct cert_info *const *chain; /* served, leaf first; NULL
	                                       * entries (did not parse) are
	                                       * skipped. Read during the call
	                                       * only: what is kept for online
	                                       * answers holds its own X509
	                                       * references. */
	int n_chain;
	const struct staple_info *staple;     /* NULL: nothing stapled */
	uint64_t ts_us;                       /* packet time of the handshake */
	const struct finding_list *base;      /* findings the caller already
	                                       * has (findings_check_leaf);
	                                       * may be NULL */
	const struct key_offer *key_offer;    /* the key families the client
	                                       * accepted, most preferred
	                                       * first (superseded across key
	                                       * families); NULL: unknown */
	bool unanswered;                      /* no ClientHello or no
	                                       * ServerHello was seen: judged,
	                                       * not recorded in the inventory
	                                       * (the name is not known to be
	                                       * one the server answered) */
	bool staple_unknown;                  /* the handshake cannot show
	                                       * what the server staples (the
	                                       * client did not ask, or TLS 1.3
	                                       * encrypted it): passed on to
	                                       * the result */
};

struct cert_health_result {
	/* which cert event this is: (sni, server, leaf) */
	char leaf_sha256_hex[65];
	bool has_sni;
	char sni[CERT_HEALTH_SNI_MAX];        /* its bytes, NUL-terminated */
	uint16_t sni_len;                     /* a NUL among them included */
	struct tw_endpoint server;
	uint64_t ts_us;                       /* of the handshake checked */

	char verify[128];                     /* "ok" or OpenSSL's error text */
	struct revocation revocation;         /* events.md "revocation" */
	char sources[256];                    /* what the CRL and the responder
	                                       * say about the leaf, for logs:
	                                       * "CRL says good, responder
	                                       * says revoked" */
	struct finding_list findings;         /* base + untrusted, unexpected,
	                                       * superseded, revoked,
	                                       * revoked_staple, stale_staple */
	bool pending;                         /* online answers still to come:
	                                       * an update will follow */
	bool new_in_inventory;                /* first time this (name,
	                                       * address, port, leaf) */
	bool staple_unknown;                  /* the input's */
};

/*
 * Judges one served chain at its packet time. Never blocks on the
 * network: online checks that have no cached answer are started and the
 * result says pending; the final answer arrives through updated().
 * Records the sighting in the inventory.
 */
void cert_health_check(struct cert_health *h, const struct cert_health_input *in,
		       struct cert_health_result *out);

/*
 * The identity of a cert event, (name as compared, server, leaf), as map
 * key bytes: the pipeline files its cert events under it, and a wait for
 * online answers is found by it (one wait per cert event). The name
 * (tw_host_name_fold_key, at most @sni_len bytes of @sni) comes last,
 * after the fixed-length leaf and server, so no two identities share a
 * key. Returns the key's length.
 */
#define CERT_HEALTH_EVENT_KEY_MAX (64 + TW_ENDPOINT_KEY_LEN + 1 + TW_HOST_NAME_KEY_MAX)
size_t cert_health_event_key(bool has_sni, const char *sni, size_t sni_len,
			     const struct tw_endpoint *server, const char *sha_hex,
			     uint8_t key[CERT_HEALTH_EVENT_KEY_MAX]);

/* What the inventory did not take: sightings of unanswered handshakes,
 * and new rows refused at INVENTORY_MAX_ROWS. */
struct cert_health_stats {
	uint64_t inventory_unanswered;
	uint64_t inventory_refused;
	uint64_t crl_urls_forgotten;   /* crl_fetch.h, over every reload */
	uint64_t waits_let_go;         /* cert events let go while waiting
	                                * for online answers (at
	                                * CERT_HEALTH_MAX_WAITS, past
	                                * HEALTH_WAIT_MAX_S with answers
	                                * still out, or out of memory): no
	                                * update for them, whether or not
	                                * their answers would have changed
	                                * them (not known when let go); and
	                                * those an update of which updated()
	                                * could not say. Each wait once. */
	uint64_t waits_rejudged;       /* waits judged again by a drain: one
	                                * for each wait an answer (or a
	                                * reload, or its HEALTH_WAIT_MAX_S)
	                                * concerns, not each wait for each
	                                * answer */
};
void cert_health_stats(const struct cert_health *h, struct cert_health_stats *out);

/*
 * Starts the online checks @in's chain needs (as cert_health_check would)
 * without judging or recording anything. True while answers for it are
 * still to come: a cert_health_check now would say pending. Lets an
 * offline analysis judge a handshake once, with its answers.
 */
bool cert_health_prefetch(struct cert_health *h, const struct cert_health_input *in);

/*
 * The certificate that issues @chain[0] in the chain OpenSSL builds from
 * @chain and the trust store at @at (seconds): the issuer a staple about
 * the leaf names when the server did not send it (a leaf sent alone).
 * Parsed into @h's own small cache, never the served certificates' (it
 * is not served: their LRU and refs stay as they were): valid until the
 * next call. NULL when @h is NULL or verification found no issuer.
 */
/*
 * The served certificates (bit i for @chain[i], i >= 1) that the chain
 * OpenSSL builds from @chain and the trust store at @at (seconds) leaves
 * out, when that chain reaches a trust anchor (verified, or failed only on
 * a validity period or the purpose): an extra cross-sign of the root that
 * clients trusting the root itself never use (ISRG Root X1 signed by DST
 * Root CA X3). 0 when @h is NULL, or the chain reached no trust anchor:
 * then no served certificate is known to be unused.
 */
uint32_t cert_health_unused_served(struct cert_health *h,
				   const struct cert_info *const *chain, int n,
				   int64_t at);

const struct cert_info *cert_health_built_issuer(struct cert_health *h,
						 const struct cert_info *const *chain,
						 int n, int64_t at);

struct cert_health_events {
	/* A result changed (revocation object or findings) since it was
	 * returned or last updated: re-emit the cert event. False when it
	 * could not be (the caller forgot it): the wait's updates are lost,
	 * counted once in waits_let_go however the wait ends. */
	bool (*updated)(void *ctx, const struct cert_health_result *r);
	/* Something for an "agent" event: an unreachable responder, a CRL
	 * download that failed, an inventory write that failed. */
	void (*problem)(void *ctx, const char *message);
	/* The wait of @r's cert event is over (its answers are in, changed
	 * or not, or it waited HEALTH_WAIT_MAX_S): no update follows, what
	 * was kept to repeat it can go. After updated() when that came. */
	void (*settled)(void *ctx, const struct cert_health_result *r);
	void *ctx;
};

/*
 * Now and then (the agent: every loop turn): writes the inventory's
 * sightings counted in memory once a second has passed since the last
 * write; a failure is a problem() at the next drain.
 */
void cert_health_tick(struct cert_health *h);

/* Readable when drain has something to deliver; poll it with POLLIN. */
int cert_health_fd(struct cert_health *h);
/* Delivers what is ready; never blocks. Any callback may be NULL. */
void cert_health_drain(struct cert_health *h, const struct cert_health_events *ev);
/*
 * Waits (at most @timeout_ms) until every online check started so far has
 * finished, delivering as drain does. Returns how many checks are still
 * pending (0: all done).
 */
int cert_health_flush(struct cert_health *h, int timeout_ms,
		      const struct cert_health_events *ev);

/*
 * Reload (SIGHUP). The check state - trust store, --crl files (and the
 * CRLs downloaded under them), expectations, --staple-max-age - is built
 * apart from @h from @o, then put in force whole; @o's other fields (db,
 * online, timeouts) need a restart and are not read. Building may fail
 * (-1, @err names the file or option) and changes nothing; committing
 * cannot fail. Nothing judged under the old state is reused by the new.
 */
struct cert_checks;
int cert_health_prepare(struct cert_health *h, const struct cert_health_opts *o,
			struct cert_checks **out, char *err, size_t errlen);
/* Puts @c in force (taking it) and frees the state it replaces. */
void cert_health_commit(struct cert_health *h, struct cert_checks *c);
/* A state prepared and not committed. */
void cert_checks_free(struct cert_checks *c);
/* "2 CRLs, 3 expectations", for the reload's agent event. */
void cert_checks_describe(const struct cert_checks *c, char *buf, size_t len);

/* `tlswatch inventory [--db PATH] [--json]`: see inventory_dump(). */
int cert_health_inventory_dump(const char *db_path, bool json, FILE *out,
			       bool *empty, char *err, size_t errlen);

/* Names for output: "keyCompromise" (NULL for -1). */
const char *cert_health_reason_name(int reason);

#endif
