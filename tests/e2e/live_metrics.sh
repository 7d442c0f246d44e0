#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The live agent's Prometheus endpoint, end to end.
#
# One `openssl s_server` in a test network namespace serves rsa.test (with
# its intermediate) by default and expired.test (leaf alone: s_server has no
# chain option for its second certificate) to clients asking for that name; real TLS 1.2
# `openssl s_client` handshakes (so the certificate is on the wire) go
# through the veth the agent watches, with --metrics on a free loopback
# port. Asserted with curl: /healthz, `promtool check metrics`, the
# certificate_info series carrying the leaf fingerprint computed here with
# openssl and the SNI as name, the expired finding, the exact handshake
# count; POST -> 405, unknown path -> 404. Then a real Prometheus (lib_prom.sh)
# scrapes the agent with deploy/prometheus/tlswatch.rules.yml and its HTTP
# API has the same series, and TLSWatchCertificateExpired fires (no `for:`).
# Last, the listening address: a second agent with the same explicit
# --metrics exits 3 naming the address; the default address taken only
# warns. Needs root. TAP output; exits non-zero on any failure.
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
export BUILD
. tests/e2e/lib_netns.sh
. tests/e2e/lib_prom.sh
. scripts/lib/common.sh
tn_on_exit prom_cleanup

tn_require_root live_metrics
tn_require_cmds openssl curl promtool prometheus python3 ip ss timeout sha256sum
tn_require_tlswatch

PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
RULES=deploy/prometheus/tlswatch.rules.yml

tmp=$(tn_tmpdir)
pki=$tmp/pki
tn_make_pki "$pki"
fp_rsa=$(openssl x509 -in "$pki/rsa.test.crt" -outform DER | sha256sum | cut -d' ' -f1)
fp_exp=$(openssl x509 -in "$pki/expired.test.crt" -outform DER | sha256sum | cut -d' ' -f1)

tn_setup met
srv=$TN_PEER4

ip netns exec "$TN_NS" openssl s_server -quiet -www -accept "$srv:443" \
	-cert "$pki/rsa.test.crt" -key "$pki/rsa.test.key" -cert_chain "$pki/inter.crt" \
	-servername expired.test -cert2 "$pki/expired.test.crt" -key2 "$pki/expired.test.key" \
	>"$tmp/server.log" 2>&1 &
tn_bg $!
tn_wait_listen 10 443 || tn_bail "openssl s_server did not start"
# The same certificates on the namespace's IPv6 address: one name, two
# server addresses (tlswatch_certificate_info has a series for each; the
# per-name families must still have one series per label set).
srv6=$TN_PEER6
ip netns exec "$TN_NS" openssl s_server -quiet -www -6 -accept "[$srv6]:443" \
	-cert "$pki/rsa.test.crt" -key "$pki/rsa.test.key" -cert_chain "$pki/inter.crt" \
	-servername expired.test -cert2 "$pki/expired.test.crt" -key2 "$pki/expired.test.key" \
	>"$tmp/server6.log" 2>&1 &
tn_bg $!
tn_wait_cmd 10 sh -c "ip netns exec '$TN_NS' ss -Hltn 'sport = :443' | grep -qF '[$srv6]'" ||
	tn_bail "openssl s_server on [$srv6]:443 did not start"

# curl on loopback only, bounded.
hcurl() { curl --noproxy '*' -sS -m 5 "$@"; }

# A free loopback port for --metrics.
mport=$(prom_free_port) || tn_bail "no free port"
maddr=127.0.0.1:$mport
murl=http://$maddr

log=$tmp/agent.jsonl
tn_start_agent "$log" --metrics "$maddr" --ca-file "$pki/root.crt" --no-online \
	--db "$tmp/inv.db" --no-active-check --stats-interval 1 ||
	tn_bail "tlswatch run --metrics $maddr did not start"

tap_eq "/healthz answers ok" "ok" "$(hcurl "$murl/healthz" 2>&1)"

