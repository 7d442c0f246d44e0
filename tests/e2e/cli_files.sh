#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Files the commands read and must not create: `tlswatch inventory` on a
# directory, an empty file, a file that is not a database, a database that
# is not an inventory (one line each, naming the file once, exit 3); on a
# real inventory it lists without leaving -wal/-shm files, and it sees rows
# still in the write-ahead log of a writer that has it open; --html never
# overwrites a capture, the database or the configuration; `tlswatch run`
# with an interface that does not exist, or a --metrics that is not an
# address, fails before creating its database or its log; analyze and run
# refuse a --db that is not a regular file; an analyze run refused before
# it read a capture leaves no --db it created.
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

# --since and --until: a time that does not exist is refused, and the
# epoch is a bound like any other (it was taken for "none").
for t in 2026-02-30T14:00:00Z 2026-12-06T14:00:60Z; do
	run_tw report --db "$db" --since "$t" --html "$T_TMP/window.html"
	assert_eq "report --since $t: exit 2, said" \
		"2|tlswatch inventory: --since: '$t' is not a UTC time such as 2026-12-06T14:00:00Z" \
		"$T_RC|$(head -n1 "$T_TMP/err")"
done
epoch=1970-01-01T00:00:00Z
run_tw inventory --db "$db" --until "$epoch"
assert_eq "inventory --until $epoch without --html: exit 2, said" \
	"2|tlswatch inventory: --until needs --html|Try 'tlswatch inventory --help'." \
	"$T_RC|$(paste -sd'|' "$T_TMP/err")"
run_tw report --db "$db" --since 2026-12-06T14:00:00Z --until "$epoch" --html "$T_TMP/window.html"
assert_eq "report --since 2026-12-06T14:00:00Z --until $epoch: exit 2, said" \
	"2|tlswatch inventory: --since is after --until" "$T_RC|$(cat "$T_TMP/err")"
run_tw report --db "$db" --since "$epoch" --until "$epoch" --html "$T_TMP/window.html"
assert_eq "report --since $epoch --until $epoch: exit 0" 0 "$T_RC"

# --json and --html are alternatives (the usage: [--json | --html FILE]):
# both given, --json was silently ignored; refused, exit 2, nothing written.
for args in "--json --html $T_TMP/both.html" "--html - --json"; do
	# shellcheck disable=SC2086 # the words of $args are the arguments
	run_tw inventory --db "$db" $args
	assert_eq "inventory $args: exit 2, said, nothing written" \
		"2|tlswatch inventory: --json and --html are alternatives (the listing as JSON lines, or the page): give one||no" \
		"$T_RC|$(cat "$T_TMP/err")|$(cat "$T_TMP/out")|$([ -e "$T_TMP/both.html" ] && echo yes || echo no)"
done

# A listing or page that cannot be written (a full disk) is exit 3 naming
# it.
for args in "" --json "--html -"; do
	T_RC=0
	# shellcheck disable=SC2086 # the words of $args are the arguments
	"$TW" inventory --db "$db" $args >/dev/full 2>"$T_TMP/err" || T_RC=$?
	assert_eq "inventory $args > /dev/full: exit 3" 3 "$T_RC"
	assert_contains "inventory $args > /dev/full: one line naming standard output" \
		"tlswatch inventory: cannot write to standard output: " "$(cat "$T_TMP/err")"
	assert_eq "inventory $args > /dev/full: one line" 1 "$(grep -c . "$T_TMP/err")"
done
run_tw inventory --db "$db" --html /dev/full
assert_eq "inventory --html /dev/full: exit 3, said" \
	"3|tlswatch inventory: --html /dev/full: cannot write the page" "$T_RC|$(cat "$T_TMP/err")"

