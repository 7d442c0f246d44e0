#!/usr/bin/env python3
"""Captures of real handshakes as some capture points and networks show them.

Usage: make-edge-captures.py MODE IN.pcap OUT.pcap

IN is a classic pcap on Ethernet of real handshakes over IPv4 (such as
tests/data/captures/tls12_rsa.pcap: openssl s_server and s_client, taken
with tcpdump).

Modes that re-send the first connection's payloads on a connection of their
own (client 10.0.0.1:40000, server 10.0.0.2:443, client ISN 1000, server
ISN 5000, one packet a millisecond from 2026-11-23T10:50:00Z):

  fin-first     the server refuses the ClientHello: a fatal
                handshake_failure alert, then FIN. The alert's segment was
                lost before the capture point and is retransmitted after
                the FIN went through (a capture downstream of the loss):
                the capture holds the server's FIN (its sequence number
                past the alert), the retransmitted alert, then the client's
                FIN and the last ACK.
  alert-first   the same exchange in the order it was sent (the reference).
  alert-lost    the same as fin-first, but the alert is never sent again:
                the hole before the server's FIN is never filled. Five
                seconds later another client port (40001) sends a SYN,
                so that the capture goes on past the wait for the hole.
  reuse-unseen  the capture begins after connection A's SYN: A's ClientHello
                is seen, the server never answers, A's end is not in the
                capture. Five seconds later the same client address and
                port open connection B (client ISN 900000, server ISN
                700000: another connection's) and complete the whole
                handshake of IN's first connection on it, then close.
  late-retrans  connection A completes IN's first handshake and closes
                (both FINs, the last ACK); 100 ms later A's ClientHello
                comes again (a retransmission the network held back, or a
                second capture interface's copy), and after it the server's
                first flight. One second later the client port is reused:
                connection B (a SYN with ISN 900000, the server's ISN
                700000) completes the handshake and closes.
  synack-reuse  A completes IN's first handshake, its close not captured;
                five seconds later B reuses the client port, its SYN lost
                before the capture point: the server's SYN-ACK (ISN 700000,
                acknowledging the client's ISN 900000) comes first, then
                the client's ACK, the whole handshake and the close.
  synack-reuse-closed
                the same, A closed (both FINs, the last ACK) before B.
  synack-reuse-unseen
                reuse-unseen with B's SYN lost: B begins with the
                server's SYN-ACK.
  server-only   synack-reuse as a capture of the server's direction
                alone (the server's packets only).

Modes that rewrite every packet of IN, each as it was otherwise (times,
TCP headers and payloads):

  sll-vlan      Linux cooked v1 (`tcpdump -i any`) of VLAN 100 traffic:
                libpcap puts back the tag the NIC stripped, so the cooked
                protocol is 0x8100, then the tag, then 0x0800.
  sll2-vlan     the same in Linux cooked v2.
  ipv6          IPv4 made IPv6: fd00::a.b.c.d for a.b.c.d (the reference).
  ipv6-atomic   the same with an atomic fragment header (offset 0, M clear,
                RFC 6946) between the IPv6 and TCP headers.
  ipv4-ah       an IPsec AH header (transport mode, 24 bytes) between the
                IPv4 and TCP headers.
  vlanN         N stacked VLAN tags (N 1-9; 802.1ad outside, 802.1Q
                inside, VLAN ids 101, 102, ...) between the Ethernet and
                IPv4 headers. Both parsers follow 4 (include/tlswatch/
                headers.h).
  ipv6-extN     the ipv6 mode's packets with N extension headers (N 1-9; a
                hop-by-hop, then destination options, 8 bytes each) in
                front of TCP. Both parsers follow 8.

  no-syn        every packet of IN but those with SYN set, unchanged (as
                `tcpdump 'not (tcp[tcpflags] & tcp-syn != 0)'` writes
                them): connections captured after their 3-way handshake.
  not-tcp       every packet of IN, unchanged, then eight frames neither
                parser follows, one a millisecond: four not IP (an ARP
                request; behind a VLAN tag; in GRE; in VXLAN, port 4789)
                and four IP not TCP (UDP to port 53; ICMP echo; ICMPv6
                echo; UDP to port 53 in IPIP).

IP and TCP checksums are correct. Deterministic. Prints the number of
packets written.
"""
import os
import re
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import script_module  # noqa: E402  (scripts/lib/script_module.py)

