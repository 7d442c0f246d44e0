#!/usr/bin/env python3
"""Splits a capture in two, as a rotating tcpdump (-C, -G) would.

Usage: split-capture.py IN.pcap N OUT1.pcap OUT2.pcap [SHIFT_S [FROM]]

Records 1 to N-1 of IN (a classic little-endian microsecond pcap) go to
OUT1, records N to the last to OUT2, their bytes and order kept. With
SHIFT_S, every record from record FROM (default N: those of OUT2) on is
dated SHIFT_S seconds later (a later capture of the same traffic; FROM
N-1: the traffic moved on already in the last record of OUT1). Reads IN
with make-clock-jumps.py's reader.
Deterministic. Prints the number of records of each file.
"""
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import script_module  # noqa: E402  (scripts/lib/script_module.py)


def write(path, head, packets, shifts):
    with open(path, "wb") as f:
        f.write(head)
        for (ts, wirelen, frame), shift in zip(packets, shifts):
            usec = round((ts + shift) * 1e6)
            f.write(struct.pack("<IIII", usec // 1000000, usec % 1000000,
                                len(frame), wirelen))
            f.write(frame)


def main():
    if len(sys.argv) not in (5, 6, 7):
        raise SystemExit(__doc__)
    src, at, out1, out2 = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    shift = float(sys.argv[5]) if len(sys.argv) >= 6 else 0.0
    start = int(sys.argv[6]) if len(sys.argv) == 7 else at
    head, packets = script_module.load("make-clock-jumps.py").read_pcap(src)
    if not 1 < at <= len(packets) or not 1 <= start <= len(packets):
        raise SystemExit(f"{src}: {len(packets)} records, cannot split at {at} "
                         f"nor shift from {start}")
    shifts = [shift if i + 1 >= start else 0.0 for i in range(len(packets))]
    write(out1, head, packets[:at - 1], shifts[:at - 1])
    write(out2, head, packets[at - 1:], shifts[at - 1:])
    print(at - 1, len(packets) - at + 1)


if __name__ == "__main__":
    main()
