# SPDX-License-Identifier: MIT
# Shared helpers for the live end-to-end tests and the live benchmark
# (sourced, not run: this file is deliberately not executable, so
# tests/run.sh does not take it for a test).
#
#   . tests/e2e/lib_netns.sh
#   tn_require_root "live_agree"
#   tn_setup agr              # netns + veth pair, addresses (cleanup: trap)
#   tn_bg PID                 # a process to stop on exit
#   ...                       # traffic to/from "$TN_PEER4" / "$TN_PEER6"
#
# Everything is named after the caller's pid ($$), so concurrent runs do not
# collide, and everything created is removed by tn_cleanup, which runs on
# every exit (normal, error, SIGINT, SIGTERM). Every wait is bounded.
#
# Addresses: the host end of the veth is $TN_HOST4 / $TN_HOST6, the
# namespace end $TN_PEER4 / $TN_PEER6 (more with tn_peer_addr N). The
# subnet is picked from $$ in 10.200.0.0 - 10.249.255.255 (skipping
# 10.213, the demo's), so it only ever names addresses of namespaces this
# script made.

TN_NS='' TN_HOST_IF='' TN_PEER_IF=''
TN_HOST4='' TN_PEER4='' TN_HOST6='' TN_PEER6=''
TN_NET4='' TN_NET6=''
TN_AGENT_PID='' TN_TCPDUMP_PID='' TN_TCPDUMP_DROPS='' TN_SERVER_PID=''
TN_PIDS=()
TN_TMP=
TN_CLEANUP_HOOKS=()
TN_FAILED=0
TN_TESTS=0
TN_CHECK_EVENTS=1   # 0: cleanup does not validate the events left (benchmarks)

# Cleanup runs on every exit from the moment this file is sourced.
trap tn_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- TAP -------------------------------------------------------------------

tap_ok() { # description
	TN_TESTS=$((TN_TESTS + 1))
	echo "ok - $*"
}

tap_fail() { # description [detail lines on stderr-like comment lines]
	TN_TESTS=$((TN_TESTS + 1))
	TN_FAILED=$((TN_FAILED + 1))
	echo "not ok - $1"
	shift
	local l
	for l in "$@"; do
		printf '%s\n' "$l" | sed 's/^/#   /'
	done
}

# tap_check DESCRIPTION COMMAND...: ok if COMMAND succeeds; its output is
# shown as TAP comments when it fails.
tap_check() {
	local desc=$1 out
	shift
	if out=$("$@" 2>&1); then
		tap_ok "$desc"
	else
		tap_fail "$desc" "$out"
	fi
}

tap_eq() { # description, expected, actual
	if [ "$2" = "$3" ]; then
		tap_ok "$1"
	else
		tap_fail "$1" "expected: $2" "got:      $3"
	fi
}

# A fatal setup problem: one "not ok" line, then exit (cleanup runs).
tn_bail() {
	tap_fail "$*"
	exit 1
}

tn_note() {
	printf '# %s\n' "$*"
}

# --- preconditions ---------------------------------------------------------

# Not root: report a skip (TAP "# SKIP") and stop.
tn_require_root() { # test name
	if [ "$(id -u)" -ne 0 ]; then
		echo "ok - $1 # SKIP needs root (network namespaces, eBPF)"
		exit 0
	fi
}

tn_require_cmds() { # command...
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 ||
			tn_bail "missing command '$c' (run scripts/install-deps.sh)"
	done
}

# The tool must be built: a clear "not ok" otherwise.
tn_require_tlswatch() {
	[ -x "${BUILD:-build}/tlswatch" ] || tn_bail "${BUILD:-build}/tlswatch is not built (run make)"
}

# The test PKI of scripts/make-pki.sh in DIR; its log is shown on failure.
tn_make_pki() { # dir
	scripts/make-pki.sh "$1" >"$1.log" 2>&1 ||
		{ sed 's/^/#   /' "$1.log"; tn_bail "scripts/make-pki.sh failed"; }
}

