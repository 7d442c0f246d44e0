#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Lifecycle of the live agent's TC attachment (tlswatch run).
#
# A network namespace joined to the host by a veth pair, a real
# `openssl s_server -WWW` inside serving a 50 MiB file; `tlswatch run` on the
# host end of the veth. Checks:
#   - attach puts one tlswatch filter on ingress and one on egress; a TLS
#     handshake through the veth is reported;
#   - after SIGTERM: no tlswatch filter, no clsact qdisc it created, none of
#     its programs loaded (the ids it held, from /proc/PID/fdinfo and tc,
#     so other agents running at the same time do not disturb the test);
#   - after SIGKILL the filter stays; a restart replaces it (still one per
#     direction) and a SIGTERM then leaves nothing;
#   - a clsact qdisc that existed before, with another tool's filter behind
#     ours, is never deleted; that filter keeps seeing packets while ours is
#     attached (we return "no verdict", not "ok", which would end the
#     chain) and survives stop, kill and restart;
#   - a bulk download running across attach, detach, kill and restart
#     arrives intact (sha256);
#   - SIGKILL under load (a client loop of TLS 1.2 handshakes) with --db
#     and a webhook that cannot be reached: no handshake of the loop fails,
#     the database passes integrity_check with the inventory's rows and the
#     undelivered alerts in the outbox, the restart replaces the filters and
#     keeps both.
#
# Needs root, clang (for the other tool's filter), curl, openssl, tc,
# bpftool. TAP output; exits non-zero on any failure.
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
export BUILD
. tests/e2e/lib_netns.sh

tn_require_root live_lifecycle
tn_require_cmds openssl curl ip tc bpftool clang python3 sha256sum ss sqlite3
tn_require_tlswatch

TW_PRIO=29815          # TW_TC_PRIORITY (include/tlswatch/event.h)
FOREIGN_PRIO=40000     # behind ours: runs only if our filter lets it
BULK_BYTES=$((50 * 1024 * 1024))

tmp=$(tn_tmpdir)

# --- fixtures: certificate, 50 MiB file, the other tool's filter -----------
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$tmp/key.pem" -out "$tmp/cert.pem" -days 2 \
	-subj /CN=lifecycle.test >"$tmp/openssl.log" 2>&1 ||
	tn_bail "cannot make a test certificate"
mkdir -p "$tmp/www"
head -c "$BULK_BYTES" /dev/urandom >"$tmp/www/big"
want_sha=$(sha256sum "$tmp/www/big" | cut -d' ' -f1)

# Another tool's TC program: drops IPv4 TCP to port 8080, passes the rest
# on ("no verdict"). If it runs, a connection to :8080 fails.
cat >"$tmp/foreign.bpf.c" <<'EOF'
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

SEC("tc")
int drop_8080(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct tcphdr *th = (void *)(ip + 1);

	if ((void *)(th + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP) ||
	    ip->ihl != 5 || ip->protocol != IPPROTO_TCP ||
	    th->dest != bpf_htons(8080))
		return -1;
	return 2; /* TC_ACT_SHOT */
}
char LICENSE[] SEC("license") = "GPL";
EOF
clang -O2 -g -target bpf -I"/usr/include/$(uname -m)-linux-gnu" \
	-c "$tmp/foreign.bpf.c" -o "$tmp/foreign.o" 2>"$tmp/clang.log" ||
	{ cat "$tmp/clang.log"; tn_bail "cannot compile the foreign TC program"; }

tn_setup lcy
IF=$TN_HOST_IF
PEER=$TN_PEER4

(cd "$tmp/www" && exec ip netns exec "$TN_NS" openssl s_server -quiet -WWW \
	-accept 443 -cert "$tmp/cert.pem" -key "$tmp/key.pem" \
	>"$tmp/server.log" 2>&1) &
tn_bg $!
(cd "$tmp" && exec ip netns exec "$TN_NS" python3 -m http.server 8080 \
	--bind "$PEER" >"$tmp/http.log" 2>&1) &
