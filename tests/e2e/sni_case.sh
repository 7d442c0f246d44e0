#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Host names are case-insensitive (RFC 4343): what is judged of a name is
# kept under the name as compared (ASCII lowercase, one trailing dot
# dropped), while each handshake event keeps the SNI as the client sent
# it. A real openssl s_server (every address of a test namespace) serves
# one self-signed leaf for good.test; openssl s_client asks for A.test,
# a.test and A.TEST. at one address and a.Test at another; tcpdump records
# the four handshakes; `analyze` judges them:
#
# - 4 handshake events, each with its SNI as sent;
# - 2 cert events, one per address: the first spelling seen there (one
#   per spelling before: 4);
# - 1 webhook for the critical findings, the first cert event (the name
#   is a.test at both addresses; 4 before, one per spelling);
# - 2 Alertmanager alerts (untrusted, hostname_mismatch), name "a.test"
#   (8 before: one per spelling and kind);
# - one name row, A.test (the first spelling seen), in the text report
#   and in the HTML report (4 before).
# Needs root (network namespace, tcpdump). About 10 seconds.
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
. tests/e2e/lib_netns.sh
. tests/e2e/lib_prom.sh
tn_require_root sni_case
tn_require_cmds openssl tcpdump ip ss timeout
tn_require_tlswatch
tn_on_exit prom_cleanup
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3

tmp=$(tn_tmpdir)
mkdir -p "$tmp/srv"
tn_ec_cert "$tmp/srv" good.test

tn_setup snic
second=$(tn_peer_addr 3 | cut -d' ' -f1)
tn_start_tcpdump "$tmp/case.pcap" tcp port 443 || tn_bail "tcpdump did not start"
tn_s_server_everywhere "$tmp/srv"
hello() { # address, SNI
	printf 'GET / HTTP/1.0\r\n\r\n' | timeout 5 openssl s_client \
		-connect "$1:443" -servername "$2" -tls1_2 >/dev/null 2>&1
	tap_eq "a client sending SNI $2 to $1 completes its handshake" 0 "$?"
}
hello "$TN_PEER4" A.test
hello "$TN_PEER4" a.test
hello "$TN_PEER4" A.TEST.
hello "$second" a.Test
tn_stop_tcpdump "$tmp/case.pcap"

# "sni@address" of the events of one type, in order.
events_of() { # json file, event type
	"$PY" -c 'import json, sys
for e in map(json.loads, open(sys.argv[1])):
    if e.get("event") == sys.argv[2]:
        print("%s@%s" % (e.get("sni"), e["server"]["ip"]))' "$1" "$2" |
		paste -sd' '
}

"$BUILD/tlswatch" analyze -q --json "$tmp/case.pcap" >"$tmp/events.json" 2>"$tmp/err" ||
	tap_fail "analyze --json exits 0" "$(cat "$tmp/err")"
tap_eq "4 handshake events, each SNI as sent" \
	"A.test@$TN_PEER4 a.test@$TN_PEER4 A.TEST.@$TN_PEER4 a.Test@$second" \
	"$(events_of "$tmp/events.json" handshake)"
tap_eq "2 cert events: one per address, not per spelling" \
	"A.test@$TN_PEER4 a.Test@$second" "$(events_of "$tmp/events.json" cert)"

# The text and HTML reports: one name row for the four spellings, shown
# as first seen (four rows before, one per spelling).
"$BUILD/tlswatch" analyze -q --html "$tmp/case.html" "$tmp/case.pcap" \
	>"$tmp/report.txt" 2>"$tmp/err" ||
	tap_fail "analyze --html exits 0" "$(cat "$tmp/err")"
tap_eq "the text report: one name row, A.test, at both addresses" \
	"  A.test  at $TN_PEER4:443 and others|    handshakes 4: ok 4, failed 0, aborted 0, incomplete 0; failure rate 0.0%" \
	"$(sed -n '/^Server names/,/^$/p' "$tmp/report.txt" | grep -A1 '^  [^ ]' | paste -sd'|')"
tap_eq "the text report: its certificate listed once, served 4 times" "1 1" \
	"$(grep -c '^    certificate ' "$tmp/report.txt") $(grep -c 'served 4 times' "$tmp/report.txt")"
tap_eq "the HTML report: one name, A.test, at both addresses" \
	"<h3 class=\"name\">A.test <span class=\"note\">at $TN_PEER4:443, $second:443</span></h3>" \
	"$(grep -o '<h3 class="name">.*</h3>' "$tmp/case.html" | paste -sd'|')"

# The Alertmanager: a second receiver (its bodies are alert lists, not
# events), outside the scratch directory whose events are checked.
amdir=$(mktemp -d)
tn_on_exit "rm -rf '$amdir'"
"$PY" "$PROM_RECEIVER" --port 0 --out "$amdir/am.jsonl" --max-seconds 120 \
	>"$amdir/stdout" 2>"$amdir/stderr" &
tn_bg $!
tn_wait_cmd 10 test -s "$amdir/stdout" || tn_bail "the Alertmanager receiver did not start"
am_url=http://127.0.0.1:$(head -n 1 "$amdir/stdout")
hook_start || tn_bail "the webhook receiver did not start"

"$BUILD/tlswatch" analyze -q --webhook "$HOOK_URL/hook" --alertmanager "$am_url" \
	"$tmp/case.pcap" >"$tmp/alerts.out" 2>"$tmp/alerts.err" ||
	tap_fail "analyze --webhook --alertmanager exits 0" "$(cat "$tmp/alerts.err")"
tap_eq "1 webhook for the name at both addresses: the first cert event" "A.test" \
	"$("$PY" -c 'import json, sys
for r in map(json.loads, open(sys.argv[1])):
    b = json.loads(r["body"])
    print(b.get("sni"))' "$HOOK_OUT" | paste -sd' ')"
tap_eq "2 Alertmanager alerts, one per kind, named a.test" \
	"a.test hostname_mismatch|a.test untrusted" \
	"$("$PY" -c 'import json, sys
seen = set()
for r in map(json.loads, open(sys.argv[1])):
    for a in json.loads(r["body"]):
        seen.add("%s %s" % (a["labels"]["name"], a["labels"]["kind"]))
print("|".join(sorted(seen)))' "$amdir/am.jsonl")"
[ "$TN_FAILED" -eq 0 ]
