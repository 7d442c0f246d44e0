#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Half-open and garbage floods against a watched port, while real
# handshakes go on.
#
# On a test network namespace joined to the host by a veth pair: a server
# that never answers (listeners that never accept, on SINKS addresses)
# takes FLOOD connections that each send a real ClientHello and stop
# (tests/e2e/lib/hello_flood.py stopped: once the hello is acknowledged
# the client socket is closed in TCP repair mode, which sends nothing, so
# the server keeps FLOOD silent connections while the client never holds
# more than 512 descriptors), and GARBAGE connections that each send 1,000
# random bytes; meanwhile REAL `openssl s_client` handshakes with
# `openssl s_server` (another address).
#
# 1. The default flow map, --handshake-memory HS_MIB. Checked:
#  - every flood connection was acknowledged by the server, every real
#    handshake completed, and neither end of the veth dropped a packet
#    (the kernel side never holds one back);
#  - every real handshake is reported, ok;
#  - the agent's peak RSS (VmHWM) stays within the documented bound of
#    README "Memory under a flood": HS_MIB + SLACK_MIB + ENTRY_BYTES per
#    connection it knows (the flow entries of decided connections, kept
#    until 120 s of silence) over its RSS before the flood;
#  - the undecided handshakes past the budget were evicted and counted
#    (flows_evicted > 0), each one still reported (incomplete), and
#    flows_tracked == handshakes + flows_not_tls (+ flows_midstream_tls,
#    flows_refound, 0
#    here) exactly, with no ring buffer loss (the garbage connections go
#    to the agent as preambles and end as not TLS);
#  - once the server resets the flood, handshake_memory_bytes is 0 and the
#    RSS comes back within COME_DOWN_MIB + ENTRY_BYTES per connection
#    (FLOOD + GARBAGE + REAL + 1) + what the agent may keep of the freed
#    budget without handing it back (less than its trim threshold: a
#    quarter of the budget, at most TRIM_MIB, and never more than the
#    flood put in it, HS_CONN_BYTES each) of where it was: a bound
#    derived from FLOOD, so it holds for any FLOOD.
# 2. A tiny kernel flow map (--flow-map TINY_MAP) under a flood of
#    LOST_FLOOD such connections, and a budget they all fit in: the kernel
#    forgets all but the last TINY_MAP of them while their handshakes are
#    undecided. Each one it forgot is counted (flows_lost >= LOST_FLOOD -
#    TINY_MAP) and reported incomplete; those it kept end as aborted when
#    the server resets them; every real handshake made meanwhile is
#    reported. SLOW real handshakes (each with its own server, on
#    the real address) pause between the server's flight and the client's
#    answer while the whole flood comes, until the agent has counted eight
#    maps' worth of its flows, enough to push them out of the map (the
#    map's LRU gives an entry used recently a second chance): the kernel
#    finds each again at the client's answer, no byte is lost, each is
#    reported ok and counted in flows_refound. The slow ones wait for
#    their conditions (their pause begun, the agent's count), not a time.
# Needs root. TAP output; exits non-zero on any failure.
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
export BUILD
. tests/e2e/lib_netns.sh

tn_require_root live_flood
tn_require_cmds openssl ip ss timeout taskset
tn_require_tlswatch

PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
FLOOD=${FLOOD:-100000}
REAL=20
GARBAGE=1000
HS_MIB=${HS_MIB:-12}
SLACK_MIB=24
ENTRY_BYTES=384         # a flow entry (280) and its share of the hash table
COME_DOWN_MIB=5         # after the flood: the allocator's own (partly used pages)
HS_CONN_BYTES=1728      # an undecided ClientHello's charge to the budget
TRIM_MIB=8              # the pipeline's PIPELINE_TRIM_BYTES
SINKS=8                 # listening addresses $TN_NET4.5 .. .12
FIRST_PORT=20000        # client ports from here, below the ephemeral range
TINY_MAP=${TINY_MAP:-1024}
LOST_FLOOD=20000
SLOW=3
LOST_HS_MIB=256         # part 2: no budget eviction, only the kernel's
SLOW_PORT=4430          # part 2: slow handshake i's server listens on SLOW_PORT + i

ports_per_sink=$(((FLOOD + SINKS - 1) / SINKS))
[ $((FIRST_PORT + ports_per_sink)) -le 32768 ] ||
	tn_bail "FLOOD=$FLOOD needs more than $SINKS x $((32768 - FIRST_PORT)) client ports"
ulimit -n 4096 2>/dev/null || tn_bail "cannot raise the open-files limit to 4096"

