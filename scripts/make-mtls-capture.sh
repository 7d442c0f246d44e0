#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Records mutual-TLS handshakes (client certificates) of real openssl
# s_server / s_client pairs as one capture:
#
#   scripts/make-mtls-capture.sh OUT_DIR
#
# In a network namespace, one `openssl s_server -Verify 1 -CAfile root.crt`
# (rsa.test of tests/data/pki) per scenario, each on its own port, so a
# handshake is named by its server port:
#   4431  TLS 1.3, -num_tickets 0, the client's certificate accepted
#   4432  TLS 1.3, session tickets, the client's certificate accepted
#   4433  TLS 1.2, the client's certificate accepted
#   4434  TLS 1.3, -num_tickets 0, a self-signed client certificate: the
#         server refuses it (an encrypted alert after the client's flight)
#   4435  TLS 1.2, the same: the server's alert in plaintext
#   4436  TLS 1.3, -num_tickets 0, a client that does not trust the
#         server's chain refuses it (its alert in plaintext: it has not
#         switched its write side to the handshake keys yet)
# Each client waits MTLS_WAIT seconds (0.7) after the handshake, then
# reads "Q": close_notify, which a server without tickets answers with its
# own. tcpdump on the host end of the veth records it all.
#
# OUT_DIR receives mtls.pcap and facts.txt (KEY=VALUE: port.N.rc, the
# exit status of the s_client of port N). With MTLS_AGENT=DIR, a live
# `tlswatch run` (BUILD, default build/, --ca-file root.crt) on the same
# interface writes DIR/agent.jsonl and is stopped (SIGTERM) at the end: its exit status
# goes into facts.txt as agent_rc.
# Needs root (network namespace, tcpdump). About 10 seconds.
set -u
cd "$(dirname "$0")/.." || exit 1
out=$1
mkdir -p "$out" || exit 1
. tests/e2e/lib_netns.sh
. tests/e2e/lib_uprobes.sh
tn_require_root make-mtls-capture
tn_require_cmds openssl tcpdump ip ss timeout
MTLS_WAIT=${MTLS_WAIT:-0.7}
PORTS=(4431 4432 4433 4434 4435 4436)

tmp=$(tn_tmpdir)
pki=tests/data/pki
mkdir -p "$tmp/stranger" || exit 1
up_make_client_cert "$pki" "$tmp"      # signed by root: accepted
tn_ec_cert "$tmp/stranger" stranger    # self-signed: refused

tn_setup mtls
tn_start_tcpdump "$out/mtls.pcap" tcp || tn_bail "tcpdump did not start"
if [ -n "${MTLS_AGENT:-}" ]; then
	port_args=()
	for p in "${PORTS[@]}"; do port_args+=(--port "$p"); done
	TN_AGENT_PORT='' tn_start_agent "$MTLS_AGENT/agent.jsonl" "${port_args[@]}" \
		--ca-file "$pki/root.crt" --no-active-check --no-online ||
		tn_bail "tlswatch run did not start"
fi

server() { # port, s_server options...
	local port=$1
	shift
	tn_s_server_on "$port" "$tmp/server.$port.log" -cert "$pki/rsa.test.crt" \
		-key "$pki/rsa.test.key" -cert_chain "$pki/inter.crt" \
		-Verify 1 -CAfile "$pki/root.crt" -verify_return_error "$@"
}
server 4431 -tls1_3 -num_tickets 0
server 4432 -tls1_3
server 4433 -tls1_2
server 4434 -tls1_3 -num_tickets 0
server 4435 -tls1_2
server 4436 -tls1_3 -num_tickets 0

# One s_client to PORT (SNI rsa.test) with OPTIONS; its exit status goes
# to facts.txt.
client() { # port, s_client options...
	local port=$1 rc=0
	shift
	{ sleep "$MTLS_WAIT"; echo Q; } |
		timeout 10 openssl s_client -connect "$TN_PEER4:$port" -servername rsa.test \
			"$@" >"$tmp/client.$port.log" 2>&1 || rc=$?
	echo "port.$port.rc=$rc" >>"$out/facts.txt"
}
: >"$out/facts.txt"
trusts=(-CAfile "$pki/root.crt" -verify_return_error)
mine=(-cert "$tmp/client.crt" -key "$tmp/client.key")
stranger=(-cert "$tmp/stranger/cert.pem" -key "$tmp/stranger/key.pem")
client 4431 "${trusts[@]}" "${mine[@]}"
client 4432 "${trusts[@]}" "${mine[@]}"
client 4433 "${trusts[@]}" "${mine[@]}"
client 4434 "${trusts[@]}" "${stranger[@]}"
client 4435 "${trusts[@]}" "${stranger[@]}"
client 4436 -no-CAfile -no-CApath -no-CAstore -verify_return_error "${mine[@]}"
sleep 1.5   # the last segments through the agent's ring buffer

tn_stop_capture "${MTLS_AGENT:-}" "$out/mtls.pcap"
agent_rc=$TN_AGENT_RC
echo "agent_rc=$agent_rc" >>"$out/facts.txt"
tn_note "wrote $out/mtls.pcap"