# TLS 1.2 handshakes, the client not verifying: every one completes.
client12() { # sni [server address:port]
	printf 'GET / HTTP/1.0\r\n\r\n' |
		timeout 10 openssl s_client -connect "${2:-$srv:443}" -tls1_2 -servername "$1" \
			>"$tmp/client.log" 2>&1
}
n_ok=0 n_made=0
for sni in rsa.test expired.test rsa.test expired.test rsa.test; do
	n_made=$((n_made + 1))
	client12 "$sni" && n_ok=$((n_ok + 1))
done
for sni in rsa.test expired.test; do
	n_made=$((n_made + 1))
	client12 "$sni" "[$srv6]:443" && n_ok=$((n_ok + 1))
done
tap_eq "$n_made TLS 1.2 client handshakes succeed" "$n_made" "$n_ok"

# The agent saw them all (its log), then /metrics has had a render since.
tn_wait_count 15 '"event":"handshake"' "$log" "$n_made" ||
	tn_note "the agent logged fewer than $n_made handshakes"
hs_series() { # metrics file -> the value of ok/TLS1.2
	sed -n 's/^tlswatch_handshakes_total{outcome="ok",version="TLS1\.2"} \([0-9.e+]*\)$/\1/p' "$1"
}
for i in $(seq 30); do
	hcurl -o "$tmp/metrics" "$murl/metrics" 2>/dev/null &&
		[ "$(hs_series "$tmp/metrics")" = "$n_made" ] &&
		grep -q "^tlswatch_certificate_findings{.*kind=\"expired\"" "$tmp/metrics" && break
	sleep 0.2
done
hcurl -D "$tmp/metrics.headers" -o "$tmp/metrics" "$murl/metrics" 2>"$tmp/curl.err"
tap_eq "GET /metrics answers (curl status)" 0 "$?"
tap_check "GET /metrics is text/plain; version=0.0.4" \
	grep -qi '^content-type: text/plain; version=0.0.4' "$tmp/metrics.headers"
out=$(promtool check metrics <"$tmp/metrics" 2>&1)
tap_eq "promtool check metrics accepts /metrics, no lint" "0:" "$?:$out"

# series FAMILY LABEL=VALUE... : the values of the samples of FAMILY whose
# labels include every LABEL=VALUE, one a line (exposition parsed here).
series() {
	"$PY" - "$tmp/metrics" "$@" <<'PY'
import re, sys
path, fam, want = sys.argv[1], sys.argv[2], dict(a.split("=", 1) for a in sys.argv[3:])
lab = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
for line in open(path, encoding="utf-8"):
    if line.startswith("#") or not line.strip():
        continue
    m = re.match(r'([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$', line.rstrip("\n"))
    if not m or m.group(1) != fam:
        continue
    labels = dict(lab.findall(m.group(2) or ""))
    if all(labels.get(k) == v for k, v in want.items()):
        print(m.group(3))
PY
}

tap_eq "tlswatch_certificate_info{name=rsa.test,server=$srv:443,sha256=<openssl fingerprint>} 1" \
	"1" "$(series tlswatch_certificate_info name=rsa.test "server=$srv:443" "sha256=$fp_rsa" key=RSA-2048)"
tap_eq "tlswatch_certificate_info{name=rsa.test,server=[$srv6]:443,sha256=<openssl fingerprint>} 1" \
	"1" "$(series tlswatch_certificate_info name=rsa.test "server=[$srv6]:443" "sha256=$fp_rsa")"
tap_eq "tlswatch_certificate_info{name=expired.test,sha256=<openssl fingerprint>}: 1 on each address" \
	"1 1" "$(series tlswatch_certificate_info name=expired.test "sha256=$fp_exp" serial=5001 | xargs)"
dups=$(grep -v '^#' "$tmp/metrics" | sed 's/ [^ ]*$//' | sort | uniq -d)
tap_eq "every series of /metrics appears once (one name on two addresses)" "" "$dups"
tap_eq "tlswatch_certificate_findings{name=expired.test,sha256=<fp>,kind=expired} 1" \
	"1" "$(series tlswatch_certificate_findings name=expired.test "sha256=$fp_exp" kind=expired)"
