#!/usr/bin/env bash
# Least privilege of the live agent, two ways:
#  1. as root with every capability and umask 000: after attaching, each of
#     its threads (the /metrics server's, libcurl's and our workers') keeps
#     exactly the documented capabilities, bounding set included, with
#     no_new_privs; the inventory (default path), its -wal/-shm and the
#     event log are created 0640 whatever the caller's umask.
#  2. under the hardening of scripts/tlswatch.service. PID 1 is not systemd
#     here (a container), so `systemd-run` cannot apply the unit's
#     properties; the same effect is built by hand: a private mount
#     namespace (unshare -m) where everything is read-only but
#     /var/lib/tlswatch and /var/log/tlswatch (ProtectSystem=strict with
#     StateDirectory/LogsDirectory, ProtectKernelTunables,
#     ProtectControlGroups), a /proc of processes only where others' are
#     invisible (ProtectProc=invisible, ProcSubset=pid), a /dev of
#     pseudo-devices (PrivateDevices), an empty read-only /home and /root
#     (ProtectHome), a private /tmp (PrivateTmp); setpriv for the user,
#     the capabilities (AmbientCapabilities, CapabilityBoundingSet) and
#     NoNewPrivileges; and tests/e2e/lib/seccomp_exec.py for the seccomp
#     side (SystemCallFilter=@system-service bpf, MemoryDenyWriteExecute,
#     RestrictAddressFamilies, RestrictNamespaces, LockPersonality). Not
#     reproduced: ProtectClock's device rule, ProtectKernelModules/Logs
#     beyond the call filter, the cgroup limit (MemoryMax).
# Both attach, report a real TLS handshake, reload on SIGHUP (nothing is
# attached again) and detach on SIGTERM with what they kept. 3. An agent
# that cannot drop detaches and exits 4.
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
. tests/e2e/lib_netns.sh

# --- the unit: its exposure, and the README's table is today's --------------
tn_require_cmds systemd-analyze
security=$(systemd-analyze security --offline=true --no-pager scripts/tlswatch.service 2>&1 |
	sed 's/[[:space:]]*$//')
exposure=$(printf '%s\n' "$security" | sed -n 's/^.*Overall exposure level for tlswatch.service: \([0-9.]*\) .*/\1/p')
if [ -n "$exposure" ] && awk -v e="$exposure" 'BEGIN { exit !(e <= 2.0) }'; then
	tap_ok "systemd-analyze security: exposure $exposure <= 2.0"
else
	tap_fail "systemd-analyze security: exposure <= 2.0" "$security"
fi
tap_eq "README: the systemd-analyze security table is the current one" "$security" \
	"$(sed -n '/^<!-- systemd-analyze security: begin -->$/,/^<!-- systemd-analyze security: end -->$/p' README.md |
		sed '1,2d;$d' | sed '$d')"
verify_dir=$(mktemp -d)
verify_unit=$verify_dir/tlswatch.service
tn_on_exit "rm -rf '$verify_dir'"
sed "s|^ExecStart=/usr/local/bin/tlswatch |ExecStart=$PWD/$BUILD/tlswatch |" scripts/tlswatch.service >"$verify_unit"
tap_check "systemd-analyze verify: the unit is valid" systemd-analyze verify --man=no "$verify_unit"

# No shell-outs: nothing in the C code runs another program.
tap_eq "no system/popen/exec*/fork/posix_spawn in the C code" "" \
	"$(grep -rnE '\b(system|popen|execl|execlp|execle|execv|execvp|execvpe|execve|fexecve|posix_spawnp?|fork|vfork)[[:space:]]*\(' userspace/ bpf/ |
		grep -vE '^[^:]+:[0-9]+:[[:space:]]*(/?\*|//)')"  # prose in comments ("file system (...)") is no call

tn_require_root live_hardened
tn_require_cmds openssl setpriv unshare mount findmnt ip tc
tn_require_tlswatch
/usr/bin/python3 -c 'import seccomp' 2>/dev/null ||
	tn_bail "missing Python module seccomp (python3-seccomp; run scripts/install-deps.sh)"