tmp=$(tn_tmpdir)
pki=$tmp/pki
tn_make_pki "$pki"
tn_setup fld
read -r real4 _ < <(tn_peer_addr 4)
sinks=''
for n in $(seq 5 $((4 + SINKS))); do
	read -r a _ < <(tn_peer_addr "$n")
	sinks=$sinks${sinks:+,}$a
done
sink1=${sinks%%,*}

ip netns exec "$TN_NS" sysctl -qw net.core.somaxconn=$((FLOOD + GARBAGE + 1024)) ||
	tn_bail "cannot raise somaxconn in $TN_NS"
ip netns exec "$TN_NS" openssl s_server -quiet -www -accept "$real4:443" \
	-cert "$pki/ecdsa.test.crt" -key "$pki/ecdsa.test.key" -cert_chain "$pki/inter.crt" \
	>"$tmp/server.log" 2>&1 &
tn_bg $!

# The listeners that never accept: the kernel completes each connection
# and takes its ClientHello into the queue, nobody answers. Stopping them
# resets every connection they hold (the flood ends). Sets sink_pid.
start_sink() {
	ip netns exec "$TN_NS" "$PY" -c '
import socket, sys, time
held = []
for a in sys.argv[1].split(","):
    s = socket.socket()
    s.bind((a, 443))
    s.listen(int(sys.argv[2]))
    held.append(s)
time.sleep(600)' "$sinks" $((FLOOD + GARBAGE + 1024)) &
	sink_pid=$!
	tn_bg "$sink_pid"
	tn_wait_cmd 10 sh -c "[ \$(ip netns exec '$TN_NS' ss -Hltn 'sport = :443' | wc -l) -eq $((SINKS + 1)) ]" ||
		tn_bail "the listeners on port 443 did not start"
}

kib() { # pid, field of /proc/PID/status (VmRSS, VmHWM) -> KiB
	awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"
}

veth_drops() { # packets either end of the veth dropped, so far
	{ ip -j -s link show dev "$TN_HOST_IF"; ip -n "$TN_NS" -j -s link show dev "$TN_PEER_IF"; } |
		"$PY" -c 'import json, sys
n = 0
for line in sys.stdin:
    for l in json.loads(line):
        n += l["stats64"]["rx"]["dropped"] + l["stats64"]["tx"]["dropped"]
print(n)'
}

# N real handshakes, PAUSE seconds apart; prints how many completed.
real_handshakes() { # n, pause
	local i ok=0
	for i in $(seq "$1"); do
		sleep "$2"
		printf 'GET / HTTP/1.0\r\n\r\n' | timeout 10 openssl s_client -connect "$real4:443" \
			-tls1_2 -servername ecdsa.test >/dev/null 2>&1 && ok=$((ok + 1))
	done
	echo "$ok"
}

# The stopped flood of N connections, in the background; sets flood_pid.
start_flood() { # n, output file[, command prefix]
	${3:-} timeout 240 "$PY" tests/e2e/lib/hello_flood.py stopped --addr "$sinks" \
		--src "$TN_HOST4" --first-port "$FIRST_PORT" --count "$1" >"$2" 2>&1 &
	flood_pid=$!
	tn_bg "$flood_pid"
}

# The server resets every flood connection; waits (bounded: 20 s, 200
# looks) until two agent events written since say that the agent holds no
# undecided handshake (handshake_memory_bytes 0). Each comes from its own
# loop turn (a timer fires once a turn): the first one's turn had reported
# the last of them (the report frees its memory) and, at its end, handed
# the freed memory back (pipeline_tick: malloc_trim) and written its
# events, all before the second one was written.
reset_flood() { # log
	local before
	before=$(grep -c '"event":"agent"' "$1")
	tn_stop_pid "$sink_pid"
	tn_wait_cmd 20 sh -c "[ \$(grep '\"event\":\"agent\"' '$1' | tail -n +$((before + 1)) | grep -c '\"handshake_memory_bytes\":0') -ge 2 ]"
}

events_to() { # log, address, outcome: handshake events with that server and outcome
	grep '"event":"handshake"' "$1" | grep -c "\"server\":{\"ip\":\"$2\".*\"outcome\":\"$3\""
}

# The log of a big flood has one event per connection: validating them all
# against the schema (tn_cleanup) would take minutes. The agent events and
# the first 2,000 others are kept, the rest of the file goes.
trim_log() { # log
	{ grep '"event":"agent"' "$1"; grep -v '"event":"agent"' "$1" | head -2000; } >"$1.kept"
	mv "$1.kept" "$1"
}

