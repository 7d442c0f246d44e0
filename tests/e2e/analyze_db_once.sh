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
# recorded; a copy cut short, under 64 KiB too, but not a capture that
# only begins as one added). Standard input, and a
# named pipe given by path, are recognised as a file is. (A run killed
# part-way: analyze_db_killed.sh.) The captures are the committed ones
# (scripts/make-captures.sh).
. "$(dirname "$0")/lib.sh"
t_require_tlswatch

db=$T_TMP/inv.db
rows() { # db: "name count" of each row, in listing order
	"$TW" inventory --db "$1" --json 2>/dev/null | "$PY" -c 'import json,sys
print(" ".join("%s %s" % (r["name"], r["count"]) for r in map(json.loads, sys.stdin)))'
}
ends() { # db [condition]: the lengths of the beginnings recorded, shortest first
	sqlite3 "$1" "SELECT group_concat(len, ' ') FROM (SELECT len FROM analyzed_capture_prefix WHERE ${2:-1} ORDER BY len)"
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
# Besides SQLite's, one read-only descriptor holds the run's lease
# (opened by its name in its directory, common/output_file.c: counted
# when the open succeeded; a try to create it finds it there).
for run in new:rsa existing:weak again:weak; do
	strace -f -e trace=open,openat -o "$T_TMP/strace" \
		"$TW" analyze -q --db "$T_TMP/once.db" "$CAPS/tls12_${run#*:}.pcap" >/dev/null
	assert_eq "${run%:*}: the database file is opened once by SQLite, once for the lease" \
		"1 1" "$(grep -c "\"$T_TMP/once.db\", O_RDWR" "$T_TMP/strace") $(
			grep "\"once.db\", O_RDONLY" "$T_TMP/strace" | grep -vc ' = -1 ')"
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

# A named pipe given by its path is copied into a temporary file first, as
# standard input is, and identified as a file is: the same bytes through
# another pipe are recognised, not counted again (they used to be added
# unchecked, with a warning, and counted again); the same pipe given twice
# is refused; a device cannot be identified and is refused.
feed() { # capture: written into the pipe $T_TMP/cap.fifo, in the background
	( exec cat "$1" >"$T_TMP/cap.fifo" ) &
	feeder=$!
}
mkfifo "$T_TMP/cap.fifo"
feed "$CAPS/tls12_rsa.pcap"
"$TW" analyze --db "$T_TMP/fifo.db" "$T_TMP/cap.fifo" >/dev/null 2>"$T_TMP/err11"
assert_eq "a named pipe: exit 0, nothing said" "0|" "$?|$(cat "$T_TMP/err11")"
wait "$feeder"
assert_eq "a named pipe: counted" "rsa.test 2" "$(rows "$T_TMP/fifo.db")"
feed "$CAPS/tls12_rsa.pcap"
"$TW" analyze --db "$T_TMP/fifo.db" "$T_TMP/cap.fifo" >/dev/null 2>"$T_TMP/err11"
assert_eq "the same bytes through the pipe again: exit 0, recognised, said" \
	"0|tlswatch analyze: $T_TMP/cap.fifo: already added to the --db database $T_TMP/fifo.db at TIME (as $T_TMP/cap.fifo): reported again, not counted again" \
	"$?|$(sed -E 's/ at [0-9-]{10}T[0-9:]{8}Z / at TIME /' "$T_TMP/err11")"
wait "$feeder"
assert_eq "the same bytes through the pipe again: not counted again" "rsa.test 2" "$(rows "$T_TMP/fifo.db")"
"$TW" analyze -q --db "$T_TMP/fifo.db" "$CAPS/tls12_rsa.pcap" >/dev/null 2>&1
assert_eq "the file piped before, given by name: recognised, not counted again" \
	"rsa.test 2" "$(rows "$T_TMP/fifo.db")"
