#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The harness's capture (tn_start_tcpdump / tn_stop_tcpdump in
# lib_netns.sh) keeps the traffic's last packets. tcpdump ends its loop
# at SIGINT without reading what the kernel still holds for it: on a busy
# host, where tcpdump waits for a CPU while the test's last packets come,
# a capture stopped at once lacked them (sni_case.sh saw a handshake
# "incomplete" in CI). Here tcpdump is held (SIGSTOP) while 5 connection
# attempts to a closed port go by (a SYN and the RST answering it each:
# 10 packets), and let go only 1 s after the stop was asked: the stop
# must wait for it to read them all (before: 0 captured).
# Needs root (network namespace, tcpdump). About 5 seconds.
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
. tests/e2e/lib_netns.sh
tn_require_root capture_stop
tn_require_cmds tcpdump tshark ip timeout

tmp=$(tn_tmpdir)
tn_setup capst
pcap=$tmp/stop.pcap
tn_start_tcpdump "$pcap" tcp port 9 || tn_bail "tcpdump did not start"
kill -STOP "$TN_TCPDUMP_PID"
for _ in 1 2 3 4 5; do
	timeout 2 bash -c "exec 3<>/dev/tcp/$TN_PEER4/9" 2>/dev/null
done
( sleep 1; kill -CONT "$TN_TCPDUMP_PID" ) &
cont=$!
tn_stop_tcpdump "$pcap"
wait "$cont"
tap_eq "all 10 packets captured (5 SYNs, 5 RSTs)" "5 5" \
	"$(tshark -r "$pcap" -Y 'tcp.flags.syn == 1 && tcp.flags.ack == 0' 2>/dev/null | wc -l) $(tshark -r "$pcap" -Y 'tcp.flags.reset == 1' 2>/dev/null | wc -l)"
tap_eq "tcpdump says the kernel dropped none" 0 "${TN_TCPDUMP_DROPS:-0}"
[ "$TN_FAILED" -eq 0 ]
