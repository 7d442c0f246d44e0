// SPDX-License-Identifier: MIT
/*
 * Handshake replayer for scripts/bench-live.sh: sends copies of captured
 * TLS handshakes onto an interface at a fixed rate, each copy with its own
 * client address and port, so the live agent sees that many distinct
 * handshakes per second. Python cannot send fast enough on this machine
 * while the agent runs, so the sending loop is here; the capture is cut
 * into templates by scripts/lib/live_load.py (replay --templates-out).
 * Frames go through an AF_PACKET TX ring (PACKET_TX_RING), one sendto()
 * per step of a batch: dev_queue_xmit() and the TC egress hook run for
 * every frame (no PACKET_QDISC_BYPASS, which would skip the hook where the
 * agent listens), but no frame costs a msghdr of its own.
 *
 *   replay [-t TIMES] [-j SENDERS] TEMPLATES IFACE A.B.C RATE SECONDS
 *
 * TEMPLATES: u32 n_templates, then per template u32 n_frames, then per
 * frame u16 len, u16 ip_off, u16 port_off, len bytes (little endian).
 * Client addresses: A.B.C.1 and A.B.C.7-14; ports 1024-65023.
 * Prints one JSON line: target, handshakes, packets, send_errors, seconds,
 * rate, cpu_s (its CPU time, user + system: the system part includes the
 * TC programs the frames run through). Bounded by SECONDS.
 *
 * -j SENDERS (default 1, at most 8): processes sending, each on its own
 * socket, batch b (handshakes 64b .. 64b + 63) going to sender b % SENDERS,
 * each when the common schedule makes it due. On a shared host one sending
 * process gets a share of one CPU; the kernel's part of a send (the skb,
 * the TC programs, the veth) runs in the sender's time.
 *
 * -t TIMES: a file to write, one line per handshake sent, "H T": copy H (its
 * client is A.B.C.(H % 9 == 0 ? 1 : 6 + H % 9), port 1024 + H / 9) and the
 * CLOCK_REALTIME (seconds) at which the sendto() carrying its last packet
 * returned (every frame it sent had gone through the TC hook): where the
 * bench measures an event's delay from.
 */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <linux/virtio_net.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_TEMPLATES 4096
#define MAX_FRAMES    64       /* per handshake */
#define MAX_FRAME     1600
#define BATCH         64       /* handshakes interleaved, and frames per sendto */
#define MAX_SENDERS   8

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

static double tv_s(const struct timeval *tv)
{
	return (double)tv->tv_sec + (double)tv->tv_usec / 1e6;
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
		if (last[h] > 0)       /* a batch a late sender never sent */
			fprintf(f, "%llu %.6f\n", (unsigned long long)h, last[h]);
	if (fclose(f)) {
		perror(path);
		return -1;
	}
	return 0;
}

/* What the senders share: the schedule, and what each did. */
struct run {
	double rate, start, deadline;
	uint64_t cap;              /* handshakes the schedule can reach */
	uint32_t ips[9];
	int ifindex, senders;
	struct {
		uint64_t handshakes, packets, errors;
	} did[MAX_SENDERS];
	double last[];             /* per handshake: see TIMES */
};

/*
 * The sending socket: AF_PACKET with a TX ring (TPACKET_V2). Frames are
 * written into the ring and one sendto() sends all that are marked: 7.8 us
 * of CPU per replayed handshake with no program on the hook, against 10.6
 * with sendmmsg() (its msghdr and iovec copies per frame). Each frame starts
 * with a virtio_net_hdr whose hdr_len is the whole frame: the kernel then
 * copies the frame into the skb's linear part, as sendmsg() does for frames
 * this small, instead of attaching the ring's page from byte 14 on, so the
 * TC program reads the headers the way it does for live traffic.
 */
#define RING_FRAME    2048     /* tpacket2_hdr, virtio_net_hdr, a frame */
#define RING_FRAMES   256      /* a step of a batch is at most BATCH frames */
#define RING_DATA     (TPACKET2_HDRLEN - sizeof(struct sockaddr_ll))

struct tx_ring {
	int fd;
	uint8_t *map;
	unsigned int next;         /* the slot to fill next */
	unsigned int marked;       /* slots marked since the last send */
};

