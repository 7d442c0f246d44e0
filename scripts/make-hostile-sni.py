#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes a crafted pcap whose ClientHellos carry hostile strings.

    scripts/make-hostile-sni.py OUT.pcap
    scripts/make-hostile-sni.py --markup OUT.pcap
    scripts/make-hostile-sni.py --nul-sni CHAIN.pem OUT.pcap

Two IPv4 TCP connections to 192.0.2.1:443 (Ethernet link type), each a
three-way handshake, one ClientHello, then FIN from both sides:

  1. client port 40001: SNI with quotes, backslashes, NUL, BEL, ESC (a
     terminal colour sequence), DEL, CR/LF/TAB, U+2028 and invalid UTF-8;
     ALPN list with an OSC terminal title sequence, a quote and a backslash.
  2. client port 40002: a 300-byte SNI of invalid UTF-8 and control bytes
     (longer than the 255 bytes tlswatch keeps).

With --markup, one connection (client port 40003) whose SNI is HTML
markup (a script element, an event handler attribute, quotes, entities)
for the HTML report's escaping: hostile_html.pcap.

With --nul-sni, one connection (client port 40004) whose SNI is
"rsa.test\\0evil.test" and whose server answers in TLS 1.2 with
ServerHello, the certificates of CHAIN.pem (the PKI's rsa.test chain, leaf
first) and ServerHelloDone; then both sides close: hostile_nul_sni.pcap.
The name before the NUL is one the leaf covers, the SNI is not.

