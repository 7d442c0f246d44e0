// SPDX-License-Identifier: MIT
/* Host names as the checks compare them: see host_name.h. */
#include <string.h>

#include "host_name.h"
#include "printable.h"

bool tw_host_name_has_nul(const char *name, size_t len)
{
	return name && memchr(name, '\0', len) != NULL;
}

const char *tw_host_name_key(const char *name, size_t len, char *buf,
			     size_t buflen)
{
	if (!name || (!memchr(name, '\0', len) && !memchr(name, '\\', len)))
		return name;
	return tw_printable(name, len, buf, buflen);
}

size_t tw_host_name_sni_len(const char *sni, size_t sni_len)
{
	return sni_len || !sni ? sni_len : strlen(sni);
}

size_t tw_host_name_len(const char *name, size_t len)
{
	return len && name[len - 1] == '.' ? len - 1 : len;
}

size_t tw_host_name_fold(const char *name, size_t len, char *out, size_t outlen)
{
	size_t i, n = tw_host_name_len(name, len);

	if (!outlen)
		return 0;
	if (n >= outlen)
		n = outlen - 1;
	/* by hand, not tolower(): the locale must not change a name */
	for (i = 0; i < n; i++)
		out[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ?
				name[i] - 'A' + 'a' : name[i]);
	out[n] = '\0';
	return n;
}

size_t tw_host_name_fold_key(const char *name, size_t len, char *out,
			     size_t outlen)
{
	size_t n = tw_host_name_fold(name, len, out, outlen);

	if (n || !len || outlen < 2)
		return n;
	memcpy(out, name, 1);   /* "." */
	out[1] = '\0';
	return 1;
}

bool tw_host_name_same_key(const char *a, size_t alen, const char *b,
			   size_t blen)
{
	char ka[TW_HOST_NAME_KEY_MAX], kb[TW_HOST_NAME_KEY_MAX];
	size_t na, nb;

	if (!a || !b)
		return !a && !b;
	na = tw_host_name_fold_key(a, alen, ka, sizeof(ka));
	nb = tw_host_name_fold_key(b, blen, kb, sizeof(kb));
	return na == nb && !memcmp(ka, kb, na);
}
