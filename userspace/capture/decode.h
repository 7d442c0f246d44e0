/* SPDX-License-Identifier: MIT */
/* Link, network and transport headers of one captured frame -> a segment. */
#ifndef TW_DECODE_H
#define TW_DECODE_H

#include <stdint.h>

#include "common/tunnel.h"
#include "segment.h"

/* Why a frame did not become a segment; each reason has a counter. */
struct decode_stats {
	uint64_t frames;          /* frames offered to decode_frame() */
	uint64_t tcp_segments;    /* frames that became segments */
	uint64_t not_ip;          /* ARP, LLDP, unknown ethertypes, ... */
	uint64_t not_tcp;         /* UDP, ICMP, ... */
	uint64_t ip_fragments;    /* IPv4/IPv6 fragments: counted and skipped */
	uint64_t truncated_headers; /* frame ends inside a header */
	uint64_t bad_headers;     /* impossible lengths, bad versions */
	uint64_t truncated_payload; /* segments with fewer bytes than on the wire */
	uint64_t tunnelled;       /* segments found inside a tunnel */
	uint64_t tunnels_too_deep; /* more than TW_MAX_DECAP encapsulations */
};

/*
 * Decodes one frame of pcap link type @linktype (DLT_EN10MB, DLT_LINUX_SLL,
 * DLT_LINUX_SLL2, DLT_RAW, DLT_IPV4, DLT_IPV6, DLT_NULL, DLT_LOOP).
 * Tunnels (include/tlswatch/tunnel.h) are removed, at most TW_MAX_DECAP
 * of them nested, the UDP ones on the ports @udp names (NULL:
 * tw_udp_encap_default); seg->tunnel then says what the outermost was.
 * On success fills @seg (payload points into @frame) and returns 1; returns
 * 0 for frames that carry no TCP segment, with the reason counted in @st.
 * Never reads outside @frame[0..caplen). TCP checksums are not checked:
 * captures taken on the sending host carry checksums the NIC fills in later.
 */
int decode_frame(int linktype, const uint8_t *frame, uint32_t caplen,
		 uint32_t wirelen, uint64_t ts_us, struct tw_segment *seg,
		 struct decode_stats *st, const struct tw_udp_encap *udp);

/* Same, starting at an IPv4 or IPv6 header. */
int decode_ip(const uint8_t *pkt, uint32_t caplen, uint32_t wirelen,
	      uint64_t ts_us, struct tw_segment *seg, struct decode_stats *st,
	      const struct tw_udp_encap *udp);

/* True if decode_frame() understands @linktype. */
int decode_linktype_supported(int linktype);

#endif
