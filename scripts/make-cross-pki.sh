#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds the PKI of a server that sends an extra cross-signed root, as
# Let's Encrypt's did (leaf, R3, ISRG Root X1 cross-signed by the expiring
# DST Root CA X3): clients that trust the new root build their chain to it
# and never use the cross-sign; only those trusting the old root do.
#
#   scripts/make-cross-pki.sh DIR
#
# DIR receives (keys are test-only, EC P-256):
#
#   new-root.{key,crt}   "Cross Test New Root", self-signed, 10 years
#   old-root.{key,crt}   "Cross Test Old Root", self-signed, 10 years
#   cross.crt            "Cross Test New Root" (new-root's name and key)
#                        signed by old-root; expires 7.5 days after the
#                        script ran (notBefore 12 hours before it, through
#                        faketime): inside the default expiring_soon window
#   inter.{key,crt}      "Cross Test Intermediate", signed by new-root
#   leaf.{key,crt}       CN and SAN cross.test, signed by inter, 1 year
#   served.pem           what the server sends after its leaf (s_server
#                        -cert_chain): inter, then cross
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/common.sh"

[ $# -eq 1 ] || die "usage: make-cross-pki.sh DIR"
need_cmd openssl faketime
mkdir -p "$1"
dir=$(cd "$1" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cat >"$work/ext.cnf" <<-EOF
[ ca ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ leaf ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:cross.test
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF

key() { # name
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
		-out "$dir/$1.key" 2>/dev/null
}
root() { # name, CN
	key "$1"
	openssl req -x509 -new -key "$dir/$1.key" -subj "/CN=$2" -days 3650 \
		-set_serial "0x$(openssl rand -hex 8)" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" \
		-out "$dir/$1.crt"
}
# Signs a request for @key's key under @subject with @ca: the extra
# arguments go first (a faketime prefix).
sign() { # out, key, subject, ca, extension section, days, [command prefix...]
	local out=$1 k=$2 subj=$3 ca=$4 ext=$5 days=$6
	shift 6
	openssl req -new -key "$dir/$k.key" -subj "$subj" -out "$work/$out.csr"
	"$@" openssl x509 -req -in "$work/$out.csr" -CA "$dir/$ca.crt" \
		-CAkey "$dir/$ca.key" -set_serial "0x$(openssl rand -hex 8)" \
		-days "$days" -extfile "$work/ext.cnf" -extensions "$ext" \
		-out "$dir/$out.crt" 2>/dev/null
}

root new-root "Cross Test New Root"
root old-root "Cross Test Old Root"
sign cross new-root "/CN=Cross Test New Root" old-root ca 8 faketime -f -12h
key inter
sign inter inter "/CN=Cross Test Intermediate" new-root ca 1825
key leaf
sign leaf leaf "/CN=cross.test" inter leaf 365
cat "$dir/inter.crt" "$dir/cross.crt" >"$dir/served.pem"
openssl verify -CAfile "$dir/new-root.crt" -untrusted "$dir/served.pem" \
	"$dir/leaf.crt" >/dev/null || die "leaf does not verify to new-root"
openssl verify -CAfile "$dir/old-root.crt" -untrusted "$dir/served.pem" \
	"$dir/leaf.crt" >/dev/null || die "leaf does not verify to old-root"
