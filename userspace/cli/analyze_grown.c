// SPDX-License-Identifier: MIT
/*
 * analyze --db: finding the capture added whole that a capture grew from
 * (analyze_grown.h). The captures added whole are read once for the run
 * into a set of (size, digest); a capture's head is then digested length
 * by length, at each size one of them has, and looked up in the set: the
 * database is asked again only about a hit, for its name and time.
 *
 * A copy cut short below the head is found the other way round: each
 * capture added records the digests of its beginnings at its record
 * ends (grown_cuts_record), and a small capture asks for its own bytes
 * up to its last whole record (grown_cut_digest).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze_grown.h"
#include "capture/file_header.h"
#include "common/digest.h"
#include "common/grow.h"
#include "common/hex.h"
#include "common/log.h"
#include "common/strmap.h"

struct grown_index {
	struct strmap *set;          /* grown_key() of each capture added whole */
	uint32_t *lens;              /* their distinct sizes, ascending */
	size_t n_lens, cap_lens;
	bool oom;
};

/* The set's key: the size, then the digest's hex. */
struct grown_key {
	uint32_t len;
	char sha256[64];
};

static struct grown_key grown_key(uint32_t len, const char *sha256)
{
	struct grown_key k;

	memset(&k, 0, sizeof(k));
	k.len = len;
	memcpy(k.sha256, sha256, sizeof(k.sha256));
	return k;
}

/* inventory_capture_short_heads: one capture added whole. 0, or -1 out of
 * memory (gi->oom). */
static int grown_add(void *ctx, const struct inventory_capture *c)
{
	struct grown_index *gi = ctx;
	struct grown_key k = grown_key(c->head_len, c->head_sha256);

	if (!strmap_put(gi->set, &k, sizeof(k), NULL))
		goto oom;
	/* ascending: a new size is one past the last */
	if (gi->n_lens && gi->lens[gi->n_lens - 1] == c->head_len)
		return 0;
	if (tw_grow(&gi->lens, &gi->cap_lens, sizeof(*gi->lens), gi->n_lens, 1,
		    64, TW_GROW_NO_CAP) < 0)
		goto oom;
	gi->lens[gi->n_lens++] = c->head_len;
	return 0;
oom:
	gi->oom = true;
	return -1;
}

