#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Every connection the kernel side tracks ends as a `handshake` event or as
# a counted loss: flows_tracked == handshakes + flows_not_tls (+
# flows_midstream_tls, none here), exactly,
# with ringbuf_lost 0 (a ring-buffer loss is counted in ringbuf_lost).
#
# On a test network namespace joined to the host by a veth pair:
#  1. port reuse: real TLS 1.2 handshakes from a few fixed client ports,
#     each connection reset (SO_LINGER 0, no TIME_WAIT) once the agent has
#     decided it, then the next one from the same port. The kernel side
#     stops copying a decided connection, so the agent never sees its RST:
#     the next connection on the same addresses and ports must start a new
#     flow (flows_reopened), not vanish into the old, decided one.
#  2. load: `openssl s_time -new` (full handshakes, as fast as it goes, for
#     LOAD_SECONDS) against `openssl s_server`.
#  3. ring-buffer pressure: a 16 KiB ring (--ring-buffer 16) and the agent
#     frozen (SIGSTOP) through a burst of handshakes, so the ring must
#     overflow: every client still completes (the kernel side never holds a
#     packet), the losses are counted (ringbuf_lost), and once thawed the
#     agent carries on and reports the next handshake whole.
# Needs root. TAP output; exits non-zero on any failure.
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
export BUILD
. tests/e2e/lib_netns.sh

tn_require_root live_accounting
tn_require_cmds openssl ip ss timeout
tn_require_tlswatch

PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
REUSE_PORTS=5          # client ports, each used REUSE_ROUNDS times
REUSE_ROUNDS=30
LOAD_SECONDS=3

tmp=$(tn_tmpdir)
pki=$tmp/pki
tn_make_pki "$pki"
tn_setup acct
tn_start_s_server "$tmp/server.log" -cert "$pki/ecdsa.test.crt" \
	-key "$pki/ecdsa.test.key" -cert_chain "$pki/inter.crt"

# Handshake events in LOG.
handshakes_in() { # log
	grep -c '"event":"handshake"' "$1"
}

# --- 1. port reuse -----------------------------------------------------------
# Client ports above the ephemeral range (32768-60999), so nothing else on
# the host picks them meanwhile.
base_port=$((61000 + ($$ % 400) * 10))
log=$tmp/reuse.jsonl
tn_start_agent "$log" --no-active-check --stats-interval 3600 ||
	tn_bail "tlswatch run did not start"
out=$(timeout 120 "$PY" - "$TN_HOST4" "$base_port" "$REUSE_PORTS" "$REUSE_ROUNDS" \
	"$TN_PEER4" <<'EOF'
import socket, ssl, struct, sys, time
host, base, nports, rounds, server = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_2
ok = failed = 0
for r in range(rounds):
    for p in range(nports):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.settimeout(5)
        try:
            s.bind((host, base + p))
            s.connect((server, 443))
            t = ctx.wrap_socket(s, server_hostname="ecdsa.test")
            ok += 1
        except OSError:
            failed += 1
            s.close()
            continue
        # the agent decides a TLS 1.2 handshake at the server's Finished,
        # which the kernel copied before the client saw it; it then reads
        # the ring within 50 ms and tells the kernel to stop copying
        time.sleep(0.15)
        t.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        t.close()  # RST: no TIME_WAIT, the port is free at once
print(ok, failed)
EOF
)
read -r ok failed <<<"$out"
total=$((REUSE_PORTS * REUSE_ROUNDS))
tn_wait_count 15 '"event":"handshake"' "$log" "$total"
tn_stop_agent
tap_eq "port reuse: agent exits 0 on SIGTERM" 0 "$?"
tap_eq "port reuse: every handshake from a reused port completes" "$total 0" "${ok:-?} ${failed:-?}"
tap_eq "port reuse: the kernel side tracked each connection" "$total" "$(tn_agent_counter "$log" flows_tracked)"
tap_eq "port reuse: each is reported" "$total" "$(handshakes_in "$log")"
tap_eq "port reuse: handshakes counter" "$total" "$(tn_agent_counter "$log" handshakes)"
tap_eq "port reuse: every one ok" "$total" "$(grep -c '"event":"handshake".*"outcome":"ok"' "$log")"
tap_eq "port reuse: each connection after the first on a port reopened a flow" \
	$((total - REUSE_PORTS)) "$(tn_agent_counter "$log" flows_reopened)"
