// SPDX-License-Identifier: MIT
/*
 * pcap_source: real files written into a private temporary directory with
 * libpcap's own writer (pcap) or by hand (pcapng), read back through the
 * public API. Checks segment counts, the port filter, error strings and
 * the statistics.
 */
#include <errno.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "capture/file_header.h"
#include "capture/pcap_source.h"
#include "check.h"

#define TS_SEC  1700000000
#define TS_USEC 123456
#define MAX_FRAME 256

static char tmpdir[64];

struct pkt {
	uint8_t b[MAX_FRAME];
	uint32_t len;
};

struct collect {
	int n;
	struct tw_segment first;
	uint8_t first_payload[16];
	uint16_t sport[8], dport[8];
	int progress_calls;
	uint64_t progress_done[4], progress_total[4];
};

static void on_segment(void *ctx, const struct tw_segment *seg)
{
	struct collect *c = ctx;

	if (c->n == 0) {
		c->first = *seg;
		memcpy(c->first_payload, seg->payload,
		       seg->len < 16 ? seg->len : 16);
	}
	if (c->n < 8) {
		c->sport[c->n] = seg->src.port;
		c->dport[c->n] = seg->dst.port;
	}
	c->n++;
}

static void on_progress(void *ctx, uint64_t done, uint64_t total)
{
	struct collect *c = ctx;

	if (c->progress_calls < 4) {
		c->progress_done[c->progress_calls] = done;
		c->progress_total[c->progress_calls] = total;
	}
	c->progress_calls++;
}

static const char *tmp_path(const char *name)
{
	static char buf[4][128];
	static int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", tmpdir, name);
	return buf[i];
}

/* --- frames */

static void put(struct pkt *p, const void *b, uint32_t n)
{
	memcpy(p->b + p->len, b, n);
	p->len += n;
}

static void put16(struct pkt *p, uint16_t v)
{
	uint8_t b[2] = { v >> 8, v & 0xff };

	put(p, b, 2);
}

/* IPv4 + TCP (+ "hello") or + UDP, from 10.0.0.1 to 10.0.0.2. */
static void put_ipv4_l4(struct pkt *p, uint8_t proto, uint16_t sport,
			uint16_t dport)
{
	static const uint8_t addrs[8] = { 10, 0, 0, 1, 10, 0, 0, 2 };
	uint16_t l4 = proto == 6 ? 25 : 13;

	put16(p, 0x4500);
	put16(p, 20 + l4);
	put16(p, 1);
	put16(p, 0);
	put16(p, 0x4000 | proto); /* TTL 64, protocol */
	put16(p, 0);
	put(p, addrs, 8);
	put16(p, sport);
	put16(p, dport);
	if (proto == 6) {
		put(p, "\x00\x00\x00\x64\x00\x00\x00\x00\x50\x18\x01\x00\x00\x00\x00\x00", 16);
	} else {
		put16(p, 13);
		put16(p, 0);
	}
	put(p, "hello", 5);
}

static void put_ipv6_tcp(struct pkt *p, uint16_t sport, uint16_t dport)
{
	static const uint8_t addrs[32] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1,
					   0x20, 0x01, 0x0d, 0xb8, [31] = 2 };

	put16(p, 0x6000);
	put16(p, 0);
	put16(p, 25);
	put16(p, 0x0640);
	put(p, addrs, 32);
	put16(p, sport);
	put16(p, dport);
	put(p, "\x00\x00\x00\x64\x00\x00\x00\x00\x50\x18\x01\x00\x00\x00\x00\x00", 16);
	put(p, "hello", 5);
}

/* A TCP frame of link type @dlt, IPv6 for the IPv6-only link type. */
static struct pkt tcp_frame(int dlt, uint16_t sport, uint16_t dport)
{
	static const uint8_t eth[12] = { 2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2 };
	struct pkt p = { .len = 0 };
	uint32_t fam;

	switch (dlt) {
	case DLT_EN10MB:
		put(&p, eth, 12);
		put16(&p, 0x0800);
		break;
	case DLT_LINUX_SLL:
		put(&p, "\x00\x00\x00\x01\x00\x06\x02\x00\x00\x00\x00\x01\x00\x00", 14);
		put16(&p, 0x0800);
		break;
	case DLT_LINUX_SLL2:
		put16(&p, 0x86dd);
		put(&p, "\x00\x00\x00\x00\x00\x02\x00\x01\x00\x06\x02\x00\x00\x00\x00\x01\x00\x00", 18);
		put_ipv6_tcp(&p, sport, dport);
		return p;
	case DLT_NULL:
		fam = 2;
		put(&p, &fam, 4);
		break;
	case DLT_LOOP:
		put(&p, "\x00\x00\x00\x1e", 4); /* AF_INET6 on macOS */
		put_ipv6_tcp(&p, sport, dport);
		return p;
	case DLT_IPV6:
		put_ipv6_tcp(&p, sport, dport);
		return p;
	default:
		break;
	}
	put_ipv4_l4(&p, 6, sport, dport);
	return p;
}

static struct pkt udp_frame(void)
{
	struct pkt p = { .len = 0 };

	put(&p, "\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02", 12);
	put16(&p, 0x0800);
	put_ipv4_l4(&p, 17, 5353, 53);
	return p;
}

static struct pkt arp_frame(void)
{
	struct pkt p = { .len = 0 };

	put(&p, "\xff\xff\xff\xff\xff\xff\x02\x00\x00\x00\x00\x02", 12);
	put16(&p, 0x0806);
	memset(p.b + p.len, 0, 28);
	p.len += 28;
	return p;
}

