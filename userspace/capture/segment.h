/* SPDX-License-Identifier: MIT */
/*
 * The segment: where the live (eBPF ring buffer) and offline (pcap) sources
 * meet. Everything below this stage does not know where bytes came from.
 */
#ifndef TW_SEGMENT_H
#define TW_SEGMENT_H

#include <stdbool.h>
#include <stdint.h>

#include "../common/endpoint.h"
#include "../common/tunnel.h"

enum tw_tcp_flags {
	TW_TCP_FIN = 0x01,
	TW_TCP_SYN = 0x02,
	TW_TCP_RST = 0x04,
	TW_TCP_PSH = 0x08,
	TW_TCP_ACK = 0x10,
};

struct tw_segment {
	uint64_t ts_us;            /* packet time, microseconds since the epoch */
	struct tw_endpoint src;
	struct tw_endpoint dst;
	uint32_t seq;              /* sequence number of payload[0] */
	uint32_t ack;
	uint8_t tcp_flags;         /* enum tw_tcp_flags */
	bool truncated;            /* fewer payload bytes than on the wire */
	bool flow_start;           /* the source saw a new connection start here
	                            * (live: the packet whose first bytes began
	                            * the kernel's handshake phase; a pcap source
	                            * has the SYN instead) */
	uint32_t wire_len;         /* payload length on the wire */
	const uint8_t *payload;    /* captured payload, valid during the call */
	uint32_t len;              /* captured payload bytes (<= wire_len) */
	struct tw_tunnel tunnel;   /* the outermost encapsulation the packet
	                            * came through (type TW_TUN_NONE: none);
	                            * src/dst are the packet's own, dirs unset */
};

/* A source hands each segment to the next stage through this callback. */
typedef void (*tw_segment_fn)(void *ctx, const struct tw_segment *seg);

#endif
