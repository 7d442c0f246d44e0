# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# A CA database of our own for leaves signed by a test PKI's intermediate
# (PKI_DIR/inter.{crt,key}) with chosen serials and start dates, which
# `openssl req -x509` cannot set (sourced, not run).

# Creates the database and configuration in CA_DIR. With CRL_NUMBER
# (decimal), `openssl ca -gencrl` numbers its CRLs from it (cRLNumber).
# Sections appended to CA_DIR/ca.cnf are what -crlexts names.
leaf_ca_init() { # ca_dir [crl_number]
	local crlnumber=""
	mkdir -p "$1/new"
	: >"$1/index.txt"
	echo "unique_subject = no" >"$1/index.txt.attr"
	if [ $# -ge 2 ]; then
		printf '%X\n' "$2" >"$1/crlnumber"   # openssl ca keeps it in hex
		crlnumber="crlnumber = $1/crlnumber"
	fi
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
$crlnumber
[ policy_any ]
organizationName = optional
commonName = supplied
CNF
}

# CA_DIR/NAME.{key,crt}: a leaf for DNS name HOST, valid from START
# (UTCTime) to 2045, with a new key of ALGORITHM (genpkey options).
# LEAF_CA_EXT=LINES before the call: more extensions (openssl x509v3
# configuration lines), e.g. a crlDistributionPoints.
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
${LEAF_CA_EXT:-}
EXT
	openssl genpkey -quiet "$@" -out "$ca/$name.key"
	openssl req -new -key "$ca/$name.key" -subj "/O=tlswatch test/CN=$host" \
		-out "$ca/$name.csr"
	echo "$serial" >"$ca/serial"
	openssl ca -batch -config "$ca/ca.cnf" -cert "$pki/inter.crt" \
		-keyfile "$pki/inter.key" -in "$ca/$name.csr" -out "$ca/$name.crt" -notext \
		-startdate "$start" -enddate 450101000000Z -extfile "$ca/$name.ext"
}

# OUT (PEM): a CRL of PKI_DIR/inter numbered NUMBER (decimal), from a
# database of its own holding only the revocations given as CERT:REASON
# (any CRLReason `openssl ca -crl_reason` takes, removeFromCRL included).
# EXTS: the body of the CRL extensions section (openssl x509v3
# configuration; more sections may follow), e.g. a deltaCRLIndicator or an
# issuingDistributionPoint; empty for none.
leaf_ca_crl() { # pki_dir out number exts cert:reason...
	local pki=$1 out=$2 number=$3 exts=$4 db rev
	shift 4
	db=$(mktemp -d) || return 1
	leaf_ca_init "$db" "$number"
	printf '[ crlext ]\n%s\n' "$exts" >>"$db/ca.cnf"
	local signer=(-config "$db/ca.cnf" -cert "$pki/inter.crt" -keyfile "$pki/inter.key")
	for rev in "$@"; do
		openssl ca "${signer[@]}" -revoke "${rev%%:*}" -crl_reason "${rev##*:}" \
			2>"$db/log" || { cat "$db/log" >&2; rm -rf "$db"; return 1; }
	done
	openssl ca "${signer[@]}" -gencrl ${exts:+-crlexts crlext} -out "$out" \
		2>"$db/log" || { cat "$db/log" >&2; rm -rf "$db"; return 1; }
	rm -rf "$db"
}