/* --- files */

static int write_pcap(const char *path, int dlt, const struct pkt *pkts, int n)
{
	pcap_t *p = pcap_open_dead(dlt, 65535);
	pcap_dumper_t *d;
	int i;

	if (!p)
		return -1;
	d = pcap_dump_open(p, path);
	if (!d) {
		printf("# pcap_dump_open: %s\n", pcap_geterr(p));
		pcap_close(p);
		return -1;
	}
	for (i = 0; i < n; i++) {
		struct pcap_pkthdr h = {
			.ts = { .tv_sec = TS_SEC + i, .tv_usec = TS_USEC },
			.caplen = pkts[i].len,
			.len = pkts[i].len,
		};

		pcap_dump((u_char *)d, &h, pkts[i].b);
	}
	pcap_dump_close(d);
	pcap_close(p);
	return 0;
}

static int write_bytes(const char *path, const void *buf, size_t len)
{
	FILE *f = fopen(path, "wb");
	int rc = 0;

	if (!f)
		return -1;
	if (len && fwrite(buf, 1, len, f) != len)
		rc = -1;
	if (fclose(f) != 0)
		rc = -1;
	return rc;
}

static long file_size(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 ? (long)sb.st_size : -1;
}

/* pcapng, host byte order: SHB, IDB (Ethernet), one EPB per packet. */
struct ng {
	uint8_t b[4096];
	size_t len;
};

static void ng32(struct ng *g, uint32_t v)
{
	memcpy(g->b + g->len, &v, 4);
	g->len += 4;
}

static void ng_header(struct ng *g)
{
	ng32(g, 0x0a0d0d0a);          /* SHB */
	ng32(g, 28);
	ng32(g, 0x1a2b3c4d);          /* byte-order magic */
	ng32(g, 0x00000001);          /* version 1.0 */
	ng32(g, 0xffffffff);          /* section length: unknown */
	ng32(g, 0xffffffff);
	ng32(g, 28);
	ng32(g, 1);                   /* IDB */
	ng32(g, 20);
	ng32(g, DLT_EN10MB);          /* link type, reserved */
	ng32(g, 65535);               /* snaplen */
	ng32(g, 20);
}

static void ng_epb(struct ng *g, const struct pkt *p, uint64_t ts_us)
{
	uint32_t padded = (p->len + 3) & ~3u;
	uint32_t total = 32 + padded;

	ng32(g, 6);
	ng32(g, total);
	ng32(g, 0);                   /* interface 0 */
	ng32(g, (uint32_t)(ts_us >> 32));
	ng32(g, (uint32_t)ts_us);
	ng32(g, p->len);
	ng32(g, p->len);
	memset(g->b + g->len, 0, padded);
	memcpy(g->b + g->len, p->b, p->len);
	g->len += padded;
	ng32(g, total);
}

/* --- reading */

struct run {
	int open_ok;
	int rc;
	char err[256];
	struct collect c;
	struct pcap_source_stats st;
	int linktype;
};

static struct run read_file(const char *path, const uint16_t *ports, int nports)
{
	struct run r = { .rc = -99 };
	struct pcap_source *src = pcap_source_open(path, r.err, sizeof(r.err));
	struct pcap_clock clock = { 0 };

	if (!src)
		return r;
	r.open_ok = 1;
	r.linktype = pcap_source_linktype(src);
	r.rc = pcap_source_run(src, ports, nports, &clock, on_segment, &r.c,
			       on_progress);
	pcap_clock_finish(&clock, on_segment, &r.c);
	r.st = *pcap_source_stats(src);
	pcap_source_close(src);
	return r;
}

/* --- tests */

static void test_ethernet_pcap_segments_and_stats(void)
{
	struct pkt pkts[5] = {
		tcp_frame(DLT_EN10MB, 51000, 443), udp_frame(),
		tcp_frame(DLT_EN10MB, 443, 51000), arp_frame(),
		tcp_frame(DLT_EN10MB, 51001, 443),
	};
	const char *path = tmp_path("eth.pcap");
	struct run r;

	CHECK_INT(write_pcap(path, DLT_EN10MB, pkts, 5), 0);
	r = read_file(path, NULL, 0);
	CHECK_INT(r.open_ok, 1);
	CHECK_INT(r.rc, 0);
	CHECK_INT(r.linktype, DLT_EN10MB);
	CHECK_INT(r.c.n, 3);
	CHECK_INT(r.c.first.ts_us, TS_SEC * 1000000ull + TS_USEC);
	CHECK_INT(r.c.first.src.port, 51000);
	CHECK_INT(r.c.first.dst.port, 443);
	CHECK_INT(r.c.first.seq, 100);
	CHECK_INT(r.c.first.tcp_flags, TW_TCP_PSH | TW_TCP_ACK);
	CHECK_INT(r.c.first.len, 5);
	CHECK(memcmp(r.c.first_payload, "hello", 5) == 0);
	CHECK_INT(r.c.sport[2], 51001);
	CHECK_INT(r.st.packets, 5);
	CHECK_INT(r.st.bytes, 3 * 59 + 47 + 42);
	CHECK_INT(r.st.truncated_file, 0);
	CHECK_STR(r.st.error, "");
	CHECK_INT(r.st.decode.frames, 5);
	CHECK_INT(r.st.decode.tcp_segments, 3);
	CHECK_INT(r.st.decode.not_tcp, 1);
	CHECK_INT(r.st.decode.not_ip, 1);
	CHECK_INT(r.st.decode.truncated_headers + r.st.decode.bad_headers +
		  r.st.decode.ip_fragments + r.st.decode.truncated_payload, 0);
	CHECK_INT(r.c.progress_calls, 0);
}