tn_bg $!
tn_wait_listen 10 443 || tn_bail "openssl s_server did not start"
tn_wait_listen 10 8080 || tn_bail "python3 http.server did not start"

# --- probes -----------------------------------------------------------------

our_filters() { # number of tlswatch filters (ingress + egress)
	{ tc filter show dev "$IF" ingress; tc filter show dev "$IF" egress; } |
		grep -c "pref $TW_PRIO .*handle "
}
our_prog_ids() {
	{ tc filter show dev "$IF" ingress; tc filter show dev "$IF" egress; } |
		sed -n "s/.*pref $TW_PRIO .* id \([0-9]*\) .*/\1/p" | sort -u
}
our_handles() {
	{ tc filter show dev "$IF" ingress; tc filter show dev "$IF" egress; } |
		sed -n "s/.*pref $TW_PRIO .*handle \(0x[0-9a-f]*\) .*/\1/p" | sort -u | tr '\n' ' '
}
# Every BPF program the agent holds (attached or not), from its fds.
agent_prog_ids() { # pid
	cat /proc/"$1"/fdinfo/* 2>/dev/null | sed -n 's/^prog_id:[[:space:]]*//p' | sort -u
}
has_clsact() { tc qdisc show dev "$IF" | grep -q clsact; }
foreign_present() { tc filter show dev "$IF" egress | grep -q "pref $FOREIGN_PRIO .*drop_8080"; }
port8080_open() { curl -s -o /dev/null --max-time 2 "http://$PEER:8080/"; }

handshake() { # one full TLS 1.3 handshake to the server
	echo | timeout 10 openssl s_client -connect "$PEER:443" \
		-servername lifecycle.test -tls1_3 >/dev/null 2>&1
}

# After a clean stop: none of our filters, none of the programs it had.
check_nothing_left() { # label, whether a clsact must remain (yes|no)
	local label=$1 keep=$2 id leaked=
	tap_eq "$label: no tlswatch filter left" 0 "$(our_filters)"
	for id in $prog_ids; do
		bpftool prog show id "$id" >/dev/null 2>&1 && leaked="$leaked $id"
	done
	tap_eq "$label: none of its programs is still loaded" "" "$leaked"
	if [ "$keep" = yes ]; then
		tap_check "$label: the pre-existing clsact qdisc is kept" has_clsact
	else
		tap_check "$label: the clsact qdisc it created is gone" \
			sh -c "! tc qdisc show dev '$IF' | grep -q clsact"
	fi
}

start_agent() { # label
	tn_start_agent "$tmp/agent-$1.jsonl" --no-active-check ||
		tn_bail "$1: tlswatch run did not start on $IF"
	prog_ids=$( { our_prog_ids; agent_prog_ids "$TN_AGENT_PID"; } | sort -u)
	[ -n "$prog_ids" ] || tn_bail "$1: no BPF program found for the agent"
}

kill_agent() {
	kill -KILL "$TN_AGENT_PID" 2>/dev/null
	wait "$TN_AGENT_PID" 2>/dev/null
	TN_AGENT_PID=
}

has_clsact && tn_bail "$IF has a clsact qdisc before the test"

# --- 1. attach, report, SIGTERM ---------------------------------------------
start_agent plain
tap_eq "attach: one filter on ingress and one on egress" 2 "$(our_filters)"
tap_eq "attach: the qdisc it created is marked ours (handle 0x7477)" "0x7477 " "$(our_handles)"
handshake || tap_fail "s_client handshake through the attached veth failed"
if tn_wait_grep 10 '"event":"handshake"' "$tmp/agent-plain.jsonl"; then
	tap_ok "a handshake through the veth is reported"
else
	tap_fail "a handshake through the veth is reported" "$(tail -5 "$tmp/agent-plain.jsonl.stderr")"
