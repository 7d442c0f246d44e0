#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A name served with an RSA and an ECDSA certificate side by side (nginx,
# several ssl_certificate lines), then its rollback to the older RSA one
# alone.
#
# nginx (Debian's nginx-light) in a test namespace serves dual.test with
# the RSA leaf (older: not before 2025-01-01), the ECDSA leaf (newer:
# 2025-06-01) and an Ed25519 leaf (2025-03-01) of
# scripts/make-dual-certs.sh; the agent runs on the host end of the veth,
# tcpdump beside it. Clients force each key type (`openssl s_client
# -sigalgs ECDSA+SHA256`, `-sigalgs RSA-PSS+SHA256:RSA+SHA256`, `-sigalgs
# ed25519`) or offer all (OpenSSL's default, ECDSA first), in TLS 1.3 and
# TLS 1.2. Asserted:
#   - one handshake event per client, in order, and every TLS 1.2 one
#     carries exactly the leaf that client received (fingerprints computed
#     apart: openssl x509 -outform DER | sha256sum);
#   - the active check (triggered by the TLS 1.3 handshakes) reports the
#     three leaves, each as a cert event with "observed": "active";
#   - no superseded finding while they are served side by side;
#   - nginx reloaded with the RSA leaf alone while clients keep coming:
#     the first handshake with a superseded finding is the first one that
#     served the RSA leaf to a client preferring ECDSA, its cert event's
#     detail names the ECDSA leaf and the evidence, and every later
#     handshake that served the RSA leaf (RSA-only clients included) has it
#     (if an old worker still served the ECDSA leaf during the graceful
#     reload, from the next client offering both served the RSA leaf: the
#     newer leaf served again withdraws the recorded evidence);
#   - `tlswatch analyze` of the tcpdump capture finds the same first one.
# An RSA-only client served the RSA leaf after the reload but before any
# client preferring ECDSA came is, by the rule (README, superseded), no
# evidence of a rollback: the clients here take turns, the one offering
# both first.
# Needs root. TAP output; exits non-zero on any failure.
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
export BUILD
. tests/e2e/lib_netns.sh
. scripts/lib/common.sh

tn_require_root live_dual_cert
tn_require_cmds openssl tcpdump nginx ip ss sha256sum timeout
tn_require_tlswatch
PY=/usr/bin/python3
FACTS=tests/e2e/lib/dual_cert.py

tmp=$(tn_tmpdir)
tn_make_pki "$tmp/pki"
scripts/make-dual-certs.sh "$tmp/pki" "$tmp/ca" >"$tmp/ca.log" 2>&1 ||
	tn_bail "scripts/make-dual-certs.sh failed: $(tail -5 "$tmp/ca.log")"
for k in rsa ecdsa ed25519; do
	cat "$tmp/ca/$k.crt" "$tmp/pki/inter.crt" >"$tmp/ca/$k.chain.pem"
done
fp_rsa=$(cert_sha256 "$tmp/ca/rsa.crt")
fp_ecdsa=$(cert_sha256 "$tmp/ca/ecdsa.crt")
fp_ed25519=$(cert_sha256 "$tmp/ca/ed25519.crt")

tn_setup dual
srv=$TN_PEER4

# --- nginx -----------------------------------------------------------------
ngx=$tmp/nginx
mkdir -p "$ngx"
# The server block with the leaves given (rsa, ecdsa, ed25519).
nginx_conf() { # leaves...
	local k
	{
		echo "worker_processes 1; pid $ngx/nginx.pid; error_log $ngx/error.log;"
		echo "user root; events { worker_connections 64; }"
		echo "http { access_log off; client_body_temp_path $ngx/body;"
		echo " server { listen $srv:443 ssl; server_name dual.test;"
		echo "  ssl_protocols TLSv1.2 TLSv1.3; ssl_session_tickets off;"
		for k in "$@"; do
			echo "  ssl_certificate $tmp/ca/$k.chain.pem;"
			echo "  ssl_certificate_key $tmp/ca/$k.key;"
		done
		echo "  location / { return 200 \"ok\\n\"; } } }"
	} >"$ngx/nginx.conf"
}
nginx_conf rsa ecdsa ed25519
ip netns exec "$TN_NS" nginx -e "$ngx/error.log" -c "$ngx/nginx.conf" -g 'daemon off;' \
	>"$ngx/stdout" 2>&1 &
