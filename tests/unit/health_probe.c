// SPDX-License-Identifier: MIT
/*
 * health_probe: drives the certificate-health facade (cert/health.h) for
 * the end-to-end tests in tests/e2e/health_*.sh, with real responders and
 * HTTP servers on loopback. Not a unit test (its name does not start with
 * test_); built with `make build/tests/health_probe`.
 *
 *   health_probe [facade options] CHAIN.pem[@TIME[@IP:PORT]]...
 *   health_probe --dump DB [--json]
 *
 * Facade options mirror the tlswatch ones: --ca-file --ca-dir --crl
 * --online --staple-max-age --expect --expect-dir --db --timeout-ms
 * --concurrency; plus --sni NAME, --staple FILE (DER, used for every
 * chain), --flush MS (wait for online answers after each chain; default
 * 15000; 0: only at the end). TIME is "now" (default), "+SECONDS" or
 * 2026-03-01T00:00:00 (UTC); the server defaults to 127.0.0.1:443.
 *
 * Output, one JSON object per line: {"event":"check"|"update",...} for
 * each result, {"event":"problem","message":...}, and
 * {"event":"flush","pending":N,"ms":T} after each wait.
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "cert/health.h"
#include "common/json.h"

#define MAX_LIST 32
#define MAX_CERTS 12

struct probe {
	struct cert_health_opts o;
	const char *crls[MAX_LIST], *expects[MAX_LIST];
	const char *sni;
	const char *staple_file;
	uint8_t *staple;
	size_t staple_len;
	int flush_ms;
	int n_checks;
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void emit_result(const char *event, const struct cert_health_result *r)
{
	struct json_writer j;
	const char *reason = cert_health_reason_name(r->revocation.reason);
	int i;

	jw_init(&j);
	jw_object_begin(&j);
	jw_kv_str(&j, "event", event);
	jw_kv_str(&j, "sha256", r->leaf_sha256_hex);
	if (r->has_sni)
		jw_kv_str(&j, "sni", r->sni);
	jw_kv_str(&j, "verify", r->verify);
	jw_key(&j, "revocation");
	jw_object_begin(&j);
	jw_kv_str(&j, "method", revocation_method_name(r->revocation.method));
	jw_kv_str(&j, "status", ocsp_status_name(r->revocation.status));
	if (r->revocation.revoked_at)
		jw_kv_time_s(&j, "revoked_at", r->revocation.revoked_at);
	jw_kv_str(&j, "reason", reason);
	if (r->revocation.checked_at)
		jw_kv_time_s(&j, "checked_at", r->revocation.checked_at);
	if (r->revocation.stale_since)
		jw_kv_time_s(&j, "stale_since", r->revocation.stale_since);
	jw_object_end(&j);
	jw_kv_str(&j, "sources", r->sources);
	jw_key(&j, "findings");
	jw_array_begin(&j);
	for (i = 0; i < r->findings.n; i++) {
		const struct finding *f = &r->findings.items[i];

		jw_object_begin(&j);
		jw_kv_str(&j, "kind", finding_kind_name(f->kind));
		jw_kv_str(&j, "severity",
			  finding_severity_name(finding_kind_severity(f->kind)));
		jw_kv_str(&j, "detail", f->detail);
		jw_object_end(&j);
	}
	jw_array_end(&j);
	jw_kv_bool(&j, "pending", r->pending);
	jw_kv_bool(&j, "new", r->new_in_inventory);
	jw_object_end(&j);
	jw_write_line(&j, stdout);
	jw_free(&j);
}

static bool on_update(void *ctx, const struct cert_health_result *r)
{
	emit_result("update", r);
	return true;
}

static void on_problem(void *ctx, const char *msg)
{
	struct json_writer j;

	jw_init(&j);
	jw_object_begin(&j);
	jw_kv_str(&j, "event", "problem");
	jw_kv_str(&j, "message", msg);
	jw_object_end(&j);
	jw_write_line(&j, stdout);
	jw_free(&j);
}

static const struct cert_health_events events = {
	.updated = on_update, .problem = on_problem,
};

static void flush(struct cert_health *h, int ms)
{
	int64_t start = now_ms();
	int left = cert_health_flush(h, ms, &events);

	printf("{\"event\":\"flush\",\"pending\":%d,\"ms\":%lld}\n", left,
	       (long long)(now_ms() - start));
	fflush(stdout);
}

static uint8_t *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = n > 0 ? malloc((size_t)n) : NULL;
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	*len = buf ? (size_t)n : 0;
	return buf;
}

static int load_chain(const char *path, struct cert_info **certs)
{
	FILE *f = fopen(path, "r");
	X509 *x;
	int n = 0;

	if (!f)
		return -1;
	while (n < MAX_CERTS && (x = PEM_read_X509(f, NULL, NULL, NULL))) {
		unsigned char *der = NULL;
		int len = i2d_X509(x, &der);
		const char *err = NULL;

		certs[n] = len > 0 ? cert_info_parse(der, (size_t)len, &err) : NULL;
		OPENSSL_free(der);
		X509_free(x);
		if (!certs[n])
			break;
		n++;
	}
	fclose(f);
	return n;
}

static bool parse_time(const char *s, uint64_t *us)
{
	struct tm tm;

	if (!s || !strcmp(s, "now")) {
		*us = (uint64_t)time(NULL) * 1000000ull;
		return true;
	}
	if (s[0] == '+') {
		*us = (uint64_t)(time(NULL) + atoll(s + 1)) * 1000000ull;
		return true;
	}
	memset(&tm, 0, sizeof(tm));
	if (!strptime(s, "%Y-%m-%dT%H:%M:%S", &tm))
		return false;
	*us = (uint64_t)timegm(&tm) * 1000000ull;
	return true;
}

static bool parse_server(const char *s, struct tw_endpoint *e)
{
	char ip[64];
	const char *colon = s ? strrchr(s, ':') : NULL;

	memset(e, 0, sizeof(*e));
	e->addr.family = 4;
	e->port = 443;
	inet_pton(AF_INET, "127.0.0.1", e->addr.bytes);
	if (!s)
		return true;
	if (!colon || (size_t)(colon - s) >= sizeof(ip))
		return false;
	memcpy(ip, s, (size_t)(colon - s));
	ip[colon - s] = 0;
	e->port = (uint16_t)atoi(colon + 1);
	return inet_pton(AF_INET, ip, e->addr.bytes) == 1;
}

/* CHAIN.pem[@TIME[@IP:PORT]] */
static int check_one(struct probe *p, struct cert_health *h, char *spec)
{
	struct cert_info *certs[MAX_CERTS] = { 0 };
	struct cert_health_result r;
	struct staple_info st;
	struct tw_endpoint server;
	char *at = strchr(spec, '@'), *srv = NULL;
	uint64_t ts;
	int i, n;

	if (at) {
		*at++ = 0;
		srv = strchr(at, '@');
		if (srv)
			*srv++ = 0;
	}
	n = load_chain(spec, certs);
	if (n < 1 || !parse_time(at, &ts) || !parse_server(srv, &server)) {
		fprintf(stderr, "health_probe: bad chain spec %s\n", spec);
		return -1;
	}
	if (p->staple)
		staple_check(p->staple, p->staple_len, certs[0], n > 1 ? certs[1] : NULL,
			     &st);
	{
		struct cert_health_input in = {
			.sni = p->sni, .server = &server,
			.chain = (const struct cert_info *const *)certs, .n_chain = n,
			.staple = p->staple ? &st : NULL, .ts_us = ts,
		};

		cert_health_check(h, &in, &r);
	}
	emit_result("check", &r);
	cert_health_drain(h, &events);
	if (p->flush_ms > 0)
		flush(h, p->flush_ms);
	for (i = 0; i < n; i++)
		cert_info_free(certs[i]);
	return 0;
}

