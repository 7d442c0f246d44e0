#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# ClientHellos written one byte per TCP segment are seen.
#
# The kernel side collects a record header across segments while it
# probes a connection (bpf/tlswatch.bpf.c, tw_head_add). On a test network
# namespace joined to the host by a veth pair, CLIENTS x PER_CLIENT real
# ClientHellos (tests/e2e/lib/hello_flood.py bytewise: TCP_NODELAY, one
# byte per write) go to `openssl s_server`, each with its own SNI; the
# client reads the server's first byte and resets. Every one must be a
# handshake event with its SNI and a ServerHello (outcome aborted: the
# client reset before finishing), and the kernel side must have seen at
# least one watched packet per hello byte.
# Needs root. TAP output; exits non-zero on any failure.
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
export BUILD
. tests/e2e/lib_netns.sh

tn_require_root live_bytewise
tn_require_cmds openssl ip ss timeout
tn_require_tlswatch

PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
CLIENTS=4
PER_CLIENT=50
TOTAL=$((CLIENTS * PER_CLIENT))

tmp=$(tn_tmpdir)
pki=$tmp/pki
tn_make_pki "$pki"
tn_setup byt
tn_start_s_server "$tmp/server.log" -cert "$pki/ecdsa.test.crt" \
	-key "$pki/ecdsa.test.key" -cert_chain "$pki/inter.crt"

log=$tmp/bytewise.jsonl
tn_start_agent "$log" --no-active-check --stats-interval 3600 ||
	tn_bail "tlswatch run did not start"
pids=()
for c in $(seq "$CLIENTS"); do
	timeout 120 "$PY" tests/e2e/lib/hello_flood.py bytewise --addr "$TN_PEER4" \
		--count "$PER_CLIENT" --sni-prefix "byte$c-" >"$tmp/client$c.out" 2>&1 &
	pids+=("$!")
	tn_bg "$!"
done
for p in "${pids[@]}"; do
	wait "$p"
done
sent=0 answered=0
for c in $(seq "$CLIENTS"); do
	read -r s a < <("$PY" -c 'import json,sys; d = json.load(open(sys.argv[1])); print(d["sent"], d["answered"])' \
		"$tmp/client$c.out" 2>/dev/null)
	sent=$((sent + ${s:-0}))
	answered=$((answered + ${a:-0}))
done
tap_eq "every byte-by-byte hello was sent" "$TOTAL" "$sent"
tap_eq "the server answered every one" "$TOTAL" "$answered"
tn_wait_count 15 '"event":"handshake"' "$log" "$TOTAL"
tn_stop_agent
tap_eq "agent exits 0 on SIGTERM" 0 "$?"

"$PY" - "$log" "$CLIENTS" "$PER_CLIENT" >"$tmp/check" <<'PYEOF'
import json, sys
log, clients, per = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
want = {"byte%d-%d.test" % (c, i) for c in range(1, clients + 1) for i in range(per)}
seen, answered, stopped = set(), 0, {}
for line in open(log):
    e = json.loads(line)
    if e.get("event") == "handshake" and e.get("sni") in want:
        seen.add(e["sni"])
        answered += "version" in e   # the ServerHello was seen
    if e.get("event") == "agent" and e.get("state") == "stopped":
        stopped = e.get("counters", {})
print("names", len(seen))
print("with_server_hello", answered)
print("tracked", stopped.get("flows_tracked"))
print("watched", stopped.get("packets_watched"))
PYEOF
tap_eq "a handshake event with its SNI for every hello" "$TOTAL" "$(awk '$1 == "names" { print $2 }' "$tmp/check")"
tap_eq "each with the server's answer seen" "$TOTAL" "$(awk '$1 == "with_server_hello" { print $2 }' "$tmp/check")"
tap_eq "the kernel side tracked each connection" "$TOTAL" "$(awk '$1 == "tracked" { print $2 }' "$tmp/check")"
watched=$(awk '$1 == "watched" { print $2 }' "$tmp/check")
if [ "${watched:-0}" -ge $((TOTAL * 200)) ] 2>/dev/null; then
	tap_ok "the hellos went a byte per segment ($watched watched packets, at least 200 per hello)"
else
	tap_fail "the hellos went a byte per segment (at least 200 watched packets per hello)" "packets_watched: $watched"
fi

echo "# $TN_TESTS tests, $TN_FAILED failed"
[ "$TN_FAILED" -eq 0 ]
