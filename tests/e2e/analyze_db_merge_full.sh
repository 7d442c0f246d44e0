#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# analyze --db --webhook runs on a temporary copy of the database and
# merges what it wrote into the file at the end: a merge that runs out of
# space leaves the file as it was (exact rows before and after), exits 3
# and says why, naming the merge and the file; once space is freed, the
# next run adds the same captures, once.
#
# The file lives on a small tmpfs (1 MiB) mounted in this script's own
# mount namespace (unshare -m: it goes when the script exits), filled so
# that about 96 KiB stay free: room for the run to open the file (its
# -shm, the outbox's connection), not for a merge of 1000 captures'
# records (the merge needs some 200 KiB here; the open fails under about
# 30 KiB). SQLite's temporary copy is in $TMPDIR, off the tmpfs. No
# alert is raised (a clean handshake, captures without TLS), so nothing
# is sent to the --webhook URL.
if [ -z "${TW_MERGE_FULL_NS:-}" ] && [ "$(id -u)" -eq 0 ]; then
	TW_MERGE_FULL_NS=1 exec unshare -m --propagation private "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"
t_require_tlswatch
if [ "$(id -u)" -ne 0 ]; then
	ok "a merge on a full disk # SKIP needs root (a tmpfs in a mount namespace)"
	t_done
fi
command -v sqlite3 >/dev/null || { not_ok "sqlite3 is installed (scripts/install-deps.sh)"; t_done; }

small=$T_TMP/small
trap 'umount "$small" 2>/dev/null; rm -rf "$T_TMP"' EXIT
mkdir "$small" && mount -t tmpfs -o size=1m tw-merge-full "$small" ||
	{ not_ok "a 1 MiB tmpfs mounted in the test's mount namespace"; t_done; }
db=$small/inv.db
export TMPDIR=$T_TMP
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

# 1000 captures of one packet each (distinct bytes): 1000 records to merge
"$PY" - "$T_TMP/caps" <<'PY'
import os, struct, sys
out = sys.argv[1]
os.mkdir(out)
for i in range(1000):
    pkt = (b"\0" * 12 + b"\x08\x00" + b"\x45" + b"\0" * 3 + struct.pack(">H", i) +
           b"\0" * 14)
    with open("%s/c%04d.pcap" % (out, i), "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        f.write(struct.pack("<IIII", i, 0, len(pkt), len(pkt)) + pkt)
PY
free=$(df --output=avail -k "$small" | tail -1)
dd if=/dev/zero of="$small/fill" bs=1k count=$((free - 96)) 2>/dev/null
assert_eq "the tmpfs has 96 KiB left" 96 "$(df --output=avail -k "$small" | tail -1 | tr -d ' ')"

"$TW" analyze -q --db "$db" --ca-file "$CA" --webhook "$HOOK" "$T_TMP"/caps/*.pcap \
	>/dev/null 2>"$T_TMP/err"
assert_eq "the merge runs out of space: exit 3, said once, naming the merge and the file" \
	"3|tlswatch analyze: inventory $db: merging the run: database or disk is full; the captures read were not recorded as added to the --db database $db, nor anything of this run" \
	"$?|$(cat "$T_TMP/err")"
assert_eq "the merge runs out of space: no -wal or -shm left" "fill inv.db" \
	"$(ls "$small" | paste -sd' ')"
rm "$small/fill"
assert_eq "the merge runs out of space: the file as it was" "$before" "$(rows)"

# space freed: the same captures are added, once
"$TW" analyze -q --db "$db" --ca-file "$CA" --webhook "$HOOK" "$T_TMP"/caps/*.pcap \
	>/dev/null 2>"$T_TMP/err"
assert_eq "space freed: the same captures added" "0|" "$?|$(cat "$T_TMP/err")"
assert_eq "space freed: 1000 captures more, no served row more" \
	"served|1|2 analyzed_capture|1001 analyzed_capture_prefix|39 ok" "$(rows)"
t_done
