#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The files tlswatch writes as root (common/output_file.h): --json-log,
# --html (analyze, inventory) and the --db lease refuse, in a sticky
# world-writable directory (as /tmp), another user's link (at the end of
# the path or in its middle) and another user's file, and anywhere a
# regular file with other names (a hard link), whatever
# fs.protected_symlinks, fs.protected_regular and fs.protected_hardlinks
# say (the unfixed build failed these with them 0): exit status, message,
# the file the link leads to unchanged, nothing created there. Root's own
# file there is written, and a link of root's own in the middle of the
# path is followed. Anywhere, another user's link leads only to their own
# files (a directory they made in /tmp under the path's name), and a FIFO
# with no reader is refused, not waited on.
. "$(dirname "$0")/lib.sh"
t_require_tlswatch

if [ "$(id -u)" -ne 0 ] || ! id nobody >/dev/null 2>&1; then
	ok "# SKIP needs root (chown) and the user nobody"
	t_done
fi

# The sysctls are left as they are (they are machine-wide: setting them
# to 0 weakened every other process, and two runs at once could leave
# them 0): the walk never lets the kernel follow a link outside /proc nor
# open an existing file with O_CREAT, so what is checked here holds
# whatever they say (test_output_file checks the walk itself the same way).
for s in fs.protected_symlinks fs.protected_regular fs.protected_hardlinks \
	fs.protected_fifos; do
	echo "# $s=$(sysctl -n "$s" 2>/dev/null || echo '?')"
done
AGENT_PID=
# the agent and $T_TMP, also when the test fails or is killed
trap '[ -n "$AGENT_PID" ] && kill "$AGENT_PID" 2>/dev/null; rm -rf "$T_TMP"' EXIT
trap 'exit 1' INT TERM HUP

run_tw() { T_RC=0; "$TW" "$@" >"$T_TMP/out" 2>"$T_TMP/err" </dev/null || T_RC=$?; }
# The agent in a network namespace of its own, on its loopback only:
# never on this host's interfaces.
run_agent() { # --json-log FILE: runs until refused (the status in $T_RC)
	T_RC=0
	timeout 20 unshare -n "$TW" run --iface lo --no-metrics --db "$T_TMP/run.db" \
		--json-log "$1" >"$T_TMP/out" 2>"$T_TMP/err" </dev/null || T_RC=$?
}

h=$T_TMP/o
mkdir -p "$h/elsewhere"
mkdir -m 1777 "$h/sticky"
printf 'victim\n' >"$h/victim.txt"
A=$CAPS/tls12_rsa.pcap

# --- --json-log --------------------------------------------------------
# another user's link to a file of root's: before, the agent appended
# its events there (fs.protected_symlinks=0)
ln -s ../victim.txt "$h/sticky/theirs.jsonl"
chown -h nobody "$h/sticky/theirs.jsonl"
run_agent "$h/sticky/theirs.jsonl"
assert_eq "--json-log another user's link in a sticky world-writable directory: exit 3, said, its target unchanged" \
	"3|tlswatch run: $h/sticky/theirs.jsonl: another user's link, file or FIFO on the path; refusing to follow or open it|victim" \
	"$T_RC|$(cat "$T_TMP/err")|$(cat "$h/victim.txt")"
# to no file: nothing created at its target
ln -s ../elsewhere/new.jsonl "$h/sticky/dangling.jsonl"
chown -h nobody "$h/sticky/dangling.jsonl"
run_agent "$h/sticky/dangling.jsonl"
assert_eq "--json-log another user's dangling link there: exit 3, said, nothing created" \
	"3|tlswatch run: $h/sticky/dangling.jsonl: another user's link, file or FIFO on the path; refusing to follow or open it|" \
	"$T_RC|$(cat "$T_TMP/err")|$(ls -A "$h/elsewhere")"
# another user's file there (fs.protected_regular=0 let O_CREAT open it)
printf 'theirs\n' >"$h/sticky/theirs-file.jsonl"
chown nobody "$h/sticky/theirs-file.jsonl"
run_agent "$h/sticky/theirs-file.jsonl"
assert_eq "--json-log another user's file there: exit 3, said, the file unchanged" \
	"3|tlswatch run: $h/sticky/theirs-file.jsonl: another user's link, file or FIFO on the path; refusing to follow or open it|theirs" \
	"$T_RC|$(cat "$T_TMP/err")|$(cat "$h/sticky/theirs-file.jsonl")"
# a hard link there to a file root owns elsewhere (what another user can
# make with fs.protected_hardlinks=0)
ln "$h/victim.txt" "$h/sticky/hard.jsonl"
run_agent "$h/sticky/hard.jsonl"
assert_eq "--json-log a hard link to root's file: exit 3, said, the file unchanged" \
	"3|tlswatch run: $h/sticky/hard.jsonl: the file has other names (hard links); refusing to write into it|victim" \
	"$T_RC|$(cat "$T_TMP/err")|$(cat "$h/victim.txt")"
