#!/usr/bin/env python3
"""A TLS 1.0 client that opens with an SSLv2-compatible ClientHello (RFC 2246
appendix E.1), as old clients did, then completes the handshake with
TLS_RSA_WITH_AES_128_CBC_SHA. OpenSSL 3 cannot send such a hello, but its
servers still answer one (s_server -tls1 -cipher AES128-SHA:@SECLEVEL=0).

Usage: sslv2_hello_client.py HOST PORT
Exit 0 when the server's Finished arrived after its ChangeCipherSpec.
"""
import hashlib
import hmac
import os
import socket
import struct
import sys

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

TLS10 = b"\x03\x01"
# AES128-SHA and the renegotiation SCSV as SSLv2 cipher specs, and one
# SSLv2-only kind (RC4_128_WITH_MD5) that a TLS server ignores
SPECS = b"\x00\x00\x2f" + b"\x00\x00\xff" + b"\x01\x00\x80"


def prf(secret, label, seed, n):
    """The TLS 1.0 PRF: P_MD5 on the first half XOR P_SHA1 on the second."""
    half = (len(secret) + 1) // 2

    def p_hash(h, key):
        out, a = b"", label + seed
        while len(out) < n:
            a = hmac.new(key, a, h).digest()
            out += hmac.new(key, a + label + seed, h).digest()
        return out[:n]
    return bytes(x ^ y for x, y in zip(p_hash(hashlib.md5, secret[:half]),
                                       p_hash(hashlib.sha1, secret[-half:])))


def recv_exact(s, n):
    data = b""
    while len(data) < n:
        b = s.recv(n - len(data))
        if not b:
            sys.exit("server closed the connection")
        data += b
    return data


def recv_record(s):
    head = recv_exact(s, 5)
    return head[0], recv_exact(s, struct.unpack(">H", head[3:5])[0])


def handshake_messages(s, until):
    """Handshake messages (type, whole message) up to type @until."""
    buf, msgs = b"", []
    for _ in range(20):
        ctype, body = recv_record(s)
        if ctype == 21:
            sys.exit("alert from the server: %s" % body.hex())
        buf += body
        while len(buf) >= 4:
            n = int.from_bytes(buf[1:4], "big")
            if len(buf) < 4 + n:
                break
            msgs.append((buf[0], buf[:4 + n]))
            buf = buf[4 + n:]
        if msgs and msgs[-1][0] == until:
            return msgs
    sys.exit("no ServerHelloDone")


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    challenge = os.urandom(32)
    v2 = (b"\x01" + TLS10 + struct.pack(">HHH", len(SPECS), 0, len(challenge)) +
          SPECS + challenge)
    s = socket.create_connection((host, port), timeout=10)
    s.sendall(struct.pack(">H", 0x8000 | len(v2)) + v2)
    msgs = handshake_messages(s, 14)
    transcript = v2 + b"".join(m for _, m in msgs)
    server_hello = msgs[0][1]
    server_random = server_hello[6:38]
    certs = next(m for t, m in msgs if t == 11)
    leaf_len = int.from_bytes(certs[7:10], "big")
    leaf = x509.load_der_x509_certificate(certs[10:10 + leaf_len])

    pre_master = TLS10 + os.urandom(46)
    enc = leaf.public_key().encrypt(pre_master, padding.PKCS1v15())
    cke_body = struct.pack(">H", len(enc)) + enc
    cke = b"\x10" + len(cke_body).to_bytes(3, "big") + cke_body
    transcript += cke
    master = prf(pre_master, b"master secret", challenge + server_random, 48)
    kb = prf(master, b"key expansion", server_random + challenge, 104)
    mac_key, key, iv = kb[0:20], kb[40:56], kb[72:88]
    verify = prf(master, b"client finished",
                 hashlib.md5(transcript).digest() + hashlib.sha1(transcript).digest(), 12)
    finished = b"\x14\x00\x00\x0c" + verify
    mac = hmac.new(mac_key, struct.pack(">Q", 0) + b"\x16" + TLS10 +
                   struct.pack(">H", len(finished)) + finished, hashlib.sha1).digest()
    plain = finished + mac
    pad = 15 - len(plain) % 16
    plain += bytes([pad]) * (pad + 1)
    enc_fin = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor().update(plain)

    s.sendall(b"\x16" + TLS10 + struct.pack(">H", len(cke)) + cke +
              b"\x14" + TLS10 + b"\x00\x01\x01" +
              b"\x16" + TLS10 + struct.pack(">H", len(enc_fin)) + enc_fin)
    ctype, _ = recv_record(s)
    if ctype != 20:
        sys.exit("expected the server's ChangeCipherSpec, got record type %d" % ctype)
    ctype, _ = recv_record(s)
    if ctype != 22:
        sys.exit("expected the server's Finished, got record type %d" % ctype)
    s.close()


if __name__ == "__main__":
    main()
