// SPDX-License-Identifier: MIT
/*
 * The metrics HTTP server, asked over loopback with libcurl: real requests,
 * exact statuses, headers and bodies. ASan checks that stop frees it all.
 */
#include <curl/curl.h>
#include <errno.h>
#include <stdlib.h>
#include <strings.h>

#include "check.h"
#include "common/prom_text.h"
#include "net/http_server.h"
#include "sink/sink.h"

struct reply {
	long status;
	char content_type[128];
	char allow[64];
	char body[32768];
	size_t len;
};

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct reply *r = arg;
	size_t len = size * n;

	if (len >= sizeof(r->body) - r->len)
		return 0;                   /* too large for a test: fail */
	memcpy(r->body + r->len, p, len);
	r->len += len;
	r->body[r->len] = '\0';
	return len;
}

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
	struct reply *r = arg;
	size_t len = size * n;

	if (len > 7 && strncasecmp(p, "Allow: ", 7) == 0)
		snprintf(r->allow, sizeof(r->allow), "%.*s", (int)(len - 9), p + 7);
	return len;
}

/* @method on http://@host:@port@path into @r; the curl result code. */
static int fetch(const char *host, int port, const char *method,
		 const char *path, struct reply *r)
{
	CURL *c = curl_easy_init();
	char url[128];
	char *ctype = NULL;
	CURLcode rc;

	memset(r, 0, sizeof(*r));
	if (!c)
		return -1;
	snprintf(url, sizeof(url), "http://%s:%d%s", host, port, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROXY, "");          /* no proxy from the environment */
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
	if (strcmp(method, "HEAD") == 0)
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	else if (strcmp(method, "POST") == 0)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, "a=1");
	else if (strcmp(method, "GET") != 0)
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	if (curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ctype) == CURLE_OK && ctype)
		snprintf(r->content_type, sizeof(r->content_type), "%s", ctype);
	curl_easy_cleanup(c);
	return (int)rc;
}

static const char exposition[] =
	"# HELP tlswatch_up Whether the agent runs.\n"
	"# TYPE tlswatch_up gauge\n"
	"tlswatch_up 1\n";

/* A server on 127.0.0.1, an ephemeral port, with @text published (if any). */
static struct http_server *start_local(const char *text)
{
	struct http_server *srv = NULL;
	char err[256] = "";

	CHECK_INT(http_server_start("127.0.0.1:0", &srv, err, sizeof(err)), 0);
	CHECK_STR(err, "");
	if (srv && text)
		CHECK_INT(http_server_publish(srv, text, strlen(text)), 0);
	return srv;
}

/* @method @path asked of a fresh local server with @published (if not
 * NULL) published; the curl result code. */
static int ask(const char *published, const char *method, const char *path,
	       struct reply *r)
{
	struct http_server *srv = start_local(published);
	int rc;

	if (!srv)
		return -1;
	CHECK(http_server_port(srv) > 0);
	rc = fetch("127.0.0.1", http_server_port(srv), method, path, r);
	http_server_stop(srv);      /* a leak would fail the ASan build */
	return rc;
}

/* A port that was free a moment ago (the metrics sink takes an address,
 * not an ephemeral port it would tell). */
static int free_port(void)
{
	struct http_server *srv = start_local(NULL);
	int port = srv ? http_server_port(srv) : -1;

	http_server_stop(srv);
	return port;
}

/* A cert event of one served leaf, for 10.0.0.1:443; v.sni is the
 * caller's. */
struct cert_sample {
	struct tw_endpoint server;
	struct cert_info leaf;
	const struct cert_info *chain[1];
	struct finding_list fl;
	struct cert_view v;
	struct event ev;
};

static void cert_sample_init(struct cert_sample *s)
{
	memset(s, 0, sizeof(*s));
	s->server.addr.family = 4;
	memcpy(s->server.addr.bytes, (const uint8_t[]){ 10, 0, 0, 1 }, 4);
	s->server.port = 443;
	s->leaf = (struct cert_info){ .subject = "CN=a", .issuer = "CN=ca", .serial_hex = "1",
				      .not_after = 1800000000, .key = "EC-P256" };
	memset(s->leaf.sha256_hex, 'a', 64);
	s->chain[0] = &s->leaf;
	s->v = (struct cert_view){ .server = &s->server, .observed = "passive",
				   .n_chain = 1, .chain = s->chain, .findings = &s->fl };
	s->ev = (struct event){ .type = EVENT_CERT, .ts_us = 1, .cert = &s->v };
}

/* A metrics sink serving on a free loopback port, said in @addr. */
static struct sink_set *open_metrics_sink(char addr[32])
{
	struct output_opts o = { 0 };
	struct sink_set *set = NULL;
	char err[256] = "";

	snprintf(addr, 32, "127.0.0.1:%d", free_port());
	o.metrics_addr = addr;
	CHECK_INT(sink_set_open(&o, &set, err, sizeof(err)), 0);
	CHECK_STR(err, "");
	return set;
}

