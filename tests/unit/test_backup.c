/*
 * test_backup.c: backup archives (lib/backup_*.c) on real files in a fresh
 * mkdtemp() directory: a tree goes in and comes back byte for byte; a
 * wrong passphrase, any changed byte (header or body), a cut archive, a
 * forged header, bytes after the end are refused and leave nothing
 * behind; a non-empty destination is refused, or moved aside with force;
 * the record parser refuses unsafe names and stray bytes; a passphrase
 * file readable by others is refused. The key derivation runs at its
 * cheapest cost here: the cost is a header field, not what is tested.
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
#include <sodium.h>

#include "backup.h"
#include "be64.h"
#include "fileio.h"
#include "passphrase.h"

#define PASS "une phrase de passe"

struct fx {
	char dir[64];
	char src[128], arc[128], dst[128];
};

static const struct backup_cost cheap = { 1, 8u << 20 };

static void
put(const char *path, const uint8_t *p, size_t n)
{
	struct sira_err err;

	assert_int_equal(fileio_write(path, p, n, 0600, false, &err), 0);
}

static void
expect_same(const char *a, const char *b)
{
	uint8_t *x, *y;
	size_t nx, ny;

	assert_int_equal(fileio_read(a, 1u << 24, &x, &nx, NULL), 0);
	assert_int_equal(fileio_read(b, 1u << 24, &y, &ny, NULL), 0);
	assert_int_equal(nx, ny);
	assert_memory_equal(x, y, nx);
	free(x);
	free(y);
}

/* Entries in dir besides . and .. */
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

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	uint8_t big[200000];
	char p[256];

	assert_non_null(f);
	strcpy(f->dir, "/tmp/sira-test-backup.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	(void)snprintf(f->src, sizeof(f->src), "%s/src", f->dir);
	(void)snprintf(f->arc, sizeof(f->arc), "%s/a.bak", f->dir);
	(void)snprintf(f->dst, sizeof(f->dst), "%s/dst", f->dir);
	assert_int_equal(mkdir(f->src, 0700), 0);
	(void)snprintf(p, sizeof(p), "%s/sub", f->src);
	assert_int_equal(mkdir(p, 0700), 0);
	randombytes_buf(big, sizeof(big)); /* spans several chunks */
	(void)snprintf(p, sizeof(p), "%s/sub/big.bin", f->src);
	put(p, big, sizeof(big));
	(void)snprintf(p, sizeof(p), "%s/agent.conf", f->src);
	put(p, (const uint8_t *)"broker = tcp://x:1\n", 19);
	(void)snprintf(p, sizeof(p), "%s/empty", f->src);
	put(p, (const uint8_t *)"", 0);
	*state = f;
	return 0;
}

