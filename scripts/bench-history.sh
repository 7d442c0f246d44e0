#!/usr/bin/env bash
# Benchmark of the agent's event history sink (sink/history.c): handshake
# events per second through it, with the once-a-second write to a real
# SQLite file, and how fast that file grows. Builds
# tests/bench/bench_history.c against build/libtlswatch.a with the
# Makefile's flags, pins it to CPU 0, prints the numbers and writes the
# "history" section of BENCHMARKS.md.
# BENCH_HISTORY_SECONDS (default 300) simulated seconds, BENCH_HISTORY_RATE
# (default 50000) handshakes per simulated second.
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
SECONDS_RUN=${BENCH_HISTORY_SECONDS:-300}
RATE=${BENCH_HISTORY_RATE:-50000}

bin=$BUILD/bench/bench_history
# shellcheck source=scripts/lib/bench-build.sh
. scripts/lib/bench-build.sh
bench_build tests/bench/bench_history.c "$bin"

dir=$(mktemp -d)
report=$(mktemp)
trap 'rm -rf "$dir" "$report"' EXIT
out=$BUILD/bench/history.txt
pin=""
command -v taskset >/dev/null && pin="taskset -c 0"
echo "bench: event history sink, $SECONDS_RUN s at $RATE handshakes/s"
$pin "$bin" "$dir/history.db" "$SECONDS_RUN" "$RATE" | tee "$out"

# shellcheck source=scripts/lib/bench-section.sh
. scripts/lib/bench-section.sh
{
	echo "## event history (scripts/bench-history.sh)"
	echo
	echo "Handshake events through a sink set holding only the history sink, one"
	echo "core ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')),"
	echo "$RATE handshakes a simulated second for $SECONDS_RUN s: 60 names, 200 JA4s, a"
	echo "leaf per name changing every 300 s, 5 % failing with an alert; a tick"
	echo "each simulated second writes it to a SQLite file in $(dirname "$dir")."
	echo "Target: the agent follows 50,000 handshakes/s. Growth: the database's"
	echo "pages in use over the second half of the run, per second; times"
	echo "86,400 for the 24 h the history keeps."
	echo
	echo "| handshakes | handshakes/s (wall) | handshakes/s (CPU) | write median | write max | growth per s | 24 h |"
	echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
	awk '{ for (i = 1; i < NF; i++) v[$i] = $(i + 1);
	       printf "| %d | %.0f | %.0f | %.2f ms | %.2f ms | %.0f B | %.1f MB |\n",
	              v["handshakes"], v["handshakes/s"], v["cpu_handshakes/s"],
	              v["write_median_ms"], v["write_max_ms"], v["bytes_per_s"],
	              v["bytes_24h"] / 1e6 }' "$out"
} >"$report"
bench_section history "$report"
