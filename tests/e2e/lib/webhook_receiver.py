#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A webhook receiver for tlswatch's end-to-end tests (standard library only).

    webhook_receiver.py --out FILE [--port N] [--mode-file FILE]
                        [--secret FILE] [--hang-seconds S] [--max-seconds S]
                        [--tls-cert FILE --tls-key FILE]

Listens on 127.0.0.1 only (port N, default 0: any free port) and prints the
bound port alone on its first stdout line. With --tls-cert and --tls-key
(PEM; the certificate file may hold the chain) it serves https instead. Every POST is appended to --out
as one JSON line, written and flushed before the response is sent:

    {"path": "/hook", "headers": {"content-type": "..."},  (names lowercase)
     "body": "...",               (UTF-8 text, invalid bytes replaced)
     "received_at": 1700000000.123, (unix seconds, float)
     "mode": "ok", "status": 200,   (the behaviour applied to this request)
     "signature_ok": true}          (only with --secret)

The mode file is read on every request; its first line selects the answer
(absent, empty file: ok):

    ok              200
    fail            500
    reject          400
    retry-after N   503 with "Retry-After: N"
    redirect N      N (301, 302, 303, 307 or 308) with "Location: /final",
                    except a request to /final itself: 200
    redirect-loop   302 with "Location:" the request's own path
    hang            waits --hang-seconds (default 60, longer than any client
                    timeout), then 200; a SIGTERM cuts the wait short
    fail-once-if T  503 to the first request whose body contains the text T
                    (the rest of the line), 200 to every other request
    anything else   500, and a message on stderr

To refuse connections, stop the receiver and start it again later with
--port N (the socket uses SO_REUSEADDR, so the port is free at once).

With --secret FILE, "Tlswatch-Signature: t=UNIX,v1=HEX" is checked: HEX must
be the HMAC-SHA256, keyed with the file's content less one trailing "\r\n"
or "\n" (as tlswatch reads it), of t + "." + body. Several v1= values may be
given (key rotation): one match is enough. A missing or malformed header gives "signature_ok": false.

