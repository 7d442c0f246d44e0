# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# shellcheck disable=SC2154 # $tmp: sp_begin's (tn_begin_with_pki)
# Helpers for the spoofed-segment tests (sourced after lib_netns.sh): the
# checks they start with, and a TLS 1.2 client whose ClientHello a watcher
# saw, for tests/e2e/lib/rst_inject.py to send segments into its
# connection.

# The checks and setup they start with (tn_begin_with_pki: $tmp, $pki);
# PY the python to run the helpers with, INJECT rst_inject.py.
sp_begin() { # test name
	tn_begin_with_pki "$1" openssl ip ss timeout
	PY=python3
	[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
	INJECT=tests/e2e/lib/rst_inject.py
}

# tests/e2e/lib/slow_handshake.py to SERVER:443 (SNI rsa.test) with
# PAUSES (its arguments after the SNI), run in network namespace NETNS
# ("": this one), once rst_inject.py's watcher on IFACE is ready; one check
# (DESCRIPTION): the watcher saw its ClientHello. Sets client (its pid) and
# what the watcher read: cip cport cnext snext.
sp_start_client() { # netns, iface, server, description, pauses...
	local netns=$1 iface=$2 server=$3 desc=$4 watcher
	local in=()
	shift 4
	[ -n "$netns" ] && in=(ip netns exec "$netns")
	rm -f "$tmp/hello.bound"
	"${in[@]}" timeout 25 "$PY" "$INJECT" hello "$iface" "$server" 443 "$tmp/hello" &
	watcher=$!
	tn_bg "$watcher"
	tn_wait_file 10 "$tmp/hello.bound" || tn_bail "rst_inject.py hello did not bind its socket"
	"${in[@]}" timeout 40 "$PY" tests/e2e/lib/slow_handshake.py "$server" 443 \
		rsa.test "$@" 2>"$tmp/client.err" &
	client=$!
	tn_bg "$client"
	wait "$watcher"
	tap_eq "$desc" 0 "$?"
	# shellcheck disable=SC2034 # for the caller
	read -r cip cport cnext snext <"$tmp/hello"
}

# Lets sp_start_client's client go on (creates GO, the file of its pause)
# and waits for it; one check (DESCRIPTION): it exited 0 (its stderr shown
# otherwise).
sp_finish_client() { # go file, description
	local rc
	touch "$1"
	wait "$client"
	rc=$?
	tap_eq "$2" 0 "$rc"
	[ "$rc" -eq 0 ] || sed 's/^/#   client: /' "$tmp/client.err"
}

# The outcomes of the handshake events in LOG (the agent's JSON lines)
# whose client port is PORT, space-separated, in order ("none" if none).
sp_outcomes() { # log, port
	"$PY" - "$1" "$2" <<'PYEOF'
import json, sys
port = int(sys.argv[2])
seen = [json.loads(l) for l in open(sys.argv[1])]
hs = [e for e in seen if e.get("event") == "handshake" and e["client"]["port"] == port]
print(" ".join(e["outcome"] for e in hs) or "none")
PYEOF
}

# The state of the kernel's flow entry between client port CPORT and
# server port SPORT (struct tw_flow_val's: 3, TW_FLOW_DONE, once the agent
# marked it done) in the flow map of the agent of pid PID; "none" when it
# has none.
sp_flow_state() { # agent pid, client port, server port
	tn_agent_map_dump "$1" tw_flows | "$PY" -c 'import json, sys
ports = sorted(int(p) for p in sys.argv[1:3])
state = "none"
for doc in sys.stdin:
    for e in json.loads(doc):
        f = e.get("formatted", e)
        if sorted(f["key"]["port"]) == ports:
            state = f["value"]["state"]
print(state)' "$2" "$3"
}

sp_flow_is() { # agent pid, client port, server port, state
	[ "$(sp_flow_state "$1" "$2" "$3")" = "$4" ]
}

# Waits, 0.1 s at a time and 5 s at most (tn_wait_cmd), until the flow of
# client port CPORT and server port SPORT in the kernel of the agent of pid
# PID is in STATE (sp_flow_state's: 3 done, "none" gone); one check
# (DESCRIPTION): it is.
sp_wait_flow_state() { # agent pid, client port, server port, state, description
	tn_wait_cmd 5 sp_flow_is "$1" "$2" "$3" "$4"
	tap_eq "$5" "$4" "$(sp_flow_state "$1" "$2" "$3")"
}

# What the spoofed packets sent next are about: a decided flow. One check
# (DESCRIPTION): the agent of pid PID marked the flow of client port CPORT
# and server port SPORT done in the kernel (waited for).
sp_wait_flow_done() { # agent pid, client port, server port, description
	sp_wait_flow_state "$1" "$2" "$3" 3 "$4"
}
