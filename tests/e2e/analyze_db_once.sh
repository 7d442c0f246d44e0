#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# analyze --db adds a capture to the database once: the same capture run
# again (or copied under another name) is reported again, judged against a
# copy of the database, and not counted again, so the inventory's counts
# stay those of one run (they used to double with each run). Refused with
# exit 2 before anything is read: a capture added given with others that
# were not, the same capture twice on one command line, a capture that
# begins with the bytes of one added (it grew since, from under 64 KiB
# too; not from a capture of the file's header alone, which is not
# recorded). Standard input is recognised as a file is. A run killed part-way
# adds nothing, so the next one adds its captures. The captures are the
# committed ones (scripts/make-captures.sh).
. "$(dirname "$0")/lib.sh"
t_require_tlswatch

db=$T_TMP/inv.db
rows() { # db: "name count" of each row, in listing order
	"$TW" inventory --db "$1" --json 2>/dev/null | "$PY" -c 'import json,sys
print(" ".join("%s %s" % (r["name"], r["count"]) for r in map(json.loads, sys.stdin)))'
}

"$TW" analyze -q --db "$db" "$CAPS/tls12_rsa.pcap" >"$T_TMP/out1"
assert_eq "first run: exit 0" 0 "$?"
assert_eq "first run: rsa.test served twice" "rsa.test 2" "$(rows "$db")"

"$TW" analyze --db "$db" "$CAPS/tls12_rsa.pcap" >"$T_TMP/out2" 2>"$T_TMP/err2"
assert_eq "second run of the same capture: exit 0" 0 "$?"
assert_eq "second run: the counts are those of one run" "rsa.test 2" "$(rows "$db")"
assert_eq "second run: the same report as the first" "$(cat "$T_TMP/out1")" "$(cat "$T_TMP/out2")"
assert_eq "second run: one line says so, naming the capture added" \
	"tlswatch analyze: $CAPS/tls12_rsa.pcap: already added to the --db database $db at TIME (as $CAPS/tls12_rsa.pcap): reported again, not counted again" \
	"$(sed -E 's/ at [0-9-]{10}T[0-9:]{8}Z / at TIME /' "$T_TMP/err2")"

cp "$CAPS/tls12_rsa.pcap" "$T_TMP/copy.pcap"
"$TW" analyze -q --db "$db" --json "$T_TMP/copy.pcap" >"$T_TMP/out3"
assert_eq "a copy under another name: exit 0" 0 "$?"
assert_eq "a copy: not counted again" "rsa.test 2" "$(rows "$db")"
assert_eq "a copy: its two handshakes reported" 2 "$(grep -c '"event":"handshake"' "$T_TMP/out3")"

"$TW" analyze -q --db "$db" "$CAPS/tls12_weak.pcap" "$T_TMP/copy.pcap" >"$T_TMP/out4" 2>"$T_TMP/err4"
assert_eq "a capture added with one that was not: exit 2" 2 "$?"
assert_eq "added with one that was not: said, naming the one added" \
	"tlswatch analyze: $T_TMP/copy.pcap: already added to the --db database $db at TIME (as $CAPS/tls12_rsa.pcap); the other captures given were not: give them without it" \
	"$(sed -E 's/ at [0-9-]{10}T[0-9:]{8}Z / at TIME /' "$T_TMP/err4")"
assert_eq "added with one that was not: nothing on standard output" 0 "$(wc -c <"$T_TMP/out4")"
assert_eq "added with one that was not: nothing counted" "rsa.test 2" "$(rows "$db")"

"$TW" analyze -q --db "$db" "$CAPS/tls12_weak.pcap" >/dev/null
assert_eq "another capture: exit 0" 0 "$?"
assert_eq "another capture adds its rows" "rsa.test 2 weak.test 1" "$(rows "$db")"

"$TW" analyze -q --db "$T_TMP/twice.db" "$CAPS/tls12_rsa.pcap" "$T_TMP/copy.pcap" \
	>/dev/null 2>"$T_TMP/err4"
