#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# SIGHUP reloads the live agent's configuration (tlswatch run).
#
# Two real `openssl s_server` in a network namespace: port 443 serves
# a-new.test (certificate "B", SAN a.test), port 8443 revoked.test; the
# agent on the host end of the veth, real TLS 1.2 `openssl s_client`
# handshakes (the certificate is visible), a real webhook receiver on
# loopback. The agent starts with --expect-dir holding only a-old.test
# ("A", also a.test), --crl FILE holding the root's CRL (which says
# nothing about leaves) and a signed webhook. Asserted, on one agent:
#   - log reopen: the log moved away, SIGHUP: the agent writes a new file
#     at the path, and the reload event is in it;
#   (a) B served while A is expected: unexpected; B copied into the
#       directory + SIGHUP: config_reloaded, then no finding;
#   (b) the CRL file replaced by the intermediate's CRL, which lists
#       revoked.test + SIGHUP: the next handshake is revoked;
#   (c) garbage in the CRL file + SIGHUP: config_refused naming the file
#       and the reason; the old state still judges (exact findings on
#       both ports);
#   (d) the webhook secret file's content changed + SIGHUP: the requests
#       after the reload are signed with the new key, those before with
#       the old; a secret file made readable by others + SIGHUP, together
#       with an expectation removed: refused as a whole (still no
#       unexpected, still signed with the second key).
#   (e) --ca-file replaced by a bundle without the root + SIGHUP: the next
#       handshake is untrusted; a --ca-file without any certificate +
#       SIGHUP: refused, still untrusted.
#   (f) a second agent, its ports from a configuration file (none on its
#       command line): 443 only, then 443 and 8443, then 8443 only, each
#       by SIGHUP; a handshake on a port not watched is not reported, one
#       on a port just added is; the stop event lists the ports in force.
#   (g) a third agent, a configuration file of 1000 expectations, a signed
#       webhook and an Alertmanager (the sinks a reload keeps): 200 more
#       reloads after the first 20 leave its resident memory within 8 MiB
#       (each set of options was kept for the run: +25 MiB).
#   In (a) to (g) no restart-only option changed, so no reload lists
#   "ignored" options.
#   (h) a fourth agent, restart-only options in its configuration file:
#       `uprobes = off` (the default written out) is not ignored; each
#       SIGHUP names those that differ from the running values (the same
#       file twice: named twice); restored ones are no longer named. A
#       file that gives a key of one value twice, or a webhook option
#       without a webhook, is refused (config_refused naming the file
#       and the line), as it is at start.
#   (i) a SIGHUP while the agent still loads its trust store (a --ca-dir of
#       4096 files: about half a second): it runs, and reloads once
#       started (a SIGHUP's default action ended it there: for good, under
#       the systemd unit's ExecReload, which does not restart on it).
# Needs root. TAP output; exits non-zero on any failure.
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
export BUILD
. tests/e2e/lib_netns.sh

tn_require_root live_reload
tn_require_cmds openssl ip ss
tn_require_tlswatch

PY=/usr/bin/python3
LIVE=tests/e2e/lib_live.py
tmp=$(tn_tmpdir)
pki=$tmp/pki
scripts/make-health-pki.sh "$pki" none none >"$tmp/pki.log" 2>&1 ||
	{ sed 's/^/#   /' "$tmp/pki.log"; tn_bail "cannot make the test PKI"; }

tn_setup rld
srv=$TN_PEER4

serve() { # port, leaf
	ip netns exec "$TN_NS" openssl s_server -quiet -www -accept "$srv:$1" \
		-cert "$pki/$2.crt" -key "$pki/$2.key" -cert_chain "$pki/inter.crt" \
		>"$tmp/server-$1.log" 2>&1 &
	tn_bg $!
	tn_wait_listen 10 "$1" || tn_bail "openssl s_server on port $1 did not start"
}
serve 443 a-new.test
serve 8443 revoked.test

