# Sourced by the benchmark scripts: replaces one section of BENCHMARKS.md.
# bench_section NAME FILE: the section between "<!-- NAME -->" markers
# becomes the contents of FILE (other sections are kept).
bench_section() {
	local name=$1 file=$2 doc=BENCHMARKS.md
	[ -f "$doc" ] || printf '# tlswatch benchmarks\n\nWritten by `make bench`; each section says the command that produced it.\n' >"$doc"
	python3 - "$doc" "$name" "$file" <<'PY'
import sys
doc, name, src = sys.argv[1:4]
text = open(doc).read()
body = open(src).read().rstrip("\n")
begin, end = f"<!-- {name} -->", f"<!-- /{name} -->"
block = f"{begin}\n{body}\n{end}"
if begin in text and end in text:
    a = text.index(begin)
    b = text.index(end) + len(end)
    text = text[:a] + block + text[b:]
else:
    text = text.rstrip("\n") + "\n\n" + block + "\n"
open(doc, "w").write(text)
PY
}

# bench_subsections NAME FILE: for a run of some parts of a benchmark, each
# "### " subsection of FILE replaces the subsection of section NAME whose
# heading starts the same way (up to its first ")": "### (c)"), from its
# heading to the next "### " heading, the section's closing "Command: `make
# bench`" line or its end marker; one not there yet goes before those.
bench_subsections() {
	local name=$1 file=$2 doc=BENCHMARKS.md
	python3 - "$doc" "$name" "$file" <<'PY'
import sys
doc, name, src = sys.argv[1:4]
text = open(doc).read()
begin, end = f"<!-- {name} -->\n", f"<!-- /{name} -->"
if begin not in text or end not in text:
    sys.exit(f"{doc}: no section {name} to update; run the whole benchmark first")
a = text.index(begin) + len(begin)
b = text.index(end, a)
lines = text[a:b].split("\n")

def bound(i):
    # the line where the subsection starting at line i ends
    j = i + 1
    while j < len(lines) and not lines[j].startswith(("### ", "Command: `make bench`")):
        j += 1
    return j

subs, cur = [], None
for line in open(src).read().rstrip("\n").split("\n"):
    if line.startswith("### "):
        cur = [line]
        subs.append(cur)
    elif cur is not None:
        cur.append(line)
for sub in subs:
    while sub and not sub[-1]:
        sub.pop()
    sub.append("")            # a blank line before what follows
    key = sub[0].split(")")[0]
    starts = [i for i, l in enumerate(lines) if l.startswith("### ") and l.split(")")[0] == key]
    if starts:
        i = starts[0]
        lines[i:bound(i)] = sub
    else:
        i = next((k for k, l in enumerate(lines) if l.startswith("Command: `make bench`")),
                 len(lines))
        lines[i:i] = sub
open(doc, "w").write(text[:a] + "\n".join(lines) + text[b:])
PY
}
