#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Time to alert, live: the 2018 incident (a revoked certificate served
# again) from the client's handshake to the webhook receiver.
#
# The test PKI's revoked.test is revoked in its intermediate's database; a
# CRL is made from it here. An `openssl s_server` in a test network
# namespace serves revoked.test (with its intermediate); the agent runs with
# its defaults except --iface/--port (the test veth only), --webhook to the
# test receiver (lib_prom.sh hook_start), --crl, --ca-file (the test root)
# and a fresh --db per run (webhook cooldowns survive restarts in it). One
# real TLS 1.2 `openssl s_client` handshake; measured from just before
# s_client starts, and from the handshake's packet time (the JSON log's
# "ts"), to the receiver's received_at of the webhook carrying the leaf's
# sha256 with finding kind "revoked". Each must be at most 10 s.
#
#   tests/e2e/live_time_to_alert.sh        # TTA_RUNS runs (default 3)
#
# Prints "# time to alert: X s" per run and min/median/max. Needs root.
# TAP output; exits non-zero on any failure.
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
export BUILD
. tests/e2e/lib_netns.sh
. tests/e2e/lib_prom.sh
tn_on_exit prom_cleanup

tn_require_root live_time_to_alert
tn_require_cmds openssl python3 ip ss timeout sha256sum date curl
tn_require_tlswatch

PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
RUNS=${TTA_RUNS:-3}
LIMIT=10

tmp=$(tn_tmpdir)
pki=$tmp/pki
tn_make_pki "$pki"
fp=$(openssl x509 -in "$pki/revoked.test.crt" -outform DER | sha256sum | cut -d' ' -f1)

# The intermediate's CRL, from the database make-pki.sh revoked revoked.test in.
cat >"$tmp/crl.cnf" <<EOF
[ ca ]
default_ca = this_ca
[ this_ca ]
database = $pki/index.txt
default_md = sha256
default_crl_days = 30
EOF
openssl ca -config "$tmp/crl.cnf" -cert "$pki/inter.crt" -keyfile "$pki/inter.key" \
	-gencrl -out "$tmp/inter.crl" >"$tmp/crl.log" 2>&1 ||
	tn_bail "making the CRL failed: $(cat "$tmp/crl.log")"
out=$(openssl verify -crl_check -CRLfile "$tmp/inter.crl" -CAfile "$pki/root.crt" \
	-untrusted "$pki/inter.crt" "$pki/revoked.test.crt" 2>&1 || true)
case $out in *"certificate revoked"*) ;; *) tn_bail "revoked.test is not revoked by the CRL: $out" ;; esac

tn_setup tta
srv=$TN_PEER4
ip netns exec "$TN_NS" openssl s_server -quiet -www -accept "$srv:443" \
	-cert "$pki/revoked.test.crt" -key "$pki/revoked.test.key" -cert_chain "$pki/inter.crt" \
	>"$tmp/server.log" 2>&1 &
tn_bg $!
tn_wait_listen 10 443 || tn_bail "openssl s_server did not start"

hook_start || tn_bail "the webhook receiver did not start"

# The first webhook (after line SKIP of the record file) whose body is the
# cert event of FP with a "revoked" finding: its received_at, or nothing.
hook_revoked_at() { # skip
	[ -f "$HOOK_OUT" ] || return 0
	tail -n +"$(($1 + 1))" "$HOOK_OUT" | "$PY" -c '
import json, sys
fp = sys.argv[1]
for line in sys.stdin:
    r = json.loads(line)
    try:
        b = json.loads(r["body"])
    except ValueError:
        continue
    if b.get("event") == "cert" and b.get("sha256") == fp and \
       any(f.get("kind") == "revoked" for f in b.get("findings", [])):
        print("%.6f" % r["received_at"])
        break' "$fp"
}

# The packet time of the agent's handshake event for revoked.test (epoch s).
hs_ts() { # log
	"$PY" -c '
import datetime, json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e.get("event") == "handshake" and e.get("sni") == "revoked.test":
        t = datetime.datetime.strptime(e["ts"], "%Y-%m-%dT%H:%M:%S.%fZ")
        print("%.6f" % t.replace(tzinfo=datetime.timezone.utc).timestamp())
        break' "$1"
}

figures=()
for run in $(seq "$RUNS"); do
	log=$tmp/agent.$run.jsonl
	skip=$(hook_count)
	tn_start_agent "$log" --webhook "$HOOK_URL/tlswatch" --crl "$tmp/inter.crl" \
		--ca-file "$pki/root.crt" --db "$tmp/inv.$run.db" ||
		tn_bail "run $run: tlswatch run --webhook did not start"
	t0=$(date +%s.%N)
	printf 'GET / HTTP/1.0\r\n\r\n' |
		timeout 10 openssl s_client -connect "$srv:443" -tls1_2 -servername revoked.test \
			>"$tmp/client.$run.log" 2>&1
	tap_eq "run $run: the TLS 1.2 handshake with revoked.test completes" 0 "$?"
	# bounded: LIMIT + 5 s, in 0.05 s steps
	at=''
	for i in $(seq $(((LIMIT + 5) * 20))); do
		at=$(hook_revoked_at "$skip")
		[ -n "$at" ] && break
		sleep 0.05
	done
	ts=$(hs_ts "$log")
	tn_stop_agent
	tap_eq "run $run: agent exits 0 on SIGTERM" 0 "$?"
	if [ -z "$at" ]; then
		tap_fail "run $run: a webhook with sha256 $fp and finding revoked arrives" \
			"receiver records: $(hook_count) (before this run: $skip)" \
			"agent stderr: $(tail -n 5 "$log.stderr")"
		continue
	fi
	tap_ok "run $run: a webhook with sha256 $fp and finding revoked arrives"
	read -r d_client d_packet < <("$PY" -c 'import sys
t0, at, ts = sys.argv[1], float(sys.argv[2]), sys.argv[3]
print("%.3f" % (at - float(t0)), "%.3f" % (at - float(ts)) if ts else "none")' "$t0" "$at" "$ts")
	tn_note "time to alert: $d_client s"
	tn_note "  (run $run: from just before s_client started; from the handshake's packet time: $d_packet s)"
	figures+=("$d_client")
	tap_check "run $run: time to alert $d_client s <= $LIMIT s (from s_client's start)" \
		"$PY" -c "import sys; sys.exit(0 if 0 <= $d_client <= $LIMIT else 1)"
	if [ "$d_packet" = none ]; then
		tap_fail "run $run: the agent logged the handshake with revoked.test"
	else
		tap_check "run $run: time to alert $d_packet s <= $LIMIT s (from the packet time)" \
			"$PY" -c "import sys; sys.exit(0 if 0 <= $d_packet <= $LIMIT else 1)"
	fi
done

if [ ${#figures[@]} -gt 0 ]; then
	tn_note "time to alert over ${#figures[@]} runs: $("$PY" -c 'import statistics, sys
v = sorted(float(x) for x in sys.argv[1:])
print("min %.3f s, median %.3f s, max %.3f s" % (v[0], statistics.median(v), v[-1]))' "${figures[@]}")"
fi
[ "$TN_FAILED" -eq 0 ]
