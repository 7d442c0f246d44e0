#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Spoofed resets do not end a handshake the live agent follows.
#
# A real `openssl s_server` in a test namespace, a TLS 1.2 client on the
# host (tests/e2e/lib/slow_handshake.py) that pauses after the server's
# first flight. During the pause, tests/e2e/lib/rst_inject.py sends two
# resets no real stack would: one "from the server" (from inside the
# namespace) half the sequence space from where the server had got, one
# "from the client" (from the host) 1 MiB behind where the client had got,
# and one more "from the client" 2 MiB behind, sent through a raw socket
# whose protocol is TCP (socket(AF_INET, SOCK_RAW, IPPROTO_TCP), as a
# process with CAP_NET_RAW opens one), so that it leaves this host's stack
# on egress of the watched veth with a socket attached. All cross the
# watched veth. Both TCP stacks drop them (RFC 5961), the handshake
# completes, and the agent must say so: one handshake event, ok, none
# aborted, and the kernel side's rsts_ignored 3. Before, the kernel deleted
# the flow's entry at the first reset, whose close record ended the
# handshake in the agent (incomplete: the reset lay past a hole), and the
# rest of the connection was followed as a second one. And before the
# kernel side asked for a stream socket, the third reset was taken for
# one the host's TCP sent (its socket's protocol is TCP) and ended the
# flow's entry the same way.
#
# Then, with the handshake reported (the kernel has the flow marked done)
# and before the client's GET, a fourth reset "from the server", half the
# sequence space away again: the kernel keeps the flow's entry, so the
# GET and its answer cost a lookup each and nothing is copied. Before, a
# decided flow's entry went at any reset, and the rest of the connection
# was copied as a preamble: a new connection on the ports for the agent
# (flows_reopened 1), not TLS (flows_not_tls 1), two flows tracked.
# Needs root. TAP output; exits non-zero on any failure.
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
export BUILD
. tests/e2e/lib_netns.sh
. tests/e2e/lib_spoofed.sh

sp_begin live_spoofed_rst
tn_setup rst
tn_start_rsa_server "$pki"
log=$tmp/agent.jsonl
tn_start_agent "$log" --no-active-check --stats-interval 3600 ||
	tn_bail "tlswatch run did not start"

sp_start_client "" "$TN_HOST_IF" "$TN_PEER4" "the ClientHello was seen on the veth" \
	"file:$tmp/go" "file:$tmp/go2"
ip netns exec "$TN_NS" "$PY" "$INJECT" send "$TN_PEER4" 443 "$cip" "$cport" \
	$(((snext + (1 << 31)) % (1 << 32))) "$cnext"
tap_eq "a reset far from the server's sequence number sent" 0 "$?"
"$PY" "$INJECT" send "$cip" "$cport" "$TN_PEER4" 443 \
	$(((cnext - (1 << 20) + (1 << 32)) % (1 << 32))) "$snext"
tap_eq "a reset far behind the client's sent" 0 "$?"
"$PY" "$INJECT" send "$cip" "$cport" "$TN_PEER4" 443 \
	$(((cnext - (2 << 20) + (1 << 32)) % (1 << 32))) "$snext" rst tcp
tap_eq "a reset far behind the client's sent through an IPPROTO_TCP raw socket" 0 "$?"
# all went through the TC program (the server's reset reaches it in the
# host's softirq, after its sender is gone)
tn_wait_kcounter 10 "$TN_AGENT_PID" rsts_ignored 3
touch "$tmp/go"
tn_wait_cmd 5 grep -q "\"port\":$cport}" "$log"
tap_eq "the handshake was reported" 0 "$?"
sp_wait_flow_done "$TN_AGENT_PID" "$cport" 443 "the agent marked the flow done in the kernel"
ip netns exec "$TN_NS" "$PY" "$INJECT" send "$TN_PEER4" 443 "$cip" "$cport" \
	$(((snext + (1 << 31)) % (1 << 32))) "$cnext"
tap_eq "a reset far from the server's sent after the handshake" 0 "$?"
tn_wait_kcounter 10 "$TN_AGENT_PID" rsts_ignored 4
sp_finish_client "$tmp/go2" "the handshake completed and a GET was answered"
tn_stop_agent
tap_eq "agent exits 0 on SIGTERM" 0 "$?"

outcome=$(sp_outcomes "$log" "$cport")
tap_eq "one handshake event for the connection, ok" ok "$outcome"
tap_eq "the kernel side ignored the four resets" 4 "$(tn_agent_counter "$log" rsts_ignored)"
tap_eq "no handshake aborted" 0 \
	"$(tn_agent_counter "$log" handshakes_aborted)"
tap_eq "the kernel tracked the one connection once" 1 \
	"$(tn_agent_counter "$log" flows_tracked)"
tap_eq "no preamble copied after the handshake" 0 \
	"$(tn_agent_counter "$log" preamble_bytes)"
tap_eq "the connection was not taken for a new one" 0 \
	"$(tn_agent_counter "$log" flows_reopened)"
tap_eq "nothing taken for a flow that is not TLS" 0 \
	"$(tn_agent_counter "$log" flows_not_tls)"

echo "# $TN_TESTS tests, $TN_FAILED failed"
[ "$TN_FAILED" -eq 0 ]
