#!/usr/bin/env bash
# Installs the Debian packages tlswatch needs to build, test and demo, when
# any is missing. Needs root (apt-get); prints what it installs.
set -eu
# What a plain `make` needs is listed once, in build-deps.txt.
mapfile -t pkgs < <(awk '!/^(#|$)/ { print $1 }' "$(dirname "$0")/build-deps.txt")
# Sanitizer and fuzzer builds, the tests and the demo; the Debian packaging
# and its test (tests/e2e/install.sh): debhelper, lintian, fakeroot;
# python3-seccomp and systemd (systemd-analyze) for tests/e2e/live_hardened.sh.
# python3-cryptography for tests/e2e/starttls.sh (a client that opens
# with an SSLv2-compatible hello); faketime (libfaketime) for
# tests/e2e/clock_jumps.sh; valgrind for
# tests/e2e/valgrind.sh; nginx-light for tests/e2e/live_dual_cert.sh,
# tests/e2e/live_uprobes_nginx.sh and scripts/bench-uprobes.sh;
# e2fsprogs (mkfs.ext4, e2fsck) and mount (losetup, findmnt) for the file
# system that turns read-only in tests/e2e/live_disk.sh; strace for
# tests/e2e/analyze_db_once.sh (how often the database file is opened).
pkgs+=(llvm libclang-rt-14-dev openssl tcpdump tshark iproute2 procps python3 python3-jsonschema python3-seccomp python3-cryptography systemd
       sqlite3 iperf3 curl prometheus prometheus-alertmanager
       dpkg-dev debhelper fakeroot lintian logrotate groff-base man-db
       faketime valgrind nginx-light e2fsprogs mount strace)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "tlswatch: missing packages: ${missing[*]}; run as root or install them" >&2
	exit 1
fi
echo "tlswatch: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