static void
rmtree(const char *dir)
{
	char cmd[256];

	(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	rmtree(f->dir);
	free(f);
	return 0;
}

static void
make_archive(const struct fx *f, int kind)
{
	struct backup_writer *w = NULL;
	struct sira_err err;

	(void)unlink(f->arc);
	assert_int_equal(backup_create(&(struct backup_target){ f->arc, kind,
					   PASS, strlen(PASS), &cheap },
			     &w, &err),
	    0);
	assert_int_equal(backup_put_tree(w, "", f->src, NULL, &err), 0);
	assert_int_equal(backup_finish(&w, &err), 0);
	assert_null(w);
}

static int
unpack(const struct fx *f, const char *pass, bool force)
{
	struct sira_err err;

	return backup_unpack(
	    &(struct backup_source){ f->arc, BACKUP_AGENT, pass, strlen(pass) },
	    f->dst, force, &err);
}

/* Nothing but src and the archive (and dst when kept) in the test dir. */
static void
expect_nothing_left(const struct fx *f, size_t others)
{
	assert_int_equal(entries(f->dir), 2 + others);
}

static void
test_round_trip(void **state)
{
	struct fx *f = *state;
	char a[256], b[256];
	struct stat st;

	make_archive(f, BACKUP_AGENT);
	assert_int_equal(stat(f->arc, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(unpack(f, PASS, false), 0);
	for (const char *const *n = (const char *const[]){ "sub/big.bin",
		 "agent.conf", "empty", NULL };
	     *n != NULL; n++) {
		(void)snprintf(a, sizeof(a), "%s/%s", f->src, *n);
		(void)snprintf(b, sizeof(b), "%s/%s", f->dst, *n);
		expect_same(a, b);
		assert_int_equal(stat(b, &st), 0);
		assert_int_equal(st.st_mode & 0777, 0600);
	}
	assert_int_equal(entries(f->dst), 3);
	assert_int_equal(stat(f->dst, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	expect_nothing_left(f, 1);
	/* An existing output is never replaced. */
	assert_int_equal(backup_create(&(struct backup_target){ f->arc,
					   BACKUP_AGENT, PASS, 4, &cheap },
			     &(struct backup_writer *){ NULL }, NULL),
	    -SIRA_EEXIST);
}

static void
test_wrong_passphrase(void **state)
{
	struct fx *f = *state;

	make_archive(f, BACKUP_AGENT);
	assert_int_equal(unpack(f, "une autre phrase", false), -SIRA_EAUTH);
	expect_nothing_left(f, 0);
	/* Another kind of archive is refused before any key is derived. */
	make_archive(f, BACKUP_BROKER);
	assert_int_equal(unpack(f, PASS, false), -SIRA_EMALFORMED);
	expect_nothing_left(f, 0);
}

static void
rewrite(const struct fx *f, void (*change)(uint8_t *p, size_t *n))
{
	uint8_t *buf;
	size_t n;

	assert_int_equal(fileio_read(f->arc, 1u << 24, &buf, &n, NULL), 0);
	buf = realloc(buf, n + 16);
	assert_non_null(buf);
	change(buf, &n);
	put(f->arc, buf, n);
	free(buf);
}

static void
flip_body(uint8_t *p, size_t *n)
{
	p[*n / 2] ^= 0x01;
}
static void
flip_salt(uint8_t *p, size_t *n)
{
	(void)n;
	p[32] ^= 0x80;
}
static void
flip_last(uint8_t *p, size_t *n)
{
	p[*n - 1] ^= 0x01;
}

static void
test_tampered(void **state)
{
	struct fx *f = *state;
	void (*changes[])(
	    uint8_t *, size_t *) = { flip_body, flip_salt, flip_last };

	for (size_t i = 0; i < sizeof(changes) / sizeof(changes[0]); i++) {
		make_archive(f, BACKUP_AGENT);
		rewrite(f, changes[i]);
		assert_int_equal(unpack(f, PASS, false), -SIRA_EAUTH);
		expect_nothing_left(f, 0);
	}
}

/* The last chunk (FINAL, shorter) cut off whole: a clean chunk boundary. */
static void
cut_final(uint8_t *p, size_t *n)
{
	size_t body = *n - BACKUP_HEADER_LEN, full = BACKUP_CHUNK + 17;

	(void)p;
	*n -= body % full;
}
static void
cut_half(uint8_t *p, size_t *n)
{
	(void)p;
	*n /= 2;
}
static void
cut_header(uint8_t *p, size_t *n)
{
	(void)p;
	*n = BACKUP_HEADER_LEN - 1;
}
static void
add_byte(uint8_t *p, size_t *n)
{
	p[(*n)++] = 0;
}

static void
test_truncated(void **state)
{
	struct fx *f = *state;

	make_archive(f, BACKUP_AGENT);
	rewrite(f, cut_final);
	assert_int_equal(unpack(f, PASS, false), -SIRA_ETRUNCATED);
	expect_nothing_left(f, 0);
	make_archive(f, BACKUP_AGENT);
	rewrite(f, cut_half);
	assert_int_equal(unpack(f, PASS, false), -SIRA_EAUTH);
	expect_nothing_left(f, 0);
	make_archive(f, BACKUP_AGENT);
	rewrite(f, cut_header);
	assert_int_equal(unpack(f, PASS, false), -SIRA_ETRUNCATED);
	expect_nothing_left(f, 0);
	make_archive(f, BACKUP_AGENT);
	rewrite(f, add_byte); /* read as part of the short FINAL chunk */
	assert_int_equal(unpack(f, PASS, false), -SIRA_EAUTH);
	expect_nothing_left(f, 0);
}

static void
test_bad_header(void **state)
{
	struct fx *f = *state;
	struct backup_header h;
	uint8_t hdr[BACKUP_HEADER_LEN];
	int fd;

	make_archive(f, BACKUP_AGENT);
	fd = open(f->arc, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, hdr, sizeof(hdr)), (ssize_t)sizeof(hdr));
	close(fd);
	assert_int_equal(
	    backup_header_parse(hdr, sizeof(hdr), BACKUP_AGENT, &h, NULL), 0);
	assert_int_equal(h.ops, cheap.ops);
	assert_int_equal(h.mem, cheap.mem);
	hdr[0] = 'X';
	assert_int_equal(
	    backup_header_parse(hdr, sizeof(hdr), BACKUP_AGENT, &h, NULL),
	    -SIRA_EMALFORMED);
	hdr[0] = 'S';
	hdr[11] = 2; /* version */
	assert_int_equal(
	    backup_header_parse(hdr, sizeof(hdr), BACKUP_AGENT, &h, NULL),
	    -SIRA_EVERSION);
	hdr[11] = 1;
	be64_put(hdr + 24, (uint64_t)1 << 40); /* a terabyte of memory */
	assert_int_equal(
	    backup_header_parse(hdr, sizeof(hdr), BACKUP_AGENT, &h, NULL),
	    -SIRA_EMALFORMED);
	be64_put(hdr + 24, cheap.mem);
	be64_put(hdr + 16, 1000); /* passes */
	assert_int_equal(
	    backup_header_parse(hdr, sizeof(hdr), BACKUP_AGENT, &h, NULL),
	    -SIRA_EMALFORMED);
	assert_int_equal(backup_header_parse(hdr, 10, BACKUP_AGENT, &h, NULL),
	    -SIRA_ETRUNCATED);
}

static void
test_destination(void **state)
{
	struct fx *f = *state;
	uint8_t *got;
	size_t n;
	char p[256];

	make_archive(f, BACKUP_AGENT);
	assert_int_equal(mkdir(f->dst, 0700), 0); /* empty: taken */
	assert_int_equal(unpack(f, PASS, false), 0);
	/* Not empty: refused, untouched. */
	assert_int_equal(unpack(f, PASS, false), -SIRA_EEXIST);
	assert_int_equal(entries(f->dst), 3);
	expect_nothing_left(f, 1);
	/* With force: the old one is moved aside, never deleted. */
	(void)snprintf(p, sizeof(p), "%s/empty", f->dst);
	put(p, (const uint8_t *)"changed", 7);
	assert_int_equal(unpack(f, PASS, true), 0);
	expect_nothing_left(f, 2);
	(void)snprintf(p, sizeof(p), "%s/empty", f->dst);
	assert_int_equal(fileio_read(p, 10, &got, &n, NULL), 0);
	assert_int_equal(n, 0); /* the archive's, not the changed one */
	free(got);
}

/* --- the record parser alone --- */

struct count {
	int begins, ends;
	uint64_t bytes;
};
static int
c_begin(
    void *ctx, int type, const char *name, uint64_t size, struct sira_err *err)
{
	(void)type;
	(void)name;
	(void)size;
	(void)err;
	((struct count *)ctx)->begins++;
	return 0;
}
static int
c_data(void *ctx, const uint8_t *p, size_t n, struct sira_err *err)
{
	(void)p;
	(void)err;
	((struct count *)ctx)->bytes += n;
	return 0;
}
static int
c_end(void *ctx, struct sira_err *err)
{
	(void)err;
	((struct count *)ctx)->ends++;
	return 0;
}

static int
parse(const uint8_t *p, size_t n, struct count *c)
{
	struct backup_sink s = { c, c_begin, c_data, c_end };
	struct backup_parser *bp = backup_parser_new(&s);
	int rc;

	assert_non_null(bp);
	memset(c, 0, sizeof(*c));
	/* byte by byte: the parser is a push parser */
	rc = 0;
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = backup_parser_feed(bp, p + i, 1, NULL);
	if (rc == 0)
		rc = backup_parser_finish(bp, NULL);
	backup_parser_free(&bp);
	return rc;
}

static void
test_records(void **state)
{
	uint8_t buf[1024];
	struct count c;
	size_t n = 0;

	(void)state;
	n += backup_rec_head(buf + n, BACKUP_REC_DIR, "vault", 0);
	n += backup_rec_head(buf + n, BACKUP_REC_FILE, "vault/data.mdb", 3);
	memcpy(buf + n, "abc", 3);
	n += 3;
	n += backup_rec_head(buf + n, BACKUP_REC_END, "", 0);
	assert_int_equal(parse(buf, n, &c), 0);
	assert_int_equal(c.begins, 2);
	assert_int_equal(c.ends, 2);
	assert_int_equal(c.bytes, 3);
	/* cut anywhere: truncated */
	assert_int_equal(parse(buf, n - 1, &c), -SIRA_ETRUNCATED);
	/* a byte after END */
	buf[n] = 0;
	assert_int_equal(parse(buf, n + 1, &c), -SIRA_EMALFORMED);
	/* an unknown type */
	buf[0] = 9;
	assert_int_equal(parse(buf, n, &c), -SIRA_EMALFORMED);
	/* unsafe names, and a directory with bytes */
	for (const char *const *bad = (const char *const[]){ "../x", "/abs",
		 "a//b", ".", "a/..", "a/", "sp ace", "nl\n", NULL };
	     *bad != NULL; bad++) {
		n = backup_rec_head(buf, BACKUP_REC_FILE, *bad, 0);
		n += backup_rec_head(buf + n, BACKUP_REC_END, "", 0);
		assert_int_equal(parse(buf, n, &c), -SIRA_EMALFORMED);
		assert_false(backup_name_ok(*bad, strlen(*bad)));
	}
	assert_true(backup_name_ok("documents/.ab12.partial", 23));
	n = backup_rec_head(buf, BACKUP_REC_DIR, "d", 5);
	assert_int_equal(parse(buf, n, &c), -SIRA_EMALFORMED);
	n = backup_rec_head(buf, BACKUP_REC_FILE, "f", BACKUP_FILE_MAX + 1);
	assert_int_equal(parse(buf, n, &c), -SIRA_EMALFORMED);
}

static void
test_pass_file_mode(void **state)
{
	struct fx *f = *state;
	struct passphrase p = { NULL, 0 };
	char path[256];

	(void)snprintf(path, sizeof(path), "%s/pass", f->dir);
	put(path, (const uint8_t *)PASS "\n", strlen(PASS) + 1);
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(
	    passphrase_from_file(path, &p, NULL), -SIRA_EPERM_MODE);
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(passphrase_from_file(path, &p, NULL), 0);
	assert_string_equal(p.p, PASS);
	passphrase_free(&p);
	(void)unlink(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_wrong_passphrase, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tampered, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_truncated, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_bad_header, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_destination, setup, teardown),
		cmocka_unit_test(test_records),
		cmocka_unit_test_setup_teardown(
		    test_pass_file_mode, setup, teardown),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
