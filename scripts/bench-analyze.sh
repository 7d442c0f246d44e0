#!/usr/bin/env bash
# Benchmark of `tlswatch analyze` against tshark on the same captures, side
# by side in one run, every tool pinned to one core (taskset), files in the
# page cache. Two captures from scripts/make-bench-capture.py, both built
# from the real handshakes in tests/data/captures:
#   dense: one handshake per ~8 KB (every kind the tests make, chains that
#          verify against tests/data/pki/root.crt, staples), issue 9;
#   bulk:  handshakes mixed into bulk TLS traffic (the >= 1 GB/s target).
# On each: `analyze --json --ca-file ROOT`, `analyze --json`, and tshark
# extracting the same fields. Then peak RSS of tlswatch on dense captures
# of growing size, a perf profile (top entries) of both analyze runs on
# the dense capture, and `analyze --json` against tshark on a smaller dense
# capture wrapped in tunnels and on one with STARTTLS preambles. Writes the
# section "analyze" of BENCHMARKS.md.
#
# Environment:
#   BENCH_DENSE_MB  dense capture size, MB (default 256)
#   BENCH_MB        bulk capture size, MB (default 1024)
#   BENCH_RSS_MB    largest dense capture of the RSS series (default 1024;
#                   the series is a quarter, a half and all of it)
#   BENCH_EDGE_MB   size of the tunnel and STARTTLS inputs (default 32)
#   BENCH_ONLY=tunnels  only those inputs: their subsection of the section
#                   is replaced, the rest left as it is
#   BENCH_RUNS      tlswatch runs per row, the median is reported (default 3)
#   BENCH_TSHARK=0  do not run tshark: reuse its figures from the last run on
#                   the same capture (re-runs after a change), else leave it out
#   BENCH_QUICK=1   quick look: dense 32 MB, bulk 64 MB, RSS series to 128 MB,
#                   tunnels 8 MB, one run each (same tables; do not commit its figures)
#   BENCH_CPU       core to pin to (default 0)
#   BUILD           build directory (default build)
set -eu
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/bench-section.sh
. scripts/lib/bench-section.sh
BUILD=${BUILD:-build}
if [ "${BENCH_QUICK:-0}" = 1 ]; then
	: "${BENCH_DENSE_MB:=32}" "${BENCH_MB:=64}" "${BENCH_RSS_MB:=128}" "${BENCH_RUNS:=1}"
	: "${BENCH_EDGE_MB:=8}"
