#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""CPU time a TLS server spends per full handshake, in this process.

  tls_handshake_cpu.py CHAIN_PEM KEY_PEM N

A server and a client (Python's ssl: the system's OpenSSL 3) handshake N
times over memory BIOs, TLS 1.3, no session reuse. Only the server's calls
are timed (its handshake steps and SSL_free), with the thread's CPU clock (user and system time: a uprobe's
trap into the kernel counts), so the client's work and the scheduler are
left out. Prints the server's nanoseconds per handshake: the 10th
percentile, then the median. Other processes on a shared host only ever
add time (an interrupt, a cache another core emptied), so the quiet
handshakes, the low percentile, show a fixed cost such as the uprobes'
best; the median is shown beside it.
"""
import ssl
import statistics
import sys
import time


def contexts(chain, key):
    srv = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    srv.minimum_version = ssl.TLSVersion.TLSv1_3
    srv.load_cert_chain(chain, key)
    srv.options |= ssl.OP_NO_TICKET
    cli = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    cli.check_hostname = False
    cli.verify_mode = ssl.CERT_NONE
    cli.minimum_version = ssl.TLSVersion.TLSv1_3
    return srv, cli


def step(obj):
    """One handshake step; True when the handshake is done."""
    try:
        obj.do_handshake()
        return True
    except ssl.SSLWantReadError:
        return False


def handshake(srv_ctx, cli_ctx):
    """One full handshake; the server's CPU nanoseconds."""
    s_in, s_out, c_in, c_out = (ssl.MemoryBIO() for _ in range(4))
    server = srv_ctx.wrap_bio(s_in, s_out, server_side=True)
    client = cli_ctx.wrap_bio(c_in, c_out, server_hostname="bench.test")
    spent = 0
    c_done = s_done = False
    for _ in range(10):  # a TLS 1.3 handshake takes 2 server steps
        if not c_done:
            c_done = step(client)
        s_in.write(c_out.read())
        if not s_done:
            t = time.thread_time_ns()
            s_done = step(server)
            spent += time.thread_time_ns() - t
        c_in.write(s_out.read())
        if c_done and s_done:
            t = time.thread_time_ns()
            del server  # SSL_free: part of a connection's cost too
            return spent + time.thread_time_ns() - t
    raise RuntimeError("the handshake did not finish")


def main():
    chain, key, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    srv_ctx, cli_ctx = contexts(chain, key)
    handshake(srv_ctx, cli_ctx)  # warm up
    spent = sorted(handshake(srv_ctx, cli_ctx) for _ in range(n))
    print(spent[len(spent) // 10], int(statistics.median(spent)))


if __name__ == "__main__":
    main()
