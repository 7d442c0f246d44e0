#!/usr/bin/env python3
"""Servers that speak just enough of a protocol's plaintext preamble for
`openssl s_client -starttls PROTO` (and rdp_client below) to upgrade, then
hand the socket to TLS (Python's ssl module) and close after a line.

Usage:
  starttls_server.py CERT KEY PROTO:ADDR:PORT...     serve until SIGTERM
  starttls_server.py --rdp-client ADDR PORT SNI      an RDP client (X.224
                                                     negotiation, then TLS 1.2)
PROTO: smtp lmtp imap pop3 ftp ldap xmpp postgres mysql irc nntp sieve rdp,
"plain" (SMTP that never upgrades: the client QUITs), or "chatty" (SMTP
whose greeting is longer than the 4096 bytes a preamble may be).
Each connection is served in its own thread with 10 s socket timeouts.
"""
import signal
import socket
import ssl
import struct
import sys
import threading

TIMEOUT_S = 10
MAX_LINES = 50          # a preamble that goes on longer is refused


def read_until(conn, marker):
    """Bytes up to @marker, read one at a time: nothing of what follows
    (the client's hello) is taken."""
    data = b""
    while not data.endswith(marker):
        b = conn.recv(1)
        if not b:
            raise EOFError("closed in the preamble")
        data += b
        if len(data) > 65536:
            raise ValueError("preamble too long")
    return data


def read_line(conn):
    return read_until(conn, b"\n")


def read_exact(conn, n):
    data = b""
    while len(data) < n:
        b = conn.recv(n - len(data))
        if not b:
            raise EOFError("closed in the preamble")
        data += b
    return data


# A greeting longer than a preamble may be (4096 bytes a side)
LONG_GREETING = b"".join(b"220-mail.test line %03d of a long greeting, padded ....\r\n" % i
                         for i in range(80)) + b"220 mail.test ESMTP ready\r\n"


def smtp(conn, hello=b"EHLO", greeting=b"220 mail.test ESMTP ready\r\n"):
    conn.sendall(greeting)
    for _ in range(MAX_LINES):
        line = read_line(conn)
        if line.upper().startswith(hello):
            conn.sendall(b"250-mail.test\r\n250-PIPELINING\r\n250 STARTTLS\r\n")
        elif line.upper().startswith(b"STARTTLS"):
            conn.sendall(b"220 2.0.0 Ready to start TLS\r\n")
            return True
        elif line.upper().startswith(b"QUIT"):
            conn.sendall(b"221 2.0.0 Bye\r\n")
            return False
        else:
            conn.sendall(b"250 2.0.0 Ok\r\n")
    return False


def lmtp(conn):
    return smtp(conn, b"LHLO")


def chatty(conn):
    return smtp(conn, greeting=LONG_GREETING)


def imap(conn):
    conn.sendall(b"* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n")
    for _ in range(MAX_LINES):
        tag, _, cmd = read_line(conn).partition(b" ")
        if cmd.upper().startswith(b"CAPABILITY"):
            conn.sendall(b"* CAPABILITY IMAP4rev1 STARTTLS\r\n" + tag + b" OK done\r\n")
        elif cmd.upper().startswith(b"STARTTLS"):
            conn.sendall(tag + b" OK Begin TLS negotiation now\r\n")
            return True
    return False


def one_command(greeting, command, answer):
    """A preamble of a greeting (may be empty), the client's upgrade
    command, and the server's go-ahead."""
    def preamble(conn):
        if greeting:
            conn.sendall(greeting)
        if read_line(conn).upper().startswith(command):
            conn.sendall(answer)
            return True
        return False
    return preamble


pop3 = one_command(b"+OK POP3 ready\r\n", b"STLS", b"+OK Begin TLS negotiation\r\n")
ftp = one_command(b"220 FTP server ready\r\n", b"AUTH TLS", b"234 AUTH TLS successful\r\n")
irc = one_command(b"", b"STARTTLS", b":irc.test 670 * :STARTTLS successful, go ahead\r\n")
sieve = one_command(b'"IMPLEMENTATION" "sieve.test"\r\n"SIEVE" "fileinto"\r\n'
                    b'"STARTTLS"\r\n"VERSION" "1.0"\r\nOK\r\n', b"STARTTLS",
                    b'OK "Begin TLS negotiation now."\r\n')


def ldap(conn):
    head = read_exact(conn, 2)
    if head[0] != 0x30 or head[1] & 0x80:
        return False
    req = read_exact(conn, head[1])
    msgid = req[2]                       # 02 01 ID
    # ExtendedResponse, resultCode success, empty matchedDN and message
    conn.sendall(bytes([0x30, 0x0c, 0x02, 0x01, msgid, 0x78, 0x07,
                        0x0a, 0x01, 0x00, 0x04, 0x00, 0x04, 0x00]))
    return True


