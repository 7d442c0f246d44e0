// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/strmap.h"
#include "common/utf8.h"
#include "prom_series.h"

/*
 * Keys are the label values as rendered (invalid UTF-8 replaced), each
 * followed by its NUL: values are C strings, so the join is unambiguous
 * and the key splits back into the values for rendering.
 *
 * strmap has no removal: a removed series stays as a dead entry until dead
 * ones outnumber the live, then the map is rebuilt with the live only, in
 * the same order. That keeps memory bounded under churn.
 */
struct prom_series_value {
	bool live;
	uint64_t count;     /* PROM_COUNTER */
	double gauge;       /* PROM_GAUGE */
};

struct prom_series {
	const char *family;
	const char *help;
	enum prom_type type;
	const char *const *label_names;
	size_t n_labels;
	size_t max;
	struct strmap *map;    /* key -> struct prom_series_value */
	size_t live;           /* live entries, "other" excluded */
	size_t dead;
	bool other_live;
	uint64_t folded;
	char *other_key;
	size_t other_len;
};

/* Writes the key of @values into @dst (when not NULL); returns its length. */
static size_t prom_series_key(char *dst, const char *const values[], size_t n)
{
	size_t len = 0, i, j, run, vlen;
	const unsigned char *v;

	for (i = 0; i < n; i++) {
		v = (const unsigned char *)values[i];
		vlen = strlen(values[i]);
		for (j = 0; j < vlen; j += run ? run : 1) {
			run = tw_utf8_seq_len(v + j, vlen - j);
			if (dst)
				memcpy(dst + len, run ? (const char *)v + j :
				       TW_UTF8_REPLACEMENT, run ? run : 3);
			len += run ? run : 3;
		}
		if (dst)
			dst[len] = '\0';
		len++;
	}
	return len;
}

/* The key of @values in a new allocation (*@len its length), or NULL. */
static char *prom_series_key_new(const char *const values[], size_t n, size_t *len)
{
	char *key;

	*len = prom_series_key(NULL, values, n);
	key = malloc(*len + 1);
	if (key)
		prom_series_key(key, values, n);
	return key;
}

static bool prom_series_is_other(const struct prom_series *s, const char *key,
				 size_t len)
{
	return len == s->other_len && memcmp(key, s->other_key, len) == 0;
}

struct prom_series *prom_series_new(const char *family, const char *help,
				    enum prom_type type,
				    const char *const label_names[], size_t n_labels,
				    size_t max)
{
	const char *other[PROM_SERIES_MAX_LABELS];
	struct prom_series *s;
	size_t i;

	if (n_labels > PROM_SERIES_MAX_LABELS)
		return NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	for (i = 0; i < n_labels; i++)
		other[i] = PROM_SERIES_OTHER;
	s->family = family;
	s->help = help;
	s->type = type;
	s->label_names = label_names;
	s->n_labels = n_labels;
	s->max = max;
	s->map = strmap_new(sizeof(struct prom_series_value));
	s->other_key = prom_series_key_new(other, n_labels, &s->other_len);
	if (!s->map || !s->other_key) {
		prom_series_free(s);
		return NULL;
	}
	return s;
}

void prom_series_free(struct prom_series *s)
{
	if (!s)
		return;
	strmap_free(s->map);
	free(s->other_key);
	free(s);
}

static void prom_series_mark_live(struct prom_series *s, const char *key,
				  size_t len, bool live)
{
	if (prom_series_is_other(s, key, len))
		s->other_live = live;
	else if (live)
		s->live++;
	else
		s->live--;
}

/* The live entry of @key, revived or created at 0 when @room; else NULL
 * with *@err set (-ENOSPC when there was no room, or -ENOMEM). */
static struct prom_series_value *prom_series_entry(struct prom_series *s,
						   const char *key, size_t len,
						   bool room, int *err)
{
	struct prom_series_value *v = strmap_get(s->map, key, len);

	if (v && v->live)
		return v;
	if (!room) {
		*err = -ENOSPC;
		return NULL;
	}
	if (!v) {
		v = strmap_put(s->map, key, len, NULL);
		if (!v) {
			*err = -ENOMEM;
			return NULL;
		}
	} else {
		s->dead--;
	}
	memset(v, 0, sizeof(*v));
	v->live = true;
	prom_series_mark_live(s, key, len, true);
	return v;
}

/* The series an update of @values goes to: its own, or past the cap the
 * "other" one. NULL on memory failure. */
