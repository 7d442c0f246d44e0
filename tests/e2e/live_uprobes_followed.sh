#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Which servers' resumed TLS 1.3 handshakes wait for the ALPN protocol
# their library reads at SSL_free (run --uprobes auto): those whose
# library has named a protocol it selected, on a full connection or on a
# resumed one.
#
# `openssl s_server -alpn h2` on 443 and `openssl s_server` without ALPN
# on 8443, in the test namespace; `openssl s_client -alpn h2` on the host:
#   1. before the agent starts, a full connection to 443 (its session
#      saved): the agent never sees a chain view of that server;
#   2. a resumed connection to 443: not followed yet, reported at once
#      without alpn_selected; its SSL_free names h2, which the agent takes
#      once its close is bound (uprobe_binds);
#   3. a resumed connection to 443: waits for its protocol and gets h2.
#      Before, only a view with a chain noted a server: a server whose
#      clients resumed sessions from before the agent started (or from
#      full handshakes it missed) had every resumed handshake reported
#      without alpn_selected until a full one with ALPN came;
#   4. a full connection to 8443 offering h2 (the server selects none)
#      and its resumption: both without alpn_selected. A server that
#      never selects a protocol names none, so it is never followed: its
#      resumed handshakes lose nothing by not waiting, and do not wait.
# Needs root. TAP output; exits non-zero on any failure.
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
export BUILD
. tests/e2e/lib_netns.sh
. tests/e2e/lib_uprobes.sh

up_begin live_uprobes_followed upfol openssl ip ss
log=$tmp/agent.log

up_start_s_server 443 "$tmp/server.log" -tls1_3 -cert "$pki/ecdsa.test.crt" \
	-key "$pki/ecdsa.test.key" -alpn h2
# A second s_server, no ALPN, its stdin a fifo of its own held on fd 8.
mkfifo "$tmp/server2.in"
ip netns exec "$TN_NS" openssl s_server -quiet -accept "$srv:8443" -tls1_3 \
	-cert "$pki/ecdsa.test.crt" -key "$pki/ecdsa.test.key" \
	<"$tmp/server2.in" >"$tmp/server2.log" 2>&1 &
tn_bg $!
exec 8>"$tmp/server2.in"
tn_wait_listen 10 8443 || tn_bail "openssl s_server on port 8443 did not start"

# One s_client to PORT, closed at once (stdin at its end), or, with
# -sess_out FILE, once FILE is written: TLS 1.3 sends its session ticket
# after the handshake.
conn() { # n, port, options...
	local n=$1 port=$2 sess=
	shift 2
	[ "$1" = -sess_out ] && sess=$2
	{ [ -z "$sess" ] || tn_wait_cmd 10 test -s "$sess"; } |
		timeout 10 openssl s_client -connect "$srv:$port" -tls1_3 -servername ecdsa.test \
			-CAfile "$pki/root.crt" -alpn h2 "$@" >"$tmp/client$n.log" 2>&1
}
# Until N handshake events are in the log.
handshakes() { # n
	tn_wait_count 10 '"event":"handshake"' "$log" "$1" ||
		tn_bail "no handshake event number $1"
}
# Whether the agent's last stats say N packets named a connection.
binds_are() { # n
	[ "$(tn_agent_counter "$log" uprobe_binds)" = "$1" ]
}

conn 1 443 -sess_out "$tmp/sess443"
up_start_agent "$log" auto --port 8443 --stats-interval 1

conn 2 443 -sess_in "$tmp/sess443"
handshakes 1
# Its close bound (the one bind: a resumed connection's protocol), and a
# stats line after that one: the agent has taken the view.
tn_wait_cmd 10 binds_are 1 ||
	tn_bail "the resumed connection's close was not bound"
n=$(grep -c '"counters"' "$log")
tn_wait_cmd 10 sh -c "[ \$(grep -c '\"counters\"' '$log') -gt $n ]"

conn 3 443 -sess_in "$tmp/sess443"
handshakes 2
conn 4 8443 -sess_out "$tmp/sess8443"
handshakes 3
conn 5 8443 -sess_in "$tmp/sess8443"
handshakes 4
tn_stop_pid "$AGENT_PID"

tap_eq "three of the four later connections resumed" "1 1 0 1" \
	"$(for n in 2 3 4 5; do grep -c '^Reused, TLSv1.3' "$tmp/client$n.log"; done | xargs)"
tap_eq "443: resumed at once without h2, resumed with h2; 8443: none for either" \
	"443 True -|443 True h2|8443 False -|8443 True -" "$("$PY" - "$log" <<'PYEOF'
import json, sys
hs = [json.loads(l) for l in open(sys.argv[1]) if '"event":"handshake"' in l]
print("|".join("%s %s %s" % (e["server"]["port"], e.get("resumed", False),
                             e.get("alpn_selected", "-")) for e in hs))
PYEOF
)"

echo "# $TN_TESTS tests, $TN_FAILED failed"
[ "$TN_FAILED" -eq 0 ]
