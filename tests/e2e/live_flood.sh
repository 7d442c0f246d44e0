#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Half-open and garbage floods against a watched port, while real
# handshakes go on.
#
# On a test network namespace joined to the host by a veth pair: a server
# that never answers (a listener that never accepts, on address A) takes
# FLOOD connections that each send a real ClientHello and stop, and
# GARBAGE connections that each send 1,000 random bytes; meanwhile REAL
# `openssl s_client` handshakes with `openssl s_server` (address B).
# The agent runs with --handshake-memory HS_MIB. Checked:
#  - every real handshake is reported, ok;
#  - the agent's peak RSS (VmHWM) stays within HS_MIB + SLACK_MIB of its
#    RSS before the flood (SLACK_MIB covers the flow entries, the events'
#    JSON and the allocator: the documented bound of README "Memory");
#  - the undecided handshakes past the budget were evicted and counted
#    (flows_evicted > 0), each one still reported (incomplete), and
#    flows_tracked == handshakes + flows_not_tls exactly (the garbage
#    connections go to the agent as preambles and end as not TLS);
#  - after the flood is reset, handshake_memory_bytes is 0 and the RSS
#    comes back within COME_DOWN_MIB of where it was before the flood.
# Needs root. TAP output; exits non-zero on any failure.
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
export BUILD
. tests/e2e/lib_netns.sh

tn_require_root live_flood
tn_require_cmds openssl ip ss timeout
tn_require_tlswatch

PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
FLOOD=${FLOOD:-6000}
REAL=20
GARBAGE=1000
HS_MIB=${HS_MIB:-12}
SLACK_MIB=24
COME_DOWN_MIB=8

ulimit -n $((FLOOD + 1024)) 2>/dev/null || tn_bail "cannot raise the open-files limit to $((FLOOD + 1024))"

tmp=$(tn_tmpdir)
pki=$tmp/pki
tn_make_pki "$pki"
tn_setup fld
read -r sink4 _ < <(tn_peer_addr 3)
read -r real4 _ < <(tn_peer_addr 4)

# The listener that never accepts: the kernel completes each connection
# and takes its ClientHello into the socket's queue, nobody answers.
ip netns exec "$TN_NS" sysctl -qw net.core.somaxconn=$((FLOOD + GARBAGE + 1024)) ||
	tn_bail "cannot raise somaxconn in $TN_NS"
ip netns exec "$TN_NS" "$PY" -c '
import socket, sys, time
s = socket.socket()
s.bind((sys.argv[1], 443))
s.listen(int(sys.argv[2]))
time.sleep(600)' "$sink4" $((FLOOD + GARBAGE + 1024)) &
tn_bg $!
ip netns exec "$TN_NS" openssl s_server -quiet -www -accept "$real4:443" \
	-cert "$pki/ecdsa.test.crt" -key "$pki/ecdsa.test.key" -cert_chain "$pki/inter.crt" \
	>"$tmp/server.log" 2>&1 &
tn_bg $!
for a in "$sink4" "$real4"; do
	tn_wait_cmd 10 sh -c "ip netns exec '$TN_NS' ss -Hltn | grep -q '$a:443 '" ||
		tn_bail "listener on $a:443 did not start"
done

kib() { # pid, field of /proc/PID/status (VmRSS, VmHWM) -> KiB
	awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"
}

log=$tmp/flood.jsonl
tn_start_agent "$log" --no-active-check --stats-interval 1 \
	--handshake-memory "$HS_MIB" || tn_bail "tlswatch run did not start"
# warm up: one real handshake, so the baseline holds what any handshake needs
timeout 10 openssl s_client -connect "$real4:443" -tls1_2 -servername ecdsa.test \
	</dev/null >/dev/null 2>&1
sleep 1
rss0=$(kib "$TN_AGENT_PID" VmRSS)

hold=$((FLOOD / 400 + 10))
timeout $((hold + 120)) "$PY" tests/e2e/lib/hello_flood.py halfopen --addr "$sink4" \
	--count "$FLOOD" --hold "$hold" ${FLOOD_ONE_NAME:+--one-name} >"$tmp/flood.out" 2>&1 &
flood_pid=$!
tn_bg "$flood_pid"
timeout 120 "$PY" tests/e2e/lib/hello_flood.py garbage --addr "$sink4" \
	--count "$GARBAGE" >"$tmp/garbage.out" 2>&1 &
