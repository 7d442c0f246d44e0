#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Re-encapsulates the packets of a real capture, for tests/e2e/tunnels.sh.

  encap.py IN.pcap OUT.pcap LAYERS OUTER_SRC OUTER_DST [options]

IN.pcap: an Ethernet capture of plain TCP connections (tcpdump on a veth).
Each IP packet is wrapped in LAYERS, a comma-separated list from the
outermost in (ipip, sit, ip4ip6, ip6ip6 by the addresses' families; gre,
gretap, vxlan, geneve, fou, gue, gue1 (GUE variant 1)), and written to
OUT.pcap as an Ethernet frame. Packets from the client (the side whose port
is not --server-port) get OUTER_SRC -> OUTER_DST, the server's the other way
round (--dsr: the server's are written without any encapsulation, as a load
balancer's direct server return sends them; --client-plain: the client's
are).  Inner layers of a nested list
use the --inner-src/--inner-dst addresses.

TCP segments longer than --mss are split (a capture on the sending host
holds GSO super-packets; an encapsulated frame must fit the underlay).
--client-port rewrites the client's port, so several copies of one
connection are told apart. --send IFACE also sends every frame out of IFACE
(AF_PACKET): the interface's TC egress hook sees them as if a tunnel had
sent them. Checksums of the inner packets are left as captured (rewritten
ports make TCP's wrong: nothing in tlswatch checks them); outer IPv4 header
checksums are computed.
"""
import argparse
import ipaddress
import socket
import struct
import sys
import time

ETH_IP4, ETH_IP6, ETH_TEB = 0x0800, 0x86DD, 0x6558
# Frames go to MAC_B, which is nobody's: the receiving end of the veth
# drops them (another host's), so a peer with real tunnels or servers never
# answers a replayed packet.
MAC_A = bytes.fromhex("020000000001")
MAC_B = bytes.fromhex("020000000002")


def read_pcap(path):
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    endian = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    linktype = struct.unpack(endian + "I", data[20:24])[0]
    if linktype != 1:
        sys.exit("encap.py: %s: link type %d, not Ethernet" % (path, linktype))
    off, frames = 24, []
    while off + 16 <= len(data):
        sec, frac, caplen, _ = struct.unpack(endian + "IIII", data[off:off + 16])
        frames.append((sec, frac, data[off + 16:off + 16 + caplen]))
        off += 16 + caplen
    return frames


def write_pcap(path, frames):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        for sec, usec, frame in frames:
            f.write(struct.pack("<IIII", sec, usec, len(frame), len(frame)))
            f.write(frame)


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ip_header(src, dst, proto, payload):
    a, b = ipaddress.ip_address(src), ipaddress.ip_address(dst)
    if a.version == 4:
        h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 1, 0x4000,
                        64, proto, 0, a.packed, b.packed)
        h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
        return h + payload
    return struct.pack("!IHBB16s16s", 0x60000000, len(payload), proto, 64,
                       a.packed, b.packed) + payload


def ethertype_of(ip):
    return ETH_IP4 if ip[0] >> 4 == 4 else ETH_IP6


def udp(dport, payload):
    return struct.pack("!HHHH", 49152, dport, 8 + len(payload), 0) + payload


def gre(ptype, payload, key=None, seq=False, checksum=False):
    flags, extra = 0, b""
    if checksum:
        flags |= 0x8000
        extra += struct.pack("!HH", 0, 0)
    if key is not None:
        flags |= 0x2000
        extra += struct.pack("!I", key)
    if seq:
        flags |= 0x1000
        extra += struct.pack("!I", 1)
    return struct.pack("!HH", flags, ptype) + extra + payload


def ether(ptype, payload):
    return MAC_B + MAC_A + struct.pack("!H", ptype) + payload


def wrap(layer, inner, src, dst, o):
    """One encapsulation of the IP packet @inner, from @src to @dst."""
    fam = ipaddress.ip_address(src).version
    inner_fam = inner[0] >> 4
    if layer == "ip":          # ipip, sit, ip4ip6, ip6ip6
        return ip_header(src, dst, 4 if inner_fam == 4 else 41, inner)
    if layer == "gre":
        return ip_header(src, dst, 47, gre(ethertype_of(inner), inner,
                                           o.key, o.gre_seq, o.gre_csum))
    if layer == "gretap":
        return ip_header(src, dst, 47, gre(ETH_TEB, ether(ethertype_of(inner), inner), o.key))
    if layer == "vxlan":
        hdr = struct.pack("!BBHI", 0x08, 0, 0, o.vni << 8)
        return ip_header(src, dst, 17, udp(o.port or 4789, hdr + ether(ethertype_of(inner), inner)))
    if layer == "geneve":
        # one 8-byte option (class 0x0101, type 1, 4 bytes of data): skipped
        opt = struct.pack("!HBB", 0x0101, 1, 1) + b"\xde\xad\xbe\xef"
        hdr = struct.pack("!BBHI", len(opt) // 4, 0, ETH_TEB, o.vni << 8)
        return ip_header(src, dst, 17, udp(o.port or 6081, hdr + opt + ether(ethertype_of(inner), inner)))
    if layer == "fou":
        return ip_header(src, dst, 17, udp(o.port, inner))
    if layer == "gue":
        # variant 0 with one optional 4-byte field (hlen 1): skipped
        hdr = struct.pack("!BBH", 0x01, 4 if inner_fam == 4 else 41, 0) + b"\0\0\0\0"
        return ip_header(src, dst, 17, udp(o.port, hdr + inner))
    if layer == "gue1":
        return ip_header(src, dst, 17, udp(o.port, inner))
    sys.exit("encap.py: unknown layer %r" % layer)


def base_layer(name):
    return "ip" if name in ("ipip", "sit", "ip4ip6", "ip6ip6") else name


def split_tcp(ip, mss):
    """@ip as IP packets with at most @mss bytes of TCP payload each."""
    v4 = ip[0] >> 4 == 4
    ihl = (ip[0] & 15) * 4 if v4 else 40
    total = struct.unpack("!H", ip[2:4])[0] if v4 else 40 + struct.unpack("!H", ip[4:6])[0]
    ip = ip[:total] if total else ip
    proto = ip[9] if v4 else ip[6]
    if proto != 6:
        return [ip]
    thl = (ip[ihl + 12] >> 4) * 4
    hdr, tcp, payload = ip[:ihl], ip[ihl:ihl + thl], ip[ihl + thl:]
    if len(payload) <= mss:
        return [ip]
    out, seq = [], struct.unpack("!I", tcp[4:8])[0]
    for i in range(0, len(payload), mss):
        part = payload[i:i + mss]
        t = tcp[:4] + struct.pack("!I", (seq + i) & 0xFFFFFFFF) + tcp[8:]
        if v4:
            h = hdr[:2] + struct.pack("!H", ihl + thl + len(part)) + hdr[4:]
        else:
            h = hdr[:4] + struct.pack("!H", thl + len(part)) + hdr[6:]
        out.append(h + t + part)
    return out


def set_client_port(ip, server_port, port):
    v4 = ip[0] >> 4 == 4
    ihl = (ip[0] & 15) * 4 if v4 else 40
    sport, dport = struct.unpack("!HH", ip[ihl:ihl + 4])
    from_client = dport == server_port
    if port:
        if from_client:
            sport = port
        else:
            dport = port
    return ip[:ihl] + struct.pack("!HH", sport, dport) + ip[ihl + 4:], from_client


def main():
    p = argparse.ArgumentParser()
    p.add_argument("pcap_in")
    p.add_argument("pcap_out")
    p.add_argument("layers")
    p.add_argument("outer_src")
    p.add_argument("outer_dst")
    p.add_argument("--inner-src", default="192.0.2.1")
    p.add_argument("--inner-dst", default="192.0.2.2")
    p.add_argument("--server-port", type=int, default=443)
    p.add_argument("--client-port", type=int, default=0)
    p.add_argument("--port", type=int, default=0, help="UDP destination port")
    p.add_argument("--vni", type=int, default=1)
    p.add_argument("--key", type=int)
    p.add_argument("--gre-seq", action="store_true")
    p.add_argument("--gre-csum", action="store_true")
    p.add_argument("--dsr", action="store_true")
    p.add_argument("--client-plain", action="store_true")
    p.add_argument("--mss", type=int, default=1200)
    p.add_argument("--send")
    o = p.parse_args()

    layers = [base_layer(x) for x in o.layers.split(",")]
    out = []
    for sec, usec, frame in read_pcap(o.pcap_in):
        if len(frame) < 15 or struct.unpack("!H", frame[12:14])[0] not in (ETH_IP4, ETH_IP6):
            continue
        for ip in split_tcp(frame[14:], o.mss):
            ip, from_client = set_client_port(ip, o.server_port, o.client_port)
            if (not from_client and o.dsr) or (from_client and o.client_plain):
                out.append((sec, usec, ether(ethertype_of(ip), ip)))
                continue
            for depth, layer in enumerate(reversed(layers)):
                outermost = depth == len(layers) - 1
                src, dst = (o.outer_src, o.outer_dst) if outermost else (o.inner_src, o.inner_dst)
                if not from_client:
                    src, dst = dst, src
                ip = wrap(layer, ip, src, dst, o)
            out.append((sec, usec, ether(ethertype_of(ip), ip)))
    write_pcap(o.pcap_out, out)
    if o.send:
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
        s.bind((o.send, 0))
        for _, _, frame in out:
            s.send(frame)
            time.sleep(0.002)
        s.close()
    print(len(out))


if __name__ == "__main__":
    main()
