#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Findings judged at the packet time (expired, not_yet_valid, expiring_soon,
# self_signed, weak_key, hostname_mismatch, staples), --warn-days, and the
# exit status of --fail-on.
. "$(dirname "$0")/lib.sh"
t_require_tlswatch

for name in tls12_selfsigned tls12_future tls12_expiring_soon \
	tls12_hostname_mismatch tls12_weak tls12_staple tls12_staple_revoked \
	tls12_reject_expired tls12_rsa; do
	check_capture "$name"
done

hs() { kv_get "$T_TMP/out.kv" "hs@$(kv_get "$CAPS/$1.expect" "hs.$2.client_port").$3"; }

one_finding() { # capture, kind
	run_json "$CAPS/$1.pcap"
	assert_eq "$1: the handshake's only finding is $2" "$2" "$(hs "$1" 1 findings)"
	assert_eq "$1: summary counts one handshake with $2" 1 \
		"$(kv_get "$T_TMP/out.kv" "summary.finding_counts.$2")"
}
one_finding tls12_reject_expired expired
one_finding tls12_future not_yet_valid
one_finding tls12_expiring_soon expiring_soon
one_finding tls12_selfsigned self_signed
one_finding tls12_weak weak_key
one_finding tls12_hostname_mismatch hostname_mismatch
one_finding tls12_staple_revoked revoked_staple

run_json "$CAPS/tls12_hostname_mismatch.pcap"
assert_eq "hostname_mismatch capture: SNI other.test" other.test "$(hs tls12_hostname_mismatch 1 sni)"
run_json "$CAPS/tls12_weak.pcap"
assert_eq "weak.test key is RSA-1024" RSA-1024 \
	"$(kv_get "$T_TMP/out.kv" "cert@$(kv_get "$CAPS/tls12_weak.expect" cert.1.sha256)@weak.test.key")"
run_json "$CAPS/tls12_selfsigned.pcap"
assert_eq "self-signed leaf served alone: chain of one" \
	"$(kv_get "$CAPS/tls12_selfsigned.expect" cert.1.sha256)" "$(hs tls12_selfsigned 1 chain)"

# The text report lists, per (name, certificate), every finding its cert
# events said: a later handshake that cannot show the staple keeps the
# stale one, and the certificate served for another name keeps its mismatch.
"$TW" analyze --staple-max-age 1 --ca-file tests/data/pki/root.crt \
	"$CAPS/tls12_staple.pcap" >"$T_TMP/text.out" 2>/dev/null
assert_eq "text report: the stale staple of handshake 1 is kept after handshake 2 asked for none" 1 \
	"$(grep -c '^      warning  stale_staple: staple is ' "$T_TMP/text.out")"
"$TW" analyze -q --db "$T_TMP/staple.db" --staple-max-age 1 --ca-file tests/data/pki/root.crt \
	"$CAPS/tls12_staple.pcap" >/dev/null 2>&1
assert_eq "inventory: the row keeps the stale staple handshake 2 could not show" "findings stale_staple" \
	"$("$TW" inventory --db "$T_TMP/staple.db" | grep -o 'findings .*')"
"$TW" analyze "$CAPS/tls12_hostname_mismatch.pcap" "$CAPS/tls12_rsa.pcap" >"$T_TMP/text.out" 2>/dev/null
assert_eq "text report: other.test keeps its hostname_mismatch after rsa.test served the same certificate" \
	'other.test:hostname_mismatch' \
	"$(awk '/^  [a-z]/ { name = $1 } /^      critical hostname_mismatch:/ { print name ":hostname_mismatch" }' "$T_TMP/text.out")"

# A failure rate leaves incomplete handshakes out (README): the capture cut
# after the first of rsa.test's two refused handshakes: failed 1, incomplete 1.
editcap -r "$CAPS/tls12_reject_unknown_ca.pcap" "$T_TMP/cut.pcap" 1-18 >/dev/null
"$TW" analyze --html "$T_TMP/cut.html" "$T_TMP/cut.pcap" >"$T_TMP/text.out" 2>/dev/null
assert_eq "text report: failed 1 of 1 ended (1 incomplete): failure rate 100.0%" \
	"    handshakes 2: ok 0, failed 1, aborted 0, incomplete 1; failure rate 100.0%" \
	"$(grep '^    handshakes ' "$T_TMP/text.out")"
assert_eq "HTML page: the same rate" \
	"<p>2 handshakes: ok 0, failed 1, aborted 0, incomplete 1; failure rate 100.0%</p>" \
	"$(grep -o '<p>2 handshakes: [^<]*</p>' "$T_TMP/cut.html")"

run_json "$CAPS/tls12_staple.pcap"
assert_eq "staple asked for: status good" good "$(hs tls12_staple 1 staple)"
assert_eq "staple signed by the issuer in the chain: verified" true "$(hs tls12_staple 1 staple_verified)"
assert_eq "staple not asked for: no staple field" false "$(hs tls12_staple 2 has_staple)"
assert_eq "good staple valid 7 days: no stale_staple" "" "$(hs tls12_staple 1 findings)"
run_json "$CAPS/tls12_staple_revoked.pcap"
assert_eq "revoked staple: status revoked" revoked "$(hs tls12_staple_revoked 1 staple)"
assert_eq "revoked staple: revoked_at present" yes \
	"$([ -n "$(hs tls12_staple_revoked 1 staple_revoked_at)" ] && echo yes)"

# soon.test expires 7 days after the packets: inside 14 days, not inside 3.
run_json --warn-days 3 "$CAPS/tls12_expiring_soon.pcap"
assert_eq "--warn-days 3: a leaf expiring in 7 days is not expiring_soon" "" \
	"$(hs tls12_expiring_soon 1 findings)"
run_json --warn-days 10 "$CAPS/tls12_expiring_soon.pcap"
assert_eq "--warn-days 10: a leaf expiring in 7 days is expiring_soon" expiring_soon \
	"$(hs tls12_expiring_soon 1 findings)"
run_json --warn-days 3650 "$CAPS/tls12_rsa.pcap"
assert_eq "--warn-days 3650: rsa.test (until 2045) is not expiring_soon" "" \
	"$(hs tls12_rsa 1 findings)"

fail_on() { # expected status, kinds, capture
	local rc=0
	"$TW" analyze -q --fail-on "$2" "$CAPS/$3.pcap" >/dev/null 2>&1 || rc=$?
	assert_eq "--fail-on $2 on $3: exit $1" "$1" "$rc"
}
fail_on 1 expired tls12_reject_expired
fail_on 0 self_signed tls12_reject_expired
fail_on 1 not_yet_valid tls12_future
fail_on 1 expiring_soon tls12_expiring_soon
fail_on 1 self_signed tls12_selfsigned
fail_on 1 weak_key tls12_weak
fail_on 1 hostname_mismatch tls12_hostname_mismatch
fail_on 1 revoked_staple tls12_staple_revoked
fail_on 1 weak_key,expired tls12_weak
fail_on 0 expired,not_yet_valid,expiring_soon,self_signed,weak_key,hostname_mismatch,revoked_staple,stale_staple tls12_rsa
fail_on 0 spike tls12_rsa
fail_on 0 expired tls13_ecdsa
rc=0
"$TW" analyze --json --fail-on expired "$CAPS/tls12_reject_expired.pcap" >"$T_TMP/fo.json" 2>/dev/null || rc=$?
assert_eq "--fail-on with --json: exit 1" 1 "$rc"
assert_eq "--fail-on with --json: the report is still complete" summary \
	"$(tail -n1 "$T_TMP/fo.json" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["event"])')"
t_done
