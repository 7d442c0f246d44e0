#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# TLS through tunnels, as edge hosts behind L4 load balancers and overlay
# hosts receive it. A test namespace joined to the host by a veth pair (the
# underlay); tcpdump captures the host end while `tlswatch run` is attached
# to it; afterwards `analyze --json` reads the capture. Both must report
# exactly one handshake per tunnel below, with the exact SNI, the leaf and
# intermediate fingerprints computed here with `openssl x509 -outform DER |
# sha256sum`, and the tunnel: type, outer addresses (src: the client's
# side), VNI or GRE key, depth and direction.
#
# 1. Real tunnels (`ip link add`) between the host and the namespace, one
#    real `openssl s_server` per tunnel on its inner address, one TLS 1.2
#    `openssl s_client` handshake through each: vxlan over IPv4 and IPv6,
#    vxlan inside vxlan (two layers), ipip, sit, ip6tnl (ip6ip6, 4in6),
#    gre with key, sequence numbers and checksums, ip6gre, gretap with a
#    key, geneve, ipip inside FOU and inside GUE. A kernel built without a
#    tunnel type (no module: `ip link add` says "not supported") skips it
#    with a TAP "# SKIP" line; part 2 still covers that encapsulation.
# 2. Real handshakes re-encapsulated: a plain IPv4 and a plain IPv6
#    handshake with the namespace's s_server are captured, then every
#    packet is wrapped (tests/e2e/lib/encap.py) in each encapsulation, with
#    its own client port, and sent out of the host end of the veth, where
#    the agent's TC egress hook sees it as a tunnel would have sent it:
#    ipip, sit, ip4ip6, ip6ip6, gre (key, sequence, checksum), gre over
#    IPv6, gretap, vxlan, geneve with an option, fou, gue with an optional
#    field, gue variant 1, gre inside fou, vxlan inside ipip, and ipip with
#    direct server return (replies unencapsulated: direction "to_server"),
#    and only the replies encapsulated ("to_client": the tunnel's addresses
#    as the server's packets have them, swapped so src is the client's side).
#    Three nested layers are not followed, and counted on both sides.
# Without --udp-encap for the FOU and GUE ports, `analyze` does not follow
# those (they have no standard port).
# 3. --udp-encap at a reload: an agent started from a --config file that
#    names no FOU port does not follow a handshake wrapped in FOU; the
#    file then names the port, SIGHUP: config_reloaded ignores nothing,
#    and the next FOU handshake is followed, through fou.
#
# Needs root. TAP output; exits non-zero on any failure.
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
export BUILD
. tests/e2e/lib_netns.sh

tn_require_root tunnels
tn_require_cmds openssl tcpdump ip ss
tn_require_tlswatch
PY=/usr/bin/python3
ENCAP=tests/e2e/lib/encap.py

tmp=$(tn_tmpdir)
pki=$tmp/pki
tn_make_pki "$pki"

tn_setup tun
H4=$TN_HOST4 P4=$TN_PEER4 H6=$TN_HOST6 P6=$TN_PEER6
NS=$TN_NS
IFACE=$TN_HOST_IF
# FOU and GUE ports have no standard value; from the pid, so runs do not clash
FOU_PORT=$((20000 + $$ % 20000))
GUE_PORT=$((FOU_PORT + 1))
# inner addresses of the real tunnels: 100.64.0.0/10 and a ULA prefix
I4=100.$((64 + $$ % 64)).$(($$ / 64 % 256))
I6=fd7e:$(printf %x $(($$ % 65535 + 1)))
: >"$tmp/expect"
: >"$tmp/servers"

server() { # name, address
	local accept=$2:443
	[[ $2 == *:* ]] && accept=[$2]:443
	ip netns exec "$NS" openssl s_server -quiet -www -accept "$accept" \
		-cert "$pki/rsa.test.crt" -key "$pki/rsa.test.key" \
		-cert_chain "$pki/inter.crt" >"$tmp/server-$1.log" 2>&1 &
	tn_bg $!
	echo "$1 $2" >>"$tmp/servers"
}

