#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# --direction served: an edge follows the handshakes it serves, not the
# connections it opens itself to a watched port (an origin fetch over 443).
#
# Three network namespaces: "edge", joined by one veth pair to "client"
# and by another to "origin". The agent runs inside edge, attached to
# edge's two interfaces; an openssl s_server listens on edge:443 (cert
# served.test) and another on origin:443 (cert origin.test). Each round
# does one TLS 1.2 handshake from client to edge:443 (served), and two
# s_client runs inside edge (outgoing: their ClientHello leaves from
# edge's own TCP socket): to origin:443, and to SMTP on origin:25 with
# STARTTLS (the kernel has copied its preamble when the hello comes):
# Both runs also watch edge's lo and do a handshake from edge's own client
# to edge's server (to edge's address: over lo, both ends edge's):
#   - --direction served: exactly the served handshakes are reported (two
#     handshake events, their server edge:443, the client's and the one
#     over lo; one cert event, its sha256 served.test's), no event of
#     origin.test; flows_outgoing 2, flows_tracked 3 = 2 handshakes + 1
#     flows_not_tls (the SMTP preamble, forgotten at the gap record that
#     ends it). Before, the one over lo was taken for outgoing (3);
#   - --direction all (the default): all four reported (four handshake
#     events, a cert event for each certificate and address),
#     flows_outgoing 0;
#   - handshakes first seen at their ServerHello: held_server.py holds two
#     ClientHellos unanswered (port 8443) until the agent has started, one
#     of edge's client to origin, one of client's to edge. Under served
#     only edge's own server's is reported (no SNI: "-"), flows_outgoing
#     1, flows_tracked 2; before, the one whose ServerHello came in to
#     edge's client was followed too. Under all both are;
#   - a STARTTLS connection with both ports watched (edge's client ports
#     narrowed to 2525-2526, watched too): its preamble names no server,
#     and the hello decides: under served flows_outgoing 1, flows_not_tls
#     1, nothing of origin; under all its handshake's server is origin:25;
#   - the configuration file's `direction = served`, shown by
#     --show-config, then `direction = all` and SIGHUP: config_reloaded,
#     and the next outgoing handshake is followed (flows_outgoing stays 2);
#   - a bad value is refused, exit 2: "tlswatch run: --direction:
#     'sideways' is not all or served", in the file too.
#
# Needs root, openssl, ip, ss, python3. TAP output; exits non-zero on any
# failure.
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
export BUILD
. tests/e2e/lib_netns.sh
PY=${PY:-python3}

tn_require_root live_direction
tn_require_cmds openssl ip ss sha256sum timeout "$PY"
tn_require_tlswatch

tmp=$(tn_tmpdir)

# --- bad values (no root needed, nothing attached) --------------------------
out=$("$BUILD/tlswatch" run --direction sideways 2>&1 >/dev/null)
tap_eq "--direction sideways: exit 2" 2 "$?"
tap_eq "--direction sideways: says what it takes" \
	"tlswatch run: --direction: 'sideways' is not all or served" \
	"$(printf '%s\n' "$out" | head -1)"
printf 'direction = sideways\n' >"$tmp/bad.conf"
chmod 600 "$tmp/bad.conf"
out=$("$BUILD/tlswatch" run --config "$tmp/bad.conf" --show-config 2>&1 >/dev/null)
tap_eq "direction = sideways in the file: exit 2" 2 "$?"
tap_eq "direction = sideways in the file: names the file and line" \
	"tlswatch run: $tmp/bad.conf:1: direction: 'sideways' is not all or served" \
	"$(printf '%s\n' "$out" | head -1)"

# --- the namespaces ----------------------------------------------------------
# edge is the lib's namespace (its cleanup kills what runs inside and
# deletes it); client and origin are this test's, removed by a hook.
o2=$((200 + ($$ / 256) % 50))
[ "$o2" -eq 213 ] && o2=214
NET=10.$o2.$(($$ % 256))
EDGE4=$NET.1 CLIENT4=$NET.2 EDGE_O4=$NET.17 ORIGIN4=$NET.18
TN_NS=tw-edge-$$
CLIENT_NS=tw-dcli-$$
ORIGIN_NS=tw-dorg-$$
EDGE_C_IF=dec$$ EDGE_O_IF=deo$$

