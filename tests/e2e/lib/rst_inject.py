#!/usr/bin/env python3
"""Spoofed TCP resets for the live tests, crafted by hand (raw sockets).

Usage:
  rst_inject.py hello IFACE SERVER_IP PORT OUT
      Watches IFACE (AF_PACKET) for the first IPv4 TCP segment to
      SERVER_IP:PORT whose payload starts a TLS handshake record (a
      ClientHello) and writes "CLIENT_IP CLIENT_PORT NEXT_SEQ ACK" to OUT:
      the client's next sequence number after it and the server's, as the
      hello acknowledges. Gives up after 20 s (exit 1). Creates OUT.bound
      once its socket is bound (what it sees from then on is queued to it):
      a client may start then.
  rst_inject.py send SRC_IP SRC_PORT DST_IP DST_PORT SEQ ACK [KIND [SOCKET]]
      Sends one RST+ACK from SRC to DST through a raw IPv4 socket (run it
      in the namespace the source address lives in), crafted as
      scripts/make-rst-capture.py crafts those of captures. KIND: rst
      (the default), fin (FIN+ACK), syn (a SYN: ACK 0 and no ACK flag),
      synack (SYN+ACK) or ack (a bare ACK: to a port whose connection this
      host no longer holds, it makes the kernel answer with its own reset,
      at sequence number ACK).
      SOCKET: raw (the default), socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
      or tcp, socket(AF_INET, SOCK_RAW, IPPROTO_TCP) with IP_HDRINCL: the
      same bytes, from a socket whose protocol is TCP (only its type,
      SOCK_RAW, says it is not the TCP stack's), as a process with
      CAP_NET_RAW (a container's, by default) can open one.
  rst_inject.py sockreset SRC_IP SRC_PORT DST_IP DST_PORT SEQ ACK
      Sends one RST+ACK from SRC to DST, at SEQ, through a TCP stream socket
      of the namespace it runs in: the kernel's own reset, not a crafted
      one. The socket is made IP_TRANSPARENT (to bind to and send from SRC,
      an address that namespace need not have) and put in TCP_REPAIR mode
      (CAP_NET_ADMIN) to take SEQ and ACK as where its connection has got
      and connect without a SYN; it leaves repair mode without a window
      probe and is closed with a zero linger time: one RST, at SEQ.
  rst_inject.py clienthello SRC_IP SRC_PORT DST_IP DST_PORT SEQ ACK SNI
      Sends one segment (ACK+PSH) whose payload is a TLS ClientHello for
      SNI (Python's ssl module's, as a client of this host would send it),
      from SRC to DST through socket(AF_INET, SOCK_RAW, IPPROTO_TCP) with
      IP_HDRINCL: a hello that leaves this host from a raw socket, not
      from a TCP connection of its stack.
"""
import os
import socket
import ssl
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "..", "scripts", "lib"))
import script_module  # noqa: E402  (scripts/lib/script_module.py)

ETH_P_ALL = 0x0003
# <linux/in.h>, <linux/tcp.h>: names Python's socket module lacks
IP_TRANSPARENT = 19
TCP_REPAIR, TCP_REPAIR_QUEUE, TCP_QUEUE_SEQ = 19, 20, 21
TCP_RECV_QUEUE, TCP_SEND_QUEUE = 1, 2
TCP_REPAIR_OFF_NO_WP = -1
TCP_PSH = 0x08


def crafting():
    """scripts/make-rst-capture.py, which crafts the resets of captures."""
    return script_module.load("make-rst-capture.py")


def watch_hello(iface, server, port, out):
    want = socket.inet_aton(server)
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    sock.bind((iface, 0))
    open(out + ".bound", "w").close()
    sock.settimeout(0.5)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            frame = sock.recv(65536)
        except socket.timeout:
            continue
        if frame[12:14] != b"\x08\x00":
            continue
        ip = frame[14:]
        if ip[9] != 6 or ip[16:20] != want:
            continue
        ihl = (ip[0] & 15) * 4
        total = struct.unpack("!H", ip[2:4])[0]
        tcp = ip[ihl:total]
        sport, dport, seq, ack = struct.unpack("!HHII", tcp[:12])
        payload = tcp[(tcp[12] >> 4) * 4:]
        if dport != port or not payload or payload[0] != 0x16:
            continue
        with open(out, "w") as f:
            f.write("%s %d %d %d\n" % (socket.inet_ntoa(ip[12:16]), sport,
                                       (seq + len(payload)) & 0xFFFFFFFF, ack))
        return 0
    return 1