tap_eq "port reuse: no ring buffer loss" 0 "$(tn_agent_counter "$log" ringbuf_lost)"

# --- 2. load -------------------------------------------------------------------
log=$tmp/load.jsonl
tn_start_agent "$log" --no-active-check --stats-interval 3600 ||
	tn_bail "tlswatch run did not start"
timeout $((LOAD_SECONDS + 30)) openssl s_time -connect "$TN_PEER4:443" -new \
	-time "$LOAD_SECONDS" >"$tmp/s_time.log" 2>&1
tap_eq "load: openssl s_time ran" 0 "$?"
# every connection the kernel side tracked is a handshake the agent
# reports (else the count asserted below says what else it was)
tn_wait_count 15 '"event":"handshake"' "$log" "$(tn_kcounter "$TN_AGENT_PID" flows_tracked)"
tn_stop_agent
tap_eq "load: agent exits 0 on SIGTERM" 0 "$?"
tracked=$(tn_agent_counter "$log" flows_tracked)
hs=$(tn_agent_counter "$log" handshakes)
not_tls=$(tn_agent_counter "$log" flows_not_tls)
midstream=$(tn_agent_counter "$log" flows_midstream_tls)
lost=$(tn_agent_counter "$log" ringbuf_lost)
tn_note "load: flows_tracked $tracked handshakes $hs flows_not_tls $not_tls ringbuf_lost $lost"
if [ "${tracked:-0}" -ge 100 ] 2>/dev/null; then
	tap_ok "load: at least 100 connections tracked ($tracked)"
else
	tap_fail "load: at least 100 connections tracked" "got: $tracked; $(tail -2 "$tmp/s_time.log")"
fi
tap_eq "load: no ring buffer loss" 0 "$lost"
tap_eq "load: flows_tracked == handshakes + flows_not_tls + flows_midstream_tls" "$tracked" \
	$((${hs:-0} + ${not_tls:-0} + ${midstream:-0}))
tap_eq "load: every handshake event is in the log" "$hs" "$(handshakes_in "$log")"

# --- 3. ring-buffer pressure ----------------------------------------------------
BURST=30
log=$tmp/pressure.jsonl
tn_start_agent "$log" --no-active-check --stats-interval 3600 --ring-buffer 16 ||
	tn_bail "tlswatch run --ring-buffer 16 did not start"
kill -STOP "$TN_AGENT_PID"
burst_ok=0
for _ in $(seq "$BURST"); do
	timeout 10 openssl s_client -connect "$TN_PEER4:443" -servername ecdsa.test \
		-tls1_2 </dev/null >/dev/null 2>&1 && burst_ok=$((burst_ok + 1))
done
kill -CONT "$TN_AGENT_PID"
tap_eq "pressure: every client of the burst completed while the agent was frozen" \
	"$BURST" "$burst_ok"
sleep 0.5
timeout 10 openssl s_client -connect "$TN_PEER4:443" -servername after.test \
	-tls1_2 </dev/null >/dev/null 2>&1
tap_eq "pressure: a handshake after the burst completes" 0 "$?"
if tn_wait_grep 10 '"event":"handshake".*"sni":"after.test".*"outcome":"ok"' "$log"; then
	tap_ok "pressure: the agent carries on and reports the next handshake whole"
else
	tap_fail "pressure: the agent carries on and reports the next handshake whole" \
		"$(grep -c '"event":"handshake"' "$log") handshake events"
fi
tn_stop_agent
tap_eq "pressure: agent exits 0 on SIGTERM" 0 "$?"
lost=$(tn_agent_counter "$log" ringbuf_lost)
if [ "${lost:-0}" -gt 0 ] 2>/dev/null; then
	tap_ok "pressure: the overflow is counted (ringbuf_lost $lost)"
else
	tap_fail "pressure: the overflow is counted" "ringbuf_lost: $lost"
fi
tap_eq "pressure: the stopped event carries the counters" 1 \
	"$(grep -c '"state":"stopped".*"ringbuf_lost"' "$log")"

echo "# $TN_TESTS tests, $TN_FAILED failed"
[ "$TN_FAILED" -eq 0 ]
