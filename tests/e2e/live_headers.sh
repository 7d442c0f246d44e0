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
# The frames go to a MAC address nobody has: the namespace drops them.
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
for m in ipv6-atomic ipv4-ah; do
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
TN_AGENT_PORT=27302 tn_start_agent "$tmp/agent.jsonl" --no-active-check ||
	tn_bail "the agent did not start"

# every frame of a capture out of the interface, 2 ms apart
send() { # pcap
	"$PY" - "$1" "$TN_HOST_IF" <<'PYEOF'
import socket, struct, sys, time
data = open(sys.argv[1], "rb").read()
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((sys.argv[2], 0))
off = 24
while off + 16 <= len(data):
    caplen = struct.unpack("<I", data[off + 8:off + 12])[0]
    s.send(data[off + 16:off + 16 + caplen])
    off += 16 + caplen
    time.sleep(0.002)
s.close()
PYEOF
}
send "$tmp/ipv6-atomic.pcap" || tap_fail "sending the IPv6 atomic fragments"
send "$tmp/ipv4-ah.pcap" || tap_fail "sending the IPv4 AH packets"

tn_wait_cmd 15 sh -c "[ \$(grep -c '\"event\":\"handshake\"' '$tmp/agent.jsonl') -ge 4 ]"
sleep 0.5
tn_stop_agent
tap_eq "agent exits 0 on SIGTERM" 0 "$?"

hs() { # the handshakes: client ip, port, outcome, version, one a line
	grep '"event":"handshake"' "$tmp/agent.jsonl" | "$PY" -c '
import json, sys
for l in sys.stdin:
    e = json.loads(l)
    print(e["client"]["ip"], e["client"]["port"], e["outcome"], e.get("version"))' | sort
}
tap_eq "4 handshakes: both captures, both connections, ok" \
	"127.0.0.1 38500 ok TLS1.2
127.0.0.1 38502 ok TLS1.2
fd00::7f00:1 38500 ok TLS1.2
fd00::7f00:1 38502 ok TLS1.2" "$(hs)"
tap_eq "no fragment counted" 0 "$(tn_agent_counter "$tmp/agent.jsonl" fragments)"