tn_on_exit "tn_ns_del $CLIENT_NS"
tn_on_exit "tn_ns_del $ORIGIN_NS"

link_ns() { # peer namespace, edge ifname, edge address, peer address
	ip link add "$2" netns "$TN_NS" type veth peer name "${2}p" netns "$1" &&
	ip -n "$TN_NS" addr add "$3/28" dev "$2" &&
	ip -n "$TN_NS" link set "$2" up &&
	ip -n "$1" addr add "$4/28" dev "${2}p" &&
	ip -n "$1" link set lo up &&
	ip -n "$1" link set "${2}p" up
}
ip netns add "$TN_NS" && ip netns add "$CLIENT_NS" && ip netns add "$ORIGIN_NS" ||
	tn_bail "cannot create the network namespaces"
ip -n "$TN_NS" link set lo up || tn_bail "cannot bring up edge's lo"
link_ns "$CLIENT_NS" "$EDGE_C_IF" "$EDGE4" "$CLIENT4" ||
	tn_bail "cannot join client to edge"
link_ns "$ORIGIN_NS" "$EDGE_O_IF" "$EDGE_O4" "$ORIGIN4" ||
	tn_bail "cannot join origin to edge"

# --- the servers ---------------------------------------------------------------
mkdir -p "$tmp/served" "$tmp/origin"
tn_ec_cert "$tmp/served" served.test
tn_ec_cert "$tmp/origin" origin.test
fp_served=$(openssl x509 -in "$tmp/served/cert.pem" -outform DER | sha256sum | cut -d' ' -f1)
fp_origin=$(openssl x509 -in "$tmp/origin/cert.pem" -outform DER | sha256sum | cut -d' ' -f1)

start_server() { # namespace, address, cert dir
	ip netns exec "$1" openssl s_server -quiet -www -accept "$2:443" \
		-cert "$3/cert.pem" -key "$3/key.pem" >"$3/server.log" 2>&1 &
	tn_bg $!
	tn_wait_cmd 10 sh -c "ip netns exec '$1' ss -Hltn 'sport = :443' | grep -q ." ||
		tn_bail "openssl s_server in $1 did not start"
}
start_server "$TN_NS" "$EDGE4" "$tmp/served"
start_server "$ORIGIN_NS" "$ORIGIN4" "$tmp/origin"
# SMTP on origin:25, upgraded with STARTTLS: the edge's outgoing hello
# comes after a preamble the kernel has copied already
ip netns exec "$ORIGIN_NS" "$PY" tests/e2e/lib/starttls_server.py \
	"$tmp/origin/cert.pem" "$tmp/origin/key.pem" "smtp:$ORIGIN4:25" \
	>"$tmp/origin/smtp.log" 2>&1 &
tn_bg $!
tn_wait_cmd 10 sh -c "ip netns exec '$ORIGIN_NS' ss -Hltn 'sport = :25' | grep -q ." ||
	tn_bail "the SMTP server in origin did not start"

handshake() { # namespace, address, name: one TLS 1.2 handshake and a GET
	printf 'GET / HTTP/1.0\r\n\r\n' | timeout 10 ip netns exec "$1" \
		openssl s_client -connect "$2:443" -servername "$3" -tls1_2 \
		>/dev/null 2>&1 || tap_fail "handshake with $3 ($2) failed"
}

smtp_out() { # the edge's STARTTLS handshake with origin:25
	echo | timeout 15 ip netns exec "$TN_NS" openssl s_client -starttls smtp \
		-connect "$ORIGIN4:25" -servername origin.test -tls1_2 \
		>"$tmp/smtp_client.log" 2>&1 ||
		grep -q 'Verify return code' "$tmp/smtp_client.log" ||
		tap_fail "STARTTLS handshake with origin.test failed" \
			"$(tail -5 "$tmp/smtp_client.log")"
}

