/*
 * test_fileio.c: lib/fileio.c on real files in a fresh mkdtemp() directory:
 * writes are atomic (no temporary file is left behind, a failed exclusive
 * write leaves the old file as it was), exclusive writes never replace
 * anything (not even through a symlink), modes are exactly what was asked
 * whatever the umask, and reads are capped and refuse symlinks.
 */
#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "fileio.h"

struct fx {
	char dir[64];
};

static char pathbuf[4][512];

/* dir/name in one of four rotating buffers. */
static const char *
at(const struct fx *f, const char *name)
{
	static unsigned next;
	char *p = pathbuf[next++ % 4];
	int n = snprintf(p, sizeof(pathbuf[0]), "%s/%s", f->dir, name);

	assert_true(n > 0 && (size_t)n < sizeof(pathbuf[0]));
	return p;
}

static size_t
entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static mode_t
mode_of(const char *path)
{
	struct stat st;

	assert_int_equal(lstat(path, &st), 0);
	return st.st_mode;
}

static void
expect_content(const char *path, const char *want)
{
	uint8_t *buf = NULL;
	size_t len = 0;

	assert_int_equal(fileio_read(path, 1 << 16, &buf, &len, NULL), 0);
	assert_int_equal(len, strlen(want));
	if (len > 0)
		assert_memory_equal(buf, want, len);
	free(buf);
}

static void
expect_read(const char *path, size_t max, bool secret, int want)
{
	uint8_t *buf = (uint8_t *)&buf;
	size_t len = 99;
	struct sira_err err;
	int rc;

	sira_err_clear(&err);
	rc = secret ? fileio_read_secret(path, max, &buf, &len, &err) :
		      fileio_read(path, max, &buf, &len, &err);
	assert_int_equal(rc, want);
	assert_int_equal(err.code, -want);
	if (want == 0) {
		assert_non_null(buf);
		free(buf);
	} else {
		assert_null(buf);
		assert_int_equal(len, 0);
	}
}

static void
write_ok(const char *path, const char *s, mode_t mode, bool excl)
{
	assert_int_equal(
	    fileio_write(path, (const uint8_t *)s, strlen(s), mode, excl, NULL),
	    0);
}

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	(void)snprintf(f->dir, sizeof(f->dir), "/tmp/sira-fileio-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	*state = f;
	return 0;
}

/* Remove dir and everything in it, one level of subdirectories deep. */
static void
remove_tree(const char *dir, int depth)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char sub[1024];

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		(void)snprintf(sub, sizeof(sub), "%s/%s", dir, e->d_name);
		if (unlink(sub) != 0 && depth > 0)
			remove_tree(sub, depth - 1);
	}
	closedir(d);
	(void)rmdir(dir);
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	remove_tree(f->dir, 2);
	free(f);
	return 0;
}

static void
test_write_read(void **state)
{
	struct fx *f = *state;
	mode_t old = umask(0077);
	uint8_t *buf = NULL;
	size_t len = 1;

	write_ok(at(f, "a.cert"), "certificate", 0644, true);
	write_ok(at(f, "a.key"), "secret", 0600, true);
	write_ok(at(f, "empty"), "", 0640, true);
	(void)umask(old);
	/* The modes asked for, not the umask's. */
	assert_true(S_ISREG(mode_of(at(f, "a.cert"))));
	assert_int_equal(mode_of(at(f, "a.cert")) & 07777, 0644);
	assert_int_equal(mode_of(at(f, "a.key")) & 07777, 0600);
	assert_int_equal(mode_of(at(f, "empty")) & 07777, 0640);
	expect_content(at(f, "a.cert"), "certificate");
	expect_content(at(f, "a.key"), "secret");
	assert_int_equal(fileio_read(at(f, "empty"), 0, &buf, &len, NULL), 0);
	assert_non_null(buf);
	assert_int_equal(len, 0);
	free(buf);
	/* Nothing but the three files: no temporary file is left. */
	assert_int_equal(entries(f->dir), 3);
}

