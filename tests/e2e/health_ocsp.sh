#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Online OCSP checks against real responders on loopback (in a private
# network namespace): openssl's responder answering good, revoked and
# unknown; the answer cached; a responder that is down, one that signs
# with the wrong key, one that answers garbage and one that never answers
# (status unknown and a problem report each, never a hang); no query for
# a chain that does not reach the trust store.
set -u
cd "$(dirname "$0")/../.."
. tests/e2e/lib/health.sh
health_setup "$0" "$@"

ocsp_port=$(free_port)
pki=$work/pki
make_pki "$pki" none "$ocsp_port"
url="http://127.0.0.1:$ocsp_port"
base=(--ca-file "$pki/root.crt" --online --flush 10000)

run_probe() { # out, probe args...
	local out=$1
	shift
	local rc=0
	timeout 60 "$probe" "$@" >"$out" 2>"$out.err" || rc=$?
	[ "$rc" -eq 0 ] || { sed 's/^/# /' "$out.err"; not_ok "probe $* exited with $rc"; }
}

# --- a responder that works
start_ocsp "$pki" inter-index.txt inter "$ocsp_port" || exit 1
run_probe "$work/up.json" "${base[@]}" --sni good.test "$pki/good.test.chain.pem" \
	"$pki/good.test.chain.pem" "$pki/revoked.test.chain.pem" \
	"$pki/unknown.test.chain.pem"
good=$(fp "$pki" good.test) revoked=$(fp "$pki" revoked.test) unknown=$(fp "$pki" unknown.test)

check "first check of a leaf is pending, with no answer yet" q "$work/up.json" \
	"checks()[0]['pending'] and checks()[0]['revocation'] == {'status': 'unknown'}"
check "responder says good" q "$work/up.json" \
	"[u['revocation']['method'] + '/' + u['revocation']['status'] + '/' + u['sources']
	  for u in updates() if u['sha256'] == '$good'] == ['ocsp/good/responder says good']"
check "the answer is cached: the second check is not pending" q "$work/up.json" \
	"not checks()[1]['pending'] and checks()[1]['revocation']['status'] == 'good'
	 and checks()[1]['revocation']['method'] == 'ocsp'"
check "responder says revoked: revoked finding with reason" q "$work/up.json" \
	"[(kinds(u), u['revocation']['reason'], detail(u, 'revoked').startswith('leaf revoked at '),
	   detail(u, 'revoked').endswith('(keyCompromise) per responder $url'))
	  for u in updates() if u['sha256'] == '$revoked'] == [(['revoked'], 'keyCompromise', True, True)]"
check "responder says unknown: unknown, no finding" q "$work/up.json" \
	"[(u['revocation']['method'], u['revocation']['status'], u['sources'], u['findings'])
	  for u in updates() if u['sha256'] == '$unknown']
	 == [('ocsp', 'unknown', 'responder says unknown', [])]"
check "a working responder reports no problem" q "$work/up.json" "problems() == []"
check "nothing left pending" q "$work/up.json" "flushes()[-1]['pending'] == 0"

# --- no query for a chain that does not reach the trust store
run_probe "$work/untrusted.json" --ca-file "$pki/evil.crt" --online --flush 3000 \
	"$pki/good.test.chain.pem"
check "untrusted chain: its responder is not queried" q "$work/untrusted.json" \
	"not checks()[0]['pending'] and updates() == [] and problems() == []
	 and checks()[0]['sources'] == 'no CRL or responder answer'"
stop_servers

# --- a responder that is down
wait_port_closed "$ocsp_port"
run_probe "$work/down.json" "${base[@]}" "$pki/good.test.chain.pem"
check "responder down: status unknown" q "$work/down.json" \
	"updates()[0]['revocation'] == {'method': 'ocsp', 'status': 'unknown'}
	 and updates()[0]['sources'].startswith('responder failed (') and updates()[0]['findings'] == []"
check "responder down: a problem report naming it" q "$work/down.json" \
	"len(problems()) == 1 and problems()[0].startswith('OCSP responder $url: ')
	 and 'onnect' in problems()[0]"
check "responder down: answered fast" q "$work/down.json" "flushes()[0]['ms'] < 2000"

# --- a responder whose answers are signed by another key
start_ocsp "$pki" inter-index.txt evil "$ocsp_port" || exit 1
run_probe "$work/evil.json" "${base[@]}" "$pki/revoked.test.chain.pem"
check "wrong-key answer: not believed, unknown" q "$work/evil.json" \
	"updates()[0]['revocation'] == {'method': 'ocsp', 'status': 'unknown'} and updates()[0]['findings'] == []"
check "wrong-key answer: a problem report" q "$work/evil.json" \
	"problems() == ['OCSP responder $url: signature does not verify with the issuer\\'s key or a responder it authorised']"
stop_servers

# --- a responder that answers garbage
wait_port_closed "$ocsp_port"
start_junk_responder "$ocsp_port" || exit 1
run_probe "$work/junk.json" "${base[@]}" "$pki/good.test.chain.pem"
check "garbage answer: unknown, no crash" q "$work/junk.json" \
	"updates()[0]['revocation'] == {'method': 'ocsp', 'status': 'unknown'}"
check "garbage answer: a problem report" q "$work/junk.json" \
	"problems() == ['OCSP responder $url: not a DER OCSP response']"
stop_servers

# --- a responder that never answers: the timeout ends it
wait_port_closed "$ocsp_port"
start_silent_responder "$ocsp_port" || exit 1
run_probe "$work/silent.json" "${base[@]}" --timeout-ms 800 "$pki/good.test.chain.pem"
check "hung responder: unknown after the timeout" q "$work/silent.json" \
	"updates()[0]['revocation'] == {'method': 'ocsp', 'status': 'unknown'}
	 and 'timed out' in problems()[0]"
check "hung responder: the wait is bounded by --timeout-ms" q "$work/silent.json" \
	"600 <= flushes()[0]['ms'] < 3000"
# Two queries, one worker: they run one after the other; two workers: side by side.
run_probe "$work/one.json" "${base[@]}" --timeout-ms 800 --flush 0 --concurrency 1 \
	"$pki/good.test.chain.pem" "$pki/revoked.test.chain.pem"
check "--concurrency 1: queries wait for the one worker" q "$work/one.json" \
	"len(problems()) == 2 and 1500 <= flushes()[-1]['ms'] < 4000"
run_probe "$work/two.json" "${base[@]}" --timeout-ms 800 --flush 0 --concurrency 2 \
	"$pki/good.test.chain.pem" "$pki/revoked.test.chain.pem"
check "--concurrency 2: two queries at once" q "$work/two.json" \
	"len(problems()) == 2 and 600 <= flushes()[-1]['ms'] < 1500"
# Shutting down while a query hangs: the worker is stopped, not waited for.
t0=$(date +%s%N)
run_probe "$work/close.json" "${base[@]}" --timeout-ms 5000 --flush 1 \
	"$pki/good.test.chain.pem"
t1=$(date +%s%N)
check "closing while a query hangs takes well under the timeout" \
	test $(((t1 - t0) / 1000000)) -lt 3000
stop_servers

health_done
