#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The served chain and the alerts of TLS 1.3 connections, from the server's
# own TLS library (run --uprobes auto).
#
# The agent runs inside a network namespace, on its interface, and is
# started before the server: `openssl s_server` (OpenSSL 3, the system's
# libssl.so.3) serves ecdsa.test with its intermediate. Asserted:
#   - the agent hooks the system's libssl.so.3 and libcrypto.so.3, and
#     reads the certificates with one probe at libssl's writer (its site
#     measured at start);
#   - a TLS 1.3 handshake (the certificate is encrypted on the wire) carries
#     the served chain, leaf and intermediate, fingerprints computed
#     independently (openssl x509 -outform DER | sha256sum), "observed":
#     "server" and the serving process (pid of s_server, /usr/bin/openssl);
#     its cert event says "observed": "server" and the same process;
#   - a TLS 1.3 client rejecting the chain (unknown CA): the alert the
#     server read, unknown_ca, "observed": "server";
#   - a server that requires a client certificate and gets none: the alert
#     it sent, encrypted on the wire, is certificate_required, "observed":
#     "server", not an "encrypted" guess;
#   - the ALPN protocol a TLS 1.3 server selected (s_server -alpn h2,
#     s_client -alpn h2,http/1.1), encrypted on the wire: alpn_selected
#     "h2", read from the server's SSL; a client offering only a protocol
#     the server lacks (refused: no_application_protocol): none; a client
#     offering nothing (the handshakes above): none; a client that stays
#     connected: reported at once, with alpn_selected h2 (read where libssl
#     writes the certificate), and not sent again at SSL_free; a resumed
#     connection (no chain) has its ALPN protocol read at SSL_free, and its
#     handshake, on a server whose chain was read before, waits for it:
#     alpn_selected h2 and the serving process (before, it was reported at
#     once, without either) (uprobe_binds: one per chain, per alert, per
#     such protocol);
#   - SIGTERM: every uprobe program and link of the agent (its
#     tracepoints' too) is gone, every map it held (the SSL_free queue's
#     task storage and the closing sockets' among them: checked held at
#     start) too, nothing
#     of it is left in tracefs' uprobe_events; the server still serves;
#   - SIGKILL: the same, by the kernel alone (of the maps, the uprobe
#     object's own: the TC filters, and the maps they share, stay until
#     the next agent replaces them); a new agent follows the
#     server again; the server served every client throughout;
#   - a server on a copy of libssl (another file: no writer site measured
#     there): the chain is read at i2d_X509 instead, the same leaf and
#     intermediate;
#   - a process listening on the watched port without OpenSSL 3 (a bare
#     python listener) is named once in an "uprobes_unsupported" event.
# Needs root. TAP output; exits non-zero on any failure.
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
export BUILD
. tests/e2e/lib_netns.sh
. tests/e2e/lib_uprobes.sh
. scripts/lib/common.sh

up_begin live_uprobes upr openssl ip ss bpftool sha256sum

# tracefs, to look for uprobe entries left behind (mounted for the test
# when it is not, and unmounted after)
TRACEFS=/sys/kernel/tracing
if ! [ -e "$TRACEFS/uprobe_events" ]; then
	mount -t tracefs nodev "$TRACEFS" || tn_bail "cannot mount tracefs"
	tn_on_exit "umount '$TRACEFS'"
fi

fp_leaf=$(openssl x509 -in "$pki/ecdsa.test.crt" -outform DER | sha256sum | cut -d' ' -f1)
fp_inter=$(openssl x509 -in "$pki/inter.crt" -outform DER | sha256sum | cut -d' ' -f1)

# The ids of the loaded uprobe programs of tlswatch (tw_up_*), and of the
# tracepoint programs beside them (tracing: tw_up_task_free, tw_up_tcp_close).
uprobe_prog_ids() {
	bpftool prog show 2>/dev/null |
		sed -n 's/^\([0-9]*\): \(kprobe\|tracing\)  name tw_up_.*/\1/p' | sort -n
}

