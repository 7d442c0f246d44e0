#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Self-test of the delivery test harness: the webhook receiver
# (tests/e2e/lib/webhook_receiver.py) in every mode, and lib_prom.sh with a
# real Prometheus scraping a static tlswatch /metrics page and a real
# Alertmanager, the whole chain ending at the receiver. Loopback only;
# everything started is stopped and every directory removed, on failure
# too. Needs prometheus, prometheus-alertmanager, curl, openssl, python3.
. "$(dirname "$0")/lib.sh"
. tests/e2e/lib_prom.sh

HTTPD_PID=''
selftest_cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	prom_cleanup
	prom_stop_pid "$HTTPD_PID"
	rm -rf "$T_TMP"
	exit "$rc"
}
trap selftest_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

for c in curl openssl prometheus amtool; do
	command -v "$c" >/dev/null 2>&1 || { not_ok "$c missing (make deps installs it)"; t_done; }
done
command -v alertmanager >/dev/null 2>&1 || command -v prometheus-alertmanager >/dev/null 2>&1 ||
	{ not_ok "alertmanager missing (make deps installs it)"; t_done; }

# json_get FILE LINE EXPR: a Python expression over record r (line LINE,
# 1-based, of FILE), printed (True/False as true/false).
json_get() {
	"$PY" - "$@" <<-'EOF'
	import json, sys
	lines = open(sys.argv[1]).read().splitlines()
	r = json.loads(lines[int(sys.argv[2]) - 1])
	v = eval(sys.argv[3], {"r": r})
	print(json.dumps(v) if isinstance(v, (bool, type(None))) else v)
	EOF
}

# post PATH BODY [curl args...]: prints the HTTP status (000: no answer).
post() {
	local path=$1 body=$2
	shift 2
	curl --noproxy '*' -s -o "$T_TMP/resp.body" -D "$T_TMP/resp.headers" \
		-w '%{http_code}' -m 5 -H 'Content-Type: application/json' \
		--data-binary "$body" "$@" "$HOOK_URL$path"
}

sign() { # key, timestamp, body -> hex HMAC-SHA256 of "t.body"
	printf '%s.%s' "$2" "$3" | openssl dgst -sha256 -hmac "$1" -r | cut -d' ' -f1
}

# ---- the webhook receiver --------------------------------------------------

printf 'harness-secret\n' >"$T_TMP/secret"   # the trailing newline is not key
if ! hook_start -s "$T_TMP/secret" -g 3; then
	not_ok "webhook receiver starts"
	t_done
fi
case $HOOK_PORT in
'' | *[!0-9]*) not_ok "receiver prints its port first" "got: '$HOOK_PORT'" ;;
*) ok "receiver prints its port first ($HOOK_PORT)" ;;
esac

body='{"event":"cert","sni":"www.example"}'
t=$(date +%s)
assert_eq "ok mode: 200" 200 \
	"$(post /hook "$body" -H "Tlswatch-Signature: t=$t,v1=$(sign harness-secret "$t" "$body")")"
out=$HOOK_OUT
assert_eq "one record per POST" 1 "$(hook_count)"
assert_eq "record: path" /hook "$(json_get "$out" 1 'r["path"]')"
assert_eq "record: body, verbatim" "$body" "$(json_get "$out" 1 'r["body"]')"
assert_eq "record: header names lowercase" application/json \
	"$(json_get "$out" 1 'r["headers"]["content-type"]')"
assert_eq "record: status and mode" "200 ok" "$(json_get "$out" 1 '"%d %s" % (r["status"], r["mode"])')"
assert_eq "record: received_at is now (unix float)" true \
	"$(json_get "$out" 1 "isinstance(r['received_at'], float) and abs(r['received_at'] - $t) < 30")"
assert_eq "signature_ok true when signed with the secret" true \
	"$(json_get "$out" 1 'r["signature_ok"]')"

post /hook "$body" -H "Tlswatch-Signature: t=$t,v1=$(sign wrong-secret "$t" "$body")" >/dev/null
assert_eq "signature_ok false when signed with another key" false \
	"$(json_get "$out" 2 'r["signature_ok"]')"
post /hook "$body" -H "Tlswatch-Signature: t=$((t + 1)),v1=$(sign harness-secret "$t" "$body")" >/dev/null
assert_eq "signature_ok false when t is not the signed one" false \
	"$(json_get "$out" 3 'r["signature_ok"]')"
post /hook "$body" >/dev/null
assert_eq "signature_ok false without the header" false \
	"$(json_get "$out" 4 'r["signature_ok"]')"
post /hook "$body" -H "Tlswatch-Signature: t=$t,v1=00,v1=$(sign harness-secret "$t" "$body")" >/dev/null
assert_eq "signature_ok true when one of several v1 matches" true \
	"$(json_get "$out" 5 'r["signature_ok"]')"

hook_mode fail
assert_eq "fail mode: 500" 500 "$(post /hook x)"
hook_mode reject
assert_eq "reject mode: 400" 400 "$(post /hook x)"
hook_mode 'retry-after 7'
assert_eq "retry-after mode: 503" 503 "$(post /hook x)"
assert_eq "retry-after mode: Retry-After: 7" 7 \
	"$(sed -n 's/^[Rr]etry-[Aa]fter: *\([0-9]*\).*/\1/p' "$T_TMP/resp.headers")"
