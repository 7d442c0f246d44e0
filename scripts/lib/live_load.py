#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""TLS handshake load for scripts/bench-live.sh: real handshakes, paced.

  live_load.py server --addr A --cert C --key K [--chain X] [--workers N]
      N forked processes accept on A:443 (SO_REUSEPORT), complete each TLS
      handshake and close. No session tickets, so every handshake is a full
      one. Runs until SIGTERM.
  live_load.py client --addr A --sni S --rate R --seconds D [--workers N]
                      [--tls 1.2|1.3|mix]
      N processes together open R connections per second for D seconds
      (each paced on its own schedule; a worker that falls behind does not
      burst to catch up), each a full handshake then close. Prints one JSON
      line: {"target": R, "ok": n, "failed": n, "seconds": s, "rate": ok/s}.
  live_load.py templates --pcap P --server IP [--ports-file F] --out T
      Cuts the handshakes of a capture (connections to IP:443, IPv4,
      Ethernet; only the client ports listed in F if given, and none whose
      port two connections used: each template is one handshake) into templates
      for bench/replay.c: every packet as captured, GSO packets cut to
      1500-byte IP packets, addressed to a MAC nobody has (so the peer
      drops the replayed copies: no answer, no RST), with the offsets of
      the client address and port that replay.c rewrites per copy.
  live_load.py stamp --fifo F --log L --stamps S
      Reads the agent's JSON log from the FIFO F (the agent writes it line
      by line) into L, and writes to S one line "OFFSET T" per read: the
      bytes of L read so far and the CLOCK_REALTIME (seconds) when they
      arrived. A line of L arrived at the T of the first read whose OFFSET
      covers its end. Ends when the agent closes the FIFO.
