#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The live agent's kernel side decodes the packets `analyze` does
# (analyze_headers.sh): real handshakes of tls12_rsa.pcap (openssl
# s_server and s_client, taken with tcpdump; server port 27302) rewritten
# by scripts/make-edge-captures.py with an IPv6 atomic fragment header
# (offset 0, M clear: a whole packet, RFC 6946) and with IPsec AH between
# IPv4 and TCP, each frame sent out of the host end of a veth (AF_PACKET),
# where the agent's TC egress hook sees it. Each capture has two
# handshakes: the agent must report all four ok, with their addresses, and
# count no fragment. Before, the kernel took the atomic fragments for
# fragments (counted, skipped) and AH for not TCP: no handshake.
# Then, to an agent started anew (the same connections again), the
# captures with four VLAN tags and with eight IPv6 extension headers, as
# many as analyze follows (analyze_headers.sh): four handshakes again;
# and to a third, one tag and one extension header more: every frame a
# bad header, as analyze counts them. Before, the kernel followed two
# tags and six extension headers and gave up on more uncounted.
# The same two rounds once more with the frames sent from inside the
# namespace, out of its end of the veth, so that they reach the watched
# interface's TC ingress: the receive path has taken the outer tag out of
# the frame into the packet's metadata by then (as a NIC's VLAN offload
# does), so the kernel must count it: four tags followed, five a bad
# header. Before, it saw four tags of a frame of five in the bytes and
# followed them: two handshakes ok, no bad header.
# Last, on either hook, the two handshakes followed by frames that are
# not IP (ARP, also behind a tag and in GRE and VXLAN) and packets that
# are not TCP (UDP, ICMP, ICMPv6, UDP in IPIP): not_ip 4 and not_tcp 4, as
# analyze counts them. Before, the kernel counted them nowhere but in
# packets_seen. The link carries nothing else (no address on either end,
# IPv6 off): the counts are exact.
# The frames go to a MAC address nobody has: the namespace (the host, on
# ingress) drops them.
#
# Needs root. TAP output; exits non-zero on any failure.
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
export BUILD
. tests/e2e/lib_netns.sh

tn_require_root live_headers
tn_require_cmds ip
tn_require_tlswatch
PY=/usr/bin/python3

tmp=$(tn_tmpdir)
for m in ipv6-atomic ipv4-ah vlan4 ipv6-ext8 vlan5 ipv6-ext9 not-tcp; do
	"$PY" scripts/make-edge-captures.py "$m" tests/data/captures/tls12_rsa.pcap "$tmp/$m.pcap" >/dev/null ||
		tn_bail "make-edge-captures.py $m"
done

tn_setup hdr
# the captured segments are up to 1460 bytes: with AH or IPv6 and the
# fragment header, frames are longer than a 1500-byte MTU lets out (and
# a veth drops what its peer's MTU would not take)
if ! ip link set dev "$TN_HOST_IF" mtu 9000 ||
	! ip -n "$TN_NS" link set dev "$TN_PEER_IF" mtu 9000; then
	tn_bail "cannot raise the MTU of $TN_HOST_IF"
fi
# nothing of the host's own on the link (IPv6's router solicitations and
# MLD reports, what a daemon sends to an interface with an address): the
# frames sent are all the agent sees, counted exactly
if ! ip addr flush dev "$TN_HOST_IF" ||
	! sysctl -qw "net.ipv6.conf.$TN_HOST_IF.disable_ipv6=1" ||
	! ip netns exec "$TN_NS" sysctl -qw "net.ipv6.conf.$TN_PEER_IF.disable_ipv6=1"; then
	tn_bail "cannot take the addresses off $TN_HOST_IF"
fi

# every frame of a capture, 2 ms apart: out of the host end (out: where
# the agent's TC egress sees it) or out of the namespace end (in: it
# arrives at the host end, its TC ingress); prints how many it sent
send() { # out|in, pcap
	local ns=() dev=$TN_HOST_IF
	if [ "$1" = in ]; then
		ns=(ip netns exec "$TN_NS")
		dev=$TN_PEER_IF
	fi
	"${ns[@]}" "$PY" - "$2" "$dev" <<'PYEOF'
import socket, struct, sys, time
data = open(sys.argv[1], "rb").read()
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((sys.argv[2], 0))
off, sent = 24, 0
while off + 16 <= len(data):
    caplen = struct.unpack("<I", data[off + 8:off + 12])[0]
    s.send(data[off + 16:off + 16 + caplen])
    off += 16 + caplen
    sent += 1
    time.sleep(0.002)
s.close()
print(sent)
PYEOF
}
hs() { # log: the handshakes: client ip, port, outcome, version, one a line
	grep '"event":"handshake"' "$1" | "$PY" -c '
import json, sys
for l in sys.stdin:
    e = json.loads(l)
    print(e["client"]["ip"], e["client"]["port"], e["outcome"], e.get("version"))' | sort
}

