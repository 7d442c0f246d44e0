// SPDX-License-Identifier: MIT
/*
 * Round trip of wire bytes through the writers: whatever bytes the SNI,
 * the ALPN protocols, a certificate's subject and issuer or a finding's
 * detail hold, every JSON event line (events.md) and every Prometheus
 * exposition line parses back, with a strict reader written apart from the
 * writers (strict_parse.h), to exactly those bytes with each byte that
 * starts no valid UTF-8 sequence read as U+FFFD.
 *
 * Input: fields, each a length byte then that many bytes (cut at the
 * input's end): SNI, subject, issuer, detail, then up to HS_MAX_ALPN ALPN
 * protocols. The same fields are the label values of two Prometheus
 * families: one written sample by sample, one through prom_series (the
 * capped set of the metrics sink, 3 series at most here).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/prom_series.h"
#include "common/prom_text.h"
#include "event/event_json.h"
#include "strict_parse.h"

#define FIELD_MAX 255
#define N_FIXED 4                      /* sni, subject, issuer, detail */
#define N_FIELDS (N_FIXED + HS_MAX_ALPN)

struct field {
	const uint8_t *p;
	size_t len;
	size_t clen;                   /* up to the first NUL: a C string's part */
	char c[FIELD_MAX + 1];         /* NUL-terminated copy */
	char want[3 * FIELD_MAX + 1];  /* sanitized, all bytes */
	size_t want_len;
	char cwant[3 * FIELD_MAX + 1]; /* sanitized, C-string part */
	size_t cwant_len;
};

static struct field fields[N_FIELDS];
static int n_fields;

static void split_fields(const uint8_t *data, size_t size)
{
	size_t off = 0;

	n_fields = 0;
	while (n_fields < N_FIELDS && off < size) {
		struct field *f = &fields[n_fields++];
		size_t len = data[off++];

		if (len > size - off)
			len = size - off;
		f->p = data + off;
		f->len = len;
		memcpy(f->c, f->p, len);
		f->c[len] = '\0';
		f->clen = strlen(f->c);
		f->want_len = sp_sanitize(f->p, len, f->want);
		f->cwant_len = sp_sanitize(f->p, f->clen, f->cwant);
		off += len;
	}
	while (n_fields < N_FIXED) {       /* the fixed ones always exist */
		struct field *f = &fields[n_fields++];

		memset(f, 0, sizeof(*f));
		f->p = (const uint8_t *)"";
	}
}

static void json_roundtrip(const struct event *ev, struct json_writer *j,
			   struct sp_values *vs)
{
	SP_CHECK(event_json_write(j, ev) == 0);
	SP_CHECK(memchr(jw_text(j), '\n', jw_len(j)) == NULL);   /* one line */
	SP_CHECK(sp_json_parse(jw_text(j), jw_len(j), vs));
}

static void check_one(const struct sp_values *vs, const char *path,
		      const char *want, size_t len)
{
	int from = 0;

	SP_CHECK(sp_count(vs, path) == 1);
	SP_CHECK(sp_equal(sp_next(vs, path, &from), want, len));
}

static void fill_cert(struct cert_info *ci)
{
	memset(ci, 0, sizeof(*ci));
	memset(ci->sha256_hex, 'a', 64);
	memset(ci->spki_sha256_hex, 'b', 64);
	ci->subject = fields[1].c;
	ci->issuer = fields[2].c;
	ci->serial_hex = "1f";
	ci->not_before = 1700000000;
	ci->not_after = 1800000000;
	snprintf(ci->key, sizeof(ci->key), "EC-P256");
}

static void check_handshake(struct json_writer *j, const struct cert_info *ci)
{
	static struct hs_record rec;
	static struct hs_string alpn[HS_MAX_ALPN];
	struct hs_view v = { .rec = &rec, .n_chain = 1, .chain = { ci } };
	struct event ev = { .type = EVENT_HANDSHAKE, .ts_us = 1, .handshake = &v };
	struct sp_values vs = { 0 };
	int i, from = 0;

	memset(&rec, 0, sizeof(rec));
	rec.has_client_hello = true;
	rec.has_sni = true;
	rec.sni_len = (uint16_t)fields[0].len;
	memcpy(rec.sni, fields[0].p, fields[0].len);
	rec.n_alpn = (uint8_t)(n_fields - N_FIXED);
	rec.alpn = alpn;   /* the fuzzer's, not released */
	for (i = 0; i < rec.n_alpn; i++) {
		rec.alpn[i].len = (uint8_t)fields[N_FIXED + i].len;
		memcpy(rec.alpn[i].bytes, fields[N_FIXED + i].p, rec.alpn[i].len);
	}
	json_roundtrip(&ev, j, &vs);
	check_one(&vs, "sni", fields[0].want, fields[0].want_len);
	check_one(&vs, "chain[].subject", fields[1].cwant, fields[1].cwant_len);
	check_one(&vs, "chain[].issuer", fields[2].cwant, fields[2].cwant_len);
	SP_CHECK(sp_count(&vs, "alpn[]") == rec.n_alpn);
	for (i = 0; i < rec.n_alpn; i++) {
		const struct field *f = &fields[N_FIXED + i];

		SP_CHECK(sp_equal(sp_next(&vs, "alpn[]", &from), f->want, f->want_len));
	}
	SP_CHECK(sp_count(&vs, "findings[].detail") == 0);   /* cert events have them */
	sp_values_free(&vs);
}

