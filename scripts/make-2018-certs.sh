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
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/leaf_ca.sh"
leaf_ca_init "$ca"
make_leaf() { # name, serial, start
	leaf_ca_sign "$ca" "$pki" "$1" a.test "$2" "$3" \
		-algorithm EC -pkeyopt ec_paramgen_curve:P-256
}
make_leaf A 3006 250101000000Z
make_leaf B 3007 250601000000Z
openssl ca -config "$ca/ca.cnf" -cert "$pki/inter.crt" -keyfile "$pki/inter.key" \
	-revoke "$ca/A.crt" -crl_reason superseded
openssl ca -config "$ca/ca.cnf" -cert "$pki/inter.crt" -keyfile "$pki/inter.key" \
	-gencrl -out "$ca/inter.crl"
