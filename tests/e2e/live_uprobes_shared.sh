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
#   - both: the first as in read, the second as the first of sent; both
#     SSLs are freed before either socket is closed. Before, the thread's
#     one entry took both alerts, and the first close carried them: the
#     first handshake was reported with both, the second with its wire
#     guess only.
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

# One case: late_close_server with MODE, its first client `openssl
# s_client` with OPTIONS1 more, its second one with OPTIONS2; each
# handshake by SNI, its outcome and alerts, are EXPECTED.
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
	printf 'Q\n' | timeout 10 openssl s_client -connect "$srv:443" -tls1_3 \
		-servername first.test "${opts1[@]}" >"$tmp/client1.log" 2>&1
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
tn_stop_pid "$AGENT_PID"

echo "# $TN_TESTS tests, $TN_FAILED failed"
[ "$TN_FAILED" -eq 0 ]
