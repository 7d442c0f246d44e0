#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A fuzzing campaign: each fuzzer (all of build/fuzz/, or the names given)
# runs SECONDS over a scratch copy of its committed corpus
# (tests/fuzz/corpus/<target>/), at the lowest CPU priority, one process.
# Afterwards the inputs that reached new coverage are merged into the
# committed corpus (libFuzzer -merge=1: only what adds features is copied,
# the hand-named seeds stay), and a crash, leak or timeout is copied to
# tests/fuzz/regressions/<target>/, which tests/fuzz/replay.sh runs in
# `make test`. One Markdown table row per target goes to stdout (the
# format of FUZZING.md); libFuzzer's logs stay in $BUILD/fuzz-campaign/.
#
# Usage: campaign.sh SECONDS [TARGET...]
# FUZZ_RUNS=N: stop a target after N executions (SECONDS still bounds it).
# Exit status: 0, or 1 when a target found something (or did not run).
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
secs=${1:?usage: campaign.sh SECONDS [TARGET...]}
shift
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
	for f in "$BUILD"/fuzz/fuzz_*; do
		[ -x "$f" ] && targets+=("$(basename "$f")")
	done
fi
out=$BUILD/fuzz-campaign
mkdir -p "$out"
status=0

# "#123 DONE cov: 1 ft: 2 corp: 3/4b ..." -> the value after @1
final_field() { # log, field
	grep -E '^#[0-9]+' "$1" | tail -1 | sed -n "s/.* $2: \([^ ]*\).*/\1/p"
}
stat_field() { # log, stat name
	sed -n "s/^stat::$2: *//p" "$1" | tail -1
}

run_target() { # name
	local name=$1 bin=$BUILD/fuzz/$1 seeds=tests/fuzz/corpus/$1
	local work=$out/$1 log=$out/$1.log rc
	rm -rf "$work" && mkdir -p "$work/corpus" "$work/artifacts" "$seeds"
	nice -n 19 "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$work/artifacts/" ${FUZZ_RUNS:+-runs=$FUZZ_RUNS} \
		"$work/corpus" "$seeds" >"$log" 2>&1
	rc=$?
	if ls "$work"/artifacts/* >/dev/null 2>&1; then
		mkdir -p "tests/fuzz/regressions/$name"
		cp "$work"/artifacts/* "tests/fuzz/regressions/$name/"
		echo "$name: found $(ls "$work/artifacts" | tr '\n' ' ')(copied to tests/fuzz/regressions/$name/)" >&2
		status=1
	elif [ "$rc" -ne 0 ]; then
		echo "$name: exit status $rc, see $log" >&2
		status=1
	fi
	nice -n 19 "$bin" -merge=1 "$seeds" "$work/corpus" >"$out/$1.merge.log" 2>&1 ||
		echo "$name: merge failed, see $out/$1.merge.log" >&2
	printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$name" "$secs" \
		"$(stat_field "$log" number_of_executed_units)" \
		"$(stat_field "$log" average_exec_per_sec)" \
		"$(final_field "$log" cov)" "$(final_field "$log" ft)" \
		"$(ls "$seeds" | wc -l)" "$(cat "$seeds"/* | wc -c)"
}

echo "| target | seconds | executions | exec/s | cov (edges) | ft (features) | corpus files | corpus bytes |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
for t in "${targets[@]}"; do
	if [ ! -x "$BUILD/fuzz/$t" ]; then
		echo "$t: no $BUILD/fuzz/$t (make fuzz-build)" >&2
		status=1
		continue
	fi
	run_target "$t"
done
exit $status
