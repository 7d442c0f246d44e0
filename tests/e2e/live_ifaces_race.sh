#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Two agents for one interface (a network namespace joined to the host by
# a veth pair, a real openssl s_server inside):
#   - started at the same instant (both wait for one file, then exec):
#     exactly one runs and is attached (one filter per direction); the
#     other exits 4 with "IF: another tlswatch agent watches this
#     interface; leaving it to that one" and created neither its
#     --json-log nor its --db (the hold taken by the start check is the
#     exclusion: before, both passed the check and the second was refused
#     only when it attached, after creating both);
#   - an agent whose glob matches the interface the first one holds skips
#     it (an `error` event); once the first one stops, it takes the
#     interface over within 10 s (an `interface_added` event, one filter
#     per direction, the next handshake reported with it as source),
#     though the first one's stop sends it no link notification; SIGTERM
#     then leaves no filter.
#
# Needs root, openssl, ip, tc. TAP output; exits non-zero on any failure.
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
export BUILD
. tests/e2e/lib_netns.sh

tn_require_root live_ifaces_race
tn_require_cmds openssl ip tc
tn_require_tlswatch

tmp=$(tn_tmpdir)
tn_ec_cert "$tmp" race.test
tn_setup rce
tn_start_s_server "$tmp/server.log" -cert "$tmp/cert.pem" -key "$tmp/key.pem"

common=(--port 443 --no-metrics --no-active-check --stats-interval 1)
busy="$TN_HOST_IF: another tlswatch agent watches this interface; leaving it to that one"
mkdir -p "$tmp/err" || tn_bail "cannot create $tmp/err"

handshake() { # one handshake with the server through the veth
	echo | timeout 10 openssl s_client -connect "$TN_PEER4:443" \
		-servername race.test >/dev/null 2>&1 || tap_fail "a handshake failed"
}
exited() { # pid: 0 once it is gone
	! kill -0 "$1" 2>/dev/null
}

# --- two agents started at the same instant ------------------------------------
# Each waits (at most 10 s) for $tmp/go, then becomes the agent: they start
# within a poll interval (10 ms) of each other, far less than an agent
# takes from its start check to attaching.
racer() { # name: an agent waiting for $tmp/go; its pid in RACER_PID
	(
		for _ in $(seq 1000); do
			[ -e "$tmp/go" ] && break
			sleep 0.01
		done
		exec "$BUILD/tlswatch" run --iface "$TN_HOST_IF" "${common[@]}" \
			--json-log "$tmp/$1.jsonl" --db "$tmp/$1.db" 2>"$tmp/err/$1"
	) &
	RACER_PID=$!
	tn_bg "$RACER_PID"
}
racer one
P1=$RACER_PID
racer two
P2=$RACER_PID
sleep 0.3
: >"$tmp/go"
tn_wait_cmd 30 sh -c "! kill -0 $P1 2>/dev/null || ! kill -0 $P2 2>/dev/null" ||
	tn_bail "neither agent exited within 30 s"
if exited "$P1"; then
	loser=one win=two WIN_PID=$P2 LOSE_PID=$P1
else
	loser=two win=one WIN_PID=$P1 LOSE_PID=$P2
fi
wait "$LOSE_PID"
tap_eq "at once: the refused agent exits 4" 4 "$?"
tap_eq "at once: the refused agent says which interface and why" \
	"tlswatch run: $busy" "$(grep -v '^tlswatch: ' "$tmp/err/$loser" | tail -1)"
tap_eq "at once: the refused agent created neither its log nor its database" "" \
	"$(cd "$tmp" && ls -A | grep -Ex "$loser\.(jsonl|db.*)")"
tn_wait_grep 15 '"state":"started"' "$tmp/$win.jsonl" ||
	{ sed 's/^/#   /' "$tmp/err/$win"; tn_bail "the other agent did not start"; }
tap_check "at once: the other agent runs" kill -0 "$WIN_PID"
tap_eq "at once: it is attached, one filter per direction" 2 "$(tn_filters_on "$TN_HOST_IF")"
handshake
tap_check "at once: it reports the handshake" \
	tn_wait_grep 10 "$(tn_handshake_on "$TN_HOST_IF")" "$tmp/$win.jsonl"

# --- the interface taken over when its agent stops --------------------------------
logb=$tmp/glob.jsonl
: >"$logb"
"$BUILD/tlswatch" run --iface "$TN_HOST_IF*" "${common[@]}" --json-log "$logb" \
	--db "$tmp/glob.db" 2>"$tmp/err/glob" &
PB=$!
tn_bg "$PB"
tn_wait_grep 15 "\"state\":\"error\".*\"message\":\"$busy\"" "$logb" ||
	{ sed 's/^/#   /' "$tmp/err/glob"; tn_bail "the glob agent did not skip $TN_HOST_IF"; }
tap_eq "take-over: the glob agent skipped the held interface, no interface_added" 0 \
	"$(grep -c '"state":"interface_added"' "$logb")"
TN_AGENT_PID=$WIN_PID
tn_stop_agent
tap_eq "take-over: the first agent exits 0 on SIGTERM" 0 "$?"
tap_check "take-over: the glob agent attaches it within 10 s" \
	tn_wait_grep 10 "\"state\":\"interface_added\".*\"message\":\"$TN_HOST_IF\"" "$logb"
tap_eq "take-over: one filter per direction" 2 "$(tn_filters_on "$TN_HOST_IF")"
handshake
tap_check "take-over: the glob agent reports the next handshake" \
	tn_wait_grep 10 "$(tn_handshake_on "$TN_HOST_IF")" "$logb"
tap_eq "take-over: one error event, one interface_added" "1 1" \
	"$(grep -c '"state":"error"' "$logb") $(grep -c '"state":"interface_added"' "$logb")"
TN_AGENT_PID=$PB
tn_stop_agent
tap_eq "take-over: SIGTERM, exit 0" 0 "$?"
tap_eq "take-over: SIGTERM leaves no filter" 0 "$(tn_filters_on "$TN_HOST_IF")"

echo "# $TN_TESTS tests, $TN_FAILED failed"