# --html never overwrites a file the command reads, nor an existing file
# that is not an HTML page (a forgotten file name: `--html a.pcap b.pcap`):
# exit 2, one line, nothing written, the file unchanged.
mkdir "$T_TMP/h"
cp "$CAPS/tls12_rsa.pcap" "$T_TMP/h/a.pcap"
cp "$CAPS/tls12_rsa.pcap" "$T_TMP/h/b.pcap"
ln "$T_TMP/h/b.pcap" "$T_TMP/h/b-link.pcap"
cp "$db" "$T_TMP/h/inv.db"
printf 'quiet\n' >"$T_TMP/h/tw.conf"
expect_html_refused() { # label, file that must stay as it is, message after "tlswatch CMD: ", args...
	local label=$1 kept=$2 msg=$3
	shift 3
	cp "$kept" "$T_TMP/h/kept.orig"
	run_tw "$@"
	assert_eq "$label: exit 2" 2 "$T_RC"
	assert_eq "$label: one line saying why" "tlswatch $1: $msg" "$(cat "$T_TMP/err")"
	assert_eq "$label: nothing on stdout" "" "$(cat "$T_TMP/out")"
	assert_true "$label: the file is unchanged" cmp -s "$kept" "$T_TMP/h/kept.orig"
}
h=$T_TMP/h
expect_html_refused "analyze --html a.pcap b.pcap (name forgotten)" "$h/a.pcap" \
	"--html $h/a.pcap: the file exists and is not an HTML page; refusing to overwrite it" \
	analyze --html "$h/a.pcap" "$h/b.pcap"
expect_html_refused "analyze --html b.pcap b.pcap" "$h/b.pcap" \
	"--html $h/b.pcap: the same file as the capture $h/b.pcap; refusing to overwrite it" \
	analyze --html "$h/b.pcap" "$h/b.pcap"
expect_html_refused "analyze --html through another name of the capture" "$h/b.pcap" \
	"--html $h/b-link.pcap: the same file as the capture $h/b.pcap; refusing to overwrite it" \
	analyze --html "$h/b-link.pcap" "$h/b.pcap"
expect_html_refused "analyze --html the --db" "$h/inv.db" \
	"--html $h/inv.db: the same file as the --db database $h/../h/inv.db; refusing to overwrite it" \
	analyze --db "$h/../h/inv.db" --html "$h/inv.db" "$h/b.pcap"
expect_html_refused "analyze --html the configuration file" "$h/tw.conf" \
	"--html $h/tw.conf: the same file as the configuration file $h/tw.conf; refusing to overwrite it" \
	analyze --config "$h/tw.conf" --html "$h/tw.conf" "$h/b.pcap"
expect_html_refused "inventory --db inv.db --html inv.db" "$h/inv.db" \
	"--html $h/inv.db: the same file as the --db database $h/inv.db; refusing to overwrite it" \
	inventory --db "$h/inv.db" --html "$h/inv.db"
expect_html_refused "report --html the configuration file" "$h/tw.conf" \
	"--html $h/tw.conf: the same file as the configuration file $h/tw.conf; refusing to overwrite it" \
	inventory --config "$h/tw.conf" --db "$h/inv.db" --html "$h/tw.conf"
run_tw analyze --db "$h/new.db" --html "$h/./new.db" "$h/b.pcap"
assert_eq "analyze --html the --db still to be created: exit 2" 2 "$T_RC"
assert_true "analyze --html the --db still to be created: neither created" test ! -e "$h/new.db"
# An earlier page, or an empty file, is written over.
run_tw analyze -q --html "$h/page.html" "$h/b.pcap"
assert_eq "analyze --html a new file: exit 0" 0 "$T_RC"
run_tw analyze -q --html "$h/page.html" "$h/a.pcap"
assert_eq "analyze --html over an earlier page: exit 0" 0 "$T_RC"
: >"$h/empty.html"
run_tw inventory --db "$h/inv.db" --html "$h/empty.html"
assert_eq "inventory --html over an empty file: exit 0" 0 "$T_RC"
assert_eq "inventory --html over an empty file: the page" "<!DOCTYPE html>" "$(head -n1 "$h/empty.html")"
# --html -: the page on standard output, no file named '-'.
(cd "$h" && T_RC=0 && "$OLDPWD/$TW" analyze --html - b.pcap >page.out 2>page.err || T_RC=$?; echo "$T_RC" >page.rc)
assert_eq "analyze --html -: exit 0" 0 "$(cat "$h/page.rc")"
assert_eq "analyze --html -: the page on standard output, alone" "<!DOCTYPE html>|</html>" \
	"$(sed -n '1p;$p' "$h/page.out" | paste -sd'|')"
