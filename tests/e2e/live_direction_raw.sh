#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# --direction served: a ClientHello this host sends from a raw socket is
# not taken for one of its own outgoing connections.
#
# The agent on the host end of the veth with --direction served, a real
# `openssl s_server` in the test namespace. From the host:
#   - tests/e2e/lib/rst_inject.py clienthello sends one segment carrying a
#     ClientHello (SNI rsa.test) to the server through a raw socket whose
#     protocol is TCP (socket(AF_INET, SOCK_RAW, IPPROTO_TCP): a process
#     with CAP_NET_RAW can open one). It leaves this host's stack with
#     that socket attached, but no TCP stream socket sent it: not a
#     connection this host opened, so it is followed. The server holds no
#     such connection and answers with a reset at the segment's ACK, which
#     closes the flow: one handshake event, of the raw socket's port,
#     aborted. Before the kernel side asked for a stream socket, a socket
#     of protocol TCP passed for the host's TCP: the hello was taken for
#     outgoing and nothing of it was followed (any process with
#     CAP_NET_RAW could so have a flow it chose left unwatched);
#   - `openssl s_client` does a TLS 1.2 handshake with the same server, a
#     connection this host opens: not followed (flows_outgoing 1).
# Needs root. TAP output; exits non-zero on any failure.
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
export BUILD
. tests/e2e/lib_netns.sh
. tests/e2e/lib_spoofed.sh

sp_begin live_direction_raw
tn_setup draw
tn_start_rsa_server "$pki"
log=$tmp/agent.jsonl
tn_start_agent "$log" --no-active-check --stats-interval 3600 --direction served ||
	tn_bail "tlswatch run did not start"

RAWPORT=47123
"$PY" "$INJECT" clienthello "$TN_HOST4" "$RAWPORT" "$TN_PEER4" 443 1000 2000 rsa.test
tap_eq "a ClientHello sent through an IPPROTO_TCP raw socket of the host" 0 "$?"
tn_wait_cmd 5 grep -q "\"port\":$RAWPORT}" "$log"
tap_eq "its handshake was reported" 0 "$?"
tn_rsa_handshake
tap_eq "a TLS 1.2 handshake of this host with the server" 0 "$?"
# the server's answers went through the TC program (from the namespace:
# in the host's softirq, maybe after the client read them); the agent
# reads its ring to the end before it exits
tn_wait_kcounter 10 "$TN_AGENT_PID" flows_outgoing 1
tn_stop_agent
tap_eq "agent exits 0 on SIGTERM" 0 "$?"

tap_eq "one handshake event: the raw socket's, aborted, SNI rsa.test" \
	"$RAWPORT aborted rsa.test" "$("$PY" - "$log" <<'PYEOF'
import json, sys
seen = [json.loads(l) for l in open(sys.argv[1])]
hs = [e for e in seen if e.get("event") == "handshake"]
print(" / ".join("%d %s %s" % (e["client"]["port"], e["outcome"], e.get("sni", "-"))
                 for e in hs) or "none")
PYEOF
)"
tap_eq "the kernel side followed the raw socket's hello" 1 \
	"$(tn_agent_counter "$log" flows_tracked)"
tap_eq "the server's reset closed it" 1 "$(tn_agent_counter "$log" flows_closed)"
tap_eq "only the stream socket's connection taken for outgoing" 1 \
	"$(tn_agent_counter "$log" flows_outgoing)"

echo "# $TN_TESTS tests, $TN_FAILED failed"
[ "$TN_FAILED" -eq 0 ]