top=$PWD
tmp=$(tn_tmpdir)
chmod 755 "$tmp"
tn_make_pki "$tmp/pki"
tn_setup hard
tn_start_rsa_server "$tmp/pki"

# What the agent keeps (README "Security"): CAP_NET_ADMIN (bit 12) always;
# CAP_BPF (bit 39) only where a bpf() call on a map it holds still needs it:
# kernels before 6.5 with kernel.unprivileged_bpf_disabled set.
kept_caps() {
	local v major minor
	v=$(uname -r)
	major=${v%%.*} minor=${v#*.}
	minor=${minor%%[!0-9]*}
	if [ "$major" -gt 6 ] || { [ "$major" -eq 6 ] && [ "$minor" -ge 5 ]; } ||
		[ "$(cat /proc/sys/kernel/unprivileged_bpf_disabled)" = 0 ]; then
		echo 0000000000001000
	else
		echo 0000008000001000
	fi
}
KEPT=$(kept_caps)

# The distinct values of FIELD over every thread of PID.
thread_field() { # pid, field
	cat /proc/"$1"/task/*/status 2>/dev/null | sed -n "s/^$2:[[:space:]]*//p" | sort -u
}

check_threads() { # what, pid, expected bounding set
	local what=$1 pid=$2 bnd=$3 n
	n=$(ls /proc/"$pid"/task | wc -l)
	if [ "$n" -ge 7 ]; then
		tap_ok "$what: $n threads to check"
	else
		tap_fail "$what: at least 7 threads (main, /metrics, active check, 4 HTTP workers)" "got $n"
	fi
	tap_eq "$what: CapEff of every thread" "$KEPT" "$(thread_field "$pid" CapEff)"
	tap_eq "$what: CapPrm of every thread" "$KEPT" "$(thread_field "$pid" CapPrm)"
	tap_eq "$what: CapInh, CapAmb of every thread" "0000000000000000" \
		"$(thread_field "$pid" 'Cap\(Inh\|Amb\)')"
	tap_eq "$what: CapBnd of every thread" "$bnd" "$(thread_field "$pid" CapBnd)"
	tap_eq "$what: NoNewPrivs of every thread" 1 "$(thread_field "$pid" NoNewPrivs)"
}

# One TLS 1.2 handshake through the watched interface, seen by the agent.
check_reports() { # what, log
	tn_rsa_handshake
	if tn_wait_grep 10 '"event":"handshake".*"sni":"rsa.test".*"outcome":"ok"' "$2"; then
		tap_ok "$1: reports the TLS 1.2 handshake"
	else
		tap_fail "$1: reports the TLS 1.2 handshake" "$(cat "$2")"
	fi
}

# SIGHUP reloads (nothing attached again), SIGTERM detaches: exit 0, no
# filter left.
check_reload_and_detach() { # what, pid, log, stderr
	local what=$1 pid=$2 log=$3 rc
	kill -HUP "$pid"
	if tn_wait_grep 10 '"state":"config_reloaded"' "$log"; then
		tap_ok "$what: SIGHUP reloads"
	else
		tap_fail "$what: SIGHUP reloads" "$(cat "$4")"
	fi
	kill -TERM "$pid"
	for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	wait "$pid"
	rc=$?
	tap_eq "$what: exits 0 on SIGTERM" 0 "$rc"
	tap_eq "$what: attached once, detached" "1|1" \
		"$(grep -c '^tlswatch run: attached to' "$4")|$(grep -c '^tlswatch run: detached' "$4")"
	tap_eq "$what: no filter left" "" \
		"$(tc filter show dev "$TN_HOST_IF" ingress; tc filter show dev "$TN_HOST_IF" egress)"
}

wait_started() { # what, log, stderr
	if tn_wait_grep 15 '"state":"started"' "$2"; then
		tap_ok "$1: attaches"
		return 0
	fi
	tap_fail "$1: attaches" "$(cat "$3")"
	return 1
}

# --- 1. as root, every capability, umask 000 -------------------------------

# The default inventory path, /var/lib/tlswatch/inventory.db, is a scratch
# directory seen through a private mount namespace.
mkdir -m 755 "$tmp/state" "$tmp/logs"
cat >"$tmp/as_root.sh" <<'EOF'
set -e
tmp=$1
shift
mount -t tmpfs -o mode=0755 tmpfs /var/lib
mkdir /var/lib/tlswatch
mount --bind "$tmp/state" /var/lib/tlswatch
umask 000
exec "$@"
EOF
unshare -m --propagation private bash "$tmp/as_root.sh" "$tmp" "$BUILD/tlswatch" run \
	--iface "$TN_HOST_IF" --port 443 --metrics 127.0.0.1:0 \
	--json-log "$tmp/logs/events.jsonl" 2>"$tmp/root.err" &
pid=$!
tn_bg "$pid"
if wait_started "as root" "$tmp/logs/events.jsonl" "$tmp/root.err"; then
	check_threads "as root" "$pid" "$KEPT"
	tap_eq "as root: says what it kept" 1 "$(grep -c '^tlswatch run: capabilities kept: CAP_NET_ADMIN (' "$tmp/root.err")"
	check_reports "as root" "$tmp/logs/events.jsonl"
	# while it runs: the WAL files exist
	tap_eq "as root, umask 000: the files it creates are 0640" \
		"640 events.jsonl
640 inventory.db
640 inventory.db-shm
640 inventory.db-wal" \
		"$(cd "$tmp" && stat -c '%a %n' logs/* state/* | sed 's|[a-z]*/||' | sort -k2)"
	check_reload_and_detach "as root" "$pid" "$tmp/logs/events.jsonl" "$tmp/root.err"
fi

# --- 2. under the unit's hardening ------------------------------------------

tests/e2e/lib/seccomp_exec.py --list @system-service bpf perf_event_open >"$tmp/allow.txt" ||
	tn_bail "cannot expand @system-service with systemd-analyze"
grep -qx bpf "$tmp/allow.txt" && grep -qx execve "$tmp/allow.txt" ||
	tn_bail "the allowed system calls lack bpf or execve"
mkdir -m 750 "$tmp/lib" "$tmp/log"
chown nobody:nogroup "$tmp/lib" "$tmp/log"
cat >"$tmp/hardened.sh" <<'EOF'
set -e
tmp=$1 top=$2
shift 2
allow=$(cat "$tmp/allow.txt")
# The tree may live under /tmp (a clone in CI): keep a handle on it, to
# put it back at its path once /tmp is private.
exec 3<"$top"
# StateDirectory=, LogsDirectory=: the writable places, the service user's
for d in lib log; do
	mount -t tmpfs -o mode=0755 tmpfs /var/$d
	mkdir /var/$d/tlswatch
	mount --bind "$tmp/$d" /var/$d/tlswatch
done
# ProtectSystem=strict, ProtectKernelTunables=, ProtectControlGroups=:
# every other mount read-only (/proc/sys and /sys included)
mount --bind /proc/sys /proc/sys
findmnt -rn -o TARGET | while read -r m; do
	case $m in
	/var/lib/tlswatch | /var/log/tlswatch | /proc | /dev | /dev/*) ;;
	*) mount -o remount,bind,ro "$m" 2>/dev/null || true ;;
	esac
done
if : 2>/dev/null >/hardening-probe || : 2>/dev/null >/proc/sys/kernel/hardening-probe; then
	echo "read-only remount failed" >&2
	exit 99
fi
# ProtectProc=invisible, ProcSubset=pid: a /proc of processes only, ours
mount -t proc -o hidepid=invisible,subset=pid proc /proc
# PrivateDevices=yes: a /dev of pseudo-devices only
mount -t tmpfs -o mode=0755,nosuid,noexec tmpfs /dev
for dev in "null 1 3" "zero 1 5" "full 1 7" "random 1 8" "urandom 1 9" "tty 5 0"; do
	read -r name major minor <<<"$dev"
	mknod -m 666 "/dev/$name" c "$major" "$minor"
done
mkdir /dev/shm
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /dev/shm
# ProtectHome=yes, PrivateTmp=yes
for d in /home /root /run/user; do
	[ -d "$d" ] && mount -t tmpfs -o ro,mode=0755 tmpfs "$d"
done
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t tmpfs -o mode=1777 tmpfs /var/tmp
case $top in
/tmp/* | /var/tmp/*) mkdir -p "$top" && mount --no-canonicalize --bind /proc/self/fd/3 "$top" ;;
esac
exec 3<&-
printf '%s\n' "$allow" >/tmp/allow.txt
umask 000
caps=+bpf,+net_admin,+perfmon
cd /
exec setpriv --reuid=nobody --regid=nogroup --clear-groups --no-new-privs \
	--inh-caps="-all,$caps" --ambient-caps="-all,$caps" --bounding-set="-all,$caps" \
	/usr/bin/python3 "$top/tests/e2e/lib/seccomp_exec.py" /tmp/allow.txt "$@"
EOF
# the unit's ExecStart options, with the test's interface
exec_opts=$(sed -n 's|^ExecStart=/usr/local/bin/tlswatch run ||p' scripts/tlswatch.service)
# shellcheck disable=SC2086 # the unit's options, split as systemd does
unshare -m --propagation private bash "$tmp/hardened.sh" "$tmp" "$top" "$top/$BUILD/tlswatch" run \
	$exec_opts --iface "$TN_HOST_IF" --metrics 127.0.0.1:0 2>"$tmp/hard.err" &
pid=$!
tn_bg "$pid"
log=$tmp/log/events.jsonl
tn_wait_cmd 15 test -s "$log"
if wait_started "hardened" "$log" "$tmp/hard.err"; then
	tap_eq "hardened: in a seccomp filter" 2 "$(sed -n 's/^Seccomp:[[:space:]]*//p' /proc/"$pid"/status)"
	tap_eq "hardened: runs as nobody" "$(id -u nobody)" "$(stat -c %u /proc/"$pid")"
	check_threads "hardened" "$pid" 000000c000001000
	check_reports "hardened" "$log"
	tap_eq "hardened: its files are 0640, the service user's" \
		"640 nobody events.jsonl
640 nobody inventory.db" \
		"$(cd "$tmp" && stat -c '%a %U %n' log/events.jsonl lib/inventory.db | sed 's|[a-z]*/||')"
	check_reload_and_detach "hardened" "$pid" "$log" "$tmp/hard.err"
fi
# --- 3. an agent that cannot drop does not run -------------------------------

# Without /proc/self/task it cannot tell which threads to drop: it detaches
# (with the capabilities it still has) and exits 4.
unshare -m --propagation private bash -c 'mount -t tmpfs tmpfs /proc && exec "$@"' - \
	"$BUILD/tlswatch" run --iface "$TN_HOST_IF" --port 443 --no-online --no-metrics \
	--db "$tmp/nodrop.db" --json-log "$tmp/nodrop.jsonl" 2>"$tmp/nodrop.err"
tap_eq "cannot drop: exit 4, detached, says why" "4|tlswatch run: detached
tlswatch run: dropping capabilities: No such file or directory" "$?|$(cat "$tmp/nodrop.err")"
tap_eq "cannot drop: never started, no filter or qdisc left" "0|" \
	"$(grep -c '"state":"started"' "$tmp/nodrop.jsonl")|$(tc filter show dev "$TN_HOST_IF" ingress
		tc filter show dev "$TN_HOST_IF" egress; tc qdisc show dev "$TN_HOST_IF" | grep clsact)"
[ "$TN_FAILED" -eq 0 ]
