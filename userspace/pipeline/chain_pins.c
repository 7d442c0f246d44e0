// SPDX-License-Identifier: MIT
/*
 * Which certificates the pipeline keeps alive past their judgement. The
 * cache frees an evicted entry unless it is pinned (cert_info.h), so a
 * chain is pinned while it is judged (an entry of it could otherwise be
 * evicted by the next one's get), and a cert event that an online answer
 * may repeat (its health result pending) keeps its chain pinned in one of
 * PIPELINE_MAX_PINNED_CHAINS slots. A cert event kept again (its next
 * handshake, the answer still pending) keeps its slot and becomes the
 * most recent; the least recently kept goes first: the health checker
 * replaces and lets go of its waits the same way, so one busy name
 * cannot push the other pending cert events out. Live certificates are
 * thus at most the cache's table plus
 * HS_MAX_CHAIN x (PIPELINE_MAX_PINNED_CHAINS + 1).
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

/* The slot kept as @id, NULL once let go. */
static struct pinned_chain *chain_pins_live(const struct pipeline *pl, uint64_t id)
{
	struct pinned_chain *p;

	if (!id || !pl->pins.slots)
		return NULL;
	p = &pl->pins.slots[(id - 1) % PIPELINE_MAX_PINNED_CHAINS];
	return p->id == id ? p : NULL;
}

const struct pinned_chain *chain_pins_get(const struct pipeline *pl, uint64_t id)
{
	return chain_pins_live(pl, id);
}

static void chain_pins_release(struct pipeline *pl, struct pinned_chain *p)
{
	chain_unpin(pl, p->chain, p->n_chain);
	p->id = 0;
	p->n_chain = 0;
	TAILQ_REMOVE(&pl->pins.kept, p, link);
	TAILQ_INSERT_HEAD(&pl->pins.free, p, link);
}

void chain_pins_drop(struct pipeline *pl, uint64_t id)
{
	struct pinned_chain *p = chain_pins_live(pl, id);

	if (p)
		chain_pins_release(pl, p);
}

/* The slots, all free, on first use. False when out of memory. */
static bool chain_pins_ready(struct pipeline *pl)
{
	struct chain_pins *cp = &pl->pins;
	size_t i;

	if (cp->slots)
		return true;
	cp->slots = calloc(PIPELINE_MAX_PINNED_CHAINS, sizeof(*cp->slots));
	if (!cp->slots)
		return false;
	TAILQ_INIT(&cp->kept);
	TAILQ_INIT(&cp->free);
	for (i = 0; i < PIPELINE_MAX_PINNED_CHAINS; i++)
		TAILQ_INSERT_TAIL(&cp->free, &cp->slots[i], link);
	return true;
}

/* A slot under a new id, out of every list: a free one, else the least
 * recently kept's, let go. The id names its slot (chain_pins_live). */
static struct pinned_chain *chain_pins_take(struct pipeline *pl)
{
	struct chain_pins *cp = &pl->pins;
	struct pinned_chain *p = TAILQ_FIRST(&cp->free);

	if (!p) {
		p = TAILQ_LAST(&cp->kept, pinned_list);
		chain_pins_release(pl, p);
	}
	TAILQ_REMOVE(&cp->free, p, link);
	p->id = ++cp->ids * PIPELINE_MAX_PINNED_CHAINS + (uint64_t)(p - cp->slots) + 1;
	return p;
}

uint64_t chain_pins_keep(struct pipeline *pl, uint64_t old_id,
			 const struct cert_info *const *chain, int n)
{
	const struct cert_info *was[HS_MAX_CHAIN];
	struct pinned_chain *p;
	int i, n_was = 0;

	if (!chain_pins_ready(pl))
		return 0;
	p = chain_pins_live(pl, old_id);
	if (p) {
		n_was = p->n_chain;
		for (i = 0; i < n_was; i++)
			was[i] = p->chain[i];
		TAILQ_REMOVE(&pl->pins.kept, p, link);
	} else {
		p = chain_pins_take(pl);
	}
	p->n_chain = n < HS_MAX_CHAIN ? n : HS_MAX_CHAIN;
	for (i = 0; i < p->n_chain; i++)
		p->chain[i] = chain[i];
	chain_pin(pl, p->chain, p->n_chain);
	/* after the pins: a certificate of both chains stays alive */
	chain_unpin(pl, was, n_was);
	TAILQ_INSERT_HEAD(&pl->pins.kept, p, link);
	return p->id;
}

void chain_pins_drop_all(struct pipeline *pl)
{
	struct pinned_chain *p;

	while (pl->pins.slots && (p = TAILQ_FIRST(&pl->pins.kept)))
		chain_pins_release(pl, p);
}

void chain_pins_free(struct pipeline *pl)
{
	chain_pins_drop_all(pl);
	free(pl->pins.slots);
	pl->pins.slots = NULL;
}