feed "$CAPS/tls12_weak.pcap"
"$TW" analyze -q --db "$T_TMP/fifo.db" "$T_TMP/cap.fifo" "$T_TMP/cap.fifo" >/dev/null 2>"$T_TMP/err11"
assert_eq "the same pipe twice: exit 2, said" \
	"2|tlswatch analyze: $T_TMP/cap.fifo: the same capture as $T_TMP/cap.fifo; adding both to the --db database $T_TMP/fifo.db would count its handshakes twice" \
	"$?|$(cat "$T_TMP/err11")"
wait "$feeder"
"$TW" analyze -q --db "$T_TMP/fifo.db" /dev/null "$CAPS/tls12_weak.pcap" >/dev/null 2>"$T_TMP/err11"
assert_eq "a device: exit 2, said" \
	"2|tlswatch analyze: /dev/null: not a regular file or a pipe, so it could not be recognised if given again; not added to the --db database $T_TMP/fifo.db (copy it into a file, or give it as standard input, '-')" \
	"$?|$(cat "$T_TMP/err11")"
assert_eq "the same pipe twice, a device: nothing counted" "rsa.test 2" "$(rows "$T_TMP/fifo.db")"
TMPDIR=$T_TMP/none "$TW" analyze -q --db "$T_TMP/fifo.db" "$T_TMP/cap.fifo" </dev/null \
	>/dev/null 2>"$T_TMP/err11" &
analyzer=$!
feed "$CAPS/tls12_weak.pcap"
wait "$analyzer"
assert_eq "a named pipe, no temporary file: exit 3, said" \
	"3|tlswatch analyze: $T_TMP/cap.fifo: cannot copy the named pipe into a temporary file in $T_TMP/none (to identify it for --db): No such file or directory" \
	"$?|$(cat "$T_TMP/err11")"
kill "$feeder" 2>/dev/null
wait "$feeder" 2>/dev/null

# A copy cut short below 64 KiB (digested whole) is recognised as one of
# the capture it was cut from (it was not: it was added, counting those
# handshakes again): each capture added records the digests of its
# beginnings at its record ends past its header, and the copy is looked
# up by its bytes up to its last whole record (what follows is a record
# cut short, which is not read). From a capture under 64 KiB, and from
# one over it (cut at a 4 KiB page's end: its records are past the first
# 64, see below); cut at a record's end, and within a record; pcapng too.
"$PY" - "$CAPS/tls12_rsa.pcap" "$CAPS/tls12_weak.pcap" "$CAPS/tls12_rsa.pcapng" "$T_TMP" <<'PY'
import sys
data = open(sys.argv[1], "rb").read()
weak = open(sys.argv[2], "rb").read()
ng = open(sys.argv[3], "rb").read()
out = sys.argv[4]
big = weak[:24] + weak[24:] * 16               # over 64 KiB
open(out + "/cut_big.pcap", "wb").write(big)
open(out + "/cut_big_part.pcap", "wb").write(big[:40960])  # at a page's end
open(out + "/cut_small_part.pcap", "wb").write(data[:5000])
open(out + "/cut_small_end.pcap", "wb").write(data[:4965])      # a record's end
open(out + "/cut_ng_part.pcapng", "wb").write(ng[:len(ng) - 100])
open(out + "/cut_small_tiny.pcap", "wb").write(data[:24 + 40])  # no whole record
# not cut from the capture added: its first connection (4468 bytes: more
# than half of it), then another's records (its bytes past 4468 differ)
open(out + "/cut_other.pcap", "wb").write(data[:4468] + weak[24:3444])
# its whole records the capture added's first ones, then a record cut
# short that is not the added capture's (analysis does not read it)
open(out + "/cut_other_tail.pcap", "wb").write(data[:4468] + weak[24:100])
PY
"$TW" analyze -q --db "$T_TMP/cut.db" "$CAPS/tls12_rsa.pcap" "$T_TMP/cut_big.pcap" \
	"$CAPS/tls12_rsa.pcapng" >/dev/null 2>"$T_TMP/err12"
