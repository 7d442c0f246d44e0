# SPDX-License-Identifier: MIT
# Fills a man page template (man/*.in): a line "@OPTIONS CMD@" or
# "@EXIT CMD@" becomes the section tlswatch generates from its option table
# (tw=path of the built binary), "@EVENTS@" the event reference converted
# from docs/events.md, "@VERSION@" the version, "@SCHEMA@" the inventory's
# schema version and "@SCHEMA_READ_MIN@" the first one `inventory` reads
# (schema=, schema_read_min=: the Makefile reads them from inventory.h).
BEGIN {
	if (schema == "" || schema_read_min == "") {
		print "man-fill: schema= and schema_read_min= are needed" > "/dev/stderr"
		exit 1
	}
}
function run(cmd,    line) {
	while ((cmd | getline line) > 0)
		print line
	if (close(cmd) != 0) {
		print "man-fill: " cmd " failed" > "/dev/stderr"
		exit 1
	}
}
/^@OPTIONS [a-z]+@$/ { split($2, a, "@"); run(tw " --doc man-options " a[1]); next }
/^@EXIT [a-z]+@$/    { split($2, a, "@"); run(tw " --doc man-exit " a[1]); next }
/^@EVENTS@$/         { run("awk -f scripts/md2man.awk docs/events.md"); next }
{ gsub(/@VERSION@/, version); gsub(/@SCHEMA@/, schema); gsub(/@SCHEMA_READ_MIN@/, schema_read_min); print }
