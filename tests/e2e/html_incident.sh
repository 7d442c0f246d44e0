#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The 2018 picture in the HTML report, rendered by headless Chromium.
#
# scripts/make-incident-capture.sh records, with a real openssl s_server in
# a network namespace, a.test serving B (new), then A (old, revoked by the
# CRL: CRL-checking clients fail with certificate_revoked), then B again.
# `analyze --html` on that capture must show, with the fingerprints openssl
# computed and the handshake counts the script made:
#   - a.test's lane: B, then A (critical: superseded and revoked), then B;
#   - the failure burst under A: every failure counted in A's period, and a
#     shaded spike area that starts inside A's period and ends after it,
#     before the end of the timeline;
#   - the certificate table, the alerts (certificate_revoked from the
#     client), the client that failed most.
# Then `report --db` on the inventory that analyze --db wrote.
# Spikes are judged on 5 s windows with at least 10 failures: the 24
# failures take 5 to 8 s, depending on how loaded the machine is.
# With HTML_REPORT_PNG=FILE the screenshot is kept there (docs/report.png).
#
# Needs root. TAP output; exits non-zero on any failure.
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
. tests/e2e/lib_netns.sh
tn_require_root html_incident
tn_require_cmds chromium openssl tcpdump ip ss sha256sum timeout
tn_require_tlswatch
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3

tmp=$(tn_tmpdir)
scripts/make-incident-capture.sh "$tmp/inc" >"$tmp/make.log" 2>&1 ||
	tn_bail "scripts/make-incident-capture.sh failed: $(tail -5 "$tmp/make.log")"
fact() { sed -n "s/^$1=//p" "$tmp/inc/facts.txt"; }
fact_kv() { sed -n "s/^$1=//p" "$tmp/facts"; }
fp_a=$(fact fp_a) fp_b=$(fact fp_b)
tap_eq "capture: the 12 clients of B's first period succeeded" 12 "$(fact b1_ok)"
tap_eq "capture: the 24 CRL-checking clients of A's period failed" 24 "$(fact a_failed)"
tap_eq "capture: the 4 clients that do not check passed A" 4 "$(fact a_ok)"
tap_eq "capture: the 28 clients of B's second period succeeded" 28 "$(fact b2_ok)"

html=$tmp/report.html
"$BUILD/tlswatch" analyze -q --ca-file "$tmp/inc/root.crt" --crl "$tmp/inc/inter.crl" \
	--spike-window 5 --spike-min-failures 10 --html "$html" "$tmp/inc/incident.pcap" \
	>/dev/null 2>"$tmp/err"
tap_eq "analyze --html exits 0" 0 "$?"

args=(--headless --no-sandbox --disable-gpu --hide-scrollbars
	--user-data-dir="$tmp/chromium" "--window-size=1000,820")
timeout 60 chromium "${args[@]}" --dump-dom "file://$html" >"$html.dom" 2>"$tmp/chromium.err"
tap_eq "chromium dumps the DOM" 0 "$?"
timeout 60 chromium "${args[@]}" --screenshot="$html.png" "file://$html" >>"$tmp/chromium.err" 2>&1
tap_eq "chromium takes the screenshot" 0 "$?"
tap_eq "the screenshot is a PNG" 89504e470d0a1a0a \
	"$(head -c 8 "$html.png" | od -An -tx1 | tr -d ' \n')"
"$PY" tests/e2e/lib/html_dom.py "$html.dom" >"$tmp/facts"

# Certificate labels by fingerprint: C1 is the first one seen (B).
label_of() { awk -F= -v s="$1" '$1 ~ /^cert\.C[0-9]+\.sha256$/ && $2 == s {
	split($1, p, "."); print p[2] }' "$tmp/facts"; }
la=$(label_of "$fp_a") lb=$(label_of "$fp_b")
tap_eq "certificate table: B (fingerprint from openssl) is C1" C1 "$lb"
tap_eq "certificate table: A (fingerprint from openssl) is C2" C2 "$la"
tap_eq "certificate table: B served 40 times, none failed" "40 0" \
	"$(fact_kv "cert.$lb.handshakes") $(fact_kv "cert.$lb.failures")"
tap_eq "certificate table: A served 28 times, 24 failed" "28 24" \
	"$(fact_kv "cert.$la.handshakes") $(fact_kv "cert.$la.failures")"
tap_eq "certificate table: A is critical: revoked and superseded" \
	"critical:revoked,critical:superseded" "$(fact_kv "cert.$la.findings")"
tap_eq "certificate table: B has no finding" "" "$(fact_kv "cert.$lb.findings")"
tap_eq "certificate table: serials from openssl" "$(fact serial_a) $(fact serial_b)" \
	"$(fact_kv "cert.$la.serial") $(fact_kv "cert.$lb.serial")"
tap_eq "served per name: B 12 ok, A 28 with 24 failed, B 28 ok" \
	"C1:12:0,C2:28:24,C1:28:0" "$(fact_kv served.a.test)"
