/* SPDX-License-Identifier: MIT */
/*
 * A writer of the Prometheus text exposition format, version 0.0.4.
 *
 * Samples are filed under their family, and prom_text() joins the families
 * in the order they were first declared: a family gets one HELP and one
 * TYPE line and its samples stay together even when they are added in
 * several calls, with other families in between, as the format requires.
 *
 * Label values may be wire bytes (server names, certificate subjects):
 * backslash, double quote and newline are escaped, and bytes that are not
 * valid UTF-8 become U+FFFD. Metric and label names come from our code and
 * are checked against the format's grammar.
 *
 * Errors are negative errno values: -EINVAL for a bad name or a family
 * declared twice with another type, -ENOENT for a sample of an undeclared
 * family, -ENOMEM. Memory failure is sticky: prom_text() then gives NULL.
 */
#ifndef TW_PROM_TEXT_H
#define TW_PROM_TEXT_H

#include <stddef.h>
#include <stdint.h>

/* The Content-Type of what prom_text() returns. */
#define PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

enum prom_type { PROM_COUNTER, PROM_GAUGE };

struct prom_writer;

struct prom_writer *prom_writer_new(void);
void prom_writer_free(struct prom_writer *w);
/* Forgets every family and sample (and a memory failure): next scrape. */
void prom_writer_reset(struct prom_writer *w);

/* Declares a family. Declaring it again with the same type is a no-op
 * (the first help text stays). */
int prom_family(struct prom_writer *w, const char *name, const char *help,
		enum prom_type type);

/*
 * One sample of the declared family @name, with @n_labels label pairs
 * (@label_names[i] = @label_values[i]; the arrays may be NULL when
 * @n_labels is 0). prom_sample() prints NaN and infinities as the format
 * spells them and other values in the shortest form that reads back the
 * same; prom_sample_u64() prints an exact integer, for counters.
 */
int prom_sample(struct prom_writer *w, const char *name,
		const char *const label_names[], const char *const label_values[],
		size_t n_labels, double value);
int prom_sample_u64(struct prom_writer *w, const char *name,
		    const char *const label_names[], const char *const label_values[],
		    size_t n_labels, uint64_t value);

/* The exposition so far, NUL-terminated, its length in *@len (if not NULL);
 * NULL after a memory failure. Valid until the next call on @w. */
const char *prom_text(struct prom_writer *w, size_t *len);

#endif