assert_true "analyze --html -: no file named '-'" test ! -e "$h/-"
run_tw analyze --json --html - "$h/b.pcap"
assert_eq "analyze --json --html -: exit 2" 2 "$T_RC"
assert_eq "analyze --json --html -: said" \
	"tlswatch analyze: --json and --html - both write to standard output" "$(cat "$T_TMP/err")"
# The page replaces the file when it is written, at the end: a run that
# fails before it reads a capture (a refused --webhook-secret-file or
# --webhook-ca-file, outputs opened after the page's file) writes no page:
# an earlier page stays as it was (it was left an empty report), a file it
# created goes, and --html - writes nothing to standard output.
cp "$h/page.html" "$h/kept.html"
mkdir "$h/sub"
ln -s sub/link2.html "$h/dangling.html"
ln -s target.html "$h/sub/link2.html"
for bad in "--webhook http://127.0.0.1:9/ --webhook-secret-file $T_TMP/none.key" \
	"--webhook http://127.0.0.1:9/ --webhook-ca-file $T_TMP/none.pem" \
	"--alertmanager http://127.0.0.1:9/ --webhook-ca-file $T_TMP/none.pem"; do
	# shellcheck disable=SC2086 # the options and their values
	run_tw analyze --html "$h/page.html" $bad "$h/a.pcap"
	assert_eq "analyze --html PAGE $bad: exit 3" 3 "$T_RC"
	assert_true "analyze --html PAGE $bad: the earlier page unchanged" \
		cmp -s "$h/page.html" "$h/kept.html"
	# shellcheck disable=SC2086
	run_tw analyze --html "$h/new.html" $bad "$h/a.pcap"
	assert_eq "analyze --html NEW $bad: exit 3, no file left" "3|no" \
		"$T_RC|$([ -e "$h/new.html" ] && echo yes || echo no)"
	# --html names a symbolic link to no file (through another link,
	# relative ones, from their own directories): the file made is the
	# last link's target, and it goes; the links stay
	rm -f "$h/sub/target.html"
	# shellcheck disable=SC2086
	run_tw analyze --html "$h/dangling.html" $bad "$h/a.pcap"
	assert_eq "analyze --html DANGLING-LINK $bad: exit 3, no target left, the links kept" \
		"3|no|sub/link2.html|target.html" \
		"$T_RC|$([ -e "$h/sub/target.html" ] && echo yes || echo no)|$(readlink "$h/dangling.html")|$(readlink "$h/sub/link2.html")"
	# shellcheck disable=SC2086
	run_tw analyze --html - $bad "$h/a.pcap"
	assert_eq "analyze --html - $bad: exit 3, nothing on standard output" "3|" \
		"$T_RC|$(cat "$T_TMP/out")"
