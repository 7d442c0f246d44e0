# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# Helpers for the uprobe tests and benchmark (sourced after lib_netns.sh):
# the agent inside the namespace, where the server's packets leave from,
# and an nginx configuration in a scratch directory.

# The checks and setup a uprobe test starts with: root, COMMANDS, the
# built tool, $tmp and the test PKI in $pki (tn_begin_with_pki); PY the
# python to run helpers with; then tn_setup TAG, the server's address in
# $srv.
up_begin() { # test name, namespace tag, commands...
	local name=$1 tag=$2
	shift 2
	tn_begin_with_pki "$name" "$@"
	PY=/usr/bin/python3
	tn_setup "$tag"
	srv=$TN_PEER4
}

# `openssl s_server -quiet` in $TN_NS on $srv:PORT with OPTIONS more, its
# output in LOG, its stdin held open on fd 7 (at the end of its input it
# would stop reading from the terminal and close at once); waits until it
# listens (bails otherwise). Sets UP_S_SERVER_PID.
up_start_s_server() { # port, log, options...
	local port=$1 log=$2
	shift 2
	# shellcheck disable=SC2154 # $tmp: up_begin's (tn_begin_with_pki)
	rm -f "$tmp/server.in"
	mkfifo "$tmp/server.in"
	ip netns exec "$TN_NS" openssl s_server -quiet -accept "$srv:$port" "$@" \
		<"$tmp/server.in" >"$log" 2>&1 &
	UP_S_SERVER_PID=$!
	tn_bg "$UP_S_SERVER_PID"
	exec 7>"$tmp/server.in"
	tn_wait_listen 10 "$port" || tn_bail "openssl s_server on port $port did not start"
}

# `tlswatch run --uprobes MODE` in $TN_NS on $TN_PEER_IF, port 443, its
# JSON log in LOG (stderr in LOG.stderr), with OPTIONS more; waits for
# "started" (bails otherwise). Sets AGENT_PID.
up_start_agent() { # log, mode, options...
	local log=$1 mode=$2
	shift 2
	: >"$log"
	ip netns exec "$TN_NS" "${BUILD:-build}/tlswatch" run --iface "$TN_PEER_IF" --port 443 \
		--uprobes "$mode" --no-active-check --no-metrics --db "${TMPDIR:-/tmp}/tlswatch-e2e.$$/inventory.db" \
		--json-log "$log" "$@" 2>"$log.stderr" &
	AGENT_PID=$!
	tn_bg "$AGENT_PID"
	tn_wait_grep 15 '"state":"started"' "$log" ||
		{ sed 's/^/#   /' "$log.stderr"; tn_bail "the agent did not start"; }
}

# nginx (one worker, in the foreground) in $TN_NS with DIR/nginx.conf made
# of its boilerplate and the server block read from standard input; waits
# until it listens on 443. Sets NGINX_PID.
up_start_nginx() { # dir
	local dir=$1
	mkdir -p "$dir/logs"
	{
		cat <<EOC
worker_processes 1;
daemon off;
pid $dir/nginx.pid;
error_log $dir/logs/error.log;
events { worker_connections 1024; }
http {
	access_log off;
	client_body_temp_path $dir/body;
	proxy_temp_path $dir/proxy;
	fastcgi_temp_path $dir/fastcgi;
	uwsgi_temp_path $dir/uwsgi;
	scgi_temp_path $dir/scgi;
EOC
		cat
		echo "}"
	} >"$dir/nginx.conf"
	ip netns exec "$TN_NS" nginx -p "$dir" -c "$dir/nginx.conf" >"$dir/stdout" 2>&1 &
	NGINX_PID=$!
	tn_bg "$NGINX_PID"
	tn_wait_listen 10 443 ||
		{ sed 's/^/#   /' "$dir/logs/error.log"; tn_bail "nginx did not start"; }
}

# How many entries of the kernel map named MAP of the agent AGENT are of
# process PID (the tgid in their key or their value): per process, where
# the map, like the counters, is shared by every process using the
# hooked library.
up_map_entries_of() { # agent pid, map name, pid
	tn_agent_map_dump "$1" "$2" | "${PY:-python3}" -c 'import json, sys
n = 0
for doc in sys.stdin:
    for e in json.loads(doc):
        f = e.get("formatted", e)
        n += any(isinstance(f[p], dict) and f[p].get("tgid") == int(sys.argv[1])
                 for p in ("key", "value"))
print(n)' "$3"
}

# Of the pending map (tw_up_pending: the chains, alerts and ALPN
# protocols waiting for the packet that names their connection): what
# process PID's TLS library calls left for a server packet to carry.
up_pending_of() { # agent pid, pid
	up_map_entries_of "$1" tw_up_pending "$2"
}

# Builds the OpenSSL test server tests/e2e/lib/NAME.c into DIR/NAME
# (bails otherwise).
up_build_server() { # name, dir
	"${CC:-cc}" -O2 -Wall -Wextra -Werror -o "$2/$1" "tests/e2e/lib/$1.c" -lssl -lcrypto ||
		tn_bail "building tests/e2e/lib/$1.c failed"
}

# Builds tests/e2e/lib/ssl_clear_server.c into DIR/ssl_clear_server
# (bails otherwise); up_start_ssl_clear_server runs that one.
up_build_ssl_clear_server() { # dir
	UP_SSL_CLEAR_SERVER=$1/ssl_clear_server
	up_build_server ssl_clear_server "$1"
}

# A client certificate "proxy client" signed by PKI's root (which an
# upstream `s_server -Verify 1 -CAfile root.crt` trusts) into DIR/client.crt
# and DIR/client.key (bails otherwise).
up_make_client_cert() { # pki, dir
	local pki=$1 dir=$2
	if ! { openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-subj "/CN=proxy client" -keyout "$dir/client.key" -out "$dir/client.csr" \
		>"$dir/client.req.log" 2>&1 &&
		openssl x509 -req -in "$dir/client.csr" -CA "$pki/root.crt" -CAkey "$pki/root.key" \
			-days 2 -out "$dir/client.crt" >>"$dir/client.req.log" 2>&1; }; then
		sed 's/^/#   /' "$dir/client.req.log"
		tn_bail "making the client certificate failed"
	fi
}

# ssl_clear_server in $TN_NS on $TN_PEER4:443 with PKI's ecdsa.test, for
# N connections (and its UPSTREAM_PORT, see ssl_clear_server.c), stderr
# in ERR; waits until it listens (bails otherwise). Sets UP_SERVER_PID.
up_start_ssl_clear_server() { # pki, err, n [upstream port]
	local pki=$1 err=$2
	shift 2
	ip netns exec "$TN_NS" "$UP_SSL_CLEAR_SERVER" "$TN_PEER4" 443 "$pki/ecdsa.test.crt" \
		"$pki/ecdsa.test.key" "$@" 2>"$err" &
	UP_SERVER_PID=$!
	tn_bg "$UP_SERVER_PID"
	tn_wait_listen 10 443 || tn_bail "ssl_clear_server did not start"
}
