#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The live agent's event history, drawn by `tlswatch report --db`.
#
# scripts/make-incident-capture.sh plays the 2018 incident with a real
# openssl s_server in a network namespace (a.test serves B, then the
# revoked A, then B again; CRL-checking clients fail under A) while a real
# `tlswatch run` watches the veth with --db: the agent keeps the second-by-
# second aggregates of what it saw in the database. Once it stopped,
# `report --db --html` renders the page from them, and headless Chromium's
# DOM must show what the script made, exactly:
#   - the timeline: 68 handshakes, 24 failures in its columns; the
#     overview's outcomes;
#   - a.test's lane C1 (B), C2 (A), C1 (B), with the fingerprints openssl
#     computed, every failure in A's period;
#   - the spike: as many episodes as the agent logged as firing, a shaded
#     area starting in A's period;
#   - the alerts and the client that failed most;
#   - with --since/--until around A's period: A's handshakes alone.
# The database is schema version 6; `tlswatch inventory` still lists it.
#
# Needs root. TAP output; exits non-zero on any failure.
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
export BUILD
. tests/e2e/lib_netns.sh
tn_require_root history_report
tn_require_cmds chromium openssl tcpdump ip ss sha256sum timeout
tn_require_tlswatch
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3

tmp=$(tn_tmpdir)
mkdir -p "$tmp/agent" || tn_bail "cannot create $tmp/agent"
INCIDENT_AGENT=$tmp/agent scripts/make-incident-capture.sh "$tmp/inc" >"$tmp/make.log" 2>&1 ||
	tn_bail "scripts/make-incident-capture.sh failed: $(tail -5 "$tmp/make.log")"
fact() { sed -n "s/^$1=//p" "$tmp/inc/facts.txt"; }
fact_kv() { sed -n "s/^$1=//p" "$tmp/facts"; }
fp_a=$(fact fp_a) fp_b=$(fact fp_b)
db=$tmp/agent/agent.db
tap_eq "the agent ran and stopped cleanly" 0 "$(fact agent_rc)"
tap_eq "scenario: 12 ok under B, 24 failed and 4 ok under A, 28 ok under B" \
	"12 24 4 28" "$(fact b1_ok) $(fact a_failed) $(fact a_ok) $(fact b2_ok)"

# What the agent logged: the handshakes, the spike episodes that fired.
count_events() { # python expression on event e
	"$PY" -c "
import json, sys
n = 0
for line in open(sys.argv[1]):
    e = json.loads(line)
    n += bool($1)
print(n)" "$tmp/agent/agent.jsonl"
}
tap_eq "the agent logged the 68 handshakes" 68 "$(count_events "e['event'] == 'handshake'")"
firing=$(count_events "e['event'] == 'spike' and e.get('state') == 'firing'")
tap_check "the agent logged a spike firing ($firing)" test "$firing" -ge 1

tap_eq "the database is schema version 6, with history rows" "6 1" \
	"$("$PY" -c "
import sqlite3, sys
db = sqlite3.connect('file:' + sys.argv[1] + '?mode=ro', uri=True)
v = db.execute('PRAGMA user_version').fetchone()[0]
n = db.execute('SELECT count(*) > 0 FROM history_second').fetchone()[0]
print(v, n)" "$db")"

html=$tmp/history.html
"$BUILD/tlswatch" report --db "$db" --html "$html" 2>"$tmp/err"
tap_eq "report --db --html exits 0" 0 "$?"
args=(--headless --no-sandbox --disable-gpu --hide-scrollbars
	--user-data-dir="$tmp/chromium" "--window-size=1000,820")
timeout 60 chromium "${args[@]}" --dump-dom "file://$html" >"$html.dom" 2>"$tmp/chromium.err"
tap_eq "chromium dumps the DOM" 0 "$?"
"$PY" tests/e2e/lib/html_dom.py "$html.dom" >"$tmp/facts"

label_of() { awk -F= -v s="$1" '$1 ~ /^cert\.C[0-9]+\.sha256$/ && $2 == s {
	split($1, p, "."); print p[2] }' "$tmp/facts"; }
la=$(label_of "$fp_a") lb=$(label_of "$fp_b")
tap_eq "the page says it is the agent's history" "tlswatch report: agent history $db 1" \
	"$(fact_kv title) $(grep -c 'id="history-note"' "$html.dom")"
tap_eq "timeline: 68 handshakes and 24 failures in its columns" "68 24" \
	"$(fact_kv timeline.handshakes) $(fact_kv timeline.failures)"
tap_eq "overview: 68 handshakes, 44 ok, 24 failed, none aborted" "68 44 24 0" \
	"$(fact_kv ov.handshakes) $(fact_kv ov.ok) $(fact_kv ov.failed) $(fact_kv ov.aborted)"
