#!/usr/bin/env python3
"""Readable lines from tlswatch's JSON for the demo (scripts/demo.sh).

    demo-format.py [--save FILE] [--raw]  events on stdin, one line each as
                                     they come (--save: a copy of the raw
                                     lines; --raw: the JSON lines themselves,
                                     each written whole)
    demo-format.py --webhooks FILE   the requests webhook_receiver.py kept
    demo-format.py --server-view FILE  what the server's TLS library told
                                     the agent ("observed": "server")
"""
import argparse
import json
import signal
import sys

BOLD, RED, YEL, GRN, CYAN, DIM, END = ("\033[1m", "\033[31m", "\033[33m", "\033[32m",
                                       "\033[36m", "\033[2m", "\033[0m")


def findings_text(items):
    """findings: [{"kind", "severity"}, ...] in every event (schema 2)."""
    return " ".join(f'{RED if f["severity"] == "critical" else YEL}{f["kind"]}{END}'
                    for f in items)


def findings_suffix(ev):
    return f' findings: {findings_text(ev["findings"])}' if ev.get("findings") else ""


def served_by(ev):
    """The serving process of an "observed": "server" event."""
    p = ev.get("process", {})
    what = " ".join(str(x) for x in (p.get("exe"), f'({p["comm"]})' if "comm" in p else None) if x)
    return f'pid {p.get("pid", "?")} {what}'.rstrip()


def alert_text(a):
    how = " (encrypted)" if a.get("encrypted") else ""
    if a.get("observed") == "server":
        how = " (the server's library)"
    return f'{a["description"]} from {a["from"]}{how}'


def handshake_line(ev):
    alerts = ", ".join(alert_text(a) for a in ev.get("alerts", []))
    color = GRN if ev["outcome"] == "ok" else RED
    leaf = ev.get("chain", [{}])[0].get("sha256", "")[:16]
    if not leaf:
        seen = " (certificate encrypted)"
    elif ev.get("observed") == "server":
        seen = (f' leaf {leaf}… {CYAN}encrypted on the wire, chain from the server\'s library: '
                f'{served_by(ev)}{END}')
    else:
        seen = f" leaf {leaf}…"
    return (f'handshake {ev.get("sni", "(no SNI)")} {ev.get("version", "?")} '
            f'{color}{ev["outcome"]}{END}' + (f" alerts: {alerts}" if alerts else "")
            + seen + findings_suffix(ev))


def cert_line(ev):
    observed = ev["observed"]
    if observed == "server":
        observed = f'{CYAN}server: {served_by(ev)}{END}'
    return (f'{BOLD}cert{END} {ev.get("sni", "(no SNI)")} [{observed}] '
            f'{ev["sha256"][:16]}… {ev["subject"]} expires {ev["not_after"]}' + findings_suffix(ev))


def agent_line(ev):
    c = ev.get("counters", {})
    if ev["state"] == "stats":
        names = ", ".join(f'{n.get("sni", "-")}: {n["handshakes"]} hs, {100 * n["failure_rate"]:.0f}% failed'
                          for n in ev.get("names", []))
        return (f'{DIM}agent stats: {c.get("packets_seen", 0)} packets, '
                f'{c.get("handshakes", 0)} handshakes, {c.get("uprobe_chains_joined", 0)} chains from '
                f'the server\'s library, ring buffer lost {c.get("ringbuf_lost", 0)}; {names}{END}')
    return f'{DIM}agent {ev["state"]} {" ".join(ev.get("interfaces", []))} {ev.get("message", "")}{END}'


def line(ev):
    kind = ev.get("event")
    if kind == "handshake":
        return handshake_line(ev)
    if kind == "cert":
        return cert_line(ev)
    if kind == "spike":
        return f'{RED}spike {ev["state"]}{END} {json.dumps(ev["scope"])} {ev["failures"]}/{ev["handshakes"]} failed'
    if kind == "agent":
        return agent_line(ev)
    if kind == "summary":
        return (f'{DIM}summary: {ev.get("handshakes", 0)} handshakes, '
                f'{ev.get("certificates", 0)} certificates, {ev.get("spikes", 0)} spikes{END}')
    return json.dumps(ev)


def stream(save, raw_lines):
    # Ctrl-C reaches the whole process group: the agent's last events (its
    # detach, the summary) still come, up to the end of its output.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for raw in sys.stdin:
        if save:
            save.write(raw)
            save.flush()
        if raw_lines:
            # one write per line: the demo's own text never splits one
            sys.stdout.write(raw)
            sys.stdout.flush()
            continue
        try:
            print(line(json.loads(raw)), flush=True)
        except (ValueError, KeyError) as e:
            print(f"(unreadable event: {e}) {raw.strip()}", flush=True)


def read_lines(path):
    try:
        with open(path) as f:
            return [json.loads(raw) for raw in f if raw.strip()]
    except OSError:
        return []


def webhooks(path):
    requests = read_lines(path)
    for r in requests:
        ev = json.loads(r["body"])
        what = ev.get("sni") or json.dumps(ev.get("scope", ev.get("state", "")))
        kinds = ",".join(f["kind"] for f in ev.get("findings", []))
        observed = f' observed {ev["observed"]}' if "observed" in ev else ""
        print(f'  webhook {ev["event"]} {what} {kinds}{observed} (HTTP {r.get("status")}, '
              f'signature {"ok" if r.get("signature_ok") else "BAD"}, '
              f'key {r["headers"].get("idempotency-key", "")[:12]}…)')
    print(f"  {len(requests)} webhook(s)")


def server_view(path):
    events = read_lines(path)
    certs = [ev for ev in events if ev.get("event") == "cert" and ev.get("observed") == "server"]
    for ev in certs:
        print(f'  {ev.get("sni", "(no SNI)")}: leaf {ev["sha256"][:16]}… {ev["subject"]}, '
              f'expires {ev["not_after"]}, served by {served_by(ev)}' + findings_suffix(ev))
    tls13 = [ev for ev in events if ev.get("event") == "handshake" and ev.get("version") == "TLS1.3"]
    joined = sum(1 for ev in tls13 if ev.get("observed") == "server")
    hidden = sum(1 for ev in tls13 if ev.get("cert_visible") is False)
    print(f"  {len(certs)} certificate(s) learned from the server's library; "
          f"{joined} of {len(tls13)} TLS 1.3 handshakes carry the served chain "
          f'("observed": "server"), in {hidden} the wire had the certificate encrypted')


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--save", type=argparse.FileType("w"), help="copy of the raw event lines")
    ap.add_argument("--raw", action="store_true", help="print the JSON lines as they are")
    ap.add_argument("--webhooks", metavar="FILE", help="print the webhook requests of FILE")
    ap.add_argument("--server-view", metavar="FILE", help="print what the server's library said")
    args = ap.parse_args()
    if args.webhooks:
        webhooks(args.webhooks)
    elif args.server_view:
        server_view(args.server_view)
    else:
        stream(args.save, args.raw)


if __name__ == "__main__":
    main()
