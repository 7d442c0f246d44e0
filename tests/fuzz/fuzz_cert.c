// SPDX-License-Identifier: MIT
/*
 * Certificate bytes from the wire into the cache, then every string of the
 * result is read (ASan catches a missing NUL or a freed field) and the
 * checks that walk the parsed certificate run over it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cert/cert_info.h"
#include "cert/findings.h"

static volatile size_t sink;

static void touch(const char *s)
{
	if (!s)
		__builtin_trap();
	sink += strlen(s);
}

static void touch_info(const struct cert_info *ci)
{
	int i;

	touch(ci->sha256_hex);
	touch(ci->spki_sha256_hex);
	touch(ci->subject);
	touch(ci->issuer);
	touch(ci->serial_hex);
	touch(ci->key);
	if (ci->n_san < 0 || ci->n_san > CERT_MAX_SAN || strlen(ci->sha256_hex) != 64)
		__builtin_trap();
	for (i = 0; i < ci->n_san; i++)
		touch(ci->san[i]);
	sink += (size_t)ci->not_before + (size_t)ci->not_after + ci->self_signed;
}

static void run_checks(const struct cert_info *ci)
{
	static const char *const names[] = {
		"www.example.test", "a.b.example.test", "192.0.2.1", "2001:db8::1", "",
	};
	struct finding_list l = { 0 };
	size_t i;
	int j;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		sink += cert_matches_host(ci, names[i], strlen(names[i]));
	findings_check_leaf(ci, "www.example.test\0x", 18, 1767225600, NULL, NULL, &l);
	for (j = 0; j < l.n; j++)
		touch(l.items[j].detail);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cert_cache *cache = cert_cache_new(1);
	const struct cert_info *ci;
	const char *err = NULL;

	if (!cache)
		return 0;
	ci = cert_cache_get(cache, data, size, &err);
	if (ci) {
		touch_info(ci);
		run_checks(ci);
		if (cert_cache_get(cache, data, size, NULL) != ci || ci->refs != 2)
			__builtin_trap();
	} else {
		touch(err);
	}
	cert_cache_free(cache);
	return 0;
}
