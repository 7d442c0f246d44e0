#!/usr/bin/env bash
# The agent runs as an unprivileged user with exactly CAP_BPF, CAP_NET_ADMIN
# and CAP_PERFMON (what scripts/tlswatch.service grants): it attaches, sees
# a real TLS handshake, and detaches cleanly on SIGTERM. Without CAP_BPF it
# fails with exit status 4 and a message, leaving nothing attached.
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
. tests/e2e/lib_netns.sh
tn_require_root live_caps
tn_require_cmds openssl setpriv ip ss tc
tn_require_tlswatch

tmp=$(tn_tmpdir)
chmod 755 "$tmp"
pki=$tmp/pki
tn_make_pki "$pki"
tn_setup cap
tn_start_rsa_server "$pki"

as_agent() { # caps, log, args...: the agent as nobody with these capabilities
	local caps=$1 log=$2
	shift 2
	exec setpriv --reuid=nobody --regid=nogroup --clear-groups \
		--inh-caps="-all,$caps" --ambient-caps="-all,$caps" --bounding-set="-all,$caps" \
		"$BUILD/tlswatch" run --iface "$TN_HOST_IF" --port 443 --no-online \
		--db "$tmp/inv.db" --json-log "$log" --no-active-check "$@"
}

log=$tmp/agent.jsonl
: >"$log"
chmod 666 "$log"
as_agent "+bpf,+net_admin,+perfmon" "$log" 2>"$tmp/agent.err" &
pid=$!
tn_bg "$pid"
if tn_wait_grep 15 '"state":"started"' "$log"; then
	tap_ok "attaches as nobody with CAP_BPF, CAP_NET_ADMIN, CAP_PERFMON"
else
	tap_fail "attaches as nobody with CAP_BPF, CAP_NET_ADMIN, CAP_PERFMON" "$(cat "$tmp/agent.err")"
fi
tn_rsa_handshake
if tn_wait_grep 10 '"event":"handshake".*"sni":"rsa.test".*"outcome":"ok"' "$log"; then
	tap_ok "sees the TLS 1.2 handshake with those capabilities only"
else
	tap_fail "sees the TLS 1.2 handshake with those capabilities only" "$(cat "$log")"
fi
kill -TERM "$pid"
wait "$pid"
rc=$?
[ "$rc" -eq 0 ] && tap_ok "exits 0 on SIGTERM" || tap_fail "exits 0 on SIGTERM (status $rc)"
if tc filter show dev "$TN_HOST_IF" ingress | grep -q bpf || tc filter show dev "$TN_HOST_IF" egress | grep -q bpf; then
	tap_fail "no filter left after SIGTERM"
else
	tap_ok "no filter left after SIGTERM"
fi

: >"$tmp/nobpf.jsonl"
chmod 666 "$tmp/nobpf.jsonl"
as_agent "+net_admin,+perfmon" "$tmp/nobpf.jsonl" 2>"$tmp/nobpf.err" &
pid=$!
tn_bg "$pid"
for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
wait "$pid"
rc=$?
# The message that names the missing capability ("tlswatch run:" begins
# every line the agent writes, so it proves nothing).
if [ "$rc" -eq 4 ] && grep -qF "loading the BPF program: Operation not permitted (needs CAP_BPF, CAP_NET_ADMIN, CAP_PERFMON)" "$tmp/nobpf.err"; then
	tap_ok "without CAP_BPF: exit 4 with the message naming the capabilities"
else
	tap_fail "without CAP_BPF: exit 4 with the message naming the capabilities (status $rc)" "$(cat "$tmp/nobpf.err")"
fi
if tc qdisc show dev "$TN_HOST_IF" | grep -q clsact; then
	tap_fail "without CAP_BPF: no clsact qdisc left"
else
	tap_ok "without CAP_BPF: no clsact qdisc left"
fi
[ "$TN_FAILED" -eq 0 ]
