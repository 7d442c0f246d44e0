#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Spoofed FINs and SYNs do not end a decided connection's kernel entry, and
# real resets end it whatever was sent after the decision.
#
# 1. A real `openssl s_server` in a test namespace, a TLS 1.2 client on the
#    host (tests/e2e/lib/slow_handshake.py) that pauses once the handshake
#    is complete. With the handshake reported (the kernel has the flow
#    marked done), tests/e2e/lib/rst_inject.py sends segments no real stack
#    would: a FIN "from the server" half the sequence space from where the
#    server had got, a FIN "from the client" 1 MiB behind where the client
#    had got, a SYN "from the client" a quarter of the space ahead, and
#    another an eighth ahead sent through a raw socket whose protocol is
#    TCP (socket(AF_INET, SOCK_RAW, IPPROTO_TCP), as a process with
#    CAP_NET_RAW opens one: it leaves this host's stack on egress of the
#    watched veth with that socket attached). Both TCP stacks drop the
#    FINs and answer the SYNs with an ACK (RFC 5961); the kernel side must
#    keep the flow's entry, so the GET and its answer cost a lookup each
#    and nothing is copied: syns_fins_ignored 4, one flow tracked, no
#    preamble. Before, the second FIN (and, alone, the SYN) deleted the
#    entry, and the rest of the connection was copied as a preamble: a new
#    connection for the agent, not TLS; and before the kernel side asked
#    for a stream socket, the raw socket's SYN was taken for one the
#    host's TCP sent, and did the same.
# 2. tests/e2e/lib/bulk_reset.py: a TLS 1.2 connection on port 8443 whose
#    server, once the handshake is reported, sends 6 MiB and resets the
#    connection; then one whose client sends 6 MiB and resets. Each reset
#    is real, 6 MiB past where its sender had got when the flow was
#    decided: beyond the decided flow's window (4 MiB), and the host's TCP
#    stack (the client is on the host) vouches for it, so the entry ends:
#    rsts_ignored 0. Before, both were ignored (rsts_ignored 2) and the
#    entries stayed until the LRU evicted them.
# Needs root. TAP output; exits non-zero on any failure.
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
export BUILD
. tests/e2e/lib_netns.sh
. tests/e2e/lib_spoofed.sh

sp_begin live_spoofed_close
BULK=tests/e2e/lib/bulk_reset.py
BULK_BYTES=$((6 << 20))
tn_setup sclose
tn_start_rsa_server "$pki"
log=$tmp/agent.jsonl
tn_start_agent "$log" --no-active-check --stats-interval 3600 --port 8443 ||
	tn_bail "tlswatch run did not start"

# The port of the n-th handshake event ("none" when missing).
hs_port() { # n
	"$PY" - "$log" "$1" <<'PYEOF'
import json, sys
hs = [json.loads(l) for l in open(sys.argv[1])]
hs = [e for e in hs if e.get("event") == "handshake"]
n = int(sys.argv[2])
print(hs[n - 1]["client"]["port"] if len(hs) >= n else "none")
PYEOF
}
hs_reported() { # n
	[ "$(hs_port "$1")" != none ]
}

# --- 1. spoofed FINs and a spoofed SYN of a decided connection
sp_start_client "" "$TN_HOST_IF" "$TN_PEER4" "the ClientHello was seen on the veth" \
	0 "file:$tmp/go"
tn_wait_cmd 5 grep -q "\"port\":$cport}" "$log"
tap_eq "the handshake was reported" 0 "$?"
sp_wait_flow_done "$TN_AGENT_PID" "$cport" 443 "the agent marked the flow done in the kernel"
ip netns exec "$TN_NS" "$PY" "$INJECT" send "$TN_PEER4" 443 "$cip" "$cport" \
	$(((snext + (1 << 31)) % (1 << 32))) "$cnext" fin
tap_eq "a FIN far from the server's sequence number sent" 0 "$?"
"$PY" "$INJECT" send "$cip" "$cport" "$TN_PEER4" 443 \
	$(((cnext - (1 << 20) + (1 << 32)) % (1 << 32))) "$snext" fin