FIN, SYN, PSH, ACK = 0x01, 0x02, 0x08, 0x10
ETH_LEN = 14
LINKTYPE_ETHERNET, LINKTYPE_SLL, LINKTYPE_SLL2 = 1, 113, 276
START_US = 1795431000 * 1000000          # 2026-11-23T10:50:00Z
VLAN_ID = 100
AH_SPI, IPPROTO_AH, IPPROTO_FRAG, IPPROTO_TCP = 0x1000, 51, 44, 6
IPPROTO_HOPOPTS, IPPROTO_DSTOPTS = 0, 60
PADN4 = b"\x01\x04\0\0\0\0"     # an option that pads 6 bytes


# the Internet checksum, shared with the other capture generators
csum = script_module.load("make-hostile-sni.py").csum


def ipv4_header(src, dst, proto, body_len, ident=0):
    h = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + body_len, ident,
                              0x4000, 64, proto, 0, src, dst))
    struct.pack_into("!H", h, 10, csum(bytes(h)))
    return bytes(h)


def tcp_checksummed(tcp, pseudo):
    """@tcp with its checksum (bytes 16-17 zero) computed over @pseudo."""
    c = csum(pseudo + tcp)
    return tcp[:16] + struct.pack("!H", c) + tcp[18:]


def ether(ethertype, body):
    return b"\x02\0\0\0\0\x02\x02\0\0\0\0\x01" + struct.pack("!H", ethertype) + body


def write_pcap(path, linktype, frames):
    """@frames: [(ts_us, frame)]"""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, linktype))
        for ts, frame in frames:
            f.write(struct.pack("<IIII", ts // 1000000, ts % 1000000,
                                len(frame), len(frame)))
            f.write(frame)


def ipv4_of(frame):
    """The IPv4 packet of an Ethernet frame (no padding), or None."""
    if frame[12:14] != b"\x08\x00":
        return None
    ip = frame[ETH_LEN:]
    return ip[:struct.unpack("!H", ip[2:4])[0]]


def first_conversation(packets):
    """[(from_client, payload)] of IN's first TCP connection, consecutive
    payloads of one side joined (client: the sender of the first packet)."""
    key = client = None
    out = []
    for _, _, frame in packets:
        ip = ipv4_of(frame)
        if ip is None or ip[9] != IPPROTO_TCP:
            continue
        tcp = ip[(ip[0] & 15) * 4:]
        src, dst = (ip[12:16], tcp[0:2]), (ip[16:20], tcp[2:4])
        if key is None:
            key, client = {src, dst}, src
        if {src, dst} != key:
            continue
        payload = tcp[(tcp[12] >> 4) * 4:]
        if not payload:
            continue
        fc = src == client
        if out and out[-1][0] == fc:
            out[-1] = (fc, out[-1][1] + payload)
        else:
            out.append((fc, payload))
    return out


