// SPDX-License-Identifier: MIT
/* Fetched digest algorithms: see digest.h. Kept for the life of the
 * process, one handle per algorithm. */
#include <pthread.h>

#include "digest.h"

static EVP_MD *fetched_sha256, *fetched_md5;
static pthread_once_t fetch_once = PTHREAD_ONCE_INIT;

static void digest_fetch(void)
{
	fetched_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	fetched_md5 = EVP_MD_fetch(NULL, "MD5", NULL);
}

const EVP_MD *tw_md_sha256(void)
{
	return pthread_once(&fetch_once, digest_fetch) == 0 ? fetched_sha256 : NULL;
}

const EVP_MD *tw_md_md5(void)
{
	return pthread_once(&fetch_once, digest_fetch) == 0 ? fetched_md5 : NULL;
}

bool tw_sha256(const void *p, size_t len, uint8_t out[32])
{
	const EVP_MD *md = tw_md_sha256();
	unsigned int n = 0;

	return md && EVP_Digest(p, len, out, &n, md, NULL) == 1 && n == 32;
}