# One TLS 1.2 handshake with ADDRESS:443 (retried: the first SYN through an
# L2 tunnel may wait for neighbour discovery).
handshake() { # name, address
	local target=$2:443 _
	[[ $2 == *:* ]] && target=[$2]:443
	for _ in 1 2 3; do
		printf 'GET / HTTP/1.0\r\n\r\n' | timeout 5 openssl s_client -connect "$target" \
			-servername rsa.test -tls1_2 >"$tmp/client-$1.log" 2>&1 && return 0
	done
	tap_fail "a handshake through $1" "$(tail -3 "$tmp/client-$1.log")"
}

server plain4 "$P4"
server plain6 "$P6"

# --- the plain handshakes part 2 re-encapsulates
tn_wait_cmd 10 sh -c "[ \$(ip netns exec '$NS' ss -Hltn 'sport = :443' | wc -l) -ge 2 ]" ||
	tn_bail "openssl s_server did not start"
tn_start_tcpdump "$tmp/plain.pcap" tcp port 443 || tn_bail "tcpdump did not start"
handshake plain4 "$P4"
handshake plain6 "$P6"
tn_wait_conns_closed 10 "$NS"
tn_stop_tcpdump "$tmp/plain.pcap"

# --- part 1: real tunnels
# NAME|ip link TYPE ARGS (host side; LOCAL/REMOTE swapped for the
# namespace)|inner family|type|id|outer family|depth
REAL=(
	"vxlan|vxlan id 4242 local LOCAL4 remote REMOTE4 dstport 4789|4|vxlan|vni=4242|4|1"
	"vxlan6|vxlan id 4243 local LOCAL6 remote REMOTE6 dstport 4789|6|vxlan|vni=4243|6|1"
	"ipip|ipip local LOCAL4 remote REMOTE4|4|ipip|-|4|1"
	"sit|sit local LOCAL4 remote REMOTE4|6|sit|-|4|1"
	"ip6ip6|ip6tnl local LOCAL6 remote REMOTE6 mode ip6ip6|6|ip6ip6|-|6|1"
	"ip4ip6|ip6tnl local LOCAL6 remote REMOTE6 mode ipip6|4|ip4ip6|-|6|1"
	"gre|gre local LOCAL4 remote REMOTE4 key 42 seq csum|4|gre|gre_key=42|4|1"
	"ip6gre|ip6gre local LOCAL6 remote REMOTE6|4|gre|-|6|1"
	"gretap|gretap local LOCAL4 remote REMOTE4 key 7|4|gretap|gre_key=7|4|1"
	"geneve|geneve id 77 remote REMOTE4|4|geneve|vni=77|4|1"
	"fou|ipip local LOCAL4 remote REMOTE4 encap fou encap-sport auto encap-dport $FOU_PORT|4|fou|-|4|1"
	"gue|ipip local LOCAL4 remote REMOTE4 encap gue encap-sport auto encap-dport $GUE_PORT|4|gue|-|4|1"
)
# vxlan inside the first vxlan: its underlay is that one's inner addresses
NESTED="vxvx|vxlan id 99 local LOCAL4 remote REMOTE4 dstport 4789|4|vxlan|vni=4242|4|2"

