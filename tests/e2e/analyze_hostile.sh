#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Strings off the wire are escaped: hostile_sni.pcap (scripts/
# make-hostile-sni.py) carries SNI and ALPN values with quotes, backslashes,
# NUL and other control bytes, terminal escape sequences and invalid UTF-8.
# Every JSON line must be valid UTF-8 JSON, the quote and backslash must come
# back intact, and the text report must hold no control character.
# hostile_nul_sni.pcap (make-hostile-sni.py --nul-sni) asks for
# "rsa.test\0evil.test" and is served the rsa.test chain: the name before the
# NUL is covered, the SNI is no DNS name, so hostname_mismatch, and nothing
# filed in the inventory under the cut name, and its failures count in a
# spike scope of the escaped name (rsa.test\x00evil.test).
. "$(dirname "$0")/lib.sh"
t_require_tlswatch
f=$CAPS/hostile_sni.pcap

run_json "$f"
assert_eq "hostile: exit 0" 0 "$T_RC"
assert_eq "hostile: every line parses as a JSON object" 0 "$(kv_get "$T_TMP/out.kv" bad_lines)"
assert_eq "hostile: every line is valid UTF-8" 0 "$(kv_get "$T_TMP/out.kv" not_utf8)"
assert_eq "hostile: the last line is the summary" summary "$(kv_get "$T_TMP/out.kv" last_event)"
assert_eq "hostile: 2 handshakes" 2 "$(kv_get "$T_TMP/out.kv" summary.handshakes)"
assert_eq "hostile: both aborted (ClientHello, then FIN)" 2 \
	"$(kv_get "$T_TMP/out.kv" summary.outcome_counts.aborted)"
assert_eq "hostile: no parse error (the hellos are well formed)" 0 \
	"$(kv_get "$T_TMP/out.kv" summary.problem_counts.parse_errors)"

# The decoded strings, checked with python3's json module.
"$PY" - "$T_TMP/out.json" >"$T_TMP/strings" <<'PYEOF'
import json, sys
for line in open(sys.argv[1], 'rb'):
    ev = json.loads(line.decode('utf-8'))
    if ev.get('event') != 'handshake':
        continue
    port = ev['client']['port']
    sni = ev.get('sni', '')
    alpn = ev.get('alpn', [])
    print('%d.sni_head=%s' % (port, json.dumps(sni[:19])))
    print('%d.sni_len_ok=%s' % (port, 0 < len(sni.encode('utf-8', 'surrogatepass')) <= 3 * 300))
    print('%d.alpn_count=%d' % (port, len(alpn)))
    print('%d.alpn_1=%s' % (port, json.dumps(alpn[1][:3] if len(alpn) > 1 else '')))
PYEOF
assert_eq "hostile: quote and backslash in the SNI come back intact" \
	'"evil\"quote\\back\u0000nul"' "$(kv_get "$T_TMP/strings" 40001.sni_head)"
assert_eq "hostile: 300-byte SNI reported (possibly cut)" True "$(kv_get "$T_TMP/strings" 40002.sni_len_ok)"
assert_eq "hostile: the three ALPN values are reported" 3 "$(kv_get "$T_TMP/strings" 40001.alpn_count)"
assert_eq "hostile: quote and backslash in an ALPN value come back intact" \
	'"x\"\\"' "$(kv_get "$T_TMP/strings" 40001.alpn_1)"

# No raw control byte anywhere in the JSON (json.loads would already refuse
# one inside a string; this also covers text outside strings).
ctl() { # file -> number of lines with C0 controls (but tab), DEL or C1
	LC_ALL=C grep -c -P '[\x00-\x08\x0b-\x1f\x7f]|\xc2[\x80-\x9f]' "$1" || true
}
assert_eq "hostile: no raw control byte in the JSON output" 0 "$(ctl "$T_TMP/out.json")"

