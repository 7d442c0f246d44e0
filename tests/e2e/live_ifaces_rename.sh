#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# An attached interface renamed while the agent runs (everything inside a
# test network namespace: the agent, the openssl s_server, the renamed
# veth end; the client on the other end):
#   - `ip link set dev OLD name NEW`: the agent stays attached (one filter
#     per direction on NEW), reports the next handshake with NEW as its
#     source, and announces nothing (no interface_removed, no error);
#   - a new interface that takes the old name (--iface OLD) is a new one:
#     `interface_added` naming it, attached, its handshakes reported with
#     OLD as source, while NEW's still are with NEW;
#   - SIGTERM exits 0 and leaves no filter on either.
# Before, the agent went by name: the renamed interface's handshakes kept
# the old name, and the new one was taken for attached already.
#
# Needs root, openssl, ip, tc. TAP output; exits non-zero on any failure.
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
export BUILD
. tests/e2e/lib_netns.sh

tn_require_root live_ifaces_rename
tn_require_cmds openssl ip tc
tn_require_tlswatch

tmp=$(tn_tmpdir)
tn_ec_cert "$tmp" rename.test
tn_setup ren
OLD=$TN_PEER_IF
NEW=renm$$
# the interface that takes the old name: its host end, and addresses in
# the other half of the test's /24 (the /28 at .16)
TAKER_HOST=rent$$
TAKER_HOST4=$TN_NET4.17
TAKER_PEER4=$TN_NET4.18
tn_on_exit "ip link del $TAKER_HOST"

tn_s_server_everywhere "$tmp"   # every veth of the namespace

handshake() { # peer address
	echo | timeout 10 openssl s_client -connect "$1:443" \
		-servername rename.test >/dev/null 2>&1 || tap_fail "a handshake with $1 failed"
}
count() { # regex: lines of the log
	grep -Ec "$1" "$log"
}

log=$tmp/agent.jsonl
: >"$log"
ip netns exec "$TN_NS" "$BUILD/tlswatch" run --iface "$OLD" --port 443 \
	--no-metrics --no-active-check --stats-interval 1 --json-log "$log" \
	--db "$tmp/agent.db" 2>"$tmp/agent.stderr" &
TN_AGENT_PID=$!
tn_bg "$TN_AGENT_PID"
tn_wait_grep 15 '"state":"started"' "$log" ||
	{ sed 's/^/#   /' "$tmp/agent.stderr"; tn_bail "the agent did not start"; }
handshake "$TN_PEER4"
tap_check "before the rename: the handshake is reported with $OLD" \
	tn_wait_grep 10 "$(tn_handshake_on "$OLD")" "$log"

# --- the rename ---------------------------------------------------------------
ip -n "$TN_NS" link set dev "$OLD" down &&
	ip -n "$TN_NS" link set dev "$OLD" name "$NEW" &&
	ip -n "$TN_NS" link set dev "$NEW" up || tn_bail "cannot rename $OLD to $NEW"
tn_wait_cmd 5 sh -c "ip -br link show dev '$TN_HOST_IF' | grep -q LOWER_UP" ||
	tn_bail "veth $TN_HOST_IF has no carrier after the rename"
tap_check "renamed: stderr says so" \
	tn_wait_cmd 5 grep -q "$OLD: renamed $NEW; still attached" "$tmp/agent.stderr"
tap_eq "renamed: still one filter per direction, on $NEW" 2 "$(tn_filters_on "$NEW" "$TN_NS")"
handshake "$TN_PEER4"
tap_check "renamed: the next handshake is reported with $NEW" \
	tn_wait_grep 10 "$(tn_handshake_on "$NEW")" "$log"
tap_eq "renamed: no handshake reported with $OLD since" 1 "$(count "$(tn_handshake_on "$OLD")")"
tap_eq "renamed: no interface_removed, interface_added or error" 0 \
	"$(count '"state":"(interface_removed|interface_added|error)"')"

# --- a new interface takes the old name -----------------------------------------
ip link add "$TAKER_HOST" type veth peer name "$OLD" netns "$TN_NS" &&
	ip addr add "$TAKER_HOST4/28" dev "$TAKER_HOST" &&
	ip link set "$TAKER_HOST" up &&
	ip -n "$TN_NS" addr add "$TAKER_PEER4/28" dev "$OLD" &&
	ip -n "$TN_NS" link set "$OLD" up || tn_bail "cannot create the new $OLD"
tap_check "the old name taken: interface_added names it" \
	tn_wait_grep 10 "\"state\":\"interface_added\".*\"message\":\"$OLD\"" "$log"
tap_eq "the old name taken: the new $OLD has one filter per direction" 2 \
	"$(tn_filters_on "$OLD" "$TN_NS")"
tap_eq "the old name taken: $NEW keeps its two" 2 "$(tn_filters_on "$NEW" "$TN_NS")"
tn_wait_cmd 5 sh -c "ip -br link show dev '$TAKER_HOST' | grep -q LOWER_UP" ||
	tn_bail "veth $TAKER_HOST has no carrier"
handshake "$TAKER_PEER4"
handshake "$TN_PEER4"
tn_wait_cmd 10 sh -c "[ \$(grep -Ec '$(tn_handshake_on "$OLD")' '$log') -ge 2 ] &&
	[ \$(grep -Ec '$(tn_handshake_on "$NEW")' '$log') -ge 2 ]"
tap_eq "the old name taken: $NEW's handshakes still reported with $NEW" 2 \
	"$(count "$(tn_handshake_on "$NEW")")"
tap_eq "the old name taken: handshakes with $OLD as source: the first and the new one's" 2 \
	"$(count "$(tn_handshake_on "$OLD")")"

tn_stop_agent
tap_eq "SIGTERM: exit 0" 0 "$?"
tap_eq "SIGTERM: no filter left on $NEW or $OLD" "0 0" \
	"$(tn_filters_on "$NEW" "$TN_NS") $(tn_filters_on "$OLD" "$TN_NS")"
tap_eq "no error event" 0 "$(count '"state":"error"')"

echo "# $TN_TESTS tests, $TN_FAILED failed"