static void test_port_filter_matches_source_or_destination(void)
{
	struct pkt pkts[4] = {
		tcp_frame(DLT_EN10MB, 51000, 443), tcp_frame(DLT_EN10MB, 443, 51000),
		tcp_frame(DLT_EN10MB, 1234, 8443), tcp_frame(DLT_EN10MB, 1234, 80),
	};
	static const uint16_t tls_ports[] = { 443, 8443 };
	static const uint16_t http_port[] = { 80 };
	const char *path = tmp_path("ports.pcap");
	struct run r;

	CHECK_INT(write_pcap(path, DLT_EN10MB, pkts, 4), 0);
	r = read_file(path, tls_ports, 2);
	CHECK_INT(r.c.n, 3);
	CHECK_INT(r.c.sport[0], 51000);
	CHECK_INT(r.c.sport[1], 443);
	CHECK_INT(r.c.dport[2], 8443);
	CHECK_INT(r.st.decode.tcp_segments, 4);
	r = read_file(path, http_port, 1);
	CHECK_INT(r.c.n, 1);
	CHECK_INT(r.c.dport[0], 80);
	r = read_file(path, NULL, 0);
	CHECK_INT(r.c.n, 4);
}

static void test_every_supported_linktype_reads(void)
{
	static const int dlts[] = { DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2,
				    DLT_RAW, DLT_IPV4, DLT_IPV6, DLT_NULL,
				    DLT_LOOP };
	size_t i;

	for (i = 0; i < sizeof(dlts) / sizeof(dlts[0]); i++) {
		struct pkt pkts[2] = { tcp_frame(dlts[i], 51000, 443),
				       tcp_frame(dlts[i], 443, 51000) };
		const char *path = tmp_path("link.pcap");
		struct run r;

		CHECK_INT(write_pcap(path, dlts[i], pkts, 2), 0);
		r = read_file(path, NULL, 0);
		if (r.c.n != 2)
			printf("# link type %d\n", dlts[i]);
		CHECK_INT(r.rc, 0);
		CHECK_INT(r.linktype, dlts[i]);
		CHECK_INT(r.c.n, 2);
		CHECK_INT(r.c.first.src.port, 51000);
		CHECK_INT(r.c.first.len, 5);
		CHECK_INT(r.st.decode.frames, 2);
		CHECK_INT(r.st.decode.tcp_segments, 2);
	}
}

static void test_pcapng_file_reads(void)
{
	struct pkt a = tcp_frame(DLT_EN10MB, 51000, 443);
	struct pkt b = tcp_frame(DLT_EN10MB, 443, 51000);
	const char *path = tmp_path("two.pcapng");
	struct ng g = { .len = 0 };
	struct run r;

	ng_header(&g);
	ng_epb(&g, &a, 1700000000000001ull);
	ng_epb(&g, &b, 1700000000500002ull);
	CHECK_INT(write_bytes(path, g.b, g.len), 0);
	r = read_file(path, NULL, 0);
	CHECK_STR(r.err, "");
	CHECK_INT(r.rc, 0);
	CHECK_INT(r.linktype, DLT_EN10MB);
	CHECK_INT(r.c.n, 2);
	CHECK_INT(r.c.first.ts_us, 1700000000000001ull);
	CHECK_INT(r.c.sport[1], 443);
	CHECK_INT(r.st.packets, 2);
	CHECK_INT(r.st.truncated_file, 0);
}

static void test_pcapng_bad_block_is_read_error(void)
{
	struct pkt a = tcp_frame(DLT_EN10MB, 51000, 443);
	const char *path = tmp_path("bad.pcapng");
	char want[256];
	struct ng g = { .len = 0 };
	struct run r;

	ng_header(&g);
	ng_epb(&g, &a, 1);
	ng32(&g, 6);
	ng32(&g, 8);                   /* shorter than any block can be */
	ng32(&g, 0);
	ng32(&g, 0);
	CHECK_INT(write_bytes(path, g.b, g.len), 0);
	r = read_file(path, NULL, 0);
	CHECK_INT(r.rc, -1);
	CHECK_INT(r.c.n, 1);
	CHECK_INT(r.st.truncated_file, 0);
	snprintf(want, sizeof(want), "%s: ", path);
	CHECK(strncmp(r.st.error, want, strlen(want)) == 0);
	CHECK(strlen(r.st.error) > strlen(want));
}

static void test_truncated_last_record_keeps_earlier_ones(void)
{
	struct pkt pkts[3] = {
		tcp_frame(DLT_EN10MB, 1, 443), tcp_frame(DLT_EN10MB, 2, 443),
		tcp_frame(DLT_EN10MB, 3, 443),
	};
	const char *path = tmp_path("cut.pcap");
	struct run r;

	CHECK_INT(write_pcap(path, DLT_EN10MB, pkts, 3), 0);
	CHECK_INT(truncate(path, file_size(path) - 10), 0);
	r = read_file(path, NULL, 0);
	CHECK_INT(r.rc, 0);
	CHECK_INT(r.st.truncated_file, 1);
	CHECK_STR(r.st.error, "");
	CHECK_INT(r.st.packets, 2);
	CHECK_INT(r.c.n, 2);
	CHECK_INT(r.c.sport[1], 2);
}

