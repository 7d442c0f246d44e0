#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A server thread that frees a failed connection's SSL, then serves
# another connection before it closes the failed one's socket (run
# --uprobes auto): the alert its library read stays with the connection
# it was read on.
#
# tests/e2e/lib/late_close_server.c in the test namespace; on the host,
# `openssl s_client` without the test's root (it rejects the server's
# certificate: a fatal alert the server's SSL reads), then one with it.
# The alert, read at the first SSL_free, waits on the thread for a close:
# the second connection's flight (its chain) goes out first and carries
# only its chain; the first socket's close carries the alert. The first
# handshake: failed, the client's alert as the server's library read it;
# the second: ok, no alert. Before, the alert went out with the second
# connection's chain (its first server packet) and was reported as that
# connection's client alert, and the first handshake waited its second for
# a reading that never came.
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

ip netns exec "$TN_NS" "$tmp/late_close_server" "$srv" 443 "$pki/ecdsa.test.crt" \
	"$pki/ecdsa.test.key" 2>"$tmp/server.err" &
server=$!
tn_bg "$server"
tn_wait_listen 10 443 || tn_bail "late_close_server did not start"
printf 'Q\n' | timeout 10 openssl s_client -connect "$srv:443" -tls1_3 \
	-servername ecdsa.test -verify_return_error >"$tmp/client1.log" 2>&1
printf 'Q\n' | timeout 10 openssl s_client -connect "$srv:443" -tls1_3 \
	-servername ecdsa.test -CAfile "$pki/root.crt" >"$tmp/client2.log" 2>&1
wait "$server"
tap_eq "the first handshake failed, the second succeeded" 0 "$?"
sed 's/^/#   server: /' "$tmp/server.err"
tn_wait_cmd 10 sh -c "[ \$(grep -c '\"event\":\"handshake\"' '$log') -ge 2 ]"
tn_stop_pid "$AGENT_PID"

# by outcome: the first connection failed, the second did not
tap_eq "each connection with its own alerts" \
	"failed client:fatal:unknown_ca:server|ok -" "$("$PY" - "$log" <<'PYEOF'
import json, sys
hs = [json.loads(l) for l in open(sys.argv[1]) if '"event":"handshake"' in l]
print("|".join(sorted("%s %s" % (e["outcome"], ";".join(
    "%s:%s:%s:%s" % (a["from"], a["level"], a["description"], a.get("observed", "-"))
    for a in e["alerts"]) or "-") for e in hs)))
PYEOF
)"

echo "# $TN_TESTS tests, $TN_FAILED failed"
[ "$TN_FAILED" -eq 0 ]
