#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Records the test captures from real openssl handshakes.
#
#   scripts/make-captures.sh OUTDIR [PKIDIR]
#
# Makes a fresh PKI in PKIDIR (default OUTDIR/../pki, see make-pki.sh), then,
# inside a network namespace of its own whose loopback has MTU 1500 and no
# GSO (so a certificate chain spans several real TCP segments), runs openssl
# s_server / s_client pairs and records each scenario with tcpdump into
# OUTDIR/NAME.pcap. Next to each capture, OUTDIR/NAME.expect holds the values
# tlswatch must report, computed from the PKI files with openssl and from the
# capture with tshark / capinfos, never with tlswatch (format: tests/data/README.md).
# Every process started is stopped by the exit trap; the namespace goes too.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/common.sh"

[ $# -ge 1 ] && [ $# -le 2 ] || die "usage: make-captures.sh OUTDIR [PKIDIR]"
[ "$(id -u)" -eq 0 ] || die "needs root (network namespace, tcpdump)"
need_cmd openssl tcpdump tshark editcap capinfos ip ss timeout python3 sha256sum
mkdir -p "$1"
out=$(cd "$1" && pwd)
pki=${2:-$out/../pki}
mkdir -p "$pki"
pki=$(cd "$pki" && pwd)

NS=tlswatch-fx-$$
work=$(mktemp -d)
pids=()

cleanup() {
	local p
	for p in "${pids[@]}"; do
		kill -CONT "$p" 2>/dev/null || true
		kill -INT "$p" 2>/dev/null || true
	done
	sleep 0.2
	for p in "${pids[@]}"; do
		kill -KILL "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	ip netns del "$NS" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# Runs a command in the namespace. Background processes are started with
# "ip netns exec" directly instead, so that $! is the process itself (ip
# execs it) and signals reach it, not a subshell.
nsx() { ip netns exec "$NS" "$@"; }

forget_pid() { # pid
	local p keep=()
	for p in "${pids[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
	pids=("${keep[@]}")
}

# Sends SIG, waits up to 5 s for the process to end, then kills it.
stop_pid() { # pid, signal
	local i
	kill "-$2" "$1" 2>/dev/null || true
	for i in $(seq 50); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
	forget_pid "$1"
}

setup_netns() {
	ip netns add "$NS"
	ip -n "$NS" link set lo up mtu 1500 gso_max_size 1500 gso_max_segs 1
}

# A random free high port in the namespace (bounded tries).
free_port() {
	local i p
	for i in $(seq 50); do
		p=$((20000 + RANDOM % 40000))
		[ -z "$(nsx ss -Htan "( sport = :$p or dport = :$p )")" ] &&
			{ echo "$p"; return 0; }
	done
	die "no free port found"
}

# ---- capture and servers (their pids go to $last_pid and $pids)

# Starts tcpdump on the namespace's lo (or "any") into FILE and waits until
# it is capturing.
start_capture() { # file, port, iface, [linktype]
	local file=$1 port=$2 iface=$3 lt=${4:-} i err=$work/tcpdump.$RANDOM
	ip netns exec "$NS" tcpdump -Z root -i "$iface" ${lt:+-y "$lt"} -w "$file" -U \
		--immediate-mode -B 8192 -s 0 "tcp port $port" 2>"$err" &
	last_pid=$!
	pids+=("$last_pid")
	for i in $(seq 100); do
		# Without immediate mode, and with the default buffer when several
		# captures run at once, packets went missing on "any"; after the
		# message, give the socket a moment to be fully attached.
		grep -q 'listening on' "$err" && { sleep 0.2; return 0; }
		kill -0 "$last_pid" 2>/dev/null || break
		sleep 0.1
	done
	cat "$err" >&2
	die "tcpdump on $iface did not start"
}

# Starts openssl s_server with ARGS on ADDR:PORT and waits until it listens.
start_server() { # addr, port, args...
	local addr=$1 port=$2 i fam=-4 log=$work/server.$RANDOM
	shift 2
	case $addr in *:*) fam=-6; addr="[$addr]" ;; esac
	ip netns exec "$NS" openssl s_server "$fam" -accept "$addr:$port" -rev "$@" \
		</dev/null >"$log" 2>&1 &
	last_pid=$!
	pids+=("$last_pid")
	for i in $(seq 100); do
		[ -n "$(nsx ss -Hltn "sport = :$port")" ] && return 0
		kill -0 "$last_pid" 2>/dev/null || break
		sleep 0.1
	done
	cat "$log" >&2
	die "s_server on port $port did not start"
}

# Runs one s_client that sends "hello" and expects "olleh" back (ok), or
# that sends nothing and expects the handshake to fail (fail). Bounded by
# timeout.
client() { # ok|fail, s_client args...
	local want=$1 rc=0 log=$work/client.log
	shift
	if [ "$want" = ok ]; then
		{ echo hello; sleep 0.5; } |
			nsx timeout 15 openssl s_client "$@" >"$log" 2>&1 || rc=$?
		[ "$rc" -eq 0 ] && grep -q '^olleh' "$log" ||
			{ cat "$log" >&2; die "s_client $* should have succeeded (rc $rc)"; }
	else
		sleep 1 | nsx timeout 15 openssl s_client "$@" >"$log" 2>&1 || rc=$?
		[ "$rc" -ne 0 ] ||
			{ cat "$log" >&2; die "s_client $* should have failed"; }
	fi
	cp "$log" "$work/last-client.log"
}

# ---- expectations

cipher_iana() { # hex id as tshark prints it
	case $1 in
	0xc02f) echo TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 ;;
	0xc030) echo TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 ;;
	0xcca8) echo TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256 ;;
	0xc02b) echo TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 ;;
	0x1301) echo TLS_AES_128_GCM_SHA256 ;;
	0x1302) echo TLS_AES_256_GCM_SHA384 ;;
	0x1303) echo TLS_CHACHA20_POLY1305_SHA256 ;;
	*) die "cipher $1 not in the table" ;;
	esac
}