ngx_pid=$!
tn_bg "$ngx_pid"
tn_wait_listen 10 443 || tn_bail "nginx did not start: $(tail -3 "$ngx/error.log")"

# --- clients ---------------------------------------------------------------
clients=$tmp/clients
: >"$clients"
# One client; appends "phase kind version sha" (sha of the leaf it
# received, "-" when the handshake failed) to $clients.
client() { # phase kind(ecdsa|rsa|ed25519|both) version(tls1_2|tls1_3)
	local args=() out sha=-
	case $2 in
	ecdsa) args=(-sigalgs ECDSA+SHA256) ;;
	rsa) args=(-sigalgs RSA-PSS+SHA256:RSA+SHA256) ;;
	ed25519) args=(-sigalgs ed25519) ;;
	esac
	# the exit status says how the connection ended, not the handshake
	out=$(printf 'GET / HTTP/1.0\r\nHost: dual.test\r\n\r\n' |
		timeout 10 openssl s_client -connect "$srv:443" -servername dual.test \
			"-$3" "${args[@]}" -ign_eof 2>/dev/null)
	if printf '%s\n' "$out" | grep -q '^-----BEGIN CERTIFICATE-----'; then
		sha=$(printf '%s\n' "$out" |
			sed -n '/-----BEGIN CERTIFICATE-----/,/-----END CERTIFICATE-----/p' |
			openssl x509 -outform DER 2>/dev/null | sha256sum | cut -d' ' -f1)
	fi
	echo "$1 $2 $3 $sha" >>"$clients"
}

log=$tmp/agent.jsonl
pcap=$tmp/dual.pcap
tn_start_tcpdump "$pcap" tcp port 443 || tn_bail "tcpdump did not start on $TN_HOST_IF"
tn_start_agent "$log" --stats-interval 1 || tn_bail "tlswatch run did not start"

# --- 1. the certificates side by side --------------------------------------
for kind in both ecdsa rsa ed25519; do
	client dual "$kind" tls1_3
done
tn_wait_cmd 30 sh -c "[ \"\$($PY $FACTS active-certs '$log' | wc -w)\" -ge 3 ]"
tap_eq "the active check reports the three leaves, observed active" \
	"$(printf '%s\n' "$fp_rsa" "$fp_ecdsa" "$fp_ed25519" | sort | tr '\n' ' ' | sed 's/ $//')" \
	"$($PY $FACTS active-certs "$log")"
for kind in both ecdsa rsa ed25519; do
	client dual "$kind" tls1_2
done
# what each client received, as it says: the server's choice
for v in tls1_3 tls1_2; do
	for want in "both $fp_ecdsa" "ecdsa $fp_ecdsa" "rsa $fp_rsa" "ed25519 $fp_ed25519"; do
		tap_eq "$v: the ${want%% *} client receives the leaf of its key type" "${want#* }" \
			"$(awk -v k="${want%% *}" -v v="$v" '$1 == "dual" && $2 == k && $3 == v { print $4 }' "$clients")"
	done
done

# --- 2. the RSA certificate alone, while clients keep coming ---------------
# Clients take turns (both, ecdsa, rsa) until an ECDSA-only client has
# failed (the reload is in force) and three more turns passed.
rounds=0 after=0
while [ "$rounds" -lt 60 ] && [ "$after" -lt 3 ]; do
	rounds=$((rounds + 1))
	[ "$rounds" -eq 2 ] && { nginx_conf rsa; kill -HUP "$ngx_pid"; }
	for kind in both ecdsa rsa; do
		client rollback "$kind" tls1_2
	done
	if [ "$after" -gt 0 ] || tail -3 "$clients" | grep -q '^rollback ecdsa tls1_2 -$'; then
		after=$((after + 1))
	fi