assert_eq "modes recorded" "fail:500 reject:400 retry-after:503" \
	"$(for i in 6 7 8; do json_get "$out" "$i" '"%s:%d" % (r["mode"], r["status"])'; done | tr '\n' ' ' | sed 's/ $//')"

hook_mode hang
start=$(date +%s.%N)
code=$(post /hook x -m 1)
assert_eq "hang mode: no answer within a 1 s client timeout" 000 "$code"
assert_eq "hang mode: the request is recorded on arrival" hang "$(json_get "$out" 9 'r["mode"]')"
code=$(post /hook x -m 10)
took=$("$PY" -c "import time; print(time.time() - $start)")
assert_eq "hang mode: answers 200 after --hang-seconds (3 s)" 200 "$code"
assert_true "hang mode: the answer took 3 to 8 s (took $took)" \
	"$PY" -c "import sys; sys.exit(not 3 <= $took - 1 <= 8)"

hook_mode ok
assert_eq "GET answers 200 (readiness)" 200 \
	"$(curl --noproxy '*' -s -o /dev/null -w '%{http_code}' -m 5 "$HOOK_URL/")"
assert_eq "GET is not recorded" 10 "$(hook_count)"

# Refused while stopped, then back on the same port, appending.
port=$HOOK_PORT
hook_stop
curl --noproxy '*' -s -o /dev/null -m 5 --data-binary x "http://127.0.0.1:$port/hook"
assert_eq "stopped receiver: connection refused (curl status 7)" 7 "$?"
if hook_start -p "$port" -s "$T_TMP/secret" -g 30; then
	assert_eq "restart on the same port" "$port" "$HOOK_PORT"
	assert_eq "restarted receiver answers 200" 200 "$(post /hook again)"
	assert_eq "restarted receiver appends to the same records" 11 "$(hook_count)"
else
	not_ok "restart on the same port"
fi

# SIGTERM ends the receiver promptly even with a request hanging.
hook_mode hang
curl --noproxy '*' -s -o /dev/null -m 20 --data-binary x "$HOOK_URL/hook" &
curl_pid=$!
hook_wait 5 12
start=$(date +%s.%N)
hook_stop
took=$("$PY" -c "import time; print(round(time.time() - $start, 2))")
assert_true "SIGTERM with a request hanging: exits within 2 s (took $took)" \
	"$PY" -c "import sys; sys.exit(not $took < 2)"
wait "$curl_pid" 2>/dev/null
hook_mode ok

# --max-seconds bounds its life whatever happens.
start=$(date +%s.%N)
timeout 20 "$PY" tests/e2e/lib/webhook_receiver.py --out "$T_TMP/max.jsonl" \
	--max-seconds 1 >/dev/null 2>"$T_TMP/max.err"
rc=$?
took=$("$PY" -c "import time; print(round(time.time() - $start, 2))")
assert_eq "--max-seconds 1: exits with status 3" 3 "$rc"
assert_true "--max-seconds 1: within 5 s (took $took)" "$PY" -c "import sys; sys.exit(not $took < 5)"

# ---- Alertmanager -----------------------------------------------------------

hook_start -s "$T_TMP/secret" || not_ok "webhook receiver restarts for Alertmanager"
before=$(hook_count)
if am_start -w "$HOOK_URL/alertmanager"; then
	ok "Alertmanager ready on $AM_ADDR"
	alert='[{"labels":{"alertname":"HarnessSelfTest","instance":"edge9:9733","severity":"warning"},
	        "annotations":{"summary":"posted by harness_selftest.sh"}}]'
	code=$(curl --noproxy '*' -s -o /dev/null -w '%{http_code}' -m 5 \
		-H 'Content-Type: application/json' --data-binary "$alert" "$AM_URL/api/v2/alerts")
	assert_eq "POST /api/v2/alerts: 200" 200 "$code"
	am_alerts >"$T_TMP/am.json"
	assert_eq "am_alerts lists the posted alert with its labels" \
		"HarnessSelfTest edge9:9733 warning posted by harness_selftest.sh" \
		"$("$PY" -c '
import json, sys
for a in json.load(open(sys.argv[1])):
    if a["labels"].get("alertname") == "HarnessSelfTest":
        print(a["labels"]["alertname"], a["labels"]["instance"],
              a["labels"]["severity"], a["annotations"]["summary"])' "$T_TMP/am.json")"
	if hook_wait 20 $((before + 1)); then
		ok "Alertmanager notifies the webhook receiver"
		assert_eq "notification: path, and the alert in Alertmanager's payload" \
			"/alertmanager firing HarnessSelfTest" \
			"$(json_get "$HOOK_OUT" $((before + 1)) \
				'"%s %s %s" % (r["path"], __import__("json").loads(r["body"])["status"], __import__("json").loads(r["body"])["alerts"][0]["labels"]["alertname"])')"
	else
		not_ok "Alertmanager notifies the webhook receiver" \
			"$(tail -n 5 "$AM_DIR/alertmanager.log")"
	fi
