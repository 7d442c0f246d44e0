#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds the private PKI the certificate-health tests (chain, CRL, OCSP,
# staples, superseded, unexpected) run against.
#
#   scripts/make-health-pki.sh DIR [HTTP_PORT [OCSP_PORT]]
#
# The certificates name http://127.0.0.1:HTTP_PORT/<ca>.crl as their CRL
# distribution point and http://127.0.0.1:OCSP_PORT as their OCSP responder
# (default port 9: nothing listens there, so offline tests that forget to
# stay offline fail fast); a port given as "none" leaves that extension
# out. DIR receives (keys are test-only, EC P-256):
#
#   root.{key,crt}        "Health Test Root" (trust anchor)
#   inter.{key,crt}       "Health Test Intermediate", signed by root
#   inter2.{key,crt}      "Health Test Revoked Intermediate", signed by root,
#                         revoked (keyCompromise) in root.crl
#   short.{key,crt}       "Health Test Short Intermediate", signed by root,
#                         valid until 2030-01-01T00:00:00Z (before its leaf)
#   evil.{key,crt}        self-signed, with inter's subject name but another
#                         key: signs the forged CRL and the wrong-key OCSP
#   NAME.crt, NAME.key, NAME.chain.pem (leaf + its intermediate) for the leaves
#     good.test           2025-01-01 .. 2045-01-01, serial 1001
#     expired.test        2020-01-01 .. 2021-01-01, serial 1002
#     future.test         2040-01-01 .. 2045-01-01, serial 1003
#     revoked.test        serial 1004, revoked (keyCompromise) by inter
#     unknown.test        serial 1005, signed outside inter's database: the
#                         responder answers "unknown", no CRL lists it
#     a-old.test          SAN a.test, 2025-01-01 .., serial 1006 ("A"),
#                         revoked (superseded) by inter
#     a-new.test          SAN a.test, 2025-06-01 .., serial 1007 ("B")
#     ends.test           2025-01-01 .. 2030-01-01T00:00:00Z, serial 1008:
#                         a handshake moved to its last seconds
#     victim.test         signed by inter2, serial 2001
#     late.test           signed by short, serial 3001: a leaf that outlives
#                         its intermediate
#     twin.test           signed by inter2, serial 1001: good.test's serial
#                         under another CA (a staple about good.test is
#                         not about it)
#   *-index.txt           each CA's database (inter-index.txt feeds the
#                         OCSP responder); index-bad.txt: inter's database
#                         with good.test marked revoked (the 2016 mix-up)
#   www/root.crl, www/inter.crl, www/inter2.crl, www/short.crl
#                         DER, what HTTP serves
#   crl/*.pem             the same CRLs in PEM; crl/evil.crl: issuer name
#                         of inter, signed by evil (a forged CRL)
#   ocsp/good-good.der    responder answer "good" for good.test (1 day)
#   ocsp/good-revoked.der "revoked" for good.test from index-bad.txt
#   ocsp/revoked.der      "revoked" for revoked.test
#   ocsp/good-evil.der    "good" for good.test signed by evil
#   fp/NAME               SHA-256 fingerprint (lowercase hex) of each cert
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/common.sh"

