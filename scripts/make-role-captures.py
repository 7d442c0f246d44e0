#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Re-frames a real TLS 1.2 connection into captures where who is the
client, or whether the handshake is there at all, is not what the first
packet suggests.

Usage: make-role-captures.py MODE IN.pcap OUT.pcap

IN is a capture of real handshakes (tests/data/captures/tls12_rsa.pcap:
openssl s_server and s_client, taken with tcpdump); its first TLS
connection's payload is replayed, record bytes unchanged, between the TLS
client 10.0.0.1:40000 and the TLS server 10.0.0.2:443, in segments of at
most 1448 bytes, every side's flight as captured, then the close_notify
alerts and FIN from both sides. The modes:

  reverse          an FTPS data connection in active mode (RFC 4217): the
                   FTP server, 10.0.0.2:20, opens the TCP connection (SYN)
                   to the FTP client, 10.0.0.1:40000, which then sends the
                   ClientHello: the TLS client is the SYN's receiver.
  reverse-synack   reverse, and 10.0.0.1 sends its SYN-ACK again (same
                   sequence number) right after its ClientHello.
  clientauth-midflow
                   no SYN: the capture starts after the server's first
                   flight of a handshake with client authentication (a
                   rotated capture): the client's Certificate (the server
                   chain's message, as the client's own), its
                   ClientKeyExchange, a CertificateVerify (crafted: an
                   rsa_pss_rsae_sha256 signature of 256 0xab bytes),
                   ChangeCipherSpec and Finished; then the server's
                   answer and the rest.
  server-midflow   no SYN: the capture starts at the server's Certificate
                   record (its ServerHello missed), then the rest.
  server-cert-cut  server-midflow's first segment alone (part of the
                   Certificate): the capture ends there, no FIN.
  idle             the whole connection, with 200 s without a packet after
                   the handshake (a keep-alive connection idle past the
                   flow timeout), then the application data and close.
  midstream        no SYN: the capture starts at the first application
                   data record (the handshake was before it).
  after-fin        the whole connection; after both FINs, the server's
                   NewSessionTicket/ChangeCipherSpec/Finished segment and
                   the client's first application data segment come again
                   (retransmitted, as a capture sees when an ACK was lost).
  held-other       no SYN, the capture starting at the server's first
                   flight: its first 3 bytes in a segment of their own,
                   then the client's second flight (per-direction
                   captures merged out of order), then the server's other
                   bytes and the rest.

Times start at 2026-11-23T10:46:00Z, 20 us apart (make-bench-capture.py's
writer). Deterministic. Prints the number of packets written.
"""
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import script_module  # noqa: E402  (scripts/lib/script_module.py)

BENCH = script_module.load("make-bench-capture.py")
FIN, SYN, PSH, ACK = 0x01, 0x02, 0x08, 0x10
MSS = 1448
CLIENT = (bytes((10, 0, 0, 1)), 40000)
SERVER = (bytes((10, 0, 0, 2)), 443)
FTP_DATA = (bytes((10, 0, 0, 2)), 20)
IDLE_S = 200


def flights(path):
    """[(from_client, bytes)]: the first TLS connection's payload, each
    side's consecutive packets joined."""
    out = []
    for from_client, _, payload in BENCH.templates([path])[0][2]:
        if not payload:
            continue
        if out and out[-1][0] == from_client:
            out[-1] = (from_client, out[-1][1] + payload)
        else:
            out.append((from_client, payload))
    return out


def records(stream):
    """The whole TLS records of @stream, header included."""
    out, off = [], 0
    while off + 5 <= len(stream):
        end = off + 5 + struct.unpack("!H", stream[off + 3:off + 5])[0]
        out.append(stream[off:end])
        off = end
    return out


def handshake_record(message):
    return b"\x16\x03\x03" + struct.pack("!H", len(message)) + message


def certificate_verify():
    sig = b"\xab" * 256
    body = b"\x08\x04" + struct.pack("!H", len(sig)) + sig
    return handshake_record(b"\x0f" + struct.pack("!I", len(body))[1:] + body)


