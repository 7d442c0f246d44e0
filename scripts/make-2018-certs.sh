#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The two leaves of the 2018 incident, for the PKI of make-health-pki.sh:
#
#   scripts/make-2018-certs.sh PKI_DIR OUT_DIR
#
# OUT_DIR receives A.{crt,key} (a.test, older: not before 2025-01-01,
# serial 3006), B.{crt,key} (a.test, newer: 2025-06-01, serial 3007), both
# signed by PKI_DIR/inter, and inter.crl, the intermediate's CRL revoking A
# (reason superseded). make-health-pki.sh keeps no leaf keys, so the leaves
# are signed here from a CA database of our own. Test-only keys (EC P-256).
set -eu
pki=$1 ca=$2
mkdir -p "$ca/new"
: >"$ca/index.txt"
echo "unique_subject = no" >"$ca/index.txt.attr"
cat >"$ca/ca.cnf" <<CNF
[ ca ]
default_ca = this_ca
[ this_ca ]
database = $ca/index.txt
new_certs_dir = $ca/new
serial = $ca/serial
default_md = sha256
default_crl_days = 30
policy = policy_any
unique_subject = no
copy_extensions = none
[ policy_any ]
organizationName = optional
commonName = supplied
CNF
cat >"$ca/leaf.ext" <<EXT
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = DNS:a.test
EXT
make_leaf() { # name, serial, start
	openssl genpkey -quiet -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
		-out "$ca/$1.key"
	openssl req -new -key "$ca/$1.key" -subj "/O=tlswatch test/CN=a.test" \
		-out "$ca/$1.csr"
	echo "$2" >"$ca/serial"
	openssl ca -batch -config "$ca/ca.cnf" -cert "$pki/inter.crt" \
		-keyfile "$pki/inter.key" -in "$ca/$1.csr" -out "$ca/$1.crt" -notext \
		-startdate "$3" -enddate 450101000000Z -extfile "$ca/leaf.ext"
}
make_leaf A 3006 250101000000Z
make_leaf B 3007 250601000000Z
openssl ca -config "$ca/ca.cnf" -cert "$pki/inter.crt" -keyfile "$pki/inter.key" \
	-revoke "$ca/A.crt" -crl_reason superseded
openssl ca -config "$ca/ca.cnf" -cert "$pki/inter.crt" -keyfile "$pki/inter.key" \
	-gencrl -out "$ca/inter.crl"
