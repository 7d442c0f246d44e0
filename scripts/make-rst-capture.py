#!/usr/bin/env python3
"""Injects TCP resets into a capture of real handshakes.

Usage: make-rst-capture.py MODE IN.pcap OUT.pcap

IN is a classic pcap on Ethernet of real handshakes over IPv4 (such as
tests/data/captures/tls12_rsa.pcap: openssl s_server and s_client, taken
with tcpdump). Its first TCP connection gets resets that its two ends
never sent; every other packet is copied as it was.

  spoofed   two resets no real stack would send, as an off-path attacker
            guesses them: after the ClientHello, one "from the server"
            whose sequence number is half the sequence space away from
            where the server had got (the ClientHello's ACK); after the
            server's first payload packet, one "from the client" 1 MiB
            behind where the client had got (that packet's ACK). The
            connection goes on as captured: a watcher must ignore both.
  inwindow  after the server's first payload packet, one "from the
            server" at the sequence number the client acknowledged last
            (the start of that packet: behind where the server had got, as
            a stack answering a segment of a connection it forgot sends
            it); the connection's later packets are left out, as the real
            reset would have ended it.

Each reset is an RST+ACK without payload, its ACK the other side's next
sequence number, with correct IP and TCP checksums, timed one microsecond
after the packet it follows. Deterministic. Prints the number of packets
written.
"""
import struct
import sys

ETH_LEN = 14
TCP_FIN, TCP_SYN, TCP_RST, TCP_ACK = 0x01, 0x02, 0x04, 0x10


def read_pcap(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != struct.pack("<I", 0xA1B2C3D4):
        raise SystemExit(f"{path}: not a little-endian microsecond pcap")
    if struct.unpack("<I", data[20:24])[0] != 1:
        raise SystemExit(f"{path}: not an Ethernet capture")
    head, off, packets = data[:24], 24, []
    while off + 16 <= len(data):
        sec, usec, caplen, wirelen = struct.unpack("<IIII", data[off:off + 16])
        off += 16
        packets.append([sec, usec, wirelen, data[off:off + caplen]])
        off += caplen
    return head, packets


def tcp_fields(frame):
    """(src ip, dst ip, sport, dport, seq, ack, flags, payload) of an
    Ethernet IPv4 TCP frame, or None."""
    if frame[12:14] != b"\x08\x00":
        return None
    ip = frame[ETH_LEN:]
    if ip[0] >> 4 != 4 or ip[9] != 6:
        return None
    ihl = (ip[0] & 15) * 4
    total = struct.unpack("!H", ip[2:4])[0]
    tcp = ip[ihl:total]
    sport, dport, seq, ack, off, flags = struct.unpack("!HHIIBB", tcp[:14])
    return ip[12:16], ip[16:20], sport, dport, seq, ack, flags, tcp[(off >> 4) * 4:]


def checksum(data):
    if len(data) % 2:
        data += b"\x00"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def rst_packet(src, dst, sport, dport, seq, ack, flags=TCP_RST | TCP_ACK,
               payload=b""):
    """An IPv4 RST+ACK (or a segment with other @flags, and @payload)
    from src:sport to dst:dport (addresses as 4 bytes), its IP and TCP
    checksums set."""
    tcp = bytearray(struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF,
                                ack & 0xFFFFFFFF, 5 << 4, flags, 0, 0, 0) + payload)
    pseudo = src + dst + struct.pack("!BBH", 0, 6, len(tcp))
    struct.pack_into("!H", tcp, 16, checksum(pseudo + bytes(tcp)))
    ip = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0, 0x4000,
                               64, 6, 0, src, dst))
    struct.pack_into("!H", ip, 10, checksum(bytes(ip)))
    return bytes(ip) + bytes(tcp)


def rst_frame(like, src, dst, sport, dport, seq, ack):
    """rst_packet() behind @like's Ethernet header, turned the right way."""
    eth = like[6:12] + like[0:6] + like[12:14] if like_reversed(like, src) else like[:ETH_LEN]
    return eth + rst_packet(src, dst, sport, dport, seq, ack)


def like_reversed(frame, src):
    """Whether @frame was sent by the other end than @src."""
    return frame[ETH_LEN + 12:ETH_LEN + 16] != src


def after(pkt, frame):
    """A record one microsecond after @pkt holding @frame."""
    usec = pkt[0] * 1000000 + pkt[1] + 1
    return [usec // 1000000, usec % 1000000, len(frame), frame]


def inject(mode, packets):
    first = tcp_fields(packets[0][3])
    if not first or not first[6] & TCP_SYN:
        raise SystemExit("the capture does not start with a SYN")
    client, server = (first[0], first[2]), (first[1], first[3])
    out, hello_seen, server_data_seen, ended = [], False, False, False
    client_next = 0
    for pkt in packets:
        f = tcp_fields(pkt[3])
        ours = f and {(f[0], f[2]), (f[1], f[3])} == {client, server}
        if ours and ended:
            continue
        out.append(pkt)
        if not ours or not f[7]:
            continue
        if (f[0], f[2]) == client:
            client_next = f[4] + len(f[7])
            if hello_seen or f[7][0] != 0x16:
                continue
            hello_seen = True
            if mode == "spoofed":
                # half the sequence space from where the server had got
                # (the hello's ACK)
                out.append(after(pkt, rst_frame(pkt[3], server[0], client[0], server[1],
                                                client[1], f[5] + (1 << 31), client_next)))
        elif not server_data_seen:
            server_data_seen = True
            if mode == "spoofed":
                # 1 MiB behind where the client had got (this packet's ACK)
                out.append(after(pkt, rst_frame(pkt[3], client[0], server[0], client[1],
                                                server[1], f[5] - (1 << 20),
                                                f[4] + len(f[7]))))
            else:
                # at the ACK the client sent last, as a stack answering it
                # would: behind the packet just sent
                out.append(after(pkt, rst_frame(pkt[3], server[0], client[0], server[1],
                                                client[1], f[4], client_next)))
                ended = True
    return out


def main():
    if len(sys.argv) != 4 or sys.argv[1] not in ("spoofed", "inwindow"):
        raise SystemExit(__doc__)
    head, packets = read_pcap(sys.argv[2])
    out = inject(sys.argv[1], packets)
    with open(sys.argv[3], "wb") as f:
        f.write(head)
        for sec, usec, wirelen, frame in out:
            f.write(struct.pack("<IIII", sec, usec, len(frame), max(wirelen, len(frame))))
            f.write(frame)
    print(len(out))


if __name__ == "__main__":
    main()
