#!/usr/bin/env python3
"""Rewrites the packet times of a capture to make the clock jump.

Usage: make-clock-jumps.py MODE IN.pcap OUT.pcap SPREAD_S

The packets of IN (a classic pcap, such as one of
scripts/make-bench-capture.py --dense, built from real handshakes) keep
their order and bytes; only their times change. First they are spread
evenly over SPREAD_S seconds from the first packet's time, as traffic
at a steady rate (so a spike detector learns a normal), then MODE applies:

  steady     no jump: the reference the others are compared with
  backwards  at the middle packet the clock steps back one hour and runs
             on from there (an NTP step back, a VM restored)
  years      at a third the clock jumps ten years ahead, at two thirds
             twenty years back (a dead RTC battery, a bad NTP answer)
  zigzag     every other packet is one day earlier than the one before
             (times of two sources interleaved)

Deterministic. Prints the number of packets written.
"""
import struct
import sys

HOUR = 3600.0
DAY = 86400.0
YEAR = 365 * DAY


def read_pcap(path):
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    if magic != 0xA1B2C3D4:
        raise SystemExit(f"{path}: not a little-endian microsecond pcap")
    head, off, packets = data[:24], 24, []
    while off + 16 <= len(data):
        sec, usec, caplen, wirelen = struct.unpack("<IIII", data[off:off + 16])
        off += 16
        packets.append((sec + usec / 1e6, wirelen, data[off:off + caplen]))
        off += caplen
    return head, packets


def offset(mode, i, n):
    """Seconds added to the steady time of packet @i of @n."""
    if mode == "steady":
        return 0.0
    if mode == "backwards":
        return -HOUR if i >= n // 2 else 0.0
    if mode == "years":
        if i >= 2 * n // 3:
            return -10 * YEAR
        return 10 * YEAR if i >= n // 3 else 0.0
    if mode == "zigzag":
        return -DAY if i % 2 else 0.0
    raise SystemExit(f"unknown mode {mode}")


def main():
    if len(sys.argv) != 5:
        raise SystemExit(__doc__)
    mode, src, dst, spread = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
    head, packets = read_pcap(src)
    n = len(packets)
    start = packets[0][0] if n else 0.0
    with open(dst, "wb") as f:
        f.write(head)
        for i, (_, wirelen, frame) in enumerate(packets):
            ts = start + spread * i / max(n, 1) + offset(mode, i, n)
            usec = round(ts * 1e6)
            f.write(struct.pack("<IIII", usec // 1000000, usec % 1000000,
                                len(frame), wirelen))
            f.write(frame)
    print(n)


if __name__ == "__main__":
    main()
