#!/usr/bin/env python3
"""Splits a capture in two, as a rotating tcpdump (-C, -G) would.

Usage: split-capture.py IN.pcap N OUT1.pcap OUT2.pcap [SHIFT_S]

Records 1 to N-1 of IN (a classic little-endian microsecond pcap) go to
OUT1, records N to the last to OUT2, their bytes and order kept. With
SHIFT_S, every record of OUT2 is dated SHIFT_S seconds later (a later
capture of the same traffic). Reads IN with make-clock-jumps.py's reader.
Deterministic. Prints the number of records of each file.
"""
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import script_module  # noqa: E402  (scripts/lib/script_module.py)


def write(path, head, packets, shift):
    with open(path, "wb") as f:
        f.write(head)
        for ts, wirelen, frame in packets:
            usec = round((ts + shift) * 1e6)
            f.write(struct.pack("<IIII", usec // 1000000, usec % 1000000,
                                len(frame), wirelen))
            f.write(frame)


def main():
    if len(sys.argv) not in (5, 6):
        raise SystemExit(__doc__)
    src, at, out1, out2 = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    shift = float(sys.argv[5]) if len(sys.argv) == 6 else 0.0
    head, packets = script_module.load("make-clock-jumps.py").read_pcap(src)
    if not 1 < at <= len(packets):
        raise SystemExit(f"{src}: {len(packets)} records, cannot split at {at}")
    write(out1, head, packets[:at - 1], 0.0)
    write(out2, head, packets[at - 1:], shift)
    print(at - 1, len(packets) - at + 1)


if __name__ == "__main__":
    main()
