/* SPDX-License-Identifier: MIT */
/*
 * What userspace writes into the kernel's flow map (tw_flows,
 * bpf/tlswatch.bpf.c), by map fd: kept apart from struct live so that the
 * unit tests can drive it against the program they load themselves.
 */
#ifndef TW_LIVE_FLOW_MAP_H
#define TW_LIVE_FLOW_MAP_H

#include "common/endpoint.h"

/*
 * Marks the flow between @a and @b done: the kernel stops copying it, and
 * keeps the entry so that its later packets cost one lookup. 0, or
 * -errno (-ENOENT: the kernel has no entry, the flow has closed).
 */
int flow_map_mark_done(int fd, const struct tw_endpoint *a,
		       const struct tw_endpoint *b);

/*
 * @from's FIN, reported by the kernel, of a flow marked done: applied to
 * the entry again. The marking reads the entry and writes it back, so a
 * FIN the kernel recorded in between is lost with it, and the entry of a
 * connection closed on both sides then stays until the LRU evicts it;
 * the kernel reported that FIN (the flow was still in its handshake
 * phase), so it can be applied here. The entry goes if the other side's
 * FIN is in it already. 0, or -errno. Best effort: this too reads and
 * writes back, so the other side's FIN arriving in between (the kernel
 * reports none for a flow done) is lost in turn, and the LRU is the
 * backstop; each step narrows the window to microseconds.
 */
int flow_map_fin(int fd, const struct tw_endpoint *from,
		 const struct tw_endpoint *to);

#endif
