// SPDX-License-Identifier: MIT
/* The servers whose library names its ALPN protocol (followed.h). */
#include "common/endpoint.h"
#include "common/strmap.h"
#include "followed.h"

int followed_note_view(struct followed_servers *fs, const struct tw_server_view *v)
{
	uint8_t key[TW_ENDPOINT_KEY_LEN];

	/* no protocol: the library's ALPN offset is not known, or the
	 * server selected none (a server that never selects one is never
	 * noted: its resumed handshakes have nothing to wait for). Any
	 * view with one, a resumed connection's read at SSL_free too,
	 * proves the library names it: before, only a connection with a
	 * chain noted its server, so a server whose clients resumed
	 * sessions made before the agent started had each resumed
	 * handshake reported without its protocol until a full one came */
	if (!v->alpn_len)
		return 0;
	if (!fs->m && !(fs->m = strmap_new(1)))
		return -1;
	tw_endpoint_key(&v->server, key);
	return strmap_put_bounded(fs->m, key, sizeof(key), FOLLOWED_SERVERS_MAX,
				  NULL) ? 0 : -1;
}

void followed_note_report(struct followed_servers *fs,
			  const struct tw_endpoint *server,
			  const struct hs_record *rec, bool chain_view)
{
	uint8_t key[TW_ENDPOINT_KEY_LEN];

	/* a failed one may have ended before the server wrote its chain */
	if (!fs->m || chain_view || rec->resumed || rec->outcome != HS_OK)
		return;
	tw_endpoint_key(server, key);
	strmap_del(fs->m, key, sizeof(key));
}

bool followed_has(const struct followed_servers *fs, const struct tw_endpoint *server)
{
	uint8_t key[TW_ENDPOINT_KEY_LEN];

	if (!fs->m)
		return false;
	tw_endpoint_key(server, key);
	return strmap_get(fs->m, key, sizeof(key)) != NULL;
}

size_t followed_count(const struct followed_servers *fs)
{
	return fs->m ? strmap_count(fs->m) : 0;
}

void followed_free(struct followed_servers *fs)
{
	strmap_free(fs->m);
	fs->m = NULL;
}