static void test_truncated_record_header_is_truncated_file(void)
{
	struct pkt pkts[2] = {
		tcp_frame(DLT_EN10MB, 1, 443), tcp_frame(DLT_EN10MB, 2, 443),
	};
	const char *path = tmp_path("cuthdr.pcap");
	struct run r;

	CHECK_INT(write_pcap(path, DLT_EN10MB, pkts, 2), 0);
	/* keep 8 of the second record's 16 header bytes */
	CHECK_INT(truncate(path, 24 + 16 + 59 + 8), 0);
	r = read_file(path, NULL, 0);
	CHECK_INT(r.rc, 0);
	CHECK_INT(r.st.truncated_file, 1);
	CHECK_INT(r.c.n, 1);
}

static void test_truncated_pcapng_block_is_truncated_file(void)
{
	struct pkt a = tcp_frame(DLT_EN10MB, 51000, 443);
	const char *path = tmp_path("cut.pcapng");
	struct ng g = { .len = 0 };
	struct run r;

	ng_header(&g);
	ng_epb(&g, &a, 1);
	ng_epb(&g, &a, 2);
	CHECK_INT(write_bytes(path, g.b, g.len - 20), 0);
	r = read_file(path, NULL, 0);
	CHECK_INT(r.rc, 0);
	CHECK_INT(r.st.truncated_file, 1);
	CHECK_INT(r.c.n, 1);
}

static void test_text_file_is_not_a_capture(void)
{
	static const char text[] = "GET / HTTP/1.1\r\nHost: example.org\r\n\r\n";
	const char *path = tmp_path("notes.txt");
	char want[256];
	struct run r;

	CHECK_INT(write_bytes(path, text, sizeof(text) - 1), 0);
	r = read_file(path, NULL, 0);
	CHECK_INT(r.open_ok, 0);
	snprintf(want, sizeof(want), "%s: not a pcap or pcapng file", path);
	CHECK_STR(r.err, want);
}

static void test_empty_file_is_not_a_capture(void)
{
	const char *path = tmp_path("empty.pcap");
	char want[256];
	struct run r;

	CHECK_INT(write_bytes(path, "", 0), 0);
	r = read_file(path, NULL, 0);
	CHECK_INT(r.open_ok, 0);
	snprintf(want, sizeof(want), "%s: not a pcap or pcapng file", path);
	CHECK_STR(r.err, want);
}

static void test_missing_file_says_no_such_file(void)
{
	const char *path = tmp_path("absent.pcap");
	char want[256];
	struct run r;

	r = read_file(path, NULL, 0);
	CHECK_INT(r.open_ok, 0);
	snprintf(want, sizeof(want), "%s: No such file or directory", path);
	CHECK_STR(r.err, want);
}

static void test_directory_is_an_error(void)
{
	char want[256];
	struct run r;

	r = read_file(tmpdir, NULL, 0);
	CHECK_INT(r.open_ok, 0);
	snprintf(want, sizeof(want), "%s: Is a directory", tmpdir);
	CHECK_STR(r.err, want);
}

static void test_unsupported_linktype_is_named(void)
{
	struct pkt pkts[1] = { tcp_frame(DLT_EN10MB, 1, 443) };
	const char *path = tmp_path("user0.pcap");
	char want[256];
	struct run r;

	CHECK_INT(write_pcap(path, DLT_USER0, pkts, 1), 0);
	r = read_file(path, NULL, 0);
	CHECK_INT(r.open_ok, 0);
	snprintf(want, sizeof(want), "%s: unsupported link type 147 (USER0)", path);
	CHECK_STR(r.err, want);
}

static void test_dash_reads_stdin(void)
{
	struct pkt pkts[3] = {
		tcp_frame(DLT_EN10MB, 1, 443), udp_frame(),
		tcp_frame(DLT_EN10MB, 2, 443),
	};
	const char *path = tmp_path("stdin.pcap");
	int saved, fd;
	struct run r;

	CHECK_INT(write_pcap(path, DLT_EN10MB, pkts, 3), 0);
	saved = dup(STDIN_FILENO);
	fd = open(path, O_RDONLY);
	CHECK(saved >= 0 && fd >= 0);
	if (saved < 0 || fd < 0)
		return;
	CHECK_INT(dup2(fd, STDIN_FILENO), STDIN_FILENO);
	close(fd);
	r = read_file("-", NULL, 0);
	CHECK_STR(r.err, "");
	CHECK_INT(r.rc, 0);
	CHECK_INT(r.c.n, 2);
	CHECK_INT(r.st.packets, 3);
	/* closing the source must leave fd 0 open */
	CHECK(fcntl(STDIN_FILENO, F_GETFD) != -1);
	CHECK_INT(dup2(saved, STDIN_FILENO), STDIN_FILENO);
	close(saved);
}

static void test_dash_with_text_on_stdin_is_named_stdin(void)
{
	const char *path = tmp_path("stdin.txt");
	int saved, fd;
	struct run r;

	CHECK_INT(write_bytes(path, "not a capture\n", 14), 0);
	saved = dup(STDIN_FILENO);
	fd = open(path, O_RDONLY);
	CHECK(saved >= 0 && fd >= 0);
	if (saved < 0 || fd < 0)
		return;
	CHECK_INT(dup2(fd, STDIN_FILENO), STDIN_FILENO);
	close(fd);
	r = read_file("-", NULL, 0);
	CHECK_INT(r.open_ok, 0);
	CHECK_STR(r.err, "stdin: not a pcap or pcapng file");
	CHECK_INT(dup2(saved, STDIN_FILENO), STDIN_FILENO);
	close(saved);
}