# Of those, the ones agent PID loaded (an fd of it: its fdinfo's
# prog_id): not another agent's, started meanwhile by another test.
agent_uprobe_progs() { # pid
	comm -12 <(uprobe_prog_ids) \
		<(cat /proc/"$1"/fdinfo/* 2>/dev/null | sed -n 's/^prog_id:[[:space:]]*//p' | sort -u) |
		tr '\n' ' '
}

# The programs of $ours still loaded (the kernel frees them once the last
# fd and link are gone, after the process's exit), and whether none is.
ours_left() {
	comm -12 <(tr ' ' '\n' <<<"$ours" | grep . | sort -n) <(uprobe_prog_ids) | tr '\n' ' '
}
ours_gone() {
	[ -z "$(ours_left)" ]
}

# The ids of the maps process PID holds (an fd of it: its fdinfo's
# map_id): the agent's, those its uprobe programs alone use (the task
# storage of the queued SSL_free records, tw_up_freed_q) and the shared
# ones (tw_up_closing) among them; and which of $our_maps are still
# loaded (the kernel frees a map with its last fd and program).
agent_map_ids() { # pid
	cat /proc/"$1"/fdinfo/* 2>/dev/null | sed -n 's/^map_id:[[:space:]]*//p' | sort -nu
}
our_maps_left() {
	comm -12 <(tr ' ' '\n' <<<"$our_maps" | grep . | sort -n) \
		<(bpftool map show 2>/dev/null | sed -n 's/^\([0-9]*\): .*/\1/p' | sort -n) |
		tr '\n' ' '
}
our_maps_gone() {
	[ -z "$(our_maps_left)" ]
}
# The name of loaded map ID.
map_name() { # id
	bpftool map show id "$1" 2>/dev/null | sed -n 's/^[0-9]*: [a-z_]*  name \([^ ]*\) .*/\1/p'
}
# Whether the maps $our_maps holds include every NAME: "yes", or the
# names missing.
our_map_names() { # name...
	local n id names= missing=
	for id in $our_maps; do
		names="$names $(map_name "$id")"
	done
	for n in "$@"; do
		case " $names " in *" $n "*) ;; *) missing="$missing $n" ;; esac
	done
	echo "${missing:-yes}"
}
# Of $our_maps, the ids of those named NAME...
our_maps_named() { # name...
	local id n
	for id in $our_maps; do
		n=$(map_name "$id")
		case " $* " in *" $n "*) printf '%s ' "$id" ;; esac
	done
}

stop_server() {
	exec 7>&-
	tn_stop_pid "$UP_S_SERVER_PID"
	tn_wait_cmd 10 sh -c "! ip netns exec '$TN_NS' ss -Hltn 'sport = :443' | grep -q ." ||
		tn_bail "openssl s_server still listening"
}

SERVED=0
CLIENTS=0
# One TLS 1.3 client (extra options: a refusal); client13_ok counts those
# that should be served and were (they verified the chain and got the
# server's answer to a request).
client13() { # extra s_client options...
	printf 'Q\n' | timeout 10 openssl s_client -connect "$srv:443" -tls1_3 \
		-servername ecdsa.test "$@" >"$tmp/client.log" 2>&1
}
client13_ok() { # extra s_client options...
	CLIENTS=$((CLIENTS + 1))
	client13 -CAfile "$pki/root.crt" -verify_return_error "$@" &&
		grep -q 'Verify return code: 0 (ok)' "$tmp/client.log" &&
		SERVED=$((SERVED + 1))
	return 0
}

