#!/usr/bin/env bash
# make demo: the live agent on real TLS traffic, in a throwaway network.
#
# Creates a network namespace (the "server host") joined to the host by a
# veth pair, starts a real `openssl s_server` inside it (rsa.test serves a
# good certificate, expired.test an expired one), and attaches
# `tlswatch run --uprobes auto` inside it, on the namespace's end of the
# veth: the server's own packets leave there, which is what joins the chain
# its TLS library served (uprobes on libssl.so.3/libcrypto.so.3) to the
# connection. Real `openssl s_client` handshakes from the host (TLS 1.3,
# whose certificate is encrypted on the wire, and TLS 1.2, some rejected by
# the client, then a burst of rejections) drive it; the agent's events are
# printed as they happen. A webhook receiver next to the agent prints the
# signed alerts it gets, and the demo ends with what the server's library
# told the agent, the agent's /metrics lines, and a check that the agent
# detached everything it attached (TC filters, eBPF programs and links,
# uprobes). Everything it creates is removed on exit, also on Ctrl-C.
# Needs root. DEMO_RAW=1 prints the raw JSON lines instead.
set -u
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build}
PY=/usr/bin/python3
ns=tlswatch-demo-$$
host_if=twd$$h
peer_if=twd$$n
host_ip=10.213.0.1
srv_ip=10.213.0.2
# the namespace is new: nothing else listens in it
hook_port=8080 metrics_port=9464
tmp=$(mktemp -d)
agent_pid='' server_pid='' hook_pid='' format_pid=''

