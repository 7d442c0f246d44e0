#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The --db lease: `analyze --db`, which holds the file's write lock for
# its whole run, never shares the file with a running agent or another
# analyze run; the agents share it with each other.
#
# Agents inside a test network namespace (a veth pair to the host, a real
# openssl s_server inside, real TLS 1.2 handshakes from the host), with
# one --db file:
#   1. two agents (the veth's namespace end, and the namespace's lo) write
#      it side by side; `analyze --db` of a committed capture on it exits
#      3 at once, naming the file and the agent, and adds nothing; the
#      agent's rows are intact, it reports the next handshake and records
#      it, with no error event (it used to stall up to 5 s at each write
#      while the run lasted); still refused with one agent left;
#      `tlswatch inventory` (read-only, no lease) reads the file beside it;
#   2. an analyze run on a FIFO capture (no writer yet, so it stays
#      running) holds the file; a second analyze --db on it exits 3 at
#      once with its own message (it used to wait 5 s, then "database is
#      locked");
#   3. an agent started meanwhile exits 3 naming the analyze run, before
#      it creates its --json-log or attaches anything (no filter in the
#      namespace);
#   4. the FIFO is fed, the run ends (exit 0) and its rows are added; an
#      agent then starts and records handshakes in the file;
#   5. a --db that does not exist yet is leased where SQLite would create
#      it: a run that reads no capture leaves no file, and one whose file
#      an agent created meanwhile (the run waiting on its FIFO capture)
#      exits 3 with the agent's message, adding nothing.
#
# Needs root, openssl, ip, tc, ss, sqlite3. TAP output.
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
export BUILD
. tests/e2e/lib_netns.sh

tn_require_root analyze_db_lease
tn_require_cmds openssl ip tc ss sqlite3
tn_require_tlswatch
tmp=$(tn_tmpdir)
TW=$BUILD/tlswatch
CAPS=tests/data/captures
db=$tmp/inv.db
common=(--port 443 --no-metrics --no-active-check --stats-interval 1)

tn_setup lea
tn_make_pki "$tmp/pki"
tn_start_rsa_server "$tmp/pki"

hs() { # sni: one TLS 1.2 handshake from the host (the certificate is seen)
	echo | timeout 5 openssl s_client -connect "$TN_PEER4:443" -servername "$1" \
		-tls1_2 >/dev/null 2>&1
}
names() { # the inventory's names, sorted, on one line
	sqlite3 "$db" "SELECT name FROM served ORDER BY name" 2>&1 | paste -sd' '
}
has_name() { # name
	[ "$(sqlite3 "$db" "SELECT count(*) FROM served WHERE name = '$1'" 2>/dev/null)" = 1 ]
}
agent_in_ns() { # log, iface: an agent on $db inside the namespace; its pid in AGENT
	: >"$1"
	ip netns exec "$TN_NS" "$TW" run --iface "$2" "${common[@]}" --db "$db" \
		--json-log "$1" 2>"$1.stderr" &
	AGENT=$!
	tn_bg "$AGENT"
	tn_wait_grep 15 '"state":"started"' "$1" ||
		{ sed 's/^/#   /' "$1.stderr"; tn_bail "the agent on $2 did not start"; }
}
stop() { # pid: SIGTERM, bounded; its exit status
	local i
	kill -TERM "$1" 2>/dev/null
	for i in $(seq 100); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
	kill -0 "$1" 2>/dev/null && kill -KILL "$1" 2>/dev/null
	wait "$1"
}
holds_lease() { # pid, READ|WRITE: it holds a flock lease of that kind on $db
	grep -Eq "^[0-9]+: FLOCK +ADVISORY +$2 +$1 [0-9a-f:]+:$(stat -c %i "$db") " /proc/locks
}
analyze_db() { # output prefix, capture: analyze --db, bounded; its status
	timeout 30 "$TW" analyze -q --db "$db" "$2" >"$1.out" 2>"$1.err"
}
agent_msg="tlswatch analyze: $db: a running tlswatch agent writes this database; analyze into a copy of it (sqlite3 $db '.backup copy.db') or stop the agent for the run"