tap_eq "a FIN far behind the client's sent" 0 "$?"
"$PY" "$INJECT" send "$cip" "$cport" "$TN_PEER4" 443 \
	$(((cnext + (1 << 30)) % (1 << 32))) 0 syn
tap_eq "a SYN far ahead of the client's sent" 0 "$?"
"$PY" "$INJECT" send "$cip" "$cport" "$TN_PEER4" 443 \
	$(((cnext + (1 << 29)) % (1 << 32))) 0 syn tcp
tap_eq "a SYN far ahead of the client's sent through an IPPROTO_TCP raw socket" 0 "$?"
# the FINs and SYNs went through the TC program (those from the
# namespace reach it in the host's softirq, after their sender is gone)
tn_wait_kcounter 10 "$TN_AGENT_PID" syns_fins_ignored 4
sp_finish_client "$tmp/go" "the connection went on: a GET was answered"

# --- 2. real resets 6 MiB past a decided flow's references
bulk_round() { # who resets, n-th handshake
	local who=$1 n=$2 server client port
	rm -f "$tmp/go.$who"
	ip netns exec "$TN_NS" timeout 40 "$PY" "$BULK" server "$TN_PEER4" 8443 \
		"$pki/rsa.test.crt" "$pki/rsa.test.key" "$who" "$BULK_BYTES" \
		2>"$tmp/bulk_server.$who.err" &
	server=$!
	tn_bg "$server"
	tn_wait_listen 10 8443 || tn_bail "bulk_reset.py server did not start"
	timeout 40 "$PY" "$BULK" client "$TN_PEER4" 8443 "$who" "$BULK_BYTES" \
		"$tmp/go.$who" 2>"$tmp/bulk_client.$who.err" &
	client=$!
	tn_bg "$client"
	tn_wait_cmd 5 hs_reported "$n"
	tap_eq "$who bulk: the handshake was reported" 0 "$?"
	sp_wait_flow_done "$TN_AGENT_PID" "$(hs_port "$n")" 8443 \
		"$who bulk: the agent marked the flow done in the kernel"
	port=$(hs_port "$n")
	touch "$tmp/go.$who"
	wait "$client"
	tap_eq "$who bulk: the client's side went through" 0 "$?"
	wait "$server"
	tap_eq "$who bulk: the server's side went through" 0 "$?"
	sed 's/^/#   /' "$tmp/bulk_client.$who.err" "$tmp/bulk_server.$who.err"
	sp_wait_flow_state "$TN_AGENT_PID" "$port" 8443 none \
		"$who bulk: the reset ended the flow's kernel entry"
}
bulk_round server 2
bulk_round client 3
tn_stop_agent
tap_eq "agent exits 0 on SIGTERM" 0 "$?"

outcome=$("$PY" - "$log" <<'PYEOF'
import json, sys
seen = [json.loads(l) for l in open(sys.argv[1])]
hs = [e for e in seen if e.get("event") == "handshake"]
print(" ".join(e["outcome"] for e in hs) or "none")
PYEOF
)
tap_eq "three handshake events, ok" "ok ok ok" "$outcome"
tap_eq "the kernel side ignored the two FINs and the two SYNs" 4 \
	"$(tn_agent_counter "$log" syns_fins_ignored)"
tap_eq "the kernel side ignored no reset: the real ones ended their entries" 0 \
	"$(tn_agent_counter "$log" rsts_ignored)"
tap_eq "the kernel tracked each connection once" 3 \
	"$(tn_agent_counter "$log" flows_tracked)"
tap_eq "no preamble copied after a handshake" 0 \
	"$(tn_agent_counter "$log" preamble_bytes)"
tap_eq "no connection was taken for a new one" 0 \
	"$(tn_agent_counter "$log" flows_reopened)"
tap_eq "nothing taken for a flow that is not TLS" 0 \
	"$(tn_agent_counter "$log" flows_not_tls)"

echo "# $TN_TESTS tests, $TN_FAILED failed"
[ "$TN_FAILED" -eq 0 ]
