#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes two pcapng files libpcap reads only in part (README, "tlswatch
analyze"): DIR/mixed-linktypes.pcapng, whose second interface is Linux
cooked (113) after an Ethernet one, and DIR/mixed-byteorder.pcapng, a
little-endian section followed by a big-endian one (two files joined with
cat), and DIR/mixed-byteorder-other.pcapng, the same but for the
second section's packet (shorter, other bytes): analysed as the first is
(libpcap reads neither's second section), so analyze --db refuses it as a
copy of the first cut short; and DIR/mixed-version.pcapng, two
little-endian sections, the second of major version 2, which libpcap
refuses ("unknown pcapng savefile major version number 2"); and
DIR/mixed-byteorder-long.pcapng, mixed-byteorder.pcapng whose big-endian
section header is 256 bytes long (a comment): its length read in the
first section's order is 65536, past the end of the file, so libpcap
says the file is truncated. Each packet is an empty IPv4 header; only the
framing matters.

Usage: make-mixed-pcapng.py DIR
"""
import os
import struct
import sys


def block(kind, body, order):
    pad = (-len(body)) % 4
    total = 12 + len(body) + pad
    return (struct.pack(order + "II", kind, total) + body + b"\0" * pad +
            struct.pack(order + "I", total))


def section(order, major=1, comment=b""):
    body = struct.pack(order + "IHHq", 0x1A2B3C4D, major, 0, -1)
    if comment:     # opt_comment, then opt_endofopt
        body += (struct.pack(order + "HH", 1, len(comment)) + comment +
                 b"\0" * (-len(comment) % 4) + struct.pack(order + "HH", 0, 0))
    return block(0x0A0D0D0A, body, order)


def interface(linktype, order):
    return block(1, struct.pack(order + "HHI", linktype, 0, 65535), order)


def packet(iface, data, order):
    head = struct.pack(order + "IIIII", iface, 0, 1, len(data), len(data))
    return block(6, head + data, order)


IPV4 = b"\x45" + b"\0" * 19
ETHER = b"\0" * 12 + b"\x08\x00" + IPV4
COOKED = b"\0" * 14 + b"\x08\x00" + IPV4


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__.strip().splitlines()[-1])
    out = sys.argv[1]
    with open(os.path.join(out, "mixed-linktypes.pcapng"), "wb") as f:
        f.write(section("<") + interface(1, "<") + interface(113, "<") +
                packet(0, ETHER, "<") + packet(1, COOKED, "<"))
    with open(os.path.join(out, "mixed-byteorder.pcapng"), "wb") as f:
        f.write(section("<") + interface(1, "<") + packet(0, ETHER, "<") +
                section(">") + interface(1, ">") + packet(0, ETHER, ">"))
    with open(os.path.join(out, "mixed-byteorder-other.pcapng"), "wb") as f:
        f.write(section("<") + interface(1, "<") + packet(0, ETHER, "<") +
                section(">") + interface(1, ">") + packet(0, ETHER[:-4], ">"))
    long_header = section(">", comment=b"x" * 220)
    assert len(long_header) == 256
    with open(os.path.join(out, "mixed-byteorder-long.pcapng"), "wb") as f:
        f.write(section("<") + interface(1, "<") + packet(0, ETHER, "<") +
                long_header + interface(1, ">") + packet(0, ETHER, ">"))
    with open(os.path.join(out, "mixed-version.pcapng"), "wb") as f:
        f.write(section("<") + interface(1, "<") + packet(0, ETHER, "<") +
                section("<", 2) + interface(1, "<") + packet(0, ETHER, "<"))


if __name__ == "__main__":
    main()