tap_eq "rsa.test (valid, trusted by --ca-file) has no finding series" \
	"" "$(series tlswatch_certificate_findings name=rsa.test)"
na=$(openssl x509 -in "$pki/expired.test.crt" -noout -enddate | cut -d= -f2)
tap_eq "tlswatch_certificate_not_after_seconds of expired.test is its notAfter" \
	"$(date -u -d "$na" +%s)" \
	"$(series tlswatch_certificate_not_after_seconds name=expired.test "sha256=$fp_exp" |
		"$PY" -c 'import sys; print("%d" % float(sys.stdin.read()))')"
tap_eq "tlswatch_handshakes_total{outcome=ok,version=TLS1.2} is the $n_made handshakes made" \
	"$n_made" "$(hs_series "$tmp/metrics")"
tap_eq "no handshake counted under another outcome or version" "$n_made" \
	"$(series tlswatch_handshakes_total | "$PY" -c 'import sys; print("%g" % sum(float(l) for l in sys.stdin))')"
tap_eq "tlswatch_ringbuf_lost_total is 0" "0" "$(series tlswatch_ringbuf_lost_total)"
tap_eq "tlswatch_build_info is 1" "1" "$(series tlswatch_build_info)"

code() { hcurl -o /dev/null -w '%{http_code}' "$@" 2>/dev/null; }
tap_eq "POST /metrics -> 405" 405 "$(code -X POST --data x "$murl/metrics")"
tap_eq "GET /nope -> 404" 404 "$(code "$murl/nope")"
tap_eq "HEAD /metrics -> 200" 200 "$(code -I "$murl/metrics")"

