// SPDX-License-Identifier: MIT
/*
 * The offline source: libpcap reads pcap and pcapng records, decode.c turns
 * each into a segment, and the segments the port filter keeps go to the
 * next stage. We open the file ourselves so that a missing file is reported
 * with errno's words, and so that stdio gets a large buffer and no locking:
 * libpcap reads every record with two fread() calls, and with the default
 * 4 KiB buffer and per-call locking those dominate the cost of a packet.
 */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/timefmt.h"
#include "file_header.h"
#include "pcap_clock.h"
#include "pcap_source.h"

/* Every byte is copied twice on its way in (page cache -> this buffer ->
 * libpcap's): a buffer that stays in the L2 cache between the two copies
 * took 7% less CPU on a 1 GB capture than 1 MiB did (bench-analyze.sh). */
#define PCAP_SOURCE_IOBUF   (1u << 17)
#define PROGRESS_EVERY_MASK 0xffffu  /* progress once every 2^16 packets */
#define STDIN_NAME          "stdin"

struct pcap_source {
	pcap_t *pcap;
	char *iobuf;                 /* stdio buffer of the capture's FILE */
	char *name;                  /* path as given, for messages */
	int linktype;
	uint64_t file_size;          /* 0 unless a regular file */
	struct pcap_source_stats stats;
	uint64_t port_bits[65536 / 64]; /* the port filter as a bitmap */
	bool filter;                 /* port_bits applies */
	const struct tw_udp_encap *udp; /* NULL: tw_udp_encap_default */
};

/* Opens @path (or a duplicate of stdin for "-") with a large stdio buffer. */
static FILE *source_fopen(struct pcap_source *src, const char *path,
			  char *err, size_t errlen)
{
	struct stat sb;
	FILE *fp;

	if (strcmp(path, "-") == 0) {
		/* a duplicate, so that pcap_close() does not close fd 0 */
		int fd = dup(STDIN_FILENO);

		fp = fd >= 0 ? fdopen(fd, "rb") : NULL;
		if (!fp && fd >= 0)
			close(fd);
	} else {
		fp = fopen(path, "rb");
	}
	if (!fp) {
		snprintf(err, errlen, "%s: %s", src->name, strerror(errno));
		return NULL;
	}
	if (fstat(fileno(fp), &sb) == 0) {
		if (S_ISDIR(sb.st_mode)) {
			snprintf(err, errlen, "%s: %s", src->name, strerror(EISDIR));
			fclose(fp);
			return NULL;
		}
		if (S_ISREG(sb.st_mode))
			src->file_size = (uint64_t)sb.st_size;
	}
	if (setvbuf(fp, src->iobuf, _IOFBF, PCAP_SOURCE_IOBUF) != 0) {
		snprintf(err, errlen, "%s: cannot set a read buffer", src->name);
		fclose(fp);
		return NULL;
	}
	/* only this source's thread touches the FILE: skip a lock per fread */
	__fsetlocking(fp, FSETLOCKING_BYCALLER);
	return fp;
}

/*
 * libpcap's reasons for refusing a file at open time. Unknown magic and a
 * file shorter than any header mean "this is not a capture"; anything else
 * (a damaged header of a real capture) is passed on in libpcap's words.
 */
static void source_open_error(const struct pcap_source *src, const char *why,
			      char *err, size_t errlen)
{
	if (strstr(why, "unknown file format") || strstr(why, "truncated"))
		snprintf(err, errlen, "%s: not a pcap or pcapng file", src->name);
	else
		snprintf(err, errlen, "%s: %s", src->name, why);
}

/*
 * libpcap names most link types; the private-use range DLT_USER0..15 it
 * leaves unnamed, so name those here.
 */
static void linktype_name(int linktype, char *buf, size_t len)
{
	const char *name = pcap_datalink_val_to_name(linktype);

	if (name)
		snprintf(buf, len, "%s", name);
	else if (linktype >= DLT_USER0 && linktype <= DLT_USER15)
		snprintf(buf, len, "USER%d", linktype - DLT_USER0);
	else
		snprintf(buf, len, "unknown");
}