static void
test_exclusive_never_replaces(void **state)
{
	struct fx *f = *state;
	size_t before;
	struct sira_err err;
	char target[512];

	write_ok(at(f, "x.key"), "first", 0600, true);
	before = entries(f->dir);
	sira_err_clear(&err);
	assert_int_equal(fileio_write(at(f, "x.key"), (const uint8_t *)"second",
			     6, 0600, true, &err),
	    -SIRA_EEXIST);
	assert_int_equal(err.code, SIRA_EEXIST);
	expect_content(at(f, "x.key"), "first");
	assert_int_equal(mode_of(at(f, "x.key")) & 07777, 0600);
	assert_int_equal(entries(f->dir), before);

	/* A dangling symlink is not followed: its target is not created. */
	(void)snprintf(target, sizeof(target), "%s", at(f, "elsewhere"));
	assert_int_equal(symlink(target, at(f, "trap.key")), 0);
	assert_int_equal(fileio_write(at(f, "trap.key"), (const uint8_t *)"s",
			     1, 0600, true, NULL),
	    -SIRA_EEXIST);
	assert_int_equal(access(target, F_OK), -1);
	assert_true(S_ISLNK(mode_of(at(f, "trap.key"))));
	/* Nor is a directory replaced. */
	assert_int_equal(mkdir(at(f, "d"), 0700), 0);
	assert_int_equal(
	    fileio_write(at(f, "d"), (const uint8_t *)"s", 1, 0600, true, NULL),
	    -SIRA_EEXIST);
	assert_true(S_ISDIR(mode_of(at(f, "d"))));
	assert_int_equal(entries(f->dir), before + 2);
}

static void
test_replace(void **state)
{
	struct fx *f = *state;
	char target[512];
	size_t before;

	write_ok(at(f, "ca.crl"), "old list", 0644, false);
	before = entries(f->dir);
	write_ok(at(f, "ca.crl"), "new list, longer", 0600, false);
	expect_content(at(f, "ca.crl"), "new list, longer");
	assert_int_equal(mode_of(at(f, "ca.crl")) & 07777, 0600);
	write_ok(at(f, "ca.crl"), "short", 0644, false);
	expect_content(at(f, "ca.crl"), "short");
	assert_int_equal(mode_of(at(f, "ca.crl")) & 07777, 0644);
	assert_int_equal(entries(f->dir), before);

	/* Replacing a symlink replaces the link, never its target. */
	write_ok(at(f, "victim"), "precious", 0644, true);
	(void)snprintf(target, sizeof(target), "%s", at(f, "victim"));
	assert_int_equal(symlink(target, at(f, "link.crl")), 0);
	write_ok(at(f, "link.crl"), "list", 0644, false);
	assert_true(S_ISREG(mode_of(at(f, "link.crl"))));
	expect_content(at(f, "link.crl"), "list");
	expect_content(target, "precious");
}

static void
test_write_errors(void **state)
{
	struct fx *f = *state;
	char *longpath;
	size_t before = entries(f->dir);

	assert_int_equal(fileio_write(at(f, "no/such/dir/file"),
			     (const uint8_t *)"x", 1, 0600, false, NULL),
	    -SIRA_EIO);
	assert_int_equal(fileio_write(at(f, "no/such/dir/file"),
			     (const uint8_t *)"x", 1, 0600, true, NULL),
	    -SIRA_EIO);
	/* A path longer than the temporary name buffer. */
	longpath = malloc(5000);
	assert_non_null(longpath);
	memset(longpath, 'a', 4999);
	longpath[4999] = '\0';
	memcpy(longpath, f->dir, strlen(f->dir));
	longpath[strlen(f->dir)] = '/';
	assert_int_equal(
	    fileio_write(longpath, (const uint8_t *)"x", 1, 0600, false, NULL),
	    -SIRA_EIO);
	free(longpath);
	/* Replacing a directory with a file fails, cleanly. */
	assert_int_equal(mkdir(at(f, "adir"), 0700), 0);
	assert_int_equal(fileio_write(at(f, "adir"), (const uint8_t *)"x", 1,
			     0600, false, NULL),
	    -SIRA_EIO);
	assert_int_equal(entries(f->dir), before + 1);
}

