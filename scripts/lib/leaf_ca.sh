# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# A CA database of our own for leaves signed by a test PKI's intermediate
# (PKI_DIR/inter.{crt,key}) with chosen serials and start dates, which
# `openssl req -x509` cannot set (sourced, not run).

# Creates the database and configuration in CA_DIR.
leaf_ca_init() { # ca_dir
	mkdir -p "$1/new"
	: >"$1/index.txt"
	echo "unique_subject = no" >"$1/index.txt.attr"
	cat >"$1/ca.cnf" <<CNF
[ ca ]
default_ca = this_ca
[ this_ca ]
database = $1/index.txt
new_certs_dir = $1/new
serial = $1/serial
default_md = sha256
default_crl_days = 30
policy = policy_any
unique_subject = no
copy_extensions = none
[ policy_any ]
organizationName = optional
commonName = supplied
CNF
}

# CA_DIR/NAME.{key,crt}: a leaf for DNS name HOST, valid from START
# (UTCTime) to 2045, with a new key of ALGORITHM (genpkey options).
leaf_ca_sign() { # ca_dir pki_dir name host serial start algorithm-options...
	local ca=$1 pki=$2 name=$3 host=$4 serial=$5 start=$6
	shift 6
	cat >"$ca/$name.ext" <<EXT
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = DNS:$host
EXT
	openssl genpkey -quiet "$@" -out "$ca/$name.key"
	openssl req -new -key "$ca/$name.key" -subj "/O=tlswatch test/CN=$host" \
		-out "$ca/$name.csr"
	echo "$serial" >"$ca/serial"
	openssl ca -batch -config "$ca/ca.cnf" -cert "$pki/inter.crt" \
		-keyfile "$pki/inter.key" -in "$ca/$name.csr" -out "$ca/$name.crt" -notext \
		-startdate "$start" -enddate 450101000000Z -extfile "$ca/$name.ext"
}