T_RC=0
"$TW" analyze "$f" >"$T_TMP/out.txt" 2>"$T_TMP/err.txt" || T_RC=$?
assert_eq "hostile text report: exit 0" 0 "$T_RC"
assert_eq "hostile text report: not empty" yes "$([ -s "$T_TMP/out.txt" ] && echo yes)"
assert_eq "hostile text report: no control byte on stdout" 0 "$(ctl "$T_TMP/out.txt")"
assert_eq "hostile text report: no control byte on stderr" 0 "$(ctl "$T_TMP/err.txt")"
assert_contains "hostile text report: the readable part of the SNI is shown" evil "$(cat "$T_TMP/out.txt")"
T_RC=0
"$TW" analyze -v -v "$f" >/dev/null 2>"$T_TMP/err.txt" || T_RC=$?
assert_eq "hostile with -v -v: exit 0" 0 "$T_RC"
assert_eq "hostile with -v -v: no control byte in the debug output" 0 "$(ctl "$T_TMP/err.txt")"

# An SNI holding a NUL: every byte is checked, none is filed.
nul=$CAPS/hostile_nul_sni.pcap
run_json --ca-file tests/data/pki/root.crt --db "$T_TMP/nul.db" "$nul"
assert_eq "NUL SNI: exit 0" 0 "$T_RC"
"$PY" - "$T_TMP/out.json" >"$T_TMP/nul.kv" <<'PYEOF'
import json, sys
for line in open(sys.argv[1], 'rb'):
    ev = json.loads(line.decode('utf-8'))
    if ev.get('event') == 'cert':
        print('cert.sni=%s' % json.dumps(ev['sni']))
        print('cert.findings=%s' % ','.join(f['kind'] for f in ev['findings']))
        for f in ev['findings']:
            print('cert.%s=%s' % (f['kind'], f['detail']))
PYEOF
assert_eq "NUL SNI: the cert event keeps every byte of the SNI" \
	'"rsa.test\u0000evil.test"' "$(kv_get "$T_TMP/nul.kv" cert.sni)"
assert_eq "NUL SNI: the only finding is hostname_mismatch" hostname_mismatch \
	"$(kv_get "$T_TMP/nul.kv" cert.findings)"
assert_eq "NUL SNI: the detail says why, the NUL escaped" \
	'SNI "rsa.test\x00evil.test" holds a NUL byte (no DNS name does), is not covered by the certificate: rsa.test, www.rsa.test' \
	"$(kv_get "$T_TMP/nul.kv" cert.hostname_mismatch)"
assert_eq "NUL SNI: counted among the summary's findings" 1 \
	"$(kv_get "$T_TMP/out.kv" summary.finding_counts.hostname_mismatch)"
T_RC=0
"$TW" inventory --db "$T_TMP/nul.db" --json >"$T_TMP/nul_inv.json" 2>/dev/null || T_RC=$?
assert_eq "NUL SNI: inventory listing exits 0" 0 "$T_RC"
assert_eq "NUL SNI: nothing filed (not under the cut name rsa.test either)" 0 \
	"$(grep -c . "$T_TMP/nul_inv.json" || true)"
# Its failure counts under the escaped name in the spike scopes, never
# under rsa.test (one aborted handshake: fires with --spike-min-failures 1).
T_RC=0
"$TW" analyze --json --spike-min-failures 1 "$nul" >"$T_TMP/nul_spike.json" 2>/dev/null || T_RC=$?
assert_eq "NUL SNI spikes: exit 0" 0 "$T_RC"
assert_eq "NUL SNI spikes: the SNI scope and explanation name the escaped SNI" \
	'{"sni": "rsa.test\\x00evil.test"}|rsa.test\x00evil.test' \
	"$("$PY" -c '
import json, sys
for line in open(sys.argv[1]):
    ev = json.loads(line)
    if ev.get("event") == "spike" and "sni" in ev["scope"]:
        print("%s|%s" % (json.dumps(ev["scope"]), ev["top_snis"][0]["key"]))
' "$T_TMP/nul_spike.json" | paste -sd' ')"
t_done