GET answers 200 "ready" (for readiness polls) and is not recorded.
Exits 0 on SIGTERM or SIGINT, promptly, even with a request hanging; exits 3
after --max-seconds (default 300) whatever happens, so a forgotten receiver
cannot outlive its test for long.
"""

import argparse
import hashlib
import hmac
import http.server
import json
import signal
import ssl
import sys
import threading
import time

MAX_BODY = 16 * 1024 * 1024

STOP = threading.Event()          # set on SIGTERM / SIGINT / max-seconds
OUT_LOCK = threading.Lock()


def parse_args(argv):
    p = argparse.ArgumentParser(description="tlswatch test webhook receiver")
    p.add_argument("--port", type=int, default=0,
                   help="TCP port on 127.0.0.1 (0: any free port)")
    p.add_argument("--out", required=True,
                   help="file to append one JSON line per POST to")
    p.add_argument("--mode-file", default=None,
                   help="file naming the behaviour, read on each request")
    p.add_argument("--secret", default=None,
                   help="file holding the HMAC key: check Tlswatch-Signature")
    p.add_argument("--hang-seconds", type=float, default=60.0,
                   help="how long the hang mode waits before answering")
    p.add_argument("--max-seconds", type=float, default=300.0,
                   help="exit after this long whatever happens")
    p.add_argument("--tls-cert", default=None,
                   help="serve https with this PEM certificate (chain)")
    p.add_argument("--tls-key", default=None,
                   help="the PEM private key of --tls-cert")
    args = p.parse_args(argv)
    if not 0 <= args.port <= 65535:
        p.error("--port must be 0..65535")
    if args.max_seconds <= 0 or args.hang_seconds < 0:
        p.error("--max-seconds must be > 0 and --hang-seconds >= 0")
    if (args.tls_cert is None) != (args.tls_key is None):
        p.error("--tls-cert and --tls-key go together")
    return args


def read_secret(path):
    """The key as tlswatch reads it: less one trailing CRLF or LF."""
    with open(path, "rb") as f:
        key = f.read()
    for end in (b"\r\n", b"\n"):
        if key.endswith(end):
            return key[:-len(end)]
    return key


def read_mode(path):
    """(mode name, status, extra headers) for the current mode file."""
    line = ""
    if path:
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                line = f.readline().strip()
        except FileNotFoundError:
            line = ""
    if line in ("", "ok"):
        return "ok", 200, {}
    if line == "fail":
        return "fail", 500, {}
    if line == "reject":
        return "reject", 400, {}
    if line == "hang":
        return "hang", 200, {}
    if line == "redirect-loop":
        return "redirect-loop", 302, {}
    words = line.split()
    if words and words[0] == "fail-once-if" and len(words) > 1:
        return "fail-once-if", 503, {"match": line.split(None, 1)[1]}
    if len(words) == 2 and words[0] == "retry-after" and words[1].isdigit():
        return "retry-after", 503, {"Retry-After": words[1]}
    if len(words) == 2 and words[0] == "redirect" and \
            words[1] in ("301", "302", "303", "307", "308"):
        return "redirect", int(words[1]), {"Location": "/final"}
    sys.stderr.write("webhook_receiver: unknown mode %r in %s: answering 500\n"
                     % (line, path))
    return "unknown", 500, {}


def signature_ok(key, header, body):
    """True when one v1= of header is HMAC-SHA256(key, t + "." + body)."""
    if not header:
        return False
    t, sigs = None, []
    for part in header.split(","):
        name, sep, value = part.strip().partition("=")
        if not sep:
            return False
        if name == "t":
            t = value
        elif name == "v1":
            sigs.append(value.lower())
    if t is None or not t.isdigit() or not sigs:
        return False
    want = hmac.new(key, t.encode("ascii") + b"." + body,
                    hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(want, s) for s in sigs)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "tlswatch-test-receiver"
    timeout = 30                  # per socket read: a stuck client goes away

    def log_message(self, fmt, *args):  # quiet: tests read --out
        pass

    def answer(self, status, text, headers=None):
        data = text.encode()
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def read_body(self):
        """The request body (Content-Length or chunked), or None if too big
        or malformed."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks, total = [], 0
            while True:
                size_line = self.rfile.readline(1024)
                try:
                    size = int(size_line.split(b";")[0].strip(), 16)
                except ValueError:
                    return None
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                total += size
                if total > MAX_BODY:
                    return None
                chunks.append(self.rfile.read(size))
                self.rfile.readline(1024)
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            return None
        if length < 0 or length > MAX_BODY:
            return None
        return self.rfile.read(length)

    def do_GET(self):
        self.answer(200, "ready\n")

    def do_POST(self):
        received_at = time.time()
        body = self.read_body()
        if body is None:
            self.close_connection = True
            self.answer(413, "body too large or malformed\n")
            return
        mode, status, extra = read_mode(self.server.mode_file)
        if mode == "redirect" and self.path == "/final":
            mode, status, extra = "ok", 200, {}
        elif mode == "redirect-loop":
            extra = {"Location": self.path}
        elif mode == "fail-once-if":
            match = extra.pop("match")
            with OUT_LOCK:
                first = match.encode() in body and match not in self.server.failed_once
                if first:
                    self.server.failed_once.add(match)
            if not first:
                status = 200
        rec = {
            "path": self.path,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": body.decode("utf-8", errors="replace"),
            "received_at": received_at,
            "mode": mode,
            "status": status,
        }
        if self.server.secret is not None:
            rec["signature_ok"] = signature_ok(
                self.server.secret, self.headers.get("Tlswatch-Signature"), body)
        line = json.dumps(rec, sort_keys=True) + "\n"
        with OUT_LOCK, open(self.server.out, "a", encoding="utf-8") as f:
            f.write(line)
            f.flush()
        if mode == "hang":
            STOP.wait(self.server.hang_seconds)   # bounded; SIGTERM ends it
            if STOP.is_set():
                self.close_connection = True
                return
        self.answer(status, "%s\n" % mode, extra)


class Server(http.server.ThreadingHTTPServer):
    allow_reuse_address = True    # SO_REUSEADDR: restart on the same port
    daemon_threads = True         # a hanging request never blocks exit


def main(argv):
    def on_signal(signum, frame):
        STOP.set()
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    args = parse_args(argv)
    secret = read_secret(args.secret) if args.secret else None
    # create the file now: a test can wait on it without racing the first POST
    open(args.out, "a").close()
    srv = Server(("127.0.0.1", args.port), Handler)
    if args.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    srv.out = args.out
    srv.mode_file = args.mode_file
    srv.secret = secret
    srv.hang_seconds = args.hang_seconds
    srv.failed_once = set()       # the texts of fail-once-if answered 503

    print(srv.server_address[1], flush=True)
    t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.1},
                         daemon=True)
    t.start()
    stopped = STOP.wait(args.max_seconds)
    STOP.set()                    # wakes hanging handlers
    srv.shutdown()
    srv.server_close()
    if not stopped:
        sys.stderr.write("webhook_receiver: --max-seconds (%g) reached, exiting\n"
                         % args.max_seconds)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
