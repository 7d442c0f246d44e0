// SPDX-License-Identifier: MIT
/*
 * Handshake replayer for scripts/bench-live.sh: sends copies of captured
 * TLS handshakes onto an interface at a fixed rate, each copy with its own
 * client address and port, so the live agent sees that many distinct
 * handshakes per second. Python cannot send fast enough on this machine
 * while the agent runs, so the sending loop is here; the capture is cut
 * into templates by scripts/lib/live_load.py (replay --templates-out).
 *
 *   replay TEMPLATES IFACE A.B.C RATE SECONDS [TIMES]
 *
 * TEMPLATES: u32 n_templates, then per template u32 n_frames, then per
 * frame u16 len, u16 ip_off, u16 port_off, len bytes (little endian).
 * Client addresses: A.B.C.1 and A.B.C.7-14; ports 1024-65023.
 * Prints one JSON line: target, handshakes, packets, send_errors, seconds,
 * rate. Bounded by SECONDS.
 *
 * TIMES: a file to write, one line per handshake sent, "H T": copy H (its
 * client is A.B.C.(H % 9 == 0 ? 1 : 6 + H % 9), port 1024 + H / 9) and the
 * CLOCK_REALTIME (seconds) at which the sendmmsg() carrying its last
 * packet returned: where the bench measures an event's delay from.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_TEMPLATES 4096
#define MAX_FRAMES    64       /* per handshake */
#define MAX_FRAME     1600
#define BATCH         64       /* handshakes interleaved, and frames per sendmmsg */

struct frame {
	uint16_t len, ip_off, port_off;
	uint8_t data[MAX_FRAME];
};

struct tmpl {
	uint32_t n;
	struct frame *f;
};

static struct tmpl tmpls[MAX_TEMPLATES];
static uint32_t n_tmpls;

static int read_u16(FILE *f, uint16_t *v)
{
	uint8_t b[2];

	if (fread(b, 1, 2, f) != 2)
		return -1;
	*v = (uint16_t)(b[0] | b[1] << 8);
	return 0;
}

static int read_u32(FILE *f, uint32_t *v)
{
	uint8_t b[4];

	if (fread(b, 1, 4, f) != 4)
		return -1;
	*v = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
	     (uint32_t)b[3] << 24;
	return 0;
}

static int load(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint32_t i, j;

	if (!f) {
		perror(path);
		return -1;
	}
	if (read_u32(f, &n_tmpls) || n_tmpls == 0 || n_tmpls > MAX_TEMPLATES)
		goto bad;
	for (i = 0; i < n_tmpls; i++) {
		struct tmpl *t = &tmpls[i];

		if (read_u32(f, &t->n) || t->n == 0 || t->n > MAX_FRAMES)
			goto bad;
		t->f = calloc(t->n, sizeof(*t->f));
		if (!t->f)
			goto bad;
		for (j = 0; j < t->n; j++) {
			struct frame *fr = &t->f[j];

			if (read_u16(f, &fr->len) || read_u16(f, &fr->ip_off) ||
			    read_u16(f, &fr->port_off) || fr->len > MAX_FRAME ||
			    fr->ip_off + 4 > fr->len || fr->port_off + 2 > fr->len ||
			    fread(fr->data, 1, fr->len, f) != fr->len)
				goto bad;
		}
	}
	fclose(f);
	return 0;
bad:
	fprintf(stderr, "%s: not a template file\n", path);
	fclose(f);
	return -1;
}

static double clock_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double now_s(void)
{
	return clock_s(CLOCK_MONOTONIC);
}