# --- a real Prometheus scraping the agent, with the fleet rules ----------------
if prom_start -r "$RULES" "$maddr"; then
	tap_ok "Prometheus scrapes the agent ($PROM_URL, rules $RULES)"
	prom_wait 30 "tlswatch_certificate_info{name=\"rsa.test\",sha256=\"$fp_rsa\"}"
	tap_eq "Prometheus: tlswatch_certificate_info with rsa.test's openssl fingerprint, on both addresses" \
		"1 $fp_rsa $srv:443|1 $fp_rsa [$srv6]:443" \
		"$(prom_values "tlswatch_certificate_info{name=\"rsa.test\",sha256=\"$fp_rsa\"}" |
			"$PY" -c 'import json, sys
print("|".join(sorted("%s %s %s" % (l.split(" ", 1)[0], json.loads(l.split(" ", 1)[1])["sha256"],
                                   json.loads(l.split(" ", 1)[1])["server"]) for l in sys.stdin)))')"
	prom_wait 10 "tlswatch_certificate_findings{kind=\"expired\",sha256=\"$fp_exp\"}"
	tap_eq "Prometheus: tlswatch_certificate_findings{kind=expired} for expired.test's fingerprint" \
		"1 expired.test" \
		"$(prom_values "tlswatch_certificate_findings{kind=\"expired\",sha256=\"$fp_exp\"}" |
			"$PY" -c 'import json, sys
for l in sys.stdin:
    v, m = l.split(" ", 1); print(v, json.loads(m)["name"])')"
	tap_eq "Prometheus: tlswatch_handshakes_total{outcome=ok,version=TLS1.2}" "$n_made" \
		"$(prom_values 'tlswatch_handshakes_total{outcome="ok",version="TLS1.2"}' | cut -d' ' -f1)"
	tap_eq "Prometheus: the scrape is up" "1" "$(prom_values "up{instance=\"$maddr\"}" | cut -d' ' -f1)"
	# TLSWatchCertificateExpired has no `for:`: firing at the first
	# evaluation after the series is in (evaluation every second).
	alert_state() {
		hcurl "$PROM_URL/api/v1/alerts" | "$PY" -c '
import json, sys
fp = sys.argv[1]
for a in json.load(sys.stdin)["data"]["alerts"]:
    l = a["labels"]
    if l.get("alertname") == "TLSWatchCertificateExpired" and l.get("sha256") == fp:
        print(a["state"], l.get("name"), l.get("severity"))' "$fp_exp"
	}
	for i in $(seq 40); do
		[ "$(alert_state 2>/dev/null | cut -d' ' -f1)" = firing ] && break
		sleep 0.5
	done
	tap_eq "Prometheus: TLSWatchCertificateExpired fires for expired.test's fingerprint" \
		"firing expired.test critical" "$(alert_state 2>&1)"
	tap_eq "Prometheus: TLSWatchCertificateRevoked does not fire" "" \
		"$(hcurl "$PROM_URL/api/v1/alerts" | "$PY" -c 'import json, sys
print(" ".join(a["labels"]["alertname"] for a in json.load(sys.stdin)["data"]["alerts"]
               if a["labels"]["alertname"] == "TLSWatchCertificateRevoked"))')"
else
	tap_fail "Prometheus scrapes the agent"
fi
prom_cleanup

# --- the listening address ---------------------------------------------------
# A second agent with the same explicit --metrics: the sinks open before the
# eBPF program is attached, so it fails without touching the first one. It
# watches a veth of its own: the first agent's interface would be refused
# before the sinks open (another agent holds it).
second_if=twm2$$
ip link add "$second_if" type veth peer name "${second_if}p" ||
	tn_bail "cannot create the second agent's veth"
tn_on_exit "ip link del '$second_if' 2>/dev/null"
timeout 20 "$BUILD/tlswatch" run --iface "$second_if" --port 443 --json-log "$tmp/second.jsonl" \
	--metrics "$maddr" --db "$tmp/second.db" --no-active-check >"$tmp/second.out" 2>"$tmp/second.err"
rc=$?
tap_eq "a second agent with the same --metrics $maddr exits 3" 3 "$rc"
tap_check "its message names the address" grep -qF "$maddr" "$tmp/second.err"
tap_eq "the first agent still serves /healthz" "ok" "$(hcurl "$murl/healthz" 2>&1)"
tap_check "the first agent is still running" kill -0 "$TN_AGENT_PID"
agent_rc=0
tn_stop_agent || agent_rc=$?
tap_eq "the agent exits 0 on SIGTERM" 0 "$agent_rc"
tap_check "its port is closed after the stop" sh -c "! curl --noproxy '*' -s -m 2 -o /dev/null '$murl/healthz'"

# The default address (127.0.0.1:9733) taken: only a warning. Held here by a
# listener of our own unless something already listens there.
holder=''
if ! ss -Hltn 'sport = :9733' | grep -q .; then
	"$PY" -c 'import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 9733)); s.listen(1)
print("listening", flush=True); time.sleep(120)' >"$tmp/holder.out" 2>&1 &
	holder=$!
	tn_bg "$holder"
	tn_wait_grep 5 listening "$tmp/holder.out" || tn_note "could not hold 127.0.0.1:9733"
fi
if ss -Hltn 'sport = :9733' | grep -q .; then
	log=$tmp/default.jsonl
	if tn_start_agent "$log" --db "$tmp/default.db" --no-active-check; then
		tap_ok "with 127.0.0.1:9733 taken, an agent with the default --metrics starts"
		tap_check "and warns naming the address" grep -qF "127.0.0.1:9733" "$log.stderr"
		tn_stop_agent
		tap_eq "and stops cleanly (exit 0)" 0 "$?"
	else
		tap_fail "with 127.0.0.1:9733 taken, an agent with the default --metrics starts"
	fi
else
	tap_fail "127.0.0.1:9733 could be held for the default-address check"
fi
[ -n "$holder" ] && tn_stop_pid "$holder"

if [ "$TN_FAILED" -ne 0 ]; then
	sed 's/^/#   agent stderr: /' "$tmp/agent.jsonl.stderr" | head -20
	grep -v '^#' "$tmp/metrics" 2>/dev/null | sed 's/^/#   metrics: /' | head -40
fi
[ "$TN_FAILED" -eq 0 ]
