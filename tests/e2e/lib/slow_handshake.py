#!/usr/bin/env python3
"""One TLS 1.2 handshake that pauses between the server's first flight and
the client's answer, so that it is still open when the agent's clock ticks.

Usage: slow_handshake.py HOST PORT SNI PAUSE [AFTER]
PAUSE is seconds, or file:PATH to pause until PATH exists (at most 240 s,
a guard against a caller that dies; callers bound the run with timeout):
the caller decides when the pause has done its work. Or vanish:PATH: the
same pause, and then the client leaves its connection without a word (the
socket put in TCP_REPAIR mode and closed: no FIN, no RST; CAP_NET_ADMIN)
and exits 0, so that this host's stack no longer holds a connection the
server still has: what the server sends next is answered by the kernel's
own reset. AFTER, in the same
form: a second pause, once the handshake is complete and before the GET;
the client then reads the answer (the connection goes on after the
handshake, while the agent has it decided).
If the environment names a file in SLOW_HANDSHAKE_READY, it is created
once the server's flight is in (the first pause begins): the caller can
wait for that instead of guessing how long a start takes.
Exit 0 when the handshake completed and a GET was answered.
"""
import os
import socket
import ssl
import sys
import time

TCP_REPAIR = 19  # <linux/tcp.h>: Python's socket module lacks it


def wait(pause):
    if pause.startswith("vanish:"):
        pause = "file:" + pause[len("vanish:"):]
    if not pause.startswith("file:"):
        time.sleep(float(pause))
        return
    deadline = time.monotonic() + 240
    while not os.path.exists(pause[5:]) and time.monotonic() < deadline:
        time.sleep(0.05)


def read_answer(sock, tls, incoming):
    """The first bytes of the server's answer (bounded: 64 reads)."""
    for _ in range(64):
        data = sock.recv(65536)
        if not data:
            break
        incoming.write(data)
        try:
            if tls.read(65536):
                return
        except ssl.SSLWantReadError:
            pass
    sys.exit("no answer")


def main():
    host, port, sni, pause = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    after = sys.argv[5] if len(sys.argv) > 5 else None
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = ctx.wrap_bio(incoming, outgoing, server_hostname=sni)
    sock = socket.create_connection((host, port), timeout=10)
    paused = False
    for _ in range(20):                       # a handshake is a few turns
        try:
            tls.do_handshake()
            break
        except ssl.SSLWantReadError:
            pass
        finally:
            sock.sendall(outgoing.read())
        data = sock.recv(65536)
        if not data:
            sys.exit("server closed during the handshake")
        if not paused:                        # the server's flight is in
            ready = os.environ.get("SLOW_HANDSHAKE_READY")
            if ready:
                open(ready, "w").close()
            wait(pause)
            paused = True
            if pause.startswith("vanish:"):
                # closed in repair mode: the socket goes, nothing is sent
                sock.setsockopt(socket.SOL_TCP, TCP_REPAIR, 1)
                sock.close()
                return
        incoming.write(data)
    else:
        sys.exit("handshake did not finish")
    if after:
        wait(after)
    tls.write(b"GET / HTTP/1.0\r\n\r\n")
    sock.sendall(outgoing.read())
    if after:
        read_answer(sock, tls, incoming)
    sock.close()


if __name__ == "__main__":
    main()