static void test_progress_every_65536_packets(void)
{
	enum { N = 2 * 65536 + 5 };
	const char *path = tmp_path("many.pcap");
	struct pkt p = tcp_frame(DLT_RAW, 51000, 443);
	pcap_t *pd = pcap_open_dead(DLT_RAW, 65535);
	pcap_dumper_t *d = pd ? pcap_dump_open(pd, path) : NULL;
	struct pcap_pkthdr h = { .caplen = p.len, .len = p.len };
	uint64_t rec = 16 + p.len;
	struct run r;
	int i;

	CHECK(d != NULL);
	if (!d) {
		if (pd)
			pcap_close(pd);
		return;
	}
	for (i = 0; i < N; i++)
		pcap_dump((u_char *)d, &h, p.b);
	pcap_dump_close(d);
	pcap_close(pd);

	r = read_file(path, NULL, 0);
	CHECK_INT(r.rc, 0);
	CHECK_INT(r.c.n, N);
	CHECK_INT(r.c.progress_calls, 2);
	CHECK_INT(r.c.progress_done[0], 24 + 65536 * rec);
	CHECK_INT(r.c.progress_done[1], 24 + 2 * 65536 * rec);
	CHECK_INT(r.c.progress_total[0], 24 + N * rec);
	CHECK_INT(r.c.progress_total[1], file_size(path));
	unlink(path);
}

static void remove_tmpdir(void)
{
	static const char *names[] = {
		"eth.pcap", "ports.pcap", "link.pcap", "two.pcapng", "bad.pcapng",
		"cut.pcap", "cuthdr.pcap", "cut.pcapng", "notes.txt",
		"empty.pcap", "user0.pcap", "stdin.pcap", "stdin.txt",
		"many.pcap",
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		unlink(tmp_path(names[i]));
	if (rmdir(tmpdir) != 0)
		printf("# rmdir %s: %s\n", tmpdir, strerror(errno));
}

/* capture_file_header_len: pcap's 24 bytes in every byte order and
 * precision; pcapng's blocks up to the first packet block, in either byte
 * order; neither: 0. */
static void test_file_header_len_pcap_is_24(void)
{
	static const uint8_t le_us[] = { 0xd4, 0xc3, 0xb2, 0xa1, 2, 0 },
		be_us[] = { 0xa1, 0xb2, 0xc3, 0xd4, 0, 2 },
		le_ns[] = { 0x4d, 0x3c, 0xb2, 0xa1, 2, 0 },
		be_ns[] = { 0xa1, 0xb2, 0x3c, 0x4d, 0, 2 };

	CHECK_INT(capture_file_header_len(le_us, sizeof(le_us)), 24);
	CHECK_INT(capture_file_header_len(be_us, sizeof(be_us)), 24);
	CHECK_INT(capture_file_header_len(le_ns, sizeof(le_ns)), 24);
	CHECK_INT(capture_file_header_len(be_ns, sizeof(be_ns)), 24);
}

/* A section header (28 bytes), an interface description (20), a name
 * resolution block (12), then an enhanced packet block. */
static void test_file_header_len_pcapng_ends_at_first_packet_block(void)
{
	static const uint8_t le[] = {
		0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a,
		1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 28, 0, 0, 0,
		1, 0, 0, 0, 20, 0, 0, 0, 1, 0, 0, 0, 0, 0, 4, 0, 20, 0, 0, 0,
		4, 0, 0, 0, 12, 0, 0, 0, 12, 0, 0, 0,
		6, 0, 0, 0, 32, 0, 0, 0,
	};
	static const uint8_t be[] = {
		0x0a, 0x0d, 0x0d, 0x0a, 0, 0, 0, 28, 0x1a, 0x2b, 0x3c, 0x4d,
		0, 1, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 28,
		0, 0, 0, 1, 0, 0, 0, 20, 0, 1, 0, 0, 0, 4, 0, 0, 0, 0, 0, 20,
		0, 0, 0, 3, 0, 0, 0, 16,
	};

	CHECK_INT(capture_file_header_len(le, sizeof(le)), 60);
	CHECK_INT(capture_file_header_len(be, sizeof(be)), 48);
	/* no packet block in the bytes given: the header reaches at least
	 * to the end of the block they end in */
	CHECK_INT(capture_file_header_len(le, 40), 48);
	CHECK_INT(capture_file_header_len(le, 60), 60);
}

/* The record ends capture_walk_next() gives for the first @len bytes of
 * @buf (in a buffer of that exact size: ASan), as "44 60" ("" none), and
 * the walk's why into @why. */
static const char *walk_ends(const uint8_t *buf, size_t len, char *why,
			     size_t whylen)
{
	static char out[256];
	uint8_t *copy = malloc(len ? len : 1);
	struct capture_walk w;
	size_t end, n = 0;

	out[0] = '\0';
	why[0] = '\0';
	if (!copy)
		return "malloc failed";
	memcpy(copy, buf, len);
	capture_walk_begin(&w, copy, len);
	while ((end = capture_walk_next(&w)) != 0 && n < sizeof(out) - 24)
		n += (size_t)snprintf(out + n, sizeof(out) - n, "%s%zu",
				      n ? " " : "", end);
	snprintf(why, whylen, "%s", w.why);
	free(copy);
	return out;
}

/* Whole records only: a record cut short (a copy cut within it) ends
 * the walk, in either byte order, from the first packet record on. */
static void test_file_walk_whole_records_only(void)
{
	/* a pcap header (its fields after the magic unread), a record of
	 * 4 bytes captured, one of 0 */
	uint8_t le[24 + 20 + 16] = { 0xd4, 0xc3, 0xb2, 0xa1 },
		be[24 + 20 + 16] = { 0xa1, 0xb2, 0xc3, 0xd4 };
	/* a section header, then an enhanced packet block of 32 bytes */
	static const uint8_t ng[] = {
		0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a,
		1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 28, 0, 0, 0,
		6, 0, 0, 0, 32, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0, 0,
	};
	static const uint8_t ng_be[] = {
		0x0a, 0x0d, 0x0d, 0x0a, 0, 0, 0, 28, 0x1a, 0x2b, 0x3c, 0x4d,
		0, 1, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 28,
		0, 0, 0, 6, 0, 0, 0, 12, 0, 0, 0, 12,
	};
	char why[96];

	le[24 + 8] = 4;
	be[24 + 11] = 4;
	CHECK_STR(walk_ends(le, sizeof(le), why, sizeof(why)), "44 60");
	CHECK_STR(walk_ends(be, sizeof(be), why, sizeof(why)), "44 60");
	/* cut within the record's data, within its header, at its start */
	CHECK_STR(walk_ends(le, 59, why, sizeof(why)), "44");
	CHECK_STR(walk_ends(le, 43, why, sizeof(why)), "");
	CHECK_STR(walk_ends(le, 30, why, sizeof(why)), "");
	CHECK_STR(walk_ends(le, 24, why, sizeof(why)), "");
	CHECK_STR(why, "");
	/* pcapng: the block's length, in the section's byte order */
	CHECK_STR(walk_ends(ng, sizeof(ng), why, sizeof(why)), "60");
	CHECK_STR(walk_ends(ng, sizeof(ng) - 1, why, sizeof(why)), "");
	CHECK_STR(walk_ends(ng, 36, why, sizeof(why)), "");
	CHECK_STR(walk_ends(ng_be, sizeof(ng_be), why, sizeof(why)), "40");
	CHECK_STR(why, "");
	/* not a capture */
	CHECK_STR(walk_ends((const uint8_t *)"GET / HTTP/1.1\r\n\r\n", 18, why,
			    sizeof(why)), "");
}

/* A section header of 28 bytes, an interface description of 20 and an
 * enhanced packet block of 32, in byte order @be or little: at @p. */
static size_t mixed_section(uint8_t *p, bool be)
{
	/* [3]: major version 1, minor 0, and [9]: link type 1 (Ethernet),
	 * 16 reserved bits: two 16-bit numbers each (one word's bytes
	 * would make a big-endian section's major and link type 0) */
	const uint32_t two16 = be ? 0x00010000 : 0x00000001;
	const uint32_t words[] = {
		0x0a0d0d0a, 28, 0x1a2b3c4d, two16,
		0xffffffff, 0xffffffff, 28,
		1, 20, two16, 0x00040000, 20,
		6, 32, 0, 0, 0, 0, 0, 32,
	};
	size_t i;

	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		uint32_t v = words[i];

		if (be) {
			p[4 * i] = (uint8_t)(v >> 24);
			p[4 * i + 1] = (uint8_t)(v >> 16);
			p[4 * i + 2] = (uint8_t)(v >> 8);
			p[4 * i + 3] = (uint8_t)v;
		} else {
			p[4 * i] = (uint8_t)v;
			p[4 * i + 1] = (uint8_t)(v >> 8);
			p[4 * i + 2] = (uint8_t)(v >> 16);
			p[4 * i + 3] = (uint8_t)(v >> 24);
		}
	}
	return 4 * i;
}