# The n-th (1-based) handshake event of LOG, reduced to what is asserted.
hs_summary() { # log, n
	"$PY" - "$1" "$2" <<'EOF'
import json, sys
hs = [json.loads(l) for l in open(sys.argv[1]) if '"event":"handshake"' in l]
n = int(sys.argv[2])
if len(hs) < n:
    print("missing"); sys.exit()
e = hs[n - 1]
p = e.get("process", {})
print(e.get("version"), e.get("outcome"), e.get("observed", "-"),
      ",".join(c["sha256"] for c in e.get("chain", [])) or "-",
      p.get("pid", "-"), p.get("exe", "-"),
      ";".join("%s:%s:%s:%s:%s" % (a["from"], a["level"], a["description"],
                                 a["encrypted"], a.get("observed", "-"))
               for a in e["alerts"]) or "-")
EOF
}

# The n-th handshake event's alpn_selected, "-" when absent.
hs_alpn() { # log, n
	"$PY" -c 'import json, sys
hs = [json.loads(l) for l in open(sys.argv[1]) if "\"event\":\"handshake\"" in l]
n = int(sys.argv[2])
print(hs[n - 1].get("alpn_selected", "-") if len(hs) >= n else "missing")' "$1" "$2"
}

handshakes() { # log
	grep -c '"event":"handshake"' "$1"
}

log=$tmp/agent.log

# --- 1. the agent first, then the server ------------------------------------
up_start_agent "$log" auto
attached=$(grep '"state":"uprobes_attached"' "$log")
case $attached in
*libssl.so.3*libcrypto.so.3* | *libcrypto.so.3*libssl.so.3*)
	tap_ok "uprobes attached to the system's libssl.so.3 and libcrypto.so.3" ;;
*) tap_fail "uprobes attached to the system's libssl.so.3 and libcrypto.so.3" "got: $attached" ;;
esac
case $attached in
*'"counters"'* | *'"names"'*) tap_fail "uprobes_attached says what happened, without the statistics" "got: $attached" ;;
*) tap_ok "uprobes_attached says what happened, without the statistics" ;;
esac
ours=$(agent_uprobe_progs "$AGENT_PID")
tap_eq "the agent loaded its 9 programs (7 uprobe, 2 tracepoint)" 9 "$(wc -w <<<"$ours")"
our_maps=$(agent_map_ids "$AGENT_PID" | tr '\n' ' ')
tap_eq "the agent holds the uprobe side's maps (the SSL_free queue, the closing sockets)" yes \
	"$(our_map_names tw_up_freed_q tw_up_closing tw_up_pending tw_up_dest)"
case $attached in
*"certificates read where libssl writes them, offset 0x"*", the selected ALPN protocol with them)"*)
	tap_ok "the certificates and the ALPN are read at libssl's writer (one probe per certificate)" ;;
*) tap_fail "the certificates and the ALPN are read at libssl's writer (one probe per certificate)" \
	"got: $attached" ;;
esac

up_start_s_server 443 "$tmp/server.log" -cert "$pki/ecdsa.test.crt" -key "$pki/ecdsa.test.key" \
	-cert_chain "$pki/inter.crt"
client13_ok
tn_wait_count 10 '"event":"handshake"' "$log" 1
tap_eq "TLS 1.3 handshake: the served chain, from the server's library, and who served it" \
	"TLS1.3 ok server $fp_leaf,$fp_inter $UP_S_SERVER_PID /usr/bin/openssl -" "$(hs_summary "$log" 1)"
tap_eq "its cert event: observed server, the serving process" \
	"server $UP_S_SERVER_PID /usr/bin/openssl $fp_leaf" \
	"$("$PY" -c 'import json, sys
for l in open(sys.argv[1]):
    e = json.loads(l)
    if e["event"] == "cert":
        print(e["observed"], e["process"]["pid"], e["process"].get("exe"), e["sha256"])' "$log")"

# --- 2. the client rejects the chain: the alert the server read ------------
client13 -verify_return_error
tn_wait_count 10 '"event":"handshake"' "$log" 2
tap_eq "TLS 1.3 client rejecting the chain: unknown_ca as the server's library read it" \
	"TLS1.3 failed server $fp_leaf,$fp_inter $UP_S_SERVER_PID /usr/bin/openssl client:fatal:unknown_ca:False:server" \
	"$(hs_summary "$log" 2)"
stop_server

