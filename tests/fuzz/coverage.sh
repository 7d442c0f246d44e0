#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Coverage of the library under the fuzz corpora: each coverage-built
# fuzzer (make fuzz-coverage) runs every input of tests/fuzz/corpus/<target>/
# and tests/fuzz/regressions/<target>/ once; the profiles are merged and
# llvm-cov reports per file. Also lists, for the parsing code (TLS,
# reassembly, decode), every branch direction never taken, with its source
# line, into $BUILD/fuzz-coverage/uncovered-branches.txt.
# Usage: coverage.sh COVERAGE_FUZZER...
set -u
BUILD=${BUILD:-build}
PROFDATA=${LLVM_PROFDATA:-llvm-profdata}
COV=${LLVM_COV:-llvm-cov}
out=$BUILD/fuzz-coverage
rm -rf "$out" && mkdir -p "$out"
objects=()
for bin in "$@"; do
	name=$(basename "$bin")
	inputs=()
	for d in "tests/fuzz/regressions/$name" "tests/fuzz/corpus/$name"; do
		[ -d "$d" ] || continue
		for f in "$d"/*; do [ -f "$f" ] && inputs+=("$f"); done
	done
	[ ${#inputs[@]} -gt 0 ] || continue
	LLVM_PROFILE_FILE="$out/$name.profraw" "$bin" -timeout=30 "${inputs[@]}" \
		>"$out/$name.log" 2>&1 || { echo "$name failed, see $out/$name.log" >&2; exit 1; }
	objects+=("$bin")
done
"$PROFDATA" merge -sparse "$out"/*.profraw -o "$out/all.profdata" || exit 1
args=("${objects[0]}")
for o in "${objects[@]:1}"; do args+=(-object "$o"); done
parsing=(userspace/tls userspace/flow userspace/capture/decode.c)
"$COV" report -instr-profile="$out/all.profdata" "${args[@]}" userspace/ \
	>"$out/report.txt" || exit 1
"$COV" report -instr-profile="$out/all.profdata" "${args[@]}" "${parsing[@]}"
"$COV" show -instr-profile="$out/all.profdata" "${args[@]}" -show-branches=count \
	-format=text "${parsing[@]}" >"$out/show.txt" || exit 1
# "/path/file.c:" starts a file; "  NN|  code"; "  |  Branch (L:C): [True: 0, False: 3]"
awk '
	/^\/.*\.[ch]:$/ { file = $0; sub(/:$/, "", file); sub(/.*\/userspace\//, "userspace/", file); next }
	/^ *[0-9]+\|/ { n = $0; sub(/\|.*/, "", n); gsub(/ /, "", n); src[n] = $0; sub(/^ *[0-9]+\|[ 0-9.kM]*\|/, "", src[n]); next }
	/Branch \(/ && (/True: 0,/ || /False: 0\]/) {
		loc = $0; sub(/.*Branch \(/, "", loc); sub(/\).*/, "", loc)
		line = loc; sub(/:.*/, "", line)
		never = (/True: 0,/ && /False: 0\]/) ? "never reached" : (/True: 0,/ ? "never true" : "never false")
		code = src[line]; gsub(/^[ \t]+/, "", code)
		printf "%s:%s  %s  %s\n", file, loc, never, code
	}' "$out/show.txt" | sort -u -t: -k1,1 -k2,2n >"$out/uncovered-branches.txt"
echo "full report: $out/report.txt; $(wc -l <"$out/uncovered-branches.txt") uncovered branch directions in the parsing code: $out/uncovered-branches.txt"