# An agent of its own sees captures $3... sent $1 (send); waits until its
# TC program ran on every frame (packets_seen: nothing else is on the
# link) and for $2 handshakes. Log: $tmp/agent-$1-$2-$3.jsonl
round() { # out|in, handshakes, capture modes...
	local dir=$1 want=$2 m log n frames=0
	log="$tmp/agent-$1-$2-$3.jsonl"
	shift 2
	TN_AGENT_PORT=27302 tn_start_agent "$log" --no-active-check ||
		tn_bail "the agent did not start"
	for m in "$@"; do
		n=$(send "$dir" "$tmp/$m.pcap") || tap_fail "sending the $m frames $dir"
		frames=$((frames + ${n:-0}))
	done
	# every frame went through the TC program (in: in the host's
	# softirq, after send returned)
	tn_wait_kcounter 10 "$TN_AGENT_PID" packets_seen "$frames"
	[ "$want" -eq 0 ] ||
		tn_wait_count 15 '"event":"handshake"' "$log" "$want"
	tn_stop_agent
	tap_eq "$* $dir: agent exits 0 on SIGTERM" 0 "$?"
}

four_ok="127.0.0.1 38500 ok TLS1.2
127.0.0.1 38502 ok TLS1.2
fd00::7f00:1 38500 ok TLS1.2
fd00::7f00:1 38502 ok TLS1.2"

round out 4 ipv6-atomic ipv4-ah
log="$tmp/agent-out-4-ipv6-atomic.jsonl"
tap_eq "4 handshakes: both captures, both connections, ok" "$four_ok" "$(hs "$log")"
tap_eq "no fragment counted" 0 "$(tn_agent_counter "$log" fragments)"

# the VLAN tags and extension headers analyze follows, and one more, on
# either hook
for dir in out in; do
	round "$dir" 4 vlan4 ipv6-ext8
	log="$tmp/agent-$dir-4-vlan4.jsonl"
	tap_eq "$dir: 4 VLAN tags, 8 extension headers: 4 handshakes ok" "$four_ok" "$(hs "$log")"
	tap_eq "$dir: 4 VLAN tags, 8 extension headers: no bad header" 0 \
		"$(tn_agent_counter "$log" bad_headers)"

	round "$dir" 0 vlan5 ipv6-ext9
	log="$tmp/agent-$dir-0-vlan5.jsonl"
	tap_eq "$dir: 5 VLAN tags, 9 extension headers: no handshake" "" "$(hs "$log")"
	tap_eq "$dir: 5 VLAN tags, 9 extension headers: 80 bad headers, none watched" \
		"80 0" "$(tn_agent_counter "$log" bad_headers) $(tn_agent_counter "$log" packets_watched)"
done

# frames that are not IP and packets that are not TCP, after the two
# handshakes (make-edge-captures.py not-tcp: ARP, also behind a tag and in
# GRE and VXLAN; UDP, ICMP, ICMPv6, UDP in IPIP): counted as analyze counts
# them, on either hook. Before, the kernel counted them in packets_seen
# alone.
want=$("$BUILD/tlswatch" analyze --json "$tmp/not-tcp.pcap" 2>/dev/null | tail -n1 |
	"$PY" -c 'import json, sys; p = json.load(sys.stdin)["problem_counts"]; print(p["not_ip"], p["not_tcp"])')
tap_eq "analyze: 4 frames not IP, 4 packets not TCP" "4 4" "$want"
for dir in out in; do
	round "$dir" 2 not-tcp
	log="$tmp/agent-$dir-2-not-tcp.jsonl"
	tap_eq "$dir: not IP, not TCP: the 2 handshakes ok" "127.0.0.1 38500 ok TLS1.2
127.0.0.1 38502 ok TLS1.2" "$(hs "$log")"
	tap_eq "$dir: not_ip and not_tcp as analyze counts them" "$want" \
		"$(tn_agent_counter "$log" not_ip) $(tn_agent_counter "$log" not_tcp)"
done
