// SPDX-License-Identifier: MIT
/* Expected certificates per name, and the unexpected finding. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/digest.h"
#include "common/grow.h"
#include "common/hex.h"
#include "common/host_name.h"
#include "common/printable.h"
#include "expect.h"

#define EXPECT_NAME_MAX 256
#define EXPECT_DIR_DEPTH 4
#define EXPECT_DIR_MAX_FILES 10000
#define EXPECT_SHOWN 3          /* fingerprints written into a detail */

struct expect_entry {
	char name[EXPECT_NAME_MAX];   /* lowercase, no trailing dot */
	char sha256[65];
};

struct expect_set {
	struct expect_entry *v;
	size_t n, cap;
	int files_seen;
};

/* Lowercase copy without a trailing dot (as every check compares names:
 * common/host_name.h); false if empty or too long. */
static bool expect_norm_name(const char *in, size_t n, char *out)
{
	size_t i;

	n = tw_host_name_len(in, n);
	if (n == 0 || n >= EXPECT_NAME_MAX)
		return false;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)in[i];

		if (c <= 0x20 || c >= 0x7f)
			return false;
		out[i] = (char)tolower(c);
	}
	out[n] = 0;
	return true;
}

/* 64 hex digits, colons and spaces ignored, into lowercase. */
static bool expect_norm_sha(const char *in, char *out)
{
	size_t k = 0;

	for (; *in; in++) {
		if (*in == ':' || *in == ' ')
			continue;
		if (!isxdigit((unsigned char)*in) || k == 64)
			return false;
		out[k++] = (char)tolower((unsigned char)*in);
	}
	out[k] = 0;
	return k == 64;
}

static int expect_add(struct expect_set *e, const char *name, const char *sha)
{
	size_t i;

	for (i = 0; i < e->n; i++)
		if (!strcmp(e->v[i].name, name) && !strcmp(e->v[i].sha256, sha))
			return 0;
	if (tw_grow(&e->v, &e->cap, sizeof(*e->v), e->n, 1, 16, TW_GROW_NO_CAP) < 0)
		return -1;
	snprintf(e->v[e->n].name, EXPECT_NAME_MAX, "%s", name);
	snprintf(e->v[e->n].sha256, 65, "%s", sha);
	e->n++;
	return 0;
}

/* Splits "NAME=SHA256" into its normalised parts; -1 and @err if malformed. */
static int expect_parse_spec(const char *spec, char *name, char *sha, char *err,
			     size_t errlen)
{
	const char *eq = strchr(spec, '=');
	char shown[96];

	if (eq && expect_norm_name(spec, (size_t)(eq - spec), name) &&
	    expect_norm_sha(eq + 1, sha))
		return 0;
	tw_printable(spec, strlen(spec), shown, sizeof(shown));
	snprintf(err, errlen, "'%s' is not NAME=SHA256 (a name, '=', 64 hex digits)",
		 shown);
	return -1;
}

int expect_spec_check(const char *spec, char *err, size_t errlen)
{
	char name[EXPECT_NAME_MAX], sha[65];

	return expect_parse_spec(spec, name, sha, err, errlen);
}

static int expect_add_spec(struct expect_set *e, const char *spec, char *err,
			   size_t errlen)
{
	char name[EXPECT_NAME_MAX], sha[65], why[160];

	if (expect_parse_spec(spec, name, sha, why, sizeof(why))) {
		snprintf(err, errlen, "--expect: %s", why);
		return -1;
	}
	if (expect_add(e, name, sha)) {
		snprintf(err, errlen, "--expect: out of memory");
		return -1;
	}
	return 0;
}

static bool expect_fingerprint(X509 *x, char *hex)
{
	unsigned char md[32];
	unsigned int len = 0;

	if (!X509_digest(x, tw_md_sha256(), md, &len) || len != 32)
		return false;
	tw_hex(md, 32, hex);
	return true;
}

/* The DNS SANs of @x, or its CN when it has none. */
static int expect_add_cert(struct expect_set *e, X509 *x)
{
	GENERAL_NAMES *sans = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	char sha[65], name[EXPECT_NAME_MAX], cn[EXPECT_NAME_MAX];
	int i, added = 0, rc = 0;

	if (!expect_fingerprint(x, sha)) {
		GENERAL_NAMES_free(sans);
		return -1;
	}
	for (i = 0; sans && i < sk_GENERAL_NAME_num(sans) && !rc; i++) {
		GENERAL_NAME *gn = sk_GENERAL_NAME_value(sans, i);

		if (gn->type != GEN_DNS)
			continue;
		if (!expect_norm_name((const char *)ASN1_STRING_get0_data(gn->d.dNSName),
				      (size_t)ASN1_STRING_length(gn->d.dNSName), name))
			continue;
		rc = expect_add(e, name, sha);
		added++;
	}
	GENERAL_NAMES_free(sans);
	if (!added && !rc) {
		int len = X509_NAME_get_text_by_NID(X509_get_subject_name(x),
						    NID_commonName, cn, sizeof(cn));

		if (len > 0 && expect_norm_name(cn, (size_t)len, name))
			rc = expect_add(e, name, sha);
	}
	return rc;
}

