#!/usr/bin/env python3
"""Builds a large benchmark capture from real seed captures.

Usage: make-bench-capture.py [--dense] [--starttls] OUT.pcap SIZE_MB SEED.pcap...

Every TCP connection of the seed captures (real openssl handshakes taken
with tcpdump, IPv4 and IPv6) becomes a template; templates with the same
packets (one traffic recorded on several link types) count once. Every copy
gets its own client address and port, so each is a separate connection and
a separate handshake; the same few chains repeat, as at an edge.

Default (bulk-heavy): long bulk TLS connections (a copied handshake, then
full-size application_data records) interleaved with one short connection
(a whole template) per round: most bytes are bulk traffic.

--dense (handshake-dense): 64 connections open at a time, packets
interleaved; each is a whole template, weighted towards the successful
handshakes an edge mostly sees (SEED_WEIGHTS), and the successful ones
carry some application data before they close, so that there is one
handshake per DENSE_BYTES_PER_HANDSHAKE bytes of file on average.

--starttls: every connection to port 587 begins with an SMTP STARTTLS
exchange (SMTP_PREAMBLE) before its ClientHello, as submission servers see
it; the bytes of the file include the preamble.

Packet times start at 2026-11-23T10:46:00Z, just after the seeds were
taken, so staples, "expiring soon" and validity read as in the tests.
Deterministic (fixed seed). Prints the number of handshakes written.
"""
import random
import struct
import sys

ETH_IPV4 = b"\x00" * 12 + b"\x08\x00"
ETH_IPV6 = b"\x00" * 12 + b"\x86\xdd"
START_TIME = 1795430760.0          # 2026-11-23T10:46:00Z
PACKET_GAP_S = 0.00002
DENSE_OPEN = 64
DENSE_BYTES_PER_HANDSHAKE = 8000   # issue 9: at least one per 10 KB
APP_RECORD = b"\x17\x03\x03" + struct.pack("!H", 1443) + bytes(1443)
# --starttls: (from_client, line) of the SMTP exchange before the hello
SMTP_PREAMBLE = [
    (False, b"220 mail.test ESMTP\r\n"),
    (True, b"EHLO client.test\r\n"),
    (False, b"250-mail.test\r\n250-PIPELINING\r\n250 STARTTLS\r\n"),
    (True, b"STARTTLS\r\n"),
    (False, b"220 2.0.0 Ready to start TLS\r\n"),
]
SMTP_SUBMISSION_PORT = 587

# Dense mix: (weight, the handshake succeeds and carries data afterwards).
# Seeds not listed weigh 1 and carry no data.
SEED_WEIGHTS = {
    "tls13_ecdsa.pcap": (30, True),
    "tls12_rsa.pcap": (20, True),
    "tls12_staple.pcap": (15, True),
    "tls12_ipv6.pcap": (8, True),
    "tls12_bigchain.pcap": (5, True),
    "tls12_staple_revoked.pcap": (2, True),
    "tls12_expiring_soon.pcap": (2, True),
    "tls12_hostname_mismatch.pcap": (2, True),
    "tls12_weak.pcap": (1, True),
    "tls12_selfsigned.pcap": (1, True),
    "tls12_future.pcap": (1, True),
    "tls12_reject_unknown_ca.pcap": (2, False),
    "tls13_reject_unknown_ca.pcap": (2, False),
    "aborted.pcap": (2, False),
}


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
    linktype = struct.unpack(endian + "I", data[20:24])[0]
    off, out = 24, []
    while off + 16 <= len(data):
        caplen = struct.unpack(endian + "I", data[off + 8:off + 12])[0]
        off += 16
        out.append((linktype, data[off:off + caplen]))
        off += caplen
    return out


def ip_of(linktype, frame):
    """The IPv4 or IPv6 packet inside @frame, or None."""
    ethertypes = (b"\x08\x00", b"\x86\xdd")
    if linktype == 1:        # Ethernet
        return frame[14:] if frame[12:14] in ethertypes else None
    if linktype == 113:      # Linux SLL
        return frame[16:] if frame[14:16] in ethertypes else None
    if linktype == 276:      # Linux SLL2
        return frame[20:] if frame[0:2] in ethertypes else None
    if linktype in (12, 14, 101, 228, 229):
        return frame
    return None


