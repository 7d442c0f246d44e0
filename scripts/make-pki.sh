#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds the private test PKI the fixture captures are made with.
#
#   scripts/make-pki.sh DIR
#
# DIR receives (names are fixed; keys are test-only):
#   root.{key,crt}             "tlswatch Test Root CA"
#   inter.{key,crt}            "tlswatch Test Intermediate CA", signed by root
#   cachain.pem                inter + root (for a server that sends the root)
#   NAME.{key,crt,chain.pem}   leaves (chain.pem = leaf + inter) for
#     rsa.test        RSA-2048, SAN rsa.test www.rsa.test
#     ecdsa.test      EC P-256
#     big.test        RSA-4096, 60 SANs (a big Certificate message)
#     expired.test    valid 2020-01-01 .. 2021-01-01
#     future.test     valid 2040-01-01 .. 2045-01-01
#     soon.test       expires 7 days after this script ran
#     revoked.test    revoked in the CA database (for a revoked staple)
#     weak.test       RSA-1024
#     selfsigned.test self-signed (chain.pem = the leaf alone)
#   rsa.test.ocsp.der          OCSP response "good" for rsa.test (7 days)
#   revoked.test.ocsp.der      OCSP response "revoked" for revoked.test
#
# Serial numbers are fixed so names and serials are the same on every run;
# key material and fingerprints are new each time. Leaves that are meant to
# be valid live until 2045, so committed captures keep giving the same
# findings (validity is judged at the packet time).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/common.sh"

[ $# -eq 1 ] || die "usage: make-pki.sh DIR"
need_cmd openssl date
dir=$1
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Long-lived validity (UTCTime, YYMMDDHHMMSSZ).
CA_START=240101000000Z
CA_END=491231000000Z
LEAF_START=250101000000Z
LEAF_END=450101000000Z

write_ca_config() {
	rm -f "$dir/index.txt" "$dir/index.txt.attr" "$dir/index.txt.old" \
		"$dir/index.txt.attr.old" "$dir/serial" "$dir/serial.old"
	: >"$dir/index.txt"
	echo "unique_subject = no" >"$dir/index.txt.attr"
	cat >"$work/ca.cnf" <<-EOF
	[ ca ]
	default_ca = test_ca
	[ test_ca ]
	dir = $dir
	database = $dir/index.txt
	new_certs_dir = $work
	serial = $dir/serial
	default_md = sha256
	policy = policy_any
	unique_subject = no
	email_in_dn = no
	copy_extensions = none
	[ policy_any ]
	organizationName = optional
	commonName = supplied
	EOF
}

gen_key() { # out, rsa:BITS | ec
	case $2 in
	rsa:*) openssl genpkey -quiet -algorithm RSA \
		-pkeyopt "rsa_keygen_bits:${2#rsa:}" -out "$1" ;;
	ec) openssl genpkey -quiet -algorithm EC \
		-pkeyopt ec_paramgen_curve:P-256 -out "$1" ;;
	esac
}

# Signs KEY's request for SUBJECT with the CA (or itself with "self"),
# with a fixed serial, the given validity and an extension section.
sign() { # out.crt, key, subject, serial, start, end, extfile, ca|self
	local out=$1 key=$2 subj=$3 serial=$4 start=$5 end=$6 ext=$7 how=$8
	openssl req -new -key "$key" -subj "$subj" -out "$work/req.csr"
	echo "$serial" >"$dir/serial"
	if [ "$how" = self ]; then
		openssl ca -batch -config "$work/ca.cnf" -selfsign -keyfile "$key" \
			-in "$work/req.csr" -out "$out" -notext \
			-startdate "$start" -enddate "$end" -extfile "$ext" 2>"$work/ca.log" ||
			{ cat "$work/ca.log" >&2; die "signing $subj failed"; }
	else
		openssl ca -batch -config "$work/ca.cnf" -cert "$dir/$how.crt" \
			-keyfile "$dir/$how.key" -in "$work/req.csr" -out "$out" -notext \
			-startdate "$start" -enddate "$end" -extfile "$ext" 2>"$work/ca.log" ||
			{ cat "$work/ca.log" >&2; die "signing $subj failed"; }
	fi
}

ca_ext() {
	cat >"$work/ca.ext" <<-EOF
	basicConstraints = critical, CA:TRUE
	keyUsage = critical, keyCertSign, cRLSign, digitalSignature
	subjectKeyIdentifier = hash
	authorityKeyIdentifier = keyid
	EOF
}

leaf_ext() { # dns names...
	local sans="" n
	for n in "$@"; do sans="${sans:+$sans, }DNS:$n"; done
	cat >"$work/leaf.ext" <<-EOF
	basicConstraints = critical, CA:FALSE
	keyUsage = critical, digitalSignature, keyEncipherment
	extendedKeyUsage = serverAuth
	subjectKeyIdentifier = hash
	authorityKeyIdentifier = keyid
	subjectAltName = $sans
	EOF
}

