#!/usr/bin/env bash
# make demo: the live agent on real TLS traffic, in a throwaway network.
#
# Creates a network namespace joined to the host by a veth pair, starts a
# real `openssl s_server` inside it (rsa.test serves a good certificate,
# expired.test an expired one), attaches `tlswatch run` to the host end of
# the veth, drives real `openssl s_client` handshakes (TLS 1.2 and 1.3,
# some rejected by the client), and prints the agent's events as they
# happen. A local webhook receiver prints the signed alerts it gets, and the
# demo ends with the agent's /metrics lines for the certificates it saw.
# Everything it creates is removed on exit, also on Ctrl-C.
# Needs root. DEMO_RAW=1 prints the raw JSON lines instead.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
ns=tlswatch-demo-$$
host_if=twd$$h
peer_if=twd$$n
host_ip=10.213.0.1
srv_ip=10.213.0.2
tmp=$(mktemp -d)
agent_pid= server_pid= hook_pid=

cleanup() {
	trap - EXIT INT TERM
	[ -n "$agent_pid" ] && kill -INT "$agent_pid" 2>/dev/null && wait "$agent_pid" 2>/dev/null
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

say "making a private PKI (root, intermediate, rsa.test, expired.test)"
scripts/make-pki.sh "$tmp/pki" >/dev/null || exit 1
pki=$tmp/pki

say "network: namespace $ns, veth $host_if ($host_ip) <-> $peer_if ($srv_ip)"
ip netns add "$ns" &&
ip link add "$host_if" type veth peer name "$peer_if" netns "$ns" &&
ip addr add "$host_ip/30" dev "$host_if" && ip link set "$host_if" up &&
ip -n "$ns" addr add "$srv_ip/30" dev "$peer_if" && ip -n "$ns" link set "$peer_if" up &&
ip -n "$ns" link set lo up || exit 1

say "openssl s_server on $srv_ip:443 (rsa.test: valid, expired.test: expired)"
ip netns exec "$ns" openssl s_server -quiet -accept "$srv_ip:443" -www \
	-cert "$pki/rsa.test.crt" -key "$pki/rsa.test.key" -cert_chain "$pki/inter.crt" \
	-servername expired.test -cert2 "$pki/expired.test.crt" -key2 "$pki/expired.test.key" \
	>"$tmp/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 50); do
	ip netns exec "$ns" ss -ltn | grep -q ":443 " && break
	sleep 0.1
done

say "a webhook receiver on 127.0.0.1 (it checks each request's signature)"
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
printf 'demo-secret\n' >"$tmp/secret" && chmod 600 "$tmp/secret"
hook_port=$(free_port) metrics_port=$(free_port)
/usr/bin/python3 tests/e2e/lib/webhook_receiver.py --port "$hook_port" --out "$tmp/hooks.jsonl" \
	--secret "$tmp/secret" --max-seconds 600 >"$tmp/hook.log" 2>&1 &
hook_pid=$!

agent=("$BUILD/tlswatch" run --iface "$host_if" --port 443 --stats-interval 5
	--ca-file "$pki/root.crt" --db "$tmp/inventory.db"
	--webhook "http://127.0.0.1:$hook_port/alerts" --webhook-secret-file "$tmp/secret"
	--metrics "127.0.0.1:$metrics_port")
say "attaching: ${agent[*]}"
if [ "${DEMO_RAW:-0}" = 1 ]; then
	"${agent[@]}" &
else
	"${agent[@]}" | python3 scripts/demo-format.py &
fi
agent_pid=$(pgrep -n -f "tlswatch run --iface $host_if") || true
sleep 1.5

client() { # description, s_client options...
	local what=$1
	shift
	printf '\033[2m-- client: %s\033[0m\n' "$what"
	printf 'GET / HTTP/1.0\r\n\r\n' | timeout 5 openssl s_client -connect "$srv_ip:443" \
		-verify_return_error "$@" >/dev/null 2>&1
	sleep 0.7
}

say "driving real handshakes"
client "TLS 1.2 to rsa.test, trusts the CA" -tls1_2 -servername rsa.test -CAfile "$pki/root.crt"
client "TLS 1.3 to rsa.test (certificate encrypted: the agent checks it itself)" -tls1_3 -servername rsa.test -CAfile "$pki/root.crt"
client "TLS 1.2 to expired.test: the client rejects the expired certificate" -tls1_2 -servername expired.test -CAfile "$pki/cachain.pem"
client "TLS 1.2 to rsa.test from a client that does not know the CA" -tls1_2 -servername rsa.test
client "TLS 1.3 to expired.test: rejected by the client (OpenSSL sends this alert in plaintext)" -tls1_3 -servername expired.test -CAfile "$pki/cachain.pem"
for i in 1 2 3; do
	client "TLS 1.3 to rsa.test ($i)" -tls1_3 -servername rsa.test -CAfile "$pki/root.crt"
done
say "a burst of clients rejecting expired.test: a failure spike"
for i in $(seq 24); do
	printf 'x' | timeout 5 openssl s_client -connect "$srv_ip:443" -tls1_2 \
		-servername expired.test -CAfile "$pki/cachain.pem" -verify_return_error >/dev/null 2>&1
done
sleep 6   # one stats event

say "webhooks the receiver got (signed; one per alert, duplicates suppressed)"
/usr/bin/python3 - "$tmp/hooks.jsonl" <<'PY'
import json, sys
try:
    lines = open(sys.argv[1]).read().splitlines()
except OSError:
    lines = []
for raw in lines:
    r = json.loads(raw)
    ev = json.loads(r["body"])
    what = ev.get("sni") or json.dumps(ev.get("scope", ev.get("state", "")))
    kinds = ",".join(f["kind"] for f in ev.get("findings", []))
    print(f'  webhook {ev["event"]} {what} {kinds} (HTTP {r.get("status")}, '
          f'signature {"ok" if r.get("signature_ok") else "BAD"}, '
          f'key {r["headers"].get("idempotency-key", "")[:12]}…)')
print(f"  {len(lines)} webhook(s)")
PY

say "curl http://127.0.0.1:$metrics_port/metrics (certificates seen)"
curl -s "http://127.0.0.1:$metrics_port/metrics" |
	grep -E '^tlswatch_(certificate_info|certificate_findings|handshakes_total|webhook_deliveries_total)' | sed 's/^/  /'

say "stopping the agent (SIGINT): it detaches what it attached"
kill -INT "$agent_pid" 2>/dev/null
wait "$agent_pid" 2>/dev/null
agent_pid=
sleep 0.5
if tc filter show dev "$host_if" ingress | grep -q bpf || tc filter show dev "$host_if" egress | grep -q bpf; then
	echo "demo: a filter is still attached to $host_if" >&2
	exit 1
fi
echo "no tlswatch filter left on $host_if; cleaning up the namespace"
