#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The HTML incident report (analyze --html) of committed captures, rendered
# by a real browser: headless Chromium loads the page, writes a PNG and its
# DOM; tests/e2e/lib/html_dom.py reads what the DOM shows, and every value
# is compared with what the captures' .expect files say (fingerprints from
# openssl, outcomes and alerts from how each scenario was built), never
# with tlswatch's own output. The hostile captures prove that strings off
# the wire reach the page as text: no script element, no event handler,
# nothing loaded from outside the page.
. "$(dirname "$0")/lib.sh"
t_require_tlswatch
if ! command -v chromium >/dev/null; then
	not_ok "chromium is installed (scripts/install-deps.sh)"
	t_done
fi

# Headless Chromium on FILE: the DOM into FILE.dom, a PNG into FILE.png.
# As root it needs --no-sandbox; a private profile; bounded in time.
browse() { # html file
	local args=(--headless --no-sandbox --disable-gpu --hide-scrollbars
		--user-data-dir="$T_TMP/chromium" "--window-size=1100,1400")
	timeout 60 chromium "${args[@]}" --dump-dom "file://$(realpath "$1")" >"$1.dom" 2>"$1.err" &&
		timeout 60 chromium "${args[@]}" --screenshot="$1.png" "file://$(realpath "$1")" \
			>>"$1.err" 2>&1
}

# PNG signature and a size that is not a blank page.
assert_png() { # name, file
	local sig
	sig=$(head -c 8 "$2" 2>/dev/null | od -An -tx1 | tr -d ' \n')
	assert_eq "$1: the screenshot is a PNG" 89504e470d0a1a0a "$sig"
	assert_true "$1: the screenshot is more than 10 kB" \
		test "$(stat -c %s "$2" 2>/dev/null || echo 0)" -gt 10000
}

# What the .expect files of CAPTURES say the report must show, as
# "key<TAB>value" lines in html_dom.py's names (certificates by sha256:
# their C-labels are looked up in the DOM).
expected() { # expect files...
	"$PY" - "$@" <<'PY'
import sys
SEV = {'revoked': 'critical', 'expired': 'critical', 'not_yet_valid': 'critical',
       'superseded': 'critical', 'unexpected': 'critical', 'untrusted': 'critical',
       'hostname_mismatch': 'critical', 'revoked_staple': 'critical',
       'stale_staple': 'warning', 'expiring_soon': 'warning',
       'self_signed': 'warning', 'weak_key': 'warning'}
tot, certs, alerts, names, periods = {}, {}, {}, {}, {}
for path in sys.argv[1:]:
    kv = dict(l.rstrip('\n').split('=', 1) for l in open(path)
              if '=' in l and not l.startswith('#'))
    for k in ('handshakes', 'outcome_counts.ok', 'outcome_counts.failed',
              'outcome_counts.aborted', 'outcome_counts.incomplete'):
        tot[k] = tot.get(k, 0) + int(kv.get('summary.' + k, 0))
    for i in range(1, int(kv['handshakes']) + 1):
        h = lambda f: kv.get('hs.%d.%s' % (i, f), '')
        failed = h('outcome') in ('failed', 'aborted')
        leaf = h('chain').split(',')[0]
        if leaf:
            c = certs.setdefault(leaf, {'h': 0, 'f': 0, 'k': set()})
            c['h'] += 1
            c['f'] += failed
            c['k'] |= {x for x in h('findings').split(',') if x}
            names[h('sni')] = names.get(h('sni'), 0) + 1
            # A serving period: one leaf from one server address.
            p = periods.setdefault(h('sni'), [])
            at = '%s:%s' % (h('server_ip'), h('server_port'))
            if not p or p[-1] != (leaf, at):
                p.append((leaf, at))
        for a in filter(None, h('alerts').split(',')):
            side, level, desc, enc = a.split(':')
            key = 'alert.%s.%s' % ('encrypted' if enc == 'true' else desc, side)
            alerts[key] = alerts.get(key, 0) + 1
    k = 1
    while 'cert.%d.sha256' % k in kv:
        certs[kv['cert.%d.sha256' % k]]['k'] |= {
            x for x in kv.get('cert.%d.findings' % k, '').split(',') if x}
        k += 1
print('ov.handshakes\t%d' % tot['handshakes'])
for o in ('ok', 'failed', 'aborted', 'incomplete'):
    print('ov.%s\t%d' % (o, tot['outcome_counts.' + o]))
fails = tot['outcome_counts.failed'] + tot['outcome_counts.aborted']
print('timeline.handshakes\t%d' % (tot['outcome_counts.ok'] + fails))
print('timeline.failures\t%d' % fails)
print('ov.certs\t%d' % len(certs))
for sha, c in sorted(certs.items()):
    print('cert@%s.handshakes\t%d' % (sha, c['h']))
    print('cert@%s.failures\t%d' % (sha, c['f']))
    print('cert@%s.findings\t%s' % (sha, ','.join(sorted('%s:%s' % (SEV[x], x)
                                                         for x in c['k']))))
for k, v in sorted(alerts.items()):
    print('%s\t%d' % (k, v))
for n, v in sorted(names.items()):
    print('served_total.%s\t%d' % (n, v))
    print('served_at.%s\t%s' % (n, ','.join(at for _, at in periods[n])))
PY
}