static void
test_read_cap(void **state)
{
	struct fx *f = *state;
	char target[512];

	write_ok(at(f, "ten"), "0123456789", 0644, true);
	expect_read(at(f, "ten"), 10, false, 0);
	expect_read(at(f, "ten"), 9, false, -SIRA_ETOOBIG);
	expect_read(at(f, "ten"), 0, false, -SIRA_ETOOBIG);
	expect_read(at(f, "missing"), 10, false, -SIRA_ENOTFOUND);
	expect_read(at(f, "ten/x"), 10, false, -SIRA_EIO);
	/* Symlinks are refused, even to a good file. */
	(void)snprintf(target, sizeof(target), "%s", at(f, "ten"));
	assert_int_equal(symlink(target, at(f, "ten.link")), 0);
	expect_read(at(f, "ten.link"), 10, false, -SIRA_EIO);
	expect_read(at(f, "ten.link"), 10, true, -SIRA_EIO);
	/* Not a regular file. */
	assert_int_equal(mkdir(at(f, "rdir"), 0700), 0);
	expect_read(at(f, "rdir"), 10, false, -SIRA_EIO);
	expect_read("/dev/null", 10, false, -SIRA_EIO);
}

static void
test_read_secret(void **state)
{
	struct fx *f = *state;
	static const struct {
		mode_t mode;
		int want;
	} cases[] = {
		{ 0600, 0 },
		{ 0400, 0 },
		{ 0200, 0 },
		{ 0700, 0 },
		{ 0640, -SIRA_EPERM_MODE },
		{ 0604, -SIRA_EPERM_MODE },
		{ 0644, -SIRA_EPERM_MODE },
		{ 0660, -SIRA_EPERM_MODE },
		{ 0610, -SIRA_EPERM_MODE },
		{ 0601, -SIRA_EPERM_MODE },
		{ 0602, -SIRA_EPERM_MODE },
		{ 0620, -SIRA_EPERM_MODE },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char name[32];
		int fd;
		struct sira_err err;

		(void)snprintf(name, sizeof(name), "s%zu", i);
		write_ok(at(f, name), "secret", cases[i].mode, true);
		/* root reads 0200 too; others may not, so only check mode. */
		if ((cases[i].mode & 0400) != 0) {
			expect_read(at(f, name), 64, true, cases[i].want);
			expect_read(at(f, name), 64, false, 0);
		}
		fd = open(at(f, name), O_RDONLY | O_NOFOLLOW);
		if (fd == -1)
			fd = open(at(f, name), O_WRONLY | O_NOFOLLOW);
		assert_true(fd >= 0);
		sira_err_clear(&err);
		assert_int_equal(
		    fileio_check_private(fd, name, &err), cases[i].want);
		assert_int_equal(err.code, -cases[i].want);
		close(fd);
	}
	/* A directory is not a secret file. */
	{
		int fd = open(f->dir, O_RDONLY | O_DIRECTORY);

		assert_true(fd >= 0);
		assert_int_equal(
		    fileio_check_private(fd, f->dir, NULL), -SIRA_EIO);
		close(fd);
	}
}

static void
test_mkdir(void **state)
{
	struct fx *f = *state;

	assert_int_equal(fileio_mkdir(at(f, "new"), 0700, NULL), 0);
	assert_true(S_ISDIR(mode_of(at(f, "new"))));
	assert_int_equal(mode_of(at(f, "new")) & 0077, 0);
	/* Already there: fine. */
	assert_int_equal(fileio_mkdir(at(f, "new"), 0700, NULL), 0);
	/* A file in the way, or no parent: not fine. */
	write_ok(at(f, "plain"), "x", 0600, true);
	assert_int_equal(fileio_mkdir(at(f, "plain"), 0700, NULL), -SIRA_EIO);
	assert_int_equal(
	    fileio_mkdir(at(f, "none/new"), 0700, NULL), -SIRA_EIO);
	/* And files go into it. */
	write_ok(at(f, "new/inside"), "in", 0600, true);
	expect_content(at(f, "new/inside"), "in");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write_read),
		cmocka_unit_test(test_exclusive_never_replaces),
		cmocka_unit_test(test_replace),
		cmocka_unit_test(test_write_errors),
		cmocka_unit_test(test_read_cap),
		cmocka_unit_test(test_read_secret),
		cmocka_unit_test(test_mkdir),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
