// SPDX-License-Identifier: MIT
/*
 * Where OpenSSL keeps, in an SSL object, the ALPN protocol a server
 * selected (s3.alpn_selected, a pointer, and s3.alpn_selected_len, the
 * word after it). TLS 1.3 sends the choice encrypted, but the SSL object
 * keeps it until it is freed. The offset is private to the library build,
 * so it is measured, as the alerts' are (uprobe_calib.c): two TLS 1.3
 * handshakes with ALPN between SSL objects of the libssl this process
 * links, on memory BIOs (uprobe_mem.c), the server selecting a different protocol each
 * time; SSL_get0_alpn_selected() returns the very pointer and length the
 * server's object holds, and the one offset where both objects hold theirs
 * is the answer.
 */
#include <malloc.h>
#include <stdbool.h>
#include <string.h>

#include <openssl/ssl.h>

#include "uprobes.h"

/* What the client offers; the server picks one of them per handshake. */
static const uint8_t offered[] = "\x02h2\x08http/1.1";
static const uint8_t *const choice[2] = {
	(const uint8_t *)"\x02h2", (const uint8_t *)"\x08http/1.1",
};

static int select_cb(SSL *s, const uint8_t **out, uint8_t *outlen,
		     const uint8_t *in, unsigned inlen, void *arg)
{
	const uint8_t *want = arg;

	(void)s;
	(void)in;
	(void)inlen;
	*out = want + 1;
	*outlen = want[0];
	return SSL_TLSEXT_ERR_OK;
}

/* The offset in @srv of the pointer and length SSL_get0_alpn_selected()
 * returns, when exactly one holds them; 0 otherwise. */
static long find_alpn(SSL *srv)
{
	size_t size = malloc_usable_size(srv), off;
	const uint8_t *obj = (const uint8_t *)srv;
	const uint8_t *sel = NULL;
	unsigned len = 0;
	uint64_t want[2];
	long found = 0;

	SSL_get0_alpn_selected(srv, &sel, &len);
	if (!sel || !len)
		return 0;
	want[0] = (uint64_t)(uintptr_t)sel;
	want[1] = len;
	for (off = sizeof(void *); off + sizeof(want) <= size; off += sizeof(void *)) {
		if (memcmp(obj + off, want, sizeof(want)))
			continue;
		if (found)
			return 0; /* two candidates: not sure, so none */
		found = (long)off;
	}
	return found;
}

/* One handshake in which the server selects @want: its offset, or 0. */
static long alpn_probe(SSL_CTX *cctx, SSL_CTX *sctx, const uint8_t *want)
{
	SSL *cli = uprobe_mem_ssl(cctx), *srv = uprobe_mem_ssl(sctx);
	long off = 0;

	SSL_CTX_set_alpn_select_cb(sctx, select_cb, (void *)want);
	if (cli && srv && uprobe_mem_handshake(cli, srv))
		off = find_alpn(srv);
	SSL_free(cli);
	SSL_free(srv);
	return off;
}

long uprobe_calibrate_alpn(void)
{
	struct uprobe_mem_peers p;
	long off[2] = { 0, 0 };
	int i;

	if (!uprobe_mem_peers_open(&p, offered, sizeof(offered) - 1))
		for (i = 0; i < 2; i++)
			off[i] = alpn_probe(p.client, p.server, choice[i]);
	uprobe_mem_peers_close(&p);
	return off[0] == off[1] ? off[0] : 0;
}
