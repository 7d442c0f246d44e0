// SPDX-License-Identifier: MIT
/*
 * decode_frame()/decode_ip() on arbitrary frames. Input: one selector byte,
 * then the frame. The selector's low nibble picks the link type (or the
 * decode_ip() entry), its high bit makes the wire length larger than the
 * capture (a snaplen cut), bit 6 smaller (a record header that lies). Every payload byte is read so that ASan reports
 * a segment that points outside the frame; the segment's invariants are
 * checked as well. Tunnels: VXLAN and Geneve on their standard ports, FOU
 * on 5555 and GUE on 5556 (the seeds under corpus/ use those), at most
 * TW_MAX_DECAP of them nested.
 */
#include <pcap/dlt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "capture/decode.h"

static const int linktypes[] = {
	DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2, 12, 14, 101,
	DLT_IPV4, DLT_IPV6, DLT_NULL, DLT_LOOP,
	-1, /* decode_ip() */
	DLT_IEEE802_11,   /* one decode_frame() does not know: counted, not read */
};
#define NLINKTYPES (sizeof(linktypes) / sizeof(linktypes[0]))

static const struct tw_udp_encap udp = {
	.n = 4,
	.e = { { TW_VXLAN_PORT, TW_TUN_VXLAN }, { TW_GENEVE_PORT, TW_TUN_GENEVE },
	       { 5555, TW_TUN_FOU }, { 5556, TW_TUN_GUE } },
};

static volatile uint32_t sink;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct decode_stats st = { 0 };
	struct tw_segment seg;
	const uint8_t *frame;
	uint32_t caplen, wirelen, sum = 0, i;
	int lt, rc;

	if (size < 1 || size > 1u << 20)
		return 0;
	lt = linktypes[(data[0] & 0x0f) % NLINKTYPES];
	/* an exact-size copy: no slack after the frame to hide an overread */
	caplen = (uint32_t)(size - 1);
	frame = caplen ? malloc(caplen) : NULL;
	if (caplen && !frame)
		return 0;
	if (caplen)
		memcpy((void *)frame, data + 1, caplen);
	wirelen = caplen + ((data[0] & 0x80) ? 1500u : 0u);
	if (data[0] & 0x40)
		wirelen = caplen / 2;

	if (lt < 0)
		rc = decode_ip(frame, caplen, wirelen, 1, &seg, &st, &udp);
	else
		rc = decode_frame(lt, frame, caplen, wirelen, 1, &seg, &st, &udp);

	if (rc == 1) {
		if (seg.len > seg.wire_len || seg.truncated != (seg.len < seg.wire_len))
			abort();
		if (seg.payload < frame || seg.payload + seg.len > frame + caplen)
			abort();
		if (seg.src.addr.family != 4 && seg.src.addr.family != 6)
			abort();
		if (seg.tunnel.type && (seg.tunnel.depth < 1 ||
		    seg.tunnel.depth > TW_MAX_DECAP || seg.tunnel.type >= TW_TUN__COUNT ||
		    (seg.tunnel.src.family != 4 && seg.tunnel.src.family != 6)))
			abort();
		if (!seg.tunnel.type && (seg.tunnel.depth || st.tunnelled))
			abort();
		for (i = 0; i < seg.len; i++)
			sum += seg.payload[i];
	}
	if (st.frames != 1 || st.tcp_segments + st.not_ip + st.not_tcp +
	    st.ip_fragments + st.truncated_headers + st.bad_headers +
	    st.tunnels_too_deep != 1)
		abort();
	sink = sum;
	free((void *)frame);
	return 0;
}