tap_eq "certificate table: B (fingerprint from openssl) is C1, A is C2" "C1 C2" "$lb $la"
tap_eq "certificate table: B served 40 times, none failed; A 28, 24 failed" \
	"40 0 28 24" "$(fact_kv "cert.$lb.handshakes") $(fact_kv "cert.$lb.failures") $(fact_kv "cert.$la.handshakes") $(fact_kv "cert.$la.failures")"
tap_eq "certificate table: A is critical: revoked and superseded" \
	"critical:revoked,critical:superseded" "$(fact_kv "cert.$la.findings")"
tap_eq "certificate table: serials from openssl" "$(fact serial_a) $(fact serial_b)" \
	"$(fact_kv "cert.$la.serial") $(fact_kv "cert.$lb.serial")"
tap_eq "lane of a.test: C1, C2, C1" "C1,C2,C1" "$(fact_kv lane.a.test)"
tap_eq "served per name: B 12 ok, A 28 with 24 failed, B 28 ok" \
	"C1:12:0,C2:28:24,C1:28:0" "$(fact_kv served.a.test)"
tap_eq "alerts: certificate_revoked from the client, 24 times" 24 \
	"$(fact_kv alert.certificate_revoked.client)"
tap_eq "clients: the one client failed 24 of 68" 68:24 \
	"$(fact_kv client.0 | cut -d: -f2-)"
tap_eq "spike table: one row per episode the agent fired" "$firing" \
	"$(fact_kv spikes.rows)"
spike_x=$(fact_kv spike_area.0.x) a_x=$(fact_kv lane.a.test.1.x)
tap_check "the spike area ($spike_x) starts in A's period ($a_x)" \
	"$PY" -c "
import sys
s0, s1 = map(float, '$spike_x'.split(','))
a0, a1 = map(float, '$a_x'.split(','))
sys.exit(not (a0 - 0.5 <= s0 < a1 and s1 > s0))"
tap_eq "the whole page rendered, no script, handler or external reference" "1 0 0 0" \
	"$(fact_kv page.footer) $(fact_kv unsafe.scripts) $(fact_kv unsafe.handlers) $(fact_kv unsafe.external)"

# --since/--until: the seconds from A's first handshake to its last (the
# agent's log says when; the phases are more than a second apart), the
# period overlapping them: A's 28 handshakes and 24 failures, A alone.
read -r since until < <("$PY" -c "
import json, sys
ts = [e['ts'] for e in map(json.loads, open(sys.argv[1]))
      if e['event'] == 'handshake' and e.get('chain') and e['chain'][0]['sha256'] == sys.argv[2]]
print(min(ts)[:19] + 'Z', max(ts)[:19] + 'Z')" "$tmp/agent/agent.jsonl" "$fp_a")
"$BUILD/tlswatch" report --db "$db" --since "$since" --until "$until" --html "$html" 2>"$tmp/err"
tap_eq "report --since $since --until $until exits 0" 0 "$?"
timeout 60 chromium "${args[@]}" --dump-dom "file://$html" >"$html.dom" 2>>"$tmp/chromium.err"
"$PY" tests/e2e/lib/html_dom.py "$html.dom" >"$tmp/facts"
tap_eq "window: A's 28 handshakes and 24 failures on the timeline" "28 24" \
	"$(fact_kv timeline.handshakes) $(fact_kv timeline.failures)"
tap_eq "window: a.test's lane is A alone, 28 handshakes, 24 failed" \
	"C1 C1:28:24 $fp_a" \
	"$(fact_kv lane.a.test) $(fact_kv served.a.test) $(fact_kv cert.C1.sha256)"
"$BUILD/tlswatch" report --db "$db" --since 2026-12-06 --html "$html" 2>"$tmp/err"
tap_eq "--since without a time of day: exit 2, said" \
	"2 tlswatch inventory: --since: '2026-12-06' is not a UTC time such as 2026-12-06T14:00:00Z" \
	"$? $(head -1 "$tmp/err")"
"$BUILD/tlswatch" report --db "$db" --since "$until" --until "$since" --html "$html" 2>"$tmp/err"
tap_eq "--since after --until: exit 2, said" "2 tlswatch inventory: --since is after --until" \
	"$? $(cat "$tmp/err")"
"$BUILD/tlswatch" report --db "$db" --since "$since" 2>"$tmp/err"
tap_eq "--since without --html: exit 2, said" "2 tlswatch inventory: --since needs --html" \
	"$? $(head -1 "$tmp/err")"

# The inventory table of the same file, as before the history.
tap_eq "tlswatch inventory: A served, B serving" "served $fp_a serving $fp_b" \
	"$("$BUILD/tlswatch" inventory --db "$db" | awk '$1 ~ /^serv/ { print $1, $3 }' |
		sort | paste -sd' ')"
[ "$TN_FAILED" -eq 0 ]