def tcp_of(ip):
    """(src, dst, tcp segment) of an IPv4/IPv6 TCP packet, or None."""
    if ip and ip[0] >> 4 == 4 and ip[9] == 6:
        ihl = (ip[0] & 15) * 4
        total = struct.unpack("!H", ip[2:4])[0] or len(ip)
        return ip[12:16], ip[16:20], ip[ihl:total]
    if ip and ip[0] >> 4 == 6 and ip[6] == 6:   # no extension headers
        plen = struct.unpack("!H", ip[4:6])[0]
        return ip[8:24], ip[24:40], ip[40:40 + plen]
    return None


def templates(paths):
    """TCP connections of the seeds: (seed name, v6, [(from_client, flags,
    payload)]), each distinct packet sequence once."""
    flows, seen, out = {}, set(), []
    for path in paths:
        try:
            packets = read_pcap(path)
        except SystemExit as e:   # pcapng or damaged seeds are skipped
            print(e, file=sys.stderr)
            continue
        name = path.rsplit("/", 1)[-1]
        for lt, frame in packets:
            parts = tcp_of(ip_of(lt, frame))
            if not parts:
                continue
            src, dst, tcp = parts
            sport, dport = struct.unpack("!HH", tcp[:4])
            pkt = (tcp[13], tcp[(tcp[12] >> 4) * 4:])
            key = (name, src, sport, dst, dport)
            rkey = (name, dst, dport, src, sport)
            if rkey in flows:
                flows[rkey].append((False,) + pkt)
            else:
                flows.setdefault(key, []).append((True,) + pkt)
    for (name, src, _, _, _), pkts in flows.items():
        if not any(p and p[0] == 0x16 for _, _, p in pkts):
            continue
        sig = tuple(pkts)
        if sig in seen:
            continue
        seen.add(sig)
        out.append((name, len(src) == 16, pkts))
    return out


class Writer:
    def __init__(self, path):
        self.f = open(path, "wb")
        self.f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        self.bytes = 24
        self.t = START_TIME

    @staticmethod
    def ip_header(src, dst, payload_len):
        if len(src) == 16:
            return ETH_IPV6 + struct.pack("!IHBB16s16s", 6 << 28, payload_len,
                                          6, 64, src, dst)
        ip = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + payload_len,
                                   0, 0x4000, 64, 6, 0, src, dst))
        csum = sum(struct.unpack("!10H", ip))
        csum = (csum & 0xFFFF) + (csum >> 16)
        csum = (csum & 0xFFFF) + (csum >> 16)
        struct.pack_into("!H", ip, 10, ~csum & 0xFFFF)
        return ETH_IPV4 + bytes(ip)

    def packet(self, conn, from_client, flags, payload):
        c, s = conn["client"], conn["server"]
        src, dst = (c, s) if from_client else (s, c)
        seq = conn["cseq" if from_client else "sseq"]
        ack = conn["sseq" if from_client else "cseq"]
        tcp = struct.pack("!HHIIBBHHH", src[1], dst[1], seq & 0xFFFFFFFF,
                          ack & 0xFFFFFFFF, 5 << 4, flags, 65535, 0, 0)
        frame = self.ip_header(src[0], dst[0], len(tcp) + len(payload)) + tcp + payload
        self.t += PACKET_GAP_S
        sec = int(self.t)
        self.f.write(struct.pack("<IIII", sec, int((self.t - sec) * 1e6),
                                 len(frame), len(frame)))
        self.f.write(frame)
        self.bytes += 16 + len(frame)
        step = len(payload) + (1 if flags & 0x03 else 0)   # SYN/FIN take one
        conn["cseq" if from_client else "sseq"] += step


def new_conn(rng, n, v6=False, port=443):
    """Connection number @n: a client address of its own (10.0.0.0/8 or
    2001:db8:1::/48 plus n) and port, one of four servers on @port."""
    if v6:
        client = b"\x20\x01\x0d\xb8\x00\x01" + bytes(6) + struct.pack("!I", n)
        server = b"\x20\x01\x0d\xb8\xff\xff" + bytes(9) + bytes([1 + n % 4])
    else:
        client = struct.pack("!I", (10 << 24) | (n & 0xFFFFFF))
        server = bytes([192, 0, 2, 1 + n % 4])
    return {"client": (client, 1024 + (n * 7919) % 60000),
            "server": (server, port),
            "cseq": rng.randrange(1 << 32), "sseq": rng.randrange(1 << 32)}