# openssl s_server in the namespace on $TN_PEER4:443 with the rsa.test
# certificate of the test PKI in DIR (tn_make_pki); its log in DIR.server.log.
tn_start_rsa_server() { # pki dir
	ip netns exec "$TN_NS" openssl s_server -quiet -www -accept "$TN_PEER4:443" \
		-cert "$1/rsa.test.crt" -key "$1/rsa.test.key" >"$1.server.log" 2>&1 &
	tn_bg $!
	tn_wait_listen 10 443 || tn_bail "openssl s_server did not start"
}

# One TLS 1.2 handshake with that server, SNI rsa.test, and a GET.
tn_rsa_handshake() {
	printf 'GET / HTTP/1.0\r\n\r\n' | timeout 5 openssl s_client -connect "$TN_PEER4:443" \
		-servername rsa.test -tls1_2 >/dev/null 2>&1
}

# --- cleanup ---------------------------------------------------------------

# Registers a background process (by pid) to stop on exit.
tn_bg() { # pid
	TN_PIDS+=("$1")
}

# Registers a command to run on exit, before the namespace goes.
tn_on_exit() { # shell command string
	TN_CLEANUP_HOOKS+=("$1")
}

# Stops one process: SIGTERM, up to ~5 s, then SIGKILL. Only our own pids.
tn_stop_pid() { # pid [signal]
	local pid=$1 sig=${2:-TERM} i
	[ -n "$pid" ] || return 0
	kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
	kill "-$sig" "$pid" 2>/dev/null
	for i in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null
	return 0
}

tn_cleanup() {
	local rc=$? h p
	trap - EXIT INT TERM
	# before the hooks: prom_cleanup removes the webhook receiver's log
	[ -n "${HOOK_OUT:-}" ] && tn_check_events "$HOOK_OUT" "the webhook bodies of this test"
	for h in "${TN_CLEANUP_HOOKS[@]}"; do
		eval "$h" >/dev/null 2>&1
	done
	for p in "${TN_PIDS[@]}"; do
		tn_stop_pid "$p"
	done
	if [ -n "$TN_NS" ] && ip netns pids "$TN_NS" >/dev/null 2>&1; then
		tn_ns_del "$TN_NS"    # takes the peer end along
	fi
	[ -n "$TN_HOST_IF" ] && ip link del "$TN_HOST_IF" 2>/dev/null
	tn_check_events "${TMPDIR:-/tmp}/tlswatch-e2e.$$"
	rm -rf "${TMPDIR:-/tmp}/tlswatch-e2e.$$"
	if [ "$rc" -eq 0 ] && [ "$TN_FAILED" -ne 0 ]; then
		rc=1
	fi
	exit "$rc"
}

# Deletes network namespace NS, killing first what still runs inside: a
# namespace a test made runs only what the test started there. A veth end
# inside goes with it.
tn_ns_del() { # namespace
	local p i
	for i in 1 2 3; do
		p=$(ip netns pids "$1" 2>/dev/null)
		[ -z "$p" ] && break
		# shellcheck disable=SC2086 # one word per pid
		kill -KILL $p 2>/dev/null
		sleep 0.2
	done
	ip netns del "$1" 2>/dev/null
}

# The JSON events in a directory or file must validate against
# docs/events.schema.json: one check, when there are any. tn_cleanup runs
# it on the webhook receiver's log (before the hooks remove it) and on the
# scratch directory (agent logs, analyze output; once every process of the
# test stopped).
tn_check_events() { # dir or file, [what they hold]
	local out
	[ "$TN_CHECK_EVENTS" = 1 ] && [ -e "$1" ] || return 0
	out=$(/usr/bin/python3 tests/e2e/lib/check_events.py --tap ${2:+--what "$2"} "$1") ||
		TN_FAILED=$((TN_FAILED + 1))
	[ -z "$out" ] || { TN_TESTS=$((TN_TESTS + 1)); echo "$out"; }
}

