#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The ALPN protocol read by the uprobes (run --uprobes auto), with an SSL
# object reused for a second connection, and a TLS client's SSL on the
# same host.
#
# A TLS 1.3 server in a test namespace (tests/e2e/lib/ssl_clear_server.c,
# built here against the system's OpenSSL 3, the agent's own libssl) serves
# two connections with one SSL object, SSL_clear() in between, and selects
# ALPN h2; `openssl s_client -alpn h2` on the host connects twice, the
# second time resuming the first's session (no Certificate: its protocol
# is read at SSL_free, which the server calls after the second).
#   - The first connection's protocol goes out with its chain, and the
#     kernel notes that SSL as having sent it; SSL_clear makes it a new
#     connection, so the second's protocol is sent at SSL_free and names
#     the connection with the server's close; its handshake, which served
#     no chain on a server whose chain was read before, waits for it
#     (bounded, 1 s, as a full one's): both handshake events carry
#     alpn_selected h2 and the server's pid (uprobe_binds 2: the first's
#     chain, the second's protocol). Before the SSL_clear probe, the note
#     of the first connection made SSL_free take the second's as sent
#     already: never sent (one event with h2, uprobe_binds 1); before the
#     resumed handshake waited, it was reported without alpn_selected.
#   - While the first connection is open, the kernel's map of the SSLs
#     whose protocol went out with their chain (tw_up_alpn_sent) holds
#     exactly one entry of the server's pid: its SSL was noted. Read per
#     process: the host-wide uprobe_alpns_unnoted, asserted 0 before,
#     counts any process's refused note on the same libssl file.
#   - s_client's own SSL (a client's), freed on the host where the probes
#     also run, holds h2 too, and is no server's: no ALPN record for it.
#     Counted by process, not by the host-wide uprobe_alpns (which every
#     process with a server's SSL on the system libssl adds to): the
#     server's protocols are read off its pid's handshake events, and
#     nothing of either client's pid waits in the kernel's pending map.
# Needs root, a C compiler. TAP output; exits non-zero on any failure.
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
export BUILD
. tests/e2e/lib_netns.sh
. tests/e2e/lib_uprobes.sh

up_begin live_uprobes_reuse upreuse openssl ip ss bpftool "${CC:-cc}"
up_build_ssl_clear_server "$tmp"

log=$tmp/agent.log
up_start_agent "$log" auto
up_start_ssl_clear_server "$pki" "$tmp/server.err" 2
server=$UP_SERVER_PID

# One s_client (its pid in client$n.pid: the process of its SSL), its
# input (Q: quit) from standard input.
client() { # n, extra options...
	local n=$1
	shift
	# shellcheck disable=SC2016 # expanded by that sh
	timeout 10 sh -c 'echo $$ >"$0"; exec "$@"' \
		"$tmp/client$n.pid" openssl s_client -connect "$srv:443" -tls1_3 \
		-servername ecdsa.test -alpn h2 "$@" >"$tmp/client$n.log" 2>&1
}
# the first stays open (its input on fd 9) until the session ticket is
# read (TLS 1.3 sends it after the handshake; -sess_out writes it then)
# and the kernel's note of its protocol is counted
mkfifo "$tmp/client1.in"
client 1 -sess_out "$tmp/sess" <"$tmp/client1.in" &
client1=$!
tn_bg "$client1"
exec 9>"$tmp/client1.in"
tn_wait_count 10 '"event":"handshake"' "$log" 1
tn_wait_cmd 10 test -s "$tmp/sess" || tap_fail "the first client read a session ticket"
# Per process: the map, like the uprobe_alpns_unnoted counter, is shared
# by every process using the libssl file; its entries carry their pid.
tap_eq "the first connection's protocol, sent with its chain, is noted as sent (the server's one entry)" 1 \
	"$(up_map_entries_of "$AGENT_PID" tw_up_alpn_sent "$server")"
printf 'Q\n' >&9
exec 9>&-
wait "$client1"
# the second quits at once: its close, and the server's, end the wait
printf 'Q\n' | client 2 -sess_in "$tmp/sess"
tap_eq "the second connection resumed the first's session" 1 \
	"$(grep -c '^Reused, TLSv1.3' "$tmp/client2.log")"
wait "$server"
tap_eq "the server served both with one SSL object" 0 "$?"
sed 's/^/#   server: /' "$tmp/server.err"
tn_wait_count 10 '"event":"handshake"' "$log" 2
clients_pending() { # what of the two clients' SSLs waits in the kernel
	echo "$(up_pending_of "$AGENT_PID" "$(cat "$tmp/client1.pid")")" \
		"$(up_pending_of "$AGENT_PID" "$(cat "$tmp/client2.pid")")"
}
# the agent's last records (its ring read) clear them
clients_cleared() { [ "$(clients_pending)" = "0 0" ]; }
tn_wait_cmd 10 clients_cleared
tap_eq "nothing of the clients' SSLs (their ALPN protocol) waits in the kernel" "0 0" \
	"$(clients_pending)"
kill -TERM "$AGENT_PID"
tn_wait_cmd 15 sh -c "! kill -0 $AGENT_PID" || tap_fail "the agent stops on SIGTERM"
wait "$AGENT_PID" 2>/dev/null

tap_eq "two handshakes of the server's process: TLS 1.3 ok, alpn_selected h2, the first with the served chain" \
	"TLS1.3 ok 1 h2 $server|TLS1.3 ok 0 h2 $server" "$("$PY" - "$log" <<'EOF'
import json, sys
hs = [json.loads(l) for l in open(sys.argv[1]) if '"event":"handshake"' in l]
print("|".join("%s %s %d %s %s" % (e.get("version"), e.get("outcome"),
                                   e.get("observed") == "server" and len(e.get("chain", [])),
                                   e.get("alpn_selected", "-"),
                                   e.get("process", {}).get("pid", "-"))
               for e in hs))
EOF
)"
tap_eq "binds: the first connection's chain, the second's protocol" 2 \
	"$(tn_agent_counter "$log" uprobe_binds)"

echo "# $TN_TESTS tests, $TN_FAILED failed"
[ "$TN_FAILED" -eq 0 ]
