/* SPDX-License-Identifier: MIT */
/*
 * The servers (address and port) whose TLS library names the ALPN
 * protocol it selected (live uprobes): a resumed TLS 1.3 handshake there,
 * whose chain the server does not send again, waits for that protocol
 * like a full one (pipeline.c, conn_defer).
 */
#ifndef TW_FOLLOWED_H
#define TW_FOLLOWED_H

#include <stdbool.h>

#include "capture/server_view.h"
#include "tls/hs_record.h"

/* At most this many; past it, all are forgotten and learned again from
 * their next chain. */
#define FOLLOWED_SERVERS_MAX 4096

struct followed_servers {
	struct strmap *m;             /* on first use */
};

/* Notes @v's server when @v names the protocol the server selected: in
 * a chain's view (the writer's probe reads it there), or at SSL_free (a
 * connection whose chain the i2d_X509 probes read, or a resumed one,
 * which serves none). Its library is hooked and its ALPN offset known.
 * 0, or -1 out of memory (the server is not noted). */
int followed_note_view(struct followed_servers *fs, const struct tw_server_view *v);
/* Forgets @server when @rec, a full handshake on it that succeeded, came
 * with no chain view (@chain_view false): its library no longer tells
 * (restarted with an unhooked one, its views lost). */
void followed_note_report(struct followed_servers *fs,
			  const struct tw_endpoint *server,
			  const struct hs_record *rec, bool chain_view);
bool followed_has(const struct followed_servers *fs, const struct tw_endpoint *server);
size_t followed_count(const struct followed_servers *fs);
void followed_free(struct followed_servers *fs);

#endif
