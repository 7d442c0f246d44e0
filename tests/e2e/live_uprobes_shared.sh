#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A server thread that frees a failed connection's SSL, then serves
# another connection before it closes the failed one's socket (run
# --uprobes auto): the alerts its library read or sent stay with the
# connection they were read or sent on.
#
# tests/e2e/lib/late_close_server.c in the test namespace; on the host,
# two `openssl s_client`s, the first with SNI first.test, the second with
# second.test (the server ignores it; the handshake events carry it, so
# each is told apart):
#   - read: the first rejects the server's certificate (it lacks the
#     test's root: a fatal alert the server's SSL reads), the second
#     trusts it. The alert, read at the first SSL_free, waits for the
#     first socket's close: the second connection's flight (its chain)
#     goes out first and carries only its chain. Before (session 13),
#     the alert went out with that chain and was reported as the second
#     connection's;
#   - sent: the server asks the first for a certificate it does not
#     have (a fatal alert the server's SSL sends). Before, the second
#     connection's chain, started while the alert waited on the thread,
#     dropped it: the first handshake was reported server:unknown:unknown;
#   - both: the first as in read, the second as the first of sent; the
#     second is freed and closed before the first socket is. Before, the
#     thread's one entry took both alerts, and the first close (the
#     second connection's) carried them: the second handshake was
#     reported with both, the first with its wire guess only;
#   - reset: as read, but the first client (Python's ssl) resets its
#     connection (SO_LINGER 0) after it rejects the certificate, and the
#     second is asked for a certificate it does not have: the server's
#     close of the first socket sends nothing and changes no TCP state,
#     so nothing takes the first connection's record (its alert is the
#     wire's), and it must not go to the second connection's close.
#     Before, the second's chain carried the waiting alert to its close
#     (and, with the records taken oldest first, that close took it): the
#     second handshake was reported with the first's unknown_ca too;
#   - alpn: the server selects h2 (ALPN); a first client (SNI first.test)
#     saves its session, a second (second.test) resumes it and quits, a
#     third (third.test) makes a full handshake; the server frees the
#     second's SSL, serves the third whole (its chain, its SSL freed, its
#     socket closed), then closes the second's socket. The resumed
#     handshake (no chain: its protocol is read at SSL_free) gets h2.
#     Before, the third's chain took the thread's entry, and the
#     protocol waiting there for the second's close was lost: the resumed
#     handshake was reported without alpn_selected.
# Needs root, a C compiler. TAP output; exits non-zero on any failure.
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
export BUILD
. tests/e2e/lib_netns.sh
. tests/e2e/lib_uprobes.sh

up_begin live_uprobes_shared upsha openssl ip ss "${CC:-cc}"
up_build_server late_close_server "$tmp"
log=$tmp/agent.log
up_start_agent "$log" auto

# A TLS 1.3 client of the test's server with SNI first.test that rejects
# its certificate, then resets the connection.
rst_client() {
	"$PY" - "$srv" <<'PYEOF'
import socket, ssl, struct, sys, time
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.minimum_version = ssl.TLSVersion.TLSv1_3
s = socket.create_connection((sys.argv[1], 443), timeout=10)
try:
    ctx.wrap_socket(s, server_hostname="first.test").close()
except ssl.SSLError:
    pass
time.sleep(1)  # the server reads the alert: a reset would discard it
s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
s.close()
PYEOF
}