class Conn:
    """A TCP connection over IPv4 and Ethernet, one packet a millisecond."""

    def __init__(self, cisn=1000, sisn=5000):
        self.ends = {True: (bytes([10, 0, 0, 1]), 40000),
                     False: (bytes([10, 0, 0, 2]), 443)}
        self.next = {True: cisn, False: sisn}
        self.t = START_US
        self.frames = []

    def seg(self, from_client, payload=b"", flags=ACK | PSH, seq=None):
        """Sends @payload; with @seq, a retransmission (next unchanged)."""
        (sip, sport), (dip, dport) = self.ends[from_client], self.ends[not from_client]
        s = self.next[from_client] if seq is None else seq
        ack = self.next[not from_client] if flags & ACK else 0
        tcp = struct.pack("!HHIIBBHHH", sport, dport, s & 0xFFFFFFFF,
                          ack & 0xFFFFFFFF, 5 << 4, flags, 65535, 0, 0) + payload
        pseudo = sip + dip + struct.pack("!BBH", 0, IPPROTO_TCP, len(tcp))
        ip = ipv4_header(sip, dip, IPPROTO_TCP, len(tcp)) + tcp_checksummed(tcp, pseudo)
        self.t += 1000
        self.frames.append((self.t, ether(0x0800, ip)))
        if seq is None:
            self.next[from_client] = s + len(payload) + (1 if flags & (SYN | FIN) else 0)

    def send(self, from_client, data, mss=1448):
        for i in range(0, len(data), mss):
            self.seg(from_client, data[i:i + mss])

    def handshake(self, syn_seen=True):
        """SYN, SYN-ACK, ACK; without @syn_seen the SYN is not captured."""
        if syn_seen:
            self.seg(True, flags=SYN)
        else:
            self.next[True] += 1
        self.seg(False, flags=SYN | ACK)
        self.seg(True, flags=ACK)

    def conversation(self, msgs):
        for fc, data in msgs:
            self.send(fc, data)

    def close(self):
        """The client's FIN, the server's, the client's last ACK."""
        self.seg(True, flags=FIN | ACK)
        self.seg(False, flags=FIN | ACK)
        self.seg(True, flags=ACK)


FATAL_HANDSHAKE_FAILURE = b"\x15\x03\x03\x00\x02\x02\x28"


def refusal(msgs, mode):
    c = Conn()
    c.handshake()
    c.send(True, msgs[0][1])                       # the ClientHello
    alert_seq = c.next[False]
    c.next[False] += len(FATAL_HANDSHAKE_FAILURE)
    if mode == "alert-first":
        c.seg(False, FATAL_HANDSHAKE_FAILURE, seq=alert_seq)
    c.seg(False, flags=FIN | ACK)
    if mode == "fin-first":                        # lost, sent again
        c.seg(False, FATAL_HANDSHAKE_FAILURE, seq=alert_seq)
    c.seg(True, flags=FIN | ACK)
    c.seg(False, flags=ACK)
    if mode == "alert-lost":                       # the capture goes on
        c.t += 5 * 1000000
        c.ends[True] = (c.ends[True][0], 40001)
        c.seg(True, flags=SYN)
    return c.frames


def reuse_unseen(msgs):
    c = Conn(cisn=1000, sisn=5000)
    c.next[True] += 1                              # A's SYN went uncaptured
    c.send(True, msgs[0][1])
    c.t += 5 * 1000000
    c.next = {True: 900000, False: 700000}          # B
    c.handshake()
    c.conversation(msgs)
    c.close()
    return c.frames


def reuse_after(msgs, mode):
    """A, then B on the same addresses and ports (ISNs 900000, 700000)."""
    c = Conn(cisn=1000, sisn=5000)
    if mode == "synack-reuse-unseen":
        c.next[True] += 1                          # A's SYN went uncaptured
        c.send(True, msgs[0][1])
    else:
        c.handshake()
        c.conversation(msgs)
    if mode in ("late-retrans", "synack-reuse-closed"):
        c.close()
    if mode == "late-retrans":
        c.t += 100 * 1000
        c.seg(True, msgs[0][1], seq=1001)          # A's ClientHello again
        c.seg(False, msgs[1][1][:1448], seq=5001)  # and the server's answer
        c.t += 1000000
    else:
        c.t += 5 * 1000000
    c.next = {True: 900000, False: 700000}          # B
    c.handshake(syn_seen=mode == "late-retrans")
    c.conversation(msgs)
    c.close()
    if mode == "server-only":
        server = c.ends[False][0]
        c.frames = [(t, f) for t, f in c.frames
                    if f[ETH_LEN + 12:ETH_LEN + 16] == server]
    return c.frames


