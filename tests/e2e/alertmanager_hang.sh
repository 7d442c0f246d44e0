#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A hanging Alertmanager holds up its own requests only.
#
# tlswatch run in a network namespace pair with two --alertmanager URLs:
# first a listener on 127.0.0.1 that accepts and never answers (the test
# webhook receiver in its hang mode), then a real Alertmanager. A real
# openssl s_server serves expired.test's certificate; two handshakes, a
# while apart, raise alerts for two names. With a --webhook-timeout of
# 30 s, Alertmanager must list the second name's alerts within 10 s: the
# requests to the hanging one, which never finish before their timeout,
# must not hold the threads or the room the real one needs (they did: the
# second alert waited for the first hanging request's timeout).
# At SIGTERM the agent gives up on the hanging requests after the drain
# bound (5 s) and exits 0.
#
# Then a resolution an Alertmanager missed while it hung: a second agent,
# its --alertmanager URL a TCP gate (tests/e2e/lib/tcp_gate.py) in front of
# the real Alertmanager, with a --webhook-timeout of 2 s:
#   1. a handshake: Alertmanager lists expired.test's alerts;
#   2. the gate hangs (it takes the requests and never answers); the
#      server now serves selfsigned.test's certificate, and a handshake for
#      expired.test resolves the first certificate's alerts: their 3 POSTs
#      hang or are missed, and Alertmanager still lists the alerts (they
#      would stay so until the endsAt it last had, 3 minutes on);
#   3. the gate passes again; a handshake for another name raises an
#      alert, whose request Alertmanager answers: the agent sends the
#      resolution it missed, and the alerts leave the list within 10 s.
#
# Needs root, prometheus-alertmanager. TAP output; exits non-zero on any
# failure. Everything started is stopped and everything created removed on
# every exit path.
set -u
. "$(dirname "$0")/lib.sh"          # cd to the top; ok/not_ok; T_TMP
. tests/e2e/lib_prom.sh             # am_*, hook_*
. tests/e2e/lib_netns.sh            # tn_* (its EXIT trap: prom_live_traps)

prom_live_traps

t_require_tlswatch
if [ "$(id -u)" -ne 0 ]; then
	ok "a hanging Alertmanager # SKIP needs root (network namespaces, eBPF)"
	t_done
fi

pki=tests/data/pki
tmp=$(tn_tmpdir)
tn_setup amh
serve() { # name: s_server with NAME's certificate on $TN_PEER4:443
	tn_start_s_server "$tmp/server.log" -cert "$pki/$1.crt" -key "$pki/$1.key" \
		-cert_chain "$pki/inter.crt"
}
serve expired.test

hook_start -g 120 || { not_ok "the hanging listener starts"; t_done; }
hook_mode hang
am_start || { not_ok "Alertmanager starts"; t_done; }
ok "a hanging listener on $HOOK_URL, Alertmanager on $AM_ADDR"

if ! tn_start_agent "$tmp/agent.jsonl" --alertmanager "$HOOK_URL" \
	--alertmanager "$AM_URL" --webhook-timeout 30 --instance edge-hang --db "$tmp/agent.db" \
	--ca-file "$pki/root.crt" --no-active-check --no-online --no-metrics; then
	not_ok "tlswatch run starts with the two --alertmanager URLs"
	t_done
fi
ok "tlswatch run starts with the two --alertmanager URLs"