enum { O_CA_FILE = 1000, O_CA_DIR, O_CRL, O_ONLINE, O_MAX_AGE, O_EXPECT,
       O_EXPECT_DIR, O_DB, O_TIMEOUT, O_CONC, O_SNI, O_STAPLE, O_FLUSH, O_DUMP,
       O_JSON };

static const struct option long_opts[] = {
	{ "ca-file", required_argument, NULL, O_CA_FILE },
	{ "ca-dir", required_argument, NULL, O_CA_DIR },
	{ "crl", required_argument, NULL, O_CRL },
	{ "online", no_argument, NULL, O_ONLINE },
	{ "staple-max-age", required_argument, NULL, O_MAX_AGE },
	{ "expect", required_argument, NULL, O_EXPECT },
	{ "expect-dir", required_argument, NULL, O_EXPECT_DIR },
	{ "db", required_argument, NULL, O_DB },
	{ "timeout-ms", required_argument, NULL, O_TIMEOUT },
	{ "concurrency", required_argument, NULL, O_CONC },
	{ "sni", required_argument, NULL, O_SNI },
	{ "staple", required_argument, NULL, O_STAPLE },
	{ "flush", required_argument, NULL, O_FLUSH },
	{ "dump", required_argument, NULL, O_DUMP },
	{ "json", no_argument, NULL, O_JSON },
	{ NULL, 0, NULL, 0 },
};