# "FOOTER SCRIPTS HANDLERS EXTERNAL" of a DOM's facts: "1 0 0 0" is safe.
unsafe_facts() { # facts file
	echo "$(kv_get "$1" page.footer) $(kv_get "$1" unsafe.scripts)" \
		"$(kv_get "$1" unsafe.handlers) $(kv_get "$1" unsafe.external)"
}

# Served rows of a name added up: "C1:12:0,C2:28:24" -> 68.
served_total() { # facts file, name
	kv_get "$1" "served.$2" | tr ',' '\n' | awk -F: '{ s += $2 } END { print s + 0 }'
}

# Every expected value against the DOM facts.
check_dom() { # label, facts file, expected file
	local label=$1 facts=$2 key want got sha field lbl
	while IFS=$'\t' read -r key want; do
		case $key in
		cert@*)
			sha=${key#cert@} field=${sha#*.} sha=${sha%%.*}
			lbl=$(awk -F= -v s="$sha" '$1 ~ /^cert\.C[0-9]+\.sha256$/ && $2 == s {
				split($1, p, "."); print p[2] }' "$facts")
			got=$(kv_get "$facts" "cert.$lbl.$field")
			[ -n "$lbl" ] || got="(no row with sha256 $sha)"
			key="certificate ${sha:0:12}... $field" ;;
		served_total.*)
			got=$(served_total "$facts" "${key#served_total.}") ;;
		*)
			got=$(kv_get "$facts" "$key") ;;
		esac
		assert_eq "$label: $key" "$want" "$got"
	done <"$3"
}

caps=(tls12_rsa tls12_reject_unknown_ca tls12_weak tls12_staple_revoked
      tls12_hostname_mismatch tls13_reject_encrypted aborted)
files=() expects=()
for c in "${caps[@]}"; do
	files+=("$CAPS/$(kv_get "$CAPS/$c.expect" file)")
	expects+=("$CAPS/$c.expect")
done

# 1. the committed captures in one report, judged with the test PKI
html=$T_TMP/captures.html
"$TW" analyze -q --ca-file tests/data/pki/root.crt --html "$html" "${files[@]}" \
	>"$T_TMP/text" 2>"$T_TMP/err"
assert_eq "captures: analyze --html exits 0" 0 "$?"
assert_contains "captures: the text report still goes to stdout" "tlswatch report" \
	"$(head -1 "$T_TMP/text")"
assert_true "captures: chromium renders the page" browse "$html"
assert_png "captures" "$html.png"
# Printed (the @media print layout), as a PDF: at least one page.
timeout 60 chromium --headless --no-sandbox --disable-gpu --user-data-dir="$T_TMP/chromium" \
	--print-to-pdf="$html.pdf" "file://$(realpath "$html")" >>"$html.err" 2>&1