# names_listed: the sorted names of our alerts Alertmanager lists.
names_listed() {
	am_alerts | "$PY" -c '
import json, sys
print(" ".join(sorted(set(a["labels"]["name"] for a in json.load(sys.stdin)
                          if a["labels"].get("instance") == "edge-hang"))))'
}
handshake() { # sni
	printf 'GET / HTTP/1.0\r\n\r\n' | timeout 10 openssl s_client \
		-connect "$TN_PEER4:443" -tls1_2 -servername "$1" -CAfile "$pki/root.crt" \
		>"$tmp/client.log" 2>&1
}
# wait_listed NAMES SECONDS: until Alertmanager lists exactly NAMES.
wait_listed() { # names, seconds
	local i
	for i in $(seq $(($2 * 10))); do
		[ "$(names_listed)" = "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

handshake expired.test
wait_listed expired.test 10
assert_eq "the first name's alerts reach Alertmanager" expired.test "$(names_listed)"
hook_wait 10 1   # the hanging listener holds its first request now
handshake other.test
wait_listed "expired.test other.test" 10
assert_eq "the second name's alerts reach it within 10 s, while the hanging one holds its requests (30 s timeout)" \
	"expired.test other.test" "$(names_listed)"
assert_true "the hanging listener was sent requests ($(hook_count))" test "$(hook_count)" -ge 1

rc=0
tn_stop_agent || rc=$?
TN_AGENT_PID=''
assert_eq "SIGTERM: the agent exits 0" 0 "$rc"
# the drain bound is checked by the message below, not by the wall clock
# (no timed assertion on a shared host); tn_stop_agent's own bound (10 s,
# then SIGKILL: a status other than 0) is checked by the exit status
assert_contains "SIGTERM: and says so" "requests unanswered after 5000 ms; given up" \
	"$(cat "$tmp/agent.jsonl.stderr")"

# ---- a resolution missed while it hung, sent once it answers -------------
echo pass >"$tmp/gate.mode"
"$PY" tests/e2e/lib/tcp_gate.py --target "$AM_ADDR" --mode-file "$tmp/gate.mode" \
	--max-seconds 180 >"$tmp/gate.port" 2>"$tmp/gate.err" &
tn_bg $!
tn_wait_cmd 10 grep -q . "$tmp/gate.port" || { not_ok "the TCP gate starts"; t_done; }
gate_url=http://127.0.0.1:$(head -1 "$tmp/gate.port")
ok "a TCP gate on $gate_url in front of Alertmanager"

if ! tn_start_agent "$tmp/owed.jsonl" --alertmanager "$gate_url" --webhook-timeout 2 \
	--instance edge-resolve --db "$tmp/owed.db" --ca-file "$pki/root.crt" \
	--no-active-check --no-online --no-metrics; then
	not_ok "tlswatch run starts with the gate as its --alertmanager"
	t_done
fi

# listed SHA256: the sorted kinds of our alerts Alertmanager lists for the
# certificate SHA256, space-separated.
listed() { # sha256
	am_alerts | "$PY" -c '
import json, sys
print(" ".join(sorted(a["labels"]["kind"] for a in json.load(sys.stdin)
                      if a["labels"].get("instance") == "edge-resolve"
                      and a["labels"].get("sha256") == sys.argv[1])))' "$1"
}
wait_kinds() { # sha256, kinds, seconds
	local i
	for i in $(seq $(($3 * 10))); do
		[ "$(listed "$1")" = "$2" ] && return 0
		sleep 0.1
	done
	return 1
}
sha_expired=$(openssl x509 -in "$pki/expired.test.crt" -outform DER | sha256sum | cut -d' ' -f1)

# 1. The expired certificate's alerts reach Alertmanager.
handshake expired.test
wait_kinds "$sha_expired" "expired untrusted" 10
assert_eq "1. Alertmanager lists the expired certificate's alerts" "expired untrusted" \
	"$(listed "$sha_expired")"

# 2. The gate hangs; the certificate changes: its alert resolves, unheard.
echo hang >"$tmp/gate.mode"
tn_stop_s_server
serve selfsigned.test
handshake expired.test
tn_wait_grep 15 'alertmanager http://127.0.0.1:[0-9]*/…: Operation timed out' \
	"$tmp/owed.jsonl.stderr"
sleep 3   # the 3 POSTs of the resolution, 1 s apart, each hangs or is missed
assert_contains "2. the agent says its requests time out" \
	"alertmanager $gate_url/…: Operation timed out" "$(cat "$tmp/owed.jsonl.stderr")"
assert_eq "2. Alertmanager still lists the alerts: the resolution did not reach it" \
	"expired untrusted" "$(listed "$sha_expired")"

# 3. The gate passes; a new alert's request is answered: the resolution
# goes again, and the alert leaves the list long before its endsAt.
echo pass >"$tmp/gate.mode"
handshake other.test
wait_kinds "$sha_expired" "" 10
assert_eq "3. once Alertmanager answers again, the resolution reaches it within 10 s" \
	"" "$(listed "$sha_expired")"
assert_contains "3. the agent says it answers again" \
	"alertmanager $gate_url/…: answers again" "$(cat "$tmp/owed.jsonl.stderr")"

rc=0
tn_stop_agent || rc=$?
TN_AGENT_PID=''
assert_eq "the second agent exits 0 on SIGTERM" 0 "$rc"
if [ "$T_FAILED" -ne 0 ]; then
	sed 's/^/#   agent stderr: /' "$tmp/agent.jsonl.stderr" | head -20
	sed 's/^/#   second agent stderr: /' "$tmp/owed.jsonl.stderr" | head -20
fi
t_done