# --- the webhook receiver ---------------------------------------------------
hooks=$tmp/hooks.jsonl
: >"$hooks"
$PY tests/e2e/lib/webhook_receiver.py --out "$hooks" --max-seconds 240 \
	>"$tmp/hook.port" 2>"$tmp/hook.err" &
tn_bg $!
tn_wait_cmd 10 grep -q . "$tmp/hook.port" || tn_bail "webhook receiver did not start"
hook_port=$(head -1 "$tmp/hook.port")

# --- the agent's configuration files ----------------------------------------
mkdir "$tmp/expect"
cp "$pki/a-old.test.crt" "$tmp/expect/"
cp "$pki/crl/root.pem" "$tmp/current.crl"
cp "$pki/root.crt" "$tmp/ca.pem"
printf 'first-secret\n' >"$tmp/secret"
chmod 600 "$tmp/secret"

log=$tmp/agent.jsonl
tn_start_agent "$log" --port 8443 --no-active-check --no-online --no-metrics \
	--db "$tmp/inventory.db" --stats-interval 3600 \
	--ca-file "$tmp/ca.pem" --expect-dir "$tmp/expect" --crl "$tmp/current.crl" \
	--webhook "http://127.0.0.1:$hook_port/hook" --webhook-events agent \
	--webhook-secret-file "$tmp/secret" ||
	tn_bail "tlswatch run did not start on $TN_HOST_IF"

# --- probes -------------------------------------------------------------------

handshakes() { # all handshake events of both log files, in order
	cat "$log.1" "$log" 2>/dev/null | $PY "$LIVE" events --log /dev/stdin --event handshake
}

# The sorted finding kinds of the handshake events for SNI, one line each
# ("-" for none).
findings_of() { # sni
	handshakes | $PY -c 'import json, sys
for l in sys.stdin:
    e = json.loads(l)
    if e.get("sni") != sys.argv[1]:
        continue
    k = sorted(f["kind"] if isinstance(f, dict) else f for f in e.get("findings", []))
    print(",".join(k) or "-")' "$1"
}

# One TLS 1.2 handshake to PORT with SNI; waits (up to 10 s) until the
# agent reported it and prints its findings.
handshake() { # port, sni
	local before
	before=$(findings_of "$2" | wc -l)
	printf 'GET / HTTP/1.0\r\n\r\n' | timeout 10 openssl s_client -connect "$srv:$1" \
		-servername "$2" -tls1_2 -CAfile "$pki/root.crt" >"$tmp/client.log" 2>&1 ||
		{ echo "handshake failed"; return; }
	for _ in $(seq 100); do
		[ "$(findings_of "$2" | wc -l)" -gt "$before" ] && break
		sleep 0.1
	done
	findings_of "$2" | sed -n "$((before + 1))p"
}

# The agent events of a STATE (config_reloaded, config_refused), as
# "message|ignored" lines.
config_events() { # state
	cat "$log.1" "$log" 2>/dev/null |
		$PY "$LIVE" events --log /dev/stdin --event agent --field "state=$1" |
		$PY -c 'import json, sys
for l in sys.stdin:
    e = json.loads(l)
    print(e.get("message", "") + "|" + ",".join(e.get("ignored", [])))'
}

# Sends SIGHUP; waits until a new config_reloaded or config_refused event is
# written; prints it as "STATE message|ignored".
hup() {
	local r0 f0 r f
	r0=$(config_events config_reloaded | wc -l)
	f0=$(config_events config_refused | wc -l)
	kill -HUP "$TN_AGENT_PID"
	for _ in $(seq 100); do
		r=$(config_events config_reloaded | wc -l)
		f=$(config_events config_refused | wc -l)
		[ "$r" -gt "$r0" ] && { echo "config_reloaded $(config_events config_reloaded | tail -1)"; return; }
		[ "$f" -gt "$f0" ] && { echo "config_refused $(config_events config_refused | tail -1)"; return; }
		sleep 0.1
	done
	echo "no reload event within 10 s"
}