[ $# -ge 1 ] && [ $# -le 3 ] || die "usage: make-health-pki.sh DIR [HTTP_PORT [OCSP_PORT]]"
need_cmd openssl sha256sum
dir=$1
http_port=${2:-9}
ocsp_port=${3:-9}
mkdir -p "$dir/www" "$dir/crl" "$dir/ocsp" "$dir/fp"
dir=$(cd "$dir" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

CA_START=240101000000Z
CA_END=491231000000Z
LEAF_START=250101000000Z
LEAF_END=450101000000Z
CRL_URL="http://127.0.0.1:$http_port"
OCSP_URL="http://127.0.0.1:$ocsp_port"

# One openssl ca configuration per CA: each has its own database, which is
# also what its CRL and its OCSP responder are made from.
ca_conf() { # ca name
	local ca=$1
	: >"$dir/$ca-index.txt"
	echo "unique_subject = no" >"$dir/$ca-index.txt.attr"
	cat >"$work/$ca.cnf" <<-EOF
	[ ca ]
	default_ca = this_ca
	[ this_ca ]
	database = $dir/$ca-index.txt
	new_certs_dir = $work
	serial = $work/$ca.serial
	default_md = sha256
	default_crl_days = 30
	policy = policy_any
	unique_subject = no
	email_in_dn = no
	copy_extensions = none
	[ policy_any ]
	organizationName = optional
	commonName = supplied
	EOF
}

gen_key() { # out
	openssl genpkey -quiet -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
		-out "$1"
}

# Signs a request for SUBJECT with CA's key (CA "self": self-signed).
sign() { # conf, out.crt, key, subject, serial, start, end, extfile, ca|self
	local conf=$1 out=$2 key=$3 subj=$4 serial=$5 start=$6 end=$7 ext=$8 ca=$9
	openssl req -new -key "$key" -subj "$subj" -out "$work/req.csr"
	echo "$serial" >"$work/$conf.serial"
	local signer=(-cert "$dir/$ca.crt" -keyfile "$dir/$ca.key")
	[ "$ca" = self ] && signer=(-selfsign -keyfile "$key")
	openssl ca -batch -config "$work/$conf.cnf" "${signer[@]}" \
		-in "$work/req.csr" -out "$out" -notext -startdate "$start" \
		-enddate "$end" -extfile "$ext" 2>"$work/ca.log" ||
		{ cat "$work/ca.log" >&2; die "signing $subj failed"; }
}

ca_ext() { # out, crl url (empty for none)
	cat >"$1" <<-EOF
	basicConstraints = critical, CA:TRUE
	keyUsage = critical, keyCertSign, cRLSign, digitalSignature
	subjectKeyIdentifier = hash
	authorityKeyIdentifier = keyid
	EOF
	[ -z "$2" ] || [ "$http_port" = none ] ||
		echo "crlDistributionPoints = URI:$2" >>"$1"
}

leaf_ext() { # out, crl url, dns names...
	local out=$1 crl=$2 sans="" n
	shift 2
	for n in "$@"; do sans="${sans:+$sans, }DNS:$n"; done
	cat >"$out" <<-EOF
	basicConstraints = critical, CA:FALSE
	keyUsage = critical, digitalSignature
	extendedKeyUsage = serverAuth
	subjectKeyIdentifier = hash
	authorityKeyIdentifier = keyid
	subjectAltName = $sans
	EOF
	[ "$http_port" = none ] || echo "crlDistributionPoints = URI:$crl" >>"$out"
	[ "$ocsp_port" = none ] || echo "authorityInfoAccess = OCSP;URI:$OCSP_URL" >>"$out"
}

make_leaf() { # conf, ca, file name, serial, start, end, dns names...
	local conf=$1 ca=$2 name=$3 serial=$4 start=$5 end=$6
	shift 6
	gen_key "$dir/$name.key"
	leaf_ext "$work/leaf.ext" "$CRL_URL/$ca.crl" "$@"
	sign "$conf" "$dir/$name.crt" "$dir/$name.key" "/O=tlswatch test/CN=$1" \
		"$serial" "$start" "$end" "$work/leaf.ext" "$ca"
	cat "$dir/$name.crt" "$dir/$ca.crt" >"$dir/$name.chain.pem"
}

revoke() { # conf, ca, cert, reason
	openssl ca -config "$work/$1.cnf" -cert "$dir/$2.crt" -keyfile "$dir/$2.key" \
		-revoke "$3" -crl_reason "$4" 2>"$work/ca.log" ||
		{ cat "$work/ca.log" >&2; die "revoking $3 failed"; }
}

gen_crl() { # conf, ca (signing cert and key names), out name
	openssl ca -config "$work/$1.cnf" -cert "$dir/$2.crt" -keyfile "$dir/$2.key" \
		-gencrl -out "$dir/crl/$3.pem" 2>"$work/ca.log" ||
		{ cat "$work/ca.log" >&2; die "CRL $3 failed"; }
	openssl crl -in "$dir/crl/$3.pem" -outform DER -out "$work/$3.der"
}

# An OCSP answer as the responder would give it, without a server.
ocsp_answer() { # index, signer, cert, out
	openssl ocsp -index "$1" -CA "$dir/inter.crt" -rsigner "$dir/$2.crt" \
		-rkey "$dir/$2.key" -issuer "$dir/inter.crt" -cert "$dir/$3.crt" \
		-respout "$4" -ndays 1 >/dev/null 2>"$work/ocsp.log" ||
		{ cat "$work/ocsp.log" >&2; die "OCSP answer for $3 failed"; }
}

# --- the CAs
ca_conf root
ca_conf inter
ca_conf inter2
ca_conf short
ca_conf scratch
gen_key "$dir/root.key"
ca_ext "$work/ca.ext" ""
sign root "$dir/root.crt" "$dir/root.key" "/O=tlswatch test/CN=Health Test Root" \
	0100 "$CA_START" "$CA_END" "$work/ca.ext" self
: >"$dir/root-index.txt"   # the root's own entry is not one it can revoke
ca_ext "$work/ca.ext" "$CRL_URL/root.crl"
gen_key "$dir/inter.key"
sign root "$dir/inter.crt" "$dir/inter.key" \
	"/O=tlswatch test/CN=Health Test Intermediate" 0200 "$CA_START" "$CA_END" \
	"$work/ca.ext" root
gen_key "$dir/inter2.key"
sign root "$dir/inter2.crt" "$dir/inter2.key" \
	"/O=tlswatch test/CN=Health Test Revoked Intermediate" 0201 "$CA_START" \
	"$CA_END" "$work/ca.ext" root
gen_key "$dir/short.key"
sign root "$dir/short.crt" "$dir/short.key" \
	"/O=tlswatch test/CN=Health Test Short Intermediate" 0202 "$CA_START" \
	300101000000Z "$work/ca.ext" root
gen_key "$dir/evil.key"
ca_ext "$work/ca.ext" ""
sign scratch "$dir/evil.crt" "$dir/evil.key" \
	"/O=tlswatch test/CN=Health Test Intermediate" 0666 "$CA_START" "$CA_END" \
	"$work/ca.ext" self

# --- the leaves
make_leaf inter inter good.test 1001 "$LEAF_START" "$LEAF_END" good.test
make_leaf inter inter expired.test 1002 200101000000Z 210101000000Z expired.test
make_leaf inter inter future.test 1003 400101000000Z "$LEAF_END" future.test
make_leaf inter inter revoked.test 1004 "$LEAF_START" "$LEAF_END" revoked.test
make_leaf scratch inter unknown.test 1005 "$LEAF_START" "$LEAF_END" unknown.test
make_leaf inter inter a-old.test 1006 "$LEAF_START" "$LEAF_END" a.test
make_leaf inter inter a-new.test 1007 250601000000Z "$LEAF_END" a.test
make_leaf inter inter ends.test 1008 "$LEAF_START" 300101000000Z ends.test
make_leaf inter2 inter2 victim.test 2001 "$LEAF_START" "$LEAF_END" victim.test
make_leaf inter2 inter2 twin.test 1001 "$LEAF_START" "$LEAF_END" twin.test
make_leaf short short late.test 3001 "$LEAF_START" "$LEAF_END" late.test

# --- revocations, CRLs
revoke root root "$dir/inter2.crt" keyCompromise
revoke inter inter "$dir/revoked.test.crt" keyCompromise
revoke inter inter "$dir/a-old.test.crt" superseded
gen_crl root root root
gen_crl inter inter inter
gen_crl inter2 inter2 inter2
gen_crl short short short
cp "$work/root.der" "$work/inter.der" "$work/inter2.der" "$work/short.der" "$dir/www/"
for c in root inter inter2 short; do mv "$dir/www/$c.der" "$dir/www/$c.crl"; done
# A CRL that names inter as its issuer but is signed by another key.
gen_crl inter evil evil
rm -f "$work/evil.der"
mv "$dir/crl/evil.pem" "$dir/crl/evil.crl"

# --- OCSP answers (staples, or what a responder sends)
sed 's/^V\(\t[^\t]*\t\)\t\(1001\t\)/R\1250301000000Z,keyCompromise\t\2/' \
	"$dir/inter-index.txt" >"$dir/index-bad.txt"
grep -q '^R.*	1001	' "$dir/index-bad.txt" || die "index-bad.txt: good.test not revoked"
ocsp_answer "$dir/inter-index.txt" inter good.test "$dir/ocsp/good-good.der"
ocsp_answer "$dir/index-bad.txt" inter good.test "$dir/ocsp/good-revoked.der"
ocsp_answer "$dir/inter-index.txt" inter revoked.test "$dir/ocsp/revoked.der"
ocsp_answer "$dir/inter-index.txt" evil good.test "$dir/ocsp/good-evil.der"

for c in root inter inter2 short evil good.test expired.test future.test revoked.test \
	unknown.test a-old.test a-new.test ends.test victim.test late.test twin.test; do
	cert_sha256 "$dir/$c.crt" >"$dir/fp/$c"
done
rm -f "$dir"/*.old "$dir"/*.attr.old

# Self-check: a broken PKI fails here, not in a test.
out=$(openssl verify -CAfile "$dir/root.crt" -untrusted "$dir/inter.crt" \
	"$dir/good.test.crt" 2>&1) || die "good.test does not verify: $out"
out=$(openssl verify -crl_check -CRLfile "$dir/crl/inter.pem" -CAfile "$dir/root.crt" \
	-untrusted "$dir/inter.crt" "$dir/revoked.test.crt" 2>&1 || true)
case $out in *"certificate revoked"*) ;; *) die "revoked.test not revoked: $out" ;; esac
echo "make-health-pki: wrote $dir"
