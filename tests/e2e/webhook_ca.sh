#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# --webhook-ca-file: https webhook and Alertmanager receivers whose
# certificate a private CA signed, made here with openssl (a CA, and a
# leaf for IP 127.0.0.1), served by the real test receiver
# (tests/e2e/lib/webhook_receiver.py --tls-cert) on 127.0.0.1:
#   1. analyze without the option: the system store does not know the CA,
#      the webhook alert is not delivered and stderr says why;
#   2. with it (command line): the alert arrives, its exact fields;
#   3. with it from a --config file, to an Alertmanager URL: the alerts
#      (expired, untrusted) arrive at /api/v2/alerts with their exact labels;
#   4. a missing file, a file without a PEM certificate: exit 3 and the
#      exact one-line message; the option alone: exit 2; a file with an
#      expired CA (made under libfaketime) beside the receivers' CA: taken,
#      and the exact warning on stderr names it and its end;
#   5. live (root): tlswatch run from a --config file without the option
#      cannot deliver its start (the agent log says why); the file gains
#      webhook-ca-file naming a file of another CA, SIGHUP: still nothing
#      arrives; that file removed, SIGHUP: config_refused names it;
#      the receivers' CA written at that path, SIGHUP: the
#      agent's queued start arrives (the content is read again).
# TAP output; exits non-zero on any failure. Everything started is stopped
# and everything created removed on every exit path.
set -u
. "$(dirname "$0")/lib.sh"          # cd to the top; ok/not_ok; T_TMP
. tests/e2e/lib_prom.sh             # hook_*
. tests/e2e/lib_netns.sh            # tn_* (its EXIT trap is replaced below)

ca_cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	prom_cleanup
	rm -rf "$T_TMP"
	[ "$rc" -eq 0 ] && [ "$T_FAILED" -ne 0 ] && rc=1
	(exit "$rc")
	tn_cleanup   # the agent, namespaces; exits with rc
}
trap ca_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

t_require_tlswatch
command -v openssl >/dev/null 2>&1 || { not_ok "openssl missing (make deps installs it)"; t_done; }

# The private PKI: a CA nobody's system store holds, and the receiver's leaf.
pki=$T_TMP/pki
mkdir -p "$pki"
mk() { openssl "$@" >>"$pki/openssl.log" 2>&1 || { not_ok "openssl $1"; t_done; }; }
mk req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
	-keyout "$pki/ca.key" -out "$pki/ca.crt" -subj "/CN=tlswatch e2e private CA"
mk req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$pki/srv.key" -out "$pki/srv.csr" -subj "/CN=127.0.0.1"
printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >"$pki/ext"
mk x509 -req -in "$pki/srv.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" \
	-CAcreateserial -days 2 -extfile "$pki/ext" -out "$pki/srv.crt"

hook_start -c "$pki/srv.crt" -k "$pki/srv.key" || { not_ok "the https receiver starts"; t_done; }
assert_contains "the receiver serves https" "https://127.0.0.1:" "$HOOK_URL"

CAP=$CAPS/tls12_reject_expired.pcap
ROOT=tests/data/pki/root.crt
FP_EXPIRED=edc5593a317b5d24b9332002aa31c08ca9b245c47719155111a2d7916283e6bd

# received FIELDS...: one line per object recorded (a request's body, or
# each of a list body's), "path" then the object's FIELDS (dotted paths,
# a list's first item).
received() {
	"$PY" - "$HOOK_OUT" "$@" <<-'EOF'
	import json, sys
	for l in open(sys.argv[1]):
	    r = json.loads(l)
	    b = json.loads(r["body"])
	    for o in b if isinstance(b, list) else [b]:
	        out = [r["path"]]
	        for f in sys.argv[2:]:
	            v = o
	            for k in f.split("."):
	                v = v[0] if isinstance(v, list) else v
	                v = v.get(k)
	            out.append(str(v))
	        print(" ".join(out))
	EOF
}

# ---- 1. without the option --------------------------------------------------
timeout 60 "$TW" analyze --ca-file "$ROOT" --webhook "$HOOK_URL/hook" "$CAP" \
	>"$T_TMP/1.out" 2>"$T_TMP/1.err"