/* The first certificate of a deployed file, if it is not a CA's. */
static int expect_load_file(struct expect_set *e, const char *path)
{
	FILE *f = fopen(path, "r");
	X509 *x;
	int rc = 0;

	if (!f)
		return 0;
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	ERR_clear_error();
	if (!x)
		return 0;   /* keys, notes: not certificates */
	e->files_seen++;
	if (X509_check_ca(x) == 0)
		rc = expect_add_cert(e, x);
	X509_free(x);
	return rc;
}

static int expect_scan_dir(struct expect_set *e, const char *dir, int depth,
			   int *budget, char *err, size_t errlen)
{
	char path[4096];
	struct dirent *de;
	struct stat sb;
	DIR *d = opendir(dir);
	int rc = 0;

	if (!d) {
		snprintf(err, errlen, "--expect-dir %s: %s", dir, strerror(errno));
		return -1;
	}
	while (!rc && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >=
		    (int)sizeof(path) || stat(path, &sb) != 0)
			continue;
		/* said, not cut short: expectations left unread would make the
		 * certificates they name "unexpected" */
		if ((*budget)-- <= 0) {
			snprintf(err, errlen, "--expect-dir %s: more than %d files "
				 "and directories in it", dir, EXPECT_DIR_MAX_FILES);
			rc = -1;
			break;
		}
		if (S_ISDIR(sb.st_mode) && depth < EXPECT_DIR_DEPTH)
			rc = expect_scan_dir(e, path, depth + 1, budget, err, errlen);
		else if (S_ISREG(sb.st_mode) && expect_load_file(e, path)) {
			snprintf(err, errlen, "--expect-dir %s: out of memory", dir);
			rc = -1;
		}
	}
	closedir(d);
	return rc;
}

int expect_set_open(const char *const *specs, int n_specs, const char *dir,
		    struct expect_set **out, char *err, size_t errlen)
{
	struct expect_set *e = calloc(1, sizeof(*e));
	int i, budget = EXPECT_DIR_MAX_FILES;

	*out = NULL;
	if (!e) {
		snprintf(err, errlen, "--expect: out of memory");
		return -1;
	}
	for (i = 0; i < n_specs; i++)
		if (expect_add_spec(e, specs[i], err, errlen))
			goto fail;
	if (dir) {
		if (expect_scan_dir(e, dir, 0, &budget, err, errlen))
			goto fail;
		if (!e->files_seen) {
			snprintf(err, errlen, "--expect-dir %s: no PEM certificate found",
				 dir);
			goto fail;
		}
	}
	*out = e;
	return 0;
fail:
	expect_set_free(e);
	return -1;
}

void expect_set_free(struct expect_set *e)
{
	if (!e)
		return;
	free(e->v);
	free(e);
}

size_t expect_set_count(const struct expect_set *e)
{
	return e ? e->n : 0;
}

/* Exact name, or "*.rest" with @name one label followed by ".rest". */
static bool expect_name_matches(const char *pattern, const char *name)
{
	const char *dot;

	if (strcmp(pattern, name) == 0)
		return true;
	if (strncmp(pattern, "*.", 2) != 0)
		return false;
	dot = strchr(name, '.');
	return dot && dot != name && strcmp(dot + 1, pattern + 2) == 0;
}

int expect_check(const struct expect_set *e, const char *name, size_t name_len,
		 const char *sha256_hex, char *detail, size_t len)
{
	char norm[EXPECT_NAME_MAX];
	size_t i, off = 0;
	int matched = 0;

	/* every byte: a NUL (<= 0x20) refuses the name, never cuts it */
	if (!e || !name || !expect_norm_name(name, name_len, norm))
		return -1;
	for (i = 0; i < e->n; i++) {
		if (!expect_name_matches(e->v[i].name, norm))
			continue;
		if (sha256_hex && strcasecmp(e->v[i].sha256, sha256_hex) == 0)
			return 0;
		if (matched < EXPECT_SHOWN && off < len)
			off += (size_t)snprintf(detail + off, len - off, "%s%s",
						matched ? " or " : "expected ",
						e->v[i].sha256);
		matched++;
	}
	if (!matched)
		return -1;
	if (matched > EXPECT_SHOWN && off < len)
		snprintf(detail + off, len - off, " (+%d more)", matched - EXPECT_SHOWN);
	return 1;
}