int grown_index_read(struct inventory *inv, struct grown_index **out,
		     char *err, size_t errlen)
{
	struct grown_index *gi = calloc(1, sizeof(*gi));

	*out = NULL;
	if (gi)
		gi->set = strmap_new(1);   /* a set: the value unused */
	if (!gi || !gi->set) {
		grown_index_free(gi);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (inventory_capture_short_heads(inv, grown_add, gi, err, errlen)) {
		if (gi->oom)
			snprintf(err, errlen, "out of memory");
		grown_index_free(gi);
		return -1;
	}
	*out = gi;
	return 0;
}

void grown_index_free(struct grown_index *gi)
{
	if (!gi)
		return;
	strmap_free(gi->set);
	free(gi->lens);
	free(gi);
}

/* @head digested length by length: the digest so far, and a copy to
 * finish. */
struct grown_digest {
	EVP_MD_CTX *md, *end;
	uint32_t done;
};

/* The digest of @head[0..@len) into @hex. 0, or -1. */
static int digest_to(struct grown_digest *d, const unsigned char *head,
		     uint32_t len, char hex[65])
{
	uint8_t md[32];

	if (!EVP_DigestUpdate(d->md, head + d->done, len - d->done) ||
	    !EVP_MD_CTX_copy_ex(d->end, d->md) ||
	    !EVP_DigestFinal_ex(d->end, md, NULL))
		return -1;
	d->done = len;
	tw_hex(md, sizeof(md), hex);
	return 0;
}

/* A new digest of @head's bytes, length by length. 0, or -1. */
static int digest_begin(struct grown_digest *d)
{
	d->done = 0;
	d->md = EVP_MD_CTX_new();
	d->end = EVP_MD_CTX_new();
	if (!d->md || !d->end || !EVP_DigestInit_ex(d->md, tw_md_sha256(), NULL))
		return -1;
	return 0;
}

static void digest_end(struct grown_digest *d)
{
	EVP_MD_CTX_free(d->md);
	EVP_MD_CTX_free(d->end);
}

/* The first size of @gi past @header and below c->head_len whose
 * beginning of @head is in the set: 1 with *@begins, 0, -1 with @err. */
static int grown_first(const struct grown_index *gi, struct grown_digest *d,
		       const unsigned char *head, const struct inventory_capture *c,
		       size_t header, struct inventory_capture *begins,
		       char *err, size_t errlen)
{
	struct grown_key k;
	size_t i;

	for (i = 0; i < gi->n_lens && gi->lens[i] < c->head_len; i++) {
		uint32_t len = gi->lens[i];

		if (len <= header)
			continue;
		if (digest_to(d, head, len, begins->head_sha256)) {
			snprintf(err, errlen, "SHA-256 failed");
			return -1;
		}
		k = grown_key(len, begins->head_sha256);
		if (strmap_get(gi->set, &k, sizeof(k))) {
			begins->size = len;
			begins->head_len = len;
			return 1;
		}
	}
	return 0;
}

int grown_index_find(const struct grown_index *gi, struct inventory *inv,
		     const unsigned char *head, const struct inventory_capture *c,
		     struct inventory_capture_added *was, char *err, size_t errlen)
{
	struct grown_digest d = { 0 };
	struct inventory_capture begins = { 0 };
	int rc = -1;

	if (digest_begin(&d))
		snprintf(err, errlen, "SHA-256 failed");
	else
		rc = grown_first(gi, &d, head, c,
				 capture_file_header_len(head, c->head_len),
				 &begins, err, errlen);
	digest_end(&d);
	if (rc == 1)
		rc = inventory_capture_find(inv, &begins, was, err, errlen);
	return rc;
}

int grown_cut_digest(const unsigned char *head,
		     const struct inventory_capture *c, struct grown_cut *out)
{
	struct grown_digest d = { 0 };
	struct capture_walk w;
	size_t end = 0, next;
	int rc;

	out->len = 0;
	/* a bigger one is known by its head (cut short at 64 KiB or more) */
	if (c->size >= INVENTORY_CAPTURE_HEAD || c->head_len != c->size)
		return 0;
	/* bounded: each record moves on by 12 bytes at least; bytes that
	 * are no record end it as a record cut short does (analysis reads
	 * no further either) */
	capture_walk_begin(&w, head, c->head_len);
	while ((next = capture_walk_next(&w)) != 0)
		end = next;
	if (!end)
		return 0;
	rc = digest_begin(&d) ? -1 :
	     digest_to(&d, head, (uint32_t)end, out->sha256);
	digest_end(&d);
	if (rc == 0)
		out->len = (uint32_t)end;
	return rc;
}

int grown_find_cut(struct inventory *inv, const struct inventory_capture *c,
		   const struct grown_cut *cut, struct inventory_capture_added *was,
		   char *err, size_t errlen)
{
	if (cut->len == 0)
		return 0;
	return inventory_capture_find_prefix(inv, cut->len, cut->sha256,
					     c->size, was, err, errlen);
}

int grown_cuts_record(struct inventory *inv, const struct inventory_capture *c,
		      const unsigned char *head, const char *name, char *err,
		      size_t errlen)
{
	struct grown_digest d = { 0 };
	struct capture_walk w;
	char hex[65];
	size_t end;
	int rc = digest_begin(&d);

	if (rc)
		snprintf(err, errlen, "SHA-256 failed");
	capture_walk_begin(&w, head, c->head_len);
	/* a record end at the capture's size is the capture itself; each
	 * record moves on by 12 bytes at least, so at most 64 KiB / 12 */
	while (rc == 0 && (end = capture_walk_next(&w)) != 0 && end < c->size) {
		if (digest_to(&d, head, (uint32_t)end, hex)) {
			snprintf(err, errlen, "SHA-256 failed");
			rc = -1;
		} else {
			rc = inventory_capture_add_prefix(inv, c, (uint32_t)end,
							  hex, err, errlen);
		}
	}
	digest_end(&d);
	/* where libpcap stopped too (bytes that are no block, a section in
	 * the other byte order), with its own words */
	if (rc == 0 && w.why[0])
		pr_warn("%s: %s: its beginnings are recorded for --db up to "
			"there\n", name, w.why);
	return rc;
}
