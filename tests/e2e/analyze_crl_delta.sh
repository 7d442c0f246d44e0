#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Delta CRLs end to end: real captures (openssl s_server/s_client,
# tcpdump) analyzed with the complete and delta CRLs `openssl ca -gencrl`
# made (scripts/make-delta-crls.sh), given as --crl files in either order:
# - a certificate revoked only in the delta is revoked, also without its
#   complete CRL; a delta alone never says good;
# - the delta's removeFromCRL releases the complete CRL's certificateHold,
#   but not when the delta builds on a newer complete CRL than the one
#   given (deltaCRLIndicator 43, complete CRL 40);
# - of two deltas the newer decides, whatever the load order; but when the
#   newest builds on a complete CRL not given, the newest delta built on
#   the one given still speaks (releases and holds) besides it; a
#   complete CRL numbered higher replaces the deltas;
# - a sharded delta (issuingDistributionPoint) speaks only for its shard:
#   the other shard's serial in it revokes nothing, and it does not pair
#   with the full CRL.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/lib/health.sh
health_setup "$0" "$@"

tls_port=$(free_port)
pki=$work/pki
make_pki "$pki" none none
d=$work/delta
scripts/make-delta-crls.sh "$pki" "$d" >"$work/delta.log" 2>&1 ||
	{ cat "$work/delta.log"; echo "not ok - making the delta CRLs"; exit 1; }

cap=$work/delta.pcap
leaves="dgood.test dlate.test dhold.test dnewer.test"
shards="dshard1.test dshard2.test"
capture_start "$cap" "$tls_port"
for leaf in $leaves $shards; do
	capture_handshake "$d" "$leaf"
done
capture_stop

ca=(--ca-file "$pki/root.crt")
crl() { # names...
	local n
	for n in "$@"; do echo "--crl $d/$n.pem"; done
}

check "the capture holds six handshakes, one cert event per leaf" \
	test "$("$TW" analyze --json "${ca[@]}" "$cap" | python3 -c '
import json, sys
ev = [json.loads(l) for l in sys.stdin]
print(ev[-1]["handshakes"], sorted(e["sni"] for e in ev if e["event"] == "cert"))
')" = "6 ['dgood.test', 'dhold.test', 'dlate.test', 'dnewer.test', 'dshard1.test', 'dshard2.test']"

# ---- the complete CRL alone, then a delta alone
crl_expect "complete CRL 40: only the hold is revoked" \
"dgood.test crl/good -
dlate.test crl/good -
dhold.test crl/revoked/certificateHold revoked per base-40.pem
dnewer.test crl/good -" \
	"$leaves" "${ca[@]}" $(crl base-40) "$cap"
check "complete CRL 40: no problem reported" test ! -s "$work/analyze.err"
crl_expect "delta 42 without its complete CRL: revokes, never says good, a removal is no revocation" \
"dgood.test - -
dlate.test crl/revoked/keyCompromise revoked per delta-42.pem
dhold.test - -
dnewer.test - -" \
	"$leaves" "${ca[@]}" $(crl delta-42) "$cap"

# ---- a delta on the complete CRL it builds on
crl_expect "delta 41 on 40: removeFromCRL releases the hold, a new hold revokes" \
"dgood.test crl/good -
dlate.test crl/good -
dhold.test crl/good -
dnewer.test crl/revoked/certificateHold revoked per delta-41.pem" \
	"$leaves" "${ca[@]}" $(crl base-40 delta-41) "$cap"
newest="dgood.test crl/good -
dlate.test crl/revoked/keyCompromise revoked per delta-42.pem
dhold.test crl/good -
dnewer.test crl/good -"
crl_expect "deltas 41 and 42: the newer decides (older loaded last)" "$newest" \
	"$leaves" "${ca[@]}" $(crl base-40 delta-42 delta-41) "$cap"
crl_expect "deltas 41 and 42: the newer decides (older loaded first)" "$newest" \
	"$leaves" "${ca[@]}" $(crl delta-41 delta-42 base-40) "$cap"

# ---- a delta on another complete CRL than the one given
crl_expect "delta 44 on 43 with complete CRL 40: revokes, but releases no hold of 40" \
"dgood.test crl/good -
dlate.test crl/revoked/keyCompromise revoked per delta-44.pem
dhold.test crl/revoked/certificateHold revoked per base-40.pem
dnewer.test crl/good -" \
	"$leaves" "${ca[@]}" $(crl base-40 delta-44) "$cap"
crl_expect "deltas 42 and 44 with complete CRL 40: 42, built on 40, releases its hold" \
"dgood.test crl/good -
dlate.test crl/revoked/keyCompromise revoked per delta-44.pem
dhold.test crl/good -
dnewer.test crl/good -" \
	"$leaves" "${ca[@]}" $(crl delta-44 base-40 delta-42) "$cap"
crl_expect "deltas 41 and 44 with complete CRL 40: 41's hold stands, 44's removal is of 43" \
"dgood.test crl/good -
dlate.test crl/revoked/keyCompromise revoked per delta-44.pem
dhold.test crl/good -
dnewer.test crl/revoked/certificateHold revoked per delta-41.pem" \
	"$leaves" "${ca[@]}" $(crl base-40 delta-44 delta-41) "$cap"
crl_expect "complete CRL 45 replaces the older delta 41 (its hold is gone)" \
"dgood.test crl/good -
dlate.test crl/revoked/keyCompromise revoked per base-45.pem
dhold.test crl/good -
dnewer.test crl/good -" \
	"$leaves" "${ca[@]}" $(crl delta-41 base-45) "$cap"

# ---- a sharded delta
crl_expect "shard 1's delta alone: revokes its leaf, not the other shard's serial" \
"dshard1.test crl/revoked/keyCompromise revoked per shard1-delta-51.pem
dshard2.test - -" \
	"$shards" "${ca[@]}" $(crl shard1-delta-51) "$cap"
crl_expect "shard 1's complete CRL and delta: the other shard has no answer" \
"dshard1.test crl/revoked/keyCompromise revoked per shard1-delta-51.pem
dshard2.test - -" \
	"$shards" "${ca[@]}" $(crl shard1-50 shard1-delta-51) "$cap"
crl_expect "the full CRL answers for shard 2; shard 1's delta is not its delta" \
"dshard1.test crl/revoked/keyCompromise revoked per shard1-delta-51.pem
dshard2.test crl/good -" \
	"$shards" "${ca[@]}" $(crl base-40 shard1-delta-51) "$cap"

# ---- the counts of the run with every CRL (the summary line)
check "every CRL at once: one revoked finding per revoked leaf, 2 in all" \
	test "$("$TW" analyze --json "${ca[@]}" $(crl base-40 delta-41 delta-42 \
		delta-44 shard1-50 shard1-delta-51) "$cap" | python3 -c '
import json, sys
ev = [json.loads(l) for l in sys.stdin]
print(sorted((e["sni"], f["kind"]) for e in ev if e["event"] == "cert" for f in e["findings"]))
')" = "[('dlate.test', 'revoked'), ('dshard1.test', 'revoked')]"

health_done
