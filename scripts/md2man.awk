# SPDX-License-Identifier: MIT
# The Markdown of docs/events.md as man-page text (roff), for
# tlswatch-events(5): "## heading" -> .SS, "### heading" -> a bold
# paragraph head, paragraphs, "| a | b | c |"
# tables -> tagged paragraphs (a, (b), c), `code` and **bold** -> bold.
# Only the subset events.md uses; the "# title" line is skipped.

function inline(s,    out, parts, n, i) {
	gsub(/\\\|/, "\001", s)          # an escaped | inside a table cell
	gsub(/\\/, "\\e", s)
	gsub(/\001/, "|", s)
	gsub(/—/, "\\(em", s)
	gsub(/\*\*/, "`", s)             # bold and code look the same in a man page
	n = split(s, parts, "`")
	out = parts[1]
	for (i = 2; i <= n; i++)
		out = out (i % 2 == 0 ? "\\fB" : "\\fR") parts[i]
	if (n % 2 == 0)
		out = out "\\fR"
	gsub(/ --/, " \\-\\-", out)
	gsub(/ -/, " \\-", out)
	if (out ~ /^[.']/)
		out = "\\&" out
	return out
}

function cell(s) {
	sub(/^ +/, "", s)
	sub(/ +$/, "", s)
	return s
}

/^# / { next }
/^## / { sub(/^## /, ""); print ".SS \"" inline($0) "\""; para = started = 0; next }
# "### name" (a part of an event, such as handshake's tunnel): man pages
# have no level below .SS, so a paragraph of its own headed in bold
/^### / { sub(/^### /, ""); print ".PP"; print ".B"; print inline($0); para = 0; started = 1; next }
/^\| *---/ { next }
/^\|/ {
	line = $0
	gsub(/\\\|/, "\002", line)
	n = split(line, c, "|")
	if (!in_table) {          # the header row names the columns
		in_table = 1
		next
	}
	for (i = 2; i <= 4; i++)
		gsub(/\002/, "\\|", c[i])
	print ".TP"
	tag = inline(cell(c[2]))
	if (cell(c[3]) != "")
		tag = tag " (" inline(cell(c[3])) ")"
	print tag
	print inline(cell(c[4]))
	next
}
/^$/ { in_table = 0; if (started) para = 1; next }
{
	if (para)
		print ".PP"
	para = 0
	started = 1
	print inline($0)
}