done
# Only a file the run created goes, removed where it was created
# (tests/e2e/lib/html_race.c makes each race happen at its one point):
# a file another process makes at a dangling link's target between the
# look that found none and the creating open is opened, not created, and
# stays; a directory of the page's path swapped for a link to another
# between the discard's look and its removal does not send the removal
# into that other directory; a link in a sticky world-writable directory
# owned by another user is not followed (as fs.protected_symlinks; this
# run follows the last links itself), exit 3, nothing created.
race=$T_TMP/html_race.so
"${CC:-cc}" -shared -fPIC -o "$race" tests/e2e/lib/html_race.c -ldl 2>"$T_TMP/cc.err"
assert_eq "the race shim builds" "" "$(cat "$T_TMP/cc.err")"
secret_bad=(--webhook http://127.0.0.1:9/ --webhook-secret-file "$T_TMP/none.key")
ln -s race-target.html "$h/race.html"
T_RC=0
TW_RACE_CREATE="$h/race-target.html" LD_PRELOAD=$race "$TW" analyze --html "$h/race.html" \
	"${secret_bad[@]}" "$h/a.pcap" >/dev/null 2>"$T_TMP/err" || T_RC=$?
assert_eq "--html DANGLING-LINK, its target made by another meanwhile, a failed run: exit 3, that file kept" \
	"3|other" "$T_RC|$(cat "$h/race-target.html" 2>&1)"
mkdir "$h/swap" "$h/victim"
echo victim >"$h/victim/new.html"
T_RC=0
TW_RACE_SWAP_DIR="$h/swap" TW_RACE_SWAP_TO="$h/victim" TW_RACE_NAME=new.html LD_PRELOAD=$race \
	"$TW" analyze --html "$h/swap/new.html" "${secret_bad[@]}" "$h/a.pcap" >/dev/null 2>"$T_TMP/err" || T_RC=$?
assert_eq "--html DIR/NEW, DIR swapped for a link before the removal: exit 3, the file made removed, the other kept" \
	"3|victim|$h/victim|" "$T_RC|$(cat "$h/victim/new.html" 2>&1)|$(readlink "$h/swap")|$(ls -A "$h/swap.moved")"
mkdir -m 1777 "$h/sticky"
ln -s target.html "$h/sticky/theirs.html"
chown -h nobody "$h/sticky/theirs.html"
run_tw analyze -q --html "$h/sticky/theirs.html" "$h/a.pcap"
assert_eq "--html another user's link in a sticky world-writable directory: exit 3, said, nothing created" \
	"3|tlswatch analyze: --html $h/sticky/theirs.html: another user's link, file or FIFO on the path; refusing to follow or open it|theirs.html" \
	"$T_RC|$(cat "$T_TMP/err")|$(ls -A "$h/sticky")"
# Nor when its target exists (an earlier page, an empty file, a device:
# what the checks above let through), also at the end of a link of our
# own there: the kernel, which followed those, checks them only when
# fs.protected_symlinks is set (before, with it 0, the page went there).
printf '<!DOCTYPE html>\ntheirs\n' >"$h/theirs-target.html"
ln -s ../theirs-target.html "$h/sticky/theirs-page.html"
ln -s /dev/full "$h/sticky/theirs-dev.html"
chown -h nobody "$h/sticky/theirs-page.html" "$h/sticky/theirs-dev.html"
ln -s theirs-page.html "$h/sticky/ours-to-theirs.html"
for link in theirs-page theirs-dev ours-to-theirs; do
	run_tw analyze -q --html "$h/sticky/$link.html" "$h/a.pcap"
	assert_eq "--html $link.html, another user's link in a sticky world-writable directory to a file: exit 3, said, the file kept" \
		"3|tlswatch analyze: --html $h/sticky/$link.html: another user's link, file or FIFO on the path; refusing to follow or open it|<!DOCTYPE html> theirs " \
		"$T_RC|$(cat "$T_TMP/err")|$(tr '\n' ' ' <"$h/theirs-target.html")"
done
# tlswatch inventory --html opens its page the same way (it used fopen,
# the kernel's walk): refused there too; over a longer earlier page, the
# new page alone.
run_tw inventory --db "$h/inv.db" --html "$h/sticky/theirs-page.html"
assert_eq "inventory --html another user's link in a sticky world-writable directory to a page: exit 3, said, the page kept" \
	"3|tlswatch inventory: --html $h/sticky/theirs-page.html: another user's link, file or FIFO on the path; refusing to follow or open it|<!DOCTYPE html> theirs " \
	"$T_RC|$(cat "$T_TMP/err")|$(tr '\n' ' ' <"$h/theirs-target.html")"
run_tw inventory --db "$h/inv.db" --html "$h/inv-page.html"
{ cat "$h/inv-page.html"; printf '<!-- %05000d -->\n' 0; } >"$h/inv-long.html"
run_tw inventory --db "$h/inv.db" --html "$h/inv-long.html"
assert_eq "inventory --html over a longer earlier page: exit 0, the new page alone" "0|yes" \
	"$T_RC|$(cmp -s "$h/inv-long.html" "$h/inv-page.html" && echo yes)"
# Nor is a file another user made there beforehand written (theirs to
# read and change after): as fs.protected_regular would refuse fopen's
# "w" (O_CREAT), whatever that setting; the run opens an existing file
# without O_CREAT, where the kernel does not look. A file of root's there
# is written.
printf '<!DOCTYPE html>\ntheirs\n' >"$h/sticky/theirs-file.html"
chown nobody "$h/sticky/theirs-file.html"
run_tw analyze -q --html "$h/sticky/theirs-file.html" "$h/a.pcap"
assert_eq "--html another user's file in a sticky world-writable directory: exit 3, said, the file kept" \
	"3|tlswatch analyze: --html $h/sticky/theirs-file.html: another user's link, file or FIFO on the path; refusing to follow or open it|<!DOCTYPE html> theirs " \
	"$T_RC|$(cat "$T_TMP/err")|$(tr '\n' ' ' <"$h/sticky/theirs-file.html")"
printf '<!DOCTYPE html>\nours\n' >"$h/sticky/ours-file.html"
run_tw analyze -q --html "$h/sticky/ours-file.html" "$h/a.pcap"
assert_eq "--html root's own file in a sticky world-writable directory: exit 0, the page there" "0|yes" \
	"$T_RC|$(cmp -s "$h/sticky/ours-file.html" "$h/kept.html" && echo yes)"
# The links the run follows itself to a file: relative, through a link
# to a link, the links kept; procfs's are the kernel's (/dev/stderr, a
# pipe here, leads to /proc/self/fd/2, which reads as no path).
ln -s sub/page-link.html "$h/to-page.html"
ln -s ../kept-copy.html "$h/sub/page-link.html"
printf '<!DOCTYPE html>\nold\n' >"$h/kept-copy.html"
run_tw analyze -q --html "$h/to-page.html" "$h/a.pcap"
assert_eq "--html LINK to a LINK to an earlier page: exit 0, the page there, the links kept" \
	"0|yes|sub/page-link.html|../kept-copy.html" \
	"$T_RC|$(cmp -s "$h/kept-copy.html" "$h/kept.html" && echo yes)|$(readlink "$h/to-page.html")|$(readlink "$h/sub/page-link.html")"
"$TW" analyze -q --html /dev/stderr "$h/a.pcap" 2>&1 >/dev/null </dev/null | cat >"$T_TMP/page.pipe"
T_RC=${PIPESTATUS[0]}
assert_eq "--html /dev/stderr, a pipe: exit 0, the page through it" "0|yes" \
	"$T_RC|$(cmp -s "$T_TMP/page.pipe" "$h/kept.html" && echo yes)"

# A run that writes its page through the dangling link writes the target.
run_tw analyze -q --html "$h/dangling.html" "$h/a.pcap"
assert_eq "analyze --html DANGLING-LINK: exit 0, the page at the target, the link kept" \
	"0|yes|sub/link2.html" \
	"$T_RC|$(cmp -s "$h/sub/target.html" "$h/kept.html" && echo yes)|$(readlink "$h/dangling.html")"
# A longer earlier page is replaced whole (not written over in place).
{ cat "$h/kept.html"; printf '<!-- %05000d -->\n' 0; } >"$h/long.html"
run_tw analyze -q --html "$h/long.html" "$h/a.pcap"
assert_eq "analyze --html over a longer earlier page: exit 0, the new page alone" "0|yes" \
	"$T_RC|$(cmp -s "$h/long.html" "$h/kept.html" && echo yes)"

# analyze and run: a --db that is not a regular file (a FIFO, a directory)
# is refused before SQLite opens it (it would create its journal beside
# it, or block on the FIFO): exit 3, one line, nothing added beside it.
mkdir "$T_TMP/nr" "$T_TMP/nr/dir"
mkfifo "$T_TMP/nr/fifo"
for kind in fifo dir; do
	case $kind in
	fifo) why="not a regular file, not a tlswatch inventory" ;;
	dir) why="is a directory, not a tlswatch inventory" ;;
	esac
	T_RC=0
	timeout 30 "$TW" analyze -q --db "$T_TMP/nr/$kind" "$CAPS/tls12_rsa.pcap" \
		>"$T_TMP/out" 2>"$T_TMP/err" </dev/null || T_RC=$?
	assert_eq "analyze --db a $kind: exit 3, one line saying why" \
		"3|tlswatch analyze: $T_TMP/nr/$kind: $why" "$T_RC|$(cat "$T_TMP/err")"
	assert_eq "analyze --db a $kind: nothing on stdout" "" "$(cat "$T_TMP/out")"
	assert_eq "analyze --db a $kind: nothing created beside it" "dir fifo" \
		"$(ls -A "$T_TMP/nr" | paste -sd' ')"