key_name() { # pem
	local t
	t=$(openssl x509 -in "$1" -noout -text)
	case $t in
	*"Public Key Algorithm: rsaEncryption"*)
		echo "RSA-$(sed -n 's/.*Public-Key: (\([0-9]*\) bit).*/\1/p' <<<"$t" | head -1)" ;;
	*"NIST CURVE: P-256"*) echo EC-P256 ;;
	*) die "unknown key type in $1" ;;
	esac
}

cert_sans() { # pem -> comma-separated DNS names
	openssl x509 -in "$1" -noout -ext subjectAltName |
		tail -n +2 | tr -d ' ' | sed 's/DNS://g'
}

# Handshakes of the scenario being recorded, in the order they were made.
# Each: "sni|version|cipher|outcome|cert_visible|chain|alerts|findings|staple"
# where chain is a space-separated list of PKI names (leaf first).
hs_list=()
add_hs() { hs_list+=("$(IFS='|'; echo "$*")"); }

# Writes NAME.expect for the capture FILE made on PORT from $hs_list.
write_expect() { # name, file, port, server_ip, client_ip
	local name=$1 file=$2 port=$3 sip=$4 cip=$5 e n=0 h ports
	local sni ver cipher outcome vis chain alerts findings staple
	local fps serials p leaf
	e=$out/$name.expect
	mapfile -t ports < <(tshark -r "$file" -d "tcp.port==$port,tls" \
		-Y 'tls.handshake.type==1' -T fields -e tcp.srcport 2>/dev/null)
	[ "${#ports[@]}" -eq "${#hs_list[@]}" ] ||
		die "$name: ${#ports[@]} ClientHellos captured, ${#hs_list[@]} expected"
	{
		echo "# $name: written by scripts/make-captures.sh from openssl and"
		echo "# tshark, not tlswatch. Format: tests/data/README.md"
		echo "file=$(basename "$file")"
		echo "linktype=$(capinfos -E -T -r "$file" | cut -f2)"
		echo "packets=$(capinfos -c -T -r "$file" | cut -f2)"
		echo "flows=$(tshark -r "$file" -Y 'tcp.flags.syn==1 && tcp.flags.ack==0' \
			2>/dev/null | wc -l)"
		echo "server_port=$port"
		echo "handshakes=${#hs_list[@]}"
		for h in "${hs_list[@]}"; do
			IFS='|' read -r sni ver cipher outcome vis chain alerts findings \
				staple <<<"$h"
			p=${ports[$n]}
			n=$((n + 1))
			fps="" serials=""
			for leaf in $chain; do
				fps="${fps:+$fps,}$(cert_sha256 "$pki/$leaf.crt")"
				serials="${serials:+$serials,}$(cert_serial "$pki/$leaf.crt")"
			done
			echo "hs.$n.client_ip=$cip"
			echo "hs.$n.client_port=$p"
			echo "hs.$n.server_ip=$sip"
			echo "hs.$n.server_port=$port"
			echo "hs.$n.sni=$sni"
			echo "hs.$n.version=$ver"
			echo "hs.$n.cipher=$cipher"
			echo "hs.$n.outcome=$outcome"
			echo "hs.$n.cert_visible=$vis"
			echo "hs.$n.chain=$fps"
			echo "hs.$n.serials=$serials"
			echo "hs.$n.chain_names=${chain// /,}"
			echo "hs.$n.alerts=$alerts"
			echo "hs.$n.findings=$findings"
			echo "hs.$n.staple=${staple%:*}"
			[ -n "$staple" ] && echo "hs.$n.staple_verified=${staple#*:}"
		done
		write_cert_expect
	} >"$e"
	python3 - "$e" <<-'EOF'
	# Appends the summary counts implied by the per-handshake lines.
	import sys
	path = sys.argv[1]
	kv = {}
	for line in open(path):
	    if '=' in line and not line.startswith('#'):
	        k, v = line.rstrip('\n').split('=', 1)
	        kv[k] = v
	n = int(kv['handshakes'])
	outcomes = {'ok': 0, 'failed': 0, 'aborted': 0, 'incomplete': 0}
	versions, alerts, findings, certs, leaves = {}, {}, {}, set(), set()
	for i in range(1, n + 1):
	    g = lambda f: kv.get('hs.%d.%s' % (i, f), '')
	    outcomes[g('outcome')] += 1
	    if g('version'):
	        versions[g('version')] = versions.get(g('version'), 0) + 1
	    for a in filter(None, g('alerts').split(',')):
	        side, level, desc, enc = a.split(':')
	        key = 'encrypted' if enc == 'true' else desc
	        alerts[key] = alerts.get(key, 0) + 1
	    for f in filter(None, g('findings').split(',')):
	        findings[f] = findings.get(f, 0) + 1
	    chain = list(filter(None, g('chain').split(',')))
	    certs.update(chain)
	    leaves.update(chain[:1])
	with open(path, 'a') as out:
	    out.write('summary.handshakes=%d\n' % n)
	    for k, v in outcomes.items():
	        out.write('summary.outcome_counts.%s=%d\n' % (k, v))
	    for name, d in (('version_counts', versions), ('alert_counts', alerts),
	                    ('finding_counts', findings)):
	        for k in sorted(d):
	            out.write('summary.%s.%s=%d\n' % (name, k, d[k]))
	    out.write('summary.certificates=%d\n' % len(certs))
	    out.write('summary.leaf_certificates=%d\n' % len(leaves))
	    out.write('summary.packets=%s\n' % kv['packets'])
	    out.write('summary.flows=%s\n' % kv['flows'])
	    out.write('summary.truncated_file=false\n')
	EOF
	hs_list=()
}