assert_eq "captures: chromium prints the page to PDF" "%PDF" "$(head -c 4 "$html.pdf" 2>/dev/null)"
assert_true "captures: the PDF has pages" \
	test "$(grep -acE '/Type ?/Page([^s]|$)' "$html.pdf" 2>/dev/null)" -ge 1
"$PY" tests/e2e/lib/html_dom.py "$html.dom" >"$T_TMP/facts"
expected "${expects[@]}" >"$T_TMP/expected"
assert_true "captures: expected values computed" test -s "$T_TMP/expected"
check_dom captures "$T_TMP/facts" "$T_TMP/expected"
for s in overview timeline names certs alerts-section clients-section; do
	assert_eq "captures: section $s is there" 1 "$(kv_get "$T_TMP/facts" "section.$s")"
done
assert_eq "captures: the lane of rsa.test: its one certificate, from two servers" C1,C1 \
	"$(kv_get "$T_TMP/facts" lane.rsa.test)"
assert_eq "captures: the spike table says none" 0 "$(kv_get "$T_TMP/facts" spikes.rows)"
# why no certificate was seen, as the text report counts it (one TLS 1.3
# handshake, encrypted; every other name showed its certificate)
assert_eq "captures: the names without a certificate say why, counted" \
	'<p class="note">Certificate not visible on 1 TLS 1.3 handshake (encrypted).</p>' \
	"$(grep -ao '<p[^>]*>Certificate [^<]*</p>' "$html")"
assert_contains "captures: the text report says the same" \
	"certificate not visible on 1 TLS 1.3 handshake (encrypted)" "$(cat "$T_TMP/text")"
assert_eq "captures: the whole page rendered, with no script, handler or external reference" \
	"1 0 0 0" "$(unsafe_facts "$T_TMP/facts")"

# 2. hostile strings off the wire: shown as text, never as markup
html=$T_TMP/hostile.html
"$TW" analyze -q --html "$html" "$CAPS/hostile_html.pcap" "$CAPS/hostile_sni.pcap" \
	>/dev/null 2>"$T_TMP/err"
assert_eq "hostile: analyze --html exits 0" 0 "$?"
assert_true "hostile: chromium renders the page" browse "$html"
assert_png "hostile" "$html.png"
"$PY" tests/e2e/lib/html_dom.py "$html.dom" >"$T_TMP/hfacts"
assert_eq "hostile: the whole page rendered, with no script, handler or external reference" \
	"1 0 0 0" "$(unsafe_facts "$T_TMP/hfacts")"
assert_eq "hostile: the markup SNI is a heading's text, byte for byte" \
	"</title><script>alert(1)</script><img src=x onerror=\"alert('x')\">&amp;&lt;<!--.test" \
	"$(kv_get "$T_TMP/hfacts" name.0)"
assert_eq "hostile: control bytes and invalid UTF-8 shown as \\xHH" \
	'evil"quote\x5cback\x00nul\x07bel\x1b[31mred\x1b[0m\x7fdel\x0d\x0a\x09tab\xe2\x80\xa8sep\xff\xfe\xc3(bad.test' \
	"$(kv_get "$T_TMP/hfacts" name.1)"
assert_eq "hostile: the 300-byte SNI is cut at the 255 bytes kept" \
	"$((255 * 4))" "$(kv_get "$T_TMP/hfacts" name.2 | wc -c | awk '{ print $1 - 1 }')"
assert_eq "hostile: the page title is the report's" \
	"tlswatch report: multiple files" "$(kv_get "$T_TMP/hfacts" title)"
assert_eq "hostile: 3 aborted handshakes" 3 "$(kv_get "$T_TMP/hfacts" ov.aborted)"
# The file itself: no raw '<' of a wire string anywhere (every '<' starts a
# tag of the page's own vocabulary).
bad=$(grep -ao '<[^>]*' "$html" | sed 's/^<\/\{0,1\}\([a-zA-Z0-9!]*\).*/\1/' | sort -u |
	grep -vxE '!DOCTYPE|a|b|body|circle|code|defs|details|div|footer|g|h1|h2|h3|head|html|line|meta|p|path|pattern|rect|section|span|style|summary|svg|table|td|text|th|title|tr' |
	tr '\n' ' ')
