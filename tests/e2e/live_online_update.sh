#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The live agent sends a cert event again when an online answer arrives,
# from the chain it kept for it: the certificate cache frees what it
# evicts, so the chain of a cert event awaiting an answer is pinned
# (pipeline/chain_pins.c). openssl s_server in a test namespace serves
# revoked.test of a fresh test PKI (scripts/make-health-pki.sh) whose OCSP
# URL is an `openssl ocsp` responder on the host's loopback that calls it
# revoked; the agent (--online, the PKI's root as --ca-file) watches one
# real handshake. Asserted: two cert events for the leaf, the first
# without a revocation answer yet (pending), the second "revoked" by the
# responder, both naming the served leaf and its intermediate. Needs root.
# TAP output.
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
export BUILD
. tests/e2e/lib_netns.sh

tn_require_root live_online_update
tn_require_cmds openssl ip ss timeout
tn_require_tlswatch
PY=/usr/bin/python3

tmp=$(tn_tmpdir)
pki=$tmp/pki
ocsp_port=$($PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
scripts/make-health-pki.sh "$pki" none "$ocsp_port" >"$tmp/pki.log" 2>&1 ||
	tn_bail "making the PKI: $(tail -3 "$tmp/pki.log")"
tn_setup lou
srv=$TN_PEER4

openssl ocsp -index "$pki/inter-index.txt" -CA "$pki/inter.crt" -rsigner "$pki/inter.crt" \
	-rkey "$pki/inter.key" -port "$ocsp_port" -ndays 1 >"$tmp/ocsp.log" 2>&1 &
tn_bg $!
tn_wait_grep 10 "waiting for OCSP client connections" "$tmp/ocsp.log" ||
	tn_bail "openssl ocsp did not start: $(tail -3 "$tmp/ocsp.log")"

tn_s_server_on 443 "$tmp/server.log" -cert "$pki/revoked.test.crt" \
	-key "$pki/revoked.test.key" -cert_chain "$pki/inter.crt"
tn_wait_listen 10 443 || tn_bail "openssl s_server did not start"
log=$tmp/agent.jsonl
tn_start_agent "$log" --no-active-check --online --no-metrics \
	--db "$tmp/inventory.db" --stats-interval 3600 --ca-file "$pki/root.crt" ||
	tn_bail "tlswatch run did not start"

printf 'GET / HTTP/1.0\r\n\r\n' |
	timeout 10 openssl s_client -connect "$srv:443" -servername revoked.test \
		-tls1_2 -CAfile "$pki/root.crt" >"$tmp/client.log" 2>&1 ||
	tap_fail "s_client completes" "$(tail -3 "$tmp/client.log")"
tn_wait_count 15 '"event":"cert"' "$log" 2 ||
	tap_fail "the agent sends the cert event again with the answer" "$(grep '"event":"cert"' "$log")"
agent_rc=0
tn_stop_agent || agent_rc=$?
tap_eq "agent exits 0 on SIGTERM" 0 "$agent_rc"

# "revocation status|findings|leaf sha256|chain_sha256" of each cert event
events=$($PY - "$log" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e.get("event") != "cert":
        continue
    r = e.get("revocation") or {}
    kinds = ",".join(sorted(f["kind"] for f in e.get("findings", [])))
    print("%s|%s|%s|%s" % (r.get("method", "-") + ":" + r.get("status", "-"), kinds,
                           e["sha256"], ",".join(e["chain_sha256"])))
PY
)
leaf=$(cat "$pki/fp/revoked.test")
inter=$(openssl x509 -in "$pki/inter.crt" -outform DER | sha256sum | cut -d' ' -f1)
tap_eq "two cert events" 2 "$(printf '%s\n' "$events" | grep -c .)"
tap_eq "the first: no answer yet" \
	"-:-||$leaf|$inter" "$(printf '%s\n' "$events" | sed -n 1p)"
tap_eq "the second: the responder's answer, from the kept chain" \
	"ocsp:revoked|revoked|$leaf|$inter" "$(printf '%s\n' "$events" | sed -n 2p)"