def xmpp(conn):
    read_until(conn, b">")
    conn.sendall(b"<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
                 b"xmlns:stream='http://etherx.jabber.org/streams' id='1' "
                 b"from='xmpp.test' version='1.0'><stream:features>"
                 b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"
                 b"</stream:features>")
    read_until(conn, b"/>")
    conn.sendall(b"<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
    return True


def postgres(conn):
    if read_exact(conn, 8) != b"\x00\x00\x00\x08\x04\xd2\x16\x2f":
        return False
    conn.sendall(b"S")
    return True


def mysql(conn):
    caps = 0x0200 | 0x0800 | 0x8000          # PROTOCOL_41, SSL, SECURE_CONN
    body = (b"\x0a" + b"8.0.36\x00" + struct.pack("<I", 7) + b"abcdefgh\x00" +
            struct.pack("<H", caps & 0xffff) + b"\x21" + struct.pack("<H", 2) +
            struct.pack("<H", caps >> 16) + b"\x15" + b"\x00" * 10 +
            b"ijklmnopqrst\x00" + b"mysql_native_password\x00")
    conn.sendall(struct.pack("<I", len(body))[:3] + b"\x00" + body)
    head = read_exact(conn, 4)
    read_exact(conn, head[0] | head[1] << 8 | head[2] << 16)
    return True


def nntp(conn):
    conn.sendall(b"200 news.test NNTP service ready\r\n")
    for _ in range(MAX_LINES):
        line = read_line(conn).upper()
        if line.startswith(b"STARTTLS"):
            conn.sendall(b"382 Continue with TLS negotiation\r\n")
            return True
        if line.startswith(b"CAPABILITIES"):
            conn.sendall(b"101 Capability list:\r\nVERSION 2\r\nSTARTTLS\r\n.\r\n")
    return False


# RDP: TPKT + X.224 Connection Request / Confirm with RDP_NEG_REQ/RSP (TLS)
RDP_CR = bytes([0x03, 0x00, 0x00, 0x13, 0x0e, 0xe0, 0, 0, 0, 0, 0,
                0x01, 0x00, 0x08, 0x00, 0x01, 0x00, 0x00, 0x00])
RDP_CC = bytes([0x03, 0x00, 0x00, 0x13, 0x0e, 0xd0, 0, 0, 0x12, 0x34, 0,
                0x02, 0x00, 0x08, 0x00, 0x01, 0x00, 0x00, 0x00])


def rdp(conn):
    if read_exact(conn, len(RDP_CR))[5] != 0xe0:
        return False
    conn.sendall(RDP_CC)
    return True


def plain(conn):
    smtp(conn)
    return False


PREAMBLES = {"smtp": smtp, "lmtp": lmtp, "imap": imap, "pop3": pop3, "ftp": ftp,
             "ldap": ldap, "xmpp": xmpp, "postgres": postgres, "mysql": mysql,
             "irc": irc, "nntp": nntp, "sieve": sieve, "rdp": rdp, "plain": plain,
             "chatty": chatty}


def serve_one(ctx, proto, conn):
    with conn:
        conn.settimeout(TIMEOUT_S)
        try:
            if not PREAMBLES[proto](conn):
                return
            with ctx.wrap_socket(conn, server_side=True) as tls:
                tls.sendall(b"hello over TLS\r\n")
                tls.recv(1024)
        except (OSError, EOFError, ValueError, ssl.SSLError) as e:
            print("%s: %s" % (proto, e), file=sys.stderr, flush=True)


def listen(ctx, proto, addr, port):
    family = socket.AF_INET6 if ":" in addr else socket.AF_INET
    srv = socket.socket(family, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((addr, port))
    srv.listen(16)
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=serve_one, args=(ctx, proto, conn), daemon=True).start()


def rdp_client(addr, port, sni):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    with socket.create_connection((addr, port), timeout=TIMEOUT_S) as s:
        s.sendall(RDP_CR)
        if read_exact(s, len(RDP_CC))[5] != 0xd0:
            sys.exit("no X.224 Connection Confirm")
        with ctx.wrap_socket(s, server_hostname=sni) as tls:
            tls.recv(1024)
            tls.sendall(b"bye\r\n")


def main():
    if len(sys.argv) == 5 and sys.argv[1] == "--rdp-client":
        rdp_client(sys.argv[2], int(sys.argv[3]), sys.argv[4])
        return
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(sys.argv[1], sys.argv[2])
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    threads = []
    for spec in sys.argv[3:]:
        proto, rest = spec.split(":", 1)
        addr, port = rest.rsplit(":", 1)      # an IPv6 address has colons
        if proto not in PREAMBLES:
            sys.exit("unknown protocol " + proto)
        t = threading.Thread(target=listen, args=(ctx, proto, addr, int(port)), daemon=True)
        t.start()
        threads.append(t)
    print("listening", flush=True)
    for t in threads:
        t.join()


if __name__ == "__main__":
    main()