static int tx_ring_open(struct tx_ring *ring, int ifindex)
{
	struct tpacket_req req = {
		.tp_block_size = RING_FRAME * 32,
		.tp_block_nr = RING_FRAMES / 32,
		.tp_frame_size = RING_FRAME,
		.tp_frame_nr = RING_FRAMES,
	};
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_IP),   /* every template is IPv4 */
		.sll_ifindex = ifindex,
	};
	int version = TPACKET_V2, one = 1;

	memset(ring, 0, sizeof(*ring));
	ring->fd = socket(AF_PACKET, SOCK_RAW, 0);
	if (ring->fd < 0) {
		perror("socket(AF_PACKET)");
		return -1;
	}
	if (setsockopt(ring->fd, SOL_PACKET, PACKET_VERSION, &version, sizeof(version)) ||
	    setsockopt(ring->fd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one)) ||
	    setsockopt(ring->fd, SOL_PACKET, PACKET_TX_RING, &req, sizeof(req))) {
		perror("setsockopt(PACKET_TX_RING)");
		goto fail;
	}
	ring->map = mmap(NULL, (size_t)RING_FRAME * RING_FRAMES, PROT_READ | PROT_WRITE,
			 MAP_SHARED, ring->fd, 0);
	if (ring->map == MAP_FAILED) {
		perror("mmap(PACKET_TX_RING)");
		goto fail;
	}
	if (bind(ring->fd, (struct sockaddr *)&sll, sizeof(sll))) {
		perror("bind");
		munmap(ring->map, (size_t)RING_FRAME * RING_FRAMES);
		goto fail;
	}
	return 0;
fail:
	close(ring->fd);
	return -1;
}

static void tx_ring_close(struct tx_ring *ring)
{
	munmap(ring->map, (size_t)RING_FRAME * RING_FRAMES);
	close(ring->fd);
}

/* Sends every marked frame; returns once the kernel is done with them all
 * (the socket blocks until each frame's skb is freed: on the bench's replay
 * sink, right after the TC hook), so the time after it is after every one
 * went through the agent's hook. */
static int tx_ring_send(struct tx_ring *ring, const struct run *run, uint64_t *errors)
{
	while (ring->marked) {
		if (sendto(ring->fd, NULL, 0, 0, NULL, 0) >= 0) {
			ring->marked = 0;
			break;
		}
		if ((errno != EINTR && errno != ENOBUFS) || now_s() >= run->deadline + 1) {
			perror("sendto(PACKET_TX_RING)");
			return -1;
		}
		(*errors)++;           /* the frames still marked go on the next try */
		usleep(50);
	}
	return 0;
}

/* The next free slot's header, or NULL (a slot the kernel still holds: not
 * after a tx_ring_send(), which waits for every frame). */
static struct tpacket2_hdr *tx_ring_slot(struct tx_ring *ring)
{
	struct tpacket2_hdr *hdr = (void *)(ring->map + (size_t)ring->next * RING_FRAME);

	if (__atomic_load_n(&hdr->tp_status, __ATOMIC_ACQUIRE) != TP_STATUS_AVAILABLE) {
		fprintf(stderr, "replay: TX ring slot %u still busy (status %u)\n",
			ring->next, hdr->tp_status);
		return NULL;
	}
	ring->next = (ring->next + 1) % RING_FRAMES;
	return hdr;
}

/* Marks a copy of frame @fr for handshake copy @h (its client address and
 * port) in the next slot. */
static int tx_ring_mark(struct tx_ring *ring, const struct run *run,
			const struct frame *fr, uint64_t h)
{
	struct tpacket2_hdr *hdr = tx_ring_slot(ring);
	uint16_t port = htons((uint16_t)(1024 + (h / 9) % 64000));
	struct virtio_net_hdr vnet = { .hdr_len = htole16(fr->len) };
	uint8_t *data;

	if (!hdr)
		return -1;
	data = (uint8_t *)hdr + RING_DATA;
	memcpy(data, &vnet, sizeof(vnet));
	data += sizeof(vnet);
	memcpy(data, fr->data, fr->len);
	memcpy(data + fr->ip_off, &run->ips[h % 9], 4);
	memcpy(data + fr->port_off, &port, 2);
	hdr->tp_len = (uint32_t)(sizeof(vnet) + fr->len);
	__atomic_store_n(&hdr->tp_status, TP_STATUS_SEND_REQUEST, __ATOMIC_RELEASE);
	ring->marked++;
	return 0;
}

/* Sends batch @b's handshakes, frame k of each, then frame k + 1. */
static int send_batch(struct tx_ring *ring, struct run *run, uint64_t b,
		      uint64_t *packets, uint64_t *errors)
{
	struct tmpl *grp[BATCH];
	uint64_t first = b * BATCH;
	int i, k, longest = 0;
	double t;

	for (i = 0; i < BATCH; i++) {
		grp[i] = &tmpls[(first + (uint64_t)i) % n_tmpls];
		if ((int)grp[i]->n > longest)
			longest = (int)grp[i]->n;
	}
	for (k = 0; k < longest; k++) {
		for (i = 0; i < BATCH; i++) {
			if (k >= (int)grp[i]->n)
				continue;
			if (tx_ring_mark(ring, run, &grp[i]->f[k], first + (uint64_t)i))
				return -1;
			(*packets)++;
		}
		if (tx_ring_send(ring, run, errors))
			return -1;
		t = clock_s(CLOCK_REALTIME);
		for (i = 0; i < BATCH; i++)
			if ((int)grp[i]->n == k + 1)
				run->last[first + (uint64_t)i] = t;
	}
	return 0;
}