# another user's link in the middle of the path
ln -s ../elsewhere "$h/sticky/evil"
chown -h nobody "$h/sticky/evil"
run_agent "$h/sticky/evil/x.jsonl"
assert_eq "--json-log through another user's link in the middle of the path: exit 3, said, nothing created" \
	"3|tlswatch run: $h/sticky/evil/x.jsonl: another user's link, file or FIFO on the path; refusing to follow or open it|" \
	"$T_RC|$(cat "$T_TMP/err")|$(ls -A "$h/elsewhere")"
# root's own file there, reached through root's own link in the middle of
# the path: appended to (what was there kept)
ln -s sticky "$h/ours"
printf 'ours\n' >"$h/sticky/ours.jsonl"
timeout 60 unshare -n "$TW" run --iface lo --no-metrics --db "$T_TMP/run.db" \
	--json-log "$h/ours/ours.jsonl" >"$T_TMP/out" 2>"$T_TMP/err" </dev/null &
AGENT_PID=$!
for _ in $(seq 300); do
	[ "$(wc -l <"$h/sticky/ours.jsonl")" -ge 2 ] && break
	kill -0 "$AGENT_PID" 2>/dev/null || break
	sleep 0.1
done
# SIGHUP reopens the log by its path: moved away, and another user's
# link put in its place, the reopening is refused (the reload with it,
# config_refused in the old file, still written), the link not followed
mv "$h/sticky/ours.jsonl" "$h/sticky/ours.old"
ln -s ../victim.txt "$h/sticky/ours.jsonl"
chown -h nobody "$h/sticky/ours.jsonl"
kill -HUP "$AGENT_PID"
for _ in $(seq 300); do
	grep -q '"state":"config_refused"' "$h/sticky/ours.old" && break
	kill -0 "$AGENT_PID" 2>/dev/null || break
	sleep 0.1
done
kill "$AGENT_PID" 2>/dev/null
T_RC=0
wait "$AGENT_PID" || T_RC=$?
AGENT_PID=
state() { # line N of the old log: its event and state
	sed -n "$1p" "$h/sticky/ours.old" | "$PY" -c 'import json,sys; e=json.load(sys.stdin); print(e["event"], e["state"])'
}
assert_eq "--json-log root's own file there through root's own link: exit 0, appended after what was there" \
	"0|ours|agent started" "$T_RC|$(head -n1 "$h/sticky/ours.old")|$(state 2)"
assert_eq "--json-log replaced by another user's link there, SIGHUP: the reload refused, said in the old log, the link's target unchanged" \
	"--json-log $h/ours/ours.jsonl: cannot reopen: another user's link, file or FIFO on the path; refusing to follow or open it; still writing to the old file|victim" \
	"$(grep '"state":"config_refused"' "$h/sticky/ours.old" | "$PY" -c 'import json,sys; print(json.loads(sys.stdin.readline())["message"])')|$(cat "$h/victim.txt")"

# a directory another user made in the sticky directory under the name
# the path goes through, their link in it to root's file: not a sticky
# directory (the kernel's rules say nothing), yet it leads root out of
# their files; before, the agent appended its events to root's file
# (root.txt: one name, victim.txt has two by now)
printf 'root\n' >"$h/root.txt"
mkdir "$h/sticky/squat"
ln -s ../../root.txt "$h/sticky/squat/x.jsonl"
chown -h nobody "$h/sticky/squat" "$h/sticky/squat/x.jsonl"
run_agent "$h/sticky/squat/x.jsonl"
assert_eq "--json-log another user's link in a directory they made there, to root's file: exit 3, said, its target unchanged" \
	"3|tlswatch run: $h/sticky/squat/x.jsonl: another user's link, file or FIFO on the path; refusing to follow or open it|root" \
	"$T_RC|$(cat "$T_TMP/err")|$(cat "$h/root.txt")"

# --- --html ------------------------------------------------------------
# a FIFO at the path with no reader (another user's, or anyone's): before,
# the open waited for a reader forever (timeout's 124)
mkfifo "$h/page.fifo"
T_RC=0
timeout 20 "$TW" analyze -q --html "$h/page.fifo" "$A" >"$T_TMP/out" 2>"$T_TMP/err" </dev/null ||
	T_RC=$?
assert_eq "analyze --html a FIFO with no reader: exit 3, said" \
	"3|tlswatch analyze: --html $h/page.fifo: a FIFO with no reader, or a socket; refusing to wait for one" \
	"$T_RC|$(cat "$T_TMP/err")"
# (the end-of-path link and another user's file: tests/e2e/cli_files.sh)
run_tw analyze -q --html "$h/sticky/evil/page.html" "$A"
assert_eq "analyze --html through another user's link in the middle of the path: exit 3, said, nothing created" \
	"3|tlswatch analyze: --html $h/sticky/evil/page.html: another user's link, file or FIFO on the path; refusing to follow or open it|" \
	"$T_RC|$(cat "$T_TMP/err")|$(ls -A "$h/elsewhere")"
