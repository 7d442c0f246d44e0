#!/usr/bin/env python3
"""Builds a large benchmark capture from real seed captures.

Usage: make-bench-capture.py OUT.pcap SIZE_MB SEED.pcap...

Every TCP connection of the seed captures (real openssl handshakes taken
with tcpdump) becomes a template. The output interleaves many copies of
them, each with its own client address and port, with long bulk TLS
connections: a handshake copied from a template followed by full-size
application_data records, so most bytes are the bulk traffic an edge
carries and handshakes are mixed in. Deterministic (fixed seed). Prints
the number of handshakes written.
"""
import random
import struct
import sys

ETH_IPV4 = b"\x00" * 12 + b"\x08\x00"


def read_pcap(path):
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    if magic in (0xA1B2C3D4, 0xA1B23C4D):
        endian = "<"
    elif magic in (0xD4C3B2A1, 0x4D3CB2A1):
        endian = ">"
    else:
        raise SystemExit(f"{path}: not a classic pcap file")
    nsec = magic in (0xA1B23C4D, 0x4D3CB2A1)
    linktype = struct.unpack(endian + "I", data[20:24])[0]
    off, out = 24, []
    while off + 16 <= len(data):
        sec, frac, caplen, _ = struct.unpack(endian + "IIII", data[off:off + 16])
        off += 16
        frame = data[off:off + caplen]
        off += caplen
        out.append((sec + frac / (1e9 if nsec else 1e6), linktype, frame))
    return out


def ip_of(linktype, frame):
    if linktype == 1:        # Ethernet
        return frame[14:] if frame[12:14] == b"\x08\x00" else None
    if linktype == 113:      # Linux SLL
        return frame[16:] if frame[14:16] == b"\x08\x00" else None
    if linktype == 276:      # Linux SLL2
        return frame[20:] if frame[0:2] == b"\x08\x00" else None
    if linktype in (12, 14, 101, 228):
        return frame
    return None


def templates(paths):
    """TCP connections of the seeds: lists of (from_client, flags, payload)."""
    flows = {}
    for path in paths:
        try:
            packets = read_pcap(path)
        except SystemExit as e:   # pcapng or damaged seeds are skipped
            print(e, file=sys.stderr)
            continue
        for _, lt, frame in packets:
            ip = ip_of(lt, frame)
            if not ip or ip[0] >> 4 != 4 or ip[9] != 6:
                continue
            ihl = (ip[0] & 15) * 4
            total = struct.unpack("!H", ip[2:4])[0] or len(ip)
            tcp = ip[ihl:total]
            sport, dport = struct.unpack("!HH", tcp[:4])
            flags = tcp[13]
            payload = tcp[(tcp[12] >> 4) * 4:]
            key = (path, ip[12:16], sport, ip[16:20], dport)
            rkey = (path, ip[16:20], dport, ip[12:16], sport)
            if rkey in flows:
                flows[rkey].append((False, flags, payload))
            else:
                flows.setdefault(key, []).append((True, flags, payload))
    return [pkts for pkts in flows.values()
            if any(p and p[0] == 0x16 for _, _, p in pkts)]


class Writer:
    def __init__(self, path):
        self.f = open(path, "wb")
        self.f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        self.bytes = 24
        self.t = 1795000000.0   # 2026-11-18, inside the fixtures' validity

    def packet(self, conn, from_client, flags, payload):
        c, s = conn["client"], conn["server"]
        src, dst = (c, s) if from_client else (s, c)
        seq = conn["cseq" if from_client else "sseq"]
        ack = conn["sseq" if from_client else "cseq"]
        tcp = struct.pack("!HHIIBBHHH", src[1], dst[1], seq & 0xFFFFFFFF,
                          ack & 0xFFFFFFFF, 5 << 4, flags, 65535, 0, 0)
        total = 20 + len(tcp) + len(payload)
        ip = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, total, 0, 0x4000,
                                   64, 6, 0, src[0], dst[0]))
        csum = sum(struct.unpack("!10H", ip))
        csum = (csum & 0xFFFF) + (csum >> 16)
        csum = (csum & 0xFFFF) + (csum >> 16)
        struct.pack_into("!H", ip, 10, ~csum & 0xFFFF)
        frame = ETH_IPV4 + bytes(ip) + tcp + payload
        self.t += 0.00002
        sec = int(self.t)
        self.f.write(struct.pack("<IIII", sec, int((self.t - sec) * 1e6),
                                 len(frame), len(frame)))
        self.f.write(frame)
        self.bytes += 16 + len(frame)
        step = len(payload) + (1 if flags & 0x03 else 0)   # SYN/FIN take one
        conn["cseq" if from_client else "sseq"] += step


def new_conn(rng, n):
    client = (bytes([10, 1 + n % 200, (n >> 8) & 255, 1 + n % 250]),
              1024 + n % 60000)
    return {"client": client, "server": (bytes([192, 0, 2, 1 + n % 4]), 443),
            "cseq": rng.randrange(1 << 32), "sseq": rng.randrange(1 << 32)}


def main():
    if len(sys.argv) < 4:
        raise SystemExit(__doc__)
    out, size = sys.argv[1], int(sys.argv[2]) << 20
    tpls = templates(sys.argv[3:])
    if not tpls:
        raise SystemExit("no TLS connection in the seed captures")
    rng = random.Random(1)
    w = Writer(out)
    record = b"\x17\x03\x03" + struct.pack("!H", 1443) + bytes(1443)
    bulk, handshakes, n = [], 0, 0
    while w.bytes < size:
        # Keep 32 bulk connections open; each carries up to 4000 records.
        while len(bulk) < 32:
            conn = new_conn(rng, n)
            n += 1
            for from_client, flags, payload in rng.choice(tpls):
                if not flags & 0x05:                  # no FIN/RST: stays open
                    w.packet(conn, from_client, flags, payload)
            handshakes += 1
            conn["left"] = rng.randrange(500, 4000)
            bulk.append(conn)
        for conn in bulk:
            w.packet(conn, False, 0x18, record)
            conn["left"] -= 1
        bulk = [c for c in bulk if c["left"] > 0]
        # A short connection (a whole template) every round.
        conn = new_conn(rng, n)
        n += 1
        for from_client, flags, payload in rng.choice(tpls):
            w.packet(conn, from_client, flags, payload)
        handshakes += 1
    w.f.close()
    print(handshakes)


if __name__ == "__main__":
    main()