# --- 1. beside running agents ----------------------------------------------
agent_in_ns "$tmp/a1.jsonl" "$TN_PEER_IF"
A1=$AGENT
agent_in_ns "$tmp/a2.jsonl" lo
A2=$AGENT
tap_check "two agents share one --db: both hold a shared lease" \
	sh -c "grep -Eq ' FLOCK +ADVISORY +READ +$A1 ' /proc/locks && grep -Eq ' FLOCK +ADVISORY +READ +$A2 ' /proc/locks"
hs before.lease.test
tn_wait_cmd 10 has_name before.lease.test
tap_eq "the agent records a handshake" "before.lease.test" "$(names)"

analyze_db "$tmp/beside" "$CAPS/tls12_rsa.pcap"
tap_eq "analyze --db beside running agents: exit 3" 3 "$?"
tap_eq "analyze --db beside running agents: the message names the file and the agent" \
	"$agent_msg" "$(cat "$tmp/beside.err")"
tap_eq "analyze --db beside running agents: nothing on standard output" 0 \
	"$(wc -c <"$tmp/beside.out")"
hs after.lease.test
tap_check "the agent reports the next handshake" \
	tn_wait_grep 10 '"event":"handshake".*"sni":"after.lease.test"' "$tmp/a1.jsonl"
tn_wait_cmd 10 has_name after.lease.test
tap_eq "its rows are intact, the next one recorded, nothing of the capture added" \
	"after.lease.test before.lease.test" "$(names)"
timeout 30 "$TW" inventory --db "$db" >"$tmp/inv.out" 2>"$tmp/inv.err"
tap_eq "tlswatch inventory reads the file beside the agents: exit 0" 0 "$?"
tap_eq "tlswatch inventory lists the agent's rows" 2 \
	"$(grep -cxE '(before|after)\.lease\.test' "$tmp/inv.out")"

stop "$A1"
tap_eq "the first agent exits 0" 0 "$?"
analyze_db "$tmp/one" "$CAPS/tls12_rsa.pcap"
tap_eq "analyze --db with one agent left: exit 3" 3 "$?"
tap_eq "analyze --db with one agent left: the same message" "$agent_msg" "$(cat "$tmp/one.err")"
stop "$A2"
tap_eq "the second agent exits 0" 0 "$?"
tap_eq "no agent reported an error event" 0 \
	"$(cat "$tmp/a1.jsonl" "$tmp/a2.jsonl" | grep -c '"state":"error"')"

# --- 2. two analyze runs ---------------------------------------------------
fifo=$tmp/capture.fifo
mkfifo "$fifo" || tn_bail "mkfifo failed"
# no writer yet: the run holds the file and waits for its capture
"$TW" analyze -q --db "$db" "$fifo" >"$tmp/x.out" 2>"$tmp/x.err" &
X=$!
tn_bg "$X"
tap_check "an analyze --db run holds the exclusive lease" tn_wait_cmd 10 holds_lease "$X" WRITE
analyze_db "$tmp/y" "$CAPS/tls12_weak.pcap"
tap_eq "a second analyze --db on the same file: exit 3" 3 "$?"
tap_eq "a second analyze --db: its own message" \
	"tlswatch analyze: $db: another tlswatch analyze --db run is adding to this database; run this one once it has ended" \
	"$(cat "$tmp/y.err")"

# --- 3. an agent while the run lasts ---------------------------------------
timeout 30 ip netns exec "$TN_NS" "$TW" run --iface "$TN_PEER_IF" "${common[@]}" \
	--db "$db" --json-log "$tmp/refused.jsonl" 2>"$tmp/refused.err"
tap_eq "an agent started while analyze --db runs: exit 3" 3 "$?"
tap_eq "the agent's message names the analyze run" \
	"tlswatch run: $db: a tlswatch analyze --db run is adding to this database; start the agent once it has ended" \
	"$(cat "$tmp/refused.err")"
