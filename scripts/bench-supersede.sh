#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Benchmark of the superseded judgement with the inventory (issue 11):
# microseconds per handshake through supersede_judge() + inventory_record()
# for one leaf, a dual RSA + ECDSA deployment, and a recorded rollback, in
# memory and with an inventory file. Builds tests/bench/bench_supersede.c
# against build/libtlswatch.a, pins it to CPU 0, prints the numbers and
# writes the "supersede" section of BENCHMARKS.md.
# BENCH_SUPERSEDE_HANDSHAKES (default 1000000) sets the handshakes per
# workload.
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
N=${BENCH_SUPERSEDE_HANDSHAKES:-1000000}

bin=$BUILD/bench/bench_supersede
# shellcheck source=scripts/lib/bench-build.sh
. scripts/lib/bench-build.sh
bench_build tests/bench/bench_supersede.c "$bin"

pin=""
command -v taskset >/dev/null && pin="taskset -c 0"
mem=$BUILD/bench/supersede-memory.txt
file=$BUILD/bench/supersede-file.txt
db=$BUILD/bench/supersede.db
echo "bench: superseded judgement, $N handshakes per workload"
$pin "$bin" "$N" | tee "$mem"
$pin "$bin" "$N" "$db" | tee "$file"
rm -f "$db" "$db-wal" "$db-shm"

# shellcheck source=scripts/lib/bench-section.sh
. scripts/lib/bench-section.sh
report=$(mktemp)
trap 'rm -f "$report"' EXIT
{
	echo "## superseded judgement (scripts/bench-supersede.sh)"
	echo
	echo "Each handshake: supersede_judge() then inventory_record(), as the health"
	echo "checker makes them, one name and address, one core"
	echo "($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'))."
	echo "single: one leaf; dual: an RSA and a newer ECDSA leaf side by side, each to"
	echo "the clients asking for it; rollback: the RSA leaf alone after the ECDSA one,"
	echo "to clients preferring ECDSA and RSA-only ones in turn (recorded once, then"
	echo "asked of SQLite on each handshake)."
	echo
	echo "| workload | inventory | handshakes | µs per handshake | superseded |"
	echo "| --- | --- | ---: | ---: | ---: |"
	for f in "$mem" "$file"; do
		where=memory
		[ "$f" = "$file" ] && where=file
		awk -v where="$where" '{ for (i = 1; i < NF; i++) v[$i] = $(i + 1);
		       printf "| %s | %s | %d | %.2f | %d |\n", $1, where, v["handshakes"],
		              v["us/handshake"], v["superseded"] }' "$f"
	done
} >"$report"
bench_section supersede "$report"
