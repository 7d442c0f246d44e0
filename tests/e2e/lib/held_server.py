#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A TLS 1.2 server that holds a connection's ClientHello unanswered until
told to go on, so that an agent started meanwhile sees the connection first
from its server's side (the ServerHello), its hello missed.

Usage: held_server.py CERT KEY ADDR PORT READY GO

Serves one connection: accepts it, waits until the client's first bytes
(its hello) are in, creates the file READY, waits until the file GO exists
(at most 240 s, a guard against a caller that dies; callers bound the run
with timeout), then does the handshake, reads a line and answers
"HTTP/1.0 200 OK", and closes. Exit 0 when the handshake completed.
"""
import os
import socket
import ssl
import sys
import time

GUARD_S = 240


def main():
    cert, key, addr, port, ready, go = sys.argv[1:7]
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(cert, key)
    family = socket.AF_INET6 if ":" in addr else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as lsock:
        lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        lsock.bind((addr, int(port)))
        lsock.listen(1)
        conn, _ = lsock.accept()
    with conn:
        conn.settimeout(GUARD_S)
        # the hello is in the socket's queue, not taken: the handshake
        # below reads it as if it had just come
        if not conn.recv(5, socket.MSG_PEEK):
            sys.exit("the client closed before its hello")
        open(ready, "w").close()
        deadline = time.monotonic() + GUARD_S
        while not os.path.exists(go):
            if time.monotonic() > deadline:
                sys.exit("no go file")
            time.sleep(0.05)
        with ctx.wrap_socket(conn, server_side=True) as tls:
            tls.recv(4096)
            tls.sendall(b"HTTP/1.0 200 OK\r\n\r\nheld\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
