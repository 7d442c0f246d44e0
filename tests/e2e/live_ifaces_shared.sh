#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Interfaces contended: two agents on one interface, and a storm of new
# interfaces.
#
# Two agents (a network namespace joined to the host by a veth pair, a
# real openssl s_server inside):
#   - a second agent given the first one's interface by name exits 4 with
#     "IF: another tlswatch agent watches this interface; leaving it to
#     that one" before it creates its --json-log or its --db (it made
#     both, then refused), and leaves the first one's filters and qdisc alone: the
#     first keeps reporting handshakes, and its filters are still there
#     after the second exited;
#   - an interface that appears while two agents watch the same glob is
#     attached by the one that gets to it first (the other one is stopped
#     with SIGSTOP until then); the other one reports an `error` event
#     naming it, once, skips it, runs on, and exits 0 leaving the filters
#     of the first in place; so does an agent whose glob matches it at
#     start (the error event after "started");
#   - SIGKILL of the first agent leaves its filters; a restart replaces
#     them (one per direction, the qdisc still known as a tlswatch one)
#     and reports handshakes; SIGTERM then leaves nothing.
#
# A storm of interfaces (an agent inside the test namespace, --iface
# 'zh*', so that it sees none of the host's interfaces):
#   - 100 veth pairs created at once (one `ip -batch`): every host end is
#     attached (one filter per direction) and announced once; an agent
#     without --iface there (the default set: every interface up) exits 4
#     naming one of them, creates no file, and leaves their filters alone;
#   - while the agent is stopped (SIGSTOP), the 100 are deleted and made
#     again, with rounds of churn in between, far more notifications than
#     its receive buffer holds: once it runs again it says they were lost,
#     lists the links again, announces 100 removals and 100 additions, and
#     every new host end has its filters; no error event;
#   - SIGTERM exits 0 and leaves no filter on any of them.
#
# Needs root, openssl, ip, tc, ss. TAP output; exits non-zero on any failure.
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
export BUILD
. tests/e2e/lib_netns.sh

tn_require_root live_ifaces_shared
tn_require_cmds openssl ip tc ss
tn_require_tlswatch

tmp=$(tn_tmpdir)
tn_ec_cert "$tmp" shared.test

tn_setup shr
GLOB_IF=sg$$a          # matches both agents' glob
GLOB_PEER=sg$$p
GLOB_HOST4=$TN_NET4.17
GLOB_PEER4=$TN_NET4.18
tn_on_exit "ip link del $GLOB_IF"

tn_s_server_everywhere "$tmp"   # every veth of the namespace

handles_on() { # iface: the handles of the tlswatch filters, sorted, unique
	{ tc filter show dev "$1" ingress; tc filter show dev "$1" egress; } 2>/dev/null |
		grep -o "pref $TN_TC_PRIO .*handle 0x[0-9a-f]*" | grep -o '0x[0-9a-f]*$' | sort -u | tr '\n' ' '
}
handshakes() { # peer address, count
	local i
	for i in $(seq "$2"); do
		echo | timeout 10 openssl s_client -connect "$1:443" \
			-servername shared.test >/dev/null 2>&1 ||
			tap_fail "handshake $i with $1 failed"
	done
}
count_in() { # log, regex
	grep -Ec "$2" "$1"
}
wait_count() { # seconds, log, regex, count: until the log has that many lines
	tn_wait_cmd "$1" sh -c "[ \$(grep -Ec '$3' '$2') -ge $4 ]"
	count_in "$2" "$3"
}
common=(--port 443 --no-metrics --no-active-check --stats-interval 1)

# --- a second agent on a watched interface ---------------------------------
log1=$tmp/first.jsonl
tn_start_agent "$log1" --no-active-check --no-metrics --db "$tmp/first.db" \
	--iface "sg$$*" || tn_bail "the first agent did not start"
A1=$TN_AGENT_PID
handshakes "$TN_PEER4" 1
tap_eq "first agent: its handshake is reported" 1 \
	"$(wait_count 10 "$log1" "$(tn_handshake_on "$TN_HOST_IF")" 1)"

log2=$tmp/second.jsonl
timeout 30 "$BUILD/tlswatch" run --iface "$TN_HOST_IF" "${common[@]}" \
	--json-log "$log2" --db "$tmp/second.db" 2>"$log2.stderr"
tap_eq "second agent on the same interface: exit 4" 4 "$?"
tap_eq "second agent: says which interface and why" \
	"tlswatch run: $TN_HOST_IF: another tlswatch agent watches this interface; leaving it to that one" \
	"$(grep -v '^tlswatch: ' "$log2.stderr" | tail -1)"
tap_eq "second agent: refused before creating its log or its database" "" \
	"$(cd "$tmp" && ls -A | grep -Ex 'second\.(jsonl|db.*)')"
