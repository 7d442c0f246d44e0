#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# CRLs fetched from the certificates' distribution points, served by a real
# HTTP server on loopback (in a private network namespace): a revoked
# leaf, a good one, a revoked intermediate, the download cached, and a
# forged CRL, a garbage one and a server that is down (never believed,
# never a hang, a problem report each).
set -u
cd "$(dirname "$0")/../.."
. tests/e2e/lib/health.sh
health_setup "$0" "$@"

http_port=$(free_port)
pki=$work/pki
make_pki "$pki" "$http_port" none
url="http://127.0.0.1:$http_port"
base=(--ca-file "$pki/root.crt" --online --flush 10000)

run_probe() { # out, probe args...
	local out=$1
	shift
	local rc=0
	timeout 60 "$probe" "$@" >"$out" 2>"$out.err" || rc=$?
	[ "$rc" -eq 0 ] || { sed 's/^/# /' "$out.err"; not_ok "probe $* exited with $rc"; }
}
good=$(fp "$pki" good.test) revoked=$(fp "$pki" revoked.test)
victim=$(fp "$pki" victim.test)

# --- the CA's CRLs, as published
start_http "$pki/www" "$http_port" || exit 1
run_probe "$work/up.json" "${base[@]}" "$pki/revoked.test.chain.pem" \
	"$pki/good.test.chain.pem" "$pki/good.test.chain.pem" "$pki/victim.test.chain.pem"
check "a leaf listed in the downloaded CRL is revoked" q "$work/up.json" \
	"[(u['revocation']['method'], u['revocation']['status'], u['revocation']['reason'],
	   detail(u, 'revoked').endswith('(keyCompromise) per CRL $url/inter.crl'))
	  for u in updates() if u['sha256'] == '$revoked'] == [('crl', 'revoked', 'keyCompromise', True)]"
check "a leaf the CRL does not list is good" q "$work/up.json" \
	"(final('$good')['revocation']['method'], final('$good')['revocation']['status'],
	  final('$good')['sources'], final('$good')['findings']) == ('crl', 'good', 'CRL says good', [])"
check "the CRL downloaded for one leaf serves the next ones at once" q "$work/up.json" \
	"[c['pending'] for c in checks() if c['sha256'] == '$good'] == [False, False]"
check "a revoked intermediate is reported and named" q "$work/up.json" \
	"kinds(final('$victim')) == ['revoked']
	 and detail(final('$victim'), 'revoked').startswith('intermediate CN=Health Test Revoked Intermediate,O=tlswatch test revoked at ')
	 and detail(final('$victim'), 'revoked').endswith('(keyCompromise) per CRL $url/root.crl')"
check "each CRL was downloaded once" \
	test "$(grep -c 'GET /inter.crl' "$work/http.log")" -eq 1
check "no problem with a working server" q "$work/up.json" "problems() == []"
stop_servers

# --- a forged CRL (inter's name, another key) at the distribution point
mkdir -p "$work/forged"
cp "$pki/www/root.crl" "$work/forged/"
openssl crl -in "$pki/crl/evil.crl" -outform DER -out "$work/forged/inter.crl"
wait_port_closed "$http_port"
start_http "$work/forged" "$http_port" || exit 1
run_probe "$work/forged.json" "${base[@]}" "$pki/revoked.test.chain.pem"
check "a forged CRL does not revoke" q "$work/forged.json" \
	"checks()[0]['pending'] and updates() == [] and flushes()[0]['pending'] == 0
	 and checks()[0]['revocation'] == {'status': 'unknown'}"
stop_servers

# --- garbage where the CRL should be
mkdir -p "$work/junk"
cp "$pki/www/root.crl" "$work/junk/"
echo "<html>moved</html>" >"$work/junk/inter.crl"
wait_port_closed "$http_port"
start_http "$work/junk" "$http_port" || exit 1
run_probe "$work/junk.json" "${base[@]}" "$pki/revoked.test.chain.pem"
check "a garbage CRL download: unknown, a problem report" q "$work/junk.json" \
	"problems() == ['CRL $url/inter.crl: not a CRL (neither DER nor PEM)']
	 and updates() == [] and flushes()[0]['pending'] == 0"
stop_servers

# --- the server is down
wait_port_closed "$http_port"
run_probe "$work/down.json" "${base[@]}" "$pki/good.test.chain.pem"
check "CRL server down: unknown, a problem report per URL" q "$work/down.json" \
	"sorted(p.split(': ')[0] for p in problems()) == ['CRL $url/inter.crl', 'CRL $url/root.crl']
	 and all('onnect' in p for p in problems()) and updates() == []"
check "CRL server down: answered fast" q "$work/down.json" "flushes()[0]['ms'] < 2000"

health_done