# --- the agent, inside edge --------------------------------------------------
AGENT_PID=
start_agent() { # log, extra args...
	local log=$1
	shift
	: >"$log"
	ip netns exec "$TN_NS" "$BUILD/tlswatch" run --iface "$EDGE_C_IF" \
		--iface "$EDGE_O_IF" --port 443 --port 25 --json-log "$log" --db "$log.db" \
		--no-metrics --no-active-check --no-online --stats-interval 1 \
		"$@" 2>"$log.stderr" &
	AGENT_PID=$!
	tn_bg "$AGENT_PID"
	tn_wait_grep 15 '"event":"agent".*"state":"started"' "$log" ||
		{ sed 's/^/#   /' "$log.stderr"; tn_bail "the agent ($*) did not start"; }
}
# SIGTERM: it drains the ring and reports every handshake it followed
# before "stopped"; its exit status.
stop_agent() {
	kill -TERM "$AGENT_PID"
	wait "$AGENT_PID"
}

# What the log says, one line: handshake events as SERVER_IP:PORT/SNI, cert
# events as sha256/SNI, each list sorted; "origin" when any event names
# origin.test.
events_of() { # log
	"$PY" - "$1" <<'EOF'
import json, sys
hs, certs, origin = [], [], False
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e.get("sni") == "origin.test":
        origin = True
    if e.get("event") == "handshake":
        hs.append("%s:%d/%s" % (e["server"]["ip"], e["server"]["port"], e.get("sni", "-")))
    elif e.get("event") == "cert":
        certs.append("%s/%s" % (e["sha256"], e.get("sni", "-")))
print("handshakes", " ".join(sorted(hs)), "certs", " ".join(sorted(certs)),
      "origin" if origin else "no-origin")
EOF
}

# One round: the outgoing handshake first, then the served one; once the
# served one is reported, the outgoing one's records (earlier in the ring)
# have been read. The agent stops after it.
round() { # log
	handshake "$TN_NS" "$ORIGIN4" origin.test
	smtp_out
	handshake "$CLIENT_NS" "$EDGE4" served.test
	tn_wait_grep 15 '"event":"handshake".*"sni":"served.test"' "$1" ||
		tap_fail "the served handshake was not reported"
}

# Its arguments sorted by code point, as Python sorts (events_of), on one line.
sorted() {
	printf '%s\n' "$@" | LC_ALL=C sort | xargs
}

# Both handshakes and both certificates, as events_of says them.
both="handshakes $(sorted "$EDGE4:443/served.test" "$ORIGIN4:443/origin.test") certs $(sorted \
	"$fp_served/served.test" "$fp_origin/origin.test") origin"

# A handshake of edge's client with edge's own server: to edge's address,
# so over edge's lo, where both ends are edge's. Waits until the log holds
# two served.test handshakes (round's and this one).
local_round() { # log
	handshake "$TN_NS" "$EDGE4" served.test
	tn_wait_count 15 '"event":"handshake".*"sni":"served.test"' "$1" 2 ||
		tap_fail "the handshake over lo was not reported"
}

# --- --direction served -------------------------------------------------------
log=$tmp/served.jsonl
start_agent "$log" --iface lo --direction served
round "$log"
local_round "$log"
stop_agent
tap_eq "served: the agent exits 0" 0 "$?"
tap_eq "served: the served handshake, the one over lo, and their certificate" \
	"handshakes $EDGE4:443/served.test $EDGE4:443/served.test certs $fp_served/served.test no-origin" \
	"$(events_of "$log")"
tap_eq "served: flows_outgoing 2 (to origin:443, and to origin:25 after STARTTLS)" 2 \
	"$(tn_agent_counter "$log" flows_outgoing)"
tap_eq "served: flows_tracked 3 (the served one, the one over lo, the SMTP preamble before the hello)" 3 \
	"$(tn_agent_counter "$log" flows_tracked)"
tap_eq "served: flows_not_tls 1 (that preamble, ended by a gap record)" 1 \
	"$(tn_agent_counter "$log" flows_not_tls)"
tap_eq "served: handshakes 2" 2 "$(tn_agent_counter "$log" handshakes)"

# --- --direction all (the default) ------------------------------------------
log=$tmp/all.jsonl
start_agent "$log" --iface lo
round "$log"
local_round "$log"
stop_agent
tap_eq "all: the agent exits 0" 0 "$?"
tap_eq "all: the three handshakes, the one over lo, and their certificates" \
	"handshakes $(sorted "$EDGE4:443/served.test" "$EDGE4:443/served.test" \
	"$ORIGIN4:443/origin.test" "$ORIGIN4:25/origin.test") certs $(sorted \
	"$fp_served/served.test" "$fp_origin/origin.test" "$fp_origin/origin.test") origin" \
	"$(events_of "$log")"
