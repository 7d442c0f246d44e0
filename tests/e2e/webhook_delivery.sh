#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Webhook alert delivery, end to end, against the real test receiver
# (tests/e2e/lib/webhook_receiver.py, on 127.0.0.1 only):
#   1. selection: the default sends exactly the cert events with a critical
#      finding (the same events analyze --json prints), --webhook-events
#      cert every cert event, a bad list is refused;
#   2. headers: Content-Type, Idempotency-Key, Tlswatch-Signature (checked
#      by the receiver and here with openssl); a readable secret is refused;
#   3. a receiver that fails (500), then recovers: with --db every alert
#      arrives exactly once, under the key of its failed attempts;
#      Retry-After is honoured (a day's waits the 12 h cap); a 400 is
#      final (one attempt); a 301/302/303 redirect keeps the POST and its
#      body, a redirect loop is retried; logs name receivers without
#      their secrets, each receiver's outage once; analyze killed while
#      its request hangs leaves the attempt counted in the file (3k);
#   4. dedup: the same capture twice with one --db alerts once;
#   5. --webhook-format slack (a hostile SNI escaped: 6a); a signed URL
#      of 2048 bytes (the bound) next to a short one: each receiver gets
#      the alert through the outbox;
#   6. live: tlswatch run in a network namespace pair sees an expired
#      certificate, the receiver fails, the agent is SIGKILLed, restarted
#      on the same --db with the receiver back: the alert arrives exactly
#      once, with the key of the attempts before the kill; with
#      --webhook-events agent every start, stats and stop is sent (6b).
# Captures from tests/data/captures, judged against tests/data/pki's root.
# Case 6 needs root (network namespaces, eBPF); it is skipped otherwise.
# TAP output; exits non-zero on any failure. Everything started is stopped
# and everything created removed on every exit path.
set -u
. "$(dirname "$0")/lib.sh"          # cd to the top; ok/not_ok; T_TMP
. tests/e2e/lib_prom.sh             # hook_*
. scripts/lib/common.sh             # cert_sha256
. tests/e2e/lib_netns.sh            # tn_* (its EXIT trap is replaced below)

AGENT_PID=''
wh_cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	[ -n "$AGENT_PID" ] && tn_stop_pid "$AGENT_PID" TERM
	AGENT_PID=''
	prom_cleanup
	rm -rf "$T_TMP"
	[ "$rc" -eq 0 ] && [ "$T_FAILED" -ne 0 ] && rc=1
	# namespaces, veths, registered pids and hooks; exits with rc
	(exit "$rc")
	tn_cleanup
}
trap wh_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

t_require_tlswatch
for c in curl openssl python3; do
	command -v "$c" >/dev/null 2>&1 || { not_ok "$c missing (make deps installs it)"; t_done; }
done

CA=tests/data/pki/root.crt
C=$CAPS
FP_EXPIRED=edc5593a317b5d24b9332002aa31c08ca9b245c47719155111a2d7916283e6bd
FP_REVOKED=c0d95b95bf12c5ebc46d508715d8b3914c468669cc470772ad4e3e90354e15a5
FP_RSA=c3e71b9a9128e1474b1e580b48936698c6ea8650adadd0a41e9b3df3ef7c6f3b
FP_FUTURE=65250603f69c59aa84a200c0a45a3d1db25e88c9da6da794185eaddc3a05ee1e
FP_SELF=038815e798bcbac3d3bb635a240b9b924e9562de3fe79b42f2063c75ed171834
FP_SOON=6a1b05dc28e73ceac460bee3098d9cbfa96cb07127607f8d0050529cdc9f2d4e
FP_WEAK=996d7316a2e6e49b3a1641f9813c71e31e7cf52b45c2dc13cef8015294c6729c
assert_eq "the committed PKI's leaves have the fingerprints this test names" \
	"$FP_EXPIRED $FP_REVOKED $FP_RSA $FP_FUTURE $FP_SELF $FP_SOON $FP_WEAK" \
	"$(for n in expired revoked rsa future selfsigned soon weak; do
		cert_sha256 "tests/data/pki/$n.test.crt"; done | tr '\n' ' ' | sed 's/ $//')"

# Five critical cert events (expired+untrusted, revoked_staple,
# hostname_mismatch, not_yet_valid+untrusted, untrusted+self_signed) and
# three without a critical finding (none, expiring_soon, weak_key).
ALL=("$C/tls12_reject_expired.pcap" "$C/tls12_staple_revoked.pcap"
	"$C/tls12_hostname_mismatch.pcap" "$C/tls12_future.pcap"
	"$C/tls12_selfsigned.pcap" "$C/tls12_rsa.pcap"
	"$C/tls12_expiring_soon.pcap" "$C/tls12_weak.pcap")
QUIET=("$C/tls12_rsa.pcap" "$C/tls12_expiring_soon.pcap" "$C/tls12_weak.pcap")

# hq FROM EXPR: a Python expression over R, the receiver's records from
# line FROM (1-based) on; B(r) is a record's body parsed. Printed, with
# True/False/None as JSON.
hq() { # from, expr
	"$PY" - "$HOOK_OUT" "$1" "$2" <<-'EOF'
	import json, re, sys
	try:
	    lines = open(sys.argv[1]).read().splitlines()
	except FileNotFoundError:
	    lines = []
	R = [json.loads(l) for l in lines[int(sys.argv[2]) - 1:]]
	def B(r):
	    return json.loads(r["body"])
	def K(r):
	    return r["headers"].get("idempotency-key", "")
	v = eval(sys.argv[3], {"R": R, "B": B, "K": K, "json": json, "re": re})
	print(json.dumps(v) if isinstance(v, (bool, type(None))) else v)
	EOF
}

