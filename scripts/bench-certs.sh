#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Memory when every handshake serves a new certificate (a server minting
# one per connection: the agent judges the host's own connections to any
# :443 server): tests/bench/bench_certs.c judges N distinct leaves through
# a pipeline and prints the RSS at doubling checkpoints. It must level off:
# the cache holds 4,096 certificates, the cert events' memory is reset at
# 65,536 tuples, the distinct counts are exact to 65,536 then estimated in
# fixed memory. Writes the "certs" section of BENCHMARKS.md.
# BENCH_CERTS (default 200000) sets the certificates judged.
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
N=${BENCH_CERTS:-200000}

bin=$BUILD/bench/bench_certs
# shellcheck source=scripts/lib/bench-build.sh
. scripts/lib/bench-build.sh
bench_build tests/bench/bench_certs.c "$bin"

pin=""
command -v taskset >/dev/null && pin="taskset -c 0"
out=$BUILD/bench/certs.txt
echo "bench: $N distinct certificates"
$pin "$bin" "$N" | tee "$out"

# shellcheck source=scripts/lib/bench-section.sh
. scripts/lib/bench-section.sh
report=$(mktemp)
trap 'rm -f "$report"' EXIT
{
	echo "## distinct certificates (scripts/bench-certs.sh)"
	echo
	echo "A new leaf certificate on every handshake (tests/bench/bench_certs.c: one"
	echo "signed template, a serial each), judged by a pipeline without sinks as the"
	echo "agent judges its host's connections; RSS at doubling checkpoints. Before the"
	echo "bound the certificate cache kept every certificate (the audit's repro: 105 MB"
	echo "after 20,000, ~4.9 KB each, linear). The rise to 100,000 is what is kept"
	echo "per (name, address, port, leaf) - the cert events said (65,536) and the"
	echo "hostname verdicts (65,536) - each reset at its bound: it levels off there."
	echo
	echo "| certificates judged | live cache entries | \`certificates\` | RSS (MB) |"
	echo "| ---: | ---: | ---: | ---: |"
	awk 'NR > 1 { printf "| %d | %d | %d | %.1f |\n", $1, $2, $3, $4 / 1024 }' "$out"
	echo
	echo "Command: \`make bench\` or \`scripts/bench-certs.sh\` (BENCH_CERTS=$N), $(date -u '+%Y-%m-%d %H:%M') UTC,"
	echo "$(nproc) CPUs, load average when it ended: $(cut -d' ' -f1-3 /proc/loadavg)."
} >"$report"
bench_section certs "$report"