# One case: late_close_server with MODE, its first client `openssl
# s_client` with OPTIONS1 more (rst_client with "reset"), its second one
# with OPTIONS2; each handshake by SNI, its outcome and alerts, are
# EXPECTED.
shared_case() { # mode, expected, options1, options2
	local mode=$1 expected=$2 seen server
	local -a opts1 opts2
	read -ra opts1 <<<"$3"
	read -ra opts2 <<<"$4"
	seen=$(grep -c '"event":"handshake"' "$log")
	ip netns exec "$TN_NS" "$tmp/late_close_server" "$srv" 443 "$pki/ecdsa.test.crt" \
		"$pki/ecdsa.test.key" "$mode" 2>"$tmp/server.err" &
	server=$!
	tn_bg "$server"
	tn_wait_listen 10 443 || tn_bail "late_close_server did not start"
	if [ "$mode" = reset ]; then
		rst_client >"$tmp/client1.log" 2>&1
	else
		printf 'Q\n' | timeout 10 openssl s_client -connect "$srv:443" -tls1_3 \
			-servername first.test "${opts1[@]}" >"$tmp/client1.log" 2>&1
	fi
	printf 'Q\n' | timeout 10 openssl s_client -connect "$srv:443" -tls1_3 \
		-servername second.test "${opts2[@]}" >"$tmp/client2.log" 2>&1
	wait "$server"
	tap_eq "$mode: the handshakes ended as the server expects" 0 "$?"
	sed 's/^/#   server: /' "$tmp/server.err"
	tn_wait_cmd 10 sh -c "[ \$(grep -c '\"event\":\"handshake\"' '$log') -ge $((seen + 2)) ]"
	tap_eq "$mode: each connection with its own alerts" "$expected" "$("$PY" - "$log" "$seen" <<'PYEOF'
import json, sys
hs = [json.loads(l) for l in open(sys.argv[1]) if '"event":"handshake"' in l]
hs = hs[int(sys.argv[2]):]
print("|".join(sorted("%s %s %s" % (e.get("sni"), e["outcome"], ";".join(
    "%s:%s:%s:%s" % (a["from"], a["level"], a["description"], a.get("observed", "-"))
    for a in e["alerts"]) or "-") for e in hs)))
PYEOF
)"
}

root="-CAfile $pki/root.crt"
shared_case read "first.test failed client:fatal:unknown_ca:server|second.test ok -" \
	-verify_return_error "$root"
shared_case sent "first.test failed server:fatal:certificate_required:server|second.test ok -" \
	"$root" "$root"
shared_case both "first.test failed client:fatal:unknown_ca:server|second.test failed server:fatal:certificate_required:server" \
	-verify_return_error "$root"
shared_case reset "first.test failed client:fatal:unknown_ca:-|second.test failed server:fatal:certificate_required:server" \
	"" "$root"
# the alpn case: three clients offering h2, the second resuming the first
ip netns exec "$TN_NS" "$tmp/late_close_server" "$srv" 443 "$pki/ecdsa.test.crt" \
	"$pki/ecdsa.test.key" alpn 2>"$tmp/server.err" &
server=$!
tn_bg "$server"
tn_wait_listen 10 443 || tn_bail "late_close_server did not start"
seen=$(grep -c '"event":"handshake"' "$log")
alpn_client() { # sni, seconds before it quits, options...
	local sni=$1 wait=$2
	shift 2
	(sleep "$wait"; printf 'Q\n') | timeout 10 openssl s_client -connect "$srv:443" -tls1_3 \
		-servername "$sni" -CAfile "$pki/root.crt" -alpn h2 "$@" >"$tmp/$sni.log" 2>&1
}
# the first waits for its session ticket; the others quit at once (the
# resumed one's protocol must come within the second its handshake waits)
alpn_client first.test 0.5 -sess_out "$tmp/sess"
alpn_client second.test 0 -sess_in "$tmp/sess"
alpn_client third.test 0
wait "$server"
tap_eq "alpn: three handshakes, the second resumed" 0 "$?"
sed 's/^/#   server: /' "$tmp/server.err"
tn_wait_cmd 10 sh -c "[ \$(grep -c '\"event\":\"handshake\"' '$log') -ge $((seen + 3)) ]"
tap_eq "alpn: the resumed handshake with the protocol read at its SSL_free" \
	"first.test False h2|second.test True h2|third.test False h2" "$("$PY" - "$log" "$seen" <<'PYEOF'
import json, sys
hs = [json.loads(l) for l in open(sys.argv[1]) if '"event":"handshake"' in l]
print("|".join(sorted("%s %s %s" % (e.get("sni"), e.get("resumed", False),
                                    e.get("alpn_selected", "-"))
                      for e in hs[int(sys.argv[2]):])))
PYEOF
)"
tn_stop_pid "$AGENT_PID"

echo "# $TN_TESTS tests, $TN_FAILED failed"
[ "$TN_FAILED" -eq 0 ]
