/* SPDX-License-Identifier: MIT */
/* The HTML report of an aggregation, rendered into memory, for tests. */
#ifndef TW_HTML_PAGE_H
#define TW_HTML_PAGE_H

#include <stdio.h>

#include "check.h"
#include "sink/html_report.h"

/* The page rendered from @a (free it), or NULL. */
static inline char *html_page(const struct html_agg *a)
{
	char *page = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&page, &len);

	CHECK(f != NULL);
	if (!f)
		return NULL;
	CHECK_INT(html_render(a, f), 0);
	fclose(f);
	return page;
}

#endif
