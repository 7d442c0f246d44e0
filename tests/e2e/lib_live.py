#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Helpers for the live end-to-end tests (tests/e2e/live_*.sh).

  lib_live.py abort --addr A --sni S --tls 1.2|1.3 --mode flight|hello
      A real TLS client that gives up before finishing: "flight" reads the
      server's whole first flight (so the certificate went by) and closes
      instead of sending its own Finished; "hello" sends the ClientHello and
      closes at once. Prints the client port.
  lib_live.py compare --agent LOG --analyze OUT --expected FILE --iface IF
      TAP lines: the agent's and analyze's handshake and cert events agree
      exactly, and both match the expected handshakes.
  lib_live.py flight-packets --pcap F --server IP
      For each connection to IP:443, the number of packets that carried the
      server's first flight; one line per connection.
  lib_live.py events --log LOG --event E [--field k=v ...]
      Prints the matching events, one JSON object a line.
"""
import argparse
import collections
import json
import socket
import ssl
import struct
import sys
import time

TIMEOUT_S = 10

# --- aborted handshakes -----------------------------------------------------


def tls_context(version):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    v = ssl.TLSVersion.TLSv1_2 if version == "1.2" else ssl.TLSVersion.TLSv1_3
    ctx.minimum_version = v
    ctx.maximum_version = v
    return ctx


def cmd_abort(a):
    family = socket.AF_INET6 if ":" in a.addr else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.settimeout(TIMEOUT_S)
    sock.connect((a.addr, a.port))
    port = sock.getsockname()[1]
    inb, outb = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = tls_context(a.tls).wrap_bio(inb, outb, server_hostname=a.sni)
    sent_hello = False
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            obj.do_handshake()
            done = True
        except ssl.SSLWantReadError:
            done = False
        out = outb.read()
        if out and sent_hello:
            break          # our second flight: never sent, that is the abort
        if out:
            sock.sendall(out)
            sent_hello = True
            if a.mode == "hello":
                break
        if done:
            break
        data = sock.recv(65536)
        if not data:
            break
        inb.write(data)
    else:
        print("abort: timed out", file=sys.stderr)
        return 1
    sock.close()
    print(port)
    return 0

# --- event comparison -------------------------------------------------------


def read_events(path):
    events = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                events.append(json.loads(line))
            except ValueError as e:
                raise SystemExit(f"{path}:{n}: not JSON ({e}): {line[:200]}")
    return events


def alert_text(al):
    return "%s:%s:%s%s" % (al.get("from"), al.get("level"), al.get("description"),
                           ":encrypted" if al.get("encrypted") else "")


def hs_tuple(ev, with_port=True):
    chain = ev.get("chain") or []
    t = (
        ev["server"]["ip"] + "/" + str(ev["server"]["port"]),
        ev.get("sni", "-"),
        ev.get("version", "-"),
        ev.get("outcome", "-"),
        chain[0]["sha256"] if chain else "-",
        ",".join(alert_text(al) for al in ev.get("alerts", [])) or "-",
        (ev.get("staple") or {}).get("status", "-"),
    )
    return ((ev["client"]["port"],) + t) if with_port else t


def cert_tuple(ev):
    return (
        ev["server"]["ip"] + "/" + str(ev["server"]["port"]),
        ev.get("sni", "-"),
        ev.get("observed", "-"),
        ev.get("sha256", "-"),
        ",".join(ev.get("chain_sha256", [])),
        ",".join(sorted(f["kind"] for f in ev.get("findings", []))),
    )


def fmt(t):
    return " | ".join(str(x) for x in t)


class Tap:
    def __init__(self):
        self.failed = 0

    def check(self, ok, desc, detail=()):
        print(("ok - " if ok else "not ok - ") + desc)
        if not ok:
            self.failed += 1
            for line in detail:
                print("#   " + line)
        sys.stdout.flush()


def multiset_diff(a, b, name_a, name_b):
    ca, cb = collections.Counter(a), collections.Counter(b)
    out = []
    for t in sorted(ca - cb, key=str):
        out.append(f"only in {name_a}: {fmt(t)}")
    for t in sorted(cb - ca, key=str):
        out.append(f"only in {name_b}: {fmt(t)}")
    return out


def read_expected(path):
    """Lines "server|sni|version|outcome|leaf|alerts|staple"; "*" matches any."""
    rows = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#"):
                rows.append(tuple(line.split("|")))
    return rows


def match_expected(got, expected):
    """Pairs each expected row with one distinct event tuple (greedy on the
    most specific rows first); returns the unmatched of both sides."""
    left = list(got)
    missing = []
    for row in sorted(expected, key=lambda r: r.count("*")):
        for i, t in enumerate(left):
            if all(e == "*" or e == str(v) for e, v in zip(row, t)):
                del left[i]
                break
        else:
            missing.append(row)
    return missing, left


def cmd_compare(a):
    tap = Tap()
    agent = read_events(a.agent)
    analyze = read_events(a.analyze)
    expected = read_expected(a.expected)

    ag_hs = [e for e in agent if e.get("event") == "handshake"]
    an_hs = [e for e in analyze if e.get("event") == "handshake"]
    tap.check(len(ag_hs) == len(expected),
              f"agent reported {len(expected)} handshakes",
              [f"got {len(ag_hs)}"])
    tap.check(len(an_hs) == len(expected),
              f"analyze reported {len(expected)} handshakes",
              [f"got {len(an_hs)}"])

    ag_t = [hs_tuple(e) for e in ag_hs]
    an_t = [hs_tuple(e) for e in an_hs]
    tap.check(collections.Counter(ag_t) == collections.Counter(an_t),
              "agent and analyze agree on every handshake (client port, server, "
              "sni, version, outcome, leaf sha256, alerts, staple)",
              multiset_diff(ag_t, an_t, "agent", "analyze"))

    for name, events in (("agent", ag_hs), ("analyze", an_hs)):
        missing, extra = match_expected([hs_tuple(e, False) for e in events],
                                        expected)
        tap.check(not missing and not extra,
                  f"{name}'s handshakes are exactly the ones driven",
                  [f"expected, not seen: {fmt(r)}" for r in missing] +
                  [f"seen, not expected: {fmt(t)}" for t in extra])

    bad_src = [e.get("source") for e in ag_hs if e.get("source") != a.iface]
    tap.check(not bad_src, f"agent handshake events name the interface {a.iface}",
              [f"source {s!r}" for s in bad_src[:5]])

    chains_ag = collections.Counter(
        (e["client"]["port"], tuple(c["sha256"] for c in e.get("chain", [])))
        for e in ag_hs)
    chains_an = collections.Counter(
        (e["client"]["port"], tuple(c["sha256"] for c in e.get("chain", [])))
        for e in an_hs)
    tap.check(chains_ag == chains_an,
              "agent and analyze agree on every served chain (all sha256)",
              multiset_diff(list(chains_ag.elements()), list(chains_an.elements()),
                            "agent", "analyze"))

    ag_c = [cert_tuple(e) for e in agent if e.get("event") == "cert"]
    an_c = [cert_tuple(e) for e in analyze if e.get("event") == "cert"]
    tap.check(collections.Counter(ag_c) == collections.Counter(an_c),
              "agent and analyze agree on cert events (server, sni, sha256, "
              "chain, finding kinds)",
              multiset_diff(ag_c, an_c, "agent", "analyze"))
    if a.expected_certs:
        want = sorted(tuple(l.split("|")) for l in open(a.expected_certs).read().split()
                      if l)
        have = sorted(set((t[0], t[1], t[3]) for t in ag_c))
        tap.check(have == want,
                  "agent cert events: exactly the leaves served, per (server, sni)",
                  [f"expected: {fmt(w)}" for w in want] + [f"got: {fmt(h)}" for h in have])
    return 1 if tap.failed else 0

# --- pcap: how many packets carried the server's first flight ---------------


def pcap_packets(path):
    with open(path, "rb") as f:
        hdr = f.read(24)
        if len(hdr) < 24:
            return
        magic = struct.unpack("<I", hdr[:4])[0]
        if magic in (0xA1B2C3D4, 0xA1B23C4D):
            end = "<"
        elif magic in (0xD4C3B2A1, 0x4D3CB2A1):
            end = ">"
        else:
            raise SystemExit(f"{path}: not a classic pcap file")
        linktype = struct.unpack(end + "I", hdr[20:24])[0]
        if linktype != 1:
            raise SystemExit(f"{path}: link type {linktype}, expected Ethernet")
        while True:
            rh = f.read(16)
            if len(rh) < 16:
                return
            incl = struct.unpack(end + "I", rh[8:12])[0]
            data = f.read(incl)
            if len(data) < incl:
                return
            yield data


def parse_tcp(frame):
    """(src, sport, dst, dport, payload_len) of an Ethernet/IP/TCP frame."""
    off = 14
    etype = struct.unpack("!H", frame[12:14])[0]
    if etype == 0x0800:
        ihl = (frame[off] & 15) * 4
        if frame[off + 9] != 6:
            return None
        total = struct.unpack("!H", frame[off + 2:off + 4])[0]
        src = socket.inet_ntop(socket.AF_INET, frame[off + 12:off + 16])
        dst = socket.inet_ntop(socket.AF_INET, frame[off + 16:off + 20])
        tcp = off + ihl
        ip_end = off + total
    elif etype == 0x86DD:
        if frame[off + 6] != 6:
            return None
        plen = struct.unpack("!H", frame[off + 4:off + 6])[0]
        src = socket.inet_ntop(socket.AF_INET6, frame[off + 8:off + 24])
        dst = socket.inet_ntop(socket.AF_INET6, frame[off + 24:off + 40])
        tcp = off + 40
        ip_end = tcp + plen
    else:
        return None
    sport, dport = struct.unpack("!HH", frame[tcp:tcp + 4])
    doff = (frame[tcp + 12] >> 4) * 4
    return src, sport, dst, dport, ip_end - (tcp + doff)


def cmd_flight_packets(a):
    flows = {}   # client port -> [server packets in flight, client spoke after]
    for frame in pcap_packets(a.pcap):
        p = parse_tcp(frame)
        if not p or p[4] <= 0:
            continue
        src, sport, dst, dport, plen = p
        if src == a.server and sport == 443:
            st = flows.setdefault(dport, [0, False, False])
            if st[1] and not st[2]:
                st[0] += 1
        elif dst == a.server and dport == 443:
            st = flows.setdefault(sport, [0, False, False])
            if not st[1]:
                st[1] = True          # the ClientHello
            elif st[0]:
                st[2] = True          # the client's second flight: flight over
    for port, st in sorted(flows.items()):
        print(port, st[0])
    return 0


def cmd_events(a):
    want = dict(kv.split("=", 1) for kv in a.field)
    for e in read_events(a.log):
        if e.get("event") != a.event:
            continue
        if all(str(e.get(k)) == v for k, v in want.items()):
            print(json.dumps(e, sort_keys=True))
    return 0


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("abort")
    s.add_argument("--addr", required=True)
    s.add_argument("--port", type=int, default=443)
    s.add_argument("--sni", required=True)
    s.add_argument("--tls", choices=["1.2", "1.3"], required=True)
    s.add_argument("--mode", choices=["flight", "hello"], required=True)
    s = sub.add_parser("compare")
    s.add_argument("--agent", required=True)
    s.add_argument("--analyze", required=True)
    s.add_argument("--expected", required=True)
    s.add_argument("--expected-certs")
    s.add_argument("--iface", required=True)
    s = sub.add_parser("flight-packets")
    s.add_argument("--pcap", required=True)
    s.add_argument("--server", required=True)
    s = sub.add_parser("events")
    s.add_argument("--log", required=True)
    s.add_argument("--event", required=True)
    s.add_argument("--field", action="append", default=[])
    a = p.parse_args()
    return {"abort": cmd_abort, "compare": cmd_compare,
            "flight-packets": cmd_flight_packets, "events": cmd_events}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