/*
 * The metrics sink keys a served certificate by "name\0server": an SNI
 * with a NUL byte (any byte may come off the wire) used to shift the
 * server label into the name's tail. The label holds the name up to the
 * NUL, the server is the server.
 */
static void test_metrics_sink_name_with_a_nul_keeps_its_server(void)
{
	struct cert_sample c;
	struct sink_set *set;
	char addr[32];
	struct reply r;

	cert_sample_init(&c);
	c.v.sni = "a\0b.example";
	c.v.sni_len = 11;
	set = open_metrics_sink(addr);
	if (!set)
		return;
	sink_set_emit(set, &c.ev);
	sink_set_tick(set, 1);             /* renders and publishes */
	CHECK_INT(fetch("127.0.0.1", atoi(strchr(addr, ':') + 1), "GET", "/metrics", &r), 0);
	CHECK(strstr(r.body, "tlswatch_certificate_info{name=\"a\",server=\"10.0.0.1:443\","
			     "sha256=\"") != NULL);
	sink_set_close(set);
}

/* GET @path whole, however large (struct reply holds 32 KiB): the body,
 * NUL-terminated, to free; NULL on failure. */
static char *fetch_all(int port, const char *path)
{
	CURL *c = curl_easy_init();
	FILE *f = tmpfile();
	char url[128], *body = NULL;
	long len = -1;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
	if (c && f) {
		curl_easy_setopt(c, CURLOPT_URL, url);
		curl_easy_setopt(c, CURLOPT_PROXY, "");
		curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, f);
		if (curl_easy_perform(c) == CURLE_OK)
			len = ftell(f);
	}
	if (len >= 0 && (body = calloc(1, (size_t)len + 1))) {
		rewind(f);
		if (fread(body, 1, (size_t)len, f) != (size_t)len) {
			free(body);
			body = NULL;
		}
	}
	if (f)
		fclose(f);
	curl_easy_cleanup(c);
	return body;
}

/*
 * Past 5,000 (name, server) pairs, one series labelled "other" stands for
 * the rest, 1 like every certificate_info sample, and the folded updates
 * are counted in tlswatch_metrics_series_folded_total, as for every other
 * bounded family (the "other" sample was the count, and nothing was said
 * in the folded family).
 */
static void test_metrics_sink_folds_served_pairs_past_the_bound(void)
{
	struct cert_sample c;
	struct sink_set *set;
	char addr[32], name[32], *body;
	int i;

	cert_sample_init(&c);
	set = open_metrics_sink(addr);
	if (!set)
		return;
	for (i = 0; i < 5003; i++) {
		c.v.sni_len = (size_t)snprintf(name, sizeof(name), "n%d.example", i);
		c.v.sni = name;
		sink_set_emit(set, &c.ev);
	}
	sink_set_tick(set, 1);
	body = fetch_all(atoi(strchr(addr, ':') + 1), "/metrics");
	CHECK(body != NULL);
	CHECK(body && strstr(body, "tlswatch_certificate_info{name=\"other\",server=\"other\","
				   "sha256=\"other\",serial=\"other\",issuer=\"other\",key=\"other\"} 1\n"));
	CHECK(body && strstr(body, "tlswatch_metrics_series_folded_total{family=\"tlswatch_certificate_info\"} 3\n"));
	free(body);
	sink_set_close(set);
}

static void test_metrics_serves_the_published_snapshot_exactly(void)
{
	struct reply r;

	CHECK_INT(ask(exposition, "GET", "/metrics", &r), 0);
	CHECK_INT(r.status, 200);
	CHECK_STR(r.content_type, "text/plain; version=0.0.4; charset=utf-8");
	CHECK_STR(r.body, exposition);
}

static void test_publish_replaces_the_snapshot(void)
{
	struct http_server *srv = start_local(exposition);
	struct reply r;

	if (!srv)
		return;
	CHECK_INT(http_server_publish(srv, "a 1\nb 2\n", 4), 0);   /* a prefix only */
	CHECK_INT(fetch("127.0.0.1", http_server_port(srv), "GET", "/metrics", &r), 0);
	CHECK_STR(r.body, "a 1\n");
	http_server_stop(srv);
}

static void test_metrics_before_any_publish_is_503(void)
{
	struct reply r;

	CHECK_INT(ask(NULL, "GET", "/metrics", &r), 0);
	CHECK_INT(r.status, 503);
	CHECK_STR(r.body, "no metrics published yet\n");
}

static void test_head_metrics_has_headers_and_no_body(void)
{
	struct reply r;

	CHECK_INT(ask(exposition, "HEAD", "/metrics", &r), 0);
	CHECK_INT(r.status, 200);
	CHECK_STR(r.content_type, PROM_CONTENT_TYPE);
	CHECK_INT(r.len, 0);
}

static void test_healthz_answers_ok(void)
{
	struct reply r;

	CHECK_INT(ask(NULL, "GET", "/healthz", &r), 0);
	CHECK_INT(r.status, 200);
	CHECK_STR(r.body, "ok\n");
}