static bool source_check_linktype(struct pcap_source *src, char *err,
				  size_t errlen)
{
	char lname[32];

	src->linktype = pcap_datalink(src->pcap);
	if (decode_linktype_supported(src->linktype))
		return true;
	linktype_name(src->linktype, lname, sizeof(lname));
	snprintf(err, errlen, "%s: unsupported link type %d (%s)", src->name,
		 src->linktype, lname);
	return false;
}

struct pcap_source *pcap_source_open(const char *path, char *err, size_t errlen)
{
	return pcap_source_open_as(path, path, err, errlen);
}

struct pcap_source *pcap_source_open_as(const char *path, const char *name,
					char *err, size_t errlen)
{
	char pcap_err[PCAP_ERRBUF_SIZE] = "";
	struct pcap_source *src;
	FILE *fp;

	src = calloc(1, sizeof(*src));
	if (!src) {
		snprintf(err, errlen, "%s: %s", name, strerror(ENOMEM));
		return NULL;
	}
	src->name = strdup(strcmp(name, "-") == 0 ? STDIN_NAME : name);
	src->iobuf = malloc(PCAP_SOURCE_IOBUF);
	if (!src->name || !src->iobuf) {
		snprintf(err, errlen, "%s: %s", name, strerror(ENOMEM));
		goto fail;
	}
	fp = source_fopen(src, path, err, errlen);
	if (!fp)
		goto fail;
	src->pcap = pcap_fopen_offline(fp, pcap_err);
	if (!src->pcap) {
		fclose(fp);
		source_open_error(src, pcap_err, err, errlen);
		goto fail;
	}
	if (!source_check_linktype(src, err, errlen))
		goto fail;
	return src;
fail:
	pcap_source_close(src);
	return NULL;
}

static void source_set_ports(struct pcap_source *src, const uint16_t *ports,
			     int nports)
{
	int i;

	memset(src->port_bits, 0, sizeof(src->port_bits));
	for (i = 0; i < nports; i++)
		src->port_bits[ports[i] / 64] |= 1ull << (ports[i] % 64);
}

static bool source_port_kept(const struct pcap_source *src, uint16_t port)
{
	return src->port_bits[port / 64] & (1ull << (port % 64));
}

static void source_progress(struct pcap_source *src,
			    void (*progress)(void *, uint64_t, uint64_t),
			    void *ctx)
{
	long pos = ftell(pcap_file(src->pcap));
	uint64_t done = pos >= 0 ? (uint64_t)pos : src->stats.bytes;

	progress(ctx, done, src->file_size);
}

/*
 * A read error at the end of the file is a capture cut short (a copy
 * still being written, a full disk): keep what was read and say so. But
 * first, a pcapng section in the other byte order where libpcap stopped
 * (files joined with cat): libpcap reads its header's length in the
 * wrong order, and says the block is too large, or, when that length
 * runs past the end of the file, that the file is truncated, which
 * would pass for a capture cut short (exit 0, and silent with -q) while
 * a whole section was dropped. Not for a pipe (no going back).
 */
static int source_read_error(struct pcap_source *src)
{
	const char *why = pcap_geterr(src->pcap);
	FILE *fp = pcap_file(src->pcap);
	long reached = fp ? ftell(fp) : -1;
	int64_t other = reached > 0 ?
		capture_pcapng_other_order_at(fileno(fp), (uint64_t)reached) : -1;

	if (other >= 0) {
		snprintf(src->stats.error, sizeof(src->stats.error), "%s: the "
			 "file has sections with different byte orders: the "
			 "section at byte %lld is in the other", src->name,
			 (long long)other);
		return -1;
	}
	/* neither a section in the other order nor a capture cut short can
	 * be told of a file being rewritten: unread, not misreported */
	if (other == CAPTURE_FILE_CHANGED) {
		snprintf(src->stats.error, sizeof(src->stats.error), "%s: the "
			 "file changed while it was read (%s)", src->name, why);
		return -1;
	}
	if (strstr(why, "truncated")) {
		src->stats.truncated_file = true;
		return 0;
	}
	snprintf(src->stats.error, sizeof(src->stats.error), "%s: %s",
		 src->name, why);
	return -1;
}

