#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# An analyze --db run killed part-way adds nothing, with --webhook too,
# and the next run counts its captures once:
#   1. without --webhook (the run is one transaction): while the run lasts
#      another run on the file is refused at once (the lease); killed, it
#      added nothing, and the next run adds its captures, counted once;
#   2. with --webhook (the run is made on a temporary copy of the file,
#      merged at the end, while the webhook outbox writes the file as
#      alerts come; the handshakes were written as they came, and counted
#      again by the next run): killed, it added nothing to the inventory,
#      the alert it raised stays queued in the outbox with its claim; the
#      next run counts the captures once, and the receiver gets each alert
#      once (the queued one, under its key; the same alert raised again is
#      suppressed by the claim).
# The run is stopped where it opens its second capture to read it (strace
# injects SIGSTOP at that open: the first capture was read, its alert
# queued), then killed: no timing.
. "$(dirname "$0")/lib.sh"
. tests/e2e/lib_prom.sh             # hook_*
trap 'prom_cleanup; rm -rf "$T_TMP"' EXIT
t_require_tlswatch
command -v strace >/dev/null || { not_ok "strace is installed (scripts/install-deps.sh)"; t_done; }

CA=tests/data/pki/root.crt
# absolute paths: strace's -P names the second capture
cp "$CAPS/tls12_reject_expired.pcap" "$CAPS/tls12_staple_revoked.pcap" "$T_TMP/"
A=$T_TMP/tls12_reject_expired.pcap      # one critical alert: expired.test
B=$T_TMP/tls12_staple_revoked.pcap      # one critical alert: revoked.test
rows() { # db: "name count" of each row, in listing order
	"$TW" inventory --db "$1" --json 2>/dev/null | "$PY" -c 'import json,sys
print(" ".join("%s %s" % (r["name"], r["count"]) for r in map(json.loads, sys.stdin)))'
}
sql() { # db, query: its first column, one value per line
	"$PY" -c 'import sqlite3, sys
print("\n".join(str(r[0]) for r in sqlite3.connect(sys.argv[1]).execute(sys.argv[2])))' "$1" "$2"
}
state() { # pid: its state letter (t: stopped by its tracer)
	cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null
}
# "t" once the injected SIGSTOP has stopped STOPPED, which strace writes
# down; before that, "t" is also each syscall's passing stop for strace
# (a CI run caught one and read "R" a moment later).
stopped_state() {
	[ -n "$STOPPED" ] || return 0
	grep -q -- '--- stopped by SIGSTOP ---' "$T_TMP/strace.out" 2>/dev/null &&
		state "$STOPPED"
}
# analyze --db DB of A then B, stopped as it opens B to read it: B is
# opened first to identify it (--db), then to read it, the second openat
# of its path. The tracee's pid in STOPPED (written by the shell that
# becomes it), strace's in STRACE.
stop_run() { # db, analyze options...
	local db=$1 i
	shift
	rm -f "$T_TMP/stopped.pid"
	strace -f -qq -o "$T_TMP/strace.out" -P "$B" -e trace=openat \
		-e inject=openat:signal=SIGSTOP:when=2 \
		sh -c 'echo $$ >"$0.tmp" && mv "$0.tmp" "$0" && exec "$@"' "$T_TMP/stopped.pid" \
		"$TW" analyze -q --db "$db" --ca-file "$CA" "$@" "$A" "$B" \
		>/dev/null 2>"$T_TMP/stop_run.err" &
	STRACE=$!
	STOPPED=
	# a bound on the wait only (a loaded machine may take seconds)
	for i in $(seq 600); do
		[ -n "$STOPPED" ] || STOPPED=$(cat "$T_TMP/stopped.pid" 2>/dev/null)
		[ "$(stopped_state)" = t ] && break
		kill -0 "$STRACE" 2>/dev/null || break
		sleep 0.1
	done
	[ "$(stopped_state)" = t ] ||
		printf '# strace: %s\n# stderr: %s\n' "$(cat "$T_TMP/strace.out")" \
			"$(cat "$T_TMP/stop_run.err")"
	assert_eq "killed run ($db): stopped as it opens its second capture" \
		t "$(stopped_state)"
}
kill_run() {
	[ -n "$STOPPED" ] && kill -KILL "$STOPPED" 2>/dev/null
	kill -KILL "$STRACE" 2>/dev/null
	wait "$STRACE" 2>/dev/null
}
counted="expired.test 1 revoked.test 1"   # each capture once

