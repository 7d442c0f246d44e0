#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Files of older schema versions: `tlswatch inventory` and `report` read
# every version from 1 on as it is (version 1 used to be refused), and the
# commands that write (analyze --db here) migrate it and say so on
# standard error, once (it used to be silent). The files are made with
# Python's sqlite3 in the schema those versions had; the capture is a
# committed one (scripts/make-captures.sh).
. "$(dirname "$0")/lib.sh"
t_require_tlswatch

# version 1: the served table without the key type; version 2 adds it.
"$PY" - "$T_TMP/v1.db" "$T_TMP/v2.db" <<'PY'
import sqlite3, sys
v1 = """CREATE TABLE served (name TEXT NOT NULL, addr TEXT NOT NULL,
 port INTEGER NOT NULL, sha256 TEXT NOT NULL, subject TEXT NOT NULL DEFAULT '',
 issuer TEXT NOT NULL DEFAULT '', not_before INTEGER NOT NULL,
 not_after INTEGER NOT NULL, first_seen_us INTEGER NOT NULL,
 last_seen_us INTEGER NOT NULL, count INTEGER NOT NULL DEFAULT 0,
 findings TEXT NOT NULL DEFAULT '', PRIMARY KEY (name, addr, port, sha256));
INSERT INTO served VALUES ('old.test', '10.0.0.1', 443, 'aa', 'CN=old.test',
 'CN=ca', 1735689600, 2366841600, 1780000000000000, 1780000001000000, 7, 'expired');
"""
for path, version, more in ((sys.argv[1], 1, ""), (sys.argv[2], 2,
        "ALTER TABLE served ADD COLUMN key TEXT NOT NULL DEFAULT '';"
        "CREATE INDEX served_by_name ON served (name, not_before);")):
    c = sqlite3.connect(path)
    c.executescript(v1 + more + "PRAGMA user_version = %d;" % version)
    c.commit()
    c.close()
PY
assert_eq "the version 1 and 2 files were made" "1 2" \
	"$(for v in 1 2; do "$PY" -c 'import sqlite3, sys
print(sqlite3.connect(sys.argv[1]).execute("PRAGMA user_version").fetchone()[0])' "$T_TMP/v$v.db"; done | paste -sd' ')"

for v in 1 2; do
	db=$T_TMP/v$v.db
	"$TW" inventory --db "$db" >"$T_TMP/list$v" 2>"$T_TMP/err$v"
	assert_eq "version $v: inventory lists it, exit 0, nothing on stderr" "0 " \
		"$? $(cat "$T_TMP/err$v")"
	assert_eq "version $v: its row" "old.test 7 expired" \
		"$("$TW" inventory --db "$db" --json | "$PY" -c 'import json, sys
r = json.loads(sys.stdin.readline()); print(r["name"], r["count"], ",".join(r["findings"]))')"
	"$TW" report --db "$db" --html "$T_TMP/v$v.html" 2>"$T_TMP/err$v"
	assert_eq "version $v: report --html draws the inventory's page, exit 0" "0 1" \
		"$? $(grep -c 'id="timeline-none"' "$T_TMP/v$v.html")"
	assert_eq "version $v: read as it is, not migrated" "$v" \
		"$("$PY" -c 'import sqlite3, sys
print(sqlite3.connect(sys.argv[1]).execute("PRAGMA user_version").fetchone()[0])' "$db")"

	"$TW" analyze --db "$db" "$CAPS/tls12_rsa.pcap" >/dev/null 2>"$T_TMP/err$v"
	assert_eq "version $v: analyze --db exits 0" 0 "$?"
	assert_eq "version $v: the migration is said, once" \
		"tlswatch analyze: inventory $db: migrated from schema version $v to 6, its rows kept; a tlswatch that writes version $v refuses it now (keep a copy to go back)" \
		"$(cat "$T_TMP/err$v")"
	assert_eq "version $v: migrated, the old row kept, the capture's added" \
		"6 old.test 7 rsa.test 2" \
		"$("$PY" -c 'import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
print(c.execute("PRAGMA user_version").fetchone()[0], " ".join("%s %s" % r for r in
      c.execute("SELECT name, count FROM served ORDER BY name")))' "$db")"
	"$TW" analyze --db "$db" "$CAPS/tls12_weak.pcap" >/dev/null 2>"$T_TMP/err$v"
	assert_eq "version $v: a later run has nothing to migrate, says nothing" "0 " \
		"$? $(cat "$T_TMP/err$v")"
done
t_done