# (an earlier page of root's: what --html writes over)
printf '<!DOCTYPE html>\nvictim\n' >"$h/victim.html"
ln "$h/victim.html" "$h/sticky/hard.html"
run_tw analyze -q --html "$h/sticky/hard.html" "$A"
assert_eq "analyze --html a hard link to root's file: exit 3, said, the file unchanged" \
	"3|tlswatch analyze: --html $h/sticky/hard.html: the file has other names (hard links); refusing to write into it|<!DOCTYPE html> victim " \
	"$T_RC|$(cat "$T_TMP/err")|$(tr '\n' ' ' <"$h/victim.html")"
run_tw analyze -q --db "$T_TMP/inv.db" --html "$h/ours/page.html" "$A"
assert_eq "analyze --html through root's own link in the middle of the path: exit 0, the page there" \
	"0|<!DOCTYPE html>" "$T_RC|$(head -n1 "$h/sticky/page.html")"
run_tw inventory --db "$T_TMP/inv.db" --html "$h/sticky/evil/inv.html"
assert_eq "inventory --html through another user's link in the middle of the path: exit 3, said, nothing created" \
	"3|tlswatch inventory: --html $h/sticky/evil/inv.html: another user's link, file or FIFO on the path; refusing to follow or open it|" \
	"$T_RC|$(cat "$T_TMP/err")|$(ls -A "$h/elsewhere")"
run_tw inventory --db "$T_TMP/inv.db" --html "$h/sticky/hard.html"
assert_eq "inventory --html a hard link to root's file: exit 3, said, the file unchanged" \
	"3|tlswatch inventory: --html $h/sticky/hard.html: the file has other names (hard links); refusing to write into it|<!DOCTYPE html> victim " \
	"$T_RC|$(cat "$T_TMP/err")|$(tr '\n' ' ' <"$h/victim.html")"

# --- the --db lease (SQLite then opens the file by its path) -----------
ln -s ../elsewhere/inv.db "$h/sticky/theirs.db"
chown -h nobody "$h/sticky/theirs.db"
run_tw analyze -q --db "$h/sticky/theirs.db" "$A"
assert_eq "analyze --db another user's dangling link there: exit 3, said, no database created at its target" \
	"3|tlswatch analyze: $h/sticky/theirs.db: opening it for its lease: another user's link, file or FIFO on the path; refusing to follow or open it|" \
	"$T_RC|$(cat "$T_TMP/err")|$(ls -A "$h/elsewhere")"
run_tw analyze -q --db "$h/sticky/evil/inv.db" "$A"
assert_eq "analyze --db through another user's link in the middle of the path: exit 3, said, nothing created" \
	"3|tlswatch analyze: $h/sticky/evil/inv.db: opening it for its lease: another user's link, file or FIFO on the path; refusing to follow or open it|" \
	"$T_RC|$(cat "$T_TMP/err")|$(ls -A "$h/elsewhere")"
# ".." after a link: the parent of where the link led, for the lease as
# for SQLite (which resolves the path's links itself, then its ".."): one
# database, where both put it
mkdir -p "$h/real/sub"
ln -s real/sub "$h/a"
run_tw analyze -q --db "$h/a/../dd.db" "$A"
assert_eq "analyze --db a/../dd.db with a a link: exit 0, one database, in the link target's parent" \
	"0|dd.db sub||ok" \
	"$T_RC|$(ls "$h/real" | tr '\n' ' ' | sed 's/ $//')|$(ls "$h" | grep '^dd' || true)|$("$PY" -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("pragma integrity_check").fetchone()[0])' "$h/real/dd.db")"
# SQLite's files beside the database (opened by it with O_CREAT, not
# O_EXCL): another user's -wal in a sticky world-writable directory (a
# crafted log SQLite would replay into the database), a -journal with
# another name; refused before SQLite opens anything, the database the
# lease created removed
printf 'theirs\n' >"$h/sticky/side.db-wal"
chown nobody "$h/sticky/side.db-wal"
run_tw analyze -q --db "$h/sticky/side.db" "$A"
assert_eq "analyze --db with another user's -wal beside it there: exit 3, said, no database left, the -wal unchanged" \
	"3|tlswatch analyze: $h/sticky/side.db: SQLite's $h/sticky/side.db-wal beside it: another user's link, file or FIFO on the path; refusing to follow or open it|side.db-wal|theirs" \
	"$T_RC|$(cat "$T_TMP/err")|$(ls -A "$h/sticky" | grep '^side')|$(cat "$h/sticky/side.db-wal")"
ln "$h/victim.txt" "$h/hl.db-journal"
run_tw analyze -q --db "$h/hl.db" "$A"
assert_eq "analyze --db with a hard link as its -journal: exit 3, said, the linked file unchanged" \
	"3|tlswatch analyze: $h/hl.db: SQLite's $h/hl.db-journal beside it: the file has other names (hard links); refusing to write into it|victim" \
	"$T_RC|$(cat "$T_TMP/err")|$(cat "$h/victim.txt")"
t_done
