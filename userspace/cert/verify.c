// SPDX-License-Identifier: MIT
/*
 * Chain verification with OpenSSL: the served chain minus the leaf is the
 * untrusted pool, the trust store decides, and the verification time is
 * the packet time, so a replayed capture is judged as it was when served.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "common/open_regular.h"
#include "verify.h"

#define VERIFY_DIR_MAX_FILES 4096

struct verify_store {
	X509_STORE *store;
};

static void verify_openssl_reason(char *buf, size_t len)
{
	unsigned long e = ERR_peek_last_error();

	if (e)
		ERR_error_string_n(e, buf, len);
	else
		snprintf(buf, len, "no certificate found");
	ERR_clear_error();
}

static int verify_load_file(X509_STORE *st, const char *opt, const char *path,
			    char *err, size_t errlen)
{
	char why[160];
	/* OpenSSL opens it by its name: a FIFO would block that open */
	int fd = tw_open_regular(path);

	if (fd < 0) {
		snprintf(err, errlen, "%s %s: %s", opt, path, tw_open_regular_error(fd));
		return -1;
	}
	close(fd);
	if (!X509_STORE_load_file(st, path)) {
		verify_openssl_reason(why, sizeof(why));
		snprintf(err, errlen, "%s %s: no usable PEM certificate (%s)",
			 opt, path, why);
		return -1;
	}
	return 0;
}

/* Every regular file that holds PEM certificates; others are skipped. */
/*
 * The system store: the bundle file, plus the hashed directory looked up
 * lazily by subject hash. Not X509_STORE_set_default_paths(): in OpenSSL 3
 * it also adds a "file:" store on the certificate directory, which reads
 * the whole directory on every issuer lookup that misses (every private-PKI
 * chain): most of analyze's time went there.
 */
static int verify_load_system(X509_STORE *st)
{
	X509_LOOKUP *dir = X509_STORE_add_lookup(st, X509_LOOKUP_hash_dir());
	const char *file = getenv(X509_get_default_cert_file_env());

	if (!dir || !X509_LOOKUP_add_dir(dir, X509_get_default_cert_dir(),
					 X509_FILETYPE_PEM))
		return -1;
	/* a missing bundle is not fatal: the directory may hold everything */
	X509_STORE_load_file(st, file ? file : X509_get_default_cert_file());
	ERR_clear_error();
	return 0;
}

static int verify_load_dir(X509_STORE *st, const char *dir, char *err,
			   size_t errlen)
{
	char path[4096];
	struct dirent *de;
	struct stat sb;
	int loaded = 0, seen = 0;
	DIR *d = opendir(dir);

	if (!d) {
		snprintf(err, errlen, "--ca-dir %s: %s", dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >=
		    (int)sizeof(path))
			continue;
		if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
			continue;
		if (++seen > VERIFY_DIR_MAX_FILES) {   /* said, not cut short */
			closedir(d);
			snprintf(err, errlen, "--ca-dir %s: more than %d files",
				 dir, VERIFY_DIR_MAX_FILES);
			return -1;
		}
		if (X509_STORE_load_file(st, path))
			loaded++;
		ERR_clear_error();
	}
	closedir(d);
	if (!loaded) {
		snprintf(err, errlen, "--ca-dir %s: no file with a PEM certificate",
			 dir);
		return -1;
	}
	return 0;
}

int verify_store_open(const char *ca_file, const char *ca_dir,
		      struct verify_store **out, char *err, size_t errlen)
{
	struct verify_store *vs = calloc(1, sizeof(*vs));

	*out = NULL;
	if (!vs || !(vs->store = X509_STORE_new())) {
		snprintf(err, errlen, "out of memory creating the trust store");
		free(vs);
		return -1;
	}
	if (ca_file && verify_load_file(vs->store, "--ca-file", ca_file, err, errlen))
		goto fail;
	if (ca_dir && verify_load_dir(vs->store, ca_dir, err, errlen))
		goto fail;
	if (!ca_file && !ca_dir && verify_load_system(vs->store)) {
		snprintf(err, errlen, "cannot load the system trust store");
		goto fail;
	}
	ERR_clear_error();
	*out = vs;
	return 0;
fail:
	verify_store_free(vs);
	return -1;
}

void verify_store_free(struct verify_store *vs)
{
	if (!vs)
		return;
	X509_STORE_free(vs->store);
	free(vs);
}

X509_STORE *verify_store_x509(struct verify_store *vs)
{
	return vs ? vs->store : NULL;
}

static STACK_OF(X509) *verify_untrusted(const struct cert_info *const *chain, int n)
{
	STACK_OF(X509) *sk = sk_X509_new_null();
	int i;

	if (!sk)
		return NULL;
	for (i = 1; i < n; i++) {
		if (!chain[i] || !chain[i]->x509)
			continue;
		if (!sk_X509_push(sk, chain[i]->x509)) {
			sk_X509_free(sk);
			return NULL;
		}
	}
	return sk;   /* borrows the certificates */
}

static void verify_describe(X509_STORE_CTX *ctx, struct verify_result *res)
{
	X509 *bad = X509_STORE_CTX_get_current_cert(ctx);
	char subject[160] = "?";

	res->code = X509_STORE_CTX_get_error(ctx);
	res->depth = X509_STORE_CTX_get_error_depth(ctx);
	snprintf(res->text, sizeof(res->text), "%s",
		 X509_verify_cert_error_string(res->code));
	if (bad)
		X509_NAME_oneline(X509_get_subject_name(bad), subject, sizeof(subject));
	snprintf(res->detail, sizeof(res->detail), "%s (depth %d, %s)", res->text,
		 res->depth, subject);
}

int verify_chain(struct verify_store *vs, const struct cert_info *const *chain,
		 int n, int64_t at, struct verify_result *res)
{
	STACK_OF(X509) *untrusted = NULL;
	X509_STORE_CTX *ctx = NULL;
	int rc = -1, ok;

	memset(res, 0, sizeof(*res));
	res->depth = -1;
	snprintf(res->text, sizeof(res->text), "not verified");
	if (!vs || n < 1 || !chain[0] || !chain[0]->x509)
		return -1;
	untrusted = verify_untrusted(chain, n);
	ctx = X509_STORE_CTX_new();
	if (!untrusted || !ctx ||
	    !X509_STORE_CTX_init(ctx, vs->store, chain[0]->x509, untrusted))
		goto out;
	X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER);
	if (at > 0)
		X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx), (time_t)at);
	ok = X509_verify_cert(ctx);
	res->built = X509_STORE_CTX_get1_chain(ctx);
	if (ok == 1) {
		snprintf(res->text, sizeof(res->text), "ok");
		snprintf(res->detail, sizeof(res->detail), "ok");
		rc = 0;
	} else {
		verify_describe(ctx, res);
		rc = 1;
	}
out:
	ERR_clear_error();
	X509_STORE_CTX_free(ctx);
	sk_X509_free(untrusted);
	return rc;
}

void verify_result_release(struct verify_result *res)
{
	if (res && res->built) {
		sk_X509_pop_free(res->built, X509_free);
		res->built = NULL;
	}
}
