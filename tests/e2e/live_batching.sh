#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Batched ring-buffer wakeups hold no event back and lose none.
#
# The kernel side submits most records without waking the agent; the agent
# reads the ring at least every LIVE_MAX_BATCH_MS (25 ms) and drains it
# after detaching on SIGTERM (userspace/live/live.h). Two checks, on a test
# network namespace joined to the host by a veth pair:
#  1. prompt: one real TLS 1.2 `openssl s_client` handshake with an
#     `openssl s_server` (ecdsa.test) on an otherwise idle agent (no stats
#     timer within the test: --stats-interval 3600). Its handshake event
#     must be in the JSON log within 5 s of s_client's exit (a hundred
#     times the documented bound: a bound, not a speed figure; speed is in
#     `make bench`), with exactly the values of that handshake.
#  2. nothing lost on stop: a burst of real TLS 1.2 handshakes
#     (scripts/lib/live_load.py, 2 client processes, 400/s for 1 s), then
#     SIGTERM at once; once with the agent running, once with the agent
#     stopped (SIGSTOP) through the burst, so that all of it waits unread
#     in the ring buffer when SIGTERM (and SIGCONT) come. Every handshake the load client completed must be
#     reported, ok, exactly once, with no ring buffer loss. TLS 1.2, because
#     its outcome is decided by the server's Finished, which the TC program
#     has copied before the client can see it: when the client returns,
#     every record the event needs is in the ring.
#
# Needs root. TAP output; exits non-zero on any failure.
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
export BUILD
. tests/e2e/lib_netns.sh

tn_require_root live_batching
tn_require_cmds openssl python3 ip ss timeout date
tn_require_tlswatch

PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
PROMPT_LIMIT_S=5
BURST_RATE=400

tmp=$(tn_tmpdir)
pki=$tmp/pki
tn_make_pki "$pki"

tn_setup bat
read -r one4 _ < <(tn_peer_addr 3)
read -r burst4 _ < <(tn_peer_addr 4)

ip netns exec "$TN_NS" openssl s_server -quiet -www -accept "$one4:443" \
	-cert "$pki/ecdsa.test.crt" -key "$pki/ecdsa.test.key" -cert_chain "$pki/inter.crt" \
	>"$tmp/server.log" 2>&1 &
tn_bg $!
ip netns exec "$TN_NS" "$PY" scripts/lib/live_load.py server --addr "$burst4" \
	--cert "$pki/ecdsa.test.crt" --key "$pki/ecdsa.test.key" --chain "$pki/inter.crt" \
	--workers 2 >"$tmp/load-server.log" 2>&1 &
tn_bg $!
for a in "$one4" "$burst4"; do
	tn_wait_cmd 10 sh -c "ip netns exec '$TN_NS' ss -Hltn | grep -q '$a:443 '" ||
		tn_bail "server on $a:443 did not start"
done

# Handshake events of the log to SERVER as "sni|version|outcome|server"
# lines, and their count on stdout's last line.
hs_lines() { # log, server address
	"$PY" -c '
import json, sys
n = 0
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e.get("event") == "handshake" and e["server"]["ip"] == sys.argv[2]:
        n += 1
        print("%s|%s|%s|%s/%s" % (e.get("sni"), e.get("version"), e.get("outcome"),
                                  e["server"]["ip"], e["server"]["port"]))
print(n)' "$1" "$2"
}

# A counter of the agent's "stopped" event (the JSON line given).
stopped_counter() { # event line, name
	printf '%s' "$1" | "$PY" -c \
		'import json,sys; print(json.load(sys.stdin).get("counters",{}).get(sys.argv[1],"missing"))' "$2" 2>/dev/null
}

# --- 1. one handshake on an idle agent ---------------------------------------
log=$tmp/one.jsonl
tn_start_agent "$log" --no-active-check --stats-interval 3600 ||
	tn_bail "tlswatch run did not start"