tap_eq "second agent gone: the first one's filters are still there" 2 "$(tn_filters_on "$TN_HOST_IF")"
tap_eq "second agent gone: the first one's handle (its own qdisc)" "0x7477 " \
	"$(handles_on "$TN_HOST_IF")"
tap_check "second agent gone: the clsact qdisc is still there" \
	sh -c "tc qdisc show dev '$TN_HOST_IF' | grep -q clsact"
handshakes "$TN_PEER4" 3
tap_eq "first agent: still reports every handshake" 4 \
	"$(wait_count 10 "$log1" "$(tn_handshake_on "$TN_HOST_IF")" 4)"

# --- an interface two agents' globs match -------------------------------------
GLOB_PID=
start_glob_agent() { # log: an agent given only the glob; sets GLOB_PID
	"$BUILD/tlswatch" run --iface "sg$$*" "${common[@]}" --json-log "$1" \
		--db "$tmp/third.db" 2>"$1.stderr" &
	GLOB_PID=$!
	tn_bg "$GLOB_PID"
	tn_wait_grep 15 '"state":"started"' "$1" ||
		{ sed 's/^/#   /' "$1.stderr"; tn_bail "the glob agent ($1) did not start"; }
}
log3=$tmp/third.jsonl
start_glob_agent "$log3"
A3=$GLOB_PID
kill -STOP "$A3"
ip link add "$GLOB_IF" type veth peer name "$GLOB_PEER" netns "$TN_NS" &&
	ip addr add "$GLOB_HOST4/28" dev "$GLOB_IF" &&
	ip link set "$GLOB_IF" up &&
	ip -n "$TN_NS" addr add "$GLOB_PEER4/28" dev "$GLOB_PEER" &&
	ip -n "$TN_NS" link set "$GLOB_PEER" up || tn_bail "cannot create veth $GLOB_IF"
tap_eq "glob: the first agent attaches to the new interface" 1 \
	"$(wait_count 10 "$log1" "\"state\":\"interface_added\".*\"message\":\"$GLOB_IF\"" 1)"
kill -CONT "$A3"
busy="$GLOB_IF: another tlswatch agent watches this interface; leaving it to that one"
tap_eq "glob: the other agent reports an error event naming it" 1 \
	"$(wait_count 10 "$log3" "\"state\":\"error\".*\"message\":\"$busy\"" 1)"
tn_wait_cmd 5 sh -c "ip -br link show dev '$GLOB_IF' | grep -q LOWER_UP" ||
	tn_bail "veth $GLOB_IF has no carrier"
handshakes "$GLOB_PEER4" 2
tap_eq "glob: the first agent reports its handshakes" 2 \
	"$(wait_count 10 "$log1" "$(tn_handshake_on "$GLOB_IF")" 2)"
TN_AGENT_PID=$A3
tn_stop_agent
tap_eq "glob: the other agent exits 0 on SIGTERM" 0 "$?"
tap_eq "glob: it reported no handshake and no interface_added" 0 \
	"$(count_in "$log3" '"event":"handshake"|"state":"interface_added"')"
tap_eq "glob: the first agent's filters on $GLOB_IF are still there" 2 "$(tn_filters_on "$GLOB_IF")"
log6=$tmp/glob-later.jsonl
start_glob_agent "$log6"
A6=$GLOB_PID
tap_eq "glob at start: the match another agent watches is an error event" 1 \
	"$(wait_count 10 "$log6" "\"state\":\"error\".*\"message\":\"$busy\"" 1)"
tap_eq "glob at start: the error comes after started" started \
	"$(grep -o '"state":"[a-z_]*"' "$log6" | head -1 | cut -d'"' -f4)"
TN_AGENT_PID=$A6
tn_stop_agent
tap_eq "glob at start: SIGTERM, exit 0" 0 "$?"
tap_eq "glob at start: one error, no handshake, no interface_added" "1 0" \
	"$(count_in "$log6" '"state":"error"') $(count_in "$log6" '"event":"handshake"|"state":"interface_added"')"
tap_eq "glob at start: the first agent's filters on $GLOB_IF are still there" 2 \
	"$(tn_filters_on "$GLOB_IF")"
handshakes "$GLOB_PEER4" 1
tap_eq "glob: the first agent still sees $GLOB_IF" 3 \
	"$(wait_count 10 "$log1" "$(tn_handshake_on "$GLOB_IF")" 3)"

# --- a killed agent's filters are replaced ------------------------------------
{ kill -KILL "$A1"; wait "$A1"; } 2>/dev/null
tap_eq "SIGKILL: the filters stay" 2 "$(tn_filters_on "$TN_HOST_IF")"
log4=$tmp/restart.jsonl
tn_start_agent "$log4" --no-active-check --no-metrics --db "$tmp/first.db" ||
	tn_bail "the restarted agent did not start"