assert_eq "setup: a capture under 64 KiB and one over it added" "0|" "$?|$(cat "$T_TMP/err12")"
assert_eq "setup: counted" "rsa.test 4 weak.test 16" "$(rows "$T_TMP/cut.db")"
for cut in small_part.pcap:4965:$CAPS/tls12_rsa.pcap small_end.pcap:4965:$CAPS/tls12_rsa.pcap \
	other_tail.pcap:4468:$CAPS/tls12_rsa.pcap big_part.pcap:40884:$T_TMP/cut_big.pcap \
	ng_part.pcapng:NG:$CAPS/tls12_rsa.pcapng; do
	name=${cut%%:*} rest=${cut#*:}
	copy=$T_TMP/cut_$name from=${rest#*:} same=${rest%%:*}
	# pcapng: up to the end of its last whole block
	[ "$same" = NG ] && same=$("$PY" - "$copy" <<'PY'
import struct, sys
d = open(sys.argv[1], "rb").read()
o = 0
while o + 12 <= len(d):
    n = struct.unpack("<I", d[o + 4:o + 8])[0]
    if o + n > len(d):
        break
    o += n
print(o)
PY
)
	"$TW" analyze -q --db "$T_TMP/cut.db" "$copy" >/dev/null 2>"$T_TMP/err12"
	rc=$?
	assert_eq "cut short ($name, $(wc -c <"$copy") bytes): exit 2, said with the bytes compared" \
		"2|tlswatch analyze: $copy: begins with the same $same bytes as $from, added to the --db database $T_TMP/cut.db at TIME ($(wc -c <"$from") bytes then, $(wc -c <"$copy") now); adding it would count those handshakes twice" \
		"$rc|$(sed -E 's/ at [0-9-]{10}T[0-9:]{8}Z / at TIME /' "$T_TMP/err12")"
done
assert_eq "the copies cut short: nothing counted" "rsa.test 4 weak.test 16" "$(rows "$T_TMP/cut.db")"
# no whole record: nothing read, so nothing counted, and not recorded
"$TW" analyze -q --db "$T_TMP/cut.db" "$T_TMP/cut_small_tiny.pcap" >/dev/null 2>"$T_TMP/err12"
assert_eq "cut short within its first record: not recognised (exit 0)" 0 "$?"
assert_eq "cut short within its first record: nothing counted" "rsa.test 4 weak.test 16" "$(rows "$T_TMP/cut.db")"
# A different capture whose first half is the first half of one added is
# not a copy cut short of it (it was refused: its beginning was compared
# at one length only, 4120 bytes): added, its handshakes counted
"$TW" analyze -q --db "$T_TMP/cut.db" "$T_TMP/cut_other.pcap" >/dev/null 2>"$T_TMP/err12"
assert_eq "a capture that only begins as one added: added (exit 0)" "0|" "$?|$(cat "$T_TMP/err12")"
assert_eq "a capture that only begins as one added: counted" "rsa.test 5 weak.test 17" "$(rows "$T_TMP/cut.db")"


# The beginnings kept per capture are bounded: those at its first 64
# record ends, and at its last record end within each 4 KiB page (a copy
# cut at a page's end: a full disk, a writer's 4 KiB buffer).
# A capture of 5000 records of 16 bytes (a record header, nothing
# captured) has 4094 record ends in its first 64 KiB: 64 + 16 rows kept,
# not 4094 (some 0.6 MB with 12-byte pcapng blocks); rows an older
# tlswatch kept beyond the bound are deleted by the next run that adds a
# capture, with --webhook (merged into the file) too, which marks the
# last capture bounded (table analyzed_capture_prefix_mark, a row per
# bound: first, page, the last capture's rowid); later runs bound only
# the captures added after it (an older tlswatch still writing into the
# file), the whole table never again.
"$PY" - "$T_TMP" <<'PY'
import struct, sys
out = sys.argv[1]
def tiny(n, ts):
    return (struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1) +
            b"".join(struct.pack("<IIII", ts + i, 0, 0, 0) for i in range(n)))
data = tiny(5000, 0)
open(out + "/tiny.pcap", "wb").write(data)
open(out + "/tiny_page.pcap", "wb").write(data[:40960])   # a page's end
open(out + "/tiny_mid.pcap", "wb").write(data[:40000])    # within a page
open(out + "/tiny_other.pcap", "wb").write(tiny(5000, 100000))
open(out + "/tiny_third.pcap", "wb").write(tiny(5000, 200000))
open(out + "/tiny_fourth.pcap", "wb").write(tiny(5000, 300000))
open(out + "/tiny_fifth.pcap", "wb").write(tiny(5000, 400000))
PY
prefixes() { # db: the rows of beginnings, of each capture
	sqlite3 "$1" "SELECT count(*) FROM analyzed_capture_prefix GROUP BY size, head_sha256 ORDER BY 1" | paste -sd' '
}
marks() { # db: the marks of the bounds applied, "rowid|first|page|upto" each
	sqlite3 "$1" "SELECT rowid, * FROM analyzed_capture_prefix_mark ORDER BY first" | paste -sd' '
}
"$TW" analyze -q --db "$T_TMP/tiny.db" "$T_TMP/tiny.pcap" >/dev/null 2>"$T_TMP/err14"
assert_eq "tiny records: added" "0|" "$?|$(cat "$T_TMP/err14")"
assert_eq "tiny records: 80 beginnings kept of 4094" 80 "$(prefixes "$T_TMP/tiny.db")"
assert_eq "tiny records: the first 64 record ends, then each page's last" \
	"40|1048|64 4088 8184 12280 16376 20472 24568 28664 32760 36856 40952 45048 49144 53240 57336 61432 65528" \
	"$(sqlite3 "$T_TMP/tiny.db" "SELECT min(len), max(len), count(*) FROM (SELECT len FROM analyzed_capture_prefix ORDER BY len LIMIT 64)") $(
		ends "$T_TMP/tiny.db" "len > 1048")"