static void test_unknown_path_is_404(void)
{
	struct reply r;

	CHECK_INT(ask(exposition, "GET", "/metrics/x", &r), 0);
	CHECK_INT(r.status, 404);
	CHECK_INT(ask(exposition, "GET", "/", &r), 0);
	CHECK_INT(r.status, 404);
}

static void test_post_and_delete_are_405_with_allow(void)
{
	struct reply r;

	CHECK_INT(ask(exposition, "POST", "/metrics", &r), 0);
	CHECK_INT(r.status, 405);
	CHECK_STR(r.allow, "GET, HEAD");
	CHECK_STR(r.body, "method not allowed\n");
	CHECK_INT(ask(exposition, "DELETE", "/healthz", &r), 0);
	CHECK_INT(r.status, 405);
}

static void test_ipv6_loopback_in_brackets_serves(void)
{
	struct http_server *srv = NULL;
	char err[256] = "";
	struct reply r;

	CHECK_INT(http_server_start("[::1]:0", &srv, err, sizeof(err)), 0);
	if (!srv) {
		printf("#   %s\n", err);
		return;
	}
	CHECK_INT(fetch("[::1]", http_server_port(srv), "GET", "/healthz", &r), 0);
	CHECK_INT(r.status, 200);
	http_server_stop(srv);
}

/* The error of starting on @addr; NULL if it started. */
static const char *start_error(const char *addr, int want_rc, char *err, size_t errlen)
{
	struct http_server *srv = NULL;
	int rc = http_server_start(addr, &srv, err, errlen);

	CHECK_INT(rc, want_rc);
	CHECK(srv == NULL);
	http_server_stop(srv);
	return rc ? err : NULL;
}

static void test_bad_addresses_are_rejected_with_a_message(void)
{
	char err[256];

	CHECK_STR(start_error("nope", -EINVAL, err, sizeof(err)),
		  "nope: expected IPv4:PORT or [IPv6]:PORT");
	CHECK_STR(start_error("1.2.3.4", -EINVAL, err, sizeof(err)),
		  "1.2.3.4: expected IPv4:PORT or [IPv6]:PORT");
	CHECK_STR(start_error("[::1]", -EINVAL, err, sizeof(err)),
		  "[::1]: expected IPv4:PORT or [IPv6]:PORT");
	CHECK_STR(start_error("::1:9100", -EINVAL, err, sizeof(err)),
		  "::1:9100: expected IPv4:PORT or [IPv6]:PORT");
	CHECK_STR(start_error("127.0.0.1:99999", -EINVAL, err, sizeof(err)),
		  "127.0.0.1:99999: the port is not a number from 0 to 65535");
	CHECK_STR(start_error("127.0.0.1:", -EINVAL, err, sizeof(err)),
		  "127.0.0.1:: the port is not a number from 0 to 65535");
	CHECK_STR(start_error("127.0.0.1:+80", -EINVAL, err, sizeof(err)),
		  "127.0.0.1:+80: the port is not a number from 0 to 65535");
	CHECK_STR(start_error("localhost:9100", -EINVAL, err, sizeof(err)),
		  "localhost:9100: \"localhost\" is not a numeric IPv4 address");
	CHECK_STR(start_error("[127.0.0.1]:9100", -EINVAL, err, sizeof(err)),
		  "[127.0.0.1]:9100: \"127.0.0.1\" is not a numeric IPv6 address");
	CHECK_STR(start_error("1.2.3.4:9100", -EADDRNOTAVAIL, err, sizeof(err)),
		  "cannot listen on 1.2.3.4:9100: Cannot assign requested address");
}

static void test_port_in_use_names_the_address(void)
{
	struct http_server *srv = start_local(NULL);
	char addr[64], want[128], err[256];

	if (!srv)
		return;
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", http_server_port(srv));
	snprintf(want, sizeof(want), "cannot listen on %s: Address already in use", addr);
	CHECK_STR(start_error(addr, -EADDRINUSE, err, sizeof(err)), want);
	http_server_stop(srv);
}

static void test_stop_of_null_is_a_noop(void)
{
	http_server_stop(NULL);
}

int main(void)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		printf("not ok - curl_global_init\n");
		return 1;
	}
	RUN_TEST(test_metrics_serves_the_published_snapshot_exactly);
	RUN_TEST(test_publish_replaces_the_snapshot);
	RUN_TEST(test_metrics_before_any_publish_is_503);
	RUN_TEST(test_head_metrics_has_headers_and_no_body);
	RUN_TEST(test_healthz_answers_ok);
	RUN_TEST(test_unknown_path_is_404);
	RUN_TEST(test_post_and_delete_are_405_with_allow);
	RUN_TEST(test_ipv6_loopback_in_brackets_serves);
	RUN_TEST(test_bad_addresses_are_rejected_with_a_message);
	RUN_TEST(test_port_in_use_names_the_address);
	RUN_TEST(test_stop_of_null_is_a_noop);
	RUN_TEST(test_metrics_sink_name_with_a_nul_keeps_its_server);
	RUN_TEST(test_metrics_sink_folds_served_pairs_past_the_bound);
	curl_global_cleanup();
	return CHECK_EXIT_CODE();
}
