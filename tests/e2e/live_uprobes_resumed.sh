#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A resumed TLS 1.3 connection that stays open (run --uprobes auto): its
# handshake waits for the ALPN protocol the server's library reads at
# SSL_free, and meanwhile the kernel copies nothing more of it.
#
# `openssl s_server -alpn h2` in the test namespace; `openssl s_client
# -alpn h2` on the host:
#   1. a full connection (its chain view names h2: the server's resumed
#      handshakes wait for their protocol), its session saved;
#   2. a resumed connection that sends nothing and stays open 2 s;
#   3. a resumed connection that sends ~45 kB (15,000 random bytes as hex
#      text) after its handshake and stays open 2 s.
# Both resumed handshakes outlive the wait (a second): reported without
# alpn_selected. The bytes the kernel copied (agent counter bytes_copied)
# for 3. equal those for 2.: the same handshake, ClientHello to the
# server's session tickets, byte for byte (one session, one ticket
# length). The kernel marks the flow done at the decision (within a loop
# turn), long before the client's data starts, 0.3 s after its handshake.
# Before, it was marked at the report, a second later: 3. copied its data
# too, up to --dir-budget (+47,311 bytes against +1,109).
# Needs root. TAP output; exits non-zero on any failure.
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
export BUILD
. tests/e2e/lib_netns.sh
. tests/e2e/lib_uprobes.sh

up_begin live_uprobes_resumed upres openssl ip ss od
log=$tmp/agent.log
up_start_agent "$log" auto --stats-interval 1

up_start_s_server 443 "$tmp/server.log" -tls1_3 -cert "$pki/ecdsa.test.crt" \
	-key "$pki/ecdsa.test.key" -alpn h2

# The agent's stats lines so far.
stats_lines() { grep -c '"counters"' "$log"; }
# bytes_copied once the Nth handshake is reported and a stats line came
# after it (the counter read after the connection's last packet).
copied_after() { # n
	local n
	tn_wait_count 10 '"event":"handshake"' "$log" "$1"
	n=$(stats_lines)
	tn_wait_cmd 10 sh -c "[ \$(grep -c '\"counters\"' '$log') -gt $n ]"
	tn_agent_counter "$log" bytes_copied
}
# One s_client: BYTES random bytes (as hex text) after 0.3 s, open 2 s more.
conn() { # n, data bytes, options...
	local n=$1 bytes=$2
	shift 2
	(sleep 0.3; head -c "$bytes" /dev/urandom | od -An -tx1; sleep 2) |
		timeout 10 openssl s_client -connect "$srv:443" -tls1_3 -servername ecdsa.test \
			-CAfile "$pki/root.crt" -alpn h2 "$@" >"$tmp/client$n.log" 2>&1
}

conn 1 0 -sess_out "$tmp/sess"
b1=$(copied_after 1)
conn 2 0 -sess_in "$tmp/sess"
b2=$(copied_after 2)
conn 3 15000 -sess_in "$tmp/sess"
b3=$(copied_after 3)
tap_eq "both later connections resumed the first's session" "1 1" \
	"$(grep -c '^Reused, TLSv1.3' "$tmp/client2.log") $(grep -c '^Reused, TLSv1.3' "$tmp/client3.log")"
echo "# bytes_copied: after the full one $b1, +$((b2 - b1)) for the resumed one, +$((b3 - b2)) for the one with data"
tap_eq "the resumed connection's data is not copied: the same bytes as without it" \
	"$((b2 - b1))" "$((b3 - b2))"
tn_stop_pid "$AGENT_PID"

tap_eq "three handshakes: full with h2, two resumed that outlived the wait" \
	"False h2|True -|True -" "$("$PY" - "$log" <<'PYEOF'
import json, sys
hs = [json.loads(l) for l in open(sys.argv[1]) if '"event":"handshake"' in l]
print("|".join("%s %s" % (e.get("resumed", False), e.get("alpn_selected", "-"))
               for e in hs))
PYEOF
)"

echo "# $TN_TESTS tests, $TN_FAILED failed"
[ "$TN_FAILED" -eq 0 ]
