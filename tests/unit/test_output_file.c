// SPDX-License-Identifier: MIT
/*
 * common/output_file.c: the walk of an output file's path, name by name,
 * with real files and links in a temporary directory. The kernel's
 * fs.protected_* settings play no part (the walk never lets the kernel
 * follow a link outside /proc), so these hold whatever they are; the
 * cases of another user's link or file need root (chown), and are
 * skipped without it.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "common/output_file.h"

static char dir[] = "/tmp/tw-output-XXXXXX";

/* @name in the test's directory into @buf. */
static const char *at(char buf[PATH_MAX], const char *name)
{
	snprintf(buf, PATH_MAX, "%s/%s", dir, name);
	return buf;
}

/* tw_output_open of @name (in the test's directory) in @mode: its rc;
 * the descriptor written @text to and closed, whether it created the
 * file into *@created. */
static int open_write(const char *name, enum tw_output_mode mode,
		      const char *text, bool *created)
{
	char p[PATH_MAX];
	struct tw_output o;
	int rc = tw_output_open(at(p, name), mode, &o);

	if (created)
		*created = o.created_dir >= 0;
	if (rc)
		return rc;
	if (write(o.fd, text, strlen(text)) != (ssize_t)strlen(text))
		rc = -EIO;
	tw_output_forget_created(&o);
	close(o.fd);
	return rc;
}

