#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Which SYN-ACK answering an ignored SYN ends a flow's entry
# (tw_synack_real): not one a raw socket of this host sends with the
# addresses of a connection this host holds; one from an end no socket of
# this host holds, yes.
#
# A real `openssl s_server` on the host end of the veth, a TLS 1.2 client
# in a test namespace (tests/e2e/lib/slow_handshake.py) that pauses after
# the server's first flight and again before its GET.
#   - In the first pause, tests/e2e/lib/rst_inject.py sends a SYN "from
#     the client" (from the namespace) half the sequence space from where
#     the client had got: the server's socket refuses its sequence number,
#     the kernel side ignores it (syns_fins_ignored). Then, from the host,
#     a SYN-ACK "from the server" that acknowledges it, through a raw
#     socket whose protocol is TCP (socket(AF_INET, SOCK_RAW,
#     IPPROTO_TCP): a process with CAP_NET_RAW can open one). It leaves
#     this host's stack with that socket attached, but no TCP stream
#     socket sent it, and the server's socket holds its addresses: spoofed,
#     the entry stays. Before the kernel side asked for a stream socket, a
#     socket of protocol TCP passed for the host's TCP, the entry ended,
#     and the rest of the handshake was followed as a second flow.
#   - In the second pause, with the handshake reported (the kernel has the
#     flow marked done), the same the other way round: a SYN "from the
#     server" (from the host's raw socket) the server's socket refuses,
#     ignored, and a SYN-ACK "from the client" (from the namespace) that
#     acknowledges it. No socket of this host holds the client's address
#     and port (as for forwarded traffic, or a server in another
#     namespace: nothing tells a spoofed one), so it is taken for the
#     answer of an end that no longer holds the connection: the entry
#     ends, and the GET and its answer start a new one, copied as a
#     preamble (two flows tracked; for the agent a new connection on the
#     ports, not TLS).
# Needs root. TAP output; exits non-zero on any failure.
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
export BUILD
. tests/e2e/lib_netns.sh
. tests/e2e/lib_spoofed.sh

sp_begin live_spoofed_synack
tn_setup ssyn
openssl s_server -quiet -www -accept "$TN_HOST4:443" \
	-cert "$pki/rsa.test.crt" -key "$pki/rsa.test.key" >"$pki.server.log" 2>&1 &
tn_bg $!
tn_wait_cmd 10 sh -c "ss -Hltn 'src $TN_HOST4 and sport = :443' | grep -q ." ||
	tn_bail "openssl s_server did not start"
log=$tmp/agent.jsonl
tn_start_agent "$log" --no-active-check --stats-interval 3600 ||
	tn_bail "tlswatch run did not start"

sp_start_client "$TN_NS" "$TN_PEER_IF" "$TN_HOST4" "the ClientHello was seen on the veth" \
	"file:$tmp/go" "file:$tmp/go2"
syn=$(((cnext + (1 << 31)) % (1 << 32)))
ip netns exec "$TN_NS" "$PY" "$INJECT" send "$cip" "$cport" "$TN_HOST4" 443 "$syn" 0 syn
tap_eq "a SYN far from the client's sequence number sent" 0 "$?"
"$PY" "$INJECT" send "$TN_HOST4" 443 "$cip" "$cport" "$snext" $(((syn + 1) % (1 << 32))) \
	synack tcp
tap_eq "a SYN-ACK answering it sent through an IPPROTO_TCP raw socket of the host" 0 "$?"
# both went through the TC program: the SYN-ACK, sent from the host, in
# its sender's system call; the SYN, from the namespace, in the host's
# softirq
tn_wait_kcounter 10 "$TN_AGENT_PID" syns_fins_ignored 1
touch "$tmp/go"
tn_wait_cmd 5 grep -q "\"port\":$cport}" "$log"
tap_eq "the handshake was reported" 0 "$?"
sp_wait_flow_done "$TN_AGENT_PID" "$cport" 443 "the agent marked the flow done in the kernel"
syn=$(((snext + (1 << 31)) % (1 << 32)))
"$PY" "$INJECT" send "$TN_HOST4" 443 "$cip" "$cport" "$syn" 0 syn tcp
tap_eq "a SYN far from the server's sequence number sent" 0 "$?"
ip netns exec "$TN_NS" "$PY" "$INJECT" send "$cip" "$cport" "$TN_HOST4" 443 \
	"$cnext" $(((syn + 1) % (1 << 32))) synack
tap_eq "a SYN-ACK answering it sent from the client's namespace" 0 "$?"
tn_wait_kcounter 10 "$TN_AGENT_PID" syns_fins_ignored 2
sp_wait_flow_state "$TN_AGENT_PID" "$cport" 443 none \
	"the far end's SYN-ACK ended the decided flow's kernel entry"
sp_finish_client "$tmp/go2" "the handshake completed and a GET was answered"
tn_stop_agent
tap_eq "agent exits 0 on SIGTERM" 0 "$?"

outcome=$(sp_outcomes "$log" "$cport")
tap_eq "one handshake event for the connection, ok" ok "$outcome"
tap_eq "the kernel side ignored the two SYNs" 2 \
	"$(tn_agent_counter "$log" syns_fins_ignored)"
tap_eq "the raw socket's SYN-ACK did not end the handshake: tracked once, then the GET once" 2 \
	"$(tn_agent_counter "$log" flows_tracked)"
tap_eq "no handshake aborted" 0 "$(tn_agent_counter "$log" handshakes_aborted)"
tap_eq "the far end's SYN-ACK ended the decided flow: the GET began a new one" 1 \
	"$(tn_agent_counter "$log" flows_reopened)"
# the GET, 18 bytes in a TLS 1.2 AES-GCM record (29 more); the server's
# answer, larger than a preamble may be, ends it
tap_eq "the GET copied as a preamble" 47 "$(tn_agent_counter "$log" preamble_bytes)"

echo "# $TN_TESTS tests, $TN_FAILED failed"
[ "$TN_FAILED" -eq 0 ]