/* A pcapng file of two sections (two files joined with cat): libpcap
 * reads the whole file in its first section's byte order and stops with
 * an error at a section in the other, so the walk ends there too, said
 * (it used to go on in the second section's order, recording record ends
 * analysis never reaches). */
static void test_file_walk_stops_at_a_section_in_the_other_byte_order(void)
{
	static const struct {
		bool first_be, second_be;
		const char *ends, *why;
	} cases[] = {
		{ false, false, "80 108 128 160", "" },
		{ true, true, "80 108 128 160", "" },
		{ false, true, "80", "section at byte 80 in the other byte "
				     "order: libpcap reads no further" },
		{ true, false, "80", "section at byte 80 in the other byte "
				     "order: libpcap reads no further" },
	};
	uint8_t buf[160];
	char why[96];
	size_t i, n;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		n = mixed_section(buf, cases[i].first_be);
		n += mixed_section(buf + n, cases[i].second_be);
		CHECK_INT(n, sizeof(buf));
		CHECK_STR(walk_ends(buf, n, why, sizeof(why)), cases[i].ends);
		CHECK_STR(why, cases[i].why);
	}
	/* cut within the second section's packet block */
	n = mixed_section(buf, false);
	n += mixed_section(buf + n, false);
	CHECK_STR(walk_ends(buf, n - 4, why, sizeof(why)), "80 108 128");
	CHECK_STR(why, "");
}

/* Bytes where libpcap stops with an error, in the second section of two
 * big-endian ones: the walk stops there, said (a length of 0 would keep
 * it in place for ever). */
