/* SPDX-License-Identifier: MIT */
/* Lists of names separated by commas, as the inventory, the event history
 * and spike events keep finding kinds ("revoked,superseded"). */
#ifndef TW_COMMA_LIST_H
#define TW_COMMA_LIST_H

#include <stdbool.h>
#include <string.h>

/* The item at *@p in @item and @len (0 for an empty one), *@p moved past
 * it and its comma. false at the end of the list (@p NULL or at its NUL). */
static inline bool comma_list_next(const char **p, const char **item, size_t *len)
{
	if (!*p || !**p)
		return false;
	*item = *p;
	*len = strcspn(*p, ",");
	*p += *len;
	if (**p == ',')
		(*p)++;
	return true;
}

/* Whether @list ends with an empty item that comma_list_next never gives:
 * the whole of "" or the last of "x,". For the lists that refuse empty
 * items. */
static inline bool comma_list_ends_empty(const char *list)
{
	size_t n = strlen(list);

	return !n || list[n - 1] == ',';
}

#endif