def sll(ip):
    return struct.pack("!HHH8sHHH", 0, 1, 6, b"\x02\0\0\0\0\x01\0\0", 0x8100,
                       VLAN_ID, 0x0800) + ip


def sll2(ip):
    return struct.pack("!HHIHBB8sHH", 0x8100, 0, 2, 1, 0, 6,
                       b"\x02\0\0\0\0\x01\0\0", VLAN_ID, 0x0800) + ip


def v6_addr(v4):
    return b"\xfd" + bytes(11) + v4


def ipv6(ip, atomic=False, n_ext=0):
    tcp = ip[(ip[0] & 15) * 4:]
    src, dst = v6_addr(ip[12:16]), v6_addr(ip[16:20])
    pseudo = src + dst + struct.pack("!IxxxB", len(tcp), IPPROTO_TCP)
    tcp = tcp_checksummed(tcp[:16] + b"\0\0" + tcp[18:], pseudo)
    ext, nh = b"", IPPROTO_TCP
    if atomic:
        ext, nh = struct.pack("!BBHI", IPPROTO_TCP, 0, 0, 0x5EED), IPPROTO_FRAG
    for i in range(n_ext, 0, -1):      # built from the last one back
        ext = bytes([nh, 0]) + PADN4 + ext
        nh = IPPROTO_HOPOPTS if i == 1 else IPPROTO_DSTOPTS
    body = ext + tcp
    return ether(0x86DD, struct.pack("!IHBB16s16s", 6 << 28, len(body), nh, 64,
                                     src, dst) + body)


def ipv4_ah(ip, seq):
    ihl = (ip[0] & 15) * 4
    if ip[9] != IPPROTO_TCP or ihl != 20:
        return ether(0x0800, ip)
    # next header, length (6 words - 2), reserved, SPI, sequence, 12-byte ICV
    ah = struct.pack("!BBHII", IPPROTO_TCP, 4, 0, AH_SPI, seq) + bytes(12)
    ident = struct.unpack("!H", ip[4:6])[0]
    hdr = ipv4_header(ip[12:16], ip[16:20], IPPROTO_AH, len(ah) + len(ip) - ihl, ident)
    return ether(0x0800, hdr + ah + ip[ihl:])


def vlan(ip, tags):
    tpids = [0x88A8] * (tags - 1) + [0x8100]
    hdrs = b"".join(struct.pack("!HH", VLAN_ID + i + 1,
                                tpids[i + 1] if i + 1 < tags else 0x0800)
                    for i in range(tags))
    return ether(tpids[0], hdrs + ip)


def rewrap(packets, mode):
    """(linktype, frames) of every IPv4 packet of IN rewritten by @mode."""
    linktype = {"sll-vlan": LINKTYPE_SLL, "sll2-vlan": LINKTYPE_SLL2}.get(
        mode, LINKTYPE_ETHERNET)
    counted = re.fullmatch(r"(vlan|ipv6-ext)([1-9])", mode)
    frames = []
    for i, (ts, _, frame) in enumerate(packets):
        ip = ipv4_of(frame)
        if ip is None:
            raise SystemExit("IN: a packet that is not IPv4 on Ethernet")
        if counted and counted[1] == "vlan":
            wrapped = vlan(ip, int(counted[2]))
        elif counted:
            wrapped = ipv6(ip, n_ext=int(counted[2]))
        else:
            wrapped = {"sll-vlan": lambda: sll(ip), "sll2-vlan": lambda: sll2(ip),
                       "ipv6": lambda: ipv6(ip),
                       "ipv6-atomic": lambda: ipv6(ip, atomic=True),
                       "ipv4-ah": lambda: ipv4_ah(ip, i + 1)}[mode]()
        frames.append((round(ts * 1e6), wrapped))
    return linktype, frames


