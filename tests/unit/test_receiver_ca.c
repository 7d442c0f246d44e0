// SPDX-License-Identifier: MIT
/*
 * The --webhook-ca-file's validity warning at the bounds of a CA's
 * validity, to the second: the findings' rule (cert_expired_at), under
 * which a certificate has expired at its notAfter second itself.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <openssl/pem.h>

#include "cert_mint.h"
#include "check.h"
#include "sink/receiver_ca.h"

/* cert_mint.h's template: valid from 2026-01-01T00:00:00Z for a day. */
#define CA_NOT_BEFORE 1767225600
#define CA_NOT_AFTER (CA_NOT_BEFORE + 86400)

static char dir[] = "/tmp/test_receiver_ca.XXXXXX";
static char pem_path[64], log_path[64];

/* The template as a PEM file at pem_path. 0, or -1. */
static int write_ca_file(void)
{
	size_t len;
	uint8_t *der = cert_mint(1, &len);
	const unsigned char *p = der;
	X509 *x = der ? d2i_X509(NULL, &p, (long)len) : NULL;
	FILE *f = x ? fopen(pem_path, "w") : NULL;
	int ok = f && PEM_write_X509(f, x);

	if (f && fclose(f))
		ok = 0;
	X509_free(x);
	free(der);
	return ok ? 0 : -1;
}

/* What loading the file at @now warns, into @out (its first line, "" for
 * none): stderr is the log's, redirected to a file meanwhile. */
static int load_at(int64_t now, char *out, size_t outlen)
{
	struct receiver_ca ca;
	char err[256] = "";
	int saved = dup(STDERR_FILENO), fd, rc;
	FILE *f;

	out[0] = '\0';
	fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (saved < 0 || fd < 0 || dup2(fd, STDERR_FILENO) < 0) {
		if (fd >= 0)
			close(fd);
		if (saved >= 0)
			close(saved);
		return -1;
	}
	close(fd);
	rc = receiver_ca_load_at(pem_path, "webhook", now, &ca, err, sizeof(err));
	fflush(stderr);
	if (dup2(saved, STDERR_FILENO) < 0)
		rc = -1;
	close(saved);
	receiver_ca_free(&ca);
	f = fopen(log_path, "r");
	if (!f)
		return -1;
	if (!fgets(out, (int)outlen, f))
		out[0] = '\0';
	out[strcspn(out, "\n")] = '\0';
	fclose(f);
	return rc;
}

static void test_ca_expired_at_its_not_after_second(void)
{
	char warned[512], want[512];

	snprintf(want, sizeof(want),
		 "tlswatch: webhook: --webhook-ca-file %s: the certificate "
		 "\"CN=mint.test\" expired on 2026-01-02T00:00:00Z; https receivers "
		 "whose chain ends at it fail verification", pem_path);
	CHECK_INT(load_at(CA_NOT_AFTER - 1, warned, sizeof(warned)), 0);
	CHECK_STR(warned, "");
	CHECK_INT(load_at(CA_NOT_AFTER, warned, sizeof(warned)), 0);
	CHECK_STR(warned, want);
}

static void test_ca_valid_from_its_not_before_second(void)
{
	char warned[512], want[512];

	snprintf(want, sizeof(want),
		 "tlswatch: webhook: --webhook-ca-file %s: the certificate "
		 "\"CN=mint.test\" is not valid before 2026-01-01T00:00:00Z; https "
		 "receivers whose chain ends at it fail verification", pem_path);
	CHECK_INT(load_at(CA_NOT_BEFORE - 1, warned, sizeof(warned)), 0);
	CHECK_STR(warned, want);
	CHECK_INT(load_at(CA_NOT_BEFORE, warned, sizeof(warned)), 0);
	CHECK_STR(warned, "");
}

int main(void)
{
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(pem_path, sizeof(pem_path), "%s/ca.pem", dir);
	snprintf(log_path, sizeof(log_path), "%s/log", dir);
	if (write_ca_file()) {
		fprintf(stderr, "cannot write the CA file\n");
		return 1;
	}
	RUN_TEST(test_ca_expired_at_its_not_after_second);
	RUN_TEST(test_ca_valid_from_its_not_before_second);
	unlink(pem_path);
	unlink(log_path);
	rmdir(dir);
	cert_mint_done();
	return CHECK_EXIT_CODE();
}
