#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A server that exits with an entry in the kernel's pending map (run
# --uprobes auto): the entry goes with its thread.
#
# `openssl s_server` (the system's libssl, the agent's own) in the test
# namespace, on a port the agent does not watch, serves `openssl s_client`
# on the host and keeps the connection open: the chain its library wrote
# waits in the pending map under its thread (no packet of a watched flow
# names it, and SSL_free, which would drop it, never comes): one entry of
# its pid. Then the server is killed (SIGKILL, mid-connection) and reaped:
# no entry of its pid is left (the tracepoint at sched_process_free,
# tw_up_task_free). Before, the entry stayed until the LRU pushed it out,
# and a thread later given the same pid would have had its first server
# packet on a watched flow take the dead one's chain: still 1.
# Needs root, bpftool. TAP output; exits non-zero on any failure.
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
export BUILD
. tests/e2e/lib_netns.sh
. tests/e2e/lib_uprobes.sh

up_begin live_uprobes_exit upexit openssl ip ss bpftool

log=$tmp/agent.log
up_start_agent "$log" auto
tap_check "the agent hooked the uprobes" grep -q '"state":"uprobes_attached"' "$log"

up_start_s_server 8443 "$tmp/server.log" -tls1_3 -cert "$pki/ecdsa.test.crt" \
	-key "$pki/ecdsa.test.key"
server=$UP_S_SERVER_PID

# the client's input stays open (fd 8) until the server is gone
mkfifo "$tmp/client.in"
openssl s_client -connect "$srv:8443" -tls1_3 -servername ecdsa.test \
	<"$tmp/client.in" >"$tmp/client.log" 2>&1 &
tn_bg $!
exec 8>"$tmp/client.in"
tn_wait_grep 10 '^Verify return code' "$tmp/client.log" ||
	tn_bail "the client's handshake with the server did not finish"

pending_is() { # count
	[ "$(up_pending_of "$AGENT_PID" "$server")" = "$1" ]
}
tap_eq "the served chain waits in the kernel under the server's thread" 1 \
	"$(up_pending_of "$AGENT_PID" "$server")"

kill -KILL "$server"
wait "$server" 2>/dev/null
# the free runs after the reaping, from an RCU callback: soon, not at once
tn_wait_cmd 10 pending_is 0
tap_eq "nothing of the killed server waits in the kernel" 0 \
	"$(up_pending_of "$AGENT_PID" "$server")"
exec 8>&-

tn_stop_pid "$AGENT_PID"
tap_check "the agent stopped" grep -q '"state":"stopped"' "$log"

echo "# $TN_TESTS tests, $TN_FAILED failed"
[ "$TN_FAILED" -eq 0 ]