# The cert events of an analyze --json output, "SNI SHA256" per line,
# sorted: all of them (cert) or those with a critical finding (critical).
cert_set() { # json file, cert|critical
	"$PY" - "$1" "$2" <<-'EOF'
	import json, sys
	out = []
	for l in open(sys.argv[1]):
	    e = json.loads(l)
	    if e.get("event") != "cert":
	        continue
	    if sys.argv[2] == "critical" and not any(
	            f["severity"] == "critical" for f in e["findings"]):
	        continue
	    out.append("%s %s" % (e["sni"], e["sha256"]))
	print("\n".join(sorted(out)))
	EOF
}

# The "SNI SHA256" set of the bodies received from line FROM on.
body_set() { # from
	hq "$1" '"\n".join(sorted("%s %s" % (B(r)["sni"], B(r)["sha256"]) for r in R))'
}

# Rows left in an outbox database.
outbox_rows() { # db
	"$PY" -c 'import sqlite3, sys
print(sqlite3.connect(sys.argv[1]).execute("SELECT count(*) FROM outbox").fetchone()[0])' "$1"
}

# analyze with a webhook to URL; stdout in $T_TMP/a.json, stderr in
# $T_TMP/a.err, status in $A_RC.
hook_analyze_to() { # url, args...
	local url=$1
	shift
	A_RC=0
	timeout 60 "$TW" analyze --json --ca-file "$CA" --webhook "$url" "$@" \
		>"$T_TMP/a.json" 2>"$T_TMP/a.err" || A_RC=$?
}
# The same, to the receiver's /hook.
hook_analyze() { # args...
	hook_analyze_to "$HOOK_URL/hook" "$@"
}

printf 'webhook-test-secret\n' >"$T_TMP/secret"   # trailing newline: not key
chmod 600 "$T_TMP/secret"
# Signed or not, every request is recorded; signature_ok says whether a
# signature made with this secret came along.
hook_start -s "$T_TMP/secret" || { not_ok "webhook receiver starts"; t_done; }

# ---- 1. selection ------------------------------------------------------------

from=$(($(hook_count) + 1))
hook_analyze "${ALL[@]}"
assert_eq "default events: analyze exits 0" 0 "$A_RC"
want=$(cert_set "$T_TMP/a.json" critical)
assert_eq "default events: analyze reports the 5 critical cert events" \
	"$(printf '%s\n' "expired.test $FP_EXPIRED" "future.test $FP_FUTURE" \
		"other.test $FP_RSA" "revoked.test $FP_REVOKED" "selfsigned.test $FP_SELF")" "$want"
assert_eq "default events: one request per critical cert event (8 cert events in all)" \
	"$(printf '%s\n' "$want" | grep -c .) 8" \
	"$(hq "$from" 'len(R)') $(grep -c '"event":"cert"' "$T_TMP/a.json")"
assert_eq "default events: the (sni, sha256) set of the bodies is that of the critical cert events" \
	"$want" "$(body_set "$from")"
assert_eq "default events: each body is the cert event analyze --json printed, byte for byte" \
	"$(grep '"event":"cert"' "$T_TMP/a.json" | grep '"severity":"critical"' | sort)" \
	"$(hq "$from" '"\n".join(sorted(r["body"] for r in R))')"
assert_eq "default events: every request answered 200 on /hook" "200 /hook" \
	"$(hq "$from" '" ".join(sorted(set("%d %s" % (r["status"], r["path"]) for r in R)))')"
assert_eq "default events: nothing left undelivered (no warning)" "" \
	"$(grep -i 'not delivered' "$T_TMP/a.err")"
first_keys=$(hq "$from" '" ".join(sorted(K(r) for r in R))')

# ---- 2. headers (on the requests of case 1) -----------------------------------

assert_eq "headers: Content-Type application/json on every request" application/json \
	"$(hq "$from" '" ".join(sorted(set(r["headers"].get("content-type", "-") for r in R)))')"
assert_eq "headers: Idempotency-Key is 32 lowercase hex on every request" true \
	"$(hq "$from" 'all(re.fullmatch("[0-9a-f]{32}", K(r)) for r in R)')"
assert_eq "headers: 5 distinct Idempotency-Keys for 5 alerts" 5 \
	"$(hq "$from" 'len(set(K(r) for r in R))')"
assert_eq "headers: no Tlswatch-Signature without a secret" "false false" \
	"$(hq "$from" 'any("tlswatch-signature" in r["headers"] for r in R)') $(hq "$from" 'any(r["signature_ok"] for r in R)')"

from=$(($(hook_count) + 1))
hook_analyze --webhook-secret-file "$T_TMP/secret" "${ALL[@]}"
assert_eq "signed: analyze exits 0" 0 "$A_RC"
assert_eq "signed: 5 requests, each with a Tlswatch-Signature the receiver verifies" "5 true" \
	"$(hq "$from" 'len(R)') $(hq "$from" 'bool(R) and all(r["signature_ok"] for r in R)')"
assert_eq "signed: header form t=UNIX,v1=64 hex" true \
	"$(hq "$from" 'all(re.fullmatch("t=[0-9]+,v1=[0-9a-f]{64}", r["headers"]["tlswatch-signature"]) for r in R)')"
