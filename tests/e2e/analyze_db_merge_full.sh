#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# analyze --db --webhook runs on a temporary copy of the database and
# merges what it wrote into the file at the end: a merge that runs out of
# space leaves the file as it was (exact rows before and after), exits 3
# and says why, naming the merge and the file; once there is space again,
# the next run adds the same captures, once.
#
# The full disk is injected (strace: every write into the file's -wal, the
# merge's, fails with ENOSPC), not made by filling a file system: how much
# room a merge needs, and an open, depends on the page size and SQLite's,
# so a fill that leaves room for the one and not the other held only on
# some hosts. No alert is raised (a clean handshake, captures without
# TLS), so nothing is sent to the --webhook URL, and nothing else writes
# into the -wal.
. "$(dirname "$0")/lib.sh"
t_require_tlswatch
command -v sqlite3 >/dev/null || { not_ok "sqlite3 is installed (scripts/install-deps.sh)"; t_done; }
command -v strace >/dev/null || { not_ok "strace is installed (scripts/install-deps.sh)"; t_done; }

# an absolute path: strace's -P names the -wal
case $T_TMP in /*) db=$T_TMP/inv.db ;; *) db=$PWD/$T_TMP/inv.db ;; esac
CA=tests/data/pki/root.crt
HOOK=http://127.0.0.1:9/alerts          # never called: no alert
rows() { # what the file holds, one line per table
	sqlite3 "$db" "SELECT 'served', count(*), sum(count) FROM served;
		SELECT 'analyzed_capture', count(*) FROM analyzed_capture;
		SELECT 'analyzed_capture_prefix', count(*) FROM analyzed_capture_prefix;
		PRAGMA integrity_check" | paste -sd' '
}

"$TW" analyze -q --db "$db" --ca-file "$CA" --webhook "$HOOK" "$CAPS/tls12_rsa.pcap" \
	>/dev/null 2>"$T_TMP/err"
assert_eq "setup: a clean capture added with --webhook" "0|" "$?|$(cat "$T_TMP/err")"
before=$(rows)
assert_eq "setup: the rows before" \
	"served|1|2 analyzed_capture|1 analyzed_capture_prefix|39 ok" "$before"

# 100 captures of one packet each (distinct bytes): 100 records to merge
"$PY" - "$T_TMP/caps" <<'PY'
import os, struct, sys
out = sys.argv[1]
os.mkdir(out)
for i in range(100):
    pkt = (b"\0" * 12 + b"\x08\x00" + b"\x45" + b"\0" * 3 + struct.pack(">H", i) +
           b"\0" * 14)
    with open("%s/c%03d.pcap" % (out, i), "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        f.write(struct.pack("<IIII", i, 0, len(pkt), len(pkt)) + pkt)
PY

strace -f -qq -o /dev/null -P "$db-wal" -e trace=pwrite64 -e inject=pwrite64:error=ENOSPC \
	"$TW" analyze -q --db "$db" --ca-file "$CA" --webhook "$HOOK" "$T_TMP"/caps/*.pcap \
	>/dev/null 2>"$T_TMP/err"
assert_eq "the merge runs out of space: exit 3, said once, naming the merge and the file" \
	"3|tlswatch analyze: inventory $db: merging the run: database or disk is full; the captures read were not recorded as added to the --db database $db, nor anything of this run" \
	"$?|$(cat "$T_TMP/err")"
assert_eq "the merge runs out of space: no -wal or -shm left" "inv.db" \
	"$(ls "$T_TMP" | grep '^inv\.db' | paste -sd' ')"
assert_eq "the merge runs out of space: the file as it was" "$before" "$(rows)"

# space again: the same captures are added, once
"$TW" analyze -q --db "$db" --ca-file "$CA" --webhook "$HOOK" "$T_TMP"/caps/*.pcap \
	>/dev/null 2>"$T_TMP/err"
assert_eq "space again: the same captures added" "0|" "$?|$(cat "$T_TMP/err")"
assert_eq "space again: 100 captures more, no served row more" \
	"served|1|2 analyzed_capture|101 analyzed_capture_prefix|39 ok" "$(rows)"
"$TW" analyze -q --db "$db" --ca-file "$CA" --webhook "$HOOK" "$T_TMP"/caps/c000.pcap \
	>/dev/null 2>"$T_TMP/err"
assert_eq "space again: a capture of them given again is recognised (exit 0, not counted again)" \
	"0|served|1|2 analyzed_capture|101 analyzed_capture_prefix|39 ok" "$?|$(rows)"
t_done
