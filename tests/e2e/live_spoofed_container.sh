#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A reset a container's TCP socket sends is not one the host's TCP sent.
#
# Three test namespaces, none of them the host's: "the host" (the agent,
# attached to both its veths, and a TLS 1.2 client,
# tests/e2e/lib/slow_handshake.py), a server namespace (`openssl
# s_server`) behind one veth, and "a container" behind the other. With the
# client's handshake reported (the kernel has the flow marked done), a
# process in the container sends, from a TCP socket bound to the server's
# address and port (IP_TRANSPARENT), a reset "from the server" to the
# client, half the sequence space from where the server had got
# (tests/e2e/lib/rst_inject.py sockreset: the socket in TCP_REPAIR mode,
# to choose the sequence number; a container with only CAP_NET_RAW gets
# the same from a SYN, at a sequence number of the kernel's choice). It
# reaches the agent on TC ingress of the host's end of the container's
# veth. On kernel 6.18 a veth keeps the sender's socket reference across
# the namespaces, so it came with the container's TCP socket, and the
# kernel side took it for one the host's TCP sent: plausible, the flow's
# entry ended, and the rest of the connection was copied as a preamble (a
# new connection for the agent, not TLS). Now a packet received is never
# the host's own (skb_iif set): the host's TCP stack is asked, the
# client's socket refuses the reset's sequence number, and the entry
# stays: rsts_ignored 1, one flow tracked, no preamble. The client's stack
# drops the reset (RFC 5961) and its connection goes on.
# Needs root. TAP output; exits non-zero on any failure.
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
export BUILD
. tests/e2e/lib_netns.sh
. tests/e2e/lib_spoofed.sh

sp_begin live_spoofed_container
# The container: tn_setup's namespace, $TN_PEER4; its veth's other end
# moves into "the host", a namespace of its own ($TN_HOST4 there).
tn_setup scon
HOSTNS=tw-sconh-$$
SRVNS=tw-scons-$$
ip netns add "$HOSTNS" || tn_bail "cannot create network namespace $HOSTNS"
tn_on_exit "ip netns del '$HOSTNS'"
ip netns add "$SRVNS" || tn_bail "cannot create network namespace $SRVNS"
tn_on_exit "ip netns del '$SRVNS'"
# the server's link: the next /28 of tn_setup's subnet (named after $$ too)
HOST_SRV4=$TN_NET4.17 SRV4=$TN_NET4.18
SRV_HOST_IF=sconx$$ SRV_IF=scons$$
ip link set "$TN_HOST_IF" netns "$HOSTNS" &&
	ip -n "$HOSTNS" link set lo up &&
	ip -n "$HOSTNS" addr add "$TN_HOST4/28" dev "$TN_HOST_IF" &&
	ip -n "$HOSTNS" link set "$TN_HOST_IF" up &&
	ip -n "$TN_NS" route add default via "$TN_HOST4" &&
	ip -n "$HOSTNS" link add "$SRV_HOST_IF" type veth peer name "$SRV_IF" netns "$SRVNS" &&
	ip -n "$HOSTNS" addr add "$HOST_SRV4/28" dev "$SRV_HOST_IF" &&
	ip -n "$HOSTNS" link set "$SRV_HOST_IF" up &&
	ip -n "$SRVNS" link set lo up &&
	ip -n "$SRVNS" addr add "$SRV4/28" dev "$SRV_IF" &&
	ip -n "$SRVNS" link set "$SRV_IF" up ||
	tn_bail "cannot set up the host, server and container namespaces"
for dev in "$TN_HOST_IF" "$SRV_HOST_IF"; do
	tn_wait_cmd 5 sh -c "ip -n '$HOSTNS' -br link show dev '$dev' | grep -q LOWER_UP" ||
		tn_bail "veth $dev has no carrier in $HOSTNS"
done

ip netns exec "$SRVNS" openssl s_server -quiet -www -accept "$SRV4:443" \
	-cert "$pki/rsa.test.crt" -key "$pki/rsa.test.key" >"$tmp/server.log" 2>&1 &
tn_bg $!
tn_wait_cmd 10 sh -c "ip netns exec '$SRVNS' ss -Hltn 'sport = :443' | grep -q ." ||
	tn_bail "openssl s_server did not start"

log=$tmp/agent.jsonl
: >"$log"
ip netns exec "$HOSTNS" "$BUILD/tlswatch" run --iface "$SRV_HOST_IF" --iface "$TN_HOST_IF" \
	--port 443 --no-active-check --no-metrics --stats-interval 3600 \
	--db "$tmp/inventory.db" --json-log "$log" 2>"$log.stderr" &
agent=$!
tn_bg "$agent"
tn_wait_grep 15 '"event":"agent".*"state":"started"' "$log" ||
	{ sed 's/^/#   /' "$log.stderr"; tn_bail "tlswatch run did not start"; }

sp_start_client "$HOSTNS" "$SRV_HOST_IF" "$SRV4" \
	"the ClientHello was seen on the server's veth" 0 "file:$tmp/go"
tn_wait_cmd 5 grep -q "\"port\":$cport}" "$log"
tap_eq "the handshake was reported" 0 "$?"
sp_wait_flow_done "$agent" "$cport" 443 "the agent marked the flow done in the kernel"
ip netns exec "$TN_NS" "$PY" "$INJECT" sockreset "$SRV4" 443 "$cip" "$cport" \
	$(((snext + (1 << 31)) % (1 << 32))) "$cnext"
tap_eq "the container's TCP socket sent a reset with the flow's addresses" 0 "$?"
tn_wait_kcounter 10 "$agent" rsts_ignored 1   # it went through the TC program
sp_finish_client "$tmp/go" "the connection went on: a GET was answered"
tn_stop_pid "$agent"
tap_check "the agent stopped" grep -q '"state":"stopped"' "$log"

tap_eq "one handshake event, ok" ok "$("$PY" - "$log" <<'PYEOF'
import json, sys
hs = [json.loads(l) for l in open(sys.argv[1])]
print(" ".join(e["outcome"] for e in hs if e.get("event") == "handshake") or "none")
PYEOF
)"
tap_eq "the kernel side ignored the container's reset" 1 \
	"$(tn_agent_counter "$log" rsts_ignored)"
tap_eq "the kernel tracked the connection once" 1 \
	"$(tn_agent_counter "$log" flows_tracked)"
tap_eq "no preamble copied after the handshake" 0 \
	"$(tn_agent_counter "$log" preamble_bytes)"
tap_eq "the connection was not taken for a new one" 0 \
	"$(tn_agent_counter "$log" flows_reopened)"

echo "# $TN_TESTS tests, $TN_FAILED failed"
[ "$TN_FAILED" -eq 0 ]
