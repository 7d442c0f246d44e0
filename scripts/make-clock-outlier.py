#!/usr/bin/env python3
"""Builds a capture with a failure spike, and optionally one record whose
time lies ten years ahead.

Usage: make-clock-outlier.py [--outlier] OUT.pcap GOOD.pcap BAD.pcap

GOOD and BAD are seed captures of real handshakes (openssl s_server and
s_client taken with tcpdump): the first TLS connection of GOOD is a
handshake that succeeds (tests/data/captures/tls12_rsa.pcap), of BAD one
the client refuses with a fatal alert (tls12_reject_unknown_ca.pcap).
Connections are copies of them with addresses and ports of their own, in
this order (times from 2026-11-23T10:46:00Z, in seconds):

   0      a long connection: the first half of a GOOD copy
   1-60   a calm minute: 60 GOOD copies, one a second
  31.5    a pure ACK of the long connection (with --outlier: dated ten
          years later, as a corrupt record header would say)
  62-65   a burst: 30 BAD copies, one every 0.1 s
  70      the long connection's second half: it ends ok

Without --outlier, analyze reports 61 handshakes ok, 30 failed and a spike
firing in the burst. The ACK carries nothing: read at any time in the
calm, it changes no event. Read at its own time, it would take the
capture's clock ten years ahead: the long connection timed out (the
idle timeout, 120 s, long past), the spike never seen.

Reuses make-bench-capture.py's seed reading and writer. Deterministic.
Prints the number of handshakes written.
"""
import os
import random
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import script_module  # noqa: E402  (scripts/lib/script_module.py)

TEN_YEARS_S = 10 * 365 * 86400.0
CALM, BURST = 60, 30


def first_template(bench, path):
    tpls = bench.templates([path])
    if not tpls:
        raise SystemExit(f"{path}: no TLS connection")
    return tpls[0][2]


def copy(bench, w, rng, n, pkts, at):
    """Connection number @n: the packets @pkts from time @at on."""
    conn = bench.new_conn(rng, n)
    w.t = at
    for from_client, flags, payload in pkts:
        w.packet(conn, from_client, flags, payload)
    return conn


def main():
    args = sys.argv[1:]
    outlier = bool(args) and args[0] == "--outlier"
    if outlier:
        args = args[1:]
    if len(args) != 3:
        raise SystemExit(__doc__)
    bench = script_module.load("make-bench-capture.py")
    good, bad = first_template(bench, args[1]), first_template(bench, args[2])
    rng = random.Random(1)
    w = bench.Writer(args[0])
    start = bench.START_TIME
    half = len(good) // 2
    long_conn = copy(bench, w, rng, 0, good[:half], start)
    for i in range(CALM):
        copy(bench, w, rng, 1 + i, good, start + 1 + i)
        if i == 30:
            w.t = start + 31.5 + (TEN_YEARS_S if outlier else 0.0)
            w.packet(long_conn, True, 0x10, b"")
    for i in range(BURST):
        copy(bench, w, rng, 1 + CALM + i, bad, start + 62 + i * 0.1)
    w.t = start + 70
    for from_client, flags, payload in good[half:]:
        w.packet(long_conn, from_client, flags, payload)
    w.f.close()
    print(1 + CALM + BURST)


if __name__ == "__main__":
    main()
