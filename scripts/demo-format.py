#!/usr/bin/env python3
"""Turns tlswatch JSON lines into one readable line per event (for the demo)."""
import json
import sys

BOLD, RED, YEL, GRN, DIM, END = "\033[1m", "\033[31m", "\033[33m", "\033[32m", "\033[2m", "\033[0m"


def findings_text(items):
    """findings: [{"kind", "severity"}, ...] in every event (schema 2)."""
    return " ".join(f'{RED if f["severity"] == "critical" else YEL}{f["kind"]}{END}'
                    for f in items)


def line(ev):
    kind = ev.get("event")
    if kind == "handshake":
        alerts = ", ".join(
            f'{a["description"]} from {a["from"]}' + (" (encrypted)" if a.get("encrypted") else "")
            for a in ev.get("alerts", []))
        color = GRN if ev["outcome"] == "ok" else RED
        leaf = ev.get("chain", [{}])[0].get("sha256", "")[:16]
        return (f'handshake {ev.get("sni", "(no SNI)")} {ev.get("version", "?")} '
                f'{color}{ev["outcome"]}{END}'
                + (f" alerts: {alerts}" if alerts else "")
                + (f" leaf {leaf}…" if leaf else " (certificate encrypted)")
                + (f' findings: {findings_text(ev["findings"])}' if ev.get("findings") else ""))
    if kind == "cert":
        return (f'{BOLD}cert{END} {ev.get("sni", "(no SNI)")} [{ev["observed"]}] '
                f'{ev["sha256"][:16]}… {ev["subject"]} expires {ev["not_after"]}'
                + (f' findings: {findings_text(ev["findings"])}' if ev.get("findings") else ""))
    if kind == "spike":
        return f'{RED}spike {ev["state"]}{END} {json.dumps(ev["scope"])} {ev["failures"]}/{ev["handshakes"]} failed'
    if kind == "agent":
        c = ev.get("counters", {})
        if ev["state"] == "stats":
            names = ", ".join(f'{n.get("sni", "-")}: {n["handshakes"]} hs, {100 * n["failure_rate"]:.0f}% failed'
                              for n in ev.get("names", []))
            return (f'{DIM}agent stats: {c.get("packets_seen", 0)} packets, '
                    f'{c.get("handshakes", 0)} handshakes, ring buffer lost {c.get("ringbuf_lost", 0)}; {names}{END}')
        return f'{DIM}agent {ev["state"]} {" ".join(ev.get("interfaces", []))} {ev.get("message", "")}{END}'
    if kind == "summary":
        return (f'{DIM}summary: {ev.get("handshakes", 0)} handshakes, '
                f'{ev.get("certificates", 0)} certificates, {ev.get("spikes", 0)} spikes{END}')
    return json.dumps(ev)


for raw in sys.stdin:
    try:
        print(line(json.loads(raw)), flush=True)
    except (ValueError, KeyError) as e:
        print(f"(unreadable event: {e}) {raw.strip()}", flush=True)