garbage_pid=$!
tn_bg "$garbage_pid"
ok_real=0
for i in $(seq "$REAL"); do
	sleep 0.3
	printf 'GET / HTTP/1.0\r\n\r\n' | timeout 10 openssl s_client -connect "$real4:443" \
		-tls1_2 -servername ecdsa.test >/dev/null 2>&1 && ok_real=$((ok_real + 1))
done
wait "$flood_pid"
wait "$garbage_pid"
tap_eq "the garbage client sent every connection's bytes" "{\"sent\": $GARBAGE, \"failed\": 0}" \
	"$(cat "$tmp/garbage.out")"
tap_eq "the flood client opened every connection" "{\"opened\": $FLOOD, \"failed\": 0}" \
	"$(cat "$tmp/flood.out")"
tap_eq "all $REAL real handshakes completed during the flood" "$REAL" "$ok_real"
# the flood was reset: its flows end, their memory goes back (bounded wait)
tn_wait_cmd 10 sh -c "[ \"\$(grep '\"event\":\"agent\"' '$log' | tail -1 | grep -o '\"handshake_memory_bytes\":0')\" ]"
sleep 2
rss1=$(kib "$TN_AGENT_PID" VmRSS)
hwm=$(kib "$TN_AGENT_PID" VmHWM)
tap_eq "no undecided handshake left after the flood" 0 "$(tn_agent_counter "$log" handshake_memory_bytes)"
tn_stop_agent
tap_eq "agent exits 0 on SIGTERM" 0 "$?"

tn_note "RSS before the flood $((rss0 / 1024)) MiB, peak $((hwm / 1024)) MiB, after $((rss1 / 1024)) MiB ($FLOOD half-open, --handshake-memory $HS_MIB)"
if [ $((hwm - rss0)) -le $(((HS_MIB + SLACK_MIB) * 1024)) ]; then
	tap_ok "peak RSS within --handshake-memory + $SLACK_MIB MiB of the start ($(((hwm - rss0) / 1024)) MiB more)"
else
	tap_fail "peak RSS within --handshake-memory + $SLACK_MIB MiB of the start" \
		"before $rss0 KiB, peak $hwm KiB"
fi
if [ $((rss1 - rss0)) -le $((COME_DOWN_MIB * 1024)) ]; then
	tap_ok "RSS comes down after the flood (within $COME_DOWN_MIB MiB of the start: $(((rss1 - rss0) / 1024)) MiB)"
else
	tap_fail "RSS comes down after the flood (within $COME_DOWN_MIB MiB of the start)" \
		"before $rss0 KiB, after $rss1 KiB, peak $hwm KiB"
fi

real_ok=$(grep '"event":"handshake"' "$log" | grep -c "\"server\":{\"ip\":\"$real4\".*\"outcome\":\"ok\"")
tap_eq "every real handshake is reported ok (and the warm-up)" $((REAL + 1)) "$real_ok"
evicted=$(tn_agent_counter "$log" flows_evicted)
if [ "${evicted:-0}" -gt 0 ] 2>/dev/null; then
	tap_ok "undecided handshakes past the budget were evicted and counted ($evicted)"
else
	tap_fail "undecided handshakes past the budget were evicted and counted" "flows_evicted: $evicted"
fi
tracked=$(tn_agent_counter "$log" flows_tracked)
hs=$(tn_agent_counter "$log" handshakes)
not_tls=$(tn_agent_counter "$log" flows_not_tls)
tap_eq "no ring buffer loss" 0 "$(tn_agent_counter "$log" ringbuf_lost)"
# a garbage connection goes to the agent as a preamble (a STARTTLS
# exchange could start that way) and ends there as not TLS
tap_eq "tracked: every half-open, real and garbage connection" \
	$((FLOOD + REAL + 1 + GARBAGE)) "$tracked"
tap_eq "not TLS: every garbage connection" "$GARBAGE" "$not_tls"
tap_eq "flows_tracked == handshakes + flows_not_tls" "$tracked" $((${hs:-0} + ${not_tls:-0}))
tap_eq "one handshake event per TLS connection" $((FLOOD + REAL + 1)) \
	"$(grep -c '"event":"handshake"' "$log")"

echo "# $TN_TESTS tests, $TN_FAILED failed"
[ "$TN_FAILED" -eq 0 ]
