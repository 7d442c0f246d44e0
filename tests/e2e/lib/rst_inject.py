#!/usr/bin/env python3
"""Spoofed TCP resets for the live tests, crafted by hand (raw sockets).

Usage:
  rst_inject.py hello IFACE SERVER_IP PORT OUT
      Watches IFACE (AF_PACKET) for the first IPv4 TCP segment to
      SERVER_IP:PORT whose payload starts a TLS handshake record (a
      ClientHello) and writes "CLIENT_IP CLIENT_PORT NEXT_SEQ ACK" to OUT:
      the client's next sequence number after it and the server's, as the
      hello acknowledges. Gives up after 20 s (exit 1).
  rst_inject.py send SRC_IP SRC_PORT DST_IP DST_PORT SEQ ACK [KIND [SOCKET]]
      Sends one RST+ACK from SRC to DST through a raw IPv4 socket (run it
      in the namespace the source address lives in), crafted as
      scripts/make-rst-capture.py crafts those of captures. KIND: rst
      (the default), fin (FIN+ACK) or syn (a SYN: ACK 0 and no ACK flag).
      SOCKET: raw (the default), socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
      or tcp, socket(AF_INET, SOCK_RAW, IPPROTO_TCP) with IP_HDRINCL: the
      same bytes, from a socket whose protocol is TCP (only its type,
      SOCK_RAW, says it is not the TCP stack's), as a process with
      CAP_NET_RAW (a container's, by default) can open one.
  rst_inject.py connect SRC_IP SRC_PORT DST_IP DST_PORT
      Sends one SYN from SRC to DST through a TCP stream socket of the
      namespace it runs in, made IP_TRANSPARENT (CAP_NET_RAW, a Docker
      container's by default) to bind to and send from SRC, an address
      that namespace need not have: the kernel's own SYN, its sequence
      number the kernel's choice. The socket is closed
      0.2 s later, before a retransmission (closing one in SYN_SENT sends
      nothing).
"""
import errno
import os
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "..", "scripts", "lib"))
import script_module  # noqa: E402  (scripts/lib/script_module.py)

ETH_P_ALL = 0x0003
IP_TRANSPARENT = 19  # <linux/in.h>; Python's socket module lacks the name


def crafting():
    """scripts/make-rst-capture.py, which crafts the resets of captures."""
    return script_module.load("make-rst-capture.py")


def watch_hello(iface, server, port, out):
    want = socket.inet_aton(server)
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    sock.bind((iface, 0))
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
KINDS = ("rst", "fin", "syn")


def send_rst(src, sport, dst, dport, seq, ack, kind="rst", via="raw"):
    mod = crafting()
    flags = {"rst": mod.TCP_RST | mod.TCP_ACK, "fin": mod.TCP_FIN | mod.TCP_ACK,
             "syn": mod.TCP_SYN}[kind]
    if kind == "syn":
        ack = 0
    packet = mod.rst_packet(socket.inet_aton(src), socket.inet_aton(dst),
                            sport, dport, seq, ack, flags)
    proto, hdrincl = SOCKETS[via]
    with socket.socket(socket.AF_INET, socket.SOCK_RAW, proto) as sock:
        if hdrincl:  # IPPROTO_RAW implies it; the packet has its IP header
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_HDRINCL, 1)
        sock.sendto(packet, (dst, 0))
    return 0


def connect_syn(src, sport, dst, dport):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_IP, IP_TRANSPARENT, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((src, sport))
        sock.setblocking(False)
        err = sock.connect_ex((dst, dport))
        if err not in (0, errno.EINPROGRESS):
            raise SystemExit("connect: %s" % os.strerror(err))
        time.sleep(0.2)
    return 0


def main():
    a = sys.argv[1:]
    if len(a) == 5 and a[0] == "hello":
        return watch_hello(a[1], a[2], int(a[3]), a[4])
    if (len(a) in (7, 8, 9) and a[0] == "send" and a[7:8] in ([], *([k] for k in KINDS))
            and a[8:9] in ([], *([v] for v in SOCKETS))):
        return send_rst(a[1], int(a[2]), a[3], int(a[4]), int(a[5]), int(a[6]), *a[7:])
    if len(a) == 5 and a[0] == "connect":
        return connect_syn(a[1], int(a[2]), a[3], int(a[4]))
    raise SystemExit(__doc__)


if __name__ == "__main__":
    sys.exit(main())
