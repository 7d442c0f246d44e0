#!/usr/bin/env bash
# make bench: every benchmark, each writing its own section of BENCHMARKS.md.
set -eu
cd "$(dirname "$0")/.."
for b in scripts/bench-analyze.sh scripts/bench-certs.sh scripts/bench-rejudge.sh scripts/bench-detect.sh scripts/bench-history.sh scripts/bench-supersede.sh scripts/bench-live.sh scripts/bench-uprobes.sh; do
	if [ -x "$b" ]; then
		echo "== $b"
		"$b"
	fi
done