# --- 3. the server's own alert, encrypted on the wire -----------------------
up_start_s_server 443 "$tmp/server2.log" -cert "$pki/ecdsa.test.crt" -key "$pki/ecdsa.test.key" \
	-Verify 1 -CAfile "$pki/root.crt"
client13 -CAfile "$pki/root.crt"
tn_wait_count 10 '"event":"handshake"' "$log" 3
tap_eq "a required client certificate missing: certificate_required as the server sent it" \
	"TLS1.3 failed server $fp_leaf $UP_S_SERVER_PID /usr/bin/openssl server:fatal:certificate_required:False:server" \
	"$(hs_summary "$log" 3)"
stop_server

# --- 3b. the ALPN protocol the server selected, encrypted on the wire -------
up_start_s_server 443 "$tmp/server_alpn.log" -cert "$pki/ecdsa.test.crt" -key "$pki/ecdsa.test.key" \
	-cert_chain "$pki/inter.crt" -alpn h2
client13_ok -alpn h2,http/1.1
grep -q '^ALPN protocol: h2$' "$tmp/client.log" || tap_fail "the client says h2 was selected"
tn_wait_count 10 '"event":"handshake"' "$log" 4
tap_eq "TLS 1.3 with ALPN: alpn_selected h2, read from the server's SSL" \
	"TLS1.3 ok server $fp_leaf,$fp_inter $UP_S_SERVER_PID /usr/bin/openssl - h2" \
	"$(hs_summary "$log" 4) $(hs_alpn "$log" 4)"
client13 -alpn http/1.1
tn_wait_count 10 '"event":"handshake"' "$log" 5
tap_eq "TLS 1.3 offering only a protocol the server lacks: refused, no alpn_selected" \
	"failed server:fatal:no_application_protocol:False:- -" \
	"$(hs_summary "$log" 5 | cut -d' ' -f2,7) $(hs_alpn "$log" 5)"
tap_eq "TLS 1.3 offering no ALPN (the handshakes before): no alpn_selected" "- - -" \
	"$(hs_alpn "$log" 1) $(hs_alpn "$log" 2) $(hs_alpn "$log" 3)"

# --- 3c. a connection that stays open: its ALPN comes with the chain ---------
# read from the SSL where libssl writes the certificate, so the handshake
# is reported while the client is still connected (not at the close, nor
# after a wait without it)
(sleep 5; printf 'Q\n') | timeout 10 openssl s_client -connect "$srv:443" -tls1_3 \
	-servername ecdsa.test -CAfile "$pki/root.crt" -alpn h2,http/1.1 \
	>"$tmp/client_open.log" 2>&1 &
open_pid=$!
tn_wait_count 3 '"event":"handshake"' "$log" 6
tap_eq "TLS 1.3 with ALPN, the client still connected: reported with alpn_selected h2" \
	"open h2" "$(kill -0 "$open_pid" 2>/dev/null && echo open || echo closed) $(hs_alpn "$log" 6)"
wait "$open_pid"

# --- 3d. a resumed connection (no chain): its ALPN is read at SSL_free ------
(sleep 0.5; printf 'Q\n') | timeout 10 openssl s_client -connect "$srv:443" -tls1_3 \
	-servername ecdsa.test -CAfile "$pki/root.crt" -alpn h2 -sess_out "$tmp/sess" \
	>"$tmp/client_sess.log" 2>&1
tn_wait_count 10 '"event":"handshake"' "$log" 7
client13_ok -alpn h2 -sess_in "$tmp/sess"
grep -q '^Reused, TLSv1.3' "$tmp/client.log" || tap_fail "the session was resumed" \
	"$(grep -E '^(New|Reused)' "$tmp/client.log")"
tn_wait_count 10 '"event":"handshake"' "$log" 8
tap_eq "TLS 1.3 resumed: without a chain, alpn_selected h2 (read at SSL_free, waited for), its process" \
	"TLS1.3 ok - $UP_S_SERVER_PID /usr/bin/openssl h2" \
	"$(hs_summary "$log" 8 | cut -d' ' -f1-2,4-6) $(hs_alpn "$log" 8)"