"$TW" analyze -q --db "$T_TMP/tiny.db" "$T_TMP/tiny_page.pcap" >/dev/null 2>"$T_TMP/err14"
assert_eq "tiny records, a copy cut at a page's end: recognised (exit 2)" \
	"2|tlswatch analyze: $T_TMP/tiny_page.pcap: begins with the same 40952 bytes as $T_TMP/tiny.pcap, added to the --db database $T_TMP/tiny.db at TIME (80024 bytes then, 40960 now); adding it would count those handshakes twice" \
	"$?|$(sed -E 's/ at [0-9-]{10}T[0-9:]{8}Z / at TIME /' "$T_TMP/err14")"
"$TW" analyze -q --db "$T_TMP/tiny.db" "$T_TMP/tiny_mid.pcap" >/dev/null 2>"$T_TMP/err14"
assert_eq "tiny records, a copy cut within a page past the 64th record: not recognised, added (the bound)" \
	"0|" "$?|$(cat "$T_TMP/err14")"
assert_eq "tiny records: each capture's beginnings bounded (2498 record ends: 64 + 10)" "74 80" "$(prefixes "$T_TMP/tiny.db")"
# the rows an older tlswatch kept: every record end of a capture (of the
# first one added here, or of one it adds, @added), in a file where a
# build of another bound marked its own (left as it is)
old_rows() { # db capture added
	"$PY" - "$@" <<'PY'
import hashlib, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
data = open(sys.argv[2], "rb").read()
head = hashlib.sha256(data[:65536]).hexdigest()
if sys.argv[3] == "added":
    db.execute("INSERT INTO analyzed_capture VALUES (?, 65536, ?, 'old', 1)",
               (head, len(data)))
for end in range(40, 65537, 16):
    db.execute("INSERT OR IGNORE INTO analyzed_capture_prefix VALUES (?, ?, ?, 65536, ?)",
               (end, hashlib.sha256(data[:end]).hexdigest(), head, len(data)))
db.commit()
PY
}
sqlite3 "$T_TMP/tiny.db" "DELETE FROM analyzed_capture_prefix_mark;
	INSERT INTO analyzed_capture_prefix_mark VALUES (32, 8192, 0)"