# The webhook requests as "STATE KEY" lines, KEY the secret whose HMAC
# signs it (first, second or none).
signed_with() {
	$PY - "$hooks" <<'EOF'
import hashlib, hmac, json, sys
keys = {"first": b"first-secret", "second": b"second-secret"}
for line in open(sys.argv[1]):
    r = json.loads(line)
    sig = r["headers"].get("tlswatch-signature", "")
    parts = dict(p.split("=", 1) for p in sig.split(",") if "=" in p)
    msg = (parts.get("t", "") + "." + r["body"]).encode()
    who = [n for n, k in keys.items()
           if hmac.new(k, msg, hashlib.sha256).hexdigest() == parts.get("v1")]
    print(json.loads(r["body"])["state"], who[0] if who else "none")
EOF
}

wait_hooks() { # count
	tn_wait_cmd 15 sh -c "[ \$(wc -l <'$hooks') -ge $1 ]" || true
}

# --- (a) the expected certificate is deployed; the log is reopened ------------
tap_eq "(a) B served while the directory expects A: unexpected" \
	unexpected "$(handshake 443 a.test)"
tap_eq "revoked.test before any reload: no finding (the root's CRL is silent on leaves)" \
	- "$(handshake 8443 revoked.test)"

mv "$log" "$log.1"
cp "$pki/a-new.test.crt" "$tmp/expect/"
tap_eq "(a) B copied into --expect-dir, SIGHUP: reloaded, nothing ignored" \
	"config_reloaded 1 CRL, 2 expectations, 1 webhook, 0 Alertmanagers|" "$(hup)"
tap_check "log reopen: SIGHUP made a new log file at the path, with the reload event in it" \
	grep -q '"state":"config_reloaded"' "$log"
tap_check "log reopen: the moved file kept the events before it" \
	grep -q '"state":"started"' "$log.1"
tap_eq "(a) after the reload, the next handshake has no finding" \
	- "$(handshake 443 a.test)"

# --- (b) a CRL that revokes the served leaf -------------------------------------
cp "$pki/crl/inter.pem" "$tmp/current.crl"
tap_eq "(b) the intermediate's CRL in --crl, SIGHUP: reloaded" \
	"config_reloaded 1 CRL, 2 expectations, 1 webhook, 0 Alertmanagers|" "$(hup)"
tap_eq "(b) the next handshake of revoked.test: revoked" \
	revoked "$(handshake 8443 revoked.test)"

# --- (c) a broken CRL file is refused; the old state stays --------------------
echo "this is not a CRL" >"$tmp/current.crl"
rm "$tmp/expect/a-new.test.crt"
tap_eq "(c) garbage in --crl (and B removed from the directory), SIGHUP: refused, with the reason" \
	"config_refused --crl $tmp/current.crl: not a CRL (neither DER nor PEM)|" "$(hup)"
tap_eq "(c) the old CRLs still judge: revoked" revoked "$(handshake 8443 revoked.test)"
tap_eq "(c) the old expectations still judge (B not unexpected)" - "$(handshake 443 a.test)"
cp "$pki/a-new.test.crt" "$tmp/expect/"
cp "$pki/crl/inter.pem" "$tmp/current.crl"

# --- (d) the webhook secret ----------------------------------------------------
printf 'second-secret\n' >"$tmp/secret"
tap_eq "(d) a new secret in --webhook-secret-file, SIGHUP: reloaded" \
	"config_reloaded 1 CRL, 2 expectations, 1 webhook, 0 Alertmanagers|" "$(hup)"
rm "$tmp/expect/a-new.test.crt"
chmod 644 "$tmp/secret"
tap_eq "(d) a secret file readable by others, SIGHUP: refused, naming the file and its mode" \
	"config_refused webhook secret $tmp/secret: group or others may access it (mode 0644); chmod 600 $tmp/secret|" \
	"$(hup)"
