/* SPDX-License-Identifier: MIT */
/*
 * How far both parsers (bpf/parse.h in the kernel, userspace/capture/
 * decode.c offline) follow a chain of headers in front of IP and TCP, so
 * that `run` and `analyze` follow the same packets: one definition, which
 * neither side can change alone. Macros only: included by the BPF program
 * and by userspace alike.
 *
 * A packet with more than that is given up by both, and counted as a bad
 * header: bad_headers in the kernel's counters and in analyze's. The
 * numbers both read the headers by (ethertypes, IP protocols, fragment
 * bits) are defined here too, once: TW_ names, clear of the system
 * headers' and vmlinux.h's.
 */
#ifndef TLSWATCH_HEADERS_H
#define TLSWATCH_HEADERS_H

/*
 * VLAN tags followed from the Ethernet header to the ethertype they carry:
 * 802.1ad (QinQ) and one more tag on either side of it. A frame with more
 * is not one a network sends.
 */
#define TW_MAX_VLAN_TAGS 4

/*
 * IPv6 extension headers (and AH) followed from the IPv6 header to TCP (or
 * a tunnel). Real packets carry one or two (hop-by-hop, a routing header,
 * a fragment header, destination options, AH); the bound stops a walk
 * over a chain crafted to be long.
 */
#define TW_MAX_IPV6_EXT 8

/*
 * The ethertypes of a VLAN tag: 802.1Q, 802.1ad (the QinQ service tag),
 * and 0x9100, the stacked tag of switches from before 802.1ad.
 */
#define TW_ETH_P_8021Q     0x8100
#define TW_ETH_P_8021AD    0x88A8
#define TW_ETH_P_QINQ_OLD  0x9100
#define TW_ETH_P_IS_VLAN(t) \
	((t) == TW_ETH_P_8021Q || (t) == TW_ETH_P_8021AD || (t) == TW_ETH_P_QINQ_OLD)

/* An Ethernet header: two addresses and the ethertype. */
#define TW_ETH_HLEN        14

/* The ethertypes followed: IP, and Ethernet inside GRE (gretap). */
#define TW_ETH_P_IPV4      0x0800
#define TW_ETH_P_IPV6      0x86DD
#define TW_ETH_P_TEB       0x6558  /* transparent Ethernet bridging */

/*
 * IP protocol numbers: TCP; the IPv6 extension headers followed to it
 * (and AH, which IPv4 has too); those that may carry a tunnel.
 */
#define TW_IPPROTO_HOPOPTS  0
#define TW_IPPROTO_IPIP     4
#define TW_IPPROTO_TCP      6
#define TW_IPPROTO_UDP      17
#define TW_IPPROTO_IPV6     41
#define TW_IPPROTO_ROUTING  43
#define TW_IPPROTO_FRAGMENT 44
#define TW_IPPROTO_GRE      47
#define TW_IPPROTO_AH       51
#define TW_IPPROTO_DSTOPTS  60

/* Fragments: IPv4's flags and offset field; IPv6's Fragment header's. */
#define TW_IP4_MF           0x2000  /* more fragments */
#define TW_IP4_OFFMASK      0x1FFF
#define TW_IP6_FRAG_OFFSET  0xFFF8  /* offset, 8-byte units */
#define TW_IP6_FRAG_MORE    0x0001  /* M, more fragments */

#endif
