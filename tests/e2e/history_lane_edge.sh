#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The lanes under the timeline stay inside the plot: a serving period that
# goes on past the timeline's last column (its last handshakes came after
# the last second with a row, or after an --until window) ended one column
# width past the plot's right edge (x 1195 of an SVG 1000 wide), over the
# edge and whatever followed. The database is the one `analyze --db`
# makes (the committed capture tls12_rsa.pcap), with history rows added by
# Python's sqlite3: seconds S to S+3, a.test served C1 over S..S+1 and C2
# over S+2..S+9.
# A second database, seconds S to S+99 (100 columns of 8.2): c.test served
# C1 over S..S+98 and C4 in the last second, a bar too narrow for its
# label, which went after it, past the plot's right edge (x 992): now it
# ends 2 units before the bar, in the lane's second row (in the first it
# was over C1's bar); b.test served C2 at S+0.2 s and C3 from
# S+0.7 s on, both in the first column, drawn over each other before (C3
# now has the lane's second row).
. "$(dirname "$0")/lib.sh"
t_require_tlswatch

# Adds to the database @1 @2 seconds of history from S, each with @3
# handshakes, and serving periods on 10.0.0.1:443, each
# NAME:C:FIRST:LAST:HANDSHAKES (the leaf's sha256 is C 64 times; FIRST and
# LAST in microseconds after S).
add_history() {
	"$PY" - "$@" <<'PY'
import sqlite3, sys
S = 1780000000
c = sqlite3.connect(sys.argv[1])
for i in range(int(sys.argv[2])):
    c.execute("INSERT INTO history_second (second, handshakes, failures, other_names,"
              " other_clients, other_clients_failures, other_certs) VALUES (?,?,0,0,0,0,0)",
              (S + i, int(sys.argv[3])))
ok = {}
for spec in sys.argv[4:]:
    name, sha, first, last, n = spec.split(':')
    sha, first, last = sha * 64, S * 10**6 + int(first), S * 10**6 + int(last)
    c.execute("INSERT INTO history_period (name, server, sha256, first_us, last_us,"
              " handshakes, failures, findings) VALUES (?,?,?,?,?,?,0,0)",
              (name.encode(), "10.0.0.1:443", sha, first, last, int(n)))
    c.execute("INSERT INTO history_cert VALUES (?,?,?,?,?,?,?,?)",
              (sha, "CN=" + name, "CN=CA", "01", "EC-P256", 1735689600, 2366841600, last))
    ok[name] = ok.get(name, 0) + int(n)
for name, n in ok.items():
    c.execute("INSERT INTO history_name (minute, name, server, incomplete, ok, failed,"
              " aborted) VALUES (?,?,?,0,?,0,0)", (S // 60, name.encode(), "10.0.0.1:443", n))
c.commit()
PY
}

db=$T_TMP/inv.db
t_make_db "$db"
add_history "$db" 4 2 a.test:c:0:1500000:4 a.test:d:2000000:9500000:4
"$TW" report --db "$db" --html "$T_TMP/page.html" 2>"$T_TMP/err"
assert_eq "report --html exits 0" 0 "$?"
"$PY" tests/e2e/lib/html_dom.py "$T_TMP/page.html" >"$T_TMP/facts"
fact() { sed -n "s/^$1=//p" "$T_TMP/facts"; }
assert_eq "the timeline: 4 columns, 8 handshakes" "4 8" \
	"$(fact timeline.columns) $(fact timeline.handshakes)"
assert_eq "a.test's lane: C1 then C2" "C1,C2" "$(fact lane.a.test)"
# The plot spans x 170 to 990: 4 columns of 205.
assert_eq "C1 over the first two columns" "170.0,580.0" "$(fact lane.a.test.0.x)"
assert_eq "C2 from the third column to the plot's right edge, not past it" \
	"580.0,990.0" "$(fact lane.a.test.1.x)"

db=$T_TMP/rows.db
t_make_db "$db"
add_history "$db" 100 1 c.test:3:0:98000000:1 c.test:4:99000000:99000000:1 \
	b.test:1:200000:200000:1 b.test:2:700000:99000000:1
"$TW" report --db "$db" --html "$T_TMP/rows.html" 2>"$T_TMP/err"
assert_eq "report --html of 100 seconds exits 0" 0 "$?"
"$PY" tests/e2e/lib/html_dom.py "$T_TMP/rows.html" >"$T_TMP/facts"
assert_eq "the timeline: 100 columns" 100 "$(fact timeline.columns)"
# labels in the order first served, lanes too: c.test (C1 at S), b.test
assert_eq "c.test's lane: C1, C4, in two rows" "C1,C4 223 249" \
	"$(fact lane.c.test) $(fact lane.c.test.0.y) $(fact lane.c.test.1.y)"
assert_eq "b.test's lane: C2, C3" "C2,C3" "$(fact lane.b.test)"
assert_eq "C2 in the first column, b.test's first row" "170.0,178.2 275" \
	"$(fact lane.b.test.0.x) $(fact lane.b.test.0.y)"
assert_eq "C3 from the first column on, in b.test's second row" "170.0,990.0 301" \
	"$(fact lane.b.test.1.x) $(fact lane.b.test.1.y)"
assert_eq "C4 in the last column" "981.8,990.0" "$(fact lane.c.test.1.x)"
assert_eq "C4's label ends before its bar, inside the plot" "979.8,end" \
	"$(fact lane.c.test.1.label)"
assert_eq "C1's label inside its bar" "173.0,start" "$(fact lane.c.test.0.label)"
t_done
