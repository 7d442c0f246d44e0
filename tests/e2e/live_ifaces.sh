#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Interfaces that come and go while `tlswatch run` watches.
#
# The agent runs with --iface HOST_IF --iface 'lxPID*' (a glob that matches
# nothing at start). While it runs, a second veth pair whose host end
# matches the glob is created, deleted and created again, and one that does
# not match is created. Checks, against real handshakes with an openssl
# s_server in the test namespace that listens on both veths:
#   - each new matching interface is announced once by an `agent` event
#     "interface_added" (message: its name), gets one tlswatch filter per
#     direction, and its handshakes are reported with it as "source";
#   - its deletion is announced once by "interface_removed", and the first
#     interface is still watched;
#   - an interface that does not match gets neither event nor filter;
#   - SIGTERM exits 0 and leaves no tlswatch filter or qdisc anywhere;
#   - an agent given only the glob starts with no interface and attaches
#     to the one that appears (both programs are loaded for it).
#
# Needs root, openssl, ip, tc. TAP output; exits non-zero on any failure.
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
export BUILD
. tests/e2e/lib_netns.sh

tn_require_root live_ifaces
tn_require_cmds openssl ip tc ss
tn_require_tlswatch

tmp=$(tn_tmpdir)
tn_ec_cert "$tmp" ifaces.test

tn_setup lif
NEW_IF=lx$$a            # matches the glob
NEW_PEER=lx$$p          # its peer, inside the namespace
OTHER_IF=ly$$a          # does not match
NEW_HOST4=$TN_NET4.17
NEW_PEER4=$TN_NET4.18
tn_on_exit "ip link del $NEW_IF"
tn_on_exit "ip link del $OTHER_IF"

tn_s_server_everywhere "$tmp"   # every veth of the namespace

handshake() { # peer address
	echo | timeout 10 openssl s_client -connect "$1:443" \
		-servername ifaces.test >/dev/null 2>&1
}
count() { # regex: matching lines of the agent log
	grep -Ec "$1" "$log"
}
agent_event() { # state, name
	printf '"event":"agent".*"state":"%s".*"message":"%s"' "$1" "$2"
}
wait_event() { # seconds, regex, description: a line of the agent log
	if tn_wait_grep "$1" "$2" "$log"; then
		tap_ok "$3"
	else
		tap_fail "$3" "$(tail -3 "$log.stderr")"
	fi
}
handshake_from() { # source interface
	printf '"event":"handshake".*"source":"%s"' "$1"
}
add_veth() { # host end name
	ip link add "$1" type veth peer name "$NEW_PEER" netns "$TN_NS" &&
	ip addr add "$NEW_HOST4/28" dev "$1" &&
	ip link set "$1" up &&
	ip -n "$TN_NS" addr add "$NEW_PEER4/28" dev "$NEW_PEER" &&
	ip -n "$TN_NS" link set "$NEW_PEER" up ||
		tn_bail "cannot create veth $1"
	tn_wait_cmd 5 sh -c "ip -br link show dev '$1' | grep -q LOWER_UP" ||
		tn_bail "veth $1 has no carrier"
}

log=$tmp/agent.jsonl
tn_start_agent "$log" --no-active-check --db "$tmp/inv.db" --iface "lx$$*" ||
	tn_bail "tlswatch run did not start"
tap_eq "start: the glob matches nothing yet, one interface attached" \
	"1" "$(grep '"state":"started"' "$log" | grep -o '"ifaces":\[[^]]*\]' | tr -cd , | wc -c | awk '{print $1 + 1}')"

# --- an interface that appears --------------------------------------------
add_veth "$NEW_IF"
wait_event 10 "$(agent_event interface_added "$NEW_IF")" "added: announced by an interface_added event"
tap_eq "added: one filter per direction on it" 2 "$(tn_filters_on "$NEW_IF")"
handshake "$NEW_PEER4" || tap_fail "handshake through $NEW_IF failed"
wait_event 10 "$(handshake_from "$NEW_IF")" "added: its handshake is reported with it as source"
tap_eq "added: exactly one handshake from it" 1 "$(count "$(handshake_from "$NEW_IF")")"