class Capture:
    """One TCP connection written through make-bench-capture.py's writer."""

    def __init__(self, path, server=SERVER):
        self.w = BENCH.Writer(path)
        self.conn = {"client": CLIENT, "server": server,
                     "cseq": 0x10000000, "sseq": 0x50000000}
        self.packets = 0

    def packet(self, from_client, flags, payload=b""):
        self.w.packet(self.conn, from_client, flags, payload)
        self.packets += 1

    def again(self, from_client, flags, payload, seq):
        """A retransmission: @payload at @seq, the sender's next sequence
        number unchanged."""
        key = "cseq" if from_client else "sseq"
        now, self.conn[key] = self.conn[key], seq
        self.packet(from_client, flags, payload)
        self.conn[key] = now

    def opening(self, opener_is_client=True):
        isn = {True: self.conn["cseq"], False: self.conn["sseq"]}
        self.packet(opener_is_client, SYN)
        self.packet(not opener_is_client, SYN | ACK)
        self.packet(opener_is_client, ACK)
        return isn

    def send(self, from_client, data):
        """@data in segments; the sequence number of each."""
        seqs = []
        for i in range(0, len(data), MSS):
            seqs.append(self.conn["cseq" if from_client else "sseq"])
            self.packet(from_client, PSH | ACK, data[i:i + MSS])
        return seqs

    def closing(self):
        self.packet(True, FIN | ACK)
        self.packet(False, FIN | ACK)
        self.packet(True, ACK)

    def done(self):
        self.w.f.close()
        print(self.packets)


def reverse(cap, fl, synack_again):
    isn = cap.opening(opener_is_client=False)
    cap.send(True, fl[0][1])
    if synack_again:
        cap.again(True, SYN | ACK, b"", isn[True])
    for from_client, data in fl[1:]:
        cap.send(from_client, data)


def clientauth_midflow(cap, fl):
    server_first = records(fl[1][1])
    client_second = records(fl[2][1])
    # the server's Certificate record, as the client's own
    cert = next(r for r in server_first if r[5] == 11)
    cap.send(True, cert + client_second[0] + certificate_verify() +
             b"".join(client_second[1:]))
    for from_client, data in fl[3:]:
        cap.send(from_client, data)


def server_first_flight_from_certificate(fl):
    return b"".join(r for r in records(fl[1][1]) if r[5] != 2)


def server_midflow(cap, fl):
    cap.send(False, server_first_flight_from_certificate(fl))
    for from_client, data in fl[2:]:
        cap.send(from_client, data)


def idle(cap, fl):
    cap.opening()
    for from_client, data in fl[:4]:
        cap.send(from_client, data)
    cap.w.t += IDLE_S
    for from_client, data in fl[4:]:
        cap.send(from_client, data)


def after_fin(cap, fl):
    cap.opening()
    seqs = [cap.send(from_client, data) for from_client, data in fl]
    cap.closing()
    cap.again(False, PSH | ACK, fl[3][1][:MSS], seqs[3][0])
    cap.again(True, PSH | ACK, fl[4][1][:MSS], seqs[4][0])


def held_other(cap, fl):
    cap.send(False, fl[1][1][:3])
    cap.send(True, fl[2][1])
    cap.send(False, fl[1][1][3:])
    for from_client, data in fl[3:]:
        cap.send(from_client, data)


MODES = {
    "reverse": lambda cap, fl: reverse(cap, fl, False),
    "reverse-synack": lambda cap, fl: reverse(cap, fl, True),
    "clientauth-midflow": clientauth_midflow,
    "server-midflow": server_midflow,
    "server-cert-cut": lambda cap, fl: cap.send(False, server_first_flight_from_certificate(fl)[:MSS]),
    "idle": idle,
    "midstream": lambda cap, fl: [cap.send(c, d) for c, d in fl[4:]],
    "after-fin": after_fin,
    "held-other": held_other,
}


def main():
    if len(sys.argv) != 4 or sys.argv[1] not in MODES:
        raise SystemExit(__doc__)
    mode, fl = sys.argv[1], flights(sys.argv[2])
    if [c for c, _ in fl[:6]] != [True, False, True, False, True, False]:
        raise SystemExit(f"{sys.argv[2]}: not a TLS 1.2 connection whose sides take turns")
    cap = Capture(sys.argv[3], FTP_DATA if mode.startswith("reverse") else SERVER)
    MODES[mode](cap, fl)
    if mode not in ("after-fin", "server-cert-cut"):   # they end their own way
        cap.closing()
    cap.done()


if __name__ == "__main__":
    main()
