/* SPDX-License-Identifier: MIT */
/*
 * Test setup shared by the certificate-health tests: the private PKI of
 * scripts/make-health-pki.sh (made once and reused for a few hours from
 * $BUILD/tests/health-pki, or taken from $TW_HEALTH_PKI), and helpers that
 * load its certificates as cert_info.
 */
#ifndef TW_HEALTH_FIXTURE_H
#define TW_HEALTH_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "cert/cert_info.h"

#define HF_MAX_CERTS 64
#define HF_PKI_MAX_AGE_S (6 * 3600) /* its OCSP answers are valid one day */

static char hf_dir[1024];
static struct cert_info *hf_loaded[HF_MAX_CERTS];
static char hf_loaded_name[HF_MAX_CERTS][64];
static int hf_n_loaded;

static __attribute__((unused)) int hf_sh(const char *cmd)
{
	int rc = system(cmd);

	return rc == 0 ? 0 : -1;
}

/* Makes (or reuses) the PKI; exits the test program when that fails. */
static __attribute__((unused)) const char *hf_pki(void)
{
	const char *env = getenv("TW_HEALTH_PKI");
	const char *build = getenv("BUILD") ? getenv("BUILD") : "build";
	char stamp[1200], cmd[4096];
	struct stat sb;

	if (hf_dir[0])
		return hf_dir;
	if (env && *env) {
		snprintf(hf_dir, sizeof(hf_dir), "%s", env);
		return hf_dir;
	}
	snprintf(hf_dir, sizeof(hf_dir), "%s/tests/health-pki", build);
	snprintf(stamp, sizeof(stamp), "%s/fp/twin.test", hf_dir);
	if (stat(stamp, &sb) == 0 && time(NULL) - sb.st_mtime < HF_PKI_MAX_AGE_S)
		return hf_dir;
	/* Made aside and renamed, so a half-made PKI is never used. */
	snprintf(cmd, sizeof(cmd),
		 "set -e; d='%s'; t=\"$d.tmp.$$\"; rm -rf \"$t\"; "
		 "scripts/make-health-pki.sh \"$t\" >/dev/null; rm -rf \"$d\"; "
		 "mv \"$t\" \"$d\"", hf_dir);
	if (hf_sh(cmd)) {
		printf("not ok - health PKI setup (scripts/make-health-pki.sh) failed\n");
		exit(1);
	}
	return hf_dir;
}

static __attribute__((unused)) char *hf_path(const char *rel, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", hf_pki(), rel);
	return buf;
}

/* The whole file, NUL-terminated; NULL when unreadable. */
static __attribute__((unused)) uint8_t *hf_read(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1))) {
		if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		} else {
			buf[n] = 0;
			*len = (size_t)n;
		}
	}
	fclose(f);
	return buf;
}

/* The PKI's file @rel (relative to its directory). */
static __attribute__((unused)) uint8_t *hf_read_pki(const char *rel, size_t *len)
{
	char p[1200];

	return hf_read(hf_path(rel, p, sizeof(p)), len);
}

/* Fingerprint of the PKI certificate @name ("good.test", "inter"). */
static __attribute__((unused)) const char *hf_fp(const char *name)
{
	static char fps[16][65];
	static int next;
	char rel[256], *slot = fps[next++ % 16];
	size_t len = 0;
	uint8_t *b;

	snprintf(rel, sizeof(rel), "fp/%s", name);
	b = hf_read_pki(rel, &len);
	snprintf(slot, 65, "%s", b && len >= 64 ? (char *)b : "missing");
	slot[64] = 0;
	free(b);
	return slot;
}

/* The PKI certificate @name (NAME.crt) as cert_info, freed by hf_cleanup. */
static __attribute__((unused)) const struct cert_info *hf_cert(const char *name)
{
	char p[1200], rel[256];
	const char *err = NULL;
	unsigned char *der = NULL;
	struct cert_info *ci = NULL;
	X509 *x = NULL;
	FILE *f;
	int len, i;

	for (i = 0; i < hf_n_loaded; i++)
		if (strcmp(hf_loaded_name[i], name) == 0)
			return hf_loaded[i];
	snprintf(rel, sizeof(rel), "%s.crt", name);
	f = fopen(hf_path(rel, p, sizeof(p)), "r");
	if (f) {
		x = PEM_read_X509(f, NULL, NULL, NULL);
		fclose(f);
	}
	if (x && (len = i2d_X509(x, &der)) > 0)
		ci = cert_info_parse(der, (size_t)len, &err);
	X509_free(x);
	OPENSSL_free(der);
	if (!ci || hf_n_loaded >= HF_MAX_CERTS) {
		printf("not ok - loading %s: %s\n", p, err ? err : "unreadable");
		exit(1);
	}
	snprintf(hf_loaded_name[hf_n_loaded], 64, "%s", name);
	hf_loaded[hf_n_loaded++] = ci;
	return ci;
}

static __attribute__((unused)) void hf_cleanup(void)
{
	while (hf_n_loaded > 0)
		cert_info_free(hf_loaded[--hf_n_loaded]);
}

/* Seconds since the epoch of a UTC date "2026-01-02T03:04:05". */
static __attribute__((unused)) int64_t hf_time(const char *s)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (!strptime(s, "%Y-%m-%dT%H:%M:%S", &tm))
		return -1;
	return (int64_t)timegm(&tm);
}

/* A fresh empty directory under /tmp. */
static __attribute__((unused)) char *hf_tmpdir(char *buf, size_t len)
{
	snprintf(buf, len, "/tmp/tw-health-XXXXXX");
	return mkdtemp(buf);
}

#endif