# cert.K.* lines: one per distinct (leaf, sni) among the visible chains.
write_cert_expect() {
	local h sni ver cipher outcome vis chain alerts findings staple
	local leaf rest k=0 seen=" " c f
	for h in "${hs_list[@]}"; do
		IFS='|' read -r sni ver cipher outcome vis chain alerts findings \
			staple <<<"$h"
		[ "$vis" = true ] && [ -n "$chain" ] || continue
		leaf=${chain%% *}
		case $seen in *" $leaf@$sni "*) continue ;; esac
		seen="$seen$leaf@$sni "
		k=$((k + 1))
		f=$pki/$leaf.crt
		rest=""
		for c in ${chain#"$leaf"}; do
			rest="${rest:+$rest,}$(cert_sha256 "$pki/$c.crt")"
		done
		echo "cert.$k.sha256=$(cert_sha256 "$f")"
		echo "cert.$k.sni=$sni"
		echo "cert.$k.spki_sha256=$(cert_spki_sha256 "$f")"
		echo "cert.$k.serial=$(cert_serial "$f")"
		echo "cert.$k.subject_cn=$leaf"
		echo "cert.$k.issuer_cn=$(openssl x509 -in "$f" -noout -issuer -nameopt multiline |
			sed -n 's/^ *commonName *= *//p')"
		echo "cert.$k.not_before=$(cert_date "$f" startdate)"
		echo "cert.$k.not_after=$(cert_date "$f" enddate)"
		echo "cert.$k.san=$(cert_sans "$f")"
		echo "cert.$k.key=$(key_name "$f")"
		echo "cert.$k.chain_sha256=$rest"
		echo "cert.$k.findings=$findings"
	done
	echo "certs=$k"
}