tap_eq "all: flows_outgoing 0" 0 "$(tn_agent_counter "$log" flows_outgoing)"

# --- handshakes first seen from their server's side ----------------------------
# Each run holds two connections' ClientHellos unanswered (held_server.py,
# port 8443) until the agent has started: edge's client to origin's server
# (outgoing), client's to edge's (served). The agent sees each first at its
# ServerHello: coming in to edge's client socket, and leaving edge's server
# socket. Then a served handshake on 443, reported after both (the ring's
# order). Without the hello there is no SNI: handshakes and certificates
# of those two say "-".
held_server() { # namespace, address, cert dir, tag
	ip netns exec "$1" "$PY" tests/e2e/lib/held_server.py "$3/cert.pem" "$3/key.pem" \
		"$2" 8443 "$tmp/$4.ready" "$tmp/held.go" >"$tmp/$4.server.log" 2>&1 &
	tn_bg $!
	tn_wait_cmd 10 sh -c "ip netns exec '$1' ss -Hltn 'sport = :8443' | grep -q ." ||
		tn_bail "held_server.py in $1 did not start"
}
held_client() { # namespace, address, tag: waits for the server's answer
	printf 'GET / HTTP/1.0\r\n\r\n' | timeout 60 ip netns exec "$1" \
		openssl s_client -connect "$2:8443" -tls1_2 -ign_eof >"$tmp/$3.client.log" 2>&1
	grep -q '^HTTP/1.0 200 OK' "$tmp/$3.client.log"
}
held_round() { # log, agent args...
	local log=$1 out_pid in_pid
	shift
	rm -f "$tmp/held.go" "$tmp/held_out.ready" "$tmp/held_in.ready"
	held_server "$ORIGIN_NS" "$ORIGIN4" "$tmp/origin" held_out
	held_server "$TN_NS" "$EDGE4" "$tmp/served" held_in
	held_client "$TN_NS" "$ORIGIN4" held_out &
	out_pid=$!
	tn_bg "$out_pid"
	held_client "$CLIENT_NS" "$EDGE4" held_in &
	in_pid=$!
	tn_bg "$in_pid"
	tn_wait_cmd 15 test -e "$tmp/held_out.ready" -a -e "$tmp/held_in.ready" ||
		tn_bail "the held servers did not get their hellos"
	start_agent "$log" --port 8443 "$@"
	touch "$tmp/held.go"
	wait "$out_pid" || tap_fail "the held handshake with origin failed"
	wait "$in_pid" || tap_fail "the held handshake with edge failed"
	handshake "$CLIENT_NS" "$EDGE4" served.test
	tn_wait_grep 15 '"event":"handshake".*"sni":"served.test"' "$log" ||
		tap_fail "the served handshake after the held ones was not reported"
	stop_agent
}

log=$tmp/held_served.jsonl
held_round "$log" --direction served
tap_eq "held, served: the agent exits 0" 0 "$?"
tap_eq "held, served: edge's own server's handshakes only" \
	"handshakes $(sorted "$EDGE4:443/served.test" "$EDGE4:8443/-") certs $(sorted \
	"$fp_served/-" "$fp_served/served.test") no-origin" \
	"$(events_of "$log")"
tap_eq "held, served: flows_outgoing 1 (the one whose ServerHello came in)" 1 \
	"$(tn_agent_counter "$log" flows_outgoing)"
tap_eq "held, served: flows_tracked 2" 2 "$(tn_agent_counter "$log" flows_tracked)"

log=$tmp/held_all.jsonl
held_round "$log"
tap_eq "held, all: the agent exits 0" 0 "$?"
tap_eq "held, all: the three handshakes" \
	"handshakes $(sorted "$EDGE4:443/served.test" "$EDGE4:8443/-" "$ORIGIN4:8443/-") certs $(sorted \
	"$fp_served/-" "$fp_served/served.test" "$fp_origin/-") no-origin" \
	"$(events_of "$log")"
tap_eq "held, all: flows_outgoing 0" 0 "$(tn_agent_counter "$log" flows_outgoing)"

