#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Clock jumps: no crash, no false spike, no lost handshake.
#
# Captures: a capture of real handshakes (scripts/make-bench-capture.py
# --dense from the committed ones, 181 connections) spread over ten minutes,
# then rewritten by scripts/make-clock-jumps.py so that its clock steps back
# an hour, jumps ten years ahead and twenty back, or zigzags by a day.
# `analyze` of each must exit 0 with no spike event; every connection of
# the steady capture is reported (the same clients); with steps back and
# zigzags the same handshake count and outcomes exactly. A forward jump
# longer than the idle timeout ends the connections open across it as
# `incomplete` (the capture says they were idle): counted, not lost.
#
# Live: `tlswatch run` under libfaketime, whose offset (a file) is
# rewritten while it runs: the wall clock jumps ten years ahead, then ten
# years back, while real handshakes go through a veth into a test
# namespace; a handshake (a Python client) pausing 4 s after the server's
# first flight is open across each jump. Every
# handshake must be reported "ok", none incomplete, no
# spike, the agent still stops cleanly. The host's clock is never touched:
# libfaketime changes what the agent's own calls see.
#
# Needs root, openssl, ip, libfaketime (Debian package faketime). TAP.
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
export BUILD
. tests/e2e/lib_netns.sh

tn_require_root clock_jumps
tn_require_cmds openssl ip
tn_require_tlswatch
PY=/usr/bin/python3
TW=$BUILD/tlswatch
FAKETIME_LIB=$(ls /usr/lib/*/faketime/libfaketimeMT.so.1 2>/dev/null | head -1)
[ -n "$FAKETIME_LIB" ] || tn_bail "libfaketime is missing (run scripts/install-deps.sh)"
tmp=$(tn_tmpdir)

# --- captures ------------------------------------------------------------
seeds=
for s in tls13_ecdsa tls12_rsa tls12_staple tls12_ipv6 tls12_reject_unknown_ca \
	tls13_reject_unknown_ca aborted; do
	seeds="$seeds tests/data/captures/$s.pcap"
done
$PY scripts/make-bench-capture.py --dense "$tmp/dense.pcap" 1 $seeds >/dev/null ||
	tn_bail "make-bench-capture.py failed"

summary_field() { # jsonl, key: one top-level value of the summary
	tail -1 "$1" | $PY -c 'import json,sys; print(json.dumps(json.loads(sys.stdin.read())[sys.argv[1]], sort_keys=True))' "$2"
}
clients() { # jsonl: the distinct client endpoints of the handshake events
	grep '"event":"handshake"' "$1" | grep -o '"client":{[^}]*}' | sort -u
}

for mode in steady backwards years zigzag; do
	$PY scripts/make-clock-jumps.py "$mode" "$tmp/dense.pcap" "$tmp/$mode.pcap" 600 \
		>/dev/null || tn_bail "make-clock-jumps.py $mode failed"
	"$TW" analyze --json "$tmp/$mode.pcap" >"$tmp/$mode.jsonl" 2>"$tmp/$mode.err"
	tap_eq "$mode: analyze exits 0" 0 "$?"
	tap_eq "$mode: no spike" 0 "$(grep -c '"event":"spike"' "$tmp/$mode.jsonl")"
done
tap_eq "steady: every connection is a handshake" 181 "$(summary_field "$tmp/steady.jsonl" handshakes)"
for mode in backwards zigzag; do
	tap_eq "$mode: the same handshakes as steady" \
		"$(summary_field "$tmp/steady.jsonl" handshakes)" "$(summary_field "$tmp/$mode.jsonl" handshakes)"
	tap_eq "$mode: the same outcomes as steady" \
		"$(summary_field "$tmp/steady.jsonl" outcome_counts)" "$(summary_field "$tmp/$mode.jsonl" outcome_counts)"
done
tap_eq "years: every client of steady is reported" \
	"$(clients "$tmp/steady.jsonl")" "$(clients "$tmp/years.jsonl")"

# --- live, with the wall clock moving under the agent ------------------------
tn_setup clk
tn_make_pki "$tmp/pki"
tn_start_rsa_server "$tmp/pki"
log=$tmp/agent.jsonl
: >"$log"
echo "+0" >"$tmp/faketime"
# the offset file is read again at most every second; CLOCK_MONOTONIC is
# left alone, as a real clock step leaves it
LD_PRELOAD=$FAKETIME_LIB FAKETIME_TIMESTAMP_FILE=$tmp/faketime \
	FAKETIME_CACHE_DURATION=1 FAKETIME_DONT_FAKE_MONOTONIC=1 \
	"$TW" run --iface "$TN_HOST_IF" --port 443 --json-log "$log" \
	--no-active-check --stats-interval 1 2>"$log.stderr" &
TN_AGENT_PID=$!
tn_bg "$TN_AGENT_PID"
tn_wait_grep 15 '"state":"started"' "$log" || tn_bail "the agent did not start"

made=0
slow_handshake() { # ready file, go file: pauses between the server's flight and its answer
	SLOW_HANDSHAKE_READY=$1 $PY tests/e2e/lib/slow_handshake.py "$TN_PEER4" 443 rsa.test \
		"file:$2" 2>>"$tmp/slow.err"
}
burst() { # n handshakes
	local i
	for i in $(seq "$1"); do
		tn_rsa_handshake && made=$((made + 1))
	done
}
stats_year() { # the year of the last stats event
	grep '"state":"stats"' "$log" | tail -1 | sed -n 's/.*"ts":"\([0-9]*\)-.*/\1/p'
}
now_year=$(date -u +%Y)
jump() { # offset, expected year: the clock jumps during a slow handshake
	local slow
	rm -f "$tmp/ready" "$tmp/go"
	slow_handshake "$tmp/ready" "$tmp/go" &
	slow=$!
	tn_bg "$slow"
	# its server flight is in, it waits (until the agent's clock jumped)
	tn_wait_file 10 "$tmp/ready" || tap_fail "the slow handshake's server flight came in"
	echo "$1" >"$tmp/faketime"
	tn_wait_cmd 5 sh -c "grep '\"state\":\"stats\"' '$log' | tail -1 | grep -q '\"ts\":\"$2'"
	touch "$tmp/go"
	wait "$slow" && made=$((made + 1))
}
burst 10
jump +3650d "$((now_year + 10))"
tap_eq "live: the agent's wall clock jumped ten years ahead" "$((now_year + 10))" "$(stats_year)"
burst 10
jump -3650d "$((now_year - 10))"
tap_eq "live: then ten years back" "$((now_year - 10))" "$(stats_year)"
burst 10
tn_wait_count 10 '"event":"handshake"' "$log" "$made"
tn_stop_agent
tap_eq "live: the agent stops cleanly (exit 0)" 0 "$?"
tap_eq "live: 32 handshakes made (2 slow)" 32 "$made"
tap_eq "live: every one reported ok" "$made" "$(grep '"event":"handshake"' "$log" | grep -c '"outcome":"ok"')"
tap_eq "live: no other handshake event (incomplete, aborted)" "$made" "$(grep -c '"event":"handshake"' "$log")"
tap_eq "live: no spike" 0 "$(grep -c '"event":"spike"' "$log")"

echo "# $TN_TESTS tests, $TN_FAILED failed"