old_rows "$T_TMP/tiny.db" "$T_TMP/tiny.pcap" known
assert_eq "setup: an older tlswatch's rows" "74 4094" "$(prefixes "$T_TMP/tiny.db")"
cp "$T_TMP/tiny.db" "$T_TMP/tiny_hook.db"
"$TW" analyze -q --db "$T_TMP/tiny.db" "$T_TMP/tiny_other.pcap" >/dev/null 2>"$T_TMP/err14"
assert_eq "the next run adds a capture: exit 0" "0|" "$?|$(cat "$T_TMP/err14")"
assert_eq "the next run: the older rows bounded, its own too" "74 80 80" "$(prefixes "$T_TMP/tiny.db")"
assert_eq "the next run: its bound marked up to its capture (the 3rd), the other bound's mark kept" \
	"1|32|8192|0 2|64|4096|3" "$(marks "$T_TMP/tiny.db")"
"$TW" analyze -q --db "$T_TMP/tiny_hook.db" --webhook http://127.0.0.1:9/alerts \
	"$T_TMP/tiny_third.pcap" >/dev/null 2>"$T_TMP/err14"
assert_eq "the next run with --webhook (merged): exit 0" "0|" "$?|$(cat "$T_TMP/err14")"
assert_eq "the next run with --webhook: the file's older rows bounded, its own too" \
	"74 80 80" "$(prefixes "$T_TMP/tiny_hook.db")"
assert_eq "the next run with --webhook: the file marked up to its capture" \
	"1|32|8192|0 2|64|4096|3" "$(marks "$T_TMP/tiny_hook.db")"
# an older tlswatch adds a capture after the mark, with all its rows; the
# next run bounds them (they were kept for ever, the file marked already)
for db in tiny tiny_hook; do
	old_rows "$T_TMP/$db.db" "$T_TMP/tiny_fourth.pcap" added
	assert_eq "$db: setup: an older tlswatch's capture after the mark" \
		"74 80 80 4094" "$(prefixes "$T_TMP/$db.db")"
done
"$TW" analyze -q --db "$T_TMP/tiny.db" "$T_TMP/tiny_third.pcap" >/dev/null 2>"$T_TMP/err14"
assert_eq "a run after the older tlswatch's: exit 0" "0|" "$?|$(cat "$T_TMP/err14")"
"$TW" analyze -q --db "$T_TMP/tiny_hook.db" --webhook http://127.0.0.1:9/alerts \
	"$T_TMP/tiny_other.pcap" >/dev/null 2>"$T_TMP/err14"
assert_eq "a run after the older tlswatch's, with --webhook: exit 0" "0|" "$?|$(cat "$T_TMP/err14")"
for db in tiny tiny_hook; do
	assert_eq "$db: the older tlswatch's capture added after the mark: bounded" \
		"74 80 80 80 80" "$(prefixes "$T_TMP/$db.db")"
	assert_eq "$db: marked up to the last capture (the 5th)" \
		"1|32|8192|0 2|64|4096|5" "$(marks "$T_TMP/$db.db")"
done
# The whole table is bounded once per file: rows beyond the bound of a
# capture before the mark are not looked at again, and the mark's row is
# updated in place (its rowid, set to 7, stays)
old_rows "$T_TMP/tiny.db" "$T_TMP/tiny.pcap" known
sqlite3 "$T_TMP/tiny.db" "UPDATE analyzed_capture_prefix_mark SET rowid = 7 WHERE first = 64"
"$TW" analyze -q --db "$T_TMP/tiny.db" "$T_TMP/tiny_fifth.pcap" >/dev/null 2>"$T_TMP/err14"
assert_eq "a run after the mark: exit 0" "0|" "$?|$(cat "$T_TMP/err14")"
assert_eq "a run after the mark: the captures before it not bounded again" \
	"74 80 80 80 80 4094" "$(prefixes "$T_TMP/tiny.db")"