assert_eq "1. without --webhook-ca-file: analyze exits 0" 0 "$?"
assert_contains "1. stderr says the receiver's certificate was refused" \
	"tlswatch analyze: webhook https://127.0.0.1:$HOOK_PORT/…: SSL certificate problem: unable to get local issuer certificate; retrying" \
	"$(cat "$T_TMP/1.err")"
assert_contains "1. and that the alert is lost" \
	"tlswatch analyze: webhook: 1 alert not delivered yet kept in memory only (without --db); they are lost" \
	"$(cat "$T_TMP/1.err")"
assert_eq "1. the receiver got nothing" 0 "$(grep -c . "$HOOK_OUT")"

# ---- 2. with it, on the command line ----------------------------------------
timeout 60 "$TW" analyze --ca-file "$ROOT" --webhook "$HOOK_URL/hook" \
	--webhook-ca-file "$pki/ca.crt" "$CAP" >"$T_TMP/2.out" 2>"$T_TMP/2.err"
assert_eq "2. with --webhook-ca-file: analyze exits 0, nothing on stderr" "0 " \
	"$? $(cat "$T_TMP/2.err")"
assert_eq "2. the alert arrived over https, once, exact fields" \
	"/hook cert expired.test $FP_EXPIRED expired" \
	"$(received event sni sha256 findings.kind)"

# ---- 3. from a --config file, to an Alertmanager ----------------------------
: >"$HOOK_OUT"
conf=$T_TMP/tlswatch.conf
printf 'alertmanager = %s\nwebhook-ca-file = %s\ninstance = edge-1\n' \
	"$HOOK_URL" "$pki/ca.crt" >"$conf"
chmod 600 "$conf"
timeout 60 "$TW" analyze --config "$conf" --ca-file "$ROOT" "$CAP" \
	>"$T_TMP/3.out" 2>"$T_TMP/3.err"
assert_eq "3. the file's webhook-ca-file: analyze exits 0, nothing on stderr" "0 " \
	"$? $(cat "$T_TMP/3.err")"
assert_eq "3. the Alertmanager alert arrived over https, exact labels" \
	"/api/v2/alerts TLSWatchCertificateFinding expired expired.test $FP_EXPIRED edge-1
/api/v2/alerts TLSWatchCertificateFinding untrusted expired.test $FP_EXPIRED edge-1" \
	"$(received labels.alertname labels.kind labels.name labels.sha256 labels.instance | sort -u)"

# ---- 4. bad files --------------------------------------------------------
"$TW" analyze --webhook "$HOOK_URL/hook" --webhook-ca-file "$T_TMP/missing.pem" \
	"$CAP" >/dev/null 2>"$T_TMP/4a.err"
assert_eq "4. a missing file: exit 3, the exact message" \
	"3 tlswatch analyze: --webhook-ca-file $T_TMP/missing.pem: No such file or directory" \
	"$? $(cat "$T_TMP/4a.err")"
"$TW" analyze --alertmanager "$HOOK_URL" --webhook-ca-file "$pki/ext" \
	"$CAP" >/dev/null 2>"$T_TMP/4b.err"
assert_eq "4. a file without a certificate: exit 3, the exact message" \
	"3 tlswatch analyze: --webhook-ca-file $pki/ext: no PEM certificate" \
	"$? $(cat "$T_TMP/4b.err")"
"$TW" analyze --webhook-ca-file "$pki/ca.crt" "$CAP" >/dev/null 2>"$T_TMP/4c.err"
assert_eq "4. the option without a receiver: exit 2, the exact message" \
	"2 tlswatch analyze: --webhook-ca-file needs --webhook or --alertmanager" \
	"$? $(head -1 "$T_TMP/4c.err")"

# ---- 4b. an expired CA in the file ------------------------------------------
# Made at a fixed past time (libfaketime), valid 2 days: expired since
# 2020-01-03. With the receivers' CA in the same file: taken, the alert
# arrives, and stderr says which certificate expired, when.
command -v faketime >/dev/null 2>&1 || { not_ok "faketime missing (make deps installs it)"; t_done; }
mk_at() { TZ=UTC faketime '2020-01-01 00:00:00' openssl "$@" >>"$pki/openssl.log" 2>&1 ||
	{ not_ok "openssl $1 (faketime)"; t_done; }; }