else
	not_ok "Alertmanager ready"
fi

# ---- Prometheus, scraping a static page, rules on, alerts to Alertmanager --

mkdir -p "$T_TMP/www"
cat >"$T_TMP/www/metrics" <<'EOF'
# TYPE tlswatch_build_info gauge
tlswatch_build_info{version="0.0.0-selftest"} 1
# TYPE tlswatch_handshakes_total counter
tlswatch_handshakes_total{outcome="ok",version="TLS1.3"} 42
tlswatch_handshakes_total{outcome="failed",version="TLS1.2"} 3
# TYPE tlswatch_certificate_info gauge
tlswatch_certificate_info{name="www.example",server="192.0.2.1:443",sha256="aa11",serial="01",issuer="CN=Test CA",key="ec256"} 1
# TYPE tlswatch_certificate_findings gauge
tlswatch_certificate_findings{name="www.example",sha256="aa11",kind="revoked"} 1
# TYPE tlswatch_expiry_warning_seconds gauge
tlswatch_expiry_warning_seconds 1209600
EOF
HTTPD_PORT=$(prom_free_port)
"$PY" -m http.server --bind 127.0.0.1 --directory "$T_TMP/www" "$HTTPD_PORT" \
	>"$T_TMP/httpd.log" 2>&1 &
HTTPD_PID=$!
for i in $(seq 50); do
	curl --noproxy '*' -sf -o /dev/null -m 1 "http://127.0.0.1:$HTTPD_PORT/metrics" && break
	sleep 0.2
done
target=127.0.0.1:$HTTPD_PORT

if prom_start -r deploy/prometheus/tlswatch.rules.yml ${AM_ADDR:+-a "$AM_ADDR"} "$target"; then
	ok "Prometheus ready on 127.0.0.1:$PROM_PORT"
	if prom_wait 20 'tlswatch_build_info'; then
		ok "prom_wait sees the first scrape"
	else
		not_ok "prom_wait sees the first scrape" "$(prom_query up 2>&1)"
	fi
	assert_contains "prom_query prints the API's JSON" '"status":"success"' \
		"$(prom_query 'tlswatch_build_info')"
	assert_eq "prom_values: build info with instance and job" \
		"1 {\"__name__\": \"tlswatch_build_info\", \"instance\": \"$target\", \"job\": \"tlswatch\", \"version\": \"0.0.0-selftest\"}" \
		"$(prom_values 'tlswatch_build_info')"
	assert_eq "prom_values: a counter" 3 \
		"$(prom_values 'tlswatch_handshakes_total{outcome="failed"}' | cut -d' ' -f1)"
	assert_eq "prom_values: certificate info labels" "www.example 192.0.2.1:443 aa11 01 CN=Test CA ec256" \
		"$(prom_query 'tlswatch_certificate_info' | "$PY" -c '
import json, sys
m = json.load(sys.stdin)["data"]["result"][0]["metric"]
print(m["name"], m["server"], m["sha256"], m["serial"], m["issuer"], m["key"])')"
	if prom_wait 20 'name_sha256:tlswatch_certificate_edges:count'; then
		assert_eq "the fleet rules are loaded and evaluated" \
			'1 {"__name__": "name_sha256:tlswatch_certificate_edges:count", "name": "www.example", "sha256": "aa11"}' \
			"$(prom_values 'name_sha256:tlswatch_certificate_edges:count')"
	else
		not_ok "the fleet rules are loaded and evaluated"
	fi
	if prom_wait 20 'ALERTS{alertname="TLSWatchCertificateRevoked",alertstate="firing"}'; then
		ok "TLSWatchCertificateRevoked fires in Prometheus"
	else
		not_ok "TLSWatchCertificateRevoked fires in Prometheus"
	fi
	found=''
	for i in $(seq 40); do   # at most ~20 s
		if am_alerts 2>/dev/null | grep -q '"alertname":"TLSWatchCertificateRevoked"'; then
			found=1
			break
		fi
		sleep 0.5
	done
	assert_eq "Prometheus sends the alert to Alertmanager" 1 "${found:-0}"
	found=''
	for i in $(seq 40); do
		grep -q 'TLSWatchCertificateRevoked' "$HOOK_OUT" && { found=1; break; }
		sleep 0.5
	done
	assert_eq "Alertmanager delivers it to the webhook receiver" 1 "${found:-0}"
else
	not_ok "Prometheus ready"
fi

# ---- cleanup ------------------------------------------------------------------

pids="$PROM_PID $AM_PID $HOOK_PID"
dirs="$PROM_DIR $AM_DIR $HOOK_DIR"
prom_cleanup
left=''
for p in $pids; do kill -0 "$p" 2>/dev/null && left="$left pid:$p"; done
for d in $dirs; do [ -e "$d" ] && left="$left dir:$d"; done
assert_eq "prom_cleanup stops every process and removes every directory" "" "$left"
prom_cleanup && ok "prom_cleanup again is harmless"
t_done
