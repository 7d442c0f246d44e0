#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# What SSL_free read (run --uprobes auto) binds to its own connection's
# close, told apart from every other connection by its socket, not by
# addresses and ports, and whatever the address family:
#   - another namespace: a second namespace, not watched, holds the same
#     addresses as the test's (on its lo); there `openssl s_server` serves
#     a client from $TN_HOST4:CPORT that rejects its certificate (a fatal
#     alert the server reads) and closes. Then, in the watched namespace,
#     a client from the same $TN_HOST4:CPORT to the same $srv:443 trusts
#     it: a connection with the same 4-tuple and nothing read at SSL_free
#     (its chain went out with its flight). Its handshake is reported
#     without alerts, and the other namespace's record still waits (its
#     close was not seen here). Before, that record waited under the
#     4-tuple alone, and this connection's FIN took it (an extra bind,
#     the record gone);
#   - IPv6: a client over IPv6 rejects the certificate (a fatal alert the
#     server reads): the server's record binds to that connection's
#     close (no IPv6 test before).
#   - unread: the client rejects the certificate and sends a byte more;
#     the server (tests/e2e/lib/late_close_server.c) frees the SSL and
#     closes the socket with that byte unread: the kernel resets the
#     connection (no FIN), and the RST takes the record (no test of a
#     close that resets before).
# Not here: IPv4 to a server's IPv6 socket (IPv4-mapped addresses):
# `openssl s_server` listens IPv6-only; the socket's cookie, which keys
# the record, is the same for every family.
# Needs root, openssl, python3, bpftool, a C compiler. TAP output; exits non-zero on any failure.
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
export BUILD
. tests/e2e/lib_netns.sh
. tests/e2e/lib_uprobes.sh

up_begin live_uprobes_netns upns openssl ip ss bpftool "${CC:-cc}"
log=$tmp/agent.log
up_start_agent "$log" auto
CPORT=40123

# The other namespace, with the test's addresses on its lo.
other=tw-upno-$$
ip netns add "$other" || tn_bail "cannot create network namespace $other"
tn_on_exit "tn_ns_del '$other'"
ip -n "$other" link set lo up &&
	ip -n "$other" addr add "$TN_HOST4/32" dev lo &&
	ip -n "$other" addr add "$srv/32" dev lo ||
	tn_bail "cannot configure $other"

# `openssl s_server` for one connection in namespace NS on ADDR:443 (an
# IPv6 address in brackets), with OPTIONS more; waits until it listens.
# Sets ONE_PID.
one_server() { # namespace, addr, options...
	local ns=$1 addr=$2 i
	shift 2
	rm -f "$tmp/one.in"
	mkfifo "$tmp/one.in"
	ip netns exec "$ns" openssl s_server -quiet -naccept 1 -accept "$addr:443" -tls1_3 \
		-cert "$pki/ecdsa.test.crt" -key "$pki/ecdsa.test.key" -cert_chain "$pki/inter.crt" "$@" \
		<"$tmp/one.in" >"$tmp/one.log" 2>&1 &
	ONE_PID=$!
	tn_bg "$ONE_PID"
	exec 9>"$tmp/one.in" # its input open: at its end it would quit at once
	for i in $(seq 100); do
		ip netns exec "$ns" ss -Hltn 'sport = :443' | grep -q . && return 0
		sleep 0.1
	done
	tn_bail "openssl s_server in $ns did not start"
}