static uint64_t record_time_us(const struct pcap_pkthdr *hdr)
{
	return (uint64_t)hdr->ts.tv_sec * 1000000u + (uint64_t)hdr->ts.tv_usec;
}

/* One record, read at @ts_us, decoded into @seg: whether it is a segment
 * the port filter keeps. */
static bool source_decode(struct pcap_source *src, const struct pcap_pkthdr *hdr,
			  const u_char *data, uint64_t ts_us, struct tw_segment *seg)
{
	if (!decode_frame(src->linktype, data, hdr->caplen, hdr->len, ts_us,
			  seg, &src->stats.decode, src->udp))
		return false;
	return !src->filter || source_port_kept(src, seg->src.port) ||
	       source_port_kept(src, seg->dst.port);
}

/* One record, read at @ts_us: decoded, filtered, handed on. */
static void source_record(struct pcap_source *src,
			  const struct pcap_pkthdr *hdr, const u_char *data,
			  uint64_t ts_us, tw_segment_fn fn, void *ctx)
{
	struct tw_segment seg;

	if (source_decode(src, hdr, data, ts_us, &seg))
		fn(ctx, &seg);
}

/* The record the clock's guard holds, into the clock (libpcap reuses its
 * buffer for the next record, and the next record may be the next
 * file's), decoded now, with this file's link type and counts. Without
 * memory to wait with, read at its own time. */
static void source_hold(struct pcap_source *src, struct pcap_clock *clock,
			const struct pcap_pkthdr *hdr, const u_char *data,
			uint64_t ts_us, tw_segment_fn fn, void *ctx)
{
	char when[TW_TIME_STRLEN];

	if (!pcap_clock_room(clock, hdr->caplen)) {
		source_record(src, hdr, data,
			      clock_guard_release(&clock->guard, ts_us, false),
			      fn, ctx);
		return;
	}
	memcpy(clock->buf, data, hdr->caplen);
	clock->held_kept = source_decode(src, hdr, clock->buf, ts_us, &clock->held);
	clock->held_file = clock->file;
	clock->held_source = clock->source;
	snprintf(clock->held_where, sizeof(clock->held_where),
		 "%s: packet %llu is dated %s", src->name,
		 (unsigned long long)src->stats.packets,
		 tw_time_format_us(ts_us, when));
}

int pcap_source_run(struct pcap_source *src, const uint16_t *ports, int nports,
		    struct pcap_clock *clock, tw_segment_fn fn, void *ctx,
		    void (*progress)(void *ctx, uint64_t done, uint64_t total))
{
	struct pcap_source_stats *st = &src->stats;
	struct pcap_pkthdr *hdr;
	const u_char *data;
	uint64_t ts_us;
	int rc;

	source_set_ports(src, ports, nports);
	src->filter = nports > 0;
	pcap_clock_begin_file(clock);
	for (;;) {
		rc = pcap_next_ex(src->pcap, &hdr, &data);
		if (rc != 1)
			break;
		st->packets++;
		st->bytes += hdr->caplen;
		if (progress && (st->packets & PROGRESS_EVERY_MASK) == 0)
			source_progress(src, progress, ctx);
		ts_us = record_time_us(hdr);
		if (clock->guard.holding)
			pcap_clock_release(clock, ts_us, false, fn, ctx);
		if (clock_guard_hold(&clock->guard, ts_us))
			source_hold(src, clock, hdr, data, ts_us, fn, ctx);
		else
			source_record(src, hdr, data, ts_us, fn, ctx);
	}
	if (rc == PCAP_ERROR_BREAK)    /* end of file */
		return 0;
	return source_read_error(src);
}

void pcap_source_set_udp_encap(struct pcap_source *src,
			       const struct tw_udp_encap *udp)
{
	src->udp = udp;
}

const struct pcap_source_stats *pcap_source_stats(const struct pcap_source *src)
{
	return &src->stats;
}

int pcap_source_linktype(const struct pcap_source *src)
{
	return src->linktype;
}

void pcap_source_close(struct pcap_source *src)
{
	if (!src)
		return;
	if (src->pcap)
		pcap_close(src->pcap); /* closes the FILE, which uses iobuf */
	free(src->iobuf);
	free(src->name);
	free(src);
}