# --- 1. 100,000 stopped connections, the default flow map ---------------------
start_sink
log=$tmp/flood.jsonl
tn_start_agent "$log" --no-active-check --stats-interval 1 \
	--handshake-memory "$HS_MIB" || tn_bail "tlswatch run did not start"
# warm up: one real handshake, so the baseline holds what any handshake needs
real_handshakes 1 0 >/dev/null
sleep 1
rss0=$(kib "$TN_AGENT_PID" VmRSS)
drops0=$(veth_drops)

start_flood "$FLOOD" "$tmp/flood.out"
timeout 120 "$PY" tests/e2e/lib/hello_flood.py garbage --addr "$sink1" \
	--count "$GARBAGE" >"$tmp/garbage.out" 2>&1 &
garbage_pid=$!
tn_bg "$garbage_pid"
ok_real=$(real_handshakes "$REAL" 0.5)
wait "$flood_pid"
wait "$garbage_pid"
tn_note "flood: $(cat "$tmp/flood.out")"
tap_eq "the garbage client sent every connection's bytes" "{\"sent\": $GARBAGE, \"failed\": 0}" \
	"$(cat "$tmp/garbage.out")"
tap_eq "the server acknowledged the ClientHello of every flood connection" \
	"\"stopped\": $FLOOD, \"failed\": 0" "$(grep -o '"stopped": [0-9]*, "failed": [0-9]*' "$tmp/flood.out")"
tap_eq "all $REAL real handshakes completed during the flood" "$REAL" "$ok_real"
tap_eq "the flood's connections are held by the server" "$FLOOD" \
	"$(ip netns exec "$TN_NS" ss -Htn state established "( sport = :443 )" | grep -cv "$real4:443")"
tap_eq "neither end of the veth dropped a packet" "$drops0" "$(veth_drops)"
hwm=$(kib "$TN_AGENT_PID" VmHWM)
reset_flood "$log"
rss1=$(kib "$TN_AGENT_PID" VmRSS)
tap_eq "no undecided handshake left once the server reset the flood" 0 \
	"$(tn_agent_counter "$log" handshake_memory_bytes)"
tn_stop_agent
tap_eq "agent exits 0 on SIGTERM" 0 "$?"

entries_kib=$((FLOOD * ENTRY_BYTES / 1024))
tn_note "RSS before the flood $((rss0 / 1024)) MiB, peak $((hwm / 1024)) MiB, after $((rss1 / 1024)) MiB ($FLOOD stopped, --handshake-memory $HS_MIB; KiB: $rss0 $hwm $rss1)"
bound=$(((HS_MIB + SLACK_MIB) * 1024 + entries_kib))
if [ $((hwm - rss0)) -le "$bound" ]; then
	tap_ok "peak RSS within --handshake-memory + $SLACK_MIB MiB + $ENTRY_BYTES B per connection of the start ($(((hwm - rss0) / 1024)) of $((bound / 1024)) MiB more)"
else
	tap_fail "peak RSS within --handshake-memory + $SLACK_MIB MiB + $ENTRY_BYTES B per connection of the start" \
		"before $rss0 KiB, peak $hwm KiB, bound $bound KiB more"
fi
# What stays of the freed budget: the agent hands it back (malloc_trim)
# each time the undecided handshakes shrink by its trim threshold, so less
# than that, and no more than the flood ever charged.
kept_kib=$((HS_MIB * 1024 / 4))
[ "$kept_kib" -le $((TRIM_MIB * 1024)) ] || kept_kib=$((TRIM_MIB * 1024))
[ "$kept_kib" -le $((FLOOD * HS_CONN_BYTES / 1024)) ] || kept_kib=$((FLOOD * HS_CONN_BYTES / 1024))
bound=$((COME_DOWN_MIB * 1024 + kept_kib + (FLOOD + GARBAGE + REAL + 1) * ENTRY_BYTES / 1024))
what="within $COME_DOWN_MIB MiB + $kept_kib KiB of the budget + $ENTRY_BYTES B per connection of the start"
if [ $((rss1 - rss0)) -le "$bound" ]; then
	tap_ok "RSS comes down after the flood ($what: $((rss1 - rss0)) of $bound KiB)"
else
	tap_fail "RSS comes down after the flood ($what)" \
		"before $rss0 KiB, after $rss1 KiB, peak $hwm KiB, bound $bound KiB more"
fi