done
tap_eq "the reload took effect (an ECDSA-only client failed, then 3 more turns)" 3 "$after"
tn_stop_agent_and_tcpdump "$pcap"

n=$(grep -c . "$clients")
tap_eq "one handshake event per client, each with the leaf its client received" \
	"all $n match" "$($PY $FACTS matches "$clients" "$log")"
tap_eq "no superseded while the leaves were served side by side" 0 \
	"$($PY $FACTS superseded-before rollback "$clients" "$log")"
first=$($PY $FACTS first-superseded "$clients" "$log")
first_i=${first%% *}
first_rest=${first#* }
tap_eq "superseded first fires on a handshake serving the RSA leaf to a client offering both" \
	"both $fp_rsa" "$first_rest"
want_first=$(awk '$1 == "rollback" { n++ } $1 == "rollback" && $2 == "both" && $4 == rsa { print NR - 1; exit }' \
	rsa="$fp_rsa" "$clients")
tap_eq "... the first such handshake after the reload" "$want_first" "$first_i"
tap_eq "every later handshake serving the RSA leaf has superseded (RSA-only clients too)" 0 \
	"$($PY $FACTS unflagged-after "$first_i" "$fp_rsa" "$clients" "$log")"
detail=$($PY $FACTS cert-detail "$fp_rsa" "$log")
case $detail in
"newer certificate $fp_ecdsa (not_before 2025-06-01T00:00:00Z) was served for dual.test since "*"; key EC-P256, evidence client_preferred (offered EC>"*"RSA)")
	tap_ok "the RSA leaf's cert event names the ECDSA leaf and the evidence" ;;
*) tap_fail "the RSA leaf's cert event names the ECDSA leaf and the evidence" "got: $detail" ;;
esac

# --- 3. the same from the capture ------------------------------------------
alog=$tmp/analyze.jsonl
"$BUILD/tlswatch" analyze --json "$pcap" >"$alog" 2>"$alog.stderr"
tap_eq "analyze exits 0" 0 "$?"
adetail=$($PY $FACTS cert-detail "$fp_rsa" "$alog")
case $adetail in
"newer certificate $fp_ecdsa (not_before 2025-06-01T00:00:00Z) was served for dual.test since "*"; key EC-P256, evidence client_preferred (offered EC>"*"RSA)")
	tap_ok "analyze: superseded on the RSA leaf, naming the ECDSA leaf and the evidence" ;;
*) tap_fail "analyze: superseded on the RSA leaf, naming the ECDSA leaf and the evidence" "got: $adetail" ;;
esac
live_port=$($PY - "$log" <<'PY'
import json, sys
hs = sorted((json.loads(l) for l in open(sys.argv[1]) if '"event":"handshake"' in l), key=lambda e: e["ts"])
print(next((h["client"]["port"] for h in hs if any(f["kind"] == "superseded" for f in h.get("findings", []))), "none"))
PY
)
an_port=$($PY - "$alog" <<'PY'
import json, sys
hs = sorted((json.loads(l) for l in open(sys.argv[1]) if '"event":"handshake"' in l), key=lambda e: e["ts"])
print(next((h["client"]["port"] for h in hs if any(f["kind"] == "superseded" for f in h.get("findings", []))), "none"))
PY
)
tap_eq "analyze: the first superseded handshake is the live one (client port)" "$live_port" "$an_port"

if [ "$TN_FAILED" -ne 0 ]; then
	sed 's/^/#   clients: /' "$clients" | head -60
	$PY $FACTS dump "$log" | sed 's/^/#   handshake: /' | head -60
	sed 's/^/#   agent stderr: /' "$log.stderr" | head -20
	tail -5 "$ngx/error.log" | sed 's/^/#   nginx: /'
fi
