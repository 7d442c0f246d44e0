#!/usr/bin/python3
# The seccomp side of the systemd unit's hardening, for a test harness where
# PID 1 is not systemd (tests/e2e/live_hardened.sh):
#   seccomp_exec.py --list FILTER...      the system calls systemd allows for
#                                         SystemCallFilter=FILTER... (groups
#                                         expanded with systemd-analyze), one
#                                         a line
#   seccomp_exec.py ALLOWED_FILE CMD...   execs CMD under four filters, as
#                                         systemd stacks them:
#     SystemCallFilter=    a call not in ALLOWED_FILE kills the process (SIGSYS)
#     MemoryDenyWriteExecute=  mmap(W|X), mprotect(X), pkey_mprotect(X) and
#                          shmat(SHM_EXEC) fail with EPERM
#     RestrictAddressFamilies=AF_INET AF_INET6 AF_NETLINK AF_UNIX
#                          socket() of any other family fails with EAFNOSUPPORT
#     RestrictNamespaces=yes  clone()/unshare() with a CLONE_NEW* flag and
#                          setns() fail with EPERM, clone3() with ENOSYS
#     LockPersonality=yes  personality() other than PER_LINUX or a query
#                          kills the process (systemd: EPERM)
# no_new_privs must already be set (setpriv --no-new-privs).
import errno
import mmap
import os
import socket
import subprocess
import sys

import seccomp

ALLOWED_FAMILIES = {socket.AF_UNIX, socket.AF_INET, socket.AF_INET6, socket.AF_NETLINK}
AF_MAX = 46                      # every family Linux defines is below
SHM_EXEC = 0o100000
# CLONE_NEWTIME, NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET
CLONE_NEW = (0x80, 0x20000, 0x2000000, 0x4000000, 0x8000000, 0x10000000,
             0x20000000, 0x40000000)
PER_LINUX = 0
PERSONALITY_QUERY = 0xffffffff


def groups():
    """systemd's named groups: name -> members (calls and @groups)."""
    out = subprocess.run(["systemd-analyze", "syscall-filter"], check=True,
                         capture_output=True, text=True).stdout
    table, current = {}, None
    for line in out.splitlines():
        if line.startswith("@"):
            current = table.setdefault(line.strip(), [])
        elif line.startswith(" ") and current is not None:
            word = line.strip()
            if word and not word.startswith("#"):
                current.append(word)
        elif not line.strip():
            current = None
    return table


def expand(names, table, seen=None):
    seen = set() if seen is None else seen
    calls = set()
    for name in names:
        if name.startswith("@"):
            if name in seen:
                continue
            seen.add(name)
            calls |= expand(table[name], table, seen)
        else:
            calls.add(name)
    return calls


def known(name):
    """A call of this architecture (other architectures' resolve < 0)."""
    try:
        return seccomp.resolve_syscall(seccomp.Arch.NATIVE, name) >= 0
    except (ValueError, RuntimeError):
        return False


def allow_list(path):
    f = seccomp.SyscallFilter(defaction=seccomp.KILL_PROCESS)
    with open(path) as names:
        for name in names.read().split():
            if name == "personality":   # LockPersonality=yes
                for persona in (PER_LINUX, PERSONALITY_QUERY):
                    f.add_rule(seccomp.ALLOW, name, seccomp.Arg(0, seccomp.EQ, persona))
            elif known(name):
                f.add_rule(seccomp.ALLOW, name)
    return f


def deny_write_execute():
    f = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
    wx = mmap.PROT_WRITE | mmap.PROT_EXEC
    eperm = seccomp.ERRNO(errno.EPERM)
    f.add_rule(eperm, "mmap", seccomp.Arg(2, seccomp.MASKED_EQ, wx, wx))
    for call in ("mprotect", "pkey_mprotect"):
        f.add_rule(eperm, call, seccomp.Arg(2, seccomp.MASKED_EQ, mmap.PROT_EXEC, mmap.PROT_EXEC))
    f.add_rule(eperm, "shmat", seccomp.Arg(2, seccomp.MASKED_EQ, SHM_EXEC, SHM_EXEC))
    return f


def restrict_namespaces():
    """RestrictNamespaces=yes: no new namespace, no joining one (clone3,
    whose flags a filter cannot read, says ENOSYS: glibc falls back to
    clone)."""
    f = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
    eperm = seccomp.ERRNO(errno.EPERM)
    for flag in CLONE_NEW:
        for call in ("clone", "unshare"):
            f.add_rule(eperm, call, seccomp.Arg(0, seccomp.MASKED_EQ, flag, flag))
    f.add_rule(eperm, "setns")
    f.add_rule(seccomp.ERRNO(errno.ENOSYS), "clone3")
    return f


def restrict_families():
    f = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
    for family in range(AF_MAX):
        if family not in ALLOWED_FAMILIES:
            f.add_rule(seccomp.ERRNO(errno.EAFNOSUPPORT), "socket",
                       seccomp.Arg(0, seccomp.EQ, family))
    return f


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "--list":
        print("\n".join(sorted(expand(sys.argv[2:], groups()))))
        return 0
    if len(sys.argv) < 3:
        print("usage: seccomp_exec.py --list FILTER... | ALLOWED_FILE CMD...", file=sys.stderr)
        return 2
    # the allow list last: seccomp() itself is not on it
    filters = [deny_write_execute(), restrict_families(),
               restrict_namespaces(), allow_list(sys.argv[1])]
    for f in filters:
        f.load()
    os.execv(sys.argv[2], sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