stop_server
up_start_s_server 443 "$tmp/server3.log" -cert "$pki/ecdsa.test.crt" -key "$pki/ecdsa.test.key" \
	-cert_chain "$pki/inter.crt"

# --- 4. SIGTERM: everything detached ----------------------------------------
kill -TERM "$AGENT_PID"
tn_wait_cmd 15 sh -c "! kill -0 $AGENT_PID" || tap_fail "the agent stops on SIGTERM"
wait "$AGENT_PID" 2>/dev/null
# The packets that named a connection for the uprobes, on this agent's
# interface only (other processes' handshakes, which the probes on the
# system's libssl also see, bind nowhere here): the chains of 1, 2, 3, 3b,
# 3c and 3d's first connection (6), the alerts of 2, 3 and 3b's refusal
# (3), the ALPN protocol of 3d's resumed connection, read at SSL_free (1).
# Before, the ALPN protocol of each connection that sent it with its chain
# (3b, 3c, 3d's first) went out again at SSL_free under a new id, and its
# close named that too: 13.
tap_eq "one bind per chain, per alert and per ALPN protocol without a chain" \
	10 "$(tn_agent_counter "$log" uprobe_binds)"
left=$(ours_left)
tap_eq "after SIGTERM: none of its uprobe programs is left" "" "${left% }"
tn_wait_cmd 10 our_maps_gone
left=$(our_maps_left)
tap_eq "after SIGTERM: none of its maps is left" "" "${left% }"
tap_eq "after SIGTERM: nothing of it in tracefs uprobe_events" 0 \
	"$(grep -c "libbpf_${AGENT_PID}_" "$TRACEFS/uprobe_events")"
client13_ok

# --- 5. SIGKILL: the kernel detaches them; a new agent follows again --------
log2=$tmp/agent2.log
up_start_agent "$log2" auto
ours=$(agent_uprobe_progs "$AGENT_PID")
tap_eq "SIGKILL: the agent loaded its 9 programs" 9 "$(wc -w <<<"$ours")"
# after SIGKILL the TC filters stay (the next agent replaces its stale
# filter: README, tlswatch run), and the maps the TC program shares with
# them: only the uprobe object's own go with the process
our_maps=$(agent_map_ids "$AGENT_PID" | tr '\n' ' ')
our_maps=$(our_maps_named tw_up_freed_q tw_up_dest tw_up_alpn_sent)
tap_eq "SIGKILL: the agent holds the uprobe object's own maps" 3 "$(wc -w <<<"$our_maps")"
kill -KILL "$AGENT_PID"
tn_wait_cmd 10 sh -c "! kill -0 $AGENT_PID"
wait "$AGENT_PID" 2>/dev/null
tn_wait_cmd 10 ours_gone
left=$(ours_left)
tap_eq "after SIGKILL: none of its uprobe programs is left" "" "${left% }"
tn_wait_cmd 10 our_maps_gone
left=$(our_maps_left)
tap_eq "after SIGKILL: none of the uprobe object's own maps is left" "" "${left% }"
tap_eq "after SIGKILL: nothing of it in tracefs uprobe_events" 0 \
	"$(grep -c "libbpf_${AGENT_PID}_" "$TRACEFS/uprobe_events")"
client13_ok

log3=$tmp/agent3.log
up_start_agent "$log3" auto
ours_last=$(agent_uprobe_progs "$AGENT_PID")
client13_ok
tn_wait_count 10 '"event":"handshake"' "$log3" 1
tap_eq "restarted after SIGKILL: the chain is followed again" \
	"TLS1.3 ok server $fp_leaf,$fp_inter $UP_S_SERVER_PID /usr/bin/openssl -" "$(hs_summary "$log3" 1)"
tn_stop_pid "$AGENT_PID"
stop_server

