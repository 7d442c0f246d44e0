#!/usr/bin/env bash
# Benchmark of the spike detector alone (issue 5): handshake records per
# second through spike_detector_add() + advance() on one core, and its
# memory at high cardinality. Builds tests/bench/bench_detect.c against
# build/libtlswatch.a with the Makefile's flags, pins it to CPU 0, prints
# the numbers and writes the "detect" section of BENCHMARKS.md.
# BENCH_DETECT_RECORDS (default 5000000) sets the records per workload.
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
N=${BENCH_DETECT_RECORDS:-5000000}

bin=$BUILD/bench/bench_detect
# shellcheck source=scripts/lib/bench-build.sh
. scripts/lib/bench-build.sh
bench_build tests/bench/bench_detect.c "$bin"

out=$BUILD/bench/detect.txt
pin=""
command -v taskset >/dev/null && pin="taskset -c 0"
echo "bench: spike detector, $N records per workload"
$pin "$bin" "$N" | tee "$out"

# shellcheck source=scripts/lib/bench-section.sh
. scripts/lib/bench-section.sh
report=$(mktemp)
trap 'rm -f "$report"' EXIT
{
	echo "## spike detector (scripts/bench-detect.sh)"
	echo
	echo "Records through spike_detector_add() plus an advance() every 1,000, one"
	echo "core ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')),"
	echo "inputs generated beforehand; target >= 1,000,000 records/s."
	echo "10,000 handshakes per simulated second. edge: 10,000 names (skewed),"
	echo "500 JA4s, 5 % failing, one name failing 30 % for 10 s every 50 s;"
	echo "flood: every record a new name, leaf and JA4 (three replacements per"
	echo "record); spiky: edge with the whole site failing 40 % for 20 s every 100 s."
	echo "Detector memory: its own accounting (spike_memory_bound()); heap growth:"
	echo "mallinfo2 over the run; peak RSS includes the ~170 MB of pre-generated"
	echo "inputs. CPU records/s use the thread's CPU time (steadier on a busy host)."
	echo
	echo "| workload | records | records/s (wall) | records/s (CPU) | events | detector memory | heap growth | peak RSS |"
	echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
	awk '{ for (i = 1; i < NF; i++) v[$i] = $(i + 1);
	       printf "| %s | %d | %.0f | %.0f | %d | %.2f MiB | %.2f MiB | %.0f MiB |\n",
	              $1, v["records"], v["records/s"], v["cpu_records/s"], v["events"],
	              v["detector_bytes"] / 1048576, v["heap_growth"] / 1048576,
	              v["maxrss_kb"] / 1024 }' "$out"
} >"$report"
bench_section detect "$report"