mk_at req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
	-keyout "$pki/old.key" -out "$pki/old.crt" -subj "/CN=tlswatch e2e expired CA"
cat "$pki/old.crt" "$pki/ca.crt" >"$pki/bundle.pem"
: >"$HOOK_OUT"
timeout 60 "$TW" analyze --ca-file "$ROOT" --webhook "$HOOK_URL/hook" \
	--webhook-ca-file "$pki/bundle.pem" "$CAP" >/dev/null 2>"$T_TMP/4d.err"
assert_eq "4b. a file with an expired CA: exit 0, stderr says it at start, exactly" \
	"0 tlswatch analyze: webhook: --webhook-ca-file $pki/bundle.pem: the certificate \"CN=tlswatch e2e expired CA\" expired on 2020-01-03T00:00:00Z; https receivers whose chain ends at it fail verification" \
	"$? $(cat "$T_TMP/4d.err")"
assert_eq "4b. the valid CA beside it still verifies the receiver: the alert arrived" \
	"/hook cert expired.test" "$(received event sni)"

# ---- 5. live: SIGHUP brings the CA in -------------------------------------
if [ "$(id -u)" -ne 0 ]; then
	ok "5. live reload # SKIP needs root (network namespaces, eBPF)"
	t_done
fi
tmp=$(tn_tmpdir)
tn_setup whca
: >"$HOOK_OUT"
printf 'webhook = %s/live\nwebhook-events = agent\nwebhook-retry-max = 1\n' \
	"$HOOK_URL" >"$conf"
log=$tmp/agent.jsonl
if ! tn_start_agent "$log" --config "$conf" --db "$tmp/agent.db" --stats-interval 1 \
	--no-active-check --no-online --no-metrics; then
	not_ok "5. tlswatch run starts on $TN_HOST_IF"
	t_done
fi
tn_wait_grep 15 'SSL certificate problem: unable to get local issuer certificate' \
	"$log.stderr"
assert_contains "5. without the option the agent says why the start is not delivered" \
	"webhook https://127.0.0.1:$HOOK_PORT/…: SSL certificate problem: unable to get local issuer certificate" \
	"$(cat "$log.stderr")"
assert_eq "5. the receiver got nothing" 0 "$(grep -c . "$HOOK_OUT")"
# The file first holds another CA: the reload applies, delivery still fails.
mk req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
	-keyout "$pki/other.key" -out "$pki/other.crt" -subj "/CN=another private CA"
cp "$pki/other.crt" "$tmp/receivers-ca.pem"
printf 'webhook-ca-file = %s\n' "$tmp/receivers-ca.pem" >>"$conf"
kill -HUP "$TN_AGENT_PID"
tn_wait_grep 15 '"state":"config_reloaded"' "$log"
assert_eq "5. SIGHUP with the file of another CA: reloaded once" 1 \
	"$(grep -c '"state":"config_reloaded"' "$log")"
# a retry with the other CA's file fails (retries at most 1 s apart,
# webhook-retry-max): it is said after the reload
retry_failed() {
	sed -n '/configuration reloaded/,$p' "$log.stderr" |
		grep -q 'SSL certificate problem: unable to get local issuer certificate'
}
tn_wait_cmd 10 retry_failed
assert_true "5. a retry with the other CA fails: it is said" retry_failed
assert_eq "5. the receiver still got nothing" 0 "$(grep -c . "$HOOK_OUT")"
# A file that cannot be read refuses the reload as a whole.
rm "$tmp/receivers-ca.pem"
kill -HUP "$TN_AGENT_PID"
tn_wait_grep 15 '"state":"config_refused"' "$log"
assert_contains "5. SIGHUP with the file gone: config_refused names it" \
	"--webhook-ca-file $tmp/receivers-ca.pem: No such file or directory" \
	"$(grep '"state":"config_refused"' "$log")"
# The same path now holds the receivers' CA: SIGHUP reads it again.
cp "$pki/ca.crt" "$tmp/receivers-ca.pem"
kill -HUP "$TN_AGENT_PID"
tn_wait_cmd 20 grep -q '"state":"started"' "$HOOK_OUT"
assert_eq "5. after the SIGHUP with the right CA the queued start arrives, once" "/live agent started" \
	"$(received event state | grep -x '/live agent started')"
t_done