fi
tn_stop_agent
tap_eq "SIGTERM: the agent exits 0" 0 "$?"
check_nothing_left "SIGTERM" no

# --- 2. SIGKILL leaves the filter; a restart takes over ------------------------
start_agent killed
killed_ids=$prog_ids
kill_agent
tap_eq "SIGKILL: the filters stay (TC filters are not links)" 2 "$(our_filters)"
tap_check "SIGKILL: the clsact qdisc stays" has_clsact
start_agent restart
tap_eq "restart: still one filter per direction (replaced, not added)" 2 "$(our_filters)"
tap_eq "restart: the killed agent's qdisc is recognised as ours" "0x7477 " "$(our_handles)"
leaked=
for id in $killed_ids; do
	bpftool prog show id "$id" >/dev/null 2>&1 && leaked="$leaked $id"
done
tap_eq "restart: the killed agent's programs are gone once replaced" "" "$leaked"
handshake
tn_wait_grep 10 '"event":"handshake"' "$tmp/agent-restart.jsonl" &&
	tap_ok "restart: handshakes are reported" ||
	tap_fail "restart: handshakes are reported"
tn_stop_agent
tap_eq "restart then SIGTERM: the agent exits 0" 0 "$?"
check_nothing_left "restart then SIGTERM" no

# --- 3. a bulk download across attach, detach, kill and restart -------------
curl -sk --limit-rate 8M --max-time 60 "https://$PEER/big" -o "$tmp/got" &
curl_pid=$!
tn_bg "$curl_pid"
sleep 0.5
start_agent bulk1
sleep 0.5
tn_stop_agent
start_agent bulk2
sleep 0.5
kill -0 "$curl_pid" 2>/dev/null && alive_at_kill=yes || alive_at_kill=no
kill_agent
start_agent bulk3
sleep 0.5
tn_stop_agent
tap_eq "bulk: the transfer was still running when the agent was killed" yes "$alive_at_kill"
wait "$curl_pid"
curl_rc=$?
tap_eq "bulk: curl completed" 0 "$curl_rc"
tap_eq "bulk: 50 MiB arrived intact (sha256)" "$want_sha" \
	"$(sha256sum "$tmp/got" 2>/dev/null | cut -d' ' -f1)"
check_nothing_left "bulk" no

# --- 3b. SIGKILL under load, with the database and the webhook outbox -------
# A client loop makes TLS 1.2 handshakes (the self-signed certificate is an
# "untrusted" finding: an alert for the webhook, which points at a closed
# port, so alerts stay in the outbox) while the agent is killed and
# restarted on the same database.
db=$tmp/kill.db
db_ok() { [ "$(sqlite3 "$db" 'PRAGMA integrity_check' 2>&1)" = ok ]; }
db_rows() { sqlite3 "$db" "SELECT count(*) FROM $1" 2>/dev/null; }
start_db_agent() { # label
	tn_start_agent "$tmp/agent-$1.jsonl" --no-active-check --db "$db" \
		--webhook http://127.0.0.1:9/hook ||
		tn_bail "$1: tlswatch run did not start on $IF"
	prog_ids=$( { our_prog_ids; agent_prog_ids "$TN_AGENT_PID"; } | sort -u)
}
: >"$tmp/loop.fail"
(
	for i in $(seq 300); do          # bounded: at most 300 handshakes
		[ -e "$tmp/loop.stop" ] && break
		echo | timeout 5 openssl s_client -connect "$PEER:443" \
			-servername lifecycle.test -tls1_2 >/dev/null 2>&1 ||
			echo "handshake $i failed" >>"$tmp/loop.fail"
		echo "$i" >"$tmp/loop.count"
	done
) &
loop_pid=$!
tn_bg "$loop_pid"
start_db_agent load1
tn_wait_count 10 '"event":"handshake"' "$tmp/agent-load1.jsonl" 5
# a flush of the inventory (every second) wrote the served name and the
# undelivered alerts: a kill now must leave them in the database
flushed() { [ "$(db_rows served)" -ge 1 ] && [ "$(db_rows outbox)" -ge 1 ]; }
tn_wait_cmd 10 flushed
kill_agent
tap_check "load, SIGKILL: the database passes integrity_check" db_ok
served_at_kill=$(db_rows served)
outbox_at_kill=$(db_rows outbox)
tap_check "load, SIGKILL: the inventory has the served name ($served_at_kill rows)" \
	[ "${served_at_kill:-0}" -ge 1 ]