done
assert_eq "analyze --db a directory: nothing created in it" "" "$(ls -A "$T_TMP/nr/dir")"

# Standard input given twice: the second '-' was read at the first one's
# end and reported as "stdin: not a pcap or pcapng file" (exit 3, after the
# report). A usage error, before anything is read.
T_RC=0
"$TW" analyze - - <"$CAPS/tls12_rsa.pcap" >"$T_TMP/out" 2>"$T_TMP/err" || T_RC=$?
assert_eq "analyze - -: exit 2, said, nothing on stdout" \
	"2|tlswatch analyze: standard input ('-') given twice: it can be read only once|Try 'tlswatch analyze --help'.|" \
	"$T_RC|$(paste -sd'|' "$T_TMP/err")|$(cat "$T_TMP/out")"

# A --db path with a '..' after a name that is not a directory
# (nx/../agent.db, nx missing): SQLite reads the '..' by the letter and
# opens agent.db, the kernel finds no such file, and the lease and the
# --html check go by the kernel: analyze wrote into the database an agent
# held (its shared lease, taken here by this shell with flock), and a page
# named as the database became the database. Refused, exit 3, nothing
# written or created.
mkdir "$T_TMP/dd"
cp "$db" "$T_TMP/dd/agent.db"
cp "$db" "$T_TMP/dd/agent.orig"
exec {lease}<"$T_TMP/dd/agent.db"
flock -s "$lease"
run_tw analyze -q --db "$T_TMP/dd/agent.db" "$CAPS/tls12_rsa.pcap"
assert_contains "analyze --db an agent's database: exit 3, refused" \
	"3|tlswatch analyze: $T_TMP/dd/agent.db: a running tlswatch agent writes this database" \
	"$T_RC|$(cat "$T_TMP/err")"