# A scratch directory removed on exit. Named after $$ (the same in a
# subshell), so `tmp=$(tn_tmpdir)` works and cleanup still finds it.
tn_tmpdir() {
	TN_TMP=${TMPDIR:-/tmp}/tlswatch-e2e.$$
	mkdir -p -m 700 "$TN_TMP" || tn_bail "cannot create $TN_TMP"
	echo "$TN_TMP"
}

# The checks a live test with the test PKI starts with: root, COMMANDS,
# the built tool; then its scratch directory in $tmp and the PKI of
# scripts/make-pki.sh in $pki.
tn_begin_with_pki() { # test name, commands...
	local name=$1
	shift
	tn_require_root "$name"
	tn_require_cmds "$@"
	tn_require_tlswatch
	tmp=$(tn_tmpdir)
	pki=$tmp/pki
	tn_make_pki "$pki"
}

# --- network ---------------------------------------------------------------

# Namespace "tw-TAG-$$" and veth "TAGh$$" (host) / "TAGn$$" (namespace),
# IPv4 /28 and IPv6 /64 (nodad: usable at once), lo up inside. TAG: at
# most 4 characters (interface names are at most 15).
tn_setup() { # tag
	local tag=$1 o2 o3
	o2=$((200 + ($$ / 256) % 50))
	[ "$o2" -eq 213 ] && o2=214
	o3=$(($$ % 256))
	TN_NS=tw-$tag-$$
	TN_HOST_IF=${tag}h$$
	TN_PEER_IF=${tag}n$$
	TN_NET4=10.$o2.$o3
	# the fourth group is never 0, so the text form is already RFC 5952's
	TN_NET6=fd74:7477:$o2:$(printf %x $((0x100 + o3)))
	TN_HOST4=$TN_NET4.1
	TN_PEER4=$TN_NET4.2
	TN_HOST6=$TN_NET6::1
	TN_PEER6=$TN_NET6::2
	ip netns add "$TN_NS" || tn_bail "cannot create network namespace $TN_NS"
	ip link add "$TN_HOST_IF" type veth peer name "$TN_PEER_IF" netns "$TN_NS" ||
		tn_bail "cannot create veth $TN_HOST_IF"
	ip addr add "$TN_HOST4/28" dev "$TN_HOST_IF" &&
	ip -6 addr add "$TN_HOST6/64" dev "$TN_HOST_IF" nodad &&
	ip link set "$TN_HOST_IF" up &&
	ip -n "$TN_NS" link set lo up &&
	ip -n "$TN_NS" addr add "$TN_PEER4/28" dev "$TN_PEER_IF" &&
	ip -n "$TN_NS" -6 addr add "$TN_PEER6/64" dev "$TN_PEER_IF" nodad &&
	ip -n "$TN_NS" link set "$TN_PEER_IF" up ||
		tn_bail "cannot configure veth $TN_HOST_IF / $TN_PEER_IF"
	# both ends up: carrier on the host end (the peer came up last)
	tn_wait_cmd 5 sh -c "ip -br link show dev '$TN_HOST_IF' | grep -q LOWER_UP" ||
		tn_bail "veth $TN_HOST_IF has no carrier"
}

# Adds the namespace-side addresses $TN_NET4.N and $TN_NET6::N (2 <= N <= 14)
# and prints "IPV4 IPV6".
tn_peer_addr() { # n
	local n=$1
	if [ "$n" -ne 2 ]; then
		ip -n "$TN_NS" addr add "$TN_NET4.$n/28" dev "$TN_PEER_IF" 2>/dev/null
		ip -n "$TN_NS" -6 addr add "$TN_NET6::$n/64" dev "$TN_PEER_IF" nodad 2>/dev/null
	fi
	echo "$TN_NET4.$n $TN_NET6::$n"
}

# --- bounded waits ---------------------------------------------------------