Bounded: the client by --seconds (plus a 5 s handshake timeout), the
server by its parent's SIGTERM, stamp by the agent's exit.
"""
import argparse
import json
import multiprocessing as mp
import os
import signal
import socket
import ssl
import sys
import time

HANDSHAKE_TIMEOUT_S = 5


def server_worker(a):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    # leaf then chain, in one file (what load_cert_chain wants)
    ctx.load_cert_chain(a.chain_combined if a.chain else a.cert, a.key)
    ctx.options |= ssl.OP_NO_TICKET
    ctx.num_tickets = 0
    family = socket.AF_INET6 if ":" in a.addr else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    s.bind((a.addr, a.port))
    s.listen(1024)
    while True:
        conn, _ = s.accept()
        conn.settimeout(HANDSHAKE_TIMEOUT_S)
        try:
            tls = ctx.wrap_socket(conn, server_side=True)
            tls.close()
        except (OSError, ssl.SSLError):
            conn.close()


def cmd_server(a):
    if a.chain:
        a.chain_combined = a.cert + ".withchain.pem"
        with open(a.chain_combined, "w") as out:
            out.write(open(a.cert).read())
            out.write(open(a.chain).read())
    procs = [mp.Process(target=server_worker, args=(a,), daemon=True)
             for _ in range(a.workers)]
    for p in procs:
        p.start()

    def stop(*_):
        for p in procs:
            p.terminate()
        for p in procs:
            p.join(2)
        sys.exit(0)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for p in procs:
        p.join()
    return 0


def client_ctx(version):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    v = ssl.TLSVersion.TLSv1_2 if version == "1.2" else ssl.TLSVersion.TLSv1_3
    ctx.minimum_version = ctx.maximum_version = v
    return ctx


def client_worker(a, rate, deadline, q):
    ctxs = ([client_ctx("1.2"), client_ctx("1.3")] if a.tls == "mix"
            else [client_ctx(a.tls)])
    family = socket.AF_INET6 if ":" in a.addr else socket.AF_INET
    ok = failed = 0
    period = 1.0 / rate
    nxt = time.monotonic()
    i = 0
    while True:
        now = time.monotonic()
        if now >= deadline:
            break
        if now < nxt:
            time.sleep(min(nxt - now, deadline - now))
            continue
        nxt += period
        if now - nxt > 0.05:
            nxt = now            # behind: no burst to catch up
        ctx = ctxs[i % len(ctxs)]
        i += 1
        s = socket.socket(family, socket.SOCK_STREAM)
        s.settimeout(HANDSHAKE_TIMEOUT_S)
        try:
            s.connect((a.addr, a.port))
            t = ctx.wrap_socket(s, server_hostname=a.sni)
            t.close()
            ok += 1
        except (OSError, ssl.SSLError):
            failed += 1
            s.close()
    q.put((ok, failed))


def cmd_client(a):
    q = mp.Queue()
    start = time.monotonic()
    deadline = start + a.seconds
    procs = [mp.Process(target=client_worker,
                        args=(a, a.rate / a.workers, deadline, q))
             for _ in range(a.workers)]
    for p in procs:
        p.start()
    ok = failed = 0
    for _ in procs:
        o, f = q.get(timeout=a.seconds + HANDSHAKE_TIMEOUT_S + 10)
        ok += o
        failed += f
    for p in procs:
        p.join(5)
    secs = time.monotonic() - start
    print(json.dumps({"target": a.rate, "ok": ok, "failed": failed,
                      "seconds": round(secs, 3), "rate": round(ok / secs, 1)}))
    return 0


# --- replay -----------------------------------------------------------------

DROP_MAC = bytes.fromhex("027477000001")   # locally administered, unused
MTU = 1500


def pcap_frames(path):
    import struct
    with open(path, "rb") as f:
        hdr = f.read(24)
        magic = struct.unpack("<I", hdr[:4])[0]
        end = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
        if struct.unpack(end + "I", hdr[20:24])[0] != 1:
            raise SystemExit("replay: the capture is not Ethernet")
        while True:
            rh = f.read(16)
            if len(rh) < 16:
                return
            n = struct.unpack(end + "I", rh[8:12])[0]
            data = f.read(n)
            if len(data) < n:
                return
            yield data


def split_frame(frame):
    """Cuts an IPv4/TCP frame bigger than the MTU (a GSO packet as the
    capture saw it) into MTU-sized frames with consecutive sequence numbers."""
    import struct
    ihl = (frame[14] & 15) * 4
    total = struct.unpack("!H", frame[16:18])[0]
    tcp = 14 + ihl
    doff = (frame[tcp + 12] >> 4) * 4
    hdr_len = ihl + doff
    if total <= MTU:
        return [bytes(frame[:14 + total])]
    payload = frame[tcp + doff:14 + total]
    mss = MTU - hdr_len
    seq = struct.unpack("!I", frame[tcp + 4:tcp + 8])[0]
    flags = frame[tcp + 13]
    out = []
    for off in range(0, len(payload), mss):
        chunk = payload[off:off + mss]
        f = bytearray(frame[:tcp + doff]) + chunk
        struct.pack_into("!H", f, 16, hdr_len + len(chunk))
        struct.pack_into("!I", f, tcp + 4, (seq + off) & 0xFFFFFFFF)
        last = off + mss >= len(payload)
        f[tcp + 13] = flags if last else flags & ~0x09   # FIN, PSH on the last
        out.append(bytes(f))
    return out


def load_templates(a):
    import struct
    want = None
    if a.ports_file:
        want = {int(x) for x in open(a.ports_file).read().split()}
    server = socket.inet_aton(a.server)
    flows = {}
    syns = {}                 # client SYNs per client port
    for frame in pcap_frames(a.pcap):
        if len(frame) < 54 or frame[12:14] != b"\x08\x00" or frame[23] != 6:
            continue
        ihl = (frame[14] & 15) * 4
        tcp = 14 + ihl
        src, dst = frame[26:30], frame[30:34]
        sport, dport = struct.unpack("!HH", frame[tcp:tcp + 4])
        if dst == server and dport == 443:
            port, from_client = sport, True
        elif src == server and sport == 443:
            port, from_client = dport, False
        else:
            continue
        if want is not None and port not in want:
            continue
        if from_client and frame[tcp + 13] & 0x12 == 0x02:
            syns[port] = syns.get(port, 0) + 1
        for f in split_frame(frame):
            flows.setdefault(port, []).append((f, from_client))
    templates = []
    for port, frames in flows.items():
        if syns.get(port, 0) > 1:
            continue          # the port was reused: two handshakes, one template
        flags = [f[14 + (f[14] & 15) * 4 + 13] for f, _ in frames]
        if not (flags[0] & 0x02) or not any(fl & 0x05 for fl in flags):
            continue          # cut by the capture's start or end
        tpl = []
        for f, from_client in frames:
            ihl = (f[14] & 15) * 4
            ba = bytearray(f)
            ba[0:6] = DROP_MAC
            ip_off = 26 if from_client else 30
            port_off = 14 + ihl + (0 if from_client else 2)
            tpl.append((ba, ip_off, port_off))
        templates.append(tpl)
    if not templates:
        raise SystemExit("replay: no complete handshake in the capture")
    return templates


def cmd_templates(a):
    """Writes the templates for bench/replay.c (format in its header)."""
    import struct
    templates = load_templates(a)[:4096]
    with open(a.out, "wb") as out:
        out.write(struct.pack("<I", len(templates)))
        for tpl in templates:
            tpl = tpl[:64]
            out.write(struct.pack("<I", len(tpl)))
            for ba, ip_off, port_off in tpl:
                out.write(struct.pack("<HHH", len(ba), ip_off, port_off))
                out.write(ba)
    print(len(templates))
    return 0


def cmd_stamp(a):
    import fcntl
    fd = os.open(a.fifo, os.O_RDONLY)
    try:
        fcntl.fcntl(fd, 1031, 1 << 20)   # F_SETPIPE_SZ: the agent never waits on us
    except OSError:
        pass
    off = 0
    with open(a.log, "wb") as log, open(a.stamps, "w") as st:
        while True:
            b = os.read(fd, 1 << 20)
            t = time.time()
            if not b:
                break
            log.write(b)
            log.flush()
            off += len(b)
            st.write("%d %.6f\n" % (off, t))
    os.close(fd)
    return 0


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("server")
    s.add_argument("--addr", required=True)
    s.add_argument("--port", type=int, default=443)
    s.add_argument("--cert", required=True)
    s.add_argument("--key", required=True)
    s.add_argument("--chain")
    s.add_argument("--workers", type=int, default=2)
    s = sub.add_parser("client")
    s.add_argument("--addr", required=True)
    s.add_argument("--port", type=int, default=443)
    s.add_argument("--sni", required=True)
    s.add_argument("--rate", type=float, required=True)
    s.add_argument("--seconds", type=float, required=True)
    s.add_argument("--workers", type=int, default=4)
    s.add_argument("--tls", choices=["1.2", "1.3", "mix"], default="mix")
    s = sub.add_parser("templates")
    s.add_argument("--pcap", required=True)
    s.add_argument("--server", required=True)
    s.add_argument("--ports-file")
    s.add_argument("--out", required=True)
    s = sub.add_parser("stamp")
    s.add_argument("--fifo", required=True)
    s.add_argument("--log", required=True)
    s.add_argument("--stamps", required=True)
    a = p.parse_args()
    return {"server": cmd_server, "client": cmd_client,
            "templates": cmd_templates, "stamp": cmd_stamp}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