dd_why="No such file or directory (a '..' in it follows '$T_TMP/dd/nx/', which is not an existing directory)"
run_tw analyze -q --db "$T_TMP/dd/nx/../agent.db" "$CAPS/tls12_ipv6.pcap"
assert_eq "analyze --db nx/../agent.db (nx missing): exit 3, said" \
	"3|tlswatch analyze: $T_TMP/dd/nx/../agent.db: $dd_why" "$T_RC|$(cat "$T_TMP/err")"
assert_true "analyze --db nx/../agent.db: the agent's database unchanged" \
	cmp -s "$T_TMP/dd/agent.db" "$T_TMP/dd/agent.orig"
exec {lease}<&-
run_tw analyze -q --db "$T_TMP/dd/nx/../new.db" --html "$T_TMP/dd/new.db" "$CAPS/tls12_rsa.pcap"
assert_eq "analyze --db nx/../new.db --html new.db: exit 3, said, nothing created" \
	"3|tlswatch analyze: $T_TMP/dd/nx/../new.db: $dd_why|agent.db agent.orig" \
	"$T_RC|$(cat "$T_TMP/err")|$(ls -A "$T_TMP/dd" | paste -sd' ')"
# analyze: a run refused for a file it cannot read (exit 3), or for a
# capture given twice (exit 2), before it read any capture, leaves no new
# --db behind (nor its -wal, -shm, -journal); a --db that was there stays,
# with its rows.
mkdir "$T_TMP/ad"
for bad in "--ca-file $T_TMP/none.pem" "--crl $T_TMP/none.crl" \
	"--expect-dir $T_TMP/none.d"; do
	# shellcheck disable=SC2086 # the option and its value
	run_tw analyze --db "$T_TMP/ad/new.db" $bad "$CAPS/tls12_rsa.pcap"
	assert_eq "analyze $bad: exit 3, said" \
		"3|tlswatch analyze: $bad: No such file or directory" "$T_RC|$(cat "$T_TMP/err")"
	assert_eq "analyze $bad: no database left" "" "$(ls -A "$T_TMP/ad")"
