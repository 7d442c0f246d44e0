#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Delta CRLs and sharded CRLs (issuingDistributionPoint) of one
# intermediate, with the leaves they speak about, for the delta-CRL rules
# (README "What a CRL answer means"; tests/e2e/analyze_crl_delta.sh):
#
#   scripts/make-delta-crls.sh PKI_DIR OUT_DIR
#
# PKI_DIR holds inter.{crt,key} (scripts/make-health-pki.sh, or
# tests/data/pki). OUT_DIR receives (test-only keys, EC P-256) leaves
# NAME.{key,crt,chain.pem} signed by inter, valid 2025-01-01 .. 2045:
#
#   dgood.test    serial 0x1201, never revoked
#   dlate.test    serial 0x1202, revoked (keyCompromise) after CRL 40: in
#                 the deltas 42 and 44 only
#   dhold.test    serial 0x1203, certificateHold in CRL 40, removeFromCRL
#                 in every delta
#   dnewer.test   serial 0x1204, certificateHold in delta 41 only: delta
#                 42 says removeFromCRL
#   dshard1.test  serial 0x1211, CRL distribution point .../dshard1.crl
#   dshard2.test  serial 0x1212, .../dshard2.crl
#
# and the CRLs (PEM; N: cRLNumber, "on B": deltaCRLIndicator B):
#
#   base-40.pem       complete, 40: dhold certificateHold
#   delta-41.pem      41 on 40: dhold removeFromCRL, dnewer certificateHold
#   delta-42.pem      42 on 40: dhold and dnewer removeFromCRL, dlate
#                     keyCompromise
#   delta-44.pem      44 on 43 (a complete CRL 43 that is not given): as 42
#   base-45.pem       complete, 45: dlate keyCompromise
#   shard1-50.pem     complete, 50, issuingDistributionPoint .../dshard1.crl:
#                     nothing listed
#   shard1-delta-51.pem  51 on 50, the same issuingDistributionPoint:
#                     dshard1 and dshard2 (the other shard's serial)
#                     keyCompromise
#   fp/NAME           SHA-256 fingerprint of each leaf
#
# The distribution point URLs are http://127.0.0.1:9/...: nothing is
# fetched from them (the CRLs are given as files).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/common.sh"
. "$here/lib/leaf_ca.sh"

[ $# -eq 2 ] || die "usage: make-delta-crls.sh PKI_DIR OUT_DIR"
need_cmd openssl sha256sum
pki=$(cd "$1" && pwd)
mkdir -p "$2/fp"
out=$(cd "$2" && pwd)
[ -r "$pki/inter.crt" ] && [ -r "$pki/inter.key" ] || die "$pki: no inter.{crt,key}"
ca=$(mktemp -d)
trap 'rm -rf "$ca"' EXIT
URL=http://127.0.0.1:9

leaf_ca_init "$ca"
leaf() { # name serial [crl distribution point]
	LEAF_CA_EXT=${3:+crlDistributionPoints = URI:$3} \
		leaf_ca_sign "$ca" "$pki" "$1" "$1" "$2" 250101000000Z \
		-algorithm EC -pkeyopt ec_paramgen_curve:P-256 >/dev/null 2>"$ca/log" ||
		{ cat "$ca/log" >&2; die "signing $1 failed"; }
	cp "$ca/$1.key" "$ca/$1.crt" "$out/"
	cat "$out/$1.crt" "$pki/inter.crt" >"$out/$1.chain.pem"
	cert_sha256 "$out/$1.crt" >"$out/fp/$1"
}
leaf dgood.test 1201
leaf dlate.test 1202
leaf dhold.test 1203
leaf dnewer.test 1204
leaf dshard1.test 1211 "$URL/dshard1.crl"
leaf dshard2.test 1212 "$URL/dshard2.crl"

crl() { # name number exts cert:reason...
	local name=$1
	shift
	leaf_ca_crl "$pki" "$out/$name.pem" "$@" || die "CRL $name failed"
}
# openssl has no configuration syntax for a deltaCRLIndicator: the DER of
# the INTEGER, 40 (0x28), 43 (0x2b) or 50 (0x32).
on40="deltaCRL = critical, DER:02:01:28"
on43="deltaCRL = critical, DER:02:01:2b"
on50="deltaCRL = critical, DER:02:01:32"
# Last: its distribution point name is a section of its own.
shard1="issuingDistributionPoint = critical, @idp
[ idp ]
fullname = URI:$URL/dshard1.crl"
c() { echo "$out/$1.crt:$2"; }

crl base-40 40 "" "$(c dhold.test certificateHold)"
crl delta-41 41 "$on40" "$(c dhold.test removeFromCRL)" "$(c dnewer.test certificateHold)"
crl delta-42 42 "$on40" "$(c dhold.test removeFromCRL)" "$(c dnewer.test removeFromCRL)" \
	"$(c dlate.test keyCompromise)"
crl delta-44 44 "$on43" "$(c dhold.test removeFromCRL)" "$(c dnewer.test removeFromCRL)" \
	"$(c dlate.test keyCompromise)"
crl base-45 45 "" "$(c dlate.test keyCompromise)"
crl shard1-50 50 "$shard1"
crl shard1-delta-51 51 "$on50
$shard1" "$(c dshard1.test keyCompromise)" "$(c dshard2.test keyCompromise)"

echo "make-delta-crls: wrote $out"
