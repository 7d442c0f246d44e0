#!/usr/bin/env python3
"""A TLS 1.2 connection whose one side sends many bytes after the handshake
and then resets it (SO_LINGER 0: a real RST, at the sequence number its
stack has reached).

Usage:
  bulk_reset.py server ADDR PORT CERT KEY WHO BYTES
      Serves one connection. WHO is the side that sends BYTES and resets:
      server or client.
  bulk_reset.py client ADDR PORT WHO BYTES GO
      Connects, completes the handshake, waits until the file GO exists
      (at most 30 s: the caller has seen the handshake reported), then the
      bulk: WHO sends BYTES, the other reads them all and answers one byte,
      and WHO, once it has read that byte (every byte it sent is then in
      the other's stack), resets the connection.
Exit 0 when the bulk went through and the reset was sent or received.
"""
import os
import socket
import ssl
import struct
import sys
import time

CHUNK = 65536


def reset(tls):
    """Closes the connection with an RST: no close_notify (Python's close
    sends none), no FIN."""
    tls.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    tls.close()


def bulk(tls, sending, nbytes):
    if sending:
        block = b"x" * CHUNK
        left = nbytes
        while left:
            n = tls.send(block[:min(left, CHUNK)])
            left -= n
        if tls.recv(1) != b"k":
            sys.exit("no answer to the bulk")
        reset(tls)
        return
    got = 0
    while got < nbytes:
        data = tls.recv(CHUNK)
        if not data:
            sys.exit("closed after %d bytes" % got)
        got += len(data)
    tls.sendall(b"k")
    try:                                  # the reset, or the end
        tls.recv(1)
    except (ConnectionResetError, ssl.SSLError, OSError):
        pass


def wait(path):
    deadline = time.monotonic() + 30
    while not os.path.exists(path) and time.monotonic() < deadline:
        time.sleep(0.05)


def main():
    a = sys.argv[1:]
    if len(a) == 7 and a[0] == "server":
        addr, port, cert, key, who, nbytes = a[1], int(a[2]), a[3], a[4], a[5], int(a[6])
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(cert, key)
        lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        lsock.bind((addr, port))
        lsock.listen(1)
        conn, _ = lsock.accept()
        conn.settimeout(30)
        tls = ctx.wrap_socket(conn, server_side=True)
        bulk(tls, who == "server", nbytes)
        return 0
    if len(a) == 6 and a[0] == "client":
        addr, port, who, nbytes, go = a[1], int(a[2]), a[3], int(a[4]), a[5]
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        sock = socket.create_connection((addr, port), timeout=30)
        tls = ctx.wrap_socket(sock, server_hostname="rsa.test")
        wait(go)
        bulk(tls, who == "client", nbytes)
        return 0
    raise SystemExit(__doc__)


if __name__ == "__main__":
    sys.exit(main())
