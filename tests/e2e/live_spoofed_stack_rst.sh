#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The reset this host's own stack sends for a connection it no longer
# holds ends a followed flow when the connection's other end takes it,
# and only then.
#
# A real `openssl s_server` in a test namespace, a TLS 1.2 client on the
# host (tests/e2e/lib/slow_handshake.py) that, after the server's first
# flight, leaves its connection without a word (its socket closed in
# TCP_REPAIR mode: no FIN, no RST). The server still holds the connection;
# this host no longer does. tests/e2e/lib/rst_inject.py then sends bare
# ACKs "from the server" (from inside the namespace), and the host's TCP
# answers each with its own reset at the ACK's acknowledgment number,
# sent from the kernel's control socket (a SOCK_RAW socket of protocol
# TCP: since the kernel side asks for a stream socket, tw_local_sk does not
# vouch for it, and its sequence number alone judges it):
#   - an ACK acknowledging half the sequence space from where the client
#     had got: the stack's reset lies there, out of the window. The server
#     drops it (RFC 5961), its connection stays; the kernel side ignores it
#     too (rsts_ignored 1), no close record, the flow is still followed;
#   - an ACK acknowledging exactly where the client had got: the reset is
#     in the window; the server's connection ends, and so does the flow:
#     its close record (flows_closed 1) ends the handshake in the agent,
#     reported once, aborted.
# Needs root. TAP output; exits non-zero on any failure.
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
export BUILD
. tests/e2e/lib_netns.sh
. tests/e2e/lib_spoofed.sh

sp_begin live_spoofed_stack_rst
tn_setup srst
tn_start_rsa_server "$pki"
log=$tmp/agent.jsonl
tn_start_agent "$log" --no-active-check --stats-interval 3600 ||
	tn_bail "tlswatch run did not start"

# The server's connection to the client's port, as ss lists it (state
# established): its line count.
server_holds() {
	ip netns exec "$TN_NS" ss -Htn state established \
		"( sport = :443 and dport = :$cport )" | grep -c .
}

sp_start_client "" "$TN_HOST_IF" "$TN_PEER4" "the ClientHello was seen on the veth" \
	"vanish:$tmp/go"
sp_finish_client "$tmp/go" "the client left its connection without a word"
tap_eq "the server still holds the connection" 1 "$(server_holds)"
tap_eq "this host no longer does" 0 \
	"$(ss -Htn "( sport = :$cport and dport = :443 )" | grep -c .)"

ip netns exec "$TN_NS" "$PY" "$INJECT" send "$TN_PEER4" 443 "$cip" "$cport" \
	"$snext" $(((cnext + (1 << 31)) % (1 << 32))) ack
tap_eq "an ACK acknowledging half the sequence space away sent" 0 "$?"
# the stack's reset went through the TC program
tn_wait_kcounter 10 "$TN_AGENT_PID" rsts_ignored 1
tap_eq "the server dropped the stack's reset out of its window" 1 "$(server_holds)"
tap_eq "the flow went on: no handshake reported yet" 0 \
	"$(grep -c "\"port\":$cport}" "$log")"

ip netns exec "$TN_NS" "$PY" "$INJECT" send "$TN_PEER4" 443 "$cip" "$cport" \
	"$snext" "$cnext" ack
tap_eq "an ACK acknowledging where the client had got sent" 0 "$?"
tn_wait_cmd 5 sh -c "[ \"\$(ip netns exec '$TN_NS' ss -Htn state established \
	'( sport = :443 and dport = :$cport )' | grep -c .)\" = 0 ]"
tap_eq "the server took the stack's reset in its window: its connection ended" 0 "$?"
tn_wait_cmd 5 grep -q "\"port\":$cport}" "$log"
tap_eq "the handshake was reported" 0 "$?"
tn_stop_agent
tap_eq "agent exits 0 on SIGTERM" 0 "$?"

outcome=$(sp_outcomes "$log" "$cport")
tap_eq "one handshake event for the connection, aborted" aborted "$outcome"
tap_eq "the kernel side ignored the one reset out of the window" 1 \
	"$(tn_agent_counter "$log" rsts_ignored)"
tap_eq "the reset in the window closed the followed flow" 1 \
	"$(tn_agent_counter "$log" flows_closed)"
tap_eq "the kernel tracked the one connection once" 1 \
	"$(tn_agent_counter "$log" flows_tracked)"
tap_eq "one handshake aborted" 1 "$(tn_agent_counter "$log" handshakes_aborted)"
tap_eq "nothing ignored but the reset" 0 "$(tn_agent_counter "$log" syns_fins_ignored)"

echo "# $TN_TESTS tests, $TN_FAILED failed"
[ "$TN_FAILED" -eq 0 ]