def bulk(w, rng, tpls, size):
    handshakes, n, open_bulk = 0, 0, []
    while w.bytes < size:
        # Keep 32 bulk connections open; each carries up to 4000 records.
        while len(open_bulk) < 32:
            _, v6, pkts = rng.choice(tpls)
            conn = new_conn(rng, n, v6)
            n += 1
            for from_client, flags, payload in pkts:
                if not flags & 0x05:                  # no FIN/RST: stays open
                    w.packet(conn, from_client, flags, payload)
            handshakes += 1
            conn["left"] = rng.randrange(500, 4000)
            open_bulk.append(conn)
        for conn in open_bulk:
            w.packet(conn, False, 0x18, APP_RECORD)
            conn["left"] -= 1
        open_bulk = [c for c in open_bulk if c["left"] > 0]
        # A short connection (a whole template) every round.
        _, v6, pkts = rng.choice(tpls)
        conn = new_conn(rng, n, v6)
        n += 1
        for from_client, flags, payload in pkts:
            w.packet(conn, from_client, flags, payload)
        handshakes += 1
    return handshakes


def dense_script(rng, tpl, data_records, starttls=False):
    """The packets of one dense connection: the template, with
    @data_records application_data records from the server before its
    first FIN/RST when it carries data, and the SMTP preamble before its
    first payload with @starttls."""
    name, _, pkts = tpl
    carries = SEED_WEIGHTS.get(name, (1, False))[1]
    out, added, greeted = [], not carries, not starttls
    for pkt in pkts:
        if not greeted and pkt[2]:
            out += [(from_client, 0x18, line) for from_client, line in SMTP_PREAMBLE]
            greeted = True
        if not added and pkt[1] & 0x05:
            out += [(False, 0x18, APP_RECORD)] * data_records
            added = True
        out.append(pkt)
    return out


def dense(w, rng, tpls, size, starttls=False):
    weights = []
    for name, _, _ in tpls:
        per_seed = sum(1 for t in tpls if t[0] == name)
        weights.append(SEED_WEIGHTS.get(name, (1, False))[0] / per_seed)
    tpl_bytes = [sum(16 + 54 + len(p) for _, _, p in t[2]) for t in tpls]
    total_w = sum(weights)
    mean_bytes = sum(wt * b for wt, b in zip(weights, tpl_bytes)) / total_w
    carry_share = sum(wt for wt, t in zip(weights, tpls)
                      if SEED_WEIGHTS.get(t[0], (1, False))[1]) / total_w
    per_record = 16 + 54 + len(APP_RECORD)
    mean_records = max(0.0, (DENSE_BYTES_PER_HANDSHAKE - mean_bytes) /
                       carry_share / per_record)
    handshakes, n, live = 0, 0, []
    while w.bytes < size:
        while len(live) < DENSE_OPEN:
            tpl = rng.choices(tpls, weights)[0]
            records = rng.randint(0, int(2 * mean_records))
            port = SMTP_SUBMISSION_PORT if starttls else 443
            live.append((new_conn(rng, n, tpl[1], port),
                         iter(dense_script(rng, tpl, records, starttls))))
            n += 1
            handshakes += 1
        i = rng.randrange(len(live))
        pkt = next(live[i][1], None)
        if pkt is None:
            live[i] = live[-1]
            live.pop()
            continue
        w.packet(live[i][0], *pkt)
    for conn, script in live:    # every connection counted is written whole
        for pkt in script:
            w.packet(conn, *pkt)
    return handshakes


def main():
    args = sys.argv[1:]
    flags = set()
    while args and args[0] in ("--dense", "--starttls"):
        flags.add(args.pop(0))
    if len(args) < 3 or ("--starttls" in flags and "--dense" not in flags):
        raise SystemExit(__doc__)
    out, size = args[0], int(args[1]) << 20
    tpls = templates(args[2:])
    if not tpls:
        raise SystemExit("no TLS connection in the seed captures")
    rng = random.Random(1)
    w = Writer(out)
    if "--dense" in flags:
        handshakes = dense(w, rng, tpls, size, "--starttls" in flags)
    else:
        handshakes = bulk(w, rng, tpls, size)
    w.f.close()
    print(handshakes)


if __name__ == "__main__":
    main()
