#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Records the 2018 incident as one capture, for the HTML report's test and
# the README's screenshot:
#
#   scripts/make-incident-capture.sh OUT_DIR
#
# In a network namespace, a real openssl s_server for a.test serves, in
# turn: B (the new certificate), then A (the old one, revoked by now: the
# CDN re-deployed it by mistake), then B again. Clients that check the CRL
# reject A with a fatal certificate_revoked alert: a failure burst under A.
# tcpdump on the host end of the veth records it all.
#
# OUT_DIR receives incident.pcap, root.crt and inter.crl (for analyze's
# --ca-file and --crl), and facts.txt (KEY=VALUE: the fingerprints of A and
# B, computed with openssl, and the handshakes made per phase and outcome).
# With INCIDENT_AGENT=DIR, a live `tlswatch run` (BUILD, default build/)
# watches the same traffic on the same interface, with --db DIR/agent.db
# (the inventory and its event history) and --json-log DIR/agent.jsonl,
# and is stopped (SIGTERM) at the end; its exit status goes into facts.txt
# as agent_rc.
# Needs root (network namespace, tcpdump). About 20 seconds.
set -u
cd "$(dirname "$0")/.." || exit 1
out=$1
mkdir -p "$out" || exit 1
. tests/e2e/lib_netns.sh
tn_require_root make-incident-capture
tn_require_cmds openssl tcpdump ip ss sha256sum timeout

PHASE_GOOD=12       # good handshakes while B is served first
PHASE_GOOD_AFTER=28 # and after A: long enough (about 7 s) for a spike
                    # judged on 5 s windows (--spike-window 5
                    # --spike-min-failures 10) to resolve
PHASE_BAD=24        # CRL-checking clients while A is served: all fail
PHASE_BAD_OK=4      # clients that do not check revocation: they pass

tmp=$(tn_tmpdir)
pki=$tmp/pki ca=$tmp/ca
scripts/make-health-pki.sh "$pki" none none >"$tmp/pki.log" 2>&1 ||
	tn_bail "scripts/make-health-pki.sh failed: $(cat "$tmp/pki.log")"
scripts/make-2018-certs.sh "$pki" "$ca" >"$tmp/ca.log" 2>&1 ||
	tn_bail "scripts/make-2018-certs.sh failed: $(cat "$tmp/ca.log")"
fp() { openssl x509 -in "$1" -outform DER | sha256sum | cut -d' ' -f1; }

tn_setup inc
tn_start_tcpdump "$out/incident.pcap" tcp port 443 || tn_bail "tcpdump did not start"
if [ -n "${INCIDENT_AGENT:-}" ]; then
	tn_start_agent "$INCIDENT_AGENT/agent.jsonl" --no-active-check --no-online \
		--ca-file "$pki/root.crt" --crl "$ca/inter.crl" --spike-window 5 \
		--spike-min-failures 10 --db "$INCIDENT_AGENT/agent.db" ||
		tn_bail "tlswatch run did not start"
fi

client() { # extra s_client options...: 0 when the handshake succeeded
	printf 'GET / HTTP/1.0\r\n\r\n' | timeout 5 openssl s_client \
		-connect "$TN_PEER4:443" -servername a.test -tls1_2 \
		-CAfile "$pki/root.crt" -verify_return_error "$@" >/dev/null 2>&1
}

# Serves LEAF to COUNT clients; sets SERVED_OK to how many succeeded. Not
# in a subshell: the server is registered for cleanup in this shell.
serve() { # leaf, count, client options...
	local leaf=$1 count=$2 ok=0
	shift 2
	tn_start_s_server "$tmp/server.$leaf.log" -cert "$ca/$leaf.crt" \
		-key "$ca/$leaf.key" -cert_chain "$pki/inter.crt"
	for _ in $(seq "$count"); do
		client "$@" && ok=$((ok + 1))
		sleep 0.2
	done
	tn_stop_s_server
	SERVED_OK=$ok
}

crl=(-crl_check -CRL "$ca/inter.crl")
serve B "$PHASE_GOOD" "${crl[@]}"
b1=$SERVED_OK
sleep 1.1
# A is back: most clients check the CRL and fail, a few do not check.
serve A "$PHASE_BAD" "${crl[@]}"
a_bad=$SERVED_OK
serve A "$PHASE_BAD_OK"
a_ok=$SERVED_OK
sleep 1.1
serve B "$PHASE_GOOD_AFTER" "${crl[@]}"
b2=$SERVED_OK
sleep 0.3
tn_stop_capture "${INCIDENT_AGENT:-}" "$out/incident.pcap"
agent_rc=$TN_AGENT_RC
cp "$pki/root.crt" "$ca/inter.crl" "$out/" || exit 1
cat >"$out/facts.txt" <<FACTS
fp_a=$(fp "$ca/A.crt")
fp_b=$(fp "$ca/B.crt")
serial_a=$(openssl x509 -in "$ca/A.crt" -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f')
serial_b=$(openssl x509 -in "$ca/B.crt" -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f')
b1_ok=$b1
a_failed=$((PHASE_BAD - a_bad))
a_ok=$((a_bad + a_ok))
b2_ok=$b2
agent_rc=$agent_rc
FACTS
tn_note "wrote $out/incident.pcap"
