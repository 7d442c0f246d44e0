/* SPDX-License-Identifier: MIT */
/*
 * Downloads of CRLs from distribution points, through the HTTP pool, into
 * the CRL store: one download per URL at a time, the result kept until the
 * CRL's nextUpdate (a failure is retried after a minute). At most
 * CRL_FETCH_MAX_URLS URLs are remembered: when a new one comes to a full
 * table, the half asked for least recently (none with a download out, and
 * none the owner says it still needs: crl_fetch_set_needed) are forgotten
 * with their CRLs, and counted. Owner thread only, like the store.
 */
#ifndef TW_CRL_FETCH_H
#define TW_CRL_FETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crl.h"
#include "net/http_pool.h"

#define CRL_FETCH_KIND 2          /* http_pool job kind */
#define CRL_FETCH_RETRY_S 60
#define CRL_FETCH_DEFAULT_TTL_S 3600
#define CRL_FETCH_MAX_TTL_S 86400
#define CRL_FETCH_MAX_URLS 4096

struct crl_fetch;

struct crl_fetch *crl_fetch_new(struct http_pool *pool, struct crl_store *store);
void crl_fetch_free(struct crl_fetch *f);

enum crl_fetch_state {
	CRL_FETCH_NONE,       /* never asked */
	CRL_FETCH_LOADED,     /* in the store */
	CRL_FETCH_FAILED,     /* the last download failed: error says why */
};

struct crl_fetch_status {
	enum crl_fetch_state state;
	bool in_flight;       /* a download is out (started now or before) */
	bool changed;         /* this call started a download or recorded
	                       * that it could not: what others asking for
	                       * @url are told may differ now */
	char error[200];
};

/*
 * The state of @url at wall-clock @now; with @may_fetch, starts a
 * download when nothing fresh is loaded and none is in flight.
 */
void crl_fetch_want(struct crl_fetch *f, const char *url, int64_t now,
		    bool may_fetch, struct crl_fetch_status *out);

/*
 * Whether @url (@len bytes) is still needed by someone who asked for it
 * and will read its CRL again without asking (a cert event waiting for
 * other answers): kept when the table ages, as a URL with a download out
 * is. The table so holds at most about twice (the URLs needed and
 * CRL_FETCH_MAX_URLS / 2): it ages again only once half of
 * CRL_FETCH_MAX_URLS new URLs came since it last did. NULL @fn: none is.
 */
typedef bool (*crl_fetch_needed_fn)(void *ctx, const char *url, size_t len);
void crl_fetch_set_needed(struct crl_fetch *f, crl_fetch_needed_fn fn, void *ctx);

/* URLs forgotten to make room (with their CRLs), since @f was made. */
uint64_t crl_fetch_forgotten(const struct crl_fetch *f);

/* A finished pool job of kind CRL_FETCH_KIND. 0, or -1 with @problem. */
int crl_fetch_complete(struct crl_fetch *f, const struct http_result *r,
		       int64_t now, char *problem, size_t plen);

#endif
