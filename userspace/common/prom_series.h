/* SPDX-License-Identifier: MIT */
/*
 * The series of one metric family, with a cap on how many there are.
 *
 * Label values come off the wire, so a peer choosing server names could
 * otherwise create series without end. Past @max series, an update for a
 * new label tuple goes to one series whose label values are all "other",
 * and is counted; prom_series_render() exposes that count as
 *   tlswatch_metrics_series_folded_total{family="<family>"}
 * Removing a series (a certificate no longer served, a spike resolved)
 * makes room again.
 *
 * Label values are compared as they will be rendered, invalid UTF-8
 * already replaced, so two tuples never render as the same series. A wire
 * tuple that reads "other" throughout simply is the "other" series.
 *
 * Owned by one thread. Errors are negative errno values.
 */
#ifndef TW_PROM_SERIES_H
#define TW_PROM_SERIES_H

#include <stddef.h>
#include <stdint.h>

#include "common/prom_text.h"

#define PROM_SERIES_MAX_LABELS 8
#define PROM_SERIES_OTHER "other"
#define PROM_SERIES_FOLDED_FAMILY "tlswatch_metrics_series_folded_total"

struct prom_series;

/*
 * A set for family @family of @type, @n_labels labels named @label_names,
 * holding at most @max series besides the "other" one. The strings are
 * borrowed, not copied: pass literals (or strings that outlive the set).
 * NULL when @n_labels exceeds PROM_SERIES_MAX_LABELS, or memory is short.
 */
struct prom_series *prom_series_new(const char *family, const char *help,
				    enum prom_type type,
				    const char *const label_names[], size_t n_labels,
				    size_t max);
void prom_series_free(struct prom_series *s);

/*
 * Updates the series of the tuple @values (@n_labels strings), creating it
 * at 0 when new. _add is for counters, _set for gauges (-EINVAL on a set of
 * the other type). A folded gauge update overwrites the "other" value.
 * 0, or -ENOMEM.
 */
int prom_series_add(struct prom_series *s, const char *const values[], uint64_t n);
int prom_series_set(struct prom_series *s, const char *const values[], double v);

/* Drops the series of @values: 0, or -ENOENT when there is none. */
int prom_series_remove(struct prom_series *s, const char *const values[]);

/* Live series, the "other" one included. */
size_t prom_series_count(const struct prom_series *s);
/* Updates that went to the "other" series because the set was full. */
uint64_t prom_series_folded(const struct prom_series *s);

/* Writes the family, its series in the order they were created, and this
 * family's sample of PROM_SERIES_FOLDED_FAMILY. 0 or a prom_* error. */
int prom_series_render(const struct prom_series *s, struct prom_writer *w);

/* @family's sample of PROM_SERIES_FOLDED_FAMILY, for a family bounded by
 * other means than a prom_series. 0 or a prom_* error. */
int prom_series_folded_sample(struct prom_writer *w, const char *family,
			      uint64_t folded);

#endif