# --- a STARTTLS preamble with both ports watched ------------------------------
# edge's client ports are 2525 and 2526 alone, both watched as well as 25:
# the SMTP connection to origin:25 has both its ports watched. Its
# preamble (origin's greeting first) has no hello to name the server
# yet, and the kernel takes each preamble packet's sender for it; the
# hello, at a packet start, names it: the receiver. The direction and the
# reported server go by the hello.
both_round() { # log, agent args...
	local log=$1
	shift
	start_agent "$log" --port 2525 --port 2526 "$@"
	smtp_out
	handshake "$CLIENT_NS" "$EDGE4" served.test
	tn_wait_grep 15 '"event":"handshake".*"sni":"served.test"' "$log" ||
		tap_fail "the served handshake after the STARTTLS one was not reported"
	stop_agent
}
ports=$(ip netns exec "$TN_NS" cat /proc/sys/net/ipv4/ip_local_port_range | xargs)
ip netns exec "$TN_NS" sysctl -qw net.ipv4.ip_local_port_range="2525 2526" ||
	tn_bail "cannot narrow edge's client ports"

log=$tmp/both_served.jsonl
both_round "$log" --direction served
tap_eq "both ports, served: the agent exits 0" 0 "$?"
tap_eq "both ports, served: only the served handshake" \
	"handshakes $EDGE4:443/served.test certs $fp_served/served.test no-origin" \
	"$(events_of "$log")"
tap_eq "both ports, served: flows_outgoing 1 (the STARTTLS one)" 1 \
	"$(tn_agent_counter "$log" flows_outgoing)"
tap_eq "both ports, served: flows_not_tls 1 (its preamble, ended by a gap record)" 1 \
	"$(tn_agent_counter "$log" flows_not_tls)"

log=$tmp/both_all.jsonl
both_round "$log"
tap_eq "both ports, all: the agent exits 0" 0 "$?"
tap_eq "both ports, all: the STARTTLS handshake's server is origin:25" \
	"handshakes $(sorted "$EDGE4:443/served.test" "$ORIGIN4:25/origin.test") certs $(sorted \
	"$fp_served/served.test" "$fp_origin/origin.test") origin" \
	"$(events_of "$log")"
tap_eq "both ports, all: flows_outgoing 0" 0 "$(tn_agent_counter "$log" flows_outgoing)"
tap_eq "both ports, all: the STARTTLS client's port is a watched one" yes \
	"$("$PY" -c 'import json, sys
p = [json.loads(l)["client"]["port"] for l in open(sys.argv[1])
     if "\"event\":\"handshake\"" in l and json.loads(l)["server"]["port"] == 25]
print("yes" if len(p) == 1 and p[0] in (2525, 2526) else p)' "$log")"
ip netns exec "$TN_NS" sysctl -qw net.ipv4.ip_local_port_range="$ports" ||
	tn_bail "cannot give edge its client ports back"

# --- the configuration file, and a reload -------------------------------------
conf=$tmp/direction.conf
printf 'direction = served\n' >"$conf"
chmod 600 "$conf"
tap_eq "show-config: the file's direction" "direction = served" \
	"$("$BUILD/tlswatch" run --config "$conf" --show-config | grep '^direction')"
tap_eq "show-config: the command line's wins" "direction = all" \
	"$("$BUILD/tlswatch" run --config "$conf" --direction all --show-config | grep '^direction')"
log=$tmp/reload.jsonl
start_agent "$log" --config "$conf"
round "$log"
printf 'direction = all\n' >"$conf"
kill -HUP "$AGENT_PID"
tn_wait_grep 15 '"state":"config_reloaded"' "$log" ||
	tap_fail "no config_reloaded after SIGHUP"
tap_eq "reload: nothing ignored (direction is reloadable)" 0 \
	"$(grep '"state":"config_reloaded"' "$log" | grep -c '"ignored"')"
handshake "$TN_NS" "$ORIGIN4" origin.test
tn_wait_grep 15 '"event":"handshake".*"sni":"origin.test"' "$log" ||
	tap_fail "the outgoing handshake after the reload was not reported"
stop_agent
tap_eq "reload: the agent exits 0" 0 "$?"
tap_eq "reload: served before, the outgoing one after the reload too" \
	"$both" \
	"$(events_of "$log")"
tap_eq "reload: flows_outgoing 2 (before the reload only)" 2 \
	"$(tn_agent_counter "$log" flows_outgoing)"
