// SPDX-License-Identifier: MIT
/*
 * analyze --db adds a capture to the database once: added again, its
 * sightings would be counted again, doubling every count it touched.
 * Each capture is identified before anything is read (inventory.h:
 * inventory_capture) and recorded when its turn comes and it opens as a
 * capture, before its handshakes are written: a run cut short leaves it
 * recorded, so a second run does not count it twice. A command whose
 * captures were all added already is reported again, judged against a
 * temporary copy of the database (cert_health_opts.db_copy); one that
 * mixes added captures with new ones is refused.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "analyze_db.h"
#include "cli.h"
#include "common/digest.h"
#include "common/hex.h"
#include "common/log.h"
#include "common/timefmt.h"
#include "inventory/inventory.h"

struct analyze_db {
	struct inventory *inv;
	const char *db;
	char *const *files;
	int n_files;
	struct inventory_capture *ids;          /* head_sha256 "": not identified */
	struct inventory_capture_added *was;    /* of the files added before */
};

/* File @i was identified (identify() fills head_sha256 only then). */
static bool identified(const struct analyze_db *adb, int i)
{
	return adb->ids[i].head_sha256[0] != '\0';
}

/* Reads up to @len bytes of @fd into @buf: the count, or -1. */
static ssize_t read_head(int fd, unsigned char *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, buf + got, len - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

/* 0 and *@c; 1 when @path is not a regular file (standard input, a pipe:
 * its bytes cannot be read twice); -1 when it cannot be read (the
 * analysis says why when its turn comes). */
static int identify(const char *path, struct inventory_capture *c)
{
	static unsigned char head[INVENTORY_CAPTURE_HEAD];
	uint8_t md[32];
	struct stat sb;
	ssize_t n;
	int fd;

	if (strcmp(path, "-") == 0)
		return 1;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -1;
	if (fstat(fd, &sb) != 0) {
		close(fd);
		return -1;
	}
	if (!S_ISREG(sb.st_mode)) {
		close(fd);
		/* a directory is not a capture: the analysis says so */
		return S_ISDIR(sb.st_mode) ? -1 : 1;
	}
	n = read_head(fd, head, sizeof(head));
	close(fd);
	if (n < 0 || !tw_sha256(head, (size_t)n, md))
		return -1;
	c->size = (uint64_t)sb.st_size;
	c->head_len = (uint32_t)n;
	tw_hex(md, sizeof(md), c->head_sha256);
	return 0;
}

static bool same_capture(const struct inventory_capture *a,
			 const struct inventory_capture *b)
{
	return a->size == b->size && a->head_len == b->head_len &&
	       strcmp(a->head_sha256, b->head_sha256) == 0;
}

/* What the database knows of file @i: 0 not added, 1 added (*@was), 2
 * one that begins with the same bytes was added (said: EXIT_USAGE), -1
 * said (EXIT_INTERNAL). */
static int find_added(struct analyze_db *adb, int i,
		      struct inventory_capture_added *was)
{
	const struct inventory_capture *c = &adb->ids[i];
	char err[512], when[TW_TIME_STRLEN];
	int rc = inventory_capture_find(adb->inv, c, was, err, sizeof(err));

	if (rc < 0) {
		fprintf(stderr, "tlswatch analyze: %s\n", err);
		return -1;
	}
	if (rc == 0 || was->size == c->size)
		return rc;
	fprintf(stderr, "tlswatch analyze: %s: begins with the same %u bytes "
		"as %s, added to the --db database %s at %s (%llu bytes then, "
		"%llu now); adding it would count those handshakes twice\n",
		adb->files[i], c->head_len, was->name, adb->db,
		tw_time_format_s((int64_t)(was->added_us / 1000000), when),
		(unsigned long long)was->size, (unsigned long long)c->size);
	return 2;
}

/* File @i was added before: what is said of it, after "FILE: already
 * added to the --db database DB at TIME (as NAME)". */
static void say_added(const struct analyze_db *adb, int i,
		      const struct inventory_capture_added *was, const char *then,
		      bool refused)
{
	char when[TW_TIME_STRLEN], line[1024];

	snprintf(line, sizeof(line), "%s: already added to the --db database "
		 "%s at %s (as %s)%s", adb->files[i], adb->db,
		 tw_time_format_s((int64_t)(was->added_us / 1000000), when),
		 was->name, then);
	/* a refusal is an error, said also with -q; a report again a note */
	if (refused)
		fprintf(stderr, "tlswatch analyze: %s\n", line);
	else
		pr_warn("%s\n", line);
}

/* EXIT_OK, or EXIT_USAGE said: file @i is the same capture as an earlier
 * one of the command line. */
static int refuse_twice(const struct analyze_db *adb, int i)
{
	int j;

	for (j = 0; j < i; j++) {
		if (identified(adb, j) && same_capture(&adb->ids[j], &adb->ids[i])) {
			fprintf(stderr, "tlswatch analyze: %s: the same capture as %s; "
				"adding both to the --db database %s would count its "
				"handshakes twice\n", adb->files[i], adb->files[j], adb->db);
			return EXIT_USAGE;
		}
	}
	return EXIT_OK;
}

/* Identifies file @i: 0, or EXIT_USAGE said (given twice). */
static int identify_file(struct analyze_db *adb, int i)
{
	int id = identify(adb->files[i], &adb->ids[i]);

	if (id == 1)
		pr_warn("%s: not a regular file, so it cannot be recognised if "
			"added again; added to the --db database %s unchecked\n",
			adb->files[i], adb->db);
	return id == 0 ? refuse_twice(adb, i) : EXIT_OK;
}

/*
 * Every capture added already: reported again, counted once (*@again).
 * None: added. Some: refused, since the others would be judged against
 * a database they would not be added to.
 */
static int check_files(struct analyze_db *adb, bool *again)
{
	int i, rc, n_added = 0, first_added = -1;

	for (i = 0; i < adb->n_files; i++) {
		rc = identify_file(adb, i);
		if (rc != EXIT_OK)
			return rc;
		rc = identified(adb, i) ? find_added(adb, i, &adb->was[i]) : 0;
		if (rc < 0 || rc == 2)
			return rc < 0 ? EXIT_INTERNAL : EXIT_USAGE;
		if (rc == 1 && n_added++ == 0)
			first_added = i;
	}
	if (n_added && n_added < adb->n_files) {
		say_added(adb, first_added, &adb->was[first_added], "; the other "
			  "captures given were not: give them without it", true);
		return EXIT_USAGE;
	}
	/* here either none was added or every one was */
	for (i = 0; n_added && i < adb->n_files; i++)
		say_added(adb, i, &adb->was[i], ": reported again, not counted "
			  "again", false);
	*again = n_added > 0;
	return EXIT_OK;
}

int analyze_db_check(const char *db, char *const *files, int n_files,
		     struct analyze_db **out, bool *again)
{
	struct analyze_db *adb;
	char err[512];
	int rc;

	*out = NULL;
	*again = false;
	if (!db)
		return EXIT_OK;
	adb = calloc(1, sizeof(*adb));
	if (adb) {
		adb->ids = calloc((size_t)n_files, sizeof(*adb->ids));
		adb->was = calloc((size_t)n_files, sizeof(*adb->was));
	}
	if (!adb || !adb->ids || !adb->was) {
		fprintf(stderr, "tlswatch analyze: out of memory\n");
		analyze_db_close(adb);
		return EXIT_INTERNAL;
	}
	/* A database that cannot be written is said when the checks open it
	 * (the inventory then lives in memory): nothing is added to it. */
	if (inventory_open(db, &adb->inv, err, sizeof(err))) {
		analyze_db_close(adb);
		return EXIT_OK;
	}
	adb->db = db;
	adb->files = files;
	adb->n_files = n_files;
	rc = check_files(adb, again);
	if (rc != EXIT_OK || *again) {
		analyze_db_close(adb);
		return rc;
	}
	*out = adb;
	return EXIT_OK;
}

void analyze_db_added(struct analyze_db *adb, int i)
{
	char err[512];
	struct timespec now;

	if (!adb || i < 0 || i >= adb->n_files || !identified(adb, i))
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	if (inventory_capture_add(adb->inv, &adb->ids[i], adb->files[i],
				  (uint64_t)now.tv_sec * 1000000 +
				  (uint64_t)now.tv_nsec / 1000, err, sizeof(err)))
		pr_warn("%s: not recorded as added (%s): a second run would "
			"count it again\n", adb->files[i], err);
}

void analyze_db_close(struct analyze_db *adb)
{
	if (!adb)
		return;
	inventory_close(adb->inv);
	free(adb->ids);
	free(adb->was);
	free(adb);
}