def no_syn(packets):
    """(linktype, frames) of every packet of IN without SYN."""
    frames = []
    for ts, _, frame in packets:
        ip = ipv4_of(frame)
        if ip is None:
            raise SystemExit("IN: a packet that is not IPv4 on Ethernet")
        if ip[9] == IPPROTO_TCP and ip[(ip[0] & 15) * 4 + 13] & SYN:
            continue
        frames.append((round(ts * 1e6), frame))
    return LINKTYPE_ETHERNET, frames


def not_tcp(packets):
    """(linktype, frames) of every packet of IN, then NOT_TCP_FRAMES."""
    frames = [(round(ts * 1e6), frame) for ts, _, frame in packets]
    last = frames[-1][0] if frames else START_US
    for i, frame in enumerate(not_tcp_frames()):
        frames.append((last + 1000 * (i + 1), frame))
    return LINKTYPE_ETHERNET, frames


def not_tcp_frames():
    """The not-tcp mode's eight frames (see the usage)."""
    a, b = bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])
    a6, b6 = v6_addr(a), v6_addr(b)
    arp = bytes([0, 1, 8, 0, 6, 4, 0, 1]) + bytes(20)
    udp53 = struct.pack("!HHHH", 40000, 53, 16, 0) + bytes(8)
    icmp = bytes([8, 0, 0, 0, 0, 1, 0, 1])
    inner_arp = ether(0x0806, arp)
    vxlan = struct.pack("!HHHH", 40001, 4789, 16 + len(inner_arp), 0) + \
        bytes([8, 0, 0, 0, 0, 0, 42, 0])
    ipv6 = struct.pack("!IHBB", 0x60000000, len(icmp), 58, 64) + a6 + b6
    return [
        ether(0x0806, arp),
        ether(0x8100, struct.pack("!HH", VLAN_ID, 0x0806) + arp),
        ether(0x0800, ipv4_header(a, b, 47, 4 + len(arp)) + b"\0\0\x08\x06" + arp),
        ether(0x0800, ipv4_header(a, b, 17, len(vxlan) + len(inner_arp)) + vxlan + inner_arp),
        ether(0x0800, ipv4_header(a, b, 17, len(udp53)) + udp53),
        ether(0x0800, ipv4_header(a, b, 1, len(icmp)) + icmp),
        ether(0x86DD, ipv6 + bytes([128]) + icmp[1:]),
        ether(0x0800, ipv4_header(a, b, 4, 20 + len(udp53)) +
              ipv4_header(a, b, 17, len(udp53)) + udp53),
    ]


def main():
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    mode, src, out = sys.argv[1:]
    head, packets = script_module.load("make-clock-jumps.py").read_pcap(src)
    if struct.unpack("<I", head[20:24])[0] != LINKTYPE_ETHERNET:
        raise SystemExit(f"{src}: not an Ethernet capture")
    msgs = first_conversation(packets)
    if mode in ("fin-first", "alert-first", "alert-lost"):
        linktype, frames = LINKTYPE_ETHERNET, refusal(msgs, mode)
    elif mode == "reuse-unseen":
        linktype, frames = LINKTYPE_ETHERNET, reuse_unseen(msgs)
    elif mode in ("late-retrans", "synack-reuse", "synack-reuse-closed",
                  "synack-reuse-unseen", "server-only"):
        linktype, frames = LINKTYPE_ETHERNET, reuse_after(msgs, mode)
    elif mode in ("sll-vlan", "sll2-vlan", "ipv6", "ipv6-atomic", "ipv4-ah") or \
            re.fullmatch(r"(vlan|ipv6-ext)[1-9]", mode):
        linktype, frames = rewrap(packets, mode)
    elif mode == "no-syn":
        linktype, frames = no_syn(packets)
    elif mode == "not-tcp":
        linktype, frames = not_tcp(packets)
    else:
        raise SystemExit(__doc__)
    write_pcap(out, linktype, frames)
    print(len(frames))


if __name__ == "__main__":
    main()