assert_eq "the same capture twice on one command line: exit 2" 2 "$?"
assert_eq "the same capture twice: said" \
	"tlswatch analyze: $T_TMP/copy.pcap: the same capture as $CAPS/tls12_rsa.pcap; adding both to the --db database $T_TMP/twice.db would count its handshakes twice" \
	"$(cat "$T_TMP/err4")"
assert_eq "the same capture twice: nothing counted" "" "$(rows "$T_TMP/twice.db")"

# One connection to the database: the checks borrow the one that looked
# the captures up (they opened the file again: quick_check, migrations,
# prepares), for a new database, for one that exists, and for a capture
# added before (its temporary copy is made through that connection).
# Besides SQLite's, one read-only descriptor holds the run's lease.
for run in new:rsa existing:weak again:weak; do
	strace -f -e trace=open,openat -o "$T_TMP/strace" \
		"$TW" analyze -q --db "$T_TMP/once.db" "$CAPS/tls12_${run#*:}.pcap" >/dev/null
	assert_eq "${run%:*}: the database file is opened once by SQLite, once for the lease" \
		"1 1" "$(grep -c "\"$T_TMP/once.db\", O_RDWR" "$T_TMP/strace") $(
			grep -c "\"$T_TMP/once.db\", O_RDONLY" "$T_TMP/strace")"
done
assert_eq "the database opened once: both captures counted" \
	"rsa.test 2 weak.test 1" "$(rows "$T_TMP/once.db")"

# A capture that grew: its first 64 KiB were added already. Both files end
# on a record (the grown one is the first one and more of the same records).
"$PY" - "$CAPS/tls12_rsa.pcap" "$T_TMP/early.pcap" "$T_TMP/grown.pcap" <<'PY'
import sys
data = open(sys.argv[1], "rb").read()
head, records = data[:24], data[24:]
open(sys.argv[2], "wb").write(head + records * 8)
open(sys.argv[3], "wb").write(head + records * 10)
PY
"$TW" analyze -q --db "$T_TMP/grow.db" "$T_TMP/early.pcap" >/dev/null
assert_eq "a capture over 64 KiB: exit 0" 0 "$?"
"$TW" analyze -q --db "$T_TMP/grow.db" "$T_TMP/grown.pcap" >/dev/null 2>"$T_TMP/err5"
assert_eq "the same capture grown since: exit 2" 2 "$?"
assert_eq "the grown capture: said, with both sizes" \
	"tlswatch analyze: $T_TMP/grown.pcap: begins with the same 65536 bytes as $T_TMP/early.pcap, added to the --db database $T_TMP/grow.db at TIME ($(wc -c <"$T_TMP/early.pcap") bytes then, $(wc -c <"$T_TMP/grown.pcap") now); adding it would count those handshakes twice" \
	"$(sed -E 's/ at [0-9-]{10}T[0-9:]{8}Z / at TIME /' "$T_TMP/err5")"

# A capture added while smaller than 64 KiB was digested whole: grown
# since (to 16 records, and past 64 KiB), it begins with those bytes.
"$PY" - "$CAPS/tls12_rsa.pcap" "$T_TMP/small.pcap" "$T_TMP/small_grown.pcap" "$T_TMP/small_past.pcap" <<'PY'
import sys
data = open(sys.argv[1], "rb").read()
head, records = data[:24], data[24:]
open(sys.argv[2], "wb").write(head + records)
open(sys.argv[3], "wb").write(head + records * 2)
open(sys.argv[4], "wb").write(head + records * 9)
PY
"$TW" analyze -q --db "$T_TMP/small.db" "$T_TMP/small.pcap" >/dev/null
assert_eq "a capture under 64 KiB: exit 0" 0 "$?"
# beside it, other captures added whole: at its size (other bytes), and
# at sizes below and above it, so that the one found is the one it grew from
"$PY" - "$T_TMP/small.db" "$(wc -c <"$T_TMP/small.pcap")" <<'PY'
import hashlib, sqlite3, sys
db, n = sqlite3.connect(sys.argv[1]), int(sys.argv[2])
for i, size in enumerate((100, n, n, n + 500, 30000)):
    db.execute("INSERT INTO analyzed_capture VALUES (?, ?, ?, ?, 1)",
               (hashlib.sha256(b"decoy %d" % i).hexdigest(), size, size, "decoy%d" % i))
