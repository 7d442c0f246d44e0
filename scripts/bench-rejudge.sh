#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The agent's event loop when online answers come in one at a time for the
# cert events waiting on them: tests/bench/bench_rejudge.c has 4,096 cert
# events wait on LEAVES distinct leaves (their OCSP responder the
# benchmark's own socket), answers one query at a time and drains each
# answer, as the agent does. An answer must judge again only the events
# waiting on it: 4,096 re-judgements in all, whatever LEAVES. Writes the
# "rejudge" section of BENCHMARKS.md. BENCH_REJUDGE_LEAVES (default 256, at
# most 256) sets the leaves.
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
LEAVES=${BENCH_REJUDGE_LEAVES:-256}

bin=$BUILD/bench/bench_rejudge
# shellcheck source=scripts/lib/bench-build.sh
. scripts/lib/bench-build.sh
bench_build tests/bench/bench_rejudge.c "$bin"

pin=""
command -v taskset >/dev/null && pin="taskset -c 0"
out=$BUILD/bench/rejudge.txt
echo "bench: 4096 waiting cert events, $LEAVES leaves"
$pin "$bin" "$LEAVES" | tee "$out"
# "waits W leaves L answers A settled S rejudgements R drain_cpu_s C"
read -r _ waits _ leaves _ answers _ settled _ rejudged _ cpu <"$out"
if [ "$answers" != "$leaves" ] || [ "$settled" != "$waits" ]; then
	echo "bench-rejudge: $answers answers of $leaves, $settled waits settled of $waits" >&2
	exit 1
fi

# shellcheck source=scripts/lib/bench-section.sh
. scripts/lib/bench-section.sh
report=$(mktemp)
trap 'rm -f "$report"' EXIT
{
	echo "## re-judging waiting cert events (scripts/bench-rejudge.sh)"
	echo
	echo "Cert events waiting for online answers (tests/bench/bench_rejudge.c: the"
	echo "most that wait, spread over distinct leaves whose OCSP responder is the"
	echo "benchmark's socket), answered one query at a time, each answer drained as"
	echo "the agent's event loop drains it; the CPU time is the drains' (the owner"
	echo "thread's). An answer judges again only the events waiting on it: the"
	echo "re-judgements equal the waits. Before that index, every answer judged all"
	echo "4,096 again (572,032-746,720 re-judgements, 0.85-1.18 s with 256 leaves)."
	echo
	echo "| waiting | leaves | answers | settled | re-judgements | drain CPU (s) |"
	echo "| ---: | ---: | ---: | ---: | ---: | ---: |"
	echo "| $waits | $leaves | $answers | $settled | $rejudged | $cpu |"
	echo
	echo "Command: \`make bench\` or \`scripts/bench-rejudge.sh\` (BENCH_REJUDGE_LEAVES=$LEAVES), $(date -u '+%Y-%m-%d %H:%M') UTC,"
	echo "$(nproc) CPUs, load average when it ended: $(cut -d' ' -f1-3 /proc/loadavg)."
} >"$report"
bench_section rejudge "$report"