assert_eq "a run after the mark: the mark updated in place" \
	"1|32|8192|0 7|64|4096|6" "$(marks "$T_TMP/tiny.db")"

# pcapng of two sections in different byte orders (two files joined with
# cat): libpcap reads the first only (exit 3), and so does the walk of
# its record ends, which stops at the second section header, said (not
# with -q). A copy cut within the second section, and a capture whose
# second section differs, are analysed as it was (the first section
# alone): both refused as copies cut short (the walk used to go on in the
# second section's order, so the other capture was added, its handshakes
# counted twice).
"$PY" scripts/make-mixed-pcapng.py "$T_TMP" || not_ok "scripts/make-mixed-pcapng.py failed"
mixed=$T_TMP/mixed-byteorder.pcapng
"$TW" analyze --db "$T_TMP/mixed.db" "$mixed" >/dev/null 2>"$T_TMP/err13"
assert_eq "two byte orders: exit 3, the second section read neither by libpcap nor by the walk" \
	"3|tlswatch analyze: $mixed: the file has sections with different byte orders: the section at byte 116 is in the other; the rest of the file was not read
tlswatch analyze: $mixed: section at byte 116 in the other byte order: libpcap reads no further: its beginnings are recorded for --db up to there" \
	"$?|$(cat "$T_TMP/err13")"
assert_eq "two byte orders: its beginning at the first section's end only" \
	"116" "$(ends "$T_TMP/mixed.db")"
head -c 228 "$mixed" >"$T_TMP/mixed_cut.pcapng"
other=$T_TMP/mixed-byteorder-other.pcapng
for copy in "$T_TMP/mixed_cut.pcapng" "$other"; do
	"$TW" analyze -q --db "$T_TMP/mixed.db" "$copy" >/dev/null 2>"$T_TMP/err13"
	rc=$?
	assert_eq "two byte orders, $(basename "$copy"): exit 2, compared up to the first section's end" \
		"2|tlswatch analyze: $copy: begins with the same 116 bytes as $mixed, added to the --db database $T_TMP/mixed.db at TIME (232 bytes then, 228 now); adding it would count those handshakes twice" \
		"$rc|$(sed -E 's/ at [0-9-]{10}T[0-9:]{8}Z / at TIME /' "$T_TMP/err13")"
done
assert_eq "two byte orders: one capture recorded" 1 \
	"$(sqlite3 "$T_TMP/mixed.db" "SELECT count(*) FROM analyzed_capture")"
# the same with handshakes: a capture of two, then two different
# big-endian sections appended (the two files joined with it)
"$PY" - "$CAPS/tls12_rsa.pcapng" "$mixed" "$other" "$T_TMP" <<'PY'
import sys
rsa = open(sys.argv[1], "rb").read()
for name, joined in (("a", sys.argv[2]), ("b", sys.argv[3])):
    open(sys.argv[4] + "/joined_%s.pcapng" % name, "wb").write(
        rsa + open(joined, "rb").read()[116:])
PY
"$TW" analyze -q --db "$T_TMP/joined.db" "$T_TMP/joined_a.pcapng" >/dev/null 2>&1
assert_eq "a capture and a big-endian section: exit 3, counted" \
	"3|rsa.test 2" "$?|$(rows "$T_TMP/joined.db")"
"$TW" analyze -q --db "$T_TMP/joined.db" "$T_TMP/joined_b.pcapng" >/dev/null 2>"$T_TMP/err13"
rc=$?
assert_eq "the same capture and another big-endian section: exit 2, refused" \
	"2|tlswatch analyze: $T_TMP/joined_b.pcapng: begins with the same $(wc -c <"$CAPS/tls12_rsa.pcapng") bytes as $T_TMP/joined_a.pcapng, added to the --db database $T_TMP/joined.db at TIME ($(wc -c <"$T_TMP/joined_a.pcapng") bytes then, $(wc -c <"$T_TMP/joined_b.pcapng") now); adding it would count those handshakes twice" \
	"$rc|$(sed -E 's/ at [0-9-]{10}T[0-9:]{8}Z / at TIME /' "$T_TMP/err13")"