# Retries COMMAND every 0.1 s for up to SECONDS; its status.
tn_wait_cmd() { # seconds, command...
	local secs=$1 i
	shift
	for i in $(seq $((secs * 10))); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	"$@" >/dev/null 2>&1
}

# The kernel maps named NAME of the agent of pid PID (those its fds hold:
# another agent's, another test's, are left alone), dumped by bpftool as
# JSON, one document a map.
tn_agent_map_dump() { # agent pid, map name
	local fd id
	for fd in /proc/"$1"/fdinfo/*; do
		sed -n 's/^map_id:[[:space:]]*//p' "$fd" 2>/dev/null
	done | sort -un | while read -r id; do
		bpftool map show id "$id" | grep -q " name $2 " &&
			bpftool -j map dump id "$id"
	done
}

# The kernel counter NAME of the agent of pid PID, summed over the CPUs of
# its per-CPU map: tw_counters, whose array's order is TW_KERNEL_COUNTERS'
# in include/tlswatch/event.h (the one list of them), or for the uprobe_*
# ones tw_up_counters and TW_UPROBE_COUNTERS; "none" when it has no such
# map. Read while it runs: what the BPF programs did so far, not what the
# agent reported.
tn_kcounter() { # agent pid, counter name
	local list=TW_KERNEL_COUNTERS map=tw_counters
	case $2 in
	uprobe_*) list=TW_UPROBE_COUNTERS map=tw_up_counters ;;
	esac
	tn_agent_map_dump "$1" "$map" | "${PY:-python3}" -c 'import json, re, struct, sys
name, header, macro = sys.argv[1], open(sys.argv[2]).read(), sys.argv[3]
body = re.search(r"#define " + macro + r"\(X\)((?:.*\\\n)*.*)", header).group(1)
idx = re.findall(r"X\(\w+, (\w+),", body).index(name)
total, seen = 0, False
for doc in sys.stdin:                   # one document a map
    for e in json.loads(doc):
        for v in e["values"]:
            seen = True
            val = v.get("formatted", v)["value"]
            if isinstance(val, dict):   # with BTF: the struct
                total += val["c"][idx]
            else:                       # without: its bytes, little-endian
                raw = bytes(int(b, 16) for b in val)
                total += struct.unpack_from("<Q", raw, 8 * idx)[0]
print(total if seen else "none")' "$2" include/tlswatch/event.h "$list"
}

tn_kcounter_at_least() { # agent pid, counter name, n (else says the counter)
	local v
	v=$(tn_kcounter "$1" "$2")
	[ "$v" != none ] && [ "$v" -ge "$3" ] || { echo "$2: $v"; return 1; }
}

# What "the packets went through the TC program" means: waits, 0.1 s at a
# time and SECONDS at most (tn_wait_cmd), until the agent of pid PID's
# kernel counter NAME (tn_kcounter) is at least N; its status. The exact
# value is the caller's to check (the agent's "stopped" event).
tn_wait_kcounter() { # seconds, agent pid, counter name, n
	tn_wait_cmd "$1" tn_kcounter_at_least "$2" "$3" "$4"
}

# Waits until FILE exists (a helper made it: its socket is bound, ...).
tn_wait_file() { # seconds, file
	tn_wait_cmd "$1" test -e "$2"
}

# Waits until FILE has at least N lines matching the extended regex (the
# agent's log: N handshake events).
tn_wait_count() { # seconds, regex, file, n
	tn_wait_cmd "$1" tn_count_at_least "$2" "$3" "$4"
}

tn_count_at_least() { # regex, file, n
	[ "$(grep -Ec "$1" "$2")" -ge "$3" ]
}

# Waits until the namespace (NETNS, default the test's) holds no TCP
# connection but those in TIME-WAIT: each closed on both sides, its last
# segments on the wire (a capture of them can stop). TIME-WAIT is the end
# of an active close: what is left is at most its last ACK, sent as it
# began.
tn_wait_conns_closed() { # seconds, [netns]
	tn_wait_cmd "$1" tn_conns_closed "${2:-$TN_NS}"
}