# --- 1. without --webhook ------------------------------------------------------
db=$T_TMP/killed.db
stop_run "$db"
# meanwhile, another run adding to the same database is refused at once
# (the run's lease; it used to wait 5 s, then fail: database is locked)
"$TW" analyze -q --db "$db" "$CAPS/tls12_weak.pcap" >/dev/null 2>"$T_TMP/err"
assert_eq "another run while one adds: exit 3, said" \
	"3|tlswatch analyze: $db: another tlswatch analyze --db run is adding to this database; run this one once it has ended" \
	"$?|$(cat "$T_TMP/err")"
kill_run
assert_eq "killed run: nothing added" "" "$(rows "$db")"
"$TW" analyze --db "$db" --ca-file "$CA" "$A" "$B" >/dev/null 2>"$T_TMP/err"
assert_eq "after a killed run: the captures are added, exit 0, nothing said" "0|" \
	"$?|$(cat "$T_TMP/err")"
assert_eq "after a killed run: counted once" "$counted" "$(rows "$db")"

# --- 2. with --webhook -----------------------------------------------------------
hook_start || { not_ok "webhook receiver starts"; t_done; }
hook_stop          # refused while the killed run lasts: its alert stays queued
db=$T_TMP/killed_hook.db
stop_run "$db" --webhook "$HOOK_URL/hook" --webhook-retry-max 1
kill_run
assert_eq "killed run with --webhook: nothing added to the inventory" "" "$(rows "$db")"
assert_eq "killed run with --webhook: its alert queued in the outbox, and claimed" "1 1" \
	"$(sql "$db" "SELECT count(*) FROM outbox") $(sql "$db" "SELECT count(*) FROM outbox_sent")"
queued_key=$(sql "$db" "SELECT idem_key FROM outbox")
hook_start -p "$HOOK_PORT" || { not_ok "webhook receiver starts again"; t_done; }
"$TW" analyze --db "$db" --ca-file "$CA" --webhook "$HOOK_URL/hook" --webhook-retry-max 1 \
	"$A" "$B" >/dev/null 2>"$T_TMP/err"
assert_eq "after a killed run with --webhook: the captures are added, exit 0, nothing said" "0|" \
	"$?|$(cat "$T_TMP/err")"
assert_eq "after a killed run with --webhook: counted once" "$counted" "$(rows "$db")"
assert_eq "after a killed run with --webhook: both captures recorded as added" 2 \
	"$(sql "$db" "SELECT count(*) FROM analyzed_capture")"
assert_eq "the receiver got 2 alerts, each answered 200, under 2 keys" "2 200 2" \
	"$(hook_count) $("$PY" -c 'import json, sys
R = [json.loads(l) for l in open(sys.argv[1])]
print(" ".join(sorted(set(str(r["status"]) for r in R))), len(set(r["headers"]["idempotency-key"] for r in R)))' "$HOOK_OUT")"
assert_eq "the alerts: expired.test (the one queued, under its key) and revoked.test" \
	"expired.test $queued_key revoked.test" \
	"$("$PY" -c 'import json, sys
R = sorted((json.loads(json.loads(l)["body"])["sni"], json.loads(l)["headers"]["idempotency-key"]) for l in open(sys.argv[1]))
print(R[0][0], R[0][1], R[1][0])' "$HOOK_OUT")"
assert_eq "the outbox is empty" 0 "$(sql "$db" "SELECT count(*) FROM outbox")"
t_done
