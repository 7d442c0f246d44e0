// SPDX-License-Identifier: MIT
/* Memoized staple checks: see staple_cache.h. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/digest.h"
#include "common/strmap.h"
#include "staple_cache.h"

#define STAPLE_KEY_LEN (3 * 32)   /* response digest, leaf, issuer */

struct staple_cache {
	struct strmap *answers;   /* key -> struct staple_info */
};

struct staple_cache *staple_cache_new(void)
{
	struct staple_cache *sc = calloc(1, sizeof(*sc));

	if (!sc)
		return NULL;
	sc->answers = strmap_new(sizeof(struct staple_info));
	if (!sc->answers) {
		free(sc);
		return NULL;
	}
	return sc;
}

void staple_cache_free(struct staple_cache *sc)
{
	if (!sc)
		return;
	strmap_free(sc->answers);
	free(sc);
}

static bool staple_key(const uint8_t *der, size_t len, const struct cert_info *leaf,
		       const struct cert_info *issuer, uint8_t key[STAPLE_KEY_LEN])
{
	if (!tw_sha256(der, len, key))
		return false;
	memcpy(key + 32, leaf->sha256, 32);
	if (issuer)
		memcpy(key + 64, issuer->sha256, 32);
	else
		memset(key + 64, 0, 32);
	return true;
}

void staple_cache_check(struct staple_cache *sc, const uint8_t *der, size_t len,
			const struct cert_info *leaf, const struct cert_info *issuer,
			struct staple_info *out)
{
	uint8_t key[STAPLE_KEY_LEN];
	struct staple_info *memo;

	if (!leaf || !staple_key(der, len, leaf, issuer, key)) {
		staple_check(der, len, leaf, issuer, out);
		return;
	}
	memo = strmap_get(sc->answers, key, sizeof(key));
	if (memo) {
		*out = *memo;
		return;
	}
	staple_check(der, len, leaf, issuer, out);
	if (strmap_count(sc->answers) >= STAPLE_CACHE_MAX)
		strmap_clear(sc->answers);
	memo = strmap_put(sc->answers, key, sizeof(key), NULL);
	if (memo)
		*memo = *out;
}
