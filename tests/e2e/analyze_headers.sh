#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Link and IP headers that carry whole TCP segments and must not cost a
# handshake. scripts/make-edge-captures.py rewrites every packet of
# tls12_rsa.pcap (real openssl handshakes taken with tcpdump, 40 packets,
# 2 handshakes), each packet's TCP header and payload kept:
#   sll-vlan, sll2-vlan  Linux cooked v1 and v2 (`tcpdump -i any`) of VLAN
#                 100 traffic: libpcap puts back the tag the NIC stripped,
#                 so the cooked protocol is 0x8100. Before, every packet
#                 was counted not_ip: no handshake.
#   ipv4-ah       IPsec AH (transport mode) between IPv4 and TCP, which
#                 IPv6's AH already was. Before: not_tcp, no handshake.
#   ipv6-atomic   the capture made IPv6 (mode ipv6, the reference), with
#                 an atomic fragment header (offset 0, M clear: the whole
#                 packet, RFC 6946) in front of TCP. Before: counted as
#                 ip_fragments and skipped, no handshake.
#   vlan4, ipv6-ext8  four VLAN tags (802.1ad and 802.1Q), eight IPv6
#                 extension headers: as many as both parsers follow
#                 (include/tlswatch/headers.h; live_headers.sh has the
#                 kernel follow them). Before, analyze followed 7
#                 extension headers: no handshake.
#   vlan5, ipv6-ext9  one more: every packet a bad header, no handshake.
# Each must give the handshake events of its reference, but for the name
# of the file: tls12_rsa.pcap itself, or the IPv6 rewrite of it.
. "$(dirname "$0")/lib.sh"
t_require_tlswatch

hs_lines() { # json file: the handshake events, without the file's name
	grep '"event":"handshake"' "$1" | sed 's/"source":"[^"]*",//'
}

for m in sll-vlan sll2-vlan ipv4-ah ipv6 ipv6-atomic vlan4 vlan5 ipv6-ext8 ipv6-ext9; do
	if ! "$PY" scripts/make-edge-captures.py "$m" "$CAPS/tls12_rsa.pcap" "$T_TMP/$m.pcap" >/dev/null; then
		not_ok "make-edge-captures.py writes $m"
		t_done
	fi
done

run_json "$CAPS/tls12_rsa.pcap"
cp "$T_TMP/out.json" "$T_TMP/plain.json"
run_json "$T_TMP/ipv6.pcap"
cp "$T_TMP/out.json" "$T_TMP/ipv6.json"
assert_eq "ipv6: 2 handshakes ok" 2 "$(kv_get "$T_TMP/out.kv" summary.outcome_counts.ok)"
assert_eq "ipv6: the client's address" fd00::7f00:1 "$(kv_get "$T_TMP/out.kv" hs@38500.client_ip)"

check_rewrite() { # mode, reference json
	run_json "$T_TMP/$1.pcap"
	assert_eq "$1: exit 0" 0 "$T_RC"
	assert_eq "$1: 40 packets, 40 TCP segments, 2 flows" "40 40 2" \
		"$(kv_get "$T_TMP/out.kv" summary.packets) $(kv_get "$T_TMP/out.kv" summary.tcp_segments) $(kv_get "$T_TMP/out.kv" summary.flows)"
	assert_eq "$1: 2 handshakes, ok" "2 2" \
		"$(kv_get "$T_TMP/out.kv" summary.handshakes) $(kv_get "$T_TMP/out.kv" summary.outcome_counts.ok)"
	assert_eq "$1: nothing counted not IP, not TCP, fragment" "0 0 0" \
		"$(kv_get "$T_TMP/out.kv" summary.problem_counts.not_ip) $(kv_get "$T_TMP/out.kv" summary.problem_counts.not_tcp) $(kv_get "$T_TMP/out.kv" summary.problem_counts.ip_fragments)"
	assert_eq "$1: the handshake events of its reference" \
		"$(hs_lines "$2")" "$(hs_lines "$T_TMP/out.json")"
}

check_rewrite sll-vlan "$T_TMP/plain.json"
check_rewrite sll2-vlan "$T_TMP/plain.json"
check_rewrite ipv4-ah "$T_TMP/plain.json"
check_rewrite ipv6-atomic "$T_TMP/ipv6.json"
check_rewrite vlan4 "$T_TMP/plain.json"
check_rewrite ipv6-ext8 "$T_TMP/ipv6.json"
for m in vlan5 ipv6-ext9; do
	run_json "$T_TMP/$m.pcap"
	assert_eq "$m: 40 packets, 40 bad headers, no handshake" "40 40 0" \
		"$(kv_get "$T_TMP/out.kv" summary.packets) $(kv_get "$T_TMP/out.kv" summary.problem_counts.bad_headers) $(kv_get "$T_TMP/out.kv" summary.handshakes)"
done
t_done
