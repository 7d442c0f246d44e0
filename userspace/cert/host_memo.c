// SPDX-License-Identifier: MIT
/* Memoized hostname verdicts: see host_memo.h. */
#include <stdlib.h>
#include <string.h>

#include "common/host_name.h"
#include "common/strmap.h"
#include "host_memo.h"

/* A name longer than this is checked every time (DNS names stop at 253). */
#define HOST_MEMO_NAME_MAX 256

struct host_memo {
	struct strmap *verdicts;   /* leaf sha256 | name -> bool */
};

struct host_memo *host_memo_new(void)
{
	struct host_memo *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->verdicts = strmap_new(sizeof(bool));
	if (!m->verdicts) {
		free(m);
		return NULL;
	}
	return m;
}

void host_memo_free(struct host_memo *m)
{
	if (!m)
		return;
	strmap_free(m->verdicts);
	free(m);
}

bool host_memo_matches(struct host_memo *m, const struct cert_info *leaf,
		       const char *name, size_t name_len)
{
	uint8_t key[32 + HOST_MEMO_NAME_MAX + 1];
	size_t len;
	bool *verdict;

	/* a name holding a NUL would share the key of the name before it */
	if (!m || !leaf || !name || name_len > HOST_MEMO_NAME_MAX ||
	    tw_host_name_has_nul(name, name_len))
		return cert_matches_host(leaf, name, name_len);
	memcpy(key, leaf->sha256, 32);
	/* the name as compared: "A.test." and "a.test" share a verdict */
	len = tw_host_name_fold_key(name, name_len, (char *)key + 32,
				    HOST_MEMO_NAME_MAX + 1);
	verdict = strmap_get(m->verdicts, key, 32 + len);
	if (verdict)
		return *verdict;
	if (strmap_count(m->verdicts) >= HOST_MEMO_MAX)
		strmap_clear(m->verdicts);
	verdict = strmap_put(m->verdicts, key, 32 + len, NULL);
	if (!verdict)
		return cert_matches_host(leaf, name, name_len);
	*verdict = cert_matches_host(leaf, name, name_len);
	return *verdict;
}