# --- 6. a server on another libssl file: the i2d_X509 probes ---------------
# A copy of the system's libssl (another inode: not the agent's own, whose
# writer site and SSL offsets it measured) loaded by s_server through
# LD_LIBRARY_PATH, beside the system's libcrypto: the agent hooks both
# libssl files and reads the certificates at i2d_X509 instead, for both.
mkdir -p "$tmp/lib"
cp "$(ldd "$(command -v openssl)" | awk '$1 == "libssl.so.3" {print $3}')" "$tmp/lib/libssl.so.3"
LD_LIBRARY_PATH=$tmp/lib up_start_s_server 443 "$tmp/server4.log" -cert "$pki/ecdsa.test.crt" \
	-key "$pki/ecdsa.test.key" -cert_chain "$pki/inter.crt"
grep -q "$tmp/lib/libssl.so.3" "/proc/$UP_S_SERVER_PID/maps" ||
	tap_fail "the server maps the copy of libssl" "$(grep libssl "/proc/$UP_S_SERVER_PID/maps")"
log5=$tmp/agent5.log
up_start_agent "$log5" auto
attached=$(grep '"state":"uprobes_attached"' "$log5")
case $attached in
*"where libssl writes them"*)
	tap_fail "another libssl: no writer site, the i2d_X509 probes" "got: $attached" ;;
*"$tmp/lib/libssl.so.3 (alerts and ALPN not followed: not the agent's own libssl)"*)
	tap_ok "another libssl: no writer site, the i2d_X509 probes" ;;
*) tap_fail "another libssl: no writer site, the i2d_X509 probes" "got: $attached" ;;
esac
client13_ok
tn_wait_count 10 '"event":"handshake"' "$log5" 1
tap_eq "another libssl: the chain read at i2d_X509" \
	"TLS1.3 ok server $fp_leaf,$fp_inter $UP_S_SERVER_PID /usr/bin/openssl -" "$(hs_summary "$log5" 1)"
tn_stop_pid "$AGENT_PID"
stop_server

# --- 7. a server without OpenSSL: said once, not hooked ----------------------
# a bare listener (python's http.server would map libssl through
# http.client)
ip netns exec "$TN_NS" /usr/bin/python3 -c 'import socket, sys, time
s = socket.create_server((sys.argv[1], 443))
time.sleep(60)' "$srv" >"$tmp/listener.log" 2>&1 &
LISTENER_PID=$!
tn_bg "$LISTENER_PID"
tn_wait_listen 10 443 || tn_bail "the plain listener did not start"
log4=$tmp/agent4.log
up_start_agent "$log4" auto
ours_last="$ours_last $(agent_uprobe_progs "$AGENT_PID")"
tap_eq "a listener without OpenSSL 3: one uprobes_unsupported event naming it" \
	"1 pid $LISTENER_PID (/usr/bin/python3.11) listens on a watched port without OpenSSL 3 (no TLS library mapped)" \
	"$(grep -c '"state":"uprobes_unsupported"' "$log4") $("$PY" -c 'import json, sys
for l in open(sys.argv[1]):
    e = json.loads(l)
    if e.get("state") == "uprobes_unsupported":
        print(e["message"].split(":")[0])' "$log4")"
tn_stop_pid "$AGENT_PID"
tn_stop_pid "$LISTENER_PID"

tap_eq "the server served every client throughout" "$CLIENTS" "$SERVED"
ours=$ours_last
tap_eq "the last two agents loaded their 9 programs each" 18 "$(wc -w <<<"$ours")"
tn_wait_cmd 10 ours_gone
tap_eq "after the last stop: no uprobe program of these agents is left" "" \
	"$(ours_left)"

if [ "$TN_FAILED" -ne 0 ]; then
	for f in "$log" "$log2" "$log3" "$log5"; do
		sed 's/^/#   agent stderr: /' "$f.stderr" | grep -v libbpf | head -10
		grep -v '"event":"agent"' "$f" | cut -c1-600 | sed 's/^/#   agent: /' | head -10
	done
fi