tap_eq "restart: one filter per direction (replaced, not added)" 2 "$(tn_filters_on "$TN_HOST_IF")"
tap_eq "restart: the killed agent's qdisc is known as a tlswatch one" "0x7477 " \
	"$(handles_on "$TN_HOST_IF")"
handshakes "$TN_PEER4" 1
tap_eq "restart: its handshake is reported" 1 \
	"$(wait_count 10 "$log4" "$(tn_handshake_on "$TN_HOST_IF")" 1)"
tn_stop_agent
tap_eq "restart: SIGTERM, exit 0" 0 "$?"
tap_eq "restart: SIGTERM leaves no filter" 0 "$(tn_filters_on "$TN_HOST_IF")"
tap_check "restart: SIGTERM leaves no clsact qdisc" \
	sh -c "! tc qdisc show dev '$TN_HOST_IF' | grep -q clsact"

# --- a storm of interfaces ------------------------------------------------------
STORM=100
CHURN_ROUNDS=8         # about 4.5 KiB of notifications a pair and round
storm_batch() { # add|del: every pair, one ip -batch
	local i
	for i in $(seq "$STORM"); do
		if [ "$1" = add ]; then
			echo "link add zh$i up type veth peer name zp$i"
		else
			echo "link del zh$i"
		fi
	done >"$tmp/storm.$1"
	ip -n "$TN_NS" -batch "$tmp/storm.$1" || tn_bail "ip -batch ($1) failed"
}
storm_filters() { # [total]: host ends with one tlswatch filter per direction,
	# or (total) the tlswatch filters on all of them
	local i f n=0 all=0
	for i in $(seq "$STORM"); do
		f=$(tn_filters_on "zh$i" "$TN_NS")
		all=$((all + f))
		[ "$f" = 2 ] && n=$((n + 1))
	done
	[ "${1:-}" = total ] && echo "$all" || echo "$n"
}
log5=$tmp/storm.jsonl
: >"$log5"
ip netns exec "$TN_NS" "$BUILD/tlswatch" run --iface 'zh*' "${common[@]}" \
	--json-log "$log5" --db "$tmp/storm.db" 2>"$log5.stderr" &
A5=$!
tn_bg "$A5"
tn_wait_grep 15 '"state":"started"' "$log5" ||
	{ sed 's/^/#   /' "$log5.stderr"; tn_bail "the storm agent did not start"; }
storm_batch add
tap_eq "storm: $STORM interfaces created at once, all announced" "$STORM" \
	"$(wait_count 30 "$log5" '"state":"interface_added"' "$STORM")"
tap_eq "storm: all $STORM have one filter per direction" "$STORM" "$(storm_filters)"
# the default set (every interface up there) holds the storm agent's
timeout 30 ip netns exec "$TN_NS" "$BUILD/tlswatch" run "${common[@]}" \
	--json-log "$tmp/default.jsonl" --db "$tmp/default.db" 2>"$tmp/default.stderr"
tap_eq "default set with another agent's interfaces: exit 4" 4 "$?"
tap_check "default set: the message names one of them" \
	grep -Eqx 'tlswatch run: zh[0-9]+: another tlswatch agent watches this interface; leaving it to that one' \
	"$tmp/default.stderr"
tap_eq "default set: refused before creating its log or its database" "" \
	"$(cd "$tmp" && ls -A | grep -Ex 'default\.(jsonl|db.*)')"
tap_eq "default set: the storm agent's filters are all still there" "$STORM" "$(storm_filters)"

kill -STOP "$A5"
storm_batch del
for r in $(seq "$CHURN_ROUNDS"); do
	storm_batch add
	storm_batch del
done
storm_batch add
kill -CONT "$A5"
tap_eq "storm while stopped: $STORM removals announced" "$STORM" \
	"$(wait_count 30 "$log5" '"state":"interface_removed"' "$STORM")"
tap_eq "storm while stopped: $STORM more additions announced" $((2 * STORM)) \
	"$(wait_count 30 "$log5" '"state":"interface_added"' $((2 * STORM)))"
tap_eq "storm while stopped: the notifications were lost and the links listed again" 1 \
	"$(grep -c 'interface notifications lost (netlink receive buffer full): listing the interfaces again' "$log5.stderr")"
tap_eq "storm while stopped: all $STORM new ones have one filter per direction" "$STORM" \
	"$(storm_filters)"
tap_eq "storm: no error event" 0 "$(count_in "$log5" '"state":"error"')"
kill -TERM "$A5"
tn_wait_cmd 10 sh -c "! kill -0 $A5 2>/dev/null"
wait "$A5"
tap_eq "storm: SIGTERM, exit 0" 0 "$?"
tap_eq "storm: SIGTERM leaves no filter on any of them" 0 "$(storm_filters total)"

echo "# $TN_TESTS tests, $TN_FAILED failed"
