# SPDX-License-Identifier: MIT
# Shared by tests/e2e/health_*.sh (sourced): a private network namespace,
# loopback servers (python3 http.server, openssl ocsp, small python
# misbehaving responders) that are always killed, the probe that drives
# the certificate-health facade, and TAP helpers.
#
# Each script calls health_setup "$0" "$@" first: it re-executes itself in
# a new network namespace (only its own lo exists there, so servers that
# bind every address are still reachable from loopback only), and gets
# $work, $probe, $TW (the tlswatch binary: $TW_BIN, or the build's),
# $pki_dir helpers and an EXIT trap.

health_failed=0

ok() { echo "ok - $*"; }
not_ok() { echo "not ok - $*"; health_failed=$((health_failed + 1)); }

# check NAME COMMAND...: one TAP line for the command's status.
check() {
	local name=$1
	shift
	if "$@"; then ok "$name"; else not_ok "$name"; fi
}

health_pids=()

health_cleanup() {
	local p
	for p in "${health_pids[@]}"; do
		kill "$p" 2>/dev/null
	done
	for p in "${health_pids[@]}"; do
		wait "$p" 2>/dev/null
	done
	health_pids=()
	[ -n "${work:-}" ] && rm -rf "$work"
}

health_setup() { # $0 "$@"
	local self=$1
	shift
	if [ -z "${TW_HEALTH_NETNS:-}" ]; then
		if [ "$(id -u)" -ne 0 ]; then
			echo "ok - ${self##*/} # SKIP needs root for a private network namespace"
			exit 0
		fi
		exec env TW_HEALTH_NETNS=1 unshare --net "$self" "$@"
	fi
	ip link set lo up || { echo "not ok - bringing lo up in the namespace"; exit 1; }
	unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
	work=$(mktemp -d)
	trap health_cleanup EXIT
	trap 'exit 1' INT TERM
	probe=${BUILD:-build}/tests/health_probe
	TW=${TW_BIN:-${BUILD:-build}/tlswatch}   # TW_BIN=build/tlswatch-san: under ASan/UBSan
	if ! make --no-print-directory -s "$probe" >"$work/make.log" 2>&1; then
		cat "$work/make.log"
		echo "not ok - building $probe"
		exit 1
	fi
}

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Waits (at most 5 s) until something accepts on 127.0.0.1:PORT.
wait_port() { # port
	local i
	for i in $(seq 1 50); do
		python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', $1), 0.2).close()" \
			2>/dev/null && return 0
		sleep 0.1
	done
	echo "# nothing listens on port $1" >&2
	return 1
}

# Waits until nothing accepts on PORT any more (after a kill).
wait_port_closed() { # port
	local i
	for i in $(seq 1 50); do
		python3 -c "import socket; socket.create_connection(('127.0.0.1', $1), 0.2).close()" \
			2>/dev/null || return 0
		sleep 0.1
	done
	return 1
}

stop_servers() {
	local p
	for p in "${health_pids[@]}"; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	health_pids=()
}

# Serves DIR over HTTP; requests are logged to $work/http.log.
start_http() { # dir port
	python3 -m http.server --bind 127.0.0.1 --directory "$1" "$2" \
		>>"$work/http.log" 2>&1 &
	health_pids+=($!)
	wait_port "$2"
}

# openssl's own OCSP responder over INDEX, signing with SIGNER.{crt,key}.
# Readiness comes from its log: it serves one connection at a time and
# waits on an idle one, so a connect-and-close probe would stall it.
start_ocsp() { # pki index signer port
	local log=$work/ocsp.$4.log i
	: >"$log"
	openssl ocsp -index "$1/$2" -CA "$1/inter.crt" -rsigner "$1/$3.crt" \
		-rkey "$1/$3.key" -port "$4" -ndays 1 >>"$log" 2>&1 &
	health_pids+=($!)
	for i in $(seq 1 50); do
		grep -q "waiting for OCSP client connections" "$log" && return 0
		sleep 0.1
	done
	cat "$log" >&2
	return 1
}

# A responder that answers every POST with 200 and bytes that are not OCSP.
start_junk_responder() { # port
	python3 - "$1" >>"$work/junk.log" 2>&1 <<-'EOF' &
	import http.server, sys
	class H(http.server.BaseHTTPRequestHandler):
	    def do_POST(self):
	        self.rfile.read(int(self.headers.get("Content-Length", 0)))
	        body = b"<html>this is not an OCSP response</html>"
	        self.send_response(200)
	        self.send_header("Content-Type", "application/ocsp-response")
	        self.send_header("Content-Length", str(len(body)))
	        self.end_headers()
	        self.wfile.write(body)
	http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
	EOF
	health_pids+=($!)
	wait_port "$1"
}

# Accepts connections and never answers (a hung responder).
start_silent_responder() { # port
	python3 - "$1" >>"$work/silent.log" 2>&1 <<-'EOF' &
	import socket, sys, time
	s = socket.socket()
	s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
	s.bind(("127.0.0.1", int(sys.argv[1])))
	s.listen(16)
	held = []
	while True:
	    c, _ = s.accept()
	    held.append(c)
	EOF
	health_pids+=($!)
	wait_port "$1"
}

