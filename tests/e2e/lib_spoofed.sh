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
	"${in[@]}" timeout 25 "$PY" "$INJECT" hello "$iface" "$server" 443 "$tmp/hello" &
	watcher=$!
	tn_bg "$watcher"
	sleep 0.3                               # the watcher's socket is bound
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