static struct prom_series_value *prom_series_lookup(struct prom_series *s,
						    const char *const values[])
{
	struct prom_series_value *v;
	size_t len;
	int err = 0;
	char *key = prom_series_key_new(values, s->n_labels, &len);

	if (!key)
		return NULL;
	v = prom_series_entry(s, key, len, s->live < s->max ||
			      prom_series_is_other(s, key, len), &err);
	free(key);
	if (v || err != -ENOSPC)
		return v;
	s->folded++;
	return prom_series_entry(s, s->other_key, s->other_len, true, &err);
}

/* The series an update meant for a family of @type goes to, in *@v. */
static int prom_series_update(struct prom_series *s, const char *const values[],
			      enum prom_type type, struct prom_series_value **v)
{
	if (s->type != type)
		return -EINVAL;
	*v = prom_series_lookup(s, values);
	return *v ? 0 : -ENOMEM;
}

int prom_series_add(struct prom_series *s, const char *const values[], uint64_t n)
{
	struct prom_series_value *v;
	int err = prom_series_update(s, values, PROM_COUNTER, &v);

	if (!err)
		v->count += n;
	return err;
}

int prom_series_set(struct prom_series *s, const char *const values[], double value)
{
	struct prom_series_value *v;
	int err = prom_series_update(s, values, PROM_GAUGE, &v);

	if (!err)
		v->gauge = value;
	return err;
}

/* Rebuilds the map with the live entries only, in order. Failure leaves
 * the old map, which is still right, only larger. */
static void prom_series_compact(struct prom_series *s)
{
	struct strmap *m = strmap_new(sizeof(struct prom_series_value));
	struct prom_series_value *v, *nv;
	const char *key;
	size_t i, len;
	void *p;

	if (!m)
		return;
	for (i = 0; strmap_at(s->map, i, &key, &len, &p); i++) {
		v = p;
		if (!v->live)
			continue;
		nv = strmap_put(m, key, len, NULL);
		if (!nv) {
			strmap_free(m);
			return;
		}
		*nv = *v;
	}
	strmap_free(s->map);
	s->map = m;
	s->dead = 0;
}

int prom_series_remove(struct prom_series *s, const char *const values[])
{
	struct prom_series_value *v;
	size_t len;
	char *key = prom_series_key_new(values, s->n_labels, &len);

	if (!key)
		return -ENOMEM;
	v = strmap_get(s->map, key, len);
	if (!v || !v->live) {
		free(key);
		return -ENOENT;
	}
	v->live = false;
	s->dead++;
	prom_series_mark_live(s, key, len, false);
	free(key);
	if (s->dead > prom_series_count(s))
		prom_series_compact(s);
	return 0;
}

size_t prom_series_count(const struct prom_series *s)
{
	return s->live + (s->other_live ? 1 : 0);
}

uint64_t prom_series_folded(const struct prom_series *s)
{
	return s->folded;
}

static int prom_series_render_one(const struct prom_series *s,
				  struct prom_writer *w, const char *key,
				  const struct prom_series_value *v)
{
	const char *values[PROM_SERIES_MAX_LABELS];
	size_t i;

	for (i = 0; i < s->n_labels; i++) {
		values[i] = key;
		key += strlen(key) + 1;
	}
	if (s->type == PROM_COUNTER)
		return prom_sample_u64(w, s->family, s->label_names, values,
				       s->n_labels, v->count);
	return prom_sample(w, s->family, s->label_names, values, s->n_labels,
			   v->gauge);
}

int prom_series_folded_sample(struct prom_writer *w, const char *family,
			      uint64_t folded)
{
	static const char *const folded_label[] = { "family" };
	int err;

	err = prom_family(w, PROM_SERIES_FOLDED_FAMILY,
			  "Updates of label tuples past a family's series cap, counted into its series labelled \"other\".",
			  PROM_COUNTER);
	if (!err)
		err = prom_sample_u64(w, PROM_SERIES_FOLDED_FAMILY, folded_label,
				      &family, 1, folded);
	return err;
}

int prom_series_render(const struct prom_series *s, struct prom_writer *w)
{
	const char *key;
	size_t i;
	void *p;
	int err;

	err = prom_family(w, s->family, s->help, s->type);
	for (i = 0; !err && strmap_at(s->map, i, &key, NULL, &p); i++) {
		if (((struct prom_series_value *)p)->live)
			err = prom_series_render_one(s, w, key, p);
	}
	if (!err)
		err = prom_series_folded_sample(w, s->family, s->folded);
	return err;
}
