/* SPDX-License-Identifier: MIT */
/*
 * Encapsulations both parsers remove (bpf/decap.h in the kernel,
 * userspace/capture/decap.c offline), the outer facts a ring buffer record
 * carries about them, and the bound on nesting. Included by
 * tlswatch/event.h.
 *
 * An edge host behind an L4 load balancer receives its clients' packets
 * inside IPIP, GUE, GRE, ...; an overlay host inside VXLAN or Geneve. The
 * TLS connection is the inner one: it is followed by its inner 4-tuple, and
 * the outermost encapsulation is reported beside it.
 */
#ifndef TLSWATCH_TUNNEL_H
#define TLSWATCH_TUNNEL_H

/*
 * The one list of encapsulations: X(ENUM_SUFFIX, name, what). The name is
 * the "type" of a handshake event's "tunnel" (docs/events.md) and, for
 * the UDP ones, the KIND of --udp-encap PORT:KIND. Names follow
 * iproute2's: `ip tunnel` modes for IP in IP, `ip link` types otherwise.
 */
#define TW_TUNNEL_TYPES(X)                                                     \
	TW_TUNNEL_IP_TYPES(X)                                                  \
	TW_TUNNEL_UDP_TYPES(X)
/* ... those carried in IP, then those carried in UDP (the KINDs of
 * --udp-encap: its parse, its help and its refusal read this list) */
#define TW_TUNNEL_IP_TYPES(X)                                                  \
	X(IPIP, "ipip", "IPv4 in IPv4 (IP protocol 4)")                        \
	X(SIT, "sit", "IPv6 in IPv4 (6in4, IP protocol 41)")                   \
	X(IP4IP6, "ip4ip6", "IPv4 in IPv6 (4in6)")                             \
	X(IP6IP6, "ip6ip6", "IPv6 in IPv6")                                    \
	X(GRE, "gre", "GRE carrying IPv4 or IPv6 (key, checksum, sequence number)") \
	X(GRETAP, "gretap", "GRE carrying Ethernet (transparent Ethernet bridging)")
#define TW_TUNNEL_UDP_TYPES(X)                                                 \
	X(VXLAN, "vxlan", "VXLAN (UDP, default port 4789)")                    \
	X(GENEVE, "geneve", "Geneve (UDP, default port 6081)")                 \
	X(FOU, "fou", "foo-over-UDP: IPv4, IPv6 or GRE right after the UDP header (no default port)") \
	X(GUE, "gue", "Generic UDP Encapsulation, variants 0 and 1 (no default port)")

enum tw_tunnel_type {
	TW_TUN_NONE = 0,
#define TW_TUNNEL_ENUM(id, name, what) TW_TUN_##id,
	TW_TUNNEL_TYPES(TW_TUNNEL_ENUM)
#undef TW_TUNNEL_ENUM
	TW_TUN__COUNT,
};

/*
 * Encapsulations removed from one packet, at most: a tunnel inside a
 * tunnel (GRE inside GUE, VXLAN inside IPIP) is followed, a third layer is
 * not (counted: decap_too_deep, tunnels_too_deep). The kernel's bound
 * keeps the verifier's work small; userspace uses the same one, so that
 * `analyze` and `run` follow the same packets.
 */
#define TW_MAX_DECAP 2

#define TW_VXLAN_PORT  4789
#define TW_GENEVE_PORT 6081

/* The outermost encapsulation of a packet, as a record carries it. */
struct tw_tun {
	__u8 saddr[16];      /* outer source address, network byte order;
			      * IPv4 in the first 4 */
	__u8 daddr[16];
	__u32 id;            /* VNI (vxlan, geneve) or GRE key, if TW_TUNF_ID */
	__u8 type;           /* enum tw_tunnel_type; TW_TUN_NONE: not tunnelled */
	__u8 family;         /* of the outer addresses: 4 or 6 */
	__u8 depth;          /* encapsulations removed, 1..TW_MAX_DECAP */
	__u8 flags;          /* TW_TUNF_* */
};

#define TW_TUNF_ID 0x01      /* id holds a VNI or a GRE key */

#endif
