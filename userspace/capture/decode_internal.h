/* SPDX-License-Identifier: MIT */
/*
 * Private to userspace/capture/: what decode.c (link, IP, TCP) and decap.c
 * (tunnels) share. Not for other modules.
 */
#ifndef TW_DECODE_INTERNAL_H
#define TW_DECODE_INTERNAL_H

#include "decode.h"
#include "tlswatch/headers.h"  /* the header numbers, shared with bpf/ */

/* A span of bytes for the next layer: @cap captured, @wire on the wire. */
struct span {
	const uint8_t *p;
	uint32_t cap;
	uint32_t wire;
};

/* One frame's decoding: where it goes, what it counts, what it knows. */
struct dec {
	struct tw_segment *seg;
	struct decode_stats *st;
	const struct tw_udp_encap *udp;
};

static inline int drop(uint64_t *counter)
{
	(*counter)++;
	return 0;
}

/* The rest of @s after a @hlen-byte header the caller has checked. */
static inline struct span span_after(struct span s, uint32_t hlen)
{
	struct span r = {
		.p = s.p + hlen,
		.cap = s.cap - hlen,
		.wire = s.wire > hlen ? s.wire - hlen : 0,
	};

	return r;
}

/* decode.c: each returns 1 with d->seg filled, or 0 with a reason counted. */
int decode_ipv4(struct span s, struct dec *d);
int decode_ipv6(struct span s, struct dec *d);
int decode_ether(struct span s, struct dec *d);

/* decap.c */
/* True for an IP protocol that may carry a tunnel (4, 41, 47, UDP). */
bool decap_proto(uint8_t proto);
/*
 * @s: the payload of an IP packet of @family whose protocol is @proto and
 * whose addresses are @addrs (source, then destination). Removes the
 * encapsulation and decodes what it carries (the first removed names the
 * segment's tunnel); counts why not.
 */
int decap(struct span s, uint8_t proto, uint8_t family, const uint8_t *addrs,
	  struct dec *d);

#endif