tap_eq "every real handshake is reported ok (and the warm-up)" $((REAL + 1)) \
	"$(events_to "$log" "$real4" ok)"
evicted=$(tn_agent_counter "$log" flows_evicted)
if [ "${evicted:-0}" -gt 0 ] 2>/dev/null; then
	tap_ok "undecided handshakes past the budget were evicted and counted ($evicted)"
else
	tap_fail "undecided handshakes past the budget were evicted and counted" "flows_evicted: $evicted"
fi
tracked=$(tn_agent_counter "$log" flows_tracked)
hs=$(tn_agent_counter "$log" handshakes)
not_tls=$(tn_agent_counter "$log" flows_not_tls)
tn_note "flows_lost $(tn_agent_counter "$log" flows_lost), flow_map_refused $(tn_agent_counter "$log" flow_map_refused)"
tap_eq "no ring buffer loss" 0 "$(tn_agent_counter "$log" ringbuf_lost)"
# a garbage connection goes to the agent as a preamble (a STARTTLS
# exchange could start that way) and ends there as not TLS
tap_eq "tracked: every stopped, real and garbage connection" \
	$((FLOOD + REAL + 1 + GARBAGE)) "$tracked"
tap_eq "not TLS: every garbage connection" "$GARBAGE" "$not_tls"
refound=$(tn_agent_counter "$log" flows_refound)
midstream=$(tn_agent_counter "$log" flows_midstream_tls)
tap_eq "flows_tracked == handshakes + flows_not_tls + flows_midstream_tls + flows_refound" "$tracked" \
	$((${hs:-0} + ${not_tls:-0} + ${midstream:-0} + ${refound:-0}))
tap_eq "one handshake event per TLS connection (none found again)" \
	"$((FLOOD + REAL + 1)) $refound" "$(grep -c '"event":"handshake"' "$log") 0"
trim_log "$log"

# --- 2. a tiny kernel flow map: what it forgets is counted ---------------------
start_sink
# openssl s_server answers one connection at a time: a slow handshake
# paused on the real server would hold back the next one's server flight
# (past its 10 s socket timeout under load). Each slow one has its own
# server, on the real address, port SLOW_PORT + i, which the agent watches.
slow_ports=()
for i in $(seq "$SLOW"); do
	slow_ports+=($((SLOW_PORT + i)))
	ip netns exec "$TN_NS" openssl s_server -quiet -www -accept "$real4:$((SLOW_PORT + i))" \
		-cert "$pki/ecdsa.test.crt" -key "$pki/ecdsa.test.key" -cert_chain "$pki/inter.crt" \
		>"$tmp/slow_server$i.log" 2>&1 &
	tn_bg $!
done
tn_wait_cmd 10 sh -c "[ \$(ip netns exec '$TN_NS' ss -Hltn '( sport >= :$((SLOW_PORT + 1)) and sport <= :$((SLOW_PORT + SLOW)) )' | wc -l) -eq $SLOW ]" ||
	tn_bail "the slow handshakes' servers did not start"
drops0=$(veth_drops)
log=$tmp/tiny.jsonl
tn_start_agent "$log" --no-active-check --stats-interval 1 --flow-map "$TINY_MAP" \
	--handshake-memory "$LOST_HS_MIB" $(printf -- '--port %s ' "${slow_ports[@]}") ||
	tn_bail "tlswatch run --flow-map $TINY_MAP did not start"
# The flood and the slow clients on one CPU: the TC program runs in the
# sender's context there, and the kernel's LRU map takes new entries from
# a per-CPU list, so an entry made on another CPU could outlive any flood.
# The slow ones first: each pauses once the server's flight is in (its
# ready file), so that the whole flood comes after their entries, however
# long their start takes under load.
slow_pids=()
for i in $(seq "$SLOW"); do
	SLOW_HANDSHAKE_READY=$tmp/slow$i.ready taskset -c 0 timeout 300 "$PY" tests/e2e/lib/slow_handshake.py \
		"$real4" "${slow_ports[i - 1]}" ecdsa.test "file:$tmp/resume" >"$tmp/slow$i.out" 2>&1 &
	slow_pids+=($!)
	tn_bg $!
