#!/usr/bin/env bash
# Installs the Debian packages tlswatch needs to build, test and demo, when
# any is missing. Needs root (apt-get); prints what it installs.
set -eu
pkgs=(build-essential clang llvm pkg-config libbpf-dev libelf-dev zlib1g-dev
      libpcap-dev libssl-dev libsqlite3-dev libcurl4-openssl-dev
      libmicrohttpd-dev libclang-rt-14-dev bpftool openssl tcpdump tshark
      iproute2 procps python3 sqlite3 iperf3 curl prometheus chromium
      prometheus-alertmanager)
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