fi
DENSE_MB=${BENCH_DENSE_MB:-256}
BULK_MB=${BENCH_MB:-1024}
RSS_MB=${BENCH_RSS_MB:-1024}
EDGE_MB=${BENCH_EDGE_MB:-32}
RUNS=${BENCH_RUNS:-3}
TSHARK=${BENCH_TSHARK:-1}
CPU=${BENCH_CPU:-0}
ROOT=tests/data/pki/root.crt
PY=/usr/bin/python3
TW=$BUILD/tlswatch
dir=$BUILD/bench
mkdir -p "$dir"
seeds=()
for f in tests/data/captures/*.pcap; do
	[ "$f" = tests/data/captures/truncated.pcap ] || seeds+=("$f")
done
[ -x "$TW" ] || { echo "bench: $TW missing: run make all" >&2; exit 1; }

capture() { # kind(dense|bulk|starttls) MB -> path (generated once, then reused)
	local kind=$1 mb=$2 flags=() path=$dir/bench-$1-$2m.pcap
	case $kind in
	dense) flags=(--dense) ;;
	starttls) flags=(--dense --starttls) ;;
	esac
	if [ ! -s "$path" ]; then
		echo "bench: generating a $mb MB $kind capture" >&2
		$PY scripts/make-bench-capture.py "${flags[@]}" "$path.tmp" "$mb" "${seeds[@]}" >/dev/null
		mv "$path.tmp" "$path"
	fi
	cat "$path" >/dev/null   # every tool reads from the page cache
	echo "$path"
}

# "$out.time": "wall_s maxrss_kb cpu_s" (cpu: user + system; on a busy
# host the wall time includes waiting for the core, the CPU time does not)
measure() { # out-prefix command...
	local out=$1; shift
	/usr/bin/time -f "%e %M %U %S" -o "$out.time" taskset -c "$CPU" "$@" \
		>"$out.stdout" 2>"$out.stderr"
	awk '{ print $1, $2, $3 + $4 }' "$out.time" >"$out.time.tmp"
	mv "$out.time.tmp" "$out.time"
}

# The run of median wall time over $RUNS runs, the largest peak RSS.
measure_tw() { # out-prefix analyze-args...
	local out=$1 run; shift
	: >"$out.runs"
	for ((run = 0; run < RUNS; run++)); do
		measure "$out" "$TW" analyze --json "$@"
		cat "$out.time" >>"$out.runs"
	done
	sort -n "$out.runs" | awk '{ t[NR] = $1; c[NR] = $3; if ($2 > m) m = $2 }
		END { i = int((NR + 1) / 2); print t[i], m, c[i] }' >"$out.time"
}

tshark_fields() { # pcap out-prefix
	measure "$2" tshark -r "$1" -n \
		-Y 'tls.handshake.type == 1 || tls.handshake.type == 2 || tls.handshake.type == 11 || tls.handshake.type == 22 || tls.alert_message' \
		-T fields -e frame.number -e ip.src -e ipv6.src -e tcp.srcport \
		-e tls.handshake.type -e tls.handshake.extensions_server_name \
		-e tls.handshake.extensions_alpn_str -e tls.handshake.version \
		-e tls.handshake.ciphersuite -e tls.handshake.ja3 \
		-e tls.handshake.certificate -e tls.handshake.ocsp_response_len \
		-e tls.alert_message.desc
}

handshakes_tw() { grep -c '"event":"handshake"' "$1.stdout" || true; }
handshakes_ts() { # ClientHellos: rows whose handshake types include 1
	awk -F'\t' '{ n = split($5, t, ","); for (i = 1; i <= n; i++) if (t[i] == "1") c++ }
		END { print c + 0 }' "$1.stdout"
}

row() { # label prefix size-bytes handshakes -> one markdown table row
	local s kb cpu
	read -r s kb cpu <"$2.time"
	$PY - "$1" "$s" "$kb" "$cpu" "$3" "$4" <<'PY'
import sys
label, s, kb, cpu, size, hs = sys.argv[1:]
s, cpu = max(float(s), 0.001), max(float(cpu), 0.001)
print(f"| {label} | {s:.2f} | {cpu:.2f} | {int(size) / 1e6 / s:.0f} | "
      f"{int(size) / 1e6 / cpu:.0f} | {int(hs)} | {int(hs) / s:.0f} | "
      f"{int(hs) / cpu:.0f} | {int(kb) // 1024} MB |")
PY
}

ratio() { # tshark-prefix tlswatch-prefix -> "61x (CPU 58x)"
	local a b ac bc
	read -r a _ ac <"$1.time"
	read -r b _ bc <"$2.time"
	$PY -c "import sys; w = float(sys.argv[1]) / max(float(sys.argv[2]), 0.001); c = float(sys.argv[3]) / max(float(sys.argv[4]), 0.001); print(f'{w:.0f}x (CPU time {c:.0f}x)')" "$a" "$b" "$ac" "$bc"
}

# tshark on PCAP into PREFIX (BENCH_TSHARK=1), or its last run's figures
# when they are newer than PCAP; 1 when there are none.
tshark_figures() { # pcap prefix what
	if [ "$TSHARK" = 1 ]; then
		echo "bench: $3, tshark (this takes a while)" >&2
		tshark_fields "$1" "$2"
	elif [ -s "$2.time" ] && [ "$2.time" -nt "$1" ]; then
		echo "bench: $3, tshark: the last run's figures on this file" >&2
	fi
	[ -s "$2.time" ] && [ "$2.time" -nt "$1" ]
}

bench_capture() { # kind MB -> table on stdout, ratios in $dir/$kind.ratio
	local kind=$1 pcap size p=$dir/$1-$2m
	pcap=$(capture "$kind" "$2")
	size=$(stat -c %s "$pcap")
	echo "bench: $kind capture, tlswatch" >&2
	measure_tw "$p-ca" --ca-file "$ROOT" "$pcap"
	measure_tw "$p-plain" "$pcap"
	echo "| tool | wall s | CPU s | MB/s | MB/s (CPU) | handshakes | handshakes/s | handshakes/s (CPU) | peak RSS |"
	echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
	row "tlswatch analyze --json --ca-file root.crt" "$p-ca" "$size" "$(handshakes_tw "$p-ca")"
	row "tlswatch analyze --json" "$p-plain" "$size" "$(handshakes_tw "$p-plain")"
	: >"$dir/$kind.ratio"
	if tshark_figures "$pcap" "$p-ts" "$kind capture"; then
		row "tshark (same fields)" "$p-ts" "$size" "$(handshakes_ts "$p-ts")"
		echo "Speed vs tshark: **$(ratio "$p-ts" "$p-ca")** with \`--ca-file\`, $(ratio "$p-ts" "$p-plain") without." >"$dir/$kind.ratio"
		[ "$TSHARK" = 1 ] ||
			echo "(tshark not run again: its figures are from its run of $(date -u -r "$p-ts.time" '+%Y-%m-%d %H:%M UTC') on this file.)" >>"$dir/$kind.ratio"
	fi
	echo
	echo "Capture: $((size / 1000000)) MB, \`$(basename "$pcap")\`. Handshakes: tlswatch's handshake events; tshark's ClientHellos."
}

# Tunnels and STARTTLS preambles: the dense capture of $EDGE_MB MB as it
# is, then with every packet wrapped by tests/e2e/lib/encap.py (the
# tunnels test's) in each of ENCAPS between two outer addresses, and a
# dense capture whose connections open with SMTP's STARTTLS exchange.
ENCAPS=(vxlan gre geneve ipip)
encap_capture() { # layer MB -> path (made once from the dense capture)
	local path=$dir/bench-$1-$2m.pcap src
	src=$(capture dense "$2")
	if [ ! -s "$path" ] || [ "$path" -ot "$src" ]; then
		echo "bench: wrapping the $2 MB dense capture in $1" >&2
		$PY tests/e2e/lib/encap.py "$src" "$path.tmp" "$1" 198.51.100.1 198.51.100.2 \
			--mss 65535 >/dev/null
		mv "$path.tmp" "$path"
	fi
	cat "$path" >/dev/null
	echo "$path"
}

tunnels_table() {
	local name label pcap p tw ts
	echo "| input | size | tlswatch wall s | CPU s | MB/s (CPU) | handshakes | tshark wall s | CPU s | ClientHellos | speed vs tshark |"
	echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
	for name in dense "${ENCAPS[@]}" starttls; do
		case $name in
		dense) pcap=$(capture dense "$EDGE_MB") label="no tunnel (the dense capture)" ;;
		starttls) pcap=$(capture starttls "$EDGE_MB") label="STARTTLS (SMTP, port 587)" ;;
		vxlan) pcap=$(encap_capture "$name" "$EDGE_MB") label="VXLAN (UDP 4789)" ;;
		geneve) pcap=$(encap_capture "$name" "$EDGE_MB") label="Geneve (UDP 6081, an option)" ;;
		*) pcap=$(encap_capture "$name" "$EDGE_MB") label=${name^^} ;;
		esac
		p=$dir/tunnels-$name-${EDGE_MB}m
		echo "bench: $label, tlswatch" >&2
		measure_tw "$p-tw" "$pcap"
		tw="$(cat "$p-tw.time") $(handshakes_tw "$p-tw")"
		ts="- - - -"
		tshark_figures "$pcap" "$p-ts" "$label" &&
			ts="$(cat "$p-ts.time") $(handshakes_ts "$p-ts")"
		$PY - "$label" "$(stat -c %s "$pcap")" $tw $ts <<'PY'
import sys
label, size, s, _, cpu, hs, ts, _, tcpu, ths = sys.argv[1:]
size, s, cpu = int(size), max(float(s), 0.01), max(float(cpu), 0.01)
if ts == "-":
    tshark = "- | - | - | -"
else:
    ts, tcpu = float(ts), float(tcpu)
    tshark = f"{ts:.2f} | {tcpu:.2f} | {ths} | {ts / s:.0f}x (CPU time {tcpu / cpu:.0f}x)"
print(f"| {label} | {size / 1e6:.0f} MB | {s:.2f} | {cpu:.2f} | {size / 1e6 / cpu:.0f} | {hs} | {tshark} |")
PY
	done
}

# The subsection of tunnels_table, with its own load average (it may run
# alone: BENCH_ONLY=tunnels).
tunnels_section() {
	local before after table
	before=$(cut -d' ' -f1-3 /proc/loadavg)
	table=$(tunnels_table)
	after=$(cut -d' ' -f1-3 /proc/loadavg)
	echo "### Tunnels and STARTTLS preambles"
	echo
	echo "The dense capture of $EDGE_MB MB as it is, then each packet wrapped by \`tests/e2e/lib/encap.py\` (the tunnels test's) in one tunnel between two outer addresses, and a dense capture of $EDGE_MB MB whose connections open with SMTP's STARTTLS exchange (\`make-bench-capture.py --dense --starttls\`): README \"Tunnels\" and \"STARTTLS and other upgraded protocols\". \`analyze --json\`, the median of $RUNS run(s), and tshark extracting the same fields as above (it decodes the same tunnels and SMTP's STARTTLS), each pinned to one core; load average $before at the start, $after at the end ($(date -u '+%Y-%m-%d')). At this size tlswatch's times are a few hundredths of a second, about 0.03 s of them its start (the same on a capture of one handshake), and their last digit is the timer's: the MB/s are lower than the dense table's above for that reason, and the ratios to tshark too."
	echo
	echo "$table"
	echo
	echo "Run alone: \`BENCH_ONLY=tunnels scripts/bench-analyze.sh\` (BENCH_EDGE_MB=$EDGE_MB BENCH_RUNS=$RUNS; it replaces this subsection only)."
}

rss_series() { # dense captures of a quarter, a half and all of $RSS_MB
	local mb kb
	echo "| dense capture | handshakes | peak RSS, --ca-file |"
	echo "| --- | --- | --- |"
	for mb in $((RSS_MB / 4)) $((RSS_MB / 2)) "$RSS_MB"; do
		echo "bench: RSS on a $mb MB dense capture" >&2
		measure "$dir/rss$mb" "$TW" analyze --json --ca-file "$ROOT" "$(capture dense "$mb")"
		read -r _ kb _ <"$dir/rss$mb.time"
		echo "| $mb MB | $(handshakes_tw "$dir/rss$mb") | $((kb / 1024)) MB |"
	done
}

# Peak RSS with N handshakes undecided at once: captures of ClientHellos
# that wait (scripts/make-hello-flood.py, from tls12_rsa.pcap: no ALPN),
# against README's "Memory under a flood" (the --handshake-memory budget,
# 64 MiB in analyze, evicts past it). Each run takes about a second.
undecided_series() {
	local n kb path
	echo "| handshakes waiting after their ClientHello | evicted (flows_evicted) | peak RSS |"
	echo "| --- | --- | --- |"
	for n in 1 10000 20000 40000; do
		path=$dir/hello-flood-$n.pcap
		if [ ! -s "$path" ]; then
			$PY scripts/make-hello-flood.py "$path.tmp" "$n" \
				tests/data/captures/tls12_rsa.pcap >/dev/null
			mv "$path.tmp" "$path"
		fi
		echo "bench: RSS with $n undecided handshakes" >&2
		measure "$dir/undecided$n" "$TW" analyze --json "$path"
		read -r _ kb _ <"$dir/undecided$n.time"
		echo "| $n | $(tail -1 "$dir/undecided$n.stdout" | $PY -c 'import json,sys; print(json.load(sys.stdin)["problem_counts"]["flows_evicted"])') | $((kb / 1024)) MB |"
	done
}

# Top entries of a profile of one analyze run: perf (cpu-clock, so it works
# without hardware counters) or, without perf, callgrind on a 16 MB slice.
profile() { # name analyze-args... (the capture last)
	local out=$dir/profile-$1; shift
	if perf record -q -e cpu-clock -o /dev/null true >/dev/null 2>&1; then
		perf record -q -e cpu-clock -F 1999 --call-graph dwarf,16384 -o "$out.data" \
			taskset -c "$CPU" "$TW" analyze --json "$@" >/dev/null 2>&1
		echo "By library (perf report --sort dso):"
		echo
		echo '```'
		perf report -i "$out.data" --stdio --no-children --sort dso -g none 2>/dev/null |
			grep -E '^ +[0-9]' | head -8 | awk '{ print $1, $2 }'
		echo '```'
		echo
		echo "Self (perf report --no-children, cpu-clock):"
		echo
		echo '```'
		perf report -i "$out.data" --stdio --no-children --sort dso,symbol -g none 2>/dev/null |
			grep -E '^ +[0-9]' | head -15 | awk '{ $NF = ""; $(NF - 1) = ""; print }'
		echo '```'
		echo
		echo "Inclusive (perf report --children), the tlswatch functions and the library calls under them:"
		echo
		echo '```'
		perf report -i "$out.data" --stdio --children --sort symbol -g none 2>/dev/null |
			grep -E '^ +[0-9]' | grep -vE '\[k\]|0x0000|0xffff|_start|libc_start|main$|cmd_analyze|analyze_file' |
			head -40 | awk '{ printf "%8s %8s  %s %s\n", $1, $2, $4, ($5 == "(inlined)" ? $5 : "") }'
		echo '```'
		rm -f "$out.data"
	else
		local slice=$dir/profile-slice.pcap
		head -c $((16 << 20)) "${!#}" >"$slice"
		set -- "${@:1:$#-1}" "$slice"
		valgrind --tool=callgrind --callgrind-out-file="$out.cg" \
			"$TW" analyze --json "$@" >/dev/null 2>&1
		echo "callgrind on the first 16 MB (inclusive instructions):"
		echo
		echo '```'
		callgrind_annotate --inclusive=yes "$out.cg" 2>/dev/null | grep -E '^ *[0-9,]+ ' | head -30
		echo '```'
	fi
}

if [ "${BENCH_ONLY:-}" = tunnels ]; then
	md=$dir/analyze-tunnels.md
	tunnels_section >"$md"
	if [ "${BENCH_QUICK:-0}" = 1 ]; then
		echo "bench: quick mode: BENCHMARKS.md left as it is" >&2
	else
		bench_subsections analyze "$md"
	fi
	cat "$md"
	exit 0
fi
[ -z "${BENCH_ONLY:-}" ] || { echo "bench: BENCH_ONLY=$BENCH_ONLY: only 'tunnels' can run alone" >&2; exit 2; }
echo "bench: dense $DENSE_MB MB, bulk $BULK_MB MB, RSS series to $RSS_MB MB, tunnels $EDGE_MB MB, $RUNS run(s)" >&2
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
dense_table=$(bench_capture dense "$DENSE_MB")
bulk_table=$(bench_capture bulk "$BULK_MB")
rss_table=$(rss_series)
undecided_table=$(undecided_series)
tunnels_part=$(tunnels_section)
dense_pcap=$(capture dense "$DENSE_MB")
echo "bench: profiles" >&2
prof_ca=$(profile ca --ca-file "$ROOT" "$dense_pcap")
prof_plain=$(profile plain "$dense_pcap")
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

md=$dir/analyze.md
{
	echo "## analyze: tlswatch vs tshark"
	echo
	echo "One run of \`scripts/bench-analyze.sh\` ($(nproc) CPUs, $(uname -r); load average $load_before at the start, $load_after at the end: other work on the host shows in the wall times, not in the CPU times, user + system): every tool pinned to one core (\`taskset -c $CPU\`), the file in the page cache, tlswatch the median of $RUNS run(s). Captures from scripts/make-bench-capture.py, built from the real handshakes in tests/data/captures (TLS 1.2/1.3, RSA and ECDSA, staples good and revoked, failures and alerts, a big chain, IPv6), each copy a connection of its own (own client address and port); the same few chains repeat, as at an edge. tshark extracts the same fields (addresses, port, SNI, ALPN, version, cipher, JA3, certificates, staple, alerts; \`-Y\` on the handshake messages and alerts)."
	echo
	echo "### Handshake-dense capture (issue 9)"
	echo
	echo "One handshake per ~8 KB; chains verify against tests/data/pki/root.crt. Targets: with \`--ca-file\` at least 50x tshark and 100,000 handshakes/s."
	echo
	echo "$dense_table"
	[ -s "$dir/dense.ratio" ] && { echo; cat "$dir/dense.ratio"; }
	echo
	echo "### Bulk-heavy capture"
	echo
	echo "Long bulk TLS connections with handshakes mixed in. Target: at least 1 GB/s."
	echo
	echo "$bulk_table"
	[ -s "$dir/bulk.ratio" ] && { echo; cat "$dir/bulk.ratio"; }
	echo
	echo "### Peak RSS as the capture grows"
	echo
	echo "Target: flat, under 100 MB at 1 GB."
	echo
	echo "$rss_table"
	echo
	echo "### Peak RSS with handshakes undecided at once"
	echo
	echo "README \"Memory under a flood\": the 64 MiB budget holds about 38,000 waiting ClientHellos without ALPN (1,728 bytes each) before it evicts; the RSS stays within the budget + 24 MiB + 384 bytes per connection of the RSS with one (ClientHellos bring no certificate; new certificates add up to about 80 MiB more, README)."
	echo
	echo "$undecided_table"
	echo
	echo "### Profile: analyze --json --ca-file on the dense capture"
	echo
	echo "$prof_ca"
	echo
	echo "### Profile: analyze --json on the dense capture"
	echo
	echo "$prof_plain"
	echo
	echo "$tunnels_part"
	echo
	echo "Command: \`make bench\` or \`scripts/bench-analyze.sh\` (BENCH_DENSE_MB=$DENSE_MB BENCH_MB=$BULK_MB BENCH_RSS_MB=$RSS_MB BENCH_EDGE_MB=$EDGE_MB BENCH_RUNS=$RUNS). Quick look after a change: \`BENCH_QUICK=1 scripts/bench-analyze.sh\`; without tshark: \`BENCH_TSHARK=0\`."
} >"$md"
if [ "${BENCH_QUICK:-0}" = 1 ]; then
	echo "bench: quick mode: BENCHMARKS.md left as it is" >&2
else
	bench_section analyze "$md"
fi
cat "$md"