static void test_file_walk_stops_at_a_bad_block_length(void)
{
	static const struct {
		size_t at;            /* the byte changed */
		uint8_t value;
		const char *ends, *why;
	} cases[] = {
		/* the second interface block's length */
		{ 80 + 28 + 7, 13, "80 108",
		  "pcapng block at byte 108 has a length of 13, not a multiple of 4" },
		{ 80 + 28 + 7, 0, "80 108",
		  "pcapng block at byte 108 has a length of 0, under 12" },
		{ 80 + 28 + 7, 8, "80 108",
		  "pcapng block at byte 108 has a length of 8, under 12" },
		/* its trailing length */
		{ 80 + 28 + 19, 24, "80 108",
		  "pcapng block at byte 108 has a length of 20, and 24 at its end" },
		/* the second section header's byte-order magic */
		{ 80 + 8, 0x99, "80",
		  "pcapng section header at byte 80 has no byte-order magic" },
		/* its major version (libpcap: "unknown pcapng savefile major
		 * version number 2"); its minor, which libpcap does not
		 * look at past the first section */
		{ 80 + 13, 2, "80",
		  "pcapng section header at byte 80 has major version 2: "
		  "libpcap reads no further" },
		{ 80 + 12, 1, "80",
		  "pcapng section header at byte 80 has major version 257: "
		  "libpcap reads no further" },
		{ 80 + 15, 5, "80 108 128 160", "" },
		/* the first section's interface block, before any packet */
		{ 28 + 7, 30, "",
		  "pcapng block at byte 28 has a length of 30, not a multiple of 4" },
		/* the first packet block's trailing length */
		{ 48 + 31, 36, "",
		  "pcapng block at byte 48 has a length of 32, and 36 at its end" },
	};
	uint8_t buf[160];
	char why[96];
	size_t i, n;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		n = mixed_section(buf, true);
		n += mixed_section(buf + n, true);
		buf[cases[i].at] = cases[i].value;
		CHECK_STR(walk_ends(buf, n, why, sizeof(why)), cases[i].ends);
		CHECK_STR(why, cases[i].why);
	}
	/* a second section header of 16 bytes, whole but without the
	 * version and section length libpcap reads ("block of type
	 * 168627466 in pcapng dump file is too short") */
	n = mixed_section(buf, false);
	memcpy(buf + n, (const uint8_t[]){ 0x0a, 0x0d, 0x0d, 0x0a, 16, 0, 0, 0,
					   0x4d, 0x3c, 0x2b, 0x1a, 16, 0, 0, 0 }, 16);
	CHECK_STR(walk_ends(buf, n + 16, why, sizeof(why)), "80");
	CHECK_STR(why, "pcapng section header at byte 80 has a length of 16, under 28");
}

/* The test links with -Wl,--wrap=pread (Makefile): the walk's reads come
 * here. While pread_grow_fd is >= 0, the first read appends a block's
 * worth of bytes to that file (a writer rewriting the capture during
 * the walk), then reads. */
static int pread_grow_fd = -1;

ssize_t __real_pread(int fd, void *buf, size_t n, off_t at);
ssize_t __wrap_pread(int fd, void *buf, size_t n, off_t at);

ssize_t __wrap_pread(int fd, void *buf, size_t n, off_t at)
{
	static const uint8_t more[32];
	struct stat sb;

	if (pread_grow_fd >= 0 && fstat(pread_grow_fd, &sb) == 0) {
		if (pwrite(pread_grow_fd, more, sizeof(more), sb.st_size) !=
		    (ssize_t)sizeof(more))
			printf("# pwrite: %s\n", strerror(errno));
		pread_grow_fd = -1;
	}
	return __real_pread(fd, buf, n, at);
}

/* The offset capture_pcapng_other_order_at() finds in @buf, written to a
 * file, for @reached; with @grow, the file written to during the walk. */
static long long other_order_at_grown(const uint8_t *buf, size_t len,
				      uint64_t reached, bool grow)
{
	FILE *fp = tmpfile();
	long long at;

	if (!fp || fwrite(buf, 1, len, fp) != len || fflush(fp) != 0) {
		printf("# tmpfile: %s\n", strerror(errno));
		if (fp)
			fclose(fp);
		return -3;
	}
	pread_grow_fd = grow ? fileno(fp) : -1;
	at = (long long)capture_pcapng_other_order_at(fileno(fp), reached);
	pread_grow_fd = -1;
	fclose(fp);
	return at;
}

static long long other_order_at(const uint8_t *buf, size_t len, uint64_t reached)
{
	return other_order_at_grown(buf, len, reached, false);
}

/* Where libpcap stopped at a section in the other byte order, found in
 * the file as far as libpcap read it, and only there. */
static void test_other_order_section_found_where_libpcap_stopped(void)
{
	uint8_t buf[160 + 4];
	size_t n;

	n = mixed_section(buf, false);
	n += mixed_section(buf + n, true);
	CHECK_INT(other_order_at(buf, n, n), 80);
	CHECK_INT(other_order_at(buf, n, 81), 80);
	/* libpcap stopped before it (an earlier block's error) */
	CHECK_INT(other_order_at(buf, n, 80), -1);
	n = mixed_section(buf, true);
	n += mixed_section(buf + n, false);
	CHECK_INT(other_order_at(buf, n, n), 80);
	/* one byte order: a file cut short, or an error of another kind */
	n = mixed_section(buf, true);
	n += mixed_section(buf + n, true);
	CHECK_INT(other_order_at(buf, n, n), -1);
	CHECK_INT(other_order_at(buf, n - 4, n - 4), -1);
	/* a block of a bad length before it */
	n = mixed_section(buf, false);
	n += mixed_section(buf + n, true);
	buf[28 + 4] = 13;
	CHECK_INT(other_order_at(buf, n, n), -1);
	/* not pcapng: a pcap file */
	memset(buf, 0, sizeof(buf));
	memcpy(buf, "\xd4\xc3\xb2\xa1", 4);
	CHECK_INT(other_order_at(buf, sizeof(buf), sizeof(buf)), -1);
}

