#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Files the commands read and must not create: `tlswatch inventory` on a
# directory, an empty file, a file that is not a database, a database that
# is not an inventory (one line each, naming the file once, exit 3); on a
# real inventory it lists without leaving -wal/-shm files, and it sees rows
# still in the write-ahead log of a writer that has it open; `tlswatch run`
# with an interface that does not exist, or a --metrics that is not an
# address, fails before creating its database or its log.
. "$(dirname "$0")/lib.sh"
t_require_tlswatch

run_tw() { T_RC=0; "$TW" "$@" >"$T_TMP/out" 2>"$T_TMP/err" </dev/null || T_RC=$?; }
expect_inventory_err() { # label, db, message after "tlswatch inventory: DB: "
	run_tw inventory --db "$2"
	assert_eq "inventory of $1: exit 3" 3 "$T_RC"
	assert_eq "inventory of $1: one line naming the file once" \
		"tlswatch inventory: $2: $3" "$(cat "$T_TMP/err")"
	assert_eq "inventory of $1: nothing on stdout" "" "$(cat "$T_TMP/out")"
}

mkdir "$T_TMP/adir"
expect_inventory_err "a directory" "$T_TMP/adir" "is a directory, not a tlswatch inventory"
assert_eq "inventory of a directory: nothing created in it" "" "$(ls -A "$T_TMP/adir")"
expect_inventory_err "a missing file" "$T_TMP/none.db" "No such file or directory"

mkdir "$T_TMP/e"
: >"$T_TMP/e/empty.db"
expect_inventory_err "an empty file" "$T_TMP/e/empty.db" "empty file, not a tlswatch inventory"
assert_eq "inventory of an empty file: no file added" "empty.db" "$(ls -A "$T_TMP/e")"

printf 'garbage %.0s' $(seq 200) >"$T_TMP/e/junk.db"
expect_inventory_err "a text file" "$T_TMP/e/junk.db" "not a tlswatch inventory (file is not a database)"

"$PY" -c 'import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute("CREATE TABLE t(x)"); c.commit()' \
	"$T_TMP/e/other.db"
expect_inventory_err "another SQLite database" "$T_TMP/e/other.db" \
	"not a tlswatch inventory (no tlswatch schema in it)"

# A real inventory (WAL mode), written by analyze --db: listing it changes
# nothing in its directory.
mkdir "$T_TMP/inv"
db=$T_TMP/inv/inventory.db
"$TW" analyze -q --db "$db" "$CAPS/tls12_rsa.pcap" >/dev/null
before=$(ls -A "$T_TMP/inv")
assert_eq "analyze --db leaves the database alone in its directory" "inventory.db" "$before"
run_tw inventory --db "$db"
assert_eq "inventory: exit 0" 0 "$T_RC"
assert_eq "inventory: lists the name" "rsa.test" "$(head -n1 "$T_TMP/out")"
assert_eq "inventory: no file created or left beside the database" "$before" "$(ls -A "$T_TMP/inv")"
run_tw inventory --json --db "$db"
assert_eq "inventory --json: no file created or left beside the database" "$before" "$(ls -A "$T_TMP/inv")"

# A writer holding the database open in WAL mode, its last commit still in
# the -wal file: the listing shows it.
"$PY" - "$db" "$TW" >"$T_TMP/wal.out" 2>&1 <<-'PYEOF'
	import sqlite3, subprocess, sys
	db, tw = sys.argv[1], sys.argv[2]
	c = sqlite3.connect(db)
	c.execute("PRAGMA wal_autocheckpoint = 0")
	c.execute("UPDATE served SET count = 4242")
	c.commit()
	r = subprocess.run([tw, "inventory", "--json", "--db", db], capture_output=True, text=True, timeout=30)
	print(r.returncode, r.stdout.count('"count":4242'))
	c.close()
PYEOF
assert_eq "inventory while a writer holds it: the rows still in the WAL are listed" "0 1" "$(cat "$T_TMP/wal.out")"
assert_eq "inventory while a writer held it: nothing left once the writer is gone" "$before" "$(ls -A "$T_TMP/inv")"

# run: an interface that does not exist is refused before anything is
# created.
if [ "$(id -u)" -eq 0 ]; then
	run_tw run --iface doesnotexist0 --db "$T_TMP/run.db" --json-log "$T_TMP/run.jsonl" --no-metrics
	assert_eq "run --iface doesnotexist0: exit 4" 4 "$T_RC"
	assert_eq "run --iface doesnotexist0: the message names it" \
		"tlswatch run: --iface doesnotexist0: no such interface" "$(cat "$T_TMP/err")"
	assert_true "run --iface doesnotexist0: no database created" test ! -e "$T_TMP/run.db"
	assert_true "run --iface doesnotexist0: no log created" test ! -e "$T_TMP/run.jsonl"
	# A --metrics that is no address is a bad option (2), found before
	# anything is created; in a network namespace of its own, so that no
	# build attaches to this host's interfaces.
	for m in garbage 127.0.0.1:10x localhost:9733; do
		T_RC=0
		timeout 20 unshare -n "$TW" run --db "$T_TMP/m.db" --json-log "$T_TMP/m.jsonl" \
			--metrics "$m" >"$T_TMP/out" 2>"$T_TMP/err" </dev/null || T_RC=$?
		assert_eq "run --metrics $m: exit 2" 2 "$T_RC"
		assert_contains "run --metrics $m: the message names --metrics" \
			"tlswatch run: --metrics: $m: " "$(head -n1 "$T_TMP/err")"
		assert_true "run --metrics $m: no database or log created" \
			test ! -e "$T_TMP/m.db" -a ! -e "$T_TMP/m.jsonl"
	done
else
	ok "# SKIP run --iface checks need root"
fi
t_done