done
slow_paused() {
	local i
	for i in $(seq "$SLOW"); do [ -e "$tmp/slow$i.ready" ] || return 1; done
}
tn_wait_cmd 60 slow_paused || tn_note "tiny map: not every slow handshake got the server's flight"
start_flood "$LOST_FLOOD" "$tmp/tiny.out" "taskset -c 0"
# The slow ones stay paused until the flood has put eight maps' worth of
# new flows through the kernel (whatever the host's load makes its pace):
# their entries are then gone (the kernel's LRU is approximate: an entry
# referenced lately survives a round of evictions). Before the flood the
# agent tracked the slow ones only; a stale count only makes this wait
# longer. Bounded by the flood itself: it ends (240 s at most) with
# LOST_FLOOD > 8 maps' worth of flows.
flood_past() {
	local now
	now=$(tn_agent_counter "$log" flows_tracked)
	case $now in *[!0-9]* | "") now=0 ;; esac
	[ "$now" -ge $((SLOW + 8 * TINY_MAP)) ] && return 0
	kill -0 "$flood_pid" 2>/dev/null || return 2
	return 1
}
while flood_past; [ $? -eq 1 ]; do sleep 0.1; done
flood_past || tn_note "tiny map: the flood ended before the agent counted 8 maps' worth of flows"
touch "$tmp/resume"
ok_real=$(real_handshakes 10 0.2)
ok_slow=0
for p in "${slow_pids[@]}"; do wait "$p" && ok_slow=$((ok_slow + 1)); done
wait "$flood_pid"
tap_eq "tiny map: the server acknowledged every flood connection's hello" \
	"\"stopped\": $LOST_FLOOD, \"failed\": 0" "$(grep -o '"stopped": [0-9]*, "failed": [0-9]*' "$tmp/tiny.out")"
tap_eq "tiny map: the 10 real handshakes completed" 10 "$ok_real"
tap_eq "tiny map: the $SLOW slow handshakes completed" "$SLOW" "$ok_slow"
tap_eq "tiny map: neither end of the veth dropped a packet" "$drops0" "$(veth_drops)"
# those the kernel still follows end as aborted
reset_flood "$log" || tn_note "tiny map: handshake memory not back to 0 within 20 s of the reset" \
	"($(tn_agent_counter "$log" handshake_memory_bytes) bytes)"
tn_stop_agent
tap_eq "tiny map: agent exits 0 on SIGTERM" 0 "$?"
lost=$(tn_agent_counter "$log" flows_lost)
incomplete=$(events_to "$log" "[0-9.]*" incomplete)
aborted=$(events_to "$log" "[0-9.]*" aborted)
tn_note "tiny map: flows_lost $lost, incomplete $incomplete, aborted $aborted, real ok $(events_to "$log" "$real4" ok)"
if [ "${lost:-0}" -ge $((LOST_FLOOD - TINY_MAP)) ] 2>/dev/null; then
	tap_ok "tiny map: every flood handshake the kernel forgot is counted (flows_lost $lost >= $LOST_FLOOD - $TINY_MAP)"
else
	tap_fail "tiny map: every flood handshake the kernel forgot is counted" \
		"flows_lost: $lost, expected at least $((LOST_FLOOD - TINY_MAP))"
fi
tap_eq "tiny map: each lost handshake is reported incomplete" "$lost" "$incomplete"
tap_eq "tiny map: every flood connection is reported once, incomplete or aborted" \
	"$LOST_FLOOD $LOST_FLOOD" "$(grep '"event":"handshake"' "$log" | grep -vc "\"server\":{\"ip\":\"$real4\"") $((incomplete + aborted))"
tap_eq "tiny map: every real handshake is reported ok, the slow ones too" $((10 + SLOW)) \
	"$(events_to "$log" "$real4" ok)"
refound=$(tn_agent_counter "$log" flows_refound)
if [ "${refound:-0}" -ge "$SLOW" ] 2>/dev/null; then
	tap_ok "tiny map: the slow handshakes were forgotten and found again, counted (flows_refound $refound >= $SLOW)"
else
	tap_fail "tiny map: the slow handshakes were forgotten and found again, counted" \
		"flows_refound: $refound, expected at least $SLOW"
fi
tap_eq "tiny map: no budget eviction (only the kernel forgot)" 0 "$(tn_agent_counter "$log" flows_evicted)"
tracked=$(tn_agent_counter "$log" flows_tracked)
tap_eq "tiny map: flows_tracked == handshakes + flows_not_tls + flows_midstream_tls + flows_refound" "$tracked" \
	$(($(tn_agent_counter "$log" handshakes) + $(tn_agent_counter "$log" flows_not_tls) +
	   $(tn_agent_counter "$log" flows_midstream_tls) + refound))
trim_log "$log"

echo "# $TN_TESTS tests, $TN_FAILED failed"
[ "$TN_FAILED" -eq 0 ]