/* The walk reads the file 32 KiB at a time: a section in the other byte
 * order past the first window, its header across that window's end
 * (blocks of 32 bytes, one of 40, from byte 80 to 32760), is found there. */
static void test_other_order_section_found_past_the_window(void)
{
	size_t len = 32760 + 80, n, i;
	uint8_t *buf = calloc(1, len);

	CHECK(buf != NULL);
	if (!buf)
		return;
	n = mixed_section(buf, false);
	for (i = 0; i < 1021; i++) {
		uint8_t blen = i < 1020 ? 32 : 40;

		buf[n] = 6;
		buf[n + 4] = blen;
		buf[n + blen - 4] = blen;
		n += blen;
	}
	CHECK_INT(n, 32760);
	n += mixed_section(buf + n, true);
	CHECK_INT(other_order_at(buf, n, n), 32760);
	CHECK_INT(other_order_at(buf, n, 32760), -1);
	free(buf);
}

/* A file written to while the walk reads it (a capture rewritten, or
 * still being written, under the analysis): what the walk found may be
 * of neither the file libpcap read nor the file as it is now, so it says
 * CAPTURE_FILE_CHANGED, with or without a section in the other order. */
static void test_other_order_walk_says_a_file_changed_meanwhile(void)
{
	uint8_t buf[160];
	size_t n;

	n = mixed_section(buf, false);
	n += mixed_section(buf + n, true);
	CHECK_INT(other_order_at_grown(buf, n, n, true), CAPTURE_FILE_CHANGED);
	n = mixed_section(buf, true);
	n += mixed_section(buf + n, true);
	CHECK_INT(other_order_at_grown(buf, n, n, true), CAPTURE_FILE_CHANGED);
	/* unchanged: found as before */
	n = mixed_section(buf, false);
	n += mixed_section(buf + n, true);
	CHECK_INT(other_order_at_grown(buf, n, n, false), 80);
}

/* Every beginning of the pcapng sample, each in a buffer of its exact
 * size (ASan: no byte past it is read): never past the first packet
 * block, never less for more bytes. */
static void test_file_header_len_reads_only_the_bytes_given(void)
{
	static const uint8_t le[] = {
		0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a,
		1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 28, 0, 0, 0,
		1, 0, 0, 0, 20, 0, 0, 0, 1, 0, 0, 0, 0, 0, 4, 0, 20, 0, 0, 0,
		6, 0, 0, 0, 32, 0, 0, 0,
	};
	size_t n, got, before = 0;

	for (n = 0; n <= sizeof(le); n++) {
		uint8_t *copy = malloc(n ? n : 1);

		CHECK(copy != NULL);
		if (!copy)
			return;
		memcpy(copy, le, n);
		got = capture_file_header_len(copy, n);
		free(copy);
		CHECK(got >= before && got <= 48);
		before = got;
	}
	CHECK_INT(before, 48);
}

static void test_file_header_len_other_bytes_are_0(void)
{
	static const uint8_t text[] = "GET / HTTP/1.1\r\n";

	CHECK_INT(capture_file_header_len(text, sizeof(text) - 1), 0);
	CHECK_INT(capture_file_header_len(text, 3), 0);
}

int main(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/tw_pcap_source.XXXXXX");
	if (!mkdtemp(tmpdir)) {
		printf("not ok - mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	RUN_TEST(test_ethernet_pcap_segments_and_stats);
	RUN_TEST(test_port_filter_matches_source_or_destination);
	RUN_TEST(test_every_supported_linktype_reads);
	RUN_TEST(test_pcapng_file_reads);
	RUN_TEST(test_pcapng_bad_block_is_read_error);
	RUN_TEST(test_truncated_last_record_keeps_earlier_ones);
	RUN_TEST(test_truncated_record_header_is_truncated_file);
	RUN_TEST(test_truncated_pcapng_block_is_truncated_file);
	RUN_TEST(test_text_file_is_not_a_capture);
	RUN_TEST(test_empty_file_is_not_a_capture);
	RUN_TEST(test_missing_file_says_no_such_file);
	RUN_TEST(test_directory_is_an_error);
	RUN_TEST(test_unsupported_linktype_is_named);
	RUN_TEST(test_dash_reads_stdin);
	RUN_TEST(test_dash_with_text_on_stdin_is_named_stdin);
	RUN_TEST(test_progress_every_65536_packets);
	RUN_TEST(test_file_header_len_pcap_is_24);
	RUN_TEST(test_file_header_len_pcapng_ends_at_first_packet_block);
	RUN_TEST(test_file_header_len_reads_only_the_bytes_given);
	RUN_TEST(test_file_header_len_other_bytes_are_0);
	RUN_TEST(test_file_walk_whole_records_only);
	RUN_TEST(test_file_walk_stops_at_a_section_in_the_other_byte_order);
	RUN_TEST(test_file_walk_stops_at_a_bad_block_length);
	RUN_TEST(test_other_order_section_found_where_libpcap_stopped);
	RUN_TEST(test_other_order_section_found_past_the_window);
	RUN_TEST(test_other_order_walk_says_a_file_changed_meanwhile);
	remove_tmpdir();
	return CHECK_EXIT_CODE();
}
