#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Facts of live_dual_cert.sh's logs, one value per call, for tap_eq.

  dual_cert.py matches CLIENTS EVENTS
      each client (one line: "phase kind version sha|-") against the
      handshake events in packet-time order: "all N match" when there is
      one event per client, with its version and outcome and, for TLS 1.2,
      the leaf the client received
  dual_cert.py superseded-before PHASE CLIENTS EVENTS
      handshake events of clients before the first of PHASE with a
      superseded finding (count)
  dual_cert.py first-superseded CLIENTS EVENTS
      "index kind sha" of the first handshake with a superseded finding
  dual_cert.py unflagged-after INDEX SHA CLIENTS EVENTS
      handshakes from INDEX that served SHA without superseded (count);
      where another leaf was served after INDEX, from the next client
      offering both that was served SHA
  dual_cert.py cert-detail SHA EVENTS
      detail of the first superseded finding of a cert event for SHA
  dual_cert.py active-certs EVENTS
      sorted sha256 of the cert events with observed active, one line
  dual_cert.py dump EVENTS
      one line per handshake event in order (for a failure's diagnosis):
      index, ts, client port, leaf (12 hex), superseded or -
"""
import json
import sys


def events(path, kind):
    out = []
    with open(path) as f:
        for line in f:
            try:
                ev = json.loads(line)
            except ValueError:
                continue
            if ev.get("event") == kind:
                out.append(ev)
    return out


def clients(path):
    with open(path) as f:
        return [l.split() for l in f if l.strip()]


def handshakes(path):
    return sorted(events(path, "handshake"), key=lambda e: e["ts"])


def leaf(ev):
    chain = ev.get("chain") or []
    return chain[0]["sha256"] if chain else "-"


def superseded(ev):
    return any(f["kind"] == "superseded" for f in ev.get("findings", []))


def matches(client, ev):
    """A failed client saw a failed handshake; TLS 1.2 carries the leaf the
    client received; TLS 1.3 hides it."""
    version = {"tls1_2": "TLS1.2", "tls1_3": "TLS1.3"}[client[2]]
    if client[3] == "-":
        return ev.get("outcome") == "failed"
    if ev.get("version") != version or ev.get("outcome") != "ok":
        return False
    if version == "TLS1.3":
        return ev.get("cert_visible") is False and leaf(ev) == "-"
    return leaf(ev) == client[3]


def evidence_start(first, sha, cl, hs):
    """Where the rollback's evidence holds for every client: after @first,
    or, when another leaf was served later (an old nginx worker still
    accepting during the graceful reload, which rightly withdraws the
    evidence: "the newer leaf not served there since"), after the next
    client offering both that was served @sha (client_preferred again)."""
    start, withdrawn = first + 1, False
    for i in range(first + 1, len(hs)):
        if leaf(hs[i]) not in ("-", sha):
            withdrawn = True
        elif withdrawn and leaf(hs[i]) == sha and cl[i][1] == "both":
            start, withdrawn = i, False
    return len(hs) if withdrawn else start


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "matches":
        cl, hs = clients(args[0]), handshakes(args[1])
        if len(cl) != len(hs):
            print("%d clients, %d handshake events" % (len(cl), len(hs)))
            return
        bad = [i for i, (c, h) in enumerate(zip(cl, hs)) if not matches(c, h)]
        print("all %d match" % len(cl) if not bad else "mismatch at %s" % bad[:5])
    elif cmd == "superseded-before":
        cl, hs = clients(args[1]), handshakes(args[2])
        n = next((i for i, c in enumerate(cl) if c[0] == args[0]), len(cl))
        print(sum(1 for h in hs[:n] if superseded(h)))
    elif cmd == "first-superseded":
        cl, hs = clients(args[0]), handshakes(args[1])
        i = next((i for i, h in enumerate(hs) if superseded(h)), None)
        print("none" if i is None else "%d %s %s" % (i, cl[i][1], leaf(hs[i])))
    elif cmd == "unflagged-after":
        cl, hs = clients(args[2]), handshakes(args[3])
        print(sum(1 for h in hs[evidence_start(int(args[0]), args[1], cl, hs):]
                  if leaf(h) == args[1] and not superseded(h)))
    elif cmd == "cert-detail":
        for ev in events(args[1], "cert"):
            if ev["sha256"] != args[0]:
                continue
            for f in ev.get("findings", []):
                if f["kind"] == "superseded":
                    print(f["detail"])
                    return
        print("none")
    elif cmd == "dump":
        for i, h in enumerate(handshakes(args[0])):
            print(i, h["ts"], h["client"]["port"], leaf(h)[:12],
                  "superseded" if superseded(h) else "-")
    elif cmd == "active-certs":
        print(" ".join(sorted(ev["sha256"] for ev in events(args[0], "cert")
                              if ev.get("observed") == "active")))
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()
