#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A rollback that begins and ends, in the inventory listing. A real
# openssl s_server for dual.test (scripts/make-dual-certs.sh) serves, in
# turn: the newer ECDSA leaf, then the older RSA one to a client that
# prefers ECDSA (the evidence of a rollback, recorded on the RSA row),
# then the ECDSA leaf again: the rollback ended. tcpdump records it,
# `analyze --db` files it, and `report --db` must say the rollback ended,
# when and by which leaf (it used to list "rollback at ..." for ever), in
# text and JSON, with the times of the analyze's own handshake events.
# Needs root (network namespace, tcpdump). About 10 seconds.
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
. tests/e2e/lib_netns.sh
tn_require_root inventory_rollback
tn_require_cmds openssl tcpdump ip ss timeout
tn_require_tlswatch
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3

tmp=$(tn_tmpdir)
pki=$tmp/pki dual=$tmp/dual
scripts/make-health-pki.sh "$pki" none none >"$tmp/pki.log" 2>&1 ||
	tn_bail "scripts/make-health-pki.sh failed: $(tail -3 "$tmp/pki.log")"
scripts/make-dual-certs.sh "$pki" "$dual" >"$tmp/dual.log" 2>&1 ||
	tn_bail "scripts/make-dual-certs.sh failed: $(tail -3 "$tmp/dual.log")"
fp() { openssl x509 -in "$1" -outform DER | sha256sum | cut -d' ' -f1; }
fp_ec=$(fp "$dual/ecdsa.crt") fp_rsa=$(fp "$dual/rsa.crt")

tn_setup irb
tn_start_tcpdump "$tmp/rollback.pcap" tcp port 443 || tn_bail "tcpdump did not start"
client() { # s_client options...: 0 when the handshake succeeded
	printf 'GET / HTTP/1.0\r\n\r\n' | timeout 5 openssl s_client \
		-connect "$TN_PEER4:443" -servername dual.test -tls1_2 \
		-CAfile "$pki/root.crt" -verify_return_error "$@" >/dev/null 2>&1
}
serve() { # leaf, client options...
	local leaf=$1
	shift
	tn_start_s_server "$tmp/server.$leaf.log" -cert "$dual/$leaf.crt" \
		-key "$dual/$leaf.key" -cert_chain "$pki/inter.crt"
	client "$@"
	tap_eq "a client of the $leaf leaf completes its handshake" 0 "$?"
	tn_stop_s_server
	sleep 1.1
}
ec_first=(-cipher ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256)
serve ecdsa "${ec_first[@]}"
serve rsa "${ec_first[@]}"
serve ecdsa "${ec_first[@]}"
tn_stop_tcpdump "$tmp/rollback.pcap"

db=$tmp/inv.db
"$BUILD/tlswatch" analyze -q --json --ca-file "$pki/root.crt" --db "$db" \
	"$tmp/rollback.pcap" >"$tmp/events.json" 2>"$tmp/err"
tap_eq "analyze --db exits 0" 0 "$?"
# The handshakes' times, in order: ECDSA, RSA (the rollback), ECDSA again.
times=$("$PY" -c 'import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
print(" ".join("%s:%s" % (e["chain"][0]["sha256"][:8], e["ts"]) for e in ev
               if e.get("event") == "handshake" and e.get("chain")))' "$tmp/events.json")
tap_eq "three handshakes: ECDSA, RSA, ECDSA" "${fp_ec:0:8} ${fp_rsa:0:8} ${fp_ec:0:8}" \
	"$(echo "$times" | tr ' ' '\n' | cut -d: -f1 | paste -sd' ')"
t_rsa=$(echo "$times" | cut -d' ' -f2 | cut -d: -f2-)
t_back=$(echo "$times" | cut -d' ' -f3 | cut -d: -f2-)
tap_eq "the RSA leaf is superseded, with a client's evidence" 1 \
	"$(grep '"event":"handshake"' "$tmp/events.json" | grep -c '"superseded"')"

"$BUILD/tlswatch" report --db "$db" >"$tmp/list.txt" 2>"$tmp/err"
tap_eq "report --db exits 0" 0 "$?"
rb_line=$(grep -A2 "served  $TN_PEER4:443  $fp_rsa" "$tmp/list.txt" | sed -n 3p)
tap_eq "the rollback is listed as ended, when and by the ECDSA leaf" \
	"rollback at $t_rsa, ended by $t_back ($fp_ec served again): client_preferred" \
	"$(echo "$rb_line" | sed -E 's/^ +//; s/(client_preferred).*/\1/')"
tap_eq "no rollback listed as going on" 0 "$(grep -c 'rollback at [^,]*: ' "$tmp/list.txt")"

"$BUILD/tlswatch" report --db "$db" --json >"$tmp/list.json" 2>"$tmp/err"
tap_eq "report --db --json exits 0" 0 "$?"
tap_eq "JSON: the rollback's start, end and the leaf that ended it" \
	"$t_rsa $t_back $fp_ec" \
	"$("$PY" -c 'import json, sys
for r in map(json.loads, open(sys.argv[1])):
    if r["sha256"] == sys.argv[2]:
        rb = r["rollback"]
        print(rb["at"], rb["ended"], rb["ended_by"])' "$tmp/list.json" "$fp_rsa")"
[ "$TN_FAILED" -eq 0 ]
