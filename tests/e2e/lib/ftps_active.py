#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The two ends of an FTPS data connection in active mode (RFC 4217): the
FTP server opens the TCP connection, from port 20, to a port the FTP client
listens on, and the FTP client is the TLS client. Python's ssl (OpenSSL).

    ftps_active.py client ADDR PORT CAFILE SNI
        listens on ADDR:PORT, accepts one connection (20 s at most), and
        as the TLS client (TLS 1.2, SNI, the server verified against
        CAFILE) reads the listing, then both close_notify. Prints it.
    ftps_active.py server ADDR PORT CHAIN KEY
        connects to ADDR:PORT from port 20 and, as the TLS server with the
        certificate chain CHAIN and KEY, sends a listing and closes.
Exit status 0 when the data went through, 1 otherwise.
"""
import socket
import ssl
import sys

LISTING = b"-rw-r--r-- 1 ftp ftp 42 Nov 23 10:46 readme.txt\r\n"


def client(addr, port, cafile, sni):
    ctx = ssl.create_default_context(cafile=cafile)
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    family = socket.AF_INET6 if ":" in addr else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as lsn:
        lsn.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        lsn.bind((addr, int(port)))
        lsn.listen(1)
        lsn.settimeout(20)
        conn, _ = lsn.accept()
    conn.settimeout(10)
    with ctx.wrap_socket(conn, server_hostname=sni) as tls:
        data = b""
        while len(data) < len(LISTING):
            chunk = tls.recv(4096)
            if not chunk:
                break
            data += chunk
        tls.unwrap()
    sys.stdout.write(data.decode())
    return data == LISTING


def server(addr, port, chain, key):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(chain, key)
    family = socket.AF_INET6 if ":" in addr else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("", 20))
    sock.settimeout(10)
    sock.connect((addr, int(port)))
    with ctx.wrap_socket(sock, server_side=True) as tls:
        tls.sendall(LISTING)
        tls.unwrap()
    return True


def main():
    if len(sys.argv) != 6 or sys.argv[1] not in ("client", "server"):
        raise SystemExit(__doc__)
    run = client if sys.argv[1] == "client" else server
    try:
        ok = run(*sys.argv[2:])
    except (OSError, ssl.SSLError) as e:
        print(f"{sys.argv[1]}: {e}", file=sys.stderr)
        ok = False
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