Everything is well formed at the TLS level: only the strings are hostile.
Times and randoms are fixed, so the file is the same on every run.
"""
import base64
import struct
import sys

SNI_1 = (b'evil"quote\\back\x00nul\x07bel\x1b[31mred\x1b[0m\x7fdel'
         b'\r\n\ttab\xe2\x80\xa8sep\xff\xfe\xc3(bad.test')
SNI_2 = bytes((0xff, 0x01, 0xc0, 0x1b, 0x9b)) * 60
ALPN_1 = [b'h2', b'x"\\\x1b]0;pwned\x07', b'\xff\x00\x1f']
ALPN_2 = [b'http/1.1']
SNI_HTML = (b'</title><script>alert(1)</script><img src=x onerror="alert(\'x\')">'
            b'&amp;&lt;<!--.test')
ALPN_HTML = [b'<b>h2</b>']
SNI_NUL = b'rsa.test\x00evil.test'
ALPN_NUL = [b'http/1.1']

T0 = 1767225600  # 2026-01-01T00:00:00Z
MAC_C = bytes.fromhex('020000000001')
MAC_S = bytes.fromhex('020000000002')
IP_C = bytes((198, 51, 100, 7))
IP_S = bytes((192, 0, 2, 1))
SERVER_PORT = 443

SYN, ACK, PSH, FIN = 0x02, 0x10, 0x08, 0x01


def csum(data):
    if len(data) % 2:
        data += b'\0'
    s = sum(struct.unpack('!%dH' % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def tcp_packet(src, dst, sport, dport, seq, ack, flags, payload):
    """Ethernet + IPv4 + TCP (no options) with correct checksums."""
    tcp = struct.pack('!HHIIBBHHH', sport, dport, seq, ack, 5 << 4, flags,
                      65535, 0, 0)
    pseudo = src + dst + struct.pack('!BBH', 0, 6, len(tcp) + len(payload))
    c = csum(pseudo + tcp + payload)
    tcp = tcp[:16] + struct.pack('!H', c) + tcp[18:]
    total = 20 + len(tcp) + len(payload)
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, total, 0, 0x4000, 64, 6, 0,
                     src, dst)
    ip = ip[:10] + struct.pack('!H', csum(ip)) + ip[12:]
    mac_dst, mac_src = (MAC_S, MAC_C) if src == IP_C else (MAC_C, MAC_S)
    return mac_dst + mac_src + b'\x08\x00' + ip + tcp + payload


def u16(n):
    return struct.pack('!H', n)


def ext(kind, body):
    return u16(kind) + u16(len(body)) + body


def client_hello(sni, alpn, random_byte):
    names = b'\x00' + u16(len(sni)) + sni
    protos = b''.join(bytes((len(p),)) + p for p in alpn)
    exts = (ext(0, u16(len(names)) + names) +
            ext(16, u16(len(protos)) + protos) +
            ext(43, b'\x04\x03\x04\x03\x03') +
            ext(10, u16(2) + u16(0x001d)))
    suites = u16(0x1301) + u16(0xc02f) + u16(0xc030)
    body = (u16(0x0303) + bytes((random_byte,)) * 32 + b'\x00' +
            u16(len(suites)) + suites + b'\x01\x00' + u16(len(exts)) + exts)
    hs = b'\x01' + struct.pack('!I', len(body))[1:] + body
    return b'\x16\x03\x01' + u16(len(hs)) + hs


def handshake_msg(kind, body):
    return bytes((kind,)) + struct.pack('!I', len(body))[1:] + body


def u24(n):
    return struct.pack('!I', n)[1:]


def server_flight(ders, random_byte):
    """TLS 1.2 ServerHello, Certificate (@ders, leaf first), ServerHelloDone
    in one handshake record."""
    hello = (u16(0x0303) + bytes((random_byte,)) * 32 + b'\x00' +
             u16(0xc02f) + b'\x00' + u16(0))
    certs = b''.join(u24(len(d)) + d for d in ders)
    hs = (handshake_msg(2, hello) + handshake_msg(11, u24(len(certs)) + certs) +
          handshake_msg(14, b''))
    return b'\x16\x03\x03' + u16(len(hs)) + hs


def pem_certificates(path):
    """The DER of each certificate in a PEM file, in order."""
    ders, b64 = [], None
    for line in open(path):
        line = line.strip()
        if line == '-----BEGIN CERTIFICATE-----':
            b64 = []
        elif line == '-----END CERTIFICATE-----':
            ders.append(base64.b64decode(''.join(b64)))
            b64 = None
        elif b64 is not None:
            b64.append(line)
    if not ders:
        sys.exit('make-hostile-sni.py: no certificate in %s' % path)
    return ders


def connection(cport, sni, alpn, t, rnd, answer=b''):
    """Yields (time, frame) for one connection starting at time t; the
    server sends @answer (if any) after acknowledging the ClientHello."""
    cs, ss = 1000 * cport, 7000 * cport
    hello = client_hello(sni, alpn, rnd)
    c = (IP_C, IP_S, cport, SERVER_PORT)
    s = (IP_S, IP_C, SERVER_PORT, cport)
    yield t + 0.000, tcp_packet(*c, cs, 0, SYN, b'')
    yield t + 0.001, tcp_packet(*s, ss, cs + 1, SYN | ACK, b'')
    yield t + 0.002, tcp_packet(*c, cs + 1, ss + 1, ACK, b'')
    yield t + 0.003, tcp_packet(*c, cs + 1, ss + 1, PSH | ACK, hello)
    cs += 1 + len(hello)
    yield t + 0.004, tcp_packet(*s, ss + 1, cs, ACK, b'')
    if answer:
        yield t + 0.0045, tcp_packet(*s, ss + 1, cs, PSH | ACK, answer)
        ss += len(answer)
    yield t + 0.005, tcp_packet(*c, cs, ss + 1, FIN | ACK, b'')
    yield t + 0.006, tcp_packet(*s, ss + 1, cs + 1, FIN | ACK, b'')
    yield t + 0.007, tcp_packet(*c, cs + 1, ss + 2, ACK, b'')


def main():
    args = sys.argv[1:]
    mode = args[0] if args[:1] in (['--markup'], ['--nul-sni']) else None
    if mode:
        args = args[1:]
    if len(args) != (2 if mode == '--nul-sni' else 1):
        sys.exit('usage: make-hostile-sni.py [--markup | --nul-sni CHAIN.pem] OUT.pcap')
    if mode == '--markup':
        frames = list(connection(40003, SNI_HTML, ALPN_HTML, T0, 0x33))
    elif mode == '--nul-sni':
        answer = server_flight(pem_certificates(args.pop(0)), 0x55)
        frames = list(connection(40004, SNI_NUL, ALPN_NUL, T0, 0x44, answer))
    else:
        frames = list(connection(40001, SNI_1, ALPN_1, T0, 0x11))
        frames += connection(40002, SNI_2, ALPN_2, T0 + 1, 0x22)
    with open(args[0], 'wb') as f:
        f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for t, frame in frames:
            sec = int(t)
            usec = int(round((t - sec) * 1e6))
            f.write(struct.pack('<IIII', sec, usec, len(frame), len(frame)))
            f.write(frame)


if __name__ == '__main__':
    main()
