#!/usr/bin/env python3
"""Builds a capture of many handshakes left undecided at once.

Usage: make-hello-flood.py OUT.pcap N SEED.pcap

Every one of N connections, each with its own client address and port,
is the first TLS connection of SEED (a real openssl handshake taken with
tcpdump, such as tests/data/captures/tls12_rsa.pcap) up to and including
the client's ClientHello, and no packet after it: as a flood of clients
that send a hello and wait. All within a few seconds (far under the idle
timeout), so that analyze holds all N undecided until the capture ends:
what its memory per undecided handshake is measured on (README "Memory
under a flood", BENCHMARKS.md). Reuses make-bench-capture.py's seed
reading and writer. Deterministic. Prints N.
"""
import os
import random
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import script_module  # noqa: E402  (scripts/lib/script_module.py)


def hello_prefix(pkts):
    """The packets of a connection up to its client's first payload."""
    for i, (from_client, _, payload) in enumerate(pkts):
        if from_client and payload:
            return pkts[:i + 1]
    raise SystemExit("the seed's connection has no client payload")


def main():
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    out, n, seed = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    bench = script_module.load("make-bench-capture.py")
    tpls = bench.templates([seed])
    if not tpls:
        raise SystemExit(f"{seed}: no TLS connection")
    pkts = hello_prefix(tpls[0][2])
    rng = random.Random(1)
    w = bench.Writer(out)
    for i in range(n):
        conn = bench.new_conn(rng, i)
        for from_client, flags, payload in pkts:
            w.packet(conn, from_client, flags, payload)
    print(n)


if __name__ == "__main__":
    main()
