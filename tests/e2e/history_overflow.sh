#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# An event history whose counts overflow when added up (counts near 2^63
# in a crafted database: no agent writes them) used to fail the whole
# `report --html` ("event history: reading: integer overflow", exit 3).
# Each count of a row is now taken at most as 2^40, the page and standard
# error say how many were, and the rows of sane counts keep their exact
# values. The database is the one `analyze --db` makes (the committed
# capture tls12_rsa.pcap), with history rows added by Python's sqlite3.
. "$(dirname "$0")/lib.sh"
t_require_tlswatch

db=$T_TMP/inv.db
t_make_db "$db"
"$PY" - "$db" <<'PY'
import sqlite3, sys
BIG = 2**63 - 1           # each row's count; two of them overflow a sum
HALF = 2**62 + 1          # two of them overflow a sum too
A, B = "a" * 64, "b" * 64
S = 1780000000            # a second of 2026-05-28
M = S // 60
c = sqlite3.connect(sys.argv[1])
c.executescript("PRAGMA foreign_keys = OFF")
ins = lambda t, *v: c.execute("INSERT INTO %s VALUES (%s)" % (t, ",".join("?" * len(v))), v)
# the timeline: one sane second, one absurd (beyond 32 bits), with absurd
# other names
c.execute("INSERT INTO history_second (second, handshakes, failures, other_names,"
          " other_clients, other_clients_failures, other_certs) VALUES (?,?,?,?,?,?,?)",
          (S, 7, 1, 0, 0, 0, 0))
c.execute("INSERT INTO history_second (second, handshakes, failures, other_names,"
          " other_clients, other_clients_failures, other_certs, other_ok)"
          " VALUES (?,?,?,?,?,?,?,?)", (S + 1, BIG, 0, BIG, 0, 0, 0, BIG))
# names: b.test sane (7: 6 ok, 1 failed); a.test's ok overflows over two minutes
for m, ok in ((M, HALF), (M + 1, HALF)):
    c.execute("INSERT INTO history_name (minute, name, server, incomplete, ok, failed,"
              " aborted) VALUES (?,?,?,?,?,?,?)", (m, b"a.test", "10.0.0.1:443", 0, ok, 0, 0))
c.execute("INSERT INTO history_name (minute, name, server, incomplete, ok, failed,"
          " aborted) VALUES (?,?,?,?,?,?,?)", (M, b"b.test", "10.0.0.2:443", 0, 6, 1, 0))
for sha, name, server, n, f in ((A, b"a.test", "10.0.0.1:443", BIG, 0),
                               (B, b"b.test", "10.0.0.2:443", 7, 1)):
    c.execute("INSERT INTO history_period (name, server, sha256, first_us, last_us,"
              " handshakes, failures, findings) VALUES (?,?,?,?,?,?,?,0)",
              (name, server, sha, S * 10**6, S * 10**6 + 500000, n, f))
    c.execute("INSERT INTO history_cert VALUES (?,?,?,?,?,?,?,?)",
              (sha, "CN=" + name.decode(), "CN=CA", "01", "EC-P256", 1735689600,
               2366841600, S * 10**6))
for m in (M, M + 1):
    c.execute("INSERT INTO history_leaf VALUES (?,?,?,?)", (m, A, HALF, 0))
    c.execute("INSERT INTO history_alert VALUES (?,?,?,?)", (m, 1, 48, HALF))
    c.execute("INSERT INTO history_client VALUES (?,?,?,?)", (m, "t13d1516h2_aaa_bbb", HALF, HALF))
c.execute("INSERT INTO history_leaf VALUES (?,?,?,?)", (M, B, 7, 1))
c.commit()
PY
assert_eq "the crafted history rows are in" 2 \
	"$("$PY" -c 'import sqlite3, sys
print(sqlite3.connect(sys.argv[1]).execute("SELECT count(*) FROM history_period").fetchone()[0])' "$db")"

"$TW" report --db "$db" --html "$T_TMP/page.html" 2>"$T_TMP/err"
assert_eq "report --html of the history exits 0" 0 "$?"
"$PY" tests/e2e/lib/html_dom.py "$T_TMP/page.html" >"$T_TMP/facts"
fact() { sed -n "s/^$1=//p" "$T_TMP/facts"; }
assert_eq "the whole page was written" 1 "$(fact page.footer)"
# Taken as 2^40: the absurd second (twice: handshakes and its other
# names) and its other_ok, a.test's ok, A's period, A's leaf, the alert,
# the client's two: 9 counts.
assert_eq "stderr says how many counts were taken at the bound" \
	"tlswatch inventory: $db: 9 counts of the event history are over 1099511627776, which no agent writes (a damaged file?): the page shows them as 1099511627776" \
	"$(cat "$T_TMP/err")"
assert_eq "so does the page" \
	"9 counts of the history are over 1099511627776, which no agent writes (a damaged file?): they are counted as 1099511627776." \
	"$("$PY" -c 'import re, sys
m = re.search(r"id=\"history-clamped\">([^<]*)<", open(sys.argv[1]).read())
print(m.group(1) if m else "")' "$T_TMP/page.html")"
label_of() { awk -F= -v s="$1" '$1 ~ /^cert\.C[0-9]+\.sha256$/ && $2 == s {
	split($1, p, "."); print p[2] }' "$T_TMP/facts"; }
la=$(label_of "$(printf 'a%.0s' $(seq 64))") lb=$(label_of "$(printf 'b%.0s' $(seq 64))")
assert_eq "certificate A: its handshakes at the bound" "1099511627776 0" \
	"$(fact "cert.$la.handshakes") $(fact "cert.$la.failures")"
assert_eq "certificate B: its exact counts" "7 1" \
	"$(fact "cert.$lb.handshakes") $(fact "cert.$lb.failures")"
assert_eq "served per name: b.test exact" "$lb:7:1" "$(fact served.b.test)"
assert_eq "alerts: unknown_ca from the client, at the bound" 1099511627776 \
	"$(fact alert.unknown_ca.client)"
assert_eq "clients: the JA4, handshakes and failures at the bound" \
	"t13d1516h2_aaa_bbb:1099511627776:1099511627776" "$(fact client.0)"
# 2^40 (other names) + 2^40 (a.test) + 7 (b.test); ok: 2^40 + 2^40 + 6
assert_eq "overview: the sums of the bounds and the exact counts" \
	"2199023255559 2199023255558 1" "$(fact ov.handshakes) $(fact ov.ok) $(fact ov.failed)"
assert_eq "timeline: the sane second exact, the absurd one at 32 bits" \
	"7,1 4294967295,0" \
	"$(grep '^timeline.col\.' "$T_TMP/facts" | cut -d= -f2 | paste -sd' ')"
t_done