db.commit()
PY
for grown in small_grown small_past; do
	"$TW" analyze -q --db "$T_TMP/small.db" "$T_TMP/$grown.pcap" >/dev/null 2>"$T_TMP/err7"
	assert_eq "$grown: a capture under 64 KiB when added, grown since: exit 2" 2 "$?"
	assert_eq "$grown: said, with the bytes added and both sizes" \
		"tlswatch analyze: $T_TMP/$grown.pcap: begins with the same $(wc -c <"$T_TMP/small.pcap") bytes as $T_TMP/small.pcap, added to the --db database $T_TMP/small.db at TIME ($(wc -c <"$T_TMP/small.pcap") bytes then, $(wc -c <"$T_TMP/$grown.pcap") now); adding it would count those handshakes twice" \
		"$(sed -E 's/ at [0-9-]{10}T[0-9:]{8}Z / at TIME /' "$T_TMP/err7")"
done
assert_eq "the grown captures: nothing counted" "rsa.test 2" "$(rows "$T_TMP/small.db")"

# A capture of its file header alone (no packet record) is not recorded:
# every capture of the same link type and snap length (every tcpdump file
# of a host) begins with those bytes, and was refused as grown from it.
# A row of such a capture (recorded by an earlier tlswatch) is not taken
# for the beginning of another capture either: the bytes compared go past
# the file's header (24 bytes of pcap; pcapng's blocks before its first
# packet block).
head -c 24 "$CAPS/tls12_rsa.pcap" >"$T_TMP/header.pcap"
"$PY" - "$CAPS/tls12_rsa.pcapng" "$T_TMP/header.pcapng" <<'PY'
import struct, sys
data = open(sys.argv[1], "rb").read()
off = 0
while struct.unpack_from("<I", data, off)[0] not in (2, 3, 6):
    off += struct.unpack_from("<I", data, off + 4)[0]
open(sys.argv[2], "wb").write(data[:off])
PY
assert_eq "the pcapng header: its section header and interface blocks" \
	128 "$(wc -c <"$T_TMP/header.pcapng")"
for kind in pcap pcapng; do
	"$TW" analyze -q --db "$T_TMP/hdr_$kind.db" "$T_TMP/header.$kind" >/dev/null
	assert_eq "$kind header alone: exit 0" 0 "$?"
	assert_eq "$kind header alone: not recorded as added" "0" \
		"$("$PY" -c 'import sqlite3,sys
print(sqlite3.connect(sys.argv[1]).execute("select count(*) from analyzed_capture").fetchone()[0])' "$T_TMP/hdr_$kind.db")"
	"$TW" analyze -q --db "$T_TMP/hdr_$kind.db" "$CAPS/tls12_rsa.$kind" >/dev/null 2>"$T_TMP/err10"
	assert_eq "$kind header alone, then a capture with the same header: added" \
		"0||rsa.test 2" "$?|$(cat "$T_TMP/err10")|$(rows "$T_TMP/hdr_$kind.db")"
	# a row of the header alone, as an earlier tlswatch recorded it
	"$PY" - "$T_TMP/hdr_old_$kind.db" "$T_TMP/header.$kind" <<'PY'
import hashlib, sqlite3, sys
head = open(sys.argv[2], "rb").read()
db = sqlite3.connect(sys.argv[1])
db.execute("CREATE TABLE analyzed_capture (head_sha256 TEXT NOT NULL,"
           " head_len INTEGER NOT NULL, size INTEGER NOT NULL, name TEXT NOT NULL,"
           " added_us INTEGER NOT NULL, PRIMARY KEY (head_sha256, head_len, size))")