done
run_tw analyze -q --db "$T_TMP/ad/new.db" "$CAPS/tls12_rsa.pcap" "$CAPS/tls12_rsa.pcap"
assert_eq "analyze a capture twice: exit 2" 2 "$T_RC"
assert_eq "analyze a capture twice: no database left" "" "$(ls -A "$T_TMP/ad")"
: >"$T_TMP/ad/empty.db"
run_tw analyze --db "$T_TMP/ad/empty.db" --ca-file "$T_TMP/none.pem" "$CAPS/tls12_rsa.pcap"
assert_eq "analyze --ca-file missing, an empty --db that was there: exit 3, kept" \
	"3|empty.db" "$T_RC|$(ls -A "$T_TMP/ad")"
rm "$T_TMP/ad/empty.db"
run_tw analyze -q --db "$T_TMP/ad/inv.db" "$CAPS/tls12_rsa.pcap"
assert_eq "analyze --db a new file: exit 0" 0 "$T_RC"
rows() { "$PY" -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT count(*) FROM served").fetchone()[0])' "$1"; }
assert_eq "analyze --db a new file: its one row" 1 "$(rows "$T_TMP/ad/inv.db")"
run_tw analyze --db "$T_TMP/ad/inv.db" --ca-file "$T_TMP/none.pem" "$CAPS/tls12_rsa.pcap"
assert_eq "analyze --ca-file missing, a --db with a row: exit 3, kept with its row" \
	"3|inv.db|1" "$T_RC|$(ls -A "$T_TMP/ad")|$(rows "$T_TMP/ad/inv.db")"

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
	# A start refused for a file it cannot read (exit 3) leaves no --db
	# behind: the lease created it empty (which `inventory` then called an
	# empty inventory). One that was there, even empty, stays.
	for bad in "--ca-file $T_TMP/none.pem" "--crl $T_TMP/none.crl" \
		"--expect-dir $T_TMP/none.d"; do
		T_RC=0
		# shellcheck disable=SC2086 # the option and its value
		timeout 20 unshare -n "$TW" run --db "$T_TMP/bad.db" --json-log "$T_TMP/bad.jsonl" \
			--no-metrics $bad >"$T_TMP/out" 2>"$T_TMP/err" </dev/null || T_RC=$?
		assert_eq "run $bad: exit 3, said" \
			"3|tlswatch run: $bad: No such file or directory" "$T_RC|$(cat "$T_TMP/err")"
		assert_true "run $bad: no database or log left" \
			test ! -e "$T_TMP/bad.db" -a ! -e "$T_TMP/bad.jsonl"
	done
	: >"$T_TMP/kept.db"
	T_RC=0
	timeout 20 unshare -n "$TW" run --db "$T_TMP/kept.db" --no-metrics \
		--ca-file "$T_TMP/none.pem" >"$T_TMP/out" 2>"$T_TMP/err" </dev/null || T_RC=$?
	assert_eq "run --ca-file missing, a --db that was there: exit 3, the file kept" \
		"3|yes" "$T_RC|$([ -f "$T_TMP/kept.db" ] && echo yes)"
	# in a network namespace of its own, so that it could never attach
	# to this host's interfaces
	for kind in fifo dir; do
		T_RC=0
		timeout 30 unshare -n "$TW" run --db "$T_TMP/nr/$kind" --json-log "$T_TMP/run.jsonl" \
			--no-metrics >"$T_TMP/out" 2>"$T_TMP/err" </dev/null || T_RC=$?
		assert_eq "run --db a $kind: exit 3" 3 "$T_RC"
		assert_contains "run --db a $kind: the message names it" \
			"tlswatch run: $T_TMP/nr/$kind: " "$(cat "$T_TMP/err")"
		assert_eq "run --db a $kind: nothing created beside it" "dir fifo" \
			"$(ls -A "$T_TMP/nr" | paste -sd' ')"
		assert_true "run --db a $kind: no log created" test ! -e "$T_TMP/run.jsonl"
	done
else
	ok "# SKIP run --iface checks need root"
fi
t_done
