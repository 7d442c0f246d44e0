#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Hostile TLS clients for the flood tests: real ClientHellos (made by
Python's ssl module through a memory BIO, so they are what OpenSSL sends),
written on plain sockets.

  hello_flood.py halfopen --addr A --count N --hold S [--sni-prefix P]
      N connections to A:443, each sends one ClientHello (SNI P<i>.test)
      and stops (--one-name: all with SNI P.test). Holds them S seconds,
      then resets them all (SO_LINGER 0).
      Prints one JSON line: {"opened": n, "failed": n}.
  hello_flood.py garbage --addr A --count N
      N connections one after the other, each writes 1,000 random bytes and
      resets. Prints {"sent": n, "failed": n}.
  hello_flood.py bytewise --addr A --count N [--sni-prefix P]
      N connections one after the other, each writes its ClientHello one
      byte per TCP segment (TCP_NODELAY, a pause between bytes), waits up
      to 5 s for the server's first bytes, then resets the connection.
      Prints {"sent": n, "answered": n, "failed": n}.
Bounded: connects and reads time out after 5 s.
"""
import argparse
import json
import os
import socket
import ssl
import struct
import time

TIMEOUT_S = 5
LINGER_RST = struct.pack("ii", 1, 0)


def client_hello(sni):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out, server_hostname=sni)
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return out.read()


def connect(addr):
    s = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET)
    s.settimeout(TIMEOUT_S)
    s.connect((addr, 443))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER_RST)
    return s


def halfopen(a):
    socks, failed = [], 0
    for i in range(a.count):
        try:
            s = connect(a.addr)
            name = a.sni_prefix if a.one_name else "%s%d" % (a.sni_prefix, i)
            s.sendall(client_hello(name + ".test"))
            socks.append(s)
        except OSError:
            failed += 1
    time.sleep(a.hold)
    for s in socks:
        s.close()
    print(json.dumps({"opened": len(socks), "failed": failed}))


def garbage(a):
    sent = failed = 0
    for _ in range(a.count):
        try:
            s = connect(a.addr)
            s.sendall(os.urandom(1000))
            s.close()
            sent += 1
        except OSError:
            failed += 1
    print(json.dumps({"sent": sent, "failed": failed}))


def bytewise(a):
    sent = answered = failed = 0
    for i in range(a.count):
        try:
            s = connect(a.addr)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            for b in client_hello("%s%d.test" % (a.sni_prefix, i)):
                s.send(bytes([b]))
                time.sleep(0.0002)  # each byte leaves in its own segment
            sent += 1
            try:
                if s.recv(1):
                    answered += 1
            except OSError:
                pass
            s.close()
        except OSError:
            failed += 1
    print(json.dumps({"sent": sent, "answered": answered, "failed": failed}))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["halfopen", "garbage", "bytewise"])
    p.add_argument("--addr", required=True)
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--hold", type=float, default=1.0)
    p.add_argument("--sni-prefix", default="flood")
    p.add_argument("--one-name", action="store_true")
    a = p.parse_args()
    {"halfopen": halfopen, "garbage": garbage, "bytewise": bytewise}[a.mode](a)


if __name__ == "__main__":
    main()