db.execute("INSERT INTO analyzed_capture VALUES (?, ?, ?, 'header', 1)",
           (hashlib.sha256(head).hexdigest(), len(head), len(head)))
db.commit()
PY
	"$TW" analyze -q --db "$T_TMP/hdr_old_$kind.db" "$CAPS/tls12_rsa.$kind" >/dev/null 2>"$T_TMP/err10"
	assert_eq "$kind header alone recorded before: a capture with that header is added" \
		"0||rsa.test 2" "$?|$(cat "$T_TMP/err10")|$(rows "$T_TMP/hdr_old_$kind.db")"
done

# Standard input is copied to a temporary file and identified as a file is,
# from a pipe or a redirection alike.
cat "$CAPS/tls12_rsa.pcap" | "$TW" analyze --db "$T_TMP/pipe.db" - >/dev/null 2>"$T_TMP/err6"
assert_eq "standard input from a pipe: exit 0" 0 "$?"
assert_eq "standard input from a pipe: nothing said" "" "$(cat "$T_TMP/err6")"
assert_eq "standard input from a pipe: counted" "rsa.test 2" "$(rows "$T_TMP/pipe.db")"
cat "$CAPS/tls12_rsa.pcap" | "$TW" analyze --db "$T_TMP/pipe.db" - >/dev/null 2>"$T_TMP/err6"
assert_eq "standard input again: exit 0" 0 "$?"
assert_eq "standard input again: recognised, said" \
	"tlswatch analyze: -: already added to the --db database $T_TMP/pipe.db at TIME (as -): reported again, not counted again" \
	"$(sed -E 's/ at [0-9-]{10}T[0-9:]{8}Z / at TIME /' "$T_TMP/err6")"
"$TW" analyze -q --db "$T_TMP/pipe.db" "$CAPS/tls12_rsa.pcap" - <"$CAPS/tls12_weak.pcap" >/dev/null 2>"$T_TMP/err6"
assert_eq "the file piped before, given by name: recognised (exit 2 beside a new one)" 2 "$?"
"$TW" analyze -q --db "$T_TMP/pipe.db" "$CAPS/tls12_rsa.pcap" >/dev/null 2>&1
assert_eq "the file piped before, given by name: not counted again" \
	"rsa.test 2" "$(rows "$T_TMP/pipe.db")"
cat "$CAPS/tls12_weak.pcap" | TMPDIR=$T_TMP/none "$TW" analyze -q --db "$T_TMP/pipe.db" - \
	>/dev/null 2>"$T_TMP/err6"
assert_eq "standard input, no temporary file: exit 3, said" \
	"3|tlswatch analyze: -: cannot copy standard input into a temporary file in $T_TMP/none (to identify it for --db): No such file or directory" \
	"$?|$(cat "$T_TMP/err6")"
# Where the file system has no O_TMPFILE (its absence injected, on the
# temporary directory alone), the copy is a named file unlinked at once;
# when it cannot be unlinked (an append-only directory: files are made
# there, never removed) the run stops (it was left there, unsaid).
mkdir "$T_TMP/append"
if chattr +a "$T_TMP/append" 2>/dev/null; then
	cat "$CAPS/tls12_weak.pcap" | TMPDIR=$T_TMP/append strace -o /dev/null -P "$T_TMP/append" \
		-e trace=openat -e inject=openat:error=EOPNOTSUPP \
		"$TW" analyze -q --db "$T_TMP/pipe.db" - >/dev/null 2>"$T_TMP/err6"
	assert_eq "standard input, a temporary file that cannot be unlinked: exit 3, said" \
		"3|tlswatch analyze: -: cannot remove the temporary file $T_TMP/append/tlswatch-stdin-X made to copy standard input into (to identify it for --db): Operation not permitted; remove it" \
		"$?|$(sed -E 's/tlswatch-stdin-[A-Za-z0-9]{6}/tlswatch-stdin-X/' "$T_TMP/err6")"
	assert_eq "that file: empty, nothing copied into it" "0" \
		"$(cat "$T_TMP"/append/tlswatch-stdin-* | wc -c)"
	chattr -a "$T_TMP/append"