# A TLS 1.3 client (Python's ssl) in namespace NS (the host: "") from
# BIND (ADDR:PORT, or "-") to ADDR:443 with SNI; it trusts the test's
# root when TRUST is 1; refused, it sends one byte more when BYTE is 1;
# it closes after the server (close_notify first when the handshake
# succeeded). Then waits for the server's exit.
one_client() { # namespace, bind, addr, sni, trust, [byte]
	local -a in_ns=()
	[ -n "$1" ] && in_ns=(ip netns exec "$1")
	"${in_ns[@]}" "$PY" - "$2" "$3" "$4" "$5" "${6:-0}" "$pki/root.crt" >"$tmp/client.log" 2>&1 <<'PYEOF'
import os, socket, ssl, sys
bind, addr, sni, trust, byte, root = sys.argv[1:]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.minimum_version = ssl.TLSVersion.TLSv1_3
ctx.check_hostname = False  # the SNI names the case, not the certificate
if trust == "1":
    ctx.load_verify_locations(root)
fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
s = socket.socket(fam, socket.SOCK_STREAM)
s.settimeout(10)
if bind != "-":
    a, p = bind.rsplit(":", 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((a, int(p)))
s.connect((addr, 443))
# the socket's own fd (wrap_socket takes s's)
raw = socket.socket(fileno=os.dup(s.fileno()))
raw.settimeout(10)  # s's timeout made the file non-blocking: raw's too
t = ctx.wrap_socket(s, server_hostname=sni, do_handshake_on_connect=False)
try:
    t.do_handshake()
    t.unwrap()
except ssl.SSLError as e:
    print("refused:", e)
    if byte == "1":
        raw.send(b"x")
# the server closes first: its socket's close, which moves what its
# SSL_free read, then changes its state (a reset from here, on data left
# unread, would close it first, and its close would move nothing)
try:
    while raw.recv(4096):
        pass
except ConnectionResetError:
    print("reset")
raw.close()
t.close()
PYEOF
	# a client that could not connect leaves the server waiting
	tn_wait_cmd 10 sh -c "! kill -0 $ONE_PID" || { sed "s/^/#   /" "$tmp/client.log"; kill "$ONE_PID"; }
	wait "$ONE_PID"
}

# The handshakes reported since the Nth, by SNI, outcome and alerts.
handshakes_since() { # n
	"$PY" - "$log" "$1" <<'PYEOF'
import json, sys
hs = [json.loads(l) for l in open(sys.argv[1]) if '"event":"handshake"' in l]
print("|".join(sorted("%s %s %s" % (e.get("sni"), e["outcome"], ";".join(
    "%s:%s:%s:%s" % (a["from"], a["level"], a["description"], a.get("observed", "-"))
    for a in e["alerts"]) or "-") for e in hs[int(sys.argv[2]):])))
PYEOF
}
seen_handshakes() {
	grep -c '"event":"handshake"' "$log"
}

# --- another namespace, the same 4-tuple --------------------------------------
one_server "$other" "$srv"
other_pid=$ONE_PID # ip netns exec execs the server: its pid
one_client "$other" "$TN_HOST4:$CPORT" "$srv" other.test 0
grep -q '^refused:' "$tmp/client.log" ||
	tn_bail "the other namespace's client did not refuse the certificate"
tap_eq "the other namespace's server: its record waits for its close (not seen here)" 1 \
	"$(up_map_entries_of "$AGENT_PID" tw_up_closing "$other_pid")"
seen=$(seen_handshakes)
one_server "$TN_NS" "$srv"
one_client "" "$TN_HOST4:$CPORT" "$srv" same.test 1
tn_wait_cmd 10 sh -c "[ \$(grep -c '\"event\":\"handshake\"' '$log') -ge $((seen + 1)) ]"
tap_eq "the same 4-tuple here: its handshake reported without the other's alert" \
	"same.test ok -" "$(handshakes_since "$seen")"
# the server's FIN went out and was seen (the handshake's report came
# after it): a record it took would be gone
tap_eq "the same 4-tuple here: its close took nothing of the other namespace's" 1 \
	"$(up_map_entries_of "$AGENT_PID" tw_up_closing "$other_pid")"

# --- IPv6 ---------------------------------------------------------------------
seen=$(seen_handshakes)
one_server "$TN_NS" "[$TN_PEER6]"
one_client "" - "$TN_PEER6" v6.test 0
tn_wait_cmd 10 sh -c "[ \$(grep -c '\"event\":\"handshake\"' '$log') -ge $((seen + 1)) ]"
tap_eq "IPv6: the alert the server read goes with its connection" \
	"v6.test failed client:fatal:unknown_ca:server" "$(handshakes_since "$seen")"

# --- a close that resets: the server's close with data unread ---------------
up_build_server late_close_server "$tmp"
seen=$(seen_handshakes)
ip netns exec "$TN_NS" "$tmp/late_close_server" "$srv" 443 "$pki/ecdsa.test.chain.pem" \
	"$pki/ecdsa.test.key" unread 2>"$tmp/server.err" &
ONE_PID=$!
tn_bg "$ONE_PID"
tn_wait_listen 10 443 || tn_bail "late_close_server did not start"
one_client "" - "$srv" unread.test 0 1
tap_eq "unread: the server reset the connection" "reset" "$(grep -x reset "$tmp/client.log")"
tn_wait_cmd 10 sh -c "[ \$(grep -c '\"event\":\"handshake\"' '$log') -ge $((seen + 1)) ]"
tap_eq "unread: the alert the server read goes with its connection's RST" \
	"unread.test failed client:fatal:unknown_ca:server" "$(handshakes_since "$seen")"

tn_stop_pid "$AGENT_PID"
tap_eq "one bind per chain and per alert read: 3 chains, 2 alerts" 5 \
	"$(tn_agent_counter "$log" uprobe_binds)"

if [ "$TN_FAILED" -ne 0 ]; then
	grep -E '"event":"handshake"|uprobe' "$log" | cut -c1-400 | sed 's/^/#   agent: /'
fi

echo "# $TN_TESTS tests, $TN_FAILED failed"
[ "$TN_FAILED" -eq 0 ]