assert_eq "the same capture and another big-endian section: not counted again" \
	"rsa.test 2" "$(rows "$T_TMP/joined.db")"
# a block length no block has (13) in the second section: libpcap stops
# there, and so does the walk of its record ends, said (not with -q)
"$PY" - "$mixed" "$T_TMP/badlen.pcapng" <<'PY'
import struct, sys
first = open(sys.argv[1], "rb").read()[:116]     # the little-endian section
bad = bytearray(first + first)
struct.pack_into("<I", bad, 116 + 28 + 4, 13)    # its interface block's length
open(sys.argv[2], "wb").write(bad)
PY
"$TW" analyze --db "$T_TMP/badlen.db" "$T_TMP/badlen.pcapng" >/dev/null 2>"$T_TMP/err13"
assert_eq "a bad block length in the second section: exit 3, said by libpcap and by the walk" \
	"3|tlswatch analyze: $T_TMP/badlen.pcapng: block in pcapng dump file has a length of 13 that is not a multiple of 4; the rest of the file was not read
tlswatch analyze: $T_TMP/badlen.pcapng: pcapng block at byte 144 has a length of 13, not a multiple of 4: its beginnings are recorded for --db up to there" \
	"$?|$(cat "$T_TMP/err13")"
assert_eq "a bad block length: its beginnings up to the bad block" "116 144" \
	"$(ends "$T_TMP/badlen.db")"
# a second section of major version 2 (scripts/make-mixed-pcapng.py):
# libpcap stops at its header, and so does the walk, said (it went on
# past it, recording beginnings analysis never reaches)
"$TW" analyze --db "$T_TMP/version.db" "$T_TMP/mixed-version.pcapng" >/dev/null 2>"$T_TMP/err13"
assert_eq "a section of major version 2: exit 3, said by libpcap and by the walk" \
	"3|tlswatch analyze: $T_TMP/mixed-version.pcapng: unknown pcapng savefile major version number 2; the rest of the file was not read
tlswatch analyze: $T_TMP/mixed-version.pcapng: pcapng section header at byte 116 has major version 2: libpcap reads no further: its beginnings are recorded for --db up to there" \
	"$?|$(cat "$T_TMP/err13")"
assert_eq "a section of major version 2: its beginning at the first section's end only" \
	"116" "$(ends "$T_TMP/version.db")"
# A file of session 12's interim build keeps an unused
# analyzed_capture_prefix_bound table: dropped when the file is opened,
# nothing else changed (the run adds nothing: its capture was added)
"$TW" analyze -q --db "$T_TMP/leftover.db" "$CAPS/tls12_rsa.pcap" >/dev/null 2>&1
# (one line each: the dump below is compared without that table's lines)
sqlite3 "$T_TMP/leftover.db" \
	"CREATE TABLE analyzed_capture_prefix_bound (first INTEGER NOT NULL, page INTEGER NOT NULL)" \
	"INSERT INTO analyzed_capture_prefix_bound VALUES (32, 4096)"
sqlite3 "$T_TMP/leftover.db" .dump | grep -v analyzed_capture_prefix_bound >"$T_TMP/leftover.before"
"$TW" analyze -q --db "$T_TMP/leftover.db" "$CAPS/tls12_rsa.pcap" >/dev/null 2>"$T_TMP/err15"
assert_eq "a leftover table: the run made again, exit 0, nothing said" "0|" "$?|$(cat "$T_TMP/err15")"
assert_eq "a leftover table: dropped at open" 0 \
	"$(sqlite3 "$T_TMP/leftover.db" "SELECT count(*) FROM sqlite_master WHERE name = 'analyzed_capture_prefix_bound'")"
sqlite3 "$T_TMP/leftover.db" .dump >"$T_TMP/leftover.after"
assert_true "a leftover table: nothing else changed" cmp -s "$T_TMP/leftover.before" "$T_TMP/leftover.after"
t_done
