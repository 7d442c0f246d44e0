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