static int write_times(const char *path, const double *last, uint64_t n)
{
	FILE *f = fopen(path, "w");
	uint64_t h;

	if (!f) {
		perror(path);
		return -1;
	}
	for (h = 0; h < n; h++)
		fprintf(f, "%llu %.6f\n", (unsigned long long)h, last[h]);
	if (fclose(f)) {
		perror(path);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static uint8_t bufs[BATCH][MAX_FRAME];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	struct sockaddr_ll sll;
	uint32_t ips[9];
	uint64_t sent = 0, packets = 0, errors = 0, cap;
	double rate, secs, start, deadline, t, *last;
	int fd, i, k, n;

	if (argc != 6 && argc != 7) {
		fprintf(stderr, "usage: replay TEMPLATES IFACE A.B.C RATE SECONDS [TIMES]\n");
		return 2;
	}
	rate = atof(argv[4]);
	secs = atof(argv[5]);
	if (rate <= 0 || rate > 1e7 || secs <= 0 || secs > 600 || load(argv[1]))
		return 2;
	/* the loop sends at most rate * secs handshakes, and a batch more */
	cap = (uint64_t)(rate * secs) + 2 * BATCH;
	last = calloc(cap, sizeof(*last));
	if (!last) {
		perror("calloc");
		return 1;
	}
	for (i = 0; i < 9; i++) {
		char ip[32];

		snprintf(ip, sizeof(ip), "%s.%d", argv[3], i == 0 ? 1 : 6 + i);
		if (inet_pton(AF_INET, ip, &ips[i]) != 1) {
			fprintf(stderr, "bad client net %s\n", argv[3]);
			return 2;
		}
	}
	fd = socket(AF_PACKET, SOCK_RAW, 0);
	if (fd < 0) {
		perror("socket(AF_PACKET)");
		return 1;
	}
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_ifindex = (int)if_nametoindex(argv[2]);
	if (!sll.sll_ifindex || bind(fd, (struct sockaddr *)&sll, sizeof(sll))) {
		perror(argv[2]);
		return 1;
	}

	start = now_s();
	deadline = start + secs;
	while ((t = now_s()) < deadline) {
		uint64_t due = (uint64_t)((t - start) * rate);
		struct tmpl *grp[BATCH];
		int longest = 0;

		if (sent + BATCH > due || sent + BATCH > cap) {
			usleep(200);
			continue;
		}
		for (i = 0; i < BATCH; i++) {
			grp[i] = &tmpls[(sent + i) % n_tmpls];
			if ((int)grp[i]->n > longest)
				longest = (int)grp[i]->n;
		}
		/* frame k of every handshake of the batch, then frame k + 1 */
		for (k = 0; k < longest; k++) {
			n = 0;
			for (i = 0; i < BATCH; i++) {
				uint64_t h = sent + (uint64_t)i;
				uint16_t port = htons((uint16_t)(1024 + (h / 9) % 64000));
				struct frame *fr;

				if (k >= (int)grp[i]->n)
					continue;
				fr = &grp[i]->f[k];
				memcpy(bufs[n], fr->data, fr->len);
				memcpy(bufs[n] + fr->ip_off, &ips[h % 9], 4);
				memcpy(bufs[n] + fr->port_off, &port, 2);
				iov[n].iov_base = bufs[n];
				iov[n].iov_len = fr->len;
				memset(&msgs[n], 0, sizeof(msgs[n]));
				msgs[n].msg_hdr.msg_iov = &iov[n];
				msgs[n].msg_hdr.msg_iovlen = 1;
				n++;
			}
			for (i = 0; i < n;) {
				int r = sendmmsg(fd, msgs + i, (unsigned)(n - i), 0);

				if (r < 0) {
					if ((errno == EINTR || errno == ENOBUFS) &&
					    now_s() < deadline + 1) {
						errors++;
						usleep(50);
						continue;
					}
					perror("sendmmsg");
					return 1;
				}
				i += r;
			}
			packets += (uint64_t)n;
			t = clock_s(CLOCK_REALTIME);
			for (i = 0; i < BATCH; i++)
				if ((int)grp[i]->n == k + 1)
					last[sent + (uint64_t)i] = t;
		}
		sent += BATCH;
	}
	t = now_s() - start;
	if (argc == 7 && write_times(argv[6], last, sent))
		return 1;
	free(last);
	printf("{\"target\": %.0f, \"handshakes\": %llu, \"ok\": %llu, \"packets\": %llu, "
	       "\"send_errors\": %llu, \"templates\": %u, \"seconds\": %.3f, \"rate\": %.1f}\n",
	       rate, (unsigned long long)sent, (unsigned long long)sent,
	       (unsigned long long)packets, (unsigned long long)errors, n_tmpls, t,
	       (double)sent / t);
	return 0;
}