cleanup() {
	trap - EXIT INT TERM
	[ -n "$agent_pid" ] && kill -INT "$agent_pid" 2>/dev/null && wait "$agent_pid" 2>/dev/null
	[ -n "$format_pid" ] && wait "$format_pid" 2>/dev/null
	[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
	[ -n "$hook_pid" ] && kill "$hook_pid" 2>/dev/null && wait "$hook_pid" 2>/dev/null
	ip netns del "$ns" 2>/dev/null      # removes the veth pair too
	ip link del "$host_if" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ "$(id -u)" -ne 0 ]; then
	echo "demo: needs root (it creates a network namespace and attaches eBPF)" >&2
	exit 1
fi

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
# A command in the namespace, in the foreground (a background job calls
# ip netns exec itself, so that $! is the process started, not a subshell).
in_ns() { ip netns exec "$ns" "$@"; }

# Waits up to SECONDS for COMMAND to succeed.
wait_for() { # seconds, command...
	local tries=$(($1 * 10))
	shift
	while [ "$tries" -gt 0 ]; do
		"$@" && return 0
		sleep 0.1
		tries=$((tries - 1))
	done
	return 1
}

# The ids of the eBPF programs and links the agent holds open (its fds).
agent_bpf_ids() { # pid, prog_id|link_id
	grep -h "^$2:" /proc/"$1"/fdinfo/* 2>/dev/null | awk '{print $2}' | sort -nu
}

# Those of IDS (one a line) the kernel still has: it frees them once the
# agent's fds are closed, shortly after its exit.
still_loaded() { # prog|link, ids
	[ -n "$2" ] || return 0
	bpftool "$1" show 2>/dev/null | sed -n 's/^\([0-9]*\): .*/\1/p' | grep -xF -f <(printf '%s\n' "$2")
}

# The agent's programs and links still loaded, on one line (empty: none).
agent_leftovers() {
	local progs links
	progs=$(still_loaded prog "$prog_ids") links=$(still_loaded link "$link_ids")
	[ -z "$progs$links" ] || echo "eBPF programs [${progs//$'\n'/ }] links [${links//$'\n'/ }]"
}

no_agent_leftovers() {
	[ -z "$(agent_leftovers)" ]
}

# How many uprobe_events entries libbpf made for PID (when the kernel has no
# uprobe PMU it makes them in tracefs: libbpf_PID_...), read through a tracefs
# mounted in the private mount namespace ip netns exec gives the command
# (the host's mounts are left alone); empty without tracefs.
uprobe_events_of() { # pid
	# shellcheck disable=SC2016 # $1 is the inner shell's
	in_ns sh -c 'mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null
		grep -c "libbpf_$1_" /sys/kernel/tracing/uprobe_events 2>/dev/null' - "$1"
}

say "making a private PKI (root, intermediate, rsa.test, expired.test)"
scripts/make-pki.sh "$tmp/pki" >/dev/null || exit 1
pki=$tmp/pki

say "network: namespace $ns (the server host), veth $host_if ($host_ip) <-> $peer_if ($srv_ip)"
ip netns add "$ns" &&
ip link add "$host_if" type veth peer name "$peer_if" netns "$ns" &&
ip addr add "$host_ip/30" dev "$host_if" && ip link set "$host_if" up &&
ip -n "$ns" addr add "$srv_ip/30" dev "$peer_if" && ip -n "$ns" link set "$peer_if" up &&
ip -n "$ns" link set lo up || exit 1

say "openssl s_server on $srv_ip:443 in $ns (rsa.test: valid, expired.test: expired)"
ip netns exec "$ns" openssl s_server -quiet -accept "$srv_ip:443" -www \
	-cert "$pki/rsa.test.crt" -key "$pki/rsa.test.key" -cert_chain "$pki/inter.crt" \
	-servername expired.test -cert2 "$pki/expired.test.crt" -key2 "$pki/expired.test.key" \
	>"$tmp/server.log" 2>&1 &
server_pid=$!
wait_for 5 sh -c "ip netns exec '$ns' ss -Hltn 'sport = :443' | grep -q ." ||
	{ echo "demo: openssl s_server did not start" >&2; cat "$tmp/server.log" >&2; exit 1; }

say "a webhook receiver on 127.0.0.1:$hook_port in $ns (it checks each request's signature)"
printf 'demo-secret\n' >"$tmp/secret" && chmod 600 "$tmp/secret"
ip netns exec "$ns" "$PY" tests/e2e/lib/webhook_receiver.py --port "$hook_port" --out "$tmp/hooks.jsonl" \
	--secret "$tmp/secret" --max-seconds 600 >"$tmp/hook.log" 2>&1 &
hook_pid=$!

agent=("$BUILD/tlswatch" run --iface "$peer_if" --port 443 --uprobes auto --stats-interval 5
	--ca-file "$pki/root.crt" --db "$tmp/inventory.db"
	--webhook "http://127.0.0.1:$hook_port/alerts" --webhook-secret-file "$tmp/secret"
	--metrics "127.0.0.1:$metrics_port")
say "attaching, on the server's side of the veth (where its packets leave):"
echo "ip netns exec $ns ${agent[*]}"
# The events go through a pipe to the formatter (which keeps a copy of
# each raw line), so that $! is the agent itself.
mkfifo "$tmp/events.pipe" || exit 1
raw=()
[ "${DEMO_RAW:-0}" = 1 ] && raw=(--raw)
"$PY" scripts/demo-format.py --save "$tmp/events.jsonl" "${raw[@]}" <"$tmp/events.pipe" &
format_pid=$!
ip netns exec "$ns" "${agent[@]}" >"$tmp/events.pipe" &
agent_pid=$!
if ! wait_for 15 grep -qs '"state":"started"' "$tmp/events.jsonl"; then
	echo "demo: the agent did not start" >&2
	exit 1
fi
prog_ids=$(agent_bpf_ids "$agent_pid" prog_id)
link_ids=$(agent_bpf_ids "$agent_pid" link_id)
sleep 0.5

client() { # description, s_client options...
	local what=$1
	shift
	printf '\033[2m-- client: %s\033[0m\n' "$what"
	printf 'GET / HTTP/1.0\r\n\r\n' | timeout 5 openssl s_client -connect "$srv_ip:443" "$@" \
		>/dev/null 2>&1
	sleep 0.7
}

say "driving real handshakes"
client "TLS 1.3 to rsa.test (the certificate is encrypted on the wire: the server's library says which it served)" \
	-tls1_3 -servername rsa.test -CAfile "$pki/root.crt" -verify_return_error
client "TLS 1.3 to expired.test from a client that checks nothing (like curl -k): it succeeds, the wire shows only encrypted records" \
	-tls1_3 -servername expired.test
client "TLS 1.3 to expired.test: rejected by the client" \
	-tls1_3 -servername expired.test -CAfile "$pki/cachain.pem" -verify_return_error
client "TLS 1.2 to rsa.test, trusts the CA (the certificate is in the clear)" \
	-tls1_2 -servername rsa.test -CAfile "$pki/root.crt" -verify_return_error
client "TLS 1.2 to expired.test: the client rejects the expired certificate" \
	-tls1_2 -servername expired.test -CAfile "$pki/cachain.pem" -verify_return_error
client "TLS 1.2 to rsa.test from a client that does not know the CA" \
	-tls1_2 -servername rsa.test -verify_return_error
for i in 1 2 3; do
	client "TLS 1.3 to rsa.test ($i)" -tls1_3 -servername rsa.test -CAfile "$pki/root.crt" -verify_return_error
done
say "a burst of clients rejecting expired.test: a failure spike"
for i in $(seq 24); do
	printf 'x' | timeout 5 openssl s_client -connect "$srv_ip:443" -tls1_2 \
		-servername expired.test -CAfile "$pki/cachain.pem" -verify_return_error >/dev/null 2>&1
done
sleep 6   # one stats event

say "webhooks the receiver got (signed; one per alert, duplicates suppressed)"
"$PY" scripts/demo-format.py --webhooks "$tmp/hooks.jsonl"

say "certificates learned from the server's own TLS library (\"observed\": \"server\")"
"$PY" scripts/demo-format.py --server-view "$tmp/events.jsonl"

say "curl http://127.0.0.1:$metrics_port/metrics in $ns (certificates seen)"
in_ns curl -s "http://127.0.0.1:$metrics_port/metrics" |
	grep -E '^tlswatch_(certificate_info|certificate_findings|handshakes_total|webhook_deliveries_total|uprobe_chains_joined_total)' |
	sed 's/^/  /'

say "stopping the agent (SIGINT): it detaches what it attached"
kill -INT "$agent_pid" 2>/dev/null
wait "$agent_pid" 2>/dev/null
stopped_pid=$agent_pid agent_pid=
wait "$format_pid" 2>/dev/null
format_pid=
left=
for dir in ingress egress; do
	in_ns tc filter show dev "$peer_if" "$dir" | grep -q bpf && left="$left TC filter ($dir);"
done
wait_for 5 no_agent_leftovers ||
	left="$left $(agent_leftovers);"
n_uprobes=$(uprobe_events_of "$stopped_pid")
[ "${n_uprobes:-0}" -eq 0 ] || left="$left $n_uprobes uprobes in tracefs' uprobe_events;"
if [ -n "$left" ]; then
	echo "demo: still attached after the agent stopped:$left" >&2
	exit 1
fi
n_progs=$(wc -w <<<"$prog_ids") n_links=$(wc -w <<<"$link_ids")
uprobes="no uprobe in uprobe_events"
[ -n "$n_uprobes" ] || uprobes="(no tracefs: uprobe_events not read)"
echo "nothing of the agent left: no TC filter on $peer_if, none of its $n_progs eBPF programs" \
	"and $n_links links, $uprobes; cleaning up the namespace"
