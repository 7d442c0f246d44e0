/* SPDX-License-Identifier: MIT */
/* Offline source: a pcap or pcapng file (or "-" for stdin) through libpcap. */
#ifndef TW_PCAP_SOURCE_H
#define TW_PCAP_SOURCE_H

#include <stdbool.h>
#include <stdint.h>

#include "decode.h"
#include "pcap_clock.h"
#include "segment.h"

struct pcap_source;

struct pcap_source_stats {
	struct decode_stats decode;
	uint64_t packets;          /* records read from the file */
	uint64_t bytes;            /* captured bytes read */
	bool truncated_file;       /* the file ended in the middle of a record */
	char error[256];           /* read error text, if any */
};

/*
 * Opens @path. On failure returns NULL and writes a one-line reason into
 * @err (e.g. "capture.pcap: No such file or directory", "x.txt: not a pcap
 * or pcapng file", "x.pcap: unsupported link type 147 (USER0)").
 */
struct pcap_source *pcap_source_open(const char *path, char *err, size_t errlen);
/* The same, reading @path ("-": stdin) but naming it @name in messages
 * (the path given, for a temporary copy read in its place). */
struct pcap_source *pcap_source_open_as(const char *path, const char *name,
					char *err, size_t errlen);

/*
 * Reads every record, decodes it and calls @fn for each TCP segment. A
 * record dated far ahead of @clock waits for the next one, which says
 * whether the clock jumped or the record lies (clock_guard.h): a lone one
 * is read at the time of the record before, counted in
 * @clock->guard.outliers, the file's first said on stderr. @clock is the
 * run's (pcap_clock.h): a record held at the end of the file waits for the
 * next file's first, or for pcap_clock_finish.
 * @port, if non-zero, keeps only segments from or to that port.
 * @progress, if non-NULL, is called about every 2^16 packets with bytes read
 * so far and the file size (0 if unknown, e.g. stdin).
 * Returns 0 at the end of the file, -1 on a read error (stats->error says
 * what); a truncated last record sets stats->truncated_file and returns 0.
 */
int pcap_source_run(struct pcap_source *src, const uint16_t *ports, int nports,
		    struct pcap_clock *clock, tw_segment_fn fn, void *ctx,
		    void (*progress)(void *ctx, uint64_t done, uint64_t total));

/* The UDP ports that carry tunnels (--udp-encap); @udp must outlive the
 * source. Without a call: tw_udp_encap_default. */
void pcap_source_set_udp_encap(struct pcap_source *src,
			       const struct tw_udp_encap *udp);

const struct pcap_source_stats *pcap_source_stats(const struct pcap_source *src);
int pcap_source_linktype(const struct pcap_source *src);
void pcap_source_close(struct pcap_source *src);

#endif