tap_eq "lane of a.test: C1, C2, C1" "C1,C2,C1" "$(fact_kv lane.a.test)"
tap_eq "served per name: all three periods from the one server" 1 \
	"$(fact_kv served_at.a.test | tr ',' '\n' | sort -u | grep -c ':443$')"
tap_eq "overview: 68 handshakes, 44 ok, 24 failed" "68 44 24" \
	"$(fact_kv ov.handshakes) $(fact_kv ov.ok) $(fact_kv ov.failed)"
tap_eq "timeline: 68 handshakes and 24 failures in its columns" "68 24" \
	"$(fact_kv timeline.handshakes) $(fact_kv timeline.failures)"
tap_eq "alerts: certificate_revoked from the client, 24 times" 24 \
	"$(fact_kv alert.certificate_revoked.client)"
tap_eq "clients: the one client failed 24 of 68" 68:24 \
	"$(fact_kv client.0 | cut -d: -f2-)"

# The burst lines up under A: the spike area starts inside A's period (the
# window judged begins with A's first failures, or a second later: that
# depends on how fast the clients ran) and ends after it, when B is back.
spike_x=$(fact_kv spike_area.0.x) a_x=$(fact_kv lane.a.test.1.x)
tap_check "one shaded spike area, for all the spike episodes" \
	test -n "$spike_x" -a -z "$(fact_kv spike_area.1)"
tap_check "the spike area ($spike_x) starts in A's period ($a_x), ends after it, before the timeline ends" \
	"$PY" -c "
import sys
s0, s1 = map(float, '$spike_x'.split(','))
a0, a1 = map(float, '$a_x'.split(','))
sys.exit(not (a0 - 0.5 <= s0 < a1 and s1 > a1 and s1 < 990))"
tap_eq "spike table: 4 episodes (all traffic, the name, A, the client)" 4 \
	"$(fact_kv spikes.rows)"
tap_eq "the whole page rendered, no script, handler or external reference" "1 0 0 0" \
	"$(fact_kv page.footer) $(fact_kv unsafe.scripts) $(fact_kv unsafe.handlers) $(fact_kv unsafe.external)"

# report --db: the same capture's inventory as a page. It keeps served
# certificates (first/last seen, count), not handshakes: one row per leaf,
# no timeline, failures not counted.
db=$tmp/inv.db
"$BUILD/tlswatch" analyze -q --ca-file "$tmp/inc/root.crt" --crl "$tmp/inc/inter.crl" \
	--db "$db" "$tmp/inc/incident.pcap" >/dev/null 2>"$tmp/err"
tap_eq "analyze --db exits 0" 0 "$?"
"$BUILD/tlswatch" report --db "$db" --html "$tmp/inv.html" 2>"$tmp/err"
tap_eq "report --db --html exits 0" 0 "$?"
timeout 60 chromium "${args[@]}" --dump-dom "file://$tmp/inv.html" >"$tmp/inv.dom" 2>>"$tmp/chromium.err"
tap_eq "chromium dumps the inventory page" 0 "$?"
"$PY" tests/e2e/lib/html_dom.py "$tmp/inv.dom" >"$tmp/facts"
la=$(label_of "$fp_a") lb=$(label_of "$fp_b")
tap_eq "report: B then A by first sighting, 40 and 28 handshakes, failures n/a" \
	"$lb:40:n/a,$la:28:n/a" "$(fact_kv served.a.test)"
tap_eq "report: A is critical: revoked and superseded" \
	"critical:revoked,critical:superseded" "$(fact_kv "cert.$la.findings")"
tap_eq "report: the fingerprints are openssl's" "C1 C2" "$lb $la"
tap_eq "report: no timeline, said so" "0 1" \
	"$(fact_kv timeline.columns) $(grep -c 'id="timeline-none"' "$tmp/inv.dom")"
"$BUILD/tlswatch" report --db "$tmp/none.db" --html "$tmp/x.html" 2>"$tmp/err"
tap_eq "report: a missing database exits 3" 3 "$?"
tap_eq "report without --html: the inventory listing, A served, B serving" \
	"served $fp_a serving $fp_b" \
	"$("$BUILD/tlswatch" report --db "$db" | awk '$1 ~ /^serv/ { printf "%s%s %s", sep, $1, $3; sep = " " }' |
		tr ' ' '\n' | paste -sd' ' | awk '{ if ($1 == "serving") print $3, $4, $1, $2; else print }')"
"$BUILD/tlswatch" report --db "$db" --html "$tmp/no/dir/x.html" 2>"$tmp/err"
tap_eq "report: an unwritable --html exits 3" 3 "$?"

if [ -n "${HTML_REPORT_PNG:-}" ]; then
	cp "$html.png" "$HTML_REPORT_PNG" && tn_note "screenshot kept in $HTML_REPORT_PNG"
fi
[ "$TN_FAILED" -eq 0 ]