assert_eq "hostile: only the page's own tags in the file" "" "$bad"
assert_eq "hostile: the file has tags at all" 1 "$(grep -ac '<footer' "$html")"

# 2b. an empty inventory (a capture with no visible certificate): the
# listing says so on standard error (exit 0), and its page does not claim
# that no spike or alert happened, which an inventory cannot know
"$TW" analyze -q --db "$T_TMP/empty.db" "$CAPS/tls13_ecdsa.pcap" >/dev/null 2>&1
"$TW" inventory --db "$T_TMP/empty.db" >"$T_TMP/inv.out" 2>"$T_TMP/inv.err"
assert_eq "empty inventory: exit 0" 0 "$?"
assert_eq "empty inventory: nothing on standard output" "" "$(cat "$T_TMP/inv.out")"
assert_eq "empty inventory: said on standard error" \
	"tlswatch inventory: no certificate recorded in $T_TMP/empty.db" "$(cat "$T_TMP/inv.err")"
"$TW" report --db "$T_TMP/empty.db" --html "$T_TMP/empty.html" 2>/dev/null
assert_eq "empty inventory page: no spike or alert claimed, the unknown said" "0 0 1 1" \
	"$(grep -c 'No failure spike was detected' "$T_TMP/empty.html") $(grep -c 'No alert' "$T_TMP/empty.html") $(grep -c 'id="timeline-none"' "$T_TMP/empty.html") $(grep -c 'No certificate recorded in the inventory' "$T_TMP/empty.html")"

# 2c. an inventory of 41 names, 2 sightings each: the page lists 32 and
# counts the others' handshakes, with no outcomes (an inventory keeps
# none: no "ok 0, failed 0", no history schema to blame)
"$TW" analyze -q --db "$T_TMP/many.db" "$CAPS/tls12_rsa.pcap" >/dev/null 2>&1
assert_eq "41-name inventory: analyze --db exits 0" 0 "$?"
"$PY" - "$T_TMP/many.db" <<-'PYEOF'
	import sqlite3, sys
	db = sqlite3.connect(sys.argv[1])
	cols = [r[1] for r in db.execute("PRAGMA table_info(served)") if r[1] != "name"]
	for i in range(1, 41):
	    db.execute("INSERT INTO served (name, %s) SELECT ?, %s FROM served "
	               "WHERE name = 'rsa.test'" % (", ".join(cols), ", ".join(cols)),
	               ("n%02d.test" % i,))
	db.execute("UPDATE served SET count = 2")
	db.commit()
PYEOF
assert_eq "41-name inventory: 41 names in it" 41 \
	"$("$TW" inventory --json --db "$T_TMP/many.db" | "$PY" -c 'import json, sys; print(len({json.loads(l)["name"] for l in sys.stdin}))')"
"$TW" report --db "$T_TMP/many.db" --html "$T_TMP/many.html" 2>"$T_TMP/err"
assert_eq "41-name inventory page: exit 0" 0 "$?"
assert_eq "41-name inventory page: the further names' handshakes, counted alone" \
	'<p class="note" id="other-names">18 handshakes of further names not listed (at most 32 names).</p>' \
	"$(grep 'id="other-names"' "$T_TMP/many.html")"
assert_eq "41-name inventory page: no outcome claimed or missed" "0 0" \
	"$(grep -c 'ok 0, failed 0' "$T_TMP/many.html") $(grep -c 'schema 6' "$T_TMP/many.html")"

# 3. an unwritable --html path is an input error before any work
"$TW" analyze -q --html "$T_TMP/no/such/dir/x.html" "$CAPS/tls12_rsa.pcap" >/dev/null 2>"$T_TMP/err"
assert_eq "bad --html path: exit 3" 3 "$?"
assert_contains "bad --html path: the message names it" "--html $T_TMP/no/such/dir/x.html" \
	"$(cat "$T_TMP/err")"
t_done
