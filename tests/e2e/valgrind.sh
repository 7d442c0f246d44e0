#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The long-running paths under valgrind's memcheck, bounded runs, no leak
# and no memory error:
#   - `analyze` of every committed capture (JSON, text and HTML reports,
#     the inventory database), and `inventory` of that database;
#   - `tlswatch run` for about 20 s on a veth into a test namespace, with
#     the inventory database, a webhook (to a closed port: the retry path)
#     and /metrics, while real TLS 1.2 and 1.3 handshakes go through;
#     an interface matching its --iface glob comes and goes; stopped by
#     SIGTERM, which must still detach and report every one.
# A "definite" or "indirect" leak, or any memcheck error, makes valgrind
# exit 99 (--error-exitcode). Skipped, with a message, without valgrind.
#
# Needs root (for run), openssl, ip. TAP output.
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
export BUILD
. tests/e2e/lib_netns.sh

if ! command -v valgrind >/dev/null 2>&1; then
	echo "1..0 # SKIP valgrind is not installed (apt-get install valgrind)"
	exit 0
fi
tn_require_root valgrind
tn_require_cmds openssl ip curl
tn_require_tlswatch

TW=$BUILD/tlswatch
VG_EXIT=99
tmp=$(tn_tmpdir)
# glibc and OpenSSL keep some memory until exit on purpose ("still
# reachable"): only what nothing points to any more counts.
# libbpf hands the bpf(2) syscall attribute unions whose unused bytes
# valgrind takes for uninitialised: tests/e2e/lib/valgrind.supp.
VG=(valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect
	--show-leak-kinds=definite,indirect --error-exitcode=$VG_EXIT
	--suppressions=tests/e2e/lib/valgrind.supp)
vg() { # log, command...
	local log=$1
	shift
	"${VG[@]}" --log-file="$log" "$@"
}
# Its reports are "==PID==" lines; "--PID-- WARNING: unhandled eBPF
# command" only says that valgrind 3.19 does not know a newer bpf(2)
# command.
vg_check() { # label, status, log, expected status
	if [ "$2" -eq "$4" ] && ! grep -q '^==[0-9]*==' "$3"; then
		tap_ok "$1: exit $4, valgrind silent"
	else
		tap_fail "$1: exit $4, valgrind silent" "exit $2"
		head -40 "$3" | sed 's/^/#   /'
	fi
}

# --- analyze and inventory ---------------------------------------------------
caps=$(ls tests/data/captures/*.pcap tests/data/captures/*.pcapng)
vg "$tmp/vg-analyze.log" "$TW" analyze --json --db "$tmp/inv.db" \
	--html "$tmp/report.html" $caps >"$tmp/analyze.jsonl" 2>"$tmp/analyze.err"
rc=$?
[ "$rc" -eq "$VG_EXIT" ] || rc=0    # findings in the captures set the status
vg_check "analyze --json --db --html of $(echo "$caps" | wc -l) captures" "$rc" "$tmp/vg-analyze.log" 0
tap_check "analyze: handshakes reported" grep -q '"event":"handshake"' "$tmp/analyze.jsonl"
vg "$tmp/vg-text.log" "$TW" analyze $caps >"$tmp/analyze.txt" 2>&1
rc=$?
[ "$rc" -eq "$VG_EXIT" ] || rc=0
vg_check "analyze (text report)" "$rc" "$tmp/vg-text.log" 0
vg "$tmp/vg-inventory.log" "$TW" inventory --db "$tmp/inv.db" --json >"$tmp/inv.json" 2>&1
vg_check "inventory --json" "$?" "$tmp/vg-inventory.log" 0

# --- run -------------------------------------------------------------------
tn_setup vg
tn_make_pki "$tmp/pki"
tn_start_rsa_server "$tmp/pki"
log=$tmp/agent.jsonl
: >"$log"
tn_on_exit "ip link del vgx$$a"
"${VG[@]}" --log-file="$tmp/vg-run.log" "$TW" run --iface "$TN_HOST_IF" --iface "vgx$$*" \
	--port 443 --json-log "$log" \
	--db "$tmp/run.db" --webhook http://127.0.0.1:9/hook --metrics 127.0.0.1:0 \
	--stats-interval 5 --no-active-check 2>"$log.stderr" &
agent=$!
tn_bg "$agent"
tn_wait_grep 60 '"state":"started"' "$log" || tn_bail "the agent under valgrind did not start"
# an interface that comes and goes: the netlink path runs too
ip link add "vgx$$a" type veth peer name "vgx$$b" && ip link set "vgx$$a" up &&
	tn_wait_grep 30 '"state":"interface_added"' "$log" &&
	ip link del "vgx$$a" && tn_wait_grep 30 '"state":"interface_removed"' "$log" &&
	tap_ok "run: an interface added and removed under valgrind is announced" ||
	tap_fail "run: an interface added and removed under valgrind is announced"
want=0
deadline=$((SECONDS + 20))
while [ "$SECONDS" -lt "$deadline" ] && [ "$want" -lt 40 ]; do
	tn_rsa_handshake && want=$((want + 1))
	sleep 0.3
done
tap_check "run: handshakes succeeded under the agent ($want)" [ "$want" -ge 10 ]
tn_wait_count 20 '"event":"handshake"' "$log" "$want"
kill -TERM "$agent"
for i in $(seq 600); do kill -0 "$agent" 2>/dev/null || break; sleep 0.1; done
wait "$agent"
rc=$?
vg_check "run for 20 s with handshakes, then SIGTERM" "$rc" "$tmp/vg-run.log" 0
tap_eq "run: every handshake reported" "$want" "$(grep -c '"event":"handshake"' "$log")"
tap_check "run: stopped cleanly" grep -q '"state":"stopped"' "$log"

echo "# $TN_TESTS tests, $TN_FAILED failed"