tap_check "load, SIGKILL: the undelivered alerts are in the outbox ($outbox_at_kill rows)" \
	[ "${outbox_at_kill:-0}" -ge 1 ]
start_db_agent load2
tap_eq "load, restart: one filter per direction (replaced, not added)" 2 "$(our_filters)"
before=$(cat "$tmp/loop.count")
tn_wait_cmd 10 sh -c "[ \$(cat '$tmp/loop.count') -ge $((before + 5)) ]"
tn_wait_grep 10 '"event":"handshake"' "$tmp/agent-load2.jsonl" &&
	tap_ok "load, restart: handshakes are reported" ||
	tap_fail "load, restart: handshakes are reported"
tn_stop_agent
tap_eq "load, restart then SIGTERM: the agent exits 0" 0 "$?"
touch "$tmp/loop.stop"
wait "$loop_pid"
tap_eq "load: no handshake of the client loop failed across kill and restart" "" \
	"$(cat "$tmp/loop.fail")"
tap_check "load: the client loop ran throughout ($(cat "$tmp/loop.count") handshakes)" \
	[ "$(cat "$tmp/loop.count")" -ge 10 ]
tap_check "load, after restart: the database passes integrity_check" db_ok
tap_check "load, after restart: the inventory kept its rows" \
	[ "$(db_rows served)" -ge "$served_at_kill" ]
tap_check "load, after restart: the outbox kept the undelivered alerts" \
	[ "$(db_rows outbox)" -ge "$outbox_at_kill" ]
check_nothing_left "load, kill + restart + SIGTERM" no

# --- 4. somebody else's clsact qdisc and filter ------------------------------
tap_check "baseline: port 8080 is reachable without the other filter" port8080_open
tc qdisc add dev "$IF" clsact || tn_bail "cannot add a clsact qdisc to $IF"
tc filter add dev "$IF" egress prio "$FOREIGN_PRIO" handle 7 bpf da \
	obj "$tmp/foreign.o" sec tc || tn_bail "cannot attach the foreign filter"
tap_check "baseline: the other filter drops port 8080" sh -c "! curl -s -o /dev/null --max-time 2 'http://$PEER:8080/'"

start_agent shared
tap_eq "shared: our filters sit on the existing qdisc (handle 0x7478)" "0x7478 " "$(our_handles)"
tap_check "shared: the filter behind ours still runs (8080 still dropped)" \
	sh -c "! curl -s -o /dev/null --max-time 2 'http://$PEER:8080/'"
handshake
tn_wait_grep 10 '"event":"handshake"' "$tmp/agent-shared.jsonl" &&
	tap_ok "shared: handshakes are reported" ||
	tap_fail "shared: handshakes are reported"
tn_stop_agent
check_nothing_left "shared, SIGTERM" yes
tap_check "shared, SIGTERM: the other tool's filter survives" foreign_present

start_agent shared-killed
kill_agent
start_agent shared-restart
tap_eq "shared, restart after SIGKILL: one filter per direction" 2 "$(our_filters)"
tap_eq "shared, restart after SIGKILL: the qdisc is still not ours" "0x7478 " "$(our_handles)"
tn_stop_agent
check_nothing_left "shared, kill + restart + SIGTERM" yes
tap_check "shared, kill + restart + SIGTERM: the other tool's filter survives" foreign_present

echo "# $TN_TESTS tests, $TN_FAILED failed"
[ "$TN_FAILED" -eq 0 ]
