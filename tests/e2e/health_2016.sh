#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The 2016 replay with a real responder on loopback (in a private network
# namespace): the CA's responder says "revoked" for a valid certificate
# and the server staples that answer while the CRL says good; then the
# responder is fixed but the stapled answer lives on (the disagreement,
# both answers named); then the cached staple goes stale.
set -u
cd "$(dirname "$0")/../.."
. tests/e2e/lib/health.sh
health_setup "$0" "$@"

ocsp_port=$(free_port)
pki=$work/pki
make_pki "$pki" none "$ocsp_port"
url="http://127.0.0.1:$ocsp_port"
good=$(fp "$pki" good.test)
base=(--ca-file "$pki/root.crt" --crl "$pki/crl/inter.pem" --online --flush 10000
      --sni good.test)

run_probe() { # out, probe args...
	local out=$1 rc=0
	shift
	timeout 60 "$probe" "$@" >"$out" 2>"$out.err" || rc=$?
	[ "$rc" -eq 0 ] || { sed 's/^/# /' "$out.err"; not_ok "probe $* exited with $rc"; }
}

# --- the mix-up: the responder (and so the staple) says revoked
start_ocsp "$pki" index-bad.txt inter "$ocsp_port" || exit 1
run_probe "$work/mixup.json" "${base[@]}" --staple "$pki/ocsp/good-revoked.der" \
	"$pki/good.test.chain.pem"
check "mix-up: revoked (responder) and revoked_staple" q "$work/mixup.json" \
	"kinds(final('$good')) == ['revoked', 'revoked_staple']
	 and detail(final('$good'), 'revoked') == 'leaf revoked at 2025-03-01T00:00:00Z (keyCompromise) per responder $url'"
check "mix-up: the staple finding says the CRL disagrees" q "$work/mixup.json" \
	"detail(final('$good'), 'revoked_staple').startswith('staple says revoked at 2025-03-01T00:00:00Z (keyCompromise), this_update ')
	 and detail(final('$good'), 'revoked_staple').endswith('; CRL says good, responder says revoked')"
stop_servers

# --- the responder is fixed, the stapled answer is not
start_ocsp "$pki" inter-index.txt inter "$ocsp_port" || exit 1
run_probe "$work/fixed.json" "${base[@]}" --staple "$pki/ocsp/good-revoked.der" \
	"$pki/good.test.chain.pem"
check "fixed responder: revoked_staple only, both answers named" q "$work/fixed.json" \
	"kinds(final('$good')) == ['revoked_staple']
	 and detail(final('$good'), 'revoked_staple').endswith('; CRL says good, responder says good')"
check "fixed responder: the CA's answer is good" q "$work/fixed.json" \
	"final('$good')['revocation']['method'] == 'ocsp' and final('$good')['revocation']['status'] == 'good'"

# --- two days later the cached staple is past its next_update
run_probe "$work/stale.json" "${base[@]}" --staple "$pki/ocsp/good-revoked.der" \
	"$pki/good.test.chain.pem@+172800"
check "stale staple: stale_staple next to revoked_staple" q "$work/stale.json" \
	"kinds(final('$good')) == ['revoked_staple', 'stale_staple']"
check "stale staple: the detail names both answers" q "$work/stale.json" \
	"detail(final('$good'), 'stale_staple').startswith('staple next_update ')
	 and detail(final('$good'), 'stale_staple').endswith('; staple says revoked, responder says good')"

# --- a good staple older than --staple-max-age
run_probe "$work/age.json" "${base[@]}" --staple "$pki/ocsp/good-good.der" \
	--staple-max-age 60 "$pki/good.test.chain.pem@+3600"
check "staple older than --staple-max-age is stale" q "$work/age.json" \
	"kinds(final('$good')) == ['stale_staple']
	 and detail(final('$good'), 'stale_staple').endswith(' s old (this_update ' + detail(final('$good'), 'stale_staple').split('this_update ')[1].split(',')[0] + ', limit 60 s); staple says good')"
check "a responder that answers reports no problem" q "$work/age.json" "problems() == []"
run_probe "$work/fresh.json" "${base[@]}" --staple "$pki/ocsp/good-good.der" \
	"$pki/good.test.chain.pem"
check "fresh good staple, good responder: no finding" q "$work/fresh.json" \
	"final('$good')['findings'] == [] and final('$good')['revocation']['status'] == 'good'"
stop_servers

health_done
