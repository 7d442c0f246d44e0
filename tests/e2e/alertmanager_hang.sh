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
# Needs root, prometheus-alertmanager. TAP output; exits non-zero on any
# failure. Everything started is stopped and everything created removed on
# every exit path.
set -u
. "$(dirname "$0")/lib.sh"          # cd to the top; ok/not_ok; T_TMP
. tests/e2e/lib_prom.sh             # am_*, hook_*
. tests/e2e/lib_netns.sh            # tn_* (its EXIT trap is replaced below)

amh_cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	[ -n "$TN_AGENT_PID" ] && tn_stop_pid "$TN_AGENT_PID" TERM
	prom_cleanup
	rm -rf "$T_TMP"
	[ "$rc" -eq 0 ] && [ "$T_FAILED" -ne 0 ] && rc=1
	(exit "$rc")
	tn_cleanup
}
trap amh_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

t_require_tlswatch
if [ "$(id -u)" -ne 0 ]; then
	ok "a hanging Alertmanager # SKIP needs root (network namespaces, eBPF)"
	t_done
fi

pki=tests/data/pki
tmp=$(tn_tmpdir)
tn_setup amh
ip netns exec "$TN_NS" openssl s_server -quiet -www -accept "$TN_PEER4:443" \
	-cert "$pki/expired.test.crt" -key "$pki/expired.test.key" -cert_chain "$pki/inter.crt" \
	>"$tmp/server.log" 2>&1 &
tn_bg $!
tn_wait_listen 10 443 || { not_ok "openssl s_server serves expired.test in $TN_NS"; t_done; }

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
sleep 1   # the hanging listener holds its first request now
handshake other.test
wait_listed "expired.test other.test" 10
assert_eq "the second name's alerts reach it within 10 s, while the hanging one holds its requests (30 s timeout)" \
	"expired.test other.test" "$(names_listed)"
assert_true "the hanging listener was sent requests ($(hook_count))" test "$(hook_count)" -ge 1

start=$(date +%s)
rc=0
tn_stop_agent || rc=$?
took=$(($(date +%s) - start))
TN_AGENT_PID=''
assert_eq "SIGTERM: the agent exits 0" 0 "$rc"
assert_true "SIGTERM: it gives up on the hanging requests within the drain bound (${took}s <= 8s)" \
	test "$took" -le 8
assert_contains "SIGTERM: and says so" "requests unanswered after 5000 ms; given up" \
	"$(cat "$tmp/agent.jsonl.stderr")"
if [ "$T_FAILED" -ne 0 ]; then
	sed 's/^/#   agent stderr: /' "$tmp/agent.jsonl.stderr" | head -20
fi
t_done