sleep 1     # idle: whatever the start woke up has settled
printf 'GET / HTTP/1.0\r\n\r\n' |
	timeout 10 openssl s_client -connect "$one4:443" -tls1_2 -servername ecdsa.test \
		>"$tmp/client.log" 2>&1
tap_eq "the TLS 1.2 handshake with ecdsa.test completes" 0 "$?"
t_done=$(date +%s.%N)
# bounded: PROMPT_LIMIT_S in 0.01 s steps
t_seen=''
for _ in $(seq $((PROMPT_LIMIT_S * 100))); do
	if grep -q '"event":"handshake"' "$log"; then
		t_seen=$(date +%s.%N)
		break
	fi
	sleep 0.01
done
if [ -n "$t_seen" ]; then
	delay=$("$PY" -c "print('%.3f' % ($t_seen - $t_done))")
	tap_ok "the handshake event is logged within ${PROMPT_LIMIT_S} s (after $delay s)"
	tn_note "one handshake on an idle agent: event logged $delay s after s_client exited"
else
	tap_fail "the handshake event is logged within ${PROMPT_LIMIT_S} s" \
		"log: $(tail -3 "$log")"
fi
tap_eq "exactly that handshake is reported (sni|version|outcome|server)" \
	"ecdsa.test|TLS1.2|ok|$one4/443
1" "$(hs_lines "$log" "$one4")"
tn_stop_agent
tap_eq "agent exits 0 on SIGTERM" 0 "$?"

# --- 2. a burst, then SIGTERM at once ------------------------------------------
# Twice: the agent running through the burst, and the agent stopped
# (SIGSTOP) through it, so that the whole burst waits unread in the ring
# when SIGTERM and SIGCONT come.
burst() { # label, stop the agent during the burst (0|1)
	local label=$1 freeze=$2 log=$tmp/burst-$1.jsonl out rc sent failed got stopped
	tn_start_agent "$log" --no-active-check --stats-interval 3600 ||
		tn_bail "$label: tlswatch run did not start"
	[ "$freeze" = 1 ] && kill -STOP "$TN_AGENT_PID"
	out=$(timeout 30 "$PY" scripts/lib/live_load.py client --addr "$burst4" --sni ecdsa.test \
		--rate "$BURST_RATE" --seconds 1 --workers 2 --tls 1.2)
	if [ "$freeze" = 1 ]; then
		kill -TERM "$TN_AGENT_PID"
		kill -CONT "$TN_AGENT_PID"
	fi
	tn_stop_agent
	rc=$?
	tap_eq "$label: agent exits 0 on SIGTERM right after the burst" 0 "$rc"
	read -r sent failed < <(printf '%s' "$out" | "$PY" -c \
		'import json,sys; d = json.load(sys.stdin); print(d["ok"], d["failed"])' 2>/dev/null)
	tap_eq "$label: the load client's handshakes all completed" 0 "${failed:-unknown}"
	if [ "${sent:-0}" -ge 100 ]; then
		tap_ok "$label: the burst made $sent handshakes (at least 100)"
	else
		tap_fail "$label: the burst made at least 100 handshakes" "load client: $out"
	fi
	got=$(hs_lines "$log" "$burst4")
	tap_eq "$label: every handshake of the burst is reported" "${sent:-0}" "$(printf '%s\n' "$got" | tail -1)"
	tap_eq "$label: every one of them ok, TLS 1.2, ecdsa.test" "${sent:-0}" \
		"$(printf '%s\n' "$got" | grep -c "^ecdsa.test|TLS1.2|ok|$burst4/443\$")"
	stopped=$(grep '"state":"stopped"' "$log" | tail -1)
	tap_eq "$label: no ring buffer record lost" 0 "$(stopped_counter "$stopped" ringbuf_lost)"
	tap_eq "$label: the stopped event counts them (handshakes_ok)" "${sent:-0}" \
		"$(stopped_counter "$stopped" handshakes_ok)"
}
burst running 0
burst frozen 1

echo "# $TN_TESTS tests, $TN_FAILED failed"
[ "$TN_FAILED" -eq 0 ]