static void check_cert(struct json_writer *j, const struct cert_info *ci)
{
	static const struct tw_endpoint server = { .addr = { .family = 4 }, .port = 443 };
	const struct cert_info *chain[1] = { ci };
	struct finding_list fl = { 0 };
	struct cert_view v = {
		.server = &server, .sni = (const char *)fields[0].p, .sni_len = fields[0].len,
		.observed = "passive", .n_chain = 1, .chain = chain, .findings = &fl,
	};
	struct event ev = { .type = EVENT_CERT, .ts_us = 1, .cert = &v };
	struct sp_values vs = { 0 };

	/* struct finding holds 255 bytes, a field at most that: never cut */
	finding_add(&fl, FINDING_EXPIRED, "%s", fields[3].c);
	json_roundtrip(&ev, j, &vs);
	check_one(&vs, "findings[].detail", fields[3].cwant, fields[3].cwant_len);
	check_one(&vs, "sni", fields[0].want, fields[0].want_len);
	check_one(&vs, "subject", fields[1].cwant, fields[1].cwant_len);
	check_one(&vs, "issuer", fields[2].cwant, fields[2].cwant_len);
	sp_values_free(&vs);
}

/* Family "t_plain": one sample per field, labels a (the field) and b
 * (the SNI); read back in order, exactly. */
static const char *const plain_labels[] = { "a", "b" };

static void add_prom_plain(struct prom_writer *w)
{
	int i;

	SP_CHECK(prom_family(w, "t_plain", "wire\\bytes\nhere", PROM_GAUGE) == 0);
	for (i = 0; i < n_fields; i++) {
		const char *values[2] = { fields[i].c, fields[0].c };

		SP_CHECK(prom_sample(w, "t_plain", plain_labels, values, 2, i) == 0);
	}
}

static void check_prom_plain(const struct sp_values *vs)
{
	int i, from_a = 0, from_b = 0;

	SP_CHECK(sp_count(vs, "t_plain{a}") == n_fields);
	for (i = 0; i < n_fields; i++) {
		SP_CHECK(sp_equal(sp_next(vs, "t_plain{a}", &from_a), fields[i].cwant,
				  fields[i].cwant_len));
		SP_CHECK(sp_equal(sp_next(vs, "t_plain{b}", &from_b), fields[0].cwant,
				  fields[0].cwant_len));
	}
}

/* Whether the sanitized @v is one of the fields' (or "other"). */
static bool known_value(const struct sp_value *v)
{
	int i;

	if (sp_equal(v, PROM_SERIES_OTHER, strlen(PROM_SERIES_OTHER)))
		return true;
	for (i = 0; i < n_fields; i++)
		if (sp_equal(v, fields[i].cwant, fields[i].cwant_len))
			return true;
	return false;
}

/* Family "t_series" through prom_series (cap 3): every rendered value is
 * one that was added, and no two series render the same. */
static void check_prom_series(const struct sp_values *vs)
{
	int i, k, from = 0;
	const struct sp_value *seen[N_FIELDS + 1];
	int n = sp_count(vs, "t_series{v}");

	SP_CHECK(n <= 4 && n <= n_fields + 1);
	for (i = 0; i < n; i++) {
		seen[i] = sp_next(vs, "t_series{v}", &from);
		SP_CHECK(seen[i] && known_value(seen[i]));
		for (k = 0; k < i; k++)
			SP_CHECK(!sp_equal(seen[k], seen[i]->bytes, seen[i]->len));
	}
}

static void check_prom(void)
{
	static const char *const series_label[] = { "v" };
	struct prom_writer *w = prom_writer_new();
	struct prom_series *s = prom_series_new("t_series", "capped", PROM_COUNTER,
						series_label, 1, 3);
	struct sp_values vs = { 0 };
	const char *text;
	size_t len;
	int i;

	SP_CHECK(w && s);
	for (i = 0; i < n_fields; i++) {
		const char *v[1] = { fields[i].c };

		SP_CHECK(prom_series_add(s, v, 1) == 0);
	}
	SP_CHECK(prom_series_render(s, w) == 0);
	add_prom_plain(w);
	text = prom_text(w, &len);
	SP_CHECK(text && strlen(text) == len);
	SP_CHECK(sp_prom_parse(text, len, &vs));
	check_prom_plain(&vs);
	check_prom_series(&vs);
	sp_values_free(&vs);
	prom_series_free(s);
	prom_writer_free(w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_writer j;
	struct cert_info ci;

	split_fields(data, size);
	fill_cert(&ci);
	jw_init(&j);
	check_handshake(&j, &ci);
	check_cert(&j, &ci);
	jw_free(&j);
	check_prom();
	return 0;
}
