// SPDX-License-Identifier: MIT
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/grow.h"
#include "common/strmap.h"
#include "common/utf8.h"
#include "prom_text.h"

struct prom_buf {
	char *p;              /* NUL-terminated once anything was added */
	size_t len;
	size_t cap;
};

/* The strmap value of a family: its lines so far, HELP and TYPE first. */
struct prom_family {
	enum prom_type type;
	struct prom_buf text;
};

struct prom_writer {
	struct strmap *families;   /* name -> struct prom_family, declaration order */
	struct prom_buf out;       /* what prom_text() joined last */
	bool failed;
};

static bool prom_buf_add(struct prom_buf *b, const char *s, size_t n)
{
	/* n + 1: the NUL after them */
	if (tw_grow(&b->p, &b->cap, 1, b->len, n + 1, 256, TW_GROW_NO_CAP) < 0)
		return false;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
	return true;
}

static bool prom_buf_str(struct prom_buf *b, const char *s)
{
	return prom_buf_add(b, s, strlen(s));
}

/*
 * HELP text and label values: the format escapes backslash and newline
 * (and, inside quotes, the double quote) and wants UTF-8, so each byte
 * that does not start a valid sequence is written as U+FFFD.
 */
static bool prom_buf_escaped(struct prom_buf *b, const char *s, bool quoted)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n = strlen(s), run;
	bool ok = true;

	while (ok && i < n) {
		if (p[i] == '\\' || p[i] == '\n' || (quoted && p[i] == '"')) {
			ok = prom_buf_add(b, p[i] == '\\' ? "\\\\" :
					     p[i] == '\n' ? "\\n" : "\\\"", 2);
			i++;
			continue;
		}
		run = tw_utf8_seq_len(p + i, n - i);
		if (run == 0) {
			ok = prom_buf_str(b, TW_UTF8_REPLACEMENT);
			i++;
			continue;
		}
		ok = prom_buf_add(b, s + i, run);
		i += run;
	}
	return ok;
}

/* [a-zA-Z_:][a-zA-Z0-9_:]* for metric names; label names take no colon
 * and leave the "__" prefix to Prometheus itself. */
static bool prom_name_ok(const char *name, bool is_label)
{
	size_t i;

	if (!name || !name[0] || (is_label && strncmp(name, "__", 2) == 0))
		return false;
	for (i = 0; name[i]; i++) {
		char c = name[i];
		bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			     c == '_' || (c == ':' && !is_label);

		if (!alpha && !(i > 0 && c >= '0' && c <= '9'))
			return false;
	}
	return true;
}

struct prom_writer *prom_writer_new(void)
{
	struct prom_writer *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->families = strmap_new(sizeof(struct prom_family));
	if (!w->families) {
		free(w);
		return NULL;
	}
	return w;
}

/* strmap_clear() frees each value block, not what it points to. */
static void prom_free_family_text(struct prom_writer *w)
{
	struct prom_family *f;
	void *v;
	size_t i;

	for (i = 0; strmap_at(w->families, i, NULL, NULL, &v); i++) {
		f = v;
		free(f->text.p);
	}
}

void prom_writer_reset(struct prom_writer *w)
{
	prom_free_family_text(w);
	strmap_clear(w->families);
	w->out.len = 0;
	w->failed = false;
}

void prom_writer_free(struct prom_writer *w)
{
	if (!w)
		return;
	prom_free_family_text(w);
	strmap_free(w->families);
	free(w->out.p);
	free(w);
}

static int prom_fail(struct prom_writer *w)
{
	w->failed = true;
	return -ENOMEM;
}

int prom_family(struct prom_writer *w, const char *name, const char *help,
		enum prom_type type)
{
	struct prom_family *f;
	struct prom_buf *b;
	bool created;

	if (!prom_name_ok(name, false) || !help ||
	    (type != PROM_COUNTER && type != PROM_GAUGE))
		return -EINVAL;
	f = strmap_put(w->families, name, strlen(name), &created);
	if (!f)
		return prom_fail(w);
	if (!created)
		return f->type == type ? 0 : -EINVAL;
	f->type = type;
	b = &f->text;
	if (!prom_buf_str(b, "# HELP ") || !prom_buf_str(b, name) ||
	    !prom_buf_str(b, " ") || !prom_buf_escaped(b, help, false) ||
	    !prom_buf_str(b, "\n# TYPE ") || !prom_buf_str(b, name) ||
	    !prom_buf_str(b, type == PROM_COUNTER ? " counter\n" : " gauge\n"))
		return prom_fail(w);
	return 0;
}

static bool prom_write_labels(struct prom_buf *b, const char *const names[],
			      const char *const values[], size_t n)
{
	size_t i;

	if (n == 0)
		return true;
	for (i = 0; i < n; i++) {
		if (!prom_buf_str(b, i ? "," : "{") || !prom_buf_str(b, names[i]) ||
		    !prom_buf_str(b, "=\"") || !prom_buf_escaped(b, values[i], true) ||
		    !prom_buf_str(b, "\""))
			return false;
	}
	return prom_buf_str(b, "}");
}

static int prom_sample_text(struct prom_writer *w, const char *name,
			    const char *const label_names[],
			    const char *const label_values[], size_t n_labels,
			    const char *value)
{
	struct prom_family *f;
	struct prom_buf *b;
	size_t i;

	if (!prom_name_ok(name, false))
		return -EINVAL;
	for (i = 0; i < n_labels; i++)
		if (!prom_name_ok(label_names[i], true) || !label_values[i])
			return -EINVAL;
	f = strmap_get(w->families, name, strlen(name));
	if (!f)
		return -ENOENT;
	b = &f->text;
	if (!prom_buf_str(b, name) ||
	    !prom_write_labels(b, label_names, label_values, n_labels) ||
	    !prom_buf_str(b, " ") || !prom_buf_str(b, value) || !prom_buf_str(b, "\n"))
		return prom_fail(w);
	return 0;
}

/* Go's ParseFloat, which Prometheus uses, reads "NaN", "+Inf", "-Inf";
 * finite values get the fewest digits that still read back the same. */
static void prom_format_double(double v, char *buf, size_t len)
{
	int prec;

	if (isnan(v)) {
		snprintf(buf, len, "NaN");
		return;
	}
	if (isinf(v)) {
		snprintf(buf, len, v > 0 ? "+Inf" : "-Inf");
		return;
	}
	for (prec = 15; prec < 17; prec++) {
		snprintf(buf, len, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			return;
	}
	snprintf(buf, len, "%.17g", v);
}

int prom_sample(struct prom_writer *w, const char *name,
		const char *const label_names[], const char *const label_values[],
		size_t n_labels, double value)
{
	char buf[32];

	prom_format_double(value, buf, sizeof(buf));
	return prom_sample_text(w, name, label_names, label_values, n_labels, buf);
}

int prom_sample_u64(struct prom_writer *w, const char *name,
		    const char *const label_names[], const char *const label_values[],
		    size_t n_labels, uint64_t value)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%" PRIu64, value);
	return prom_sample_text(w, name, label_names, label_values, n_labels, buf);
}

const char *prom_text(struct prom_writer *w, size_t *len)
{
	struct prom_family *f;
	void *v;
	size_t i;

	if (w->failed)
		return NULL;
	w->out.len = 0;
	for (i = 0; strmap_at(w->families, i, NULL, NULL, &v); i++) {
		f = v;
		if (!prom_buf_add(&w->out, f->text.p, f->text.len)) {
			prom_fail(w);
			return NULL;
		}
	}
	if (len)
		*len = w->out.len;
	return w->out.len ? w->out.p : "";
}
