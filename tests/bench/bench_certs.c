// SPDX-License-Identifier: MIT
/*
 * Memory when every handshake serves a new certificate (not a test): N
 * distinct leaves (tests/unit/cert_mint.h: one signed template, a serial
 * each) judged by a pipeline as the agent judges the host's connections
 * to a server minting one per connection (pipeline_report_active: the
 * certificate cache, the distinct counts, a cert event each), no sinks.
 * Prints, at each checkpoint: certificates judged, live cache entries,
 * the summary's `certificates`, the process's RSS (kB).
 * Usage: bench_certs [total, default 200000]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/cert_mint.h"
#include "cert/cert_info.h"
#include "pipeline/pipeline.h"

static long rss_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmRSS:", 6))
			kb = atol(line + 6);
	if (f)
		fclose(f);
	return kb;
}

static int judge(struct pipeline *pl, uint32_t i)
{
	struct hs_record rec;

	if (cert_mint_record(&rec, i))
		return -1;
	pipeline_report_active(pl, &rec);
	free(rec.chain[0].data);
	return 0;
}

int main(int argc, char **argv)
{
	long total = argc > 1 ? atol(argv[1]) : 200000, next = 12500, i;
	struct pipeline_opts o = { 0 };
	struct pipeline *pl = pipeline_new(&o);

	if (!pl || total <= 0)
		return 1;
	printf("judged live_entries certificates rss_kb\n");
	for (i = 0; i < total; i++) {
		if (judge(pl, (uint32_t)i)) {
			fprintf(stderr, "bench_certs: minting failed\n");
			return 1;
		}
		if (i + 1 == next || i + 1 == total) {
			printf("%ld %zu %llu %ld\n", i + 1,
			       cert_cache_live(pipeline_cert_cache(pl)),
			       (unsigned long long)pipeline_summary(pl)->certificates,
			       rss_kb());
			fflush(stdout);
			next *= 2;
		}
	}
	pipeline_free(pl);
	cert_mint_done();
	return 0;
}