/* Sender @w: batches w, w + senders, ... each once it is due. */
static int sender(struct run *run, int w)
{
	struct tx_ring ring;
	uint64_t b = (uint64_t)w;
	double t;
	int rc = 0;

	if (tx_ring_open(&ring, run->ifindex))
		return 1;
	while ((t = now_s()) < run->deadline) {
		uint64_t due = (uint64_t)((t - run->start) * run->rate);

		if ((b + 1) * BATCH > due || (b + 1) * BATCH > run->cap) {
			usleep(200);
			continue;
		}
		if (send_batch(&ring, run, b, &run->did[w].packets, &run->did[w].errors)) {
			rc = 1;
			break;
		}
		run->did[w].handshakes += BATCH;
		b += (uint64_t)run->senders;
	}
	tx_ring_close(&ring);
	return rc;
}

/* Starts the senders and waits for them; 0 if every one succeeded. */
static int run_senders(struct run *run)
{
	pid_t pids[MAX_SENDERS];
	int w, status, failed = 0;

	for (w = 0; w < run->senders; w++) {
		pids[w] = fork();
		if (pids[w] < 0) {
			perror("fork");
			return -1;
		}
		if (pids[w] == 0)
			_exit(sender(run, w));
	}
	for (w = 0; w < run->senders; w++) {
		if (waitpid(pids[w], &status, 0) < 0) {
			perror("waitpid");
			return -1;
		}
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			failed = 1;
	}
	return failed ? -1 : 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: replay [-t TIMES] [-j SENDERS] TEMPLATES IFACE A.B.C RATE SECONDS\n");
	return 2;
}

int main(int argc, char **argv)
{
	uint64_t sent = 0, packets = 0, errors = 0, cap;
	const char *times = NULL;
	double rate, secs, t;
	struct rusage ru;
	struct run *run;
	size_t size;
	int i, c, senders = 1;

	while ((c = getopt(argc, argv, "t:j:")) != -1) {
		switch (c) {
		case 't': times = optarg; break;
		case 'j': senders = atoi(optarg); break;
		default: return usage();
		}
	}
	if (argc - optind != 5)
		return usage();
	argv += optind;
	rate = atof(argv[3]);
	secs = atof(argv[4]);
	if (rate <= 0 || rate > 1e7 || secs <= 0 || secs > 600 || senders < 1 ||
	    senders > MAX_SENDERS || load(argv[0]))
		return 2;
	/* the schedule reaches at most rate * secs handshakes, and a batch more */
	cap = (uint64_t)(rate * secs) + 2 * BATCH;
	size = sizeof(*run) + cap * sizeof(run->last[0]);
	run = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (run == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	run->rate = rate;
	run->cap = cap;
	run->senders = senders;
	for (i = 0; i < 9; i++) {
		char ip[32];

		snprintf(ip, sizeof(ip), "%s.%d", argv[2], i == 0 ? 1 : 6 + i);
		if (inet_pton(AF_INET, ip, &run->ips[i]) != 1) {
			fprintf(stderr, "bad client net %s\n", argv[2]);
			return 2;
		}
	}
	run->ifindex = (int)if_nametoindex(argv[1]);
	if (!run->ifindex) {
		perror(argv[1]);
		return 1;
	}
	run->start = now_s();
	run->deadline = run->start + secs;
	if (run_senders(run))
		return 1;
	t = now_s() - run->start;
	for (i = 0; i < senders; i++) {
		sent += run->did[i].handshakes;
		packets += run->did[i].packets;
		errors += run->did[i].errors;
	}
	if (getrusage(RUSAGE_CHILDREN, &ru)) {
		perror("getrusage");
		return 1;
	}
	if (times && write_times(times, run->last, cap))
		return 1;
	printf("{\"target\": %.0f, \"handshakes\": %llu, \"ok\": %llu, \"packets\": %llu, "
	       "\"send_errors\": %llu, \"templates\": %u, \"senders\": %d, \"seconds\": %.3f, "
	       "\"rate\": %.1f, \"cpu_s\": %.2f}\n",
	       rate, (unsigned long long)sent, (unsigned long long)sent,
	       (unsigned long long)packets, (unsigned long long)errors, n_tmpls, senders, t,
	       (double)sent / t, tv_s(&ru.ru_utime) + tv_s(&ru.ru_stime));
	munmap(run, size);
	return 0;
}
