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
import importlib.util
import os
import random
import sys


def bench_module():
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                        "make-bench-capture.py")
    spec = importlib.util.spec_from_file_location("make_bench_capture", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


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
    bench = bench_module()
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