tn_conns_closed() { # netns
	[ -z "$(ip netns exec "$1" ss -Htn state connected exclude time-wait)" ]
}

# Waits until process PID catches signal SIGNUM (its handler installed:
# /proc/PID/status SigCgt), so that the signal, sent now, is not fatal.
tn_wait_sig_caught() { # seconds, pid, signal number
	tn_wait_cmd "$1" tn_sig_caught "$2" "$3"
}

tn_sig_caught() { # pid, signal number
	local mask
	mask=$(sed -n 's/^SigCgt:[[:space:]]*//p' "/proc/$1/status" 2>/dev/null)
	[ -n "$mask" ] && (((0x$mask >> ($2 - 1)) & 1))
}

# Waits until FILE has a line matching the extended regex.
tn_wait_grep() { # seconds, regex, file
	tn_wait_cmd "$1" grep -Eq "$2" "$3"
}

# Waits until something listens on TCP ADDR:PORT inside the namespace.
tn_wait_listen() { # seconds, port
	tn_wait_cmd "$1" sh -c "ip netns exec '$TN_NS' ss -Hltn 'sport = :$2' | grep -q ."
}

# `openssl s_server -www` on $TN_PEER4:PORT inside the namespace, output in
# LOG; waits until it listens (bails otherwise). Sets TN_SERVER_PID.
# TN_S_SERVER_QUIET= (empty) keeps s_server's per-connection errors in LOG,
# for a test that reads what the server refused.
tn_s_server_on() { # port, log file, s_server options (-cert, -key ...)...
	local port=$1 log=$2
	shift 2
	ip netns exec "$TN_NS" openssl s_server ${TN_S_SERVER_QUIET--quiet} -www \
		-accept "$TN_PEER4:$port" "$@" >"$log" 2>&1 &
	TN_SERVER_PID=$!
	tn_bg "$TN_SERVER_PID"
	tn_wait_listen 10 "$port" || tn_bail "openssl s_server on port $port ($*) did not start"
}

# The same on port 443.
tn_start_s_server() { # log file, s_server options...
	tn_s_server_on 443 "$@"
}

# A webhook receiver (tests/e2e/lib/webhook_receiver.py) on 127.0.0.1:PORT
# (0: any) answering as DIR/NAME.mode says (MODE at first), recording to
# DIR/NAME.jsonl (appended); its port in DIR/NAME.port, its pid in
# RECEIVER_PID. Stopped at exit.
tn_start_receiver() { # dir, name, port, mode
	echo "$4" >"$1/$2.mode"
	: >"$1/$2.port"
	"${PY:-python3}" tests/e2e/lib/webhook_receiver.py --out "$1/$2.jsonl" \
		--port "$3" --mode-file "$1/$2.mode" --max-seconds 120 \
		>"$1/$2.port" 2>>"$1/$2.err" &
	RECEIVER_PID=$!
	tn_bg "$RECEIVER_PID"
	tn_wait_cmd 10 grep -q . "$1/$2.port" || tn_bail "receiver $2 did not start"
}

# The value of the sample of FAMILY whose labels are exactly LABELS
# ('reason="too_large"') in the Prometheus exposition FILE; empty if none.
tn_metric() { # file, family, labels
	grep -E "^$2\{$3\} " "$1" | cut -d' ' -f2
}

# Stops the server of tn_start_s_server; waits until port 443 is free.
tn_stop_s_server() {
	tn_stop_pid "$TN_SERVER_PID"
	tn_wait_cmd 10 sh -c "! ip netns exec '$TN_NS' ss -Hltn 'sport = :443' | grep -q ." ||
		tn_bail "openssl s_server still listening"
}

