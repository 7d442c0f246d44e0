#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Hostile TLS clients for the flood tests: real ClientHellos (made by
Python's ssl module through a memory BIO, so they are what OpenSSL sends),
written on plain sockets.

  hello_flood.py garbage --addr A --count N
      N connections one after the other, each writes 1,000 random bytes and
      resets. Prints {"sent": n, "failed": n}.
  hello_flood.py bytewise --addr A --count N [--sni-prefix P]
      N connections one after the other, each writes its ClientHello one
      byte per TCP segment (TCP_NODELAY, a pause between bytes), waits up
      to 5 s for the server's first bytes, then resets the connection.
      Prints {"sent": n, "answered": n, "failed": n}.
  hello_flood.py stopped --addr A[,B...] --src S --first-port P --count N
                 [--window W] [--sni-prefix P]
      N connections that each send one ClientHello (SNI P<i>.test) and
      stop, without N descriptors: connection i goes from S:(P + i / k) to
      the i % k-th of the k addresses, port 443 (so every one has its own
      addresses and ports); once the server has acknowledged the hello,
      the socket is put in TCP repair mode and closed, which sends nothing
      (no FIN, no RST: needs CAP_NET_ADMIN). The server keeps an
      established connection that never says anything again (until it
      resets it), and at most W (default 512) descriptors are open here.
      Prints {"stopped": n, "failed": n, "seconds": s}.
Bounded: connects and reads time out after 5 s; the stopped flood ends
within 300 s (what is left counts as failed).
"""
import argparse
import fcntl
import json
import os
import selectors
import socket
import ssl
import struct
import time

TIMEOUT_S = 5
LINGER_RST = struct.pack("ii", 1, 0)
TIOCOUTQ = 0x5411      # bytes sent and not yet acknowledged
TCP_REPAIR = 19        # linux/tcp.h
STOPPED_MAX_S = 300    # the whole stopped flood, at most

_CTX = None


def client_hello(sni):
    global _CTX
    if _CTX is None:   # one context: a hello then costs ~60 us, not ~200
        _CTX = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        _CTX.check_hostname = False
        _CTX.verify_mode = ssl.CERT_NONE
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = _CTX.wrap_bio(inc, out, server_hostname=sni)
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


class Stopped:
    """The state of the stopped flood: connections being opened (waiting
    for the connect) and hellos waiting for the server's acknowledgement,
    each with a deadline."""

    def __init__(self, a):
        self.a = a
        self.addrs = a.addr.split(",")
        self.sel = selectors.DefaultSelector()
        self.acked = {}    # fd -> (socket, deadline): hello sent
        self.next = self.stopped = self.failed = 0

    def open_one(self):
        i = self.next
        self.next += 1
        addr = self.addrs[i % len(self.addrs)]
        s = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET)
        try:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((self.a.src, self.a.first_port + i // len(self.addrs)))
            s.setblocking(False)
            s.connect_ex((addr, 443))
            self.sel.register(s, selectors.EVENT_WRITE,
                              (i, time.monotonic() + TIMEOUT_S))
        except OSError:
            s.close()
            self.failed += 1

    def connected(self, key):
        s, (i, _) = key.fileobj, key.data
        self.sel.unregister(s)
        try:
            if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
                raise OSError("connect failed")
            hello = client_hello("%s%d.test" % (self.a.sni_prefix, i))
            if s.send(hello) != len(hello):
                raise OSError("short send")
        except OSError:
            s.close()
            self.failed += 1
            return
        self.acked[s.fileno()] = (s, time.monotonic() + TIMEOUT_S)

    def stop_acked(self):
        now = time.monotonic()
        for fd, (s, deadline) in list(self.acked.items()):
            left = struct.unpack("i", fcntl.ioctl(s, TIOCOUTQ, b"\0" * 4))[0]
            if left and now < deadline:
                continue
            del self.acked[fd]
            try:
                if left:
                    raise OSError("hello not acknowledged")
                # repair mode: close() sends nothing at all
                s.setsockopt(socket.IPPROTO_TCP, TCP_REPAIR, 1)
                self.stopped += 1
            except OSError:
                self.failed += 1
            s.close()

    def expire_connects(self):
        now = time.monotonic()
        for key in list(self.sel.get_map().values()):
            if now >= key.data[1]:
                self.sel.unregister(key.fileobj)
                key.fileobj.close()
                self.failed += 1

    def busy(self):
        return len(self.sel.get_map()) + len(self.acked)

    def run(self):
        start = time.monotonic()
        while (self.next < self.a.count or self.busy()) and \
                time.monotonic() - start < STOPPED_MAX_S:
            while self.next < self.a.count and self.busy() < self.a.window:
                self.open_one()
            for key, _ in self.sel.select(timeout=0.001):
                self.connected(key)
            self.stop_acked()
            self.expire_connects()
        self.failed += self.a.count - self.next + self.busy()
        return time.monotonic() - start


def stopped(a):
    st = Stopped(a)
    secs = st.run()
    print(json.dumps({"stopped": st.stopped, "failed": st.failed,
                      "seconds": round(secs, 1)}))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["garbage", "bytewise", "stopped"])
    p.add_argument("--addr", required=True)
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--sni-prefix", default="flood")
    p.add_argument("--src", default="")
    p.add_argument("--first-port", type=int, default=20000)
    p.add_argument("--window", type=int, default=512)
    a = p.parse_args()
    {"garbage": garbage, "bytewise": bytewise, "stopped": stopped}[a.mode](a)


if __name__ == "__main__":
    main()