else
	ok "# SKIP an append-only directory (chattr +a) needs root and ext4"
fi
"$TW" analyze -q --db "$T_TMP/pipe.db" - - <"$CAPS/tls12_weak.pcap" >/dev/null 2>"$T_TMP/err6"
assert_eq "standard input twice: exit 2" 2 "$?"
assert_eq "standard input twice: said, as without --db" \
	"tlswatch analyze: standard input ('-') given twice: it can be read only once|Try 'tlswatch analyze --help'." \
	"$(paste -sd'|' "$T_TMP/err6")"

# A run killed part-way adds nothing: the capture it had read is added by
# the next run. The second capture is a named pipe that never gets a
# byte, so the run waits there, the first capture read, until killed.
stall_run() { # db, analyze options...: runs analyze until it waits on the pipe
	local db=$1
	shift
	rm -f "$T_TMP/stall.pcap" "$T_TMP/stall.open"
	mkfifo "$T_TMP/stall.pcap"
	( exec 3>"$T_TMP/stall.pcap"; : >"$T_TMP/stall.open"; exec sleep 30 ) &
	stall_writer=$!
	"$TW" analyze -q --db "$db" "$@" "$CAPS/tls12_rsa.pcap" "$T_TMP/stall.pcap" \
		>/dev/null 2>&1 &
	stall_run=$!
	for _ in $(seq 100); do [ -e "$T_TMP/stall.open" ] && break; sleep 0.1; done
	assert_eq "killed run ($db): it read the first capture and waits on the second" \
		yes "$([ -e "$T_TMP/stall.open" ] && kill -0 "$stall_run" 2>/dev/null && echo yes)"
}
stall_kill() {
	kill -KILL "$stall_run" "$stall_writer" 2>/dev/null
	wait "$stall_run" "$stall_writer" 2>/dev/null
}
stall_run "$T_TMP/killed.db"
# meanwhile, another run adding to the same database is refused at once
# (the run's lease; it used to wait 5 s, then fail: database is locked)
"$TW" analyze -q --db "$T_TMP/killed.db" "$CAPS/tls12_weak.pcap" >/dev/null 2>"$T_TMP/err8"
assert_eq "another run while one adds: exit 3, said" \
	"3|tlswatch analyze: $T_TMP/killed.db: another tlswatch analyze --db run is adding to this database; run this one once it has ended" \
	"$?|$(cat "$T_TMP/err8")"
stall_kill
"$TW" analyze --db "$T_TMP/killed.db" "$CAPS/tls12_rsa.pcap" >/dev/null 2>"$T_TMP/err8"
assert_eq "after a killed run: the capture is added, exit 0" 0 "$?"
assert_eq "after a killed run: nothing said" "" "$(cat "$T_TMP/err8")"
assert_eq "after a killed run: counted once" "rsa.test 2" "$(rows "$T_TMP/killed.db")"
# With --webhook the run commits as it goes (the outbox shares the file):
# the capture is still recorded only at the end, so the next run adds it.
stall_run "$T_TMP/killed_hook.db" --webhook http://127.0.0.1:9/hook
stall_kill
"$TW" analyze --db "$T_TMP/killed_hook.db" "$CAPS/tls12_rsa.pcap" >/dev/null 2>"$T_TMP/err9"
assert_eq "after a killed run with --webhook: the capture is added, exit 0" 0 "$?"
assert_eq "after a killed run with --webhook: nothing said" "" "$(cat "$T_TMP/err9")"
t_done