# `openssl s_server -www` on port 443 of every address of the namespace
# (each of its interfaces, also those added later), with the certificate
# tn_ec_cert made in DIR; its log in DIR/server.log. Waits until it
# listens (bails otherwise).
tn_s_server_everywhere() { # dir
	ip netns exec "$TN_NS" openssl s_server -quiet -www -accept 443 \
		-cert "$1/cert.pem" -key "$1/key.pem" >"$1/server.log" 2>&1 &
	tn_bg $!
	tn_wait_listen 10 443 || tn_bail "openssl s_server did not start"
}

# A regex for an agent log line: a handshake event seen on INTERFACE (its
# "source").
tn_handshake_on() { # interface
	printf '"event":"handshake".*"source":"%s"' "$1"
}

# A self-signed P-256 certificate for CN: DIR/cert.pem, DIR/key.pem.
tn_ec_cert() { # dir, common name
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$1/key.pem" -out "$1/cert.pem" -days 2 \
		-subj "/CN=$2" >"$1/openssl.log" 2>&1 ||
		tn_bail "cannot make a test certificate"
}

# --- the agent and tcpdump --------------------------------------------------

TN_TC_PRIO=29815       # TW_TC_PRIORITY (include/tlswatch/event.h)

# How many tlswatch filters (ingress + egress) IFACE has, in namespace NS
# if given.
tn_filters_on() { # iface, [netns]
	{ tc ${2:+-n "$2"} filter show dev "$1" ingress
	  tc ${2:+-n "$2"} filter show dev "$1" egress; } 2>/dev/null |
		grep -c "pref $TN_TC_PRIO .*handle "
}

# Starts `tlswatch run` on the host end; waits for its "started" event.
# Sets TN_AGENT_PID. Extra arguments go to tlswatch run.
# TN_AGENT_PORT: the --port it is given (default 443; empty: none, the
# configuration file's ports or the default hold).
tn_start_agent() { # log file, extra args...
	local log=$1 port=${TN_AGENT_PORT-443}
	shift
	: >"$log"
	"${BUILD:-build}/tlswatch" run --iface "$TN_HOST_IF" ${port:+--port "$port"} \
		--json-log "$log" "$@" 2>"$log.stderr" &
	TN_AGENT_PID=$!
	tn_bg "$TN_AGENT_PID"
	if ! tn_wait_grep 15 '"event":"agent".*"state":"started"' "$log"; then
		tn_note "agent stderr:"
		sed 's/^/#   /' "$log.stderr"
		return 1
	fi
}

# The end of a live run captured with tcpdump (whose filter takes only
# packets of the agent's watched ports): tcpdump stops (it must have
# dropped nothing), then, once the agent's TC program saw as many watched
# packets as tcpdump captured (tn_wait_kcounter; on ingress, tcpdump sees
# a packet just before the TC program runs on it, maybe on another CPU),
# the agent stops (it must exit 0): it reads the ring to its end before
# it exits, so every segment of the capture is in its output; three TAP
# lines.
tn_stop_agent_and_tcpdump() { # pcap file
	local agent_rc=0 captured
	tn_stop_tcpdump "$1"
	tap_eq "tcpdump dropped no packet" 0 "${TN_TCPDUMP_DROPS:-unknown}"
	captured=$(tcpdump -n -r "$1" 2>/dev/null | grep -c .)
	tn_wait_kcounter 10 "$TN_AGENT_PID" packets_watched "$captured"
	tap_check "the agent's TC program saw the $captured packets tcpdump did" \
		tn_kcounter_at_least "$TN_AGENT_PID" packets_watched "$captured"
	tn_stop_agent || agent_rc=$?
	tap_eq "agent exits 0 on SIGTERM" 0 "$agent_rc"
}

# SIGTERM, then waits up to 10 s; the agent's exit status.
tn_stop_agent() {
	local pid=$TN_AGENT_PID i rc
	[ -n "$pid" ] || return 1
	kill -TERM "$pid" 2>/dev/null
	for i in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		tn_note "agent did not stop within 10 s of SIGTERM; killing it"
		kill -KILL "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null
	rc=$?
	TN_AGENT_PID=
	return "$rc"
}

