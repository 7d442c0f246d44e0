# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# Shell helpers shared by the fixture scripts (sourced, not run).

# Prints a message naming the script and exits non-zero.
die() {
	echo "${0##*/}: $*" >&2
	exit 1
}

# Fails early, with the package to install, when a tool is missing.
need_cmd() { # command...
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 ||
			die "missing command '$c' (run scripts/install-deps.sh)"
	done
}

# SHA-256 (lowercase hex) of a PEM certificate's DER encoding: the
# fingerprint tlswatch must print.
cert_sha256() { # pem
	openssl x509 -in "$1" -outform DER | sha256sum | cut -d' ' -f1
}

# SHA-256 of the DER SubjectPublicKeyInfo.
cert_spki_sha256() { # pem
	openssl x509 -in "$1" -noout -pubkey |
		openssl pkey -pubin -outform DER | sha256sum | cut -d' ' -f1
}

# Serial as events.md wants it: lowercase hex without leading zeros.
cert_serial() { # pem
	local s
	s=$(openssl x509 -in "$1" -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f')
	s=$(printf '%s' "$s" | sed 's/^0*//')
	printf '%s\n' "${s:-0}"
}

# notBefore / notAfter as "2026-11-23T08:30:01Z".
cert_date() { # pem, startdate|enddate
	local d
	d=$(openssl x509 -in "$1" -noout "-$2" | cut -d= -f2)
	date -u -d "$d" +%Y-%m-%dT%H:%M:%SZ
}