# The expired.test alert's request (requests run side by side: their
# order of arrival is not the alerts' order)
expired='next(r for r in R if B(r).get("event") == "cert" and B(r).get("sni") == "expired.test")'
hq "$from" "$expired[\"body\"]" >"$T_TMP/body1"
truncate -s -1 "$T_TMP/body1"   # print's newline
sig=$(hq "$from" "$expired[\"headers\"][\"tlswatch-signature\"]")
t=${sig#t=}
t=${t%%,*}
mine=$({ printf '%s.' "$t"; cat "$T_TMP/body1"; } |
	openssl dgst -sha256 -hmac webhook-test-secret -r | cut -d' ' -f1)
assert_eq "signed: openssl's HMAC-SHA256 of t.body equals v1" "${sig#*,v1=}" "$mine"
assert_true "signed: t is now (within 60 s)" \
	test "$(( $(date +%s) - t ))" -lt 60 -a "$(( $(date +%s) - t ))" -gt -60
assert_eq "signed: the body signed is the alert (expired.test)" "expired.test $FP_EXPIRED" \
	"$("$PY" -c 'import json,sys; e=json.load(open(sys.argv[1])); print(e["sni"], e["sha256"])' "$T_TMP/body1")"

# A secret file saved with CRLF signs with the same key (README): the
# receiver's file ends in LF only.
printf 'webhook-test-secret\r\n' >"$T_TMP/secret-crlf"
chmod 600 "$T_TMP/secret-crlf"
from=$(($(hook_count) + 1))
hook_analyze --webhook-secret-file "$T_TMP/secret-crlf" "$C/tls12_reject_expired.pcap"
assert_eq "secret file ending in CRLF: one request, its signature verified with the LF file's key" \
	"0 1 true" "$A_RC $(hq "$from" 'len(R)') $(hq "$from" 'bool(R) and all(r["signature_ok"] for r in R)')"

cp "$T_TMP/secret" "$T_TMP/secret644"
chmod 644 "$T_TMP/secret644"
from=$(($(hook_count) + 1))
hook_analyze --webhook-secret-file "$T_TMP/secret644" "$C/tls12_reject_expired.pcap"
assert_true "secret file of mode 0644: refused (exit status $A_RC, not 0)" test "$A_RC" -ne 0
assert_contains "secret file of mode 0644: the message names the file" \
	"$T_TMP/secret644" "$(cat "$T_TMP/a.err")"
assert_contains "secret file of mode 0644: the message says what is wrong" "mode 0644" \
	"$(cat "$T_TMP/a.err")"
assert_eq "secret file of mode 0644: nothing sent" 0 "$(hq "$from" 'len(R)')"

# ---- 1 (continued). no critical finding; --webhook-events cert; a bad list ----

from=$(($(hook_count) + 1))
hook_analyze "${QUIET[@]}"
assert_eq "no critical finding: analyze exits 0, reports 3 cert events" "0 3" \
	"$A_RC $(grep -c '"event":"cert"' "$T_TMP/a.json")"
assert_eq "no critical finding: nothing sent" 0 "$(hq "$from" 'len(R)')"

from=$(($(hook_count) + 1))
hook_analyze --webhook-events cert "${ALL[@]}"
want=$(cert_set "$T_TMP/a.json" cert)
assert_eq "--webhook-events cert: one request per cert event (8)" "8 8" \
	"$(printf '%s\n' "$want" | grep -c .) $(hq "$from" 'len(R)')"
assert_eq "--webhook-events cert: the (sni, sha256) set of the bodies is that of every cert event" \
	"$want" "$(body_set "$from")"
assert_eq "--webhook-events cert: only cert events sent" cert \
	"$(hq "$from" '" ".join(sorted(set(B(r)["event"] for r in R)))')"

from=$(($(hook_count) + 1))
hook_analyze --webhook-events foo "$C/tls12_reject_expired.pcap"
assert_eq "--webhook-events foo: exit status 2" 2 "$A_RC"
assert_contains "--webhook-events foo: the message names the bad list" \
	"--webhook-events: 'foo' is not a list of" "$(cat "$T_TMP/a.err")"
assert_eq "--webhook-events foo: nothing sent" 0 "$(hq "$from" 'len(R)')"

# ---- 3. the receiver fails, then recovers ------------------------------------

# 3a. Pending rows delivered by a later run over a capture without alerts.
db=$T_TMP/db3a
hook_mode fail
from=$(($(hook_count) + 1))
hook_analyze --db "$db" --webhook-retry-max 1 "$C/tls12_reject_expired.pcap" \
	"$C/tls12_staple_revoked.pcap"
assert_eq "receiver failing: analyze exits 0" 0 "$A_RC"
assert_contains "receiver failing: the 2 alerts stay in the outbox, says analyze" \
	"2 alerts not delivered yet; they stay in the outbox for the next run" "$(cat "$T_TMP/a.err")"
assert_eq "receiver failing: 2 rows in the outbox" 2 "$(outbox_rows "$db")"
assert_eq "receiver failing: only 500s recorded, for 2 keys, more than one try each" "500 2 true" \
	"$(hq "$from" '" ".join(sorted(set(str(r["status"]) for r in R)))') $(hq "$from" 'len(set(K(r) for r in R))') $(hq "$from" 'all(sum(K(x) == K(r) for x in R) >= 2 for r in R)')"
failed_keys=$(hq "$from" '" ".join(sorted(set(K(r) for r in R)))')
hook_mode ok
hook_analyze --db "$db" --webhook-retry-max 1 "$C/tls12_rsa.pcap"
assert_eq "recovered: analyze exits 0 without a leftover warning" "0 " \
	"$A_RC $(grep -i 'not delivered' "$T_TMP/a.err")"
assert_eq "recovered: the outbox is empty" 0 "$(outbox_rows "$db")"
assert_eq "recovered: each key of the failed attempts got exactly one 200" \
	"$failed_keys" \
	"$(hq "$from" '" ".join(sorted(K(r) for r in R if r["status"] == 200))')"
assert_eq "recovered: the 200s carry expired.test and revoked.test" \
	"$(printf '%s\n' "expired.test $FP_EXPIRED" "revoked.test $FP_REVOKED")" \
	"$(hq "$from" '"\n".join(sorted("%s %s" % (B(r)["sni"], B(r)["sha256"]) for r in R if r["status"] == 200))')"
assert_eq "recovered: the body of the retry is the body of the failed attempts" true \
	"$(hq "$from" 'all(len(set(x["body"] for x in R if K(x) == k)) == 1 for k in set(K(r) for r in R))')"

# 3b. The same capture again: the cooldown suppresses a new claim, the
# pending rows of the failed run are what is delivered.
db=$T_TMP/db3b
hook_mode fail
from=$(($(hook_count) + 1))
hook_analyze --db "$db" --webhook-retry-max 1 "$C/tls12_reject_expired.pcap"
assert_eq "same capture, receiver failing: 1 row left" "0 1" "$A_RC $(outbox_rows "$db")"
failed_keys=$(hq "$from" '" ".join(sorted(set(K(r) for r in R)))')
hook_mode ok
hook_analyze --db "$db" --webhook-retry-max 1 "$C/tls12_reject_expired.pcap"
assert_eq "same capture, recovered: one 200, under the failed attempts' key" \
	"$failed_keys" "$(hq "$from" '" ".join(K(r) for r in R if r["status"] == 200)')"
assert_eq "same capture, recovered: one key in all (no second alert)" 1 \
	"$(hq "$from" 'len(set(K(r) for r in R))')"
assert_eq "same capture, recovered: the outbox is empty" 0 "$(outbox_rows "$db")"

# 3c. Retry-After: 503 with Retry-After: 1, then ok.
hook_mode 'retry-after 1'
from=$(($(hook_count) + 1))
hook_analyze "$C/tls12_reject_expired.pcap" &
apid=$!
if hook_wait 10 "$from"; then
	hook_mode ok
fi
wait "$apid"
assert_eq "Retry-After: one 503, then one 200, same key" "503 200 1" \
	"$(hq "$from" '" ".join(str(r["status"]) for r in R)') $(hq "$from" 'len(set(K(r) for r in R))')"
gap=$(hq "$from" 'round(R[1]["received_at"] - R[0]["received_at"], 2) if len(R) > 1 else -1')
assert_true "Retry-After: the retry waited at least the 1 s asked (waited $gap s)" \
	"$PY" -c "import sys; sys.exit(not 0.95 <= $gap <= 5)"

# 3c'. A Retry-After of a day waits 12 h (the cap), once: stored at the
# old cap, 24 h, from a clock read after the pass's own, the row was taken
# for one from a clock stepped back and sent again at every pass.
db=$T_TMP/db3c
hook_mode 'retry-after 86400'
from=$(($(hook_count) + 1))
hook_analyze --db "$db" "$C/tls12_reject_expired.pcap"
now=$(date +%s)
assert_eq "Retry-After 86400: analyze exits 0, exactly one request, the row stays" "0 1 1" \
	"$A_RC $(hq "$from" 'len(R)') $(outbox_rows "$db")"
wait_s=$("$PY" -c 'import sqlite3, sys
print(sqlite3.connect(sys.argv[1]).execute("SELECT next_attempt_us FROM outbox").fetchone()[0] // 1000000 - int(sys.argv[2]))' "$db" "$now")
assert_true "Retry-After 86400: the next attempt is 12 h away (the cap), not sooner ($wait_s s)" \
	test "$wait_s" -ge $((43200 - 60)) -a "$wait_s" -le 43200
hook_mode ok

# 3d. 400: refused for good, never retried.
db=$T_TMP/db3d
hook_mode reject
from=$(($(hook_count) + 1))
hook_analyze --db "$db" --webhook-retry-max 1 "$C/tls12_reject_expired.pcap"
assert_eq "400: analyze exits 0, the row is gone" "0 0" "$A_RC $(outbox_rows "$db")"
assert_eq "400: exactly one attempt" "1 400" \
	"$(hq "$from" 'len(R)') $(hq "$from" '" ".join(str(r["status"]) for r in R)')"
assert_contains "400: analyze says the alert was refused for good" "refused an alert for good (HTTP 400)" \
	"$(cat "$T_TMP/a.err")"
hook_mode ok

# 3e. Redirects: the POST and its body follow a 301, 302 or 303 (curl's
# default was a GET without body, answered 200: the alert lost, counted
# delivered); a loop fails after 5 redirects and the alert stays.
for code in 301 302 303; do
	db=$T_TMP/db3e-$code
	hook_mode "redirect $code"
	from=$(($(hook_count) + 1))
	hook_analyze --db "$db" "$C/tls12_reject_expired.pcap"
	assert_eq "redirect $code: POST /hook answered $code, then POST /final answered 200" \
		"$code /hook 200 /final" \
		"$(hq "$from" '" ".join("%d %s" % (r["status"], r["path"]) for r in R)')"
	assert_eq "redirect $code: /final got the alert (expired.test), under the same key" \
		"expired.test $FP_EXPIRED 1" \
		"$(hq "$from" '" ".join("%s %s" % (B(r)["sni"], B(r)["sha256"]) for r in R if r["path"] == "/final")') $(hq "$from" 'len(set(K(r) for r in R))')"
	assert_eq "redirect $code: analyze exits 0, the outbox is empty" "0 0" \
		"$A_RC $(outbox_rows "$db")"
done
db=$T_TMP/db3e-loop
hook_mode redirect-loop
from=$(($(hook_count) + 1))
hook_analyze --db "$db" --webhook-retry-max 1 "$C/tls12_reject_expired.pcap"
assert_eq "redirect loop: the alert stays in the outbox" "0 1" "$A_RC $(outbox_rows "$db")"
assert_contains "redirect loop: analyze says why it retries" \
	"more than 5 redirects (a redirect loop?); retrying" "$(cat "$T_TMP/a.err")"
# (the last attempt may be cut short by the end of the drain)
assert_eq "redirect loop: an attempt is 6 POSTs to /hook (5 redirects followed)" true \
	"$(hq "$from" 'len(R) >= 6 and all(r["path"] == "/hook" and r["status"] == 302 for r in R)')"
hook_mode ok

# 3f. Receiver URLs carry secrets (a user:password, Slack's /services/T/B/
# SECRET path, a ?sig=): logs name scheme://host:port/… only. The
# Alertmanager URL on port 1 is refused, and logged so too.
hook_mode fail
A_RC=0
timeout 60 "$TW" analyze --json --ca-file "$CA" --webhook-retry-max 1 \
	--webhook "http://ops:pw-s3cret@127.0.0.1:$HOOK_PORT/services/T0/B0/path-s3cret?sig=sig-s3cret" \
	--alertmanager "http://am:am-s3cret@127.0.0.1:1/am-path-s3cret" \
	"$C/tls12_reject_expired.pcap" >"$T_TMP/a.json" 2>"$T_TMP/a.err" || A_RC=$?
assert_eq "secrets in URLs: analyze exits 0, no secret in its messages" "0 0" \
	"$A_RC $(grep -c 's3cret' "$T_TMP/a.err")"
assert_contains "secrets in URLs: the webhook is named by scheme, host and port" \
	"webhook http://127.0.0.1:$HOOK_PORT/…: HTTP status 500; retrying" \
	"$(cat "$T_TMP/a.err")"
assert_contains "secrets in URLs: the Alertmanager too" "alertmanager http://127.0.0.1:1/…: " \
	"$(cat "$T_TMP/a.err")"
hook_mode ok

# 3g. Two receivers down: each outage is said once, naming its own URL (one
# flag for all said only the first, and a delivery to one receiver
# reopened the other's outage, alternating).
hook_mode fail
hook_analyze --webhook-retry-max 1 --webhook http://127.0.0.1:1/refused \
	"$C/tls12_reject_expired.pcap" "$C/tls12_staple_revoked.pcap"
assert_eq "two receivers down: one 'retrying' line for each, each naming its URL" \
	"$(printf '%s\n' "webhook http://127.0.0.1:$HOOK_PORT/…: HTTP status 500; retrying" \
		"webhook http://127.0.0.1:1/…: Failed to connect; retrying" | sort)" \
	"$(grep '; retrying$' "$T_TMP/a.err" | sed 's/^.*\(webhook \)/\1/; s/\(Failed to connect\).*;/\1;/' | sort)"
hook_mode ok

# 3h. A receiver that hangs holds up its own alerts only: the 5 alerts
# reach the other one within analyze's 3 s (two threads for all once
# hung on the first two requests to the hanging one, for the timeout).
"$PY" tests/e2e/lib/webhook_receiver.py --out "$T_TMP/hang.jsonl" \
	--mode-file "$T_TMP/hang.mode" --hang-seconds 30 --max-seconds 60 \
	>"$T_TMP/hang.port" 2>"$T_TMP/hang.err" &
hang_pid=$!
echo hang >"$T_TMP/hang.mode"
for _ in $(seq 50); do [ -s "$T_TMP/hang.port" ] && break; sleep 0.1; done
from=$(($(hook_count) + 1))
hook_analyze --webhook "http://127.0.0.1:$(head -1 "$T_TMP/hang.port")/hang" "${ALL[@]}"
kill -TERM "$hang_pid" 2>/dev/null
wait "$hang_pid" 2>/dev/null
assert_eq "one receiver hanging: the other gets the 5 alerts, each answered 200" "5 5 true" \
	"$(hq "$from" 'len(R)') $(hq "$from" 'len(set(K(r) for r in R))') $(hq "$from" 'all(r["status"] == 200 for r in R)')"
assert_eq "one receiver hanging: it got 2 requests at once, no more" 2 \
	"$(grep -c . "$T_TMP/hang.jsonl")"

# 3i. Order: a receiver never gets a spike's "resolved" before its
# "firing". Four scopes fire on tls12_reject_unknown_ca and resolve on the
# later captures; the all-traffic firing is answered 503 once and retried,
# and its resolved, queued meanwhile, waits for it (it went at once and
# was accepted while the firing waited for its retry).
SPIKES=("$C/tls12_rsa.pcap" "$C/tls12_reject_unknown_ca.pcap"
	"$C/tls12_reject_expired.pcap" "$C/tls13_reject_unknown_ca.pcap")
hook_mode 'fail-once-if "state":"firing","scope":{}'
from=$(($(hook_count) + 1))
hook_analyze --webhook-events spike --spike-window 5 --spike-min-failures 2 "${SPIKES[@]}"
hook_mode ok
assert_eq "order: analyze exits 0; 4 scopes fire and resolve: 8 alerts" "0 8 4 4" \
	"$A_RC $(hq "$from" 'len(set(K(r) for r in R))') $(grep -c '"state":"firing"' "$T_TMP/a.json") $(grep -c '"state":"resolved"' "$T_TMP/a.json")"
assert_eq "order: the all-traffic firing answered 503, then 200, and only then its resolved" \
	"firing 503 firing 200 resolved 200" \
	"$(hq "$from" '" ".join("%s %d" % (B(r)["state"], r["status"]) for r in R if B(r)["scope"] == {})')"
assert_eq "order: for each of the 4 scopes the receiver accepted the firing, then the resolved" \
	"4 true" "$(hq "$from" 'len(set(json.dumps(B(r)["scope"]) for r in R))') $(hq "$from" 'all([B(r)["state"] for r in R if r["status"] == 200 and B(r)["scope"] == B(x)["scope"]] == ["firing", "resolved"] for x in R)')"

# 3j. A URL no longer given (a run with another --webhook on the same
# --db; a SIGHUP does the same, tests/e2e/webhook_reload.sh): the rows
# queued for it go to the URL given now, never to it again.
db=$T_TMP/db3j
hook_mode fail
from=$(($(hook_count) + 1))
hook_analyze_to "$HOOK_URL/removed" --db "$db" --webhook-retry-max 1 \
	"$C/tls12_reject_expired.pcap" "$C/tls12_staple_revoked.pcap"
assert_eq "URL removed: analyze exits 0, 2 rows stay for /removed" "0 2 /removed" \
	"$A_RC $(outbox_rows "$db") $(hq "$from" '" ".join(sorted(set(r["path"] for r in R)))')"
failed_keys=$(hq "$from" '" ".join(sorted(set(K(r) for r in R)))')
hook_mode ok
mid=$(($(hook_count) + 1))
hook_analyze_to "$HOOK_URL/given" --db "$db" --webhook-retry-max 1 "$C/tls12_rsa.pcap"
assert_eq "URL removed: the next run sends its 2 alerts to /given, under their keys, each once, 200" \
	"$failed_keys|/given|200" \
	"$(hq "$mid" '" ".join(sorted(K(r) for r in R))')|$(hq "$mid" '" ".join(sorted(set(r["path"] for r in R)))')|$(hq "$mid" '" ".join(sorted(set(str(r["status"]) for r in R)))')"
assert_eq "URL removed: the outbox is empty" 0 "$(outbox_rows "$db")"

# 3k. Killed while its request is under way: the attempt is in the file
# already (it was counted only when it failed, so the next run found the
# alert untried: the bound took a firing the receiver may hold for never
# sent, and dropped its resolved). The next run sends it under its key.
db=$T_TMP/db3k
"$PY" tests/e2e/lib/webhook_receiver.py --out "$T_TMP/kill.jsonl" \
	--mode-file "$T_TMP/kill.mode" --hang-seconds 30 --max-seconds 90 \
	>"$T_TMP/kill.port" 2>"$T_TMP/kill.err" &
kill_rcv=$!
echo hang >"$T_TMP/kill.mode"
for _ in $(seq 50); do [ -s "$T_TMP/kill.port" ] && break; sleep 0.1; done
kill_url=http://127.0.0.1:$(head -1 "$T_TMP/kill.port")/kill
"$TW" analyze --json --ca-file "$CA" --db "$db" --webhook "$kill_url" \
	"$C/tls12_reject_expired.pcap" >/dev/null 2>"$T_TMP/kill.analyze.err" &
kill_pid=$!
for _ in $(seq 100); do   # at most ~10 s: the request reaches the receiver
	[ -s "$T_TMP/kill.jsonl" ] && break
	sleep 0.1
done
kill -KILL "$kill_pid" 2>/dev/null
wait "$kill_pid" 2>/dev/null
assert_eq "killed mid-request: the receiver holds one request, the outbox one row, its attempt counted" \
	"1 1 1" "$(grep -c . "$T_TMP/kill.jsonl") $(outbox_rows "$db") $("$PY" -c 'import sqlite3, sys
print(sqlite3.connect(sys.argv[1]).execute("SELECT attempts FROM outbox").fetchone()[0])' "$db")"
echo ok >"$T_TMP/kill.mode"
hook_analyze_to "$kill_url" --db "$db" "$C/tls12_rsa.pcap"
assert_eq "killed mid-request: the next run sends it again under its key, 200; the outbox is empty" \
	"0 2 1 200 0" "$A_RC $(grep -c . "$T_TMP/kill.jsonl") $("$PY" -c 'import json, sys
print(len(set(json.loads(l)["headers"]["idempotency-key"] for l in open(sys.argv[1]))))' "$T_TMP/kill.jsonl") $(tail -1 "$T_TMP/kill.jsonl" | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["status"])') $(outbox_rows "$db")"
kill -TERM "$kill_rcv" 2>/dev/null
wait "$kill_rcv" 2>/dev/null

# ---- 4. dedup across runs -------------------------------------------------------

db=$T_TMP/db4
from=$(($(hook_count) + 1))
hook_analyze --db "$db" "${ALL[@]}"
assert_eq "dedup: first run with --db sends the 5 alerts" 5 "$(hq "$from" 'len(R)')"
keys1=$(hq "$from" '" ".join(sorted(K(r) for r in R))')
mid=$(($(hook_count) + 1))
hook_analyze --db "$db" "${ALL[@]}"
assert_eq "dedup: the same captures again with the same --db send nothing" "0 0" \
	"$A_RC $(hq "$mid" 'len(R)')"
assert_eq "dedup: each alert once in total over the two runs" 5 \
	"$(hq "$from" 'len(set(K(r) for r in R))')"
mid=$(($(hook_count) + 1))
hook_analyze --db "$T_TMP/db4-fresh" "${ALL[@]}"
assert_eq "dedup: a fresh --db sends the 5 alerts again" \
	"$(cert_set "$T_TMP/a.json" critical)" "$(body_set "$mid")"
keys2=$(hq "$mid" '" ".join(sorted(K(r) for r in R))')
assert_true "dedup: with new Idempotency-Keys (a new claim)" \
	test -n "$keys2" -a "$keys1" != "$keys2" -a "$first_keys" != "$keys2"

# ---- 5. slack format ------------------------------------------------------------

from=$(($(hook_count) + 1))
hook_analyze --webhook-format slack "$C/tls12_reject_expired.pcap" "$C/tls12_staple_revoked.pcap"
assert_eq "slack: 2 requests, each body a JSON object with text only" "2 text" \
	"$(hq "$from" 'len(R)') $(hq "$from" '" ".join(sorted(set(",".join(sorted(B(r))) for r in R)))')"
txt_exp=$(hq "$from" '"".join(B(r)["text"] for r in R if "expired.test" in B(r)["text"])')
txt_rev=$(hq "$from" '"".join(B(r)["text"] for r in R if "revoked.test" in B(r)["text"])')
for w in expired.test "- expired (critical)" "- untrusted (critical)" "What to do: renew the certificate" \
	"$FP_EXPIRED"; do
	assert_contains "slack: expired.test's text has '$w'" "$w" "$txt_exp"
done
for w in revoked.test "- revoked_staple (critical)" "What to do:" "$FP_REVOKED"; do
	assert_contains "slack: revoked.test's text has '$w'" "$w" "$txt_rev"
done
assert_eq "slack: Content-Type application/json, a 32-hex key" "application/json true" \
	"$(hq "$from" '" ".join(sorted(set(r["headers"]["content-type"] for r in R)))') $(hq "$from" 'all(re.fullmatch("[0-9a-f]{32}", K(r)) for r in R)')"

# ---- 5b. a signed URL of the longest length --------------------------------------

# Signed receiver URLs carry their signature in the query: one of exactly
# 2048 bytes (the documented bound) next to the short one, both durable.
long_path=/hook?sig=
long_url=$HOOK_URL$long_path
long_path=$long_path$(head -c $((2048 - ${#long_url})) /dev/zero | tr '\0' 'a')
long_url=$HOOK_URL$long_path
from=$(($(hook_count) + 1))
hook_analyze --db "$T_TMP/db5b" --webhook "$long_url" "$C/tls12_reject_expired.pcap"
assert_eq "URL of 2048 bytes: analyze exits 0, no warning" "2048 0 " \
	"${#long_url} $A_RC $(cat "$T_TMP/a.err")"
assert_eq "URL of 2048 bytes: the alert reaches both receivers, the long path whole" \
	"200 /hook 200 $long_path" \
	"$(hq "$from" '" ".join("%d %s" % (r["status"], r["path"]) for r in sorted(R, key=lambda r: len(r["path"])))')"
assert_eq "URL of 2048 bytes: the outbox in --db is empty (both delivered from the file)" 0 \
	"$(outbox_rows "$T_TMP/db5b")"

if [ "$T_FAILED" -ne 0 ]; then
	sed 's/^/#   analyze stderr: /' "$T_TMP/a.err" | head -20
fi

# ---- 6. live, across SIGKILL ------------------------------------------------------

if [ "$(id -u)" -ne 0 ]; then
	ok "live delivery across SIGKILL # SKIP needs root (network namespaces, eBPF)"
	t_done
fi
for c in ip ss tc timeout; do
	command -v "$c" >/dev/null 2>&1 || { not_ok "$c missing (make deps installs it)"; t_done; }
done
tmp=$(tn_tmpdir)
tn_setup whk   # tlswatch-e2e.$$, the namespace and the veth go in tn_cleanup
pki=tests/data/pki
ip netns exec "$TN_NS" openssl s_server -quiet -www -accept "$TN_PEER4:443" \
	-cert "$pki/expired.test.crt" -key "$pki/expired.test.key" -cert_chain "$pki/inter.crt" \
	>"$tmp/server.log" 2>&1 &
tn_bg $!
tn_wait_listen 10 443 || { not_ok "openssl s_server serves expired.test in $TN_NS"; t_done; }

# 6a. Slack markup from the wire is escaped: a client sends an SNI that
# pings the channel and shows a link under another text; the capture,
# replayed in the slack format, must show them as text (&lt; &gt; &amp;).
evil_sni='<!channel> <https://evil.example/|docs> & co'
pcap=$tmp/evil_sni.pcap
if tn_start_tcpdump "$pcap" tcp port 443; then
	printf 'GET / HTTP/1.0\r\n\r\n' | timeout 10 openssl s_client -connect "$TN_PEER4:443" \
		-tls1_2 -servername "$evil_sni" -CAfile "$CA" >"$tmp/evil_client.log" 2>&1
	tn_wait_conns_closed 10
	tn_stop_tcpdump "$pcap"
fi
from=$(($(hook_count) + 1))
hook_analyze --webhook-format slack "$pcap"
txt=$(hq "$from" '"".join(B(r)["text"] for r in R)')
assert_contains "slack, hostile SNI: the alert names the SNI escaped" \
	"tlswatch: &lt;!channel&gt; &lt;https://evil.example/|docs&gt; &amp; co (" "$txt"
assert_eq "slack, hostile SNI: one request, no '<', '>' or bare '&' in its text" "1 false" \
	"$(hq "$from" 'len(R)') $(hq "$from" 'any(re.search("[<>]|&(?!amp;|lt;|gt;)", B(r)["text"]) for r in R)')"

log=$tmp/agent.jsonl
db=$tmp/agent.db
agent_args=(--db "$db" --webhook "$HOOK_URL/hook" --webhook-retry-max 2 --no-metrics
	--no-active-check --no-online --ca-file "$CA" --stats-interval 1)
# The receiver listens on 127.0.0.1 in this namespace, where the agent
# runs too, watching the host end of the veth.
start_agent() { # log
	if tn_start_agent "$1" "${agent_args[@]}"; then
		AGENT_PID=$TN_AGENT_PID
		return 0
	fi
	return 1
}
filters() { # ingress|egress: our filter lines on the host end
	tc filter show dev "$TN_HOST_IF" "$1" 2>/dev/null | grep -c 'bpf.* handle '
}

hook_mode fail
from=$(($(hook_count) + 1))
if ! start_agent "$log"; then
	not_ok "tlswatch run starts on $TN_HOST_IF"
	t_done
fi
ok "tlswatch run starts on $TN_HOST_IF with --db and --webhook"
printf 'GET / HTTP/1.0\r\n\r\n' | timeout 10 openssl s_client -connect "$TN_PEER4:443" \
	-tls1_2 -servername expired.test -CAfile "$CA" >"$tmp/client.log" 2>&1
assert_contains "the client sees the expired certificate" "certificate has expired" \
	"$(cat "$tmp/client.log")"
got=''
for _ in $(seq 150); do   # at most ~15 s
	got=$(hq "$from" 'sum(r["status"] == 500 for r in R)')
	[ "${got:-0}" -ge 1 ] && break
	sleep 0.1
done
assert_true "live: the receiver recorded a failed (500) attempt ($got)" test "${got:-0}" -ge 1
assert_eq "live: the agent reported expired.test's certificate, expired and untrusted" \
	"expired.test $FP_EXPIRED expired,untrusted" \
	"$("$PY" -c '
import json, sys
for l in open(sys.argv[1]):
    e = json.loads(l)
    if e.get("event") == "cert":
        print(e["sni"], e["sha256"], ",".join(sorted(f["kind"] for f in e["findings"] if f["severity"] == "critical")))' "$log")"
assert_eq "live: the failed attempts carry that alert" "expired.test $FP_EXPIRED" \
	"$(hq "$from" '" ".join(sorted(set("%s %s" % (B(r)["sni"], B(r)["sha256"]) for r in R)))')"
kill -KILL "$AGENT_PID" 2>/dev/null
wait "$AGENT_PID" 2>/dev/null
AGENT_PID='' TN_AGENT_PID=''
assert_eq "live: after SIGKILL the agent's filters are left behind (stale)" "1 1" \
	"$(filters ingress) $(filters egress)"
before_keys=$(hq "$from" '" ".join(sorted(set(K(r) for r in R)))')
assert_eq "live: one Idempotency-Key before the kill" 1 "$(hq "$from" 'len(set(K(r) for r in R))')"
assert_eq "live: one row in the outbox after the kill" 1 "$(outbox_rows "$db")"

hook_mode ok
mid=$(($(hook_count) + 1))
if ! start_agent "$tmp/agent2.jsonl"; then
	not_ok "tlswatch run starts again on the same --db"
	t_done
fi
ok "tlswatch run starts again on the same --db"
assert_eq "live: the restart replaced the stale filter (one on each side)" "1 1" \
	"$(filters ingress) $(filters egress)"
got=0
for _ in $(seq 200); do   # at most ~20 s: the backoff is capped at 2 s
	got=$(hq "$mid" 'sum(r["status"] == 200 for r in R)')
	[ "${got:-0}" -ge 1 ] && break
	sleep 0.1
done
assert_eq "live: the alert arrives after the restart (200)" 1 "$got"
sleep 3   # a duplicate would come within a backoff or two
assert_eq "live: exactly once: one request after the restart, answered 200" "1 200" \
	"$(hq "$mid" 'len(R)') $(hq "$mid" '" ".join(str(r["status"]) for r in R)')"
assert_eq "live: under the Idempotency-Key of the attempts before the kill" "$before_keys" \
	"$(hq "$mid" '" ".join(K(r) for r in R)')"
assert_eq "live: the same body as before the kill" true \
	"$(hq "$from" 'len(set(r["body"] for r in R)) == 1')"
assert_eq "live: the outbox is empty" 0 "$(outbox_rows "$db")"
assert_eq "live: no new alert from the restarted agent (no traffic)" 0 \
	"$(grep -c '"event":"cert"' "$tmp/agent2.jsonl")"
rc=0
tn_stop_agent || rc=$?
AGENT_PID=''
assert_eq "live: the agent exits 0 on SIGTERM" 0 "$rc"
assert_eq "live: SIGTERM detached its filters" "0 0" "$(filters ingress) $(filters egress)"

# 6b. --webhook-events agent: each start, stats report and stop is its own
# alert, after a restart on the same --db too (a key without the time
# sent one of each per cooldown, across restarts).
agent_args=(--db "$tmp/agent6b.db" --webhook "$HOOK_URL/hook" --webhook-events agent
	--no-metrics --no-active-check --no-online --ca-file "$CA" --stats-interval 1)
from=$(($(hook_count) + 1))
stats_sent() { # n: at least N stats reports were sent, each its own alert
	[ "$(hq "$from" 'sum(B(r)["state"] == "stats" for r in R)')" -ge "$1" ]
}
for run in 1 2; do
	if start_agent "$tmp/agent6b-$run.jsonl"; then
		tn_wait_cmd 10 stats_sent "$run"   # every second (--stats-interval 1)
		tn_stop_agent
	fi
	AGENT_PID=''
done
states=$(hq "$from" '" ".join(sorted(set(B(r)["state"] for r in R)))')
assert_eq "agent events: the states sent" "started stats stopped" "$states"
assert_eq "agent events: started and stopped once per run (2 runs), every stats report" \
	"2 2 $(cat "$tmp"/agent6b-[12].jsonl | grep -c '"state":"stats"')" \
	"$(hq "$from" 'sum(B(r)["state"] == "started" for r in R)') $(hq "$from" 'sum(B(r)["state"] == "stopped" for r in R)') $(hq "$from" 'sum(B(r)["state"] == "stats" for r in R)')"
assert_eq "agent events: every request answered 200, each its own key" true \
	"$(hq "$from" 'all(r["status"] == 200 for r in R) and len(set(K(r) for r in R)) == len(R)')"
if [ "$T_FAILED" -ne 0 ]; then
	sed 's/^/#   agent stderr: /' "$log.stderr" "$tmp/agent2.jsonl.stderr" | head -30
fi
t_done