int main(int argc, char **argv)
{
	struct probe p = { .flush_ms = 15000 };
	struct cert_health *h = NULL;
	const char *dump = NULL;
	bool json = false;
	char err[512] = "";
	int c, rc = 0;

	while ((c = getopt_long(argc, argv, "", long_opts, NULL)) != -1) {
		switch (c) {
		case O_CA_FILE: p.o.ca_file = optarg; break;
		case O_CA_DIR: p.o.ca_dir = optarg; break;
		case O_CRL: if (p.o.n_crl < MAX_LIST) p.crls[p.o.n_crl++] = optarg; break;
		case O_ONLINE: p.o.online = true; break;
		case O_MAX_AGE: p.o.staple_max_age_s = atoll(optarg); break;
		case O_EXPECT:
			if (p.o.n_expects < MAX_LIST)
				p.expects[p.o.n_expects++] = optarg;
			break;
		case O_EXPECT_DIR: p.o.expect_dir = optarg; break;
		case O_DB: p.o.db_path = optarg; break;
		case O_TIMEOUT: p.o.ocsp_timeout_ms = atoi(optarg); break;
		case O_CONC: p.o.max_concurrency = atoi(optarg); break;
		case O_SNI: p.sni = optarg; break;
		case O_STAPLE: p.staple_file = optarg; break;
		case O_FLUSH: p.flush_ms = atoi(optarg); break;
		case O_DUMP: dump = optarg; break;
		case O_JSON: json = true; break;
		default: return 2;
		}
	}
	if (dump) {
		if (cert_health_inventory_dump(dump, json, stdout, NULL, err, sizeof(err))) {
			fprintf(stderr, "health_probe: %s\n", err);
			return 1;
		}
		return 0;
	}
	p.o.crl_files = p.crls;
	p.o.expects = p.expects;
	if (p.staple_file && !(p.staple = read_file(p.staple_file, &p.staple_len))) {
		fprintf(stderr, "health_probe: cannot read %s\n", p.staple_file);
		return 2;
	}
	rc = cert_health_open(&p.o, &h, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "health_probe: %s\n", err);
		free(p.staple);
		return 2;
	}
	if (rc == 1)
		on_problem(NULL, err);
	rc = 0;
	for (; optind < argc && rc == 0; optind++)
		rc = check_one(&p, h, argv[optind]);
	flush(h, p.flush_ms > 0 ? p.flush_ms : 15000);
	cert_health_close(h);
	free(p.staple);
	return rc ? 2 : 0;
}