# The negotiated suites, checked against what the scenario forced.
check_ciphers() { # file, port, expected iana names...
	local file=$1 port=$2 got=() i=0 c
	shift 2
	mapfile -t got < <(tshark -r "$file" -d "tcp.port==$port,tls" \
		-Y 'tls.handshake.type==2' -T fields -e tls.handshake.ciphersuite 2>/dev/null)
	[ "${#got[@]}" -eq $# ] || die "$file: ${#got[@]} ServerHellos, expected $#"
	for c in "$@"; do
		[ "$(cipher_iana "${got[$i]}")" = "$c" ] ||
			die "$file: ServerHello $((i + 1)) has ${got[$i]}, expected $c"
		i=$((i + 1))
	done
}

# ---- scenarios. Each records one capture with a few handshakes.

CA=(-CAfile "$pki/root.crt" -verify_return_error)
NOCA=(-no-CAfile -no-CApath -no-CAstore -verify_return_error)
T12=(-tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256)
T13=(-tls1_3 -ciphersuites TLS_AES_128_GCM_SHA256)
AES128=TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
srv_rsa=(-cert "$pki/rsa.test.crt" -key "$pki/rsa.test.key"
	-cert_chain "$pki/inter.crt")
leaf_srv() { # name -> server args in $srv
	srv=(-cert "$pki/$1.crt" -key "$pki/$1.key")
	[ "$1" = selfsigned.test ] || srv+=(-cert_chain "$pki/inter.crt")
}

# Runs a scenario body between capture start and stop. The body uses $port.
record() { # name, server addr, body function
	local name=$1 addr=$2 body=$3 tp
	port=$(free_port)
	file=$work/$name.pcap
	start_capture "$file" "$port" lo
	tp=$last_pid
	$body
	sleep 0.3
	stop_pid "$tp" INT
	[ -z "${srv_pid:-}" ] || stop_pid "$srv_pid" TERM
	srv_pid=
	cp "$file" "$out/$name.pcap"
	file=$out/$name.pcap
	local cip=$addr
	write_expect "$name" "$file" "$port" "$addr" "$cip"
	echo "make-captures: $name.pcap ($(stat -c %s "$file") bytes)"
}

# tls12_rsa: two TLS 1.2 handshakes with rsa.test, verified, data both
# ways; recorded at once on lo (Ethernet) and on "any" (SLL2 and SLL).
body_tls12_rsa() {
	local t2 t3
	start_capture "$work/tls12_rsa_sll2.pcap" "$port" any LINUX_SLL2
	t2=$last_pid
	start_capture "$work/tls12_rsa_sll.pcap" "$port" any LINUX_SLL
	t3=$last_pid
	start_server 127.0.0.1 "$port" "${srv_rsa[@]}"
	srv_pid=$last_pid
	client ok -connect "127.0.0.1:$port" -servername rsa.test "${T12[@]}" "${CA[@]}"
	add_hs rsa.test TLS1.2 "$AES128" ok true "rsa.test inter" "" "" ""
	client ok -connect "127.0.0.1:$port" -servername rsa.test -tls1_2 \
		-cipher ECDHE-RSA-AES256-GCM-SHA384 "${CA[@]}"
	add_hs rsa.test TLS1.2 TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 ok true \
		"rsa.test inter" "" "" ""
	sleep 0.3
	stop_pid "$t2" INT
	stop_pid "$t3" INT
}

body_tls13_ecdsa() {
	leaf_srv ecdsa.test
	start_server 127.0.0.1 "$port" "${srv[@]}"
	srv_pid=$last_pid
	client ok -connect "127.0.0.1:$port" -servername ecdsa.test "${T13[@]}" "${CA[@]}"
	add_hs ecdsa.test TLS1.3 TLS_AES_128_GCM_SHA256 ok false "" "" "" ""
	client ok -connect "127.0.0.1:$port" -servername ecdsa.test -tls1_3 \
		-ciphersuites TLS_CHACHA20_POLY1305_SHA256 "${CA[@]}"
	add_hs ecdsa.test TLS1.3 TLS_CHACHA20_POLY1305_SHA256 ok false "" "" "" ""
}

body_tls12_ipv6() {
	start_server ::1 "$port" "${srv_rsa[@]}"
	srv_pid=$last_pid
	client ok -connect "[::1]:$port" -servername rsa.test "${T12[@]}" "${CA[@]}"
	add_hs rsa.test TLS1.2 "$AES128" ok true "rsa.test inter" "" "" ""
}

# First handshake asks for and gets the staple; the second does not ask.
body_tls12_staple() {
	start_server 127.0.0.1 "$port" "${srv_rsa[@]}" -status_file "$pki/rsa.test.ocsp.der"
	srv_pid=$last_pid
	client ok -connect "127.0.0.1:$port" -servername rsa.test "${T12[@]}" "${CA[@]}" -status
	grep -q 'Cert Status: good' "$work/last-client.log" || die "no good staple seen"
	add_hs rsa.test TLS1.2 "$AES128" ok true "rsa.test inter" "" "" good:true
	client ok -connect "127.0.0.1:$port" -servername rsa.test "${T12[@]}" "${CA[@]}"
	add_hs rsa.test TLS1.2 "$AES128" ok true "rsa.test inter" "" "" ""
}

body_tls12_staple_revoked() {
	leaf_srv revoked.test
	start_server 127.0.0.1 "$port" "${srv[@]}" -status_file "$pki/revoked.test.ocsp.der"
	srv_pid=$last_pid
	client ok -connect "127.0.0.1:$port" -servername revoked.test "${T12[@]}" "${CA[@]}" -status
	grep -q 'Cert Status: revoked' "$work/last-client.log" || die "no revoked staple seen"
	add_hs revoked.test TLS1.2 "$AES128" ok true "revoked.test inter" "" \
		revoked_staple revoked:true
}

# big.test with the root in the chain, in 1 KiB records: the Certificate
# message spans several TLS records and several TCP segments.
body_tls12_bigchain() {
	start_server 127.0.0.1 "$port" -cert "$pki/big.test.crt" -key "$pki/big.test.key" \
		-cert_chain "$pki/cachain.pem" -max_send_frag 1024
	srv_pid=$last_pid
	client ok -connect "127.0.0.1:$port" -servername big.test "${T12[@]}" "${CA[@]}"
	add_hs big.test TLS1.2 "$AES128" ok true "big.test inter root" "" "" ""
}

body_tls12_reject_unknown_ca() {
	start_server 127.0.0.1 "$port" "${srv_rsa[@]}"
	srv_pid=$last_pid
	local i
	for i in 1 2; do
		client fail -connect "127.0.0.1:$port" -servername rsa.test "${T12[@]}" "${NOCA[@]}"
		add_hs rsa.test TLS1.2 "$AES128" failed true "rsa.test inter" \
			client:fatal:unknown_ca:false "" ""
	done
}

body_tls12_reject_expired() {
	leaf_srv expired.test
	start_server 127.0.0.1 "$port" "${srv[@]}"
	srv_pid=$last_pid
	client fail -connect "127.0.0.1:$port" -servername expired.test "${T12[@]}" "${CA[@]}"
	grep -q 'certificate has expired' "$work/last-client.log" || die "expired: wrong reason"
	add_hs expired.test TLS1.2 "$AES128" failed true "expired.test inter" \
		client:fatal:certificate_expired:false expired ""
}

# TLS 1.3, the client rejects the chain. OpenSSL's client sends this alert
# in plaintext: it has not switched its write side to the handshake keys yet.
body_tls13_reject_unknown_ca() {
	start_server 127.0.0.1 "$port" "${srv_rsa[@]}"
	srv_pid=$last_pid
	client fail -connect "127.0.0.1:$port" -servername rsa.test "${T13[@]}" "${NOCA[@]}"
	add_hs rsa.test TLS1.3 TLS_AES_128_GCM_SHA256 failed false "" \
		client:fatal:unknown_ca:false "" ""
}

# TLS 1.3, the server requires a client certificate and gets none: its
# certificate_required alert is encrypted (a 19-byte application_data
# record after its Finished).
body_tls13_reject_encrypted() {
	start_server 127.0.0.1 "$port" "${srv_rsa[@]}" -Verify 1 -CAfile "$pki/root.crt"
	srv_pid=$last_pid
	client fail -connect "127.0.0.1:$port" -servername rsa.test "${T13[@]}" "${CA[@]}"
	add_hs rsa.test TLS1.3 TLS_AES_128_GCM_SHA256 failed false "" \
		server:unknown:unknown:true "" ""
}

# The server speaks only TLS 1.2, the client only TLS 1.3: the server sends
# a plaintext protocol_version alert before any ServerHello.
body_tls_reject_version() {
	start_server 127.0.0.1 "$port" "${srv_rsa[@]}" -no_tls1_3
	srv_pid=$last_pid
	client fail -connect "127.0.0.1:$port" -servername rsa.test "${T13[@]}" "${CA[@]}"
	add_hs rsa.test "" "" failed "" "" server:fatal:protocol_version:false "" ""
}

# The server process is stopped: the kernel accepts the connections, the
# ClientHellos go unanswered, each client is killed (FIN), then the server is
# killed (its unaccepted connections are reset).
body_aborted() {
	start_server 127.0.0.1 "$port" "${srv_rsa[@]}"
	srv_pid=$last_pid
	kill -STOP "$srv_pid"
	local i
	for i in 1 2; do
		nsx timeout -s KILL 1 openssl s_client -connect "127.0.0.1:$port" \
			-servername rsa.test -ign_eof "${T12[@]}" </dev/null \
			>"$work/client.log" 2>&1 || true
		add_hs rsa.test "" "" aborted "" "" "" "" ""
	done
	stop_pid "$srv_pid" KILL
	srv_pid=
}

# Findings: the client does not enforce verification, so each completes.
# A 1024-bit key needs OpenSSL's security level 0 on both sides.
finding_body() { # leaf, sni, finding, [seclevel0]
	local leaf=$1 sni=$2 finding=$3 chain sec=${4:+:@SECLEVEL=0}
	leaf_srv "$leaf"
	start_server 127.0.0.1 "$port" "${srv[@]}" ${sec:+-cipher "DEFAULT$sec"}
	srv_pid=$last_pid
	client ok -connect "127.0.0.1:$port" -servername "$sni" -tls1_2 \
		-cipher "ECDHE-RSA-AES128-GCM-SHA256$sec" -CAfile "$pki/root.crt"
	chain="$leaf inter"
	[ "$leaf" = selfsigned.test ] && chain=$leaf
	add_hs "$sni" TLS1.2 "$AES128" ok true "$chain" "" "$finding" ""
}
body_tls12_selfsigned() { finding_body selfsigned.test selfsigned.test self_signed; }
body_tls12_future() { finding_body future.test future.test not_yet_valid; }
body_tls12_expiring_soon() { finding_body soon.test soon.test expiring_soon; }
body_tls12_hostname_mismatch() { finding_body rsa.test other.test hostname_mismatch; }
body_tls12_weak() { finding_body weak.test weak.test weak_key seclevel0; }

# ---- main

"$here/make-pki.sh" "$pki" >/dev/null
setup_netns
rm -f "$out"/*.pcap "$out"/*.pcapng "$out"/*.expect

record tls12_rsa 127.0.0.1 body_tls12_rsa
check_ciphers "$out/tls12_rsa.pcap" "$port" "$AES128" TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384
rsa_port=$port
record tls13_ecdsa 127.0.0.1 body_tls13_ecdsa
check_ciphers "$out/tls13_ecdsa.pcap" "$port" TLS_AES_128_GCM_SHA256 TLS_CHACHA20_POLY1305_SHA256
record tls12_ipv6 ::1 body_tls12_ipv6
record tls12_staple 127.0.0.1 body_tls12_staple
record tls12_staple_revoked 127.0.0.1 body_tls12_staple_revoked
record tls12_bigchain 127.0.0.1 body_tls12_bigchain
big_port=$port
record tls12_reject_unknown_ca 127.0.0.1 body_tls12_reject_unknown_ca
record tls12_reject_expired 127.0.0.1 body_tls12_reject_expired
record tls13_reject_unknown_ca 127.0.0.1 body_tls13_reject_unknown_ca
record tls13_reject_encrypted 127.0.0.1 body_tls13_reject_encrypted
record tls_reject_version 127.0.0.1 body_tls_reject_version
record aborted 127.0.0.1 body_aborted
record tls12_selfsigned 127.0.0.1 body_tls12_selfsigned
record tls12_future 127.0.0.1 body_tls12_future
record tls12_expiring_soon 127.0.0.1 body_tls12_expiring_soon
record tls12_hostname_mismatch 127.0.0.1 body_tls12_hostname_mismatch
record tls12_weak 127.0.0.1 body_tls12_weak

# Variants of tls12_rsa: the same packets as pcapng, as Linux cooked
# captures (recorded alongside), and cut short inside the last packet.
editcap -F pcapng "$out/tls12_rsa.pcap" "$out/tls12_rsa.pcapng"
cp "$work/tls12_rsa_sll2.pcap" "$work/tls12_rsa_sll.pcap" "$out/"
head -c -20 "$out/tls12_rsa.pcap" >"$out/truncated.pcap"
variant_expect() { # name, file, packets, truncated
	local lt
	# capinfos complains about (and fails on) the truncated file.
	lt=$(capinfos -E -T -r "$out/$2" 2>/dev/null | cut -f2 || true)
	[ -n "$lt" ] || die "no link type for $2"
	sed -e "s/^file=.*/file=$2/" -e "s/^linktype=.*/linktype=$lt/" \
		-e "s/^packets=.*/packets=$3/" -e "s/^summary.packets=.*/summary.packets=$3/" \
		-e "s/^summary.truncated_file=.*/summary.truncated_file=$4/" \
		-e "1s/.*/# $1: a variant of tls12_rsa (same handshakes)/" \
		"$out/tls12_rsa.expect" >"$out/$1.expect"
}
rsa_packets=$(capinfos -c -T -r "$out/tls12_rsa.pcap" | cut -f2)
variant_expect tls12_rsa.pcapng tls12_rsa.pcapng "$rsa_packets" false
for v in sll sll2; do
	n=$(capinfos -c -T -r "$out/tls12_rsa_$v.pcap" | cut -f2)
	[ "$n" = "$rsa_packets" ] || die "tls12_rsa_$v.pcap has $n packets, lo had $rsa_packets"
	variant_expect "tls12_rsa_$v" "tls12_rsa_$v.pcap" "$n" false
