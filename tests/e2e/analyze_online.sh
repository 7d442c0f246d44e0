#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# analyze --online judges every handshake with the answers from the network:
# a real capture (openssl s_server/s_client, tcpdump) of a leaf that the
# OCSP responder (openssl ocsp) calls revoked and of a leaf under an
# intermediate that the root's CRL (served over HTTP) revokes. The
# handshake events, the summary's finding counts, --fail-on revoked and the
# text report all say revoked, exactly as with the same CRLs given as
# --crl files; a good leaf stays good; no cert event is sent twice.
set -u
cd "$(dirname "$0")/../.."
. tests/e2e/lib/health.sh
health_setup "$0" "$@"

http_port=$(free_port)
ocsp_port=$(free_port)
tls_port=$(free_port)
pki=$work/pki
make_pki "$pki" "$http_port" "$ocsp_port"
revoked=$(fp "$pki" revoked.test) victim=$(fp "$pki" victim.test) good=$(fp "$pki" good.test)

# ---- the capture: three TLS 1.2 servers, one handshake each
cap=$work/online.pcap
capture_start "$cap" "$tls_port"
capture_handshake "$pki" revoked.test
capture_handshake "$pki" victim.test
capture_handshake "$pki" good.test
capture_stop
check "the capture holds three handshakes" \
	test "$("$TW" analyze --json "$cap" | python3 -c 'import json,sys; print([json.loads(l) for l in sys.stdin][-1]["handshakes"])')" = 3

# ---- the same verdicts from CRL files, for comparison
run_analyze() { # name, args...
	local name=$1 rc=0
	shift
	timeout 60 "$TW" analyze --ca-file "$pki/root.crt" "$@" "$cap" >"$work/$name.out" 2>"$work/$name.err" || rc=$?
	echo "$rc" >"$work/$name.rc"
}
run_analyze crl_json --json --crl "$pki/crl/inter.pem" --crl "$pki/crl/root.pem" --fail-on revoked

start_http "$pki/www" "$http_port" || exit 1
start_ocsp "$pki" inter-index.txt inter "$ocsp_port" || exit 1
# The responder logs a line per request it reads ("waiting for OCSP client
# connections" is there from its start): counted after each run.
ocsp_asked() { grep -c "Received request, 1st line: POST " "$work/ocsp.$ocsp_port.log"; }
run_analyze online_json --json --online --ocsp-timeout 3000 --fail-on revoked
asked_json=$(ocsp_asked)
run_analyze online_text --online --ocsp-timeout 3000
asked_text=$(ocsp_asked)
# Offline with the servers up: nothing is asked for.
run_analyze offline_json --json --fail-on revoked
asked_offline=$(ocsp_asked)

# handshake findings per leaf, summary finding counts, exit status
verdicts() { # file
	python3 - "$1" "$revoked" "$victim" "$good" <<-'EOF'
	import json, sys
	ev = [json.loads(l) for l in open(sys.argv[1])]
	names = {sys.argv[2]: "revoked.test", sys.argv[3]: "victim.test", sys.argv[4]: "good.test"}
	for e in ev:
	    if e["event"] == "handshake":
	        kinds = ",".join(sorted(f["kind"] for f in e.get("findings", [])))
	        print("handshake %s: %s" % (names.get(e["chain"][0]["sha256"], "?"), kinds or "-"))
	s = [e for e in ev if e["event"] == "summary"][0]
	print("finding_counts: %s" % json.dumps(s["finding_counts"], sort_keys=True))
	EOF
}
want="handshake revoked.test: revoked
handshake victim.test: revoked
handshake good.test: -
finding_counts: {\"revoked\": 2}"
check "CRL files: the handshakes and the summary say revoked" test "$(verdicts "$work/crl_json.out")" = "$want"
check "CRL files: --fail-on revoked exits 1" test "$(cat "$work/crl_json.rc")" = 1
got=$(verdicts "$work/online_json.out")
check "--online: the handshakes and the summary say revoked" test "$got" = "$want"
[ "$got" = "$want" ] || { echo "# got:"; echo "$got" | sed 's/^/#   /'; sed 's/^/# stderr: /' "$work/online_json.err"; }
check "--online: --fail-on revoked exits 1" test "$(cat "$work/online_json.rc")" = 1
check "--online: one cert event per leaf, none sent again" \
	test "$(grep -c '"event":"cert"' "$work/online_json.out")" = 3
check "--online: the revoked leaf's cert event names the responder's answer" \
	python3 -c '
import json, sys
c = [json.loads(l) for l in open(sys.argv[1]) if "\"event\":\"cert\"" in l and sys.argv[2] in l][0]
sys.exit(0 if (c["revocation"]["method"], c["revocation"]["status"]) in (("ocsp", "revoked"), ("crl", "revoked")) else 1)
' "$work/online_json.out" "$revoked"
# victim.test names the same responder, which is not its issuer's: its
# answer is refused (the CRL still decides), and said once.
check "--online: one problem on stderr, the responder victim.test names" \
	test "$(grep -c . "$work/online_json.err")|$(grep -c "signature does not verify" "$work/online_json.err")" = "1|1"
check "--online: the text report says revoked for both" \
	test "$(grep -c 'critical revoked:' "$work/online_text.out")" = 2
echo "# OCSP requests read by the responder after each run: $asked_json $asked_text $asked_offline"
check "--online: the responder was asked about each leaf, each run" \
	test "$asked_json|$asked_text" = "3|6"
check "--online: the root's CRL was downloaded" grep -q "GET /root.crl" "$work/http.log"

# A responder that never answers and no CRL server: each held handshake
# waits its bounded time, then is judged with what is known.
stop_servers
wait_port_closed "$ocsp_port"
start_silent_responder "$ocsp_port" || exit 1
run_analyze silent_json --json --online --ocsp-timeout 500 --fail-on revoked
check "--online, silent responder: ends (not killed by timeout), exit 0" test "$(cat "$work/silent_json.rc")" = 0
check "--online, silent responder: every handshake reported, none revoked" \
	test "$(verdicts "$work/silent_json.out" | cut -d: -f1 | paste -sd'|')|$(verdicts "$work/silent_json.out" | tail -n1)" = \
	"handshake revoked.test|handshake victim.test|handshake good.test|finding_counts|finding_counts: {}"
check "--online, silent responder: the timeouts are reported" grep -q "127.0.0.1:$ocsp_port" "$work/silent_json.err"

# Offline (no --online, run above), the same capture has no revocation
# verdict, and the responder was not asked.
check "without --online: the responder was not asked" test "$asked_offline" = "$asked_text"
check "without --online: no revoked finding, exit 0" \
	test "$(verdicts "$work/offline_json.out" | tail -n1)|$(cat "$work/offline_json.rc")" = "finding_counts: {}|0"
[ -n "${KEEP:-}" ] && cp -r "$work" /tmp/cf/online-work
health_done