tap_eq "(d) refused as a whole: B removed from the directory is still expected" \
	- "$(handshake 443 a.test)"
wait_hooks 6
tap_eq "(d) webhook requests: before the new secret signed with the first, after it with the second" \
	"started first|config_reloaded first|config_reloaded first|config_refused first|config_reloaded second|config_refused second" \
	"$(signed_with | paste -sd'|')"
chmod 600 "$tmp/secret"

# --- (e) the trust store -------------------------------------------------------
cp "$pki/evil.crt" "$tmp/ca.pem"
cp "$pki/a-new.test.crt" "$tmp/expect/"
tap_eq "(e) --ca-file without the root, SIGHUP: reloaded" \
	"config_reloaded 1 CRL, 2 expectations, 1 webhook, 0 Alertmanagers|" "$(hup)"
tap_eq "(e) the next handshake: untrusted" untrusted "$(handshake 443 a.test)"
echo "no certificate here" >"$tmp/ca.pem"
tap_eq "(e) a --ca-file without certificates, SIGHUP: refused, with the reason" \
	"config_refused --ca-file $tmp/ca.pem: no usable PEM certificate (error:05800088:x509 certificate routines::no certificate or crl found)|" \
	"$(hup)"
tap_eq "(e) the old trust store still judges: untrusted" untrusted "$(handshake 443 a.test)"

agent_rc=0
tn_stop_agent || agent_rc=$?
tap_eq "agent exits 0 on SIGTERM after the reloads" 0 "$agent_rc"
tap_eq "counters at stop: 4 reloads applied, 3 refused, the last one refused" "4 3 0" \
	"$($PY "$LIVE" events --log "$log" --event agent --field state=stopped | $PY -c 'import json, sys
c = json.loads(sys.stdin.read() or "{}").get("counters", {})
print(c.get("config_reloads"), c.get("config_reloads_refused"), c.get("config_last_reload_successful"))')"

if [ "$TN_FAILED" -ne 0 ]; then
	sed 's/^/#   agent stderr: /' "$log.stderr" | head -20
	cat "$log.1" "$log" 2>/dev/null | cut -c1-300 | sed 's/^/#   agent: /' | head -40
fi

# --- (f) the watched ports, from a configuration file --------------------------
# The helpers above read $log and signal $TN_AGENT_PID: they follow the
# second agent from here on.
count_of() { # sni: its handshake events so far
	findings_of "$1" | wc -l
}
connect() { # port, sni: a handshake the agent may not follow
	printf 'GET / HTTP/1.0\r\n\r\n' | timeout 10 openssl s_client -connect "$srv:$1" \
		-servername "$2" -tls1_2 -CAfile "$pki/root.crt" >"$tmp/client.log" 2>&1 ||
		tap_fail "a handshake with $2 on port $1" "$(tail -2 "$tmp/client.log")"
}
conf=$tmp/ports.conf
echo "port = 443" >"$conf"
log=$tmp/ports.jsonl
TN_AGENT_PORT='' tn_start_agent "$log" --config "$conf" --no-active-check --no-online \
	--no-metrics --db "$tmp/ports.db" --stats-interval 3600 --ca-file "$pki/root.crt" ||
	tn_bail "tlswatch run --config (ports from the file) did not start"
connect 8443 revoked.test
tap_eq "(f) port 443 only: 443 followed" - "$(handshake 443 a.test)"
tap_eq "(f) port 443 only: the handshake on 8443 before it is not" 0 "$(count_of revoked.test)"
printf 'port = 443\nport = 8443\n' >"$conf"
tap_eq "(f) 8443 added to the file, SIGHUP: reloaded, nothing ignored" \
	"config_reloaded 0 CRLs, 0 expectations, 0 webhooks, 0 Alertmanagers|" "$(hup)"