# A leaf signed by the intermediate, with its chain file.
make_leaf() { # name, keyspec, serial, start, end, sans...
	local name=$1 keyspec=$2 serial=$3 start=$4 end=$5
	shift 5
	gen_key "$dir/$name.key" "$keyspec"
	leaf_ext "$@"
	sign "$dir/$name.crt" "$dir/$name.key" "/O=tlswatch test/CN=$name" \
		"$serial" "$start" "$end" "$work/leaf.ext" inter
	cat "$dir/$name.crt" "$dir/inter.crt" >"$dir/$name.chain.pem"
}

write_ca_config
ca_ext
gen_key "$dir/root.key" rsa:2048
sign "$dir/root.crt" "$dir/root.key" "/O=tlswatch test/CN=tlswatch Test Root CA" \
	1000 "$CA_START" "$CA_END" "$work/ca.ext" self
gen_key "$dir/inter.key" rsa:2048
sign "$dir/inter.crt" "$dir/inter.key" \
	"/O=tlswatch test/CN=tlswatch Test Intermediate CA" \
	2000 "$CA_START" "$CA_END" "$work/ca.ext" root
cat "$dir/inter.crt" "$dir/root.crt" >"$dir/cachain.pem"

# Serial 0A.. has a leading zero nibble; 9F.. needs a leading zero byte in
# DER: both must print without leading zeros.
make_leaf rsa.test rsa:2048 0A1B2C3D4E5F6071 "$LEAF_START" "$LEAF_END" \
	rsa.test www.rsa.test
make_leaf ecdsa.test ec 9F00AA5500000001 "$LEAF_START" "$LEAF_END" \
	ecdsa.test www.ecdsa.test
big_sans=(big.test www.big.test)
for i in $(seq -w 1 58); do big_sans+=("host$i.big.test"); done
make_leaf big.test rsa:4096 42 "$LEAF_START" "$LEAF_END" "${big_sans[@]}"
make_leaf expired.test rsa:2048 5001 200101000000Z 210101000000Z expired.test
make_leaf future.test rsa:2048 5002 400101000000Z 450101000000Z future.test
make_leaf soon.test rsa:2048 5003 \
	"$(date -u -d '-30 days' +%y%m%d%H%M%SZ)" \
	"$(date -u -d '+7 days' +%y%m%d%H%M%SZ)" soon.test
make_leaf revoked.test rsa:2048 5004 "$LEAF_START" "$LEAF_END" revoked.test
make_leaf weak.test rsa:1024 5005 "$LEAF_START" "$LEAF_END" weak.test

# Self-signed leaf: its own issuer, not a CA.
gen_key "$dir/selfsigned.test.key" rsa:2048
leaf_ext selfsigned.test
sed -i 's/^authorityKeyIdentifier.*//' "$work/leaf.ext"
sign "$dir/selfsigned.test.crt" "$dir/selfsigned.test.key" \
	"/O=tlswatch test/CN=selfsigned.test" 5006 "$LEAF_START" "$LEAF_END" \
	"$work/leaf.ext" self
cp "$dir/selfsigned.test.crt" "$dir/selfsigned.test.chain.pem"

# Revocation, then the OCSP responses to staple (signed by the issuer).
openssl ca -config "$work/ca.cnf" -cert "$dir/inter.crt" -keyfile "$dir/inter.key" \
	-revoke "$dir/revoked.test.crt" -crl_reason keyCompromise 2>"$work/ca.log" ||
	{ cat "$work/ca.log" >&2; die "revoking revoked.test failed"; }
for name in rsa.test revoked.test; do
	openssl ocsp -index "$dir/index.txt" -CA "$dir/inter.crt" \
		-rsigner "$dir/inter.crt" -rkey "$dir/inter.key" \
		-issuer "$dir/inter.crt" -cert "$dir/$name.crt" \
		-respout "$dir/$name.ocsp.der" -ndays 7 >/dev/null 2>"$work/ocsp.log" ||
		{ cat "$work/ocsp.log" >&2; die "OCSP response for $name failed"; }
done
rm -f "$dir/serial.old" "$dir/index.txt.old" "$dir/index.txt.attr.old"

# Self-check: the intended verdicts, so a broken PKI fails here, not later.
verify() { # name, expected substring of openssl verify's output
	local out
	out=$(openssl verify -CAfile "$dir/root.crt" -untrusted "$dir/inter.crt" \
		"$dir/$1.crt" 2>&1 || true)
	case $out in
	*"$2"*) ;;
	*) die "verify $1: expected '$2', got: $out" ;;
	esac
}
verify rsa.test ": OK"
verify ecdsa.test ": OK"
verify big.test ": OK"
verify expired.test "certificate has expired"
verify future.test "certificate is not yet valid"
verify selfsigned.test "self-signed certificate"
echo "make-pki: wrote $dir"
