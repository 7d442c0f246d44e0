#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A TCP gate in front of a server, for tests: it passes connections on,
or hangs them like a server that stopped answering.

    tcp_gate.py --target HOST:PORT --mode-file FILE [--port N]
                [--max-seconds S]

Listens on 127.0.0.1 (PORT, or any free one) and prints the bound port
alone on its first stdout line. The mode file is read at each new
connection, and again before each of the client's bytes are passed on (a
client keeps its connections alive: switching to hang must hold those
too); its first line:
    pass    the connection goes to the target, both ways, until either
            side closes (the default, also for a missing file);
    hang    the client's bytes are read and dropped: nothing reaches the
            target and nothing comes back, until the client gives up.
Exits 0 on SIGTERM or SIGINT; exits 3 after --max-seconds (default 300)
whatever happens, so that a forgotten gate cannot outlive its test.
"""
import argparse
import os
import signal
import socket
import sys
import threading


def parse_args(argv):
    p = argparse.ArgumentParser(description="a TCP gate: pass or hang")
    p.add_argument("--target", required=True, help="HOST:PORT to pass to")
    p.add_argument("--mode-file", required=True, help="'pass' or 'hang'")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--max-seconds", type=float, default=300.0)
    args = p.parse_args(argv)
    host, _, port = args.target.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        p.error("--target must be HOST:PORT")
    if not 0 <= args.port < 65536 or args.max_seconds <= 0:
        p.error("--port must be 0..65535 and --max-seconds > 0")
    args.target = (host, int(port))
    return args


def read_mode(path):
    try:
        with open(path) as f:
            line = f.readline().strip()
    except OSError:
        return "pass"
    return line if line in ("pass", "hang") else "pass"


def pump(src, dst, mode_file=None):
    """Copies src to dst until src ends; then ends dst's writing side.
    With mode_file, once it says hang, what src sends is dropped."""
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            if mode_file and read_mode(mode_file) == "hang":
                drop(src)
                break
            dst.sendall(data)
    except OSError:
        pass
    try:
        dst.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def drop(conn):
    """Reads and drops until the client closes."""
    try:
        while conn.recv(65536):
            pass
    except OSError:
        pass


def serve(conn, target, mode_file):
    with conn:
        if read_mode(mode_file) == "hang":
            drop(conn)
            return
        try:
            up = socket.create_connection(target, timeout=5)
        except OSError as e:
            sys.stderr.write("tcp_gate: %s:%d: %s\n" % (target + (e,)))
            return
        up.settimeout(None)
        with up:
            back = threading.Thread(target=pump, args=(up, conn), daemon=True)
            back.start()
            pump(conn, up, mode_file)
            back.join(60)


def main(argv):
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    signal.signal(signal.SIGINT, lambda *_: os._exit(0))
    signal.signal(signal.SIGALRM, lambda *_: os._exit(3))
    signal.setitimer(signal.ITIMER_REAL, args.max_seconds)
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", args.port))
    ls.listen(16)
    print(ls.getsockname()[1], flush=True)
    while True:
        conn, _ = ls.accept()
        threading.Thread(target=serve, daemon=True,
                         args=(conn, args.target, args.mode_file)).start()


if __name__ == "__main__":
    main(sys.argv[1:])
