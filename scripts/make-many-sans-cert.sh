#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A self-signed certificate with many DNS names, the kind that makes a
# Certificate message larger than tlswatch's 256 KiB per-message cap (real
# certificates with 10,000 names reach 340 KB).
#
#   scripts/make-many-sans-cert.sh N NAME DIR
#
# Writes DIR/NAME.key (EC P-256, test-only) and DIR/NAME.crt, subject
# CN=NAME, SANs NAME then N-1 names "sNNNNN-subject-alternative.NAME"
# (about 34 bytes of DER each, so 10000 give about 340 KB). The names go
# through a configuration file: a command line could not hold them.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/common.sh"

[ $# -eq 3 ] || die "usage: make-many-sans-cert.sh N NAME DIR"
need_cmd openssl awk
n=$1 name=$2 dir=$3
case $n in '' | *[!0-9]*) die "N must be a number, not '$n'" ;; esac
[ "$n" -ge 1 ] && [ "$n" -le 100000 ] || die "N must be 1 .. 100000"
mkdir -p "$dir"
conf=$(mktemp)
trap 'rm -f "$conf"' EXIT

{
	printf '[req]\ndistinguished_name = dn\nprompt = no\nx509_extensions = ext\n'
	printf '[dn]\nCN = %s\n' "$name"
	printf '[ext]\nsubjectAltName = @san\nbasicConstraints = critical,CA:FALSE\n'
	printf '[san]\nDNS.1 = %s\n' "$name"
	awk -v n="$n" -v name="$name" 'BEGIN {
		for (i = 2; i <= n; i++)
			printf "DNS.%d = s%05d-subject-alternative.%s\n", i, i, name
	}'
} >"$conf"
openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$dir/$name.key" -out "$dir/$name.crt" -days 3650 \
	-config "$conf" 2>/dev/null || die "openssl req failed for $name"