/* The contents of @name (in the test's directory), "" when unreadable. */
static const char *contents(const char *name)
{
	static char buf[256];
	char p[PATH_MAX];
	FILE *f = fopen(at(p, name), "r");
	size_t n = 0;

	if (f) {
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
	return buf;
}

static void mk(const char *name, const char *text)
{
	char p[PATH_MAX];
	FILE *f = fopen(at(p, name), "w");

	CHECK(f != NULL);
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static void link_to(const char *target, const char *name)
{
	char p[PATH_MAX];

	CHECK_INT(symlink(target, at(p, name)), 0);
}

static void test_missing_file_is_created_and_removed_by_its_creator(void)
{
	char p[PATH_MAX];
	struct tw_output o;
	struct stat sb;

	CHECK_INT(tw_output_open(at(p, "new.html"), TW_OUTPUT_REPLACE, &o), 0);
	CHECK(o.created_dir >= 0);
	CHECK_STR(o.created_name, "new.html");
	CHECK_INT(tw_output_remove_created(&o), 0);
	CHECK_INT(stat(p, &sb) == 0 ? 0 : errno, ENOENT);
	tw_output_forget_created(&o);
	close(o.fd);
}

static void test_existing_file_is_opened_not_created(void)
{
	bool created = true;

	mk("old.log", "a\n");
	CHECK_INT(open_write("old.log", TW_OUTPUT_APPEND, "b\n", &created), 0);
	CHECK(!created);
	CHECK_STR(contents("old.log"), "a\nb\n");
	/* REPLACE leaves emptying to the caller: written over in place */
	CHECK_INT(open_write("old.log", TW_OUTPUT_REPLACE, "c", &created), 0);
	CHECK_STR(contents("old.log"), "c\nb\n");
}

/* Links in the middle of the path, relative (to the link's directory)
 * and absolute, and one at its end to no file: followed, the file
 * created at the end of them, the links kept. */
static void test_links_in_the_middle_and_at_the_end_are_followed(void)
{
	char p[PATH_MAX], target[PATH_MAX];
	bool created = false;

	CHECK_INT(mkdir(at(p, "real"), 0700), 0);
	CHECK_INT(mkdir(at(p, "sub"), 0700), 0);
	link_to("../real", "sub/rel");
	link_to(at(target, "real"), "abs");
	link_to("new2.log", "real/dangling.log");
	CHECK_INT(open_write("sub/rel/new1.log", TW_OUTPUT_APPEND, "1", &created), 0);
	CHECK(created);
	CHECK_STR(contents("real/new1.log"), "1");
	/* ".." after a link: the parent of where it led */
	CHECK_INT(open_write("sub/rel/../real//new1.log", TW_OUTPUT_APPEND, "+", &created), 0);
	CHECK(!created);
	CHECK_STR(contents("real/new1.log"), "1+");
	CHECK_INT(open_write("abs/dangling.log", TW_OUTPUT_APPEND, "2", &created), 0);
	CHECK(created);
	CHECK_STR(contents("real/new2.log"), "2");
	CHECK_INT(readlink(at(p, "real/dangling.log"), target, sizeof(target)), 8);
}

static void test_bad_paths_say_what_open_would(void)
{
	mk("file", "");
	CHECK_INT(open_write("real/", TW_OUTPUT_REPLACE, "", NULL), -EISDIR);
	CHECK_INT(open_write("file/x", TW_OUTPUT_REPLACE, "", NULL), -ENOTDIR);
	CHECK_INT(open_write("none/x", TW_OUTPUT_REPLACE, "", NULL), -ENOENT);
	CHECK_INT(tw_output_open("", TW_OUTPUT_REPLACE, &(struct tw_output){ 0 }),
		  -ENOENT);
	link_to("loop-b", "loop-a");
	link_to("loop-a", "loop-b");
	CHECK_INT(open_write("loop-a", TW_OUTPUT_REPLACE, "", NULL), -ELOOP);
	CHECK_INT(open_write("loop-a/x", TW_OUTPUT_REPLACE, "", NULL), -ELOOP);
}

/* TW_OUTPUT_MAX_LINKS links in a row are followed, one more is not. */
static void test_links_are_bounded_as_the_kernel_bounds_them(void)
{
	char name[32], next[32];
	int i;

	CHECK_INT(mkdir(at((char[PATH_MAX]){ 0 }, "chain"), 0700), 0);
	for (i = 0; i <= TW_OUTPUT_MAX_LINKS; i++) {
		snprintf(name, sizeof(name), "chain/l%d", i);
		snprintf(next, sizeof(next), "l%d", i + 1);
		link_to(next, name);
	}
	snprintf(name, sizeof(name), "chain/l%d", TW_OUTPUT_MAX_LINKS + 1);
	mk(name, "");
	CHECK_INT(open_write("chain/l1", TW_OUTPUT_APPEND, "", NULL), 0);
	CHECK_INT(open_write("chain/l0", TW_OUTPUT_APPEND, "", NULL), -ELOOP);
}

/* A regular file with a second name (what another user can make of a
 * file root owns when fs.protected_hardlinks is 0) is not written. */
static void test_file_with_other_names_is_refused(void)
{
	char p[PATH_MAX], q[PATH_MAX];

	mk("shadow", "secret\n");
	CHECK_INT(link(at(p, "shadow"), at(q, "real/hard.log")), 0);
	CHECK_INT(open_write("real/hard.log", TW_OUTPUT_APPEND, "x", NULL), -EMLINK);
	CHECK_INT(open_write("real/hard.log", TW_OUTPUT_REPLACE, "x", NULL), -EMLINK);
	CHECK_INT(open_write("real/hard.log", TW_OUTPUT_LOCK, "", NULL), -EMLINK);
	CHECK_STR(contents("shadow"), "secret\n");
	/* looked at only (a file another library opens by its path) */
	CHECK_INT(tw_output_probe(at(p, "real/hard.log")), -EMLINK);
	CHECK_INT(tw_output_probe(at(p, "real/none.log")), 0);
	CHECK_INT(tw_output_probe(at(p, "none/none.log")), 0);
	CHECK_INT(tw_output_probe(at(p, "shadow-link")), 0);
	CHECK_INT(access(p, F_OK) == 0 ? 0 : errno, ENOENT);
	CHECK_STR(tw_output_error(-EMLINK),
		  "the file has other names (hard links); refusing to write into it");
	/* not "Permission denied", which root would read of its own refusal */
	CHECK_STR(tw_output_error(-TW_OUTPUT_REFUSED),
		  "another user's link, file or FIFO on the path; refusing to "
		  "follow or open it");
}

/* In a sticky world-writable directory: another user's link (at the end
 * or in the middle) and another user's file are refused, root's own are
 * not. Needs root (chown). */
static void test_sticky_directory_rules_apply_whatever_the_sysctls(void)
{
	char p[PATH_MAX];
	bool created;

	if (geteuid() != 0) {
		printf("# skipped: needs root\n");
		return;
	}
	CHECK_INT(mkdir(at(p, "tmp"), 0700), 0);
	CHECK_INT(chmod(p, 01777), 0);
	link_to("../real", "tmp/theirs-dir");
	link_to("../shadow", "tmp/theirs.log");
	link_to("../real", "tmp/ours-dir");
	mk("tmp/theirs-file.log", "theirs\n");
	CHECK_INT(lchown(at(p, "tmp/theirs-dir"), 65534, 65534), 0);
	CHECK_INT(lchown(at(p, "tmp/theirs.log"), 65534, 65534), 0);
	CHECK_INT(chown(at(p, "tmp/theirs-file.log"), 65534, 65534), 0);
	CHECK_INT(open_write("tmp/theirs-dir/x.log", TW_OUTPUT_APPEND, "x", NULL),
		  -TW_OUTPUT_REFUSED);
	CHECK_INT(open_write("tmp/theirs.log", TW_OUTPUT_APPEND, "x", NULL), -TW_OUTPUT_REFUSED);
	CHECK_INT(open_write("tmp/theirs-file.log", TW_OUTPUT_APPEND, "x", NULL),
		  -TW_OUTPUT_REFUSED);
	CHECK_INT(open_write("tmp/theirs-dir/x.db", TW_OUTPUT_LOCK, "", NULL), -TW_OUTPUT_REFUSED);
	CHECK_INT(tw_output_probe(at(p, "tmp/theirs-file.log")), -TW_OUTPUT_REFUSED);
	CHECK_INT(tw_output_probe(at(p, "tmp/theirs.log")), -TW_OUTPUT_REFUSED);
	CHECK_INT(access(at(p, "real/x.log"), F_OK) == 0 ? 0 : errno, ENOENT);
	CHECK_STR(contents("shadow"), "secret\n");
	CHECK_STR(contents("tmp/theirs-file.log"), "theirs\n");
	CHECK_INT(open_write("tmp/ours-dir/ours.log", TW_OUTPUT_APPEND, "o", &created), 0);
	CHECK(created);
	CHECK_STR(contents("real/ours.log"), "o");
}

/*
 * A directory another user owns (their home, or one they made in /tmp
 * under the name tlswatch's path goes through): the kernel's rules do not
 * look at links outside sticky directories, but their links lead only to
 * their own directories and files (absolute targets, ".." out of their
 * directory, root's directories or files reached through them refused),
 * whatever the name says. Files created there without links, and links
 * within their own directories, are still written. Needs root (chown).
 */
static void test_another_users_links_lead_only_to_their_files(void)
{
	char p[PATH_MAX], target[PATH_MAX];
	bool created;
	static const char *const links[][2] = {
		{ "../victim", "theirs/up.log" },
		{ "sub/../../victim", "theirs/sub-up.log" },
		{ "ours.log", "theirs/to-root-file.log" },
		{ "ours-dir/x.log", "theirs/to-root-dir.log" },
		{ "../real", "theirs/up-dir" },
		{ "../victim", "tmp/squat/up.log" },
	};
	static const char *const theirs[] = {
		"theirs", "theirs/sub", "theirs/their.log", "theirs/abs.log",
		"theirs/abs-dir", "theirs/to-their-file.log",
		"theirs/to-their-dir.log", "tmp/squat",
	};
	size_t i;

	if (geteuid() != 0) {
		printf("# skipped: needs root\n");
		return;
	}
	CHECK_INT(mkdir(at(p, "theirs"), 0755), 0);
	CHECK_INT(mkdir(at(p, "theirs/sub"), 0755), 0);
	CHECK_INT(mkdir(at(p, "theirs/ours-dir"), 0755), 0);
	/* tmp: the sticky world-writable directory of the test above */
	CHECK_INT(mkdir(at(p, "tmp/squat"), 0755), 0);
	/* (shadow has two names by now: refused for that alone) */
	mk("victim", "root's only name\n");
	mk("theirs/ours.log", "root's\n");
	mk("theirs/their.log", "theirs\n");
	link_to(at(target, "victim"), "theirs/abs.log");
	link_to(at(target, "real"), "theirs/abs-dir");
	link_to("their.log", "theirs/to-their-file.log");
	link_to("sub/new.log", "theirs/to-their-dir.log");
	for (i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		link_to(links[i][0], links[i][1]);
		CHECK_INT(lchown(at(p, links[i][1]), 65534, 65534), 0);
	}
	for (i = 0; i < sizeof(theirs) / sizeof(theirs[0]); i++)
		CHECK_INT(lchown(at(p, theirs[i]), 65534, 65534), 0);

	CHECK_INT(open_write("theirs/abs.log", TW_OUTPUT_APPEND, "x", NULL), -TW_OUTPUT_REFUSED);
	CHECK_INT(open_write("theirs/abs-dir/x.log", TW_OUTPUT_REPLACE, "x", NULL),
		  -TW_OUTPUT_REFUSED);
	CHECK_INT(open_write("theirs/abs-dir/x.db", TW_OUTPUT_LOCK, "", NULL), -TW_OUTPUT_REFUSED);
	for (i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		const char *name = i == 4 ? "theirs/up-dir/x.log" : links[i][1];

		CHECK_INT(open_write(name, TW_OUTPUT_APPEND, "x", NULL), -TW_OUTPUT_REFUSED);
		CHECK_INT(tw_output_probe(at(p, name)), -TW_OUTPUT_REFUSED);
	}
	CHECK_STR(contents("victim"), "root's only name\n");
	CHECK_STR(contents("theirs/ours.log"), "root's\n");
	CHECK_INT(access(at(p, "real/x.log"), F_OK) == 0 ? 0 : errno, ENOENT);
	CHECK_INT(access(at(p, "theirs/ours-dir/x.log"), F_OK) == 0 ? 0 : errno,
		  ENOENT);
	/* their links within their own directories, root's file there by
	 * its own name, a new file: written */
	CHECK_INT(open_write("theirs/to-their-file.log", TW_OUTPUT_APPEND, "+", &created),
		  0);
	CHECK(!created);
	CHECK_STR(contents("theirs/their.log"), "theirs\n+");
	CHECK_INT(open_write("theirs/to-their-dir.log", TW_OUTPUT_APPEND, "n", &created),
		  0);
	CHECK(created);
	CHECK_STR(contents("theirs/sub/new.log"), "n");
	CHECK_INT(open_write("theirs/ours.log", TW_OUTPUT_APPEND, "+", NULL), 0);
	CHECK_STR(contents("theirs/ours.log"), "root's\n+");
	CHECK_INT(open_write("theirs/plain.log", TW_OUTPUT_APPEND, "p", &created), 0);
	CHECK(created);
}

/* A FIFO at the path with no reader is ENXIO at once, not an open that
 * waits for a reader forever (the agent stuck before its first event);
 * with a reader it is written, blocking as before; another user's in a
 * sticky world-writable directory is refused (fs.protected_fifos), as
 * their regular file is. alarm(): the unfixed open never returns. */
static void test_fifo_is_not_waited_for(void)
{
	char p[PATH_MAX], c = 0;
	int rd, fl;
	struct tw_output o;

	alarm(10);
	CHECK_INT(mkfifo(at(p, "fifo.html"), 0600), 0);
	CHECK_INT(open_write("fifo.html", TW_OUTPUT_REPLACE, "x", NULL), -ENXIO);
	CHECK_INT(open_write("fifo.html", TW_OUTPUT_APPEND, "x", NULL), -ENXIO);
	CHECK_STR(tw_output_error(-ENXIO),
		  "a FIFO with no reader, or a socket; refusing to wait for one");
	rd = open(p, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	CHECK(rd >= 0);
	CHECK_INT(tw_output_open(p, TW_OUTPUT_APPEND, &o), 0);
	fl = fcntl(o.fd, F_GETFL);
	CHECK_INT(fl >= 0 && !(fl & O_NONBLOCK), 1);
	CHECK_INT(write(o.fd, "f", 1), 1);
	CHECK_INT(read(rd, &c, 1), 1);
	CHECK_INT(c, 'f');
	close(o.fd);
	if (geteuid() == 0) {
		/* tmp: the sticky world-writable directory of the test above */
		CHECK_INT(mkfifo(at(p, "tmp/theirs.fifo"), 0666), 0);
		CHECK_INT(chown(p, 65534, 65534), 0);
		close(rd);
		rd = open(p, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		CHECK(rd >= 0);
		CHECK_INT(open_write("tmp/theirs.fifo", TW_OUTPUT_APPEND, "x", NULL),
			  -TW_OUTPUT_REFUSED);
		CHECK_INT(tw_output_probe(p), -TW_OUTPUT_REFUSED);
		/* nothing written: no writer, end of file */
		CHECK_INT(read(rd, &c, 1), 0);
	}
	close(rd);
	alarm(0);
}

/* procfs's links are the kernel's: a pipe's descriptor names no file. */
static void test_proc_descriptor_links_are_the_kernels(void)
{
	char p[64];
	struct tw_output o;
	int fds[2];
	char c = 0;

	CHECK_INT(pipe(fds), 0);
	snprintf(p, sizeof(p), "/dev/fd/%d", fds[1]);
	CHECK_INT(tw_output_open(p, TW_OUTPUT_APPEND, &o), 0);
	CHECK(o.created_dir < 0);
	CHECK_INT(write(o.fd, "z", 1), 1);
	CHECK_INT(read(fds[0], &c, 1), 1);
	CHECK_INT(c, 'z');
	close(o.fd);
	close(fds[0]);
	close(fds[1]);
}

int main(void)
{
	char cmd[PATH_MAX + 16];
	int rc;

	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	RUN_TEST(test_missing_file_is_created_and_removed_by_its_creator);
	RUN_TEST(test_existing_file_is_opened_not_created);
	RUN_TEST(test_links_in_the_middle_and_at_the_end_are_followed);
	RUN_TEST(test_bad_paths_say_what_open_would);
	RUN_TEST(test_links_are_bounded_as_the_kernel_bounds_them);
	RUN_TEST(test_file_with_other_names_is_refused);
	RUN_TEST(test_sticky_directory_rules_apply_whatever_the_sysctls);
	RUN_TEST(test_another_users_links_lead_only_to_their_files);
	RUN_TEST(test_fifo_is_not_waited_for);
	RUN_TEST(test_proc_descriptor_links_are_the_kernels);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	rc = system(cmd);
	if (rc != 0)
		printf("# %s: %d\n", cmd, rc);
	return CHECK_EXIT_CODE();
}