# The socket each SOCKET of "send" opens: (protocol, needs IP_HDRINCL).
SOCKETS = {"raw": (socket.IPPROTO_RAW, False), "tcp": (socket.IPPROTO_TCP, True)}
KINDS = ("rst", "fin", "syn", "synack", "ack")


def send_rst(src, sport, dst, dport, seq, ack, kind="rst", via="raw"):
    mod = crafting()
    flags = {"rst": mod.TCP_RST | mod.TCP_ACK, "fin": mod.TCP_FIN | mod.TCP_ACK,
             "syn": mod.TCP_SYN, "synack": mod.TCP_SYN | mod.TCP_ACK,
             "ack": mod.TCP_ACK}[kind]
    if kind == "syn":
        ack = 0
    return send_packet(mod.rst_packet(socket.inet_aton(src), socket.inet_aton(dst),
                                      sport, dport, seq, ack, flags), dst, via)


def send_packet(packet, dst, via):
    """Sends the IPv4 @packet to @dst through the raw socket @via opens
    (SOCKETS)."""
    proto, hdrincl = SOCKETS[via]
    with socket.socket(socket.AF_INET, socket.SOCK_RAW, proto) as sock:
        if hdrincl:  # IPPROTO_RAW implies it; the packet has its IP header
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_HDRINCL, 1)
        sock.sendto(packet, (dst, 0))
    return 0


def client_hello(sni):
    """The first flight of a TLS client of Python's ssl module: its
    ClientHello record."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = ctx.wrap_bio(incoming, outgoing, server_hostname=sni)
    try:
        tls.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return outgoing.read()


def send_hello(src, sport, dst, dport, seq, ack, sni):
    mod = crafting()
    return send_packet(mod.rst_packet(socket.inet_aton(src), socket.inet_aton(dst),
                                      sport, dport, seq, ack, mod.TCP_ACK | TCP_PSH,
                                      client_hello(sni)), dst, "tcp")


def sock_reset(src, sport, dst, dport, seq, ack):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_IP, IP_TRANSPARENT, 1)
        sock.setsockopt(socket.SOL_TCP, TCP_REPAIR, 1)
        sock.bind((src, sport))
        for queue, value in ((TCP_SEND_QUEUE, seq), (TCP_RECV_QUEUE, ack)):
            sock.setsockopt(socket.SOL_TCP, TCP_REPAIR_QUEUE, queue)
            sock.setsockopt(socket.SOL_TCP, TCP_QUEUE_SEQ, struct.pack("I", value))
        sock.connect((dst, dport))  # in repair mode: established, no SYN
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.setsockopt(socket.SOL_TCP, TCP_REPAIR, TCP_REPAIR_OFF_NO_WP)
    return 0


def main():
    a = sys.argv[1:]
    if len(a) == 5 and a[0] == "hello":
        return watch_hello(a[1], a[2], int(a[3]), a[4])
    if (len(a) in (7, 8, 9) and a[0] == "send" and a[7:8] in ([], *([k] for k in KINDS))
            and a[8:9] in ([], *([v] for v in SOCKETS))):
        return send_rst(a[1], int(a[2]), a[3], int(a[4]), int(a[5]), int(a[6]), *a[7:])
    if len(a) == 8 and a[0] == "clienthello":
        return send_hello(a[1], int(a[2]), a[3], int(a[4]), int(a[5]), int(a[6]), a[7])
    if len(a) == 7 and a[0] == "sockreset":
        return sock_reset(a[1], int(a[2]), a[3], int(a[4]), int(a[5]), int(a[6]))
    raise SystemExit(__doc__)


if __name__ == "__main__":
    sys.exit(main())