# Real TLS 1.2 handshakes on loopback for `analyze`: capture_start runs
# tcpdump into PCAP, each capture_handshake one openssl s_server (serving
# LEAF's chain of the PKI) and one s_client asking for LEAF by name,
# capture_stop ends tcpdump once the connections' FINs are in the file.
capture_start() { # pcap port
	local i
	cap_file=$1 cap_port=$2 cap_fins=0
	tcpdump -i lo -U -w "$cap_file" "tcp port $cap_port" 2>"$work/tcpdump.log" &
	cap_pid=$!
	health_pids+=("$cap_pid")
	for i in $(seq 1 50); do
		grep -qs "listening on" "$work/tcpdump.log" && break
		sleep 0.1
	done
}

capture_handshake() { # pki leaf
	local key=$1/$2.key chain=$1/$2.chain.pem log=$work/s_server.$2.log pid i
	# Readiness from its log: a connect-and-close probe would use up -naccept.
	timeout 30 openssl s_server -accept "127.0.0.1:$cap_port" -cert "$chain" \
		-key "$key" -cert_chain "$chain" -tls1_2 -naccept 1 -rev >"$log" 2>&1 </dev/null &
	pid=$!
	for i in $(seq 1 50); do
		grep -q ACCEPT "$log" && break
		sleep 0.1
	done
	echo hello | timeout 10 openssl s_client -connect "127.0.0.1:$cap_port" \
		-servername "$2" -tls1_2 >"$work/s_client.$2.log" 2>&1
	wait "$pid"
	cap_fins=$((cap_fins + 2))
}

capture_stop() {
	local i
	# tcpdump writes what it has read; wait (at most 5 s) until the last
	# connection's FINs are in the file.
	for i in $(seq 1 50); do
		[ "$(tcpdump -nr "$cap_file" 'tcp[tcpflags] & tcp-fin != 0' 2>/dev/null |
			wc -l)" -ge "$cap_fins" ] && break
		sleep 0.1
	done
	kill -INT "$cap_pid"
	wait "$cap_pid"
}

# What `analyze --json` says of the revocation of the leaves served for
# SNIS (space-separated): one line per cert event of those names,
# "sni method/status[/reason][ stale_since T] kinds[ per CRL]" where CRL is
# the file name (or URL's last part) the revoked finding's detail names.
# stderr goes to $work/analyze.err.
crl_verdicts() { # snis, analyze args...
	local snis=$1
	shift
	timeout 60 "$TW" analyze --json "$@" 2>"$work/analyze.err" | python3 -c '
import json, re, sys
for l in sys.stdin:
    e = json.loads(l)
    if e["event"] != "cert" or e["sni"] not in sys.argv[1].split():
        continue
    r = e.get("revocation")
    v = "-" if r is None else r["method"] + "/" + r["status"]
    if r and "reason" in r:
        v += "/" + r["reason"]
    if r and "stale_since" in r:
        v += " stale_since " + r["stale_since"]
    line = [e["sni"], v, ",".join(f["kind"] for f in e["findings"]) or "-"]
    for f in e["findings"]:
        m = re.search(r" per CRL (\S+)", f["detail"]) if f["kind"] == "revoked" else None
        if m:
            line += ["per", m.group(1).rsplit("/", 1)[-1]]
    print(*line)
' "$snis"
}

# crl_expect NAME WANT SNIS ANALYZE_ARGS...: one TAP line, crl_verdicts'
# output against WANT; both and analyze's stderr shown when they differ.
crl_expect() {
	local name=$1 want=$2 got
	shift 2
	got=$(crl_verdicts "$@")
	check "$name" test "$got" = "$want"
	[ "$got" = "$want" ] || {
		echo "# want:"; echo "$want" | sed 's/^/#   /'
		echo "# got:"; echo "$got" | sed 's/^/#   /'
		sed 's/^/# stderr: /' "$work/analyze.err"
	}
}

make_pki() { # dir http_port|none ocsp_port|none
	scripts/make-health-pki.sh "$1" "$2" "$3" >"$work/pki.log" 2>&1 ||
		{ cat "$work/pki.log"; echo "not ok - making the PKI"; exit 1; }
}

fp() { # pki name
	cat "$1/fp/$2"
}

# jq-like assertions with python3: q FILE 'python expression' where
# `ev` is the list of JSON events, and checks(), updates(), problems()
# filter it. Prints the events when the expression is false.
q() { # file expr
	python3 - "$1" "$2" <<-'EOF'
	import json, sys
	ev = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
	def checks(): return [e for e in ev if e["event"] == "check"]
	def updates(): return [e for e in ev if e["event"] == "update"]
	def problems(): return [e["message"] for e in ev if e["event"] == "problem"]
	def flushes(): return [e for e in ev if e["event"] == "flush"]
	def last(): return [e for e in ev if e["event"] in ("check", "update")][-1]
	def final(sha): return [e for e in ev if e["event"] in ("check", "update") and e["sha256"] == sha][-1]
	def kinds(e): return [f["kind"] for f in e["findings"]]
	def detail(e, k): return [f["detail"] for f in e["findings"] if f["kind"] == k][0]
	ok = eval("(" + sys.argv[2] + ")")
	if not ok:
	    print("# expected: " + sys.argv[2])
	    for e in ev:
	        print("#   " + json.dumps(e))
	sys.exit(0 if ok else 1)
	EOF
}

health_done() {
	[ "$health_failed" -eq 0 ]
}
