#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Seeds for fuzz_crl that reach the scope and delta rules: CRLs of
# tests/data/pki's intermediate (its key is committed, so the seeds'
# signatures verify in the fuzzer) and the certificates the fuzzer looks
# up in them.
#
#   scripts/make-crl-seeds.sh [CORPUS_DIR [HEADER]]
#
# CORPUS_DIR (default tests/fuzz/corpus/fuzz_crl) receives, DER unless .pem:
#   delta-{base-40,delta-41,delta-42,delta-44,base-45,shard1-50,
#     shard1-delta-51}.der   scripts/make-delta-crls.sh's CRLs
#   delta-pair.pem           base-40 delta-41 delta-42 delta-44 in one input
#   delta-replaced.pem       delta-41 base-45
#   delta-shard.pem          base-40 shard1-50 shard1-delta-51
#   scope-onlyuser.der       onlyContainsUserCerts; dhold certificateHold
#   scope-onlyca.der         onlyContainsCACerts; the intermediate itself
#   scope-attr.der           onlyContainsAttributeCerts
#   scope-reasons.der        onlySomeReasons keyCompromise; dshard1
#   scope-indirect.der       indirectCRL; dshard1
#   scope-relname.der        relative name CN=shard1, onlyContainsUserCerts;
#                            drel (whose distribution point is the full
#                            directory name it makes)
#   scope-dirname.der        that directory name as a full name; drel
# HEADER (default tests/fuzz/fuzz_crl_pki.h) receives the PEM of the
# intermediate and of the leaves dhold.test (serial 0x1203),
# dshard1.test (0x1211, distribution point URI .../dshard1.crl) and
# drel.test (0x1221, distribution point dirName .../CN=shard1) as C
# strings. Rerunning makes new leaf keys: commit the header with the seeds.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
. "$here/lib/common.sh"
. "$here/lib/leaf_ca.sh"

corpus=${1:-$root/tests/fuzz/corpus/fuzz_crl}
header=${2:-$root/tests/fuzz/fuzz_crl_pki.h}
pki=$root/tests/data/pki
need_cmd openssl
mkdir -p "$corpus"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$here/make-delta-crls.sh" "$pki" "$work/d" >/dev/null
d=$work/d
der() { # in.pem out.der
	openssl crl -in "$1" -outform DER -out "$2"
}
for c in base-40 delta-41 delta-42 delta-44 base-45 shard1-50 shard1-delta-51; do
	der "$d/$c.pem" "$corpus/delta-$c.der"
done
bundle() { # out names...
	local out=$1 n
	shift
	for n in "$@"; do cat "$d/$n.pem"; done >"$corpus/$out"
}
bundle delta-pair.pem base-40 delta-41 delta-42 delta-44
bundle delta-replaced.pem delta-41 base-45
bundle delta-shard.pem base-40 shard1-50 shard1-delta-51

# drel.test: a distribution point named by a directory name, the full form
# of the relative name CN=shard1 under the intermediate's name.
dirname="[ dpdir ]
1.O = tlswatch test
2.CN = tlswatch Test Intermediate CA
3.CN = shard1"
leaf_ca_init "$work/ca"
LEAF_CA_EXT="crlDistributionPoints = dp
[ dp ]
fullname = dirName:dpdir
$dirname" leaf_ca_sign "$work/ca" "$pki" drel.test drel.test 1221 250101000000Z \
	-algorithm EC -pkeyopt ec_paramgen_curve:P-256 >/dev/null 2>"$work/log" ||
	{ cat "$work/log" >&2; die "signing drel.test failed"; }

scope() { # name idp-section-body cert:reason...
	local name=$1 body=$2
	shift 2
	leaf_ca_crl "$pki" "$work/$name.pem" 60 "issuingDistributionPoint = critical, @idp
[ idp ]
$body" "$@" || die "CRL $name failed"
	der "$work/$name.pem" "$corpus/$name.der"
}
scope scope-onlyuser "onlyuser = TRUE" "$d/dhold.test.crt:certificateHold"
scope scope-onlyca "onlyCA = TRUE" "$pki/inter.crt:keyCompromise"
scope scope-attr "onlyAA = TRUE" "$d/dhold.test.crt:keyCompromise"
scope scope-reasons "onlysomereasons = keyCompromise" "$d/dshard1.test.crt:keyCompromise"
scope scope-indirect "indirectCRL = TRUE" "$d/dshard1.test.crt:keyCompromise"
scope scope-relname "relativename = rel
onlyuser = TRUE
[ rel ]
CN = shard1" "$work/ca/drel.test.crt:keyCompromise"
scope scope-dirname "fullname = dirName:dpdir
$dirname" "$work/ca/drel.test.crt:certificateHold"

c_string() { # name pem
	echo "static const char $1[] ="
	sed 's/^/\t"/; s/$/\\n"/; $ s/$/;/' "$2"
}
{
	echo "/* SPDX-License-Identifier: MIT */"
	echo "/* Written by scripts/make-crl-seeds.sh: tests/data/pki's intermediate and"
	echo " * leaves it signed, which the seeds' CRLs speak about. */"
	c_string crl_pki_issuer "$pki/inter.crt"
	c_string crl_pki_dhold "$d/dhold.test.crt"
	c_string crl_pki_dshard1 "$d/dshard1.test.crt"
	c_string crl_pki_drel "$work/ca/drel.test.crt"
} >"$header"
echo "make-crl-seeds: wrote $corpus, $header"