tap_eq "(f) a handshake on 8443: followed" - "$(handshake 8443 revoked.test)"
echo "port = 8443" >"$conf"
tap_eq "(f) 443 removed from the file, SIGHUP: reloaded, nothing ignored" \
	"config_reloaded 0 CRLs, 0 expectations, 0 webhooks, 0 Alertmanagers|" "$(hup)"
connect 443 a.test
tap_eq "(f) 8443 still followed" - "$(handshake 8443 revoked.test)"
tap_eq "(f) the handshake on 443 before it is not" 1 "$(count_of a.test)"
agent_rc=0
tn_stop_agent || agent_rc=$?
tap_eq "(f) agent exits 0; its stop event lists the ports in force" "0 [8443]" \
	"$agent_rc $($PY "$LIVE" events --log "$log" --event agent --field state=stopped |
		$PY -c 'import json, sys
print(json.dumps(json.loads(sys.stdin.read() or "{}").get("ports")))')"
if [ "$TN_FAILED" -ne 0 ]; then
	sed 's/^/#   agent stderr: /' "$log.stderr" | head -20
	cut -c1-300 "$log" | sed 's/^/#   agent: /' | head -20
fi

# --- (g) memory over many reloads ------------------------------------------------
conf=$tmp/many.conf
{
	echo "port = 443"
	echo "webhook = http://127.0.0.1:$hook_port/hook"
	echo "webhook-secret-file = $tmp/secret"
	echo "alertmanager = http://127.0.0.1:9"
	for i in $(seq 1000); do
		printf 'expect = host%d.example.test=%064d\n' "$i" "$i"
	done
} >"$conf"
chmod 600 "$conf"
log=$tmp/many.jsonl
TN_AGENT_PORT='' tn_start_agent "$log" --config "$conf" --no-active-check --no-online \
	--no-metrics --db "$tmp/many.db" --stats-interval 3600 ||
	tn_bail "tlswatch run --config (1000 expectations) did not start"
applied() { grep -c '"state":"config_reloaded"' "$log"; }
# SIGHUP COUNT times, each applied (5 s at most) before the next.
hup_applied() { # count
	local i t n
	for i in $(seq "$1"); do
		n=$(applied)
		kill -HUP "$TN_AGENT_PID"
		for t in $(seq 500); do
			[ "$(applied)" -gt "$n" ] && break
			sleep 0.01
		done
	done
}
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$TN_AGENT_PID/status"; }
hup_applied 20
rss_first=$(rss_kib)
hup_applied 200
rss_last=$(rss_kib)
tn_note "(g) resident memory: $rss_first kB after 20 reloads, $rss_last kB after 220"
tap_eq "(g) 220 SIGHUPs with 1000 expectations: 220 reloads applied" 220 "$(applied)"
if grep -q __asan_init "$BUILD/tlswatch"; then
	# ASan holds freed memory in its quarantine (up to 256 MiB)
	echo "ok - (g) resident memory after 200 more reloads # SKIP an ASan build"
else
	tap_eq "(g) resident memory after 200 more reloads: within 8 MiB of that after 20" \
		"within" "$([ $((rss_last - rss_first)) -lt 8192 ] && echo within ||
			echo "$rss_first kB -> $rss_last kB")"
fi
agent_rc=0
tn_stop_agent || agent_rc=$?
tap_eq "(g) agent exits 0" 0 "$agent_rc"
if [ "$TN_FAILED" -ne 0 ]; then
	sed 's/^/#   agent stderr: /' "$log.stderr" | head -20
	grep -v '"expect' "$log" | cut -c1-300 | sed 's/^/#   agent: /' | tail -5
fi

