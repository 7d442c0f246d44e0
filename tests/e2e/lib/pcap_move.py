#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Moves every packet of a classic pcap file by the same amount of time.

    pcap_move.py IN OUT --first EPOCH_US   the first packet at EPOCH_US
                                           (microseconds since the epoch)
    pcap_move.py IN OUT --by SECONDS       every packet SECONDS later
                                           (negative: earlier)

A real capture keeps its packets and gaps and is replayed at another
moment: the last seconds of a certificate, or a time before its staple
was made. Microsecond and nanosecond pcaps, either byte order; pcapng is
refused (tcpdump -w writes classic pcap).
"""
import struct
import sys

MAGICS = {  # magic as read little-endian -> (byte order, units per second)
    0xA1B2C3D4: ('<', 10**6), 0xD4C3B2A1: ('>', 10**6),
    0xA1B23C4D: ('<', 10**9), 0x4D3CB2A1: ('>', 10**9),
}
MAX_PACKETS = 10**6


def move(data, shift_us=None, first_us=None):
    if len(data) < 24:
        raise ValueError('shorter than a pcap header')
    magic = struct.unpack('<I', data[:4])[0]
    if magic not in MAGICS:
        raise ValueError('not a classic pcap file (magic %08x)' % magic)
    order, per_s = MAGICS[magic]
    scale = per_s // 10**6
    out = bytearray(data[:24])
    off, n = 24, 0
    while off < len(data):
        if off + 16 > len(data) or n >= MAX_PACKETS:
            raise ValueError('truncated record header at byte %d' % off)
        sec, frac, incl, orig = struct.unpack(order + 'IIII', data[off:off + 16])
        if off + 16 + incl > len(data):
            raise ValueError('truncated packet at byte %d' % off)
        t = sec * per_s + frac
        if shift_us is None:
            shift_us = first_us - t // scale
        t += shift_us * scale
        if t < 0 or t // per_s > 0xFFFFFFFF:
            raise ValueError('moved time out of the pcap range')
        out += struct.pack(order + 'IIII', t // per_s, t % per_s, incl, orig)
        out += data[off + 16:off + 16 + incl]
        off += 16 + incl
        n += 1
    return bytes(out)


def main(argv):
    if len(argv) != 5 or argv[3] not in ('--first', '--by'):
        sys.stderr.write(__doc__)
        return 2
    with open(argv[1], 'rb') as f:
        data = f.read()
    try:
        if argv[3] == '--first':
            moved = move(data, first_us=int(argv[4]))
        else:
            moved = move(data, shift_us=int(argv[4]) * 10**6)
    except ValueError as e:
        sys.stderr.write('pcap_move.py: %s: %s\n' % (argv[1], e))
        return 1
    with open(argv[2], 'wb') as f:
        f.write(moved)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
