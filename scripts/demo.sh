#!/usr/bin/env bash
# make demo: the live agent on real TLS traffic, in a throwaway network.
#
# Creates a network namespace joined to the host by a veth pair, starts a
# real `openssl s_server` inside it (rsa.test serves a good certificate,
# expired.test an expired one), attaches `tlswatch run` to the host end of
# the veth, drives real `openssl s_client` handshakes (TLS 1.2 and 1.3,
# some rejected by the client), and prints the agent's events as they
# happen. Everything it creates is removed on exit, also on Ctrl-C.
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
agent_pid= server_pid=

cleanup() {
	trap - EXIT INT TERM
	[ -n "$agent_pid" ] && kill -INT "$agent_pid" 2>/dev/null && wait "$agent_pid" 2>/dev/null
	[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
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

agent=("$BUILD/tlswatch" run --iface "$host_if" --port 443 --stats-interval 5
	--ca-file "$pki/root.crt" --db "$tmp/inventory.db")
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