# --- (h) restart-only options: "ignored" against the running values ---------
conf=$tmp/restart.conf
restart_conf() { # extra lines...: one with a key of the base replaces its line
	local l keys
	keys=" $(printf '%s\n' "$@" | cut -d' ' -f1 | tr '\n' ' ') "
	for l in 'port = 443' 'stats-interval = 3600' 'metrics = 127.0.0.1:0'; do
		case $keys in *" ${l%% *} "*) ;; *) echo "$l" ;; esac
	done >"$conf"
	[ $# -eq 0 ] || printf '%s\n' "$@" >>"$conf"
}
restart_conf
log=$tmp/restart.jsonl
TN_AGENT_PORT='' tn_start_agent "$log" --config "$conf" --no-active-check --no-online \
	--db "$tmp/restart.db" ||
	tn_bail "tlswatch run --config (restart-only options) did not start"
none="config_reloaded 0 CRLs, 0 expectations, 0 webhooks, 0 Alertmanagers"
restart_conf "uprobes = off"
tap_eq "(h) 'uprobes = off', the default written out: nothing ignored" "$none|" "$(hup)"
restart_conf "uprobes = off" "stats-interval = 60" "ring-buffer = 16384"
tap_eq "(h) stats-interval and ring-buffer changed: both ignored" \
	"$none|stats-interval,ring-buffer" "$(hup)"
tap_eq "(h) the same file again: still both ignored" \
	"$none|stats-interval,ring-buffer" "$(hup)"
restart_conf "stats-interval = 3600" "no-metrics"
tap_eq "(h) those two restored, no-metrics: only metrics ignored" "$none|metrics" "$(hup)"
restart_conf
tap_eq "(h) metrics restored: nothing ignored" "$none|" "$(hup)"
restart_conf "stats-interval = 60" "stats-interval = 3600"
tap_eq "(h) a key of one value given twice: refused, naming the file and both lines" \
	"config_refused $conf:4: stats-interval: given again (first on line 3); only a repeatable option takes one line per value|" \
	"$(hup)"
restart_conf "webhook-format = slack"
tap_eq "(h) a webhook option without a webhook: refused, naming the file and the line" \
	"config_refused $conf:4: webhook-format needs --webhook (in the file or on the command line)|" \
	"$(hup)"
agent_rc=0
tn_stop_agent || agent_rc=$?
tap_eq "(h) agent exits 0" 0 "$agent_rc"
if [ "$TN_FAILED" -ne 0 ]; then
	sed 's/^/#   agent stderr: /' "$log.stderr" | head -20
	cut -c1-300 "$log" | sed 's/^/#   agent: /' | tail -8
fi

# --- (i) a SIGHUP while the agent starts ---------------------------------------
mkdir "$tmp/cadir"
for i in $(seq 4096); do cp "$pki/root.crt" "$tmp/cadir/c$i.pem"; done
log=$tmp/early.jsonl
: >"$log"
"$BUILD/tlswatch" run --iface "$TN_HOST_IF" --port 443 --json-log "$log" --no-active-check \
	--no-online --no-metrics --db "$tmp/early.db" --stats-interval 3600 \
	--ca-dir "$tmp/cadir" 2>"$log.stderr" &
TN_AGENT_PID=$!
tn_bg "$TN_AGENT_PID"
# SIGHUP's default action ends a process: the agent catches it first
# thing, before it loads anything
tn_wait_sig_caught 10 "$TN_AGENT_PID" 1 || tap_fail "the agent catches SIGHUP"
kill -HUP "$TN_AGENT_PID"
tn_wait_grep 30 '"state":"config_reloaded"' "$log" || true
tap_eq "(i) a SIGHUP while it loads: it starts, then reloads" "started config_reloaded" \
	"$($PY "$LIVE" events --log "$log" --event agent | $PY -c 'import json, sys
print(" ".join(json.loads(l)["state"] for l in sys.stdin))')"
agent_rc=0
tn_stop_agent || agent_rc=$?
tap_eq "(i) it exits 0 on SIGTERM" 0 "$agent_rc"
