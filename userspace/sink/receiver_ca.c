// SPDX-License-Identifier: MIT
/*
 * --webhook-ca-file: the CA bundle the alert senders (webhooks and
 * Alertmanager) trust for https receivers, instead of the system store.
 * Read whole when the senders start, and handed to libcurl as bytes
 * (CURLOPT_CAINFO_BLOB), so that no request reads the file: an edit takes
 * effect at a SIGHUP, which compares the bytes, as the webhook secret's.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "common/open_regular.h"
#include "receiver_ca.h"
#include "sink.h"

#define RECEIVER_CA_OPT "--webhook-ca-file"
#define RECEIVER_CA_NUM_(x) #x
#define RECEIVER_CA_NUM(x) RECEIVER_CA_NUM_(x)
#define RECEIVER_CA_MAX_TEXT RECEIVER_CA_NUM(SINK_CA_FILE_MAX)

/* Reads all of @fd, at most SINK_CA_FILE_MAX bytes, NUL-terminated. */
static int receiver_ca_read(int fd, struct receiver_ca *ca, const char **why)
{
	size_t cap = SINK_CA_FILE_MAX + 1;
	char *buf = malloc(cap + 1), *fit;
	ssize_t n;

	*why = "out of memory";
	if (!buf)
		return -1;
	ca->len = 0;
	while (ca->len < cap) {
		n = read(fd, buf + ca->len, cap - ca->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			*why = strerror(errno);
			free(buf);
			return -1;
		}
		if (n == 0)
			break;
		ca->len += (size_t)n;
	}
	if (ca->len > SINK_CA_FILE_MAX) {
		*why = "larger than " RECEIVER_CA_MAX_TEXT " bytes";
		free(buf);
		return -1;
	}
	buf[ca->len] = '\0';
	fit = realloc(buf, ca->len + 1);   /* kept for the sink's life */
	ca->pem = fit ? fit : buf;
	return 0;
}

/* Whether the bytes hold a PEM certificate (libcurl would otherwise take
 * an empty or wrong file and fail every request). */
static bool receiver_ca_has_cert(const struct receiver_ca *ca)
{
	BIO *bio = BIO_new_mem_buf(ca->pem, (int)ca->len);
	X509 *x = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
	bool ok = x != NULL;

	X509_free(x);
	BIO_free(bio);
	ERR_clear_error();
	return ok;
}

int receiver_ca_load(const char *path, struct receiver_ca *ca, char *err,
		     size_t errlen)
{
	const char *why;
	int fd, rc;

	ca->pem = NULL;
	ca->len = 0;
	if (!path)
		return 0;
	fd = tw_open_regular(path);
	if (fd < 0) {
		snprintf(err, errlen, RECEIVER_CA_OPT " %s: %s", path,
			 tw_open_regular_error(fd));
		return -1;
	}
	rc = receiver_ca_read(fd, ca, &why);
	close(fd);
	if (rc == 0 && !receiver_ca_has_cert(ca)) {
		receiver_ca_free(ca);
		why = "no PEM certificate";
		rc = -1;
	}
	if (rc < 0)
		snprintf(err, errlen, RECEIVER_CA_OPT " %s: %s", path, why);
	return rc;
}

void receiver_ca_free(struct receiver_ca *ca)
{
	free(ca->pem);
	ca->pem = NULL;
	ca->len = 0;
}

bool receiver_ca_unchanged(const char *path, const struct receiver_ca *ca)
{
	struct receiver_ca now;
	char err[512];
	bool same;

	if (receiver_ca_load(path, &now, err, sizeof(err)) < 0)
		return false;
	same = now.len == ca->len && (!now.len || memcmp(now.pem, ca->pem, now.len) == 0);
	receiver_ca_free(&now);
	return same;
}