# A counter of the last agent event in LOG that has counters (the
# "stopped" event once the agent stopped); "missing" when it has none.
tn_agent_counter() { # log, counter name
	grep '"event":"agent"' "$1" | grep '"counters"' | tail -1 |
		"${PY:-python3}" -c 'import json,sys; print(json.load(sys.stdin)["counters"].get(sys.argv[1], "missing"))' \
			"$2" 2>/dev/null
}

# tcpdump on the host end into a pcap; waits until it is listening.
# Sets TN_TCPDUMP_PID.
tn_start_tcpdump() { # pcap file, filter...
	local pcap=$1
	shift
	# -B: 16 MiB of kernel buffer (libpcap's default is 2): a tcpdump
	# that waits for a CPU while a flight of hundreds of KB goes by (a
	# CI run with other work) otherwise drops packets, and the capture
	# then says something else than the wire did
	tcpdump -i "$TN_HOST_IF" -n -s 0 -B 16384 -U --immediate-mode -Z root \
		-w "$pcap" "$@" 2>"$pcap.stderr" &
	TN_TCPDUMP_PID=$!
	tn_bg "$TN_TCPDUMP_PID"
	tn_wait_grep 10 'listening on' "$pcap.stderr"
}

# Whether process @pid sleeps (state S: waits for something, here poll).
tn_pid_sleeps() { # pid
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	[ "${stat%% *}" = S ]
}

# Stops tcpdump (SIGINT, so it prints its counters); sets TN_TCPDUMP_DROPS
# to the count of packets it says the kernel dropped. Not in a subshell.
tn_stop_tcpdump() { # pcap file
	local pid=$TN_TCPDUMP_PID pcap=$1 i size last=-1 still=0
	# tcpdump writes each packet once it has read it (-U); what the
	# kernel holds for it unread (a tcpdump waiting for a CPU on a busy
	# host) is lost to the SIGINT, which ends its loop before it reads
	# on, and the capture then lacks the last packets of the traffic
	# (sni_case.sh saw a handshake "incomplete" in CI; capture_stop.sh).
	# So first wait until tcpdump sleeps (in poll: nothing left to read)
	# and its file has not grown for 0.3 s; at most 5 s, after which
	# it is stopped anyway (a longer wait only costs time).
	for i in $(seq 50); do
		size=$(stat -c %s "$pcap" 2>/dev/null || echo 0)
		if [ "$size" = "$last" ] && tn_pid_sleeps "$pid"; then
			still=$((still + 1))
			[ "$still" -ge 3 ] && break
		else
			still=0
		fi
		last=$size
		sleep 0.1
	done
	kill -INT "$pid" 2>/dev/null
	for i in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	TN_TCPDUMP_PID=
	TN_TCPDUMP_DROPS=$(sed -n 's/^\([0-9]*\) packets\{0,1\} dropped by kernel.*/\1/p' \
		"$pcap.stderr" | head -1)
}

# The end of a capture a scripts/make-*-capture.sh writes, with the agent
# run beside it when WANT_AGENT is not empty: tcpdump stops and must have
# dropped nothing (tn_bail otherwise: the capture would say something else
# than the wire did), its stderr goes, and TN_AGENT_RC is the agent's exit
# status (empty: no agent ran). Not in a subshell.
tn_stop_capture() { # want_agent, pcap file
	tn_stop_tcpdump "$2"
	TN_AGENT_RC=
	if [ -n "$1" ]; then
		tn_stop_agent
		TN_AGENT_RC=$?
	fi
	[ "${TN_TCPDUMP_DROPS:-0}" -eq 0 ] || tn_bail "tcpdump dropped $TN_TCPDUMP_DROPS packets"
	rm -f "$2.stderr"
}
