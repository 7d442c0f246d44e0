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
. "$(dirname "$0")/lib.sh"
t_require_tlswatch

db=$T_TMP/inv.db
t_make_db "$db"
"$PY" - "$db" <<'PY'
import sqlite3, sys
S = 1780000000
c = sqlite3.connect(sys.argv[1])
for i in range(4):
    c.execute("INSERT INTO history_second (second, handshakes, failures, other_names,"
              " other_clients, other_clients_failures, other_certs) VALUES (?,?,0,0,0,0,0)",
              (S + i, 2))
for sha, first, last in (("c" * 64, S, S + 1), ("d" * 64, S + 2, S + 9)):
    c.execute("INSERT INTO history_period (name, server, sha256, first_us, last_us,"
              " handshakes, failures, findings) VALUES (?,?,?,?,?,4,0,0)",
              (b"a.test", "10.0.0.1:443", sha, first * 10**6, last * 10**6 + 500000))
    c.execute("INSERT INTO history_cert VALUES (?,?,?,?,?,?,?,?)",
              (sha, "CN=a.test", "CN=CA", "01", "EC-P256", 1735689600, 2366841600,
               last * 10**6))
c.execute("INSERT INTO history_name (minute, name, server, incomplete, ok, failed,"
          " aborted) VALUES (?,?,?,0,8,0,0)", (S // 60, b"a.test", "10.0.0.1:443"))
c.commit()
PY
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
t_done
