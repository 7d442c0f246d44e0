// SPDX-License-Identifier: MIT
#include <stdio.h>
#include <string.h>

#include "key_family.h"

static const char *const key_family_names[KEY_FAMILY__END] = {
#define KEY_FAMILY_NAME(e, s) [KEY_FAMILY_##e] = s,
	KEY_FAMILIES(KEY_FAMILY_NAME)
#undef KEY_FAMILY_NAME
};

const char *key_family_name(enum key_family f)
{
	return f > KEY_FAMILY_NONE && f < KEY_FAMILY__END ? key_family_names[f] : NULL;
}

enum key_family key_family_of(const char *key)
{
	size_t n = key ? strcspn(key, "-") : 0;
	int f;

	for (f = KEY_FAMILY_NONE + 1; f < KEY_FAMILY__END; f++)
		if (strlen(key_family_names[f]) == n &&
		    !strncmp(key, key_family_names[f], n))
			return (enum key_family)f;
	return KEY_FAMILY_NONE;
}

int key_offer_rank(const struct key_offer *o, enum key_family f)
{
	int i;

	for (i = 0; i < o->n; i++)
		if (o->fam[i] == f)
			return i;
	return -1;
}

void key_offer_add(struct key_offer *o, enum key_family f)
{
	if (f == KEY_FAMILY_NONE || o->n >= KEY_FAMILY__COUNT ||
	    key_offer_rank(o, f) >= 0)
		return;
	o->fam[o->n++] = (uint8_t)f;
}

char *key_offer_format(const struct key_offer *o, char *buf, size_t len)
{
	size_t off = 0;
	int i;

	if (len)
		buf[0] = '\0';
	for (i = 0; i < o->n && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? ">" : "",
					key_family_name((enum key_family)o->fam[i]));
	return buf;
}

void key_offer_parse(const char *text, struct key_offer *o)
{
	char name[16];
	size_t n;

	memset(o, 0, sizeof(*o));
	while (text && *text) {
		n = strcspn(text, ">");
		if (n < sizeof(name)) {
			memcpy(name, text, n);
			name[n] = '\0';
			key_offer_add(o, key_family_of(name));
		}
		text += n;
		if (*text == '>')
			text++;
	}
}