tap_eq "the refused agent created no --json-log" "" "$(ls -A "$tmp" | grep -x 'refused\.jsonl')"
tap_eq "the refused agent left no filter in the namespace" 0 \
	"$(tn_filters_on "$TN_PEER_IF" "$TN_NS")"
tap_check "the analyze run is still running" kill -0 "$X"

# --- 4. once the run has ended ---------------------------------------------
timeout 10 cp "$CAPS/tls12_rsa.pcap" "$fifo" || tap_fail "the FIFO capture could be written"
for i in $(seq 100); do kill -0 "$X" 2>/dev/null || break; sleep 0.1; done
wait "$X"
tap_eq "the analyze run on the FIFO exits 0" 0 "$?"
tap_eq "it added its capture's rows" "after.lease.test before.lease.test rsa.test" "$(names)"
agent_in_ns "$tmp/a3.jsonl" "$TN_PEER_IF"
A3=$AGENT
tap_ok "after the run, an agent starts on the file"
hs again.lease.test
tap_check "it records handshakes in the file" tn_wait_cmd 10 has_name again.lease.test
stop "$A3"
tap_eq "it exits 0" 0 "$?"
tap_eq "no filter left in the namespace" 0 "$(tn_filters_on "$TN_PEER_IF" "$TN_NS")"

# --- 5. a --db that does not exist yet ---------------------------------------
# leased where SQLite would create it: a run that reads nothing leaves no
# file, and an agent that created the file meanwhile is not stalled
new=$tmp/new.db
timeout 30 "$TW" analyze -q --db "$new" "$tmp/missing.pcap" >/dev/null 2>&1
tap_eq "a new --db with no readable capture: exit 3" 3 "$?"
tap_eq "a new --db with no readable capture: no file left" "" "$(ls -A "$tmp" | grep -x 'new\.db.*')"
rm -f "$fifo"
mkfifo "$fifo" || tn_bail "mkfifo failed"
# The test's own end of the FIFO, opened read-write (does not block): the
# run's open of it returns at once and its reading waits for the capture
# (not inherited, 3>&-: the run's EOF comes when this shell closes it).
exec 3<>"$fifo" || tn_bail "opening the FIFO failed"
"$TW" analyze -q --db "$new" "$fifo" >"$tmp/z.out" 2>"$tmp/z.err" 3>&- &
Z=$!
tn_bg "$Z"
# The agent starts only once the run holds the FIFO open: past its start,
# where it found no file and so took no lease. Started before that (a
# loaded host), the run could find the file the agent had just created
# and lease it first, refusing the agent.
reads_fifo() { # pid: it has $fifo open
	local f
	for f in /proc/"$1"/fd/*; do
		[ "$(readlink "$f")" = "$fifo" ] && return 0
	done
	return 1
}
tn_wait_cmd 10 reads_fifo "$Z" || tn_bail "the analyze run did not open its FIFO"
tap_eq "the run waiting on its FIFO created no file (took no lease)" "" "$(ls -A "$tmp" | grep -x 'new\.db')"
db=$new
agent_in_ns "$tmp/a4.jsonl" "$TN_PEER_IF" 3>&-
A4=$AGENT
timeout 10 cat "$CAPS/tls12_rsa.pcap" >&3
exec 3>&-
for i in $(seq 100); do kill -0 "$Z" 2>/dev/null || break; sleep 0.1; done
wait "$Z"
tap_eq "a run whose new --db an agent created meanwhile: exit 3" 3 "$?"
tap_eq "a run whose new --db an agent created meanwhile: the agent's message" \
	"tlswatch analyze: $new: a running tlswatch agent writes this database; analyze into a copy of it (sqlite3 $new '.backup copy.db') or stop the agent for the run" \
	"$(cat "$tmp/z.err")"
hs new.lease.test
tap_check "that agent records handshakes in the file" tn_wait_cmd 10 has_name new.lease.test
tap_eq "nothing of the capture added" "new.lease.test" "$(names)"
stop "$A4"
tap_eq "that agent exits 0" 0 "$?"
echo "# $TN_TESTS checks, $TN_FAILED failed"
