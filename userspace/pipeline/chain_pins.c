// SPDX-License-Identifier: MIT
/*
 * Which certificates the pipeline keeps alive past their judgement. The
 * cache frees an evicted entry unless it is pinned (cert_info.h), so a
 * chain is pinned while it is judged (an entry of it could otherwise be
 * evicted by the next one's get), and a cert event that an online answer
 * may repeat (its health result pending) keeps its chain pinned in a ring
 * of PIPELINE_MAX_PINNED_CHAINS: the oldest goes first, as the health
 * checker's own waits do. Live certificates are thus at most the cache's
 * table plus HS_MAX_CHAIN x (PIPELINE_MAX_PINNED_CHAINS + 1).
 */
#include <stdlib.h>

#include "pipeline_priv.h"

static void chain_pin(struct pipeline *pl, const struct cert_info *const *chain, int n)
{
	int i;

	for (i = 0; i < n; i++)
		cert_cache_pin(pl->certs, chain[i]);
}

static void chain_unpin(struct pipeline *pl, const struct cert_info *const *chain, int n)
{
	int i;

	for (i = 0; i < n; i++)
		cert_cache_unpin(pl->certs, chain[i]);
}

void chain_pins_view_release(struct pipeline *pl, struct hs_view *v)
{
	chain_unpin(pl, v->chain, v->n_chain);
	v->n_chain = 0;
}

static struct pinned_chain *chain_pins_slot(const struct pipeline *pl, uint64_t id)
{
	if (!id || !pl->pins.ring)
		return NULL;
	return &pl->pins.ring[(id - 1) % PIPELINE_MAX_PINNED_CHAINS];
}

const struct pinned_chain *chain_pins_get(const struct pipeline *pl, uint64_t id)
{
	struct pinned_chain *p = chain_pins_slot(pl, id);

	return p && p->id == id ? p : NULL;
}

static void chain_pins_release(struct pipeline *pl, struct pinned_chain *p)
{
	chain_unpin(pl, p->chain, p->n_chain);
	p->id = 0;
	p->n_chain = 0;
}

void chain_pins_drop(struct pipeline *pl, uint64_t id)
{
	struct pinned_chain *p = chain_pins_slot(pl, id);

	if (p && p->id == id)
		chain_pins_release(pl, p);
}

uint64_t chain_pins_keep(struct pipeline *pl, uint64_t old_id,
			 const struct cert_info *const *chain, int n)
{
	struct pinned_chain *p;
	int i;

	chain_pins_drop(pl, old_id);
	if (!pl->pins.ring)
		pl->pins.ring = calloc(PIPELINE_MAX_PINNED_CHAINS, sizeof(*pl->pins.ring));
	if (!pl->pins.ring)
		return 0;
	p = chain_pins_slot(pl, ++pl->pins.last_id);
	if (p->id)
		chain_pins_release(pl, p);   /* the oldest kept: let go */
	p->id = pl->pins.last_id;
	p->n_chain = n < HS_MAX_CHAIN ? n : HS_MAX_CHAIN;
	for (i = 0; i < p->n_chain; i++)
		p->chain[i] = chain[i];
	chain_pin(pl, p->chain, p->n_chain);
	return p->id;
}

void chain_pins_free(struct pipeline *pl)
{
	size_t i;

	for (i = 0; pl->pins.ring && i < PIPELINE_MAX_PINNED_CHAINS; i++)
		if (pl->pins.ring[i].id)
			chain_pins_release(pl, &pl->pins.ring[i]);
	free(pl->pins.ring);
	pl->pins.ring = NULL;
}
