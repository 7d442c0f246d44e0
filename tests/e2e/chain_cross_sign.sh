#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A chain member's expiring_soon is judged on the chain clients build, not
# on every served certificate: a real openssl s_server sends its leaf, its
# intermediate and the new root cross-signed by an old root (the DST Root
# CA X3 / ISRG Root X1 case, scripts/make-cross-pki.sh), the cross-sign
# expiring in 7 days; tcpdump records one handshake; `analyze --json`
# judges it.
#
# - With a trust store holding the new root (--ca-file), OpenSSL builds
#   leaf, intermediate, new root from the store: the cross-sign is not part
#   of it, and no expiring_soon is said.
# - With one holding the old root, the chain goes through the cross-sign:
#   expiring_soon names it (chain certificate 2).
# - Without a trust store that verifies the chain (no --ca-file: the
#   system store knows neither root), every served certificate is judged,
#   as before: expiring_soon names the cross-sign.
# Needs root (network namespace, tcpdump). About 5 seconds.
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
. tests/e2e/lib_netns.sh
tn_require_root chain_cross_sign
tn_require_cmds openssl tcpdump ip ss timeout faketime
tn_require_tlswatch
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3

tmp=$(tn_tmpdir)
pki=$tmp/pki
scripts/make-cross-pki.sh "$pki" >"$tmp/pki.log" 2>&1 ||
	tn_bail "scripts/make-cross-pki.sh failed: $(tail -3 "$tmp/pki.log")"

tn_setup ccs
tn_start_tcpdump "$tmp/cross.pcap" tcp port 443 || tn_bail "tcpdump did not start"
tn_start_s_server "$tmp/server.log" -cert "$pki/leaf.crt" -key "$pki/leaf.key" \
	-cert_chain "$pki/served.pem"
printf 'GET / HTTP/1.0\r\n\r\n' | timeout 5 openssl s_client \
	-connect "$TN_PEER4:443" -servername cross.test -tls1_2 >"$tmp/client.log" 2>&1
tap_eq "the client completes its handshake" 0 "$?"
tn_stop_s_server
tn_stop_tcpdump "$tmp/cross.pcap"

# "kinds | expiring_soon detail" of the one cert event.
judged() { # analyze options...
	"$BUILD/tlswatch" analyze -q --json "$@" "$tmp/cross.pcap" >"$tmp/events.json" 2>"$tmp/err" ||
		tap_fail "analyze $* exits 0" "$(cat "$tmp/err")"
	"$PY" -c 'import json, sys
ev = [e for e in map(json.loads, open(sys.argv[1])) if e.get("event") == "cert"]
for e in ev:
    f = e.get("findings", [])
    print("%s | %s" % (",".join(x["kind"] for x in f),
                       "".join(x["detail"] for x in f if x["kind"] == "expiring_soon")))' "$tmp/events.json" |
		paste -sd'#'
}

# The cross-sign's expiry as the detail says it: the script made it 7.5
# days long from 12 hours before, so 7 days after the handshake.
end=$(openssl x509 -in "$pki/cross.crt" -noout -enddate | cut -d= -f2)
end=$(date -u -d "$end" +%FT%TZ)
cross="chain certificate 2 (CN=Cross Test New Root) expires $end, 7 days after the handshake"

tap_eq "the new root trusted: the unused cross-sign is not judged" \
	" | " "$(judged --ca-file "$pki/new-root.crt")"
tap_eq "the old root trusted: the chain uses the cross-sign, expiring_soon" \
	"expiring_soon | $cross" "$(judged --ca-file "$pki/old-root.crt")"
tap_eq "no trust store that verifies it: every served certificate judged" \
	"expiring_soon,untrusted | $cross" "$(judged)"
[ "$TN_FAILED" -eq 0 ]
