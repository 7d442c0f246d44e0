#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Re-records the first connection of a real capture, changed at the edge
of what tlswatch reports.

Usage: make-outcome-captures.py MODE IN.pcap OUT.pcap

IN is a classic pcap on Ethernet over IPv4 (such as
tests/data/captures/tls12_rsa.pcap: openssl s_server and s_client, taken
with tcpdump). The TLS bytes of its first TCP connection, each side's in
order, are written again as one new connection, client 198.51.100.7:40000
to server 192.0.2.1:443: three-way handshake, the payloads in the order
they were captured (consecutive ones of a side joined, cut in 1448-byte
segments), then a FIN from each side. Everything else is dropped.

  client-only  only the client's packets (SYN, payloads, FIN): a tap on
               the inbound link of asymmetric routing
  server-only  only the server's packets (SYN+ACK, payloads, FIN)
  chain12      the server's TLS <= 1.2 Certificate message holds 12
               certificates: the captured ones, then the last of them
               repeated (a chain file with the intermediate pasted many
               times)
  alerts9      9 plaintext warning alerts (unrecognized_name) from the
               server before its first flight (TLS <= 1.2: not fatal)
  hrr-abort    the client's first payload (a ClientHello) and the server's
               first (a HelloRetryRequest), then the FINs: the client gave
               up after the retry request

Deterministic (fixed times, sequence numbers and addresses). Prints the
number of packets written.
"""
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import script_module  # noqa: E402

rst = script_module.load("make-rst-capture.py")
hostile = script_module.load("make-hostile-sni.py")

CLIENT_PORT, SERVER_PORT = 40000, 443
CLIENT_ISN, SERVER_ISN = 1000, 500000
T0_US = 1767225600 * 1000000      # 2026-01-01T00:00:00Z
MSS = 1448
SYN, ACK, PSH, FIN = 0x02, 0x10, 0x08, 0x01
TLS_HANDSHAKE, TLS_ALERT = 22, 21
HS_CERTIFICATE = 11
ALERT_WARNING, UNRECOGNIZED_NAME = 1, 112


def conversation(path):
    """[(from_client, bytes)] of the first TCP connection's payloads in
    capture order, consecutive ones of a side joined (client: the SYN's
    sender)."""
    _, packets = rst.read_pcap(path)
    first, client, out = None, None, []
    for _, _, _, frame in packets:
        f = rst.tcp_fields(frame)
        if not f:
            continue
        src, dst, sport, dport, _, _, flags, payload = f
        ends = {(src, sport), (dst, dport)}
        if first is None and flags & SYN and not flags & ACK:
            first, client = ends, (src, sport)
        if ends != first or not payload:
            continue
        from_client = (src, sport) == client
        if out and out[-1][0] == from_client:
            out[-1] = (from_client, out[-1][1] + payload)
        else:
            out.append((from_client, payload))
    if not out:
        raise SystemExit(f"{path}: no TCP connection with a SYN and payload")
    return out


def records(stream):
    """[(type, version bytes, body)] of a TLS byte stream."""
    out, i = [], 0
    while i + 5 <= len(stream):
        n = struct.unpack("!H", stream[i + 3:i + 5])[0]
        out.append((stream[i], stream[i + 1:i + 3], stream[i + 5:i + 5 + n]))
        i += 5 + n
    return out


def record(kind, version, body):
    return bytes((kind,)) + version + struct.pack("!H", len(body)) + body


def u24(n):
    return struct.pack("!I", n)[1:]


def twelve_certificates(body):
    """A Certificate message body with its list grown to 12 entries."""
    lst, certs, j = body[3:], [], 0
    while j < len(lst):
        n = int.from_bytes(lst[j:j + 3], "big")
        certs.append(lst[j:j + 3 + n])
        j += 3 + n
    certs += [certs[-1]] * (12 - len(certs))
    joined = b"".join(certs)
    return u24(len(joined)) + joined


def with_twelve_certificates(flight):
    """The server's first flight, its Certificate message grown."""
    recs = records(flight)
    hs = b"".join(body for kind, _, body in recs if kind == TLS_HANDSHAKE)
    version = recs[0][1]
    out, i = b"", 0
    while i + 4 <= len(hs):
        kind, n = hs[i], int.from_bytes(hs[i + 1:i + 4], "big")
        body = hs[i + 4:i + 4 + n]
        i += 4 + n
        if kind == HS_CERTIFICATE:
            body = twelve_certificates(body)
        out += bytes((kind,)) + u24(len(body)) + body
    return b"".join(record(TLS_HANDSHAKE, version, out[k:k + 16384])
                    for k in range(0, len(out), 16384))


def changed(mode, conv):
    """The conversation as MODE changes it."""
    server_first = next(k for k, (fc, _) in enumerate(conv) if not fc)
    if mode == "chain12":
        conv[server_first] = (False, with_twelve_certificates(conv[server_first][1]))
    elif mode == "alerts9":
        version = conv[server_first][1][1:3]
        alert = record(TLS_ALERT, version, bytes((ALERT_WARNING, UNRECOGNIZED_NAME)))
        conv[server_first] = (False, alert * 9 + conv[server_first][1])
    elif mode == "hrr-abort":
        conv = conv[:server_first + 1]
    return conv


class Connection:
    """Frames of one TCP connection, @sides the senders kept."""

    def __init__(self, sides):
        self.sides = sides
        self.seq = {True: CLIENT_ISN, False: SERVER_ISN}
        self.t = T0_US
        self.frames = []

    def send(self, from_client, flags, payload=b""):
        c = (hostile.IP_C, hostile.IP_S, CLIENT_PORT, SERVER_PORT)
        s = (hostile.IP_S, hostile.IP_C, SERVER_PORT, CLIENT_PORT)
        ack = 0 if flags == SYN else self.seq[not from_client]
        if from_client in self.sides:
            self.t += 1000
            self.frames.append((self.t, hostile.tcp_packet(
                *(c if from_client else s), self.seq[from_client], ack, flags,
                payload)))
        self.seq[from_client] += len(payload) + (1 if flags & (SYN | FIN) else 0)

    def data(self, from_client, payload):
        for k in range(0, len(payload), MSS):
            self.send(from_client, ACK | PSH, payload[k:k + MSS])


def write_pcap(path, frames):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        for t, frame in frames:
            f.write(struct.pack("<IIII", t // 1000000, t % 1000000, len(frame),
                                len(frame)))
            f.write(frame)


def main():
    modes = ("client-only", "server-only", "chain12", "alerts9", "hrr-abort")
    if len(sys.argv) != 4 or sys.argv[1] not in modes:
        sys.exit("usage: make-outcome-captures.py %s IN.pcap OUT.pcap" % "|".join(modes))
    mode, src, dst = sys.argv[1:]
    sides = {"client-only": (True,), "server-only": (False,)}.get(mode, (True, False))
    conn = Connection(sides)
    conn.send(True, SYN)
    conn.send(False, SYN | ACK)
    conn.send(True, ACK)
    for from_client, payload in changed(mode, conversation(src)):
        conn.data(from_client, payload)
    conn.send(True, FIN | ACK)
    conn.send(False, FIN | ACK)
    conn.send(True, ACK)
    write_pcap(dst, conn.frames)
    print(len(conn.frames))


if __name__ == "__main__":
    main()
