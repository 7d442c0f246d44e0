#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The options each subcommand documents, read independently from three
places: `tlswatch CMD --help`, the man pages (build/man/) and README.md's
"Options of each command" table. Used by tests/e2e/cli_docs.sh.

  cli_docs.py help TLSWATCH CMD      -> "NAME\tBOUNDS\tDEFAULT" per option
  cli_docs.py man MANPAGE            -> "NAME" per option of its OPTIONS section
  cli_docs.py readme README CMD      -> "NAME\tBOUNDS\tDEFAULT" per option
NAME is the long option without "--"; BOUNDS "MIN-MAX" or ""; DEFAULT the
value after "default " in --help's generated parenthesis (or the README's
default cell without backquotes), "" when there is none.
"""
import re
import subprocess
import sys

COMMANDS = ["analyze", "run", "inventory"]
TAIL = re.compile(r"\((?:(\d[\d.]*-[\d.]+))?(?:, )?(?:default ([^)]*))?\)$")


def help_options(tw, cmd):
    out = subprocess.run([tw, cmd, "--help"], capture_output=True, text=True,
                         check=True, timeout=20).stdout
    opts, cur = [], None
    for line in out.splitlines():
        m = re.match(r"^  (?:-[a-zA-Z], )?--([a-z][a-z-]*)(?: \S+)?(?:\s{2,}(.*))?$", line)
        if m:
            cur = [m.group(1), m.group(2) or ""]
            opts.append(cur)
        elif cur and re.match(r"^ {25}\S", line):
            cur[1] = (cur[1] + " " + line.strip()).strip()
        else:
            cur = None
    rows = []
    for name, text in opts:
        m = TAIL.search(text)
        bounds, default = (m.group(1) or "", m.group(2) or "") if m else ("", "")
        rows.append((name, bounds, default))
    return rows


def man_options(page):
    names, in_options = [], False
    for line in open(page, encoding="utf-8"):
        if line.startswith(".SH "):
            in_options = line.strip() == ".SH OPTIONS"
            continue
        m = re.match(r"^(?:\\fB\\-[a-zA-Z]\\fR, )?\\fB\\-\\-([a-z\\-]+)\\fR", line)
        if in_options and m:
            names.append(m.group(1).replace("\\-", "-"))
    return [(n,) for n in names]


def readme_options(readme, cmd):
    text = open(readme, encoding="utf-8").read()
    section = text.split("## Options of each command", 1)[1].split("\n## ", 1)[0]
    col = COMMANDS.index(cmd)
    rows = []
    for line in section.splitlines():
        # a cell's own '|' is escaped (`--direction all\|served`)
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip().strip("|"))]
        m = re.match(r"^`(?:-[a-zA-Z], )?--([a-z][a-z-]*)", cells[0]) if cells else None
        if not m or len(cells) != 6:
            continue
        if cells[1 + col] == "x":
            rows.append((m.group(1), cells[4], cells[5].strip("`")))
    return rows


def main():
    kind = sys.argv[1]
    if kind == "help":
        rows = help_options(sys.argv[2], sys.argv[3])
    elif kind == "man":
        rows = man_options(sys.argv[2])
    else:
        rows = readme_options(sys.argv[2], sys.argv[3])
    for r in rows:
        print("\t".join(r))


if __name__ == "__main__":
    main()
