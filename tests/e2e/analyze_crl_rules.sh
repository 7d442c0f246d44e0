#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# What a CRL answer means, on real captures (openssl s_server/s_client,
# tcpdump) analyzed with the CRLs of scripts/make-health-pki.sh:
# - a CRL past its nextUpdate still revokes, but its "good" is "unknown"
#   (stale_since says since when);
# - a sharded CRL (issuingDistributionPoint) speaks only for the
#   certificates that name it: another shard's CRL never says "good", also
#   when the leaf's own shard fails to download (--online, HTTP 404);
# - of two CRLs of one CA and scope, the one with the higher CRL number
#   decides: a released certificateHold is released, in either order;
# - the responder's "unknown" (a real openssl ocsp, --online) is reported
#   before a CRL's "good".
set -u
cd "$(dirname "$0")/../.."
. tests/e2e/lib/health.sh
health_setup "$0" "$@"

http_port=$(free_port)
ocsp_port=$(free_port)
tls_port=$(free_port)
pki=$work/pki        # CRL distribution points, no responder
opki=$work/opki      # a responder, no distribution points
make_pki "$pki" "$http_port" none
make_pki "$opki" none "$ocsp_port"

cap=$work/crl.pcap
capture_start "$cap" "$tls_port"
for leaf in good.test revoked.test shard1.test shard2.test hold.test; do
	capture_handshake "$pki" "$leaf"
done
capture_stop
ocap=$work/ocsp.pcap
capture_start "$ocap" "$tls_port"
capture_handshake "$opki" unknown.test
capture_stop

ca=(--ca-file "$pki/root.crt")
crl() { echo "--crl $pki/crl/$1.pem"; }

check "the capture holds five handshakes" \
	test "$("$TW" analyze --json "$cap" | python3 -c 'import json,sys; print([json.loads(l) for l in sys.stdin][-1]["handshakes"])')" = 5

# ---- a stale CRL (nextUpdate 2025-01-31, long past) against a current one
crl_expect "a stale CRL: good is unknown, revoked stands, stale_since says so" \
"good.test crl/unknown stale_since 2025-01-31T00:00:00Z -
revoked.test crl/revoked/keyCompromise stale_since 2025-01-31T00:00:00Z revoked per inter-stale.pem" \
	"good.test revoked.test" "${ca[@]}" $(crl inter-stale) "$cap"
crl_expect "a current CRL of the same CA replaces the stale one" \
"good.test crl/good -
revoked.test crl/revoked/keyCompromise revoked per inter.pem" \
	"good.test revoked.test" "${ca[@]}" $(crl inter-stale) $(crl inter) "$cap"

# ---- sharded CRLs
crl_expect "another shard's CRL does not speak for a leaf" \
"shard1.test crl/good -
shard2.test - -" \
	"shard1.test shard2.test" "${ca[@]}" $(crl shard1) "$cap"
crl_expect "the leaf's own shard revokes it" \
"shard1.test crl/good -
shard2.test crl/revoked/keyCompromise revoked per shard2.pem" \
	"shard1.test shard2.test" "${ca[@]}" $(crl shard1) $(crl shard2) "$cap"
crl_expect "the full CRL covers the sharded leaves, the shard's revoked stands" \
"shard1.test crl/good -
shard2.test crl/revoked/keyCompromise revoked per shard2.pem" \
	"shard1.test shard2.test" "${ca[@]}" $(crl inter) $(crl shard2) "$cap"

mkdir -p "$work/www"
cp "$pki/www/shard1.crl" "$work/www/"   # shard2.crl: 404
start_http "$work/www" "$http_port" || exit 1
crl_expect "--online, the leaf's shard not found: not good by the other shard" \
"shard1.test crl/good -
shard2.test - -" \
	"shard1.test shard2.test" "${ca[@]}" --online --ocsp-timeout 3000 "$cap"
check "--online: both shards were asked for" \
	test "$(grep -c 'GET /shard1.crl' "$work/http.log")|$(grep -c 'GET /shard2.crl' "$work/http.log")" = "1|1"
check "--online: the missing shard is a problem report" \
	grep -q "CRL http://127.0.0.1:$http_port/shard2.crl: .*404" "$work/analyze.err"
stop_servers

# ---- a certificateHold, then its release (CRL numbers 32 and 33)
crl_expect "a hold revokes" "hold.test crl/revoked/certificateHold revoked per hold-on.pem" \
	"hold.test" "${ca[@]}" $(crl hold-on) "$cap"
crl_expect "the newer CRL releases the hold (older loaded first)" "hold.test crl/good -" \
	"hold.test" "${ca[@]}" $(crl hold-on) $(crl hold-off) "$cap"
crl_expect "the newer CRL releases the hold (older loaded last)" "hold.test crl/good -" \
	"hold.test" "${ca[@]}" $(crl hold-off) $(crl hold-on) "$cap"

# ---- the responder has no record of the leaf; the CRL does not list it
start_ocsp "$opki" inter-index.txt inter "$ocsp_port" || exit 1
crl_expect "the responder's unknown comes before the CRL's good" "unknown.test ocsp/unknown -" \
	unknown.test --ca-file "$opki/root.crt" --online --ocsp-timeout 3000 \
	--crl "$opki/crl/inter.pem" "$ocap"
# A failed lookup would be ocsp/unknown too, with a problem on stderr.
check "the responder answered: no problem reported" test ! -s "$work/analyze.err"
stop_servers

health_done