done
variant_expect truncated truncated.pcap "$((rsa_packets - 1))" true

python3 "$here/make-hostile-sni.py" "$out/hostile_sni.pcap"
python3 "$here/make-hostile-sni.py" --markup "$out/hostile_html.pcap"
python3 "$here/make-hostile-sni.py" --nul-sni "$pki/rsa.test.chain.pem" "$out/hostile_nul_sni.pcap"

# Self-checks of the fixtures themselves.
# The big Certificate message was reassembled from several TCP segments and
# from several TLS records.
read -r segs frags < <(tshark -r "$out/tls12_bigchain.pcap" -d "tcp.port==$big_port,tls" \
	-Y 'tls.handshake.type==11' -T fields -e tcp.segment.count \
	-e tls.handshake.fragment.count 2>/dev/null | head -1)
[ "${segs:-0}" -ge 2 ] && [ "${frags:-0}" -ge 2 ] ||
	die "tls12_bigchain: Certificate in ${segs:-?} segments, ${frags:-?} records"
echo "big_chain_tcp_segments=$segs" >>"$out/tls12_bigchain.expect"
echo "big_chain_tls_records=$frags" >>"$out/tls12_bigchain.expect"
[ -n "$rsa_port" ] || die "no rsa port"
echo "make-captures: wrote $(ls "$out" | wc -l) files to $out ($(du -sk "$out" | cut -f1) KiB)"
