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
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "cert/cert_info.h"
#include "common/log.h"
#include "common/open_regular.h"
#include "common/stringify.h"
#include "common/timefmt.h"
#include "receiver_ca.h"
#include "sink.h"

#define RECEIVER_CA_OPT "--webhook-ca-file"
#define RECEIVER_CA_MAX_TEXT TW_STRINGIFY(SINK_CA_FILE_MAX)

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

/* Says so when @x, a CA of @path, is outside its validity at @now (the
 * findings' bounds: at its notAfter second it has expired): a receiver
 * whose chain ends at it fails every request, which the operator hears of
 * at start rather than at the first alert (@who: the sender). */
static void receiver_ca_warn_validity(const char *who, const char *path, X509 *x,
				      int64_t now)
{
	char subject[256] = "?", when[TW_TIME_STRLEN];
	int64_t from = 0, until = 0;
	bool expired;

	if (!cert_time_to_epoch(X509_get0_notBefore(x), &from) ||
	    !cert_time_to_epoch(X509_get0_notAfter(x), &until))
		return;
	expired = cert_expired_at(until, now);
	if (!expired && !cert_not_yet_valid_at(from, now))
		return;
	cert_name_print(X509_get_subject_name(x), subject, sizeof(subject));
	pr_warn("%s: " RECEIVER_CA_OPT " %s: the certificate \"%s\" %s %s;"
		" https receivers whose chain ends at it fail verification\n",
		who, path, subject, expired ? "expired on" : "is not valid before",
		tw_time_format_s(expired ? until : from, when));
}

/* The PEM certificates in the bytes, each outside its validity said (see
 * above): libcurl would otherwise take an empty or wrong file and fail
 * every request. */
static int receiver_ca_count_certs(const struct receiver_ca *ca, const char *who,
				   const char *path, int64_t now)
{
	BIO *bio = BIO_new_mem_buf(ca->pem, (int)ca->len);
	X509 *x;
	int n = 0;

	while (bio && (x = PEM_read_bio_X509(bio, NULL, NULL, NULL))) {
		receiver_ca_warn_validity(who, path, x, now);
		X509_free(x);
		n++;
	}
	BIO_free(bio);
	ERR_clear_error();
	return n;
}

/* The bytes of @path into @ca: 0, or -1 with @why (its storage static or
 * strerror's) and @ca empty. */
static int receiver_ca_read_path(const char *path, struct receiver_ca *ca,
				 const char **why)
{
	int fd = tw_open_regular(path), rc;

	ca->pem = NULL;
	ca->len = 0;
	if (fd < 0) {
		*why = tw_open_regular_error(fd);
		return -1;
	}
	rc = receiver_ca_read(fd, ca, why);
	close(fd);
	return rc;
}

int receiver_ca_load(const char *path, const char *who, struct receiver_ca *ca,
		     char *err, size_t errlen)
{
	return receiver_ca_load_at(path, who, (int64_t)time(NULL), ca, err, errlen);
}

int receiver_ca_load_at(const char *path, const char *who, int64_t now,
			struct receiver_ca *ca, char *err, size_t errlen)
{
	const char *why;
	int rc;

	ca->pem = NULL;
	ca->len = 0;
	if (!path)
		return 0;
	rc = receiver_ca_read_path(path, ca, &why);
	if (rc == 0 && !receiver_ca_count_certs(ca, who, path, now)) {
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

/* The bytes only: those loaded were checked then, and a file whose
 * bytes changed is opened (and checked) again. */
bool receiver_ca_unchanged(const char *path, const struct receiver_ca *ca)
{
	struct receiver_ca now;
	const char *why;
	bool same;

	if (!path)
		return !ca->pem;
	if (receiver_ca_read_path(path, &now, &why) < 0)
		return false;
	same = ca->pem && now.len == ca->len && memcmp(now.pem, ca->pem, now.len) == 0;
	receiver_ca_free(&now);
	return same;
}