sub() { # template, local4, remote4, local6, remote6
	local t=$1
	t=${t//LOCAL4/$2}
	t=${t//REMOTE4/$3}
	t=${t//LOCAL6/$4}
	t=${t//REMOTE6/$5}
	echo "$t"
}

# FOU and GUE need their UDP ports on both sides.
fou_ports() {
	ip fou add port "$FOU_PORT" ipproto 4 2>/dev/null || return 1
	tn_on_exit "ip fou del port $FOU_PORT"
	ip fou add port "$GUE_PORT" gue || return 1
	tn_on_exit "ip fou del port $GUE_PORT"
	ip -n "$NS" fou add port "$FOU_PORT" ipproto 4 &&
		ip -n "$NS" fou add port "$GUE_PORT" gue
}
have_fou=0
fou_ports && have_fou=1

# tunnel INDEX SPEC [HOST4 NS4]: both ends (inner addresses
# $I4.(4*INDEX+1|2)/30 or $I6:INDEX::1|2/64), a server on the namespace
# end, and the expectation. False when the kernel lacks the type.
tunnel() { # index, spec, [underlay host4, ns4]
	local i=$1 name args fam type id ofam depth h n hi ni plen src dst
	IFS='|' read -r name args fam type id ofam depth <<<"$2"
	h=t${i}h$$ n=t${i}n$$
	if [[ $args == *"encap "* ]] && [ "$have_fou" = 0 ]; then
		return 1
	fi
	# shellcheck disable=SC2046
	ip link add "$h" type $(sub "$args" "${3:-$H4}" "${4:-$P4}" "$H6" "$P6") 2>"$tmp/link.err" ||
		return 1
	tn_on_exit "ip link del $h"
	# shellcheck disable=SC2046
	ip -n "$NS" link add "$n" type $(sub "$args" "${4:-$P4}" "${3:-$H4}" "$P6" "$H6") ||
		tn_bail "ip -n $NS link add $n type $args"
	if [ "$fam" = 4 ]; then
		hi=$I4.$((4 * i + 1)) ni=$I4.$((4 * i + 2)) plen=30
	else
		hi=$I6:$i::1 ni=$I6:$i::2 plen=64
	fi
	ip addr add "$hi/$plen" dev "$h" nodad 2>/dev/null || ip addr add "$hi/$plen" dev "$h" ||
		tn_bail "address on $h"
	ip -n "$NS" addr add "$ni/$plen" dev "$n" nodad 2>/dev/null ||
		ip -n "$NS" addr add "$ni/$plen" dev "$n" || tn_bail "address on $n"
	# an MTU that leaves room for the headers of each layer: the outer
	# packets must not be IP fragments (tlswatch does not reassemble those)
	if ! ip link set "$h" mtu $((1400 - 100 * depth)) up ||
		! ip -n "$NS" link set "$n" mtu $((1400 - 100 * depth)) up; then
		tn_bail "$h/$n up"
	fi
	server "$name" "$ni"
	src=$H4 dst=$P4
	[ "$ofam" = 6 ] && src=$H6 dst=$P6
	echo "$name server=$ni $hi $type $src $dst $id $depth both" >>"$tmp/expect"
}

n_real=0
for i in "${!REAL[@]}"; do
	if tunnel "$i" "${REAL[$i]}"; then
		n_real=$((n_real + 1))
	else
		echo "ok - real ${REAL[$i]%%|*} tunnel # SKIP this kernel has none: $(head -1 "$tmp/link.err" 2>/dev/null)"
	fi
done
# the nested one rides on the first vxlan, when there is one
if grep -q '^vxlan ' "$tmp/expect" && tunnel 20 "$NESTED" "$I4.1" "$I4.2"; then
	n_real=$((n_real + 1))
fi
tn_wait_cmd 10 sh -c "[ \$(ip netns exec '$NS' ss -Hltn 'sport = :443' | wc -l) -eq \$(wc -l <'$tmp/servers') ]" ||
	tn_bail "not every openssl s_server listens" "$(ip netns exec "$NS" ss -Hltn)"

tn_start_tcpdump "$tmp/underlay.pcap" || tn_bail "tcpdump did not start"
tn_start_agent "$tmp/agent.jsonl" --no-active-check \
	--udp-encap "$FOU_PORT:fou" --udp-encap "$GUE_PORT:gue" ||
	tn_bail "the agent did not start"

while read -r name ni; do
	case $name in plain*) continue ;; esac
	handshake "$name" "$ni"
done <"$tmp/servers"

# --- part 2: the plain handshakes, re-encapsulated and sent on the underlay
# NAME|layers|plain capture family|options|type|id|outer family|depth|direction
CRAFTED=(
	"c-ipip|ipip|4||ipip|-|4|1|both"
	"c-sit|sit|6||sit|-|4|1|both"
	"c-ip4ip6|ip4ip6|4||ip4ip6|-|6|1|both"
	"c-ip6ip6|ip6ip6|6||ip6ip6|-|6|1|both"
	"c-gre|gre|4|--key 42 --gre-seq --gre-csum|gre|gre_key=42|4|1|both"
	"c-gre6|gre|6||gre|-|6|1|both"
	"c-gretap|gretap|4|--key 7|gretap|gre_key=7|4|1|both"
	"c-vxlan|vxlan|4|--vni 5000|vxlan|vni=5000|4|1|both"
	"c-geneve|geneve|6|--vni 77|geneve|vni=77|4|1|both"
	"c-fou|fou|4|--port $FOU_PORT|fou|-|4|1|both"
	"c-gue|gue|6|--port $GUE_PORT|gue|-|6|1|both"
	"c-gue1|gue1|4|--port $GUE_PORT|gue|-|4|1|both"
	"c-fougre|fou,gre|4|--port $FOU_PORT --key 9|fou|-|4|2|both"
	"c-ipvx|ipip,vxlan|4|--vni 5001|ipip|-|4|2|both"
	"c-dsr|ipip|4|--dsr|ipip|-|4|1|to_server"
	"c-toclient|gre|6|--client-plain --key 5|gre|gre_key=5|6|1|to_client"
	"c-deep|ipip,ipip,ipip|4|||||3|"
)
"$PY" - "$tmp/plain.pcap" "$P4" "$P6" >"$tmp/plain.split" <<'EOF' || tn_bail "splitting the plain capture"
# plain.pcap -> plain4.pcap, plain6.pcap (Ethernet, by ethertype)
import struct, sys
data = open(sys.argv[1], "rb").read()
hdr, off, out = data[:24], 24, {0x0800: [], 0x86DD: []}
while off + 16 <= len(data):
    caplen = struct.unpack("<I", data[off + 8:off + 12])[0]
    rec = data[off:off + 16 + caplen]
    et = struct.unpack("!H", rec[16 + 12:16 + 14])[0]
    if et in out:
        out[et].append(rec)
    off += 16 + caplen
for et, name in ((0x0800, "4"), (0x86DD, "6")):
    open(sys.argv[1].replace(".pcap", name + ".pcap"), "wb").write(hdr + b"".join(out[et]))
    print(name, len(out[et]))
EOF
for i in "${!CRAFTED[@]}"; do
	IFS='|' read -r name layers pfam opts type id ofam depth dir <<<"${CRAFTED[$i]}"
	port=$((20000 + i))
	src=$H4 dst=$P4
	[ "$ofam" = 6 ] && src=$H6 dst=$P6
	inner=(--inner-src 192.0.2.1 --inner-dst 192.0.2.2)
	# shellcheck disable=SC2086
	if ! "$PY" "$ENCAP" "$tmp/plain$pfam.pcap" "$tmp/$name.pcap" "$layers" "$src" "$dst" \
		--client-port "$port" "${inner[@]}" $opts --send "$IFACE" >"$tmp/$name.log" 2>&1; then
		tap_fail "re-encapsulating in $layers" "$(tail -3 "$tmp/$name.log")"
		continue
	fi
	[ "$name" = c-deep ] && continue     # expected nowhere
	client=$H4
	[ "$pfam" = 6 ] && client=$H6
	echo "$name port=$port $client $type $src $dst $id $depth $dir" >>"$tmp/expect"
done

n_expect=$(wc -l <"$tmp/expect")
tn_wait_count 15 '"event":"handshake"' "$tmp/agent.jsonl" "$n_expect"
tn_stop_agent
tn_stop_tcpdump "$tmp/underlay.pcap"

"$BUILD/tlswatch" analyze --json --udp-encap "$FOU_PORT:fou" --udp-encap "$GUE_PORT:gue" \
	"$tmp/underlay.pcap" >"$tmp/analyze.jsonl" 2>"$tmp/analyze.stderr" ||
	tap_fail "analyze of the underlay capture" "$(cat "$tmp/analyze.stderr")"
"$BUILD/tlswatch" analyze --json "$tmp/underlay.pcap" >"$tmp/analyze-noudp.jsonl" 2>&1

leaf=$(openssl x509 -in "$pki/rsa.test.crt" -outform DER | sha256sum | cut -d' ' -f1)
inter=$(openssl x509 -in "$pki/inter.crt" -outform DER | sha256sum | cut -d' ' -f1)

# check WHAT FILE: each expected handshake exactly once (found by server
# address or client port), with its inner client address and its tunnel;
# no other tunnelled handshake.
check() { # what, events file
	local out
	if out=$("$PY" - "$2" "$tmp/expect" "$leaf" "$inter" <<'EOF'
import json, sys
events = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
hs = [e for e in events if e["event"] == "handshake"]
leaf, inter = sys.argv[3], sys.argv[4]
bad, n = [], 0
for line in open(sys.argv[2]):
    name, where, client, typ, src, dst, ident, depth, direction = line.split()
    key, val = where.split("=")
    mine = [e for e in hs if (e["server"]["ip"] == val if key == "server"
                              else e["client"]["port"] == int(val))]
    if len(mine) != 1:
        bad.append("%s: %d handshakes" % (name, len(mine)))
        continue
    e, n = mine[0], n + 1
    want = {"type": typ, "src": src, "dst": dst, "depth": int(depth),
            "direction": direction}
    if ident != "-":
        k, v = ident.split("=")
        want[k] = int(v)
    got = (e["client"]["ip"], e.get("sni"), e.get("outcome"), e["server"]["port"],
           [c["sha256"] for c in e.get("chain", [])], e.get("tunnel"))
    if got != (client, "rsa.test", "ok", 443, [leaf, inter], want):
        bad.append("%s: got %r, want tunnel %r" % (name, got, want))
tunnelled = len([e for e in hs if "tunnel" in e])
if tunnelled != n:
    bad.append("%d tunnelled handshakes, %d expected" % (tunnelled, n))
print("\n".join(bad) if bad else "%d tunnelled handshakes" % n)
sys.exit(1 if bad else 0)
EOF
	); then
		tap_ok "$1: one handshake per tunnel, exact SNI, chain and tunnel ($out)"
	else
		tap_fail "$1: one handshake per tunnel, exact SNI, chain and tunnel" "$out"
	fi
}
tn_note "$n_real real tunnels, $((n_expect - n_real)) re-encapsulated handshakes"
check "analyze of the underlay capture" "$tmp/analyze.jsonl"
check "run attached to the underlay" "$tmp/agent.jsonl"

# the text report: every handshake came through a tunnel, the first one
# made (the first expectation) is named
read -r _ _ _ type src dst id _ < <(head -1 "$tmp/expect")
first="$type $src -> $dst"
[ "$id" != - ] && first="$first ${id%%=*} ${id#*=}"
"$BUILD/tlswatch" analyze --udp-encap "$FOU_PORT:fou" --udp-encap "$GUE_PORT:gue" \
	"$tmp/underlay.pcap" >"$tmp/analyze.txt" 2>&1
tap_eq "the text report says how many came through a tunnel, and the first" \
	"    through a tunnel: $n_expect (the first: $first)" \
	"$(grep 'through a tunnel' "$tmp/analyze.txt")"

count_port() { # events file, client port
	grep '"event":"handshake"' "$1" | grep -c "\"port\":$2[,}]"
}
fou_idx=9 gue_idx=10
tap_eq "analyze without --udp-encap does not follow FOU or GUE" "0 0" \
	"$(count_port "$tmp/analyze-noudp.jsonl" $((20000 + fou_idx))) $(count_port "$tmp/analyze-noudp.jsonl" $((20000 + gue_idx)))"
tap_eq "analyze without --udp-encap follows VXLAN on its standard port" 1 \
	"$(count_port "$tmp/analyze-noudp.jsonl" 20007)"
deep_port=$((20000 + ${#CRAFTED[@]} - 1))
tap_eq "three nested layers: no handshake in analyze, nor in run" "0 0" \
	"$(count_port "$tmp/analyze.jsonl" $deep_port) $(count_port "$tmp/agent.jsonl" $deep_port)"
deep=$(grep '"event":"summary"' "$tmp/analyze.jsonl" |
	"$PY" -c 'import json,sys; print(json.load(sys.stdin)["problem_counts"]["tunnels_too_deep"])')
tap_eq "analyze counts each packet nested too deep (tunnels_too_deep)" \
	"$(tail -1 "$tmp/c-deep.log")" "$deep"
tap_eq "run counts them too (decap_too_deep)" yes \
	"$(c=$(tn_agent_counter "$tmp/agent.jsonl" decap_too_deep); [ "$c" != missing ] && [ "${c:-0}" -gt 0 ] && echo yes || echo "no ($c)")"
tap_eq "the kernel counted decapsulated packets" yes \
	"$(c=$(tn_agent_counter "$tmp/agent.jsonl" decapsulated); [ "$c" != missing ] && [ "${c:-0}" -gt 0 ] && echo yes || echo "no ($c)")"

# --- part 3: --udp-encap changes at a reload (SIGHUP, --config) ----------
# The agent starts from a configuration file that names no FOU port: a
# handshake wrapped in FOU on FOU_PORT is not followed. The file then
# names it, SIGHUP: config_reloaded ignores nothing, and the next one is.
conf=$tmp/reload.conf
: >"$conf"
tn_start_agent "$tmp/reload.jsonl" --no-active-check --config "$conf" ||
	tn_bail "the agent (with --config) did not start"
fou_wrapped() { # client port
	"$PY" "$ENCAP" "$tmp/plain4.pcap" "$tmp/reload-$1.pcap" fou "$H4" "$P4" \
		--client-port "$1" --inner-src 192.0.2.1 --inner-dst 192.0.2.2 \
		--port "$FOU_PORT" --send "$IFACE" >"$tmp/reload-$1.log" 2>&1 ||
		tap_fail "re-encapsulating in fou" "$(tail -3 "$tmp/reload-$1.log")"
}
fou_wrapped 21001
# a plain handshake after it: once it is reported, the FOU one would be
handshake plain4 "$P4"
tn_wait_cmd 10 sh -c "grep '\"event\":\"handshake\"' '$tmp/reload.jsonl' | grep -q '\"ip\":\"$P4\"'" ||
	tap_fail "the plain handshake after the FOU one is reported" "$(tail -3 "$tmp/reload.jsonl")"
echo "udp-encap = $FOU_PORT:fou" >"$conf"
kill -HUP "$TN_AGENT_PID"
tn_wait_grep 10 '"state":"config_reloaded"' "$tmp/reload.jsonl" ||
	tap_fail "the reload is applied" "$(grep '"event":"agent"' "$tmp/reload.jsonl" | tail -2)"
tap_eq "config_reloaded names no option it ignored" "[]" \
	"$(grep '"state":"config_reloaded"' "$tmp/reload.jsonl" | "$PY" -c 'import json,sys
l = sys.stdin.readline()
print(json.dumps(json.loads(l).get("ignored", [])) if l else "no event")')"
fou_wrapped 21002
tn_wait_count 10 '"port":21002[,}]' "$tmp/reload.jsonl" 1
tn_stop_agent
tap_eq "before the reload, FOU on its port: not followed; after it: followed, through fou" \
	"0 1 fou" \
	"$(count_port "$tmp/reload.jsonl" 21001) $(count_port "$tmp/reload.jsonl" 21002) $(grep '"event":"handshake"' "$tmp/reload.jsonl" | grep '"port":21002[,}]' | "$PY" -c 'import json,sys
l = sys.stdin.readline()
print(json.loads(l).get("tunnel", {}).get("type") if l else "")')"

