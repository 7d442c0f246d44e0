#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Two leaves for one name, of two key families, for the test PKI of
# make-pki.sh (a dual RSA + ECDSA deployment, and its rollback):
#
#   scripts/make-dual-certs.sh PKI_DIR OUT_DIR
#
# OUT_DIR receives rsa.{crt,key} (dual.test, RSA-2048, the older: not
# before 2025-01-01, serial 3101), ecdsa.{crt,key} (dual.test, EC P-256,
# the newer: 2025-06-01, serial 3102) and ed25519.{crt,key} (dual.test,
# Ed25519, in between: 2025-03-01, serial 3103), all signed by
# PKI_DIR/inter and valid until 2045. Test-only keys.
set -eu
pki=$1 ca=$2
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/leaf_ca.sh"
leaf_ca_init "$ca"
leaf_ca_sign "$ca" "$pki" rsa dual.test 3101 250101000000Z \
	-algorithm RSA -pkeyopt rsa_keygen_bits:2048
leaf_ca_sign "$ca" "$pki" ecdsa dual.test 3102 250601000000Z \
	-algorithm EC -pkeyopt ec_paramgen_curve:P-256
leaf_ca_sign "$ca" "$pki" ed25519 dual.test 3103 250301000000Z -algorithm ED25519