# --- one that does not match -------------------------------------------------
ip link add "$OTHER_IF" type veth peer name "ly$$p" || tn_bail "cannot create $OTHER_IF"
ip link set "$OTHER_IF" up

# --- it disappears -------------------------------------------------------------
ip link del "$NEW_IF" || tn_bail "cannot delete $NEW_IF"
wait_event 10 "$(agent_event interface_removed "$NEW_IF")" "removed: announced by an interface_removed event"
handshake "$TN_PEER4" || tap_fail "handshake through $TN_HOST_IF failed"
wait_event 10 "$(handshake_from "$TN_HOST_IF")" "removed: the first interface is still watched"
kill -0 "$TN_AGENT_PID" 2>/dev/null && tap_ok "removed: the agent runs on" ||
	tap_fail "removed: the agent runs on"

# --- it comes back --------------------------------------------------------
add_veth "$NEW_IF"
tn_wait_cmd 10 sh -c "[ \$(grep -Ec '$(agent_event interface_added "$NEW_IF")' '$log') -eq 2 ]" &&
	tap_ok "back: announced again" || tap_fail "back: announced again"
tap_eq "back: one filter per direction on it" 2 "$(tn_filters_on "$NEW_IF")"
handshake "$NEW_PEER4" || tap_fail "handshake through $NEW_IF (again) failed"
tn_wait_cmd 10 sh -c "[ \$(grep -Ec '$(handshake_from "$NEW_IF")' '$log') -eq 2 ]" &&
	tap_ok "back: its handshake is reported" || tap_fail "back: its handshake is reported"

tn_stop_agent
tap_eq "SIGTERM: the agent exits 0" 0 "$?"
tap_eq "events: interface_added exactly twice, for $NEW_IF only" 2 \
	"$(count '"state":"interface_added"')"
tap_eq "events: interface_removed exactly once" 1 "$(count '"state":"interface_removed"')"
tap_eq "events: no error" 0 "$(count '"state":"error"')"
grep '"state":"error"' "$log" | grep -o '"message":"[^"]*"' | sed 's/^/#   /'
tap_eq "not matching: no filter on $OTHER_IF" 0 "$(tn_filters_on "$OTHER_IF")"
tap_eq "SIGTERM: no filter left on $NEW_IF (attached later)" 0 "$(tn_filters_on "$NEW_IF")"
tap_eq "SIGTERM: no filter left on $TN_HOST_IF" 0 "$(tn_filters_on "$TN_HOST_IF")"
tap_check "SIGTERM: the clsact qdisc it created on $NEW_IF is gone" \
	sh -c "! tc qdisc show dev '$NEW_IF' | grep -q clsact"

# --- a glob alone, matching nothing at start ----------------------------------
ip link del "$NEW_IF" 2>/dev/null
log=$tmp/agent-glob.jsonl
: >"$log"
"$BUILD/tlswatch" run --iface "lx$$*" --port 443 --json-log "$log" --db "$tmp/inv2.db" \
	--no-active-check 2>"$log.stderr" &
TN_AGENT_PID=$!
tn_bg "$TN_AGENT_PID"
tn_wait_grep 15 '"state":"started"' "$log" ||
	{ sed 's/^/#   /' "$log.stderr"; tn_bail "glob alone: the agent did not start"; }
tap_eq "glob alone: started with no interface (\"interfaces\":[])" 1 \
	"$(grep '"state":"started"' "$log" | grep -c '"interfaces":\[\]')"
add_veth "$NEW_IF"
wait_event 10 "$(agent_event interface_added "$NEW_IF")" "glob alone: the interface that appears is attached"
handshake "$NEW_PEER4" || tap_fail "handshake through $NEW_IF (glob alone) failed"
wait_event 10 "$(handshake_from "$NEW_IF")" "glob alone: its handshake is reported"
tn_stop_agent
tap_eq "glob alone: SIGTERM, exit 0" 0 "$?"
tap_eq "glob alone: no filter left on $NEW_IF" 0 "$(tn_filters_on "$NEW_IF")"

echo "# $TN_TESTS tests, $TN_FAILED failed"
