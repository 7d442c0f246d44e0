// SPDX-License-Identifier: MIT
/*
 * The inventory's stored rows: sightings with hostile strings and values
 * (any bytes in every text column, any 64-bit times, repeated keys so rows
 * are updated as well as inserted, a flush at a chosen point) are recorded
 * into a fresh database, which is then listed as `tlswatch inventory` does.
 *
 * Properties:
 *   - the JSON listing is one strict RFC 8259 document per line, one line
 *     per row (inventory_count()), and each row's name and subject read
 *     back as the bytes of a sighting (up to a NUL: SQLite text), each
 *     byte that starts no valid UTF-8 sequence read as U+FFFD;
 *   - the text listing holds only printable ASCII and newlines, two lines
 *     per row (three with a rollback recorded) plus at most one name line
 *     per row.
 *
 * Input: sightings of [flags, port (2), not_before (8), not_after (8),
 * ts_us (8)] then seven length-prefixed fields: name, addr, sha256,
 * subject, issuer, key, findings. flags bit 0: flush after this one;
 * bits 1-2: reuse the key (name, addr, port, sha256) of sighting 0, 1, 2;
 * bit 3: record a rollback at ts_us with the findings text as evidence.
 * The database lives in $TMPDIR (/dev/shm when it exists: no disk I/O).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "inventory/inventory.h"
#include "fuzz_input.h"
#include "strict_parse.h"

#define MAX_SIGHTINGS 16
#define N_TEXT 7
/* Under the inventory_leaf sizes, so that no value is cut on reading. */
static const size_t text_max[N_TEXT] = { 200, 60, 64, 200, 200, 30, 200 };

struct sighting {
	char text[N_TEXT][256];        /* name, addr, sha256, subject, issuer, key, findings */
	uint16_t port;
	int64_t not_before, not_after;
	uint64_t ts_us;
	bool flush, rollback;
};

static void take_text(struct fuzz_input *r, size_t max, char *out)
{
	size_t n = (size_t)fuzz_take(r, 1);

	if (n > max)
		n = max;
	if (n > r->left)
		n = r->left;
	memcpy(out, r->p, n);
	out[n] = '\0';
	r->p += n;
	r->left -= n;
}

static int read_sightings(const uint8_t *data, size_t size, struct sighting *s)
{
	struct fuzz_input r = { data, size };
	int n = 0, i, reuse;

	while (r.left && n < MAX_SIGHTINGS) {
		struct sighting *x = &s[n];
		uint8_t flags = (uint8_t)fuzz_take(&r, 1);

		x->flush = flags & 1;
		x->rollback = flags & 8;
		x->port = (uint16_t)fuzz_take(&r, 2);
		x->not_before = (int64_t)fuzz_take(&r, 8);
		x->not_after = (int64_t)fuzz_take(&r, 8);
		x->ts_us = fuzz_take(&r, 8);
		for (i = 0; i < N_TEXT; i++)
			take_text(&r, text_max[i], x->text[i]);
		reuse = (flags >> 1) & 3;
		if (reuse && reuse - 1 < n) {   /* the key of an earlier one */
			for (i = 0; i < 3; i++)
				memcpy(x->text[i], s[reuse - 1].text[i], sizeof(x->text[i]));
			x->port = s[reuse - 1].port;
		}
		n++;
	}
	return n;
}

static char db_path[256];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = getenv("TMPDIR");

	if (!dir)
		dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	snprintf(db_path, sizeof(db_path), "%s/fuzz_inventory.%d.db", dir, (int)getpid());
	return 0;
}

static void remove_db(void)
{
	static const char *const suffix[] = { "", "-wal", "-shm", "-journal" };
	char p[300];

	for (size_t i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
		snprintf(p, sizeof(p), "%s%s", db_path, suffix[i]);
		unlink(p);
	}
}

static int64_t record_all(const struct sighting *s, int n)
{
	struct inventory *inv;
	char err[512];
	int64_t rows;
	int i;

	remove_db();
	SP_CHECK(inventory_open(db_path, &inv, err, sizeof(err)) == 0);
	for (i = 0; i < n; i++) {
		const struct sighting *x = &s[i];
		struct inventory_sighting is = {
			.name = x->text[0], .addr = x->text[1], .port = x->port,
			.sha256 = x->text[2], .subject = x->text[3], .issuer = x->text[4],
			.key = x->text[5], .not_before = x->not_before,
			.not_after = x->not_after, .ts_us = x->ts_us, .findings = x->text[6],
			.rollback_us = x->rollback ? x->ts_us : 0,
			.rollback_evidence = x->text[6],
		};

		SP_CHECK(inventory_record(inv, &is, NULL, err, sizeof(err)) == 0);
		if (x->flush)
			SP_CHECK(inventory_flush(inv, err, sizeof(err)) == 0);
	}
	rows = inventory_count(inv);
	inventory_close(inv);
	SP_CHECK(rows >= (n > 0) && rows <= n);
	return rows;
}

/* The listing into memory. */
static char *listing(bool json, size_t *len)
{
	char err[512], *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	SP_CHECK(f);
	SP_CHECK(inventory_dump(db_path, json, f, NULL, err, sizeof(err)) == 0);
	SP_CHECK(fclose(f) == 0);
	return buf;
}

/* Whether @v reads back as column @col of one of the sightings. */
static bool written(const struct sp_value *v, const struct sighting *s, int n, int col)
{
	char want[3 * 256 + 1];
	int i;

	for (i = 0; i < n; i++) {
		size_t len = sp_sanitize((const uint8_t *)s[i].text[col],
					 strlen(s[i].text[col]), want);

		if (sp_equal(v, want, len))
			return true;
	}
	return false;
}

static void check_json(const struct sighting *s, int n, int64_t rows)
{
	size_t len;
	char *text = listing(true, &len), *line = text, *nl;
	int64_t lines = 0;

	while (line < text + len) {
		struct sp_values vs = { 0 };
		int from = 0;

		nl = memchr(line, '\n', (size_t)(text + len - line));
		SP_CHECK(nl);
		SP_CHECK(sp_json_parse(line, (size_t)(nl - line), &vs));
		SP_CHECK(sp_count(&vs, "name") == 1 && sp_count(&vs, "subject") == 1);
		SP_CHECK(written(sp_next(&vs, "name", &from), s, n, 0));
		from = 0;
		SP_CHECK(written(sp_next(&vs, "subject", &from), s, n, 3));
		sp_values_free(&vs);
		lines++;
		line = nl + 1;
	}
	SP_CHECK(lines == rows);
	free(text);
}

static void check_text(int64_t rows)
{
	size_t len, i;
	char *text = listing(false, &len);
	int64_t lines = 0;

	for (i = 0; i < len; i++) {
		SP_CHECK(text[i] == '\n' || (text[i] >= 0x20 && text[i] < 0x7f));
		lines += text[i] == '\n';
	}
	SP_CHECK(len == 0 || text[len - 1] == '\n');
	SP_CHECK(lines >= 2 * rows + (rows > 0) && lines <= 4 * rows);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sighting s[MAX_SIGHTINGS];
	int n = read_sightings(data, size, s);
	int64_t rows;

	if (n == 0)
		return 0;
	rows = record_all(s, n);
	check_json(s, n, rows);
	check_text(rows);
	remove_db();
	return 0;
}
